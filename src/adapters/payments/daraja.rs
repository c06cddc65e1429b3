//! Safaricom Daraja, M-Pesa Express: OAuth, STK push, STK query, and the
//! callback body.
//!
//! The push timestamp is Kenya time (Africa/Nairobi), the same value inside the
//! password; the token is cached until a minute before it expires.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::gateway::{CallbackClaim, PaymentGateway, PaymentRequest, Started, Verdict};
use super::{
    CallbackError, HttpPolicy, PaymentError, Repeat, json_i64, json_str, kenyan_msisdn, send_json,
};
use crate::core::ids::{Money, PhoneNumber};
use crate::core::payment::{PaymentOutcome, Provider};

/// The tenant's Daraja credentials, resolved from the Fernet-encrypted
/// `daraja_credentials` JSON or the legacy columns.
#[derive(Clone)]
pub struct DarajaCredentials {
    pub consumer_key: String,
    pub consumer_secret: String,
    pub shortcode: String,
    pub passkey: String,
    /// Buy Goods till: when set, pushes are `CustomerBuyGoodsOnline` with
    /// PartyB = till; otherwise paybill with PartyB = shortcode.
    pub till_number: Option<String>,
}

/// The stored JSON; the consumer pair may be absent (null) when the tenant
/// uses the platform's Daraja app.
#[derive(Deserialize)]
struct StoredCredentials {
    #[serde(default)]
    consumer_key: Option<String>,
    #[serde(default)]
    consumer_secret: Option<String>,
    shortcode: String,
    passkey: String,
    #[serde(default)]
    till_number: Option<String>,
    #[serde(default)]
    transaction_type: Option<String>,
}

impl std::fmt::Debug for DarajaCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DarajaCredentials")
            .field("shortcode", &self.shortcode)
            .finish_non_exhaustive()
    }
}

impl DarajaCredentials {
    /// Credentials for a tenant: the decrypted `daraja_credentials` JSON when
    /// present, else the legacy `mpesa_shortcode` / `mpesa_passkey` columns.
    /// A missing consumer pair falls back to the platform's.
    pub fn for_tenant(
        decrypted_json: Option<&[u8]>,
        legacy_shortcode: Option<&str>,
        legacy_passkey: Option<&str>,
        platform_consumer: Option<(&str, &str)>,
    ) -> Result<Self, PaymentError> {
        let (key, secret, shortcode, passkey, till) = match decrypted_json {
            Some(raw) => {
                let c: StoredCredentials = serde_json::from_slice(raw).map_err(|e| {
                    PaymentError::Credentials(format!("daraja_credentials JSON: {e}"))
                })?;
                let till = match c.transaction_type.as_deref() {
                    Some("CustomerBuyGoodsOnline") => c.till_number,
                    _ => c.till_number.filter(|_| c.transaction_type.is_none()),
                };
                (
                    c.consumer_key,
                    c.consumer_secret,
                    c.shortcode,
                    c.passkey,
                    till,
                )
            }
            None => (
                None,
                None,
                legacy_shortcode.unwrap_or_default().to_owned(),
                legacy_passkey.unwrap_or_default().to_owned(),
                None,
            ),
        };
        if shortcode.is_empty() || passkey.is_empty() {
            return Err(PaymentError::Credentials(
                "no Daraja shortcode/passkey (daraja_credentials or mpesa_shortcode/mpesa_passkey)"
                    .into(),
            ));
        }
        let (consumer_key, consumer_secret) = match (key, secret) {
            (Some(k), Some(s)) if !k.is_empty() && !s.is_empty() => (k, s),
            _ => match platform_consumer {
                Some((k, s)) => (k.to_owned(), s.to_owned()),
                None => {
                    return Err(PaymentError::Credentials(
                        "no Daraja consumer key pair for this tenant or the platform".into(),
                    ));
                }
            },
        };
        Ok(Self {
            consumer_key,
            consumer_secret,
            shortcode,
            passkey,
            till_number: till,
        })
    }
}

/// `YYYYMMDDHHmmss` in Africa/Nairobi.
pub fn timestamp(now: DateTime<Utc>) -> String {
    now.with_timezone(&chrono_tz::Africa::Nairobi)
        .format("%Y%m%d%H%M%S")
        .to_string()
}

