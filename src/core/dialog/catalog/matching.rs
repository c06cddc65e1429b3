//! Matching what the customer typed against the tenant's services and
//! staff: names with typos, plurals, glued and split words, the shared
//! synonyms of salon services, and several services in one request.

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

use super::{ServiceInfo, StaffInfo};
use crate::core::dialog::lexicon::{self, ServiceSynonym};
use crate::core::dialog::text::Tokens;

const STOPWORDS: &[&str] = &[
    "and", "na", "ya", "wa", "za", "la", "the", "of", "for", "with", "a", "an", "kwa", "&",
];

/// Services the text mentions, best first, each with a score in (0, 1].
///
/// A service is matched by the words of its names (English and Swahili,
/// with typos, plurals, glued and split words tolerated), by a word only
/// that service's names contain ("braids" for "Box Braids"), and by the
/// shared synonyms of salon services ([`lexicon::SERVICE_SYNONYMS`]: "locs",
/// "mani", "kinyozi", "kucha za miguu"), which name a kind of service and
/// find it in any catalogue through the kind's words in the service names.
pub fn match_services(tokens: &Tokens, services: &[ServiceInfo]) -> Vec<(Uuid, f64)> {
    let mut scored: Vec<(Uuid, f64)> = hits(tokens, services)
        .into_iter()
        .filter(|h| h.score >= 0.5)
        .map(|h| (h.id, h.score))
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    scored
}

/// The services of a kind the text names ("the nails one": manicure,
/// pedicure, gel nails), by the kind's marks in each service's names.
pub fn services_of_kind(tokens: &Tokens, services: &[ServiceInfo]) -> Vec<Uuid> {
    let kinds: Vec<&[&str]> = lexicon::SERVICE_KINDS
        .iter()
        .filter(|(words, _)| words.iter().any(|w| tokens.has(w)))
        .map(|(_, marks)| *marks)
        .collect();
    services
        .iter()
        .filter(|s| {
            let names = format!("{} {}", s.name, s.name_sw.as_deref().unwrap_or(""));
            let names = Tokens::plain(&names);
            kinds
                .iter()
                .any(|marks| names.words().iter().any(|w| marks.contains(&w.as_str())))
        })
        .map(|s| s.id)
        .collect()
}

/// The one service the text clearly means: the best match, ahead of the
/// runner-up by a margin.
pub fn clear_service(tokens: &Tokens, services: &[ServiceInfo]) -> Option<Uuid> {
    let m = match_services(tokens, services);
    match m.as_slice() {
        [] => None,
        [(id, _)] => Some(*id),
        [(id, a), (_, b), ..] => (a - b >= CLEAR_MARGIN).then_some(*id),
    }
}

/// Every distinct service the text clearly names, in order of mention
/// ("manicure and pedicure", "mani pedi", "kukata nywele na nyusi", "braids
/// for me and cornrows for my daughter"). A service named twice appears
/// once; words that only fit a longer name already chosen ("blow dry" in
/// "hair wash and blow dry") add no other service, and words that fit two
/// services equally well ("kucha") name neither.
pub fn services_mentioned(tokens: &Tokens, services: &[ServiceInfo]) -> Vec<Uuid> {
    let mut candidates: Vec<Hit> = hits(tokens, services)
        .into_iter()
        .filter(|h| h.score >= MENTION_MIN && !h.positions.is_empty())
        .collect();
    // Best first; of equal scores the longer name first, so that its
    // words are not taken by a shorter name inside it.
    candidates.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.positions.len().cmp(&a.positions.len()))
    });
    let mut covered: BTreeSet<usize> = BTreeSet::new();
    let mut chosen: Vec<&Hit> = Vec::new();
    let text = tokens.words();
    for (k, c) in candidates.iter().enumerate() {
        // Only generic words left once better names took theirs ("kuosha
        // na kuseti nywele" is Wash & Set; "nywele" alone names no other).
        let fresh_meaning = c
            .positions
            .iter()
            .any(|&p| !covered.contains(&p) && text.get(p).is_some_and(|w| meaningful(w)));
        if c.positions.is_subset(&covered) || (!c.positions.is_disjoint(&covered) && !fresh_meaning)
        {
            continue;
        }
        let mut named = true;
        for (j, r) in candidates.iter().enumerate() {
            let close = r.score > c.score - CLEAR_MARGIN;
            if j == k || !close || r.positions.is_subset(&covered) {
                continue;
            }
            // Each has words of its own besides the shared ones ("kusuka
            // rasta … na mimi nataka mabutu"): two services, not a rival.
            let own = |a: &Hit, b: &Hit| {
                a.positions
                    .difference(&b.positions)
                    .any(|&p| text.get(p).is_some_and(|w| meaningful(w)))
            };
            if r.positions.is_disjoint(&c.positions) || (own(c, r) && own(r, c)) {
                continue;
            }
            let r_longer = r.positions.is_superset(&c.positions) && r.positions != c.positions;
            let c_longer = c.positions.is_superset(&r.positions) && r.positions != c.positions;
            // A longer name nearly as good explains these words; a rival for
            // the same or crossing words makes them ambiguous.
            if r_longer || !c_longer {
                named = false;
                break;
            }
        }
        if named {
            covered.extend(c.positions.iter().copied());
            chosen.push(c);
        }
    }
    chosen.sort_by_key(|h| h.positions.first().copied().unwrap_or(usize::MAX));
    chosen.into_iter().map(|h| h.id).collect()
}

