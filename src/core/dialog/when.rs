//! Dates and times in English and Swahili, resolved in the tenant's time
//! zone against a `now` passed in (the core never reads a clock).
//!
//! Swahili clock: hours count from sunrise, so "saa moja" (hour one) is
//! 07:00, "saa nne asubuhi" 10:00, "saa saba mchana" 13:00, "saa kumi jioni"
//! 16:00, "saa mbili usiku" 20:00. A bare "saa N" is read on the Swahili
//! clock; "saa 14:30" (above 12) is a 24-hour time.
//!
//! Weekdays: a plain weekday ("Friday", "Ijumaa") is its next occurrence,
//! today included; "next Friday" / "Ijumaa ijayo" is the first one strictly
//! after today.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::numbers::{en_small, sw_small};
use super::text::Tokens;

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

/// Reads every date and time expression in the turn.
pub fn parse_when(tokens: &Tokens, now: DateTime<Utc>, tz: Tz) -> When {
    let today = local_today(now, tz);
    let part = parse_part(tokens);
    let date = parse_date(tokens, today);
    let time = parse_time(tokens, part);
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
        "time ile",
        "same tym",
    ])
}

fn parse_part(tokens: &Tokens) -> Option<DayPart> {
    if tokens.has_any(&["usiku", "night", "tonight"]) {
        Some(DayPart::Night)
    } else if tokens.has_any(&["jioni", "evening"]) {
        Some(DayPart::Evening)
    } else if tokens.has_any(&["mchana", "afternoon", "lunchtime", "lunch"]) {
        Some(DayPart::Afternoon)
    } else if tokens.has_any(&["asubuhi", "morning", "alfajiri"]) {
        Some(DayPart::Morning)
    } else {
        None
    }
}

