//! What the payment hold says to a caller, in both languages.

use crate::core::ids::{Lang, Money};

/// Everything the hold may say. Rendered per language by [`Prompt::text`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    AskConsent {
        amount: Money,
    },
    EnterPin,
    Reassure,
    CheckingNow,
    NotReceivedHelp,
    Confirmed {
        receipt: Option<String>,
    },
    Failed {
        why: FailureWhy,
        offer_retry: bool,
    },
    Retrying,
    /// The caller asked for the prompt again after the last attempt.
    CannotResend,
    /// The caller needs a moment; the hold goes on.
    TakeYourTime,
    /// The hold stops at the caller's wish and a link follows.
    LinkInstead {
        because: LinkBecause,
    },
    LinkComing,
    CallerCancelled,
    ReleasedPending,
    /// No push is possible on this call (the caller's number cannot take
    /// an M-Pesa prompt, or the business takes payment another way).
    PaymentByWhatsApp,
}

/// Why the caller is paying by link instead of the prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkBecause {
    /// Wants to pay by card.
    Card,
    /// Will pay later or at the salon.
    Later,
    /// Another phone or person pays.
    OtherPayer,
    /// The booking is changing first (the dialog takes the change).
    Change,
}

/// The failure explained to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureWhy {
    WrongPin,
    InsufficientFunds,
    Cancelled,
    Unreachable,
    PushRefused,
    Other,
}

