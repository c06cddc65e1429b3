//! SMS settings: the web phone check's codes go out through Africa's
//! Talking (docs/web.md).

use url::Url;

use super::{ConfigError, Secret, Source};

/// Africa's Talking's live API.
pub const AFRICASTALKING_LIVE: &str = "https://api.africastalking.com";
/// Africa's Talking's sandbox (username `sandbox`; messages reach only
/// its simulator).
pub const AFRICASTALKING_SANDBOX: &str = "https://api.sandbox.africastalking.com";

#[derive(Debug, Clone)]
pub struct SmsSettings {
    /// `AFRICASTALKING_USERNAME` (`sandbox` for the sandbox app).
    pub africastalking_username: Option<String>,
    /// `AFRICASTALKING_API_KEY`: sent as the `apiKey` header.
    pub africastalking_api_key: Option<Secret>,
    /// `AFRICASTALKING_URL`: default the sandbox for username `sandbox`,
    /// else the live API.
    pub africastalking_url: Url,
    /// `AFRICASTALKING_FROM`: an approved sender id or short code
    /// (optional; the account's default otherwise).
    pub africastalking_from: Option<String>,
}

impl SmsSettings {
    pub(super) fn read(src: &Source) -> Result<Self, ConfigError> {
        let username = src.get("AFRICASTALKING_USERNAME").map(str::to_owned);
        let api_key = src.secret("AFRICASTALKING_API_KEY");
        if api_key.is_some() && username.is_none() {
            return Err(ConfigError::Missing {
                name: "AFRICASTALKING_USERNAME",
                because: "AFRICASTALKING_API_KEY is set",
            });
        }
        let default = if username.as_deref() == Some("sandbox") {
            AFRICASTALKING_SANDBOX
        } else {
            AFRICASTALKING_LIVE
        };
        Ok(SmsSettings {
            africastalking_username: username,
            africastalking_api_key: api_key,
            africastalking_url: src.url_or("AFRICASTALKING_URL", default)?,
            africastalking_from: src.get("AFRICASTALKING_FROM").map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sandbox_username_picks_the_sandbox_and_a_key_needs_a_username() {
        let mut src = Source::default();
        let s = SmsSettings::read(&src).unwrap();
        assert!(s.africastalking_api_key.is_none());
        assert_eq!(
            s.africastalking_url.as_str(),
            "https://api.africastalking.com/"
        );
        src.set("AFRICASTALKING_USERNAME", "sandbox");
        src.set("AFRICASTALKING_API_KEY", "k");
        let s = SmsSettings::read(&src).unwrap();
        assert_eq!(
            s.africastalking_url.as_str(),
            "https://api.sandbox.africastalking.com/"
        );
        let mut only_key = Source::default();
        only_key.set("AFRICASTALKING_API_KEY", "k");
        assert!(SmsSettings::read(&only_key).is_err());
    }
}
