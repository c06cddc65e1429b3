//! Word lists the turn engine judges transcripts with: backchannels, stop
//! words, unfinished endings and completion cues, in English and
//! Swahili / Sheng. Matching is on normalised words (lower case, outer
//! punctuation removed); sentence-final punctuation is kept as a separate cue
//! because streaming recognisers add it when the speaker sounds finished.

/// Short acknowledgements that do not take the floor.
const BACKCHANNELS: &[&str] = &[
    "mm", "mmm", "mmh", "mhm", "mm-hmm", "mmhmm", "mm-hm", "hmm", "hm", "uh-huh", "uhhuh", "uh",
    "huh", "yeah", "yea", "yes", "yep", "yup", "ok", "okay", "alright", "right", "sure", "i",
    "see", "ndiyo", "ndio", "sawa", "sawasawa", "eeh", "eh", "ee", "ehe", "aha", "ah", "haya",
    "naam", "poa", "kweli", "aah", "oh",
];

/// Words that ask the bot to stop: they always interrupt.
const STOP_WORDS: &[&str] = &[
    "wait", "no", "stop", "hold", "ngoja", "hapana", "subiri", "acha", "nope", "sorry", "excuse",
    "samahani", "pause",
];

/// A turn ending on one of these is unfinished ("... on", "... na").
const UNFINISHED: &[&str] = &[
    // English function words and openers
    "a",
    "an",
    "the",
    "to",
    "on",
    "at",
    "for",
    "of",
    "and",
    "or",
    "but",
    "with",
    "in",
    "into",
    "my",
    "your",
    "our",
    "his",
    "her",
    "their",
    "is",
    "are",
    "was",
    "were",
    "am",
    "be",
    "i'd",
    "i'm",
    "i'll",
    "we",
    "we're",
    "from",
    "by",
    "about",
    "around",
    "like",
    "so",
    "um",
    "umm",
    "uh",
    "er",
    "erm",
    "because",
    "if",
    "than",
    "that",
    "this",
    "which",
    "who",
    "when",
    "where",
    "want",
    "need",
    "would",
    "could",
    "can",
    "will",
    "should",
    "maybe",
    "also",
    "just",
    "some",
    "me",
    "it's",
    "its",
    "let",
    "think",
    "mean",
    "number",
    "say",
    "between",
    "before",
    "after",
    "until",
    "then",
    "plus",
    "point",
    "dot",
    // Swahili / Sheng connectives, prepositions, openers
    "na",
    "ya",
    "wa",
    "za",
    "la",
    "kwa",
    "katika",
    "ni",
    "kama",
    "au",
    "lakini",
    "cha",
    "vya",
    "kwamba",
    "ili",
    "saa",
    "tarehe",
    "namba",
    "nambari",
    "yangu",
    "yako",
    "hiyo",
    "hii",
    "ile",
    "nataka",
    "ningependa",
    "naomba",
    "nina",
    "kuna",
    "pia",
    "halafu",
    "kisha",
    "mpaka",
    "hadi",
    "tangu",
    "baada",
    "kabla",
    "ama",
    "yaani",
    "ngoja",
    "nione",
    "nifikirie",
];

/// Endings that close a booking answer: days, times of day, thanks.
const COMPLETE: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "today",
    "tomorrow",
    "tonight",
    "morning",
    "afternoon",
    "evening",
    "o'clock",
    "oclock",
    "pm",
    "please",
    "thanks",
    "thank",
    "you",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jumatatu",
    "jumanne",
    "jumatano",
    "alhamisi",
    "ijumaa",
    "jumamosi",
    "jumapili",
    "leo",
    "kesho",
    "asubuhi",
    "mchana",
    "jioni",
    "usiku",
    "asante",
    "tafadhali",
    "bye",
    "goodbye",
    "kwaheri",
    "januari",
    "februari",
    "machi",
    "aprili",
    "mei",
    "juni",
    "julai",
    "agosti",
    "septemba",
    "oktoba",
    "novemba",
    "desemba",
    "shillings",
    "bob",
    // Swahili questions end on their question word: "bei ni ngapi",
    // "mko wapi", "ni saa ngapi", "mnafungua lini".
    "ngapi",
    "gani",
    "wapi",
    "lini",
];

/// Words that open an English question: a question of four words or more
/// that ends on none of the unfinished words is complete ("what are your
/// prices for braiding", "where are you located"), punctuated or not.
const QUESTION_OPENERS: &[&str] = &["what", "where", "how", "when", "which", "who", "why"];

/// Spoken digits (English and Swahili) and bare numerals.
const DIGITS: &[&str] = &[
    "zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "double",
    "triple", "sifuri", "moja", "mbili", "tatu", "nne", "tano", "sita", "saba", "nane", "tisa",
];

/// Words that say digits are a phone number (or other long code) coming.
const NUMBER_CONTEXT: &[&str] = &[
    "number", "phone", "namba", "nambari", "simu", "mpesa", "m-pesa", "code", "account",
];

