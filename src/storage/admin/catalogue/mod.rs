//! The catalogue: services, staff, who does what (staff_services), weekly
//! schedules and blocks (sick days, leave). Every change writes a
//! catalog_audits row in the same transaction: the row before and after
//! (as JSON), the admin, the source ('dashboard' for the API's catalogue
//! calls, 'import' for a price-list import and its rollback, see
//! [`super::imports`]), and which table (entity, tenant migration 0011).
//! The conversation reads these tables on every turn, so a change is
//! offered (or no longer offered) at once.
//!
//! One file per job: [`services`], [`staff`] (and who offers what),
//! [`schedule`] (weekly hours and blocks), [`imports`] (price lists,
//! commit and rollback); the audit trail is here.

pub mod imports;
mod schedule;
mod services;
mod staff;

pub use schedule::{
    Block, ScheduleDay, add_block, blocks, clear_schedule_day, remove_block, schedule,
    set_schedule_day,
};
pub use services::{
    Service, ServiceFields, create_service, create_service_in, services, update_service,
    update_service_in,
};
pub use staff::{
    Staff, StaffFields, add_staff_service, create_staff, remove_staff_service, staff, update_staff,
};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::postgres::PgRow;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Actor;
use crate::storage::{StorageError, TenantHandle, TenantTx};

/// Which catalogue table an audit row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Service,
    Staff,
    StaffService,
    Schedule,
    Block,
    CommissionRule,
    CommissionPeriod,
}

impl Entity {
    fn table(self) -> &'static str {
        match self {
            Entity::Service => "services",
            Entity::Staff => "staff",
            Entity::StaffService => "staff_services",
            Entity::Schedule => "staff_schedules",
            Entity::Block => "staff_blocks",
            Entity::CommissionRule => "commission_rules",
            Entity::CommissionPeriod => "commission_period",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Entity::Service => "service",
            Entity::Staff => "staff",
            Entity::StaffService => "staff_service",
            Entity::Schedule => "schedule",
            Entity::Block => "block",
            Entity::CommissionRule => "commission_rule",
            Entity::CommissionPeriod => "commission_period",
        }
    }
}

/// What was done to the row (catalog_audits.action).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Insert,
    Update,
    Delete,
    Toggle,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Insert => "insert",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Toggle => "toggle",
        }
    }
}

/// Through what a change came (catalog_audits.source).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The admin API's catalogue calls.
    Dashboard,
    /// A price-list import, its commit and its rollback.
    Import,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Dashboard => "dashboard",
            Source::Import => "import",
        }
    }
}

/// Who made a catalogue change, and through what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub actor: Actor,
    pub source: Source,
}

impl Origin {
    /// A change through the admin API's catalogue calls.
    pub fn dashboard(actor: Actor) -> Self {
        Origin {
            actor,
            source: Source::Dashboard,
        }
    }

    /// A change made by a price-list import (or its rollback).
    pub fn import(actor: Actor) -> Self {
        Origin {
            actor,
            source: Source::Import,
        }
    }
}

/// The row `id` of `entity`'s table as JSON (locked for the change).
pub(super) async fn snapshot(
    tx: &mut TenantTx,
    entity: Entity,
    id: Uuid,
) -> Result<Option<Value>, StorageError> {
    let table = entity.table();
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT to_jsonb(r) FROM {table} r WHERE r.id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?)
}

/// Writes one catalog_audits row, in the caller's transaction.
pub(super) async fn audit(
    tx: &mut TenantTx,
    action: Action,
    entity: Entity,
    id: Uuid,
    before: Option<&Value>,
    after: Option<&Value>,
    origin: Origin,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO catalog_audits (action, service_id, entity, before, after, actor_admin_id, source) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(action.as_str())
    .bind(id)
    .bind(entity.name())
    .bind(before)
    .bind(after)
    .bind(origin.actor.admin_id)
    .bind(origin.source.as_str())
    .execute(tx.conn())
    .await?;
    crate::storage::catalog_changes::announce(tx.conn()).await
}

