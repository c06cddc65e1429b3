//! Payment provider clients: Safaricom Daraja (M-Pesa Express / STK push) and
//! PesaPal API 3.0, plus a local simulator that speaks both protocols for the
//! embedded default and the tests.
//!
//! Both clients are a [`PaymentGateway`] (start, query, parse a callback),
//! so the runtime has one code path for every provider.
//!
//! The clients only translate: requests from typed values, answers and
//! callbacks into [`crate::core::payment::PaymentOutcome`]. What to do with an
//! outcome is decided in `core::payment`; recording it is `storage::payments`.
//!
//! Retries: reads (tokens, status queries) are retried on transport errors,
//! 429 and 5xx. A request that creates something at the provider (an STK push,
//! a PesaPal order) is retried only when the connection was never made; once
//! it may have reached the provider, a lost answer is reported as
//! [`PaymentError::Uncertain`] and the caller asks with a status query.

pub mod daraja;
pub mod gateway;
pub mod pesapal;
pub mod simulator;

pub use gateway::{
    CallbackClaim, CallbackError, PaymentGateway, PaymentRequest, Started, Verdict, callback_ref,
    stored_outcome,
};

use std::time::Duration;

use reqwest::StatusCode;
use thiserror::Error;

use crate::core::ids::PhoneNumber;

/// Which provider endpoints a deployment talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentEnvironment {
    Sandbox,
    Production,
    /// The local simulator; never real money. Chosen explicitly only.
    Simulator,
}

impl PaymentEnvironment {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "sandbox" => Some(Self::Sandbox),
            "production" => Some(Self::Production),
            "simulator" => Some(Self::Simulator),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sandbox => "sandbox",
            Self::Production => "production",
            Self::Simulator => "simulator",
        }
    }

    /// The environment for one tenant: `tenants.payment_environment_override`
    /// (`sandbox` | `production`) wins over the deployment setting, except in a
    /// simulator deployment, which must never reach a real provider.
    pub fn for_tenant(self, tenant_override: Option<&str>) -> Self {
        if self == Self::Simulator {
            return self;
        }
        match tenant_override.and_then(Self::parse) {
            Some(Self::Sandbox) => Self::Sandbox,
            Some(Self::Production) => Self::Production,
            _ => self,
        }
    }

    /// Daraja base URL for the real environments; the simulator's comes from
    /// where it is served.
    pub fn daraja_base(self) -> Option<&'static str> {
        match self {
            Self::Sandbox => Some("https://sandbox.safaricom.co.ke"),
            Self::Production => Some("https://api.safaricom.co.ke"),
            Self::Simulator => None,
        }
    }

    pub fn pesapal_base(self) -> Option<&'static str> {
        match self {
            Self::Sandbox => Some("https://cybqa.pesapal.com/pesapalv3"),
            Self::Production => Some("https://pay.pesapal.com/v3"),
            Self::Simulator => None,
        }
    }
}

/// Why a payment request failed, and whose fault it was.
#[derive(Debug, Error)]
pub enum PaymentError {
    /// Caller: the number cannot receive an M-Pesa prompt.
    #[error("phone number is not a Kenyan mobile number (2547XXXXXXXX / 2541XXXXXXXX)")]
    BadPhone,
    /// Caller: the amount cannot be charged.
    #[error("amount must be at least one whole unit: {0}")]
    BadAmount(String),
    /// Us: the tenant's credentials are missing or unreadable.
    #[error("payment credentials missing or invalid: {0}")]
    Credentials(String),
    /// Provider: it answered and refused.
    #[error("provider refused the request (HTTP {status}): {code} {message}")]
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
    /// Provider: unreachable or failing after retries.
    #[error("provider unavailable: {0}")]
    Unavailable(String),
    /// The request may have been accepted but the answer was lost: query the
    /// provider instead of repeating it.
    #[error("request may have been accepted; its answer was lost")]
    Uncertain,
    /// Provider: the answer did not have the expected shape.
    #[error("provider answer unreadable: {0}")]
    BadResponse(String),
}

impl PaymentError {
    /// Whether the provider was at fault (as opposed to the caller or us).
    pub fn is_provider_fault(&self) -> bool {
        matches!(
            self,
            Self::Rejected { .. } | Self::Unavailable(_) | Self::BadResponse(_) | Self::Uncertain
        )
    }
}

