//! Times of day, as customers type them and recognisers write them:
//! "2pm", "4:30pm", "14:30", "16:00" (from "1600hrs"), "at 3", "three pm",
//! "two thirty", "half past two", "quarter to five", "three o'clock",
//! "lunch time", and the Swahili clock ("saa nne", "saa 4", "saa nane na
//! nusu", "saa tatu kasorobo", "saa moja na dakika kumi").
//!
//! A bare hour is read in business hours: 7-11 in the morning, 12 noon,
//! 1-6 in the afternoon, unless a part of the day is stated.

use chrono::NaiveTime;

use super::DayPart;
use crate::core::dialog::lexicon;
use crate::core::dialog::numbers::{en_fraction, en_number, en_small, parse_sw_number, sw_small};
use crate::core::dialog::text::Tokens;

/// The first time of day the turn states.
pub(super) fn parse_time(tokens: &Tokens, part: Option<DayPart>) -> Option<NaiveTime> {
    let refs: Vec<&str> = tokens.words().iter().map(String::as_str).collect();
    // Explicit am/pm first: "2pm", "2:30 pm", "two thirty p m", "half past two pm".
    for i in 0..refs.len() {
        if let Some(c) = english_clock(&refs, i)
            && let Some(suffix) = c.suffix
            && (1..=12).contains(&c.hour)
        {
            let h24 = match (suffix, c.hour) {
                (Meridiem::Am, 12) => 0,
                (Meridiem::Am, h) => h,
                (Meridiem::Pm, 12) => 12,
                (Meridiem::Pm, h) => h + 12,
            };
            return hm(h24, c.minute);
        }
    }
    if let Some(t) = swahili_time(&refs, part) {
        return Some(t);
    }
    // "thurday 1030", "at 0930": hours and minutes run together after a
    // day or "at", on the quarter hours of a working day.
    for i in 1..refs.len() {
        let w = refs[i];
        if (3..=4).contains(&w.len())
            && w.chars().all(|c| c.is_ascii_digit())
            && (lexicon::is_day_word(refs[i - 1]) || matches!(refs[i - 1], "at" | "around" | "by"))
        {
            let (h, m) = w.split_at(w.len() - 2);
            if let (Ok(h), Ok(m)) = (h.parse::<u32>(), m.parse::<u32>())
                && (7..=20).contains(&h)
                && matches!(m, 0 | 15 | 30 | 45)
            {
                return hm(h, m);
            }
        }
    }
    if tokens.has_any(&[
        "lunch time",
        "lunchtime",
        "lunch hour",
        "at lunch",
        "during lunch",
    ]) && !tokens.has_any(&["after lunch", "before lunch"])
    {
        return hm(13, 0);
    }
    if tokens.has_any(&["noon", "midday", "mchana mchana"]) && !tokens.has("afternoon") {
        return hm(12, 0);
    }
    for i in 0..refs.len() {
        let Some(c) = english_clock(&refs, i) else {
            continue;
        };
        if c.hour > 12 && c.shape == Shape::Separator {
            return hm(c.hour, c.minute);
        }
        let prev = if i > 0 { refs[i - 1] } else { "" };
        let next = refs.get(i + c.used).copied().unwrap_or("");
        let stated = match c.shape {
            Shape::Separator | Shape::Minutes | Shape::Fraction | Shape::Oclock => true,
            Shape::Bare => {
                let next2 = refs.get(i + c.used + 1).copied().unwrap_or("");
                (matches!(
                    prev,
                    "at" | "around"
                        | "by"
                        | "about"
                        | "from"
                        | "kwa"
                        | "start"
                        | "starting"
                        | "kuanzia"
                        // "a slot tmrw after 5?": from that hour
                        | "after"
                )
                    || lexicon::is_day_word(prev)
                    || is_part_word(prev)
                    || is_part_word(next)
                    || (matches!(next, "in" | "this" | "kesho") && is_part_word(next2))
                    // "9 tomorrow morning", "10 friday": an hour with its day.
                    || lexicon::is_day_word(next)
                    // "can we push it to three", "change it to 4"
                    || (prev == "to"
                        && i >= 2
                        && matches!(refs[i - 2], "it" | "push" | "move" | "change" | "shift"))
                    || (matches!(next, "in") && next2 == "the")
                    // "as early as 8", "as late as 5"
                    || (prev == "as"
                        && i >= 2
                        && matches!(refs[i - 2], "early" | "erly" | "late" | "soon"))
                    // "no wait, 10 is fine", "hapana, 12 ndio poa": an hour
                    // said to suit, above the numbers of a list of offers.
                    || (c.hour >= 4 && suits(next, next2)))
                    && !is_count_noun(next)
                    // "the thursday one": that day's booking, no hour.
                    && !(refs[i] == "one"
                        && lexicon::is_day_word(prev)
                        && i >= 2
                        && matches!(refs[i - 2], "the" | "that" | "ile" | "hiyo"))
                    // "one after the other", "one by one", "one at a time"
                    && !(c.hour == 1
                        && matches!(
                            (next, next2),
                            ("after", "the" | "another") | ("by", "one") | ("at", "a")
                        ))
            }
        };
        if stated && (1..=12).contains(&c.hour) {
            return business_hour(c.hour, c.minute, part);
        }
    }
    None
}

