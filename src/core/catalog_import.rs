//! A price-list import's preview: what [`super::price_list`] read from each
//! line, with a confidence per field, and what committing it would do to
//! the tenant's services (create one, update one, nothing, or nothing
//! because the line was not understood). Pure: the text and the current
//! services in, the preview out; `crate::storage::admin::catalogue`
//! stores it (catalog_imports) and applies it.
//!
//! Nothing is dropped silently: every non-empty line that is not a
//! heading appears, a line that gave no service as `rejected` with the
//! reason, and a value read with low confidence (a duration not given, a
//! price without a currency mark next to it …) is named in `flagged`.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::price_list::{self, ExtractedService, Format};

/// Below this a field is flagged for a person to check.
pub const LOW_CONFIDENCE: f32 = 0.5;

/// The longest service name (services.name is VARCHAR(255)).
pub const MAX_NAME_CHARS: usize = 255;

/// What committing a line does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A new service.
    Create,
    /// Changes the existing service `service_id` (price, duration; an
    /// inactive one is offered again).
    Update,
    /// The existing service `service_id` already has these values.
    Unchanged,
    /// The line gave no service (see `reason`); committing skips it.
    Rejected,
}

/// A text value read from a line, and how sure the reader is (0 to 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TextGuess {
    pub value: Option<String>,
    pub confidence: f32,
}

/// A price read from a line (in the tenant's currency, e.g. "4500.00").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PriceGuess {
    pub value: Option<Decimal>,
    pub confidence: f32,
}

/// A duration in minutes read from a line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MinutesGuess {
    pub value: Option<i32>,
    pub confidence: f32,
}

/// One line of the price list and what it gives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImportLine {
    /// 1-based line of the input.
    pub line: u32,
    /// The line as given.
    pub text: String,
    pub outcome: Outcome,
    /// Why a rejected line gave no service.
    pub reason: Option<String>,
    pub name: TextGuess,
    pub price: PriceGuess,
    pub duration_min: MinutesGuess,
    /// From a keyword or the heading above (shown, not stored: services
    /// have no category).
    pub category: TextGuess,
    /// The existing service the line updates (update, unchanged).
    pub service_id: Option<Uuid>,
    /// How alike the line's name and that service's are (0 to 1).
    pub match_similarity: Option<f32>,
    /// Fields read with confidence below 0.5 (a person should check them),
    /// e.g. ["duration_min"].
    pub flagged: Vec<String>,
}

/// Mean confidence per field over the lines that gave a service, and
/// counts (catalog_imports.confidence_summary).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConfidenceSummary {
    pub name: f32,
    pub price: f32,
    pub duration_min: f32,
    pub category: f32,
    /// Lines read (headings and blank lines are not counted).
    pub lines: u32,
    pub create: u32,
    pub update: u32,
    pub unchanged: u32,
    pub rejected: u32,
    /// Lines with at least one flagged field.
    pub flagged: u32,
}

/// A service as it is now, for matching and comparing.
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    pub id: Uuid,
    pub name: String,
    pub price: Decimal,
    pub duration_min: i32,
    pub is_active: bool,
}

/// What reading a price list gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub lines: Vec<ImportLine>,
    pub summary: ConfidenceSummary,
}

/// Reads `input` and plans each line against the `current` services.
/// A second line for the same service (or the same new name) is rejected
/// as a duplicate: one change per service.
pub fn preview(input: &str, format: Format, current: &[Current]) -> Preview {
    let names: Vec<&str> = current.iter().map(|c| c.name.as_str()).collect();
    let read = price_list::extract(input, format, &names);
    let texts: Vec<&str> = input.lines().collect();
    let text_of = |line: usize| {
        texts
            .get(line.wrapping_sub(1))
            .map(|t| t.trim().to_owned())
            .unwrap_or_default()
    };
    let mut lines: Vec<ImportLine> = read
        .rejected
        .iter()
        .map(|r| ImportLine {
            line: line_no(r.line),
            text: text_of(r.line),
            outcome: Outcome::Rejected,
            reason: Some(r.reason.to_owned()),
            name: TextGuess {
                value: None,
                confidence: 0.0,
            },
            price: PriceGuess {
                value: None,
                confidence: 0.0,
            },
            duration_min: MinutesGuess {
                value: None,
                confidence: 0.0,
            },
            category: TextGuess {
                value: None,
                confidence: 0.0,
            },
            service_id: None,
            match_similarity: None,
            flagged: Vec::new(),
        })
        .collect();
    // Which service (or new name) an earlier line already took, by line.
    let mut taken: Vec<(Taken, u32)> = Vec::new();
    for s in &read.services {
        let mut l = planned(s, text_of(s.line), current);
        if l.name
            .value
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_NAME_CHARS)
        {
            l.outcome = Outcome::Rejected;
            l.reason = Some(format!("name longer than {MAX_NAME_CHARS} characters"));
            l.service_id = None;
            lines.push(l);
            continue;
        }
        let key = match l.service_id {
            Some(id) => Taken::Service(id),
            None => Taken::Name(fold(l.name.value.as_deref().unwrap_or(""))),
        };
        if let Some((_, first)) = taken.iter().find(|(k, _)| *k == key) {
            l.outcome = Outcome::Rejected;
            l.reason = Some(format!("the same service as line {first}"));
        } else {
            taken.push((key, l.line));
        }
        lines.push(l);
    }
    lines.sort_by_key(|l| l.line);
    let summary = summarize(&lines);
    Preview { lines, summary }
}

