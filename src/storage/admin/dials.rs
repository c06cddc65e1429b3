//! The tenant's dials: its own columns of public.tenants (voice_*,
//! handoff_*, payment settings) and its personality row
//! (tenant_personality_config). A change is one transaction: the registry
//! row is locked and updated, then the same transaction is scoped to the
//! tenant ([`TenantHandle::within`]) to update the personality row and
//! write one dial_audits row per dial whose value changed.
//!
//! Values are checked by the caller (`crate::http::admin::dials`); here
//! each dial is a fixed column name and a JSON value.

use serde_json::{Map, Value};
use sqlx::Row;

use super::Actor;
use crate::core::ids::TenantId;
use crate::storage::{Db, StorageError, TenantHandle};

/// The dials of public.tenants the admin API may change, with the SQL
/// type each value is cast to.
pub const TENANT_DIALS: &[(&str, &str)] = &[
    ("voice_enabled", "boolean"),
    ("voice_greeting_language", "text"),
    ("voice_default_speaker", "text"),
    ("voice_eot_silence_ms", "integer"),
    ("voice_full_duplex_enabled", "boolean"),
    ("voice_backchannel_filter", "boolean"),
    ("voice_hard_interrupt", "boolean"),
    ("voice_streaming", "boolean"),
    ("voice_listening_ack", "boolean"),
    ("voice_adaptive_speed", "boolean"),
    ("voice_endpointing_min_delay_ms", "integer"),
    ("voice_endpointing_max_delay_ms", "integer"),
    ("voice_stk_max_hold_seconds", "integer"),
    ("voice_transfer_number", "text"),
    ("handoff_admin_notice_seconds", "integer"),
    ("handoff_admin_reminder_seconds", "integer"),
    ("handoff_escalation_seconds", "integer"),
    ("payment_enabled", "boolean"),
    ("preferred_payment_provider", "text"),
    ("payment_environment_override", "text"),
    ("mpesa_enabled", "boolean"),
    ("mpesa_shortcode", "text"),
    ("pesapal_nudge_seconds", "integer"),
    ("pesapal_abandon_seconds", "integer"),
    ("reminder_lead_seconds", "integer"),
    ("admin_whatsapp_briefing_enabled", "boolean"),
    ("instagram_business_account_id", "text"),
    ("instagram_enabled", "boolean"),
    ("facebook_page_id", "text"),
    ("messenger_enabled", "boolean"),
];

/// The access tokens `ratiba tenant set` and `PATCH /dials` also take;
/// stored through [`super::credentials::set`] (encrypted, audited as set
/// or not, never read back).
pub const SECRET_DIALS: &[&str] = &[
    "whatsapp_access_token",
    "instagram_access_token",
    "facebook_page_access_token",
];

/// The personality dials (tenant_personality_config columns, all text).
pub const PERSONALITY_DIALS: &[&str] = &[
    "tone",
    "greeting_mode",
    "greeting_custom",
    "upsell",
    "cancellation_tone",
    "honorific",
    "cross_sell",
];

/// The current value of every dial, by name (personality dials NULL when
/// they inherit the vertical's default).
pub async fn current(
    db: &Db,
    tenant: &TenantHandle,
    id: TenantId,
) -> Result<Map<String, Value>, StorageError> {
    let mut out = tenant_values(db, id).await?;
    let mut tx = tenant.begin().await?;
    let personality: Option<Value> = sqlx::query_scalar(
        "SELECT to_jsonb(p) FROM tenant_personality_config p WHERE is_singleton LIMIT 1",
    )
    .fetch_optional(tx.conn())
    .await?;
    tx.commit().await?;
    for dial in PERSONALITY_DIALS {
        let v = personality
            .as_ref()
            .and_then(|p| p.get(*dial))
            .cloned()
            .unwrap_or(Value::Null);
        out.insert((*dial).to_owned(), v);
    }
    Ok(out)
}

async fn tenant_values(db: &Db, id: TenantId) -> Result<Map<String, Value>, StorageError> {
    let row: Option<Value> =
        sqlx::query_scalar("SELECT to_jsonb(t) FROM public.tenants t WHERE t.id = $1")
            .bind(id.0)
            .fetch_optional(db.pool())
            .await?;
    let row = row.ok_or_else(|| StorageError::Corrupt("tenant row vanished".into()))?;
    let mut out = Map::new();
    for (dial, _) in TENANT_DIALS {
        out.insert(
            (*dial).to_owned(),
            row.get(*dial).cloned().unwrap_or(Value::Null),
        );
    }
    Ok(out)
}

