//! Days of the month as customers write them ("12 June", "the 18th",
//! "tarehe 12", "12/6"), the last weekday of a month, and the dates and
//! days that are not the booking's: when they travel, or an event they go
//! to.

use chrono::{Datelike, Duration, NaiveDate};

use super::{Tokens, en_ordinal, lexicon};

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

/// "month end, the last Saturday", "the last friday of the month",
/// "jumamosi ya mwisho wa mwezi": that weekday's last date in this month,
/// or in the next when it has passed. ("last saturday" alone is the one
/// gone by, no booking day.)
pub(super) fn month_end_weekday(tokens: &Tokens, today: NaiveDate) -> Option<NaiveDate> {
    let words = tokens.words();
    let month_end = tokens.has_any(&[
        "month end",
        "end of the month",
        "end of month",
        "end month",
        "mwisho wa mwezi",
        "mwisho mwa mwezi",
    ]);
    let last_of_month = tokens.has_any(&["month", "mwezi"]) && tokens.has_any(&["last", "mwisho"]);
    if !month_end && !last_of_month {
        return None;
    }
    let weekday = words.iter().find_map(|w| lexicon::weekday(w))?;
    let last_in = |first: NaiveDate| {
        let next_month = first.checked_add_months(chrono::Months::new(1))?;
        let mut d = next_month.pred_opt()?;
        while d.weekday() != weekday {
            d = d.pred_opt()?;
        }
        Some(d)
    };
    let first = today.with_day(1)?;
    last_in(first)
        .filter(|d| *d >= today)
        .or_else(|| last_in(first.checked_add_months(chrono::Months::new(1))?))
}

/// Words that make a date the customer's travel, not the booking's ("I
/// land on the 18th", "flying back on Sunday").
const TRAVEL: &[&str] = &[
    "land",
    "landing",
    "arrive",
    "arriving",
    "till",
    "until",
    "fly",
    "flying",
    "leave",
    "leaving",
    "back",
    "travel",
    "travelling",
    "traveling",
    "nasafiri",
    "nitasafiri",
    "safari",
];

/// Whether the word at `i` follows a travel word within `within` words.
/// How many words after a travel word its date may come ("flying in from
/// london on the 18th").
pub(super) const TRAVEL_WINDOW: usize = 6;

pub(super) fn after_travel(words: &[String], i: usize, within: usize) -> bool {
    words[i.saturating_sub(within)..i]
        .iter()
        .any(|w| TRAVEL.contains(&w.as_str()))
}

/// Whether the word at `i` follows an event the customer goes to within
/// `within` words ("wedding saturday", "graduation party jioni", "ana safari
/// jioni", "getting married on Saturday 20th"): its day or part of the day
/// is the event's, not the booking's.
pub(super) fn after_event(words: &[String], i: usize, within: usize) -> bool {
    // A weekday is not the event's past another weekday ("kanisa Jumapili.
    // Jumamosi saa nane": Saturday is the booking's); a day of the month
    // is its weekday's ("married on Saturday 28th").
    let weekday_here = lexicon::weekday(&words[i]).is_some();
    for w in words[i.saturating_sub(within)..i].iter().rev() {
        if is_event(w) {
            return true;
        }
        if weekday_here && lexicon::weekday(w).is_some() {
            return false;
        }
    }
    // "my graduation is on saturday", "graduation yangu ni Thursday": the
    // event, then only words that tie it to its day.
    for w in words[i.saturating_sub(4)..i].iter().rev() {
        if is_event(w) {
            return true;
        }
        if !matches!(
            w.as_str(),
            "is" | "ni"
                | "iko"
                | "on"
                | "the"
                | "my"
                | "our"
                | "yangu"
                | "wangu"
                | "yake"
                | "wake"
                | "yetu"
                | "ya"
                | "this"
                | "next"
                | "coming"
                | "hii"
                | "ijayo"
                | "will"
                | "be"
                | "itakuwa"
                | "siku"
                | "day"
                | "party"
                | "ceremony"
                | "sherehe"
                | "tarehe"
                | "falls"
                | "open"
                | "opens"
                | "close"
                | "closes"
                | "inafunguliwa"
                | "zinafunguliwa"
                | "inafungwa"
                | "zinafungwa"
        ) {
            return false;
        }
    }
    false
}

