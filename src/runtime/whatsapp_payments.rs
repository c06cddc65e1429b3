//! Payments in WhatsApp chats: starting the M-Pesa prompt or PesaPal link a
//! booking asks for, answering what the customer writes while it is open
//! or after it failed ("tuma tena", "nimelipa", "RETRY", "LINK"), and
//! writing outcomes, reminders and call-promised links into the chat.
//!
//! A booking the dialog wants paid starts an M-Pesa prompt to the chat's
//! number or a PesaPal link (tenant's preferred provider; a link for a
//! number M-Pesa cannot prompt); nudge and abandon messages from the durable
//! deadlines go out as they fall due.
//!
//! Outcomes are told exactly once across nodes ([`notices`]): owed from
//! the transaction that records them, claimed for a lease, retried, and
//! taken over from a node that died.

use std::sync::Arc;

use chrono::Utc;
use serde_json::json;
use tokio::sync::mpsc;

use crate::adapters::payments::kenyan_msisdn;
use crate::adapters::whatsapp::client::Window;
use crate::adapters::whatsapp::codec::InboundMessage;
use crate::config::Secret;
use crate::core::dialog::Channel;
use crate::core::ids::Lang;
use crate::core::ids::{Money, PhoneNumber, TenantSlug, ThreadId};
use crate::core::payment::Provider;
use crate::core::payment::chat::{ChatMessage, answer_lang};
use crate::runtime::call_payment::PaymentLinkRequest;
use crate::runtime::payments::{
    BookingPayment, ChatPaymentEvent, PaymentService, PushRequest, account_reference,
    answer_chat_payment, read_chat_answer, start_booking_payment,
};
use crate::runtime::whatsapp_chat::{WhatsAppChats, access_token, sender};
use crate::storage::TenantRecord;
use crate::storage::conversation as conv;
use crate::storage::payments::{self as payment_store, RouteLookup};

mod notices;

pub(crate) use notices::send_payment_outcomes;

/// One chat to write payment messages to.
pub(crate) struct Chat<'a> {
    pub(crate) tenant: &'a TenantRecord,
    pub(crate) phone_number_id: &'a str,
    pub(crate) token: &'a Secret,
    pub(crate) customer: &'a PhoneNumber,
    pub(crate) thread: &'a ThreadId,
    pub(crate) lang: Lang,
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
        Provider::Pesapal
    } else {
        Provider::Mpesa
    };
    start_payment_by(shared, service, chat, appointment_id, amount, provider).await;
}

async fn start_payment_by(
    shared: &WhatsAppChats,
    service: &PaymentService,
    chat: &Chat<'_>,
    appointment_id: uuid::Uuid,
    amount: Money,
    provider: Provider,
) {
    let booking = BookingPayment {
        thread: chat.thread.clone(),
        appointment_id,
        phone: chat.customer.clone(),
        amount,
    };
    let (payment_id, messages) =
        start_booking_payment(service, chat.tenant, &booking, provider, Utc::now()).await;
    tracing::info!(payment = ?payment_id, provider = ?provider, "chat payment started");
    for message in messages {
        // Best effort: the customer can ask again.
        let _ = send_payment_text(shared, chat, payment_id, &message.text(chat.lang)).await;
    }
}

