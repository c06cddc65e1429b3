//! Who is calling: the bearer token, checked against
//! public.admin_api_tokens on every request (hashed; expiry, revocation and
//! the admin's deactivation take effect at once), and the request-reading
//! extractors whose failures come back in the API's error shape.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::Utc;
use uuid::Uuid;

use super::AdminState;
use super::error::AppError;
use crate::core::throttle::FailureLimiter;
use crate::storage::admin::Actor;
use crate::storage::admin::review::QueueScope;
use crate::storage::admin::tokens::{self, Principal};
use crate::storage::{TenantHandle, TenantRecord};

/// A JSON body; a malformed one is a 400/422 in the API's shape.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

/// Path parameters; a malformed one is a 400 in the API's shape.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);

/// Query parameters; malformed ones are a 400 in the API's shape.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

/// Any valid token.
pub struct Caller(pub Principal);

fn lock(state: &AdminState) -> std::sync::MutexGuard<'_, FailureLimiter<IpAddr>> {
    // The counts stay usable after a panic elsewhere.
    state
        .auth_failures
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// 429 while `peer` has used up its failed attempts.
fn check_failures(state: &AdminState, peer: IpAddr, now: Instant) -> Result<(), AppError> {
    lock(state).check(&peer, now).map_err(|wait| {
        tracing::info!(peer = %peer, "admin API: too many failed bearer attempts");
        AppError::TooManyFailures {
            retry_after_secs: wait.as_secs().max(1),
        }
    })
}

impl FromRequestParts<AdminState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AdminState,
    ) -> Result<Self, Self::Rejection> {
        // The server provides the peer address (ConnectInfo); without it
        // every caller shares one count.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED), |c| c.0.ip());
        let now = Instant::now();
        check_failures(state, peer, now)?;
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim);
        let principal = match token {
            Some(t) => tokens::authenticate(&state.db, t, Utc::now()).await?,
            None => None,
        };
        match principal {
            Some(p) => Ok(Caller(p)),
            None => {
                lock(state).failed(&peer, now);
                Err(AppError::Unauthorized)
            }
        }
    }
}

impl Caller {
    /// Whose review-queue rows this caller sees, and the id recorded as
    /// reviewed_by (the admin, or the platform token).
    pub fn queue_scope(&self) -> (QueueScope, Uuid) {
        match &self.0 {
            Principal::Platform { token_id } => (QueueScope::Platform, *token_id),
            Principal::Tenant {
                admin_id, tenant, ..
            } => (
                QueueScope::Tenant {
                    id: tenant.id,
                    whatsapp_phone_number_id: tenant.whatsapp_phone_number_id.clone(),
                },
                *admin_id,
            ),
        }
    }
}

/// A tenant token: one admin of one tenant.
pub struct TenantCaller {
    pub tenant: Box<TenantRecord>,
    pub admin_id: Uuid,
    pub handle: TenantHandle,
}

impl TenantCaller {
    /// The admin, for audit rows.
    pub fn actor(&self) -> Actor {
        Actor {
            admin_id: Some(self.admin_id),
        }
    }

    /// The tenant's time zone (Nairobi when unset or unknown).
    pub fn tz(&self) -> chrono_tz::Tz {
        self.tenant
            .timezone
            .parse()
            .unwrap_or(chrono_tz::Africa::Nairobi)
    }
}

impl FromRequestParts<AdminState> for TenantCaller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AdminState,
    ) -> Result<Self, Self::Rejection> {
        match Caller::from_request_parts(parts, state).await?.0 {
            Principal::Tenant {
                admin_id, tenant, ..
            } => Ok(TenantCaller {
                handle: state.db.tenant(&tenant.slug),
                tenant,
                admin_id,
            }),
            Principal::Platform { .. } => Err(AppError::Forbidden(
                "a platform token has no tenant; use a tenant admin's token",
            )),
        }
    }
}

/// A platform token (onboarding).
pub struct PlatformCaller {
    pub token_id: Uuid,
}

impl FromRequestParts<AdminState> for PlatformCaller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AdminState,
    ) -> Result<Self, Self::Rejection> {
        match Caller::from_request_parts(parts, state).await?.0 {
            Principal::Platform { token_id } => Ok(PlatformCaller { token_id }),
            Principal::Tenant { .. } => Err(AppError::Forbidden("this needs a platform token")),
        }
    }
}
