//! Telephony settings: which providers are served, the secrets their
//! webhooks are checked with, and the credentials of their call-control
//! REST APIs (put a caller through to a person, hang up politely).

use url::Url;

use super::{ConfigError, Secret, Source};

#[derive(Debug, Clone)]
pub struct TelephonySettings {
    /// `TWILIO_AUTH_TOKEN`: verifies `X-Twilio-Signature`.
    pub twilio_auth_token: Option<Secret>,
    /// `TELNYX_PUBLIC_KEY`: verifies Telnyx webhook signatures (base64 Ed25519).
    pub telnyx_public_key: Option<Secret>,
    /// `PLIVO_AUTH_TOKEN`: verifies `X-Plivo-Signature-V3`.
    pub plivo_auth_token: Option<Secret>,
    /// `VONAGE_SIGNATURE_SECRET`: verifies Vonage signed webhooks.
    pub vonage_signature_secret: Option<Secret>,
    /// `TELEPHONY_PROVIDERS`: comma-separated providers whose webhooks and
    /// media sockets are served (default all; `none` for none). In
    /// production every enabled provider that signs its webhooks needs its
    /// secret above.
    pub providers: Vec<crate::adapters::telephony::Provider>,
    /// The providers' call-control REST APIs.
    pub control: CallControlSettings,
}

/// Credentials and base URLs of the providers' call-control APIs. A
/// provider whose credentials are missing cannot transfer: its callers are
/// promised a call back, and a call is ended by closing its media socket.
/// The base URLs exist so tests (and regional endpoints) can move them.
#[derive(Debug, Clone)]
pub struct CallControlSettings {
    /// `TWILIO_ACCOUNT_SID` (with `TWILIO_AUTH_TOKEN`): `POST
    /// /2010-04-01/Accounts/{sid}/Calls/{CallSid}.json`, Basic auth.
    pub twilio_account_sid: Option<String>,
    /// `TWILIO_API_URL`, default `https://api.twilio.com`.
    pub twilio_api_url: Url,
    /// `TELNYX_API_KEY`: `POST /calls/{call_control_id}/actions/…`, Bearer.
    pub telnyx_api_key: Option<Secret>,
    /// `TELNYX_API_URL`, default `https://api.telnyx.com/v2`.
    pub telnyx_api_url: Url,
    /// `PLIVO_AUTH_ID` (with `PLIVO_AUTH_TOKEN`): `/v1/Account/{id}/Call/{uuid}/`,
    /// Basic auth.
    pub plivo_auth_id: Option<String>,
    /// `PLIVO_API_URL`, default `https://api.plivo.com`.
    pub plivo_api_url: Url,
    /// `VONAGE_APPLICATION_ID` and its private key (`VONAGE_PRIVATE_KEY`, PEM
    /// PKCS#8, `\n` escapes allowed, or a file named by
    /// `VONAGE_PRIVATE_KEY_PATH`): `PUT /v1/calls/{uuid}`, RS256 JWT.
    pub vonage_application_id: Option<String>,
    pub vonage_private_key: Option<Secret>,
    /// `VONAGE_API_URL`, default `https://api.nexmo.com`.
    pub vonage_api_url: Url,
    /// `EXOTEL_TRANSFER_FLOW`: the tenants' Exotel flows continue after the
    /// Voicebot applet to a Passthru applet on `/voice/exotel/next` (200:
    /// a Connect applet, 302: hang up). Exotel has no call-control API, so
    /// without it Exotel callers are promised a call back.
    pub exotel_transfer_flow: bool,
}

