//! Dates and times in English and Swahili, resolved in the tenant's time
//! zone against a `now` passed in (the core never reads a clock).
//!
//! Swahili clock: hours count from sunrise, so "saa moja" (hour one) is
//! 07:00, "saa nne asubuhi" 10:00, "saa saba mchana" 13:00, "saa kumi jioni"
//! 16:00, "saa mbili usiku" 20:00. A bare "saa N" is read on the Swahili
//! clock; "saa 14:30" (above 12) is a 24-hour time.
//!
//! Weekdays never mean a day already past: a plain weekday ("Friday",
//! "Ijumaa", "this friday") is its next occurrence, today included only
//! while the day is still young (before [`SAME_DAY_CUTOFF`] local time, so
//! "Sunday" said on a Sunday evening is next Sunday); "next Friday" /
//! "Ijumaa ijayo" is the first one strictly after today; "next week
//! Tuesday" / "Jumanne wiki ijayo" is the Tuesday of next week.
//!
//! Words arrive normalised ([`Tokens::new`]): "tmrw", "frdy", "wedensday",
//! "saa4" and "1600hrs" are already "tomorrow", "friday", "wednesday",
//! "saa 4" and "16:00" here.

mod calendar;
mod clock;
mod deadline;
mod shift;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

pub use calendar::only_travel_or_event_date;
use calendar::{
    after_event, after_travel, beside_holiday, holiday_named, month_end_weekday,
    parse_calendar_date, with_its_weekday,
};
pub use clock::swahili_clock;
pub use deadline::done_by;
pub use shift::{moved_by, shift_minutes};

use super::lexicon;
use super::numbers::en_ordinal;
use super::text::Tokens;

/// From this local time on, a weekday naming today means next week.
pub const SAME_DAY_CUTOFF: (u32, u32) = (17, 0);

/// A rough part of the day, when no exact time was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DayPart {
    Morning,
    Afternoon,
    Evening,
    Night,
}

impl DayPart {
    /// The local window [start, end) this part of the day covers.
    pub fn window(self) -> (NaiveTime, NaiveTime) {
        let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN);
        match self {
            DayPart::Morning => (t(6), t(12)),
            DayPart::Afternoon => (t(12), t(16)),
            DayPart::Evening => (t(16), t(20)),
            DayPart::Night => (
                t(19),
                NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN),
            ),
        }
    }
}

/// What the customer said about when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct When {
    pub date: Option<NaiveDate>,
    pub time: Option<NaiveTime>,
    pub part: Option<DayPart>,
}

impl When {
    pub fn is_empty(&self) -> bool {
        self.date.is_none() && self.time.is_none() && self.part.is_none()
    }

    /// Fills what this one lacks from an earlier statement.
    pub fn or(self, earlier: When) -> When {
        When {
            date: self.date.or(earlier.date),
            time: self.time.or(earlier.time),
            part: self.part.or(if self.time.is_some() {
                None
            } else {
                earlier.part
            }),
        }
    }
}

