//! The catalogue: services, staff, who does what (staff_services), weekly
//! schedules and blocks (sick days, leave). Every change writes a
//! catalog_audits row in the same transaction: the row before and after
//! (as JSON), the admin, source 'dashboard', and which table (entity,
//! tenant migration 0011). The conversation reads these tables on every
//! turn, so a change is offered (or no longer offered) at once.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
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

/// Writes one catalog_audits row (source 'dashboard').
pub(super) async fn audit(
    tx: &mut TenantTx,
    action: Action,
    entity: Entity,
    id: Uuid,
    before: Option<&Value>,
    after: Option<&Value>,
    actor: Actor,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO catalog_audits (action, service_id, entity, before, after, actor_admin_id, source) \
         VALUES ($1, $2, $3, $4, $5, $6, 'dashboard')",
    )
    .bind(action.as_str())
    .bind(id)
    .bind(entity.name())
    .bind(before)
    .bind(after)
    .bind(actor.admin_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Audits a change already made to row `id`, given its state before;
/// returns the row after.
pub(super) async fn audited(
    tx: &mut TenantTx,
    action: Action,
    entity: Entity,
    id: Uuid,
    before: Option<Value>,
    actor: Actor,
) -> Result<Option<Value>, StorageError> {
    let after = snapshot(tx, entity, id).await?;
    audit(
        tx,
        action,
        entity,
        id,
        before.as_ref(),
        after.as_ref(),
        actor,
    )
    .await?;
    Ok(after)
}

// ---- services ---------------------------------------------------------

/// A service the business offers.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Service {
    pub id: Uuid,
    pub name: String,
    pub name_sw: Option<String>,
    pub description: Option<String>,
    pub duration_min: i32,
    pub price: Decimal,
    pub currency: Option<String>,
    pub buffer_min: Option<i32>,
    pub is_active: Option<bool>,
    pub sort_order: Option<i32>,
}

const SERVICE_COLUMNS: &str = "id, name, name_sw, description, duration_min, price, currency, \
     buffer_min, is_active, sort_order";

/// A service's fields; `None` keeps the current value (on create: the
/// column's default).
#[derive(Debug, Clone, Default)]
pub struct ServiceFields {
    pub name: Option<String>,
    pub name_sw: Option<String>,
    pub description: Option<String>,
    pub duration_min: Option<i32>,
    pub price: Option<Decimal>,
    pub buffer_min: Option<i32>,
    pub is_active: Option<bool>,
    pub sort_order: Option<i32>,
}

/// Every service (inactive ones too), in display order.
pub async fn services(tenant: &TenantHandle) -> Result<Vec<Service>, StorageError> {
    let mut tx = tenant.begin().await?;
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SERVICE_COLUMNS} FROM services ORDER BY sort_order, name, id"
    )))
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(rows)
}

async fn service_row(tx: &mut TenantTx, id: Uuid) -> Result<Option<Service>, StorageError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SERVICE_COLUMNS} FROM services WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?)
}

/// Adds a service priced in `currency`. Name, duration and price are
/// required (the caller checks).
pub async fn create_service(
    tenant: &TenantHandle,
    f: &ServiceFields,
    currency: &str,
    actor: Actor,
) -> Result<Service, StorageError> {
    let mut tx = tenant.begin().await?;
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO services (name, name_sw, description, duration_min, price, currency, \
           buffer_min, is_active, sort_order) \
         VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7, 15), COALESCE($8, TRUE), COALESCE($9, 0)) \
         RETURNING id",
    )
    .bind(&f.name)
    .bind(&f.name_sw)
    .bind(&f.description)
    .bind(f.duration_min)
    .bind(f.price)
    .bind(currency)
    .bind(f.buffer_min)
    .bind(f.is_active)
    .bind(f.sort_order)
    .fetch_one(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    audited(&mut tx, Action::Insert, Entity::Service, id, None, actor).await?;
    let row = service_row(&mut tx, id).await?;
    tx.commit().await?;
    row.ok_or_else(|| StorageError::Corrupt("inserted service vanished".into()))
}