/// "both", "zote", "all of them" after two or three services were talked
/// about (`earlier`), with one of them named: every one of them, those
/// this turn names first ("book both, manicure first"; a bare "both" is
/// left to the step that offered them). People are not services: "both of
/// us", "sisi wote" say nothing here.
pub fn with_the_rest(tokens: &Tokens, named: Vec<Uuid>, earlier: &[Uuid]) -> Vec<Uuid> {
    const ALL: &[&str] = &[
        "both",
        "both of them",
        "them both",
        "all of them",
        "all three",
        "zote",
        "vyote",
        "zote mbili",
        "vyote viwili",
        "hizo mbili",
        "hizo zote",
        "huduma zote",
    ];
    const PEOPLE: &[&str] = &[
        "both of us",
        "us both",
        "the two of us",
        "sisi wote",
        "wote wawili",
        "sote",
        "both my",
        "both of my",
    ];
    let all = ALL.iter().any(|p| tokens.has(p));
    if !all
        || named.is_empty()
        || PEOPLE.iter().any(|p| tokens.has(p))
        || !(2..=3).contains(&earlier.len())
        || named.len() >= earlier.len()
        || !named.iter().all(|s| earlier.contains(s))
    {
        return named;
    }
    let rest: Vec<Uuid> = earlier
        .iter()
        .copied()
        .filter(|s| !named.contains(s))
        .collect();
    [named, rest].concat()
}

/// The positions of the words a service match has taken (any service
/// named with at least [`MENTION_MIN`]): "manage cure" is Manicure, so
/// neither word can also ask for the manager.
pub fn service_words(tokens: &Tokens, services: &[ServiceInfo]) -> BTreeSet<usize> {
    hits(tokens, services)
        .into_iter()
        .filter(|h| h.score >= MENTION_MIN)
        .flat_map(|h| h.positions)
        .collect()
}

/// A word that can tell one service from another.
fn meaningful(word: &str) -> bool {
    !GENERIC_WORDS.contains(&word) && !STOPWORDS.contains(&word)
}

/// Words of service names that say what is worked on, not which service.
const GENERIC_WORDS: &[&str] = &[
    "hair",
    "nywele",
    "nails",
    "nail",
    "kucha",
    "treatment",
    "service",
    "style",
    "styling",
    "kutengeneza",
    "kupaka",
    "full",
    "basic",
    "deluxe",
    "kids",
    "watoto",
    "adult",
    "men",
    "women",
    "ladies",
    "wanaume",
    "wanawake",
    "session",
];

/// How far the best match must lead the runner-up to be clear.
const CLEAR_MARGIN: f64 = 0.15;
/// The least score for a service to count as named in a list.
const MENTION_MIN: f64 = 0.6;

