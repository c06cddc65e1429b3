//! Appointment reminders in one tenant's schema: the due appointments,
//! claimed one at a time with `FOR UPDATE SKIP LOCKED` so that nodes
//! sweeping at once each take different rows, and `reminder_sent` set in
//! the same transaction (exactly once). A rescheduled appointment has its
//! flag reset by [`super::booking::reschedule`]; a cancelled one is not
//! `confirmed` and is never due.

use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

use super::{StorageError, TenantTx};

/// A confirmed appointment due its reminder, with what the text names.
#[derive(Debug, Clone)]
pub struct DueReminder {
    pub appointment_id: Uuid,
    pub contact_id: Uuid,
    pub start: DateTime<Utc>,
    /// contacts.phone_number (not validated here).
    pub phone: String,
    /// contacts.language_pref.
    pub language: Option<String>,
    pub service_name: Option<String>,
    pub service_name_sw: Option<String>,
    pub staff_name: Option<String>,
}

/// Locks and returns the soonest confirmed appointment starting in
/// `(now, until]` whose reminder has not been sent and that no other
/// transaction holds. The lock lasts until `tx` ends.
pub async fn claim_due(
    tx: &mut TenantTx,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Option<DueReminder>, StorageError> {
    let row = sqlx::query(
        "SELECT a.id, a.contact_id, a.start_at, c.phone_number, c.language_pref, \
                s.name AS service_name, s.name_sw AS service_name_sw, st.name AS staff_name \
         FROM appointments a \
         JOIN contacts c ON c.id = a.contact_id \
         LEFT JOIN services s ON s.id = a.service_id \
         LEFT JOIN staff st ON st.id = a.staff_id \
         WHERE a.status = 'confirmed' AND a.reminder_sent IS NOT TRUE \
           AND a.start_at > $1 AND a.start_at <= $2 \
         ORDER BY a.start_at LIMIT 1 \
         FOR UPDATE OF a SKIP LOCKED",
    )
    .bind(now)
    .bind(until)
    .fetch_optional(tx.conn())
    .await?;
    row.map(|r| -> Result<DueReminder, sqlx::Error> {
        Ok(DueReminder {
            appointment_id: r.try_get("id")?,
            contact_id: r.try_get("contact_id")?,
            start: r.try_get("start_at")?,
            phone: r.try_get("phone_number")?,
            language: r.try_get("language_pref")?,
            service_name: r.try_get("service_name")?,
            service_name_sw: r.try_get("service_name_sw")?,
            staff_name: r.try_get("staff_name")?,
        })
    })
    .transpose()
    .map_err(StorageError::from)
}

/// Marks the claimed appointment's reminder as sent.
pub async fn mark_sent(tx: &mut TenantTx, appointment_id: Uuid) -> Result<(), StorageError> {
    sqlx::query("UPDATE appointments SET reminder_sent = TRUE, updated_at = NOW() WHERE id = $1")
        .bind(appointment_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}
