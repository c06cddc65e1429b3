//! The shared vocabulary of the conversation and the spelling corrector
//! that maps how customers really write onto it.
//!
//! Customers type fast on phones ("tmrw", "frdy", "wedensday", "saa4",
//! "boxbraids") and call turns arrive as recogniser text (lower case, numbers
//! as words, fillers such as "uh" and "eeh"). [`normalise`] rewrites the
//! words of one turn into canonical vocabulary once, in `Tokens::new`, so
//! every reader downstream (intents, dates, services) sees "tomorrow" and
//! "wednesday" however they were typed.
//!
//! The corrector is deliberately timid, because a wrong day offered as if
//! the customer had said it is worse than a question:
//! - words the customer may have meant as written (common English and
//!   Swahili words, names near a day word such as "Fridah") are never
//!   corrected ([`is_known`]);
//! - short words are only read through the explicit abbreviation table;
//! - a correction needs an edit distance scaled to the word's length (one
//!   edit for 4-7 letters, two for 8 or more, a swap of neighbours counting
//!   one) and a unique best candidate: where two words are equally close
//!   nothing is guessed, and if one of them was a day the turn is marked
//!   [`Normalised::uncertain_day`] so the conversation asks which day.

mod words;

use chrono::Weekday;

pub use words::{BROWS, SERVICE_KINDS, SERVICE_SYNONYMS, ServiceSynonym, carves};

/// The result of normalising one turn's words.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Normalised {
    pub words: Vec<String>,
    /// A word looked like a weekday or relative day but could not be read
    /// as exactly one.
    pub uncertain_day: bool,
}

/// The weekday a canonical word names (English or Swahili; "sundays" is
/// the next Sunday).
pub fn weekday(word: &str) -> Option<Weekday> {
    let word = match word.strip_suffix('s') {
        Some(day) if day.ends_with("day") => day,
        _ => word,
    };
    Some(match word {
        "monday" | "jumatatu" => Weekday::Mon,
        "tuesday" | "jumanne" => Weekday::Tue,
        "wednesday" | "jumatano" => Weekday::Wed,
        "thursday" | "alhamisi" => Weekday::Thu,
        "friday" | "ijumaa" => Weekday::Fri,
        "saturday" | "jumamosi" => Weekday::Sat,
        "sunday" | "jumapili" => Weekday::Sun,
        _ => return None,
    })
}

/// Words that name a day: weekdays and relative days.
pub fn is_day_word(word: &str) -> bool {
    weekday(word).is_some() || words::RELATIVE_DAYS.contains(&word)
}

/// Whether `word` is a word in its own right, never to be corrected.
pub fn is_known(word: &str) -> bool {
    words::known().contains(word)
}

/// Whether `word` is canonical vocabulary (a correction target or a service
/// word), or known.
pub fn is_vocabulary(word: &str) -> bool {
    words::VOCABULARY.contains(&word) || words::SERVICE_WORDS.contains(&word) || is_known(word)
}

