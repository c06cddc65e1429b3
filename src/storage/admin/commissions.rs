//! Commissions: the business's rules (commission_rules) and the frozen
//! period closes (commission_period). The arithmetic is
//! [`crate::core::commission`]; this module reads the completed
//! appointments and the rules, and writes the figures.
//!
//! Every rule change and every period row written is audited in
//! catalog_audits (entity 'commission_rule' / 'commission_period', tenant
//! migration 0017), before and after, the admin, source 'dashboard'.
//!
//! A close is frozen: closing the same (staff member, period) again
//! recomputes and writes nothing if the figures are the same. If a visit
//! was completed (or a rule changed) since, the difference goes into the
//! period's one amendment row (type 'amendment', amendment_of_id = the
//! close): close + amendment = the period as it stands. The schema's
//! idempotency key (staff, start, end, type) allows one amendment per
//! close, so a later difference re-freezes that amendment (its figures and
//! frozen_at); the close row itself is never rewritten.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use thiserror::Error;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Actor;
use super::catalogue::{Action, Entity, audit, audited, snapshot};
use crate::core::commission::{self, Figures, Rule, RuleKind, Target, Visit};
use crate::core::ids::Money;
use crate::core::price_list::category_of;
use crate::storage::{StorageError, TenantHandle, TenantTx};

/// Why a commission request failed.
#[derive(Debug, Error)]
pub enum CommissionError {
    /// No such staff member, rule or period for this tenant.
    #[error("not found")]
    NotFound,
    /// The period overlaps another close of the same staff member.
    #[error("{0}")]
    Overlap(String),
    /// The caller's values (or figures too large for the columns).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sqlx::Error> for CommissionError {
    fn from(e: sqlx::Error) -> Self {
        CommissionError::Storage(e.into())
    }
}

// ---- rules --------------------------------------------------------------

