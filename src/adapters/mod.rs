//! Adapters translate between provider wire formats and core types.
pub mod telephony;
pub mod payments;