/// The edit distance a typed word of `len` letters may be from the word it
/// is read as.
pub fn allowed_edits(len: usize) -> usize {
    match len {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// What the corrector made of one unknown word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Correction {
    /// Read as this vocabulary word.
    Word(&'static str),
    /// Two or more words were equally close; `day` when one of them was a
    /// day word.
    Ambiguous { day: bool },
    /// Nothing close enough.
    None,
}

/// Corrects a word that is neither known nor an abbreviation.
pub fn correct(word: &str) -> Correction {
    let len = word.chars().count();
    let allowed = allowed_edits(len);
    if allowed == 0 || word.chars().any(|c| c.is_ascii_digit()) {
        return Correction::None;
    }
    let mut best: Option<(usize, &'static str)> = None;
    let mut tied: Vec<&'static str> = Vec::new();
    for &target in words::VOCABULARY {
        // Short targets are too easy to reach by accident ("june"/"jane").
        // Lengths further apart than the edits allowed cannot match (the
        // cheap test first: this runs for every unknown word of a turn).
        let tl = target.chars().count();
        if tl < 5 || tl.abs_diff(len) > allowed {
            continue;
        }
        let d = strsim::osa_distance(word, target);
        if d > allowed {
            continue;
        }
        match best {
            Some((bd, _)) if d > bd => {}
            Some((bd, _)) if d == bd => tied.push(target),
            _ => {
                best = Some((d, target));
                tied.clear();
            }
        }
    }
    match best {
        None => Correction::None,
        Some((_, target)) if tied.is_empty() => Correction::Word(target),
        Some((_, target)) => Correction::Ambiguous {
            day: is_day_word(target) || tied.iter().any(|t| is_day_word(t)),
        },
    }
}

/// An English weekday misspelt one edit beyond what `correct` allows
/// ("thurdy", "tusedy", "wednsdy"): its first two letters, a 'd' after
/// them and a final 'y' kept, and no other weekday as near ("fridge",
/// "sunny" and "monkey" are no days).
fn misspelt_weekday(word: &str) -> Option<&'static str> {
    let len = word.chars().count();
    if len < 5 || !word.chars().all(|c| c.is_ascii_lowercase()) || !word.ends_with('y') {
        return None;
    }
    if !word.get(2..).is_some_and(|rest| rest.contains('d')) {
        return None;
    }
    let edits = allowed_edits(len) + 1;
    let mut near = words::DAY_TARGETS.iter().filter(|d| {
        weekday(d).is_some()
            && d.is_ascii()
            && d.get(..2) == word.get(..2)
            && !d.starts_with("juma")
            && strsim::osa_distance(word, d) <= edits
    });
    match (near.next(), near.next()) {
        (Some(day), None) => Some(day),
        _ => None,
    }
}

/// Whether an unknown word that was not corrected still looks like a day:
/// the start of two different day words ("jumat"), or one edit beyond the
/// allowed distance from a day word ("wensday").
fn looks_like_day(word: &str) -> bool {
    let len = word.chars().count();
    if len < 5 || word.chars().any(|c| c.is_ascii_digit()) {
        return false;
    }
    let prefix_of: Vec<Weekday> = words::DAY_TARGETS
        .iter()
        .filter(|d| d.starts_with(word) && **d != word)
        .filter_map(|d| weekday(d))
        .collect();
    if prefix_of.len() >= 2 && prefix_of.iter().any(|d| *d != prefix_of[0]) {
        return true;
    }
    len >= 6
        && words::DAY_TARGETS.iter().any(|d| {
            let edits = allowed_edits(len) + 1;
            d.chars().count().abs_diff(len) <= edits && strsim::osa_distance(word, d) <= edits
        })
}

/// Rewrites one turn's raw lower-case words into canonical vocabulary.
pub fn normalise(raw: Vec<String>) -> Normalised {
    let mut uncertain_day = false;
    let raw = drop_fillers(raw);
    let raw = join_split_words(raw);
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for (i, w) in raw.iter().enumerate() {
        let prev = if i > 0 { raw[i - 1].as_str() } else { "" };
        let prev2 = if i > 1 { raw[i - 2].as_str() } else { "" };
        let next = raw.get(i + 1).map(String::as_str).unwrap_or("");
        if introduces_name(prev2, prev) || (i >= 2 && introduces_name(at(&raw, i, 3), prev2)) {
            out.push(w.clone());
            continue;
        }
        if w == "n" && i > 0 && i + 1 < raw.len() {
            let swahili = words::SW_CONTEXT.contains(&prev) || words::SW_CONTEXT.contains(&next);
            out.push(if swahili { "na" } else { "and" }.to_owned());
            continue;
        }
        if w == "sa" && starts_number(next) {
            out.push("saa".to_owned());
            continue;
        }
        if let Some(rep) = abbreviation(w) {
            out.extend(rep.split(' ').map(str::to_owned));
            continue;
        }
        if is_vocabulary(w) || w.chars().count() <= 1 {
            out.push(w.clone());
            continue;
        }
        // Sheng puts the Swahili infinitive on English verbs and service
        // words: "kucut", "kuretwist", "ku-cut" read as the word itself.
        if let Some(rest) = w
            .strip_prefix("ku")
            .filter(|r| r.chars().count() >= 3 && words::SERVICE_WORDS.contains(r))
        {
            out.push(rest.to_owned());
            continue;
        }
        if let Some(parts) = split_digits(w) {
            out.extend(parts);
            continue;
        }
        match correct(w) {
            Correction::Word(target) => {
                out.push(target.to_owned());
                continue;
            }
            Correction::Ambiguous { day } => {
                uncertain_day |= day;
                out.push(w.clone());
                continue;
            }
            Correction::None => {}
        }
        if let Some((a, b)) = split_glued(w) {
            out.push(a.to_owned());
            out.push(b.to_owned());
            continue;
        }
        if let Some(day) = misspelt_weekday(w) {
            out.push(day.to_owned());
            continue;
        }
        if let Some(word) = r_for_l(w) {
            out.push(word);
            continue;
        }
        uncertain_day |= looks_like_day(w);
        out.push(w.clone());
    }
    resolve_short_days(&mut out);
    Normalised {
        words: out,
        uncertain_day,
    }
}

fn at(words: &[String], i: usize, back: usize) -> &str {
    i.checked_sub(back)
        .and_then(|j| words.get(j))
        .map(String::as_str)
        .unwrap_or("")
}

/// The explicit table of abbreviations, Sheng spellings and common
/// misspellings too far from their word for the corrector.
pub fn abbreviation(word: &str) -> Option<&'static str> {
    words::ABBREVIATIONS
        .iter()
        .find(|(forms, _)| forms.split(' ').any(|f| f == word))
        .map(|(_, canonical)| *canonical)
}

/// Fillers of speech and typing, dropped when other words remain. "eeh" is
/// also Swahili assent, so it is kept as the first word.
fn drop_fillers(raw: Vec<String>) -> Vec<String> {
    let is_filler = |i: usize, w: &str| {
        words::FILLERS.contains(&w) || (i > 0 && matches!(w, "eeh" | "eh" | "ee" | "aah"))
    };
    // "on mon uh on tuesday", "saa nne eeh saa tano": a filler before the
    // word that began the phrase just before it is a spoken false start,
    // kept as the correction it is ("i mean") for the readers after.
    const OPENERS: &[&str] = &["on", "at", "saa", "siku", "by", "tarehe"];
    // "on monday uh no tuesday", "saa nane aah hapana saa tisa": a filler,
    // a "no", then a day or a time said again is the same correction.
    const TAKE_BACK: &[&str] = &["no", "hapana", "sorry", "samahani", "la"];
    let says_when = |w: &str| {
        OPENERS.contains(&w)
            || is_day_word(w)
            || w.chars().all(|c| c.is_ascii_digit()) && !w.is_empty()
            // "like 10ish"
            || w
                .strip_suffix("ish")
                .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
            || super::numbers::en_small(w).is_some()
            || super::numbers::sw_small(w).is_some()
    };
    let mut kept: Vec<String> = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let w = raw[i].as_str();
        i += 1;
        // "today at like four", "like tmrw": "like" as a hedge before a day
        // or a time ("i'd like four" keeps it).
        let hedge = w == "like"
            && raw.get(i).is_some_and(|n| says_when(n))
            && !matches!(
                kept.last().map(String::as_str),
                Some(
                    "i" | "id" | "i'd" | "d" | "would" | "we" | "they" | "you" | "u" | "she" | "he"
                )
            );
        if hedge {
            // "instead? like 10", "like nine": the hour is one said, as
            // after "at" ("at like four" keeps its one "at").
            let number = raw.get(i).is_some_and(|n| {
                n.chars().next().is_some_and(|c| c.is_ascii_digit())
                    || super::numbers::en_small(n).is_some()
            });
            if number
                && !matches!(
                    kept.last().map(String::as_str),
                    Some("at" | "around" | "by")
                )
            {
                kept.push("at".to_owned());
            }
            continue;
        }
        // "uh huh", "mm hmm": an answer (a yes), not two fillers; "huh?"
        // alone asks to hear it again.
        if matches!(w, "uh" | "um" | "mm" | "mmm")
            && raw
                .get(i)
                .is_some_and(|n| matches!(n.as_str(), "huh" | "hmm" | "hm"))
        {
            kept.extend(["uh".to_owned(), "huh".to_owned()]);
            i += 1;
            continue;
        }
        if !is_filler(i - 1, w) {
            kept.push(w.to_owned());
            continue;
        }
        let next = raw.get(i).map(String::as_str).unwrap_or("");
        let after = raw.get(i + 1).map(String::as_str).unwrap_or("");
        let recent = &kept[kept.len().saturating_sub(3)..];
        if OPENERS.contains(&next) && recent.len() >= 2 && recent.iter().any(|k| k == next) {
            kept.extend(["i".to_owned(), "mean".to_owned()]);
        } else if TAKE_BACK.contains(&next) && !kept.is_empty() && says_when(after) {
            kept.extend(["i".to_owned(), "mean".to_owned()]);
            i += 1;
        }
    }
    if kept.is_empty() { raw } else { kept }
}

