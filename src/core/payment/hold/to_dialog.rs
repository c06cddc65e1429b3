//! What the hold cannot settle and leaves to the dialog: a change to the
//! booking, and a payment problem that only a person can look into.
//!
//! A change ends the hold the way a card, a later payment or another payer
//! does (the hold cannot take those either): it stops waiting, says so,
//! and a payment link follows on WhatsApp; the booking stays pending and a
//! prompt already on the phone may still be paid. The caller's words then
//! go to the dialog, which makes the change.
//!
//! A problem (money taken with no confirmation, paid twice, the wrong
//! amount) ends the hold with no link, which could only be paid once more.
//! The dialog takes the caller's words and hands the call to a person: it
//! says so (put through, or a call back promised), and its hand-off is
//! recorded and the team told like any other.

use super::{HoldOutput, HoldResult, LinkBecause, StkHold};

impl StkHold {
    /// The caller changes the booking while the prompt is pending.
    pub(super) fn change_instead(&mut self, said: String) {
        self.link_instead(LinkBecause::Change);
        self.hand_to_dialog(said);
    }

    /// The caller reports a payment gone wrong.
    pub(super) fn problem_for_a_person(&mut self, said: String) {
        self.clear_all();
        self.out.push_back(HoldOutput::LeaveHold);
        self.finish(HoldResult::PaymentProblem);
        self.hand_to_dialog(said);
    }

    /// The caller's words go to the dialog, just before the hold's
    /// [`HoldOutput::Finished`], so that the call answers them instead of
    /// going on from the payment.
    fn hand_to_dialog(&mut self, said: String) {
        let at = self
            .out
            .iter()
            .position(|o| matches!(o, HoldOutput::Finished(_)))
            .unwrap_or(self.out.len());
        self.out.insert(at, HoldOutput::ForDialog(said));
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::super::{HoldConfig, HoldInput, Prompt};
    use super::*;
    use crate::core::ids::Money;

    /// A hold waiting for the PIN, then `said`; every output but timeouts.
    fn holding_then(said: &str) -> (StkHold, Vec<HoldOutput>) {
        let mut hold = StkHold::new(HoldConfig::from_tenant(90), Money::kes(50_000));
        let t0 = Instant::now();
        let mut got = Vec::new();
        for (secs, input) in [
            (0, HoldInput::Start),
            (2, HoldInput::CallerSaid("yes".into())),
            (3, HoldInput::PushAccepted),
            (10, HoldInput::CallerSaid(said.into())),
        ] {
            hold.handle_input(input, t0 + Duration::from_secs(secs));
            got.clear();
            while let Some(o) = hold.poll_output() {
                if matches!(o, HoldOutput::Timeout(_)) {
                    break;
                }
                got.push(o);
            }
        }
        (hold, got)
    }

    #[test]
    fn a_change_leaves_with_a_link_and_goes_to_the_dialog() {
        for said in [
            "sorry, can we do 3pm instead",
            "ngoja, tubadilishe iwe jumamosi",
            "actually make it a pedicure",
        ] {
            let (mut hold, got) = holding_then(said);
            assert_eq!(
                got,
                vec![
                    HoldOutput::LeaveHold,
                    HoldOutput::Say(Prompt::LinkInstead {
                        because: LinkBecause::Change
                    }),
                    HoldOutput::SendPaymentLink,
                    HoldOutput::ForDialog(said.into()),
                    HoldOutput::Finished(HoldResult::PayLater),
                ],
                "{said}"
            );
            assert!(hold.is_done());
            assert_eq!(hold.poll_output(), None, "no timer left: {said}");
        }
    }

    #[test]
    fn a_problem_goes_to_the_dialog_with_no_link() {
        for said in [
            "pesa zimekatwa lakini hakuna message ya confirmation",
            "i think i paid two times",
            "you took 2000 instead of 1500",
        ] {
            let (mut hold, got) = holding_then(said);
            assert_eq!(
                got,
                vec![
                    HoldOutput::LeaveHold,
                    HoldOutput::ForDialog(said.into()),
                    HoldOutput::Finished(HoldResult::PaymentProblem),
                ],
                "{said}"
            );
            assert!(hold.is_done());
            assert_eq!(hold.poll_output(), None, "no timer left: {said}");
        }
    }

    #[test]
    fn the_change_and_problem_texts_exist_in_both_languages() {
        let p = Prompt::LinkInstead {
            because: LinkBecause::Change,
        };
        assert!(p.text(crate::core::ids::Lang::En).contains("change"));
        assert!(p.text(crate::core::ids::Lang::Sw).contains("Tubadilishe"));
    }
}
