//! Commission: what a staff member earned over a period, from the visits
//! they completed and the business's rules. Pure: rules and visits in,
//! figures out (the admin API stores them frozen in commission_period).
//!
//! **Rules** (commission_rules) are `pct` (a rate 0 to 100 of the visit's
//! amount, at most two decimals), `fixed` (an amount in minor units per
//! visit) or `tiered` (`[{threshold, rate}]`, thresholds in minor units,
//! strictly ascending, rates 0 to 100). Each applies to one staff member or
//! to one service category; the category [`ANY_CATEGORY`] (`"*"`) is the
//! business's default.
//!
//! **Precedence**: for each visit, a rule of its staff member beats a rule
//! of its service's category, which beats the default (`"*"`); among rules
//! of the same rank, the one valid at the visit's start with the latest
//! `valid_from` wins (a new rate from a date is a new rule). A visit no rule
//! covers earns no commission (it still counts for tips, hours and
//! services).
//!
//! **Tiers are marginal**: the visits a tiered rule covers in the period are
//! summed, and each band earns its own rate on the part of the sum within
//! it (like income tax). One more shilling of sales never lowers the
//! commission, which a whole-amount tier would do at each threshold.
//!
//! **Rounding**: one rounding (half up, to the minor unit) per rule over the
//! period's sum of the visits it covers; hours are rounded to hundredths.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use thiserror::Error;
use uuid::Uuid;

use crate::core::ids::Money;

/// The category of a default rule: every service.
pub const ANY_CATEGORY: &str = "*";

/// Tiers a rule may have at most.
pub const MAX_TIERS: usize = 20;

/// A fixed amount or tier threshold at most this many minor units (10
/// million KES): far above any visit, well inside the INT columns.
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000;

/// Why a rule's value is not acceptable (the caller's mistake).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RuleError {
    #[error("rule_type must be pct, fixed or tiered")]
    UnknownType,
    #[error("a pct value is a number from 0 to 100 with at most two decimals")]
    BadPct,
    #[error("a fixed value is a whole number of minor units from 0 to {MAX_AMOUNT_MINOR}")]
    BadFixed,
    #[error(
        "a tiered value is 1 to {MAX_TIERS} tiers [{{\"threshold\": minor units, \"rate\": 0-100}}] with thresholds ascending"
    )]
    BadTiers,
}

/// A rate in basis points (hundredths of a percent), 0 to 10,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rate(u32);

impl Rate {
    pub const FULL: Rate = Rate(10_000);

    /// Basis points, if at most [`Rate::FULL`].
    pub fn from_bp(bp: u32) -> Option<Rate> {
        (bp <= Self::FULL.0).then_some(Rate(bp))
    }

    /// A percentage 0 to 100 with at most two decimals, as JSON.
    fn from_json(v: &Value) -> Option<Rate> {
        if let Some(n) = v.as_u64() {
            return u32::try_from(n)
                .ok()?
                .checked_mul(100)
                .and_then(Rate::from_bp);
        }
        let f = v.as_f64()?;
        let bp = (f * 100.0).round();
        if !(0.0..=10_000.0).contains(&bp) || (f * 100.0 - bp).abs() > 1e-6 {
            return None;
        }
        // In 0..=10,000 and whole: the cast is exact.
        Rate::from_bp(bp as u32)
    }

    fn to_json(self) -> Value {
        if self.0.is_multiple_of(100) {
            json!(self.0 / 100)
        } else {
            json!(f64::from(self.0) / 100.0)
        }
    }

    pub fn bp(self) -> u32 {
        self.0
    }
}

/// One band of a tiered rule: from `threshold` (minor units of the period's
/// sum) up to the next tier's threshold, `rate` applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    pub threshold: i64,
    pub rate: Rate,
}

/// What a rule pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleKind {
    /// A share of each visit's amount.
    Pct(Rate),
    /// Minor units per visit.
    Fixed(i64),
    /// Marginal bands over the period's sum (ascending thresholds).
    Tiered(Vec<Tier>),
}