/// Converts a Swahili clock hour (1..=12) to a 24-hour time.
pub fn swahili_clock(hour: u32, minutes: u32, part: Option<DayPart>) -> Option<NaiveTime> {
    swahili_clock_offset(hour, i64::from(minutes), part)
}

/// A bare hour ("at 3") read within business hours: 7..11 morning, 12 noon,
/// 1..6 afternoon; a stated part of the day wins.
pub(super) fn business_hour(h: u32, m: u32, part: Option<DayPart>) -> Option<NaiveTime> {
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

fn hm(h: u32, m: u32) -> Option<NaiveTime> {
    NaiveTime::from_hms_opt(h, m, 0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Meridiem {
    Am,
    Pm,
}

/// How an English time was said, which decides whether it can stand alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// "14:30", "4.30"
    Separator,
    /// "two thirty", "eleven forty five"
    Minutes,
    /// "half past two", "quarter to five", "ten past three"
    Fraction,
    /// "three o'clock"
    Oclock,
    /// "3", "three"
    Bare,
}

#[derive(Debug, Clone, Copy)]
struct Clock {
    hour: u32,
    minute: u32,
    used: usize,
    suffix: Option<Meridiem>,
    shape: Shape,
}

/// An English clock expression starting at `words[i]`.
fn english_clock(words: &[&str], i: usize) -> Option<Clock> {
    let rest = &words[i..];
    let first = *rest.first()?;
    // "half past two", "quarter to five", "ten past three", "twenty five to six"
    let (offset, offset_used) = match en_fraction(first) {
        Some(m) => (Some(m), 1),
        None => match en_number(rest) {
            Some((m, used))
                if matches!(m, 5 | 10 | 20 | 25)
                    && !first.chars().next().is_some_and(|c| c.is_ascii_digit()) =>
            {
                (Some(m), used)
            }
            _ => (None, 0),
        },
    };
    if let Some(offset) = offset
        && let Some(dir) = rest.get(offset_used).copied()
        && matches!(dir, "past" | "to" | "after")
        && let Some(h) = hour_word(rest.get(offset_used + 1).copied().unwrap_or(""))
    {
        let (h, suffix) = h;
        let (hour, minute) = if dir == "to" {
            (if h == 1 { 12 } else { h - 1 }, 60 - offset)
        } else {
            (h, offset)
        };
        let used = offset_used + 2;
        let suffix = suffix.or_else(|| meridiem_after(&rest[used..]).map(|(m, _)| m));
        return Some(Clock {
            hour,
            minute,
            used,
            suffix,
            shape: Shape::Fraction,
        });
    }
    let (num, own_suffix) = split_suffix(first);
    // "1130am", "930pm": hours and minutes run together before am/pm.
    let run_together = own_suffix
        .filter(|_| (3..=4).contains(&num.len()) && num.chars().all(|c| c.is_ascii_digit()))
        .and_then(|_| {
            let (h, m) = num.split_at(num.len() - 2);
            let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
            ((1..=12).contains(&h) && m < 60).then_some((h, m))
        });
    let (hour, minute, shape) = match (run_together, clock_digits(num)) {
        (Some((h, m)), _) => (h, m, Shape::Separator),
        (None, Some((h, m))) if num.contains([':', '.']) => (h, m, Shape::Separator),
        (None, Some((h, _))) => (h, 0, Shape::Bare),
        (None, None) => (
            en_small(num).filter(|h| (1..=12).contains(h))?,
            0,
            Shape::Bare,
        ),
    };
    let mut used = 1;
    let (mut minute, mut shape) = (minute, shape);
    if own_suffix.is_none() && shape == Shape::Bare {
        let after = &rest[1..];
        if matches!(after, ["oclock", ..]) {
            used += 1;
            shape = Shape::Oclock;
        } else if matches!(after, ["o", "clock", ..]) {
            used += 2;
            shape = Shape::Oclock;
        } else if let ["oh", unit, ..] = after
            && let Some(u) = en_small(unit).filter(|u| (1..10).contains(u))
        {
            minute = u;
            used += 2;
            shape = Shape::Minutes;
        } else if let [again, "oclock" | "o", ..] = after
            && *again == rest[0]
        {
            // "ten ten oclock": a recogniser's repeat, ten o'clock.
            used += if after.get(1) == Some(&"o") { 3 } else { 2 };
            shape = Shape::Oclock;
        } else if let Some(first_after) = after.first()
            && !first_after
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit())
            && let Some((m, mused)) = en_number(after).filter(|(m, _)| (10..60).contains(m))
        {
            minute = m;
            used += mused;
            shape = Shape::Minutes;
        }
    }
    let suffix = match own_suffix {
        Some(s) => Some(s),
        None => meridiem_after(&rest[used..]).map(|(m, u)| {
            used += u;
            m
        }),
    };
    Some(Clock {
        hour,
        minute,
        used,
        suffix,
        shape,
    })
}

/// An hour word or digits 1..=12 with its own am/pm ("2pm", "two").
fn hour_word(w: &str) -> Option<(u32, Option<Meridiem>)> {
    let (num, suffix) = split_suffix(w);
    let h = num
        .parse::<u32>()
        .ok()
        .or_else(|| en_small(num))
        .filter(|h| (1..=12).contains(h))?;
    Some((h, suffix))
}

/// "pm", "p m", "am", "a m" (and "p.m." once punctuation is gone).
fn meridiem_after(words: &[&str]) -> Option<(Meridiem, usize)> {
    match words {
        // "4 pn": the key beside m.
        ["pm" | "pn", ..] => Some((Meridiem::Pm, 1)),
        ["am", ..] => Some((Meridiem::Am, 1)),
        ["p", "m", ..] => Some((Meridiem::Pm, 2)),
        ["a", "m", ..] => Some((Meridiem::Am, 2)),
        _ => None,
    }
}

/// "2pm" -> ("2", pm); "14:30" -> ("14:30", none).
fn split_suffix(w: &str) -> (&str, Option<Meridiem>) {
    for (s, m) in [
        ("pm", Meridiem::Pm),
        ("pn", Meridiem::Pm),
        ("am", Meridiem::Am),
    ] {
        if let Some(n) = w.strip_suffix(s)
            && !n.is_empty()
            && (s != "pn"
                || n.chars()
                    .all(|c| c.is_ascii_digit() || c == ':' || c == '.'))
        {
            return (n, Some(m));
        }
    }
    (w, None)
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

/// The part of the day a word names.
fn part_of(w: &str) -> Option<DayPart> {
    match w {
        "asubuhi" | "morning" | "alfajiri" => Some(DayPart::Morning),
        "mchana" | "afternoon" | "alasiri" => Some(DayPart::Afternoon),
        "jioni" | "evening" => Some(DayPart::Evening),
        "usiku" | "night" | "tonight" => Some(DayPart::Night),
        _ => None,
    }
}

fn is_part_word(w: &str) -> bool {
    matches!(
        w,
        "morning"
            | "afternoon"
            | "evening"
            | "night"
            | "tonight"
            | "asubuhi"
            | "mchana"
            | "alasiri"
            | "jioni"
            | "usiku"
    )
}

/// Words after a number that make it a count, not an hour ("2 people").
/// The words after an hour that say it suits ("10 is fine", "12 ndio poa",
/// "11 works").
fn suits(next: &str, next2: &str) -> bool {
    matches!(next, "works" | "inafaa" | "itafaa" | "itanifaa")
        || (matches!(next, "is" | "ndio" | "ndo" | "ni" | "iko" | "itakuwa")
            && matches!(
                next2,
                "fine"
                    | "better"
                    | "good"
                    | "gud"
                    | "ok"
                    | "okay"
                    | "perfect"
                    | "best"
                    | "poa"
                    | "fiti"
                    | "sawa"
                    | "bora"
                    | "nzuri"
                    | "freshi"
            ))
}

fn is_count_noun(w: &str) -> bool {
    matches!(
        w,
        "people"
            | "persons"
            | "pax"
            | "of"
            | "ladies"
            | "girls"
            | "kids"
            | "children"
            | "watu"
            | "wasichana"
            | "watoto"
            | "braids"
            | "bookings"
            | "appointments"
            | "appts"
            | "services"
            | "hours"
            | "minutes"
            | "weeks"
            | "days"
            | "more"
            | "another"
            | "each"
    )
}

/// The Swahili clock after "saa": "saa nne", "saa 4", "saa 4:30", "saa kumi
/// na moja", "saa nane na nusu", "saa tatu kasorobo", "saa 14:30" (24-hour
/// above 12). "saa ngapi" is a question, not a time.
fn swahili_time(refs: &[&str], part: Option<DayPart>) -> Option<NaiveTime> {
    for (i, w) in refs.iter().enumerate() {
        if *w != "saa" {
            continue;
        }
        let rest = &refs[i + 1..];
        let Some(first) = rest.first() else { continue };
        let (hour, minute, used, digits) = if let Some((h, m)) = clock_digits(first) {
            if h > 12 || h == 0 {
                return hm(h, m);
            }
            (h, m, 1, true)
        } else if let Some((h, used)) = sw_clock_hour(rest) {
            (h, 0, used, false)
        } else if let Some(h) = four_digits(first) {
            return Some(h);
        } else {
            continue;
        };
        let offset = i64::from(minute) + fraction_minutes(&rest[used..]).unwrap_or(0);
        // The part of the day said with this time wins over another said
        // elsewhere in the turn ("kucha Jumatano saa tano asubuhi, na pia
        // kukata nywele Ijumaa saa kumi jioni").
        let part = rest
            .iter()
            .skip(used)
            .take(3)
            .find_map(|w| part_of(w))
            .or(part);
        let t = swahili_clock_offset(hour, offset, part)?;
        // "saa 2 mchana", "saa 9 asubuhi": the Swahili reading contradicts
        // the stated part of the day, so the hour was meant on the English
        // clock.
        let contradicts = |t: NaiveTime, p: DayPart| {
            let (start, end) = p.window();
            t < start || t >= end
        };
        if let Some(p) = part
            && contradicts(t, p)
            && (p == DayPart::Afternoon || (digits && p != DayPart::Night))
            && let Some(english) = business_hour(hour, 0, part).map(|e| {
                e.overflowing_add_signed(chrono::Duration::minutes(offset))
                    .0
            })
            && !contradicts(english, p)
        {
            return Some(english);
        }
        return Some(t);
    }
    None
}

/// "1430" after "saa" or "at" as 14:30.
fn four_digits(w: &str) -> Option<NaiveTime> {
    if w.len() != 4 || !w.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let h: u32 = w[..2].parse().ok()?;
    let m: u32 = w[2..].parse().ok()?;
    hm(h, m)
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

/// Minutes added to or taken from a Swahili clock hour: "na nusu" +30,
/// "na robo" +15, "kasorobo" / "kasoro robo" -15, "na dakika kumi" +10,
/// "kasoro dakika tano" -5.
fn fraction_minutes(words: &[&str]) -> Option<i64> {
    let count = |ws: &[&str]| -> Option<i64> {
        let first = ws.first()?;
        if let Ok(n) = first.parse::<i64>() {
            return (1..60).contains(&n).then_some(n);
        }
        parse_sw_number(ws)
            .map(|(n, _)| n as i64)
            .or_else(|| en_number(ws).map(|(n, _)| i64::from(n)))
            .filter(|n| (1..60).contains(n))
    };
    match words {
        ["na" | "and", "nusu" | "half", ..] | ["unusu" | "nanusu", ..] => Some(30),
        ["na" | "and", "robo" | "quarter", ..] => Some(15),
        ["kasorobo", ..] | ["kasoro", "robo", ..] => Some(-15),
        ["na", "dakika" | "minutes", rest @ ..] => count(rest),
        ["kasoro", "dakika" | "minutes", rest @ ..] | ["kasoro", rest @ ..] => {
            count(rest).map(|n| -n)
        }
        _ => None,
    }
}

fn swahili_clock_offset(hour: u32, minutes: i64, part: Option<DayPart>) -> Option<NaiveTime> {
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
    let total = (i64::from(h24) * 60 + minutes).rem_euclid(24 * 60);
    hm((total / 60) as u32, (total % 60) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> Option<NaiveTime> {
        NaiveTime::from_hms_opt(h, m, 0)
    }

    fn time(text: &str) -> Option<NaiveTime> {
        let tokens = Tokens::new(text);
        parse_time(&tokens, super::super::parse_part(&tokens))
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
            ("saa tatu unusu", t(9, 30)),
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
            ("ok i want a haircut sunday at 2, after service", t(14, 0)),
            (
                "we want manicure on friday morning one after the other starting at nine",
                t(9, 0),
            ),
            ("noon", t(12, 0)),
            ("kesho saa ngapi?", None),
            ("I want 2 braids", None),
        ];
        for (text, want) in cases {
            assert_eq!(time(text), want, "{text}");
        }
    }

    #[test]
    fn swahili_clock_as_customers_write_it() {
        let cases = [
            ("saa4", t(10, 0)),
            ("sa nne", t(10, 0)),
            ("sa 4", t(10, 0)),
            ("basi saa nne", t(10, 0)),
            ("saa nane na nusu", t(14, 30)),
            ("saa tisa na robo", t(15, 15)),
            ("saa kumi kasorobo", t(15, 45)),
            ("saa tatu kasorobo", t(8, 45)),
            ("saa tatu kasoro robo", t(8, 45)),
            ("saa moja na dakika kumi", t(7, 10)),
            ("saa mbili kasoro dakika tano", t(7, 55)),
            ("saa 4 n nusu", t(10, 30)),
            ("saa 2 mchana", t(14, 0)),
            ("saa mbili mchana", t(14, 0)),
            ("saa 9 asubuhi", t(9, 0)),
            ("saa 4pm", t(16, 0)),
            ("saa 1430", t(14, 30)),
            ("kesho uh saa nne eeh asubuhi", t(10, 0)),
            ("saa ngapi mnafungua", None),
            ("sa ngapi", None),
            ("saa ile ile", None),
        ];
        for (text, want) in cases {
            assert_eq!(time(text), want, "{text}");
        }
    }

    #[test]
    fn english_clock_as_recognisers_and_phones_write_it() {
        let cases = [
            ("1600hrs", t(16, 0)),
            ("16h", t(16, 0)),
            ("can we push it to three", t(15, 0)),
            ("i want to 3 places", None),
            ("at 0930hrs", t(9, 30)),
            ("4:30pm", t(16, 30)),
            ("4.30", t(16, 30)),
            ("half past two", t(14, 30)),
            ("half past ten", t(10, 30)),
            ("two thirty", t(14, 30)),
            ("at two thirty pm", t(14, 30)),
            ("eleven forty five", t(11, 45)),
            ("quarter to five", t(16, 45)),
            ("quarter past nine in the morning", t(9, 15)),
            ("ten past three", t(15, 10)),
            ("twenty five to six", t(17, 35)),
            ("three pm", t(15, 0)),
            ("three p m", t(15, 0)),
            ("uh at um three", t(15, 0)),
            ("three o'clock", t(15, 0)),
            ("ten oclock", t(10, 0)),
            ("ten ten oclock", t(10, 0)),
            ("at ten ten", t(10, 10)),
            ("two oh five", t(14, 5)),
            ("lunch time", t(13, 0)),
            ("at lunchtime tomorrow", t(13, 0)),
            ("friday 3", t(15, 0)),
            ("tomorrow 10", t(10, 0)),
            ("kesho 11", t(11, 0)),
            ("tomorrow morning at ten", t(10, 0)),
            ("i meant 9 tomorrow morning", t(9, 0)),
            ("hi wanna book mani cure thurday 4pn", t(16, 0)),
            ("pedicur on thurday 1130am", t(11, 30)),
            ("can u do thursday 1030", t(10, 30)),
            ("at 0930 please", t(9, 30)),
            ("930pm", t(21, 30)),
            (
                "kucha jumatano saa tano asubuhi, na pia kukata nywele ijumaa saa kumi jioni",
                t(11, 0),
            ),
            ("2 friday", t(14, 0)),
            ("uh eleven in the morning", t(11, 0)),
            ("two in the afternoon", t(14, 0)),
            ("ten this morning", t(10, 0)),
            ("3 jioni", t(15, 0)),
            ("saa tisa alasiri", t(15, 0)),
            ("tomorrow for 2 people", None),
            ("tomorrow 2 people", None),
            ("after lunch", None),
            ("same time", None),
            ("2 to 3 people", None),
            ("i have two kids", None),
            (
                "can i just come on saturday morning instead? like 10",
                t(10, 0),
            ),
            ("like nine", t(9, 0)),
            ("i'd like 2 manicures", None),
            ("i would like one of those", None),
            ("no wait, 10 is fine. the first time", t(10, 0)),
            ("hapana wait, 12 ndio poa", t(12, 0)),
            ("11 works for me", t(11, 0)),
            ("8 is gud", t(8, 0)),
            ("as early as 8", t(8, 0)),
            ("2 is fine", None),
            ("12noon", t(12, 0)),
        ];
        for (text, want) in cases {
            assert_eq!(time(text), want, "{text}");
        }
    }
}
