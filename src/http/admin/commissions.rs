//! Commissions: the rules (pct, fixed, tiered; per staff member or service
//! category) and closing a period. Precedence, tiers and rounding are
//! [`crate::core::commission`]'s; freezing and amendments are
//! [`crate::storage::admin::commissions`]'. See docs/admin-api.md.

use axum::Json;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::{ApiJson, ApiPath, ApiQuery, TenantCaller};
use super::check;
use super::error::AppError;
use crate::core::commission::{RuleKind, Target};
use crate::storage::admin::calendar::day_bounds;
use crate::storage::admin::commissions::{
    self as store, ClosedPeriod, CommissionError, CommissionPeriod, CommissionRule, PeriodFilter,
    PeriodSpec, RuleSpec,
};

impl From<CommissionError> for AppError {
    fn from(e: CommissionError) -> Self {
        match e {
            CommissionError::NotFound => AppError::NotFound,
            CommissionError::Overlap(m) => AppError::Conflict(m),
            CommissionError::Invalid(m) => AppError::Invalid(m),
            CommissionError::Storage(s) => s.into(),
        }
    }
}

/// A rule's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuleType {
    Pct,
    Fixed,
    Tiered,
}

impl RuleType {
    fn as_str(self) -> &'static str {
        match self {
            RuleType::Pct => "pct",
            RuleType::Fixed => "fixed",
            RuleType::Tiered => "tiered",
        }
    }
}

/// A commission rule: for one staff member or one service category.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RuleBody {
    /// The staff member it applies to (give this or service_category).
    pub staff_id: Option<Uuid>,
    /// The service category it applies to (braids, hair, nails, makeup,
    /// spa…, as the catalogue import names them; "*" for every service: the
    /// default rule).
    pub service_category: Option<String>,
    pub rule_type: RuleType,
    /// pct: a rate 0 to 100 (at most two decimals), e.g. 40; fixed: minor
    /// units per visit, e.g. 50000 (KES 500.00); tiered: `[{"threshold":
    /// 0, "rate": 30}, {"threshold": 5000000, "rate": 40}]`, thresholds in
    /// minor units of the period's sales, strictly ascending, each rate
    /// applying to the part of the sum within its band (marginal).
    pub value: Value,
    /// Default: now (create), unchanged (replace).
    pub valid_from: Option<DateTime<Utc>>,
    /// Null: until ended.
    pub valid_to: Option<DateTime<Utc>>,
}

impl RuleBody {
    fn spec(&self) -> Result<RuleSpec, AppError> {
        let category = check::optional("service_category", self.service_category.as_deref(), 50)?;
        let target = match (self.staff_id, category) {
            (Some(s), None) => Target::Staff(s),
            (None, Some(c)) => Target::Category(c.to_lowercase()),
            (Some(_), Some(_)) | (None, None) => {
                return Err(AppError::invalid(
                    "give exactly one of staff_id and service_category",
                ));
            }
        };
        let kind = RuleKind::parse(self.rule_type.as_str(), &self.value)
            .map_err(|e| AppError::invalid(format!("value: {e}")))?;
        let valid_from = check::instant_opt("valid_from", self.valid_from)?;
        let valid_to = check::instant_opt("valid_to", self.valid_to)?;
        if let (Some(from), Some(to)) = (valid_from, valid_to)
            && to <= from
        {
            return Err(AppError::invalid("valid_to must be after valid_from"));
        }
        Ok(RuleSpec {
            target,
            kind,
            valid_from,
            valid_to,
        })
    }
}

/// Which rules to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RuleQuery {
    /// Only this staff member's rules.
    pub staff_id: Option<Uuid>,
    /// Only rules not yet ended (default false: all, ended ones too).
    pub active: Option<bool>,
}

/// Lists commission rules, oldest first.
#[utoipa::path(get, path = "/commission-rules", tag = "commissions", params(RuleQuery),
    responses((status = 200, body = Vec<CommissionRule>)))]
pub async fn list_rules(
    caller: TenantCaller,
    ApiQuery(q): ApiQuery<RuleQuery>,
) -> Result<Json<Vec<CommissionRule>>, AppError> {
    Ok(Json(
        store::rules(&caller.handle, q.staff_id, q.active.unwrap_or(false)).await?,
    ))
}

/// Adds a rule (audited); 404 if its staff member is not the tenant's.
#[utoipa::path(post, path = "/commission-rules", tag = "commissions", request_body = RuleBody,
    responses((status = 201, body = CommissionRule)))]
pub async fn create_rule(
    caller: TenantCaller,
    ApiJson(body): ApiJson<RuleBody>,
) -> Result<(StatusCode, Json<CommissionRule>), AppError> {
    let row = store::save_rule(&caller.handle, None, &body.spec()?, caller.actor())
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// One rule.
#[utoipa::path(get, path = "/commission-rules/{id}", tag = "commissions",
    params(("id" = Uuid, Path, description = "rule id")),
    responses((status = 200, body = CommissionRule)))]
