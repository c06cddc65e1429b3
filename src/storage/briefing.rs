//! What the admins' daily briefing reads, and its once-a-day claim
//! (`public.admin_briefings`).

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use sqlx::Row;

use super::{Db, StorageError, TenantTx};
use crate::core::ids::TenantId;

/// The tenant's active admins' phone numbers, oldest first.
pub async fn admin_phones(db: &Db, tenant: TenantId) -> Result<Vec<String>, StorageError> {
    Ok(sqlx::query_scalar(
        "SELECT phone_number FROM public.tenant_admins WHERE tenant_id = $1 AND is_active IS NOT FALSE ORDER BY created_at",
    )
    .bind(tenant.0)
    .fetch_all(db.pool())
    .await?)
}

/// When the first active staff member starts on `day_of_week` (0 =
/// Monday), or `None` when nobody works that day.
pub async fn opens_on(
    tx: &mut TenantTx,
    day_of_week: i16,
) -> Result<Option<NaiveTime>, StorageError> {
    Ok(sqlx::query_scalar(
        "SELECT min(ss.start_time) FROM staff_schedules ss JOIN staff s ON s.id = ss.staff_id \
         WHERE s.is_active IS NOT FALSE AND ss.day_of_week = $1 AND COALESCE(ss.is_available, TRUE)",
    )
    .bind(day_of_week)
    .fetch_one(tx.conn())
    .await?)
}

/// One appointment of the day.
#[derive(Debug, Clone)]
pub struct DayAppointment {
    pub start: DateTime<Utc>,
    pub service: Option<String>,
    pub staff: Option<String>,
    pub customer: Option<String>,
    pub payment_status: Option<String>,
}

/// The pending and confirmed appointments starting in `[from, to)`.
pub async fn appointments_between(
    tx: &mut TenantTx,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<DayAppointment>, StorageError> {
    let rows = sqlx::query(
        "SELECT a.start_at, s.name AS service, st.name AS staff, c.name AS customer, a.payment_status \
         FROM appointments a LEFT JOIN services s ON s.id = a.service_id \
         LEFT JOIN staff st ON st.id = a.staff_id LEFT JOIN contacts c ON c.id = a.contact_id \
         WHERE a.status IN ('pending', 'confirmed') AND a.start_at >= $1 AND a.start_at < $2 \
         ORDER BY a.start_at",
    )
    .bind(from)
    .bind(to)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| -> Result<DayAppointment, sqlx::Error> {
            Ok(DayAppointment {
                start: r.try_get("start_at")?,
                service: r.try_get("service")?,
                staff: r.try_get("staff")?,
                customer: r.try_get("customer")?,
                payment_status: r.try_get("payment_status")?,
            })
        })
        .collect::<Result<_, _>>()
        .map_err(StorageError::from)
}

/// The tenant's WhatsApp messages parked after repeated failures.
pub async fn parked_messages(db: &Db, tenant: TenantId) -> Result<i64, StorageError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM public.whatsapp_inbox WHERE tenant_id = $1 AND status = 'parked'",
    )
    .bind(tenant.0)
    .fetch_one(db.pool())
    .await?)
}

/// A claim on one tenant's briefing for one local day: held until it is
/// committed (sent) or dropped (another node may then send it).
pub struct DayClaim {
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    tenant: TenantId,
    date: NaiveDate,
}

/// Claims the day's briefing; `None` when it was sent already (a node
/// holding it uncommitted makes this wait for its outcome).
pub async fn claim_day(
    db: &Db,
    tenant: TenantId,
    date: NaiveDate,
) -> Result<Option<DayClaim>, StorageError> {
    let mut tx = db.pool().begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO public.admin_briefings (tenant_id, local_date) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(tenant.0)
    .bind(date)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok((inserted == 1).then_some(DayClaim { tx, tenant, date }))
}

impl DayClaim {
    /// The briefing went to `admins` admins.
    pub async fn sent(mut self, admins: i32) -> Result<(), StorageError> {
        sqlx::query(
            "UPDATE public.admin_briefings SET admins = $3, sent_at = NOW() \
             WHERE tenant_id = $1 AND local_date = $2",
        )
        .bind(self.tenant.0)
        .bind(self.date)
        .bind(admins)
        .execute(&mut *self.tx)
        .await?;
        self.tx.commit().await?;
        Ok(())
    }
}