/// Lower-case a word and strip outer punctuation, into `buf` (reused).
pub fn normalise_into(word: &str, buf: &mut String) {
    buf.clear();
    let trimmed = word.trim_matches(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-'));
    let trimmed = trimmed.trim_matches(|c: char| c == '\'' || c == '-');
    for c in trimmed.chars() {
        buf.extend(c.to_lowercase());
    }
}

/// The word ends a sentence (. ? !) as the recogniser punctuated it.
pub fn ends_sentence(word: &str) -> bool {
    word.trim_end_matches(['"', '\'', ')'])
        .ends_with(['.', '?', '!'])
}

pub fn is_backchannel(norm: &str) -> bool {
    BACKCHANNELS.contains(&norm)
}

pub fn is_stop_word(norm: &str) -> bool {
    STOP_WORDS.contains(&norm)
}

pub fn is_unfinished_ending(norm: &str) -> bool {
    UNFINISHED.contains(&norm)
}

pub fn is_complete_ending(norm: &str) -> bool {
    COMPLETE.contains(&norm)
}

pub fn is_number_context(norm: &str) -> bool {
    NUMBER_CONTEXT.contains(&norm)
}

/// How many digits a spoken or written token stands for (0 if none).
pub fn digit_count(norm: &str) -> u32 {
    if !norm.is_empty() && norm.chars().all(|c| c.is_ascii_digit()) {
        return norm.len() as u32;
    }
    match norm {
        "double" | "triple" => 0,
        d if DIGITS.contains(&d) => 1,
        _ => 0,
    }
}

/// Multiplier words ("double seven") add digits to the next token.
pub fn digit_multiplier(norm: &str) -> u32 {
    match norm {
        "double" => 2,
        "triple" => 3,
        _ => 1,
    }
}

/// How a (partial) transcript of a caller turn ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// A closing word or sentence punctuation: end the turn soon.
    Complete,
    /// Nothing either way.
    Neutral,
    /// A connective, a hesitation or a half-said number: wait longer.
    Unfinished,
}

/// Judge a turn's words (normalised, in order) plus whether the recogniser
/// ended the last one with sentence punctuation. `expect_digits` is the
/// dialog's hint that a number or date is being given.
pub fn judge_completion<'a>(
    words: impl DoubleEndedIterator<Item = &'a str> + Clone,
    last_punctuated: bool,
    expect_digits: bool,
) -> Completion {
    let Some(last) = words.clone().next_back() else {
        return Completion::Neutral;
    };
    // Trailing digit run: a phone number is 10 digits (07..) or 12 (2547..).
    let mut digits = 0u32;
    let mut last_count = 0u32;
    let mut in_run = true;
    let mut context = expect_digits;
    for w in words.clone().rev() {
        let d = digit_count(w);
        let m = digit_multiplier(w);
        if in_run && (d > 0 || m > 1) {
            // Walking backwards: "double five" repeats the token after it.
            digits += d + (m - 1) * last_count;
            last_count = d;
            continue;
        }
        in_run = false;
        if is_number_context(w) {
            context = true;
        }
    }
    if digits > 0 && context {
        return if digits == 10 || digits == 12 {
            Completion::Complete
        } else {
            Completion::Unfinished
        };
    }
    if last_punctuated {
        return Completion::Complete;
    }
    if is_unfinished_ending(last) || ends_with_hesitation(words.clone()) {
        return Completion::Unfinished;
    }
    if expect_digits {
        return Completion::Unfinished;
    }
    if is_complete_ending(last) {
        return Completion::Complete;
    }
    // "hello what are your prices for braiding": a question opened within
    // the first three words, with three or more after its opener.
    let total = words.clone().count();
    let opener = words
        .clone()
        .take(3)
        .position(|w| QUESTION_OPENERS.contains(&w));
    if opener.is_some_and(|at| total >= at + 4) {
        return Completion::Complete;
    }
    Completion::Neutral
}

fn ends_with_hesitation<'a>(words: impl DoubleEndedIterator<Item = &'a str>) -> bool {
    let mut it = words.rev();
    let (Some(a), Some(b)) = (it.next(), it.next()) else {
        return false;
    };
    matches!(
        (b, a),
        ("me", "think") | ("me", "see") | ("ngoja", "nione") | ("hebu", "nione")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(s: &str) -> Completion {
        let mut norm = Vec::new();
        let mut buf = String::new();
        for w in s.split_whitespace() {
            normalise_into(w, &mut buf);
            norm.push(buf.clone());
        }
        let last_p = s.split_whitespace().last().is_some_and(ends_sentence);
        judge_completion(norm.iter().map(String::as_str), last_p, false)
    }

    #[test]
    fn endings() {
        assert_eq!(judge("I'd like a haircut on"), Completion::Unfinished);
        assert_eq!(judge("Nataka kuja na"), Completion::Unfinished);
        assert_eq!(judge("Let me think"), Completion::Unfinished);
        assert_eq!(judge("on Friday"), Completion::Complete);
        assert_eq!(judge("Yes, that is correct."), Completion::Complete);
        assert_eq!(judge("my appointment"), Completion::Neutral);
        assert_eq!(
            judge("My phone number is zero seven two two"),
            Completion::Unfinished
        );
        assert_eq!(
            judge("My phone number is zero seven two two three four five six seven eight"),
            Completion::Complete
        );
        assert_eq!(
            judge("Nambari yangu ni sifuri saba mbili"),
            Completion::Unfinished
        );
        assert_eq!(
            judge("namba ni 0722 double five 12"),
            Completion::Unfinished
        );
        assert_eq!(
            judge("namba ni 0722 double five 123 4"),
            Completion::Complete
        );
        assert_eq!(judge(""), Completion::Neutral);
        // Questions end on their question word or are whole questions.
        assert_eq!(judge("bei ya rasta ni ngapi"), Completion::Complete);
        assert_eq!(
            judge("Hello what are your prices for braiding"),
            Completion::Complete
        );
        assert_eq!(judge("what are your prices for"), Completion::Unfinished);
    }

    #[test]
    fn word_classes() {
        let mut b = String::new();
        normalise_into("Okay,", &mut b);
        assert!(is_backchannel(&b));
        normalise_into("\"Hapana!\"", &mut b);
        assert!(is_stop_word(&b));
        assert!(ends_sentence("then."));
        assert!(!ends_sentence("then,"));
        assert_eq!(digit_count("0722"), 4);
        assert_eq!(digit_count("tisa"), 1);
    }
}
