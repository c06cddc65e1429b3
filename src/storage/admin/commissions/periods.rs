//! Closing a period (frozen, idempotent, amended) and reading the rows.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::CommissionError;
use super::rules::core_rules;
use crate::core::commission::{self, Figures, Visit};
use crate::core::ids::Money;
use crate::core::price_list::category_of;
use crate::storage::admin::Actor;
use crate::storage::admin::catalogue::{Action, Entity, Origin, audited, snapshot};
use crate::storage::{StorageError, TenantHandle, TenantTx};

/// One frozen row of commission_period: a close, or the amendment of one
/// (what changed since the close; close + amendment = the period now).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
pub struct CommissionPeriod {
    pub id: Uuid,
    pub staff_id: Uuid,
    /// First day (inclusive, the tenant's time zone).
    pub period_start: NaiveDate,
    /// Last day (inclusive).
    pub period_end: NaiveDate,
    /// Minor units.
    pub commission_kes_minor: i32,
    /// Minor units.
    pub tip_kes_minor: i32,
    /// Hours, to hundredths (e.g. "5.50").
    pub hours_worked: Decimal,
    pub services_rendered_count: i32,
    /// close | amendment
    #[serde(rename = "type")]
    pub kind: String,
    /// The close an amendment amends (null for a close).
    pub amendment_of_id: Option<Uuid>,
    pub frozen_at: DateTime<Utc>,
    pub vendor_period_id: Option<String>,
}

const PERIOD_COLS: &str = "id, staff_id, period_start, period_end, commission_kes_minor, \
     tip_kes_minor, hours_worked, services_rendered_count, type AS kind, amendment_of_id, \
     frozen_at, vendor_period_id";

impl CommissionPeriod {
    fn figures(&self) -> Figures {
        let mut hours = self.hours_worked;
        hours.rescale(2);
        Figures {
            commission_minor: self.commission_kes_minor.into(),
            tip_minor: self.tip_kes_minor.into(),
            centi_hours: i64::try_from(hours.mantissa()).unwrap_or(i64::MAX),
            services: self.services_rendered_count.into(),
        }
    }
}

/// A period to close: its days and their instants in the tenant's time
/// zone, and one staff member or all.
#[derive(Debug, Clone, Copy)]
pub struct PeriodSpec {
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// The first instant of `start`.
    pub from: DateTime<Utc>,
    /// The first instant after `end`.
    pub to: DateTime<Utc>,
    pub staff: Option<Uuid>,
}

/// The outcome of a close.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ClosedPeriod {
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// Rows this call wrote (0: the period was already closed and nothing
    /// changed since).
    pub written: i32,
    /// The period's rows for the staff closed: each close, then its
    /// amendment if any.
    pub rows: Vec<CommissionPeriod>,
}

/// The columns' forms of `f`, or why they do not fit.
fn columns(f: Figures) -> Result<(i32, i32, Decimal, i32), CommissionError> {
    let too_big =
        |what: &str| CommissionError::Invalid(format!("the period's {what} is too large to store"));
    let hours = if f.centi_hours.abs() < 100_000_000 {
        Decimal::new(f.centi_hours, 2)
    } else {
        return Err(too_big("hours worked"));
    };
    Ok((
        i32::try_from(f.commission_minor).map_err(|_| too_big("commission"))?,
        i32::try_from(f.tip_minor).map_err(|_| too_big("tip total"))?,
        hours,
        i32::try_from(f.services).map_err(|_| too_big("service count"))?,
    ))
}

