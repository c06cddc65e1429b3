//! Normalisation of customer text into tokens, and per-turn language
//! detection. Customers type fast on phones and mix English and Swahili in
//! one sentence, so everything downstream works on lower-cased tokens with
//! punctuation stripped, abbreviations and misspellings read into the
//! shared vocabulary ([`super::lexicon`]), and keyword checks tolerate one
//! typo in long words.

use serde::{Deserialize, Serialize};

use super::lexicon;

pub use crate::core::ids::Lang;

/// What one turn was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DetectedLang {
    En,
    Sw,
    Mixed,
    /// No word of either lexicon (digits only, emoji, a name).
    Unknown,
}

/// The text of one turn, normalised once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    words: Vec<String>,
    uncertain_day: bool,
}

impl Tokens {
    /// The words of a customer's turn, normalised: lower case, punctuation
    /// dropped, fillers removed, abbreviations, glued and split words and
    /// unambiguous misspellings read as the words they stand for.
    pub fn new(text: &str) -> Tokens {
        let n = lexicon::normalise(raw_words(text));
        Tokens {
            words: n.words,
            uncertain_day: n.uncertain_day,
        }
    }

    /// The words as written, only lower-cased and without punctuation: for
    /// names (of services, staff, knowledge snippets) rather than customers.
    pub fn plain(text: &str) -> Tokens {
        Tokens {
            words: raw_words(text),
            uncertain_day: false,
        }
    }

    /// Tokens from words already normalised (a piece of another turn).
    pub fn from_words(words: Vec<String>) -> Tokens {
        Tokens {
            words,
            uncertain_day: false,
        }
    }

    /// Whether the turn had a word that looked like a weekday or a relative
    /// day but could not be read as exactly one ("jumat", a misspelling as
    /// close to Tuesday as to Thursday): ask which day rather than guess.
    pub fn uncertain_day(&self) -> bool {
        self.uncertain_day
    }

    pub fn words(&self) -> &[String] {
        &self.words
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// The word at `i`, or "" past the end.
    pub fn at(&self, i: usize) -> &str {
        self.words.get(i).map(String::as_str).unwrap_or("")
    }

    /// Whether `keyword` (one word or a space-separated phrase) occurs, with
    /// one typo allowed per word of six letters or more.
    pub fn has(&self, keyword: &str) -> bool {
        self.find(keyword).is_some()
    }

    pub fn has_any(&self, keywords: &[&str]) -> bool {
        keywords.iter().any(|k| self.has(k))
    }

    /// The index of the first word of `keyword` in the text.
    pub fn find(&self, keyword: &str) -> Option<usize> {
        let parts: Vec<&str> = keyword.split_whitespace().collect();
        if parts.is_empty() || parts.len() > self.words.len() {
            return None;
        }
        (0..=self.words.len() - parts.len()).find(|&start| {
            parts
                .iter()
                .enumerate()
                .all(|(k, p)| word_matches(&self.words[start + k], p))
        })
    }
}

/// Lower-cased words with punctuation dropped, keeping separators inside
/// times and dates ("14:30", "10.30", "12/6") and a leading '+'.
fn raw_words(text: &str) -> Vec<String> {
    let mut cleaned = String::with_capacity(text.len());
    let lower = text.to_lowercase();
    let chars: Vec<char> = lower.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let keep = c.is_alphanumeric()
                || (c == '+' && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit()))
                // Keep a ':' or '.' between digits (14:30, 10.30) and '/'
                // in dates (12/6).
                || ((c == ':' || c == '.' || c == '/')
                    && i > 0
                    && chars[i - 1].is_ascii_digit()
                    && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit()));
        let c = match c {
            'á' | 'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' | 'ĩ' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' | 'ũ' => 'u',
            other => other,
        };
        cleaned.push(if keep { c } else { ' ' });
    }
    let mut words: Vec<String> = cleaned.split_whitespace().map(str::to_owned).collect();
    // "morning! do u have a slot …": a part of the day said alone before
    // the rest is a greeting ("good morning"), not the time asked for.
    let opening = lower.trim_start();
    if let Some(part) = ["morning", "mornin", "evening", "afternoon"]
        .into_iter()
        .find(|p| opening.starts_with(p))
        && opening[part.len()..].starts_with(['!', ',', '.'])
        && words.len() > 1
    {
        words.insert(0, "good".to_owned());
    }
    words
}