/// Changes a service; `None` when the tenant has no such service.
pub async fn update_service(
    tenant: &TenantHandle,
    id: Uuid,
    f: &ServiceFields,
    actor: Actor,
) -> Result<Option<Service>, StorageError> {
    let mut tx = tenant.begin().await?;
    let Some(before) = snapshot(&mut tx, Entity::Service, id).await? else {
        return Ok(None);
    };
    sqlx::query(
        "UPDATE services SET name = COALESCE($2, name), name_sw = COALESCE($3, name_sw), \
           description = COALESCE($4, description), duration_min = COALESCE($5, duration_min), \
           price = COALESCE($6, price), buffer_min = COALESCE($7, buffer_min), \
           is_active = COALESCE($8, is_active), sort_order = COALESCE($9, sort_order), \
           updated_at = NOW() WHERE id = $1",
    )
    .bind(id)
    .bind(&f.name)
    .bind(&f.name_sw)
    .bind(&f.description)
    .bind(f.duration_min)
    .bind(f.price)
    .bind(f.buffer_min)
    .bind(f.is_active)
    .bind(f.sort_order)
    .execute(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    let action = if f.is_active.is_some() && only_toggle_service(f) {
        Action::Toggle
    } else {
        Action::Update
    };
    audited(&mut tx, action, Entity::Service, id, Some(before), actor).await?;
    let row = service_row(&mut tx, id).await?;
    tx.commit().await?;
    Ok(row)
}

fn only_toggle_service(f: &ServiceFields) -> bool {
    f.name.is_none()
        && f.name_sw.is_none()
        && f.description.is_none()
        && f.duration_min.is_none()
        && f.price.is_none()
        && f.buffer_min.is_none()
        && f.sort_order.is_none()
}

// ---- staff ------------------------------------------------------------

/// A staff member.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Staff {
    pub id: Uuid,
    pub name: String,
    pub phone_number: Option<String>,
    pub is_active: Option<bool>,
    /// permanent | casual | commission_only | apprentice
    pub employment_type: Option<String>,
    pub hire_date: Option<NaiveDate>,
    /// The service ids this person offers.
    pub service_ids: Vec<Uuid>,
}

const STAFF_SELECT: &str = "SELECT s.id, s.name, s.phone_number, s.is_active, s.employment_type, \
       s.hire_date, COALESCE(ARRAY(SELECT ss.service_id FROM staff_services ss \
         WHERE ss.staff_id = s.id AND ss.service_id IS NOT NULL ORDER BY ss.service_id), '{}') AS service_ids \
     FROM staff s";

/// A staff member's fields; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct StaffFields {
    pub name: Option<String>,
    pub phone_number: Option<String>,
    pub is_active: Option<bool>,
    pub employment_type: Option<String>,
    pub hire_date: Option<NaiveDate>,
}

/// Every staff member (inactive ones too), by name.
pub async fn staff(tenant: &TenantHandle) -> Result<Vec<Staff>, StorageError> {
    let mut tx = tenant.begin().await?;
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{STAFF_SELECT} ORDER BY s.name, s.id"
    )))
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(rows)
}

async fn staff_row(tx: &mut TenantTx, id: Uuid) -> Result<Option<Staff>, StorageError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{STAFF_SELECT} WHERE s.id = $1"
    )))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?)
}

/// Adds a staff member (name required: the caller checks).
pub async fn create_staff(
    tenant: &TenantHandle,
    f: &StaffFields,
    actor: Actor,
) -> Result<Staff, StorageError> {
    let mut tx = tenant.begin().await?;
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO staff (name, phone_number, is_active, employment_type, hire_date) \
         VALUES ($1, $2, COALESCE($3, TRUE), COALESCE($4, 'permanent'), $5) RETURNING id",
    )
    .bind(&f.name)
    .bind(&f.phone_number)
    .bind(f.is_active)
    .bind(&f.employment_type)
    .bind(f.hire_date)
    .fetch_one(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    audited(&mut tx, Action::Insert, Entity::Staff, id, None, actor).await?;
    let row = staff_row(&mut tx, id).await?;
    tx.commit().await?;
    row.ok_or_else(|| StorageError::Corrupt("inserted staff vanished".into()))
}

