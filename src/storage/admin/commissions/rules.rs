//! Commission rules: added, replaced, ended, read; each change audited.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::CommissionError;
use crate::core::commission::{Rule, RuleKind, Target};
use crate::storage::admin::Actor;
use crate::storage::admin::catalogue::{
    Action, Entity, Origin, audit, audited, audited_upsert, snapshot,
};
use crate::storage::{StorageError, TenantHandle, TenantTx};

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
    audited_upsert(
        &mut tx,
        Entity::CommissionRule,
        row.id,
        before,
        Origin::dashboard(actor),
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
            Origin::dashboard(actor),
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
                Origin::dashboard(actor),
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
pub(super) async fn core_rules(tx: &mut TenantTx) -> Result<Vec<Rule>, CommissionError> {
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
