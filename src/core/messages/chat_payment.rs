//! What a chat payment writes to the customer, in both languages.

use super::hold::FailureWhy;
use crate::core::ids::Lang;
use crate::core::payment::{FailureReason, PaymentOutcome, Provider};

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
    /// Asked for the prompt again while it is still open with M-Pesa: it
    /// stays the one prompt of the booking.
    StillPending {
        can_retry: bool,
    },
    /// The prompt has not arrived (`prompt_open`), or has ended.
    NotReceivedHelp {
        prompt_open: bool,
        can_retry: bool,
        paybill: Option<String>,
    },
    /// Says they have paid while the payment is open: the outcome is told
    /// when the provider tells it, never on the customer's word.
    Checking {
        provider: Provider,
    },
    /// Says they have paid after the last attempt failed.
    NotSeenYet {
        can_retry: bool,
    },
    /// A moment, please: the booking stays.
    TakeYourTime {
        can_retry: bool,
    },
    /// Paying later (cash at the salon, on arrival): the booking stays.
    PayLater {
        paybill: Option<String>,
    },
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
                format!("{}{}", failure_reason(*why, lang), what_next(*can_retry, lang))
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
            (Self::StillPending { can_retry }, lang) => {
                let next = match (can_retry, lang) {
                    (true, En) => " If nothing shows within a minute, reply RETRY for a new one.",
                    (true, Sw) => " Lisipoonekana baada ya dakika moja, jibu TENA upate jipya.",
                    (false, En) => " If nothing shows, reply LINK for a payment link.",
                    (false, Sw) => " Lisipoonekana, jibu LINK upate kiungo cha malipo.",
                };
                let open = match lang {
                    En => "The M-Pesa request I sent is still open: unlock your phone and enter your PIN in the M-Pesa pop-up.",
                    Sw => "Ombi la M-Pesa nililotuma bado liko wazi: fungua simu yako uweke PIN kwenye ujumbe wa M-Pesa.",
                };
                format!("{open}{next}")
            }
            (Self::NotReceivedHelp { prompt_open, can_retry, paybill }, lang) => {
                let state = match (prompt_open, lang) {
                    (true, En) => "The M-Pesa request can take a minute to arrive: keep your phone on and unlocked, and look for the M-Pesa pop-up.",
                    (true, Sw) => "Ombi la M-Pesa linaweza kuchukua dakika moja kufika: acha simu yako ikiwa imewashwa na wazi, na utafute ujumbe wa M-Pesa.",
                    (false, En) => "That M-Pesa request has ended.",
                    (false, Sw) => "Ombi hilo la M-Pesa limekwisha.",
                };
                let paybill = match (paybill, lang) {
                    (Some(p), En) => format!(" You can also pay by M-Pesa to Paybill {p} (account: your name)."),
                    (Some(p), Sw) => format!(" Unaweza pia kulipa kwa M-Pesa, Paybill {p} (akaunti: jina lako)."),
                    (None, _) => String::new(),
                };
                format!("{state}{}{paybill}", what_next(*can_retry, lang))
            }
            (Self::Checking { provider: Provider::Mpesa }, En) => "Thank you! I'm checking: you'll get a confirmation here as soon as M-Pesa tells us the payment went through.".into(),
            (Self::Checking { provider: Provider::Mpesa }, Sw) => "Asante! Ninaangalia: utapata uthibitisho hapa mara tu M-Pesa itakapotuarifu kuwa malipo yamepita.".into(),
            (Self::Checking { provider: Provider::Pesapal }, En) => "Thank you! I'm checking: you'll get a confirmation here as soon as the payment comes through.".into(),
            (Self::Checking { provider: Provider::Pesapal }, Sw) => "Asante! Ninaangalia: utapata uthibitisho hapa mara tu malipo yatakapothibitishwa.".into(),
            (Self::NotSeenYet { can_retry }, lang) => {
                let seen = match lang {
                    En => "I haven't received the payment: the last request did not go through. If you did pay, you'll get a confirmation here as soon as it reaches us.",
                    Sw => "Sijapokea malipo: ombi la mwisho halikufanikiwa. Kama ulilipa, utapata uthibitisho hapa mara tu yatakapotufikia.",
                };
                format!("{seen}{}", what_next(*can_retry, lang))
            }
            (Self::TakeYourTime { can_retry }, lang) => {
                let ok = match lang {
                    En => "No problem, take your time: your booking stays.",
                    Sw => "Sawa, chukua muda wako: miadi yako bado ipo.",
                };
                let next = match (can_retry, lang) {
                    (true, En) => " If you need a new M-Pesa request, reply RETRY.",
                    (true, Sw) => " Ukihitaji ombi jipya la M-Pesa, jibu TENA.",
                    (false, _) => "",
                };
                format!("{ok}{next}")
            }
            (Self::PayLater { paybill: Some(p) }, En) => format!("Okay, your booking stays: you can pay at the salon, or by M-Pesa to Paybill {p} (account: your name)."),
            (Self::PayLater { paybill: Some(p) }, Sw) => format!("Sawa, miadi yako bado ipo: unaweza kulipa ukifika, au kwa M-Pesa, Paybill {p} (akaunti: jina lako)."),
            (Self::PayLater { paybill: None }, En) => "Okay, your booking stays: you can pay at the salon.".into(),
            (Self::PayLater { paybill: None }, Sw) => "Sawa, miadi yako bado ipo: unaweza kulipa ukifika.".into(),
        }
    }
}

