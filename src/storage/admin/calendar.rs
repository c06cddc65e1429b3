//! The calendar: appointments by day, staff and status; booking, moving and
//! cancelling on the customer's behalf; marking a visit completed or a
//! no-show. Bookings and moves go through the same locked checks as the
//! conversation's ([`crate::storage::booking`]).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::core::dialog::Channel;
use crate::core::ids::PhoneNumber;
use crate::storage::booking::{self, BookingError, NewBooking};
use crate::storage::{StorageError, TenantHandle, TenantTx};

/// An appointment with its customer, service and staff member.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Appointment {
    pub id: Uuid,
    pub contact_id: Option<Uuid>,
    pub customer_phone: Option<String>,
    pub customer_name: Option<String>,
    pub service_id: Option<Uuid>,
    pub service_name: Option<String>,
    pub staff_id: Option<Uuid>,
    pub staff_name: Option<String>,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
    /// pending | confirmed | cancelled | completed | no_show
    pub status: Option<String>,
    /// unpaid | pending | paid | refunded
    pub payment_status: Option<String>,
    pub amount: Option<Decimal>,
    pub booking_channel: Option<String>,
    pub cancelled_by: Option<String>,
    pub cancel_reason: Option<String>,
    pub actual_start_at: Option<DateTime<Utc>>,
    pub actual_end_at: Option<DateTime<Utc>>,
    pub tip_amount: Option<Decimal>,
    pub staff_notes: Option<String>,
}

/// An appointment's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    Pending,
    Confirmed,
    Cancelled,
    Completed,
    NoShow,
}

impl AppointmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AppointmentStatus::Pending => "pending",
            AppointmentStatus::Confirmed => "confirmed",
            AppointmentStatus::Cancelled => "cancelled",
            AppointmentStatus::Completed => "completed",
            AppointmentStatus::NoShow => "no_show",
        }
    }
}

const SELECT: &str = "SELECT a.id, a.contact_id, c.phone_number AS customer_phone, \
       c.name AS customer_name, a.service_id, s.name AS service_name, a.staff_id, \
       st.name AS staff_name, a.start_at, a.end_at, a.status, a.payment_status, a.amount, \
       a.booking_channel, a.cancelled_by, a.cancel_reason, a.actual_start_at, a.actual_end_at, \
       a.tip_amount, a.staff_notes \
     FROM appointments a LEFT JOIN contacts c ON c.id = a.contact_id \
     LEFT JOIN services s ON s.id = a.service_id LEFT JOIN staff st ON st.id = a.staff_id";

/// Which appointments to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub staff_id: Option<Uuid>,
    pub status: Option<AppointmentStatus>,
}

/// Appointments starting in [from, to), by start time.
pub async fn list(tenant: &TenantHandle, f: &Filter) -> Result<Vec<Appointment>, StorageError> {
    let mut tx = tenant.begin().await?;
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE ($1::timestamptz IS NULL OR a.start_at >= $1) \
           AND ($2::timestamptz IS NULL OR a.start_at < $2) \
           AND ($3::uuid IS NULL OR a.staff_id = $3) AND ($4::text IS NULL OR a.status = $4) \
         ORDER BY a.start_at, a.id LIMIT 1000"
    )))
    .bind(f.from)
    .bind(f.to)
    .bind(f.staff_id)
    .bind(f.status.map(AppointmentStatus::as_str))
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(rows)
}

async fn one(tx: &mut TenantTx, id: Uuid) -> Result<Option<Appointment>, StorageError> {
    Ok(
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE a.id = $1")))
            .bind(id)
            .fetch_optional(tx.conn())
            .await?,
    )
}

/// One appointment.
pub async fn get(tenant: &TenantHandle, id: Uuid) -> Result<Option<Appointment>, StorageError> {
    let mut tx = tenant.begin().await?;
    let row = one(&mut tx, id).await?;
    tx.commit().await?;
    Ok(row)
}

/// A booking made by the business for a customer.
#[derive(Debug, Clone)]
pub struct NewAppointment<'a> {
    pub customer: &'a PhoneNumber,
    pub customer_name: Option<&'a str>,
    pub service_id: Uuid,
    pub staff_id: Uuid,
    pub start_at: DateTime<Utc>,
}

