//! A change to the booking while its payment is pending: another time or
//! day ("make it 2pm instead", "badilisha iwe saa nane"), another service
//! ("actually make it gel nails", "nataka pia pedicure") or another
//! stylist ("Wanjiku badala ya Mercy"). The booking dialog makes
//! the change; the payment reader only has to see that it is one.
//!
//! A change names what the booking becomes (a time, a day, a service)
//! with a word that changes it, or says "instead" of something that is not
//! a way of paying ("card instead" and "cash instead" are read before
//! this; "paid through the paybill instead" is not a change).

use chrono::{TimeZone, Utc};

use super::{Message, any, matches_at, starts};
use crate::core::dialog::intent::{Intent, classify};
use crate::core::dialog::lexicon::{SERVICE_KINDS, SERVICE_SYNONYMS};
use crate::core::dialog::text::Tokens;
use crate::core::dialog::when::parse_when;

/// Whether the message changes the booking (see the module docs).
/// `giving_up`: a verb that gives up the plan was said ("stop, I'll come
/// another day"): without a new time or service named, that is a cancel.
pub(super) fn changes(m: &Message, giving_up: bool) -> bool {
    let t = &m.tokens;
    let names = names_when(t) || names_service(t);
    let instead = any(t, INSTEAD) && (names || !any(t, PAYING));
    let moves = any(t, MOVE) || (classify(t).contains(Intent::Reschedule) && !any(t, PAYING));
    instead || (names && any(t, CHANGE)) || (names && moves) || (moves_alone(t) && !giving_up)
}

/// Whether the message names a date, a time or a part of the day. Only
/// whether one is named matters here, not which: it is read against a
/// fixed day, so the reader stays a pure function of the text.
pub(super) fn names_when(t: &Tokens) -> bool {
    let Some(day) = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).single() else {
        return false;
    };
    !parse_when(t, day, chrono_tz::Africa::Nairobi).is_empty()
}

/// Whether the message names a kind of service ("nails", "braids",
/// "manicure"), from the dialog's catalogue-free words.
fn names_service(t: &Tokens) -> bool {
    let kinds = SERVICE_KINDS
        .iter()
        .flat_map(|(names, marks)| names.iter().chain(marks.iter()));
    let synonyms = SERVICE_SYNONYMS.iter().flat_map(|s| s.phrases.iter());
    let mut phrases = kinds.chain(synonyms);
    phrases.any(|p| (0..t.len()).any(|j| matches_at(t.words(), j, p))) || any(t, MORE_SERVICES)
}

/// "reschedule", "push it to later in the day": a move of the booking
/// even when the new time is not said yet.
fn moves_alone(t: &Tokens) -> bool {
    (0..t.len()).any(|j| starts(t, j, MOVE_ALONE))
}

/// Words that change what the booking is, with what it becomes.
const CHANGE: &str = "make it, make that, change, change it, switch, swap, rather, prefer,
    works better, better for me, can it be, could it be, can we have it, i meant, i mean,
    nilimaanisha, namaanisha, i want, i d like, id like, i would like, can we do,
    can i do, can i come, can we come, could i come, can i get, can i have, add, also,
    together, nataka, ningependa, naomba, naeza kuja, naweza kuja, nikuje, tukuje,
    tufanye, nifanyiwe, nifanye, ongeza, ongezea, pamoja, na pia, =iwe, =iende, =ziwe,
    =ibadilishwe, actually, kwanza, first";

/// Verbs that move a booking: with a new time or service, a change.
const MOVE: &str = "move, moved, shift, postpone, reschedule, rebook, push it to,
    push it back, push it forward, push to, =badilisha, =kubadilisha, =tubadilishe,
    =ibadilishe, =badili, =hamisha, =tuhamishe, =ihamishe, =sogeza, =isogeze, =tusogeze,
    =songeza, =isongeze, =ahirisha, =tuahirishe";

/// Moves that need nothing more to be one.
const MOVE_ALONE: &str = "reschedule, rebook, postpone, another day, different day,
    another time, different time, later in the day, earlier in the day, change the time,
    change the date, change the day, change my appointment, change my booking,
    change the booking, badilisha siku, badilisha saa, badilisha miadi, badilisha booking,
    hamisha miadi, hamisha booking, siku ingine, saa ingine, muda mwingine";

/// "Instead" of something: a change unless it is of a way of paying.
const INSTEAD: &str = "instead, badala, rather than";

/// Ways and words of paying: "instead" of one of these is not a change.
const PAYING: &str = "pay, paid, paying, payment, lipa, kulipa, nitalipa, nimelipa, malipo,
    mpesa, m pesa, paybill, till, card, cash, link, airtel, bank, transfer, number, namba,
    line, phone, simu, prompt, stk, pin, fuliza";

/// Services not in the dialog's shared words ("gel", "lashes").
const MORE_SERVICES: &str = "gel, acrylic, acrylics, lashes, lash, wig, weave, weaves,
    makeup, make up, massage, waxing, wax, twists, knotless, relaxer, retouch, blow dry,
    colour, color, dye, facial, threading, tint, eyebrows, brows";

#[cfg(test)]
mod tests {
    use super::*;

    fn change(text: &str) -> bool {
        changes(&Message::new(text), false)
    }

    #[test]
    fn changes_of_time_service_or_stylist() {
        for text in [
            "hold on, let's do 11am instead pls",
            "could we make it thursday?",
            "sorry can it be saa tisa instead of saa saba",
            "tubadilishe iwe jumamosi asubuhi",
            "ihamishe iwe kesho",
            "switch it to acrylics",
            "actually i want braids not cornrows",
            "naomba pia pedicure",
            "badala ya Wanjiru nataka Akinyi",
            "can we reschedule",
            "push it to evening",
        ] {
            assert!(change(text), "{text}");
        }
    }

    #[test]
    fn waits_and_payment_ways_are_not_changes() {
        for text in [
            "give me like 3 mins",
            "ngoja kiasi",
            "hold on, opening the mpesa app",
            "i paid via the till instead",
            "can i use airtel money instead",
            "push it again",
            "push it please",
            "niko kwa bank",
            "nmeshalipa",
        ] {
            assert!(!change(text), "{text}");
        }
    }
}
