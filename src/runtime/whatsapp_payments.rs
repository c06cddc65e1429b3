//! Payments in WhatsApp chats: starting the M-Pesa prompt or PesaPal link a
//! booking asks for, answering "RETRY" / "LINK" after a failure, and
//! writing outcomes, reminders and call-promised links into the chat.
//!
//! A booking the dialog wants paid starts an M-Pesa prompt to the chat's
//! number or a PesaPal link (tenant's preferred provider; a link for a
//! number M-Pesa cannot prompt); the outcome, from whichever node got the
//! callback, is confirmed in the chat once (claimed in the database, so
//! several nodes hearing the same notice send one message); nudge and
//! abandon messages from the durable deadlines go out as they fall due.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use sqlx::Row;
use tokio::sync::mpsc;

use crate::adapters::payments::kenyan_msisdn;
use crate::adapters::whatsapp::client::Window;
use crate::adapters::whatsapp::codec::InboundMessage;
use crate::config::Secret;
use crate::core::dialog::Channel;
use crate::core::ids::{Money, PhoneNumber, ThreadId};
use crate::core::payment::chat::{ChatMessage, ChatProvider};
use crate::core::payment::hold::Lang as PayLang;
use crate::runtime::call_payment::PaymentLinkRequest;
use crate::runtime::payments::{
    ChatPaymentEvent, FAILURE_TOLD_ON_CALL, PaymentService, PushRequest, answer_chat_payment,
    start_chat_payment,
};
use crate::runtime::whatsapp_chat::{WhatsAppChats, access_token, sender};
use crate::storage::TenantRecord;
use crate::storage::conversation as conv;
use crate::storage::payments::{self as payment_store, PaymentNotice};

/// One chat to write payment messages to.
pub(crate) struct Chat<'a> {
    pub(crate) tenant: &'a TenantRecord,
    pub(crate) phone_number_id: &'a str,
    pub(crate) token: &'a Secret,
    pub(crate) customer: &'a PhoneNumber,
    pub(crate) thread: &'a ThreadId,
    pub(crate) lang: PayLang,
}

pub(crate) fn pay_lang(lang: crate::core::dialog::Lang) -> PayLang {
    match lang {
        crate::core::dialog::Lang::Sw => PayLang::Sw,
        crate::core::dialog::Lang::En => PayLang::En,
    }
}

/// Starts the payment of a booking: a prompt to the chat's number, or a
/// link when the tenant prefers PesaPal or the number is not one M-Pesa
/// can prompt.
pub(crate) async fn start_payment(
    shared: &WhatsAppChats,
    service: &PaymentService,
    chat: &Chat<'_>,
    appointment_id: uuid::Uuid,
    amount: Money,
) {
    let provider = if chat.tenant.preferred_payment_provider == "pesapal"
        || kenyan_msisdn(chat.customer).is_err()
    {
        ChatProvider::Pesapal
    } else {
        ChatProvider::Mpesa
    };
    start_payment_by(shared, service, chat, appointment_id, amount, provider).await;
}

async fn start_payment_by(
    shared: &WhatsAppChats,
    service: &PaymentService,
    chat: &Chat<'_>,
    appointment_id: uuid::Uuid,
    amount: Money,
    provider: ChatProvider,
) {
    let request = PushRequest {
        thread_id: chat.thread.clone(),
        appointment_id: Some(appointment_id),
        contact_id: None,
        phone: chat.customer.clone(),
        amount,
        account_reference: account_reference(&chat.tenant.name),
        description: "Booking".into(),
    };
    let (payment_id, messages) =
        match start_chat_payment(service, chat.tenant, &request, provider, Utc::now()).await {
            Ok(started) => started,
            Err(e) => {
                tracing::warn!(error = %e, "chat payment not started");
                (None, vec![ChatMessage::ProviderUnavailable])
            }
        };
    tracing::info!(payment = ?payment_id, provider = ?provider, "chat payment started");
    for message in messages {
        send_payment_text(shared, chat, payment_id, &message.text(chat.lang)).await;
    }
}

/// "RETRY" / "LINK" (or "TENA" / "KIUNGO"), the answers a failed payment's
/// message asks for. Only these exact words are taken from the dialog: an
/// ordinary "no" or "cancel" is the conversation's.
pub(crate) fn is_payment_answer(text: &str) -> bool {
    let word = text
        .trim()
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    matches!(word.as_str(), "retry" | "tena" | "link" | "kiungo")
}

