//! The catalogue: services, staff, who offers what, weekly schedules and
//! blocks. Every change is audited (catalog_audits, source 'dashboard').

use axum::Json;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::{ApiJson, ApiPath, ApiQuery, TenantCaller};
use super::check;
use super::error::AppError;
use crate::core::ids::PhoneNumber;
use crate::storage::admin::catalogue::{
    self as cat, Block, CatalogAudit, ScheduleDay, Service, ServiceFields, Staff, StaffFields,
};

// ---- services ---------------------------------------------------------

/// A service's fields. On create, name, duration_min and price are
/// required; on update, what is absent stays as it is.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ServiceInput {
    pub name: Option<String>,
    /// The Swahili name, if it differs.
    pub name_sw: Option<String>,
    pub description: Option<String>,
    /// Minutes, 1 to 1440.
    pub duration_min: Option<i32>,
    /// In the tenant's currency, e.g. "4500.00"; not negative.
    pub price: Option<Decimal>,
    /// Minutes kept free after the service, 0 to 480 (default 15).
    pub buffer_min: Option<i32>,
    pub is_active: Option<bool>,
    pub sort_order: Option<i32>,
}

impl ServiceInput {
    fn check(&self) -> Result<ServiceFields, AppError> {
        if self.duration_min.is_some_and(|d| !(1..=1440).contains(&d)) {
            return Err(AppError::invalid("duration_min must be 1 to 1440"));
        }
        if self.buffer_min.is_some_and(|d| !(0..=480).contains(&d)) {
            return Err(AppError::invalid("buffer_min must be 0 to 480"));
        }
        if self
            .price
            .is_some_and(|p| p.is_sign_negative() || p >= Decimal::from(100_000_000))
        {
            return Err(AppError::invalid(
                "price must be at least 0 and below 100000000",
            ));
        }
        Ok(ServiceFields {
            name: check::optional("name", self.name.as_deref(), 255)?.map(str::to_owned),
            name_sw: check::optional("name_sw", self.name_sw.as_deref(), 255)?.map(str::to_owned),
            description: check::optional("description", self.description.as_deref(), 4000)?
                .map(str::to_owned),
            duration_min: self.duration_min,
            price: self.price,
            buffer_min: self.buffer_min,
            is_active: self.is_active,
            sort_order: self.sort_order,
        })
    }
}

/// Every service, inactive ones too.
#[utoipa::path(get, path = "/services", tag = "catalogue",
    responses((status = 200, body = Vec<Service>)))]
pub async fn list_services(caller: TenantCaller) -> Result<Json<Vec<Service>>, AppError> {
    Ok(Json(cat::services(&caller.handle).await?))
}

/// Adds a service.
#[utoipa::path(post, path = "/services", tag = "catalogue", request_body = ServiceInput,
    responses((status = 201, body = Service)))]
pub async fn create_service(
    caller: TenantCaller,
    ApiJson(body): ApiJson<ServiceInput>,
) -> Result<(StatusCode, Json<Service>), AppError> {
    let f = body.check()?;
    if f.name.is_none() || f.duration_min.is_none() || f.price.is_none() {
        return Err(AppError::invalid(
            "name, duration_min and price are required",
        ));
    }
    let row =
        cat::create_service(&caller.handle, &f, &caller.tenant.currency, caller.actor()).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// Changes a service (what is absent stays).
#[utoipa::path(patch, path = "/services/{id}", tag = "catalogue",
    params(("id" = Uuid, Path, description = "service id")), request_body = ServiceInput,
    responses((status = 200, body = Service)))]
pub async fn update_service(
    caller: TenantCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ServiceInput>,
) -> Result<Json<Service>, AppError> {
    let f = body.check()?;
    cat::update_service(&caller.handle, id, &f, caller.actor())
        .await?
        .map(Json)
        .ok_or(AppError::NotFound)
}

/// Withdraws a service (is_active false: it is no longer offered; past
/// appointments keep it).
#[utoipa::path(delete, path = "/services/{id}", tag = "catalogue",
    params(("id" = Uuid, Path, description = "service id")),
    responses((status = 200, body = Service)))]
pub async fn deactivate_service(
    caller: TenantCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Service>, AppError> {
    let f = ServiceFields {
        is_active: Some(false),
        ..Default::default()
    };
    cat::update_service(&caller.handle, id, &f, caller.actor())
        .await?
        .map(Json)
        .ok_or(AppError::NotFound)
}

// ---- staff ------------------------------------------------------------

/// How a staff member is employed.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmploymentType {
    Permanent,
    Casual,
    CommissionOnly,
    Apprentice,
}

impl EmploymentType {
    fn as_str(self) -> &'static str {
        match self {
            EmploymentType::Permanent => "permanent",
            EmploymentType::Casual => "casual",
            EmploymentType::CommissionOnly => "commission_only",
            EmploymentType::Apprentice => "apprentice",
        }
    }
}

/// A staff member's fields. On create, name is required; on update, what
/// is absent stays as it is.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct StaffInput {
    pub name: Option<String>,
    pub phone_number: Option<String>,
    pub is_active: Option<bool>,
    pub employment_type: Option<EmploymentType>,
    pub hire_date: Option<NaiveDate>,
}