/// The local date of `now` in `tz`.
pub fn local_today(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// Words that take back what was just said: "on friday no sorry saturday
/// at ten", "saa nne, hapana samahani saa tano".
const CORRECTIONS: &[&[&str]] = &[
    &["no", "sorry"],
    &["sorry", "no"],
    &["no", "wait"],
    &["no", "no"],
    &["i", "mean"],
    &["i", "meant"],
    &["or", "rather"],
    &["correction"],
    &["nimekosea"],
    &["namaanisha"],
    &["nilimaanisha"],
    &["hapana", "samahani"],
    &["samahani", "hapana"],
    &["hapana", "sorry"],
    // "kumbe ni saa tisa unusu already, basi saa kumi na moja": the time
    // it is now, then the one wanted.
    &["already", "basi"],
    &["already", "so"],
    &["already", "then"],
    &["tayari", "basi"],
];

/// Reads every date and time expression in the turn; after a correction
/// ("friday no sorry saturday"), what follows it wins.
pub fn parse_when(tokens: &Tokens, now: DateTime<Utc>, tz: Tz) -> When {
    let kept = Tokens::from_words(calendar::without_event_times(tokens.words()));
    let tokens = &kept;
    let words = tokens.words();
    if let Some((start, end)) = last_correction(words) {
        let after = parse_when_plain(&Tokens::from_words(words[end..].to_vec()), now, tz);
        if !after.is_empty() {
            let before = parse_when_plain(&Tokens::from_words(words[..start].to_vec()), now, tz);
            return after.or(before);
        }
    }
    // "are you open on the 26th, and if not, can I book … the 27th at 2pm":
    // the second day when the first is a public holiday.
    if let Some((first, alt)) = alternative_when(tokens, now, tz) {
        let closed = first
            .date
            .is_some_and(|d| crate::core::booking::holidays::kenyan_holiday(d).is_some());
        if closed {
            return alt;
        }
    }
    parse_when_plain(tokens, now, tz)
}

/// "do you do retwists on sundays? if not is saturday 4pm free?": what
/// is said before a word bringing in a second choice, and after it (the
/// second day's month following the first's).
pub fn alternative_when(tokens: &Tokens, now: DateTime<Utc>, tz: Tz) -> Option<(When, When)> {
    let words = tokens.words();
    let (at, len) = ALTERNATIVE
        .iter()
        .filter_map(|p| tokens.find(p).map(|at| (at, p.split(' ').count())))
        .min_by_key(|&(at, _)| at)?;
    let first = parse_when_plain(&Tokens::from_words(words[..at].to_vec()), now, tz);
    let mut alt = parse_when_plain(&Tokens::from_words(words[at + len..].to_vec()), now, tz);
    let (Some(first_day), Some(mut day)) = (first.date, alt.date) else {
        return None;
    };
    // "the 28th" after "the 26th of December": that month's (a weekday
    // just before the first day stays: "sunday? if not saturday").
    while day + Duration::days(7) < first_day {
        match day.checked_add_months(chrono::Months::new(1)) {
            Some(next) => day = next,
            None => break,
        }
    }
    alt.date = Some(day);
    Some((first, alt))
}

/// Words that bring in a second choice of day.
const ALTERNATIVE: &[&str] = &[
    "if not",
    "otherwise",
    "or else",
    "kama sivyo",
    "la sivyo",
    "ama sivyo",
    "if you are closed",
    "if you re closed",
    "if closed",
    "kama mmefunga",
    "kama mtafunga",
];

/// The words without the weekdays of events the customer goes to, when
/// another weekday is said ("change my manicure on frdy to gel nails, same
/// time. its b4 my graduation sat": Saturday is no day for the booking).
pub fn without_event_weekdays(words: &[String]) -> Vec<String> {
    let event_day = |i: usize| lexicon::weekday(&words[i]).is_some() && after_event(words, i, 2);
    let other = (0..words.len()).any(|i| lexicon::weekday(&words[i]).is_some() && !event_day(i));
    (0..words.len())
        .filter(|&i| !(other && event_day(i)))
        .map(|i| words[i].clone())
        .collect()
}

/// "next week", "wiki ijayo"; not an event's ("I've got a job interview
/// next week", "schools open next week").
pub fn says_next_week(tokens: &Tokens) -> bool {
    let words = tokens.words();
    ["next week", "wiki ijayo", "wiki inayokuja", "wiki ijao"]
        .iter()
        .any(|p| {
            (0..words.len()).any(|at| {
                crate::core::dialog::intent::lexicon::matches_at(words, at, p)
                    && !after_event(words, at, 3)
            })
        })
}

/// Where the last correction in the words starts and ends ("a gel no
/// sorry a normal manicure": what follows it replaces what came before).
pub fn last_correction(words: &[String]) -> Option<(usize, usize)> {
    (1..words.len()).rev().find_map(|i| {
        CORRECTIONS
            .iter()
            .find(|c| {
                words.len() >= i + c.len() && words[i..].iter().zip(c.iter()).all(|(w, p)| w == p)
            })
            .map(|c| (i, i + c.len()))
    })
}

fn parse_when_plain(tokens: &Tokens, now: DateTime<Utc>, tz: Tz) -> When {
    let local = now.with_timezone(&tz).naive_local();
    let part = parse_part(tokens);
    let date = parse_date(tokens, local.date(), local.time());
    let time = clock::parse_time(tokens, part);
    When {
        date,
        time,
        part: if time.is_some() { None } else { part },
    }
}

/// Whether the customer asked for the same time as before ("same time",
/// "same hour", "saa ile ile", "muda ule ule", "saa hiyo hiyo").
pub fn same_time(tokens: &Tokens) -> bool {
    tokens.has_any(&[
        "same time",
        "same hour",
        "same slot",
        "the same time",
        "saa ile ile",
        "saa ileile",
        "saa ile",
        "muda ule ule",
        "muda uleule",
        "muda ule",
        "saa hiyo hiyo",
        "saa hiyohiyo",
        "wakati ule ule",
        "time ile ile",
        "time ni ile ile",
        "time ni ile",
        "saa ni ile ile",
        "same day same time",
        "time ile",
        "same tym",
    ])
}

fn parse_part(tokens: &Tokens) -> Option<DayPart> {
    // Greetings name a part of the day without asking for it.
    let words = tokens.words();
    let said = |keywords: &[&str]| {
        words.iter().enumerate().any(|(i, w)| {
            let prev = if i > 0 { words[i - 1].as_str() } else { "" };
            let next = words.get(i + 1).map(String::as_str).unwrap_or("");
            keywords.contains(&w.as_str())
                && !matches!(prev, "good" | "za" | "habari")
                && !matches!(next, "njema" | "nzuri")
                // "i have a wedding in the afternoon"
                && !after_event(words, i, 3)
        })
    };
    if said(&["usiku", "night", "tonight"]) {
        Some(DayPart::Night)
    } else if said(&["jioni", "evening"]) {
        Some(DayPart::Evening)
    } else if tokens.has("before lunch") {
        Some(DayPart::Morning)
    } else if said(&["mchana", "afternoon", "alasiri", "lunchtime", "lunch"]) {
        Some(DayPart::Afternoon)
    } else if said(&["asubuhi", "morning", "alfajiri"]) {
        Some(DayPart::Morning)
    } else {
        None
    }
}

fn parse_date(tokens: &Tokens, today: NaiveDate, time: NaiveTime) -> Option<NaiveDate> {
    // "not tomorrow, thursday": a day said only to be ruled out is not the
    // day asked for.
    let kept = without_negated_days(tokens.words());
    let tokens = &kept;
    let words = tokens.words();
    if tokens.has("keshokutwa") || tokens.has("kesho kutwa") || tokens.has("day after tomorrow") {
        return Some(today + Duration::days(2));
    }
    if tokens.has_any(&["kesho", "tomorrow"]) {
        return Some(today + Duration::days(1));
    }
    if tokens.has_any(&["leo", "today", "tonight"]) {
        return Some(today);
    }
    if let Some(n) = days_from_now(words) {
        return Some(today + Duration::days(n));
    }
    // A day of the month says more than a weekday beside it ("sat 25th
    // may", "Ijumaa tarehe 13").
    let calendar = parse_calendar_date(words, today);
    let weekday_said = words.iter().any(|w| lexicon::weekday(w).is_some());
    if let Some((d, travel_only)) = calendar
        && !(travel_only && weekday_said)
    {
        return Some(with_its_weekday(d, words));
    }
    // "the day after Jamhuri", "the saturday before easter monday".
    if let Some(d) = beside_holiday(tokens, today) {
        return Some(d);
    }
    // "for easter monday", "ijumaa kuu": a holiday's name says more than
    // the weekday inside it.
    if (tokens.has_any(&["easter monday", "jumatatu ya pasaka", "ijumaa kuu"])
        || says_good_friday(words))
        && let Some(d) = holiday_named(tokens, today)
    {
        return Some(d);
    }
    if let Some(d) = month_end_weekday(tokens, today) {
        return Some(d);
    }
    let next_week = says_next_week(tokens);
    let cutoff = NaiveTime::from_hms_opt(SAME_DAY_CUTOFF.0, SAME_DAY_CUTOFF.1, 0);
    let day_is_over = cutoff.is_some_and(|c| time >= c);
    // "she closes school on friday so saturday morning is best": of two
    // weekdays, the one said to be preferred.
    let preferred = |i: usize| {
        words[i.saturating_sub(2)..words.len().min(i + 4)]
            .iter()
            .any(|w| {
                matches!(
                    w.as_str(),
                    "best"
                        | "better"
                        | "thinking"
                        | "prefer"
                        | "preferably"
                        | "preferred"
                        | "ideal"
                        | "bora"
                        | "afadhali"
                )
            })
    };
    let weekdays: Vec<usize> = (0..words.len())
        .filter(|&i| lexicon::weekday(&words[i]).is_some())
        .collect();
    // "kwani sunday hamfanyi? ok make it monday 10am", "not open on sunday?
    // monday then": of two weekdays, the one a change names.
    let replacing = |i: usize| {
        let before = |k: usize| i.checked_sub(k).map_or("", |j| words[j].as_str());
        let after = words.get(i + 1).map_or("", String::as_str);
        (before(2) == "make" && before(1) == "it")
            || matches!(before(1), "iwe" | "basi" | "then" | "rather")
            || matches!(after, "instead" | "then" | "badala" | "basi")
    };
    // "flying back to London on Sunday so … on Saturday before I go": a
    // travel day gives way to another weekday.
    // "niko na wedding saturday, nataka wash and set friday": the day of
    // an event they go to gives way too.
    let settled: Vec<usize> = weekdays
        .iter()
        .copied()
        .filter(|&i| !after_travel(words, i, calendar::TRAVEL_WINDOW) && !after_event(words, i, 2))
        .collect();
    let weekdays = if settled.is_empty() {
        weekdays
    } else {
        settled
    };
    let chosen = weekdays
        .iter()
        .copied()
        .find(|&i| weekdays.len() >= 2 && preferred(i))
        .or_else(|| {
            weekdays
                .iter()
                .copied()
                .find(|&i| weekdays.len() >= 2 && replacing(i))
        })
        .or(weekdays.first().copied());
    for (i, w) in words.iter().enumerate() {
        let Some(weekday) = lexicon::weekday(w).filter(|_| Some(i) == chosen) else {
            continue;
        };
        let prev = if i > 0 { words[i - 1].as_str() } else { "" };
        let next = words.get(i + 1).map(String::as_str).unwrap_or("");
        if next_week {
            let next_monday = next_weekday(today, Weekday::Mon, true);
            return Some(next_monday + Duration::days(i64::from(weekday.num_days_from_monday())));
        }
        let strictly_after = prev == "next" || matches!(next, "ijayo" | "inayokuja") || day_is_over;
        return Some(next_weekday(today, weekday, strictly_after));
    }
    // A holiday by name, when no day was given otherwise ("oh right,
    // Easter. Saturday then" is Saturday).
    holiday_named(tokens, today)
}

/// "good friday" as the holiday, not "my Swahili is not very good.
/// Friday at 2pm".
fn says_good_friday(words: &[String]) -> bool {
    words.windows(2).enumerate().any(|(i, w)| {
        w[0] == "good"
            && w[1] == "friday"
            && (i == 0
                || !matches!(
                    words[i - 1].as_str(),
                    "very"
                        | "not"
                        | "so"
                        | "too"
                        | "is"
                        | "are"
                        | "was"
                        | "its"
                        | "s"
                        | "really"
                        | "pretty"
                        | "quite"
                        | "sounds"
                        | "looks"
                        | "all"
                        | "that"
                ))
    })
}

/// The words without a day word that a negation rules out ("not
/// tomorrow", "si kesho", "sio leo").
fn without_negated_days(words: &[String]) -> Tokens {
    let negation = |w: &str| matches!(w, "not" | "si" | "sio" | "siyo" | "no");
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        if negation(&words[i]) && words.get(i + 1).is_some_and(|w| lexicon::is_day_word(w)) {
            i += 2;
            continue;
        }
        out.push(words[i].clone());
        i += 1;
    }
    Tokens::from_words(out)
}

