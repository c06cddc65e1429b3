//! Admin API bearer tokens (public.admin_api_tokens, public migration 0006).
//!
//! A token is `rtb_` and 64 hex digits (32 random bytes); only its SHA-256
//! is stored, so a database dump gives no usable token. A tenant token is
//! bound to one admin of one tenant and stops working when it expires, is
//! revoked, or its admin is deactivated; a platform token has no tenant.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::Row;
use uuid::Uuid;

use crate::core::ids::{PhoneNumber, TenantId};
use crate::storage::registry::TENANT_COLUMNS;
use crate::storage::{Db, StorageError, TenantRecord};

/// The prefix every token starts with (lets a leaked one be recognised).
pub const TOKEN_PREFIX: &str = "rtb_";

/// What a token may act for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Onboarding and every tenant's review queues.
    Platform,
    /// One admin of one tenant.
    Tenant { tenant: TenantId, admin: Uuid },
}

/// A token as it is made: shown once.
#[derive(Debug)]
pub struct IssuedToken {
    pub id: Uuid,
    /// The bearer token itself; not stored anywhere.
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Who a presented token speaks for.
#[derive(Debug, Clone)]
pub enum Principal {
    Platform {
        token_id: Uuid,
    },
    Tenant {
        token_id: Uuid,
        admin_id: Uuid,
        tenant: Box<TenantRecord>,
    },
}

/// One stored token (never the token itself).
#[derive(Debug, Clone)]
pub struct TokenRow {
    pub id: Uuid,
    pub platform: bool,
    pub tenant_slug: Option<String>,
    pub admin_phone: Option<String>,
    pub label: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Makes a token for `scope`, valid until `expires_at`.
pub async fn create(
    db: &Db,
    scope: Scope,
    label: Option<&str>,
    expires_at: DateTime<Utc>,
) -> Result<IssuedToken, StorageError> {
    let raw: [u8; 32] = rand::random();
    let token = format!("{TOKEN_PREFIX}{}", hex::encode(raw));
    let (platform, tenant, admin) = match scope {
        Scope::Platform => (true, None, None),
        Scope::Tenant { tenant, admin } => (false, Some(tenant.0), Some(admin)),
    };
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO public.admin_api_tokens \
           (token_sha256, platform, tenant_id, admin_id, label, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(digest(&token))
    .bind(platform)
    .bind(tenant)
    .bind(admin)
    .bind(label)
    .bind(expires_at)
    .fetch_one(db.pool())
    .await
    .map_err(StorageError::classify)?;
    Ok(IssuedToken {
        id,
        token,
        expires_at,
    })
}

/// Whom `token` speaks for at `now`, if anyone: unknown, expired, revoked
/// tokens, tokens of deactivated admins and of deleted tenants are `None`.
pub async fn authenticate(
    db: &Db,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Principal>, StorageError> {
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
        return Ok(None);
    }
    let row = sqlx::query(
        "UPDATE public.admin_api_tokens k SET last_used_at = $2 \
         WHERE k.token_sha256 = $1 AND k.revoked_at IS NULL AND k.expires_at > $2 \
           AND (k.platform OR EXISTS (SELECT 1 FROM public.tenant_admins a \
                 WHERE a.id = k.admin_id AND a.tenant_id = k.tenant_id AND a.is_active IS NOT FALSE)) \
         RETURNING k.id, k.platform, k.tenant_id, k.admin_id",
    )
    .bind(digest(token))
    .bind(now)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let token_id: Uuid = row.try_get("id")?;
    if row.try_get::<bool, _>("platform")? {
        return Ok(Some(Principal::Platform { token_id }));
    }
    let (Some(tenant_id), Some(admin_id)) = (
        row.try_get::<Option<Uuid>, _>("tenant_id")?,
        row.try_get::<Option<Uuid>, _>("admin_id")?,
    ) else {
        return Err(StorageError::Corrupt("tenant token without tenant".into()));
    };
    let Some(tenant) = tenant_by_id(db, TenantId(tenant_id)).await? else {
        return Ok(None);
    };
    if tenant.deleted_at.is_some() || tenant.status.as_deref() == Some("deleted") {
        return Ok(None);
    }
    Ok(Some(Principal::Tenant {
        token_id,
        admin_id,
        tenant: Box::new(tenant),
    }))
}

/// The registry row of tenant `id`.
pub async fn tenant_by_id(db: &Db, id: TenantId) -> Result<Option<TenantRecord>, StorageError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {TENANT_COLUMNS} FROM public.tenants WHERE id = $1"
    )))
    .bind(id.0)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(TenantRecord::from_row).transpose()
}

/// Revokes a token by id; false if there is none or it was revoked already.
pub async fn revoke(db: &Db, id: Uuid, now: DateTime<Utc>) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE public.admin_api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Every token (newest first), or one tenant's.
pub async fn list(db: &Db, tenant: Option<TenantId>) -> Result<Vec<TokenRow>, StorageError> {
    let rows = sqlx::query(
        "SELECT k.id, k.platform, t.slug, a.phone_number, k.label, k.created_at, k.expires_at, \
                k.revoked_at, k.last_used_at \
         FROM public.admin_api_tokens k \
         LEFT JOIN public.tenants t ON t.id = k.tenant_id \
         LEFT JOIN public.tenant_admins a ON a.id = k.admin_id \
         WHERE $1::uuid IS NULL OR k.tenant_id = $1 ORDER BY k.created_at DESC",
    )
    .bind(tenant.map(|t| t.0))
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(TokenRow {
                id: r.try_get("id")?,
                platform: r.try_get("platform")?,
                tenant_slug: r.try_get("slug")?,
                admin_phone: r.try_get("phone_number")?,
                label: r.try_get("label")?,
                created_at: r.try_get("created_at")?,
                expires_at: r.try_get("expires_at")?,
                revoked_at: r.try_get("revoked_at")?,
                last_used_at: r.try_get("last_used_at")?,
            })
        })
        .collect()
}

/// The active admin of tenant `tenant` with this phone, added (as owner)
/// when `create` and there is none. Returns the admin id and whether it
/// was added.
pub async fn admin_for_phone(
    db: &Db,
    tenant: TenantId,
    phone: &PhoneNumber,
    create: bool,
) -> Result<Option<(Uuid, bool)>, StorageError> {
    let found: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM public.tenant_admins WHERE tenant_id = $1 AND is_active IS NOT FALSE \
           AND regexp_replace(phone_number, '[^0-9]', '', 'g') = $2 ORDER BY created_at LIMIT 1",
    )
    .bind(tenant.0)
    .bind(phone.digits())
    .fetch_optional(db.pool())
    .await?;
    if let Some(id) = found {
        return Ok(Some((id, false)));
    }
    if !create {
        return Ok(None);
    }
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO public.tenant_admins (tenant_id, phone_number, role, is_active) \
         VALUES ($1, $2, 'owner', TRUE) \
         ON CONFLICT (tenant_id, phone_number) DO UPDATE SET is_active = TRUE RETURNING id",
    )
    .bind(tenant.0)
    .bind(phone.expose())
    .fetch_one(db.pool())
    .await
    .map_err(StorageError::classify)?;
    Ok(Some((id, true)))
}