/// Acts on a "RETRY" / "LINK" for the customer's latest failed payment of
/// a booking still unpaid. False when there is none: the dialog takes the
/// message as usual.
pub(crate) async fn answer_failed_payment(
    shared: &WhatsAppChats,
    service: &PaymentService,
    tenant: &TenantRecord,
    m: &InboundMessage,
    customer: &PhoneNumber,
) -> anyhow::Result<bool> {
    let handle = shared.db.tenant(&tenant.slug);
    let mut tx = handle.begin().await?;
    let failed = sqlx::query(
        "SELECT p.id, p.appointment_id, p.initiated_at, \
                (SELECT count(*) FROM payments q WHERE q.appointment_id = p.appointment_id \
                   AND q.provider = 'mpesa') AS pushes \
         FROM payments p JOIN appointments a ON a.id = p.appointment_id \
         WHERE p.phone_number = $1 \
           AND p.status IN ('failed', 'timeout', 'cancelled_by_customer') \
           AND a.status <> 'cancelled' AND a.payment_status IS DISTINCT FROM 'paid' \
           AND NOT EXISTS (SELECT 1 FROM payments later \
                 WHERE later.appointment_id = p.appointment_id AND later.created_at > p.created_at) \
         ORDER BY p.created_at DESC LIMIT 1",
    )
    .bind(customer.expose())
    .fetch_optional(tx.conn())
    .await?;
    let Some(failed) = failed else {
        return Ok(false);
    };
    // A redelivered message is answered once.
    if !conv::claim_message_id(&mut tx, &m.id).await? {
        return Ok(true);
    }
    let payment_id: uuid::Uuid = failed.try_get("id")?;
    let appointment_id: uuid::Uuid = failed.try_get("appointment_id")?;
    let started_at: Option<chrono::DateTime<Utc>> = failed.try_get("initiated_at")?;
    let pushes: i64 = failed.try_get("pushes")?;
    let Some(previous) = payment_store::find_payment(&handle, payment_id).await? else {
        return Ok(false);
    };
    let thread = conv::open_thread(&mut tx, customer, Channel::WhatsApp).await?;
    let lang = pay_lang(conv::load_checkpoint(&mut tx, &thread).await?.lang);
    conv::record_interaction(
        &mut tx,
        &conv::InteractionRow {
            contact_id: previous.contact_id,
            channel: Channel::WhatsApp,
            inbound: true,
            message_type: m.message_type(),
            content: m.text(),
            intent: Some("payment"),
            language: None,
            metadata: json!({"thread_id": thread.as_str(), "wamid": m.id, "payment_id": payment_id.to_string()}),
        },
    )
    .await?;
    tx.commit().await?;
    let Some(token) = access_token(shared, tenant) else {
        return Ok(true);
    };
    let request = PushRequest {
        thread_id: thread.clone(),
        appointment_id: Some(appointment_id),
        contact_id: previous.contact_id,
        phone: customer.clone(),
        amount: previous.amount,
        account_reference: account_reference(&tenant.name),
        description: "Booking".into(),
    };
    let now = Utc::now();
    let (next_payment, messages) = answer_chat_payment(
        service,
        tenant,
        &request,
        u8::try_from(pushes).unwrap_or(u8::MAX),
        started_at.unwrap_or(now),
        m.text(),
        now,
    )
    .await
    .unwrap_or_else(|e| {
        tracing::warn!(error = %e, "payment retry not started");
        (None, vec![ChatMessage::ProviderUnavailable])
    });
    tracing::info!(previous = %payment_id, next = ?next_payment, "customer answered a failed payment");
    let chat = Chat {
        tenant,
        phone_number_id: &m.phone_number_id,
        token: &token,
        customer,
        thread: &thread,
        lang,
    };
    for message in messages {
        send_payment_text(shared, &chat, next_payment, &message.text(lang)).await;
    }
    Ok(true)
}

/// Daraja's AccountReference: at most 12 letters and digits.
fn account_reference(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect::<String>()
        .to_uppercase()
}

