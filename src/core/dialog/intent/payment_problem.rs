//! A payment gone wrong that only a person can put right: money taken with
//! no confirmation, paid twice, the wrong amount taken, money sent to the
//! wrong paybill. Read in English, Swahili and Sheng, on the corrected
//! tokens and on the plain lower-cased words (the corrector knows nouns and
//! days, not Swahili verbs). The dialog hands such a turn to a person; the
//! payment reader ([`crate::core::payment::reply::PendingReply`]) leaves it
//! to the dialog.
//!
//! A report that the money went ("imekatwa", "deducted") is the usual
//! "I have paid", and a refused or failed payment ("insufficient funds",
//! "fuliza imekataa kulipa") is not money taken: neither is a problem here.

use super::lexicon::{any, spans};
use crate::core::dialog::text::Tokens;

/// Whether `text` reports a payment problem for a person (see the module
/// docs).
pub fn is_payment_problem(text: &str) -> bool {
    let read = [Tokens::new(text), Tokens::plain(text)];
    read.iter().any(problem_in)
}

fn problem_in(t: &Tokens) -> bool {
    let taken = any(t, TAKEN);
    let paid = taken || any(t, PAID);
    // "pesa zimekatwa lakini hakuna message".
    let unconfirmed = taken && any(t, NO_CONFIRMATION);
    // "nimelipa mara mbili", "i got 2 prompts and paid both".
    let twice = paid && spans(t, TWICE).iter().any(|&(i, _)| !refused_at(t, i));
    // "mmenikata 1500 badala ya 1000", "the wrong amount was taken".
    let wrong_amount = any(t, WRONG_AMOUNT) || (taken && any(t, MORE_THAN_ASKED));
    // "the money went to the wrong paybill".
    let wrong_payee = (paid || any(t, MONEY)) && any(t, WRONG_PAYEE);
    unconfirmed || twice || wrong_amount || wrong_payee
}

/// "it failed twice", "ilikataa mara mbili": a refusal, not a payment.
fn refused_at(t: &Tokens, i: usize) -> bool {
    (i.saturating_sub(3)..i).any(|j| {
        let w = t.at(j);
        w.starts_with("fail") || (w.contains("kata") && w.ends_with("aa")) || w == "declined"
    })
}

/// The money left the customer: deducted, debited, taken.
const TAKEN: &str = "deducted, debited, =imekatwa, =nimekatwa, =zimekatwa, =yamekatwa,
    =ilikatwa, =nilikatwa, =zilikatwa, =mmenikata, =mlinikata, =wamenikata, =imenikata,
    =ilinikata, =mkanikata, =imekata pesa, =ilikata pesa, money left, money has left,
    left my account, taken from my account, money is gone, money gone, money was taken,
    took my money, took the money, you took, u took, =charged me, =charged my, i was =charged, been =charged,
    pesa imetoka, pesa imeenda, pesa ilitoka, pesa ilienda, pesa imeisha, =nimechajiwa,
    =nilichajiwa, balance imepungua, balance reduced";

/// The customer says they paid.
const PAID: &str = "paid, i paid, have paid, =nimelipa, =nmelipa, =nililipa, =nimeshalipa,
    =nmeshalipa, =nimelipia, =nililipia, =nimetuma, =nilituma, sent the money, sent money, i sent, =nilituma pesa,
    =charged, =tumelipa, =tulilipa";

/// No word of it having arrived.
const NO_CONFIRMATION: &str = "no confirmation, not confirmed, no message, no sms, no text,
    no receipt, without confirmation, without a message, didn t get a message,
    didnt get a message, haven t got a message, havent got a message, no reply,
    sijapata confirmation, sijapata message, sijapata sms, sijapata ujumbe,
    sijapokea confirmation, sijapokea message, hakuna confirmation, hakuna message,
    hakuna sms, hakuna ujumbe, haijaconfirm, haijakonfirm, bila confirmation,
    bila message, still pending, still unpaid, shows unpaid, says unpaid, not paid,
    haijaonyesha, haionyeshi, haijaingia";

const TWICE: &str = "twice, two times, 2 times, double, both, mara mbili, mara 2,
    mbili zote, zote mbili, mara ya pili pia, two payments, 2 payments, malipo mawili";

/// A wrong amount, whoever took it.
const WRONG_AMOUNT: &str = "wrong amount, amount is wrong, incorrect amount, overcharged,
    over charged, charged more, charged extra, deducted more, took more, pesa zaidi,
    zaidi ya bei, kiasi kibaya, kiasi si sahihi, amount si sahihi, amount ni wrong";

/// After a deduction: more than what was asked, or what the price is.
const MORE_THAN_ASKED: &str = "instead of, badala ya, more than, zaidi, extra, ziada,
    the price is, price is, but the price, bei ni, lakini bei, the cost is, supposed to be,
    should have been, should be, inafaa kuwa, ilifaa kuwa";

const MONEY: &str = "money, pesa, doh, cash, payment, malipo";

/// The money reached someone else.
const WRONG_PAYEE: &str = "wrong paybill, wrong till, wrong account, wrong business,
    wrong number, paybill ingine, till ingine, namba ingine kimakosa, paybill mbaya,
    namba mbaya, number mbaya, account mbaya";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_a_person_must_take() {
        for text in [
            "my money was deducted but i got no confirmation",
            "the cash left my account but there is no message from you",
            "pesa zimekatwa bt hakuna message",
            "imekatwa lakini booking bado inasema not paid",
            "nimekatwa lakini sijapokea confirmation",
            "i paid 2 times by mistake",
            "nmelipa mara mbili juu prompt ilikuja mbili",
            "u charged me double",
            "both prompts went through, i paid both",
            "mlinikata 2000 badala ya 1500",
            "why was i overcharged",
            "the wrong amount was deducted",
            "i sent the money to the wrong paybill",
            "nimetuma pesa kwa till ingine kimakosa",
        ] {
            assert!(is_payment_problem(text), "{text}");
        }
    }

    #[test]
    fn payments_and_refusals_are_not_problems() {
        for text in [
            "nmeshalipa",
            "nimeweka pin, pesa imekatwa",
            "deducted, thanks",
            "paid, check",
            "i paid but haven't seen your message yet",
            "it failed twice, send again",
            "ilikataa mara mbili",
            "fuliza imekataa kunilipia",
            "insufficient balance it says",
            "can i pay for both bookings",
            "i'll pay for both of us",
            "i want both nails and hair",
            "wrong pin, send again",
            "sijapata prompt",
            "will i get a refund if i cancel?",
        ] {
            assert!(!is_payment_problem(text), "{text}");
        }
    }
}
