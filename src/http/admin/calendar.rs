//! The calendar: appointments by day, staff and status; book, move,
//! cancel; mark completed or no-show.

use axum::Json;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::{ApiJson, ApiPath, ApiQuery, TenantCaller};
use super::check;
use super::error::AppError;
use crate::core::ids::PhoneNumber;
use crate::storage::admin::calendar::{
    self, Appointment, AppointmentStatus, Filter, NewAppointment, Visit,
};

/// Which appointments to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AppointmentQuery {
    /// The day, in the tenant's time zone (default: today there).
    pub date: Option<NaiveDate>,
    /// How many days from `date` (1 to 31, default 1).
    pub days: Option<u32>,
    pub staff_id: Option<Uuid>,
    pub status: Option<AppointmentStatus>,
}

/// Lists appointments by day, staff member and status.
#[utoipa::path(get, path = "/appointments", tag = "calendar", params(AppointmentQuery),
    responses((status = 200, body = Vec<Appointment>)))]
pub async fn list_appointments(
    caller: TenantCaller,
    ApiQuery(q): ApiQuery<AppointmentQuery>,
) -> Result<Json<Vec<Appointment>>, AppError> {
    let tz = caller.tz();
    let days = q.days.unwrap_or(1);
    if !(1..=31).contains(&days) {
        return Err(AppError::invalid("days must be 1 to 31"));
    }
    let day = match q.date {
        Some(d) => check::date("date", d)?,
        None => Utc::now().with_timezone(&tz).date_naive(),
    };
    let (from, _) = calendar::day_bounds(day, tz);
    let last = day
        .checked_add_days(chrono::Days::new(u64::from(days - 1)))
        .ok_or_else(|| AppError::invalid("date out of range"))?;
    let (_, to) = calendar::day_bounds(last, tz);
    let filter = Filter {
        from: Some(from),
        to: Some(to),
        staff_id: q.staff_id,
        status: q.status,
    };
    Ok(Json(calendar::list(&caller.handle, &filter).await?))
}

/// One appointment.
#[utoipa::path(get, path = "/appointments/{id}", tag = "calendar",
    params(("id" = Uuid, Path, description = "appointment id")),
    responses((status = 200, body = Appointment)))]
pub async fn get_appointment(
    caller: TenantCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Appointment>, AppError> {
    calendar::get(&caller.handle, id)
        .await?
        .map(Json)
        .ok_or(AppError::NotFound)
}

/// A booking made by the business.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateAppointment {
    /// The customer's phone (+2547…, 07…).
    pub customer_phone: String,
    pub customer_name: Option<String>,
    pub service_id: Uuid,
    pub staff_id: Uuid,
    pub start_at: DateTime<Utc>,
}

/// Books a customer in (booking_channel 'dashboard'); 409 if the time is
/// not free for that staff member.
#[utoipa::path(post, path = "/appointments", tag = "calendar", request_body = CreateAppointment,
    responses((status = 201, body = Appointment)))]
pub async fn create_appointment(
    caller: TenantCaller,
    ApiJson(body): ApiJson<CreateAppointment>,
) -> Result<(StatusCode, Json<Appointment>), AppError> {
    let phone = PhoneNumber::parse(&body.customer_phone)
        .map_err(|e| AppError::invalid(format!("customer_phone: {e}")))?;
    let name = check::optional("customer_name", body.customer_name.as_deref(), 200)?;
    let row = calendar::create(
        &caller.handle,
        &NewAppointment {
            customer: &phone,
            customer_name: name,
            service_id: body.service_id,
            staff_id: body.staff_id,
            start_at: check::instant("start_at", body.start_at)?,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// A new time.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MoveAppointment {
    pub start_at: DateTime<Utc>,
    /// Another staff member (who offers the service); default: the same.
    pub staff_id: Option<Uuid>,
}

/// Moves a pending or confirmed appointment; 409 if the time is not free.
#[utoipa::path(post, path = "/appointments/{id}/move", tag = "calendar",
    params(("id" = Uuid, Path, description = "appointment id")), request_body = MoveAppointment,
    responses((status = 200, body = Appointment)))]
pub async fn move_appointment(
    caller: TenantCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<MoveAppointment>,
) -> Result<Json<Appointment>, AppError> {
    Ok(Json(
        calendar::move_to(
            &caller.handle,
            id,
            check::instant("start_at", body.start_at)?,
            body.staff_id,
        )
        .await?,
    ))
}

/// Why the business cancels.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CancelAppointment {
    pub reason: Option<String>,
}

/// Cancels a pending or confirmed appointment (cancelled_by 'admin').
#[utoipa::path(post, path = "/appointments/{id}/cancel", tag = "calendar",
    params(("id" = Uuid, Path, description = "appointment id")), request_body = CancelAppointment,
    responses((status = 200, body = Appointment)))]
pub async fn cancel_appointment(
    caller: TenantCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CancelAppointment>,
) -> Result<Json<Appointment>, AppError> {
    let reason = check::optional("reason", body.reason.as_deref(), 500)?;
    Ok(Json(calendar::cancel(&caller.handle, id, reason).await?))
}

/// How the visit went.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CompleteAppointment {
    /// Default: the booked start.
    pub actual_start_at: Option<DateTime<Utc>>,
    /// Default: the booked end.
    pub actual_end_at: Option<DateTime<Utc>>,
    /// In the tenant's currency, e.g. "200.00".
    pub tip_amount: Option<Decimal>,
    pub staff_notes: Option<String>,
}

/// Marks a pending or confirmed appointment completed.
#[utoipa::path(post, path = "/appointments/{id}/complete", tag = "calendar",
    params(("id" = Uuid, Path, description = "appointment id")), request_body = CompleteAppointment,
    responses((status = 200, body = Appointment)))]
pub async fn complete_appointment(
    caller: TenantCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CompleteAppointment>,
) -> Result<Json<Appointment>, AppError> {
    let notes = check::optional("staff_notes", body.staff_notes.as_deref(), 2000)?;
    let visit = Visit {
        actual_start_at: check::instant_opt("actual_start_at", body.actual_start_at)?,
        actual_end_at: check::instant_opt("actual_end_at", body.actual_end_at)?,
        tip_amount: body.tip_amount,
        staff_notes: notes,
    };
    Ok(Json(calendar::complete(&caller.handle, id, &visit).await?))
}

/// Notes on a no-show.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NoShow {
    pub staff_notes: Option<String>,
}

/// Marks a pending or confirmed appointment a no-show.
#[utoipa::path(post, path = "/appointments/{id}/no-show", tag = "calendar",
    params(("id" = Uuid, Path, description = "appointment id")), request_body = NoShow,
    responses((status = 200, body = Appointment)))]
pub async fn no_show_appointment(
    caller: TenantCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<NoShow>,
) -> Result<Json<Appointment>, AppError> {
    let notes = check::optional("staff_notes", body.staff_notes.as_deref(), 2000)?;
    Ok(Json(calendar::no_show(&caller.handle, id, notes).await?))
}
