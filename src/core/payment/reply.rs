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

use crate::core::dialog::intent::lexicon::{any, is_word, matches_at, phrases, spans};
use crate::core::dialog::lexicon::is_day_word;
use crate::core::dialog::numbers::{en_small, sw_small};
use crate::core::dialog::text::Tokens;
use crate::core::ids::PhoneNumber;

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
    /// Anything else: a question, a change, a problem, noise.
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
        Self::of(&Tokens::new(text), &Tokens::plain(text))
    }

    /// The reading in priority order: where a message carries two
    /// meanings, the one that acts on the more specific request wins
    /// ("haijafika, tuma tena" resends; "tuma kwa 0722…" goes to that
    /// number; a card link is sent before a retry is pushed).
    ///
    /// `written` is the message only lower-cased: Swahili verb forms are
    /// read from it too, because the spelling corrector knows nouns and
    /// days, not verbs ("sioni", I do not see, is not "jioni").
    fn of(t: &Tokens, written: &Tokens) -> Self {
        if let Some(number) = phone_number(t) {
            return Self::OtherNumber(Some(number));
        }
        if another_phone(t) {
            return Self::OtherNumber(None);
        }
        if cancels(t) {
            return Self::Cancel;
        }
        if wants_card(t) {
            return Self::Card;
        }
        if resends(t) {
            return Self::Resend;
        }
        if says_paid(t) {
            return Self::Paid;
        }
        if not_received(t) || not_received(written) {
            return Self::NotReceived;
        }
        if pays_later(t) {
            return Self::CashLater;
        }
        if waits(t) {
            return Self::Wait;
        }
        Self::Other
    }
}

impl Consent {
    pub fn read(text: &str) -> Self {
        let t = Tokens::new(text);
        match PendingReply::of(&t, &Tokens::plain(text)) {
            PendingReply::Cancel
            | PendingReply::Card
            | PendingReply::CashLater
            | PendingReply::OtherNumber(_) => return Self::No,
            PendingReply::Resend | PendingReply::Paid => return Self::Yes,
            PendingReply::NotReceived | PendingReply::Wait | PendingReply::Other => {}
        }
        let short = t.len() <= 3;
        let said = |list: &'static str| {
            spans(&t, list)
                .iter()
                .any(|&(start, _)| (start == 0 || short) && !negated(&t, start))
        };
        if any(&t, "no problem, no worries, hakuna shida, hakuna noma") {
            return Self::Yes;
        }
        if any(&t, REFUSE) || said(NO) {
            return Self::No;
        }
        if said(YES) || any(&t, GO_AHEAD) {
            return Self::Yes;
        }
        Self::Unclear
    }
}

/// Words that carry no object: skipped when looking for what a verb
/// applies to.
const SKIP: &str = "the, my, this, that, these, those, all, hiyo, hii, ile, yangu, yako, yenu,
    pia, tu, bana, boss, please, kindly, basi, about, ya, la, kwa, sasa, now, just, mimi, me";

/// What the prompt is called: a verb applied to one of these is about the
/// prompt, not the booking.
const PAYMENT: &str = "prompt, prompts, request, ombi, mpesa, m pesa, stk, push, payment, malipo,
    pin, pop, popup, message, notification, transaction, pesa, money, charge, lipa, kulipa,
    paying, paybill, till";

/// What a booking is called, and "it": a cancel of one of these is one.
const BOOKING: &str = "booking, bookings, appointment, appointments, miadi, reservation,
    everything, it, kila kitu, order";

/// Verbs that give up a plan. Swahili forms are exact: their neighbours one
/// letter away are other verbs ("kufuta" to delete, "kufuata" to follow).
const CANCEL: &str = "cancel, cancell, cancelled, canceled, cancelling, canceling, kucancel,
    ucancel, icancel, nicancelie, tucancel, cancelisha, remove, delete, scrap, drop, forget,
    call off, call it off, stop, never mind, nevermind, =tuache, =tuwache, =kuacha, =tuachane,
    =tuwachane, =achana, =wachana, =acha, =wacha";

/// Swahili verbs that give up a plan (delete, remove, cancel), as
/// [`sw_verb`] roots with their endings.
const CANCEL_ROOTS: &[&str] = &[
    "futa", "fute", "futwe", "futie", "futia", "futeni", "ondoa", "ondoe", "ondolewe", "ghairi",
];

/// Subject, infinitive and perfect prefixes before a Swahili verb; not the
/// negative ones ("usi-", "si-"), and not "-ta-", which also begins other
/// verbs ("tafuta", to look for).
const SW_SUBJECT: &[&str] = &[
    "", "u", "i", "m", "tu", "ku", "ni", "ki", "wa", "na", "nime", "nme", "tume", "ume",
];