#[derive(Debug, PartialEq)]
enum Taken {
    Service(Uuid),
    Name(String),
}

fn line_no(line: usize) -> u32 {
    u32::try_from(line).unwrap_or(u32::MAX)
}

fn fold(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// One service line, planned against the current services.
fn planned(s: &ExtractedService, text: String, current: &[Current]) -> ImportLine {
    let price = PriceGuess {
        value: s.price_minor.value.map(|m| Decimal::new(m, 2)),
        confidence: s.price_minor.confidence,
    };
    let duration_min = MinutesGuess {
        value: s.duration_min.value,
        confidence: s.duration_min.confidence,
    };
    let name = TextGuess {
        value: s.name.value.clone(),
        confidence: s.name.confidence,
    };
    let category = TextGuess {
        value: s.category.value.clone(),
        confidence: s.category.confidence,
    };
    let flagged: Vec<String> = [
        ("name", name.confidence),
        ("price", price.confidence),
        ("duration_min", duration_min.confidence),
    ]
    .iter()
    .filter(|(_, c)| *c < LOW_CONFIDENCE)
    .map(|(f, _)| (*f).to_owned())
    .collect();
    let matched = s
        .matched
        .and_then(|(i, sim)| current.get(i).map(|c| (c, sim)));
    let outcome = match matched {
        None => Outcome::Create,
        Some((c, _)) => {
            let wanted = wanted_change(c, &price, &duration_min);
            if wanted.price.is_none() && wanted.duration_min.is_none() && !wanted.reactivate {
                Outcome::Unchanged
            } else {
                Outcome::Update
            }
        }
    };
    ImportLine {
        line: line_no(s.line),
        text,
        outcome,
        reason: None,
        name,
        price,
        duration_min,
        category,
        service_id: matched.map(|(c, _)| c.id),
        match_similarity: matched.map(|(_, sim)| sim),
        flagged,
    }
}

/// What a line changes in an existing service.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Change {
    pub price: Option<Decimal>,
    pub duration_min: Option<i32>,
    /// The service was withdrawn: the list offers it again.
    pub reactivate: bool,
}

/// What line `l` changes in `c`, the service as it is now. A duration the
/// list did not give (low confidence) keeps the service's own.
pub fn change_for(c: &Current, l: &ImportLine) -> Change {
    wanted_change(c, &l.price, &l.duration_min)
}

fn wanted_change(c: &Current, price: &PriceGuess, duration: &MinutesGuess) -> Change {
    Change {
        price: price.value.filter(|p| *p != c.price),
        duration_min: duration
            .value
            .filter(|d| duration.confidence >= LOW_CONFIDENCE && *d != c.duration_min),
        reactivate: !c.is_active,
    }
}