/// Changes a staff member; `None` when the tenant has no such person.
pub async fn update_staff(
    tenant: &TenantHandle,
    id: Uuid,
    f: &StaffFields,
    actor: Actor,
) -> Result<Option<Staff>, StorageError> {
    let mut tx = tenant.begin().await?;
    let Some(before) = snapshot(&mut tx, Entity::Staff, id).await? else {
        return Ok(None);
    };
    sqlx::query(
        "UPDATE staff SET name = COALESCE($2, name), phone_number = COALESCE($3, phone_number), \
           is_active = COALESCE($4, is_active), employment_type = COALESCE($5, employment_type), \
           hire_date = COALESCE($6, hire_date), updated_at = NOW() WHERE id = $1",
    )
    .bind(id)
    .bind(&f.name)
    .bind(&f.phone_number)
    .bind(f.is_active)
    .bind(&f.employment_type)
    .bind(f.hire_date)
    .execute(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    let toggle = f.is_active.is_some()
        && f.name.is_none()
        && f.phone_number.is_none()
        && f.employment_type.is_none()
        && f.hire_date.is_none();
    let action = if toggle {
        Action::Toggle
    } else {
        Action::Update
    };
    audited(&mut tx, action, Entity::Staff, id, Some(before), actor).await?;
    let row = staff_row(&mut tx, id).await?;
    tx.commit().await?;
    Ok(row)
}

/// Whether the staff member and the service both exist (for this tenant).
async fn both_exist(tx: &mut TenantTx, staff: Uuid, service: Uuid) -> Result<bool, StorageError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM staff WHERE id = $1) AND EXISTS (SELECT 1 FROM services WHERE id = $2)",
    )
    .bind(staff)
    .bind(service)
    .fetch_one(tx.conn())
    .await?)
}

/// Lets a staff member offer a service. `None` if either is unknown;
/// adding a pair twice changes nothing.
pub async fn add_staff_service(
    tenant: &TenantHandle,
    staff: Uuid,
    service: Uuid,
    actor: Actor,
) -> Result<Option<Staff>, StorageError> {
    let mut tx = tenant.begin().await?;
    if !both_exist(&mut tx, staff, service).await? {
        return Ok(None);
    }
    let id: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO staff_services (staff_id, service_id) VALUES ($1, $2) \
         ON CONFLICT (staff_id, service_id) DO NOTHING RETURNING id",
    )
    .bind(staff)
    .bind(service)
    .fetch_optional(tx.conn())
    .await?;
    if let Some(id) = id {
        audited(
            &mut tx,
            Action::Insert,
            Entity::StaffService,
            id,
            None,
            actor,
        )
        .await?;
    }
    let row = staff_row(&mut tx, staff).await?;
    tx.commit().await?;
    Ok(row)
}

/// Stops a staff member offering a service. `None` if either is unknown.
pub async fn remove_staff_service(
    tenant: &TenantHandle,
    staff: Uuid,
    service: Uuid,
    actor: Actor,
) -> Result<Option<Staff>, StorageError> {
    let mut tx = tenant.begin().await?;
    if !both_exist(&mut tx, staff, service).await? {
        return Ok(None);
    }
    let gone: Option<(Uuid, Value)> = sqlx::query_as(
        "DELETE FROM staff_services r WHERE staff_id = $1 AND service_id = $2 \
         RETURNING r.id, to_jsonb(r)",
    )
    .bind(staff)
    .bind(service)
    .fetch_optional(tx.conn())
    .await?;
    if let Some((id, before)) = gone {
        audit(
            &mut tx,
            Action::Delete,
            Entity::StaffService,
            id,
            Some(&before),
            None,
            actor,
        )
        .await?;
    }
    let row = staff_row(&mut tx, staff).await?;
    tx.commit().await?;
    Ok(row)
}

// ---- weekly schedules -------------------------------------------------

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
    let action = if before.is_some() {
        Action::Update
    } else {
        Action::Insert
    };
    audited(&mut tx, action, Entity::Schedule, row.id, before, actor).await?;
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
    audit(
        &mut tx,
        Action::Delete,
        Entity::Schedule,
        id,
        Some(&before),
        None,
        actor,
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
    audited(&mut tx, Action::Insert, Entity::Block, row.id, None, actor).await?;
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
    audit(
        &mut tx,
        Action::Delete,
        Entity::Block,
        id,
        Some(&before),
        None,
        actor,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
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