/// The words without a clock time that belongs to an event or a trip
/// ("Itachukua muda gani? Tunasafiri saa tisa", "i have to pick my son frm
/// skul at 2", "I leave the office at 5 so maybe 5:30"): the time right
/// after the event word, or up to two words on with nothing asked between.
/// "after school at 4" keeps its time (that is when they come).
pub(super) fn without_event_times(words: &[String]) -> Vec<String> {
    use crate::core::dialog::numbers::{en_small, sw_small};
    let event = |i: usize| {
        let w = words[i].as_str();
        (is_event(w) || TRAVEL.contains(&w) || matches!(w, "pick" | "pickup"))
            // "bibi harusi saa nne" is the bride's time; "nywele za harusi".
            && !(i > 0
                && matches!(
                    words[i - 1].as_str(),
                    "after" | "baada" | "ya" | "za" | "before" | "bibi" | "bwana"
                ))
    };
    // A clock time said with its word ("at 2", "saa tisa"): a bare number
    // may be a day ("harusi ni tarehe 6") or the booking's ("the morning
    // of the wedding, 8am please").
    let starts_time = |w: &str| matches!(w, "saa" | "sa" | "at" | "by" | "around");
    let in_time = |w: &str| {
        starts_time(w)
            || w.starts_with(|c: char| c.is_ascii_digit())
            || en_small(w).is_some()
            || sw_small(w).is_some()
            || matches!(
                w,
                "am" | "pm"
                    | "na"
                    | "nusu"
                    | "unusu"
                    | "robo"
                    | "kasorobo"
                    | "kasoro"
                    | "o"
                    | "clock"
                    | "oclock"
                    | "asubuhi"
                    | "mchana"
                    | "jioni"
                    | "usiku"
                    | "alasiri"
            )
    };
    let stops = |w: &str| {
        matches!(
            w,
            "so" | "basi"
                | "then"
                | "but"
                | "lakini"
                | "and"
                | "na"
                | "nataka"
                | "want"
                | "need"
                | "book"
                | "weka"
                | "can"
                | "could"
                | "naomba"
                | "please"
                | "pls"
                | "maybe"
                | "nikuje"
                | "tukuje"
                | "come"
                | "kuja"
                | "tufanye"
                | "nifanye"
                | "iwe"
                | "badala"
                | "instead"
                | "make"
                | "do"
        ) || lexicon::weekday(w).is_some()
    };
    let mut drop = vec![false; words.len()];
    for i in (0..words.len()).filter(|&i| event(i)) {
        let mut j = i + 1;
        let mut skipped = 0;
        while j < words.len() && !starts_time(&words[j]) && !stops(&words[j]) && skipped < 2 {
            j += 1;
            skipped += 1;
        }
        if j >= words.len() || !starts_time(&words[j]) {
            continue;
        }
        while j < words.len() && in_time(&words[j]) {
            drop[j] = true;
            j += 1;
        }
    }
    (0..words.len())
        .filter(|&i| !drop[i])
        .map(|i| words[i].clone())
        .collect()
}

/// A word that names an event the customer goes to, or a trip.
fn is_event(w: &str) -> bool {
    matches!(
        w,
        "wedding"
            | "married"
            | "marrying"
            | "harusi"
            | "party"
            | "event"
            | "funeral"
            | "matanga"
            | "graduation"
            | "anniversary"
            | "school"
            | "schools"
            | "shule"
            | "skul"
            | "graduating"
            | "mahafali"
            | "birthday"
            | "bday"
            | "church"
            | "kanisa"
            | "kanisani"
            | "ibada"
            | "sherehe"
            | "ruracio"
            | "ceremony"
            | "interview"
            | "meeting"
            | "mkutano"
            | "kikao"
            | "exam"
            | "exams"
            | "mtihani"
            | "flight"
            | "safari"
            | "trip"
            | "journey"
            | "anasafiri"
            | "nasafiri"
            | "tunasafiri"
            | "narudi"
            | "nitarudi"
            | "tunarudi"
            | "tutarudi"
    )
}

