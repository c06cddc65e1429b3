//! The tenant's admins: list, add, deactivate (public.tenant_admins). A
//! deactivated admin's tokens are revoked at once.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::AdminState;
use super::auth::{ApiJson, ApiPath, TenantCaller};
use super::error::AppError;
use crate::core::ids::PhoneNumber;
use crate::storage::admin::admins::{self, AdminRole, TenantAdmin};

/// Every admin of the tenant, inactive ones too.
#[utoipa::path(get, path = "/admins", tag = "admins",
    responses((status = 200, body = Vec<TenantAdmin>)))]
pub async fn list_admins(
    State(state): State<AdminState>,
    caller: TenantCaller,
) -> Result<Json<Vec<TenantAdmin>>, AppError> {
    Ok(Json(admins::list(&state.db, caller.tenant.id).await?))
}

/// A new admin.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewAdmin {
    /// Their WhatsApp number (+2547…, 07…): hand-off notices go there.
    pub phone_number: String,
    /// Default owner.
    pub role: Option<AdminRole>,
}

/// Adds an admin (or makes an inactive one active again).
#[utoipa::path(post, path = "/admins", tag = "admins", request_body = NewAdmin,
    responses((status = 201, body = TenantAdmin)))]
pub async fn add_admin(
    State(state): State<AdminState>,
    caller: TenantCaller,
    ApiJson(body): ApiJson<NewAdmin>,
) -> Result<(StatusCode, Json<TenantAdmin>), AppError> {
    let phone = PhoneNumber::parse(&body.phone_number)
        .map_err(|e| AppError::invalid(format!("phone_number: {e}")))?;
    let row = admins::add(
        &state.db,
        caller.tenant.id,
        &phone,
        body.role.unwrap_or(AdminRole::Owner),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// Deactivates an admin and revokes their tokens. An admin cannot
/// deactivate themself (409).
#[utoipa::path(post, path = "/admins/{id}/deactivate", tag = "admins",
    params(("id" = Uuid, Path, description = "admin id")),
    responses((status = 200, body = TenantAdmin)))]
pub async fn deactivate_admin(
    State(state): State<AdminState>,
    caller: TenantCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<TenantAdmin>, AppError> {
    if id == caller.admin_id {
        return Err(AppError::Conflict(
            "an admin cannot deactivate themself".into(),
        ));
    }
    admins::deactivate(&state.db, caller.tenant.id, id, Utc::now())
        .await?
        .map(Json)
        .ok_or(AppError::NotFound)
}
