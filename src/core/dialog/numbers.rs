//! Numbers written as words: Swahili ("elfu moja mia tano" = 1500) and the
//! English ones below a hundred ("forty five", as a recogniser writes
//! them), with the clock's "half" and "quarter". Used for amounts, hours and
//! minutes, and menu choices typed as words.

/// A Swahili unit or ten word, if it is one.
pub fn sw_small(word: &str) -> Option<u32> {
    Some(match word {
        "sifuri" => 0,
        "moja" => 1,
        "mbili" | "pili" => 2,
        "tatu" => 3,
        "nne" => 4,
        "tano" => 5,
        "sita" => 6,
        "saba" => 7,
        "nane" => 8,
        "tisa" => 9,
        "kumi" => 10,
        "ishirini" => 20,
        "thelathini" => 30,
        "arobaini" | "arubaini" => 40,
        "hamsini" => 50,
        "sitini" => 60,
        "sabini" => 70,
        "themanini" => 80,
        "tisini" => 90,
        _ => return None,
    })
}

/// An English number word up to twenty, or a tens word.
pub fn en_small(word: &str) -> Option<u32> {
    Some(match word {
        "zero" => 0,
        "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "eleven" => 11,
        "twelve" => 12,
        "thirteen" => 13,
        "fourteen" => 14,
        "fifteen" => 15,
        "sixteen" => 16,
        "seventeen" => 17,
        "eighteen" => 18,
        "nineteen" => 19,
        "twenty" => 20,
        "thirty" => 30,
        "forty" => 40,
        "fifty" => 50,
        "sixty" => 60,
        "seventy" => 70,
        "eighty" => 80,
        "ninety" => 90,
        _ => return None,
    })
}

/// An English number below a hundred starting at `words[0]` ("seven",
/// "twenty five", "forty-five" as "forty five"): its value and how many
/// words it used. Digits count too ("45").
pub fn en_number(words: &[&str]) -> Option<(u32, usize)> {
    let first = words.first()?;
    if let Ok(n) = first.parse::<u32>() {
        return (n < 100).then_some((n, 1));
    }
    let n = en_small(first)?;
    if n >= 20
        && n % 10 == 0
        && let Some(unit) = words
            .get(1)
            .and_then(|w| en_small(w))
            .filter(|u| (1..10).contains(u))
    {
        return Some((n + unit, 2));
    }
    Some((n, 1))
}

/// An English ordinal from "first" to "thirty first" starting at
/// `words[0]` ("twenty third"): its value and how many words it used.
pub fn en_ordinal(words: &[&str]) -> Option<(u32, usize)> {
    let unit = |w: &str| -> Option<u32> {
        Some(match w {
            "first" => 1,
            "second" => 2,
            "third" => 3,
            "fourth" => 4,
            "fifth" => 5,
            "sixth" => 6,
            "seventh" => 7,
            "eighth" => 8,
            "ninth" => 9,
            _ => return None,
        })
    };
    let first = *words.first()?;
    if let Some(n) = unit(first) {
        return Some((n, 1));
    }
    let teen = match first {
        "tenth" => Some(10),
        "eleventh" => Some(11),
        "twelfth" => Some(12),
        "thirteenth" => Some(13),
        "fourteenth" => Some(14),
        "fifteenth" => Some(15),
        "sixteenth" => Some(16),
        "seventeenth" => Some(17),
        "eighteenth" => Some(18),
        "nineteenth" => Some(19),
        "twentieth" => Some(20),
        "thirtieth" => Some(30),
        _ => None,
    };
    if teen.is_some() {
        return teen.map(|n| (n, 1));
    }
    let tens = match first {
        "twenty" => 20,
        "thirty" => 30,
        _ => return None,
    };
    let u = unit(words.get(1)?)?;
    Some((tens + u, 2))
}

/// The minutes a clock fraction stands for: "half" 30, "quarter" 15.
pub fn en_fraction(word: &str) -> Option<u32> {
    match word {
        "half" => Some(30),
        "quarter" => Some(15),
        _ => None,
    }
}

/// Parses a Swahili number phrase starting at `words[0]`; returns the value
/// and how many words it used. Grammar: `[laki N] [elfu N] [mia N] [tens]
/// [na units]`, where the multipliers come before their count ("elfu mbili"
/// = 2000, "mia tano" = 500) and "na" joins the parts.
pub fn parse_sw_number(words: &[&str]) -> Option<(u64, usize)> {
    let mut i = 0usize;
    let mut total: u64 = 0;
    let mut any = false;
    for (word, scale) in [("laki", 100_000u64), ("elfu", 1000), ("mia", 100)] {
        if words.get(i) == Some(&word) {
            // The count after the multiplier; "elfu kumi na tano" is 15 000.
            let limit = if scale == 100 { 9 } else { 999 };
            let (count, used) = match parse_below_thousand(&words[i + 1..], scale) {
                Some((n, used)) if n >= 1 && n <= limit => (n, used),
                _ => (1, 0),
            };
            total += count * scale;
            i += 1 + used;
            any = true;
            let next_is_number = words
                .get(i + 1)
                .is_some_and(|w| sw_small(w).is_some() || matches!(*w, "elfu" | "mia"));
            if words.get(i) == Some(&"na") && next_is_number {
                i += 1;
            }
        }
    }
    if let Some((rest, used)) = parse_tens_units(&words[i..]) {
        total += rest;
        i += used;
        any = true;
    }
    any.then_some((total, i))
}

