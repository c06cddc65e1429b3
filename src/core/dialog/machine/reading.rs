//! What the customer's words pick or name beyond one service and one
//! time: a choice among offered items by position, the old and new time of
//! a move, and a request split by day.

use super::*;
use crate::core::dialog::intent::lexicon::is_word;
use crate::core::dialog::names::is_person;
use crate::core::dialog::numbers::en_small;

impl Dialog<'_> {
    /// A request for services at different days or times in one turn,
    /// split where the second part begins: each part names a service and a
    /// day or time, and the days differ ("pedicure Wednesday 11am, and a
    /// haircut Friday 4pm") or, on one day, the times do ("box braids saa
    /// mbili na dredi saa nne"); a part without a day takes the other's.
    pub(super) fn split_by_day(&self, u: &Understood) -> Option<(Clause, Clause)> {
        if u.services.len() < 2 {
            return None;
        }
        let words = u.tokens.words();
        let now = self.state.now.unwrap_or_default();
        let tz = self.config.tz;
        let services = &self.config.catalog.services;
        (1..words.len()).find_map(|k| {
            if !matches!(
                words[k].as_str(),
                "and" | "na" | "plus" | "also" | "pia" | "then" | "halafu" | "kisha"
            ) {
                return None;
            }
            let (a, b) = (
                Tokens::from_words(words[..k].to_vec()),
                Tokens::from_words(words[k..].to_vec()),
            );
            let (wa, wb) = (parse_when(&a, now, tz), parse_when(&b, now, tz));
            // "landing on 20th, want braids and nails on saturday 21st":
            // a travel date is no part's day.
            let today = local_today(now, tz);
            let booking_day =
                |t: &Tokens, w: &When| w.date.is_some() && !only_travel_or_event_date(t, today);
            let days_differ = booking_day(&a, &wa) && booking_day(&b, &wb) && wa.date != wb.date;
            let times_differ = wa.time.is_some()
                && wb.time.is_some()
                && wa.time != wb.time
                && (wa.date.is_none() || wb.date.is_none() || wa.date == wb.date);
            let (wa, wb) = if days_differ {
                (wa, wb)
            } else {
                (
                    When {
                        date: wa.date.or(wb.date),
                        ..wa
                    },
                    When {
                        date: wb.date.or(wa.date),
                        ..wb
                    },
                )
            };
            let (sa, sb) = (
                services_mentioned(&a, services),
                services_mentioned(&b, services),
            );
            let disjoint = sb.iter().all(|s| !sa.contains(s));
            ((days_differ || times_differ) && !sa.is_empty() && !sb.is_empty() && disjoint).then(
                || {
                    (
                        Clause {
                            services: sa,
                            when: wa,
                            staff: match_staff(&a, &self.config.catalog.staff),
                        },
                        Clause {
                            services: sb,
                            when: wb,
                            staff: None,
                        },
                    )
                },
            )
        })
    }
}

/// The services named nearest a place in the words: in the shortest run of
/// up to three words ending at `at` (`before`) or starting there that
/// names any ("braids today, cornrows | i mean", "instead of | the
/// eyebrows, a pedicure").
pub(super) fn nearest_named(
    words: &[String],
    at: usize,
    before: bool,
    services: &[ServiceInfo],
) -> Vec<Uuid> {
    let at = at.min(words.len());
    (1..=3)
        .map(|k| {
            let run = if before {
                &words[at.saturating_sub(k)..at]
            } else {
                &words[at..words.len().min(at + k)]
            };
            services_mentioned(&Tokens::from_words(run.to_vec()), services)
        })
        .find(|named| !named.is_empty())
        .unwrap_or_default()
}

/// How the customer speaks of one of their own services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Owned {
    /// "my facial", "relaxer yangu": theirs, whether booked or wanted.
    Possessed,
    /// "I have a haircut on Wednesday", "niko na relaxer kesho": a booking
    /// they state they have (not "can I have a haircut").
    Stated,
}

