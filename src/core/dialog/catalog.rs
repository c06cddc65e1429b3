//! The tenant's catalog as the conversation sees it (plain data, loaded by
//! the runtime), and fuzzy matching of what the customer typed against it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::text::{Lang, Tokens};
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

const STOPWORDS: &[&str] = &[
    "and", "na", "ya", "wa", "za", "la", "the", "of", "for", "with", "a", "an", "kwa", "&",
];

/// Services the text mentions, best first, each with a score in (0, 1].
pub fn match_services(tokens: &Tokens, services: &[ServiceInfo]) -> Vec<(Uuid, f64)> {
    // Words that name exactly one service ("haircut", "braids") identify it
    // on their own, even inside a long name ("Haircut & Blow-dry").
    let mut owners: std::collections::BTreeMap<String, std::collections::BTreeSet<Uuid>> =
        Default::default();
    for s in services {
        for name in std::iter::once(&s.name).chain(s.name_sw.iter()) {
            for w in Tokens::new(name).words() {
                owners.entry(w.clone()).or_default().insert(s.id);
            }
        }
    }
    let distinctive =
        |w: &str| w.chars().count() >= 5 && owners.get(w).is_some_and(|o| o.len() == 1);
    let mut scored: Vec<(Uuid, f64)> = services
        .iter()
        .filter_map(|s| {
            let mut best: f64 = 0.0;
            for name in std::iter::once(&s.name).chain(s.name_sw.iter()) {
                best = best.max(name_score(tokens, name));
                let names_it = Tokens::new(name).words().iter().any(|nw| {
                    distinctive(nw)
                        && tokens
                            .words()
                            .iter()
                            .any(|tw| word_similarity(tw, nw) >= 0.9)
                });
                if names_it {
                    best = best.max(0.6);
                }
            }
            (best >= 0.5).then_some((s.id, best))
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    scored
}

/// The one service the text clearly means: the best match, ahead of the
/// runner-up by a margin.
pub fn clear_service(tokens: &Tokens, services: &[ServiceInfo]) -> Option<Uuid> {
    let m = match_services(tokens, services);
    match m.as_slice() {
        [] => None,
        [(id, _)] => Some(*id),
        [(id, a), (_, b), ..] => (a - b >= 0.15).then_some(*id),
    }
}

/// Every distinct service the text clearly names, in order of mention
/// ("manicure and pedicure", "mani pedi", "kukata nywele na nyusi", "braids
/// for me and cornrows for my daughter"). A service named twice appears
/// once; words that only fit a longer name already chosen ("blow dry" in
/// "hair wash and blow dry") do not add another service.
pub fn services_mentioned(tokens: &Tokens, services: &[ServiceInfo]) -> Vec<Uuid> {
    let mut found: Vec<(usize, Uuid)> = Vec::new();
    for segment in segments(tokens) {
        let segment_tokens = Tokens::from_words(segment.1.clone());
        if let Some(id) = clear_service(&segment_tokens, services)
            && !found.iter().any(|(_, f)| *f == id)
        {
            found.push((segment.0, id));
        }
    }
    found.sort_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, id)| id).collect()
}

/// The text cut at the words that join two requests ("and", "na", "plus",
/// "with"), each piece with the index of its first word.
fn segments(tokens: &Tokens) -> Vec<(usize, Vec<String>)> {
    let mut out: Vec<(usize, Vec<String>)> = vec![(0, Vec::new())];
    for (i, w) in tokens.words().iter().enumerate() {
        if matches!(
            w.as_str(),
            "and" | "na" | "plus" | "with" | "pia" | "then" | "also"
        ) {
            out.push((i + 1, Vec::new()));
        } else if let Some(last) = out.last_mut() {
            last.1.push(w.clone());
        }
    }
    out.retain(|(_, words)| !words.is_empty());
    out
}

fn name_score(tokens: &Tokens, name: &str) -> f64 {
    let name_tokens = Tokens::new(name);
    let words: Vec<&String> = name_tokens
        .words()
        .iter()
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .collect();
    if words.is_empty() {
        return 0.0;
    }
    let text = tokens.words();
    let total: f64 = words
        .iter()
        .map(|nw| {
            let mut best: f64 = 0.0;
            for (i, tw) in text.iter().enumerate() {
                best = best.max(word_similarity(tw, nw));
                if let Some(next) = text.get(i + 1)
                    && format!("{tw}{next}") == **nw
                {
                    best = 1.0;
                }
            }
            best
        })
        .sum();
    total / words.len() as f64
}

fn word_similarity(text_word: &str, name_word: &str) -> f64 {
    if text_word == name_word {
        return 1.0;
    }
    let (a, b) = (text_word.chars().count(), name_word.chars().count());
    if a < 4 || b < 4 {
        return 0.0;
    }
    if text_word.strip_suffix('s') == Some(name_word)
        || name_word.strip_suffix('s') == Some(text_word)
    {
        return 0.95;
    }
    if (a.min(b) as f64) / (a.max(b) as f64) < 0.75 {
        return 0.0;
    }
    let jw = strsim::jaro_winkler(text_word, name_word);
    if jw >= 0.9 { jw } else { 0.0 }
}

/// The staff member the text names, if exactly one.
pub fn match_staff(tokens: &Tokens, staff: &[StaffInfo]) -> Option<Uuid> {
    let hits: Vec<Uuid> = staff
        .iter()
        .filter(|s| {
            Tokens::new(&s.name).words().iter().any(|n| {
                n.chars().count() >= 3
                    && tokens.words().iter().any(|w| {
                        w == n || (n.chars().count() >= 5 && strsim::osa_distance(w, n) <= 1)
                    })
            })
        })
        .map(|s| s.id)
        .collect();
    match hits.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

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
            },
            StaffInfo {
                id: uuid(102),
                name: "Wanjiru Kamau".into(),
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
            ("blow-dry tafadhali", Some(7)),
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

    #[test]
    fn staff_matching() {
        let staff = demo_staff();
        let m = |t: &str| match_staff(&Tokens::new(t), &staff).map(|u| u.as_u128());
        assert_eq!(m("with Akinyi please"), Some(101));
        assert_eq!(m("na Wanjiru"), Some(102));
        assert_eq!(m("Wanjru"), Some(102));
        assert_eq!(m("anyone"), None);
    }
}
