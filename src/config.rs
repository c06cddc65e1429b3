//! Settings, loaded from the environment (and an optional file) and validated
//! once at start-up.
//!
//! Every value comes from an environment variable; `RATIBA_CONFIG` may name a
//! file of `NAME=value` lines (same names, `#` comments) whose values apply
//! where the environment does not set one. Validation happens here, once, so
//! the rest of the engine holds parsed values (URLs, socket addresses,
//! durations) and never re-checks them. Secrets are [`Secret`]s: their
//! `Debug` and `Display` never show the value, so printing `Settings` is safe.
//!
//! Each section belongs to one area of the engine; add your fields to your
//! section, read them in [`Settings::from_source`] and check them in that
//! section's `validate`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use thiserror::Error;
use url::Url;

mod sms;
mod telephony;
pub use sms::SmsSettings;
pub use telephony::{CallControlSettings, TelephonySettings};

/// A secret value (API key, token, password). Redacted in `Debug` and
/// `Display`; [`Secret::expose`] gives the value where it is really needed.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Why the settings were refused. Always the operator's to fix, so each
/// message names the variable.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{name}: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("{name} is required when {because}")]
    Missing {
        name: &'static str,
        because: &'static str,
    },
    #[error("cannot read settings file {path}: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("settings file {path}, line {line}: expected NAME=value")]
    FileSyntax { path: PathBuf, line: usize },
}

/// All settings of the engine, grouped by area.
#[derive(Debug, Clone)]
pub struct Settings {
    pub core: CoreSettings,
    pub whatsapp: WhatsAppSettings,
    pub speech: SpeechSettings,
    pub llm: LlmSettings,
    pub payments: PaymentSettings,
    pub telephony: TelephonySettings,
    pub sms: SmsSettings,
}

#[derive(Debug, Clone)]
pub struct CoreSettings {
    /// `DATABASE_URL`. `None` means the embedded Postgres under `data_dir`.
    pub database_url: Option<Secret>,
    /// `RATIBA_LISTEN`, default `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// `RATIBA_DATA_DIR`, default `./.ratiba`.
    pub data_dir: PathBuf,
    /// `RATIBA_FERNET_KEY`: encrypts credential columns. When unset, a dev key
    /// is generated into `data_dir` (refused in production payments).
    pub fernet_key: Option<Secret>,
    /// `RATIBA_PUBLIC_URL`: how providers reach us (callback URLs).
    pub public_base_url: Option<Url>,
    /// `RATIBA_DB_MAX_CONNECTIONS`, default 16.
    pub db_max_connections: u32,
    /// `RATIBA_SHUTDOWN_GRACE_MS`, default 10000: how long open connections
    /// (live calls) get to finish after SIGTERM / Ctrl-C.
    pub shutdown_grace: Duration,
}

impl CoreSettings {
    /// The embedded default (no `DATABASE_URL`) listening on loopback: a
    /// developer's machine, where providers are replaced by local captures
    /// (WhatsApp replies at `/dev/graph`, SMS codes at `/dev/sms`).
    pub fn is_local_dev(&self) -> bool {
        self.database_url.is_none() && self.listen.ip().is_loopback()
    }
}

#[derive(Debug, Clone)]
pub struct WhatsAppSettings {
    /// `WHATSAPP_APP_SECRET` (or `META_APP_SECRET`): the Meta app secret
    /// that signs WhatsApp, Instagram and Messenger webhooks
    /// (`X-Hub-Signature-256`).
    pub app_secret: Option<Secret>,
    /// `WHATSAPP_VERIFY_TOKEN` (or `META_VERIFY_TOKEN`): the webhook
    /// subscription handshake of all three.
    pub verify_token: Option<Secret>,
    /// `WHATSAPP_GRAPH_URL`, default `https://graph.facebook.com/v21.0`.
    pub graph_base_url: Url,
    /// `RATIBA_REMINDER_SWEEP_MS`, default 60000: how often each node looks
    /// for appointment reminders due (docs/reminders.md).
    pub reminder_sweep_every: Duration,
}