impl Dialog<'_> {
    /// The service the customer calls their own, and how: "my facial",
    /// "relaxer yangu", "i have a haircut", "niko na relaxer", "nina facial".
    pub(super) fn owned_service(&self, u: &Understood) -> Option<(Uuid, Owned)> {
        let words = u.tokens.words();
        let services = &self.config.catalog.services;
        let named_in = |from: usize, to: usize| {
            let (from, to) = (from.min(words.len()), to.min(words.len()));
            services_mentioned(&Tokens::from_words(words[from..to].to_vec()), services)
                .first()
                .copied()
        };
        for (i, w) in words.iter().enumerate() {
            let prev = |back: usize| i.checked_sub(back).map_or("", |j| words[j].as_str());
            let stated_from = match w.as_str() {
                // Not "can I have", "I'd like to have", "I will have".
                "have"
                    if is_word(prev(1), "i, we")
                        && !is_word(prev(2), "can, could, may, would, should, to, will, and") =>
                {
                    Some(i + 1)
                }
                "na" if is_word(prev(1), "niko, nko, tuko") => Some(i + 1),
                // "am having wash n set on thurday at 10"
                "having" if is_word(prev(1), "am, m, i") => Some(i + 1),
                "nina" | "tuna" => Some(i + 1),
                _ => None,
            };
            if let Some(from) = stated_from {
                let mut from = from
                    + usize::from(
                        words
                            .get(from)
                            .is_some_and(|n| is_word(n, "a, an, my, the")),
                    );
                // "i have a ten oclock wash and set today", "nina 2pm
                // manicure": its time first.
                let clock = |w: &str| {
                    w.starts_with(|c: char| c.is_ascii_digit())
                        || crate::core::dialog::numbers::en_small(w).is_some_and(|n| n <= 12)
                        || is_word(w, "oclock, am, pm, o")
                };
                for _ in 0..3 {
                    if words.get(from).is_some_and(|w| clock(w)) {
                        from += 1;
                    }
                }
                // "niko na bibi, mimi cut": the one they are with, not a
                // booking.
                let person = words.get(from).is_some_and(|n| is_person(n));
                if let Some(id) = named_in(from, from + 2).filter(|_| !person) {
                    return Some((id, Owned::Stated));
                }
            }
            if w == "my"
                && let Some(id) = named_in(i + 1, i + 3)
            {
                return Some((id, Owned::Possessed));
            }
            // "manicure na pedicure baada ya mabutu ijumaa", "nyusi after
            // ma cut on sato", "before the braids": the one beside it.
            let beside = match (w.as_str(), words.get(i + 1).map(String::as_str)) {
                ("baada" | "kabla", Some("ya")) => Some(i + 2),
                ("after" | "before", Some("the" | "ma")) => Some(i + 2),
                // "kesho nikimaliza mabutu nataka pia kucha za jeli"
                ("nikimaliza" | "tukimaliza", Some(_)) => Some(i + 1),
                _ => None,
            };
            if let Some(from) = beside
                && let Some(id) = named_in(from, from + 2)
            {
                return Some((id, Owned::Possessed));
            }
            // "haircut yake" (his / hers: a child's booking).
            if is_word(w, "yangu, zangu, yake, zake")
                && let Some(id) = named_in(i.saturating_sub(3), i)
            {
                return Some((id, Owned::Possessed));
            }
        }
        None
    }
}

/// A choice by position: "1", "2", "the first", "ya pili", "option 3".
/// The offered item a choice names: a tapped id (`{prefix}{n}`), a number
/// or ordinal, or "the last one".
pub(super) fn offered_choice<T: Copy>(
    choice: Option<&ChoiceRef>,
    prefix: &str,
    offered: &[T],
) -> Option<T> {
    match choice? {
        ChoiceRef::Id(id) => id
            .strip_prefix(prefix)
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|i| offered.get(i).copied()),
        ChoiceRef::Index(i) => offered.get(*i).copied(),
        ChoiceRef::Last => offered.last().copied(),
    }
}