impl RuleKind {
    /// Reads commission_rules' (rule_type, value).
    pub fn parse(rule_type: &str, value: &Value) -> Result<RuleKind, RuleError> {
        match rule_type {
            "pct" => Rate::from_json(value)
                .map(RuleKind::Pct)
                .ok_or(RuleError::BadPct),
            "fixed" => value
                .as_i64()
                .filter(|n| (0..=MAX_AMOUNT_MINOR).contains(n))
                .map(RuleKind::Fixed)
                .ok_or(RuleError::BadFixed),
            "tiered" => parse_tiers(value).map(RuleKind::Tiered),
            _ => Err(RuleError::UnknownType),
        }
    }

    /// commission_rules.rule_type.
    pub fn rule_type(&self) -> &'static str {
        match self {
            RuleKind::Pct(_) => "pct",
            RuleKind::Fixed(_) => "fixed",
            RuleKind::Tiered(_) => "tiered",
        }
    }

    /// commission_rules.value, canonical (what is stored).
    pub fn value(&self) -> Value {
        match self {
            RuleKind::Pct(r) => r.to_json(),
            RuleKind::Fixed(n) => json!(n),
            RuleKind::Tiered(tiers) => Value::Array(
                tiers
                    .iter()
                    .map(|t| json!({"threshold": t.threshold, "rate": t.rate.to_json()}))
                    .collect(),
            ),
        }
    }
}

fn parse_tiers(value: &Value) -> Result<Vec<Tier>, RuleError> {
    let items = value.as_array().ok_or(RuleError::BadTiers)?;
    if items.is_empty() || items.len() > MAX_TIERS {
        return Err(RuleError::BadTiers);
    }
    let mut tiers: Vec<Tier> = Vec::with_capacity(items.len());
    for item in items {
        let obj = item.as_object().ok_or(RuleError::BadTiers)?;
        if obj.len() != 2 {
            return Err(RuleError::BadTiers);
        }
        let threshold = obj
            .get("threshold")
            .and_then(Value::as_i64)
            .filter(|n| (0..=MAX_AMOUNT_MINOR).contains(n))
            .ok_or(RuleError::BadTiers)?;
        let rate = obj
            .get("rate")
            .and_then(Rate::from_json)
            .ok_or(RuleError::BadTiers)?;
        if tiers.last().is_some_and(|t| t.threshold >= threshold) {
            return Err(RuleError::BadTiers);
        }
        tiers.push(Tier { threshold, rate });
    }
    Ok(tiers)
}

/// Whom a rule applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Staff(Uuid),
    /// A service category; [`ANY_CATEGORY`] is the default.
    Category(String),
}

impl Target {
    /// 0 beats 1 beats 2.
    fn rank(&self) -> u8 {
        match self {
            Target::Staff(_) => 0,
            Target::Category(c) if c == ANY_CATEGORY => 2,
            Target::Category(_) => 1,
        }
    }
}

/// One commission rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: Uuid,
    pub target: Target,
    pub kind: RuleKind,
    pub valid_from: DateTime<Utc>,
    /// `None`: still valid.
    pub valid_to: Option<DateTime<Utc>>,
}

impl Rule {
    fn valid_at(&self, at: DateTime<Utc>) -> bool {
        self.valid_from <= at && self.valid_to.is_none_or(|to| at < to)
    }

    fn covers(&self, visit: &Visit) -> bool {
        self.valid_at(visit.at)
            && match &self.target {
                Target::Staff(s) => *s == visit.staff_id,
                Target::Category(c) if c == ANY_CATEGORY => true,
                Target::Category(c) => visit.category.as_deref() == Some(c.as_str()),
            }
    }
}

/// One completed appointment, as commission sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub staff_id: Uuid,
    /// Its service's category, if it has one.
    pub category: Option<String>,
    /// The booked start: which rule applies.
    pub at: DateTime<Utc>,
    /// What the visit was sold for.
    pub amount: Money,
    pub tip: Money,
    /// Seconds worked (actual end minus actual start; never negative).
    pub worked_secs: i64,
}

/// The rule that applies to `visit` (see the module's precedence).
pub fn rule_for<'a>(visit: &Visit, rules: &'a [Rule]) -> Option<&'a Rule> {
    rules.iter().filter(|r| r.covers(visit)).min_by(|a, b| {
        a.target
            .rank()
            .cmp(&b.target.rank())
            .then(b.valid_from.cmp(&a.valid_from))
            .then(a.id.cmp(&b.id))
    })
}