/// `base64(shortcode + passkey + timestamp)`.
pub fn password(shortcode: &str, passkey: &str, timestamp: &str) -> String {
    B64.encode(format!("{shortcode}{passkey}{timestamp}"))
}

/// One STK push.
#[derive(Debug, Clone)]
pub struct StkPush<'a> {
    pub phone: &'a PhoneNumber,
    pub amount: Money,
    /// Shown on the customer's phone; at most 12 characters are sent.
    pub account_reference: &'a str,
    /// At most 13 characters are sent (longer ones fail with 1025).
    pub description: &'a str,
    pub callback_url: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StkAccepted {
    pub merchant_request_id: String,
    pub checkout_request_id: String,
}

/// What an STK query said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StkQueryResult {
    /// Still being processed.
    Pending,
    Final {
        result_code: i64,
        result_desc: String,
    },
}

impl StkQueryResult {
    pub fn outcome(&self) -> Option<PaymentOutcome> {
        match self {
            Self::Pending => None,
            Self::Final { result_code, .. } => {
                Some(PaymentOutcome::from_daraja(*result_code, None))
            }
        }
    }
}

struct CachedToken {
    token: String,
    refresh_after: Instant,
}

/// A Daraja client for one tenant's credentials and one environment.
pub struct DarajaClient {
    http: reqwest::Client,
    policy: HttpPolicy,
    base: String,
    creds: DarajaCredentials,
    token: Mutex<Option<CachedToken>>,
}

impl DarajaClient {
    pub fn new(
        base_url: &str,
        creds: DarajaCredentials,
        policy: HttpPolicy,
    ) -> Result<Self, PaymentError> {
        Ok(Self {
            http: policy.client()?,
            policy,
            base: base_url.trim_end_matches('/').to_owned(),
            creds,
            token: Mutex::new(None),
        })
    }

    pub fn shortcode(&self) -> &str {
        &self.creds.shortcode
    }

    /// A bearer token, fetched once and reused until a minute before expiry.
    pub async fn access_token(&self) -> Result<String, PaymentError> {
        let mut cached = self.token.lock().await;
        if let Some(t) = cached.as_ref().filter(|t| Instant::now() < t.refresh_after) {
            return Ok(t.token.clone());
        }
        let url = format!(
            "{}/oauth/v1/generate?grant_type=client_credentials",
            self.base
        );
        let (status, body) = send_json(&self.policy, Repeat::Safe, || {
            self.http
                .get(&url)
                .basic_auth(&self.creds.consumer_key, Some(&self.creds.consumer_secret))
        })
        .await?;
        if !status.is_success() {
            return Err(rejected(status.as_u16(), &body));
        }
        let token = json_str(&body, "access_token")
            .filter(|t| !t.is_empty())
            .ok_or_else(|| PaymentError::BadResponse("token answer lacks access_token".into()))?;
        let expires_in = json_i64(&body, "expires_in").unwrap_or(3599).max(0);
        let lifetime = Duration::from_secs(u64::try_from(expires_in).unwrap_or(0));
        *cached = Some(CachedToken {
            token: token.clone(),
            refresh_after: Instant::now() + lifetime.saturating_sub(Duration::from_secs(60)),
        });
        Ok(token)
    }

    /// Sends the payment prompt to the customer's phone. Never repeated once
    /// it may have reached Daraja: [`PaymentError::Uncertain`] means "ask with
    /// [`Self::stk_query`] or wait for the callback".
    pub async fn stk_push(
        &self,
        push: &StkPush<'_>,
        now: DateTime<Utc>,
    ) -> Result<StkAccepted, PaymentError> {
        let msisdn = kenyan_msisdn(push.phone)?;
        let amount = push.amount.whole_major();
        if amount < 1 || push.amount.minor % 100 != 0 {
            return Err(PaymentError::BadAmount(push.amount.to_string()));
        }
        let token = self.access_token().await?;
        let ts = timestamp(now);
        let (kind, party_b) = match &self.creds.till_number {
            Some(till) => ("CustomerBuyGoodsOnline", till.as_str()),
            None => ("CustomerPayBillOnline", self.creds.shortcode.as_str()),
        };
        let body = json!({
            "BusinessShortCode": self.creds.shortcode,
            "Password": password(&self.creds.shortcode, &self.creds.passkey, &ts),
            "Timestamp": ts,
            "TransactionType": kind,
            "Amount": amount,
            "PartyA": msisdn,
            "PartyB": party_b,
            "PhoneNumber": msisdn,
            "CallBackURL": push.callback_url,
            "AccountReference": truncate(push.account_reference, 12),
            "TransactionDesc": truncate(push.description, 13),
        });
        let url = format!("{}/mpesa/stkpush/v1/processrequest", self.base);
        let (status, answer) = send_json(&self.policy, Repeat::OnlyIfUnsent, || {
            self.http.post(&url).bearer_auth(&token).json(&body)
        })
        .await?;
        if !status.is_success() || json_str(&answer, "ResponseCode").as_deref() != Some("0") {
            return Err(rejected(status.as_u16(), &answer));
        }
        let (Some(merchant_request_id), Some(checkout_request_id)) = (
            json_str(&answer, "MerchantRequestID"),
            json_str(&answer, "CheckoutRequestID"),
        ) else {
            // Accepted, but we cannot correlate it: the callback URL token
            // still routes it.
            return Err(PaymentError::Uncertain);
        };
        Ok(StkAccepted {
            merchant_request_id,
            checkout_request_id,
        })
    }

