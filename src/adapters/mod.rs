//! Adapters translate between provider wire formats and core types.
pub mod payments;
pub mod speech;
pub mod telephony;
pub mod whatsapp;
