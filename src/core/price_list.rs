//! Reading a price list as a salon would paste it ("Box braids 4500 4hrs",
//! "Kusuka mabutu - 1,200/= (1.5 hrs)", "Manicure 800 45min", "Pedicure
//! Ksh 1,000 saa 1") or upload it as CSV, into services with a confidence
//! per field, and matching each to an existing service by edit distance
//! (for re-imports). Pure: text in, rows out.
//!
//! Money is in minor units (cents of the tenant's currency, KES by
//! default). A line without a name or a price is rejected with a reason; a
//! line without a duration gets [`DEFAULT_DURATION_MIN`] at low confidence.
//! A line with no digits is a heading ("NAILS", "Nywele:") and gives the
//! following lines their category.

use serde::Serialize;

/// The duration given to a line that names none.
pub const DEFAULT_DURATION_MIN: i32 = 60;

/// One extracted value and how sure the reader is of it (0 to 1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field<T> {
    pub value: Option<T>,
    pub confidence: f32,
}

impl<T> Field<T> {
    fn some(value: T, confidence: f32) -> Self {
        Field {
            value: Some(value),
            confidence,
        }
    }

    fn none() -> Self {
        Field {
            value: None,
            confidence: 0.0,
        }
    }
}

/// A service read from one line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExtractedService {
    /// 1-based line of the input.
    pub line: usize,
    pub name: Field<String>,
    pub price_minor: Field<i64>,
    pub duration_min: Field<i32>,
    pub category: Field<String>,
    /// The existing service this one is taken to be (index into the
    /// `existing` names given), with the name similarity as confidence.
    pub matched: Option<(usize, f32)>,
}

/// A line that gave no service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejected {
    pub line: usize,
    pub reason: &'static str,
}

/// What was read from a price list.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Extraction {
    pub services: Vec<ExtractedService>,
    pub rejected: Vec<Rejected>,
}

/// How the list came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Lines as typed or pasted.
    Text,
    /// Comma- (or semicolon-) separated values, with or without a header.
    Csv,
}

/// Similarity (normalized Levenshtein on folded names) from which an
/// extracted name is taken to be an existing service.
pub const MATCH_THRESHOLD: f64 = 0.8;

/// Reads `input`; `existing` are the tenant's current service names.
pub fn extract(input: &str, format: Format, existing: &[&str]) -> Extraction {
    let mut out = Extraction::default();
    let mut heading: Option<String> = None;
    let mut csv_header: Option<CsvColumns> = None;
    for (i, raw) in input.lines().enumerate() {
        let line = i + 1;
        let text = raw.trim().trim_start_matches('\u{feff}');
        if text.is_empty() {
            continue;
        }
        let parsed = match format {
            Format::Csv => {
                let cells = split_csv(text);
                if csv_header.is_none()
                    && nothing_read_yet(&out)
                    && let Some(h) = CsvColumns::from_header(&cells)
                {
                    csv_header = Some(h);
                    continue;
                }
                match &csv_header {
                    Some(h) => h.read(&cells, line),
                    None => read_line(&cells.join(" "), line),
                }
            }
            Format::Text => read_line(text, line),
        };
        match parsed {
            Line::Heading(h) => heading = Some(h),
            Line::Service(mut s) => {
                if s.category.value.is_none()
                    && let Some(h) = &heading
                {
                    s.category = Field::some(h.clone(), 0.8);
                }
                s.matched = best_match(s.name.value.as_deref().unwrap_or(""), existing);
                out.services.push(s);
            }
            Line::Rejected(reason) => out.rejected.push(Rejected { line, reason }),
        }
    }
    out
}

/// True until anything has been read (the header can only be first).
fn nothing_read_yet(out: &Extraction) -> bool {
    out.services.is_empty() && out.rejected.is_empty()
}

enum Line {
    Heading(String),
    Service(ExtractedService),
    Rejected(&'static str),
}

/// The existing service most like `name`, if similar enough.
pub fn best_match(name: &str, existing: &[&str]) -> Option<(usize, f32)> {
    let name = fold(name);
    if name.is_empty() {
        return None;
    }
    existing
        .iter()
        .enumerate()
        .map(|(i, e)| (i, strsim::normalized_levenshtein(&name, &fold(e))))
        .filter(|(_, sim)| *sim >= MATCH_THRESHOLD)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, sim)| (i, sim as f32))
}