/// Sends one payment message and records it in interactions.
async fn send_payment_text(
    shared: &WhatsAppChats,
    chat: &Chat<'_>,
    payment_id: Option<uuid::Uuid>,
    text: &str,
) {
    let lang_code = match chat.lang {
        PayLang::En => "en",
        PayLang::Sw => "sw",
    };
    let window = match customer_window(shared, chat.tenant, chat.customer).await {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "24 h window unknown");
            Window::Unknown
        }
    };
    let wamid = match shared
        .graph
        .send_update(
            chat.phone_number_id,
            chat.token.expose(),
            chat.customer.digits(),
            text,
            lang_code,
            window,
        )
        .await
    {
        Ok(id) => Some(id),
        Err(e) => {
            tracing::warn!(error = %e, "WhatsApp payment message not sent");
            None
        }
    };
    let recorded = async {
        let mut tx = shared.db.tenant(&chat.tenant.slug).begin().await?;
        conv::record_interaction(
            &mut tx,
            &conv::InteractionRow {
                contact_id: None,
                channel: Channel::WhatsApp,
                inbound: false,
                message_type: "text",
                content: text,
                intent: Some("payment"),
                language: Some(lang_code),
                metadata: json!({
                    "thread_id": chat.thread.as_str(),
                    "payment_id": payment_id.map(|p| p.to_string()),
                    "wamid": wamid,
                    "status": if wamid.is_some() { "accepted" } else { "failed" },
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok::<_, crate::storage::StorageError>(())
    };
    if let Err(e) = recorded.await {
        tracing::warn!(error = %e, "payment message not recorded");
    }
}

/// A customer's 24 h window, from when they last wrote on WhatsApp.
async fn customer_window(
    shared: &WhatsAppChats,
    tenant: &TenantRecord,
    customer: &PhoneNumber,
) -> anyhow::Result<Window> {
    let mut tx = shared.db.tenant(&tenant.slug).begin().await?;
    let last = conv::last_whatsapp_message(&mut tx, customer).await?;
    tx.commit().await?;
    Ok(Window::since(last, Utc::now()))
}

/// Whether a payment message of a call's thread goes to the caller on
/// WhatsApp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallThreads {
    /// Chats only.
    Skip,
    /// The caller too: a receipt read on the line is gone when the call ends.
    Write,
    /// The caller too, unless the call told them on the line
    /// ([`FAILURE_TOLD_ON_CALL`]). A holding call hears of the outcome at the
    /// same moment as this writer and records it at once; the writer gives
    /// it [`CALL_TELLS_FIRST`] to do so.
    UnlessFailureToldOnCall,
}

/// How long the chat side waits before writing a failure to a caller whose
/// call may be telling it on the line.
const CALL_TELLS_FIRST: Duration = Duration::from_secs(5);

/// The WhatsApp chat behind a thread: the customer to write to, their
/// language, and whether the thread began as a call (a call's caller is
/// written to at the number that called); `None` for other channels, and
/// for a call's thread when `calls` is [`CallThreads::Skip`].
async fn chat_of(
    shared: &WhatsAppChats,
    tenant: &TenantRecord,
    thread: &ThreadId,
    calls: CallThreads,
) -> anyhow::Result<Option<(PhoneNumber, PayLang, bool)>> {
    let mut tx = shared.db.tenant(&tenant.slug).begin().await?;
    let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT customer_phone, channel_started FROM conversation_threads \
         WHERE thread_id = $1 \
           AND (channel_started = 'whatsapp' OR ($2 AND channel_started = 'voice')) LIMIT 1",
    )
    .bind(thread.as_str())
    .bind(calls != CallThreads::Skip)
    .fetch_optional(tx.conn())
    .await?;
    let Some((Some(phone), channel)) = row else {
        return Ok(None);
    };
    let Ok(phone) = PhoneNumber::parse(&phone) else {
        return Ok(None);
    };
    let lang = pay_lang(conv::load_checkpoint(&mut tx, thread).await?.lang);
    tx.commit().await?;
    Ok(Some((phone, lang, channel.as_deref() == Some("voice"))))
}

/// Writes a payment message into the chat of `thread`, if it is one.
async fn write_to_thread(
    shared: &WhatsAppChats,
    tenant_slug: &crate::core::ids::TenantSlug,
    thread: &ThreadId,
    payment_id: uuid::Uuid,
    message: ChatMessage,
    claim: Option<&str>,
    calls: CallThreads,
) -> anyhow::Result<()> {
    let db = &shared.db;
    let Some(tenant) = db.tenant_by_slug(tenant_slug).await? else {
        return Ok(());
    };
    let Some((customer, lang, is_call)) = chat_of(shared, &tenant, thread, calls).await? else {
        return Ok(());
    };
    let failure_after_call = is_call && calls == CallThreads::UnlessFailureToldOnCall;
    if failure_after_call {
        tokio::time::sleep(CALL_TELLS_FIRST).await;
        let handle = db.tenant(&tenant.slug);
        if payment_store::deadline_claimed(&handle, payment_id, FAILURE_TOLD_ON_CALL).await? {
            return Ok(()); // the caller heard it on the line
        }
    }
    let Some((phone_number_id, token)) = sender(shared, &tenant, "payment message") else {
        return Ok(());
    };
    if let Some(name) = claim
        && !payment_store::claim_deadline(&db.tenant(&tenant.slug), payment_id, name).await?
    {
        return Ok(()); // another node (or an earlier notice) sent it
    }
    let chat = Chat {
        tenant: &tenant,
        phone_number_id: &phone_number_id,
        token: &token,
        customer: &customer,
        thread,
        lang,
    };
    if !failure_after_call {
        send_payment_text(shared, &chat, Some(payment_id), &message.text(lang)).await;
        return Ok(());
    }
    // A caller can't answer RETRY to a call: say what happened and send a
    // link in a chat of its own, as the hold does when a caller picks one.
    let message = match message {
        ChatMessage::Failed { why, .. } => ChatMessage::FailedLinkFollows { why },
        other => other,
    };
    send_payment_text(shared, &chat, Some(payment_id), &message.text(lang)).await;
    let payment = payment_store::find_payment(&db.tenant(&tenant.slug), payment_id).await?;
    if let Some((appointment_id, amount)) =
        payment.and_then(|p| Some((p.appointment_id?, p.amount)))
    {
        let link = PaymentLinkRequest {
            tenant: tenant.slug.clone(),
            phone: customer.clone(),
            appointment_id,
            amount,
            lang,
        };
        send_call_payment_link(shared, &link).await?;
    }
    Ok(())
}

/// Confirms each final payment outcome in its chat, once across nodes.
pub(crate) async fn send_payment_outcomes(
    shared: Arc<WhatsAppChats>,
    mut notices: tokio::sync::broadcast::Receiver<PaymentNotice>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let notice = match notices.recv().await {
            Ok(n) => n,
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "payment notices missed; the chats will not be told");
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        if !notice
            .status()
            .is_some_and(crate::core::payment::PaymentStatus::is_final)
        {
            continue;
        }
        let outcome = notice.outcome();
        // A payment made for a call is confirmed in writing too: the receipt
        // read on the line is gone when the call ends, and a caller released
        // before the money came through was promised this message. A failure
        // is written only if the call did not tell it (the caller was
        // released first, or hung up during the hold).
        let calls = if matches!(
            outcome,
            crate::core::payment::PaymentOutcome::Completed { .. }
        ) {
            CallThreads::Write
        } else {
            CallThreads::UnlessFailureToldOnCall
        };
        // Each in its own task: a failure on a call's thread waits for the
        // call first, and must not hold up the other chats.
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let sent = write_to_thread(
                &shared,
                &notice.tenant,
                &notice.thread_id,
                notice.payment_id,
                // One push failed; the customer may ask for another (or a link).
                ChatMessage::for_outcome(&outcome, true),
                Some("outcome"),
                calls,
            )
            .await;
            if let Err(e) = sent {
                tracing::warn!(tenant = %notice.tenant, error = %e, "payment outcome not sent to the chat");
            }
        });
    }
}

