//! Payments in web chats: the M-Pesa prompt a widget booking asks for,
//! sent to the number the customer gave, and its outcome written into the
//! chat.
//!
//! The same [`PaymentService`] and chat payment as WhatsApp
//! ([`start_booking_payment`]); what is the widget's own is where the
//! messages go: down the open socket(s) of the session on this node
//! ([`WebSockets`]), and into `interactions` (so a widget opened again
//! shows them in its history). The prompt is also the proof of a claimed
//! number (STK as oracle): the session is promoted in the transaction
//! that records the completed payment
//! ([`crate::storage::web::promote_paid_sessions`]), on whichever node the
//! callback reaches, whether or not the widget is still open.
//!
//! Outcomes: every node hears every final outcome; a node with the
//! session's widget open pushes it at once, and the owed notice
//! ([`crate::storage::payments::deadlines`]) is settled once across nodes
//! by whoever claims it (here, or the sweep of the WhatsApp runtime,
//! which hands web threads to `tell_owed`), which writes the message
//! into the chat's history.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use serde_json::json;
use tokio::sync::{broadcast, mpsc};
use tracing::Instrument;
use uuid::Uuid;

use crate::adapters::payments::stored_outcome;
use crate::core::dialog::Channel;
use crate::core::ids::{Lang, ThreadId};
use crate::core::messages::hold::FailureWhy;
use crate::core::payment::chat::ChatMessage;
use crate::core::payment::{PaymentStatus, Provider};
use crate::runtime::payments::{BookingPayment, PaymentService, start_booking_payment};
use crate::runtime::web_chat::ToWidget;
use crate::storage::conversation as conv;
use crate::storage::payments::{self as payment_store, OwedNotice, PaymentNotice, Told};
use crate::storage::{Db, StorageError, TenantHandle, TenantRecord};

/// The widgets open on this node, by their thread key (`web:` + …).
#[derive(Clone, Default)]
pub struct WebSockets {
    open: Arc<Mutex<HashMap<String, Vec<mpsc::Sender<ToWidget>>>>>,
}

/// An open widget's place in [`WebSockets`]; dropped when it closes.
pub struct OpenSocket {
    sockets: WebSockets,
    key: String,
    out: mpsc::Sender<ToWidget>,
}

impl WebSockets {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<mpsc::Sender<ToWidget>>>> {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers an open widget of the session with thread key `key`.
    pub fn open(&self, key: String, out: mpsc::Sender<ToWidget>) -> OpenSocket {
        self.lock()
            .entry(key.clone())
            .or_default()
            .push(out.clone());
        OpenSocket {
            sockets: self.clone(),
            key,
            out,
        }
    }