pub(super) fn ordinal_choice(tokens: &Tokens) -> Option<ChoiceRef> {
    let words: Vec<&str> = tokens.words().iter().map(String::as_str).collect();
    let number = |w: &str| -> Option<usize> {
        Some(match w {
            "1" | "one" | "moja" => 1,
            "2" | "two" | "mbili" => 2,
            "3" | "three" | "tatu" => 3,
            "4" | "four" | "nne" => 4,
            "5" | "five" | "tano" => 5,
            "6" | "six" | "sita" => 6,
            "7" | "seven" | "saba" => 7,
            "8" | "eight" | "nane" => 8,
            "9" | "nine" | "tisa" => 9,
            "10" | "ten" | "kumi" => 10,
            _ => return None,
        })
    };
    let english = |w: &str| -> Option<usize> {
        Some(match w {
            "first" | "1st" => 1,
            "second" | "2nd" | "secnd" | "seccond" => 2,
            "third" | "3rd" => 3,
            "fourth" | "4th" => 4,
            "fifth" | "5th" => 5,
            _ => return None,
        })
    };
    let swahili = |w: &str| -> Option<usize> {
        Some(match w {
            "kwanza" => 1,
            "pili" => 2,
            "tatu" => 3,
            "nne" => 4,
            "tano" => 5,
            _ => return None,
        })
    };
    // A message that is only a number ("2", "two", "namba 2").
    let meaningful: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| {
            !matches!(
                *w,
                "the"
                    | "option"
                    | "number"
                    | "namba"
                    | "no"
                    | "please"
                    | "tafadhali"
                    | "pls"
                    | "ok"
                    | "okay"
                    | "sawa"
                    | "poa"
                    | "one"
                    | "uh"
                    | "um"
                    | "eeh"
            )
        })
        .collect();
    if let [only] = meaningful.as_slice()
        && let Some(n) = number(only).or_else(|| english(only))
    {
        return Some(ChoiceRef::Index(n - 1));
    }
    // "option b", "choice c", "b)".
    for pair in words.windows(2) {
        if matches!(pair[0], "option" | "choice" | "opt")
            && let Some(n) = match pair[1] {
                "a" => Some(0),
                "b" => Some(1),
                "c" => Some(2),
                _ => None,
            }
        {
            return Some(ChoiceRef::Index(n));
        }
    }
    // "any", "whichever", "yoyote": the first on offer.
    if matches!(
        meaningful.as_slice(),
        ["any"]
            | ["any", "is", "fine"]
            | ["any", "time"]
            | ["anytime"]
            | ["any", "of", "them"]
            | ["either"]
            | ["whichever"]
            | ["which", "ever"]
            | ["yoyote"]
            | ["yeyote"]
            | ["yoyote", "ile"]
            | ["yoyote", "tu"]
            | ["any", "works"]
    ) {
        return Some(ChoiceRef::Index(0));
    }
    for (i, w) in words.iter().enumerate() {
        let prev = if i > 0 { words[i - 1] } else { "" };
        let next = words.get(i + 1).copied().unwrap_or("");
        // "the first one", "2nd option", "first is fine" (not "first
        // time", nor "let me check my diary first").
        if let Some(n) = english(w)
            && !matches!(next, "time" | "thing" | "visit")
            && (matches!(
                prev,
                "the" | "take" | "option" | "number" | "my" | "ya" | ""
            ) || matches!(
                next,
                "one" | "option" | "slot" | "choice" | "is" | "please" | "pls" | "works"
            ))
        {
            return Some(ChoiceRef::Index(n - 1));
        }
        // "the middle one", "ya katikati": the second of three.
        if matches!(*w, "middle" | "katikati") {
            return Some(ChoiceRef::Index(1));
        }
        // "option 2", "number two", "namba 3".
        if matches!(prev, "option" | "number" | "namba" | "no")
            && let Some(n) = number(w)
        {
            return Some(ChoiceRef::Index(n - 1));
        }
        // "hiyo ya kwanza", "ile ya pili" (not "saa tatu", "ngoja kwanza").
        if matches!(prev, "ya" | "la" | "wa" | "cha")
            && let Some(n) = swahili(w)
        {
            return Some(ChoiceRef::Index(n - 1));
        }
        // "the last one", "what's the latest I can come", "ya mwisho"; "the
        // earliest" is the first offered.
        if *w == "earliest" {
            return Some(ChoiceRef::Index(0));
        }
        if matches!(*w, "last" | "latest") || (*w == "mwisho" && matches!(prev, "ya" | "la" | "wa"))
        {
            return Some(ChoiceRef::Last);
        }
    }
    None
}

/// One part of a request for services on different days.
pub(super) struct Clause {
    pub(super) services: Vec<Uuid>,
    pub(super) when: When,
    pub(super) staff: Option<Uuid>,
}

