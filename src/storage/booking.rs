//! Catalog, availability and appointments of one tenant, through a
//! [`TenantTx`] only.
//!
//! Double booking is impossible under concurrency: [`book`] and
//! [`reschedule`] lock the staff member's row (`SELECT … FOR UPDATE`) before
//! re-checking the time against that staff member's appointments and blocks,
//! so two transactions racing for the same staff member run one after the
//! other and the second sees the first's appointment.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use sqlx::Row;
use uuid::Uuid;

use super::{StorageError, TenantHandle, TenantTx};
use crate::core::booking::{Busy, ServiceSpec, StaffAvailability, WeeklyWindow, is_free};
use crate::core::dialog::catalog::{Catalog, Relation, ServiceInfo, StaffInfo};
use crate::core::dialog::personality::PersonalityRow;
use crate::core::dialog::{AppointmentSummary, Channel};
use crate::core::ids::{Currency, Money, PhoneNumber};

/// Why a booking write did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    /// Someone else holds that time (the customer may pick another).
    #[error("the time is no longer free")]
    SlotTaken,
    /// The appointment, service or staff member does not exist (or is not
    /// this customer's).
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sqlx::Error> for BookingError {
    fn from(e: sqlx::Error) -> Self {
        BookingError::Storage(StorageError::classify(e))
    }
}

fn money(amount: Decimal, currency: Option<&str>) -> Money {
    let currency = currency
        .and_then(|c| Currency::parse(c).ok())
        .unwrap_or(Currency::KES);
    let minor = (amount * Decimal::from(100)).round().to_i64().unwrap_or(0);
    Money::new(minor, currency)
}

fn decimal(m: Money) -> Decimal {
    Decimal::new(m.minor, 2)
}

/// The catalog the conversation reasons over: active services by
/// sort_order, active staff, complementary relations with confidence >= 0.7.
pub async fn load_catalog(tx: &mut TenantTx, business_name: &str) -> Result<Catalog, StorageError> {
    let services = sqlx::query(
        "SELECT id, name, name_sw, description, duration_min, price, currency, \
         COALESCE(buffer_min, 0) AS buffer_min \
         FROM services WHERE is_active IS NOT FALSE ORDER BY sort_order, name",
    )
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(|r| -> Result<ServiceInfo, sqlx::Error> {
        let currency: Option<String> = r.try_get("currency")?;
        Ok(ServiceInfo {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            name_sw: r.try_get("name_sw")?,
            description: r.try_get("description")?,
            duration_min: r.try_get::<i32, _>("duration_min")?.max(1) as u32,
            buffer_min: r.try_get::<i32, _>("buffer_min")?.max(0) as u32,
            price: money(r.try_get("price")?, currency.as_deref()),
        })
    })
    .collect::<Result<Vec<_>, _>>()?;
    let staff = sqlx::query(
        "SELECT s.id, s.name, COALESCE(ARRAY(SELECT ss.service_id FROM staff_services ss \
         WHERE ss.staff_id = s.id AND ss.service_id IS NOT NULL ORDER BY ss.service_id), \
         '{}') AS services \
         FROM staff s WHERE s.is_active IS NOT FALSE ORDER BY s.name",
    )
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(|r| -> Result<StaffInfo, sqlx::Error> {
        Ok(StaffInfo {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            services: r.try_get("services")?,
            weekly: Vec::new(),
        })
    })
    .collect::<Result<Vec<_>, _>>()?;
    let mut staff = staff;
    let ids: Vec<Uuid> = staff.iter().map(|p| p.id).collect();
    for (staff_id, window) in weekly_windows(tx, &ids).await? {
        if let Some(person) = staff.iter_mut().find(|p| p.id == staff_id) {
            person.weekly.push(window);
        }
    }
    let cross_sell = sqlx::query(
        "SELECT service_a_id, service_b_id, confidence FROM service_relations \
         WHERE relation_type = 'complementary' AND confidence >= 0.7 \
         ORDER BY confidence DESC",
    )
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(|r| -> Result<Relation, sqlx::Error> {
        Ok(Relation {
            from: r.try_get("service_a_id")?,
            to: r.try_get("service_b_id")?,
            confidence: r.try_get::<Option<f64>, _>("confidence")?.unwrap_or(0.0),
        })
    })
    .collect::<Result<Vec<_>, _>>()?;
    Ok(Catalog {
        business_name: business_name.to_owned(),
        services,
        staff,
        cross_sell,
    })
}

