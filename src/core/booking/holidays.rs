//! Kenyan public holidays (Public Holidays Act, Cap. 110, as amended), on
//! which a salon is closed unless the tenant opens it.
//!
//! Fixed dates: New Year's Day (1 Jan), Labour Day (1 May), Madaraka Day
//! (1 Jun), Mazingira Day (10 Oct, the name given to 10 October by the 2024
//! amendment), Mashujaa Day (20 Oct), Jamhuri Day (12 Dec), Christmas Day
//! (25 Dec) and Boxing Day (26 Dec). Good Friday and Easter Monday follow
//! Western Easter (anonymous Gregorian computus). Idd-ul-Fitr follows the
//! moon: see [`EID_AL_FITR`]. Under the Act, when a holiday falls on a
//! Sunday the next day that is not itself a holiday is one too (named
//! "… (observed)"). Days the Cabinet Secretary declares ad hoc (section
//! 2(1)) are not known in advance and are not here.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// A public holiday, named in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holiday {
    pub name_en: &'static str,
    pub name_sw: &'static str,
}

/// Idd-ul-Fitr (1 Shawwal), 2024-2035.
///
/// 2024 and 2025 are the days gazetted in Kenya (Kenya Gazette special
/// issues of 9 April 2024 and 28 March 2025, under section 2(1) of the
/// Act: Wednesday 10 April 2024, Monday 31 March 2025). Later years are
/// estimates:
/// 1 Shawwal of the Umm al-Qura calendar (Saudi Arabia's official
/// calendar, as tabulated by the `hijridate` conversion library, Hijri
/// years 1447-1457). Kenya's date depends on the sighting of the moon
/// announced by the Chief Kadhi and is gazetted by the Cabinet Secretary
/// for the Interior each year, often only days ahead, and can differ by a
/// day: update this table when the notice is published. 2033 has two.
const EID_AL_FITR: &[(i32, u32, u32)] = &[
    (2024, 4, 10),
    (2025, 3, 31),
    (2026, 3, 20),
    (2027, 3, 9),
    (2028, 2, 26),
    (2029, 2, 14),
    (2030, 2, 4),
    (2031, 1, 24),
    (2032, 1, 14),
    (2033, 1, 2),
    (2033, 12, 23),
    (2034, 12, 12),
    (2035, 12, 1),
];

const NEW_YEAR: Holiday = Holiday {
    name_en: "New Year's Day",
    name_sw: "Siku ya Mwaka Mpya",
};
const GOOD_FRIDAY: Holiday = Holiday {
    name_en: "Good Friday",
    name_sw: "Ijumaa Kuu",
};
const EASTER_MONDAY: Holiday = Holiday {
    name_en: "Easter Monday",
    name_sw: "Jumatatu ya Pasaka",
};
const LABOUR: Holiday = Holiday {
    name_en: "Labour Day",
    name_sw: "Siku ya Wafanyakazi",
};
const MADARAKA: Holiday = Holiday {
    name_en: "Madaraka Day",
    name_sw: "Siku ya Madaraka",
};
const MAZINGIRA: Holiday = Holiday {
    name_en: "Mazingira Day",
    name_sw: "Siku ya Mazingira",
};
const MASHUJAA: Holiday = Holiday {
    name_en: "Mashujaa Day",
    name_sw: "Siku ya Mashujaa",
};
const JAMHURI: Holiday = Holiday {
    name_en: "Jamhuri Day",
    name_sw: "Siku ya Jamhuri",
};
const CHRISTMAS: Holiday = Holiday {
    name_en: "Christmas Day",
    name_sw: "Siku ya Krismasi",
};
const BOXING: Holiday = Holiday {
    name_en: "Boxing Day",
    name_sw: "Siku ya Kusherehekea Krismasi",
};
const EID: Holiday = Holiday {
    name_en: "Idd-ul-Fitr",
    name_sw: "Idd-ul-Fitr",
};

/// The public holiday on `date`, if any, including a Monday (or later day)
/// observed for a holiday that fell on a Sunday.
pub fn kenyan_holiday(date: NaiveDate) -> Option<Holiday> {
    if let Some(h) = gazetted(date) {
        return Some(h);
    }
    // Walk back over the holidays just before `date`: the first Sunday
    // holiday found moves here if every day in between is a holiday too.
    let mut day = date.pred_opt()?;
    for _ in 0..3 {
        let h = gazetted(day)?;
        if day.weekday() == Weekday::Sun {
            return Some(observed(h));
        }
        day = day.pred_opt()?;
    }
    None
}

/// Western Easter Sunday of `year` (anonymous Gregorian algorithm, Meeus /
/// Jones / Butcher).
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32)
}

/// The holiday that falls on `date` itself (no observance rule).
fn gazetted(date: NaiveDate) -> Option<Holiday> {
    let fixed = match (date.month(), date.day()) {
        (1, 1) => Some(NEW_YEAR),
        (5, 1) => Some(LABOUR),
        (6, 1) => Some(MADARAKA),
        (10, 10) => Some(MAZINGIRA),
        (10, 20) => Some(MASHUJAA),
        (12, 12) => Some(JAMHURI),
        (12, 25) => Some(CHRISTMAS),
        (12, 26) => Some(BOXING),
        _ => None,
    };
    if fixed.is_some() {
        return fixed;
    }
    if let Some(easter) = easter_sunday(date.year()) {
        if date == easter - Duration::days(2) {
            return Some(GOOD_FRIDAY);
        }
        if date == easter + Duration::days(1) {
            return Some(EASTER_MONDAY);
        }
    }
    let eid = EID_AL_FITR
        .iter()
        .any(|&(y, m, d)| (date.year(), date.month(), date.day()) == (y, m, d));
    eid.then_some(EID)
}