    /// Pushes `msg` to every open widget of the thread key without
    /// waiting (a widget whose queue is full misses it and sees it in its
    /// history when opened again); how many took it.
    fn push(&self, key: &str, msg: &ToWidget) -> usize {
        let open = self.lock();
        open.get(key)
            .into_iter()
            .flatten()
            .filter(|out| out.try_send(msg.clone()).is_ok())
            .count()
    }
}

impl Drop for OpenSocket {
    fn drop(&mut self) {
        let mut open = self.sockets.lock();
        if let Some(outs) = open.get_mut(&self.key) {
            outs.retain(|o| !o.same_channel(&self.out));
            if outs.is_empty() {
                open.remove(&self.key);
            }
        }
    }
}

/// The widget's message for a payment message: its text and where the
/// payment stands (`pending`, `paid`, `unpaid`).
pub fn to_widget(message: &ChatMessage, lang: Lang) -> ToWidget {
    let status = match message {
        ChatMessage::Paid { .. } => "paid",
        ChatMessage::Unpaid { .. }
        | ChatMessage::Failed { .. }
        | ChatMessage::FailedLinkFollows { .. }
        | ChatMessage::ProviderUnavailable
        | ChatMessage::Abandoned
        | ChatMessage::NotSeenYet { .. } => "unpaid",
        ChatMessage::CheckYourPhone
        | ChatMessage::PayWithLink { .. }
        | ChatMessage::Nudge { .. }
        | ChatMessage::StillPending { .. }
        | ChatMessage::NotReceivedHelp { .. }
        | ChatMessage::Checking { .. }
        | ChatMessage::TakeYourTime { .. }
        | ChatMessage::PayLater { .. } => "pending",
    };
    ToWidget::Payment {
        text: message.text(lang),
        lang: lang.code(),
        status,
    }
}

/// A chat payment's message as the widget says it: the widget takes no
/// "RETRY" or "LINK", so a failure says the booking stands unpaid and how
/// else to pay (the tenant's paybill, or at the salon).
fn for_web(message: ChatMessage, tenant: &TenantRecord) -> ChatMessage {
    let paybill = || {
        tenant
            .payment_enabled
            .then(|| tenant.mpesa_shortcode.clone())
            .flatten()
    };
    match message {
        ChatMessage::Failed { why, .. } | ChatMessage::FailedLinkFollows { why } => {
            ChatMessage::Unpaid {
                why,
                paybill: paybill(),
            }
        }
        ChatMessage::ProviderUnavailable => ChatMessage::Unpaid {
            why: FailureWhy::Other,
            paybill: paybill(),
        },
        other @ (ChatMessage::CheckYourPhone
        | ChatMessage::PayWithLink { .. }
        | ChatMessage::Nudge { .. }
        | ChatMessage::Paid { .. }
        | ChatMessage::Unpaid { .. }
        | ChatMessage::Abandoned
        | ChatMessage::StillPending { .. }
        | ChatMessage::NotReceivedHelp { .. }
        | ChatMessage::Checking { .. }
        | ChatMessage::NotSeenYet { .. }
        | ChatMessage::TakeYourTime { .. }
        | ChatMessage::PayLater { .. }) => other,
    }
}

/// Starts the M-Pesa prompt for a booking made in a web chat, to
/// `booking.phone` (the number the customer gave), and writes "check your
/// phone" (or why it could not start) into the chat.
pub(crate) async fn start(
    service: &PaymentService,
    db: &Db,
    tenant: &TenantRecord,
    out: &mpsc::Sender<ToWidget>,
    booking: &BookingPayment,
    lang: Lang,
) {
    let thread = &booking.thread;
    // The prompt is the proof of a claimed number: M-Pesa only.
    let (payment_id, messages) =
        start_booking_payment(service, tenant, booking, Provider::Mpesa, Utc::now()).await;
    tracing::info!(payment = ?payment_id, "web chat payment started");
    let handle = db.tenant(&tenant.slug);
    for message in messages {
        let message = for_web(message, tenant);
        if let Err(e) = record(&handle, thread, payment_id, &message, lang).await {
            tracing::warn!(error = %e, "web payment message not recorded");
        }
        // Best effort: a closed widget shows it in its history.
        let _ = out.send(to_widget(&message, lang)).await;
    }
}

/// Writes a payment message into the web chat's history.
async fn record(
    handle: &TenantHandle,
    thread: &ThreadId,
    payment_id: Option<Uuid>,
    message: &ChatMessage,
    lang: Lang,
) -> Result<(), StorageError> {
    let mut tx = handle.begin().await?;
    conv::record_interaction(
        &mut tx,
        &conv::InteractionRow {
            contact_id: None,
            channel: Channel::Web,
            inbound: false,
            message_type: "text",
            content: &message.text(lang),
            intent: Some("payment"),
            language: Some(lang.code()),
            metadata: json!({
                "thread_id": thread.as_str(),
                "payment_id": payment_id.map(|p| p.to_string()),
            }),
        },
    )
    .await?;
    tx.commit().await
}

/// The outcome message of a payment on a web thread: the thread's key,
/// its language and the message; `None` when the thread is not a web
/// chat's (or the payment is gone).
async fn web_outcome(
    handle: &TenantHandle,
    tenant: &TenantRecord,
    payment_id: Uuid,
    thread: &ThreadId,
) -> Result<Option<(String, Lang, ChatMessage)>, StorageError> {
    let mut tx = handle.begin().await?;
    let Some(key) = crate::storage::web::web_thread_key(&mut tx, thread).await? else {
        return Ok(None);
    };
    let lang = conv::load_checkpoint(&mut tx, thread).await?.lang;
    tx.commit().await?;
    let Some(payment) = payment_store::find_payment(handle, payment_id).await? else {
        return Ok(None);
    };
    let outcome = stored_outcome(
        payment.status,
        payment.mpesa_receipt.clone(),
        payment.callback_payload.as_ref(),
    );
    let message = for_web(ChatMessage::for_outcome(&outcome, false), tenant);
    Ok(Some((key, lang, message)))
}

/// Settles an owed outcome notice of a web chat's payment (claimed by
/// the caller): written into the chat's history and marked told. False
/// when the payment's thread is not a web chat's (nothing done).
pub(crate) async fn tell_owed(
    db: &Db,
    tenant: &TenantRecord,
    owed: &OwedNotice,
) -> Result<bool, StorageError> {
    let handle = db.tenant(&tenant.slug);
    let Some((_, lang, message)) =
        web_outcome(&handle, tenant, owed.payment_id, &owed.thread_id).await?
    else {
        return Ok(false);
    };
    record_told(&handle, owed, &message, lang).await?;
    Ok(true)
}

/// Writes an owed outcome into the chat and marks the notice told.
async fn record_told(
    handle: &TenantHandle,
    owed: &OwedNotice,
    message: &ChatMessage,
    lang: Lang,
) -> Result<(), StorageError> {
    record(
        handle,
        &owed.thread_id,
        Some(owed.payment_id),
        message,
        lang,
    )
    .await?;
    payment_store::deadlines::notice_told(handle, owed, Told::Web).await
}

/// Tells one heard outcome: pushed to the session's widgets open on this
/// node, and (if this node claims the notice) written into the chat.
async fn tell_heard(
    db: &Db,
    service: &PaymentService,
    sockets: &WebSockets,
    notice: &PaymentNotice,
) -> anyhow::Result<()> {
    let Some(tenant) = db.tenant_by_slug(&notice.tenant).await? else {
        return Ok(());
    };
    let handle = db.tenant(&tenant.slug);
    let Some((key, lang, message)) =
        web_outcome(&handle, &tenant, notice.payment_id, &notice.thread_id).await?
    else {
        return Ok(());
    };
    let pushed = sockets.push(&key, &to_widget(&message, lang));
    tracing::info!(
        payment = %notice.payment_id,
        status = %notice.status,
        widgets = pushed,
        "web chat payment outcome"
    );
    let policy = &service.config().notices;
    if let Some(owed) = payment_store::deadlines::claim_notice(
        &handle,
        notice.payment_id,
        &policy.node,
        policy.lease,
    )
    .await?
    {
        record_told(&handle, &owed, &message, lang).await?;
    }
    Ok(())
}

/// Tells web chats the final outcomes of their payments, as this node
/// hears them (every node hears every outcome).
pub(crate) fn spawn_outcomes(db: Db, service: Arc<PaymentService>, sockets: WebSockets) {
    let mut notices = service.waiters().subscribe_all();
    tokio::spawn(
        async move {
            use broadcast::error::RecvError;
            loop {
                let notice = match notices.recv().await {
                    Ok(n) => n,
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "web payment notices missed; the sweep records them");
                        continue;
                    }
                    Err(RecvError::Closed) => return,
                };
                if !notice.status().is_some_and(PaymentStatus::is_final) {
                    continue;
                }
                if let Err(e) = tell_heard(&db, &service, &sockets, &notice).await {
                    tracing::warn!(tenant = %notice.tenant, error = %e, "web payment outcome not told");
                }
            }
        }
        .in_current_span(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_on_the_web_say_the_booking_stands_and_how_else_to_pay() {
        let m = ChatMessage::Unpaid {
            why: FailureWhy::Cancelled,
            paybill: Some("174379".into()),
        };
        let en = m.text(Lang::En);
        assert!(en.starts_with("The request was cancelled."), "{en}");
        assert!(
            en.contains("Paybill 174379") && !en.contains("RETRY"),
            "{en}"
        );
        let sw = m.text(Lang::Sw);
        assert!(
            sw.contains("Ombi lilighairiwa") && sw.contains("174379"),
            "{sw}"
        );
        let ToWidget::Payment { status, lang, .. } = to_widget(&m, Lang::Sw) else {
            panic!("not a payment message");
        };
        assert_eq!((status, lang), ("unpaid", "sw"));
        let paid = ChatMessage::Paid {
            receipt: Some("QK1".into()),
        };
        assert!(matches!(
            to_widget(&paid, Lang::En),
            ToWidget::Payment { status: "paid", .. }
        ));
    }
}