/// The staff members a close covers, locked (closes of one staff member
/// run one at a time).
async fn staff_to_close(tx: &mut TenantTx, p: &PeriodSpec) -> Result<Vec<Uuid>, CommissionError> {
    if let Some(s) = p.staff {
        let found: Option<Uuid> =
            sqlx::query_scalar("SELECT id FROM staff WHERE id = $1 FOR UPDATE")
                .bind(s)
                .fetch_optional(tx.conn())
                .await?;
        return found.map(|s| vec![s]).ok_or(CommissionError::NotFound);
    }
    // All staff: the active ones, and anyone with a completed visit in the
    // period or a row for it already.
    Ok(sqlx::query_scalar(
        "SELECT id FROM staff WHERE is_active IS NOT FALSE \
            OR id IN (SELECT staff_id FROM appointments WHERE status = 'completed' \
                        AND start_at >= $1 AND start_at < $2) \
            OR id IN (SELECT staff_id FROM commission_period \
                        WHERE period_start = $3 AND period_end = $4) \
         ORDER BY id FOR UPDATE",
    )
    .bind(p.from)
    .bind(p.to)
    .bind(p.start)
    .bind(p.end)
    .fetch_all(tx.conn())
    .await?)
}

/// staff_id, service name, start, amount, tip (minor units), seconds worked.
type VisitRow = (Uuid, Option<String>, DateTime<Utc>, i64, i64, i64);

/// The completed visits of `staff` in the period.
async fn visits(
    tx: &mut TenantTx,
    staff: &[Uuid],
    p: &PeriodSpec,
) -> Result<Vec<Visit>, CommissionError> {
    let rows: Vec<VisitRow> = sqlx::query_as(
        "SELECT a.staff_id, s.name, a.start_at, \
                (COALESCE(a.amount, s.price, 0) * 100)::bigint, \
                (COALESCE(a.tip_amount, 0) * 100)::bigint, \
                GREATEST(0, EXTRACT(EPOCH FROM COALESCE(a.actual_end_at, a.end_at) \
                                       - COALESCE(a.actual_start_at, a.start_at)))::bigint \
         FROM appointments a LEFT JOIN services s ON s.id = a.service_id \
         WHERE a.status = 'completed' AND a.staff_id = ANY($1) \
           AND a.start_at >= $2 AND a.start_at < $3",
    )
    .bind(staff)
    .bind(p.from)
    .bind(p.to)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(staff_id, service, at, amount, tip, worked)| Visit {
            staff_id,
            category: service.as_deref().and_then(category_of).map(str::to_owned),
            at,
            amount: Money::kes(amount),
            tip: Money::kes(tip),
            worked_secs: worked,
        })
        .collect())
}

async fn period_rows(
    tx: &mut TenantTx,
    staff: &[Uuid],
    p: &PeriodSpec,
) -> Result<Vec<CommissionPeriod>, CommissionError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PERIOD_COLS} FROM commission_period \
         WHERE staff_id = ANY($1) AND period_start = $2 AND period_end = $3 \
         ORDER BY staff_id, type DESC"
    )))
    .bind(staff)
    .bind(p.start)
    .bind(p.end)
    .fetch_all(tx.conn())
    .await?)
}