/// What the customer can answer after a payment that did not go through:
/// another prompt while one may still be pushed, a link always.
fn what_next(can_retry: bool, lang: Lang) -> &'static str {
    use Lang::*;
    match (can_retry, lang) {
        (true, En) => " Reply RETRY to try again or LINK for a card/M-Pesa link.",
        (true, Sw) => " Jibu TENA kujaribu tena au LINK upate kiungo cha malipo.",
        (false, En) => " Reply LINK for a payment link.",
        (false, Sw) => " Jibu LINK upate kiungo cha malipo.",
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The answers to what a customer writes while paying.
    fn answers() -> Vec<ChatMessage> {
        let paybill = Some("174379".to_owned());
        let mut all = Vec::new();
        for can_retry in [true, false] {
            all.push(ChatMessage::StillPending { can_retry });
            all.push(ChatMessage::NotSeenYet { can_retry });
            all.push(ChatMessage::TakeYourTime { can_retry });
            for prompt_open in [true, false] {
                for paybill in [paybill.clone(), None] {
                    all.push(ChatMessage::NotReceivedHelp {
                        prompt_open,
                        can_retry,
                        paybill,
                    });
                }
            }
        }
        for provider in [Provider::Mpesa, Provider::Pesapal] {
            all.push(ChatMessage::Checking { provider });
        }
        all.push(ChatMessage::PayLater { paybill });
        all.push(ChatMessage::PayLater { paybill: None });
        all
    }

    #[test]
    fn answers_while_paying_are_written_in_both_languages() {
        let all = answers();
        for m in &all {
            let (en, sw) = (m.text(Lang::En), m.text(Lang::Sw));
            assert_ne!(en, sw, "{m:?}");
            // A paybill given is told; the retry word only when a retry
            // can still be made.
            let paybill = matches!(
                m,
                ChatMessage::NotReceivedHelp {
                    paybill: Some(_),
                    ..
                } | ChatMessage::PayLater { paybill: Some(_) }
            );
            assert_eq!(en.contains("174379"), paybill, "{en}");
            assert_eq!(sw.contains("174379"), paybill, "{sw}");
            let retry = matches!(
                m,
                ChatMessage::StillPending { can_retry: true }
                    | ChatMessage::NotSeenYet { can_retry: true }
                    | ChatMessage::TakeYourTime { can_retry: true }
                    | ChatMessage::NotReceivedHelp {
                        can_retry: true,
                        ..
                    }
            );
            assert_eq!(en.contains("RETRY"), retry, "{en}");
            assert_eq!(sw.contains("TENA"), retry, "{sw}");
        }
        // Every variant says something of its own.
        let mut texts: Vec<String> = all.iter().map(|m| m.text(Lang::En)).collect();
        texts.sort();
        texts.dedup();
        assert_eq!(texts.len(), all.len());
    }

    #[test]
    fn saying_paid_never_confirms() {
        for provider in [Provider::Mpesa, Provider::Pesapal] {
            let checking = ChatMessage::Checking { provider };
            let paid = ChatMessage::Paid { receipt: None };
            for lang in [Lang::En, Lang::Sw] {
                let text = checking.text(lang);
                assert_ne!(text, paid.text(lang));
                assert!(!text.contains("confirmed.") && !text.contains("imethibitishwa"));
            }
        }
    }
}