/// Lowercase, letters and digits only, single spaces.
fn fold(s: &str) -> String {
    s.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

// ---- one line of text ----

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Num(f64),
    Currency,
    Dur(i32),
    Sep,
}

const CURRENCIES: &[&str] = &["kes", "ksh", "kshs", "sh", "shs", "bob", "/="];

fn unit_minutes(u: &str) -> Option<f64> {
    match u {
        "h" | "hr" | "hrs" | "hour" | "hours" | "saa" | "masaa" => Some(60.0),
        "m" | "min" | "mins" | "minute" | "minutes" | "dk" | "dak" | "dakika" => Some(1.0),
        _ => None,
    }
}

/// Units that come before their number in Swahili ("saa 2", "dakika 45").
fn unit_before(u: &str) -> bool {
    matches!(u, "saa" | "masaa" | "dakika" | "dk")
}

/// "1,200" -> 1200, "1.5" -> 1.5, "4.5k" -> 4500; `None` if not a number.
fn number(s: &str) -> Option<f64> {
    let (s, mult) = match s.strip_suffix('k') {
        Some(rest) if !rest.is_empty() => (rest, 1000.0),
        _ => (s, 1.0),
    };
    if s.is_empty()
        || !s
            .chars()
            .all(|c| c.is_ascii_digit() || c == ',' || c == '.')
    {
        return None;
    }
    if !s.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    // Thousands commas ("1,200", "12,500"); a comma with other than three
    // digits after it is a decimal comma ("1,5").
    let normal = if s.contains(',') {
        let groups: Vec<&str> = s.split(',').collect();
        if groups[1..]
            .iter()
            .all(|g| g.len() == 3 || (g.len() > 3 && g.as_bytes()[3] == b'.'))
        {
            s.replace(',', "")
        } else {
            s.replacen(',', ".", 1)
        }
    } else {
        s.to_owned()
    };
    normal.parse::<f64>().ok().map(|n| n * mult)
}

/// Splits a word like "4hrs", "45min", "ksh1,200", "1,200/=", "1h30" into
/// tokens.
fn split_word(w: &str, out: &mut Vec<Tok>) {
    let lower = w.to_lowercase();
    let lower = lower.trim_matches(|c: char| matches!(c, '(' | ')' | '[' | ']' | ':' | ';'));
    if lower.is_empty() {
        return;
    }
    if matches!(
        lower,
        "-" | "–" | "—" | "@" | "|" | "=" | "." | "/" | "x" | "*"
    ) {
        out.push(Tok::Sep);
        return;
    }
    if CURRENCIES.contains(&lower) {
        out.push(Tok::Currency);
        return;
    }
    // Currency glued before or after the amount.
    for c in CURRENCIES {
        if let Some(rest) = lower
            .strip_prefix(c)
            .filter(|r| number(r.trim_end_matches('.')).is_some())
        {
            out.push(Tok::Currency);
            out.push(Tok::Num(number(rest.trim_end_matches('.')).unwrap_or(0.0)));
            return;
        }
        if let Some(rest) = lower.strip_suffix(c).filter(|r| number(r).is_some()) {
            out.push(Tok::Num(number(rest).unwrap_or(0.0)));
            out.push(Tok::Currency);
            return;
        }
    }
    if let Some(n) = number(lower.trim_end_matches(['.', ','])) {
        out.push(Tok::Num(n));
        return;
    }
    // A duration glued to its number: "4hrs", "1.5h", "45min", "1h30",
    // "1h30min".
    if let Some(m) = glued_duration(lower) {
        out.push(Tok::Dur(m));
        return;
    }
    out.push(Tok::Word(
        w.trim_matches(|c: char| matches!(c, '(' | ')' | '[' | ']' | ':' | ';' | ','))
            .to_owned(),
    ));
}

fn glued_duration(s: &str) -> Option<i32> {
    let digits_end = s.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    if digits_end == 0 {
        return None;
    }
    let n: f64 = s[..digits_end].parse().ok()?;
    let rest = &s[digits_end..];
    let unit_end = rest
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(rest.len());
    let per = unit_minutes(&rest[..unit_end])?;
    let mut minutes = n * per;
    let tail = &rest[unit_end..];
    if !tail.is_empty() {
        // "1h30" or "1h30min": the minutes after the hours.
        if per != 60.0 {
            return None;
        }
        let t_end = tail
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(tail.len());
        let extra: f64 = tail[..t_end].parse().ok()?;
        let t_unit = &tail[t_end..];
        if !(t_unit.is_empty() || unit_minutes(t_unit) == Some(1.0)) {
            return None;
        }
        minutes += extra;
    }
    Some(minutes.round() as i32)
}