/// "after 2 days", "in three days", "2 days from now", "baada ya siku
/// mbili", "siku tatu zijazo": a count of days ahead of today.
fn days_from_now(words: &[String]) -> Option<i64> {
    let count = |w: &str| {
        w.parse::<u32>()
            .ok()
            .or_else(|| super::numbers::en_small(w))
            .or_else(|| super::numbers::sw_small(w))
            .filter(|n| (1..=14).contains(n))
    };
    let at = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    for i in 0..words.len() {
        // English: "after|in N days", "N days from now|today|later".
        if matches!(at(i + 1), "days" | "day")
            && let Some(n) = count(at(i))
            && (matches!(at(i.wrapping_sub(1)), "after" | "in")
                || (matches!(at(i + 2), "from" | "later")
                    && matches!(at(i + 3), "now" | "today" | "")))
        {
            return Some(i64::from(n));
        }
        // Swahili: "baada ya siku N", "siku N zijazo".
        if at(i) == "siku"
            && let Some(n) = count(at(i + 1))
            && ((at(i.wrapping_sub(1)) == "ya" && at(i.wrapping_sub(2)) == "baada")
                || matches!(at(i + 2), "zijazo" | "zinazokuja"))
        {
            return Some(i64::from(n));
        }
    }
    None
}

/// The next `weekday` on or after `today` (strictly after when asked).
pub fn next_weekday(today: NaiveDate, weekday: Weekday, strictly_after: bool) -> NaiveDate {
    let ahead = (7 + weekday.num_days_from_monday() as i64
        - today.weekday().num_days_from_monday() as i64)
        % 7;
    let ahead = if ahead == 0 && strictly_after {
        7
    } else {
        ahead
    };
    today + Duration::days(ahead)
}

#[cfg(test)]
mod tests;
