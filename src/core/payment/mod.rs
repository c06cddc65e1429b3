//! Payment decisions, kept pure so that the awkward timing of a payment (a
//! caller waiting on the line, a callback that arrives late or twice, a chat
//! customer who wanders off) can be tested with a virtual clock.
//!
//! * [`callback`]: what one callback does to a payment (duplicates, late,
//!   conflicting callbacks), with the reason when it does nothing.
//! * [`outcome`]: what a provider result means, and the forward-only order of
//!   payment statuses that makes replayed callbacks harmless.
//! * [`hold`]: the STK hold on a voice call.
//! * [`chat`]: paying inside a chat (M-Pesa push or a PesaPal link), with its
//!   nudge and abandon deadlines.
//! * [`reply`]: what a customer means while a prompt is pending (cancel,
//!   resend, not received, paid, card, later, another number, wait), read
//!   for both machines.
//!
//! Both machines follow the core contract: `handle_input(..)`, then drain
//! `poll_output()`; time is always an argument and timers live in a named
//! table.

pub mod callback;
pub mod chat;
pub mod hold;
pub mod outcome;
pub mod reply;

pub use outcome::{FailureReason, PaymentOutcome, PaymentStatus};

/// Who takes a payment: M-Pesa (an STK prompt on the customer's phone,
/// through Daraja) or PesaPal (a link the customer pays at). The
/// `payments.provider` and `payment_routing.provider` column values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Mpesa,
    Pesapal,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mpesa => "mpesa",
            Self::Pesapal => "pesapal",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "mpesa" => Some(Self::Mpesa),
            "pesapal" => Some(Self::Pesapal),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
