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
//!
//! Both machines follow the core contract: `handle_input(..)`, then drain
//! `poll_output()`; time is always an argument and timers live in a named
//! table.

pub mod callback;
pub mod chat;
pub mod hold;
pub mod outcome;

pub use outcome::{FailureReason, PaymentOutcome, PaymentStatus};