/// Cancel forms that report what happened (to the prompt, usually).
const PAST_CANCEL: &str = "cancelled, canceled, nilicancel, nimecancel, nlicancel, nmecancel";

/// Not wanting what follows.
const DONT_WANT: &str = "dont want, don t want, do not want, sitaki, sihitaji, hatutaki,
    not interested, sina interest, sina haja, no longer want";

/// Not wanting the booking at all.
const DONT_BOOK: &str = "dont book, don t book, do not book, usibook, usiweke, msiweke, msibook";

/// After a "don't want": the booking, it, or "any more".
const WANT_OBJECT: &str = "booking, appointment, miadi, it, anymore, any, tena, hiyo, everything";

/// The words before a verb that negate it.
const NEGATORS: &str = "dont, not, never, didnt, havent, wont, usi, sitaki, hatutaki, cannot";

/// Pressing the prompt's own Cancel button.
const PRESSED: &str = "click, clicked, niliclick, nimeclick, nikaclick, nmeclick, press, pressed,
    nilipress, tap, tapped, hit, bonyeza, nilibonyeza, nimebonyeza, nikabonyeza";

const MISTAKE: &str = "mistake, mistakenly, accidentally, accident, kimakosa, bahati mbaya";

const CARD: &str = "card, cards, kadi, visa, mastercard, master card, debit, credit card, amex,
    apple pay, google pay, paypal";

const LINK: &str = "link, links, kiungo, lnk";

/// A link to these is a map, not a payment.
const LOCATION: &str = "location, address, map, maps, directions, direction, located, wapi,
    ramani, eneo, building, place";

const SEND: &str = "send, sending, resend, tuma, utume, itume, litume, nitumie, nitumia,
    tutumie, tumeni, push, pushia, nipushie, jaribu, try, rudia, repeat";

const AGAIN: &str = "again, tena, another, ingine, nyingine, lingine, one more, once more,
    new one, afresh, mpya, jipya, upya";

/// Words that alone ask for the prompt again (the chat's "Reply RETRY /
/// TENA").
const RESEND_ALONE: &str = "resend, retry, tena, again";

/// Verbs that ask for the prompt again on their own.
const RESEND: &str = "resend, retry, re send, =rudisha, =irudishe, =rudishe, =nirudishie";

/// Fillers around a one-word answer.
const POLITE: &str = "please, pls, tafadhali, boss, bana, sir, madam, ok, okay, sawa, poa";

const PAID: &str = "paid, i paid, have paid, already paid, payment done, payment made,
    payment sent, done, sent, nimelipa, nmelipa, nimeshalipa, nmeshalipa, nimelipia,
    nmelipia, nimetuma, nmetuma, nimesend, nmesend, entered pin, entered the pin,
    entered my pin, niliweka pin, nimeingiza pin, =yametumwa, =imetumwa, =imekatwa, =imeenda,
    =imepita, successful, successfully, code is, receipt is, complete, completed,
    =yamefanyika, =imefanyika, =umepata pesa, =mmepata pesa, =umepokea, =mmepokea,
    did you receive, did you get the money, have you received";

/// Perfect-tense first person ("nime-", "nme-", Sheng "nimeshai-").
const PERFECT: &[&str] = &["nimesha", "nmesha", "nime", "nme"];

/// What a perfect-tense first person did that means it is paid.
const PAID_STEMS: &[&str] = &["lipa", "lipia", "tuma", "send", "pay", "maliza"];

/// Negative perfect ("not yet"): I have not, it has not.
/// Negative prefixes: not yet (sija-, haija-), did not (siku-, haiku-),
/// does not (si-, hai-).
const NOT_YET: &[&str] = &[
    "sija", "haija", "hatuja", "hija", "siku", "haiku", "hauku", "si", "hai", "hau", "hali",
];

/// What has not happened, for the prompt to count as not received: get,
/// see, receive, come in, arrive, come, show, with their endings.
const ARRIVE_ROOTS: &[&str] = &[
    "pata", "pati", "ona", "oni", "onekani", "onekana", "pokea", "pokei", "receive", "ingia",
    "ingii", "ingilia", "fika", "fiki", "fikia", "kuja", "ja", "kam", "tokea", "tokei", "pop",
    "get",
];

/// Swahili object markers between the prefix and the root.
const SW_OBJECT: &[&str] = &["", "i", "ni", "li", "ku", "m", "u", "ki", "wa", "tu"];

