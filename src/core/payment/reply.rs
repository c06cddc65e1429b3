//! What a customer means while an M-Pesa prompt is pending on their phone:
//! on a call while the hold waits for the PIN, in a chat while the payment
//! is open. One reader for both, on the dialog's tokens (typos, Sheng
//! spellings and glued words already read) and its phrase lists, with
//! positions so that what a verb applies to can be checked.
//!
//! The reader is careful about the one answer that loses a booking: a
//! cancel needs a cancel verb that is not negated ("don't cancel",
//! "usiifute"), not a report of pressing the prompt's Cancel button or of a
//! mistake ("I cancelled the prompt by mistake, send again"), and whose
//! object is the booking, "it" or nothing, never the prompt or M-Pesa
//! ("forget mpesa, nitalipa na card"). A plain "no", "not yet" or "bado"
//! is never a cancel while a prompt is pending: it answers whether the
//! prompt came.
//!
//! Two answers are not the payment's at all: a change to the booking
//! ("make it 3pm instead", "badilisha iwe pedicure") is the booking
//! dialog's, and a payment gone wrong (money taken with no confirmation,
//! paid twice, a wrong amount) is a person's, reached through the dialog's
//! hand-off.

use crate::core::dialog::intent::is_payment_problem;
use crate::core::dialog::intent::lexicon::{any, is_word, matches_at, phrases, spans};
use crate::core::dialog::lexicon::is_day_word;
use crate::core::dialog::numbers::{en_small, sw_small};
use crate::core::dialog::text::Tokens;
use crate::core::ids::PhoneNumber;

mod change;
mod words;

use words::*;

/// What the customer meant while a payment prompt is pending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PendingReply {
    /// Give up the booking ("cancel it", "futa hiyo booking").
    Cancel,
    /// Send the prompt again ("tuma tena", "I dismissed it, send again").
    Resend,
    /// The prompt has not arrived ("sijapata", "no not yet").
    NotReceived,
    /// Says the payment is made ("nimelipa", "done", "entered the PIN").
    Paid,
    /// Pay by card or a link instead.
    Card,
    /// Pay later: cash at the salon, on arrival, another day.
    CashLater,
    /// Another phone should get the prompt; the number when one was given.
    OtherNumber(Option<PhoneNumber>),
    /// A moment, please ("ngoja kidogo", "hold on").
    Wait,
    /// A change to the booking: another time, day, service or stylist
    /// ("make it 2pm instead", "badilisha iwe saa nane kwanza").
    Change,
    /// A payment gone wrong that a person must look into: money taken with
    /// no confirmation, paid twice, a wrong amount or payee
    /// ("pesa zimekatwa bila confirmation", "nimelipa mara mbili").
    Problem,
    /// Anything else: a question, noise.
    Other,
}

/// The answer to a yes/no question of the hold ("Shall I send the payment
/// request?", "Shall I send it again?").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    Yes,
    No,
    Unclear,
}

impl PendingReply {
    pub fn read(text: &str) -> Self {
        Self::of(&Message::new(text))
    }

    /// The reading in priority order: where a message carries two
    /// meanings, the one that acts on the more specific request wins
    /// ("haijafika, tuma tena" resends; "tuma kwa 0722…" goes to that
    /// number; a card link is sent before a retry is pushed).
    fn of(m: &Message) -> Self {
        let t = &m.tokens;
        // Before everything: a double payment or money gone astray is a
        // person's, whatever else the message asks ("paid twice, send
        // again" must not get a third prompt).
        if m.problem {
            return Self::Problem;
        }
        if let Some(number) = phone_number(t) {
            return Self::OtherNumber(Some(number));
        }
        if another_phone(t) {
            return Self::OtherNumber(None);
        }
        let cancel = cancels(m);
        if cancel == Some(Strength::Clear) {
            return Self::Cancel;
        }
        if wants_card(t) {
            return Self::Card;
        }
        if resends(t) {
            return Self::Resend;
        }
        // Before "paid" and "wait": "ngoja, make it 3pm instead then I pay".
        if change::changes(m, cancel.is_some()) {
            return Self::Change;
        }
        if says_paid(t) {
            return Self::Paid;
        }
        if not_received(t) || not_received(&m.written) {
            return Self::NotReceived;
        }
        if pays_later(t) {
            return Self::CashLater;
        }
        if waits(t) {
            return Self::Wait;
        }
        // "forget it", "stop", "acha tu": a cancel when nothing else was
        // meant ("stop, it's coming now" waits).
        if cancel == Some(Strength::Loose) {
            return Self::Cancel;
        }
        Self::Other
    }
}