/// Books a time for a customer (booking_channel 'dashboard'), if the staff
/// member offers the service and the time is free.
pub async fn create(
    tenant: &TenantHandle,
    new: &NewAppointment<'_>,
) -> Result<Appointment, BookingError> {
    let mut tx = tenant.begin().await?;
    let contact: Uuid = sqlx::query_scalar(
        "INSERT INTO contacts (phone_number, name) VALUES ($1, $2) \
         ON CONFLICT (phone_number) DO UPDATE SET name = COALESCE(contacts.name, EXCLUDED.name), \
           updated_at = NOW() RETURNING id",
    )
    .bind(new.customer.expose())
    .bind(new.customer_name)
    .fetch_one(tx.conn())
    .await?;
    let booked = booking::book(
        &mut tx,
        &NewBooking {
            contact_id: contact,
            service_id: new.service_id,
            staff_id: new.staff_id,
            start: new.start_at,
            channel: Channel::WhatsApp,
            customer: new.customer,
        },
    )
    .await?;
    // The conversation's channels are whatsapp and voice; this one was
    // booked at the desk.
    sqlx::query("UPDATE appointments SET booking_channel = 'dashboard' WHERE id = $1")
        .bind(booked.id)
        .execute(tx.conn())
        .await?;
    let row = one(&mut tx, booked.id)
        .await?
        .ok_or(BookingError::NotFound)?;
    tx.commit().await?;
    Ok(row)
}

/// Why an appointment could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// No such appointment for this tenant.
    #[error("not found")]
    NotFound,
    /// Its status does not allow the change (e.g. completing a cancelled one).
    #[error("the appointment is {0}")]
    WrongStatus(String),
    /// The new time is taken.
    #[error("the time is no longer free")]
    SlotTaken,
    /// The input is inconsistent (e.g. the visit ends before it starts).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sqlx::Error> for ChangeError {
    fn from(e: sqlx::Error) -> Self {
        ChangeError::Storage(StorageError::classify(e))
    }
}

impl From<BookingError> for ChangeError {
    fn from(e: BookingError) -> Self {
        match e {
            BookingError::SlotTaken => ChangeError::SlotTaken,
            BookingError::NotFound => ChangeError::NotFound,
            BookingError::Storage(s) => ChangeError::Storage(s),
        }
    }
}

