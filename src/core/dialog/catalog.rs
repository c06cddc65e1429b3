//! The tenant's catalog as the conversation sees it (plain data, loaded by
//! the runtime), and fuzzy matching of what the customer typed against it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::text::Lang;
use crate::core::ids::Money;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceInfo {
    pub id: Uuid,
    pub name: String,
    pub name_sw: Option<String>,
    pub description: Option<String>,
    pub duration_min: u32,
    pub buffer_min: u32,
    pub price: Money,
}

impl ServiceInfo {
    /// The name to show in `lang` (the Swahili name when there is one).
    pub fn display_name(&self, lang: Lang) -> &str {
        match (lang, &self.name_sw) {
            (Lang::Sw, Some(sw)) if !sw.trim().is_empty() => sw,
            _ => &self.name,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffInfo {
    pub id: Uuid,
    pub name: String,
    /// The services this person does (staff_services), for "who does
    /// dreadlocks?"; empty when unknown.
    #[serde(default)]
    pub services: Vec<Uuid>,
    /// When this person works (staff_schedules), for "is Achieng in on
    /// Monday?"; empty when unknown.
    #[serde(default)]
    pub weekly: Vec<crate::core::booking::WeeklyWindow>,
}

impl StaffInfo {
    /// The name customers use: the first word ("Wanjiku" of "Wanjiku Kamau").
    pub fn first_name(&self) -> &str {
        self.name.split_whitespace().next().unwrap_or(&self.name)
    }

    /// When this person works on `day`'s weekday, if they do.
    pub fn hours_on(&self, day: chrono::NaiveDate) -> Option<&crate::core::booking::WeeklyWindow> {
        use chrono::Datelike;
        let dow = day.weekday().num_days_from_monday() as u8;
        self.weekly
            .iter()
            .find(|w| w.is_available && w.day_of_week == dow)
    }
}

/// A complementary service worth suggesting after a booking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relation {
    pub from: Uuid,
    pub to: Uuid,
    pub confidence: f64,
}

/// Everything the conversation needs to know about the business.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Catalog {
    pub business_name: String,
    pub services: Vec<ServiceInfo>,
    pub staff: Vec<StaffInfo>,
    /// Complementary relations already filtered to confidence >= 0.7.
    pub cross_sell: Vec<Relation>,
}

impl Catalog {
    pub fn service(&self, id: Uuid) -> Option<&ServiceInfo> {
        self.services.iter().find(|s| s.id == id)
    }

    pub fn staff_member(&self, id: Uuid) -> Option<&StaffInfo> {
        self.staff.iter().find(|s| s.id == id)
    }
}

/// The smallest confidence for a cross-sell suggestion.
pub const CROSS_SELL_MIN_CONFIDENCE: f64 = 0.7;

mod matching;

pub use matching::{
    clear_service, match_services, match_staff, service_words, services_mentioned,
    services_of_kind, with_the_rest,
};

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::core::dialog::text::Tokens;

