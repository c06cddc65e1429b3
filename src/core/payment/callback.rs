//! What one provider callback (or status query answer) does to a payment:
//! the decision of `storage::payments::apply`, kept pure so that every order
//! of success, failure, duplicate, late and conflicting callbacks can be
//! tested (a property test below).
//!
//! The rules:
//! - a callback already processed, or identical to the stored one, changes
//!   nothing (duplicate);
//! - a callback naming another checkout than the payment's, or a success
//!   whose amount is not the payment's, or whose receipt is already on
//!   another payment, changes nothing and goes to review;
//! - statuses move forward (`initiated -> pending -> final`);
//! - a success *with a receipt* after a failure (a 1032 "cancelled" that the
//!   customer's phone later paid anyway) completes the payment: money moved;
//!   without a receipt it goes to review;
//! - a completed payment without a receipt (confirmed by a query) takes the
//!   receipt of a later success; a second success with another receipt goes
//!   to review (the customer may have paid twice);
//! - anything else after a final status (a late failure, a second failure)
//!   changes nothing.
//!
//! Every "changes nothing" carries its reason, so the shell records it.

use super::outcome::{PaymentOutcome, PaymentStatus};

/// The payment as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentFacts<'a> {
    pub status: PaymentStatus,
    pub checkout_id: Option<&'a str>,
    pub receipt: Option<&'a str>,
    /// The payment's amount in minor units.
    pub amount_minor: i64,
}

/// One callback, as far as the decision needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackFacts<'a> {
    pub outcome: &'a PaymentOutcome,
    pub checkout_id: Option<&'a str>,
    /// The amount the provider says moved (minor units), when it says.
    pub amount_minor: Option<i64>,
    /// Its key is in `processed_callbacks`, or it equals the stored payload.
    pub already_processed: bool,
    /// Its receipt is recorded on another payment.
    pub receipt_taken: bool,
}

/// Why a callback changed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoChange {
    Duplicate,
    CheckoutMismatch,
    AmountMismatch,
    ReceiptConflict,
    /// A failure (or a second failure) after the payment was final.
    LateAfterFinal(PaymentStatus),
    /// A success without a receipt after a failure.
    LateSuccessWithoutReceipt(PaymentStatus),
    /// A success with another receipt on a completed payment.
    SecondReceipt,
}

impl NoChange {
    /// The reason as recorded (`payment_callbacks_unrouted.reason`).
    pub fn reason(self) -> String {
        match self {
            Self::Duplicate => "duplicate".into(),
            Self::CheckoutMismatch => "checkout_mismatch".into(),
            Self::AmountMismatch => "amount_mismatch".into(),
            Self::ReceiptConflict => "receipt_used_on_another_payment".into(),
            Self::LateAfterFinal(s) => format!("late_after_{s}"),
            Self::LateSuccessWithoutReceipt(s) => format!("late_success_without_receipt_after_{s}"),
            Self::SecondReceipt => "second_receipt_on_completed_payment".into(),
        }
    }

    /// Whether someone should look at it (money may have moved without
    /// being recorded), or it is only a trace.
    pub fn needs_review(self) -> bool {
        match self {
            Self::Duplicate | Self::LateAfterFinal(_) => false,
            Self::CheckoutMismatch
            | Self::AmountMismatch
            | Self::ReceiptConflict
            | Self::LateSuccessWithoutReceipt(_)
            | Self::SecondReceipt => true,
        }
    }
}

/// What to do with a callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Move the payment to `status` (and record the callback).
    Record {
        status: PaymentStatus,
        /// A success overriding a failure: recorded, and left for review.
        overrides: Option<PaymentStatus>,
    },
    /// Add the callback's receipt to a completed payment that has none.
    AddReceipt,
    NoChange(NoChange),
}

