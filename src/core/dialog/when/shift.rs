//! A time moved by an amount rather than named: "can it be 30 min later",
//! "push it by an hour", "an hour earlier", "nusu saa baadaye", "isogeze
//! na saa moja", "dakika 15 mapema". The amount and its direction, in
//! minutes; the caller applies it to the time under discussion.

use chrono::{DateTime, Duration, NaiveDate};
use chrono_tz::Tz;

use super::When;
use crate::core::dialog::numbers::{en_small, sw_small};
use crate::core::dialog::text::Tokens;

/// The day and time `at` moved by `minutes`, on `day` when one was said
/// ("friday, an hour later").
pub fn moved_by(at: DateTime<Tz>, minutes: i64, day: Option<NaiveDate>) -> When {
    let moved = at + Duration::minutes(minutes);
    When {
        date: day.or(Some(moved.date_naive())),
        time: Some(moved.time()),
        part: None,
    }
}

/// Words that make the amount later or earlier.
const LATER: &[&str] = &["later", "baadaye", "baadae", "late", "after", "zaidi"];
const EARLIER: &[&str] = &["earlier", "mapema", "before", "early", "kabla", "forward"];
/// Verbs that push a time on ("push it by an hour", "isogeze na saa moja"):
/// later unless an earlier word says otherwise.
const PUSH: &[&str] = &[
    "push",
    "pushed",
    "move",
    "shift",
    "delay",
    "sogeza",
    "isogeze",
    "songesha",
    "isongeshe",
    "songeza",
    "isongeze",
    "sukuma",
];

/// Minutes the customer moves the time by (negative: earlier), when the
/// turn gives an amount with a direction.
pub fn shift_minutes(tokens: &Tokens) -> Option<i64> {
    let words: Vec<&str> = tokens.words().iter().map(String::as_str).collect();
    let (start, end, minutes) = amount(&words)?;
    let after = |list: &[&str]| {
        words[end..(end + 3).min(words.len())]
            .iter()
            .any(|w| list.contains(w))
    };
    let before = |list: &[&str]| {
        words[start.saturating_sub(2)..start]
            .iter()
            .any(|w| list.contains(w))
    };
    // "push it by an hour", "isogeze na saa moja", "mapema kwa saa moja":
    // the amount after "by", "na" or "kwa".
    let by = start > 0 && matches!(words[start - 1], "by" | "na" | "kwa");
    let pushed = words[..start].iter().any(|w| PUSH.contains(w));
    // "saa mbili" is also 08:00: an amount only with "by"/"kwa" before it
    // or "baadaye"/"later" after it ("mapema saa mbili" is early, at 8).
    if words[start] == "saa" {
        return if by && before(EARLIER) {
            Some(-minutes)
        } else if after(&["baadaye", "baadae", "later"]) || (by && pushed) {
            Some(minutes)
        } else {
            None
        };
    }
    if after(EARLIER) || before(EARLIER) {
        return Some(-minutes);
    }
    if after(LATER) || before(LATER) {
        return Some(minutes);
    }
    // "can we push 30 mins", "push it 15 min": the push right before it.
    let pushed_by = start > 0
        && (PUSH.contains(&words[start - 1])
            || (start > 1
                && PUSH.contains(&words[start - 2])
                && matches!(words[start - 1], "it" | "back" | "on")));
    ((by && pushed) || pushed_by).then_some(minutes)
}

