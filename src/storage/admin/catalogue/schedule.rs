//! Weekly schedules (when each staff member works) and blocks (time away:
//! sick days, leave).

use chrono::{DateTime, NaiveTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Action, Entity, Origin, audit_deleted, audited, audited_upsert, snapshot};
use crate::storage::admin::Actor;
use crate::storage::{StorageError, TenantHandle};

/// When a staff member works on one day of the week (0 = Sunday).
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ScheduleDay {
    pub id: Uuid,
    pub staff_id: Option<Uuid>,
    pub day_of_week: i16,
    #[schema(value_type = String, example = "09:00:00")]
    pub start_time: NaiveTime,
    #[schema(value_type = String, example = "18:00:00")]
    pub end_time: NaiveTime,
    pub is_available: Option<bool>,
}

/// A staff member's week; `None` if the tenant has no such person.
pub async fn schedule(
    tenant: &TenantHandle,
    staff: Uuid,
) -> Result<Option<Vec<ScheduleDay>>, StorageError> {
    let mut tx = tenant.begin().await?;
    if snapshot(&mut tx, Entity::Staff, staff).await?.is_none() {
        return Ok(None);
    }
    let rows = sqlx::query_as(
        "SELECT id, staff_id, day_of_week, start_time, end_time, is_available \
         FROM staff_schedules WHERE staff_id = $1 ORDER BY day_of_week",
    )
    .bind(staff)
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(Some(rows))
}

/// Sets one day of a staff member's week (the caller checks start < end
/// and the day's range). `None` if the tenant has no such person.
pub async fn set_schedule_day(
    tenant: &TenantHandle,
    staff: Uuid,
    day: i16,
    start: NaiveTime,
    end: NaiveTime,
    is_available: bool,
    actor: Actor,
) -> Result<Option<ScheduleDay>, StorageError> {
    let mut tx = tenant.begin().await?;
    if snapshot(&mut tx, Entity::Staff, staff).await?.is_none() {
        return Ok(None);
    }
    let before: Option<Value> = sqlx::query_scalar(
        "SELECT to_jsonb(r) FROM staff_schedules r WHERE staff_id = $1 AND day_of_week = $2 FOR UPDATE",
    )
    .bind(staff)
    .bind(day)
    .fetch_optional(tx.conn())
    .await?;
    let row: ScheduleDay = sqlx::query_as(
        "INSERT INTO staff_schedules (staff_id, day_of_week, start_time, end_time, is_available) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (staff_id, day_of_week) DO UPDATE SET start_time = EXCLUDED.start_time, \
           end_time = EXCLUDED.end_time, is_available = EXCLUDED.is_available \
         RETURNING id, staff_id, day_of_week, start_time, end_time, is_available",
    )
    .bind(staff)
    .bind(day)
    .bind(start)
    .bind(end)
    .bind(is_available)
    .fetch_one(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    audited_upsert(
        &mut tx,
        Entity::Schedule,
        row.id,
        before,
        Origin::dashboard(actor),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(row))
}

/// Removes one day from a staff member's week (they do not work then).
/// False if there was no such day.
pub async fn clear_schedule_day(
    tenant: &TenantHandle,
    staff: Uuid,
    day: i16,
    actor: Actor,
) -> Result<bool, StorageError> {
    let mut tx = tenant.begin().await?;
    let gone: Option<(Uuid, Value)> = sqlx::query_as(
        "DELETE FROM staff_schedules r WHERE staff_id = $1 AND day_of_week = $2 \
         RETURNING r.id, to_jsonb(r)",
    )
    .bind(staff)
    .bind(day)
    .fetch_optional(tx.conn())
    .await?;
    let Some((id, before)) = gone else {
        return Ok(false);
    };
    audit_deleted(
        &mut tx,
        Entity::Schedule,
        id,
        &before,
        Origin::dashboard(actor),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

// ---- blocks -----------------------------------------------------------

/// Time a staff member is away (sick day, leave, errand).
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Block {
    pub id: Uuid,
    pub staff_id: Option<Uuid>,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
    pub reason: Option<String>,
}

/// A staff member's blocks overlapping [from, to) (all of them when
/// unbounded); `None` if the tenant has no such person.
pub async fn blocks(
    tenant: &TenantHandle,
    staff: Uuid,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<Option<Vec<Block>>, StorageError> {
    let mut tx = tenant.begin().await?;
    if snapshot(&mut tx, Entity::Staff, staff).await?.is_none() {
        return Ok(None);
    }
    let rows = sqlx::query_as(
        "SELECT id, staff_id, start_at, end_at, reason FROM staff_blocks WHERE staff_id = $1 \
           AND ($2::timestamptz IS NULL OR end_at > $2) AND ($3::timestamptz IS NULL OR start_at < $3) \
         ORDER BY start_at LIMIT 1000",
    )
    .bind(staff)
    .bind(from)
    .bind(to)
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(Some(rows))
}

/// Blocks time for a staff member (the caller checks start < end). `None`
/// if the tenant has no such person.
pub async fn add_block(
    tenant: &TenantHandle,
    staff: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    reason: Option<&str>,
    actor: Actor,
) -> Result<Option<Block>, StorageError> {
    let mut tx = tenant.begin().await?;
    if snapshot(&mut tx, Entity::Staff, staff).await?.is_none() {
        return Ok(None);
    }
    let row: Block = sqlx::query_as(
        "INSERT INTO staff_blocks (staff_id, start_at, end_at, reason) VALUES ($1, $2, $3, $4) \
         RETURNING id, staff_id, start_at, end_at, reason",
    )
    .bind(staff)
    .bind(start)
    .bind(end)
    .bind(reason)
    .fetch_one(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    audited(
        &mut tx,
        Action::Insert,
        Entity::Block,
        row.id,
        None,
        Origin::dashboard(actor),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(row))
}

/// Removes a block. False if the tenant has no such block.
pub async fn remove_block(
    tenant: &TenantHandle,
    id: Uuid,
    actor: Actor,
) -> Result<bool, StorageError> {
    let mut tx = tenant.begin().await?;
    let gone: Option<Value> =
        sqlx::query_scalar("DELETE FROM staff_blocks r WHERE r.id = $1 RETURNING to_jsonb(r)")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
    let Some(before) = gone else {
        return Ok(false);
    };
    audit_deleted(
        &mut tx,
        Entity::Block,
        id,
        &before,
        Origin::dashboard(actor),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