/// Exact match, or one edit (a swap counts as one) away for words of six
/// letters or more on both sides, so "tomorow" still means tomorrow but
/// "there" never means "where".
pub fn word_matches(word: &str, keyword: &str) -> bool {
    if word == keyword {
        return true;
    }
    // Byte lengths first (a character is at most four bytes): most pairs
    // stop here without counting characters.
    if word.len() < 6 || keyword.len() < 6 || word.len().abs_diff(keyword.len()) > 4 {
        return false;
    }
    // The first letter is never the typo: in Swahili it carries the
    // subject and the polarity ("nitakuja" I will come, "sitakuja" I will
    // not come; "nitaweza", "sitaweza").
    if word.chars().next() != keyword.chars().next() {
        return false;
    }
    let (wl, kl) = (word.chars().count(), keyword.chars().count());
    // One edit changes the length by at most one. A real word is no typo
    // of another ("I will not manage the gel nails" asks for no manager),
    // but a plural is its word ("bookings").
    let plural = word.strip_suffix('s') == Some(keyword) || keyword.strip_suffix('s') == Some(word);
    wl >= 6
        && kl >= 6
        && wl.abs_diff(kl) <= 1
        && strsim::osa_distance(word, keyword) <= 1
        && (plural || !lexicon::is_known(word))
}

const SW_WORDS: &[&str] = &[
    "nataka",
    "ningependa",
    "naomba",
    "nipe",
    "nipatie",
    "miadi",
    "kesho",
    "leo",
    "keshokutwa",
    "kutwa",
    "saa",
    "asubuhi",
    "mchana",
    "jioni",
    "usiku",
    "alfajiri",
    "habari",
    "jambo",
    "hujambo",
    "sijambo",
    "mambo",
    "niaje",
    "vipi",
    "asante",
    "asanteni",
    "ndiyo",
    "ndio",
    "hapana",
    "sawa",
    "tafadhali",
    "bei",
    "gani",
    "ngapi",
    "nini",
    "wapi",
    "lini",
    "je",
    "kuweka",
    "weka",
    "kubook",
    "nibook",
    "kupanga",
    "panga",
    "kufuta",
    "futa",
    "ghairi",
    "kughairi",
    "sitaki",
    "badilisha",
    "kubadilisha",
    "hamisha",
    "kuhamisha",
    "sogeza",
    "kusogeza",
    "nywele",
    "kusuka",
    "kunyoa",
    "kucha",
    "huduma",
    "mtu",
    "binadamu",
    "ongea",
    "kuongea",
    "zungumza",
    "kuzungumza",
    "na",
    "ya",
    "wa",
    "kwa",
    "ni",
    "mimi",
    "wewe",
    "niko",
    "iko",
    "mko",
    "mnafungua",
    "mnafunga",
    "fungua",
    "funga",
    "wiki",
    "ijayo",
    "jumatatu",
    "jumanne",
    "jumatano",
    "alhamisi",
    "ijumaa",
    "jumamosi",
    "jumapili",
    "sijui",
    "naweza",
    "unaweza",
    "mnaweza",
    "pesa",
    "shilingi",
    "elfu",
    "mia",
    "moja",
    "mbili",
    "tatu",
    "nne",
    "tano",
    "sita",
    "saba",
    "nane",
    "tisa",
    "kumi",
    "nusu",
    "robo",
    "kasorobo",
    "hiyo",
    "hii",
    "hizo",
    "yangu",
    "wangu",
    "langu",
    "zangu",
    "mimi",
    "sasa",
    "poa",
    "shikamoo",
    "salama",
    "karibu",
    "mwisho",
    "kwanza",
    "pia",
    "lakini",
    "kama",
    "tu",
    "bado",
    "hakuna",
    "kuna",
    "mna",
    "mnafanya",
    "nafasi",
    "tarehe",
    "mwezi",
    "jina",
    "langu",
    "kuja",
    "nitakuja",
    "sitakuja",
    "sitaweza",
    "nataka",
    "naenda",
    "wapi",
    "mahali",
    "meneja",
    "mhudumu",
    "gharama",
    "ndugu",
    "dada",
    "kaka",
    "mama",
    "bwana",
    "nisaidie",
    "msaada",
    "tena",
    "ingine",
    "nyingine",
    "siku",
    "muda",
    "sasa",
    "baadaye",
    "mapema",
    "uko",
    "nyinyi",
    "mko",
    "wazi",
    "mbona",
    "kwa nini",
    "kitu",
    "vitu",
    "kidogo",
    "sana",
    "zaidi",
    "naam",
    "eeh",
    // Sheng
    "fiti",
    "freshi",
    "msee",
    "budah",
    "manze",
    "bana",
    "rada",
    "mbao",
    "ashuu",
    "sare",
    "mzae",
    "maze",
    "nare",
    "ndai",
    "mresh",
];

/// English words Sheng and Swahili speakers use as their own ("fiti book",
/// "poa confirm", "ok"): they do not make a turn English; a turn of only
/// these keeps the conversation's language.
const LOANWORDS: &[&str] = &[
    "ok", "okay", "k", "kk", "book", "confirm", "cancel", "sure", "fine", "cool", "pls", "plz",
    "please",
];