async fn insert_row(
    tx: &mut TenantTx,
    staff: Uuid,
    p: &PeriodSpec,
    f: Figures,
    amends: Option<Uuid>,
    actor: Actor,
) -> Result<(), CommissionError> {
    let (commission, tip, hours, services) = columns(f)?;
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO commission_period (staff_id, period_start, period_end, commission_kes_minor, \
           tip_kes_minor, hours_worked, services_rendered_count, type, amendment_of_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(staff)
    .bind(p.start)
    .bind(p.end)
    .bind(commission)
    .bind(tip)
    .bind(hours)
    .bind(services)
    .bind(if amends.is_some() {
        "amendment"
    } else {
        "close"
    })
    .bind(amends)
    .fetch_one(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    audited(
        tx,
        Action::Insert,
        Entity::CommissionPeriod,
        id,
        None,
        Origin::dashboard(actor),
    )
    .await?;
    Ok(())
}

/// Closes a period (see the module's rules): writes each staff member's
/// close, or the amendment of an earlier close if the figures changed
/// since; returns the period's rows.
pub async fn close(
    tenant: &TenantHandle,
    p: &PeriodSpec,
    actor: Actor,
) -> Result<ClosedPeriod, CommissionError> {
    let mut tx = tenant.begin().await?;
    let staff = staff_to_close(&mut tx, p).await?;
    let overlapping: Option<(Uuid, NaiveDate, NaiveDate)> = sqlx::query_as(
        "SELECT staff_id, period_start, period_end FROM commission_period \
         WHERE type = 'close' AND staff_id = ANY($1) AND period_start <= $3 AND period_end >= $2 \
           AND NOT (period_start = $2 AND period_end = $3) LIMIT 1",
    )
    .bind(&staff)
    .bind(p.start)
    .bind(p.end)
    .fetch_optional(tx.conn())
    .await?;
    if let Some((s, a, b)) = overlapping {
        return Err(CommissionError::Overlap(format!(
            "staff member {s} already has a close for {a} to {b}, which overlaps"
        )));
    }
    let rules = core_rules(&mut tx).await?;
    let visits = visits(&mut tx, &staff, p).await?;
    let existing = period_rows(&mut tx, &staff, p).await?;
    let mut written = 0;
    for &s in &staff {
        let mine: Vec<Visit> = visits.iter().filter(|v| v.staff_id == s).cloned().collect();
        let now = commission::figures(&mine, &rules);
        let row = |kind: &str| existing.iter().find(|r| r.staff_id == s && r.kind == kind);
        let Some(closed) = row("close") else {
            insert_row(&mut tx, s, p, now, None, actor).await?;
            written += 1;
            continue;
        };
        let delta = now.minus(closed.figures());
        match row("amendment") {
            None if delta == Figures::default() => {}
            None => {
                insert_row(&mut tx, s, p, delta, Some(closed.id), actor).await?;
                written += 1;
            }
            Some(amendment) if amendment.figures() == delta => {}
            Some(amendment) => {
                let before = snapshot(&mut tx, Entity::CommissionPeriod, amendment.id).await?;
                let (commission, tip, hours, services) = columns(delta)?;
                sqlx::query(
                    "UPDATE commission_period SET commission_kes_minor = $2, tip_kes_minor = $3, \
                       hours_worked = $4, services_rendered_count = $5, frozen_at = NOW() \
                     WHERE id = $1",
                )
                .bind(amendment.id)
                .bind(commission)
                .bind(tip)
                .bind(hours)
                .bind(services)
                .execute(tx.conn())
                .await?;
                audited(
                    &mut tx,
                    Action::Update,
                    Entity::CommissionPeriod,
                    amendment.id,
                    before,
                    Origin::dashboard(actor),
                )
                .await?;
                written += 1;
            }
        }
    }
    let rows = period_rows(&mut tx, &staff, p).await?;
    tx.commit().await?;
    Ok(ClosedPeriod {
        period_start: p.start,
        period_end: p.end,
        written,
        rows,
    })
}

/// Which period rows to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct PeriodFilter {
    pub staff: Option<Uuid>,
    /// Periods ending on or after this day.
    pub from: Option<NaiveDate>,
    /// Periods starting on or before this day.
    pub to: Option<NaiveDate>,
}

/// Period rows, newest period first.
pub async fn periods(
    tenant: &TenantHandle,
    f: &PeriodFilter,
) -> Result<Vec<CommissionPeriod>, StorageError> {
    let mut tx = tenant.begin().await?;
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PERIOD_COLS} FROM commission_period \
         WHERE ($1::uuid IS NULL OR staff_id = $1) \
           AND ($2::date IS NULL OR period_end >= $2) \
           AND ($3::date IS NULL OR period_start <= $3) \
         ORDER BY period_start DESC, staff_id, type DESC LIMIT 1000"
    )))
    .bind(f.staff)
    .bind(f.from)
    .bind(f.to)
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(rows)
}

/// One period row.
pub async fn period(
    tenant: &TenantHandle,
    id: Uuid,
) -> Result<Option<CommissionPeriod>, StorageError> {
    let mut tx = tenant.begin().await?;
    let row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PERIOD_COLS} FROM commission_period WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(row)
}