/// A customer's message while a booking of theirs waits for payment (its
/// latest attempt open with the provider, or failed), read by the chat
/// payment first: what it answers (a status query, another prompt, a
/// link, a word of help) is done here, once per message id, in the
/// message's language. False when the message is the dialog's (a cancel,
/// a question, …), when there is no such booking, or when a person has
/// the chat: the dialog takes it as usual.
pub(crate) async fn answer_payment(
    shared: &WhatsAppChats,
    service: &PaymentService,
    tenant: &TenantRecord,
    m: &InboundMessage,
    customer: &PhoneNumber,
) -> anyhow::Result<bool> {
    let handle = shared.db.tenant(&tenant.slug);
    let mut tx = handle.begin().await?;
    let Some(attempt) = payment_store::latest_unpaid_attempt(&mut tx, customer).await? else {
        return Ok(false);
    };
    let now = Utc::now();
    let Some(machine) = read_chat_answer(tenant, &attempt, m.text(), now) else {
        return Ok(false);
    };
    let thread = conv::open_thread(&mut tx, customer.expose(), Channel::WhatsApp).await?;
    let state = conv::load_checkpoint(&mut tx, &thread).await?;
    if state.handed_off() {
        return Ok(false);
    }
    // A redelivered message is answered once.
    if !conv::claim_message_id(&mut tx, &m.id).await? {
        return Ok(true);
    }
    let Some(previous) = payment_store::find_payment(&handle, attempt.payment_id).await? else {
        return Ok(false);
    };
    let lang = answer_lang(m.text(), state.lang);
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
            metadata: json!({"thread_id": thread.as_str(), "wamid": m.id, "payment_id": attempt.payment_id.to_string()}),
        },
    )
    .await?;
    tx.commit().await?;
    let Some(token) = access_token(shared, tenant) else {
        return Ok(true);
    };
    // The open attempt is asked about on its own thread, where its outcome
    // is told.
    let attempt_thread = match payment_store::route(
        &shared.db,
        &payment_store::merchant_reference(attempt.payment_id),
        now,
    )
    .await?
    {
        RouteLookup::Found(route) | RouteLookup::Expired(route) => route.thread_id,
        RouteLookup::Unknown => thread.clone(),
    };
    let request = PushRequest {
        thread_id: thread.clone(),
        appointment_id: Some(attempt.appointment_id),
        contact_id: previous.contact_id,
        phone: customer.clone(),
        amount: previous.amount,
        account_reference: account_reference(&tenant.name),
        description: "Booking".into(),
    };
    let (next_payment, messages) = answer_chat_payment(
        service,
        tenant,
        &request,
        machine,
        &attempt,
        &attempt_thread,
        now,
    )
    .await
    .unwrap_or_else(|e| {
        tracing::warn!(error = %e, "payment answer not carried out");
        (None, vec![ChatMessage::ProviderUnavailable])
    });
    tracing::info!(payment = %attempt.payment_id, open = attempt.open, next = ?next_payment, "customer answered about a payment");
    let chat = Chat {
        tenant,
        phone_number_id: &m.phone_number_id,
        token: &token,
        customer,
        thread: &thread,
        lang,
    };
    for message in messages {
        let payment = next_payment.or(Some(attempt.payment_id));
        let _ = send_payment_text(shared, &chat, payment, &message.text(lang)).await;
    }
    Ok(true)
}

/// Sends one payment message and records it in interactions (a failed
/// attempt too); the error says why the Graph API did not take it.
async fn send_payment_text(
    shared: &WhatsAppChats,
    chat: &Chat<'_>,
    payment_id: Option<uuid::Uuid>,
    text: &str,
) -> Result<(), String> {
    let lang_code = match chat.lang {
        Lang::En => "en",
        Lang::Sw => "sw",
    };
    let window = match customer_window(shared, chat.tenant, chat.customer).await {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "24 h window unknown");
            Window::Unknown
        }
    };
    let sent = shared
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
        .map_err(|e| e.to_string());
    if let Err(e) = &sent {
        tracing::warn!(error = %e, "WhatsApp payment message not sent");
    }
    let wamid = sent.as_ref().ok();
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
    sent.map(|_| ())
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

/// The WhatsApp chat behind a payment's thread: the customer to write to,
/// their language, and whether the thread began as a call (a call's caller
/// is written to at the number that called, when `with_calls`).
async fn chat_of(
    shared: &WhatsAppChats,
    tenant: &TenantRecord,
    thread: &ThreadId,
    with_calls: bool,
) -> anyhow::Result<Option<(PhoneNumber, Lang, bool)>> {
    let mut tx = shared.db.tenant(&tenant.slug).begin().await?;
    let Some(chat) = payment_store::payment_chat(&mut tx, thread, with_calls).await? else {
        return Ok(None);
    };
    let Ok(phone) = PhoneNumber::parse(&chat.customer_phone) else {
        return Ok(None);
    };
    let lang = conv::load_checkpoint(&mut tx, thread).await?.lang;
    tx.commit().await?;
    Ok(Some((phone, lang, chat.began_as_call)))
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
    payment_store::open_link_thread(&mut tx, &link.phone, &thread).await?;
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
        Provider::Pesapal,
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
        let sent = write_deadline_message(&shared, &tenant, &thread_id, payment_id, message).await;
        if let Err(e) = sent {
            tracing::warn!(tenant = %tenant, error = %e, "payment reminder not sent to the chat");
        }
    }
}

/// Writes a chat payment's reminder or release into its chat.
async fn write_deadline_message(
    shared: &WhatsAppChats,
    tenant: &TenantSlug,
    thread: &ThreadId,
    payment_id: uuid::Uuid,
    message: ChatMessage,
) -> anyhow::Result<()> {
    let Some(tenant) = shared.db.tenant_by_slug(tenant).await? else {
        return Ok(());
    };
    let Some((customer, lang, _)) = chat_of(shared, &tenant, thread, false).await? else {
        return Ok(());
    };
    let Some((phone_number_id, token)) = sender(shared, &tenant, "payment message") else {
        return Ok(());
    };
    let chat = Chat {
        tenant: &tenant,
        phone_number_id: &phone_number_id,
        token: &token,
        customer: &customer,
        thread,
        lang,
    };
    send_payment_text(shared, &chat, Some(payment_id), &message.text(lang))
        .await
        .map_err(anyhow::Error::msg)
}