/// The tenant_personality_config row, if the tenant has one.
pub async fn load_personality(tx: &mut TenantTx) -> Result<Option<PersonalityRow>, StorageError> {
    let row = sqlx::query(
        "SELECT tone, greeting_mode, greeting_custom, upsell, cancellation_tone, honorific, \
         cross_sell FROM tenant_personality_config WHERE is_singleton LIMIT 1",
    )
    .fetch_optional(tx.conn())
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(PersonalityRow {
        tone: r.try_get("tone")?,
        greeting_mode: r.try_get("greeting_mode")?,
        greeting_custom: r.try_get("greeting_custom")?,
        upsell: r.try_get("upsell")?,
        cancellation_tone: r.try_get("cancellation_tone")?,
        honorific: r.try_get("honorific")?,
        cross_sell: r.try_get("cross_sell")?,
    }))
}

/// The tenant's personality row in a transaction of its own (a call reads
/// it when its number is looked up, outside any turn).
pub async fn personality_of(tenant: &TenantHandle) -> Result<Option<PersonalityRow>, StorageError> {
    let mut tx = tenant.begin().await?;
    let row = load_personality(&mut tx).await?;
    tx.commit().await?;
    Ok(row)
}

/// Availability inputs for every active staff member (or one), between two
/// instants: weekly windows, services, and busy spans (blocks, and
/// non-cancelled appointments plus their service's buffer, leaving out
/// `except`, the appointment being moved; `own`'s without a buffer, see
/// [`busy_spans`]). Four statements whatever the number of staff.
pub async fn load_availability(
    tx: &mut TenantTx,
    staff: Option<Uuid>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    except: Option<Uuid>,
    own: Option<Uuid>,
) -> Result<Vec<StaffAvailability>, StorageError> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM staff WHERE is_active IS NOT FALSE AND ($1::uuid IS NULL OR id = $1) ORDER BY name",
    )
    .bind(staff)
    .fetch_all(tx.conn())
    .await?;
    let mut out: Vec<StaffAvailability> = ids
        .iter()
        .map(|&staff_id| StaffAvailability {
            staff_id,
            services: Vec::new(),
            weekly: Vec::new(),
            busy: Vec::new(),
        })
        .collect();
    if ids.is_empty() {
        return Ok(out);
    }
    let at = |out: &mut [StaffAvailability], id: Uuid| out.iter().position(|a| a.staff_id == id);
    let services = sqlx::query(
        "SELECT staff_id, service_id FROM staff_services \
         WHERE staff_id = ANY($1) AND service_id IS NOT NULL ORDER BY staff_id, service_id",
    )
    .bind(&ids)
    .fetch_all(tx.conn())
    .await?;
    for r in &services {
        if let Some(k) = at(&mut out, r.try_get("staff_id")?) {
            out[k].services.push(r.try_get("service_id")?);
        }
    }
    for (staff_id, window) in weekly_windows(tx, &ids).await? {
        if let Some(k) = at(&mut out, staff_id) {
            out[k].weekly.push(window);
        }
    }
    for (staff_id, span) in busy_spans(tx, &ids, from, to, except, own).await? {
        if let Some(k) = at(&mut out, staff_id) {
            out[k].busy.push(span);
        }
    }
    Ok(out)
}