impl StaffInput {
    fn check(&self) -> Result<StaffFields, AppError> {
        let phone = self
            .phone_number
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(PhoneNumber::parse)
            .transpose()
            .map_err(|e| AppError::invalid(format!("phone_number: {e}")))?;
        Ok(StaffFields {
            name: check::optional("name", self.name.as_deref(), 255)?.map(str::to_owned),
            phone_number: phone.map(|p| p.expose().to_owned()),
            is_active: self.is_active,
            employment_type: self.employment_type.map(|e| e.as_str().to_owned()),
            hire_date: self
                .hire_date
                .map(|d| check::date("hire_date", d))
                .transpose()?,
        })
    }
}

/// Every staff member, inactive ones too, with the services each offers.
#[utoipa::path(get, path = "/staff", tag = "catalogue",
    responses((status = 200, body = Vec<Staff>)))]
pub async fn list_staff(caller: TenantCaller) -> Result<Json<Vec<Staff>>, AppError> {
    Ok(Json(cat::staff(&caller.handle).await?))
}

/// Adds a staff member.
#[utoipa::path(post, path = "/staff", tag = "catalogue", request_body = StaffInput,
    responses((status = 201, body = Staff)))]
pub async fn create_staff(
    caller: TenantCaller,
    ApiJson(body): ApiJson<StaffInput>,
) -> Result<(StatusCode, Json<Staff>), AppError> {
    let f = body.check()?;
    if f.name.is_none() {
        return Err(AppError::invalid("name is required"));
    }
    let row = cat::create_staff(&caller.handle, &f, caller.actor()).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// Changes a staff member (what is absent stays).
#[utoipa::path(patch, path = "/staff/{id}", tag = "catalogue",
    params(("id" = Uuid, Path, description = "staff id")), request_body = StaffInput,
    responses((status = 200, body = Staff)))]
pub async fn update_staff(
    caller: TenantCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<StaffInput>,
) -> Result<Json<Staff>, AppError> {
    let f = body.check()?;
    cat::update_staff(&caller.handle, id, &f, caller.actor())
        .await?
        .map(Json)
        .ok_or(AppError::NotFound)
}

/// Deactivates a staff member (no longer offered for bookings).
#[utoipa::path(delete, path = "/staff/{id}", tag = "catalogue",
    params(("id" = Uuid, Path, description = "staff id")),
    responses((status = 200, body = Staff)))]
pub async fn deactivate_staff(
    caller: TenantCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Staff>, AppError> {
    let f = StaffFields {
        is_active: Some(false),
        ..Default::default()
    };
    cat::update_staff(&caller.handle, id, &f, caller.actor())
        .await?
        .map(Json)
        .ok_or(AppError::NotFound)
}

/// Lets a staff member offer a service.
#[utoipa::path(put, path = "/staff/{id}/services/{service_id}", tag = "catalogue",
    params(("id" = Uuid, Path, description = "staff id"),
           ("service_id" = Uuid, Path, description = "service id")),
    responses((status = 200, body = Staff)))]
pub async fn add_staff_service(
    caller: TenantCaller,
    ApiPath((id, service)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<Staff>, AppError> {
    cat::add_staff_service(&caller.handle, id, service, caller.actor())
        .await?
        .map(Json)
        .ok_or(AppError::NotFound)
}

/// Stops a staff member offering a service.
#[utoipa::path(delete, path = "/staff/{id}/services/{service_id}", tag = "catalogue",
    params(("id" = Uuid, Path, description = "staff id"),
           ("service_id" = Uuid, Path, description = "service id")),
    responses((status = 200, body = Staff)))]
pub async fn remove_staff_service(
    caller: TenantCaller,
    ApiPath((id, service)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<Staff>, AppError> {
    cat::remove_staff_service(&caller.handle, id, service, caller.actor())
        .await?
        .map(Json)
        .ok_or(AppError::NotFound)
}

// ---- schedules --------------------------------------------------------

/// A staff member's week (days without a row: not working).
#[utoipa::path(get, path = "/staff/{id}/schedule", tag = "catalogue",
    params(("id" = Uuid, Path, description = "staff id")),
    responses((status = 200, body = Vec<ScheduleDay>)))]
pub async fn get_schedule(
    caller: TenantCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<ScheduleDay>>, AppError> {
    cat::schedule(&caller.handle, id)
        .await?
        .map(Json)
        .ok_or(AppError::NotFound)
}

/// One day's hours.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ScheduleInput {
    /// Local time, "09:00:00".
    #[schema(value_type = String, example = "09:00:00")]
    pub start_time: NaiveTime,
    /// Local time, after start_time, "18:00:00".
    #[schema(value_type = String, example = "18:00:00")]
    pub end_time: NaiveTime,
    /// Default true.
    pub is_available: Option<bool>,
}