#[derive(Debug, Clone)]
pub struct SpeechSettings {
    /// `DEEPGRAM_API_KEY`.
    pub deepgram_api_key: Option<Secret>,
    /// `DEEPGRAM_URL`, default `wss://api.deepgram.com/v1/listen`.
    pub deepgram_url: Url,
    /// `ELEVENLABS_API_KEY`.
    pub elevenlabs_api_key: Option<Secret>,
    /// `ELEVENLABS_URL`, default `https://api.elevenlabs.io`.
    pub elevenlabs_url: Url,
    /// `WHISPER_URL`: an OpenAI-compatible transcription endpoint.
    pub whisper_url: Option<Url>,
    /// `WHISPER_API_KEY`.
    pub whisper_api_key: Option<Secret>,
    /// `ESPEAK_PATH`, default `espeak-ng` (looked up on PATH).
    pub espeak_path: PathBuf,
    /// `RATIBA_WHISPER_MODEL`: the local recognizer's model file (used when
    /// no cloud recognizer is set and the build has feature
    /// `local-whisper`), default `~/.cache/ratiba/ggml-tiny.en.bin`.
    pub whisper_model: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct LlmSettings {
    /// `LLM_BASE_URL`: an OpenAI-compatible API. Unset = no LLM, rules only.
    pub llm_base_url: Option<Url>,
    /// `LLM_API_KEY`.
    pub llm_api_key: Option<Secret>,
    /// `LLM_MODEL`: required when `LLM_BASE_URL` is set.
    pub llm_model: Option<String>,
    /// `LLM_CHEAP_MODEL`: defaults to `LLM_MODEL`.
    pub llm_cheap_model: Option<String>,
    /// `LLM_TIMEOUT_MS`, default 8000.
    pub llm_timeout: Duration,
    /// `LLM_CALL_BUDGET_MS`, default 600: how long an unclear turn on a
    /// call waits for the model before the rules answer (the caller hears
    /// silence meanwhile).
    pub llm_call_budget: Duration,
}

impl LlmSettings {
    pub fn enabled(&self) -> bool {
        self.llm_base_url.is_some()
    }
}

/// Where payments go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentEnvironment {
    Sandbox,
    Production,
    /// No provider is called; payments are simulated locally.
    Simulator,
}

impl PaymentEnvironment {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sandbox => "sandbox",
            Self::Production => "production",
            Self::Simulator => "simulator",
        }
    }
}

#[derive(Debug, Clone)]
pub struct PaymentSettings {
    /// `PAYMENT_ENVIRONMENT`: sandbox (default), production or simulator.
    pub payment_environment: PaymentEnvironment,
    /// `DARAJA_BASE_URL`, default the Daraja sandbox.
    pub daraja_base_url: Url,
    /// `PESAPAL_BASE_URL`, default the PesaPal sandbox.
    pub pesapal_base_url: Url,
    /// `CALLBACK_IP_ALLOWLIST`: comma-separated IPs or CIDRs allowed to post
    /// payment callbacks. Empty = allow all (sandbox and simulator only).
    pub callback_ip_allowlist: Vec<IpNet>,
    /// `DARAJA_CONSUMER_KEY` / `DARAJA_CONSUMER_SECRET`: the platform's Daraja
    /// app, for tenants whose credentials carry no consumer pair.
    pub daraja_consumer_key: Option<Secret>,
    pub daraja_consumer_secret: Option<Secret>,
    /// `PAYMENT_NOTICE_LEASE_MS`, default 60000: how long a node holds a
    /// payment outcome it is telling a customer on WhatsApp before another
    /// node may take it over (a node that died mid-send).
    pub notice_lease: Duration,
    /// `PAYMENT_NOTICE_SWEEP_MS`, default 15000: how often each node looks
    /// for payment outcomes still owed to customers (a failed send to retry,
    /// a dead node's lease run out, an outcome no node heard).
    pub notice_sweep_every: Duration,
}

/// An IPv4/IPv6 network in CIDR form (a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    pub addr: std::net::IpAddr,
    pub prefix: u8,
}