/// The first amount of time in the words: where it starts and ends, and
/// its minutes ("30 min", "30mins", "an hour", "1hr", "half an hour",
/// "an hour and a half", "saa moja", "nusu saa", "dakika 20", "saa moja na
/// nusu").
fn amount(words: &[&str]) -> Option<(usize, usize, i64)> {
    let number = |w: &str| -> Option<i64> {
        match w {
            "a" | "an" | "one" => Some(1),
            _ if w.chars().all(|c| c.is_ascii_digit()) && !w.is_empty() => w.parse().ok(),
            _ => en_small(w).or_else(|| sw_small(w)).map(i64::from),
        }
    };
    let unit = |w: &str| -> Option<i64> {
        match w {
            "min" | "mins" | "minute" | "minutes" | "dakika" | "dk" => Some(1),
            "hour" | "hours" | "hr" | "hrs" | "h" => Some(60),
            _ => None,
        }
    };
    // "30mins", "1hr": the number and its unit glued.
    let glued = |w: &str| -> Option<i64> {
        let digits: String = w.chars().take_while(char::is_ascii_digit).collect();
        let n: i64 = digits.parse().ok()?;
        unit(&w[digits.len()..]).map(|u| n * u)
    };
    for i in 0..words.len() {
        let w = words[i];
        let next = words.get(i + 1).copied().unwrap_or("");
        let next2 = words.get(i + 2).copied().unwrap_or("");
        if let Some(m) = glued(w).filter(|m| *m > 0) {
            return Some((i, i + 1, m));
        }
        // "half an hour", "half hour", "nusu saa".
        if w == "half" && (unit(next) == Some(60) || unit(next2) == Some(60)) {
            let end = if unit(next) == Some(60) { i + 2 } else { i + 3 };
            return Some((i, end, 30));
        }
        if w == "nusu" && next == "saa" {
            return Some((i, i + 2, 30));
        }
        // "dakika 20", "dakika ishirini".
        if w == "dakika"
            && let Some(n) = number(next).filter(|n| *n > 1)
        {
            return Some((i, i + 2, n));
        }
        // "saa moja", "saa moja na nusu": an amount only where a direction
        // or a push follows or comes before (the caller checks); "saa moja"
        // alone is 07:00 on the Swahili clock.
        if w == "saa"
            && let Some(n) = number(next).filter(|n| (1..=3).contains(n))
        {
            let half = next2 == "na" && words.get(i + 3) == Some(&"nusu");
            return Some(if half {
                (i, i + 4, n * 60 + 30)
            } else {
                (i, i + 2, n * 60)
            });
        }
        if let (Some(n), Some(u)) = (number(w), unit(next)) {
            // "an hour and a half".
            let half = u == 60
                && next2 == "and"
                && words.get(i + 3) == Some(&"a")
                && words.get(i + 4) == Some(&"half");
            let minutes = n * u + if half { 30 } else { 0 };
            if minutes > 0 && minutes <= 8 * 60 {
                return Some((i, if half { i + 5 } else { i + 2 }, minutes));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shift(text: &str) -> Option<i64> {
        shift_minutes(&Tokens::new(text))
    }

    #[test]
    fn amounts_with_a_direction_move_the_time() {
        let cases = [
            ("ok but can it be 30 min later", Some(30)),
            ("can we push 30 mins", Some(30)),
            ("push it 15 min pls", Some(15)),
            ("can u push my appointment tmrw by an hour", Some(60)),
            ("make it an hour earlier", Some(-60)),
            ("half an hour later pls", Some(30)),
            ("1hr later", Some(60)),
            ("30mins later", Some(30)),
            ("15 minutes earlier if possible", Some(-15)),
            ("an hour and a half later", Some(90)),
            ("nusu saa baadaye", Some(30)),
            ("isogeze na saa moja", Some(60)),
            ("dakika 20 mapema", Some(-20)),
            ("saa moja baadaye tafadhali", Some(60)),
            ("mapema kwa saa moja", Some(-60)),
            ("two hours later", Some(120)),
        ];
        for (text, want) in cases {
            assert_eq!(shift(text), want, "{text}");
        }
    }

    #[test]
    fn times_and_durations_without_a_direction_are_no_shift() {
        for text in [
            "saa moja asubuhi",
            "how long does it take, an hour?",
            "it takes 30 min",
            "tomorrow at 2",
            "nitafika baada ya saa mbili",
            "move it to friday",
            "asubuhi mapema kama saa mbili",
            "mapema saa mbili",
            "saa mbili mapema",
        ] {
            assert_eq!(shift(text), None, "{text}");
        }
    }
}