/// "thu rs", "juma mosi", "to morrow", "after noon": two pieces whose
/// concatenation is a vocabulary word become that word, unless both pieces
/// are words in their own right ("to day" stays).
fn join_split_words(raw: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if let Some(next) = raw.get(i + 1) {
            let joined = format!("{}{}", raw[i], next);
            let target = words::VOCABULARY.contains(&joined.as_str())
                || abbreviation(&joined).is_some_and(|a| !a.contains(' '));
            let both_known = is_vocabulary(&raw[i]) && is_vocabulary(next);
            let letters = joined.chars().all(|c| c.is_alphabetic());
            if letters && target && (!both_known || words::JOIN_ALWAYS.contains(&joined.as_str())) {
                out.push(joined);
                i += 2;
                continue;
            }
        }
        out.push(raw[i].clone());
        i += 1;
    }
    out
}

/// Whether the word after `prev2 prev` is probably a person's name, which
/// is kept as written ("my name is Fridah" is not Friday).
fn introduces_name(prev2: &str, prev: &str) -> bool {
    matches!(
        (prev2, prev),
        (_, "naitwa" | "called" | "jina")
            | ("name" | "names", "is")
            | ("this", "is")
            | ("i", "m" | "am")
            | ("mimi" | "langu" | "jina", "ni")
    )
}