    pub(crate) fn uuid(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    pub(crate) fn demo_services() -> Vec<ServiceInfo> {
        let s = |n, name: &str, sw: &str, min, kes: i64| ServiceInfo {
            id: uuid(n),
            name: name.into(),
            name_sw: Some(sw.into()),
            description: None,
            duration_min: min,
            buffer_min: 15,
            price: Money::kes(kes * 100),
        };
        vec![
            s(1, "Haircut", "Kukata nywele", 30, 500),
            s(2, "Box Braids", "Kusuka mabutu", 180, 3500),
            s(3, "Manicure", "Kupaka kucha za mikono", 45, 800),
            s(4, "Pedicure", "Kupaka kucha za miguu", 60, 1000),
            s(
                5,
                "Hair Wash & Blow Dry",
                "Kuosha na kukausha nywele",
                45,
                700,
            ),
            s(6, "Dreadlocks Retwist", "Kusokota rasta", 90, 1500),
            s(
                7,
                "Haircut & Blow-dry",
                "Kukata na Kukausha Nywele",
                45,
                1500,
            ),
            s(8, "Eyebrow Shaping", "Kutengeneza Nyusi", 20, 500),
        ]
    }

    pub(crate) fn demo_staff() -> Vec<StaffInfo> {
        vec![
            StaffInfo {
                id: uuid(101),
                name: "Akinyi Otieno".into(),
                services: Vec::new(),
                weekly: Vec::new(),
            },
            StaffInfo {
                id: uuid(102),
                name: "Wanjiru Kamau".into(),
                services: Vec::new(),
                weekly: Vec::new(),
            },
        ]
    }

    fn best(text: &str) -> Option<u128> {
        clear_service(&Tokens::new(text), &demo_services()).map(|u| u.as_u128())
    }

    #[test]
    fn service_matching_table() {
        let cases = [
            ("I want a haircut", Some(1)),
            ("hair cut tomorrow", Some(1)),
            ("haircutt please", Some(1)),
            ("eyebrows", Some(8)),
            // Two services have a blow-dry: ask which.
            ("blow-dry tafadhali", None),
            ("box braids kesho", Some(2)),
            ("braids", Some(2)),
            ("nataka kusuka", Some(2)),
            ("manicure", Some(3)),
            ("manicur", Some(3)),
            ("pedicure na manicure", None),
            ("kucha za miguu", Some(4)),
            ("hair wash and blow dry", Some(5)),
            ("retwist my dreadlocks", Some(6)),
            ("rasta", Some(6)),
            ("hello", None),
            ("I want my hair done", None),
        ];
        for (text, want) in cases {
            assert_eq!(best(text), want, "{text}");
        }
    }

    #[test]
    fn ambiguous_text_lists_candidates() {
        let m = match_services(&Tokens::new("pedicure na manicure"), &demo_services());
        let ids: Vec<u128> = m.iter().map(|(id, _)| id.as_u128()).collect();
        assert!(ids.contains(&3) && ids.contains(&4));
    }

    /// The demo salon's catalogue (fixtures/demo/services.json).
    pub(crate) fn salon_services() -> Vec<ServiceInfo> {
        let s = |n, name: &str, sw: &str| ServiceInfo {
            id: uuid(n),
            name: name.into(),
            name_sw: Some(sw.into()),
            description: None,
            duration_min: 60,
            buffer_min: 15,
            price: Money::kes(100_000),
        };
        vec![
            s(11, "Haircut & Blow-dry", "Kukata na Kukausha Nywele"),
            s(12, "Box Braids", "Kusuka Rasta (Box Braids)"),
            s(13, "Cornrows", "Kusuka Mabutu"),
            s(14, "Wash & Set", "Kuosha na Kuseti"),
            s(15, "Relaxer Treatment", "Dawa ya Kulainisha Nywele"),
            s(16, "Dreadlocks Retwist", "Kusokota Dreadlocks"),
            s(17, "Manicure", "Kutengeneza Kucha za Mikono"),
            s(18, "Pedicure", "Kutengeneza Kucha za Miguu"),
            s(19, "Gel Nails", "Kucha za Jeli"),
            s(20, "Facial", "Usafi wa Uso"),
            s(21, "Eyebrow Shaping", "Kutengeneza Nyusi"),
            s(22, "Bridal Hair", "Nywele za Harusi"),
        ]
    }

    #[test]
    fn everyday_words_and_sheng_name_services() {
        let services = salon_services();
        let best = |t: &str| {
            clear_service(&crate::core::dialog::text::Tokens::new(t), &services)
                .map(|u| u.as_u128())
        };
        let cases = [
            ("cut", Some(11)),
            ("nataka haircut kesho", Some(11)),
            ("kinyozi", Some(11)),
            ("kunyoa", Some(11)),
            ("nataka kuchongwa fresh kesho", Some(11)),
            ("msee wangu anataka kuchongwa", Some(11)),
            ("nataka kuchongwa nyusi", Some(21)),
            (
                "nataka kusukwa kitu simple, si kitu ya kukaa siku mingi",
                None,
            ),
            ("nataka nyusi zichongwe leo", Some(21)),
            ("a trim please", Some(11)),
            ("kukata nywele", Some(11)),
            ("locs", Some(16)),
            ("retwist my loc", Some(16)),
            ("dredi", Some(16)),
            ("dreads retwist", Some(16)),
            ("dredlocks", Some(16)),
            ("mani", Some(17)),
            ("pedi tmrw", Some(18)),
            ("pedicur", Some(18)),
            ("manicur", Some(17)),
            ("kucha za mikono", Some(17)),
            ("kucha za miguu", Some(18)),
            ("nataka kutengenezewa kucha za mikono", Some(17)),
            ("kucha", None),
            ("brows", Some(21)),
            ("nyusi", Some(21)),
            ("eyebrows", Some(21)),
            ("boxbraids", Some(12)),
            ("box braids", Some(12)),
            ("knotless", Some(12)),
            ("kusuka rasta", Some(12)),
            ("rasta", Some(12)),
            ("mabutu", Some(13)),
            ("cornrow", Some(13)),
            ("conrows", Some(13)),
            ("cornrolls", Some(13)),
            ("gelnails", Some(19)),
            ("jeli", Some(19)),
            ("gel", Some(19)),
            ("facal", Some(20)),
            ("usoni", Some(20)),
            ("facial", Some(20)),
            ("relaxer", Some(15)),
            ("dawa ya nywele", Some(15)),
            ("kulainisha", Some(15)),
            ("wash", Some(14)),
            ("kuosha nywele", Some(14)),
            ("silk press", Some(14)),
            ("harusi", Some(22)),
            ("bridal", Some(22)),
            ("wedding hair", Some(22)),
            ("kusuka", None),
            ("nywele", None),
            ("my hair", None),
            ("hello", None),
        ];
        for (text, want) in cases {
            assert_eq!(best(text), want, "{text}");
        }
    }

    #[test]
    fn synonyms_only_name_services_the_tenant_has() {
        let barber = vec![ServiceInfo {
            id: uuid(31),
            name: "Kids Cut".into(),
            name_sw: None,
            description: None,
            duration_min: 20,
            buffer_min: 5,
            price: Money::kes(30_000),
        }];
        let best = |t: &str| {
            clear_service(&crate::core::dialog::text::Tokens::new(t), &barber).map(|u| u.as_u128())
        };
        assert_eq!(best("kinyozi for my son"), Some(31));
        assert_eq!(best("haircut"), Some(31));
        assert_eq!(best("locs"), None);
        assert_eq!(best("mani pedi"), None);
    }

    #[test]
    fn several_services_in_one_request() {
        let services = salon_services();
        let all = |t: &str| -> Vec<u128> {
            services_mentioned(&crate::core::dialog::text::Tokens::new(t), &services)
                .iter()
                .map(|u| u.as_u128())
                .collect()
        };
        let cases: [(&str, &[u128]); 23] = [
            ("manicure and pedicure", &[17, 18]),
            (
                "can I get a haircut at 1pm? I work just around the corner",
                &[11],
            ),
            ("need a fade tomorrow 3pm", &[11]),
            // a recogniser's splits
            ("i wanted to book a pedic your for friday", &[18]),
            (
                "hi um i want a man a cure tomorrow at four thirty p m",
                &[17],
            ),
            ("i m a nurse on nights this week", &[]),
            ("nataka kusukwa corn rose kesho", &[13]),
            ("could i put a car there", &[]),
            ("pedicure na manicure", &[18, 17]),
            ("mani pedi", &[17, 18]),
            ("manipedi tmrw", &[17, 18]),
            ("mani-pedi", &[17, 18]),
            ("kukata nywele na nyusi", &[11, 21]),
            ("braids for me and cornrows for my daughter", &[12, 13]),
            ("facial plus gel nails", &[20, 19]),
            ("hw much is manicure n pedicure", &[17, 18]),
            ("box braids for me and my sister", &[12]),
            ("braids for me and braids for my sister", &[12]),
            ("haircut and blow dry", &[11]),
            ("kucha", &[]),
            ("facial", &[20]),
            ("wash and set", &[14]),
            ("I want to book for tomorrow", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(all(text), want, "{text}");
        }
        let test_catalog = demo_services();
        let ids: Vec<u128> =
            services_mentioned(&Tokens::new("hair wash and blow dry"), &test_catalog)
                .iter()
                .map(|u| u.as_u128())
                .collect();
        assert_eq!(ids, [5]);
    }

    #[test]
    fn both_means_the_services_talked_about_named_ones_first() {
        let services = salon_services();
        let earlier = [uuid(18), uuid(17)];
        let rest = |t: &str| -> Vec<u128> {
            let tokens = Tokens::new(t);
            with_the_rest(&tokens, services_mentioned(&tokens, &services), &earlier)
                .iter()
                .map(|u| u.as_u128())
                .collect()
        };
        assert_eq!(rest("book both on thursday, manicure first"), [17, 18]);
        assert_eq!(rest("nataka zote, pedicure kwanza"), [18, 17]);
        assert_eq!(rest("all of them, the manicure first"), [17, 18]);
        assert_eq!(rest("manicure for both of us"), [17]);
        assert_eq!(rest("just the manicure"), [17]);
        // A bare "both" is left to the step that offered them.
        assert!(rest("both please").is_empty());
    }

    #[test]
    fn the_words_a_service_took() {
        let services = salon_services();
        let taken = |t: &str| -> Vec<usize> {
            service_words(&crate::core::dialog::text::Tokens::new(t), &services)
                .into_iter()
                .collect()
        };
        assert_eq!(taken("i want a manage cure tomorrow"), [3, 4]);
        assert_eq!(taken("speak to the manager about my manicure"), [6]);
        assert!(taken("manager please").is_empty());
    }

    #[test]
    fn staff_matching() {
        let staff = demo_staff();
        let m = |t: &str| {
            match_staff(&crate::core::dialog::text::Tokens::new(t), &staff).map(|u| u.as_u128())
        };
        assert_eq!(m("with Akinyi please"), Some(101));
        assert_eq!(m("na Wanjiru"), Some(102));
        assert_eq!(m("Wanjru"), Some(102));
        assert_eq!(m("anyone"), None);
        // A word in its own right is no typo of a surname.
        assert_eq!(m("sawa, basi tuweke jumanne kama nilivyosema"), None);
        assert_eq!(m("kama kawaida"), None);
        assert_eq!(m("na Kamau"), Some(102));
        // Of two named, the one not turned down.
        assert_eq!(m("actually not with Akinyi, with Wanjiru"), Some(102));
        assert_eq!(m("si Wanjiru, nataka Akinyi"), Some(101));
        assert_eq!(m("Akinyi instead of Wanjiru"), Some(101));
        assert_eq!(m("Akinyi or Wanjiru"), None);
    }
}
#[cfg(test)]
mod mention_tests {
    use super::*;
    use crate::core::dialog::text::Tokens;

    fn salon() -> Vec<ServiceInfo> {
        let s = |n: u128, name: &str, sw: &str| ServiceInfo {
            id: Uuid::from_u128(n),
            name: name.into(),
            name_sw: Some(sw.into()),
            description: None,
            duration_min: 60,
            buffer_min: 0,
            price: Money::kes(100),
        };
        vec![
            s(1, "Haircut & Blow-dry", "Kukata na Kukausha Nywele"),
            s(2, "Box Braids", "Kusuka Rasta (Box Braids)"),
            s(3, "Cornrows", "Kusuka Mabutu"),
            s(4, "Wash & Set", "Kuosha na Kuseti"),
            s(6, "Dreadlocks Retwist", "Kusokota Dreadlocks"),
            s(12, "Bridal Hair", "Nywele za Harusi"),
        ]
    }

    fn mentioned(text: &str) -> Vec<u128> {
        matching::services_mentioned(&Tokens::new(text), &salon())
            .into_iter()
            .map(|u| u.as_u128())
            .collect()
    }

    #[test]
    fn two_names_sharing_a_word_are_both_named() {
        assert_eq!(
            mentioned("Yeye anataka kusuka rasta (box braids) na mimi nataka mabutu."),
            [2, 3]
        );
        assert_eq!(mentioned("kusuka mabutu na kusuka rasta"), [3, 2]);
    }

    #[test]
    fn words_in_their_own_right_and_generic_leftovers_name_nothing_more() {
        // "kupata" (to get) is not "kukata"; "nywele" left over after
        // "kuosha na kuseti" names no other service.
        assert_eq!(
            mentioned("naweza kupata huduma ya kuosha na kuseti nywele jumapili?"),
            [4]
        );
        // "party is" sounds like "braids" said by a recogniser, but both
        // are words of their own.
        assert_eq!(
            mentioned("our office party is on the 6th, cornrows on the 5th"),
            [3]
        );
        // "ride" is no typo of "bride".
        assert!(mentioned("wait is there parking? niko na ride").is_empty());
    }
}