fn observed(h: Holiday) -> Holiday {
    // Names are static; the observed form is looked up rather than built.
    let (name_en, name_sw) = match h.name_en {
        "New Year's Day" => (
            "New Year's Day (observed)",
            "Siku ya Mwaka Mpya (mapumziko)",
        ),
        "Labour Day" => ("Labour Day (observed)", "Siku ya Wafanyakazi (mapumziko)"),
        "Madaraka Day" => ("Madaraka Day (observed)", "Siku ya Madaraka (mapumziko)"),
        "Mazingira Day" => ("Mazingira Day (observed)", "Siku ya Mazingira (mapumziko)"),
        "Mashujaa Day" => ("Mashujaa Day (observed)", "Siku ya Mashujaa (mapumziko)"),
        "Jamhuri Day" => ("Jamhuri Day (observed)", "Siku ya Jamhuri (mapumziko)"),
        "Christmas Day" => ("Christmas Day (observed)", "Siku ya Krismasi (mapumziko)"),
        "Boxing Day" => (
            "Boxing Day (observed)",
            "Siku ya Kusherehekea Krismasi (mapumziko)",
        ),
        "Idd-ul-Fitr" => ("Idd-ul-Fitr (observed)", "Idd-ul-Fitr (mapumziko)"),
        _ => (h.name_en, h.name_sw),
    };
    Holiday { name_en, name_sw }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn name(date: NaiveDate) -> Option<&'static str> {
        kenyan_holiday(date).map(|h| h.name_en)
    }

    #[test]
    fn easter_matches_known_dates() {
        for (y, m, day) in [
            (2019, 4, 21),
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2030, 4, 21),
            (2038, 4, 25),
        ] {
            assert_eq!(easter_sunday(y), Some(d(y, m, day)), "{y}");
        }
    }

    #[test]
    fn good_friday_and_easter_monday_are_holidays_easter_sunday_is_not() {
        assert_eq!(name(d(2026, 4, 3)), Some("Good Friday"));
        assert_eq!(name(d(2026, 4, 6)), Some("Easter Monday"));
        assert_eq!(name(d(2026, 4, 5)), None);
        assert_eq!(name(d(2025, 4, 18)), Some("Good Friday"));
    }

    #[test]
    fn fixed_holidays_in_both_languages() {
        let h = kenyan_holiday(d(2026, 12, 12)).unwrap();
        assert_eq!((h.name_en, h.name_sw), ("Jamhuri Day", "Siku ya Jamhuri"));
        assert_eq!(name(d(2027, 1, 1)), Some("New Year's Day"));
        assert_eq!(name(d(2026, 5, 1)), Some("Labour Day"));
        assert_eq!(name(d(2026, 6, 1)), Some("Madaraka Day"));
        assert_eq!(name(d(2026, 10, 20)), Some("Mashujaa Day"));
        assert_eq!(name(d(2025, 10, 10)), Some("Mazingira Day"));
        assert_eq!(name(d(2026, 12, 26)), Some("Boxing Day"));
    }

    #[test]
    fn a_sunday_holiday_is_observed_on_the_next_free_day() {
        // Madaraka Day 2025 was a Sunday: Monday 2 June is off.
        assert_eq!(name(d(2025, 6, 2)), Some("Madaraka Day (observed)"));
        // Mashujaa Day 2024 was a Sunday.
        assert_eq!(name(d(2024, 10, 21)), Some("Mashujaa Day (observed)"));
        // Christmas 2022 was a Sunday; Monday is Boxing Day, so Tuesday.
        assert_eq!(name(d(2022, 12, 26)), Some("Boxing Day"));
        assert_eq!(name(d(2022, 12, 27)), Some("Christmas Day (observed)"));
        // Boxing Day 2027 is a Sunday.
        assert_eq!(name(d(2027, 12, 27)), Some("Boxing Day (observed)"));
        // A Saturday holiday moves nowhere (Jamhuri Day 2026).
        assert_eq!(name(d(2026, 12, 14)), None);
        assert_eq!(
            kenyan_holiday(d(2025, 6, 2)).unwrap().name_sw,
            "Siku ya Madaraka (mapumziko)"
        );
    }

    #[test]
    fn eid_comes_from_the_table() {
        assert_eq!(name(d(2026, 3, 20)), Some("Idd-ul-Fitr"));
        assert_eq!(name(d(2033, 12, 23)), Some("Idd-ul-Fitr"));
        // 2027-03-09 is a Tuesday: no observance on Wednesday.
        assert_eq!(name(d(2027, 3, 10)), None);
    }

    #[test]
    fn an_ordinary_day_is_not_a_holiday() {
        assert_eq!(name(d(2026, 11, 25)), None);
        assert_eq!(name(d(2026, 3, 21)), None);
        assert_eq!(name(d(2026, 4, 7)), None);
    }
}