impl Consent {
    pub fn read(text: &str) -> Self {
        let m = Message::new(text);
        let t = &m.tokens;
        match PendingReply::of(&m) {
            PendingReply::Cancel
            | PendingReply::Card
            | PendingReply::CashLater
            | PendingReply::OtherNumber(_) => return Self::No,
            PendingReply::Resend | PendingReply::Paid => return Self::Yes,
            PendingReply::NotReceived
            | PendingReply::Wait
            | PendingReply::Change
            | PendingReply::Problem
            | PendingReply::Other => {}
        }
        let short = t.len() <= 3;
        let said = |list: &'static str| {
            spans(t, list)
                .iter()
                .any(|&(start, _)| (start == 0 || short) && !negated(t, start))
        };
        if any(t, "no problem, no worries, hakuna shida, hakuna noma") {
            return Self::Yes;
        }
        if any(t, REFUSE) || said(NO) {
            return Self::No;
        }
        if said(YES) || any(t, GO_AHEAD) {
            return Self::Yes;
        }
        Self::Unclear
    }
}

/// One message, read three ways.
struct Message {
    /// The dialog's normalised tokens.
    tokens: Tokens,
    /// Only lower-cased: Swahili verb forms are read from it too, because
    /// the spelling corrector knows nouns and days, not verbs ("sioni", I
    /// do not see, is not "jioni"; "sikupata" is not "siku pata").
    written: Tokens,
    /// The tokens of each clause between punctuation, where what a verb
    /// applies to is looked for ("stop, I'll come another day").
    clauses: Vec<Tokens>,
    /// A payment problem for a person (the dialog's own reading).
    problem: bool,
}

impl Message {
    fn new(text: &str) -> Self {
        let clauses = text
            .split([',', '.', '!', '?', ';', '\n'])
            .map(Tokens::new)
            .filter(|c| !c.is_empty())
            .collect();
        Self {
            tokens: Tokens::new(text),
            written: Tokens::plain(text),
            clauses,
            problem: is_payment_problem(text),
        }
    }
}

/// A phone number written in digits ("0722 000 555", "+254 711…") or said
/// digit by digit ("zero seven two two…").
fn phone_number(t: &Tokens) -> Option<PhoneNumber> {
    let digit = |w: &str| -> Option<String> {
        if !w.is_empty()
            && w.trim_start_matches('+')
                .chars()
                .all(|c| c.is_ascii_digit())
        {
            return Some(w.to_owned());
        }
        let n = match w {
            "oh" => Some(0),
            _ => en_small(w).or_else(|| sw_small(w)),
        };
        n.filter(|n| *n < 10).map(|n| n.to_string())
    };
    let mut run = String::new();
    for w in t.words().iter().map(String::as_str).chain([""]) {
        match digit(w) {
            Some(d) => run.push_str(&d),
            None => {
                if run.trim_start_matches('+').len() >= 9
                    && let Ok(number) = PhoneNumber::parse(&run)
                {
                    return Some(number);
                }
                run.clear();
            }
        }
    }
    None
}

