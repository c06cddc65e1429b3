//! What a call says of its own accord (not the dialog's answers): to a
//! silent caller, while the database is slow, when a turn cannot be
//! answered, after a payment hold, and that it understands English only.

use crate::core::ids::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallLine {
    /// The conversation failed on this turn.
    Sorry,
    /// The caller has been silent for a while.
    StillThere,
    /// The caller stayed silent: the bot hangs up after this.
    Goodbye,
    /// A turn is waiting on the database.
    OneMoment,
    /// A turn's database work kept failing: it is kept for later.
    TurnKept,
    /// A payment hold is over; the conversation goes on.
    AnythingElse,
    /// The call's recognizer understands English only (the local model):
    /// said in the greeting, so a Swahili speaker knows before speaking.
    EnglishOnly,
}

impl CallLine {
    pub fn text(self, lang: Lang) -> &'static str {
        use Lang::*;
        match (self, lang) {
            (Self::Sorry, En) => "Sorry, I had a problem. Could you say that again?",
            (Self::Sorry, Sw) => "Samahani, kuna tatizo. Tafadhali rudia.",
            (Self::StillThere, En) => "Are you still there?",
            (Self::StillThere, Sw) => "Bado uko?",
            (Self::Goodbye, En) => "I will end the call now. Thank you for calling, goodbye.",
            (Self::Goodbye, Sw) => "Nitakata simu sasa. Asante kwa kupiga, kwaheri.",
            (Self::OneMoment, En) => "One moment, please.",
            (Self::OneMoment, Sw) => "Subiri kidogo.",
            (Self::TurnKept, En) => {
                "Sorry, I cannot finish that right now. I have noted what you said; please try again in a little while."
            }
            (Self::TurnKept, Sw) => {
                "Samahani, siwezi kukamilisha hilo sasa hivi. Nimeandika ulichosema; tafadhali jaribu tena baadaye kidogo."
            }
            (Self::AnythingElse, En) => "Is there anything else I can help you with?",
            (Self::AnythingElse, Sw) => "Kuna kingine ninachoweza kukusaidia?",
            (Self::EnglishOnly, En) => {
                "I understand English on this line. For Swahili, please write to us on WhatsApp."
            }
            (Self::EnglishOnly, Sw) => {
                "Kwa sasa naelewa Kiingereza tu kwenye simu hii. Kwa Kiswahili, tafadhali tuandikie WhatsApp."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_has_both_languages_and_they_differ() {
        for l in [
            CallLine::Sorry,
            CallLine::StillThere,
            CallLine::Goodbye,
            CallLine::OneMoment,
            CallLine::TurnKept,
            CallLine::AnythingElse,
            CallLine::EnglishOnly,
        ] {
            let (en, sw) = (l.text(Lang::En), l.text(Lang::Sw));
            assert!(!en.is_empty() && !sw.is_empty(), "{l:?}");
            assert_ne!(en, sw, "{l:?}");
        }
    }
}
