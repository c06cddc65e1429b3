//! Staff members and who offers what (staff_services).

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    Action, CatalogueRow, Entity, Origin, audit_deleted, audited, inserted, list, row, snapshot,
    updated,
};
use crate::storage::admin::Actor;
use crate::storage::{StorageError, TenantHandle, TenantTx};

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

impl CatalogueRow for Staff {
    const ENTITY: Entity = Entity::Staff;
    const SELECT: &'static str = "SELECT s.id, s.name, s.phone_number, s.is_active, \
           s.employment_type, s.hire_date, COALESCE(ARRAY(SELECT ss.service_id FROM staff_services ss \
         WHERE ss.staff_id = s.id AND ss.service_id IS NOT NULL ORDER BY ss.service_id), '{}') AS service_ids \
     FROM staff s";
    const ID: &'static str = "s.id";
    const ORDER: &'static str = "s.name, s.id";
}

/// A staff member's fields; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct StaffFields {
    pub name: Option<String>,
    pub phone_number: Option<String>,
    pub is_active: Option<bool>,
    pub employment_type: Option<String>,
    pub hire_date: Option<NaiveDate>,
}

impl StaffFields {
    /// Only is_active is set (the change is a toggle).
    fn only_toggle(&self) -> bool {
        self.is_active.is_some()
            && self.name.is_none()
            && self.phone_number.is_none()
            && self.employment_type.is_none()
            && self.hire_date.is_none()
    }
}

/// Every staff member (inactive ones too), by name.
pub async fn staff(tenant: &TenantHandle) -> Result<Vec<Staff>, StorageError> {
    list(tenant).await
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
    let row = inserted(&mut tx, id, Origin::dashboard(actor)).await?;
    tx.commit().await?;
    Ok(row)
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
    let row = updated(
        &mut tx,
        id,
        before,
        f.only_toggle(),
        Origin::dashboard(actor),
    )
    .await?;
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
            Origin::dashboard(actor),
        )
        .await?;
    }
    let row = row(&mut tx, staff).await?;
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
        audit_deleted(
            &mut tx,
            Entity::StaffService,
            id,
            &before,
            Origin::dashboard(actor),
        )
        .await?;
    }
    let row = row(&mut tx, staff).await?;
    tx.commit().await?;
    Ok(row)
}