/// One staff member's period, as frozen in commission_period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Figures {
    pub commission_minor: i64,
    pub tip_minor: i64,
    /// Hours worked in hundredths.
    pub centi_hours: i64,
    pub services: i64,
}

impl Figures {
    /// What `self` adds to `earlier` (an amendment's figures).
    pub fn minus(self, earlier: Figures) -> Figures {
        Figures {
            commission_minor: self
                .commission_minor
                .saturating_sub(earlier.commission_minor),
            tip_minor: self.tip_minor.saturating_sub(earlier.tip_minor),
            centi_hours: self.centi_hours.saturating_sub(earlier.centi_hours),
            services: self.services.saturating_sub(earlier.services),
        }
    }

    /// `self` with `amendment` applied.
    pub fn plus(self, amendment: Figures) -> Figures {
        Figures {
            commission_minor: self
                .commission_minor
                .saturating_add(amendment.commission_minor),
            tip_minor: self.tip_minor.saturating_add(amendment.tip_minor),
            centi_hours: self.centi_hours.saturating_add(amendment.centi_hours),
            services: self.services.saturating_add(amendment.services),
        }
    }
}

/// `amount × rate` in basis-point units (exact; see [`round_bp`]).
fn apply(amount: i64, rate: Rate) -> i128 {
    i128::from(amount) * i128::from(rate.0)
}

/// Divides basis-point products by 10,000, half up (non-negative input).
fn round_bp(product: i128) -> i64 {
    let q = product.saturating_add(5_000).div_euclid(10_000);
    i64::try_from(q).unwrap_or(i64::MAX)
}

/// Marginal tiers over `sum` minor units.
pub fn tiered(sum: i64, tiers: &[Tier]) -> i64 {
    let mut product: i128 = 0;
    for (i, tier) in tiers.iter().enumerate() {
        let top = tiers.get(i + 1).map_or(sum, |next| next.threshold.min(sum));
        if top > tier.threshold {
            product += apply(top - tier.threshold, tier.rate);
        }
    }
    round_bp(product)
}