    /// Asks Daraja about a push. "Being processed" answers are `Pending`.
    pub async fn stk_query(
        &self,
        checkout_request_id: &str,
        now: DateTime<Utc>,
    ) -> Result<StkQueryResult, PaymentError> {
        let token = self.access_token().await?;
        let ts = timestamp(now);
        let body = json!({
            "BusinessShortCode": self.creds.shortcode,
            "Password": password(&self.creds.shortcode, &self.creds.passkey, &ts),
            "Timestamp": ts,
            "CheckoutRequestID": checkout_request_id,
        });
        let url = format!("{}/mpesa/stkpushquery/v1/query", self.base);
        // A pending transaction answers HTTP 500 with errorCode 500.001.1001,
        // so 5xx is read here rather than retried blindly.
        let (status, answer) = send_json(&self.policy, Repeat::OnlyIfUnsent, || {
            self.http.post(&url).bearer_auth(&token).json(&body)
        })
        .await
        .or_else(|e| match e {
            // A query is harmless to repeat; a lost answer is just "pending".
            PaymentError::Uncertain => Ok((reqwest::StatusCode::GATEWAY_TIMEOUT, Value::Null)),
            other => Err(other),
        })?;
        if let Some(code) = json_i64(&answer, "ResultCode") {
            return Ok(StkQueryResult::Final {
                result_code: code,
                result_desc: json_str(&answer, "ResultDesc").unwrap_or_default(),
            });
        }
        let error_code = json_str(&answer, "errorCode").unwrap_or_default();
        if error_code == "500.001.1001" || status.is_server_error() || answer.is_null() {
            return Ok(StkQueryResult::Pending);
        }
        Err(rejected(status.as_u16(), &answer))
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn rejected(status: u16, body: &Value) -> PaymentError {
    PaymentError::Rejected {
        status,
        code: json_str(body, "errorCode")
            .or_else(|| json_str(body, "ResponseCode"))
            .unwrap_or_default(),
        message: json_str(body, "errorMessage")
            .or_else(|| json_str(body, "ResponseDescription"))
            .unwrap_or_default(),
    }
}

/// A parsed `Body.stkCallback`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StkCallback {
    pub merchant_request_id: String,
    pub checkout_request_id: String,
    pub result_code: i64,
    pub result_desc: String,
    pub amount: Option<Money>,
    pub receipt: Option<String>,
    pub transaction_date: Option<i64>,
    pub phone: Option<i64>,
}

impl StkCallback {
    pub fn parse(raw: &[u8]) -> Result<Self, CallbackError> {
        let v: Value = serde_json::from_slice(raw).map_err(|_| CallbackError::NotJson)?;
        let cb = v
            .get("Body")
            .and_then(|b| b.get("stkCallback"))
            .ok_or(CallbackError::Missing("Body.stkCallback"))?;
        let checkout_request_id =
            json_str(cb, "CheckoutRequestID").ok_or(CallbackError::Missing("CheckoutRequestID"))?;
        let result_code = json_i64(cb, "ResultCode").ok_or(CallbackError::Missing("ResultCode"))?;
        let items = cb
            .get("CallbackMetadata")
            .and_then(|m| m.get("Item"))
            .and_then(Value::as_array);
        // Items are looked up by Name, never by position; some lack Value.
        let item = |name: &str| -> Option<&Value> {
            items?
                .iter()
                .find(|i| i.get("Name").and_then(Value::as_str) == Some(name))?
                .get("Value")
        };
        let amount = item("Amount").and_then(|a| {
            let text = match a {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.clone(),
                _ => return None,
            };
            money_from_decimal(&text)
        });
        let receipt = item("MpesaReceiptNumber")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .filter(|r| !r.is_empty());
        let as_i64 = |v: &Value| match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        };
        let transaction_date = item("TransactionDate").and_then(as_i64);
        let phone = item("PhoneNumber").and_then(as_i64);
        if result_code == 0 && receipt.is_none() {
            return Err(CallbackError::SuccessWithoutReceipt);
        }
        Ok(Self {
            merchant_request_id: json_str(cb, "MerchantRequestID").unwrap_or_default(),
            checkout_request_id,
            result_code,
            result_desc: json_str(cb, "ResultDesc").unwrap_or_default(),
            amount,
            receipt,
            transaction_date,
            phone,
        })
    }