impl IpNet {
    pub fn parse(raw: &str) -> Option<Self> {
        let (addr, prefix) = match raw.split_once('/') {
            Some((a, p)) => (a.parse().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (raw.parse().ok()?, None),
        };
        let max = match addr {
            std::net::IpAddr::V4(_) => 32,
            std::net::IpAddr::V6(_) => 128,
        };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Self { addr, prefix })
    }

    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr::{V4, V6};
        match (self.addr, ip) {
            (V4(net), V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (V6(net), V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Where setting values come from: a map of variable names to values.
/// `from_env` builds it from the process environment and `RATIBA_CONFIG`;
/// tests build it by hand.
#[derive(Debug, Default, Clone)]
pub struct Source {
    vars: BTreeMap<String, String>,
}

impl Source {
    /// The process environment, over the `RATIBA_CONFIG` file if one is named.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut source = match std::env::var_os("RATIBA_CONFIG") {
            Some(path) if !path.is_empty() => Self::from_file(Path::new(&path))?,
            _ => Self::default(),
        };
        for (name, value) in std::env::vars() {
            source.vars.insert(name, value);
        }
        Ok(source)
    }

    /// `NAME=value` lines; blank lines and `#` comments are skipped and
    /// values may be wrapped in single or double quotes.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::File {
            path: path.to_owned(),
            source,
        })?;
        let mut vars = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let line = line.strip_prefix("export ").unwrap_or(line);
            let Some((name, value)) = line.split_once('=') else {
                return Err(ConfigError::FileSyntax {
                    path: path.to_owned(),
                    line: i + 1,
                });
            };
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(value);
            vars.insert(name.trim().to_owned(), value.to_owned());
        }
        Ok(Self { vars })
    }

    pub fn set(&mut self, name: &str, value: &str) -> &mut Self {
        self.vars.insert(name.to_owned(), value.to_owned());
        self
    }

    /// The value, with empty strings treated as unset.
    fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    fn secret(&self, name: &str) -> Option<Secret> {
        self.get(name).map(Secret::new)
    }

    fn url(&self, name: &'static str) -> Result<Option<Url>, ConfigError> {
        self.get(name).map(|raw| parse_url(name, raw)).transpose()
    }

    fn url_or(&self, name: &'static str, default: &str) -> Result<Url, ConfigError> {
        parse_url(name, self.get(name).unwrap_or(default))
    }

    fn number<T: std::str::FromStr>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => raw.parse().map_err(|e: T::Err| ConfigError::Invalid {
                name,
                reason: format!("not a valid number ({e})"),
            }),
        }
    }
}

fn parse_url(name: &'static str, raw: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(raw).map_err(|e| ConfigError::Invalid {
        name,
        reason: format!("not a valid URL ({e})"),
    })?;
    if !matches!(url.scheme(), "http" | "https" | "ws" | "wss") || url.host().is_none() {
        return Err(ConfigError::Invalid {
            name,
            reason: "must be an http(s) or ws(s) URL with a host".into(),
        });
    }
    Ok(url)
}