/// The weekly windows (staff_schedules) of the staff members `staff`,
/// each with whose it is, by day and start.
async fn weekly_windows(
    tx: &mut TenantTx,
    staff: &[Uuid],
) -> Result<Vec<(Uuid, WeeklyWindow)>, StorageError> {
    let rows = sqlx::query(
        "SELECT staff_id, day_of_week, start_time, end_time, \
         COALESCE(is_available, TRUE) AS is_available \
         FROM staff_schedules WHERE staff_id = ANY($1) ORDER BY day_of_week, start_time",
    )
    .bind(staff)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("staff_id")?,
                WeeklyWindow {
                    day_of_week: r.try_get::<i16, _>("day_of_week")?.clamp(0, 6) as u8,
                    start: r.try_get::<NaiveTime, _>("start_time")?,
                    end: r.try_get::<NaiveTime, _>("end_time")?,
                    is_available: r.try_get("is_available")?,
                },
            ))
        })
        .collect()
}

/// Blocks and appointments (with buffers) of the staff members `staff`
/// overlapping [from, to], leaving out one appointment (the one being
/// moved), each with whose it is. The appointments of `own` (the contact
/// being booked for) carry no buffer and are marked theirs: no turnover
/// between one customer's services.
async fn busy_spans(
    tx: &mut TenantTx,
    staff: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    except: Option<Uuid>,
    own: Option<Uuid>,
) -> Result<Vec<(Uuid, Busy)>, StorageError> {
    let rows = sqlx::query(
        "SELECT staff_id, start_at, busy_end, own FROM ( \
           SELECT a.staff_id, a.start_at, \
                  a.end_at + CASE WHEN a.contact_id = $5 THEN INTERVAL '0' \
                             ELSE make_interval(mins => COALESCE(s.buffer_min, 0)) END AS busy_end, \
                  COALESCE(a.contact_id = $5, FALSE) AS own \
           FROM appointments a LEFT JOIN services s ON s.id = a.service_id \
           WHERE a.staff_id = ANY($1) AND a.status IS DISTINCT FROM 'cancelled' \
             AND ($4::uuid IS NULL OR a.id <> $4) AND a.start_at < $3 \
         ) a WHERE busy_end > $2 \
         UNION ALL \
         SELECT staff_id, start_at, end_at, FALSE FROM staff_blocks \
         WHERE staff_id = ANY($1) AND start_at < $3 AND end_at > $2",
    )
    .bind(staff)
    .bind(from)
    .bind(to)
    .bind(except)
    .bind(own)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get(0)?,
                Busy {
                    start: r.try_get(1)?,
                    end: r.try_get(2)?,
                    own: r.try_get(3)?,
                },
            ))
        })
        .collect()
}

/// The contacts row for a phone number, created on first contact.
pub async fn ensure_contact(
    tx: &mut TenantTx,
    phone: &PhoneNumber,
    name: Option<&str>,
    language: &str,
) -> Result<Uuid, StorageError> {
    let id = sqlx::query_scalar(
        "INSERT INTO contacts (phone_number, name, language_pref) VALUES ($1, $2, $3) \
         ON CONFLICT (phone_number) DO UPDATE SET \
           name = COALESCE(contacts.name, EXCLUDED.name), \
           language_pref = EXCLUDED.language_pref, updated_at = NOW() \
         RETURNING id",
    )
    .bind(phone.expose())
    .bind(name)
    .bind(language)
    .fetch_one(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    Ok(id)
}

/// The name the customer gave in the conversation ("my name is …",
/// "naitwa …"): it replaces whatever the contact and customer rows held
/// (a WhatsApp profile name is only a fallback).
pub async fn set_stated_name(
    tx: &mut TenantTx,
    phone: &PhoneNumber,
    name: &str,
) -> Result<(), StorageError> {
    sqlx::query("UPDATE contacts SET name = $2, updated_at = NOW() WHERE phone_number = $1")
        .bind(phone.expose())
        .bind(name)
        .execute(tx.conn())
        .await
        .map_err(StorageError::classify)?;
    sqlx::query("UPDATE customers SET name = $2 WHERE phone_e164 = $1")
        .bind(phone.expose())
        .bind(name)
        .execute(tx.conn())
        .await
        .map_err(StorageError::classify)?;
    Ok(())
}

/// What a booking needs.
#[derive(Debug, Clone)]
pub struct NewBooking<'a> {
    pub contact_id: Uuid,
    pub service_id: Uuid,
    pub staff_id: Uuid,
    pub start: DateTime<Utc>,
    pub channel: Channel,
    pub customer: &'a PhoneNumber,
}

