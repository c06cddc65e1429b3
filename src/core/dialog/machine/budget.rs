//! "niko na ka budget ya 1k, naeza fanya nini?": the services that fit in
//! what the customer can spend, cheapest first.

use super::*;

impl Dialog<'_> {
    /// Says the services costing at most `most` (minor units), or, when
    /// none does, the cheapest ones.
    pub(super) fn say_within(&mut self, most: i64) {
        let lang = self.state.lang;
        let mut services: Vec<&ServiceInfo> = self.config.catalog.services.iter().collect();
        services.sort_by_key(|s| s.price.minor);
        let fits: Vec<String> = services
            .iter()
            .filter(|s| s.price.minor <= most)
            .map(|s| format!("{} ({})", s.display_name(lang), say::money(s.price)))
            .collect();
        let budget = say::money(Money::kes(most));
        let line = if fits.is_empty() {
            let cheapest: Vec<String> = services
                .iter()
                .take(3)
                .map(|s| format!("{} ({})", s.display_name(lang), say::money(s.price)))
                .collect();
            match lang {
                Lang::En => format!(
                    "Nothing we do is within {budget}, sorry. The least costly: {}.",
                    cheapest.join("; ")
                ),
                Lang::Sw => format!(
                    "Samahani, hakuna huduma ya {budget} au chini. Za bei nafuu zaidi: {}.",
                    cheapest.join("; ")
                ),
            }
        } else {
            match lang {
                Lang::En => format!("Within {budget}: {}.", fits.join("; ")),
                Lang::Sw => format!("Kwa {budget} au chini: {}.", fits.join("; ")),
            }
        };
        self.say(line);
    }
}