impl Settings {
    /// Reads and validates the settings from the process environment (and
    /// the `RATIBA_CONFIG` file).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&Source::from_env()?)
    }

    /// Moves the listen address (the `--listen` flag), keeping the defaults
    /// derived from it in step: a Graph URL that was the local capture
    /// default follows the new address.
    pub fn set_listen(&mut self, listen: SocketAddr) {
        let derived = Url::parse(&default_graph_url(&self.core)).ok();
        self.core.listen = listen;
        if derived.as_ref() == Some(&self.whatsapp.graph_base_url)
            && let Ok(url) = Url::parse(&default_graph_url(&self.core))
        {
            self.whatsapp.graph_base_url = url;
        }
    }

    /// Reads and validates the settings from an explicit source.
    pub fn from_source(src: &Source) -> Result<Self, ConfigError> {
        let listen_raw = src.get("RATIBA_LISTEN").unwrap_or("127.0.0.1:8080");
        let listen = listen_raw
            .parse::<SocketAddr>()
            .map_err(|_| ConfigError::Invalid {
                name: "RATIBA_LISTEN",
                reason: format!("{listen_raw:?} is not an address:port such as 127.0.0.1:8080"),
            })?;
        let database_url = match src.get("DATABASE_URL") {
            None => None,
            Some(raw) => {
                let url = Url::parse(raw).map_err(|e| ConfigError::Invalid {
                    name: "DATABASE_URL",
                    reason: format!("not a valid URL ({e})"),
                })?;
                if !matches!(url.scheme(), "postgres" | "postgresql") {
                    return Err(ConfigError::Invalid {
                        name: "DATABASE_URL",
                        reason: "must start with postgres:// or postgresql://".into(),
                    });
                }
                Some(Secret::new(raw))
            }
        };
        let fernet_key = src.secret("RATIBA_FERNET_KEY");
        if let Some(key) = &fernet_key
            && fernet::Fernet::new(key.expose()).is_none()
        {
            return Err(ConfigError::Invalid {
                name: "RATIBA_FERNET_KEY",
                reason: "must be 32 bytes in URL-safe base64 (a Python Fernet.generate_key())"
                    .into(),
            });
        }
        let core = CoreSettings {
            database_url,
            listen,
            data_dir: PathBuf::from(src.get("RATIBA_DATA_DIR").unwrap_or("./.ratiba")),
            fernet_key,
            public_base_url: src.url("RATIBA_PUBLIC_URL")?,
            db_max_connections: src.number("RATIBA_DB_MAX_CONNECTIONS", 16)?,
            shutdown_grace: Duration::from_millis(
                src.number("RATIBA_SHUTDOWN_GRACE_MS", 10_000u64)?,
            ),
        };
        if core.db_max_connections == 0 {
            return Err(ConfigError::Invalid {
                name: "RATIBA_DB_MAX_CONNECTIONS",
                reason: "must be at least 1".into(),
            });
        }

        let whatsapp = WhatsAppSettings {
            app_secret: src
                .secret("WHATSAPP_APP_SECRET")
                .or_else(|| src.secret("META_APP_SECRET")),
            verify_token: src
                .secret("WHATSAPP_VERIFY_TOKEN")
                .or_else(|| src.secret("META_VERIFY_TOKEN")),
            graph_base_url: src.url_or("WHATSAPP_GRAPH_URL", &default_graph_url(&core))?,
            reminder_sweep_every: Duration::from_millis(
                src.number("RATIBA_REMINDER_SWEEP_MS", 60_000u64)?,
            ),
        };
        if whatsapp.reminder_sweep_every.is_zero() {
            return Err(ConfigError::Invalid {
                name: "RATIBA_REMINDER_SWEEP_MS",
                reason: "must be at least 1".into(),
            });
        }

        let speech = SpeechSettings {
            deepgram_api_key: src.secret("DEEPGRAM_API_KEY"),
            deepgram_url: src.url_or("DEEPGRAM_URL", "wss://api.deepgram.com/v1/listen")?,
            elevenlabs_api_key: src.secret("ELEVENLABS_API_KEY"),
            elevenlabs_url: src.url_or("ELEVENLABS_URL", "https://api.elevenlabs.io")?,
            whisper_url: src.url("WHISPER_URL")?,
            whisper_api_key: src.secret("WHISPER_API_KEY"),
            espeak_path: PathBuf::from(src.get("ESPEAK_PATH").unwrap_or("espeak-ng")),
            whisper_model: src
                .get(crate::adapters::speech::local_whisper::MODEL_ENV)
                .map(PathBuf::from)
                .or_else(crate::adapters::speech::local_whisper::default_model_path),
        };

        let llm_model = src.get("LLM_MODEL").map(str::to_owned);
        let llm = LlmSettings {
            llm_base_url: src.url("LLM_BASE_URL")?,
            llm_api_key: src.secret("LLM_API_KEY"),
            llm_cheap_model: src
                .get("LLM_CHEAP_MODEL")
                .map(str::to_owned)
                .or_else(|| llm_model.clone()),
            llm_model,
            llm_timeout: Duration::from_millis(src.number("LLM_TIMEOUT_MS", 8000u64)?),
            llm_call_budget: Duration::from_millis(src.number("LLM_CALL_BUDGET_MS", 600u64)?),
        };
        if llm.enabled() && llm.llm_model.is_none() {
            return Err(ConfigError::Missing {
                name: "LLM_MODEL",
                because: "LLM_BASE_URL is set",
            });
        }

        let payment_environment = match src.get("PAYMENT_ENVIRONMENT").unwrap_or("sandbox") {
            "sandbox" => PaymentEnvironment::Sandbox,
            "production" => PaymentEnvironment::Production,
            "simulator" => PaymentEnvironment::Simulator,
            other => {
                return Err(ConfigError::Invalid {
                    name: "PAYMENT_ENVIRONMENT",
                    reason: format!("{other:?} is not one of sandbox, production, simulator"),
                });
            }
        };
        let mut callback_ip_allowlist = Vec::new();
        for item in src
            .get("CALLBACK_IP_ALLOWLIST")
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            callback_ip_allowlist.push(IpNet::parse(item).ok_or_else(|| ConfigError::Invalid {
                name: "CALLBACK_IP_ALLOWLIST",
                reason: format!("{item:?} is not an IP address or CIDR"),
            })?);
        }
        let payments = PaymentSettings {
            payment_environment,
            daraja_base_url: src.url_or("DARAJA_BASE_URL", "https://sandbox.safaricom.co.ke")?,
            pesapal_base_url: src
                .url_or("PESAPAL_BASE_URL", "https://cybqa.pesapal.com/pesapalv3")?,
            callback_ip_allowlist,
            daraja_consumer_key: src.secret("DARAJA_CONSUMER_KEY"),
            daraja_consumer_secret: src.secret("DARAJA_CONSUMER_SECRET"),
            notice_lease: Duration::from_millis(src.number("PAYMENT_NOTICE_LEASE_MS", 60_000u64)?),
            notice_sweep_every: Duration::from_millis(
                src.number("PAYMENT_NOTICE_SWEEP_MS", 15_000u64)?,
            ),
        };
        for (name, value) in [
            ("PAYMENT_NOTICE_LEASE_MS", payments.notice_lease),
            ("PAYMENT_NOTICE_SWEEP_MS", payments.notice_sweep_every),
        ] {
            if value.is_zero() {
                return Err(ConfigError::Invalid {
                    name,
                    reason: "must be at least 1".into(),
                });
            }
        }
        if payments.payment_environment == PaymentEnvironment::Production {
            if core.fernet_key.is_none() {
                return Err(ConfigError::Missing {
                    name: "RATIBA_FERNET_KEY",
                    because: "PAYMENT_ENVIRONMENT=production",
                });
            }
            match &core.public_base_url {
                None => {
                    return Err(ConfigError::Missing {
                        name: "RATIBA_PUBLIC_URL",
                        because: "PAYMENT_ENVIRONMENT=production (callbacks need it)",
                    });
                }
                Some(url) if url.scheme() != "https" => {
                    return Err(ConfigError::Invalid {
                        name: "RATIBA_PUBLIC_URL",
                        reason: "must be https when PAYMENT_ENVIRONMENT=production".into(),
                    });
                }
                Some(_) => {}
            }
            if payments.callback_ip_allowlist.is_empty() {
                return Err(ConfigError::Missing {
                    name: "CALLBACK_IP_ALLOWLIST",
                    because: "PAYMENT_ENVIRONMENT=production",
                });
            }
        }

        let telephony = TelephonySettings::read(
            src,
            payments.payment_environment == PaymentEnvironment::Production,
        )?;

        let sms = SmsSettings::read(src)?;

        Ok(Settings {
            core,
            whatsapp,
            speech,
            llm,
            payments,
            telephony,
            sms,
        })
    }

    /// Settings with every default and nothing switched on: for tests.
    pub fn for_tests() -> Self {
        Self::from_source(&Source::default()).expect("the defaults are valid")
    }
}

