//! WhatsApp Cloud API: the webhook codec (signature, inbound messages and
//! statuses) and the Graph API client for outbound messages.
//!
//! The codec is pure: bytes in, typed events out, so the HTTP route can
//! verify the signature over the exact raw body before anything is parsed
//! (PROTOCOLS.md 2, 8.1).

pub mod client;
pub mod codec;
pub mod outbound;

pub use client::{GraphClient, WhatsAppError};
pub use codec::{
    InboundKind, InboundMessage, SignatureError, StatusEvent, WebhookEvent, parse_webhook, sign,
    verify_signature,
};
