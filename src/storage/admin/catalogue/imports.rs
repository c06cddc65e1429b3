//! Price-list imports (catalog_imports). Uploading stores a preview (what
//! was read from each line and what committing would do, see
//! [`crate::core::catalog_import`]) and changes nothing. Committing
//! creates and updates the services in one transaction, each change in
//! catalog_audits with source 'import', and stores the affected services
//! as they were (snapshot_jsonb) and what it did (committed_jsonb).
//! Rolling back, within [`ROLLBACK_DAYS`] of the commit, puts the
//! snapshot back and removes the services the import created (withdrawn
//! instead when booked since), audited the same way.
//!
//! The import row is locked for a commit or a rollback, so two at once
//! are one change and one clear refusal, never two changes. The row's
//! state: a preview until committed_at is set; rolled back once
//! committed_jsonb has rolled_back_at (the seed schema has no status
//! column, and needs none).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use thiserror::Error;
use utoipa::ToSchema;
use uuid::Uuid;

use super::services::{
    Removed, create_service_in, remove_service_in, restore_service_in, service_snapshot,
    update_service_in,
};
use super::{Origin, Service, ServiceFields, row};
use crate::core::catalog_import::{
    ConfidenceSummary, Current, ImportLine, Outcome, Preview, change_for,
};
use crate::core::price_list::DEFAULT_DURATION_MIN;
use crate::storage::admin::Actor;
use crate::storage::{StorageError, TenantHandle, TenantTx};

/// How long after its commit an import can be rolled back.
pub const ROLLBACK_DAYS: i64 = 7;

/// Where an import is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// Read, nothing changed yet.
    Preview,
    Committed,
    RolledBack,
}

/// What a commit did, and its rollback if any (committed_jsonb).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImportResult {
    /// Services the import created.
    pub created: Vec<Uuid>,
    /// Services it changed (their state before is the snapshot).
    pub updated: Vec<Uuid>,
    /// Lines whose service already had the values.
    pub unchanged: u32,
    pub rolled_back_at: Option<DateTime<Utc>>,
    pub rolled_back_by: Option<Uuid>,
    /// Services put back as they were.
    pub restored: u32,
    /// Created services deleted by the rollback.
    pub deleted: u32,
    /// Created services booked since: withdrawn (is_active false), kept
    /// for their appointments.
    pub deactivated: u32,
}

/// One price-list import.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Import {
    pub import_id: Uuid,
    pub status: ImportStatus,
    /// text | csv (images and PDFs: later)
    pub modality: String,
    /// initial (the tenant had no services) | re-import
    #[serde(rename = "type")]
    pub kind: String,
    pub actor_admin_id: Option<Uuid>,
    pub created_at: Option<DateTime<Utc>>,
    pub committed_at: Option<DateTime<Utc>>,
    /// Until when a rollback is allowed (committed imports).
    pub rollback_until: Option<DateTime<Utc>>,
    pub summary: ConfidenceSummary,
    /// Every line read, in order.
    pub lines: Vec<ImportLine>,
    /// What the commit did (absent on a preview).
    pub result: Option<ImportResult>,
}

/// Why a commit or rollback was refused.
#[derive(Debug, Error)]
pub enum ImportError {
    /// No such import for this tenant.
    #[error("no such import")]
    NotFound,
    #[error("the import was already committed at {0}")]
    AlreadyCommitted(DateTime<Utc>),
    #[error("the import is a preview: commit it first (nothing to roll back)")]
    NotCommitted,
    #[error("the import was already rolled back at {0}")]
    AlreadyRolledBack(DateTime<Utc>),
    #[error(
        "the import was committed at {committed_at}, more than {ROLLBACK_DAYS} days ago: it can no longer be rolled back"
    )]
    WindowClosed { committed_at: DateTime<Utc> },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> Self {
        ImportError::Storage(e.into())
    }
}

/// The services as the preview compares them.
pub fn current(services: &[Service]) -> Vec<Current> {
    services.iter().map(current_one).collect()
}

fn current_one(s: &Service) -> Current {
    Current {
        id: s.id,
        name: s.name.clone(),
        price: s.price,
        duration_min: s.duration_min,
        is_active: s.is_active != Some(false),
    }
}

#[derive(sqlx::FromRow)]
struct ImportRow {
    import_id: Uuid,
    modality: String,
    #[sqlx(rename = "type")]
    kind: String,
    extracted_jsonb: Value,
    committed_jsonb: Option<Value>,
    actor_admin_id: Option<Uuid>,
    confidence_summary: Option<Value>,
    created_at: Option<DateTime<Utc>>,
    committed_at: Option<DateTime<Utc>>,
}

const IMPORT_SELECT: &str = "SELECT import_id, modality, type, extracted_jsonb, committed_jsonb, \
       actor_admin_id, confidence_summary, created_at, committed_at FROM catalog_imports";

