//! A tenant's admins (public.tenant_admins): list, add, deactivate.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::core::ids::{PhoneNumber, TenantId};
use crate::storage::{Db, StorageError};

/// One admin of the tenant.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct TenantAdmin {
    pub id: Uuid,
    pub phone_number: String,
    pub role: Option<String>,
    pub is_active: Option<bool>,
    pub created_at: Option<DateTime<Utc>>,
}

/// What an admin may do. Every role uses the same API today; the role is
/// kept for the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdminRole {
    Owner,
    Manager,
    Staff,
}

impl AdminRole {
    pub fn as_str(self) -> &'static str {
        match self {
            AdminRole::Owner => "owner",
            AdminRole::Manager => "manager",
            AdminRole::Staff => "staff",
        }
    }
}

const COLUMNS: &str = "id, phone_number, role, is_active, created_at";

/// The tenant's admins, oldest first.
pub async fn list(db: &Db, tenant: TenantId) -> Result<Vec<TenantAdmin>, StorageError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM public.tenant_admins WHERE tenant_id = $1 ORDER BY created_at, id"
    )))
    .bind(tenant.0)
    .fetch_all(db.pool())
    .await?)
}

/// Adds an admin (or makes an inactive one with that phone active again,
/// with the new role).
pub async fn add(
    db: &Db,
    tenant: TenantId,
    phone: &PhoneNumber,
    role: AdminRole,
) -> Result<TenantAdmin, StorageError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO public.tenant_admins (tenant_id, phone_number, role, is_active) \
         VALUES ($1, $2, $3, TRUE) \
         ON CONFLICT (tenant_id, phone_number) DO UPDATE SET is_active = TRUE, role = EXCLUDED.role \
         RETURNING {COLUMNS}"
    )))
    .bind(tenant.0)
    .bind(phone.expose())
    .bind(role.as_str())
    .fetch_one(db.pool())
    .await
    .map_err(StorageError::classify)
}

/// Deactivates an admin of this tenant and revokes their tokens; `None`
/// when the tenant has no admin with that id.
pub async fn deactivate(
    db: &Db,
    tenant: TenantId,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<TenantAdmin>, StorageError> {
    let mut tx = db.pool().begin().await?;
    let row: Option<TenantAdmin> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE public.tenant_admins SET is_active = FALSE WHERE tenant_id = $1 AND id = $2 \
         RETURNING {COLUMNS}"
    )))
    .bind(tenant.0)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    if row.is_some() {
        sqlx::query(
            "UPDATE public.admin_api_tokens SET revoked_at = $2 \
             WHERE admin_id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(row)
}