/// "my other number", "a different line", "tuma kwa namba ya bibi yangu",
/// "sister yangu atalipa": someone else's phone or payment.
fn another_phone(t: &Tokens) -> bool {
    const PHONE: &str = "number, namba, nambari, line, phone, simu";
    const WHOSE: &str = "other, another, different, personal, second, ingine, nyingine, yake,
        mum, mom, mother, husband, wife, sister, brother, bwana, bibi, mama, dada, kaka,
        friend, rafiki, his, her, their";
    let near = |i: usize| {
        (i.saturating_sub(3)..(i + 4).min(t.len())).any(|j| j != i && starts(t, j, WHOSE))
    };
    spans(t, PHONE).iter().any(|&(i, _)| near(i)) || any(t, "atalipa, atanilipia")
}

/// How sure a cancel is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Strength {
    /// A verb that gives up many things, with "it" or nothing after it.
    Loose,
    /// A cancel verb, or a verb whose object is the booking.
    Clear,
}

/// A real cancel of the booking (see the module docs), in some clause.
fn cancels(m: &Message) -> Option<Strength> {
    if any(&m.tokens, MISTAKE) {
        return None;
    }
    let found = m.clauses.iter().filter_map(cancels_in).max();
    // "forget it, I'm not coming": not the prompt, the visit.
    if found == Some(Strength::Loose) && any(&m.tokens, NOT_COMING) {
        return Some(Strength::Clear);
    }
    found
}

/// A cancel verb in one clause that applies to the booking.
fn cancels_in(t: &Tokens) -> Option<Strength> {
    if any(t, INSTEAD) {
        return None;
    }
    // (start, length, whether any object but the prompt will do)
    let mut verbs: Vec<(usize, usize, bool)> = spans(t, CANCEL)
        .into_iter()
        .map(|(i, n)| (i, n, true))
        .collect();
    verbs.extend(spans(t, GIVE_UP).into_iter().map(|(i, n)| (i, n, false)));
    verbs.extend(
        (0..t.len())
            .filter(|&i| sw_verb(t.at(i), SW_SUBJECT, CANCEL_ROOTS, false))
            .map(|i| (i, 1, true)),
    );
    let by_verb = verbs.iter().filter_map(|&(i, len, specific)| {
        let verb = t.at(i);
        // "acha nione", "wacha nifikirie": let me see, let me think.
        let let_me = matches!(verb, "acha" | "wacha") && t.at(i + 1).starts_with("ni");
        // "niliclick cancel": the prompt's own button.
        let pressed = i > 0 && is_word(t.at(i - 1), PRESSED);
        // "what if I cancel", "can I cancel it later".
        let supposed = (i.saturating_sub(3)..i).any(|j| {
            starts(t, j, SUPPOSE) && (j + 1..i).any(|k| is_word(t.at(k), "i, we, you, u"))
        }) || (i + len..(i + len + 3).min(t.len())).any(|j| starts(t, j, NOT_NOW));
        if let_me || pressed || supposed || negated(t, i) {
            return None;
        }
        let object = object(t, i + len);
        if specific {
            object_is_booking(t, i + len, is_word(verb, PAST_CANCEL)).then_some(Strength::Clear)
        } else if object.is_some_and(|j| starts(t, j, BOOKING) && !starts(t, j, "it, nayo")) {
            Some(Strength::Clear)
        } else if object.is_none_or(|j| starts(t, j, "it, nayo")) {
            Some(Strength::Loose)
        } else {
            None
        }
    });
    let dont_want = spans(t, DONT_WANT).iter().any(|&(i, len)| {
        !negated(t, i)
            && match object(t, i + len) {
                None => true,
                Some(j) => starts(t, j, WANT_OBJECT),
            }
    });
    let clear = dont_want || any(t, DONT_BOOK);
    by_verb.chain(clear.then_some(Strength::Clear)).max()
}

