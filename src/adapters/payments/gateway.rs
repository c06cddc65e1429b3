//! One face for every payment provider: start a payment, ask where it
//! stands, read its callback. [`super::daraja::DarajaClient`] (an M-Pesa
//! STK prompt) and [`super::pesapal::PesapalClient`] (a PesaPal order paid
//! by link) implement it; the simulator speaks both wire protocols and is
//! reached through them, so a simulated payment exercises the same HTTP
//! code a real one does.
//!
//! The payment runtime holds an `Arc<dyn PaymentGateway>` per tenant and
//! provider and has one code path for both: the three-step vendor write,
//! the status query, and callbacks (routed, parsed here, verified with a
//! query when the body alone cannot be believed, recorded once).

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::Value;
use thiserror::Error;

use super::PaymentError;
use crate::core::ids::{Money, PhoneNumber};
use crate::core::payment::{PaymentOutcome, Provider};

/// One payment to start at the provider.
#[derive(Debug, Clone)]
pub struct PaymentRequest<'a> {
    /// Our unguessable reference (the payment id): PesaPal's order id, and
    /// the token in `notify_url`.
    pub merchant_reference: &'a str,
    pub phone: &'a PhoneNumber,
    pub amount: Money,
    /// Shown to the payer (Daraja's AccountReference).
    pub account_reference: &'a str,
    pub description: &'a str,
    /// Where the provider reports back: Daraja's CallBackURL, the URL
    /// registered as PesaPal's IPN.
    pub notify_url: &'a str,
    /// Where a payer's browser lands after paying a link.
    pub return_url: &'a str,
}

/// The provider took the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// Its id for the payment: Daraja's CheckoutRequestID, PesaPal's
    /// OrderTrackingId (stored in `payments.mpesa_checkout_id`).
    pub provider_ref: String,
    /// Where the customer pays, for a payment by link.
    pub redirect_url: Option<String>,
}

/// What the provider itself says about a payment when asked (a status
/// query): believed as it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub outcome: PaymentOutcome,
    /// The amount the provider says was paid, when it says.
    pub amount: Option<Money>,
    /// The callback key this answer stands for, when the provider's
    /// callbacks carry no outcome of their own (PesaPal: an IPN is news of
    /// this status); `None` when a later callback may still add to it
    /// (Daraja: the receipt comes only in the callback).
    pub key: Option<String>,
    /// What to keep on the payment (`callback_payload`).
    pub payload: Value,
}

/// What a callback body says.
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackClaim {
    /// The provider's id of the payment (CheckoutRequestID,
    /// OrderTrackingId).
    pub provider_ref: String,
    /// Our reference, when the body names it (it must match the URL's).
    pub merchant_reference: Option<String>,
    /// The outcome the body reports (Daraja); `None` when it only says
    /// "look again" (PesaPal), and a status query decides.
    pub outcome: Option<PaymentOutcome>,
    /// The amount the body says was paid, unverified.
    pub amount: Option<Money>,
    /// Identifies the callback (a redelivery has the same key); `None` when
    /// the verdict's key stands for it.
    pub key: Option<String>,
}

/// Why a callback body was refused. The provider (or whoever posted it) is
/// at fault; the endpoint still answers quickly.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CallbackError {
    #[error("callback body is not JSON")]
    NotJson,
    #[error("callback lacks {0}")]
    Missing(&'static str),
    #[error("successful callback without MpesaReceiptNumber")]
    SuccessWithoutReceipt,
}

/// A payment provider, for one tenant's credentials and environment.
pub trait PaymentGateway: Send + Sync {
    fn provider(&self) -> Provider;

    /// Creates the payment at the provider (a prompt on the phone, or an
    /// order and its link). Never repeated once it may have reached the
    /// provider: [`PaymentError::Uncertain`] means "the callback or a query
    /// will tell".
    fn start<'a>(
        &'a self,
        request: &'a PaymentRequest<'a>,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Started, PaymentError>>;

    /// Where a payment stands at the provider; `None` while it is not final.
    fn query<'a>(
        &'a self,
        provider_ref: &'a str,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Option<Verdict>, PaymentError>>;

    /// Reads a callback body (a PesaPal GET notification's query string
    /// comes as a JSON object of its fields).
    fn parse_callback(&self, raw: &[u8]) -> Result<CallbackClaim, CallbackError>;
}