/// Whether the only date the words give is the customer's travel or an
/// event's ("hi, landing on 20th, want box braids", "I'm getting married
/// on Saturday 20th, I want a facial"): no booking day.
pub fn only_travel_or_event_date(tokens: &Tokens, today: NaiveDate) -> bool {
    let words = tokens.words();
    let mut weekdays = (0..words.len()).filter(|&i| lexicon::weekday(&words[i]).is_some());
    let weekdays_travel =
        weekdays.all(|i| after_travel(words, i, TRAVEL_WINDOW) || after_event(words, i, 2));
    let dates = calendar_dates(words, today);
    if dates.is_empty() {
        weekdays_travel && words.iter().any(|w| lexicon::weekday(w).is_some())
    } else {
        dates.iter().all(|(_, kind)| *kind != DayOf::Booking) && weekdays_travel
    }
}

/// "12 June", "June 12", "12th", "tarehe 12", "12/6", "12/6/2026".
/// A day of the month the customer names for the booking: a date said
/// as when they travel or until when they stay ("I land on the 18th",
/// "in Nairobi till the 24th") gives way to another date after it ("on
/// Friday 19th April").
/// Also says whether the only date found was such a travel date.
pub(super) fn parse_calendar_date(words: &[String], today: NaiveDate) -> Option<(NaiveDate, bool)> {
    let dates = calendar_dates(words, today);
    if let Some(&(d, _)) = dates.iter().find(|(_, kind)| *kind == DayOf::Booking) {
        return Some((d, false));
    }
    // An event's day and no other day said for the booking: it may be the
    // booking's (bridal hair on the wedding day). With another weekday
    // ("interview thursday 17th … wash n set wednesday"), that one.
    let other_weekday = (0..words.len()).any(|i| {
        lexicon::weekday(&words[i]).is_some()
            && !after_travel(words, i, TRAVEL_WINDOW)
            && !after_event(words, i, 4)
    });
    if !other_weekday && let Some(&(d, _)) = dates.iter().find(|(_, kind)| *kind == DayOf::Event) {
        return Some((d, false));
    }
    dates.first().map(|&(d, _)| (d, true))
}

/// Whose a day of the month is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DayOf {
    Booking,
    Travel,
    Event,
}

/// Every day of the month the words name, in order, with whose it is.
fn calendar_dates(words: &[String], today: NaiveDate) -> Vec<(NaiveDate, DayOf)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < words.len()
        && let Some((d, at)) = calendar_date_at(&words[start..], today)
    {
        let at = start + at;
        let kind = if after_travel(words, at, TRAVEL_WINDOW) {
            DayOf::Travel
        } else if after_event(words, at, 4) {
            DayOf::Event
        } else {
            DayOf::Booking
        };
        out.push((d, kind));
        start = at + 1;
    }
    out
}

/// "Saturday 20th" said in March, when the 20th of March is a Wednesday
/// and of April a Saturday: April's. A month named stays ("Friday
/// 19th April" is 19 April whatever its weekday).
pub(super) fn with_its_weekday(d: NaiveDate, words: &[String]) -> NaiveDate {
    let mut said = words
        .iter()
        .enumerate()
        .filter(|&(i, _)| !after_travel(words, i, TRAVEL_WINDOW))
        .filter_map(|(_, w)| lexicon::weekday(w));
    let Some(weekday) = said.next() else {
        return d;
    };
    let month_named = words.iter().any(|w| MONTHS.iter().any(|(n, _)| n == w));
    if d.weekday() == weekday || month_named || said.any(|w| w != weekday) {
        return d;
    }
    // Only the next month: further off, the two disagree and the
    // customer is asked which they meant.
    d.checked_add_months(chrono::Months::new(1))
        .filter(|later| later.day() == d.day() && later.weekday() == weekday)
        .unwrap_or(d)
}