    pub fn outcome(&self) -> PaymentOutcome {
        PaymentOutcome::from_daraja(self.result_code, self.receipt.clone())
    }
}

/// M-Pesa Express as a [`PaymentGateway`]: the prompt is the start, the
/// STK query the verdict (it knows no receipt, so a later callback may add
/// one), and the callback carries its own outcome.
impl PaymentGateway for DarajaClient {
    fn provider(&self) -> Provider {
        Provider::Mpesa
    }

    fn start<'a>(
        &'a self,
        request: &'a PaymentRequest<'a>,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Started, PaymentError>> {
        Box::pin(async move {
            let push = StkPush {
                phone: request.phone,
                amount: request.amount,
                account_reference: request.account_reference,
                description: request.description,
                callback_url: request.notify_url,
            };
            let accepted = self.stk_push(&push, now).await?;
            Ok(Started {
                provider_ref: accepted.checkout_request_id,
                redirect_url: None,
            })
        })
    }

    fn query<'a>(
        &'a self,
        provider_ref: &'a str,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Option<Verdict>, PaymentError>> {
        Box::pin(async move {
            let answer = self.stk_query(provider_ref, now).await?;
            Ok(answer.outcome().map(|outcome| Verdict {
                payload: json!({"stk_query": {
                    "CheckoutRequestID": provider_ref,
                    "ResultCode": outcome.result_code(),
                }}),
                outcome,
                amount: None,
                key: None,
            }))
        })
    }

    fn parse_callback(&self, raw: &[u8]) -> Result<CallbackClaim, CallbackError> {
        let cb = StkCallback::parse(raw)?;
        Ok(CallbackClaim {
            key: Some(format!("{}:{}", cb.checkout_request_id, cb.result_code)),
            outcome: Some(cb.outcome()),
            amount: cb.amount,
            merchant_reference: None,
            provider_ref: cb.checkout_request_id,
        })
    }
}

/// What Daraja expects back from a callback.
pub fn callback_ack() -> Value {
    json!({"ResultCode": 0, "ResultDesc": "Accepted"})
}

