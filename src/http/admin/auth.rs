//! Who is calling: the bearer token, checked against
//! public.admin_api_tokens on every request (hashed; expiry, revocation and
//! the admin's deactivation take effect at once), and the request-reading
//! extractors whose failures come back in the API's error shape.

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::Utc;
use uuid::Uuid;

use super::AdminState;
use super::error::AppError;
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

impl FromRequestParts<AdminState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AdminState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or(AppError::Unauthorized)?;
        match tokens::authenticate(&state.db, token, Utc::now()).await? {
            Some(p) => Ok(Caller(p)),
            None => Err(AppError::Unauthorized),
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
