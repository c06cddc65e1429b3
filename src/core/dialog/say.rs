//! How the conversation says things: dates, times, money and lists, in
//! English or Swahili. Swahili times are given on the Swahili clock with the
//! 24-hour time beside them ("saa 4:00 asubuhi (10:00)"), which is how
//! Kenyan businesses write them.

use chrono::{DateTime, Datelike, NaiveTime, Timelike, Utc, Weekday};
use chrono_tz::Tz;

use super::text::Lang;
use crate::core::ids::Money;

/// Picks the sentence for the language.
pub fn t(lang: Lang, en: &str, sw: &str) -> String {
    match lang {
        Lang::En => en.to_owned(),
        Lang::Sw => sw.to_owned(),
    }
}

pub fn weekday_name(lang: Lang, w: Weekday, short: bool) -> &'static str {
    let (en, en_short, sw) = match w {
        Weekday::Mon => ("Monday", "Mon", "Jumatatu"),
        Weekday::Tue => ("Tuesday", "Tue", "Jumanne"),
        Weekday::Wed => ("Wednesday", "Wed", "Jumatano"),
        Weekday::Thu => ("Thursday", "Thu", "Alhamisi"),
        Weekday::Fri => ("Friday", "Fri", "Ijumaa"),
        Weekday::Sat => ("Saturday", "Sat", "Jumamosi"),
        Weekday::Sun => ("Sunday", "Sun", "Jumapili"),
    };
    match (lang, short) {
        (Lang::En, true) => en_short,
        (Lang::En, false) => en,
        (Lang::Sw, _) => sw,
    }
}

const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const MONTHS_SW: [&str; 12] = [
    "Januari", "Februari", "Machi", "Aprili", "Mei", "Juni", "Julai", "Agosti", "Septemba",
    "Oktoba", "Novemba", "Desemba",
];

/// "Friday 27 Nov at 10:00" / "Ijumaa 27 Novemba saa 4:00 asubuhi (10:00)".
pub fn when(lang: Lang, tz: Tz, at: DateTime<Utc>) -> String {
    let l = at.with_timezone(&tz);
    let month = l.month0() as usize;
    match lang {
        Lang::En => format!(
            "{} {} {} at {}",
            weekday_name(lang, l.weekday(), false),
            l.day(),
            MONTHS_EN.get(month).copied().unwrap_or(""),
            time(lang, l.time())
        ),
        Lang::Sw => format!(
            "{} {} {} {}",
            weekday_name(lang, l.weekday(), false),
            l.day(),
            MONTHS_SW.get(month).copied().unwrap_or(""),
            time(lang, l.time())
        ),
    }
}

/// "Friday 27 Nov" / "Ijumaa 27 Novemba".
pub fn date(lang: Lang, d: chrono::NaiveDate) -> String {
    let month = d.month0() as usize;
    let months: &[&str] = match lang {
        Lang::En => &MONTHS_EN,
        Lang::Sw => &MONTHS_SW,
    };
    format!(
        "{} {} {}",
        weekday_name(lang, d.weekday(), false),
        d.day(),
        months.get(month).copied().unwrap_or("")
    )
}

/// "10:00" / "saa 4:00 asubuhi (10:00)".
pub fn time(lang: Lang, t: NaiveTime) -> String {
    match lang {
        Lang::En => format!("{:02}:{:02}", t.hour(), t.minute()),
        Lang::Sw => {
            let h = t.hour();
            let sw_hour = match (h + 6) % 12 {
                0 => 12,
                n => n,
            };
            let part = match h {
                4..=11 => "asubuhi",
                12..=15 => "mchana",
                16..=18 => "jioni",
                _ => "usiku",
            };
            format!(
                "saa {sw_hour}:{:02} {part} ({h:02}:{:02})",
                t.minute(),
                t.minute()
            )
        }
    }
}

/// A button title of at most 20 characters: "Fri 27 Nov 10:00" /
/// "Ijumaa 27/11 10:00".
pub fn slot_title(lang: Lang, tz: Tz, at: DateTime<Utc>) -> String {
    let l = at.with_timezone(&tz);
    let s = match lang {
        Lang::En => format!(
            "{} {} {} {:02}:{:02}",
            weekday_name(lang, l.weekday(), true),
            l.day(),
            MONTHS_EN.get(l.month0() as usize).copied().unwrap_or(""),
            l.hour(),
            l.minute()
        ),
        Lang::Sw => format!(
            "{} {}/{} {:02}:{:02}",
            weekday_name(lang, l.weekday(), false),
            l.day(),
            l.month(),
            l.hour(),
            l.minute()
        ),
    };
    s.chars().take(20).collect()
}

