//! Provider results mapped onto our payment statuses.
//!
//! Statuses only move forward (`initiated -> pending -> final`), and a final
//! status never changes, with one exception decided in
//! [`super::callback`]: a success with a receipt after a failure completes
//! the payment (the customer paid after all). That rule is one of the three
//! idempotency layers: a duplicate, replayed or out-of-order callback cannot
//! undo or repeat an outcome.

use std::fmt;

/// The `payments.status` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentStatus {
    Initiated,
    Pending,
    Completed,
    Failed,
    Timeout,
    CancelledByCustomer,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initiated => "initiated",
            Self::Pending => "pending",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Timeout => "timeout",
            Self::CancelledByCustomer => "cancelled_by_customer",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "initiated" => Self::Initiated,
            "pending" => Self::Pending,
            "completed" => Self::Completed,
            "failed" => Self::Failed,
            "timeout" => Self::Timeout,
            "cancelled_by_customer" => Self::CancelledByCustomer,
            _ => return None,
        })
    }

    pub fn is_final(self) -> bool {
        self.rank() == 2
    }

    fn rank(self) -> u8 {
        match self {
            Self::Initiated => 0,
            Self::Pending => 1,
            _ => 2,
        }
    }

    /// Whether a row in `self` may be moved to `next`. Only strictly forward
    /// moves are allowed; a final status is never left.
    pub fn can_move_to(self, next: PaymentStatus) -> bool {
        next.rank() > self.rank()
    }

    /// The appointment `payment_status` that follows a payment in this
    /// status: paid once completed, pending while a payment is under way or
    /// its result is unknown, unpaid after a definite failure.
    pub fn appointment_payment_status(self) -> &'static str {
        match self {
            Self::Completed => "paid",
            Self::Initiated | Self::Pending | Self::Timeout => "pending",
            Self::Failed | Self::CancelledByCustomer => "unpaid",
        }
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a payment failed, as far as the caller needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureReason {
    WrongPin,
    InsufficientFunds,
    /// Any other provider failure (busy, expired, prompt not sent, ...), with
    /// the provider's code.
    Other(i64),
}

/// The final result of one payment attempt.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PaymentOutcome {
    /// `receipt` is the provider's confirmation code; an STK query confirms a
    /// success without one (the callback carries it).
    Completed {
        receipt: Option<String>,
    },
    CancelledByCustomer,
    /// The customer's phone did not answer the prompt in time (1037). Money
    /// did not move.
    Timeout,
    Failed(FailureReason),
}

impl PaymentOutcome {
    /// Maps a Daraja `ResultCode` (from a callback or an STK query).
    pub fn from_daraja(result_code: i64, receipt: Option<String>) -> Self {
        match result_code {
            0 => Self::Completed {
                receipt: receipt.filter(|r| !r.is_empty()),
            },
            1032 => Self::CancelledByCustomer,
            1037 => Self::Timeout,
            2001 => Self::Failed(FailureReason::WrongPin),
            1 => Self::Failed(FailureReason::InsufficientFunds),
            other => Self::Failed(FailureReason::Other(other)),
        }
    }

    pub fn status(&self) -> PaymentStatus {
        match self {
            Self::Completed { .. } => PaymentStatus::Completed,
            Self::CancelledByCustomer => PaymentStatus::CancelledByCustomer,
            Self::Timeout => PaymentStatus::Timeout,
            Self::Failed(_) => PaymentStatus::Failed,
        }
    }

    /// The Daraja-style result code of this outcome, so it can travel (in a
    /// notification) and be mapped back with [`Self::from_daraja`].
    pub fn result_code(&self) -> i64 {
        match self {
            Self::Completed { .. } => 0,
            Self::CancelledByCustomer => 1032,
            Self::Timeout => 1037,
            Self::Failed(FailureReason::WrongPin) => 2001,
            Self::Failed(FailureReason::InsufficientFunds) => 1,
            Self::Failed(FailureReason::Other(code)) => *code,
        }
    }

    pub fn receipt(&self) -> Option<&str> {
        match self {
            Self::Completed { receipt } => receipt.as_deref(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daraja_codes_map_to_statuses() {
        let cases = [
            (0, Some("NLJ7RT61SV"), PaymentStatus::Completed),
            (0, None, PaymentStatus::Completed),
            (1032, None, PaymentStatus::CancelledByCustomer),
            (1037, None, PaymentStatus::Timeout),
            (2001, None, PaymentStatus::Failed),
            (1, None, PaymentStatus::Failed),
            (17, None, PaymentStatus::Failed),
            (9999, None, PaymentStatus::Failed),
        ];
        for (code, receipt, want) in cases {
            let got = PaymentOutcome::from_daraja(code, receipt.map(str::to_owned)).status();
            assert_eq!(got, want, "code {code}");
        }
        assert_eq!(
            PaymentOutcome::from_daraja(2001, None),
            PaymentOutcome::Failed(FailureReason::WrongPin)
        );
        assert_eq!(
            PaymentOutcome::from_daraja(1, None),
            PaymentOutcome::Failed(FailureReason::InsufficientFunds)
        );
        for code in [0, 1, 17, 1032, 1037, 2001] {
            let o = PaymentOutcome::from_daraja(code, Some("R1".into()));
            assert_eq!(
                PaymentOutcome::from_daraja(o.result_code(), Some("R1".into())),
                o
            );
        }
    }

    #[test]
    fn statuses_only_move_forward() {
        use PaymentStatus::*;
        let all = [
            Initiated,
            Pending,
            Completed,
            Failed,
            Timeout,
            CancelledByCustomer,
        ];
        for from in all {
            for to in all {
                let allowed = from.can_move_to(to);
                let expected = match (from, to) {
                    (Initiated, Pending) => true,
                    (Initiated | Pending, t) => t.is_final(),
                    _ => false,
                };
                assert_eq!(allowed, expected, "{from} -> {to}");
            }
            assert_eq!(PaymentStatus::parse(from.as_str()), Some(from));
        }
    }

    #[test]
    fn appointment_follows_payment() {
        assert_eq!(
            PaymentStatus::Completed.appointment_payment_status(),
            "paid"
        );
        assert_eq!(
            PaymentStatus::Timeout.appointment_payment_status(),
            "pending"
        );
        assert_eq!(PaymentStatus::Failed.appointment_payment_status(), "unpaid");
    }
}
