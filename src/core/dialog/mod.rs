//! The conversation's decisions, shared by every channel (WhatsApp text and
//! phone calls). Understanding is rule-based and works without a model:
//! [`text`] (tokens, language), [`intent`], [`when`] (dates and times),
//! [`numbers`], [`catalog`] (fuzzy service and staff names).

pub mod catalog;
pub mod intent;
pub mod numbers;
pub mod text;
pub mod when;