const WEEKDAYS: &[(&str, Weekday)] = &[
    ("monday", Weekday::Mon),
    ("mon", Weekday::Mon),
    ("jumatatu", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("tue", Weekday::Tue),
    ("tues", Weekday::Tue),
    ("jumanne", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("wed", Weekday::Wed),
    ("jumatano", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("thu", Weekday::Thu),
    ("thur", Weekday::Thu),
    ("thurs", Weekday::Thu),
    ("alhamisi", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("fri", Weekday::Fri),
    ("ijumaa", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("sat", Weekday::Sat),
    ("jumamosi", Weekday::Sat),
    ("sunday", Weekday::Sun),
    ("sun", Weekday::Sun),
    ("jumapili", Weekday::Sun),
];

const MONTHS: &[(&str, u32)] = &[
    ("january", 1),
    ("jan", 1),
    ("januari", 1),
    ("february", 2),
    ("feb", 2),
    ("februari", 2),
    ("march", 3),
    ("mar", 3),
    ("machi", 3),
    ("april", 4),
    ("apr", 4),
    ("aprili", 4),
    ("may", 5),
    ("mei", 5),
    ("june", 6),
    ("jun", 6),
    ("juni", 6),
    ("july", 7),
    ("jul", 7),
    ("julai", 7),
    ("august", 8),
    ("aug", 8),
    ("agosti", 8),
    ("september", 9),
    ("sept", 9),
    ("sep", 9),
    ("septemba", 9),
    ("october", 10),
    ("oct", 10),
    ("oktoba", 10),
    ("november", 11),
    ("nov", 11),
    ("novemba", 11),
    ("december", 12),
    ("dec", 12),
    ("desemba", 12),
];

fn parse_date(tokens: &Tokens, today: NaiveDate) -> Option<NaiveDate> {
    let words = tokens.words();
    if tokens.has("keshokutwa") || tokens.has("kesho kutwa") || tokens.has("day after tomorrow") {
        return Some(today + Duration::days(2));
    }
    if tokens.has_any(&["kesho", "tomorrow", "tmrw", "tmr", "tomoro", "tommorow"]) {
        return Some(today + Duration::days(1));
    }
    if tokens.has_any(&["leo", "today", "tonight", "tdy"]) {
        return Some(today);
    }
    let next_week = tokens.has_any(&["next week", "wiki ijayo"]);
    for (i, w) in words.iter().enumerate() {
        let Some(&(_, weekday)) = WEEKDAYS.iter().find(|(name, _)| name == w) else {
            continue;
        };
        let prev = if i > 0 { words[i - 1].as_str() } else { "" };
        let next = words.get(i + 1).map(String::as_str).unwrap_or("");
        if next_week {
            let next_monday = next_weekday(today, Weekday::Mon, true);
            return Some(next_monday + Duration::days(i64::from(weekday.num_days_from_monday())));
        }
        let strictly_after = prev == "next" || next == "ijayo";
        return Some(next_weekday(today, weekday, strictly_after));
    }
    if let Some(d) = parse_calendar_date(words, today) {
        return Some(d);
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

/// "12 June", "June 12", "12th", "tarehe 12", "12/6", "12/6/2026".
fn parse_calendar_date(words: &[String], today: NaiveDate) -> Option<NaiveDate> {
    let month_of = |w: &str| MONTHS.iter().find(|(n, _)| *n == w).map(|(_, m)| *m);
    let day_of = |w: &str| -> Option<u32> {
        let d = w
            .trim_end_matches("st")
            .trim_end_matches("nd")
            .trim_end_matches("rd")
            .trim_end_matches("th");
        d.parse().ok().filter(|d| (1..=31).contains(d))
    };
    for (i, w) in words.iter().enumerate() {
        if let Some((d, rest)) = w.split_once('/') {
            let mut parts = rest.split('/');
            let day: u32 = d.parse().ok()?;
            let month: u32 = parts.next()?.parse().ok()?;
            let year = parts.next().and_then(|y| y.parse::<i32>().ok());
            let year = year.map(|y| if y < 100 { 2000 + y } else { y });
            return resolve_day_month(day, Some(month), year, today);
        }
        if let Some(month) = month_of(w) {
            // "June 12" or "12 June"
            let after = words.get(i + 1).and_then(|w| day_of(w));
            let before = if i > 0 { day_of(&words[i - 1]) } else { None };
            if let Some(day) = before.or(after) {
                return resolve_day_month(day, Some(month), None, today);
            }
        }
        let ordinal = ["st", "nd", "rd", "th"].iter().any(|s| w.ends_with(s))
            && w.chars().next().is_some_and(|c| c.is_ascii_digit());
        let after_tarehe = i > 0 && words[i - 1] == "tarehe";
        if (ordinal || after_tarehe)
            && let Some(day) = day_of(w).or_else(|| {
                after_tarehe
                    .then(|| words_number(&words[i..]))
                    .flatten()
                    .filter(|d| (1..=31).contains(d))
            })
        {
            let month = words.get(i + 1).and_then(|w| month_of(w));
            return resolve_day_month(day, month, None, today);
        }
    }
    None
}

fn words_number(words: &[String]) -> Option<u32> {
    let refs: Vec<&str> = words.iter().take(3).map(String::as_str).collect();
    super::numbers::parse_sw_number(&refs).and_then(|(n, _)| u32::try_from(n).ok())
}

/// The next date with that day (and month), today included.
fn resolve_day_month(
    day: u32,
    month: Option<u32>,
    year: Option<i32>,
    today: NaiveDate,
) -> Option<NaiveDate> {
    if let (Some(m), Some(y)) = (month, year) {
        return NaiveDate::from_ymd_opt(y, m, day);
    }
    if let Some(m) = month {
        let this_year = NaiveDate::from_ymd_opt(today.year(), m, day)?;
        return Some(if this_year >= today {
            this_year
        } else {
            NaiveDate::from_ymd_opt(today.year() + 1, m, day)?
        });
    }
    let mut y = today.year();
    let mut m = today.month();
    for _ in 0..3 {
        if let Some(d) = NaiveDate::from_ymd_opt(y, m, day)
            && d >= today
        {
            return Some(d);
        }
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    None
}

fn hm(h: u32, m: u32) -> Option<NaiveTime> {
    NaiveTime::from_hms_opt(h, m, 0)
}

fn parse_time(tokens: &Tokens, part: Option<DayPart>) -> Option<NaiveTime> {
    let words = tokens.words();
    let refs: Vec<&str> = words.iter().map(String::as_str).collect();
    // English am/pm forms first: "2pm", "2:30pm", "2 pm", "10 a m".
    for (i, w) in refs.iter().enumerate() {
        let next = refs.get(i + 1).copied().unwrap_or("");
        let (num, suffix) = split_suffix(w);
        let suffix = if suffix.is_empty() {
            match next {
                "pm" | "am" => next,
                "p" if refs.get(i + 2) == Some(&"m") => "pm",
                "a" if refs.get(i + 2) == Some(&"m") => "am",
                _ => "",
            }
        } else {
            suffix
        };
        if suffix.is_empty() {
            continue;
        }
        if let Some((h, m)) = clock_digits(num).or_else(|| en_small(num).map(|h| (h, 0)))
            && (1..=12).contains(&h)
        {
            let h24 = match (suffix, h) {
                ("am", 12) => 0,
                ("am", h) => h,
                ("pm", 12) => 12,
                (_, h) => h + 12,
            };
            return hm(h24, m);
        }
    }
    // Swahili clock: "saa nne", "saa 4", "saa kumi na moja", "saa nne na nusu".
    for (i, w) in refs.iter().enumerate() {
        if *w != "saa" {
            continue;
        }
        let rest = &refs[i + 1..];
        let Some(first) = rest.first() else { continue };
        if *first == "ngapi" {
            continue;
        }
        if let Some((h, m)) = clock_digits(first) {
            if h > 12 {
                return hm(h, m);
            }
            let minutes = m + fraction_minutes(&rest[1..]).unwrap_or(0);
            return swahili_clock(h, minutes, part);
        }
        let Some((hour, used)) = sw_clock_hour(rest) else {
            continue;
        };
        let minutes = fraction_minutes(&rest[used..]).unwrap_or(0);
        return swahili_clock(hour, minutes, part);
    }
    if tokens.has_any(&["noon", "midday"]) {
        return hm(12, 0);
    }
    // 24-hour "14:30" / "10.30" anywhere, or "at 3" / "at 10:30".
    for (i, w) in refs.iter().enumerate() {
        if let Some((h, m)) = clock_digits(w) {
            let has_sep = w.contains(':') || w.contains('.');
            if has_sep && h > 12 {
                return hm(h, m);
            }
            let after_at = i > 0 && matches!(refs[i - 1], "at" | "around" | "by" | "about");
            if has_sep || after_at {
                return business_hour(h, m, part);
            }
        } else if i > 0
            && matches!(refs[i - 1], "at" | "around")
            && let Some(h) = en_small(w).filter(|h| (1..=12).contains(h))
        {
            return business_hour(h, 0, part);
        }
    }
    None
}

/// "2pm" -> ("2", "pm"); "14:30" -> ("14:30", "").
fn split_suffix(w: &str) -> (&str, &str) {
    for s in ["pm", "am"] {
        if let Some(n) = w.strip_suffix(s)
            && !n.is_empty()
        {
            return (n, s);
        }
    }
    (w, "")
}

/// "14", "14:30", "10.30" as (hour, minute).
fn clock_digits(w: &str) -> Option<(u32, u32)> {
    let (h, m) = match w.split_once([':', '.']) {
        Some((h, m)) => (h, m),
        None => (w, "0"),
    };
    if h.is_empty() || h.len() > 2 || !h.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if !m.chars().all(|c| c.is_ascii_digit()) || m.len() > 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some((h, m))
}

/// A Swahili clock hour word: moja..kumi na mbili.
fn sw_clock_hour(words: &[&str]) -> Option<(u32, usize)> {
    let first = sw_small(words.first()?)?;
    if first == 10
        && words.get(1) == Some(&"na")
        && let Some(u) = words
            .get(2)
            .and_then(|w| sw_small(w))
            .filter(|u| (1..=2).contains(u))
    {
        return Some((10 + u, 3));
    }
    (1..=12).contains(&first).then_some((first, 1))
}

/// "na nusu" +30, "na robo" +15, "kasorobo"/"kasoro robo" -15.
fn fraction_minutes(words: &[&str]) -> Option<u32> {
    match words {
        ["na", "nusu", ..] => Some(30),
        ["na", "robo", ..] => Some(15),
        _ => None,
    }
}

/// Converts a Swahili clock hour (1..=12) to a 24-hour time.
pub fn swahili_clock(hour: u32, minutes: u32, part: Option<DayPart>) -> Option<NaiveTime> {
    if !(1..=12).contains(&hour) {
        return None;
    }
    let day_hour = hour + 6; // 7..=18
    let h24 = match part {
        Some(DayPart::Evening | DayPart::Night) if day_hour <= 11 => day_hour + 12,
        Some(DayPart::Night) if hour == 6 => 0,
        Some(DayPart::Night) if hour >= 7 => day_hour - 12,
        Some(DayPart::Morning) if hour >= 11 => day_hour - 12, // alfajiri: saa kumi na moja = 05:00
        _ => day_hour,
    };
    let total = h24 * 60 + minutes;
    hm((total / 60) % 24, total % 60)
}

/// A bare hour ("at 3") read within business hours: 7..11 morning, 12 noon,
/// 1..6 afternoon; a stated part of the day wins.
fn business_hour(h: u32, m: u32, part: Option<DayPart>) -> Option<NaiveTime> {
    if h > 12 {
        return hm(h, m);
    }
    let h24 = match part {
        Some(DayPart::Morning) => h % 12,
        Some(DayPart::Afternoon | DayPart::Evening | DayPart::Night) if h < 12 => h + 12,
        _ if h == 12 => 12,
        _ if h <= 6 => h + 12,
        _ => h,
    };
    hm(h24, m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// Wednesday 2026-11-25 09:00 in Nairobi (06:00 UTC).
    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 6, 0, 0).unwrap()
    }

    fn nairobi() -> Tz {
        chrono_tz::Africa::Nairobi
    }

    fn d(m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(2026, m, day)
    }

    fn t(h: u32, m: u32) -> Option<NaiveTime> {
        NaiveTime::from_hms_opt(h, m, 0)
    }

    fn when(text: &str) -> When {
        parse_when(&Tokens::new(text), now(), nairobi())
    }

    #[test]
    fn dates_in_both_languages() {
        let cases = [
            ("leo", d(11, 25)),
            ("today please", d(11, 25)),
            ("kesho", d(11, 26)),
            ("tomorrow", d(11, 26)),
            ("tommorow", d(11, 26)),
            ("keshokutwa", d(11, 27)),
            ("kesho kutwa", d(11, 27)),
            ("day after tomorrow", d(11, 27)),
            ("Friday", d(11, 27)),
            ("Ijumaa", d(11, 27)),
            ("next Friday", d(11, 27)),
            ("Wednesday", d(11, 25)),
            ("next wednesday", d(12, 2)),
            ("Jumatano ijayo", d(12, 2)),
            ("Jumatatu", d(11, 30)),
            ("Jumapili", d(11, 29)),
            ("monday next week", d(11, 30)),
            ("Ijumaa wiki ijayo", d(12, 4)),
            ("12 December", d(12, 12)),
            ("December 12th", d(12, 12)),
            ("tarehe 28", d(11, 28)),
            ("the 3rd", d(12, 3)),
            ("12/12", d(12, 12)),
            ("1 Jan", NaiveDate::from_ymd_opt(2027, 1, 1)),
            ("tarehe tatu", d(12, 3)),
            ("hello", None),
        ];
        for (text, want) in cases {
            assert_eq!(when(text).date, want, "{text}");
        }
    }

    #[test]
    fn times_in_both_languages() {
        let cases = [
            ("saa nne asubuhi", t(10, 0)),
            ("saa kumi jioni", t(16, 0)),
            ("saa saba mchana", t(13, 0)),
            ("saa sita mchana", t(12, 0)),
            ("saa moja asubuhi", t(7, 0)),
            ("saa moja jioni", t(19, 0)),
            ("saa mbili usiku", t(20, 0)),
            ("saa sita usiku", t(0, 0)),
            ("saa kumi na moja jioni", t(17, 0)),
            ("saa kumi na mbili", t(18, 0)),
            ("saa tatu na nusu", t(9, 30)),
            ("saa nne na robo asubuhi", t(10, 15)),
            ("saa 4 asubuhi", t(10, 0)),
            ("saa 14:30", t(14, 30)),
            ("2pm", t(14, 0)),
            ("2 pm", t(14, 0)),
            ("2:30pm", t(14, 30)),
            ("10am", t(10, 0)),
            ("12pm", t(12, 0)),
            ("12am", t(0, 0)),
            ("14:30", t(14, 30)),
            ("at 10.30", t(10, 30)),
            ("at 3", t(15, 0)),
            ("at 9", t(9, 0)),
            ("at 6 in the evening", t(18, 0)),
            ("at eleven", t(11, 0)),
            ("noon", t(12, 0)),
            ("kesho saa ngapi?", None),
            ("I want 2 braids", None),
        ];
        for (text, want) in cases {
            assert_eq!(when(text).time, want, "{text}");
        }
    }

    #[test]
    fn parts_of_day_without_exact_time() {
        assert_eq!(when("kesho mchana").part, Some(DayPart::Afternoon));
        assert_eq!(when("kesho mchana").date, d(11, 26));
        assert_eq!(when("jioni").part, Some(DayPart::Evening));
        assert_eq!(when("asubuhi").part, Some(DayPart::Morning));
        assert_eq!(when("tomorrow morning").part, Some(DayPart::Morning));
        // An exact time makes the part redundant.
        assert_eq!(when("saa nne asubuhi").part, None);
    }

    #[test]
    fn today_is_the_tenant_local_date() {
        // 22:30 UTC on the 25th is already the 26th in Nairobi (UTC+3).
        let late = Utc.with_ymd_and_hms(2026, 11, 25, 22, 30, 0).unwrap();
        let w = parse_when(&Tokens::new("kesho"), late, nairobi());
        assert_eq!(w.date, d(11, 27));
    }

    #[test]
    fn combined_turns() {
        let w = when("Nataka miadi Ijumaa saa tatu asubuhi");
        assert_eq!((w.date, w.time), (d(11, 27), t(9, 0)));
        let w = when("book me tomorrow at 2:30pm");
        assert_eq!((w.date, w.time), (d(11, 26), t(14, 30)));
        let earlier = when("kesho");
        let later = when("saa nane mchana");
        assert_eq!(later.or(earlier).date, d(11, 26));
        assert_eq!(later.or(earlier).time, t(14, 0));
    }
}