/// The provider's id of a callback body, for keeping one review row per
/// callback: Daraja `CheckoutRequestID:ResultCode`, PesaPal
/// `OrderTrackingId:OrderNotificationType`, or the SHA-256 of a body that
/// has neither. A redelivery has the same id. Works on bodies that do not
/// parse as a whole (those are the ones kept for review).
pub fn callback_ref(provider: Provider, raw_body: &[u8]) -> String {
    use sha2::Digest as _;
    let v: Option<Value> = serde_json::from_slice(raw_body).ok();
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let found = v.as_ref().and_then(|v| match provider {
        Provider::Mpesa => {
            let cb = v.pointer("/Body/stkCallback")?;
            let id = text(cb.get("CheckoutRequestID")?)?;
            let code = cb.get("ResultCode").and_then(text).unwrap_or_default();
            Some(format!("{id}:{code}"))
        }
        Provider::Pesapal => {
            let id = text(v.get("OrderTrackingId")?)?;
            let kind = v
                .get("OrderNotificationType")
                .and_then(text)
                .unwrap_or_default();
            Some(format!("{id}:{kind}"))
        }
    });
    found
        .map(|r| r.chars().take(200).collect())
        .unwrap_or_else(|| format!("sha256:{}", hex::encode(sha2::Sha256::digest(raw_body))))
}

/// The outcome a final payment row records: its status, its receipt, and
/// the failure's reason from the provider answer kept with it (a Daraja
/// callback's or STK query's ResultCode; PesaPal's status code).
pub fn stored_outcome(
    status: crate::core::payment::PaymentStatus,
    receipt: Option<String>,
    payload: Option<&Value>,
) -> PaymentOutcome {
    use crate::core::payment::{FailureReason, PaymentStatus};
    let code = payload
        .and_then(|p| {
            p.pointer("/Body/stkCallback/ResultCode")
                .or_else(|| p.pointer("/stk_query/ResultCode"))
        })
        .and_then(|c| {
            c.as_i64()
                .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
        });
    match (status, code) {
        (PaymentStatus::Completed, _) => PaymentOutcome::Completed { receipt },
        (PaymentStatus::CancelledByCustomer, _) => PaymentOutcome::CancelledByCustomer,
        (PaymentStatus::Timeout, _) => PaymentOutcome::Timeout,
        (_, Some(code)) => PaymentOutcome::from_daraja(code, None),
        _ => PaymentOutcome::Failed(FailureReason::Other(-1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_refs_name_the_provider_id_or_hash_the_body() {
        let daraja =
            br#"{"Body":{"stkCallback":{"CheckoutRequestID":"ws_CO_1","ResultCode":1032}}}"#;
        assert_eq!(callback_ref(Provider::Mpesa, daraja), "ws_CO_1:1032");
        let ipn = br#"{"OrderTrackingId":"t1","OrderNotificationType":"IPNCHANGE"}"#;
        assert_eq!(callback_ref(Provider::Pesapal, ipn), "t1:IPNCHANGE");
        let junk = callback_ref(Provider::Pesapal, b"garbage");
        assert!(
            junk.starts_with("sha256:") && junk.len() == 7 + 64,
            "{junk}"
        );
        assert_eq!(junk, callback_ref(Provider::Mpesa, b"garbage"));
    }

    #[test]
    fn stored_outcomes_keep_the_failure_reason() {
        use crate::core::payment::{FailureReason, PaymentStatus};
        let wrong_pin = serde_json::json!({"Body": {"stkCallback": {"ResultCode": 2001}}});
        assert_eq!(
            stored_outcome(PaymentStatus::Failed, None, Some(&wrong_pin)),
            PaymentOutcome::Failed(FailureReason::WrongPin)
        );
        let queried = serde_json::json!({"stk_query": {"ResultCode": "1"}});
        assert_eq!(
            stored_outcome(PaymentStatus::Failed, None, Some(&queried)),
            PaymentOutcome::from_daraja(1, None)
        );
        assert_eq!(
            stored_outcome(PaymentStatus::Completed, Some("R1".into()), None),
            PaymentOutcome::Completed {
                receipt: Some("R1".into())
            }
        );
    }
}