/// Where outbound WhatsApp messages go when `WHATSAPP_GRAPH_URL` is unset.
/// The embedded default (no `DATABASE_URL`) listening on loopback is a
/// developer's machine: replies go to the server's own capture endpoint, so
/// `ratiba chat` works with no Meta account. Anything else talks to Meta.
fn default_graph_url(core: &CoreSettings) -> String {
    if core.is_local_dev() {
        format!("http://{}/dev/graph", core.listen)
    } else {
        "https://graph.facebook.com/v21.0".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(pairs: &[(&str, &str)]) -> Source {
        let mut s = Source::default();
        for (k, v) in pairs {
            s.set(k, v);
        }
        s
    }

    #[test]
    fn defaults_are_valid() {
        let s = Settings::from_source(&Source::default()).unwrap();
        assert_eq!(s.core.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(s.core.data_dir, PathBuf::from("./.ratiba"));
        assert!(s.core.database_url.is_none());
        assert_eq!(s.payments.payment_environment, PaymentEnvironment::Sandbox);
        assert_eq!(
            s.whatsapp.graph_base_url.as_str(),
            "http://127.0.0.1:8080/dev/graph",
            "the embedded default captures WhatsApp replies locally"
        );
        assert!(!s.llm.enabled());
    }

    #[test]
    fn the_capture_default_follows_the_listen_flag() {
        let mut s = Settings::from_source(&Source::default()).unwrap();
        s.set_listen("127.0.0.1:8099".parse().unwrap());
        assert_eq!(
            s.whatsapp.graph_base_url.as_str(),
            "http://127.0.0.1:8099/dev/graph"
        );
        let mut src = Source::default();
        src.set("WHATSAPP_GRAPH_URL", "https://graph.example/v1");
        let mut s = Settings::from_source(&src).unwrap();
        s.set_listen("127.0.0.1:8099".parse().unwrap());
        assert_eq!(
            s.whatsapp.graph_base_url.as_str(),
            "https://graph.example/v1"
        );
    }

    #[test]
    fn reminders_are_swept_every_minute_unless_set() {
        let s = Settings::from_source(&Source::default()).unwrap();
        assert_eq!(s.whatsapp.reminder_sweep_every, Duration::from_secs(60));
        let s = Settings::from_source(&src(&[("RATIBA_REMINDER_SWEEP_MS", "5000")])).unwrap();
        assert_eq!(s.whatsapp.reminder_sweep_every, Duration::from_secs(5));
    }

    #[test]
    fn a_real_database_talks_to_meta_by_default() {
        let mut src = Source::default();
        src.set("DATABASE_URL", "postgres://db.example/ratiba");
        let s = Settings::from_source(&src).unwrap();
        assert_eq!(
            s.whatsapp.graph_base_url.as_str(),
            "https://graph.facebook.com/v21.0"
        );
    }

    #[test]
    fn bad_values_are_named_in_the_error() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("RATIBA_LISTEN", "localhost")], "RATIBA_LISTEN"),
            (&[("RATIBA_LISTEN", "127.0.0.1:99999")], "RATIBA_LISTEN"),
            (&[("DATABASE_URL", "mysql://x")], "DATABASE_URL"),
            (&[("WHATSAPP_GRAPH_URL", "not a url")], "WHATSAPP_GRAPH_URL"),
            (&[("RATIBA_FERNET_KEY", "short")], "RATIBA_FERNET_KEY"),
            (&[("PAYMENT_ENVIRONMENT", "live")], "PAYMENT_ENVIRONMENT"),
            (&[("LLM_TIMEOUT_MS", "soon")], "LLM_TIMEOUT_MS"),
            (
                &[("RATIBA_REMINDER_SWEEP_MS", "0")],
                "RATIBA_REMINDER_SWEEP_MS",
            ),
            (&[("LLM_BASE_URL", "http://127.0.0.1:1")], "LLM_MODEL"),
            (
                &[("CALLBACK_IP_ALLOWLIST", "1.2.3.4,nope")],
                "CALLBACK_IP_ALLOWLIST",
            ),
            (
                &[("PAYMENT_ENVIRONMENT", "production")],
                "RATIBA_FERNET_KEY",
            ),
        ];
        for (pairs, name) in cases {
            let err = Settings::from_source(&src(pairs)).unwrap_err().to_string();
            assert!(err.contains(name), "{pairs:?}: {err}");
        }
    }

    #[test]
    fn production_payments_need_https_public_url_and_allowlist() {
        let key = fernet::Fernet::generate_key();
        let base = [
            ("PAYMENT_ENVIRONMENT", "production"),
            ("RATIBA_FERNET_KEY", key.as_str()),
        ];
        let err = Settings::from_source(&src(&base)).unwrap_err().to_string();
        assert!(err.contains("RATIBA_PUBLIC_URL"), "{err}");
        let mut with_url = base.to_vec();
        with_url.push(("RATIBA_PUBLIC_URL", "http://example.com"));
        let err = Settings::from_source(&src(&with_url))
            .unwrap_err()
            .to_string();
        assert!(err.contains("https"), "{err}");
        with_url.pop();
        with_url.push(("RATIBA_PUBLIC_URL", "https://example.com"));
        with_url.push(("CALLBACK_IP_ALLOWLIST", "196.201.214.0/24"));
        with_url.push(("TELEPHONY_PROVIDERS", "twilio"));
        with_url.push(("TWILIO_AUTH_TOKEN", "tok"));
        let s = Settings::from_source(&src(&with_url)).unwrap();
        assert_eq!(s.payments.callback_ip_allowlist.len(), 1);
    }

    #[test]
    fn production_needs_the_signing_secret_of_every_enabled_provider() {
        let key = fernet::Fernet::generate_key();
        let base = vec![
            ("PAYMENT_ENVIRONMENT", "production"),
            ("RATIBA_FERNET_KEY", key.as_str()),
            ("RATIBA_PUBLIC_URL", "https://example.com"),
            ("CALLBACK_IP_ALLOWLIST", "196.201.214.0/24"),
        ];
        let telnyx_key = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
        type Case<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>);
        let cases: &[Case] = &[
            (&[], Some("TWILIO_AUTH_TOKEN")),
            (
                &[("TELEPHONY_PROVIDERS", "telnyx")],
                Some("TELNYX_PUBLIC_KEY"),
            ),
            (
                &[
                    ("TELEPHONY_PROVIDERS", "plivo,twilio"),
                    ("TWILIO_AUTH_TOKEN", "t"),
                ],
                Some("PLIVO_AUTH_TOKEN"),
            ),
            (
                &[("TELEPHONY_PROVIDERS", "vonage")],
                Some("VONAGE_SIGNATURE_SECRET"),
            ),
            (
                &[
                    ("TELEPHONY_PROVIDERS", "telnyx"),
                    ("TELNYX_PUBLIC_KEY", telnyx_key),
                ],
                None,
            ),
            (&[("TELEPHONY_PROVIDERS", "none")], None),
            (&[("TELEPHONY_PROVIDERS", "exotel")], None),
        ];
        for (extra, missing) in cases {
            let mut pairs = base.clone();
            pairs.extend_from_slice(extra);
            match (Settings::from_source(&src(&pairs)), missing) {
                (Ok(_), None) => {}
                (Err(e), Some(name)) => {
                    let e = e.to_string();
                    assert!(e.contains(name), "{extra:?}: {e}");
                }
                (other, _) => panic!("{extra:?}: {other:?}"),
            }
        }
        // Outside production nothing is required (unsigned webhooks are
        // accepted with a warning), but a key that is set must parse.
        assert!(Settings::from_source(&Source::default()).is_ok());
        let err = Settings::from_source(&src(&[("TELNYX_PUBLIC_KEY", "short")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("TELNYX_PUBLIC_KEY"), "{err}");
        let err = Settings::from_source(&src(&[("TELEPHONY_PROVIDERS", "twilio,skype")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("TELEPHONY_PROVIDERS"), "{err}");
    }

    #[test]
    fn secrets_never_print() {
        let key = fernet::Fernet::generate_key();
        let s = Settings::from_source(&src(&[
            ("DATABASE_URL", "postgres://u:hunter2@db/x"),
            ("RATIBA_FERNET_KEY", key.as_str()),
            ("WHATSAPP_APP_SECRET", "whatsapp-app-secret-value"),
            ("TWILIO_AUTH_TOKEN", "twilio-token-value"),
            ("LLM_BASE_URL", "https://llm.example"),
            ("LLM_MODEL", "m"),
            ("LLM_API_KEY", "sk-llm-key-value"),
        ]))
        .unwrap();
        let printed = format!("{s:?}");
        for secret in [
            "hunter2",
            key.as_str(),
            "whatsapp-app-secret-value",
            "twilio-token-value",
            "sk-llm-key-value",
        ] {
            assert!(!printed.contains(secret), "{secret} leaked");
        }
        assert_eq!(s.llm.llm_cheap_model.as_deref(), Some("m"));
    }

    #[test]
    fn file_values_apply_under_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ratiba.env");
        std::fs::write(
            &path,
            "# comment\nRATIBA_LISTEN=0.0.0.0:9000\nexport LLM_MODEL=\"small\"\n\nESPEAK_PATH='/opt/espeak'\n",
        )
        .unwrap();
        let mut source = Source::from_file(&path).unwrap();
        source.set("LLM_MODEL", "override");
        let s = Settings::from_source(&source).unwrap();
        assert_eq!(s.core.listen.port(), 9000);
        assert_eq!(s.speech.espeak_path, PathBuf::from("/opt/espeak"));
        assert_eq!(s.llm.llm_model.as_deref(), Some("override"));

        std::fs::write(&path, "JUST_A_WORD\n").unwrap();
        let err = Source::from_file(&path).unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn ip_networks_match() {
        let net = IpNet::parse("196.201.214.0/24").unwrap();
        assert!(net.contains("196.201.214.200".parse().unwrap()));
        assert!(!net.contains("196.201.215.1".parse().unwrap()));
        let one = IpNet::parse("10.0.0.1").unwrap();
        assert!(one.contains("10.0.0.1".parse().unwrap()));
        assert!(!one.contains("10.0.0.2".parse().unwrap()));
        assert!(
            IpNet::parse("::1/128")
                .unwrap()
                .contains("::1".parse().unwrap())
        );
        assert!(IpNet::parse("10.0.0.0/33").is_none());
        assert!(
            IpNet::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
    }
}