/// Sends the payment links calls promised: a PesaPal order in a new
/// WhatsApp thread of the caller (so its outcome is confirmed there).
pub(crate) async fn send_call_payment_links(
    shared: Arc<WhatsAppChats>,
    mut links: mpsc::Receiver<PaymentLinkRequest>,
) {
    while let Some(link) = links.recv().await {
        if let Err(e) = send_call_payment_link(&shared, &link).await {
            tracing::warn!(tenant = %link.tenant, error = %e, "payment link from a call not sent");
        }
    }
}

async fn send_call_payment_link(
    shared: &WhatsAppChats,
    link: &PaymentLinkRequest,
) -> anyhow::Result<()> {
    let Some(service) = &shared.payments else {
        return Ok(());
    };
    let db = &shared.db;
    let Some(tenant) = db.tenant_by_slug(&link.tenant).await? else {
        return Ok(());
    };
    let Some((phone_number_id, token)) = sender(shared, &tenant, "payment link") else {
        return Ok(());
    };
    let thread = ThreadId::new();
    let mut tx = db.tenant(&tenant.slug).begin().await?;
    sqlx::query(
        "INSERT INTO conversation_threads (customer_phone, thread_id, channel_started, actor_type) \
         VALUES ($1, $2, 'whatsapp', 'customer')",
    )
    .bind(link.phone.expose())
    .bind(thread.as_str())
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    let chat = Chat {
        tenant: &tenant,
        phone_number_id: &phone_number_id,
        token: &token,
        customer: &link.phone,
        thread: &thread,
        lang: link.lang,
    };
    start_payment_by(
        shared,
        service,
        &chat,
        link.appointment_id,
        link.amount,
        ChatProvider::Pesapal,
    )
    .await;
    Ok(())
}

/// Sends the nudge and abandon messages the durable deadlines produce.
pub(crate) async fn send_payment_deadlines(
    shared: Arc<WhatsAppChats>,
    mut events: mpsc::Receiver<ChatPaymentEvent>,
) {
    while let Some(event) = events.recv().await {
        let ChatPaymentEvent {
            tenant,
            thread_id,
            payment_id,
            message,
        } = event;
        // Already claimed by the sweeper.
        let sent = write_to_thread(
            &shared,
            &tenant,
            &thread_id,
            payment_id,
            message,
            None,
            CallThreads::Skip,
        )
        .await;
        if let Err(e) = sent {
            tracing::warn!(tenant = %tenant, error = %e, "payment reminder not sent to the chat");
        }
    }
}
