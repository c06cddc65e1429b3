//! Payment outcomes told to customers on WhatsApp, once across nodes.
//!
//! The transaction that records an outcome owes the customer a notice of
//! it ([`crate::storage::payments::deadlines`]). The node that hears the
//! outcome (LISTEN, on every node) claims the notice for a lease, writes it
//! and marks it told. A send that fails is released and retried with
//! backoff; a node that dies holding a notice leaves a lease that runs
//! out, and the periodic sweep of any node takes it over; a notice no node
//! heard is swept up too. A failure on a call's thread is the call's to say
//! while the caller holds: it settles the same notice, which then is not
//! written.

use std::sync::Arc;
use std::time::Duration;

use super::{Chat, chat_of, send_call_payment_link, send_payment_text};
use crate::adapters::payments::stored_outcome;
use crate::core::payment::PaymentOutcome;
use crate::core::payment::chat::ChatMessage;
use crate::runtime::call_payment::PaymentLinkRequest;
use crate::runtime::payments::PaymentService;
use crate::runtime::whatsapp_chat::{WhatsAppChats, sender};
use crate::storage::TenantRecord;
use crate::storage::payments::{self as payment_store, OwedNotice, PaymentNotice, Told};

/// How long the chat side waits before writing a failure to a caller whose
/// call may be telling it on the line (a holding call hears of the outcome
/// at the same moment and settles the notice at once).
const CALL_TELLS_FIRST: Duration = Duration::from_secs(5);

/// Tries to tell one outcome before giving up (the error stays on the row).
const MAX_NOTICE_ATTEMPTS: i32 = 8;

/// The wait before trying a failed notice again.
fn retry_after(attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.clamp(1, 8) - 1).unwrap_or(0);
    (Duration::from_secs(2) * 2u32.pow(exponent)).min(Duration::from_secs(300))
}

/// Tells a claimed outcome notice: in the payment's chat, or to a call's
/// caller at the number that called (a receipt read on the line is gone
/// when the call ends; a failure reaching this point was not said on the
/// line, so it comes with a link, a caller being unable to answer RETRY to
/// a call). Marks it told, or releases it to be tried again.
async fn tell_outcome(
    shared: &WhatsAppChats,
    tenant: &TenantRecord,
    owed: &OwedNotice,
) -> anyhow::Result<()> {
    let handle = shared.db.tenant(&tenant.slug);
    let Some(payment) = payment_store::find_payment(&handle, owed.payment_id).await? else {
        payment_store::deadlines::notice_told(&handle, owed, Told::NoChat).await?;
        return Ok(());
    };
    let outcome = stored_outcome(
        payment.status,
        payment.mpesa_receipt.clone(),
        payment.callback_payload.as_ref(),
    );
    let Some((customer, lang, is_call)) = chat_of(shared, tenant, &owed.thread_id, true).await?
    else {
        // A web chat's payment: written into the chat (its widget, if
        // open, was told by the node that heard the outcome).
        if crate::runtime::web_payments::tell_owed(&shared.db, tenant, owed).await? {
            return Ok(());
        }
        payment_store::deadlines::notice_told(&handle, owed, Told::NoChat).await?;
        return Ok(());
    };
    let Some((phone_number_id, token)) = sender(shared, tenant, "payment outcome") else {
        let why = "the tenant has no WhatsApp number or token";
        payment_store::deadlines::notice_failed(&handle, owed, why, None).await?;
        return Ok(());
    };
    let chat = Chat {
        tenant,
        phone_number_id: &phone_number_id,
        token: &token,
        customer: &customer,
        thread: &owed.thread_id,
        lang,
    };
    let failure_after_call = is_call && !matches!(outcome, PaymentOutcome::Completed { .. });
    // One push failed; the customer may ask for another (or a link).
    let message = match ChatMessage::for_outcome(&outcome, true) {
        ChatMessage::Failed { why, .. } if failure_after_call => {
            ChatMessage::FailedLinkFollows { why }
        }
        other => other,
    };
    let text = message.text(lang);
    if let Err(e) = send_payment_text(shared, &chat, Some(owed.payment_id), &text).await {
        let retry = (owed.attempts < MAX_NOTICE_ATTEMPTS).then(|| retry_after(owed.attempts));
        payment_store::deadlines::notice_failed(&handle, owed, &e, retry).await?;
        return Ok(());
    }
    payment_store::deadlines::notice_told(&handle, owed, Told::WhatsApp).await?;
    if failure_after_call && let Some(appointment_id) = payment.appointment_id {
        let link = PaymentLinkRequest {
            tenant: tenant.slug.clone(),
            phone: customer.clone(),
            appointment_id,
            amount: payment.amount,
            lang,
        };
        send_call_payment_link(shared, &link).await?;
    }
    Ok(())
}