/// The decision for `callback` on `payment`.
pub fn decide(payment: PaymentFacts<'_>, callback: CallbackFacts<'_>) -> Decision {
    use PaymentStatus::{Completed, Initiated, Pending};
    if callback.already_processed {
        return Decision::NoChange(NoChange::Duplicate);
    }
    if let (Some(stored), Some(given)) = (payment.checkout_id, callback.checkout_id)
        && stored != given
    {
        return Decision::NoChange(NoChange::CheckoutMismatch);
    }
    let next = callback.outcome.status();
    let receipt = callback.outcome.receipt();
    if next == Completed {
        if callback
            .amount_minor
            .is_some_and(|a| a != payment.amount_minor)
        {
            return Decision::NoChange(NoChange::AmountMismatch);
        }
        if receipt.is_some() && callback.receipt_taken {
            return Decision::NoChange(NoChange::ReceiptConflict);
        }
    }
    match (payment.status, next) {
        (Initiated | Pending, next) => Decision::Record {
            status: next,
            overrides: None,
        },
        (Completed, Completed) => match (payment.receipt, receipt) {
            (None, Some(_)) => Decision::AddReceipt,
            (Some(ours), Some(theirs)) if ours != theirs => {
                Decision::NoChange(NoChange::SecondReceipt)
            }
            _ => Decision::NoChange(NoChange::Duplicate),
        },
        (failed, Completed) => match receipt {
            Some(_) => Decision::Record {
                status: Completed,
                overrides: Some(failed),
            },
            None => Decision::NoChange(NoChange::LateSuccessWithoutReceipt(failed)),
        },
        (current, _) => Decision::NoChange(NoChange::LateAfterFinal(current)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::payment::FailureReason;
    use proptest::prelude::*;

    const AMOUNT: i64 = 120_000;

    fn pay(status: PaymentStatus, receipt: Option<&str>) -> PaymentFacts<'_> {
        PaymentFacts {
            status,
            checkout_id: Some("ws_CO_1"),
            receipt,
            amount_minor: AMOUNT,
        }
    }

    fn cb(outcome: &PaymentOutcome) -> CallbackFacts<'_> {
        CallbackFacts {
            outcome,
            checkout_id: Some("ws_CO_1"),
            amount_minor: Some(AMOUNT),
            already_processed: false,
            receipt_taken: false,
        }
    }

    fn success(r: &str) -> PaymentOutcome {
        PaymentOutcome::Completed {
            receipt: Some(r.into()),
        }
    }

    #[test]
    fn the_cases_of_the_issue() {
        use PaymentStatus::*;
        let ok = success("RCPT1");
        // Amount=1 on a KES 1,200 payment: not completed, for review.
        let one_shilling = CallbackFacts {
            amount_minor: Some(100),
            ..cb(&ok)
        };
        assert_eq!(
            decide(pay(Pending, None), one_shilling),
            Decision::NoChange(NoChange::AmountMismatch)
        );
        // Another CheckoutRequestID.
        let other = CallbackFacts {
            checkout_id: Some("ws_CO_2"),
            ..cb(&ok)
        };
        assert_eq!(
            decide(pay(Pending, None), other),
            Decision::NoChange(NoChange::CheckoutMismatch)
        );
        // A receipt already on another payment.
        let taken = CallbackFacts {
            receipt_taken: true,
            ..cb(&ok)
        };
        assert_eq!(
            decide(pay(Pending, None), taken),
            Decision::NoChange(NoChange::ReceiptConflict)
        );
        // A success with a receipt after 1032: completes.
        assert_eq!(
            decide(pay(CancelledByCustomer, None), cb(&ok)),
            Decision::Record {
                status: Completed,
                overrides: Some(CancelledByCustomer)
            }
        );
        // Without a receipt: review.
        let bare = PaymentOutcome::Completed { receipt: None };
        assert_eq!(
            decide(pay(Failed, None), cb(&bare)),
            Decision::NoChange(NoChange::LateSuccessWithoutReceipt(Failed))
        );
        // A late failure after a success: a trace only.
        let cancelled = PaymentOutcome::CancelledByCustomer;
        let d = decide(pay(Completed, Some("RCPT1")), cb(&cancelled));
        assert_eq!(d, Decision::NoChange(NoChange::LateAfterFinal(Completed)));
        assert!(!NoChange::LateAfterFinal(Completed).needs_review());
        assert_eq!(decide(pay(Completed, None), cb(&ok)), Decision::AddReceipt);
        assert_eq!(
            decide(pay(Completed, Some("RCPT0")), cb(&ok)),
            Decision::NoChange(NoChange::SecondReceipt)
        );
        let dup = CallbackFacts {
            already_processed: true,
            ..cb(&ok)
        };
        assert_eq!(
            decide(pay(Pending, None), dup),
            Decision::NoChange(NoChange::Duplicate)
        );
        assert_eq!(
            NoChange::LateSuccessWithoutReceipt(CancelledByCustomer).reason(),
            "late_success_without_receipt_after_cancelled_by_customer"
        );
    }

    /// One callback in a generated run.
    #[derive(Debug, Clone)]
    struct Cb {
        outcome: PaymentOutcome,
        checkout: Option<&'static str>,
        amount: Option<i64>,
        key: u8,
    }

    fn outcome_strategy() -> impl Strategy<Value = PaymentOutcome> {
        prop_oneof![
            prop_oneof![Just("R1"), Just("R2"), Just("R3")].prop_map(|r| {
                PaymentOutcome::Completed {
                    receipt: Some(r.to_owned()),
                }
            }),
            Just(PaymentOutcome::Completed { receipt: None }),
            Just(PaymentOutcome::CancelledByCustomer),
            Just(PaymentOutcome::Timeout),
            Just(PaymentOutcome::Failed(FailureReason::WrongPin)),
            Just(PaymentOutcome::Failed(FailureReason::Other(17))),
        ]
    }

    fn callback_strategy() -> impl Strategy<Value = Cb> {
        (
            outcome_strategy(),
            prop_oneof![Just(Some("ws_CO_1")), Just(Some("ws_CO_2")), Just(None)],
            prop_oneof![Just(Some(AMOUNT)), Just(Some(100)), Just(None)],
            0u8..4,
        )
            .prop_map(|(outcome, checkout, amount, key)| Cb {
                outcome,
                checkout,
                amount,
                key,
            })
    }

    proptest! {
        /// Any order of callbacks (duplicates by key, late, conflicting):
        /// at most one completion, never from a mismatched amount, checkout
        /// or a receipt of another payment; every callback is either a
        /// change or a recorded no-change; once completed, the payment
        /// stays completed with one receipt.
        #[test]
        fn any_order_of_callbacks_completes_at_most_once(
            run in proptest::collection::vec(callback_strategy(), 1..12),
            taken in proptest::option::of(prop_oneof![Just("R1"), Just("R2"), Just("R3")]),
        ) {
            let mut status = PaymentStatus::Pending;
            let mut receipt: Option<String> = None;
            let mut processed: Vec<(u8, i64)> = Vec::new();
            let mut completions = 0;
            let mut traces = 0;
            for c in &run {
                let key = (c.key, c.outcome.result_code());
                let facts = CallbackFacts {
                    outcome: &c.outcome,
                    checkout_id: c.checkout,
                    amount_minor: c.amount,
                    already_processed: processed.contains(&key),
                    receipt_taken: c.outcome.receipt().is_some() && c.outcome.receipt() == taken,
                };
                let payment = PaymentFacts {
                    status,
                    checkout_id: Some("ws_CO_1"),
                    receipt: receipt.as_deref(),
                    amount_minor: AMOUNT,
                };
                match decide(payment, facts) {
                    Decision::Record { status: next, overrides } => {
                        prop_assert!(status.can_move_to(next) || (overrides == Some(status) && next == PaymentStatus::Completed));
                        prop_assert_ne!(status, PaymentStatus::Completed, "a completed payment never moves");
                        if next == PaymentStatus::Completed {
                            completions += 1;
                            prop_assert!(c.amount.is_none_or(|a| a == AMOUNT), "amount mismatched");
                            prop_assert_ne!(c.checkout, Some("ws_CO_2"));
                            prop_assert!(c.outcome.receipt().is_none() || c.outcome.receipt() != taken);
                            receipt = c.outcome.receipt().map(str::to_owned);
                        }
                        status = next;
                        processed.push(key);
                    }
                    Decision::AddReceipt => {
                        prop_assert_eq!(status, PaymentStatus::Completed);
                        prop_assert!(receipt.is_none());
                        receipt = c.outcome.receipt().map(str::to_owned);
                        prop_assert!(receipt.is_some());
                        processed.push(key);
                    }
                    Decision::NoChange(why) => {
                        prop_assert!(!why.reason().is_empty());
                        traces += 1;
                    }
                }
            }
            prop_assert!(completions <= 1, "completed {} times", completions);
            prop_assert_eq!(traces + processed.len(), run.len(), "every callback leaves a trace");
            if completions == 1 {
                prop_assert_eq!(status, PaymentStatus::Completed);
            }
        }
    }
}