/// "KES 3,500" (cents only when there are some).
pub fn money(m: Money) -> String {
    let whole = m.minor.unsigned_abs() / 100;
    let cents = m.minor.unsigned_abs() % 100;
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if m.minor < 0 { "-" } else { "" };
    if cents == 0 {
        format!("{} {sign}{grouped}", m.currency)
    } else {
        format!("{} {sign}{grouped}.{cents:02}", m.currency)
    }
}

/// "1 hour 30 min" / "saa 1 na nusu (dakika 90)" / "saa 2 na dakika 15".
pub fn duration(lang: Lang, minutes: u32) -> String {
    let (h, m) = (minutes / 60, minutes % 60);
    match (lang, h, m) {
        (Lang::En, 0, m) => format!("{m} min"),
        (Lang::En, 1, 0) => "1 hour".into(),
        (Lang::En, h, 0) => format!("{h} hours"),
        (Lang::En, 1, m) => format!("1 hour {m} min"),
        (Lang::En, h, m) => format!("{h} hours {m} min"),
        (Lang::Sw, 0, m) => format!("dakika {m}"),
        (Lang::Sw, h, 0) => format!("saa {h}"),
        // "saa moja na nusu": how a Swahili speaker says an hour and a half.
        (Lang::Sw, h, 30) => format!("saa {h} na nusu (dakika {minutes})"),
        (Lang::Sw, h, m) => format!("saa {h} na dakika {m}"),
    }
}

/// "a, b and c" / "a, b na c".
pub fn list(lang: Lang, items: &[String]) -> String {
    let and = match lang {
        Lang::En => "and",
        Lang::Sw => "na",
    };
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {and} {last}", init.join(", ")),
    }
}

/// Splits a paragraph into sentences for speech (at ". ", "! ", "? ").
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        cur.push(c);
        let end = matches!(c, '.' | '!' | '?')
            && chars.get(i + 1).is_none_or(|n| n.is_whitespace())
            // Not the dot of "e.g." style abbreviations or decimals.
            && !(c == '.' && i > 0 && chars[i - 1].is_ascii_digit() && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit()));
        if end {
            let s = cur.trim();
            if !s.is_empty() {
                out.push(s.to_owned());
            }
            cur.clear();
        }
    }
    let s = cur.trim();
    if !s.is_empty() {
        out.push(s.to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn dates_and_times_read_naturally() {
        let tz = chrono_tz::Africa::Nairobi;
        let at = Utc.with_ymd_and_hms(2026, 11, 27, 7, 0, 0).unwrap(); // 10:00 local
        assert_eq!(when(Lang::En, tz, at), "Friday 27 Nov at 10:00");
        assert_eq!(
            when(Lang::Sw, tz, at),
            "Ijumaa 27 Novemba saa 4:00 asubuhi (10:00)"
        );
        let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
        assert_eq!(time(Lang::Sw, t(16)), "saa 10:00 jioni (16:00)");
        assert_eq!(time(Lang::Sw, t(13)), "saa 7:00 mchana (13:00)");
        assert_eq!(time(Lang::Sw, t(18)), "saa 12:00 jioni (18:00)");
        assert_eq!(time(Lang::Sw, t(20)), "saa 2:00 usiku (20:00)");
        assert!(slot_title(Lang::Sw, tz, at).chars().count() <= 20);
        assert_eq!(slot_title(Lang::En, tz, at), "Fri 27 Nov 10:00");
    }

    #[test]
    fn money_and_lists_and_sentences() {
        assert_eq!(money(Money::kes(350_000)), "KES 3,500");
        assert_eq!(money(Money::kes(1_250_050)), "KES 12,500.50");
        assert_eq!(money(Money::kes(50_000)), "KES 500");
        assert_eq!(
            list(Lang::Sw, &["a".into(), "b".into(), "c".into()]),
            "a, b na c"
        );
        assert_eq!(
            sentences("Booked! It costs KES 3.50. See you then? Yes."),
            ["Booked!", "It costs KES 3.50.", "See you then?", "Yes."]
        );
        assert_eq!(duration(Lang::En, 90), "1 hour 30 min");
        assert_eq!(duration(Lang::En, 150), "2 hours 30 min");
        assert_eq!(duration(Lang::Sw, 180), "saa 3");
    }
}
