//! Adapters translate between provider wire formats and core types.
pub mod llm;
pub mod meta;
pub mod payments;
pub mod sms;
pub mod speech;
pub mod telephony;
pub mod whatsapp;