/// Tells the outcome a notice announced, from the node that heard it: at
/// once, except a failure on a call's thread, which the holding call is
/// given [`CALL_TELLS_FIRST`] to say on the line.
async fn tell_heard_outcome(
    shared: &WhatsAppChats,
    service: &PaymentService,
    notice: &PaymentNotice,
) -> anyhow::Result<()> {
    let Some(tenant) = shared.db.tenant_by_slug(&notice.tenant).await? else {
        return Ok(());
    };
    let completed = matches!(notice.outcome(), PaymentOutcome::Completed { .. });
    if !completed
        && chat_of(shared, &tenant, &notice.thread_id, true)
            .await?
            .is_some_and(|(_, _, is_call)| is_call)
    {
        tokio::time::sleep(CALL_TELLS_FIRST).await;
    }
    let policy = &service.config().notices;
    let handle = shared.db.tenant(&tenant.slug);
    let claimed = payment_store::deadlines::claim_notice(
        &handle,
        notice.payment_id,
        &policy.node,
        policy.lease,
    )
    .await?;
    match claimed {
        Some(owed) => tell_outcome(shared, &tenant, &owed).await,
        // Told already (another node, or the call), or being told.
        None => Ok(()),
    }
}

/// One pass over every tenant's owed notices that are due: retries after a
/// failed send, those a dead node held, those nobody heard.
async fn sweep_owed_notices(shared: &Arc<WhatsAppChats>, service: &PaymentService) {
    let policy = &service.config().notices;
    let tenants = match shared.db.list_tenants().await {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, "owed payment notices not swept");
            return;
        }
    };
    for tenant in tenants {
        let handle = shared.db.tenant(&tenant.slug);
        let claimed = payment_store::deadlines::claim_due_notices(
            &handle,
            &policy.node,
            policy.lease,
            policy.unclaimed_for(),
            20,
        )
        .await;
        let owed = match claimed {
            Ok(owed) => owed,
            Err(e) => {
                tracing::warn!(tenant = %tenant.slug, error = %e, "owed payment notices not claimed");
                continue;
            }
        };
        for owed in owed {
            tracing::info!(tenant = %tenant.slug, payment = %owed.payment_id, attempts = owed.attempts, "telling an owed payment outcome");
            let shared = Arc::clone(shared);
            let tenant = tenant.clone();
            tokio::spawn(async move {
                if let Err(e) = tell_outcome(&shared, &tenant, &owed).await {
                    tracing::warn!(tenant = %tenant.slug, error = %e, "owed payment outcome not told");
                }
            });
        }
    }
}

/// Confirms each final payment outcome to its customer, once across nodes:
/// the ones this node hears of at once, and (every
/// [`crate::runtime::payments::NoticePolicy::sweep_every`]) the ones still
/// owed.
pub(crate) async fn send_payment_outcomes(
    shared: Arc<WhatsAppChats>,
    mut notices: tokio::sync::broadcast::Receiver<PaymentNotice>,
) {
    use tokio::sync::broadcast::error::RecvError;
    let Some(service) = shared.payments.clone() else {
        return;
    };
    let mut sweep = tokio::time::interval(service.config().notices.sweep_every);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let notice = tokio::select! {
            heard = notices.recv() => match heard {
                Ok(n) => n,
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "payment notices missed; the sweep tells them");
                    continue;
                }
                Err(RecvError::Closed) => return,
            },
            _ = sweep.tick() => {
                sweep_owed_notices(&shared, &service).await;
                continue;
            }
        };
        if !notice
            .status()
            .is_some_and(crate::core::payment::PaymentStatus::is_final)
        {
            continue;
        }
        // Each in its own task: a failure on a call's thread waits for the
        // call first, and must not hold up the other chats.
        let shared = Arc::clone(&shared);
        let service = Arc::clone(&service);
        tokio::spawn(async move {
            if let Err(e) = tell_heard_outcome(&shared, &service, &notice).await {
                tracing::warn!(tenant = %notice.tenant, error = %e, "payment outcome not sent to the chat");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_notices_back_off_to_five_minutes() {
        let waits: Vec<u64> = (1..=MAX_NOTICE_ATTEMPTS)
            .map(|n| retry_after(n).as_secs())
            .collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 64, 128, 256]);
        assert_eq!(retry_after(40), Duration::from_secs(256));
        assert_eq!(retry_after(0), Duration::from_secs(2));
    }
}