fn corrupt(what: &str, e: serde_json::Error) -> StorageError {
    StorageError::Corrupt(format!("catalog_imports.{what}: {e}"))
}

impl ImportRow {
    fn lines(&self) -> Result<Vec<ImportLine>, StorageError> {
        serde_json::from_value(self.extracted_jsonb["lines"].clone())
            .map_err(|e| corrupt("extracted_jsonb", e))
    }

    fn result(&self) -> Result<Option<ImportResult>, StorageError> {
        self.committed_jsonb
            .clone()
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| corrupt("committed_jsonb", e))
    }

    fn into_import(self) -> Result<Import, StorageError> {
        let lines = self.lines()?;
        let result = self.result()?;
        let summary = serde_json::from_value(self.confidence_summary.clone().unwrap_or_default())
            .map_err(|e| corrupt("confidence_summary", e))?;
        let status = match (&self.committed_at, &result) {
            (None, _) => ImportStatus::Preview,
            (Some(_), Some(r)) if r.rolled_back_at.is_some() => ImportStatus::RolledBack,
            (Some(_), _) => ImportStatus::Committed,
        };
        Ok(Import {
            import_id: self.import_id,
            status,
            modality: self.modality,
            kind: self.kind,
            actor_admin_id: self.actor_admin_id,
            created_at: self.created_at,
            committed_at: self.committed_at,
            rollback_until: self
                .committed_at
                .map(|t| t + chrono::Duration::days(ROLLBACK_DAYS)),
            summary,
            lines,
            result,
        })
    }
}

/// How the price list came (catalog_imports.modality).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modality {
    Text,
    Csv,
}

impl Modality {
    fn as_str(self) -> &'static str {
        match self {
            Modality::Text => "text",
            Modality::Csv => "csv",
        }
    }
}

/// Stores `preview` (made against `services`, the tenant's services as
/// they were read) as a new import. Changes no service. The snapshot kept
/// now is of the services the preview would update; the commit takes it
/// again, under lock.
pub async fn save_preview(
    tenant: &TenantHandle,
    modality: Modality,
    preview: &Preview,
    services: &[Service],
    actor: Actor,
) -> Result<Import, StorageError> {
    let mut tx = tenant.begin().await?;
    let mut snapshot = Vec::new();
    for id in preview
        .lines
        .iter()
        .filter(|l| l.outcome == Outcome::Update)
        .filter_map(|l| l.service_id)
    {
        if let Some(s) = service_snapshot(&mut tx, id).await? {
            snapshot.push(s);
        }
    }
    let kind = if services.is_empty() {
        "initial"
    } else {
        "re-import"
    };
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO catalog_imports (modality, type, snapshot_jsonb, extracted_jsonb, \
           actor_admin_id, confidence_summary) VALUES ($1, $2, $3, $4, $5, $6) RETURNING import_id",
    )
    .bind(modality.as_str())
    .bind(kind)
    .bind(json!({ "services": snapshot }))
    .bind(json!({ "lines": preview.lines }))
    .bind(actor.admin_id)
    .bind(json!(preview.summary))
    .fetch_one(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    let row = import_row(&mut tx, id, false).await?;
    tx.commit().await?;
    row.ok_or_else(|| StorageError::Corrupt("inserted import vanished".into()))?
        .into_import()
}

async fn import_row(
    tx: &mut TenantTx,
    id: Uuid,
    lock: bool,
) -> Result<Option<ImportRow>, StorageError> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{IMPORT_SELECT} WHERE import_id = $1{lock}"
    )))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?)
}

/// One import; `None` if the tenant has no such import.
pub async fn import(tenant: &TenantHandle, id: Uuid) -> Result<Option<Import>, StorageError> {
    let mut tx = tenant.begin().await?;
    let row = import_row(&mut tx, id, false).await?;
    tx.commit().await?;
    row.map(ImportRow::into_import).transpose()
}

/// The newest imports (at most `limit`).
pub async fn imports(tenant: &TenantHandle, limit: i64) -> Result<Vec<Import>, StorageError> {
    let mut tx = tenant.begin().await?;
    let rows: Vec<ImportRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{IMPORT_SELECT} ORDER BY created_at DESC, import_id LIMIT $1"
    )))
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    rows.into_iter().map(ImportRow::into_import).collect()
}