const EN_WORDS: &[&str] = &[
    "i",
    "want",
    "would",
    "like",
    "to",
    "book",
    "booking",
    "appointment",
    "tomorrow",
    "today",
    "the",
    "a",
    "an",
    "please",
    "what",
    "how",
    "much",
    "price",
    "prices",
    "cost",
    "when",
    "open",
    "opening",
    "close",
    "closing",
    "is",
    "are",
    "you",
    "can",
    "could",
    "cancel",
    "reschedule",
    "move",
    "change",
    "yes",
    "no",
    "thanks",
    "thank",
    "hello",
    "hi",
    "hey",
    "for",
    "at",
    "on",
    "my",
    "me",
    "time",
    "pm",
    "am",
    "morning",
    "afternoon",
    "evening",
    "night",
    "tonight",
    "next",
    "this",
    "do",
    "does",
    "have",
    "get",
    "need",
    "some",
    "with",
    "and",
    "or",
    "of",
    "in",
    "where",
    "located",
    "location",
    "address",
    "services",
    "service",
    "offer",
    "hours",
    "human",
    "person",
    "someone",
    "talk",
    "speak",
    "agent",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "hair",
    "nails",
    "cut",
    "haircut",
    "braids",
    "please",
    "okay",
    "ok",
    "sure",
    "fine",
    "good",
    "great",
    "that",
    "thats",
    "gud",
    "fyn",
    "go",
    "ahead",
    "ahed",
    "it",
    "be",
    "will",
    "there",
    "any",
    "free",
    "available",
    "slot",
    "slots",
    "day",
    "week",
    "instead",
    "another",
    "different",
    "later",
    "earlier",
    "not",
    "don't",
    "dont",
    "sorry",
    "works",
    "work",
    "perfect",
    "confirm",
    "yeah",
    "yep",
    "nope",
    "much",
    "charge",
    "your",
    "we",
    "our",
    "us",
    "they",
    "name",
    "is",
    "it's",
    "its",
    "just",
    "also",
    "so",
];

/// A Swahili word: in the lexicon, or a verb by its shape the lexicon does
/// not hold ("nitajaribu", "tumefika", "kuwekewa"): a subject and tense
/// prefix, at least three more letters, a vowel at the end.
fn is_sw_word(w: &str) -> bool {
    if SW_WORDS.contains(&w) {
        return true;
    }
    const PREFIXES: &[&str] = &[
        "nita", "nime", "nili", "nina", "tuta", "tume", "tuli", "tuna", "wata", "wame", "wali",
        "wana", "mta", "mme", "mli", "mna", "ku",
    ];
    w.chars().all(|c| c.is_ascii_lowercase())
        && w.ends_with(['a', 'e', 'i', 'u'])
        && !EN_WORDS.contains(&w)
        && PREFIXES
            .iter()
            .any(|p| w.strip_prefix(p).is_some_and(|rest| rest.len() >= 3))
}

/// The words of a turn on each side (Swahili, English): loanwords and a
/// yes first ("ya book both") on neither.
fn side_counts(tokens: &Tokens) -> (usize, usize) {
    let mut sw = 0usize;
    let mut en = 0usize;
    // A verb read by its shape counts beside other words only: one word
    // alone ("nimelipa") keeps the chat's language.
    let shapes = tokens.len() > 1;
    for (i, w) in tokens.words().iter().enumerate() {
        // "ya book both": a yes first, not the Swahili "of".
        if i == 0 && matches!(w.as_str(), "ya" | "yah") {
            continue;
        }
        let is_sw = SW_WORDS.contains(&w.as_str()) || (shapes && is_sw_word(w));
        let is_en = EN_WORDS.contains(&w.as_str()) && !LOANWORDS.contains(&w.as_str());
        match (is_sw, is_en) {
            (true, false) => sw += 1,
            (false, true) => en += 1,
            _ => {}
        }
    }
    (sw, en)
}

/// Detects the language of one turn from the two lexicons. "Mixed" needs at
/// least two words of each side or a quarter of the recognised words.
pub fn detect(tokens: &Tokens) -> DetectedLang {
    let (sw, en) = side_counts(tokens);
    let total = sw + en;
    if total == 0 {
        return DetectedLang::Unknown;
    }
    let minor = sw.min(en);
    if minor >= 2 || (minor >= 1 && minor * 4 >= total) {
        DetectedLang::Mixed
    } else if sw > en {
        DetectedLang::Sw
    } else {
        DetectedLang::En
    }
}