/// Whether a word starts a number the Swahili clock can read.
fn starts_number(word: &str) -> bool {
    word.chars().next().is_some_and(|c| c.is_ascii_digit())
        || super::numbers::sw_small(word).is_some()
}

/// "saa4" -> "saa 4"; "1600hrs" / "16h" -> "16:00"; "kesho10am" ->
/// "kesho 10am". Amount and date forms ("ksh200", "2k", "3rd") are left.
fn split_digits(w: &str) -> Option<Vec<String>> {
    // "14:00hrs", "16:30h": the clock time without its suffix.
    if let Some(clock) = ["hrs", "hours", "hr", "h"]
        .iter()
        .find_map(|s| w.strip_suffix(s))
        .filter(|c| {
            let (h, m) = c.split_once(':').unwrap_or(("", ""));
            (1..=2).contains(&h.len())
                && m.len() == 2
                && h.chars().chain(m.chars()).all(|c| c.is_ascii_digit())
        })
    {
        return Some(vec![clock.to_owned()]);
    }
    let first_digit = w.find(|c: char| c.is_ascii_digit())?;
    if first_digit > 0 {
        let (letters, rest) = w.split_at(first_digit);
        if letters.chars().all(|c| c.is_alphabetic()) && is_vocabulary(letters) {
            let mut parts = vec![letters.to_owned()];
            parts.extend(split_digits(rest).unwrap_or_else(|| vec![rest.to_owned()]));
            return Some(parts);
        }
        return None;
    }
    let digits_end = w.find(|c: char| !c.is_ascii_digit()).unwrap_or(w.len());
    let (digits, suffix) = w.split_at(digits_end);
    // "12noon": noon said with its number.
    if digits == "12" && matches!(suffix, "noon" | "nn") {
        return Some(vec!["12:00".to_owned()]);
    }
    // "like 10ish": about that hour.
    if suffix == "ish" && (1..=2).contains(&digits.len()) {
        return Some(vec![digits.to_owned()]);
    }
    if !matches!(suffix, "h" | "hr" | "hrs" | "hours") {
        return None;
    }
    let (h, m) = match digits.len() {
        3 | 4 => (
            digits[..digits.len() - 2].parse::<u32>().ok()?,
            digits[digits.len() - 2..].parse::<u32>().ok()?,
        ),
        2 => (digits.parse::<u32>().ok()?, 0),
        _ => return None,
    };
    let plausible = h < 24 && m < 60 && (digits.len() > 2 || h >= 7);
    plausible.then(|| vec![format!("{h:02}:{m:02}")])
}

