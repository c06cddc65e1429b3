//! The payment hold of one call, run beside its call task.
//!
//! The call task must never wait on a database or a payment provider: its
//! loop carries the caller's audio. So the hold ([`HoldSession`], which
//! pushes, queries and waits for callbacks) runs in a task of its own,
//! spawned when the dialog asks for a payment. The call sends it what the
//! caller said; it sends back what the call must do ([`CallEffect`]s: say,
//! enter or leave the holding state, finished). Deadlines are the hold's
//! own, on the wall clock, but they wait while the caller is still hearing
//! the hold's last prompt (the call reports each prompt heard): a question
//! must not time out while it is being asked. Payment outcomes arrive from
//! whichever node got the callback (via the node's
//! [`crate::runtime::payments::PaymentWaiters`]).
//!
//! The call ending drops its side of the channel; the task then stops at its
//! next wake-up. A push already made stays in the database, where the
//! reconciler and the callback finish it.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;
use tracing::Instrument;
use uuid::Uuid;

use crate::adapters::payments::kenyan_msisdn;
use crate::core::ids::{CallId, Money, PhoneNumber, TenantSlug, ThreadId};
use crate::core::payment::Provider;
use crate::core::payment::hold::{HoldInput, HoldResult, Lang, Prompt};
use crate::runtime::payments::{CallEffect, HoldSession, PaymentService, PushRequest};
use crate::storage::TenantRecord;

/// What a call asks to be paid.
#[derive(Debug, Clone)]
pub struct HoldRequest {
    pub call_id: CallId,
    pub tenant: TenantSlug,
    pub thread: ThreadId,
    /// The caller's number from the provider's start event.
    pub caller: Option<PhoneNumber>,
    pub appointment_id: Uuid,
    pub amount: Money,
    pub lang: Lang,
}

/// A payment link the call promised to send on WhatsApp (the caller chose
/// to pay later, or the prompt failed twice). The WhatsApp runtime sends it.
#[derive(Debug, Clone)]
pub struct PaymentLinkRequest {
    pub tenant: TenantSlug,
    pub phone: PhoneNumber,
    pub appointment_id: Uuid,
    pub amount: Money,
    pub lang: Lang,
}

/// The call task's end of a running hold.
#[derive(Debug)]
pub struct CallHold {
    to_hold: mpsc::UnboundedSender<FromCall>,
    effects: mpsc::UnboundedReceiver<CallEffect>,
}

impl CallHold {
    /// Spawns the hold. Its first effects (the consent question, or why
    /// no push is possible) follow at once.
    pub fn start(service: Arc<PaymentService>, request: HoldRequest) -> Self {
        let (said_tx, said_rx) = mpsc::unbounded_channel();
        let (effects_tx, effects_rx) = mpsc::unbounded_channel();
        let span = tracing::info_span!(
            "payment_hold",
            call_id = %request.call_id,
            tenant = %request.tenant,
            appointment = %request.appointment_id,
        );
        tokio::spawn(run(service, request, said_rx, effects_tx).instrument(span));
        Self {
            to_hold: said_tx,
            effects: effects_rx,
        }
    }

    /// A caller turn during the hold.
    pub fn caller_said(&self, text: String) {
        // A hold that already finished has nothing to do with it.
        let _ = self.to_hold.send(FromCall::CallerSaid(text));
    }

    /// The caller has heard (or cut off) this many of the hold's prompts.
    pub fn prompts_heard(&self, count: u32) {
        let _ = self.to_hold.send(FromCall::Heard(count));
    }

    /// The next thing the call must do; `None` once the hold is over.
    pub async fn next_effect(&mut self) -> Option<CallEffect> {
        self.effects.recv().await
    }
}

/// What the call tells its hold.
#[derive(Debug)]
enum FromCall {
    CallerSaid(String),
    /// Prompts finished playing so far (each `CallEffect::Say` is one).
    Heard(u32),
}

