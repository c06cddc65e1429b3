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
//!
//! [`rules`]: the rules' CRUD; [`periods`]: closing and reading periods.

mod periods;
mod rules;

pub use periods::{
    ClosedPeriod, CommissionPeriod, PeriodFilter, PeriodSpec, close, period, periods,
};
pub use rules::{CommissionRule, RuleSpec, end_rule, rule, rules, save_rule};

use thiserror::Error;

use crate::storage::StorageError;

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