impl Prompt {
    pub fn text(&self, lang: Lang) -> String {
        use Lang::*;
        match (self, lang) {
            (Self::AskConsent { amount }, En) => format!(
                "To confirm the booking, the deposit is {} shillings by M-Pesa. Shall I send the payment request to this phone?",
                amount.whole_major()
            ),
            (Self::AskConsent { amount }, Sw) => format!(
                "Ili kuthibitisha miadi, malipo ni shilingi {} kwa M-Pesa. Nikutumie ombi la malipo kwa simu hii?",
                amount.whole_major()
            ),
            (Self::EnterPin, En) => "I have sent an M-Pesa request to your phone. Please enter your PIN; I will stay on the line.".into(),
            (Self::EnterPin, Sw) => "Nimekutumia ombi la M-Pesa kwenye simu yako. Tafadhali weka PIN yako; niko nawe kwenye simu.".into(),
            (Self::Reassure, En) => "Still here, waiting for the payment.".into(),
            (Self::Reassure, Sw) => "Bado niko hapa, nasubiri malipo.".into(),
            (Self::CheckingNow, En) => "Thank you, let me check.".into(),
            (Self::CheckingNow, Sw) => "Asante, wacha niangalie.".into(),
            (Self::NotReceivedHelp, En) => "It can take a few seconds. Please make sure your phone is on and unlocked; I am checking on it.".into(),
            (Self::NotReceivedHelp, Sw) => "Inaweza kuchukua sekunde chache. Hakikisha simu iko wazi na haijafungwa; ninaangalia.".into(),
            (Self::Confirmed { receipt: Some(r) }, En) => format!(
                "Payment received, thank you. Your M-Pesa receipt is {}. Your booking is confirmed.",
                spell(r)
            ),
            (Self::Confirmed { receipt: Some(r) }, Sw) => format!(
                "Malipo yamepokelewa, asante. Nambari ya risiti ya M-Pesa ni {}. Miadi yako imethibitishwa.",
                spell(r)
            ),
            (Self::Confirmed { receipt: None }, En) => "Payment received, thank you. Your booking is confirmed; the receipt will come by SMS.".into(),
            (Self::Confirmed { receipt: None }, Sw) => "Malipo yamepokelewa, asante. Miadi yako imethibitishwa; risiti itakuja kwa SMS.".into(),
            (Self::Failed { why, offer_retry }, lang) => {
                let reason = match (why, lang) {
                    (FailureWhy::WrongPin, En) => "The PIN entered was not correct.",
                    (FailureWhy::WrongPin, Sw) => "PIN iliyowekwa si sahihi.",
                    (FailureWhy::InsufficientFunds, En) => "The M-Pesa balance was not enough.",
                    (FailureWhy::InsufficientFunds, Sw) => "Salio la M-Pesa halikutosha.",
                    (FailureWhy::Cancelled, En) => "The payment request was cancelled on the phone.",
                    (FailureWhy::Cancelled, Sw) => "Ombi la malipo lilighairiwa kwenye simu.",
                    (FailureWhy::Unreachable, En) => "The phone did not respond to the payment request.",
                    (FailureWhy::Unreachable, Sw) => "Simu haikujibu ombi la malipo.",
                    (FailureWhy::PushRefused, En) => "I could not send the payment request just now.",
                    (FailureWhy::PushRefused, Sw) => "Sikuweza kutuma ombi la malipo sasa hivi.",
                    (FailureWhy::Other, En) => "The payment did not go through.",
                    (FailureWhy::Other, Sw) => "Malipo hayakufanikiwa.",
                };
                let next = match (offer_retry, lang) {
                    (true, En) => " Shall I send it again, or would you rather pay later with a WhatsApp link?",
                    (true, Sw) => " Nikutumie tena, au ungependa kulipa baadaye kwa kiungo cha WhatsApp?",
                    (false, En) => " I will send you a payment link on WhatsApp instead.",
                    (false, Sw) => " Nitakutumia kiungo cha malipo kwenye WhatsApp badala yake.",
                };
                format!("{reason}{next}")
            }
            (Self::Retrying, En) => "Sending it again now.".into(),
            (Self::Retrying, Sw) => "Natuma tena sasa.".into(),
            (Self::CannotResend, En) => "I cannot send another request on this call. If this one does not come through, I will send you a payment link on WhatsApp.".into(),
            (Self::CannotResend, Sw) => "Siwezi kutuma ombi lingine kwenye simu hii. Hili lisipofanikiwa, nitakutumia kiungo cha malipo kwenye WhatsApp.".into(),
            (Self::TakeYourTime, En) => "Sure, take your time; I am still here.".into(),
            (Self::TakeYourTime, Sw) => "Sawa, chukua muda wako; bado niko hapa.".into(),
            (Self::LinkInstead { because }, En) => {
                let why = match because {
                    LinkBecause::Card => "I will send you a payment link on WhatsApp; you can pay it by card.",
                    LinkBecause::Later => "You can pay later with the payment link I will send on WhatsApp.",
                    LinkBecause::OtherPayer => "I can only send the M-Pesa request to this phone, so I will send a payment link on WhatsApp that anyone can pay.",
                    LinkBecause::Change => "Let us change the booking first; I will send a payment link on WhatsApp so you can pay once it is right.",
                };
                format!("Okay, I have stopped waiting. {why} Your booking is held as pending until it is paid.")
            }
            (Self::LinkInstead { because }, Sw) => {
                let why = match because {
                    LinkBecause::Card => "Nitakutumia kiungo cha malipo kwenye WhatsApp; unaweza kulipa kwa kadi.",
                    LinkBecause::Later => "Unaweza kulipa baadaye kwa kiungo cha malipo nitakachokutumia kwenye WhatsApp.",
                    LinkBecause::OtherPayer => "Naweza kutuma ombi la M-Pesa kwa simu hii tu, kwa hivyo nitakutumia kiungo cha malipo kwenye WhatsApp ambacho mtu yeyote anaweza kulipa.",
                    LinkBecause::Change => "Tubadilishe miadi kwanza; nitakutumia kiungo cha malipo kwenye WhatsApp ili ulipe ikishakuwa sawa.",
                };
                format!("Sawa, nimeacha kusubiri. {why} Miadi yako imehifadhiwa hadi malipo yafike.")
            }
            (Self::LinkComing, En) => "No problem. I will send you a payment link on WhatsApp; your booking is held as pending.".into(),
            (Self::LinkComing, Sw) => "Sawa. Nitakutumia kiungo cha malipo kwenye WhatsApp; miadi yako imehifadhiwa ikisubiri malipo.".into(),
            (Self::CallerCancelled, En) => "Okay, I have stopped waiting. If you already paid, you will get a confirmation on WhatsApp.".into(),
            (Self::CallerCancelled, Sw) => "Sawa, nimeacha kusubiri. Kama umeshalipa, utapata uthibitisho kwenye WhatsApp.".into(),
            (Self::ReleasedPending, En) => "I have not received the confirmation yet. Your booking is pending, and I will follow up on WhatsApp as soon as the payment comes through.".into(),
            (Self::PaymentByWhatsApp, En) => "I will send the payment details on WhatsApp; your booking is held as pending.".into(),
            (Self::PaymentByWhatsApp, Sw) => "Nitakutumia maelezo ya malipo kwenye WhatsApp; miadi yako imehifadhiwa ikisubiri malipo.".into(),
            (Self::ReleasedPending, Sw) => "Bado sijapokea uthibitisho. Miadi yako inasubiri, na nitakujulisha kwenye WhatsApp malipo yakifika.".into(),
        }
    }
}

/// Reads a receipt code character by character ("N L J 7 ...") so speech
/// synthesis does not try to pronounce it as a word.
fn spell(code: &str) -> String {
    let mut out = String::with_capacity(code.len() * 2);
    for (i, c) in code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .enumerate()
    {
        if i > 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}
