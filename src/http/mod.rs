//! The HTTP surface: router, websockets, webhooks.