/// "lelaxer", "fliday", "tomollow": r and l swapped as some first
/// languages do; the one spelling with them swapped back that is a word of
/// ours (a service, a day, a vocabulary word).
fn r_for_l(w: &str) -> Option<String> {
    let at: Vec<usize> = w
        .char_indices()
        .filter(|&(_, c)| c == 'r' || c == 'l')
        .map(|(i, _)| i)
        .collect();
    if at.is_empty() || at.len() > 4 || w.chars().count() < 4 || !w.is_ascii() {
        return None;
    }
    (1u32..1 << at.len()).find_map(|mask| {
        let mut b = w.as_bytes().to_vec();
        for (k, &i) in at.iter().enumerate() {
            if mask & (1 << k) != 0 {
                b[i] = if b[i] == b'r' { b'l' } else { b'r' };
            }
        }
        let v = String::from_utf8(b).ok()?;
        (words::SERVICE_WORDS.contains(&v.as_str()) || words::VOCABULARY.contains(&v.as_str()))
            .then_some(v)
    })
}

/// "boxbraids" -> "box braids", "gelnails", "manipedi", "tomorrowmorning":
/// a word made of two vocabulary words of three letters or more.
fn split_glued(w: &str) -> Option<(&str, &str)> {
    if w.chars().count() < 6 || !w.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let splits: Vec<(&str, &str)> = (3..=w.len() - 3)
        .map(|k| w.split_at(k))
        .filter(|(a, b)| is_vocabulary(a) && is_vocabulary(b))
        .collect();
    match splits.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// "sat" and "sun" are English words too: they are read as days only next
/// to day or time words ("on sat", "sun morning", "next sat at 10"), right
/// after a service ("pedicure sun"), "sat" also last in the turn ("nataka
/// cornrows sat"; "too much sun" stays), never after a pronoun or an
/// article ("i sat", "the sun").
fn resolve_short_days(words: &mut [String]) {
    for i in 0..words.len() {
        let day = match words[i].as_str() {
            "sat" => "saturday",
            "sun" => "sunday",
            _ => continue,
        };
        let prev = if i > 0 { words[i - 1].as_str() } else { "" };
        let next = words.get(i + 1).map(String::as_str).unwrap_or("");
        // "the sat ones", "my sat booking"
        if matches!(
            next,
            "one" | "ones" | "booking" | "bookings" | "appointment" | "appointments" | "appt"
        ) {
            words[i] = day.to_owned();
            continue;
        }
        if matches!(
            prev,
            "i" | "we"
                | "they"
                | "he"
                | "she"
                | "you"
                | "the"
                | "a"
                | "just"
                | "have"
                | "has"
                | "had"
                | "was"
                | "were"
        ) {
            continue;
        }
        let day_before = matches!(
            prev,
            "on" | "this"
                | "next"
                | "by"
                | "until"
                | "till"
                | "for"
                | "from"
                | "coming"
                | "siku"
                | "or"
                | "and"
                | "na"
        ) || is_day_word(prev);
        let time_after = next.chars().next().is_some_and(|c| c.is_ascii_digit())
            || is_day_word(next)
            || matches!(
                next,
                "at" | "saa"
                    | "morning"
                    | "afternoon"
                    | "evening"
                    | "asubuhi"
                    | "mchana"
                    | "jioni"
                    | "or"
                    | "next"
                    | "ijayo"
                    | "ok"
                    | "okay"
                    | "please"
                    // "sat hii inakuja", "sun this week"
                    | "hii"
                    | "hiyo"
                    | "inakuja"
                    | "inayokuja"
                    | "this"
            );
        // "nataka cornrows sat", "gel nails sat, start 9am": right after a
        // service, or the turn's last word after anything but a pronoun.
        let after_service = words::SERVICE_WORDS.contains(&prev);
        let last = day == "saturday" && i > 0 && i + 1 == words.len();
        if day_before || time_after || after_service || last || words.len() <= 2 {
            words[i] = day.to_owned();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(text: &str) -> Normalised {
        normalise(text.split_whitespace().map(str::to_owned).collect())
    }

    fn words(text: &str) -> String {
        norm(text).words.join(" ")
    }

    #[test]
    fn abbreviations_become_words() {
        let cases = [
            ("tmrw pls", "tomorrow please"),
            ("2moro plz", "tomorrow please"),
            ("tmoro", "tomorrow"),
            ("tomoz", "tomorrow"),
            ("hw much", "how much"),
            ("wat time", "what time"),
            ("nxt wk tue", "next week tuesday"),
            ("thx", "thanks"),
            ("u open", "you open"),
            ("ur price", "your price"),
            ("thur", "thursday"),
            ("thurs 2pm", "thursday 2pm"),
            ("frdy", "friday"),
            ("fri", "friday"),
            ("cornrows fry saa nne", "cornrows friday saa nne"),
            ("wed", "wednesday"),
            ("wen", "when"),
        ];
        for (text, want) in cases {
            assert_eq!(words(text), want, "{text}");
        }
    }

    #[test]
    fn misspelt_days_are_read_when_unique() {
        let cases = [
            ("wedensday", "wednesday"),
            ("thurday", "thursday"),
            ("jumamos", "jumamosi"),
            ("alhamis", "alhamisi"),
            ("tomorow", "tomorrow"),
            ("fryday", "friday"),
            ("satuday", "saturday"),
            ("tuesdy", "tuesday"),
            ("jumanee", "jumanne"),
            ("kesh0", "kesh0"),
            // two edits, the day's first letters, its 'd' and 'y' kept
            ("thurdy", "thursday"),
            ("tusedy", "tuesday"),
            ("wednsdy", "wednesday"),
        ];
        for (text, want) in cases {
            let n = norm(text);
            assert_eq!(n.words.join(" "), want, "{text}");
            assert!(!n.uncertain_day, "{text}");
        }
        for text in ["fridge", "frisky", "monkey", "sunny"] {
            assert_eq!(norm(text).words.join(" "), text);
        }
    }

    #[test]
    fn misspellings_equally_close_to_two_days_are_not_guessed() {
        for text in ["jumatanu", "jumat", "jumata"] {
            let n = norm(text);
            assert!(
                n.words.iter().all(|w| !is_day_word(w)),
                "{text} read as {:?}",
                n.words
            );
            assert!(n.uncertain_day, "{text}");
        }
    }

    #[test]
    fn known_words_are_never_corrected() {
        let cases = [
            "there", "where", "three", "money", "sunny", "night", "eight", "right", "match",
            "cancer", "sandy", "thirsty",
        ];
        for w in cases {
            assert_eq!(words(w), w, "{w}");
        }
        assert_eq!(words("my name is fridah"), "my name is fridah");
        assert_eq!(words("naitwa fridah"), "naitwa fridah");
    }

    #[test]
    fn r_and_l_swapped_back() {
        assert_eq!(words("lelaxer on fliday"), "relaxer on friday");
        assert_eq!(words("corn lows"), "corn lows");
        assert_eq!(words("hello"), "hello");
    }

    #[test]
    fn short_days_only_in_a_day_context() {
        assert_eq!(words("on sat"), "on saturday");
        assert_eq!(words("sat 10am"), "saturday 10am");
        assert_eq!(words("sun morning"), "sunday morning");
        assert_eq!(words("i sat there"), "i sat there");
        assert_eq!(
            words("sitting in the sun all day"),
            "sitting in the sun all day"
        );
        assert_eq!(words("nataka cornrows sat"), "nataka cornrows saturday");
        assert_eq!(
            words("box braids na gel nails sat start 9am"),
            "box braids na gel nails saturday start 9am"
        );
        assert_eq!(words("where i sat"), "where i sat");
        assert_eq!(words("the sat ones"), "the saturday ones");
        assert_eq!(words("too much sun"), "too much sun");
        assert_eq!(words("pedicure sun"), "pedicure sunday");
    }

    #[test]
    fn fillers_are_dropped_but_assent_kept() {
        assert_eq!(words("uh kesho um saa nne"), "kesho saa nne");
        assert_eq!(words("eeh"), "eeh");
        assert_eq!(words("eeh sawa"), "eeh sawa");
        assert_eq!(words("tomorrow eeh at ten"), "tomorrow at ten");
        assert_eq!(words("um"), "um");
    }

    #[test]
    fn n_is_and_only_between_words() {
        assert_eq!(
            words("hw much manicure n pedicure"),
            "how much manicure and pedicure"
        );
        assert_eq!(words("kukata nywele n nyusi"), "kukata nywele na nyusi");
        assert_eq!(words("n"), "n");
    }

    #[test]
    fn glued_and_split_words() {
        let cases = [
            ("saa4", "saa 4"),
            ("sa nne", "saa nne"),
            ("sa 4", "saa 4"),
            ("saa ngapi", "saa ngapi"),
            ("sa ngapi", "sa ngapi"),
            ("1600hrs", "16:00"),
            ("14:00hrs", "14:00"),
            ("16:30h", "16:30"),
            ("16h", "16:00"),
            ("0930hrs", "09:30"),
            ("2hrs", "2hrs"),
            ("boxbraids", "box braids"),
            ("gelnails", "gel nails"),
            ("manipedi", "mani pedi"),
            ("thu rs", "thursday"),
            ("juma mosi", "jumamosi"),
            ("to morrow", "tomorrow"),
            ("after noon", "afternoon"),
            ("ksh200", "ksh200"),
            ("3rd", "3rd"),
            ("kucut nywele", "cut nywele"),
            ("kuretwist", "retwist"),
        ];
        for (text, want) in cases {
            assert_eq!(words(text), want, "{text}");
        }
    }
}

#[cfg(test)]
mod real_words {
    use crate::core::dialog::text::Tokens;

    #[test]
    fn real_words_are_never_rewritten_into_other_words() {
        for (text, word) in [
            ("nataka kusuka msichana wangu", "msichana"),
            ("achana nayo", "achana"),
            ("you are useless", "useless"),
            ("i forget the time", "forget"),
            ("daylight robbery", "daylight"),
        ] {
            let t = Tokens::new(text);
            assert!(
                t.words().iter().any(|w| w == word),
                "{text}: {:?}",
                t.words()
            );
        }
    }
}
