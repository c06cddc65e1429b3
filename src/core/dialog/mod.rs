//! The conversation's decisions, shared by every channel (WhatsApp text and
//! phone calls). Understanding is rule-based and works without a model:
//! [`text`] (tokens, language), [`intent`], [`when`] (dates and times),
//! [`numbers`], [`catalog`] (fuzzy service and staff names).

pub mod catalog;
pub mod expect;
pub mod handoff;
pub mod intent;
pub mod lexicon;
pub mod machine;
pub mod names;
pub mod numbers;
pub mod personality;
pub mod say;
pub mod text;
pub mod when;

#[cfg(test)]
mod tests;

pub use expect::expecting;
pub use machine::{
    Action, Analysis, AppointmentSummary, Channel, Choice, Customer, Dialog, DialogConfig,
    DialogError, DialogState, HandoffReason, Input, Output, Reply, Snippet, Step, Turn,
    WriteFailure,
};
pub use text::Lang;
