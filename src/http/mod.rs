//! The HTTP surface: router, websockets, webhooks.
//!
//! [`router`] builds the whole axum app from an [`AppState`]; each area adds
//! its routes here and its handlers in its own module. Handlers never panic
//! on input from outside: they answer 4xx for the caller's mistakes and log
//! (not send) the details of ours.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::config::Settings;
use crate::runtime::shutdown::Shutdown;
use crate::storage::{Db, Vault};

pub mod admin;
mod call_page;
pub mod health;
pub mod media;
pub mod media_auth;
pub mod meta;
pub mod metrics;
pub mod payments;
mod voice;
pub mod whatsapp;
pub mod widget;

/// Largest request body we accept (webhooks and callbacks are small).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    /// Encrypts and decrypts credential columns.
    pub vault: Vault,
    /// Triggered when the process is stopping: stop taking new work.
    pub shutdown: Shutdown,
    /// How long /readyz waits for the database before answering 503.
    pub readiness_timeout: Duration,
}

impl AppState {
    pub fn new(db: Db, settings: Arc<Settings>, vault: Vault, shutdown: Shutdown) -> Self {
        Self {
            db,
            settings,
            vault,
            shutdown,
            readiness_timeout: Duration::from_secs(2),
        }
    }
}

/// The engine's HTTP app (chats take no payments).
pub fn router(state: AppState) -> Router {
    router_with_payments(state, None)
}

/// The engine's HTTP app; WhatsApp and web chats take payments through
/// `payments`.
pub fn router_with_payments(state: AppState, payments: Option<whatsapp::ChatPayments>) -> Router {
    let config = whatsapp::WhatsAppConfig::from_app(&state);
    let widget = widget::router(
        state.db.clone(),
        config.service.clone(),
        state
            .settings
            .core
            .public_base_url
            .as_ref()
            .is_some_and(|u| u.scheme() == "https"),
        crate::adapters::sms::from_settings(
            &state.settings.sms,
            state.settings.core.is_local_dev(),
        ),
        payments.as_ref().map(|p| p.service.clone()),
    );
    let (whatsapp, sender) = whatsapp::router_and_sender(config, payments, Default::default());
    let admin = admin::router(admin::AdminState::new(
        state.db.clone(),
        Some(sender),
        state.vault.clone(),
    ));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
        .merge(whatsapp)
        .merge(widget)
        .merge(admin)
}