/// `tens [na units]` or `units`, below 100.
fn parse_tens_units(words: &[&str]) -> Option<(u64, usize)> {
    let first = sw_small(words.first()?)?;
    if first >= 10
        && words.get(1) == Some(&"na")
        && let Some(unit) = words.get(2).and_then(|w| sw_small(w)).filter(|u| *u < 10)
    {
        return Some((u64::from(first + unit), 3));
    }
    Some((u64::from(first), 1))
}

/// A count after a multiplier, stopping before a smaller multiplier word
/// (so "elfu moja mia tano" reads moja for elfu, then mia tano).
fn parse_below_thousand(words: &[&str], scale: u64) -> Option<(u64, usize)> {
    if scale > 100 && words.first() == Some(&"mia") {
        let (hundreds, used) = parse_sw_number_upto_hundreds(words)?;
        return Some((hundreds, used));
    }
    parse_tens_units(words)
}

fn parse_sw_number_upto_hundreds(words: &[&str]) -> Option<(u64, usize)> {
    // "mia N [na tens [na units]]"
    let count = words
        .get(1)
        .and_then(|w| sw_small(w))
        .filter(|n| (1..10).contains(n));
    let (mut total, mut i) = match count {
        Some(n) => (u64::from(n) * 100, 2),
        None => (100, 1),
    };
    if words.get(i) == Some(&"na")
        && let Some((rest, used)) = parse_tens_units(&words[i + 1..])
    {
        total += rest;
        i += 1 + used;
    }
    Some((total, i))
}

/// The first amount in the text: digits ("1500", "1,500", "1.5k", "2k") or
/// Swahili number words. Returns whole units.
pub fn find_amount(words: &[String]) -> Option<u64> {
    let refs: Vec<&str> = words.iter().map(String::as_str).collect();
    for (i, w) in refs.iter().enumerate() {
        if let Some(n) = parse_digits_amount(w) {
            return Some(n);
        }
        if matches!(*w, "laki" | "elfu" | "mia")
            && let Some((n, _)) = parse_sw_number(&refs[i..])
        {
            return Some(n);
        }
    }
    None
}

fn parse_digits_amount(w: &str) -> Option<u64> {
    let w = w
        .trim_start_matches("ksh")
        .trim_start_matches("kes")
        .trim_start_matches("sh");
    if let Some(k) = w.strip_suffix('k') {
        let v: f64 = k.parse().ok()?;
        return Some((v * 1000.0).round() as u64);
    }
    let digits: String = w.chars().filter(|c| *c != ',').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sw(text: &str) -> Option<u64> {
        let words: Vec<&str> = text.split_whitespace().collect();
        parse_sw_number(&words).map(|(n, _)| n)
    }

    #[test]
    fn swahili_number_words() {
        let cases = [
            ("moja", 1),
            ("kumi", 10),
            ("kumi na moja", 11),
            ("kumi na mbili", 12),
            ("ishirini na tano", 25),
            ("mia", 100),
            ("mia tano", 500),
            ("mia tano na hamsini", 550),
            ("elfu moja", 1000),
            ("elfu moja mia tano", 1500),
            ("elfu moja na mia tano", 1500),
            ("elfu mbili", 2000),
            ("elfu kumi", 10_000),
            ("elfu kumi na tano", 15_000),
            ("elfu tatu mia mbili na hamsini", 3250),
            ("laki moja", 100_000),
            ("laki mbili elfu hamsini", 250_000),
            ("elfu mia mbili", 200_000),
        ];
        for (text, want) in cases {
            assert_eq!(sw(text), Some(want), "{text}");
        }
        assert_eq!(sw("habari"), None);
    }

    #[test]
    fn english_number_words_as_a_recogniser_writes_them() {
        let en = |text: &str| {
            let words: Vec<&str> = text.split_whitespace().collect();
            en_number(&words)
        };
        assert_eq!(en("seven"), Some((7, 1)));
        assert_eq!(en("twelve"), Some((12, 1)));
        assert_eq!(en("twenty five past"), Some((25, 2)));
        assert_eq!(en("forty five"), Some((45, 2)));
        assert_eq!(en("thirty"), Some((30, 1)));
        assert_eq!(en("ten twenty"), Some((10, 1)));
        assert_eq!(en("45"), Some((45, 1)));
        assert_eq!(en("braids"), None);
        let ord = |text: &str| {
            let words: Vec<&str> = text.split_whitespace().collect();
            en_ordinal(&words)
        };
        assert_eq!(ord("twenty third"), Some((23, 2)));
        assert_eq!(ord("first"), Some((1, 1)));
        assert_eq!(ord("twelfth of june"), Some((12, 1)));
        assert_eq!(ord("thirty first"), Some((31, 2)));
        assert_eq!(ord("twenty"), None);
        assert_eq!(en_fraction("half"), Some(30));
        assert_eq!(en_fraction("quarter"), Some(15));
        assert_eq!(en_fraction("whole"), None);
    }

    #[test]
    fn amounts_in_digits_and_words() {
        let w = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(find_amount(&w("nitalipa elfu moja mia tano")), Some(1500));
        assert_eq!(find_amount(&w("is it 1,500 or 2k")), Some(1500));
        assert_eq!(find_amount(&w("ksh2000")), Some(2000));
        assert_eq!(find_amount(&w("no amount here")), None);
    }
}
