//! A complaint about a service already given that only a person can put
//! right: harm ("your relaxer burnt my scalp", "nywele zimeungua"), a
//! stylist who was rude or laughed, hours of waiting with nobody serving,
//! a refund asked for. The dialog hands such a turn to a person rather
//! than offer times. A wish about the next visit ("last time I waited, can
//! I get an early slot?") is a booking, not this.

use super::lexicon::any;
use crate::core::dialog::text::Tokens;

/// Whether `text` complains about a service in a way a person must take.
pub fn is_complaint(text: &str) -> bool {
    let read = [Tokens::new(text), Tokens::plain(text)];
    read.iter().any(|t| {
        (any(t, HARM) || any(t, TREATED_BADLY) || any(t, REFUND)) && !any(t, NOT_A_COMPLAINT)
    })
}

/// Harm done by a service.
const HARM: &str = "burnt my, burned my, burnt scalp, burned scalp, my scalp is burning,
    scalp burn, wounds on my, wound on my, i have wounds, bumps all over, i have bumps,
    pulled my hair, too tight i have, so tight i have, rash, allergic reaction, infection,
    ruined my hair, damaged my hair, destroyed my hair, my hair is falling, hair fell off,
    hair is coming off, nails are lifting, my nails hurt, imeniunguza, =zimeungua,
    =imeungua, vidonda, imeniumiza, =nimeumia, nywele zimekatika, nywele zinaanguka,
    ngozi imeungua, kichwa kinawasha, nimeumizwa";

/// Treated badly at the salon.
const TREATED_BADLY: &str = "laughed at me, she was rude, he was rude, was so rude,
    were rude, very rude, insulted me, shouted at me, ignored me, kept me waiting,
    waited for two hours, waited 2 hours, waited two hours, waited for 2 hours,
    waited for hours, bila kuhudumiwa, hakuna aliyenihudumia, hawakunihudumia,
    dharau, walinidharau, alinidharau, alinicheka, walinicheka, alinitusi";

/// Money back asked for.
const REFUND: &str = "refund, refunded, my deposit back, money back, rudisha deposit,
    nirudishiwe, nirudishie";

/// Questions about the policy, not a complaint: "will I get a refund if I
/// cancel?", "is the deposit refundable?".
const NOT_A_COMPLAINT: &str = "refund if i cancel, refund if i, refundable, refund policy,
    get a refund if, nikicancel";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complaints_a_person_must_take() {
        for text in [
            "Your relaxer burnt my scalp last week. I have wounds on my head",
            "the lady who did my cornrows yesterday pulled my hair so tight i have bumps all over",
            "and when i complained she laughed at me",
            "Nilikuja leo saa nane nikakaa kwa bench masaa mawili bila kuhudumiwa na mtu",
            "I paid a deposit for it. I want it refunded, who do I talk to?",
            "dawa yenu imeniunguza kichwa",
        ] {
            assert!(is_complaint(text), "{text}");
        }
    }

    #[test]
    fn bookings_and_policy_questions_are_not_complaints() {
        for text in [
            "last time I waited, can I get an early slot this time?",
            "will I get a refund if I cancel?",
            "is the bridal deposit refundable?",
            "cornrows not too tight please, my scalp is sensitive",
            "relaxer tomorrow at 10",
        ] {
            assert!(!is_complaint(text), "{text}");
        }
    }
}