/// One service's match against the text: its score and the positions of
/// the words that named it.
#[derive(Debug, Clone)]
struct Hit {
    id: Uuid,
    score: f64,
    positions: BTreeSet<usize>,
}

fn hits(tokens: &Tokens, services: &[ServiceInfo]) -> Vec<Hit> {
    let names: Vec<Vec<Vec<String>>> = services
        .iter()
        .map(|s| {
            std::iter::once(&s.name)
                .chain(s.name_sw.iter())
                .map(|n| content_words(n))
                .collect()
        })
        .collect();
    // Words that name exactly one service ("haircut", "braids") identify it
    // on their own, even inside a long name ("Haircut & Blow-dry").
    let mut owners: BTreeMap<&str, BTreeSet<Uuid>> = BTreeMap::new();
    for (s, variants) in services.iter().zip(&names) {
        for w in variants.iter().flatten() {
            owners.entry(w.as_str()).or_default().insert(s.id);
        }
    }
    let distinctive =
        |w: &str| w.chars().count() >= 5 && owners.get(w).is_some_and(|o| o.len() == 1);
    let synonyms = synonym_hits(tokens);
    let text = tokens.words();
    // A word that is (a typo of) a word of some service's name is no half
    // of another in a recogniser's split ("kusukwa kitu" is no "kusokota").
    let names_one: Vec<bool> = text
        .iter()
        .map(|w| owners.keys().any(|o| word_similarity(w, o) >= 0.9))
        .collect();
    services
        .iter()
        .zip(&names)
        .filter_map(|(s, variants)| {
            let mut hit = Hit {
                id: s.id,
                score: 0.0,
                positions: BTreeSet::new(),
            };
            for words in variants {
                let (mut score, positions, matched) = name_score(text, words);
                // Part of a name, in words another service's names have too
                // ("kucha" is in three nail services) or that any service of
                // the kind could have ("hair"): not this one's name.
                let generic = matched.iter().all(|m| GENERIC_WORDS.contains(&m.as_str()));
                let shared = generic
                    || services.iter().zip(&names).any(|(other, other_names)| {
                        other.id != s.id
                            && matched
                                .iter()
                                .all(|m| other_names.iter().flatten().any(|w| w == m))
                    });
                if score < 0.99 && shared {
                    score = score.min(0.45);
                }
                hit.score = hit.score.max(score);
                hit.positions.extend(positions);
                for nw in words.iter().filter(|w| distinctive(w)) {
                    let at: Vec<usize> = (0..text.len())
                        .filter(|&i| word_similarity(&text[i], nw) >= 0.9)
                        .collect();
                    // A recogniser's split of the word: "pedic your",
                    // "corn rose" sound like "pedicure", "cornrows".
                    let key = sound_key(nw);
                    let split: Vec<usize> = (0..text.len().saturating_sub(1))
                        .filter(|&i| {
                            key.len() >= 4
                                && !at.contains(&i)
                                && !at.contains(&(i + 1))
                                && !names_one[i]
                                && !names_one[i + 1]
                                && !both_words(&text[i], &text[i + 1])
                                && sound_key(&format!("{}{}", text[i], text[i + 1])) == key
                        })
                        .flat_map(|i| [i, i + 1])
                        .collect();
                    // In three, around a short word: "man a cure".
                    let split3: Vec<usize> = (0..text.len().saturating_sub(2))
                        .filter(|&i| {
                            key.len() >= 4
                                && text[i + 1].chars().count() <= 2
                                && text[i].chars().count() >= 3
                                && text[i + 2].chars().count() >= 3
                                && text[i + 1].chars().all(|c| "aeiouhy".contains(c))
                                && (i..i + 3).all(|j| !at.contains(&j) && !names_one[j])
                                && word_similarity(
                                    &format!("{}{}{}", text[i], text[i + 1], text[i + 2]),
                                    nw,
                                ) >= 0.85
                        })
                        .flat_map(|i| [i, i + 1, i + 2])
                        .collect();
                    let split = [split, split3].concat();
                    if !at.is_empty() || !split.is_empty() {
                        hit.score = hit.score.max(0.6);
                        hit.positions.extend(at);
                        hit.positions.extend(split);
                    }
                }
            }
            for (synonym, at) in &synonyms {
                let coverage = variants
                    .iter()
                    .map(|words| {
                        let kind = words
                            .iter()
                            .filter(|w| synonym.targets.iter().any(|t| same_word(w, t)))
                            .count();
                        kind as f64 / words.len().max(1) as f64
                    })
                    .fold(0.0, f64::max);
                if coverage > 0.0 {
                    hit.score = hit.score.max(0.6 + 0.35 * coverage);
                    hit.positions.extend(at.iter().copied());
                }
            }
            (hit.score > 0.0).then_some(hit)
        })
        .collect()
}

