//! Adapters translate between provider wire formats and core types.
pub mod payments;
pub mod telephony;