/// Writes an appointment if the time is still free for that staff member,
/// and adds it to the contact's running totals. The caller commits.
pub async fn book(
    tx: &mut TenantTx,
    b: &NewBooking<'_>,
) -> Result<AppointmentSummary, BookingError> {
    lock_staff(tx, b.staff_id).await?;
    let service = service_spec(tx, b.service_id).await?;
    check_free(tx, b.staff_id, service.0, b.start, None, Some(b.contact_id)).await?;
    // The end follows the service's current duration, whatever was offered.
    let end = b.start + Duration::minutes(i64::from(service.0.duration_min));
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO appointments (contact_id, service_id, staff_id, start_at, end_at, status, \
           payment_status, amount, booking_channel) \
         VALUES ($1, $2, $3, $4, $5, 'confirmed', 'unpaid', $6, $7) RETURNING id",
    )
    .bind(b.contact_id)
    .bind(b.service_id)
    .bind(b.staff_id)
    .bind(b.start)
    .bind(end)
    .bind(decimal(service.1))
    .bind(b.channel.as_str())
    .fetch_one(tx.conn())
    .await?;
    sqlx::query(
        "UPDATE contacts SET total_bookings = COALESCE(total_bookings, 0) + 1, \
           total_spent = COALESCE(total_spent, 0) + $2, updated_at = NOW() WHERE id = $1",
    )
    .bind(b.contact_id)
    .bind(decimal(service.1))
    .execute(tx.conn())
    .await?;
    Ok(AppointmentSummary {
        id,
        service_id: b.service_id,
        staff_id: b.staff_id,
        start: b.start,
        end,
    })
}

/// The customer's upcoming, non-cancelled appointments, soonest first.
pub async fn upcoming_for(
    tx: &mut TenantTx,
    phone: &PhoneNumber,
    now: DateTime<Utc>,
) -> Result<Vec<AppointmentSummary>, StorageError> {
    let rows = sqlx::query(
        "SELECT a.id, a.service_id, a.staff_id, a.start_at, a.end_at FROM appointments a \
         JOIN contacts c ON c.id = a.contact_id \
         WHERE c.phone_number = $1 AND a.start_at > $2 AND a.status IN ('pending', 'confirmed') \
           AND a.service_id IS NOT NULL AND a.staff_id IS NOT NULL \
         ORDER BY a.start_at LIMIT 10",
    )
    .bind(phone.expose())
    .bind(now)
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(summary).collect()
}

/// The customer's latest past appointments (not cancelled), newest first:
/// what "same as last time" means.
pub async fn recent_for(
    tx: &mut TenantTx,
    phone: &PhoneNumber,
    now: DateTime<Utc>,
) -> Result<Vec<AppointmentSummary>, StorageError> {
    let rows = sqlx::query(
        "SELECT a.id, a.service_id, a.staff_id, a.start_at, a.end_at FROM appointments a \
         JOIN contacts c ON c.id = a.contact_id \
         WHERE c.phone_number = $1 AND a.start_at <= $2 \
           AND a.status IN ('pending', 'confirmed', 'completed') \
           AND a.service_id IS NOT NULL AND a.staff_id IS NOT NULL \
         ORDER BY a.start_at DESC LIMIT 5",
    )
    .bind(phone.expose())
    .bind(now)
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(summary).collect()
}