/// "move my Wednesday manicure to Thursday same time": the day and time
/// that name the existing appointment (before "to" / "hadi" / "iwe" …) and
/// the day and time it should move to (after); None without such a word.
pub(super) fn move_parts(tokens: &Tokens, now: DateTime<Utc>, tz: Tz) -> Option<(When, When)> {
    const MARKERS: &[&str] = &[
        "to", "hadi", "mpaka", "iwe", "ziwe", "ziweke", "into", "till", "until", "for", "tuweke",
        "niwekee", "weka", "iende", "ziende", "instead", "rather",
    ];
    let kept = crate::core::dialog::when::without_event_weekdays(tokens.words());
    let words = &kept;
    // "Thursday instead of tomorrow", "alhamisi badala ya kesho": the old
    // time comes after.
    for (i, pair) in words.windows(2).enumerate() {
        if matches!(
            (pair[0].as_str(), pair[1].as_str()),
            ("instead", "of") | ("badala", "ya")
        ) {
            let before = Tokens::from_words(words[..i].to_vec());
            // "badala ya saa tisa iwe saa tatu", "instead of 3 make it 9":
            // the old time, then the new one after a marker; a day said
            // before names both.
            let rest = &words[i + 2..];
            if let Some(k) = rest
                .iter()
                .position(|w| matches!(w.as_str(), "iwe" | "make" | "put" | "to" | "hadi"))
            {
                let old = parse_when(&Tokens::from_words(rest[..k].to_vec()), now, tz);
                let new = parse_when(&Tokens::from_words(rest[k + 1..].to_vec()), now, tz);
                if !old.is_empty() && !new.is_empty() {
                    let day = When {
                        date: parse_when(&before, now, tz).date,
                        ..When::default()
                    };
                    return Some((old.or(day), new.or(day)));
                }
            }
            let after = Tokens::from_words(rest.to_vec());
            let (target, identify) = (parse_when(&before, now, tz), parse_when(&after, now, tz));
            if !target.is_empty() {
                return Some((identify, target));
            }
        }
    }
    // The last marker with a day or time after it: "naomba kusogeza miadi
    // yangu ya kesho ipelekwe alhamisi saa tisa" moves tomorrow's to
    // Thursday. A verb of moving marks the target too.
    for (i, w) in words.iter().enumerate().rev() {
        if !(MARKERS.contains(&w.as_str()) || is_move_verb(words, i)) || i + 1 >= words.len() {
            continue;
        }
        // "want to move", "like to change": not the target.
        if i > 0
            && matches!(
                words[i - 1].as_str(),
                "want" | "like" | "need" | "have" | "going"
            )
        {
            continue;
        }
        let after = Tokens::from_words(words[i + 1..].to_vec());
        let mut target = parse_when(&after, now, tz);
        // "push it to 11": a bare hour after "to" is a time of day.
        if target.is_empty() && words[i + 1].chars().all(|c| c.is_ascii_digit()) {
            let mut at = vec!["at".to_owned()];
            at.extend(words[i + 1..].iter().cloned());
            target = parse_when(&Tokens::from_words(at), now, tz);
        }
        if target.is_empty() && !same_time(&after) {
            continue;
        }
        let before = Tokens::from_words(words[..i].to_vec());
        return Some((parse_when(&before, now, tz), target));
    }
    None
}

/// The last day or time said in the turn that `differs` accepts, read
/// from the last word where one can begin ("saa", "at", a digit, a day
/// word, "tarehe"): "friday nitakuwa safari. saturday same time?" gives
/// Saturday when Friday is on offer; "saa tisa … Rudisha saa kumi na moja"
/// 17:00 when 15:00 is.
pub(super) fn last_said_other(
    tokens: &Tokens,
    now: DateTime<Utc>,
    tz: Tz,
    differs: impl Fn(&When) -> bool,
) -> Option<When> {
    let words = tokens.words();
    let starts = |w: &str| {
        matches!(w, "saa" | "sa" | "at" | "around" | "by" | "tarehe")
            || w.starts_with(|c: char| c.is_ascii_digit())
            || crate::core::dialog::lexicon::is_day_word(w)
    };
    (1..words.len())
        .rev()
        .filter(|&i| starts(&words[i]))
        .map(|i| parse_when(&Tokens::from_words(words[i..].to_vec()), now, tz))
        .find(|when| !when.is_empty() && differs(when))
}

/// "actually make it 12", "can we do 3 instead": a bare hour given as a
/// change, read on business hours (1-6 is the afternoon).
pub(super) fn bare_hour_change(tokens: &Tokens) -> Option<NaiveTime> {
    if !tokens.has_any(&[
        "make it", "instead", "actually", "rather", "change", "badala", "iwe", "at",
    ]) {
        return None;
    }
    // As a recogniser writes it too ("uh actually can we do eight
    // instead"): a number word right after "do", "it", "at", "for", "be"
    // or right before "instead"/"then" ("the other one" is no hour).
    let words = tokens.words();
    let word_hour = |i: usize| {
        let before = i.checked_sub(1).map_or("", |j| words[j].as_str());
        let after = words.get(i + 1).map_or("", String::as_str);
        let placed = matches!(before, "do" | "it" | "at" | "for" | "be")
            || matches!(after, "instead" | "then" | "o" | "oclock");
        en_small(&words[i]).filter(|h| (2..=12).contains(h) && placed)
    };
    let h = (0..words.len()).find_map(|i| {
        words[i]
            .parse::<u32>()
            .ok()
            .filter(|h| (1..=12).contains(h))
            .or_else(|| word_hour(i))
    })?;
    NaiveTime::from_hms_opt(if h <= 6 { h + 12 } else { h }, 0, 0)
}
