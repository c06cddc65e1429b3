//! The tenant's credentials (columns of public.tenants), written
//! Fernet-encrypted with the [`Vault`] exactly as `ratiba tenant create`
//! writes them, and never read back: the API answers only which are set
//! and when they last changed. Each change is a dial_audits row
//! (`credential_<name>`) saying whether one was set before and after,
//! without the secret, committed with the registry update.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::Actor;
use crate::core::ids::TenantId;
use crate::storage::{Db, StorageError, TenantHandle, Vault};

/// A credential the API may write: its name (also the audit's
/// `credential_<name>`), its column, and whether the column holds an
/// encrypted JSON document (BYTEA) or an encrypted text (TEXT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialSlot {
    pub name: &'static str,
    column: &'static str,
    json: bool,
}

/// Every credential the API writes.
pub const SLOTS: &[CredentialSlot] = &[
    CredentialSlot {
        name: "daraja",
        column: "daraja_credentials",
        json: true,
    },
    CredentialSlot {
        name: "pesapal",
        column: "pesapal_credentials",
        json: true,
    },
    CredentialSlot {
        name: "whatsapp_access_token",
        column: "whatsapp_access_token",
        json: false,
    },
    CredentialSlot {
        name: "instagram_access_token",
        column: "instagram_access_token",
        json: false,
    },
    CredentialSlot {
        name: "facebook_page_access_token",
        column: "facebook_page_access_token",
        json: false,
    },
];

/// Whether a credential is set, and when it last changed through the API.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CredentialState {
    pub name: String,
    pub is_set: bool,
    /// The last change through the admin API (absent when never changed
    /// there, e.g. set by `ratiba tenant create`).
    pub changed_at: Option<DateTime<Utc>>,
}

/// A new value: a JSON document or a text, in plain.
pub enum Plain<'a> {
    Json(&'a Value),
    Text(&'a str),
}

fn audit_name(slot: &CredentialSlot) -> String {
    format!("credential_{}", slot.name)
}

/// Which credentials are set and when each last changed.
pub async fn states(
    db: &Db,
    tenant: &TenantHandle,
    id: TenantId,
) -> Result<Vec<CredentialState>, StorageError> {
    let checks: Vec<String> = SLOTS
        .iter()
        .map(|s| format!("{} IS NOT NULL", s.column))
        .collect();
    // Column names come from the fixed table above.
    let row: Option<Vec<bool>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT ARRAY[{}] FROM public.tenants WHERE id = $1",
        checks.join(", ")
    )))
    .bind(id.0)
    .fetch_optional(db.pool())
    .await?;
    let set = row.ok_or_else(|| StorageError::Corrupt("tenant row vanished".into()))?;
    let mut tx = tenant.begin().await?;
    let changed: Vec<(String, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT dial, max(created_at) FROM dial_audits WHERE dial LIKE 'credential\\_%' \
         GROUP BY dial",
    )
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(SLOTS
        .iter()
        .zip(set)
        .map(|(slot, is_set)| {
            let name = audit_name(slot);
            CredentialState {
                name: slot.name.to_owned(),
                is_set,
                changed_at: changed.iter().find(|(d, _)| *d == name).and_then(|c| c.1),
            }
        })
        .collect())
}

/// Writes credentials (slot and plain value; `None` clears), encrypted,
/// with one audit row each, in one transaction.
pub async fn set(
    db: &Db,
    vault: &Vault,
    tenant: &TenantHandle,
    id: TenantId,
    changes: &[(CredentialSlot, Option<Plain<'_>>)],
    actor: Actor,
) -> Result<(), StorageError> {
    let mut tx = db.pool().begin().await?;
    let mut audits = Vec::new();
    for (slot, value) in changes {
        let was_set: Option<bool> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT {} IS NOT NULL FROM public.tenants WHERE id = $1 FOR UPDATE",
            slot.column
        )))
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?;
        let was_set = was_set.ok_or_else(|| StorageError::Corrupt("tenant row vanished".into()))?;
        let sql = sqlx::AssertSqlSafe(format!(
            "UPDATE public.tenants SET {} = $2, updated_at = NOW() WHERE id = $1",
            slot.column
        ));
        let query = sqlx::query(sql).bind(id.0);
        let query = match value {
            None if slot.json => query.bind(None::<Vec<u8>>),
            None => query.bind(None::<String>),
            Some(Plain::Json(v)) => query.bind(
                vault
                    .encrypt_json(v)
                    .map_err(|e| StorageError::Invalid(e.to_string()))?,
            ),
            Some(Plain::Text(t)) => query.bind(vault.encrypt_text(t)),
        };
        query
            .execute(&mut *tx)
            .await
            .map_err(StorageError::classify)?;
        audits.push((audit_name(slot), was_set, value.is_some()));
    }
    let mut tx = tenant.within(tx).await?;
    for (dial, before, after) in &audits {
        sqlx::query(
            "INSERT INTO dial_audits (dial, before, after, actor_admin_id) VALUES ($1, $2, $3, $4)",
        )
        .bind(dial)
        .bind(json!({ "set": before }))
        .bind(json!({ "set": after }))
        .bind(actor.admin_id)
        .execute(tx.conn())
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