/// Parses a JSON decimal amount ("1", "1.0", "1500.50", "1.000") as KES.
fn money_from_decimal(text: &str) -> Option<Money> {
    if !text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    // All ASCII from here, so byte slicing is safe.
    let text = match text.split_once('.') {
        Some((whole, frac)) if frac.len() > 2 => {
            if !frac.bytes().skip(2).all(|b| b == b'0') {
                return None;
            }
            format!("{whole}.{}", frac.get(..2)?)
        }
        _ => text.to_owned(),
    };
    Money::parse_decimal(&text, crate::core::ids::Currency::KES).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn password_and_timestamp_use_nairobi_time() {
        let now = Utc.with_ymd_and_hms(2025, 6, 12, 6, 30, 5).unwrap();
        assert_eq!(timestamp(now), "20250612093005");
        let p = password("174379", "passkey", "20250612093005");
        assert_eq!(
            B64.decode(p).unwrap(),
            b"174379passkey20250612093005".to_vec()
        );
    }

    #[test]
    fn parses_success_callback_by_item_name() {
        let raw = br#"{"Body":{"stkCallback":{"MerchantRequestID":"29115-34620561-1","CheckoutRequestID":"ws_CO_191220191020363925",
 "ResultCode":0,"ResultDesc":"The service request is processed successfully.",
 "CallbackMetadata":{"Item":[{"Name":"Balance"},{"Name":"MpesaReceiptNumber","Value":"NLJ7RT61SV"},{"Name":"Amount","Value":1.00},
  {"Name":"TransactionDate","Value":20191219102115},{"Name":"PhoneNumber","Value":254708374149}]}}}}"#;
        let cb = StkCallback::parse(raw).unwrap();
        assert_eq!(cb.checkout_request_id, "ws_CO_191220191020363925");
        assert_eq!(cb.receipt.as_deref(), Some("NLJ7RT61SV"));
        assert_eq!(cb.amount, Some(Money::kes(100)));
        assert_eq!(cb.transaction_date, Some(20191219102115));
        assert_eq!(cb.phone, Some(254708374149));
        assert_eq!(
            cb.outcome(),
            PaymentOutcome::Completed {
                receipt: Some("NLJ7RT61SV".into())
            }
        );
    }

    #[test]
    fn amounts_parse_without_panicking_on_odd_text() {
        assert_eq!(money_from_decimal("1.000"), Some(Money::kes(100)));
        assert_eq!(money_from_decimal("1500.5"), Some(Money::kes(150_050)));
        assert_eq!(money_from_decimal("1.001"), None);
        assert_eq!(money_from_decimal("1.a\u{20ac}"), None);
        assert_eq!(money_from_decimal("-5"), None);
    }

    #[test]
    fn parses_failure_and_refuses_bad_bodies() {
        let raw = br#"{"Body":{"stkCallback":{"MerchantRequestID":"m","CheckoutRequestID":"ws_CO_1","ResultCode":"1032","ResultDesc":"Request cancelled by user"}}}"#;
        let cb = StkCallback::parse(raw).unwrap();
        assert_eq!(cb.outcome(), PaymentOutcome::CancelledByCustomer);
        assert_eq!(StkCallback::parse(b"nope"), Err(CallbackError::NotJson));
        assert_eq!(
            StkCallback::parse(br#"{"Body":{}}"#),
            Err(CallbackError::Missing("Body.stkCallback"))
        );
        assert_eq!(
            StkCallback::parse(br#"{"Body":{"stkCallback":{"ResultCode":0}}}"#),
            Err(CallbackError::Missing("CheckoutRequestID"))
        );
        assert_eq!(
            StkCallback::parse(
                br#"{"Body":{"stkCallback":{"CheckoutRequestID":"x","ResultCode":0}}}"#
            ),
            Err(CallbackError::SuccessWithoutReceipt)
        );
    }

    #[test]
    fn credentials_prefer_json_then_legacy() {
        let json =
            br#"{"consumer_key":"k","consumer_secret":"s","shortcode":"600000","passkey":"pk"}"#;
        let c = DarajaCredentials::for_tenant(Some(json), Some("174379"), Some("x"), None).unwrap();
        assert_eq!(c.shortcode, "600000");
        let c = DarajaCredentials::for_tenant(None, Some("174379"), Some("pk"), Some(("k", "s")))
            .unwrap();
        assert_eq!(
            (c.shortcode.as_str(), c.consumer_key.as_str()),
            ("174379", "k")
        );
        assert!(DarajaCredentials::for_tenant(None, Some("174379"), Some("pk"), None).is_err());
        assert!(DarajaCredentials::for_tenant(None, None, None, Some(("k", "s"))).is_err());
        assert!(DarajaCredentials::for_tenant(Some(b"{}"), None, None, None).is_err());
        // The demo fixture's shape: consumer pair null, platform pair used.
        let demo = br#"{"shortcode":"174379","passkey":"pk","transaction_type":"CustomerPayBillOnline","consumer_key":null,"consumer_secret":null}"#;
        let c =
            DarajaCredentials::for_tenant(Some(demo), None, None, Some(("pk1", "ps1"))).unwrap();
        assert_eq!(
            (c.consumer_key.as_str(), c.till_number.as_deref()),
            ("pk1", None)
        );
        assert!(DarajaCredentials::for_tenant(Some(demo), None, None, None).is_err());
        assert!(!format!("{c:?}").contains("pk"));
    }
}