/// Two words in their own right, no recogniser's split of one ("birthday
/// is" is not "braids", "sawa panga" not "shaping").
fn both_words(a: &str, b: &str) -> bool {
    lexicon::is_known(a) && lexicon::is_known(b)
}

/// A word's consonant skeleton as it sounds: vowels, y, w and h dropped,
/// letters that sound alike merged, repeats collapsed ("pedicure" and
/// "pedicyour" are both "ptkr").
fn sound_key(word: &str) -> String {
    let mut key = String::new();
    for c in word.chars().filter(char::is_ascii_alphabetic) {
        let k = match c.to_ascii_lowercase() {
            'a' | 'e' | 'i' | 'o' | 'u' | 'y' | 'w' | 'h' => continue,
            'c' | 'k' | 'q' | 'g' => 'k',
            's' | 'z' | 'x' => 's',
            'd' | 't' => 't',
            'b' | 'p' => 'p',
            'v' | 'f' => 'f',
            other => other,
        };
        if !key.ends_with(k) {
            key.push(k);
        }
    }
    key
}

/// The words of a service name that carry meaning.
fn content_words(name: &str) -> Vec<String> {
    Tokens::plain(name)
        .words()
        .iter()
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .cloned()
        .collect()
}

/// The service kinds the text names through the shared synonyms, each with
/// the positions of its shortest phrase found (so "mani pedi" gives "mani"
/// to manicure and "pedi" to pedicure).
fn synonym_hits(tokens: &Tokens) -> Vec<(&'static ServiceSynonym, Vec<usize>)> {
    let text = tokens.words();
    lexicon::SERVICE_SYNONYMS
        .iter()
        .filter_map(|synonym| {
            synonym
                .phrases
                .iter()
                .filter_map(|phrase| {
                    let parts: Vec<&str> = phrase.split(' ').collect();
                    find_phrase(text, &parts)
                        .filter(|&start| {
                            // "kuchonga nyusi", "nyusi zichongwe": the brows.
                            let brows = |i: Option<usize>| {
                                i.and_then(|i| text.get(i))
                                    .is_some_and(|w| lexicon::BROWS.contains(&w.as_str()))
                            };
                            !(lexicon::carves(phrase)
                                && (brows(start.checked_sub(1)) || brows(Some(start + 1))))
                        })
                        .map(|start| (start..start + parts.len()).collect())
                })
                .min_by_key(|at: &Vec<usize>| at.len())
                .map(|at| (synonym, at))
        })
        .collect()
}

/// The first position where `parts` occur in `text`, words of five letters
/// or more allowed a typo.
fn find_phrase(text: &[String], parts: &[&str]) -> Option<usize> {
    if parts.is_empty() || parts.len() > text.len() {
        return None;
    }
    (0..=text.len() - parts.len()).find(|&start| {
        parts.iter().enumerate().all(|(k, p)| {
            let w = text[start + k].as_str();
            w == *p || (p.chars().count() >= 5 && word_similarity(w, p) >= 0.9)
        })
    })
}