/// One `appointments` row (id, service_id, staff_id, start_at, end_at).
fn summary(r: &sqlx::postgres::PgRow) -> Result<AppointmentSummary, StorageError> {
    Ok(AppointmentSummary {
        id: r.try_get("id")?,
        service_id: r.try_get("service_id")?,
        staff_id: r.try_get("staff_id")?,
        start: r.try_get("start_at")?,
        end: r.try_get("end_at")?,
    })
}

/// Cancels one of the customer's appointments and takes it off their
/// running totals.
pub async fn cancel(
    tx: &mut TenantTx,
    phone: &PhoneNumber,
    appointment_id: Uuid,
) -> Result<(), BookingError> {
    let row = sqlx::query(
        "UPDATE appointments a SET status = 'cancelled', cancelled_by = 'customer', \
           cancel_reason = 'cancelled by the customer in conversation', updated_at = NOW() \
         FROM contacts c \
         WHERE a.id = $1 AND c.id = a.contact_id AND c.phone_number = $2 \
           AND a.status IN ('pending', 'confirmed') \
         RETURNING a.contact_id, COALESCE(a.amount, 0) AS amount",
    )
    .bind(appointment_id)
    .bind(phone.expose())
    .fetch_optional(tx.conn())
    .await?;
    let Some(row) = row else {
        return Err(BookingError::NotFound);
    };
    take_off_totals(tx, row.try_get("contact_id")?, row.try_get("amount")?).await?;
    Ok(())
}

/// Takes a cancelled appointment off its contact's running totals.
pub(crate) async fn take_off_totals(
    tx: &mut TenantTx,
    contact: Option<Uuid>,
    amount: Decimal,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE contacts SET total_bookings = GREATEST(COALESCE(total_bookings, 0) - 1, 0), \
           total_spent = GREATEST(COALESCE(total_spent, 0) - $2, 0), updated_at = NOW() WHERE id = $1",
    )
    .bind(contact)
    .bind(amount)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Moves one of the customer's appointments to a new time (and maybe staff
/// member, and maybe another service in its place: "change my cornrows to
/// box braids"), under the same lock as a booking.
pub async fn reschedule(
    tx: &mut TenantTx,
    phone: &PhoneNumber,
    appointment_id: Uuid,
    new_service_id: Uuid,
    staff_id: Uuid,
    start: DateTime<Utc>,
) -> Result<AppointmentSummary, BookingError> {
    let service_id: Option<Uuid> = sqlx::query_scalar(
        "SELECT a.service_id FROM appointments a JOIN contacts c ON c.id = a.contact_id \
         WHERE a.id = $1 AND c.phone_number = $2 AND a.status IN ('pending', 'confirmed')",
    )
    .bind(appointment_id)
    .bind(phone.expose())
    .fetch_optional(tx.conn())
    .await?
    .flatten();
    let Some(service_id) = service_id else {
        return Err(BookingError::NotFound);
    };
    if new_service_id != service_id {
        let (_, price) = service_spec(tx, new_service_id).await?;
        let moved = move_checked(tx, appointment_id, new_service_id, staff_id, start).await?;
        // The price follows the service while nothing has been paid; a paid
        // or pending payment keeps the amount it was for.
        sqlx::query(
            "UPDATE appointments SET service_id = $2, updated_at = NOW(), \
               amount = CASE WHEN payment_status IS DISTINCT FROM 'paid' \
                              AND payment_status IS DISTINCT FROM 'pending' THEN $3 ELSE amount END \
             WHERE id = $1",
        )
        .bind(appointment_id)
        .bind(new_service_id)
        .bind(decimal(price))
        .execute(tx.conn())
        .await?;
        return Ok(moved);
    }
    move_checked(tx, appointment_id, service_id, staff_id, start).await
}