/// Normalises a phone number to the MSISDN form M-Pesa accepts,
/// `2547XXXXXXXX` or `2541XXXXXXXX`, refusing anything else before a request
/// is made.
pub fn kenyan_msisdn(phone: &PhoneNumber) -> Result<String, PaymentError> {
    let digits = phone.digits();
    let ok = digits.len() == 12
        && (digits.starts_with("2547") || digits.starts_with("2541"))
        && digits.bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(digits.to_owned())
    } else {
        Err(PaymentError::BadPhone)
    }
}

/// Timeouts and retry counts for provider calls.
#[derive(Debug, Clone, Copy)]
pub struct HttpPolicy {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Total tries of an idempotent request.
    pub attempts: u32,
    pub backoff: Duration,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(15),
            attempts: 3,
            backoff: Duration::from_millis(250),
        }
    }
}

impl HttpPolicy {
    pub fn client(&self) -> Result<reqwest::Client, PaymentError> {
        reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.request_timeout)
            .build()
            .map_err(|e| PaymentError::Credentials(format!("http client: {e}")))
    }
}

/// Whether repeating a request is harmless.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repeat {
    Safe,
    /// Creates something at the provider: repeat only if never sent.
    OnlyIfUnsent,
}

/// Sends a request built by `make` under `policy`, returning the status and
/// the JSON body. Non-2xx answers are returned, not turned into errors, so
/// each protocol can read its own error shape; 429 and 5xx are retried when
/// repeating is safe.
pub(crate) async fn send_json<F>(
    policy: &HttpPolicy,
    repeat: Repeat,
    make: F,
) -> Result<(StatusCode, serde_json::Value), PaymentError>
where
    F: Fn() -> reqwest::RequestBuilder,
{
    let mut last = String::new();
    for attempt in 0..policy.attempts.max(1) {
        if attempt > 0 {
            tokio::time::sleep(policy.backoff * 2u32.saturating_pow(attempt - 1)).await;
        }
        let resp = match make().send().await {
            Ok(resp) => resp,
            Err(e) if e.is_connect() => {
                last = format!("connect: {e}");
                continue;
            }
            Err(e) => {
                if repeat == Repeat::OnlyIfUnsent {
                    tracing::warn!(error = %e, "provider request may have been delivered");
                    return Err(PaymentError::Uncertain);
                }
                last = format!("transport: {e}");
                continue;
            }
        };
        let status = resp.status();
        if repeat == Repeat::Safe
            && (status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS)
        {
            last = format!("HTTP {status}");
            continue;
        }
        let bytes = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                if repeat == Repeat::OnlyIfUnsent && status.is_success() {
                    return Err(PaymentError::Uncertain);
                }
                last = format!("body: {e}");
                continue;
            }
        };
        let body = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            match serde_json::from_slice(&bytes) {
                Ok(v) => v,
                Err(_) if status.is_success() && repeat == Repeat::OnlyIfUnsent => {
                    return Err(PaymentError::Uncertain);
                }
                Err(_) if status.is_success() => {
                    return Err(PaymentError::BadResponse("body is not JSON".into()));
                }
                Err(_) => serde_json::Value::Null,
            }
        };
        return Ok((status, body));
    }
    Err(PaymentError::Unavailable(last))
}

/// A JSON field as a string, whether the provider sent a string or a number.
pub(crate) fn json_str(v: &serde_json::Value, key: &str) -> Option<String> {
    match v.get(key)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A JSON field as an integer, whether sent as a number or a numeric string.
pub(crate) fn json_i64(v: &serde_json::Value, key: &str) -> Option<i64> {
    match v.get(key)? {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msisdn_normalisation() {
        for (raw, want) in [
            ("0712345678", Some("254712345678")),
            ("+254 712 345 678", Some("254712345678")),
            ("254112345678", Some("254112345678")),
            ("0112345678", Some("254112345678")),
            ("+255712345678", None),
            ("254212345678", None),
            ("+2547123456789", None),
            ("+14155550100", None),
        ] {
            let phone = PhoneNumber::parse(raw).expect("parses as E.164");
            assert_eq!(kenyan_msisdn(&phone).ok().as_deref(), want, "{raw}");
        }
    }

    #[test]
    fn tenant_override_and_simulator() {
        use PaymentEnvironment::*;
        assert_eq!(Sandbox.for_tenant(Some("production")), Production);
        assert_eq!(Production.for_tenant(Some("sandbox")), Sandbox);
        assert_eq!(Production.for_tenant(None), Production);
        assert_eq!(Sandbox.for_tenant(Some("bogus")), Sandbox);
        assert_eq!(Simulator.for_tenant(Some("production")), Simulator);
        assert_eq!(PaymentEnvironment::parse("SIMULATOR"), Some(Simulator));
    }
}