/// Locks the appointment and returns (status, service, staff, contact,
/// amount, start, end); refuses statuses outside `allowed`.
async fn lock_open(
    tx: &mut TenantTx,
    id: Uuid,
    allowed: &[&str],
) -> Result<LockedRow, ChangeError> {
    let row: Option<LockedRow> = sqlx::query_as(
        "SELECT COALESCE(status, 'pending') AS status, service_id, staff_id, contact_id, \
           COALESCE(amount, 0) AS amount, start_at, end_at FROM appointments WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    let row = row.ok_or(ChangeError::NotFound)?;
    if !allowed.contains(&row.status.as_str()) {
        return Err(ChangeError::WrongStatus(row.status));
    }
    Ok(row)
}

#[derive(sqlx::FromRow)]
struct LockedRow {
    status: String,
    service_id: Option<Uuid>,
    staff_id: Option<Uuid>,
    contact_id: Option<Uuid>,
    amount: Decimal,
    start_at: DateTime<Utc>,
    end_at: DateTime<Utc>,
}

const OPEN: &[&str] = &["pending", "confirmed"];

/// Moves a pending or confirmed appointment to `start_at` (and maybe
/// another staff member who offers the service).
pub async fn move_to(
    tenant: &TenantHandle,
    id: Uuid,
    start_at: DateTime<Utc>,
    staff_id: Option<Uuid>,
) -> Result<Appointment, ChangeError> {
    let mut tx = tenant.begin().await?;
    let row = lock_open(&mut tx, id, OPEN).await?;
    let (Some(service), Some(staff)) = (row.service_id, staff_id.or(row.staff_id)) else {
        return Err(ChangeError::Invalid(
            "the appointment has no service or staff member to move".into(),
        ));
    };
    booking::move_checked(&mut tx, id, service, staff, start_at).await?;
    let out = one(&mut tx, id).await?.ok_or(ChangeError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Cancels a pending or confirmed appointment (cancelled_by 'admin') and
/// takes it off the customer's totals.
pub async fn cancel(
    tenant: &TenantHandle,
    id: Uuid,
    reason: Option<&str>,
) -> Result<Appointment, ChangeError> {
    let mut tx = tenant.begin().await?;
    let row = lock_open(&mut tx, id, OPEN).await?;
    sqlx::query(
        "UPDATE appointments SET status = 'cancelled', cancelled_by = 'admin', \
           cancel_reason = COALESCE($2, 'cancelled by the business'), updated_at = NOW() WHERE id = $1",
    )
    .bind(id)
    .bind(reason)
    .execute(tx.conn())
    .await?;
    booking::take_off_totals(&mut tx, row.contact_id, row.amount).await?;
    let out = one(&mut tx, id).await?.ok_or(ChangeError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// How a visit went.
#[derive(Debug, Clone, Default)]
pub struct Visit<'a> {
    pub actual_start_at: Option<DateTime<Utc>>,
    pub actual_end_at: Option<DateTime<Utc>>,
    pub tip_amount: Option<Decimal>,
    pub staff_notes: Option<&'a str>,
}

/// Marks a pending or confirmed appointment completed. Actual times
/// default to the booked ones; the contact's last visit is the end.
pub async fn complete(
    tenant: &TenantHandle,
    id: Uuid,
    visit: &Visit<'_>,
) -> Result<Appointment, ChangeError> {
    if visit.tip_amount.is_some_and(|t| t.is_sign_negative()) {
        return Err(ChangeError::Invalid(
            "tip_amount must not be negative".into(),
        ));
    }
    let mut tx = tenant.begin().await?;
    let row = lock_open(&mut tx, id, OPEN).await?;
    let start = visit.actual_start_at.unwrap_or(row.start_at);
    let end = visit.actual_end_at.unwrap_or(row.end_at.max(start));
    if end < start {
        return Err(ChangeError::Invalid(
            "actual_end_at is before actual_start_at".into(),
        ));
    }
    sqlx::query(
        "UPDATE appointments SET status = 'completed', actual_start_at = $2, actual_end_at = $3, \
           tip_amount = $4, staff_notes = $5, updated_at = NOW() WHERE id = $1",
    )
    .bind(id)
    .bind(start)
    .bind(end)
    .bind(visit.tip_amount)
    .bind(visit.staff_notes)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "UPDATE contacts SET last_visit_at = GREATEST(COALESCE(last_visit_at, $2), $2), \
           updated_at = NOW() WHERE id = $1",
    )
    .bind(row.contact_id)
    .bind(end)
    .execute(tx.conn())
    .await?;
    let out = one(&mut tx, id).await?.ok_or(ChangeError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Marks a pending or confirmed appointment a no-show.
pub async fn no_show(
    tenant: &TenantHandle,
    id: Uuid,
    staff_notes: Option<&str>,
) -> Result<Appointment, ChangeError> {
    let mut tx = tenant.begin().await?;
    lock_open(&mut tx, id, OPEN).await?;
    sqlx::query(
        "UPDATE appointments SET status = 'no_show', staff_notes = COALESCE($2, staff_notes), \
           updated_at = NOW() WHERE id = $1",
    )
    .bind(id)
    .bind(staff_notes)
    .execute(tx.conn())
    .await?;
    let out = one(&mut tx, id).await?.ok_or(ChangeError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// The instants of one local day in time zone `tz`.
pub fn day_bounds(day: NaiveDate, tz: chrono_tz::Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    use chrono::TimeZone;
    let local = |d: NaiveDate| {
        let naive = d.and_time(chrono::NaiveTime::MIN);
        tz.from_local_datetime(&naive)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| naive.and_utc())
    };
    let next = day.succ_opt().unwrap_or(day);
    (local(day), local(next))
}
