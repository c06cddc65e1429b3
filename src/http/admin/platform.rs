//! Onboarding with a platform token: a tenant, its numbers and its first
//! admin in one call, answered with that admin's token.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::AdminState;
use super::auth::{ApiJson, PlatformCaller};
use super::check;
use super::error::AppError;
use crate::core::ids::{PhoneNumber, TenantSlug};
use crate::storage::admin::tokens::{self, Scope};
use crate::storage::{NewTenant, Vertical};

/// A tenant in the platform's list.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantSummary {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub vertical: String,
    pub status: Option<String>,
    pub voice_number: Option<String>,
    pub whatsapp_phone_number_id: Option<String>,
}

/// Every tenant.
#[utoipa::path(get, path = "/platform/tenants", tag = "platform",
    responses((status = 200, body = Vec<TenantSummary>)))]
pub async fn list_tenants(
    State(state): State<AdminState>,
    _caller: PlatformCaller,
) -> Result<Json<Vec<TenantSummary>>, AppError> {
    let rows = state.db.list_tenants().await?;
    Ok(Json(
        rows.into_iter()
            .map(|t| TenantSummary {
                id: t.id.0,
                slug: t.slug.as_str().to_owned(),
                name: t.name,
                vertical: t.vertical,
                status: t.status,
                voice_number: t.voice_number,
                whatsapp_phone_number_id: t.whatsapp_phone_number_id,
            })
            .collect(),
    ))
}

/// A new business.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Onboard {
    /// Lowercase letters, digits and underscores.
    pub slug: String,
    pub name: String,
    /// spa | salon | barbershop | dental | physio | medical | tutoring | legal
    pub vertical: String,
    pub voice_number: Option<String>,
    /// The WhatsApp Cloud API phone_number_id (digits).
    pub whatsapp_phone_number_id: Option<String>,
    /// The first admin's WhatsApp number.
    pub admin_phone: String,
    /// How long the admin's token lasts, 1 to 365 days (default 30).
    pub token_days: Option<i64>,
}

/// The new tenant and its first admin's token (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct Onboarded {
    pub tenant_id: Uuid,
    pub slug: String,
    pub admin_id: Uuid,
    pub token: String,
    pub token_expires_at: DateTime<Utc>,
}

/// Onboards a tenant (registry row, schema, first admin) and answers with
/// the admin's token; 409 if the slug is taken.
#[utoipa::path(post, path = "/platform/tenants", tag = "platform", request_body = Onboard,
    responses((status = 201, body = Onboarded)))]
pub async fn onboard(
    State(state): State<AdminState>,
    caller: PlatformCaller,
    ApiJson(body): ApiJson<Onboard>,
) -> Result<(StatusCode, Json<Onboarded>), AppError> {
    let slug =
        TenantSlug::parse(body.slug.trim()).map_err(|e| AppError::invalid(format!("slug: {e}")))?;
    let name = check::required("name", &body.name, 255)?;
    let vertical: Vertical = body.vertical.trim().parse()?;
    let admin = PhoneNumber::parse(&body.admin_phone)
        .map_err(|e| AppError::invalid(format!("admin_phone: {e}")))?;
    let days = body.token_days.unwrap_or(30);
    if !(1..=365).contains(&days) {
        return Err(AppError::invalid("token_days must be 1 to 365"));
    }
    let mut new = NewTenant::new(slug, name, vertical);
    new.voice_number = body
        .voice_number
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(PhoneNumber::parse)
        .transpose()
        .map_err(|e| AppError::invalid(format!("voice_number: {e}")))?;
    if let Some(id) = body.whatsapp_phone_number_id.as_deref().map(str::trim) {
        if id.is_empty() || id.len() > 50 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AppError::invalid(
                "whatsapp_phone_number_id must be the numeric Cloud API id",
            ));
        }
        new.whatsapp_phone_number_id = Some(id.to_owned());
    }
    // Onboarding's future is not Send (the migration chain), so it runs on
    // a blocking thread of this runtime.
    let db = state.db.clone();
    let runtime = tokio::runtime::Handle::current();
    let outcome = tokio::task::spawn_blocking(move || runtime.block_on(db.onboard_tenant(&new)))
        .await
        .map_err(|e| {
            AppError::Internal(crate::storage::StorageError::Corrupt(format!(
                "onboarding task: {e}"
            )))
        })??;
    if !outcome.created() {
        return Err(AppError::Conflict("that slug is taken".into()));
    }
    let rec = outcome.into_record();
    let (admin_id, _) = tokens::admin_for_phone(&state.db, rec.id, &admin, true)
        .await?
        .ok_or_else(|| AppError::invalid("admin_phone could not be added"))?;
    let issued = tokens::create(
        &state.db,
        Scope::Tenant {
            tenant: rec.id,
            admin: admin_id,
        },
        Some("onboarding"),
        Utc::now() + Duration::days(days),
    )
    .await?;
    tracing::info!(tenant = %rec.slug, platform_token = %caller.token_id, "tenant onboarded through the API");
    Ok((
        StatusCode::CREATED,
        Json(Onboarded {
            tenant_id: rec.id.0,
            slug: rec.slug.as_str().to_owned(),
            admin_id,
            token: issued.token,
            token_expires_at: issued.expires_at,
        }),
    ))
}
