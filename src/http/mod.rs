//! The HTTP surface: router, websockets, webhooks.
pub mod whatsapp;