pub(super) fn calendar_date_at(words: &[String], today: NaiveDate) -> Option<(NaiveDate, usize)> {
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
            return resolve_day_month(day, Some(month), year, today).map(|d| (d, i));
        }
        if let Some(month) = month_of(w) {
            // "June 12" or "12 June"
            let after = words.get(i + 1).and_then(|w| day_of(w));
            let before = if i > 0 { day_of(&words[i - 1]) } else { None };
            if let Some(day) = before.or(after) {
                return resolve_day_month(day, Some(month), None, today).map(|d| (d, i));
            }
        }
        // "the twenty third at ten", "twelfth of june", "june the first"
        let refs: Vec<&str> = words[i..].iter().map(String::as_str).collect();
        if let Some((day, used)) = en_ordinal(&refs) {
            let prev = if i > 0 { words[i - 1].as_str() } else { "" };
            let prev2 = if i > 1 { words[i - 2].as_str() } else { "" };
            let next = refs.get(used).copied().unwrap_or("");
            let month = month_of(prev)
                .or_else(|| (prev == "the").then(|| month_of(prev2)).flatten())
                .or_else(|| month_of(next))
                .or_else(|| {
                    (next == "of")
                        .then(|| refs.get(used + 1).and_then(|w| month_of(w)))
                        .flatten()
                });
            let says_date = matches!(prev, "the" | "on")
                && matches!(
                    next,
                    "" | "at"
                        | "saa"
                        | "in"
                        | "morning"
                        | "afternoon"
                        | "evening"
                        | "please"
                        | "then"
                        | "for"
                        | "instead"
                        | "is"
                        | "if"
                        | "ok"
                        | "okay"
                );
            if month.is_some() || says_date {
                return resolve_day_month(day, month, None, today).map(|d| (d, i));
            }
        }
        // "the 2nd one", "3rd option" pick an offer, not a day.
        // "our 10th anniversary", "2nd floor", "her 8th birthday" neither.
        let picks_an_offer = matches!(
            words.get(i + 1).map(String::as_str),
            Some(
                "one"
                    | "option"
                    | "choice"
                    | "slot"
                    | "time"
                    | "anniversary"
                    | "birthday"
                    | "bday"
                    | "floor"
                    | "year"
                    | "grade"
                    | "class"
                    | "form"
            )
        );
        let ordinal = ["st", "nd", "rd", "th"].iter().any(|s| w.ends_with(s))
            && w.chars().next().is_some_and(|c| c.is_ascii_digit())
            && !picks_an_offer;
        let after_tarehe = i > 0 && words[i - 1] == "tarehe";
        if (ordinal || after_tarehe)
            && let Some(day) = day_of(w).or_else(|| {
                after_tarehe
                    .then(|| words_number(&words[i..]))
                    .flatten()
                    .filter(|d| (1..=31).contains(d))
            })
        {
            let month = match words.get(i + 1).map(String::as_str) {
                Some("of") => words.get(i + 2).and_then(|w| month_of(w)),
                next => next.and_then(month_of),
            };
            // "tarehe 7 mwezi ujao", "the 3rd next month".
            let month = month.or_else(|| {
                Tokens::from_words(words[i..words.len().min(i + 5)].to_vec())
                    .has_any(&["mwezi ujao", "mwezi unaokuja", "mwezi ujayo", "next month"])
                    .then(|| today.checked_add_months(chrono::Months::new(1)))
                    .flatten()
                    .map(|d| d.month())
            });
            return resolve_day_month(day, month, None, today).map(|d| (d, i));
        }
    }
    None
}