fn tokens(text: &str) -> Vec<Tok> {
    // "/=" is a currency mark even when glued: "1,200/=".
    let spaced = text
        .replace("/=", " /= ")
        .replace("/-", " /= ")
        .replace(['(', ')'], " ")
        .replace(" - ", " | ");
    let mut out = Vec::new();
    for w in spaced.split_whitespace() {
        split_word(w, &mut out);
    }
    // Join a number and a following (or, for Swahili units, preceding)
    // duration unit; and "1 hr 30 min".
    let mut joined: Vec<Tok> = Vec::new();
    let mut i = 0;
    while i < out.len() {
        let unit = |t: &Tok| match t {
            Tok::Word(w) => {
                unit_minutes(&w.to_lowercase()).map(|m| (m, unit_before(&w.to_lowercase())))
            }
            _ => None,
        };
        match (&out[i], out.get(i + 1)) {
            // "dakika 45" after a price: the unit goes with the number after it.
            (Tok::Num(n), Some(next))
                if unit(next).is_some_and(|(_, before)| {
                    !(before && matches!(out.get(i + 2), Some(Tok::Num(_))))
                }) =>
            {
                let (per, _) = unit(next).unwrap_or((1.0, false));
                let minutes = (n * per).round() as i32;
                match joined.last_mut() {
                    // "1 hr 30 min": add to the hours just read.
                    Some(Tok::Dur(prev)) if per == 1.0 => *prev += minutes,
                    _ => joined.push(Tok::Dur(minutes)),
                }
                i += 2;
            }
            (t, Some(Tok::Num(n))) if unit(t).is_some_and(|(_, before)| before) => {
                let (per, _) = unit(t).unwrap_or((1.0, false));
                joined.push(Tok::Dur((n * per).round() as i32));
                i += 2;
            }
            (Tok::Dur(m), _) => {
                match joined.last_mut() {
                    Some(Tok::Dur(prev)) if *m < 60 => *prev += m,
                    _ => joined.push(Tok::Dur(*m)),
                }
                i += 1;
            }
            (t, _) => {
                joined.push(t.clone());
                i += 1;
            }
        }
    }
    joined
}

const CATEGORIES: &[(&str, &[&str])] = &[
    (
        "braids",
        &[
            "braid",
            "braids",
            "kusuka",
            "mabutu",
            "twist",
            "twists",
            "cornrow",
            "cornrows",
            "rasta",
            "locs",
            "dreadlocks",
            "knotless",
            "lines",
            "yebo",
        ],
    ),
    (
        "nails",
        &[
            "manicure", "pedicure", "nail", "nails", "gel", "acrylic", "acrylics", "kucha",
            "polish",
        ],
    ),
    (
        "hair",
        &[
            "wash",
            "blowdry",
            "blow",
            "relaxer",
            "retouch",
            "weave",
            "wig",
            "haircut",
            "cut",
            "kinyozi",
            "shave",
            "nywele",
            "kuosha",
            "treatment",
            "steam",
            "dye",
            "colour",
            "color",
            "fade",
        ],
    ),
    (
        "beauty",
        &[
            "facial",
            "makeup",
            "make-up",
            "lashes",
            "brows",
            "eyebrow",
            "eyebrows",
            "waxing",
            "wax",
            "threading",
            "uso",
        ],
    ),
    ("spa", &["massage", "spa", "sauna", "scrub"]),
];

/// The category a service name suggests, by keyword.
pub fn category_of(name: &str) -> Option<&'static str> {
    let folded = fold(name);
    let words: Vec<&str> = folded.split(' ').collect();
    CATEGORIES
        .iter()
        .find(|(_, keys)| keys.iter().any(|k| words.contains(k)))
        .map(|(c, _)| *c)
}