const NOT_RECEIVED: &str = "not received, not receive, havent received, haven t received,
    have not received, didnt get, didn t get, did not get, didnt receive, didn t receive,
    did not receive, haven t got, havent got, not got, nothing, no prompt, no request,
    no message, no notification, no pop, no popup, no stk, hasn t popped, hasnt popped,
    has not popped, not popped, hasn t come, has not come, not come, not arrived,
    hasn t arrived, hasnt come, hasnt arrived, not showing, cant see, can t see, dont see,
    don t see, havent seen, haven t seen, not seen, where is the prompt, still waiting,
    bado sijapata";

/// After "hakuna" (there is no …): what did not come.
const NOTHING_CAME: &str = "kitu, chochote, prompt, message, pop, popup, stk, ombi, request,
    notification, any, mpesa, sms, push";

/// "Not yet" answers, only when short: "sijalipa bado, nitalipa nikifika"
/// says something else.
const YET: &str = "not yet, bado, yet, no";

const PAY: &str = "pay, settle, nitakuletea, paying";

/// The Swahili "pay" with its endings ("nitalipa", "nitakulipa", "nilipe").
const PAY_ROOTS: &[&str] = &["lipa", "lipe", "lipia", "lipie"];

/// Future and subjunctive prefixes before "lipa": will pay, may I pay.
const PAY_SUBJECT: &[&str] = &[
    "", "ni", "tu", "ku", "na", "nita", "tuta", "nitaku", "naweza",
];

/// No money for the prompt now: a payment promised is for later.
const NO_MONEY: &str = "sina pesa, no money, hakuna pesa, haina pesa, iko low, is low,
    don t have money, dont have money";

/// After a pay verb: when or where that is not now.
const LATER: &str = "later, baadaye, badae, baadae, salon, arrival, arrive, in person,
    when i come, when i get there, on the day, siku hiyo, after, mkishamaliza, mkimaliza,
    kesho, tomorrow, hapo hapo, next week, wiki ijayo, nikija, shop, venue, reception";

const WAIT: &str = "wait, ngoja, ngojea, subiri, hold on, hold, one sec, sec, second, seconds,
    moment, minute, minutes, min, mins, dakika, brb, give me, nipe, nipatie, let me, nakuja,
    i m coming, loading, opening, driving, busy, nitaweka, when i park, in a bit, shortly,
    dont cancel, don t cancel, usiifute, usifute, usighairi, usicancel, sijalipa, getting,
    niko kwa, nko kwa, i m in, im in, am in";

const REFUSE: &str = "not now, no thanks, no thank you, sitaki, si sasa, later, baadaye, badae,
    hapana asante, sihitaji";

const NO: &str = "no, nope, nah, hapana, hapna, la";

const YES: &str = "yes, yeah, yea, yep, yup, ya, ok, okay, sure, fine, alright, ndio, ndiyo,
    sawa, poa, haya, fiti, endelea, proceed, send, tuma, go";

const GO_AHEAD: &str = "go ahead, send it, tuma tu, please do, try again, jaribu tena";

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

/// A real cancel of the booking (see the module docs).
fn cancels(t: &Tokens) -> bool {
    let mistake = any(t, MISTAKE);
    let mut verbs = spans(t, CANCEL);
    verbs.extend(
        (0..t.len())
            .filter(|&i| sw_verb(t.at(i), SW_SUBJECT, CANCEL_ROOTS, false))
            .map(|i| (i, 1)),
    );
    let by_verb = verbs.iter().any(|&(i, len)| {
        let verb = t.at(i);
        // "acha nione", "wacha nifikirie": let me see, let me think.
        let let_me = matches!(verb, "acha" | "wacha") && t.at(i + 1).starts_with("ni");
        let past = is_word(verb, PAST_CANCEL);
        // "niliclick cancel": the prompt's own button.
        let pressed = i > 0 && is_word(t.at(i - 1), PRESSED);
        !(mistake || let_me || pressed || negated(t, i)) && object_is_booking(t, i + len, past)
    });
    let dont_want = spans(t, DONT_WANT).iter().any(|&(i, len)| {
        !negated(t, i)
            && match object(t, i + len) {
                None => true,
                Some(j) => starts(t, j, WANT_OBJECT),
            }
    });
    by_verb || dont_want || any(t, DONT_BOOK)
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
    let by_verb = spans(t, SEND).iter().any(|&(i, len)| {
        let verb = t.at(i);
        let repeat = matches!(verb, "rudia" | "repeat");
        // "rudia" alone on a call asks to repeat what was said.
        let about_prompt = !repeat || object(t, i + len).is_some_and(|j| starts(t, j, PAYMENT));
        !negated(t, i)
            && about_prompt
            && (verb == "resend" || repeat || again.iter().any(|&(a, _)| a > i))
    });
    let own = spans(t, RESEND).iter().any(|&(i, _)| !negated(t, i));
    alone || by_verb || own
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
    not_yet || nothing_came || any(t, NOT_RECEIVED) || short_not_yet
}