/// Whether the verb ending before `from` applies to the booking: its object
/// is the booking or "it", or (for an instruction, not a report) there is
/// none; never the prompt.
fn object_is_booking(t: &Tokens, from: usize, past: bool) -> bool {
    match object(t, from) {
        None => !past,
        Some(j) if starts(t, j, PAYMENT) => false,
        Some(j) if starts(t, j, BOOKING) => true,
        Some(_) => !past,
    }
}

/// The first word from `from` that is not a filler.
fn object(t: &Tokens, from: usize) -> Option<usize> {
    (from..t.len()).find(|&j| !is_word(t.at(j), SKIP))
}

/// Whether a phrase of `list` starts at word `j`.
fn starts(t: &Tokens, j: usize, list: &'static str) -> bool {
    phrases(list).any(|p| matches_at(t.words(), j, p))
}

/// Whether a phrase of `list` starts at or after word `from`.
fn any_from(t: &Tokens, from: usize, list: &'static str) -> bool {
    (from..t.len()).any(|j| starts(t, j, list))
}

/// Whether the word at `i` is negated by the one or two before it.
fn negated(t: &Tokens, i: usize) -> bool {
    let before = |k: usize| if i >= k { t.at(i - k) } else { "" };
    is_word(before(1), NEGATORS)
        || (before(1) == "t" && is_word(before(2), "don, didn, haven, won, can, hasn"))
        || (before(1) == "not" && is_word(before(2), "do, did, have, has"))
}

fn wants_card(t: &Tokens) -> bool {
    let card = spans(t, CARD)
        .iter()
        .any(|&(i, _)| i == 0 || !is_word(t.at(i - 1), "sim, simcard"));
    card || (any(t, LINK) && !any(t, LOCATION))
}

fn resends(t: &Tokens) -> bool {
    let alone = !t.is_empty()
        && t.words()
            .iter()
            .all(|w| is_word(w, RESEND_ALONE) || is_word(w, POLITE))
        && t.words().iter().any(|w| is_word(w, RESEND_ALONE));
    let again = spans(t, AGAIN);
    let mut verbs = spans(t, SEND);
    verbs.extend(
        (0..t.len())
            .filter(|&i| sw_verb(t.at(i), SEND_SUBJECT, SEND_ROOTS, false))
            .map(|i| (i, 1)),
    );
    let by_verb = verbs.iter().any(|&(i, len)| {
        let verb = t.at(i);
        let repeat = matches!(verb, "rudia" | "repeat");
        // "rudia" alone on a call asks to repeat what was said.
        let about_prompt = !repeat || object(t, i + len).is_some_and(|j| starts(t, j, PAYMENT));
        !negated(t, i)
            && about_prompt
            && (verb == "resend" || repeat || again.iter().any(|&(a, _)| a > i))
    });
    let own = spans(t, RESEND).iter().any(|&(i, _)| !negated(t, i));
    // "I cancelled it by mistake": the prompt is gone and wanted.
    let accident = any(t, MISTAKE) && any(t, CANCEL);
    alone || by_verb || own || accident
}

fn says_paid(t: &Tokens) -> bool {
    let phrase = spans(t, PAID).iter().any(|&(i, _)| !negated(t, i));
    let perfect = t.words().iter().enumerate().any(|(i, w)| {
        PERFECT.iter().any(|p| {
            let Some(stem) = w.strip_prefix(p) else {
                return false;
            };
            PAID_STEMS.contains(&stem)
                // "nimejust pay", "nimeweka pin", "nimeingiza pin".
                || (stem == "just" && is_word(t.at(i + 1), "pay, lipa, send, tuma"))
                || (matches!(stem, "weka" | "ingiza" | "enter") && t.at(i + 1) == "pin")
        })
    });
    phrase || perfect
}