fn read_line(text: &str, line: usize) -> Line {
    if !text.chars().any(|c| c.is_ascii_digit()) {
        let heading = text
            .trim_matches(|c: char| !c.is_alphanumeric())
            .trim()
            .to_lowercase();
        return if heading.is_empty() || heading.chars().count() > 50 {
            Line::Rejected("no price")
        } else {
            Line::Heading(heading)
        };
    }
    let toks = tokens(text);
    // The name: the words before the first number, duration or currency.
    let first_value = toks
        .iter()
        .position(|t| matches!(t, Tok::Num(_) | Tok::Dur(_) | Tok::Currency))
        .unwrap_or(toks.len());
    let name_words: Vec<&str> = toks[..first_value]
        .iter()
        .filter_map(|t| match t {
            Tok::Word(w) => Some(w.as_str()),
            _ => None,
        })
        .collect();
    // Words after the values ("Box braids 4500 4hrs medium") are kept in
    // the name only if nothing came before.
    let name = name_words.join(" ");
    let name = name
        .trim_matches(|c: char| !c.is_alphanumeric() && c != ')')
        .trim();
    if name.is_empty() || !name.chars().any(char::is_alphabetic) {
        return Line::Rejected("no name");
    }
    let name_conf = if name.chars().count() <= 80 { 0.9 } else { 0.5 };
    // The price: a number next to a currency mark; else the largest
    // number left; bare numbers below 50 are not prices.
    let mut price: Option<(f64, f32)> = None;
    for (i, t) in toks.iter().enumerate() {
        if let Tok::Num(n) = t {
            let marked = matches!(toks.get(i + 1), Some(Tok::Currency))
                || (i > 0 && matches!(toks[i - 1], Tok::Currency));
            if marked {
                price = Some((*n, 0.95));
                break;
            }
        }
    }
    if price.is_none() {
        price = toks
            .iter()
            .filter_map(|t| match t {
                Tok::Num(n) if *n >= 50.0 => Some(*n),
                _ => None,
            })
            .max_by(f64::total_cmp)
            .map(|n| (n, 0.75));
    }
    let Some((price, price_conf)) = price else {
        return Line::Rejected("no price");
    };
    if !(0.0..=10_000_000.0).contains(&price) {
        return Line::Rejected("price out of range");
    }
    let durations: Vec<i32> = toks
        .iter()
        .filter_map(|t| match t {
            Tok::Dur(m) => Some(*m),
            _ => None,
        })
        .collect();
    let duration = match durations.as_slice() {
        [m] if (5..=24 * 60).contains(m) => Field::some(*m, 0.9),
        // A range ("2-3 hrs" reads as two): the longer, less sure.
        [.., m] if (5..=24 * 60).contains(m) => Field::some(*m, 0.6),
        _ => Field::some(DEFAULT_DURATION_MIN, 0.2),
    };
    let category = match category_of(name) {
        Some(c) => Field::some(c.to_owned(), 0.7),
        None => Field::none(),
    };
    Line::Service(ExtractedService {
        line,
        name: Field::some(name.to_owned(), name_conf),
        price_minor: Field::some((price * 100.0).round() as i64, price_conf),
        duration_min: duration,
        category,
        matched: None,
    })
}

// ---- CSV ----

/// Splits one CSV line on commas (or semicolons when there is no comma
/// outside quotes), honouring double quotes.
fn split_csv(line: &str) -> Vec<String> {
    let sep = if line.contains(';') && !outside_quotes_has(line, ',') {
        ';'
    } else {
        ','
    };
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == sep && !quoted => cells.push(std::mem::take(&mut cur).trim().to_owned()),
            c => cur.push(c),
        }
    }
    cells.push(cur.trim().to_owned());
    cells
}

fn outside_quotes_has(line: &str, want: char) -> bool {
    let mut quoted = false;
    for c in line.chars() {
        if c == '"' {
            quoted = !quoted;
        } else if c == want && !quoted {
            return true;
        }
    }
    false
}

/// Which CSV column holds what.
struct CsvColumns {
    name: usize,
    price: usize,
    duration: Option<usize>,
    category: Option<usize>,
}

impl CsvColumns {
    fn from_header(cells: &[String]) -> Option<Self> {
        let find = |keys: &[&str]| {
            cells.iter().position(|c| {
                let c = c.to_lowercase();
                keys.iter().any(|k| c.contains(k))
            })
        };
        Some(CsvColumns {
            name: find(&["name", "service", "huduma", "jina"])?,
            price: find(&["price", "bei", "cost", "amount", "kes", "ksh"])?,
            duration: find(&["duration", "time", "muda", "min", "hrs", "hours"]),
            category: find(&["category", "type", "aina", "group"]),
        })
    }