fn words_number(words: &[String]) -> Option<u32> {
    let refs: Vec<&str> = words.iter().take(3).map(String::as_str).collect();
    crate::core::dialog::numbers::parse_sw_number(&refs).and_then(|(n, _)| u32::try_from(n).ok())
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
/// "on Christmas day", "sikukuu ya Jamhuri", "Good Friday": the next
/// such day, today included (so the customer hears that it is a holiday).
pub(super) fn holiday_named(tokens: &Tokens, today: NaiveDate) -> Option<NaiveDate> {
    use crate::core::booking::holidays::easter_sunday;
    let fixed: &[(&[&str], u32, u32)] = &[
        (&["christmas", "krismasi", "xmas"], 12, 25),
        (&["boxing day"], 12, 26),
        (&["new year", "new years day", "mwaka mpya"], 1, 1),
        (&["jamhuri"], 12, 12),
        (&["mashujaa", "heroes day"], 10, 20),
        (&["madaraka"], 6, 1),
        (
            &["labour day", "labor day", "siku ya wafanyakazi", "leba dei"],
            5,
            1,
        ),
        (
            &[
                "mazingira day",
                "siku ya mazingira",
                "huduma day",
                "utamaduni day",
            ],
            10,
            10,
        ),
    ];
    let next = |m: u32, d: u32| {
        let this = NaiveDate::from_ymd_opt(today.year(), m, d)?;
        if this >= today {
            Some(this)
        } else {
            NaiveDate::from_ymd_opt(today.year() + 1, m, d)
        }
    };
    // "christmas eve" is the day before.
    if tokens.has_any(&["christmas eve", "mkesha wa krismasi"]) {
        return next(12, 24);
    }
    for (names, m, d) in fixed {
        if tokens.has_any(names) {
            return next(*m, *d);
        }
    }
    let easter_offset = if tokens.has_any(&["good friday", "ijumaa kuu"]) {
        Some(-2)
    } else if tokens.has_any(&["easter monday", "jumatatu ya pasaka"]) {
        Some(1)
    } else if tokens.has_any(&["easter sunday", "pasaka", "easter"]) {
        Some(0)
    } else {
        None
    };
    let offset = easter_offset?;
    [today.year(), today.year() + 1].into_iter().find_map(|y| {
        let d = easter_sunday(y)? + Duration::days(offset);
        (d >= today).then_some(d)
    })
}

/// "the day after Jamhuri", "siku baada ya krismasi", "the saturday
/// before easter monday", "jumamosi kabla ya pasaka": a day beside a
/// holiday named after the word that places it.
pub(super) fn beside_holiday(tokens: &Tokens, today: NaiveDate) -> Option<NaiveDate> {
    let words = tokens.words();
    let at = words
        .iter()
        .position(|w| matches!(w.as_str(), "after" | "before" | "baada" | "kabla"))?;
    let after = matches!(words[at].as_str(), "after" | "baada");
    let rest = Tokens::from_words(words[at + 1..].to_vec());
    let holiday = holiday_named(&rest, today)?;
    // The word before: a weekday, "day"/"siku", or nothing.
    let mut k = at;
    while k > 0 && matches!(words[k - 1].as_str(), "the" | "on" | "ya" | "a") {
        k -= 1;
    }
    let before_word = k.checked_sub(1).map(|i| words[i].as_str());
    if let Some(weekday) = before_word.and_then(lexicon::weekday) {
        let step = if after { 1 } else { -1 };
        return (1..=7)
            .map(|n| holiday + Duration::days(step * n))
            .find(|d| d.weekday() == weekday);
    }
    match (before_word, after) {
        (Some("day" | "siku"), true) => Some(holiday + Duration::days(1)),
        (Some("day" | "siku"), false) => Some(holiday - Duration::days(1)),
        // "after Jamhuri": the first day after it.
        (_, true) => Some(holiday + Duration::days(1)),
        (_, false) => None,
    }
}
