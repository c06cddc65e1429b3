//! Services: list, add, change (and, for an import's rollback, restore a
//! snapshot or remove). The `_in` functions run in the caller's
//! transaction (an import changes many services in one); the others open
//! their own.

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{CatalogueRow, Entity, Origin, audit_deleted, inserted, list, snapshot, updated};
use crate::storage::admin::Actor;
use crate::storage::{StorageError, TenantHandle, TenantTx};

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

impl CatalogueRow for Service {
    const ENTITY: Entity = Entity::Service;
    const SELECT: &'static str = "SELECT id, name, name_sw, description, duration_min, price, \
         currency, buffer_min, is_active, sort_order FROM services";
    const ID: &'static str = "id";
    const ORDER: &'static str = "sort_order, name, id";
}

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

impl ServiceFields {
    /// Only is_active is set (the change is a toggle).
    fn only_toggle(&self) -> bool {
        self.is_active.is_some()
            && self.name.is_none()
            && self.name_sw.is_none()
            && self.description.is_none()
            && self.duration_min.is_none()
            && self.price.is_none()
            && self.buffer_min.is_none()
            && self.sort_order.is_none()
    }
}

/// Every service (inactive ones too), in display order.
pub async fn services(tenant: &TenantHandle) -> Result<Vec<Service>, StorageError> {
    list(tenant).await
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
    let row = create_service_in(&mut tx, f, currency, Origin::dashboard(actor)).await?;
    tx.commit().await?;
    Ok(row)
}

/// [`create_service`] in the caller's transaction, audited as `origin`.
pub async fn create_service_in(
    tx: &mut TenantTx,
    f: &ServiceFields,
    currency: &str,
    origin: Origin,
) -> Result<Service, StorageError> {
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
    inserted(tx, id, origin).await
}

/// Changes a service; `None` when the tenant has no such service.
pub async fn update_service(
    tenant: &TenantHandle,
    id: Uuid,
    f: &ServiceFields,
    actor: Actor,
) -> Result<Option<Service>, StorageError> {
    let mut tx = tenant.begin().await?;
    let row = update_service_in(&mut tx, id, f, Origin::dashboard(actor)).await?;
    tx.commit().await?;
    Ok(row)
}

/// [`update_service`] in the caller's transaction, audited as `origin`.
pub async fn update_service_in(
    tx: &mut TenantTx,
    id: Uuid,
    f: &ServiceFields,
    origin: Origin,
) -> Result<Option<Service>, StorageError> {
    let Some(before) = snapshot(tx, Entity::Service, id).await? else {
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
    updated(tx, id, before, f.only_toggle(), origin).await
}

/// The service `id` as JSON, locked for a change (`None`: no such
/// service). What an import snapshots and a rollback restores.
pub(super) async fn service_snapshot(
    tx: &mut TenantTx,
    id: Uuid,
) -> Result<Option<Value>, StorageError> {
    snapshot(tx, Entity::Service, id).await
}

/// Puts service `id` back as `saved` (a [`service_snapshot`]): every
/// column the business edits. False if the service is gone.
pub(super) async fn restore_service_in(
    tx: &mut TenantTx,
    id: Uuid,
    saved: &Value,
    origin: Origin,
) -> Result<bool, StorageError> {
    let Some(before) = snapshot(tx, Entity::Service, id).await? else {
        return Ok(false);
    };
    sqlx::query(
        "UPDATE services s SET name = r.name, name_sw = r.name_sw, description = r.description, \
           duration_min = r.duration_min, price = r.price, currency = r.currency, \
           buffer_min = r.buffer_min, is_active = r.is_active, sort_order = r.sort_order, \
           updated_at = NOW() \
         FROM jsonb_populate_record(NULL::services, $2) r WHERE s.id = $1",
    )
    .bind(id)
    .bind(saved)
    .execute(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    updated::<Service>(tx, id, before, false, origin).await?;
    Ok(true)
}

/// What [`remove_service_in`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Removed {
    /// The row is gone (with who offered it).
    Deleted,
    /// Appointments refer to it: withdrawn (is_active false) instead.
    Deactivated,
    /// There was no such service.
    Missing,
}

/// Removes service `id` (an import's rollback of a service it created):
/// deleted, with the staff_services rows that offered it, each audited;
/// withdrawn instead if appointments refer to it.
pub(super) async fn remove_service_in(
    tx: &mut TenantTx,
    id: Uuid,
    origin: Origin,
) -> Result<Removed, StorageError> {
    let Some(before) = snapshot(tx, Entity::Service, id).await? else {
        return Ok(Removed::Missing);
    };
    let booked: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM appointments WHERE service_id = $1)")
            .bind(id)
            .fetch_one(tx.conn())
            .await?;
    if booked {
        let off = ServiceFields {
            is_active: Some(false),
            ..Default::default()
        };
        update_service_in(tx, id, &off, origin).await?;
        return Ok(Removed::Deactivated);
    }
    let offered: Vec<(Uuid, Value)> = sqlx::query_as(
        "DELETE FROM staff_services r WHERE service_id = $1 RETURNING r.id, to_jsonb(r)",
    )
    .bind(id)
    .fetch_all(tx.conn())
    .await?;
    for (link, was) in offered {
        audit_deleted(tx, Entity::StaffService, link, &was, origin).await?;
    }
    sqlx::query("DELETE FROM services WHERE id = $1")
        .bind(id)
        .execute(tx.conn())
        .await?;
    audit_deleted(tx, Entity::Service, id, &before, origin).await?;
    Ok(Removed::Deleted)
}