pub async fn get_rule(
    caller: TenantCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<CommissionRule>, AppError> {
    store::rule(&caller.handle, id)
        .await?
        .map(Json)
        .ok_or(AppError::NotFound)
}

/// Replaces a rule (audited). It applies to closes made after; a closed
/// period it changes gets an amendment when closed again. To change a
/// rate from a date on, add a rule with that valid_from instead.
#[utoipa::path(put, path = "/commission-rules/{id}", tag = "commissions",
    params(("id" = Uuid, Path, description = "rule id")), request_body = RuleBody,
    responses((status = 200, body = CommissionRule)))]
pub async fn replace_rule(
    caller: TenantCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<RuleBody>,
) -> Result<Json<CommissionRule>, AppError> {
    store::save_rule(&caller.handle, Some(id), &body.spec()?, caller.actor())
        .await?
        .map(Json)
        .ok_or(AppError::NotFound)
}

/// Ends a rule now (audited): visits from now on no longer earn it, past
/// ones still do. A rule not yet started is removed.
#[utoipa::path(delete, path = "/commission-rules/{id}", tag = "commissions",
    params(("id" = Uuid, Path, description = "rule id")),
    responses((status = 204, description = "ended")))]
pub async fn end_rule(
    caller: TenantCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, AppError> {
    if store::end_rule(&caller.handle, id, caller.actor()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound)
    }
}

/// Longest period one close covers.
pub const MAX_PERIOD_DAYS: i64 = 366;

/// A period to close.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ClosePeriod {
    /// First day, inclusive (the tenant's time zone).
    pub period_start: NaiveDate,
    /// Last day, inclusive (at most 366 days in all).
    pub period_end: NaiveDate,
    /// One staff member; default: all staff (the active ones and anyone
    /// with a completed visit in the period).
    pub staff_id: Option<Uuid>,
}

/// Closes a period: per staff member, the commission, tips, hours worked
/// and services rendered of the visits completed in it (by booked start),
/// frozen. Closing the same period again writes nothing unless something
/// changed since, which goes into an amendment of the close; 409 if it
/// overlaps another close of the same staff member.
#[utoipa::path(post, path = "/commission-periods", tag = "commissions", request_body = ClosePeriod,
    responses((status = 200, body = ClosedPeriod)))]
pub async fn close_period(
    caller: TenantCaller,
    ApiJson(body): ApiJson<ClosePeriod>,
) -> Result<Json<ClosedPeriod>, AppError> {
    let start = check::date("period_start", body.period_start)?;
    let end = check::date("period_end", body.period_end)?;
    if end < start {
        return Err(AppError::invalid("period_end is before period_start"));
    }
    if (end - start).num_days() >= MAX_PERIOD_DAYS {
        return Err(AppError::invalid(format!(
            "a period is at most {MAX_PERIOD_DAYS} days"
        )));
    }
    let tz = caller.tz();
    let spec = PeriodSpec {
        start,
        end,
        from: day_bounds(start, tz).0,
        to: day_bounds(end, tz).1,
        staff: body.staff_id,
    };
    Ok(Json(
        store::close(&caller.handle, &spec, caller.actor()).await?,
    ))
}

/// Which period rows to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    pub staff_id: Option<Uuid>,
    /// Periods ending on or after this day.
    pub from: Option<NaiveDate>,
    /// Periods starting on or before this day.
    pub to: Option<NaiveDate>,
}

/// Lists closes and amendments, newest period first (at most 1,000).
#[utoipa::path(get, path = "/commission-periods", tag = "commissions", params(PeriodQuery),
    responses((status = 200, body = Vec<CommissionPeriod>)))]
pub async fn list_periods(
    caller: TenantCaller,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> Result<Json<Vec<CommissionPeriod>>, AppError> {
    let filter = PeriodFilter {
        staff: q.staff_id,
        from: q.from.map(|d| check::date("from", d)).transpose()?,
        to: q.to.map(|d| check::date("to", d)).transpose()?,
    };
    Ok(Json(store::periods(&caller.handle, &filter).await?))
}

/// One close or amendment.
#[utoipa::path(get, path = "/commission-periods/{id}", tag = "commissions",
    params(("id" = Uuid, Path, description = "period row id")),
    responses((status = 200, body = CommissionPeriod)))]
pub async fn get_period(
    caller: TenantCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<CommissionPeriod>, AppError> {
    store::period(&caller.handle, id)
        .await?
        .map(Json)
        .ok_or(AppError::NotFound)
}

/// This module's routes (merged into the API's).
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<super::AdminState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list_rules, create_rule))
        .routes(routes!(get_rule, replace_rule, end_rule))
        .routes(routes!(list_periods, close_period))
        .routes(routes!(get_period))
}