fn pays_later(t: &Tokens) -> bool {
    let cash = spans(t, "cash")
        .iter()
        .any(|&(i, _)| i == 0 || !is_word(t.at(i - 1), "no, sina, hakuna"));
    let later_after =
        |i: usize| any_from(t, i, LATER) || t.words().iter().skip(i).any(|w| is_day_word(w));
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
    cash || later || (!pays.is_empty() && any(t, NO_MONEY))
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
    minutes || let_me || any(t, WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negation_and_not_yet_never_cancel() {
        for text in [
            "no not yet",
            "hapana bado",
            "sijalipa bado",
            "no dont cancel",
            "don't cancel, I'm getting my phone",
            "usiifute, ngoja kidogo",
            "acha nione",
            "i cancelled the prompt by mistake send again",
            "niliclick cancel kwa mistake, resend",
            "forget mpesa, nitalipa na card",
            "no",
            "hapana",
        ] {
            assert_ne!(PendingReply::read(text), PendingReply::Cancel, "{text}");
        }
    }

    #[test]
    fn readings_in_english_swahili_and_sheng() {
        use PendingReply::*;
        let cases = [
            ("cancel it", Cancel),
            ("please cancel my appointment", Cancel),
            ("futa hiyo booking", Cancel),
            ("nimeghairi", Cancel),
            ("wacha tu", Cancel),
            ("cancle the booking", Cancel),
            ("i don't want it anymore", Cancel),
            ("send it again", Resend),
            ("tuma tena", Resend),
            ("nilikosea pin tuma tena", Resend),
            ("i cancelled the prompt by mistake send again", Resend),
            ("RETRY", Resend),
            ("resedn pls", Resend),
            ("haijafika tuma tena", Resend),
            ("sijapata", NotReceived),
            ("sijapta", NotReceived),
            ("no not yet", NotReceived),
            ("hapana bado", NotReceived),
            ("nothing has come yet", NotReceived),
            ("hakuna kitu", NotReceived),
            ("nimelipa", Paid),
            ("nimelpa", Paid),
            ("done", Paid),
            ("I have entered the PIN", Paid),
            ("i have not paid", Other),
            ("can i pay by card", Card),
            ("send me the payment link", Card),
            ("what's the link to your location", Other),
            ("sim card yangu imeharibika", Other),
            ("nitalipa cash nikifika", CashLater),
            ("i'll pay at the salon", CashLater),
            ("is the booking confirmed only after i pay?", Other),
            ("send it to my other number", OtherNumber(None)),
            ("ngoja kidogo", Wait),
            ("acha nifikirie", Wait),
            ("hold on", Wait),
            ("where are you located", Other),
        ];
        for (text, want) in cases {
            assert_eq!(PendingReply::read(text), want, "{text}");
        }
    }

    #[test]
    fn another_number_is_read_in_digits_or_words() {
        let want = PhoneNumber::parse("0722000555").ok();
        for text in [
            "tuma kwa 0722 000 555",
            "send it to zero seven two two zero zero zero five five five",
            "push to +254722000555",
        ] {
            assert_eq!(
                PendingReply::read(text),
                PendingReply::OtherNumber(want.clone()),
                "{text}"
            );
        }
        // An amount or a paybill is not a phone.
        assert_eq!(PendingReply::read("nimejust pay 1200"), PendingReply::Paid);
        assert_eq!(
            PendingReply::read("paid through paybill 174379"),
            PendingReply::Paid
        );
    }

    #[test]
    fn consent_answers() {
        let cases = [
            ("yes please", Consent::Yes),
            ("Ndiyo, tuma", Consent::Yes),
            ("sawa", Consent::Yes),
            ("yes try again", Consent::Yes),
            ("tuma tena", Consent::Yes),
            ("hapana asante", Consent::No),
            ("not now", Consent::No),
            ("sitaki", Consent::No),
            ("hapana, baadaye", Consent::No),
            ("i'll pay by card", Consent::No),
            ("eh?", Consent::Unclear),
            ("what is the weather", Consent::Unclear),
        ];
        for (text, want) in cases {
            assert_eq!(Consent::read(text), want, "{text}");
        }
    }
}
