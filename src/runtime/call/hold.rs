//! The call's side of a payment hold: starting it when the dialog asks for a
//! payment, doing what it says, and lines said after the current one.

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
        self.hold_prompts_heard = 0;
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
            return;
        };
        let language = self.speech_language();
        match effect {
            CallEffect::Say(text) => {
                self.say_after_current(BotReply::said(
                    crate::adapters::speech::sentences(&text),
                    language,
                    HOLD_PROMPT,
                ));
            }
            CallEffect::EnterHold => self.turns.set_holding(true, self.turns.clock_ms()),
            CallEffect::LeaveHold => self.turns.set_holding(false, self.turns.clock_ms()),
            CallEffect::SendPaymentLink => self.send_payment_link(),
            CallEffect::Finished(result) => {
                info!(result = ?result, "payment hold over");
                self.hold = None;
                self.turns.set_holding(false, self.turns.clock_ms());
                let next = self.conversation.after_payment(&self.ctx, language);
                self.say_after_current(next);
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

    /// The language the bot is speaking in (its last line's).
    pub(super) fn speech_language(&self) -> Lang {
        self.speech
            .as_ref()
            .map(|s| s.language)
            .or_else(|| self.queued_replies.back().map(|r| r.language))
            .unwrap_or(self.last_language)
    }

    /// Speaks `reply` once what the bot is saying now has been heard.
    pub(super) fn say_after_current(&mut self, reply: BotReply) {
        if self.speech.is_some() || !self.queued_replies.is_empty() {
            self.queued_replies.push_back(reply);
        } else {
            self.start_speech(reply, None);
        }
    }
}