/// Whether a call may push to this tenant's callers at all.
pub fn pushes_on_calls(tenant: &TenantRecord) -> bool {
    tenant.payment_enabled && tenant.preferred_payment_provider == "mpesa"
}

/// Daraja's AccountReference: at most 12 characters, letters and digits.
fn account_reference(name: &str) -> String {
    let r: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect::<String>()
        .to_uppercase();
    if r.is_empty() { "BOOKING".into() } else { r }
}

async fn run(
    service: Arc<PaymentService>,
    request: HoldRequest,
    mut from_call: mpsc::UnboundedReceiver<FromCall>,
    effects: mpsc::UnboundedSender<CallEffect>,
) {
    // Prompts sent to the call, and how many it has played out.
    let mut said = 0u32;
    let mut heard = 0u32;
    let send_all = |list: Vec<CallEffect>, said: &mut u32| {
        for e in list {
            if matches!(e, CallEffect::Say(_)) {
                *said += 1;
            }
            let _ = effects.send(e);
        }
    };
    let tenant = match service.db().tenant_by_slug(&request.tenant).await {
        Ok(Some(t)) => Some(t),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %e, "tenant record unavailable; no payment on this call");
            None
        }
    };
    let phone = request.caller.clone().filter(|p| kenyan_msisdn(p).is_ok());
    // A tenant whose M-Pesa cannot be reached (no credentials for this
    // environment) is not asked for consent to a prompt that cannot be sent.
    let tenant = tenant
        .filter(pushes_on_calls)
        .filter(|t| match service.gateway(t, Provider::Mpesa) {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(tenant = %t.slug, error = %e, "M-Pesa unavailable for this tenant; no prompt on calls");
                false
            }
        });
    let (Some(tenant), Some(phone)) = (tenant, phone) else {
        tracing::info!("no M-Pesa prompt on this call; payment follows by WhatsApp");
        send_all(
            vec![
                CallEffect::Say(Prompt::PaymentByWhatsApp.text(request.lang)),
                CallEffect::SendPaymentLink,
                CallEffect::Finished(HoldResult::PayLater),
            ],
            &mut said,
        );
        return;
    };
    let push = PushRequest {
        thread_id: request.thread.clone(),
        appointment_id: Some(request.appointment_id),
        contact_id: None,
        phone,
        amount: request.amount,
        account_reference: account_reference(&tenant.name),
        description: "Booking".into(),
    };
    let mut session = HoldSession::new(service, tenant, push, request.lang);
    let (first, mut deadline) = session.handle(HoldInput::Start, Instant::now()).await;
    send_all(first, &mut said);
    while !session.is_done() {
        let wake_at = deadline.map_or_else(far_future, tokio::time::Instant::from_std);
        let speaking = heard < said;
        let input = tokio::select! {
            msg = from_call.recv() => match msg {
                Some(FromCall::CallerSaid(text)) => HoldInput::CallerSaid(text),
                Some(FromCall::Heard(count)) => {
                    heard = count;
                    if heard < said {
                        continue;
                    }
                    HoldInput::PromptsHeard
                }
                None => {
                    tracing::info!(payment = ?session.payment_id(), "call ended during the hold");
                    return;
                }
            },
            Some(outcome) = session.next_outcome() => outcome,
            _ = tokio::time::sleep_until(wake_at), if !speaking => HoldInput::Tick,
        };
        let (more, next) = session.handle(input, Instant::now()).await;
        deadline = next;
        send_all(more, &mut said);
    }
    tracing::info!(payment = ?session.payment_id(), "payment hold finished");
}

fn far_future() -> tokio::time::Instant {
    tokio::time::Instant::now() + std::time::Duration::from_secs(86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_reference_fits_daraja() {
        assert_eq!(account_reference("Nywele Bora Salon"), "NYWELEBORASA");
        assert_eq!(account_reference("Ø"), "BOOKING");
    }
}