    fn read(&self, cells: &[String], line: usize) -> Line {
        let cell = |i: usize| cells.get(i).map(String::as_str).unwrap_or("");
        let name = cell(self.name).trim();
        if name.is_empty() || !name.chars().any(char::is_alphabetic) {
            return Line::Rejected("no name");
        }
        let price_toks = tokens(cell(self.price));
        let price = price_toks.iter().find_map(|t| match t {
            Tok::Num(n) => Some(*n),
            _ => None,
        });
        let Some(price) = price.filter(|p| (0.0..=10_000_000.0).contains(p)) else {
            return Line::Rejected("no price");
        };
        let duration = self.duration.map(|i| {
            let d = cell(i);
            let toks = tokens(d);
            match toks.as_slice() {
                [Tok::Dur(m)] => Some(*m),
                // A bare number in a duration column: minutes.
                [Tok::Num(n)] => Some(n.round() as i32),
                _ => None,
            }
        });
        let duration = match duration.flatten() {
            Some(m) if (5..=24 * 60).contains(&m) => Field::some(m, 0.95),
            _ => Field::some(DEFAULT_DURATION_MIN, 0.2),
        };
        let category = match self
            .category
            .map(cell)
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            Some(c) => Field::some(c.to_lowercase(), 0.95),
            None => match category_of(name) {
                Some(c) => Field::some(c.to_owned(), 0.7),
                None => Field::none(),
            },
        };
        Line::Service(ExtractedService {
            line,
            name: Field::some(name.to_owned(), 0.95),
            price_minor: Field::some((price * 100.0).round() as i64, 0.95),
            duration_min: duration,
            category,
            matched: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> ExtractedService {
        let out = extract(line, Format::Text, &[]);
        assert_eq!(out.rejected, vec![], "{line}");
        out.services
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("{line}"))
    }

    fn facts(line: &str) -> (String, i64, i32) {
        let s = one(line);
        (
            s.name.value.unwrap(),
            s.price_minor.value.unwrap(),
            s.duration_min.value.unwrap(),
        )
    }

    #[test]
    fn reads_lines_as_salons_write_them() {
        let cases: &[(&str, &str, i64, i32)] = &[
            ("Box braids 4500 4hrs", "Box braids", 4500, 240),
            (
                "Kusuka mabutu - 1,200/= (1.5 hrs)",
                "Kusuka mabutu",
                1200,
                90,
            ),
            ("Manicure 800 45min", "Manicure", 800, 45),
            ("Pedicure Ksh 1,000 1hr", "Pedicure", 1000, 60),
            ("Pedicure KES 1,000 1 hr", "Pedicure", 1000, 60),
            ("Kuosha nywele 500/= saa 1", "Kuosha nywele", 500, 60),
            ("Rasta - 2500/= masaa 3", "Rasta", 2500, 180),
            ("Gel nails @ 1500 (1h 30min)", "Gel nails", 1500, 90),
            (
                "Knotless braids: Ksh 6,500 - 5 hours",
                "Knotless braids",
                6500,
                300,
            ),
            ("Cornrows 1500 2h", "Cornrows", 1500, 120),
            ("Facial 2000 dakika 45", "Facial", 2000, 45),
            ("Blow dry 700 30 mins", "Blow dry", 700, 30),
            (
                "Massage (full body) 3,500 1hr30",
                "Massage full body",
                3500,
                90,
            ),
            ("Wash & set ksh800 1h", "Wash & set", 800, 60),
            ("Twists 3.5k 3hrs", "Twists", 3500, 180),
            (
                "Eyebrow threading 300/- 15min",
                "Eyebrow threading",
                300,
                15,
            ),
            (
                "Nywele za kusuka KES1200 2 hrs",
                "Nywele za kusuka",
                1200,
                120,
            ),
            (
                "Acrylic full set | 2,500 | 1 hr 30 min",
                "Acrylic full set",
                2500,
                90,
            ),
            ("Locs retouch 2000 1.5h", "Locs retouch", 2000, 90),
            ("Kinyozi 300 bob 20min", "Kinyozi", 300, 20),
        ];
        for (line, name, price, minutes) in cases {
            let (n, p, d) = facts(line);
            assert_eq!((n.as_str(), p, d), (*name, price * 100, *minutes), "{line}");
        }
    }

    #[test]
    fn confidence_says_what_was_guessed() {
        let marked = one("Manicure KES 800 45min");
        assert!(marked.price_minor.confidence > 0.9);
        let bare = one("Manicure 800 45min");
        assert!(bare.price_minor.confidence < marked.price_minor.confidence);
        let no_time = one("Manicure 800");
        assert_eq!(no_time.duration_min.value, Some(DEFAULT_DURATION_MIN));
        assert!(no_time.duration_min.confidence < 0.5);
        assert!(bare.duration_min.confidence > 0.8);
        assert_eq!(bare.category.value.as_deref(), Some("nails"));
        assert_eq!(one("Mystery thing 900").category.value, None);
    }

    #[test]
    fn headings_give_categories_and_junk_is_rejected() {
        let text = "HAIR\nBox braids 4500 4hrs\n\nNails:\nManicure 800 45min\n1500\n- 400 -\n";
        let out = extract(text, Format::Text, &[]);
        assert_eq!(out.services.len(), 2);
        assert_eq!(out.services[0].category.value.as_deref(), Some("braids"));
        // The heading fills in a category when the name gives none.
        let out2 = extract("Special\nMystery thing 900 1h", Format::Text, &[]);
        assert_eq!(out2.services[0].category.value.as_deref(), Some("special"));
        assert_eq!(
            out.rejected,
            vec![
                Rejected {
                    line: 6,
                    reason: "no name"
                },
                Rejected {
                    line: 7,
                    reason: "no name"
                }
            ]
        );
        let out3 = extract("Manicure 45min", Format::Text, &[]);
        assert_eq!(out3.rejected[0].reason, "no price");
        assert_eq!(out.services[1].line, 5);
    }

    #[test]
    fn matches_existing_services_by_edit_distance() {
        let existing = ["Box Braids", "Manicure", "Gel Nails"];
        let out = extract(
            "box braids 5000 4hrs\nManicur 900 45min\nPedicure 1000 1h",
            Format::Text,
            &existing,
        );
        assert_eq!(out.services[0].matched.map(|m| m.0), Some(0));
        assert!(out.services[0].matched.unwrap().1 > 0.99);
        assert_eq!(out.services[1].matched.map(|m| m.0), Some(1));
        assert!(out.services[1].matched.unwrap().1 < 1.0);
        assert_eq!(out.services[2].matched, None);
    }

    #[test]
    fn reads_csv_with_and_without_a_header() {
        let csv = "Service,Price (KES),Duration,Category\n\"Box braids, long\",\"4,500\",4hrs,Braids\nManicure,800,45,\n,300,10,\nPedicure,,60,\n";
        let out = extract(csv, Format::Csv, &[]);
        assert_eq!(out.services.len(), 2);
        let b = &out.services[0];
        assert_eq!(b.name.value.as_deref(), Some("Box braids, long"));
        assert_eq!(b.price_minor.value, Some(450_000));
        assert_eq!(b.duration_min.value, Some(240));
        assert_eq!(b.category.value.as_deref(), Some("braids"));
        assert_eq!(out.services[1].duration_min.value, Some(45));
        assert_eq!(out.services[1].category.value.as_deref(), Some("nails"));
        assert_eq!(out.rejected.len(), 2);
        let bare = extract("Manicure;800;45min\n", Format::Csv, &[]);
        assert_eq!(bare.services[0].price_minor.value, Some(80_000));
        assert_eq!(bare.services[0].duration_min.value, Some(45));
    }

    #[test]
    fn numbers_as_written() {
        assert_eq!(number("1,200"), Some(1200.0));
        assert_eq!(number("12,500.50"), Some(12500.5));
        assert_eq!(number("1,5"), Some(1.5));
        assert_eq!(number("4.5k"), Some(4500.0));
        assert_eq!(number("abc"), None);
        assert_eq!(number(",5"), None);
        assert_eq!(glued_duration("1h30"), Some(90));
        assert_eq!(glued_duration("1h30min"), Some(90));
        assert_eq!(glued_duration("45min"), Some(45));
        assert_eq!(glued_duration("2x"), None);
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in [
            "",
            "////",
            "/=",
            "ksh",
            "999999999999999999999999 1h",
            "é 1,,,,2",
            "1h1h1h1h x",
            "((()))",
            "saa",
            "saa saa 1",
            "k 1k",
            "\u{feff}Manicure 800",
        ] {
            let _ = extract(s, Format::Text, &["x"]);
            let _ = extract(s, Format::Csv, &["x"]);
        }
    }
}