/// How well the text covers one name's words (mean of each word's best
/// similarity), the positions of the text words that matched, and the name
/// words they matched.
fn name_score(text: &[String], words: &[String]) -> (f64, BTreeSet<usize>, Vec<String>) {
    if words.is_empty() {
        return (0.0, BTreeSet::new(), Vec::new());
    }
    let mut matched = Vec::new();
    let mut positions = BTreeSet::new();
    let mut total = 0.0;
    for (k, nw) in words.iter().enumerate() {
        let mut best: f64 = 0.0;
        let mut at: Vec<usize> = Vec::new();
        for (i, tw) in text.iter().enumerate() {
            let mut sim = word_similarity(tw, nw);
            let mut span = vec![i];
            // "hair cut" for "haircut"
            if let Some(next) = text.get(i + 1)
                && format!("{tw}{next}") == **nw
            {
                sim = 1.0;
                span.push(i + 1);
            }
            // "boxbraids" for "box braids"
            let glued = |a: &str, b: &str| {
                // Byte lengths first (one edit moves them by at most four):
                // most pairs stop here.
                if (a.len() + b.len()).abs_diff(tw.len()) > 4 {
                    return false;
                }
                let joined = format!("{a}{b}");
                strsim::osa_distance(tw, &joined) <= lexicon::allowed_edits(joined.len()).min(1)
            };
            if words.get(k + 1).is_some_and(|next| glued(nw, next))
                || (k > 0 && glued(&words[k - 1], nw))
            {
                sim = 1.0;
            }
            if sim > best {
                best = sim;
                at = span;
            }
        }
        if best > 0.0 {
            positions.extend(at);
            matched.push(nw.clone());
        }
        total += best;
    }
    (total / words.len() as f64, positions, matched)
}

/// The same word up to a plural "s": tenants spell their service names,
/// so a kind's words are looked for exactly ("braid" is not "bridal").
fn same_word(name_word: &str, kind_word: &str) -> bool {
    name_word == kind_word
        || name_word.strip_suffix('s') == Some(kind_word)
        || kind_word.strip_suffix('s') == Some(name_word)
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
    // A word in its own right is not a typo of a name's word ("kupata",
    // to get, is not "kukata"; "kuosha", to wash, is not "kukausha").
    if (a.min(b) as f64) / (a.max(b) as f64) < 0.75 || lexicon::is_known(text_word) {
        return 0.0;
    }
    let jw = strsim::jaro_winkler(text_word, name_word);
    if jw >= 0.9 { jw } else { 0.0 }
}

/// The staff member the text names, if exactly one.
pub fn match_staff(tokens: &Tokens, staff: &[StaffInfo]) -> Option<Uuid> {
    let words = tokens.words();
    // Where each staff member is named.
    let named: Vec<(Uuid, Vec<usize>)> = staff
        .iter()
        .map(|s| {
            let names = Tokens::new(&s.name);
            let at: Vec<usize> = (0..words.len())
                .filter(|&i| {
                    let w = &words[i];
                    names.words().iter().any(|n| {
                        n.chars().count() >= 3
                            && (w == n
                                // "kama" (as, like) is not a typo of "Kamau".
                                || (n.chars().count() >= 5
                                    && !lexicon::is_known(w)
                                    && w.len().abs_diff(n.len()) <= 4
                                    && strsim::osa_distance(w, n) <= 1))
                    })
                })
                .collect();
            (s.id, at)
        })
        .filter(|(_, at)| !at.is_empty())
        .collect();
    // "not with Brian, with Achieng", "si Brian, nataka Achieng", "Achieng
    // instead of Brian": of two named, the one not turned down.
    let turned_down = |at: &[usize]| {
        at.iter().all(|&i| {
            let before = |k: usize| i.checked_sub(k).map_or("", |j| words[j].as_str());
            matches!(before(1), "not" | "si" | "sio" | "siyo" | "sitaki")
                || (matches!(before(1), "with" | "na") && matches!(before(2), "not" | "si" | "sio"))
                || matches!(
                    (before(2), before(1)),
                    ("instead", "of") | ("badala", "ya") | ("rather", "than")
                )
        })
    };
    let wanted: Vec<Uuid> = if named.len() >= 2 {
        named
            .iter()
            .filter(|(_, at)| !turned_down(at))
            .map(|(id, _)| *id)
            .collect()
    } else {
        named.iter().map(|(id, _)| *id).collect()
    };
    match wanted.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}
