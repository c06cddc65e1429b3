//! What the customer is told when a person takes over, in both languages:
//! on WhatsApp a person replies in the chat; on a call the caller is put
//! through, or promised a call back (or a WhatsApp message) before the bot
//! hangs up.

use crate::core::ids::Lang;

/// A hand-off sentence. `biz` is the business's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandoffMsg<'a> {
    /// WhatsApp: a person will answer in this chat.
    ReplyHere { biz: &'a str },
    /// A call the provider is about to put through to the business.
    PutThrough { biz: &'a str },
    /// A call that ends with a promise: a call back on this number, or a
    /// WhatsApp message.
    CallBack { biz: &'a str },
    /// The transfer was refused by the provider: the promise instead.
    TransferFailed,
}

impl HandoffMsg<'_> {
    pub fn text(self, lang: Lang) -> String {
        use Lang::*;
        match (self, lang) {
            (Self::ReplyHere { biz }, En) => format!(
                "I'm passing you to a member of the {biz} team. They will reply to you here shortly."
            ),
            (Self::ReplyHere { biz }, Sw) => {
                format!("Ninakuunganisha na mfanyakazi wa {biz}. Atakujibu hapa hivi punde.")
            }
            (Self::PutThrough { biz }, En) => format!(
                "I'll put you through to a member of the {biz} team now. Please stay on the line."
            ),
            (Self::PutThrough { biz }, Sw) => format!(
                "Nakuunganisha na mfanyakazi wa {biz} sasa hivi. Tafadhali usikate simu."
            ),
            (Self::CallBack { biz }, En) => format!(
                "I'm passing this to a member of the {biz} team. They will call you back on this number shortly, or write to you on WhatsApp. Thank you for calling, goodbye."
            ),
            (Self::CallBack { biz }, Sw) => format!(
                "Nimempa mfanyakazi wa {biz} taarifa hii. Atakupigia tena kwa namba hii hivi punde, au atakuandikia kwenye WhatsApp. Asante kwa kupiga simu, kwaheri."
            ),
            (Self::TransferFailed, En) => "Sorry, I couldn't put you through just now. A member of the team will call you back on this number shortly, or write to you on WhatsApp. Goodbye.".to_owned(),
            (Self::TransferFailed, Sw) => "Samahani, sikuweza kukuunganisha sasa hivi. Mfanyakazi wetu atakupigia tena kwa namba hii hivi punde, au atakuandikia kwenye WhatsApp. Kwaheri.".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sentence_has_both_languages_and_names_the_business_where_it_should() {
        let biz = "Nywele Bora";
        for (m, named) in [
            (HandoffMsg::ReplyHere { biz }, true),
            (HandoffMsg::PutThrough { biz }, true),
            (HandoffMsg::CallBack { biz }, true),
            (HandoffMsg::TransferFailed, false),
        ] {
            let (en, sw) = (m.text(Lang::En), m.text(Lang::Sw));
            assert_ne!(en, sw, "{m:?}");
            assert_eq!(en.contains(biz), named, "{m:?}");
            assert_eq!(sw.contains(biz), named, "{m:?}");
        }
    }
}