/// Sets dials (name to value; JSON null clears a nullable dial). Names
/// outside [`TENANT_DIALS`] and [`PERSONALITY_DIALS`] are refused. Returns
/// the names whose value changed.
pub async fn set(
    db: &Db,
    tenant: &TenantHandle,
    id: TenantId,
    changes: &Map<String, Value>,
    actor: Actor,
) -> Result<Vec<String>, StorageError> {
    for name in changes.keys() {
        let known = TENANT_DIALS.iter().any(|(d, _)| d == name)
            || PERSONALITY_DIALS.contains(&name.as_str());
        if !known {
            return Err(StorageError::Invalid(format!("unknown dial {name}")));
        }
    }
    let mut tx = db.pool().begin().await?;
    let before: Value =
        sqlx::query_scalar("SELECT to_jsonb(t) FROM public.tenants t WHERE t.id = $1 FOR UPDATE")
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StorageError::Corrupt("tenant row vanished".into()))?;
    let mut audits: Vec<(String, Value, Value)> = Vec::new();
    for (dial, ty) in TENANT_DIALS {
        let Some(new) = changes.get(*dial) else {
            continue;
        };
        let old = before.get(*dial).cloned().unwrap_or(Value::Null);
        if &old == new {
            continue;
        }
        // Names and types come from the fixed table above, never from input.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE public.tenants SET {dial} = ($2::jsonb #>> '{{}}')::{ty}, updated_at = NOW() \
             WHERE id = $1"
        )))
        .bind(id.0)
        .bind(new)
        .execute(&mut *tx)
        .await
        .map_err(StorageError::classify)?;
        audits.push(((*dial).to_owned(), old, new.clone()));
    }
    let mut tx = tenant.within(tx).await?;
    let personality_changes: Vec<(&str, &Value)> = PERSONALITY_DIALS
        .iter()
        .filter_map(|d| changes.get(*d).map(|v| (*d, v)))
        .collect();
    if !personality_changes.is_empty() {
        sqlx::query(
            "INSERT INTO tenant_personality_config (is_singleton) VALUES (TRUE) \
             ON CONFLICT (is_singleton) WHERE is_singleton = TRUE DO NOTHING",
        )
        .execute(tx.conn())
        .await?;
        let row = sqlx::query(
            "SELECT to_jsonb(p) AS p FROM tenant_personality_config p WHERE is_singleton FOR UPDATE",
        )
        .fetch_one(tx.conn())
        .await?;
        let current: Value = row.try_get("p")?;
        for (dial, new) in personality_changes {
            let old = current.get(dial).cloned().unwrap_or(Value::Null);
            if &old == new {
                continue;
            }
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE tenant_personality_config SET {dial} = ($1::jsonb #>> '{{}}'), \
                   updated_at = NOW(), updated_by_admin_id = $2 WHERE is_singleton"
            )))
            .bind(new)
            .bind(actor.admin_id)
            .execute(tx.conn())
            .await?;
            audits.push((dial.to_owned(), old, new.clone()));
        }
    }
    for (dial, old, new) in &audits {
        sqlx::query(
            "INSERT INTO dial_audits (dial, before, after, actor_admin_id) VALUES ($1, $2, $3, $4)",
        )
        .bind(dial)
        .bind(old)
        .bind(new)
        .bind(actor.admin_id)
        .execute(tx.conn())
        .await?;
    }
    if !audits.is_empty() {
        crate::storage::catalog_changes::announce(tx.conn()).await?;
    }
    tx.commit().await?;
    Ok(audits.into_iter().map(|(d, _, _)| d).collect())
}

/// One dial_audits row.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct DialAudit {
    pub audit_id: uuid::Uuid,
    pub dial: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub actor_admin_id: Option<uuid::Uuid>,
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The newest dial audits (at most `limit`).
pub async fn audits(tenant: &TenantHandle, limit: i64) -> Result<Vec<DialAudit>, StorageError> {
    let mut tx = tenant.begin().await?;
    let rows = sqlx::query_as(
        "SELECT audit_id, dial, before, after, actor_admin_id, created_at FROM dial_audits \
         ORDER BY created_at DESC, audit_id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(rows)
}
