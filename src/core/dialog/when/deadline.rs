//! A time the customer must be finished by, not a start: "will I be done
//! before 12:30?", "I need to be out by 1pm", "nimalize kabla ya saa sita",
//! "niwe nimemaliza saa nane". The caller fits the booking's end to it.

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;

use super::parse_when_plain;
use crate::core::dialog::text::Tokens;

/// Phrases after which a time is when the customer must be done.
const DONE_BY: &[&str] = &[
    "done by",
    "done before",
    "be done",
    "finished by",
    "finished before",
    "finish by",
    "finish before",
    "out by",
    "out before",
    "leave by",
    "leave before",
    "ready by",
    "free by",
    "through by",
    "nimalize kabla",
    "nimalize by",
    "tumalize kabla",
    "nimemaliza kabla",
    "niwe nimemaliza",
    "tuwe tumemaliza",
    "niwe nimeisha",
    "niwe nimetoka",
    "nitoke kabla",
    "nitoke by",
    "niondoke kabla",
    "imalizike kabla",
    "iishe kabla",
    "iwe imeisha",
    "amalize kabla",
    "wamalize kabla",
    "atamaliza kabla",
    "awe amemaliza",
    "watakuwa wamemaliza",
];

/// The time the customer must be done by, if the turn gives one after a
/// phrase that says so.
pub fn done_by(tokens: &Tokens, now: DateTime<Utc>, tz: Tz) -> Option<NaiveTime> {
    let words = tokens.words();
    // "can they both be done at 10am?" asks for a start.
    let asks_a_start = |at: usize, len: usize| {
        words.get(at + len).is_some_and(|w| w == "at")
            && words[at.saturating_sub(4)..at]
                .iter()
                .any(|w| matches!(w.as_str(), "can" | "could" | "naweza" | "tunaweza"))
    };
    let (at, len) = DONE_BY
        .iter()
        .filter_map(|p| tokens.find(p).map(|at| (at, p.split(' ').count())))
        .filter(|&(at, len)| !asks_a_start(at, len))
        .min_by_key(|&(at, _)| at)?;
    // "will he be done before i pick up his sister at 3?": the time may
    // come a few words on.
    let rest = Tokens::from_words(words[at + len..].iter().take(9).cloned().collect());
    parse_when_plain(&rest, now, tz).time
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn by(text: &str) -> Option<NaiveTime> {
        // Wednesday 25 Nov 2026, 08:00 in Nairobi.
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 5, 0, 0).unwrap();
        done_by(&Tokens::new(text), now, chrono_tz::Africa::Nairobi)
    }

    fn t(h: u32, m: u32) -> Option<NaiveTime> {
        NaiveTime::from_hms_opt(h, m, 0)
    }

    #[test]
    fn times_to_be_done_by() {
        for (text, want) in [
            ("will i be done before 12:30? i have a meeting", t(12, 30)),
            ("I need to be out by 1pm", t(13, 0)),
            ("facial tomorrow, must be finished by 2 pm", t(14, 0)),
            ("nimalize kabla ya saa sita", t(12, 0)),
            ("niwe nimemaliza saa nane mchana", t(14, 0)),
            (
                "will he be done before i pick up his sister at 3?",
                t(15, 0),
            ),
            ("atamaliza kabla ya saa tisa?", t(15, 0)),
            // A start, not an end.
            ("tomorrow at 11am", None),
            ("book me before 10", None),
            ("can they both be done at 10am?", None),
            ("done", None),
        ] {
            assert_eq!(by(text), want, "{text}");
        }
    }
}
