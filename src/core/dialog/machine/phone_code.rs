//! The phone check of a web booking (tenants.phone_otp_required): after
//! the number, a 6-digit code sent to it by SMS, then the booking. The
//! code is drawn, stored (hashed) and sent by the runtime
//! ([`Action::SendPhoneCode`]) and judged there against the stored hash
//! ([`Action::CheckPhoneCode`], rules in [`crate::core::phone_check`]);
//! this is the conversation around it. Also: a customer arriving from
//! another channel with the chat's context ([`Input::Resumed`]).

use super::confirm::phone_in;
use super::*;
use crate::core::ids::Pii;
use crate::core::phone_check::{CodeCheck, CodeRefused, code_in, last_three};

/// The quick reply that asks for a new code.
pub const RESEND_CHOICE: &str = "resend";

impl Dialog<'_> {
    /// The number a web customer gave, proven by a code first when the
    /// tenant wants it.
    pub(super) fn phone_given(&mut self, turn: &Turn, c: ConfirmSlot, phone: PhoneNumber) {
        if self.config.phone_otp_required {
            self.act(Action::SendPhoneCode {
                phone: phone.clone(),
            });
            self.state.step = Step::AwaitCode(PhoneCode { slot: c, phone });
            return;
        }
        self.act(Action::RememberPhone { phone });
        self.phone_known = true;
        let u = self.understand(turn, Tokens::new(""));
        self.book_confirmed(&u, c);
    }

    /// A turn while the code is asked for: the code is checked; "resend"
    /// (or the button) sends a new one; another number gets a code of its
    /// own; words with no digits are taken as at the confirmation
    /// (returned as the step to handle them in).
    pub(super) fn enter_code(
        &mut self,
        turn: &Turn,
        p: PhoneCode,
        detected: DetectedLang,
    ) -> Option<Step> {
        let resend = turn.choice_id.as_deref() == Some(RESEND_CHOICE)
            || Tokens::new(&turn.text).has_any(&["resend", "new code", "send again", "tuma tena"]);
        let digits = turn.text.chars().filter(char::is_ascii_digit).count();
        if !resend && digits == 0 {
            return Some(Step::ConfirmSlot(p.slot));
        }
        self.analysis(detected, None, true);
        if resend {
            self.act(Action::SendPhoneCode {
                phone: p.phone.clone(),
            });
            self.state.step = Step::AwaitCode(p);
        } else if let Some(code) = code_in(&turn.text) {
            self.act(Action::CheckPhoneCode {
                phone: p.phone.clone(),
                code: Pii(code),
            });
            self.state.step = Step::AwaitCode(p);
        } else if let Some(phone) = phone_in(&turn.text).filter(|_| digits >= 9) {
            self.act(Action::SendPhoneCode {
                phone: phone.clone(),
            });
            self.state.step = Step::AwaitCode(PhoneCode {
                slot: p.slot,
                phone,
            });
        } else {
            self.say(Msg::CodeAgain.text(self.state.lang));
            self.resend_choice();
            self.state.step = Step::EnterCode(p);
        }
        None
    }

    pub(super) fn on_code_sent(&mut self, p: PhoneCode, result: Result<(), CodeRefused>) {
        let lang = self.state.lang;
        match result {
            Ok(()) => {
                let to = last_three(&p.phone);
                self.say(match lang {
                    Lang::En => format!(
                        "I've sent a 6-digit code by SMS to the number ending {to}. Please type it here to confirm the booking."
                    ),
                    Lang::Sw => format!(
                        "Nimetuma msimbo wa namba sita kwa SMS kwa namba inayoishia {to}. Tafadhali uandike hapa kuthibitisha miadi."
                    ),
                });
            }
            Err(CodeRefused::TooSoon) => self.say(Msg::CodeTooSoon.text(lang)),
            Err(CodeRefused::TooMany) => {
                self.say(Msg::CodeTooMany.text(lang));
                self.state.plan = Plan::default();
                self.state.step = Step::Idle;
                return;
            }
            Err(CodeRefused::Unavailable) => {
                self.say(Msg::CodeUnavailable.text(lang));
                self.state.plan = Plan::default();
                self.state.step = Step::Idle;
                return;
            }
        }
        self.resend_choice();
        self.state.step = Step::EnterCode(p);
    }

    pub(super) fn on_code_checked(&mut self, p: PhoneCode, verdict: CodeCheck) {
        let lang = self.state.lang;
        match verdict {
            CodeCheck::Verified => {
                self.act(Action::RememberPhone { phone: p.phone });
                self.phone_known = true;
                let blank = Turn {
                    text: String::new(),
                    language_hint: None,
                    channel: self.state.channel,
                    customer: Customer::default(),
                    dtmf: None,
                    choice_id: None,
                    force_language: None,
                    now: self.state.now.unwrap_or_default(),
                };
                let u = self.understand(&blank, Tokens::new(""));
                self.book_confirmed(&u, p.slot);
                return;
            }
            CodeCheck::Wrong { left } => self.say(match lang {
                Lang::En => format!(
                    "That code isn't right. Please check the SMS and try again ({left} {} left).",
                    if left == 1 { "try" } else { "tries" }
                ),
                Lang::Sw => format!(
                    "Msimbo huo si sahihi. Tafadhali angalia SMS ujaribu tena (umebaki na majaribio {left})."
                ),
            }),
            CodeCheck::Expired => self.say(Msg::CodeExpired.text(lang)),
            CodeCheck::Locked => self.say(Msg::CodeLocked.text(lang)),
        }
        self.resend_choice();
        self.state.step = Step::EnterCode(p);
    }

    fn resend_choice(&mut self) {
        self.pending_choices.push(Choice {
            id: RESEND_CHOICE.into(),
            title: match self.state.lang {
                Lang::En => "Send a new code",
                Lang::Sw => "Tuma msimbo mpya",
            }
            .into(),
            description: None,
        });
    }

    /// The customer continues here what they started on another channel:
    /// welcomed, and reminded where we were. A number the new channel
    /// proves (WhatsApp) needs no asking or code.
    pub(super) fn resumed(
        &mut self,
        channel: Channel,
        phone_known: bool,
        now: DateTime<Utc>,
        step: Step,
    ) {
        self.state.now = Some(now);
        self.state.channel = channel;
        self.phone_known = phone_known;
        let step = match step {
            Step::CollectPhone(c) if phone_known => Step::ConfirmSlot(c),
            Step::EnterCode(p) | Step::AwaitCode(p) if phone_known => Step::ConfirmSlot(p.slot),
            Step::EnterCode(p) | Step::AwaitCode(p) => Step::CollectPhone(p.slot),
            other => other,
        };
        self.say(Msg::WelcomeBack.text(self.state.lang));
        if matches!(step, Step::Idle) {
            self.say(Msg::HowCanIHelp.text(self.state.lang));
        }
        self.resume(step);
    }
}
