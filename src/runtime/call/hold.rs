//! The call's side of a payment hold: starting it when the dialog asks for a
//! payment and doing what it says (its prompts wait behind the line playing).

use super::*;

impl Call {
    /// The dialog asked for a payment: hold the caller while they pay.
    pub(super) fn maybe_start_hold(&mut self, reply: &BotReply) {
        let Some(&(appointment_id, amount)) = reply.payments.first() else {
            return;
        };
        let Some(service) = self.payments.clone() else {
            debug!("payment requested but this node takes no payments on calls");
            return;
        };
        if self.hold.is_some() {
            return;
        }
        info!(appointment = %appointment_id, "payment hold starting");
        self.voice.holding(true);
        let lang = reply.language;
        self.hold_for = Some((appointment_id, amount, lang));
        self.hold = Some(CallHold::start(
            service,
            HoldRequest {
                call_id: self.call_id,
                tenant: self.ctx.tenant.slug.clone(),
                thread: self.ctx.thread.clone(),
                caller: self.ctx.caller.clone(),
                appointment_id,
                amount,
                lang,
            },
        ));
    }

    pub(super) fn on_hold_effect(&mut self, effect: Option<CallEffect>) {
        let Some(effect) = effect else {
            // The hold's task is gone without finishing (it failed): the
            // conversation goes on.
            self.hold = None;
            self.voice.holding(false);
            return;
        };
        let language = self.voice.language();
        match effect {
            CallEffect::Say(text) => {
                self.say_after_current(Line::said(
                    crate::adapters::speech::sentences(&text),
                    language,
                    HOLD_PROMPT,
                ));
            }
            CallEffect::EnterHold => self.turns.set_holding(true, self.turns.clock_ms()),
            CallEffect::LeaveHold => self.turns.set_holding(false, self.turns.clock_ms()),
            CallEffect::SendPaymentLink => self.send_payment_link(),
            CallEffect::ForDialog(said) => self.for_dialog = Some(said),
            CallEffect::Finished(result) => {
                info!(result = ?result, "payment hold over");
                self.hold = None;
                self.voice.holding(false);
                self.turns.set_holding(false, self.turns.clock_ms());
                // A change to the booking or a payment problem: the dialog
                // answers the caller's words (it makes the change, or hands
                // the call to a person) instead of going on from the payment.
                if let Some(said) = self.for_dialog.take() {
                    self.ask_after_current(CallerTurn {
                        key: format!("call:{}:{}", self.call_id, self.caller_turns),
                        text: said,
                        language: Some(language),
                        dtmf: String::new(),
                    });
                    return;
                }
                let next = self.conversation.after_payment(&self.ctx, language);
                self.say_after_current(next.into());
            }
        }
    }

    /// Hands the promised WhatsApp payment link to the WhatsApp runtime
    /// (without waiting: a full queue drops it, with a warning).
    pub(super) fn send_payment_link(&mut self) {
        let (Some((appointment_id, amount, lang)), Some(phone)) =
            (self.hold_for, self.ctx.caller.clone())
        else {
            return;
        };
        let Some(links) = &self.payment_links else {
            info!("payment link promised but no WhatsApp runtime on this node");
            return;
        };
        let request = PaymentLinkRequest {
            tenant: self.ctx.tenant.slug.clone(),
            phone,
            appointment_id,
            amount,
            lang,
        };
        match links.try_send(request) {
            Ok(()) => info!(appointment = %appointment_id, "payment link to follow on WhatsApp"),
            Err(e) => warn!(error = %e, "payment link not queued"),
        }
    }
}