/// Whether `word` is a Swahili verb form: one of `prefixes`, an optional
/// object marker, then one of `roots` (a root with its ending). With
/// `typo`, a root of four letters or more may be one edit away
/// ("sijapta"); not for verbs with a neighbour one letter away ("kufuta"
/// to delete, "kufuata" to follow).
fn sw_verb(word: &str, prefixes: &[&str], roots: &[&str], typo: bool) -> bool {
    let is_root = |rest: &str| {
        roots.iter().any(|r| {
            rest == *r
                || (typo
                    && word.len() >= 6
                    && r.len() >= 4
                    && rest.len().abs_diff(r.len()) <= 1
                    && strsim::osa_distance(rest, r) <= 1)
        })
    };
    prefixes.iter().any(|p| {
        word.strip_prefix(p).is_some_and(|rest| {
            SW_OBJECT
                .iter()
                .any(|o| rest.strip_prefix(o).is_some_and(is_root))
        })
    })
}

fn not_received(t: &Tokens) -> bool {
    let not_yet = t
        .words()
        .iter()
        .any(|w| sw_verb(w, NOT_YET, ARRIVE_ROOTS, true));
    // "sijalipa bado": not paid yet, which is no news about the prompt.
    let unpaid = t
        .words()
        .iter()
        .any(|w| sw_verb(w, NOT_YET, PAY_ROOTS, false));
    let nothing_came = spans(t, "hakuna")
        .iter()
        .any(|&(i, _)| is_word(t.at(i + 1), NOTHING_CAME));
    let short_not_yet = t.len() <= 4 && !unpaid && any(t, YET) && any(t, "not yet, bado, yet");
    // "hakuna", "nope", "no I haven't": nothing, as a whole answer.
    let nothing = t.len() <= 4
        && (any(t, "hakuna, nope, nothing")
            || (is_word(t.at(t.len().saturating_sub(1)), "havent, hasnt")
                || (t.len() >= 2
                    && t.at(t.len() - 1) == "t"
                    && is_word(t.at(t.len() - 2), "haven, hasn"))));
    not_yet || nothing_came || any(t, NOT_RECEIVED) || short_not_yet || nothing
}

fn pays_later(t: &Tokens) -> bool {
    let cash = spans(t, "cash")
        .iter()
        .any(|&(i, _)| i == 0 || !is_word(t.at(i - 1), "no, sina, hakuna"));
    // "nitalipa saa nane", "I'll pay at 3pm": a time after the verb.
    let later_after = |i: usize| {
        any_from(t, i, LATER)
            || t.words().iter().skip(i).any(|w| is_day_word(w))
            || change::names_when(&Tokens::from_words(t.words()[i.min(t.len())..].to_vec()))
    };
    let mut pays = spans(t, PAY);
    pays.extend(
        (0..t.len())
            .filter(|&i| sw_verb(t.at(i), PAY_SUBJECT, PAY_ROOTS, false))
            .map(|i| (i, 1)),
    );
    let pays: Vec<usize> = pays
        .into_iter()
        .filter(|&(i, _)| !negated(t, i))
        .map(|(i, len)| i + len)
        .collect();
    let later = pays.iter().any(|&after| later_after(after));
    // "later", "baadaye" as the whole answer.
    let just_later = t.len() <= 2 && any(t, NOT_NOW);
    cash || later || just_later || (!pays.is_empty() && any(t, NO_MONEY))
}

fn waits(t: &Tokens) -> bool {
    // "2min", "10mins".
    let minutes = t.words().iter().any(|w| {
        let letters = w.trim_start_matches(|c: char| c.is_ascii_digit());
        letters.len() < w.len() && is_word(letters, "min, mins, minutes, sec, secs")
    });
    let let_me = spans(t, "acha, wacha")
        .iter()
        .any(|&(i, _)| t.at(i + 1).starts_with("ni"));
    // "usifute", "msiighairi": do not cancel.
    let keep = t
        .words()
        .iter()
        .any(|w| sw_verb(w, &["usi", "msi"], CANCEL_ROOTS, false));
    minutes || let_me || keep || any(t, WAIT)
}

#[cfg(test)]
mod tests;