/// Moves an appointment of `service_id` to `start` with `staff_id` if that
/// time is free for them (the appointment's own span left out), under the
/// same lock as a booking. The caller has checked the appointment may move.
pub(crate) async fn move_checked(
    tx: &mut TenantTx,
    appointment_id: Uuid,
    service_id: Uuid,
    staff_id: Uuid,
    start: DateTime<Utc>,
) -> Result<AppointmentSummary, BookingError> {
    lock_staff(tx, staff_id).await?;
    let (spec, _) = service_spec(tx, service_id).await?;
    let contact: Option<Uuid> =
        sqlx::query_scalar("SELECT contact_id FROM appointments WHERE id = $1")
            .bind(appointment_id)
            .fetch_optional(tx.conn())
            .await?
            .flatten();
    check_free(tx, staff_id, spec, start, Some(appointment_id), contact).await?;
    let end = start + Duration::minutes(i64::from(spec.duration_min));
    sqlx::query(
        "UPDATE appointments SET staff_id = $2, start_at = $3, end_at = $4, reminder_sent = FALSE, \
           updated_at = NOW() WHERE id = $1",
    )
    .bind(appointment_id)
    .bind(staff_id)
    .bind(start)
    .bind(end)
    .execute(tx.conn())
    .await?;
    Ok(AppointmentSummary {
        id: appointment_id,
        service_id,
        staff_id,
        start,
        end,
    })
}

async fn lock_staff(tx: &mut TenantTx, staff_id: Uuid) -> Result<(), BookingError> {
    let found: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM staff WHERE id = $1 AND is_active IS NOT FALSE FOR UPDATE",
    )
    .bind(staff_id)
    .fetch_optional(tx.conn())
    .await?;
    found.map(|_| ()).ok_or(BookingError::NotFound)
}

async fn service_spec(
    tx: &mut TenantTx,
    service_id: Uuid,
) -> Result<(ServiceSpec, Money), BookingError> {
    let row = sqlx::query(
        "SELECT duration_min, COALESCE(buffer_min, 0) AS buffer_min, price, currency FROM services WHERE id = $1",
    )
    .bind(service_id)
    .fetch_optional(tx.conn())
    .await?;
    let Some(r) = row else {
        return Err(BookingError::NotFound);
    };
    let currency: Option<String> = r.try_get("currency")?;
    Ok((
        ServiceSpec {
            id: service_id,
            duration_min: r.try_get::<i32, _>("duration_min")?.max(1) as u32,
            buffer_min: r.try_get::<i32, _>("buffer_min")?.max(0) as u32,
        },
        money(r.try_get("price")?, currency.as_deref()),
    ))
}

/// Re-checks a time against the (locked) staff member's current rows.
async fn check_free(
    tx: &mut TenantTx,
    staff_id: Uuid,
    service: ServiceSpec,
    start: DateTime<Utc>,
    except: Option<Uuid>,
    own: Option<Uuid>,
) -> Result<(), BookingError> {
    let span_end = start + Duration::minutes(i64::from(service.duration_min + service.buffer_min));
    let busy: Vec<Busy> = busy_spans(
        tx,
        &[staff_id],
        start - Duration::days(1),
        span_end,
        except,
        own,
    )
    .await?
    .into_iter()
    .map(|(_, span)| span)
    .collect();
    let can_do: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM staff_services WHERE staff_id = $1 AND service_id = $2)",
    )
    .bind(staff_id)
    .bind(service.id)
    .fetch_one(tx.conn())
    .await?;
    if !can_do {
        return Err(BookingError::NotFound);
    }
    let staff = StaffAvailability {
        staff_id,
        services: vec![service.id],
        weekly: Vec::new(),
        busy,
    };
    if is_free(&staff, service, start) {
        Ok(())
    } else {
        Err(BookingError::SlotTaken)
    }
}

/// The local date range [from, from + days] as instants, with a day of
/// margin for time zones.
pub fn search_window(from: NaiveDate, days: u32) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = from.and_time(NaiveTime::MIN).and_utc() - Duration::days(1);
    let end = start + Duration::days(i64::from(days) + 2);
    (start, end)
}
