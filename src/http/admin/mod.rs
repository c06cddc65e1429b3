//! The admin API: what a business does every day, under `/api/v1/`, JSON,
//! bearer tokens (see [`auth`]), described by an OpenAPI 3.1 document at
//! `GET /api/v1/openapi.json` that is generated from these handlers' types
//! (utoipa): each handler declares its path, parameters, body and answer,
//! and every operation also answers errors in the one [`ErrorBody`] shape.
//!
//! Handlers are thin: check the input, call `crate::storage::admin` (SQL,
//! through the token's tenant handle) or `crate::runtime::handoff`, answer.
//! A tenant token reaches only its own tenant: another tenant's ids are
//! not found (404). See docs/admin-api.md.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::routing::{any, get};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::core::throttle::FailureLimiter;
use crate::runtime::handoff::AdminNotifier;
use crate::storage::{Db, Vault};

pub mod admins;
pub mod auth;
pub mod calendar;
pub mod catalogue;
mod check;
pub mod commissions;
pub mod contacts;
pub mod credentials;
pub mod dials;
pub mod error;
pub mod handoffs;
pub mod imports;
pub mod platform;
pub mod review;

pub use error::{AppError, ErrorBody};

/// Largest request body the admin API takes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// What the admin handlers reach.
#[derive(Clone)]
pub struct AdminState {
    pub db: Db,
    /// Sends a dashboard reply to the customer on WhatsApp (from the
    /// tenant's number); `None`: replies are recorded, not delivered.
    pub sender: Option<Arc<dyn AdminNotifier>>,
    /// Encrypts the credentials written through the API.
    pub vault: Vault,
    /// Failed bearer attempts per client address.
    pub auth_failures: Arc<Mutex<FailureLimiter<IpAddr>>>,
}

/// Failed bearer attempts an address may make per window before it gets
/// 429 until the window ends.
pub const AUTH_FAILURES_PER_WINDOW: u32 = 20;
/// The window of [`AUTH_FAILURES_PER_WINDOW`].
pub const AUTH_FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Addresses tracked at most (bounded memory).
pub const AUTH_FAILURE_ADDRESSES: usize = 10_000;

impl AdminState {
    pub fn new(db: Db, sender: Option<Arc<dyn AdminNotifier>>, vault: Vault) -> Self {
        Self {
            db,
            sender,
            vault,
            auth_failures: Arc::new(Mutex::new(FailureLimiter::new(
                AUTH_FAILURES_PER_WINDOW,
                AUTH_FAILURE_WINDOW,
                AUTH_FAILURE_ADDRESSES,
            ))),
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ratiba admin API",
        description = "What a business does every day: calendar, catalogue, dials, hand-offs, review queues, admins. Bearer tokens from `ratiba admin token create`."
    ),
    modifiers(&Security),
    security(("bearer" = [])),
    components(schemas(ErrorBody)),
    tags(
        (name = "calendar", description = "Appointments"),
        (name = "contacts", description = "Customers and their history"),
        (name = "catalogue", description = "Services, staff, schedules, blocks"),
        (name = "dials", description = "Voice, hand-off, payment and personality dials"),
        (name = "handoffs", description = "Customers waiting for a person"),
        (name = "review", description = "Review queues"),
        (name = "admins", description = "The tenant's admins"),
        (name = "platform", description = "Onboarding (platform token)"),
        (name = "commissions", description = "Commission rules and period closes"),
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every operation also answers errors (4xx, 503) in the one shape.
fn add_error_responses(doc: &mut utoipa::openapi::OpenApi) {
    let error = ResponseBuilder::new()
        .description("An error: 400 malformed request, 401 no valid token, 403 wrong kind of token, 404 not this tenant's, 409 conflict, 422 invalid values, 503 database unavailable")
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                    "ErrorBody",
                ))))
                .build(),
        )
        .build();
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            op.responses
                .responses
                .entry("default".to_owned())
                .or_insert_with(|| RefOr::T(error.clone()));
        }
    }
}

fn api() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(
            calendar::list_appointments,
            calendar::create_appointment
        ))
        .routes(routes!(calendar::get_appointment))
        .routes(routes!(calendar::move_appointment))
        .routes(routes!(calendar::cancel_appointment))
        .routes(routes!(calendar::complete_appointment))
        .routes(routes!(calendar::no_show_appointment))
        .routes(routes!(contacts::list_contacts))
        .routes(routes!(contacts::get_contact))
        .routes(routes!(contacts::contact_interactions))
        .routes(routes!(catalogue::list_services, catalogue::create_service))
        .routes(routes!(
            catalogue::update_service,
            catalogue::deactivate_service
        ))
        .routes(routes!(catalogue::list_staff, catalogue::create_staff))
        .routes(routes!(
            catalogue::update_staff,
            catalogue::deactivate_staff
        ))
        .routes(routes!(
            catalogue::add_staff_service,
            catalogue::remove_staff_service
        ))
        .routes(routes!(catalogue::get_schedule))
        .routes(routes!(
            catalogue::set_schedule_day,
            catalogue::clear_schedule_day
        ))
        .routes(routes!(catalogue::list_blocks, catalogue::create_block))
        .routes(routes!(catalogue::delete_block))
        .routes(routes!(catalogue::list_catalog_audits))
        .routes(routes!(imports::list_imports, imports::create_import))
        .routes(routes!(imports::get_import))
        .routes(routes!(imports::commit_import))
        .routes(routes!(imports::rollback_import))
        .routes(routes!(dials::get_dials, dials::set_dials))
        .routes(routes!(dials::list_dial_audits))
        .routes(routes!(
            credentials::get_credentials,
            credentials::set_credentials
        ))
        .routes(routes!(handoffs::list_handoffs))
        .routes(routes!(handoffs::handoff_messages))
        .routes(routes!(handoffs::claim_handoff))
        .routes(routes!(handoffs::reply_handoff))
        .routes(routes!(handoffs::close_handoff))
        .routes(routes!(review::list_callbacks))
        .routes(routes!(review::resolve_callback))
        .routes(routes!(review::list_quarantine))
        .routes(routes!(review::resolve_quarantined))
        .routes(routes!(admins::list_admins, admins::add_admin))
        .routes(routes!(admins::deactivate_admin))
        .routes(routes!(platform::list_tenants, platform::onboard))
        .merge(commissions::routes())
}

/// The OpenAPI document of the admin API (paths under `/api/v1`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", api())
        .split_for_parts();
    finish(doc)
}

fn finish(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    add_error_responses(&mut doc);
    doc
}

/// The admin API's routes, `/api/v1/...` and `/api/v1/openapi.json`.
pub fn router(state: AdminState) -> Router {
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", api())
        .split_for_parts();
    let doc = Arc::new(finish(doc));
    router
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        // Wrong method on a known path: 405 in the one shape (the Allow
        // header is kept by axum).
        .method_not_allowed_fallback(method_not_allowed)
        // Unknown paths under /api/v1: 404 in the one shape.
        .route("/api/v1", any(not_found))
        .route("/api/v1/", any(not_found))
        .route("/api/v1/{*rest}", any(not_found))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn not_found() -> AppError {
    AppError::NotFound
}

async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}