fn day_of_week(day: i16) -> Result<i16, AppError> {
    if (0..=6).contains(&day) {
        Ok(day)
    } else {
        Err(AppError::invalid("day_of_week must be 0 (Sunday) to 6"))
    }
}

/// Sets one day of a staff member's week (0 = Sunday … 6 = Saturday).
#[utoipa::path(put, path = "/staff/{id}/schedule/{day_of_week}", tag = "catalogue",
    params(("id" = Uuid, Path, description = "staff id"),
           ("day_of_week" = i16, Path, description = "0 = Sunday … 6 = Saturday")),
    request_body = ScheduleInput, responses((status = 200, body = ScheduleDay)))]
pub async fn set_schedule_day(
    caller: TenantCaller,
    ApiPath((id, day)): ApiPath<(Uuid, i16)>,
    ApiJson(body): ApiJson<ScheduleInput>,
) -> Result<Json<ScheduleDay>, AppError> {
    let day = day_of_week(day)?;
    if body.end_time <= body.start_time {
        return Err(AppError::invalid("end_time must be after start_time"));
    }
    cat::set_schedule_day(
        &caller.handle,
        id,
        day,
        body.start_time,
        body.end_time,
        body.is_available.unwrap_or(true),
        caller.actor(),
    )
    .await?
    .map(Json)
    .ok_or(AppError::NotFound)
}

/// Removes one day from a staff member's week.
#[utoipa::path(delete, path = "/staff/{id}/schedule/{day_of_week}", tag = "catalogue",
    params(("id" = Uuid, Path, description = "staff id"),
           ("day_of_week" = i16, Path, description = "0 = Sunday … 6 = Saturday")),
    responses((status = 204, description = "removed")))]
pub async fn clear_schedule_day(
    caller: TenantCaller,
    ApiPath((id, day)): ApiPath<(Uuid, i16)>,
) -> Result<StatusCode, AppError> {
    let day = day_of_week(day)?;
    if cat::clear_schedule_day(&caller.handle, id, day, caller.actor()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound)
    }
}

// ---- blocks -----------------------------------------------------------

/// Which blocks to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BlockQuery {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// A staff member's blocks overlapping [from, to).
#[utoipa::path(get, path = "/staff/{id}/blocks", tag = "catalogue",
    params(("id" = Uuid, Path, description = "staff id"), BlockQuery),
    responses((status = 200, body = Vec<Block>)))]
pub async fn list_blocks(
    caller: TenantCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<BlockQuery>,
) -> Result<Json<Vec<Block>>, AppError> {
    let from = check::instant_opt("from", q.from)?;
    let to = check::instant_opt("to", q.to)?;
    cat::blocks(&caller.handle, id, from, to)
        .await?
        .map(Json)
        .ok_or(AppError::NotFound)
}

/// Time away.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BlockInput {
    pub start_at: DateTime<Utc>,
    /// After start_at; at most 366 days later.
    pub end_at: DateTime<Utc>,
    pub reason: Option<String>,
}

/// Blocks time for a staff member (sick day, leave): the conversation stops
/// offering it at once.
#[utoipa::path(post, path = "/staff/{id}/blocks", tag = "catalogue",
    params(("id" = Uuid, Path, description = "staff id")), request_body = BlockInput,
    responses((status = 201, body = Block)))]
pub async fn create_block(
    caller: TenantCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<BlockInput>,
) -> Result<(StatusCode, Json<Block>), AppError> {
    check::instant("start_at", body.start_at)?;
    check::instant("end_at", body.end_at)?;
    if body.end_at <= body.start_at {
        return Err(AppError::invalid("end_at must be after start_at"));
    }
    if body.end_at - body.start_at > chrono::Duration::days(366) {
        return Err(AppError::invalid("a block is at most 366 days"));
    }
    let reason = check::optional("reason", body.reason.as_deref(), 255)?;
    let row = cat::add_block(
        &caller.handle,
        id,
        body.start_at,
        body.end_at,
        reason,
        caller.actor(),
    )
    .await?
    .ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// Removes a block.
#[utoipa::path(delete, path = "/blocks/{id}", tag = "catalogue",
    params(("id" = Uuid, Path, description = "block id")),
    responses((status = 204, description = "removed")))]
pub async fn delete_block(
    caller: TenantCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, AppError> {
    if cat::remove_block(&caller.handle, id, caller.actor()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound)
    }
}

/// How many audit rows.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// 1 to 500, default 100.
    pub limit: Option<i64>,
}

impl AuditQuery {
    pub fn limit(&self) -> Result<i64, AppError> {
        match self.limit {
            None => Ok(100),
            Some(n) if (1..=500).contains(&n) => Ok(n),
            Some(_) => Err(AppError::invalid("limit must be 1 to 500")),
        }
    }
}

/// The newest catalogue changes.
#[utoipa::path(get, path = "/catalog/audits", tag = "catalogue", params(AuditQuery),
    responses((status = 200, body = Vec<CatalogAudit>)))]
pub async fn list_catalog_audits(
    caller: TenantCaller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<CatalogAudit>>, AppError> {
    Ok(Json(cat::audits(&caller.handle, q.limit()?).await?))
}