/// A commission rule.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
pub struct CommissionRule {
    pub id: Uuid,
    /// The staff member it applies to (or null: a category rule).
    pub staff_id: Option<Uuid>,
    /// The service category it applies to ("*": every service, the
    /// default), or null: a staff rule.
    pub service_category: Option<String>,
    /// pct | fixed | tiered
    pub rule_type: String,
    /// pct: a rate 0 to 100; fixed: minor units per visit; tiered:
    /// `[{"threshold": minor units, "rate": 0-100}]`, thresholds ascending
    /// (marginal).
    pub value: Value,
    pub valid_from: DateTime<Utc>,
    /// Null: still valid.
    pub valid_to: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const RULE_COLS: &str =
    "id, staff_id, service_category, rule_type, value, valid_from, valid_to, created_at";

/// A rule as the caller wants it.
#[derive(Debug, Clone)]
pub struct RuleSpec {
    pub target: Target,
    pub kind: RuleKind,
    /// Default: now (create) or unchanged (update).
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_to: Option<DateTime<Utc>>,
}

impl RuleSpec {
    fn columns(&self) -> (Option<Uuid>, Option<&str>) {
        match &self.target {
            Target::Staff(s) => (Some(*s), None),
            Target::Category(c) => (None, Some(c.as_str())),
        }
    }
}

/// False if the rule names a staff member the tenant does not have.
async fn target_exists(tx: &mut TenantTx, spec: &RuleSpec) -> Result<bool, StorageError> {
    match spec.target {
        Target::Staff(s) => Ok(snapshot(tx, Entity::Staff, s).await?.is_some()),
        Target::Category(_) => Ok(true),
    }
}

/// Adds a rule (`id` None) or replaces rule `id`, audited; `None` if the
/// tenant has no such rule or the staff member named is not the tenant's.
pub async fn save_rule(
    tenant: &TenantHandle,
    id: Option<Uuid>,
    spec: &RuleSpec,
    actor: Actor,
) -> Result<Option<CommissionRule>, StorageError> {
    let mut tx = tenant.begin().await?;
    let before = match id {
        Some(id) => match snapshot(&mut tx, Entity::CommissionRule, id).await? {
            Some(row) => Some(row),
            None => return Ok(None),
        },
        None => None,
    };
    if !target_exists(&mut tx, spec).await? {
        return Ok(None);
    }
    let sql = match id {
        None => format!(
            "INSERT INTO commission_rules \
               (staff_id, service_category, rule_type, value, valid_from, valid_to) \
             VALUES ($1, $2, $3, $4, COALESCE($5, NOW()), $6) RETURNING {RULE_COLS}"
        ),
        Some(_) => format!(
            "UPDATE commission_rules SET staff_id = $1, service_category = $2, rule_type = $3, \
               value = $4, valid_from = COALESCE($5, valid_from), valid_to = $6 \
             WHERE id = $7 RETURNING {RULE_COLS}"
        ),
    };
    let (staff, category) = spec.columns();
    let query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(staff)
        .bind(category)
        .bind(spec.kind.rule_type())
        .bind(spec.kind.value())
        .bind(spec.valid_from)
        .bind(spec.valid_to);
    let row: CommissionRule = match id {
        Some(id) => query.bind(id),
        None => query,
    }
    .fetch_one(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    let action = if before.is_some() {
        Action::Update
    } else {
        Action::Insert
    };
    audited(
        &mut tx,
        action,
        Entity::CommissionRule,
        row.id,
        before,
        actor,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(row))
}

/// Ends rule `id` now (valid_to = now), so closes of past periods keep
/// it; a rule that has not started yet is deleted. False if the tenant
/// has no such rule. Ending an ended rule changes nothing.
pub async fn end_rule(tenant: &TenantHandle, id: Uuid, actor: Actor) -> Result<bool, StorageError> {
    let mut tx = tenant.begin().await?;
    let Some(before) = snapshot(&mut tx, Entity::CommissionRule, id).await? else {
        return Ok(false);
    };
    let ended = sqlx::query(
        "UPDATE commission_rules SET valid_to = NOW() \
         WHERE id = $1 AND valid_from < NOW() AND (valid_to IS NULL OR valid_to > NOW())",
    )
    .bind(id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if ended > 0 {
        audited(
            &mut tx,
            Action::Update,
            Entity::CommissionRule,
            id,
            Some(before),
            actor,
        )
        .await?;
    } else {
        let deleted =
            sqlx::query("DELETE FROM commission_rules WHERE id = $1 AND valid_from >= NOW()")
                .bind(id)
                .execute(tx.conn())
                .await?
                .rows_affected();
        if deleted > 0 {
            audit(
                &mut tx,
                Action::Delete,
                Entity::CommissionRule,
                id,
                Some(&before),
                None,
                actor,
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}

/// One rule.
pub async fn rule(tenant: &TenantHandle, id: Uuid) -> Result<Option<CommissionRule>, StorageError> {
    let mut tx = tenant.begin().await?;
    let row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RULE_COLS} FROM commission_rules WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// The rules, oldest first: of one staff member (or all), only those
/// still valid (or all).
pub async fn rules(
    tenant: &TenantHandle,
    staff: Option<Uuid>,
    active_only: bool,
) -> Result<Vec<CommissionRule>, StorageError> {
    let mut tx = tenant.begin().await?;
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RULE_COLS} FROM commission_rules \
         WHERE ($1::uuid IS NULL OR staff_id = $1) \
           AND (NOT $2 OR valid_to IS NULL OR valid_to > NOW()) \
         ORDER BY created_at, id"
    )))
    .bind(staff)
    .bind(active_only)
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(rows)
}

/// Every rule, for the arithmetic. A stored value the rules refuse (written
/// by hand, not through the API) fails the close rather than being skipped.
async fn core_rules(tx: &mut TenantTx) -> Result<Vec<Rule>, CommissionError> {
    let rows: Vec<CommissionRule> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RULE_COLS} FROM commission_rules"
    )))
    .fetch_all(tx.conn())
    .await?;
    rows.into_iter()
        .map(|r| {
            let kind = RuleKind::parse(&r.rule_type, &r.value).map_err(|e| {
                CommissionError::Invalid(format!("commission rule {} is not valid: {e}", r.id))
            })?;
            let target = match (r.staff_id, r.service_category) {
                (Some(s), _) => Target::Staff(s),
                (None, Some(c)) => Target::Category(c),
                (None, None) => {
                    return Err(CommissionError::Invalid(format!(
                        "commission rule {} has no staff member or category",
                        r.id
                    )));
                }
            };
            Ok(Rule {
                id: r.id,
                target,
                kind,
                valid_from: r.valid_from,
                valid_to: r.valid_to,
            })
        })
        .collect()
}

// ---- periods ------------------------------------------------------------

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
        actor,
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
                    actor,
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
