//! What a chat payment writes to the customer, in both languages.

use super::hold::FailureWhy;
use crate::core::ids::Lang;
use crate::core::payment::{FailureReason, PaymentOutcome};

/// Messages the chat payment sends, rendered by [`ChatMessage::text`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatMessage {
    CheckYourPhone,
    PayWithLink {
        url: String,
    },
    Nudge {
        url: Option<String>,
    },
    Paid {
        receipt: Option<String>,
    },
    Failed {
        why: FailureWhy,
        can_retry: bool,
    },
    /// A call's payment failed when the call could no longer say so (the
    /// caller was released or had hung up); a payment link follows.
    FailedLinkFollows {
        why: FailureWhy,
    },
    /// A web chat's M-Pesa prompt failed: the booking stands unpaid and
    /// can be paid at the salon or to the paybill (the widget takes no
    /// "RETRY").
    Unpaid {
        why: FailureWhy,
        paybill: Option<String>,
    },
    ProviderUnavailable,
    Abandoned,
    CustomerCancelled,
}

impl ChatMessage {
    /// What the chat is told about a payment's final outcome; `can_retry`
    /// when another push may still be asked for.
    pub fn for_outcome(outcome: &PaymentOutcome, can_retry: bool) -> Self {
        let why = match outcome {
            PaymentOutcome::Completed { receipt } => {
                return Self::Paid {
                    receipt: receipt.clone(),
                };
            }
            PaymentOutcome::CancelledByCustomer => FailureWhy::Cancelled,
            PaymentOutcome::Timeout => FailureWhy::Unreachable,
            PaymentOutcome::Failed(FailureReason::WrongPin) => FailureWhy::WrongPin,
            PaymentOutcome::Failed(FailureReason::InsufficientFunds) => {
                FailureWhy::InsufficientFunds
            }
            PaymentOutcome::Failed(FailureReason::Other(_)) => FailureWhy::Other,
        };
        Self::Failed { why, can_retry }
    }

    pub fn text(&self, lang: Lang) -> String {
        use Lang::*;
        match (self, lang) {
            (Self::CheckYourPhone, En) => "I've sent an M-Pesa request to your phone. Enter your PIN to confirm the booking.".into(),
            (Self::CheckYourPhone, Sw) => "Nimekutumia ombi la M-Pesa kwenye simu yako. Weka PIN yako kuthibitisha miadi.".into(),
            (Self::PayWithLink { url }, En) => format!("Pay securely here to confirm your booking: {url}"),
            (Self::PayWithLink { url }, Sw) => format!("Lipa hapa kwa usalama kuthibitisha miadi yako: {url}"),
            (Self::Nudge { url: Some(url) }, En) => format!("Just a reminder: your booking is waiting for payment. {url}"),
            (Self::Nudge { url: Some(url) }, Sw) => format!("Kukumbusha tu: miadi yako inasubiri malipo. {url}"),
            (Self::Nudge { url: None }, En) => "Just a reminder: your booking is waiting for payment. Reply RETRY to get the M-Pesa request again.".into(),
            (Self::Nudge { url: None }, Sw) => "Kukumbusha tu: miadi yako inasubiri malipo. Jibu TENA upate ombi la M-Pesa tena.".into(),
            (Self::Paid { receipt: Some(r) }, En) => format!("Payment received (receipt {r}). Your booking is confirmed."),
            (Self::Paid { receipt: Some(r) }, Sw) => format!("Malipo yamepokelewa (risiti {r}). Miadi yako imethibitishwa."),
            (Self::Paid { receipt: None }, En) => "Payment received. Your booking is confirmed.".into(),
            (Self::Paid { receipt: None }, Sw) => "Malipo yamepokelewa. Miadi yako imethibitishwa.".into(),
            (Self::FailedLinkFollows { why }, En) => format!(
                "Your M-Pesa payment for the booking did not go through: {} Here is a payment link instead.",
                failure_reason(*why, En)
            ),
            (Self::FailedLinkFollows { why }, Sw) => format!(
                "Malipo yako ya M-Pesa ya miadi hayakufanikiwa: {} Hiki hapa kiungo cha malipo badala yake.",
                failure_reason(*why, Sw)
            ),
            (Self::Failed { why, can_retry }, lang) => {
                let reason = failure_reason(*why, lang);
                let next = match (can_retry, lang) {
                    (true, En) => " Reply RETRY to try again or LINK for a card/M-Pesa link.",
                    (true, Sw) => " Jibu TENA kujaribu tena au LINK upate kiungo cha malipo.",
                    (false, En) => " Reply LINK for a payment link.",
                    (false, Sw) => " Jibu LINK upate kiungo cha malipo.",
                };
                format!("{reason}{next}")
            }
            (Self::Unpaid { why, paybill }, lang) => {
                let reason = failure_reason(*why, lang);
                match (paybill, lang) {
                    (Some(p), En) => format!("{reason} Your booking stands, not yet paid: you can pay by M-Pesa to Paybill {p} (account: your name), or at the salon."),
                    (Some(p), Sw) => format!("{reason} Miadi yako bado ipo, haijalipwa: unaweza kulipa kwa M-Pesa, Paybill {p} (akaunti: jina lako), au ukifika."),
                    (None, En) => format!("{reason} Your booking stands, not yet paid: you can pay at the salon."),
                    (None, Sw) => format!("{reason} Miadi yako bado ipo, haijalipwa: unaweza kulipa ukifika."),
                }
            }
            (Self::ProviderUnavailable, En) => "I couldn't start the payment just now. Reply RETRY in a moment.".into(),
            (Self::ProviderUnavailable, Sw) => "Sikuweza kuanzisha malipo sasa hivi. Jibu TENA baada ya muda mfupi.".into(),
            (Self::Abandoned, En) => "We didn't receive the payment, so the booking has been released. Message us any time to book again.".into(),
            (Self::Abandoned, Sw) => "Hatukupokea malipo, kwa hivyo miadi imeachiliwa. Tuandikie wakati wowote kuweka miadi tena.".into(),
            (Self::CustomerCancelled, En) => "Okay, the payment and the booking are cancelled.".into(),
            (Self::CustomerCancelled, Sw) => "Sawa, malipo na miadi vimeghairiwa.".into(),
        }
    }
}

/// Why a payment failed, in a sentence.
fn failure_reason(why: FailureWhy, lang: Lang) -> &'static str {
    use Lang::*;
    match (why, lang) {
        (FailureWhy::WrongPin, En) => "The PIN was not correct.",
        (FailureWhy::WrongPin, Sw) => "PIN haikuwa sahihi.",
        (FailureWhy::InsufficientFunds, En) => "The M-Pesa balance was not enough.",
        (FailureWhy::InsufficientFunds, Sw) => "Salio la M-Pesa halikutosha.",
        (FailureWhy::Cancelled, En) => "The request was cancelled.",
        (FailureWhy::Cancelled, Sw) => "Ombi lilighairiwa.",
        (FailureWhy::Unreachable, En) => "Your phone did not respond in time.",
        (FailureWhy::Unreachable, Sw) => "Simu yako haikujibu kwa wakati.",
        (_, En) => "The payment did not go through.",
        (_, Sw) => "Malipo hayakufanikiwa.",
    }
}
