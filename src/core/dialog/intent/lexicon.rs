//! Word and phrase lists written compactly (one string, phrases separated by
//! commas) and matched against [`Tokens`] with their positions, so callers
//! can reason about what comes before or after a match. A word written
//! `=word` must match exactly (no typo tolerance), for words with a common
//! neighbour one letter away ("mtaona" / "mnaona").

use crate::core::dialog::text::{Tokens, word_matches};

/// The phrases of a comma-separated list, trimmed, empty ones skipped.
pub fn phrases(list: &'static str) -> impl Iterator<Item = &'static str> {
    list.split(',').map(str::trim).filter(|p| !p.is_empty())
}

/// Whether the words of `phrase` occur at `start`.
pub fn matches_at(words: &[String], start: usize, phrase: &str) -> bool {
    let mut i = start;
    for part in phrase.split_whitespace() {
        match words.get(i) {
            Some(w) if word_is(w, part) => i += 1,
            _ => return false,
        }
    }
    i > start
}

/// A word of a phrase: exact when written `=word`, otherwise with the
/// usual typo tolerance of [`word_matches`].
fn word_is(word: &str, part: &str) -> bool {
    match part.strip_prefix('=') {
        Some(exact) => word == exact,
        None => word_matches(word, part),
    }
}

/// Every match of any phrase of `list`, as (start, length in words), sorted
/// by start.
pub fn spans(tokens: &Tokens, list: &'static str) -> Vec<(usize, usize)> {
    let words = tokens.words();
    let mut out = Vec::new();
    for phrase in phrases(list) {
        let len = phrase.split_whitespace().count();
        for start in 0..words.len() {
            if matches_at(words, start, phrase) {
                out.push((start, len));
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Whether any phrase of `list` occurs.
pub fn any(tokens: &Tokens, list: &'static str) -> bool {
    let words = tokens.words();
    phrases(list).any(|p| (0..words.len()).any(|s| matches_at(words, s, p)))
}

/// Whether the word at `i` is exactly one of the words of `list`
/// (comma-separated, single words; no typo tolerance).
pub fn is_word(word: &str, list: &'static str) -> bool {
    phrases(list).any(|p| p == word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_positions_of_every_phrase() {
        let t = Tokens::new("ok, go ahead and book it ok");
        assert_eq!(spans(&t, "ok, go ahead"), vec![(0, 1), (1, 2), (6, 1)]);
        assert!(any(&t, "book it"));
        assert!(!any(&t, "book him"));
        assert!(is_word("ok", "yes, ok"));
        assert!(!is_word("okay", "yes, ok"));
        let t = Tokens::new("mnaona");
        assert!(any(&t, "mtaona"));
        assert!(!any(&t, "=mtaona"));
    }
}