/// Audits a change already made to row `id`, given its state before;
/// returns the row after.
pub(super) async fn audited(
    tx: &mut TenantTx,
    action: Action,
    entity: Entity,
    id: Uuid,
    before: Option<Value>,
    origin: Origin,
) -> Result<Option<Value>, StorageError> {
    let after = snapshot(tx, entity, id).await?;
    audit(
        tx,
        action,
        entity,
        id,
        before.as_ref(),
        after.as_ref(),
        origin,
    )
    .await?;
    Ok(after)
}

/// Audits a row written by an insert-or-update: an update when it had a
/// state `before`, else an insert.
pub(super) async fn audited_upsert(
    tx: &mut TenantTx,
    entity: Entity,
    id: Uuid,
    before: Option<Value>,
    origin: Origin,
) -> Result<Option<Value>, StorageError> {
    let action = if before.is_some() {
        Action::Update
    } else {
        Action::Insert
    };
    audited(tx, action, entity, id, before, origin).await
}

/// Audits the deletion of row `id`, given its state before.
async fn audit_deleted(
    tx: &mut TenantTx,
    entity: Entity,
    id: Uuid,
    before: &Value,
    origin: Origin,
) -> Result<(), StorageError> {
    audit(tx, Action::Delete, entity, id, Some(before), None, origin).await
}

/// A catalogue table's row as the API shows it: how to list and read it.
trait CatalogueRow: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin {
    const ENTITY: Entity;
    /// `SELECT … FROM table alias` (no WHERE or ORDER BY).
    const SELECT: &'static str;
    /// The id column, qualified as SELECT needs it.
    const ID: &'static str;
    /// The list order.
    const ORDER: &'static str;
}

/// Every row of `T`'s table, in its list order, in the caller's
/// transaction.
async fn list_in<T: CatalogueRow>(tx: &mut TenantTx) -> Result<Vec<T>, StorageError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{} ORDER BY {}",
        T::SELECT,
        T::ORDER
    )))
    .fetch_all(tx.conn())
    .await?)
}

/// Every row of `T`'s table, in its list order.
async fn list<T: CatalogueRow>(tenant: &TenantHandle) -> Result<Vec<T>, StorageError> {
    let mut tx = tenant.begin().await?;
    let rows = list_in(&mut tx).await?;
    tx.commit().await?;
    Ok(rows)
}

/// Row `id` of `T`'s table.
async fn row<T: CatalogueRow>(tx: &mut TenantTx, id: Uuid) -> Result<Option<T>, StorageError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{} WHERE {} = $1",
        T::SELECT,
        T::ID
    )))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?)
}

/// Audits the row `id` just inserted and returns it.
async fn inserted<T: CatalogueRow>(
    tx: &mut TenantTx,
    id: Uuid,
    origin: Origin,
) -> Result<T, StorageError> {
    audited(tx, Action::Insert, T::ENTITY, id, None, origin).await?;
    row(tx, id)
        .await?
        .ok_or_else(|| StorageError::Corrupt(format!("inserted {} vanished", T::ENTITY.name())))
}

/// Audits the row `id` just changed (`toggle`: only is_active changed),
/// given its state before, and returns it.
async fn updated<T: CatalogueRow>(
    tx: &mut TenantTx,
    id: Uuid,
    before: Value,
    toggle: bool,
    origin: Origin,
) -> Result<Option<T>, StorageError> {
    let action = if toggle {
        Action::Toggle
    } else {
        Action::Update
    };
    audited(tx, action, T::ENTITY, id, Some(before), origin).await?;
    row(tx, id).await
}

/// One catalog_audits row.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct CatalogAudit {
    pub audit_id: Uuid,
    pub action: String,
    pub entity: String,
    /// The id of the changed row (in its entity's table).
    #[serde(rename = "row_id")]
    pub service_id: Uuid,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub actor_admin_id: Option<Uuid>,
    /// dashboard | import (slash | nl from other paths)
    pub source: String,
    pub created_at: Option<DateTime<Utc>>,
}

/// The newest audit rows (at most `limit`).
pub async fn audits(tenant: &TenantHandle, limit: i64) -> Result<Vec<CatalogAudit>, StorageError> {
    let mut tx = tenant.begin().await?;
    let rows = sqlx::query_as(
        "SELECT audit_id, action, entity, service_id, before, after, actor_admin_id, source, created_at \
         FROM catalog_audits ORDER BY created_at DESC, audit_id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(rows)
}