/// The period's figures for the visits given (one staff member's
/// completed appointments), under `rules`.
pub fn figures(visits: &[Visit], rules: &[Rule]) -> Figures {
    // Sum and count of visit amounts per rule (rules are few).
    let mut per_rule: Vec<(&Rule, i64, i64)> = Vec::new();
    let mut out = Figures::default();
    let mut worked: i64 = 0;
    for v in visits {
        out.tip_minor = out.tip_minor.saturating_add(v.tip.minor.max(0));
        out.services += 1;
        worked = worked.saturating_add(v.worked_secs.max(0));
        let Some(rule) = rule_for(v, rules) else {
            continue;
        };
        let amount = v.amount.minor.max(0);
        match per_rule.iter_mut().find(|(r, _, _)| r.id == rule.id) {
            Some((_, sum, n)) => {
                *sum = sum.saturating_add(amount);
                *n += 1;
            }
            None => per_rule.push((rule, amount, 1)),
        }
    }
    for (rule, sum, n) in per_rule {
        let earned = match &rule.kind {
            RuleKind::Pct(rate) => round_bp(apply(sum, *rate)),
            RuleKind::Fixed(each) => each.saturating_mul(n),
            RuleKind::Tiered(tiers) => tiered(sum, tiers),
        };
        out.commission_minor = out.commission_minor.saturating_add(earned);
    }
    // Hundredths of an hour: 36 s each, half up.
    out.centi_hours = worked.saturating_add(18) / 36;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: i64) -> DateTime<Utc> {
        "2030-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::Duration::hours(h)
    }

    fn rule(n: u128, target: Target, kind: RuleKind, from: i64) -> Rule {
        Rule {
            id: Uuid::from_u128(n),
            target,
            kind,
            valid_from: t(from),
            valid_to: None,
        }
    }

    fn visit(staff: Uuid, category: Option<&str>, at: i64, amount: i64) -> Visit {
        Visit {
            staff_id: staff,
            category: category.map(str::to_owned),
            at: t(at),
            amount: Money::kes(amount),
            tip: Money::kes(0),
            worked_secs: 3600,
        }
    }

    fn pct(n: u32) -> RuleKind {
        RuleKind::Pct(Rate::from_bp(n * 100).unwrap())
    }

    fn tiers(pairs: &[(i64, u32)]) -> RuleKind {
        RuleKind::Tiered(
            pairs
                .iter()
                .map(|&(threshold, r)| Tier {
                    threshold,
                    rate: Rate::from_bp(r * 100).unwrap(),
                })
                .collect(),
        )
    }

    #[test]
    fn values_parse_within_bounds_and_round_trip() {
        assert_eq!(RuleKind::parse("pct", &json!(40)), Ok(pct(40)));
        assert_eq!(
            RuleKind::parse("pct", &json!(12.5)),
            Ok(RuleKind::Pct(Rate(1250)))
        );
        assert_eq!(RuleKind::parse("pct", &json!(0)), Ok(pct(0)));
        assert_eq!(RuleKind::parse("pct", &json!(100)), Ok(pct(100)));
        for bad in [
            json!(100.01),
            json!(-1),
            json!(12.345),
            json!("40"),
            json!(null),
        ] {
            assert_eq!(
                RuleKind::parse("pct", &bad),
                Err(RuleError::BadPct),
                "{bad}"
            );
        }
        assert_eq!(
            RuleKind::parse("fixed", &json!(50_000)),
            Ok(RuleKind::Fixed(50_000))
        );
        for bad in [
            json!(-5),
            json!(1.5),
            json!(MAX_AMOUNT_MINOR + 1),
            json!([]),
        ] {
            assert_eq!(
                RuleKind::parse("fixed", &bad),
                Err(RuleError::BadFixed),
                "{bad}"
            );
        }
        let ok = json!([{"threshold": 0, "rate": 30}, {"threshold": 5_000_000, "rate": 42.5}]);
        let parsed = RuleKind::parse("tiered", &ok).unwrap();
        assert_eq!(parsed.value(), ok);
        assert_eq!(parsed.rule_type(), "tiered");
        assert_eq!(
            RuleKind::parse("pct", &json!(12.5)).unwrap().value(),
            json!(12.5)
        );
        assert_eq!(
            RuleKind::parse("bonus", &json!(1)),
            Err(RuleError::UnknownType)
        );
    }

    #[test]
    fn tiers_must_ascend_strictly_and_be_well_formed() {
        for bad in [
            json!([]),
            json!([{"threshold": 100, "rate": 10}, {"threshold": 100, "rate": 20}]),
            json!([{"threshold": 200, "rate": 10}, {"threshold": 100, "rate": 20}]),
            json!([{"threshold": -1, "rate": 10}]),
            json!([{"threshold": 0, "rate": 101}]),
            json!([{"threshold": 0}]),
            json!([{"threshold": 0, "rate": 10, "extra": 1}]),
            json!({"threshold": 0, "rate": 10}),
            json!([[0, 10]]),
            Value::Array(
                (0..=MAX_TIERS as i64)
                    .map(|i| json!({"threshold": i, "rate": 1}))
                    .collect(),
            ),
        ] {
            assert_eq!(
                RuleKind::parse("tiered", &bad),
                Err(RuleError::BadTiers),
                "{bad}"
            );
        }
    }

    #[test]
    fn marginal_tiers_at_below_and_above_each_threshold() {
        // 10% to 1,000.00, 20% to 2,000.00, 30% above.
        let kind = tiers(&[(0, 10), (100_000, 20), (200_000, 30)]);
        let RuleKind::Tiered(ts) = &kind else {
            unreachable!()
        };
        assert_eq!(tiered(0, ts), 0);
        assert_eq!(tiered(99_999, ts), 10_000); // 9,999.9 rounds up
        assert_eq!(tiered(100_000, ts), 10_000);
        assert_eq!(tiered(100_001, ts), 10_000); // +0.2 rounds down
        assert_eq!(tiered(100_003, ts), 10_001); // +0.6 rounds up
        assert_eq!(tiered(150_000, ts), 20_000);
        assert_eq!(tiered(200_000, ts), 30_000);
        assert_eq!(tiered(300_000, ts), 60_000);
        // Never lower for more sales (no cliff at thresholds).
        let mut last = 0;
        for sum in (0..=400_000).step_by(997) {
            let c = tiered(sum, ts);
            assert!(c >= last, "{sum}: {c} < {last}");
            last = c;
        }
        // A first threshold above 0: nothing below it.
        let from_500 = [Tier {
            threshold: 50_000,
            rate: Rate(1000),
        }];
        assert_eq!(tiered(40_000, &from_500), 0);
        assert_eq!(tiered(60_000, &from_500), 1_000);
        // The largest sums do not overflow.
        assert_eq!(
            tiered(
                i64::MAX / 2,
                &[Tier {
                    threshold: 0,
                    rate: Rate::FULL
                }]
            ),
            i64::MAX / 2
        );
    }

    #[test]
    fn staff_beats_category_beats_default_and_newest_wins_within_a_rank() {
        let (amina, baraka) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let rules = vec![
            rule(10, Target::Category(ANY_CATEGORY.into()), pct(10), 0),
            rule(11, Target::Category("nails".into()), pct(20), 0),
            rule(12, Target::Staff(amina), pct(30), 0),
            rule(13, Target::Staff(amina), pct(35), 48),
        ];
        let who = |v: &Visit| rule_for(v, &rules).map(|r| r.id.as_u128());
        assert_eq!(who(&visit(amina, Some("nails"), 1, 1)), Some(12));
        assert_eq!(who(&visit(amina, Some("nails"), 49, 1)), Some(13));
        assert_eq!(who(&visit(baraka, Some("nails"), 1, 1)), Some(11));
        assert_eq!(who(&visit(baraka, Some("braids"), 1, 1)), Some(10));
        assert_eq!(who(&visit(baraka, None, 1, 1)), Some(10));
        // Before any rule was valid: none.
        let late = vec![rule(20, Target::Staff(amina), pct(30), 10)];
        assert_eq!(rule_for(&visit(amina, None, 5, 1), &late), None);
        // An ended rule no longer applies.
        let mut ended = late.clone();
        ended[0].valid_to = Some(t(20));
        assert!(rule_for(&visit(amina, None, 15, 1), &ended).is_some());
        assert_eq!(rule_for(&visit(amina, None, 20, 1), &ended), None);
    }

    #[test]
    fn a_period_sums_tips_hours_services_and_commission_per_rule() {
        let amina = Uuid::from_u128(1);
        let rules = vec![
            rule(
                1,
                Target::Category("nails".into()),
                RuleKind::Fixed(20_000),
                0,
            ),
            rule(
                2,
                Target::Category("braids".into()),
                tiers(&[(0, 10), (500_000, 20)]),
                0,
            ),
            rule(3, Target::Category(ANY_CATEGORY.into()), pct(5), 0),
        ];
        let mut visits = vec![
            visit(amina, Some("nails"), 1, 80_000),
            visit(amina, Some("nails"), 2, 90_000),
            visit(amina, Some("braids"), 3, 300_000),
            visit(amina, Some("braids"), 4, 400_000),
            visit(amina, Some("spa"), 5, 333_333),
        ];
        visits[0].tip = Money::kes(20_000);
        visits[1].tip = Money::kes(5_050);
        visits[4].worked_secs = 5_400 + 17; // 1.5 h and 17 s
        let f = figures(&visits, &rules);
        // fixed 2 × 200.00; braids 700,000 marginal: 50,000 + 40,000;
        // spa 5% of 333,333 = 16,666.65 → 16,667.
        assert_eq!(f.commission_minor, 40_000 + 90_000 + 16_667);
        assert_eq!(f.tip_minor, 25_050);
        assert_eq!(f.services, 5);
        assert_eq!(f.centi_hours, 550); // 5.5 h (17 s rounds away)
        let none = figures(&visits, &[]);
        assert_eq!(none.commission_minor, 0);
        assert_eq!(none.services, 5);
        assert_eq!(figures(&[], &rules), Figures::default());
        assert_eq!(f.minus(none).plus(none), f);
    }
}
