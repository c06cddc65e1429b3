//! A payment hold on a call: the core hold machine driven against the service.

use super::*;

/// What the call task must do for a hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEffect {
    Say(String),
    EnterHold,
    LeaveHold,
    SendPaymentLink,
    /// The caller's words are the dialog's once the hold is over (a change
    /// to the booking, a payment problem for a person): the call answers
    /// them as a turn.
    ForDialog(String),
    Finished(HoldResult),
}

/// Drives one [`StkHold`] for a call task: performs the payment effects
/// (push, query) itself and returns what the call must say or do.
pub struct HoldSession {
    hold: StkHold,
    service: Arc<PaymentService>,
    tenant: TenantRecord,
    request: PushRequest,
    lang: Lang,
    payment_id: Option<Uuid>,
    notice: Option<oneshot::Receiver<PaymentNotice>>,
}

impl HoldSession {
    pub fn new(
        service: Arc<PaymentService>,
        tenant: TenantRecord,
        request: PushRequest,
        lang: Lang,
    ) -> Self {
        let config =
            HoldConfig::from_tenant(u32::try_from(tenant.voice_stk_max_hold_seconds).unwrap_or(90));
        Self {
            hold: StkHold::new(config, request.amount),
            service,
            tenant,
            request,
            lang,
            payment_id: None,
            notice: None,
        }
    }

    pub fn payment_id(&self) -> Option<Uuid> {
        self.payment_id
    }

    pub fn is_done(&self) -> bool {
        self.hold.is_done()
    }

    /// Feeds one input and performs the resulting payment effects; returns
    /// the call's effects and the next deadline (feed `HoldInput::Tick` then).
    pub async fn handle(
        &mut self,
        input: HoldInput,
        now: Instant,
    ) -> (Vec<CallEffect>, Option<Instant>) {
        let mut effects = Vec::new();
        let mut queue = vec![input];
        let mut deadline = None;
        while let Some(input) = queue.pop() {
            self.hold.handle_input(input, now);
            while let Some(out) = self.hold.poll_output() {
                match out {
                    HoldOutput::Timeout(at) => {
                        deadline = Some(at);
                        break;
                    }
                    HoldOutput::Say(p) => {
                        if matches!(p, Prompt::Failed { .. }) {
                            self.record_failure_told().await;
                        }
                        effects.push(CallEffect::Say(p.text(self.lang)));
                    }
                    HoldOutput::EnterHold => effects.push(CallEffect::EnterHold),
                    HoldOutput::LeaveHold => effects.push(CallEffect::LeaveHold),
                    HoldOutput::SendPaymentLink => effects.push(CallEffect::SendPaymentLink),
                    HoldOutput::ForDialog(said) => effects.push(CallEffect::ForDialog(said)),
                    HoldOutput::Finished(r) => effects.push(CallEffect::Finished(r)),
                    HoldOutput::PushStk { .. } => queue.push(self.push().await),
                    HoldOutput::QueryStk => {
                        if let Some(next) = self.query().await {
                            queue.push(next);
                        }
                    }
                }
            }
            if self.hold.is_done() {
                deadline = None;
            }
        }
        (effects, deadline)
    }

    /// The caller heard the payment fail on the line: the outcome notice
    /// the customer is owed is settled, so it is not written to them on
    /// WhatsApp too (the chat side gives a holding call a few seconds to
    /// say it first).
    async fn record_failure_told(&self) {
        let Some(payment_id) = self.payment_id else {
            return;
        };
        let tenant = self.service.db().tenant(&self.tenant.slug);
        if let Err(e) = store::deadlines::told_on_call(&tenant, payment_id).await {
            // The caller may also get the failure in writing: better twice
            // than never.
            tracing::warn!(tenant = %self.tenant.slug, error = %e, "could not record the failure as told on the call");
        }
    }

    /// Resolves when the payment's outcome is known (from any node).
    pub async fn next_outcome(&mut self) -> Option<HoldInput> {
        let rx = self.notice.as_mut()?;
        let notice = rx.await.ok();
        self.notice = None;
        notice.map(|n| HoldInput::Outcome(n.outcome()))
    }

    async fn push(&mut self) -> HoldInput {
        let started = self
            .service
            .start_stk_push(&self.tenant, &self.request, Utc::now())
            .await;
        match started {
            Ok(StartedPush { payment_id, start }) => {
                self.payment_id = Some(payment_id);
                self.notice = self
                    .service
                    .waiters
                    .wait_for(
                        self.service.db(),
                        &self.tenant.slug,
                        payment_id,
                        &self.request.thread_id,
                    )
                    .await
                    .ok();
                match start {
                    PushStart::Accepted => HoldInput::PushAccepted,
                    PushStart::Uncertain => HoldInput::PushUncertain,
                    PushStart::Rejected(_) => HoldInput::PushRejected,
                }
            }
            Err(e) => {
                tracing::warn!(tenant = %self.tenant.slug, error = %e, "stk push not started");
                HoldInput::PushRejected
            }
        }
    }

    async fn query(&mut self) -> Option<HoldInput> {
        let payment_id = self.payment_id?;
        match self
            .service
            .query(
                &self.tenant,
                payment_id,
                &self.request.thread_id,
                Utc::now(),
            )
            .await
        {
            Ok(Some(outcome)) => Some(HoldInput::Outcome(outcome)),
            Ok(None) => Some(HoldInput::QueryPending),
            Err(e) => {
                tracing::warn!(tenant = %self.tenant.slug, error = %e, "stk query failed");
                Some(HoldInput::QueryPending)
            }
        }
    }
}