/// Which language to answer a turn in: the turn's own language when clear;
/// for mixed turns the majority side; otherwise the channel's hint, then the
/// conversation's language so far.
pub fn reply_language(
    tokens: &Tokens,
    detected: DetectedLang,
    hint: Option<Lang>,
    previous: Lang,
) -> Lang {
    // "ya" (yes) is also a Swahili particle: alone, or with loanwords
    // only ("ya pls", "ok"), it keeps the conversation's language.
    let neutral = |w: &String| w == "ya" || w == "yah" || LOANWORDS.contains(&w.as_str());
    if !tokens.is_empty() && tokens.words().iter().all(neutral) {
        return hint.unwrap_or(previous);
    }
    match detected {
        DetectedLang::En => Lang::En,
        DetectedLang::Sw => Lang::Sw,
        DetectedLang::Mixed => {
            let (sw, en) = side_counts(tokens);
            match sw.cmp(&en) {
                std::cmp::Ordering::Greater => Lang::Sw,
                std::cmp::Ordering::Less => Lang::En,
                std::cmp::Ordering::Equal => hint.unwrap_or(previous),
            }
        }
        DetectedLang::Unknown => hint.unwrap_or(previous),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_times_and_drop_punctuation() {
        let t = Tokens::new("Hi! Kesho saa 14:30, or 10.30? 12/6 ok.");
        assert_eq!(
            t.words(),
            ["hi", "kesho", "saa", "14:30", "or", "10.30", "12/6", "ok"]
        );
    }

    #[test]
    fn keyword_matching_tolerates_one_typo_in_long_words() {
        let t = Tokens::new("I want to reshedule tomorow");
        assert!(t.has("reschedule"));
        assert!(t.has("tomorrow"));
        assert!(t.has("want to"));
        assert!(!t.has("to want"));
        let short = Tokens::new("on it");
        assert!(!short.has("no"));
        // A real word is no typo of another; a plural is its word.
        assert!(!Tokens::new("I will not manage the gel nails").has("manager"));
        assert!(Tokens::new("move one of my bookings").has("booking"));
    }

    #[test]
    fn language_detection_table() {
        let cases = [
            ("I would like to book a haircut tomorrow", DetectedLang::En),
            ("Nataka kuweka miadi kesho asubuhi", DetectedLang::Sw),
            ("Habari, naomba bei ya kusuka", DetectedLang::Sw),
            ("Nataka to book braids kesho at 2pm", DetectedLang::Mixed),
            ("Sawa, book me for kesho please", DetectedLang::Mixed),
            ("12345", DetectedLang::Unknown),
            ("What time do you open?", DetectedLang::En),
            ("Mnafungua saa ngapi?", DetectedLang::Sw),
            ("fiti book", DetectedLang::Sw),
            ("poa confirm pls", DetectedLang::Sw),
            ("ok", DetectedLang::Unknown),
            ("ok book it", DetectedLang::En),
        ];
        for (text, want) in cases {
            assert_eq!(detect(&Tokens::new(text)), want, "{text}");
        }
    }

    #[test]
    fn reply_language_follows_majority_then_hint_then_history() {
        let t = Tokens::new("Nataka kuweka miadi kesho please thank you");
        let d = detect(&t);
        assert_eq!(d, DetectedLang::Mixed);
        assert_eq!(reply_language(&t, d, None, Lang::En), Lang::Sw);
        let digits = Tokens::new("2");
        assert_eq!(
            reply_language(&digits, detect(&digits), None, Lang::Sw),
            Lang::Sw
        );
        assert_eq!(
            reply_language(&digits, detect(&digits), Some(Lang::En), Lang::Sw),
            Lang::En
        );
        for (text, previous) in [("ya pls", Lang::En), ("ok", Lang::Sw), ("ya", Lang::Sw)] {
            let t = Tokens::new(text);
            assert_eq!(
                reply_language(&t, detect(&t), None, previous),
                previous,
                "{text}"
            );
        }
        let t = Tokens::new("fiti book");
        assert_eq!(reply_language(&t, detect(&t), None, Lang::En), Lang::Sw);
        // A yes first is no Swahili "of"; Swahili verbs the lexicon does
        // not hold are read by their shape.
        let t = Tokens::new("ya book both");
        assert_eq!(reply_language(&t, detect(&t), None, Lang::En), Lang::En);
        for text in [
            "ok nitajaribu kufika on time. asante",
            "sorry tumechelewa kidogo",
        ] {
            let t = Tokens::new(text);
            assert_eq!(
                reply_language(&t, detect(&t), None, Lang::En),
                Lang::Sw,
                "{text}"
            );
        }
        for w in ["kudos", "nitrate", "tunafish", "wanted", "mmm"] {
            assert!(!is_sw_word(w), "{w}");
        }
    }
}