impl CallControlSettings {
    fn read(src: &Source) -> Result<Self, ConfigError> {
        let vonage_private_key = match (
            src.get("VONAGE_PRIVATE_KEY"),
            src.get("VONAGE_PRIVATE_KEY_PATH"),
        ) {
            (Some(pem), _) => Some(Secret::new(pem.replace("\\n", "\n"))),
            (None, Some(path)) => {
                Some(Secret::new(std::fs::read_to_string(path).map_err(|e| {
                    ConfigError::Invalid {
                        name: "VONAGE_PRIVATE_KEY_PATH",
                        reason: format!("cannot read {path}: {e}"),
                    }
                })?))
            }
            (None, None) => None,
        };
        if let Some(pem) = &vonage_private_key
            && let Err(reason) =
                crate::adapters::telephony::control::vonage::VonageKey::parse(pem.expose())
        {
            return Err(ConfigError::Invalid {
                name: "VONAGE_PRIVATE_KEY",
                reason: format!("{reason} (expected the application's PEM private key)"),
            });
        }
        let exotel_transfer_flow = match src.get("EXOTEL_TRANSFER_FLOW") {
            None => false,
            Some("1" | "true" | "yes") => true,
            Some("0" | "false" | "no") => false,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "EXOTEL_TRANSFER_FLOW",
                    reason: format!("{other:?} is not true or false"),
                });
            }
        };
        Ok(Self {
            twilio_account_sid: src.get("TWILIO_ACCOUNT_SID").map(str::to_owned),
            twilio_api_url: src.url_or("TWILIO_API_URL", "https://api.twilio.com")?,
            telnyx_api_key: src.secret("TELNYX_API_KEY"),
            telnyx_api_url: src.url_or("TELNYX_API_URL", "https://api.telnyx.com/v2")?,
            plivo_auth_id: src.get("PLIVO_AUTH_ID").map(str::to_owned),
            plivo_api_url: src.url_or("PLIVO_API_URL", "https://api.plivo.com")?,
            vonage_application_id: src.get("VONAGE_APPLICATION_ID").map(str::to_owned),
            vonage_private_key,
            vonage_api_url: src.url_or("VONAGE_API_URL", "https://api.nexmo.com")?,
            exotel_transfer_flow,
        })
    }
}

impl TelephonySettings {
    pub fn enabled(&self, provider: crate::adapters::telephony::Provider) -> bool {
        self.providers.contains(&provider)
    }

    pub(super) fn read(src: &Source, production: bool) -> Result<Self, ConfigError> {
        use crate::adapters::telephony::Provider;
        let providers = match src.get("TELEPHONY_PROVIDERS") {
            None => Provider::ALL.to_vec(),
            Some(raw) if raw.eq_ignore_ascii_case("none") => Vec::new(),
            Some(raw) => {
                let mut out = Vec::new();
                for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let p = item.parse::<Provider>().map_err(|e| ConfigError::Invalid {
                        name: "TELEPHONY_PROVIDERS",
                        reason: e.to_string(),
                    })?;
                    if !out.contains(&p) {
                        out.push(p);
                    }
                }
                out
            }
        };
        let telnyx_public_key = src.secret("TELNYX_PUBLIC_KEY");
        if let Some(key) = &telnyx_public_key
            && let Err(reason) =
                crate::adapters::telephony::signature::TelnyxKey::parse(key.expose())
        {
            return Err(ConfigError::Invalid {
                name: "TELNYX_PUBLIC_KEY",
                reason: format!(
                    "{reason} (expected the base64 Ed25519 key from the Telnyx portal)"
                ),
            });
        }
        let settings = Self {
            twilio_auth_token: src.secret("TWILIO_AUTH_TOKEN"),
            telnyx_public_key,
            plivo_auth_token: src.secret("PLIVO_AUTH_TOKEN"),
            vonage_signature_secret: src.secret("VONAGE_SIGNATURE_SECRET"),
            providers,
            control: CallControlSettings::read(src)?,
        };
        if production {
            let required: [(Provider, &'static str, bool, &'static str); 4] = [
                (
                    Provider::Twilio,
                    "TWILIO_AUTH_TOKEN",
                    settings.twilio_auth_token.is_some(),
                    "PAYMENT_ENVIRONMENT=production and TELEPHONY_PROVIDERS includes twilio",
                ),
                (
                    Provider::Telnyx,
                    "TELNYX_PUBLIC_KEY",
                    settings.telnyx_public_key.is_some(),
                    "PAYMENT_ENVIRONMENT=production and TELEPHONY_PROVIDERS includes telnyx",
                ),
                (
                    Provider::Plivo,
                    "PLIVO_AUTH_TOKEN",
                    settings.plivo_auth_token.is_some(),
                    "PAYMENT_ENVIRONMENT=production and TELEPHONY_PROVIDERS includes plivo",
                ),
                (
                    Provider::Vonage,
                    "VONAGE_SIGNATURE_SECRET",
                    settings.vonage_signature_secret.is_some(),
                    "PAYMENT_ENVIRONMENT=production and TELEPHONY_PROVIDERS includes vonage",
                ),
            ];
            for (provider, name, set, because) in required {
                if settings.enabled(provider) && !set {
                    return Err(ConfigError::Missing { name, because });
                }
            }
        }
        Ok(settings)
    }
}
