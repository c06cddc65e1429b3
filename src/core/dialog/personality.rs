//! The personality dials (tenant_personality_config). Each dial is NULL in
//! the table unless the tenant chose a value; NULL inherits the vertical's
//! default from `fixtures/personality/verticals.json`, compiled in so the
//! core needs no file access. Unknown values fall back to the default too,
//! because the table does not validate them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Tone {
    #[default]
    Warm,
    Professional,
    Playful,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum GreetingMode {
    #[default]
    Standard,
    Short,
    Custom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Upsell {
    Off,
    #[default]
    Gentle,
    Active,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CancellationTone {
    #[default]
    Understanding,
    Neutral,
    Firm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Honorific {
    /// No name, no title.
    #[default]
    None,
    /// The customer's first name ("Habari Wanjiku!").
    #[serde(rename = "first_name")]
    FirstName,
    /// Formal address ("Good day", "mpendwa mteja").
    Formal,
}

/// The resolved dials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Personality {
    pub tone: Tone,
    pub greeting_mode: GreetingMode,
    /// Used when greeting_mode is custom (at most 140 characters).
    pub greeting_custom: Option<String>,
    pub upsell: Upsell,
    pub cancellation_tone: CancellationTone,
    pub honorific: Honorific,
    pub cross_sell: bool,
}

/// The tenant_personality_config row as stored (every dial nullable).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalityRow {
    pub tone: Option<String>,
    pub greeting_mode: Option<String>,
    pub greeting_custom: Option<String>,
    pub upsell: Option<String>,
    pub cancellation_tone: Option<String>,
    pub honorific: Option<String>,
    pub cross_sell: Option<String>,
}

const VERTICALS: &str = include_str!("../../../fixtures/personality/verticals.json");

impl Personality {
    /// The dials for a tenant of `vertical`, overridden by the non-NULL
    /// columns of its row (if it has one).
    pub fn resolve(vertical: &str, row: Option<&PersonalityRow>) -> Personality {
        let defaults: serde_json::Value = serde_json::from_str(VERTICALS).unwrap_or_default();
        let base = defaults
            .get(vertical)
            .or_else(|| defaults.get("default"))
            .cloned()
            .unwrap_or_default();
        let empty = PersonalityRow::default();
        let row = row.unwrap_or(&empty);
        let greeting_custom = row
            .greeting_custom
            .as_deref()
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .map(|g| g.chars().take(140).collect());
        let cross_sell: String = dial(&row.cross_sell, &base, "cross_sell");
        Personality {
            tone: dial(&row.tone, &base, "tone"),
            greeting_mode: dial(&row.greeting_mode, &base, "greeting_mode"),
            greeting_custom,
            upsell: dial(&row.upsell, &base, "upsell"),
            cancellation_tone: dial(&row.cancellation_tone, &base, "cancellation_tone"),
            honorific: dial(&row.honorific, &base, "honorific"),
            cross_sell: !matches!(cross_sell.as_str(), "off" | "false" | "no" | "0"),
        }
    }
}

/// The tenant's value when it parses, else the vertical's, else the type's
/// default.
fn dial<T: serde::de::DeserializeOwned + Default>(
    over: &Option<String>,
    base: &serde_json::Value,
    key: &str,
) -> T {
    let parse = |v: &str| -> Option<T> {
        serde_json::from_value(serde_json::Value::String(v.trim().to_ascii_lowercase())).ok()
    };
    over.as_deref()
        .and_then(parse)
        .or_else(|| base.get(key).and_then(|v| v.as_str()).and_then(parse))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_dials_inherit_the_vertical_default() {
        let salon = Personality::resolve("salon", None);
        assert_eq!(salon.tone, Tone::Warm);
        assert!(salon.cross_sell);
        let dental = Personality::resolve("dental", None);
        assert_eq!(dental.tone, Tone::Professional);
        assert_eq!(dental.honorific, Honorific::Formal);
        assert!(!dental.cross_sell);
        assert_eq!(
            Personality::resolve("unknown-vertical", None).tone,
            Tone::Warm
        );
    }

    #[test]
    fn set_dials_override_and_bad_values_fall_back() {
        let row = PersonalityRow {
            tone: Some("Playful".into()),
            cross_sell: Some("off".into()),
            cancellation_tone: Some("sarcastic".into()),
            greeting_mode: Some("custom".into()),
            greeting_custom: Some("Karibu Nywele Bora!".into()),
            ..Default::default()
        };
        let p = Personality::resolve("salon", Some(&row));
        let firm = Personality::resolve("dental", Some(&row));
        assert_eq!(firm.cancellation_tone, CancellationTone::Firm);
        assert_eq!(p.tone, Tone::Playful);
        assert!(!p.cross_sell);
        assert_eq!(p.cancellation_tone, CancellationTone::Understanding);
        assert_eq!(p.greeting_mode, GreetingMode::Custom);
        assert_eq!(p.greeting_custom.as_deref(), Some("Karibu Nywele Bora!"));
    }
}