/// Applies a preview: services created (priced in `currency`) and
/// updated, each audited with source 'import'; the services changed are
/// kept as they were, for the rollback. A second commit is refused.
pub async fn commit(
    tenant: &TenantHandle,
    id: Uuid,
    currency: &str,
    actor: Actor,
) -> Result<Import, ImportError> {
    let origin = Origin::import(actor);
    let (mut tx, imp) = locked(tenant, id).await?;
    if let Some(at) = imp.committed_at {
        return Err(ImportError::AlreadyCommitted(at));
    }
    let mut result = ImportResult::default();
    let mut snapshot = Vec::new();
    for line in imp.lines()? {
        let existing = match (line.outcome, line.service_id) {
            (Outcome::Rejected, _) => continue,
            (Outcome::Update | Outcome::Unchanged, Some(sid)) => {
                match service_snapshot(&mut tx, sid).await? {
                    Some(before) => row::<Service>(&mut tx, sid).await?.map(|s| (before, s)),
                    // Gone since the preview: created again.
                    None => None,
                }
            }
            (Outcome::Create | Outcome::Update | Outcome::Unchanged, _) => None,
        };
        match existing {
            Some((before, service)) => {
                let change = change_for(&current_one(&service), &line);
                if change.price.is_none() && change.duration_min.is_none() && !change.reactivate {
                    result.unchanged += 1;
                    continue;
                }
                let f = ServiceFields {
                    price: change.price,
                    duration_min: change.duration_min,
                    is_active: change.reactivate.then_some(true),
                    ..Default::default()
                };
                update_service_in(&mut tx, service.id, &f, origin).await?;
                snapshot.push(before);
                result.updated.push(service.id);
            }
            None => {
                let Some(name) = line.name.value.clone() else {
                    continue;
                };
                let f = ServiceFields {
                    name: Some(name),
                    duration_min: Some(line.duration_min.value.unwrap_or(DEFAULT_DURATION_MIN)),
                    price: Some(line.price.value.unwrap_or(Decimal::ZERO)),
                    ..Default::default()
                };
                let created = create_service_in(&mut tx, &f, currency, origin).await?;
                result.created.push(created.id);
            }
        }
    }
    sqlx::query(
        "UPDATE catalog_imports SET snapshot_jsonb = $2, committed_jsonb = $3, committed_at = NOW() \
         WHERE import_id = $1",
    )
    .bind(id)
    .bind(json!({ "services": snapshot }))
    .bind(json!(result))
    .execute(tx.conn())
    .await?;
    finish(tx, id).await
}

/// A transaction holding the import `id` locked, and the import.
async fn locked(tenant: &TenantHandle, id: Uuid) -> Result<(TenantTx, ImportRow), ImportError> {
    let mut tx = tenant.begin().await?;
    let imp = import_row(&mut tx, id, true)
        .await?
        .ok_or(ImportError::NotFound)?;
    Ok((tx, imp))
}

/// Commits `tx` and answers the import `id` as it now is.
async fn finish(mut tx: TenantTx, id: Uuid) -> Result<Import, ImportError> {
    let imp = import_row(&mut tx, id, false)
        .await?
        .ok_or(ImportError::NotFound)?;
    tx.commit().await?;
    Ok(imp.into_import()?)
}

/// Undoes a commit made less than [`ROLLBACK_DAYS`] ago: the services it
/// changed are put back as they were (later edits to them too), the ones
/// it created are deleted (withdrawn if booked since); each change
/// audited with source 'import'. A second rollback is refused.
pub async fn rollback(
    tenant: &TenantHandle,
    id: Uuid,
    actor: Actor,
) -> Result<Import, ImportError> {
    let origin = Origin::import(actor);
    let (mut tx, imp) = locked(tenant, id).await?;
    let Some(committed_at) = imp.committed_at else {
        return Err(ImportError::NotCommitted);
    };
    let mut result = imp.result()?.unwrap_or_default();
    if let Some(at) = result.rolled_back_at {
        return Err(ImportError::AlreadyRolledBack(at));
    }
    let (in_window, snapshot): (bool, Value) = sqlx::query_as(
        "SELECT committed_at + make_interval(days => $2) > NOW(), snapshot_jsonb \
         FROM catalog_imports WHERE import_id = $1",
    )
    .bind(id)
    .bind(ROLLBACK_DAYS as i32)
    .fetch_one(tx.conn())
    .await?;
    if !in_window {
        return Err(ImportError::WindowClosed { committed_at });
    }
    let saved = snapshot["services"].as_array().cloned().unwrap_or_default();
    for s in &saved {
        let sid: Uuid =
            serde_json::from_value(s["id"].clone()).map_err(|e| corrupt("snapshot_jsonb", e))?;
        if restore_service_in(&mut tx, sid, s, origin).await? {
            result.restored += 1;
        }
    }
    for sid in result.created.clone() {
        match remove_service_in(&mut tx, sid, origin).await? {
            Removed::Deleted => result.deleted += 1,
            Removed::Deactivated => result.deactivated += 1,
            Removed::Missing => {}
        }
    }
    result.rolled_back_by = actor.admin_id;
    sqlx::query(
        "UPDATE catalog_imports SET committed_jsonb = $2 || jsonb_build_object('rolled_back_at', NOW()) \
         WHERE import_id = $1",
    )
    .bind(id)
    .bind(json!(result))
    .execute(tx.conn())
    .await?;
    finish(tx, id).await
}