fn summarize(lines: &[ImportLine]) -> ConfidenceSummary {
    let services: Vec<&ImportLine> = lines
        .iter()
        .filter(|l| l.outcome != Outcome::Rejected || l.name.value.is_some())
        .collect();
    // Two decimals: a summary, not a measurement.
    let mean = |f: &dyn Fn(&ImportLine) -> f32| {
        if services.is_empty() {
            0.0
        } else {
            let m = services.iter().map(|l| f(l)).sum::<f32>() / services.len() as f32;
            (m * 100.0).round() / 100.0
        }
    };
    let count = |o: Outcome| line_no(lines.iter().filter(|l| l.outcome == o).count());
    ConfidenceSummary {
        name: mean(&|l| l.name.confidence),
        price: mean(&|l| l.price.confidence),
        duration_min: mean(&|l| l.duration_min.confidence),
        category: mean(&|l| l.category.confidence),
        lines: line_no(lines.len()),
        create: count(Outcome::Create),
        update: count(Outcome::Update),
        unchanged: count(Outcome::Unchanged),
        rejected: count(Outcome::Rejected),
        flagged: line_no(lines.iter().filter(|l| !l.flagged.is_empty()).count()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn current(name: &str, price: i64, minutes: i32) -> Current {
        Current {
            id: Uuid::new_v4(),
            name: name.into(),
            price: Decimal::new(price * 100, 2),
            duration_min: minutes,
            is_active: true,
        }
    }

    #[test]
    fn plans_creates_updates_and_keeps_every_line() {
        let now = [
            current("Box braids", 4000, 240),
            current("Manicure", 800, 45),
        ];
        let text = "NYWELE\nBox braids 4500 4hrs\nKusuka mabutu - 1,200/= (1.5 hrs)\n\
                    Manicure 800 45min\nPedicure 1000\n??? 300\nbox braids 5000\n";
        let p = preview(text, Format::Text, &now);
        let by_line = |n: u32| p.lines.iter().find(|l| l.line == n).unwrap();
        assert_eq!(by_line(2).outcome, Outcome::Update);
        assert_eq!(by_line(2).service_id, Some(now[0].id));
        assert_eq!(by_line(2).price.value, Some(Decimal::new(450_000, 2)));
        assert_eq!(by_line(3).outcome, Outcome::Create);
        assert_eq!(by_line(3).name.value.as_deref(), Some("Kusuka mabutu"));
        assert_eq!(by_line(3).duration_min.value, Some(90));
        assert_eq!(by_line(4).outcome, Outcome::Unchanged);
        // No duration given: 60 assumed, flagged.
        assert_eq!(by_line(5).outcome, Outcome::Create);
        assert_eq!(by_line(5).flagged, vec!["duration_min".to_owned()]);
        // Not understood: kept, with the reason and the text.
        assert_eq!(by_line(6).outcome, Outcome::Rejected);
        assert_eq!(by_line(6).text, "??? 300");
        assert_eq!(by_line(6).reason.as_deref(), Some("no name"));
        // A second line for the same service.
        assert_eq!(by_line(7).outcome, Outcome::Rejected);
        assert_eq!(
            by_line(7).reason.as_deref(),
            Some("the same service as line 2")
        );
        assert_eq!(p.lines.len(), 6, "the heading is not a line: {:?}", p.lines);
        let s = &p.summary;
        assert_eq!(
            (s.create, s.update, s.unchanged, s.rejected, s.flagged),
            (2, 1, 1, 2, 2)
        );
        assert!(s.price > 0.5 && s.price < 1.0, "{s:?}");
    }

    #[test]
    fn a_guessed_duration_does_not_overwrite_the_services_own() {
        let now = [current("Pedicure", 1000, 50)];
        let p = preview("Pedicure 1200", Format::Text, &now);
        let c = change_for(&now[0], &p.lines[0]);
        assert_eq!(
            c,
            Change {
                price: Some(Decimal::new(120_000, 2)),
                duration_min: None,
                reactivate: false
            }
        );
        let same = preview("Pedicure 1000", Format::Text, &now);
        assert_eq!(same.lines[0].outcome, Outcome::Unchanged);
        let mut off = now[0].clone();
        off.is_active = false;
        let back = preview("Pedicure 1000", Format::Text, std::slice::from_ref(&off));
        assert_eq!(back.lines[0].outcome, Outcome::Update);
        assert!(change_for(&off, &back.lines[0]).reactivate);
    }

    #[test]
    fn csv_lines_are_planned_too() {
        let p = preview(
            "Service,Price,Duration\nManicure,800,45\n,300,10\n",
            Format::Csv,
            &[],
        );
        assert_eq!(p.lines.len(), 2);
        assert_eq!(p.lines[0].outcome, Outcome::Create);
        assert_eq!(p.lines[0].line, 2);
        assert_eq!(p.lines[1].outcome, Outcome::Rejected);
        assert_eq!(p.lines[1].text, ",300,10");
    }
}
