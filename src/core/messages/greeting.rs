//! The first thing the customer hears or reads, following the tenant's
//! personality dials (tenant_personality_config over the vertical's
//! defaults): greeting mode (standard, short or the tenant's own words),
//! honorific (none, the customer's first name, formal) and tone (playful
//! adds a smile in writing; a call says the words only). A call's standard
//! greeting leaves out the list of what the bot can do.

use crate::core::dialog::Channel;
use crate::core::dialog::personality::{GreetingMode, Honorific, Personality, Tone};
use crate::core::ids::Lang;

/// The greeting in `lang` for a customer of `biz`. `first_name` is used
/// when the honorific dial asks for it.
pub fn greeting(
    p: &Personality,
    lang: Lang,
    biz: &str,
    first_name: Option<&str>,
    channel: Channel,
) -> String {
    let name = first_name
        .and_then(|n| n.split_whitespace().next())
        .filter(|_| p.honorific == Honorific::FirstName)
        .map(|n| format!(" {n}"))
        .unwrap_or_default();
    let hello = match (lang, p.honorific) {
        (Lang::En, Honorific::Formal) => "Good day.".to_owned(),
        (Lang::En, Honorific::None | Honorific::FirstName) => format!("Hello{name}!"),
        (Lang::Sw, Honorific::Formal) => "Habari yako, mpendwa mteja.".to_owned(),
        (Lang::Sw, Honorific::None | Honorific::FirstName) => format!("Habari{name}!"),
    };
    let custom = p
        .greeting_custom
        .clone()
        .filter(|_| p.greeting_mode == GreetingMode::Custom);
    // The standard greeting lists what the bot can do in writing; said on
    // a call that list takes six seconds the caller did not ask for.
    let text = match (custom, p.greeting_mode, lang, channel) {
        (Some(custom), _, _, _) => custom,
        (None, GreetingMode::Short, Lang::En, _) => format!("{hello} {biz} here. How can I help?"),
        (None, GreetingMode::Short, Lang::Sw, _) => {
            format!("{hello} Hapa ni {biz}. Nikusaidie vipi?")
        }
        (None, GreetingMode::Standard | GreetingMode::Custom, Lang::En, Channel::Voice) => {
            format!("{hello} Welcome to {biz}. How can I help?")
        }
        (None, GreetingMode::Standard | GreetingMode::Custom, Lang::Sw, Channel::Voice) => {
            format!("{hello} Karibu {biz}. Nikusaidie vipi?")
        }
        (
            None,
            GreetingMode::Standard | GreetingMode::Custom,
            Lang::En,
            Channel::WhatsApp | Channel::Web | Channel::Instagram | Channel::Messenger,
        ) => {
            format!(
                "{hello} Welcome to {biz}. I can book, move or cancel an appointment, and answer questions about our services, prices and hours. How can I help?"
            )
        }
        (
            None,
            GreetingMode::Standard | GreetingMode::Custom,
            Lang::Sw,
            Channel::WhatsApp | Channel::Web | Channel::Instagram | Channel::Messenger,
        ) => {
            format!(
                "{hello} Karibu {biz}. Naweza kukuwekea, kubadilisha au kufuta miadi, na kujibu maswali kuhusu huduma, bei na saa zetu. Nikusaidie vipi?"
            )
        }
    };
    toned(p.tone, text, channel)
}

/// The tone dial's mark on a sentence: a smile in writing, when playful.
/// Speech synthesis would read an emoji out, so calls get the words alone.
pub fn toned(tone: Tone, text: String, channel: Channel) -> String {
    match (tone, channel) {
        (
            Tone::Playful,
            Channel::WhatsApp | Channel::Web | Channel::Instagram | Channel::Messenger,
        ) => format!("{text} 😊"),
        (Tone::Playful, Channel::Voice) | (Tone::Warm | Tone::Professional, _) => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::dialog::personality::PersonalityRow;

    fn row(mode: &str, honorific: &str, tone: &str) -> PersonalityRow {
        PersonalityRow {
            greeting_mode: Some(mode.into()),
            honorific: Some(honorific.into()),
            tone: Some(tone.into()),
            ..PersonalityRow::default()
        }
    }

    #[test]
    fn the_dials_change_the_greeting() {
        let biz = "Nywele Bora";
        let standard = Personality::resolve("salon", Some(&row("standard", "none", "warm")));
        let short = Personality::resolve("salon", Some(&row("short", "none", "warm")));
        let formal = Personality::resolve("salon", Some(&row("short", "formal", "warm")));
        let s = greeting(&standard, Lang::En, biz, None, Channel::WhatsApp);
        assert!(
            s.starts_with("Hello! Welcome to Nywele Bora. I can book"),
            "{s}"
        );
        let s = greeting(&standard, Lang::En, biz, None, Channel::Voice);
        assert_eq!(s, "Hello! Welcome to Nywele Bora. How can I help?");
        let s = greeting(&short, Lang::En, biz, None, Channel::Voice);
        assert_eq!(s, "Hello! Nywele Bora here. How can I help?");
        let s = greeting(&formal, Lang::Sw, biz, None, Channel::Voice);
        assert_eq!(
            s,
            "Habari yako, mpendwa mteja. Hapa ni Nywele Bora. Nikusaidie vipi?"
        );
        let mut custom = Personality::resolve("salon", Some(&row("custom", "none", "warm")));
        custom.greeting_custom = Some("Karibu Nywele Bora! Tukusaidie aje?".into());
        assert_eq!(
            greeting(&custom, Lang::En, biz, None, Channel::Voice),
            "Karibu Nywele Bora! Tukusaidie aje?"
        );
    }

    #[test]
    fn first_names_and_smiles_follow_their_dials_and_the_channel() {
        let p = Personality::resolve("salon", Some(&row("short", "first_name", "playful")));
        assert_eq!(
            greeting(&p, Lang::En, "X", Some("Wanjiku Kamau"), Channel::WhatsApp),
            "Hello Wanjiku! X here. How can I help? 😊"
        );
        assert_eq!(
            greeting(&p, Lang::En, "X", Some("Wanjiku Kamau"), Channel::Voice),
            "Hello Wanjiku! X here. How can I help?"
        );
        let none = Personality::resolve("salon", Some(&row("short", "none", "warm")));
        assert_eq!(
            greeting(&none, Lang::En, "X", Some("Wanjiku"), Channel::WhatsApp),
            "Hello! X here. How can I help?"
        );
    }
}
