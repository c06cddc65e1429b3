//! Ratiba conversation engine.
//!
//! The crate is layered (see `DESIGN.md` in the shared docs):
//!
//! * [`core`]: pure, sans-IO logic. Time is an argument; one way in
//!   (`handle_input`) and one way out (`poll_output`). No tokio, sqlx, reqwest
//!   or axum in there.
//! * [`adapters`]: translate provider wire formats to core types and back.
//! * [`storage`]: Postgres, always through a tenant handle.
//! * [`runtime`]: the async shell that owns one core machine per call or
//!   thread and performs its effects.
//! * [`http`]: the axum router, websockets and webhooks.
//! * [`cli`]: the command line of the `ratiba` binary.

pub mod adapters;
pub mod cli;
pub mod config;
pub mod core;
pub mod http;
pub mod runtime;
pub mod storage;
