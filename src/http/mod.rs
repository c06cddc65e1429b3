//! The HTTP surface: router, websockets, webhooks.
pub mod media;
pub mod metrics;
