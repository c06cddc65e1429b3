//! A local stand-in for Daraja and PesaPal, for the embedded default and the
//! tests. It speaks both wire protocols, answers pushes and orders, and sends
//! callbacks / IPNs after a delay with a chosen outcome.
//!
//! It runs only when asked for: `payment_environment = simulator` mounts
//! [`Simulator::router`] under `/sim`, and tests call
//! [`Simulator::serve_loopback`] for a port of their own.
//!
//! The outcome of a push is chosen, in order, by a queued override
//! (`POST /control/next {"outcome": "wrong_pin"}`) or by the payer's phone
//! number: numbers ending in `91`..`99` pick [`SimOutcome::from_phone_suffix`],
//! every other number pays successfully.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use super::{json_i64, json_str};

/// What the simulated customer (and network) does with a push or order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimOutcome {
    Success,
    /// ResultCode 1.
    InsufficientFunds,
    /// ResultCode 1032.
    Cancelled,
    /// ResultCode 1037.
    Timeout,
    /// ResultCode 2001.
    WrongPin,
    /// Success, with the callback sent twice.
    Duplicate,
    /// Success, with the callback sent after the late delay.
    Late,
    /// Success known to STK query, but no callback ever sent.
    NoCallback,
    /// The push request itself is refused (HTTP 400).
    Reject,
    /// The push request never gets an answer (the client times out), but
    /// the push is processed (success) as if the answer was lost.
    Hang,
}

impl SimOutcome {
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "success" | "0" => Self::Success,
            "insufficient_funds" | "1" => Self::InsufficientFunds,
            "cancelled" | "1032" => Self::Cancelled,
            "timeout" | "1037" => Self::Timeout,
            "wrong_pin" | "2001" => Self::WrongPin,
            "duplicate" => Self::Duplicate,
            "late" => Self::Late,
            "no_callback" => Self::NoCallback,
            "reject" => Self::Reject,
            "hang" => Self::Hang,
            _ => return None,
        })
    }

    /// The outcome picked by a payer number's last two digits.
    pub fn from_phone_suffix(msisdn: &str) -> Self {
        match msisdn.get(msisdn.len().saturating_sub(2)..).unwrap_or("") {
            "91" => Self::InsufficientFunds,
            "92" => Self::Cancelled,
            "93" => Self::Timeout,
            "94" => Self::WrongPin,
            "95" => Self::Duplicate,
            "96" => Self::Late,
            "97" => Self::NoCallback,
            "98" => Self::Reject,
            "99" => Self::Hang,
            _ => Self::Success,
        }
    }

    /// The Daraja ResultCode this outcome ends with.
    pub fn result_code(self) -> i64 {
        match self {
            Self::InsufficientFunds => 1,
            Self::Cancelled => 1032,
            Self::Timeout => 1037,
            Self::WrongPin => 2001,
            _ => 0,
        }
    }

    /// PesaPal status_code: 1 completed, 2 failed, 0 (never paid) for a
    /// customer who walks away.
    fn pesapal_status(self) -> i64 {
        match self {
            Self::Timeout | Self::NoCallback | Self::Hang => 0,
            other if other.result_code() == 0 => 1,
            _ => 2,
        }
    }
}

/// Delays of the simulated customer.
#[derive(Debug, Clone, Copy)]
pub struct SimConfig {
    pub callback_delay: Duration,
    pub late_delay: Duration,
    pub hang_for: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            callback_delay: Duration::from_secs(4),
            late_delay: Duration::from_secs(60),
            hang_for: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone)]
struct SimPush {
    callback_url: String,
    merchant_request_id: String,
    amount: i64,
    msisdn: String,
    /// Set once the simulated customer has acted.
    decided: Option<i64>,
    receipt: String,
    last_callback: Option<Value>,
}

#[derive(Debug, Clone)]
struct SimOrder {
    merchant_reference: String,
    amount: f64,
    currency: String,
    ipn_url: Option<String>,
    status_code: i64,
    confirmation_code: String,
    outcome: SimOutcome,
}

/// Counters a test can read back (`GET /control/stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SimStats {
    pub daraja_tokens: u64,
    pub pushes: u64,
    pub queries: u64,
    pub callbacks_sent: u64,
    pub pesapal_tokens: u64,
    pub orders: u64,
    pub ipns_sent: u64,
}

#[derive(Default)]
struct Inner {
    forced: VecDeque<SimOutcome>,
    pushes: HashMap<String, SimPush>,
    orders: HashMap<String, SimOrder>,
    ipn_urls: HashMap<String, String>,
    counter: u64,
    stats: SimStats,
    base_url: String,
}

struct Shared {
    config: SimConfig,
    inner: Mutex<Inner>,
    http: reqwest::Client,
}

/// The simulator; cheap to clone.
#[derive(Clone)]
pub struct Simulator {
    shared: Arc<Shared>,
}

impl Simulator {
    pub fn new(config: SimConfig) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Self {
            shared: Arc::new(Shared {
                config,
                inner: Mutex::new(Inner::default()),
                http,
            }),
        }
    }

    /// Where the simulator is reachable (used in PesaPal redirect URLs).
    pub fn set_base_url(&self, base: &str) {
        self.lock().base_url = base.trim_end_matches('/').to_owned();
    }

    /// Queues the outcome of the next push or order.
    pub fn force_next(&self, outcome: SimOutcome) {
        self.lock().forced.push_back(outcome);
    }

    pub fn stats(&self) -> SimStats {
        self.lock().stats
    }

    /// The callback a push ends with (its URL and body), once the simulated
    /// customer has acted, also when the outcome sends none
    /// ([`SimOutcome::NoCallback`]): a test can then deliver it itself,
    /// wherever and as often as it likes.
    pub fn callback_of(&self, checkout_request_id: &str) -> Option<(String, Value)> {
        let inner = self.lock();
        let push = inner.pushes.get(checkout_request_id)?;
        Some((push.callback_url.clone(), push.last_callback.clone()?))
    }

    /// Sends the last callback of a push again (a provider retry).
    pub async fn replay_callback(&self, checkout_request_id: &str) -> bool {
        let (url, body) = {
            let inner = self.lock();
            match inner.pushes.get(checkout_request_id) {
                Some(p) => match &p.last_callback {
                    Some(b) => (p.callback_url.clone(), b.clone()),
                    None => return false,
                },
                None => return false,
            }
        };
        self.post_callback(&url, &body).await;
        true
    }

    /// The Daraja + PesaPal + control routes, relative to wherever they are
    /// mounted.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/oauth/v1/generate", get(daraja_token))
            .route("/mpesa/stkpush/v1/processrequest", post(stk_push))
            .route("/mpesa/stkpushquery/v1/query", post(stk_query))
            .route("/api/Auth/RequestToken", post(pesapal_token))
            .route("/api/URLSetup/RegisterIPN", post(register_ipn))
            .route("/api/Transactions/SubmitOrderRequest", post(submit_order))
            .route("/api/Transactions/GetTransactionStatus", get(order_status))
            .route("/pesapal/pay/{tracking_id}", get(pay_order))
            .route("/control/next", post(control_next))
            .route("/control/stats", get(control_stats))
            .with_state(self.clone())
    }

    /// Serves the simulator on its own loopback port.
    pub async fn serve_loopback(
        &self,
    ) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        self.set_base_url(&format!("http://{addr}"));
        let app = self.router();
        let handle = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "payment simulator stopped");
            }
        });
        Ok((addr, handle))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A poisoned lock only means a handler panicked mid-update; the
        // simulator's data is still usable for a test or demo.
        self.shared
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn post_callback(&self, url: &str, body: &Value) {
        let sent = self.shared.http.post(url).json(body).send().await;
        match sent {
            Ok(_) => self.lock().stats.callbacks_sent += 1,
            Err(e) => tracing::debug!(error = %e, "simulator callback not delivered"),
        }
    }

    fn pick(&self, inner: &mut Inner, msisdn: &str) -> SimOutcome {
        inner
            .forced
            .pop_front()
            .unwrap_or_else(|| SimOutcome::from_phone_suffix(msisdn))
    }

    /// The simulated customer acts on a push after the delay.
    async fn run_push(&self, checkout_id: String, outcome: SimOutcome) {
        let delay = match outcome {
            SimOutcome::Late => self.shared.config.late_delay,
            _ => self.shared.config.callback_delay,
        };
        tokio::time::sleep(delay).await;
        let code = outcome.result_code();
        let (url, body) = {
            let mut inner = self.lock();
            let Some(p) = inner.pushes.get_mut(&checkout_id) else {
                return;
            };
            p.decided = Some(code);
            let body = callback_body(p, &checkout_id, code);
            p.last_callback = Some(body.clone());
            (p.callback_url.clone(), body)
        };
        if outcome == SimOutcome::NoCallback {
            return;
        }
        self.post_callback(&url, &body).await;
        if outcome == SimOutcome::Duplicate {
            self.post_callback(&url, &body).await;
        }
    }

    async fn run_order(&self, tracking_id: String, outcome: SimOutcome) {
        let delay = match outcome {
            SimOutcome::Late => self.shared.config.late_delay,
            _ => self.shared.config.callback_delay,
        };
        tokio::time::sleep(delay).await;
        if outcome.pesapal_status() == 0 {
            return;
        }
        self.settle_order(&tracking_id, outcome.pesapal_status())
            .await;
        if outcome == SimOutcome::Duplicate {
            self.send_ipn(&tracking_id).await;
        }
    }

    async fn settle_order(&self, tracking_id: &str, status_code: i64) {
        {
            let mut inner = self.lock();
            let Some(o) = inner.orders.get_mut(tracking_id) else {
                return;
            };
            if o.status_code != 0 {
                return;
            }
            o.status_code = status_code;
        }
        self.send_ipn(tracking_id).await;
    }

    async fn send_ipn(&self, tracking_id: &str) {
        let (url, body) = {
            let inner = self.lock();
            let Some(o) = inner.orders.get(tracking_id) else {
                return;
            };
            let Some(url) = o.ipn_url.clone() else { return };
            (
                url,
                json!({
                    "OrderTrackingId": tracking_id,
                    "OrderMerchantReference": o.merchant_reference,
                    "OrderNotificationType": "IPNCHANGE",
                }),
            )
        };
        if self.shared.http.post(&url).json(&body).send().await.is_ok() {
            self.lock().stats.ipns_sent += 1;
        }
    }
}

fn callback_body(p: &SimPush, checkout_id: &str, code: i64) -> Value {
    let desc = match code {
        0 => "The service request is processed successfully.",
        1 => "The balance is insufficient for the transaction.",
        1032 => "Request cancelled by user",
        1037 => "DS timeout user cannot be reached",
        2001 => "The initiator information is invalid.",
        _ => "Failed",
    };
    let mut cb = json!({
        "MerchantRequestID": p.merchant_request_id,
        "CheckoutRequestID": checkout_id,
        "ResultCode": code,
        "ResultDesc": desc,
    });
    if code == 0 {
        let phone: i64 = p.msisdn.parse().unwrap_or(0);
        cb["CallbackMetadata"] = json!({"Item": [
            {"Name": "Amount", "Value": p.amount},
            {"Name": "MpesaReceiptNumber", "Value": p.receipt},
            {"Name": "Balance"},
            {"Name": "TransactionDate", "Value": 20260101120000_i64},
            {"Name": "PhoneNumber", "Value": phone},
        ]});
    }
    json!({"Body": {"stkCallback": cb}})
}

fn daraja_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"requestId": "sim", "errorCode": code, "errorMessage": message})),
    )
        .into_response()
}

fn has_bearer(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer sim-"))
}

async fn daraja_token(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| B64.decode(b).ok())
        .is_some_and(|d| d.contains(&b':'));
    if !basic {
        return daraja_error(
            StatusCode::BAD_REQUEST,
            "400.008.01",
            "Invalid Authentication",
        );
    }
    let n = {
        let mut inner = sim.lock();
        inner.stats.daraja_tokens += 1;
        inner.counter += 1;
        inner.counter
    };
    axum::Json(json!({"access_token": format!("sim-{n}"), "expires_in": "3599"})).into_response()
}

async fn stk_push(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if !has_bearer(&headers) {
        return daraja_error(
            StatusCode::UNAUTHORIZED,
            "404.001.03",
            "Invalid Access Token",
        );
    }
    let shortcode = json_str(&body, "BusinessShortCode").unwrap_or_default();
    let ts = json_str(&body, "Timestamp").unwrap_or_default();
    let password_ok = json_str(&body, "Password")
        .and_then(|p| B64.decode(p).ok())
        .and_then(|p| String::from_utf8(p).ok())
        .is_some_and(|p| !shortcode.is_empty() && p.starts_with(&shortcode) && p.ends_with(&ts));
    let msisdn = json_str(&body, "PhoneNumber").unwrap_or_default();
    let msisdn_ok = msisdn.len() == 12
        && (msisdn.starts_with("2547") || msisdn.starts_with("2541"))
        && msisdn.bytes().all(|b| b.is_ascii_digit());
    if ts.len() != 14 || !password_ok {
        return daraja_error(
            StatusCode::BAD_REQUEST,
            "400.002.02",
            "Bad Request - Invalid Password",
        );
    }
    if !msisdn_ok {
        return daraja_error(
            StatusCode::BAD_REQUEST,
            "400.002.02",
            "Bad Request - Invalid PhoneNumber",
        );
    }
    let Some(callback_url) = json_str(&body, "CallBackURL") else {
        return daraja_error(
            StatusCode::BAD_REQUEST,
            "400.002.02",
            "Bad Request - Invalid CallBackURL",
        );
    };
    let amount = json_i64(&body, "Amount").unwrap_or(0);
    let (outcome, checkout_id) = {
        let mut inner = sim.lock();
        inner.stats.pushes += 1;
        let outcome = sim.pick(&mut inner, &msisdn);
        if outcome == SimOutcome::Reject {
            drop(inner);
            return daraja_error(
                StatusCode::BAD_REQUEST,
                "400.002.02",
                "Bad Request - Rejected by simulator",
            );
        }
        inner.counter += 1;
        let n = inner.counter;
        let checkout_id = format!("ws_CO_SIM{n:010}");
        inner.pushes.insert(
            checkout_id.clone(),
            SimPush {
                callback_url,
                merchant_request_id: format!("sim-{n}"),
                amount,
                msisdn,
                decided: None,
                receipt: format!("SIM{n:07}"),
                last_callback: None,
            },
        );
        (outcome, checkout_id)
    };
    let worker = sim.clone();
    let id = checkout_id.clone();
    tokio::spawn(async move { worker.run_push(id, outcome).await });
    if outcome == SimOutcome::Hang {
        tokio::time::sleep(sim.shared.config.hang_for).await;
    }
    let merchant = sim
        .lock()
        .pushes
        .get(&checkout_id)
        .map(|p| p.merchant_request_id.clone())
        .unwrap_or_default();
    axum::Json(json!({
        "MerchantRequestID": merchant,
        "CheckoutRequestID": checkout_id,
        "ResponseCode": "0",
        "ResponseDescription": "Success. Request accepted for processing",
        "CustomerMessage": "Success. Request accepted for processing",
    }))
    .into_response()
}

async fn stk_query(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if !has_bearer(&headers) {
        return daraja_error(
            StatusCode::UNAUTHORIZED,
            "404.001.03",
            "Invalid Access Token",
        );
    }
    let checkout_id = json_str(&body, "CheckoutRequestID").unwrap_or_default();
    let mut inner = sim.lock();
    inner.stats.queries += 1;
    let Some(push) = inner.pushes.get(&checkout_id) else {
        drop(inner);
        return daraja_error(
            StatusCode::BAD_REQUEST,
            "400.002.02",
            "Bad Request - Invalid CheckoutRequestID",
        );
    };
    match push.decided {
        None => {
            drop(inner);
            daraja_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "500.001.1001",
                "The transaction is being processed",
            )
        }
        Some(code) => axum::Json(json!({
            "ResponseCode": "0",
            "ResponseDescription": "The service request has been accepted successsfully",
            "MerchantRequestID": push.merchant_request_id,
            "CheckoutRequestID": checkout_id,
            "ResultCode": code.to_string(),
            "ResultDesc": if code == 0 { "The service request is processed successfully." } else { "Failed" },
        }))
        .into_response(),
    }
}

fn pesapal_error(message: &str) -> Response {
    axum::Json(json!({
        "error": {"type": "error", "code": "invalid_request", "message": message},
        "status": "500"
    }))
    .into_response()
}

async fn pesapal_token(
    State(sim): State<Simulator>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if json_str(&body, "consumer_key")
        .unwrap_or_default()
        .is_empty()
    {
        return pesapal_error("consumer_key required");
    }
    let n = {
        let mut inner = sim.lock();
        inner.stats.pesapal_tokens += 1;
        inner.counter += 1;
        inner.counter
    };
    let expiry = chrono::Utc::now() + chrono::Duration::minutes(5);
    axum::Json(json!({
        "token": format!("sim-pp-{n}"),
        "expiryDate": expiry.to_rfc3339(),
        "error": null, "status": "200", "message": "Request processed successfully"
    }))
    .into_response()
}

async fn register_ipn(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if !has_bearer(&headers) {
        return pesapal_error("unauthorized");
    }
    let Some(url) = json_str(&body, "url") else {
        return pesapal_error("url required");
    };
    let id = uuid::Uuid::new_v4().to_string();
    sim.lock().ipn_urls.insert(id.clone(), url.clone());
    axum::Json(json!({
        "url": url, "created_date": chrono::Utc::now().to_rfc3339(),
        "ipn_id": id, "error": null, "status": "200"
    }))
    .into_response()
}

async fn submit_order(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if !has_bearer(&headers) {
        return pesapal_error("unauthorized");
    }
    let Some(reference) = json_str(&body, "id").filter(|s| !s.is_empty() && s.len() <= 50) else {
        return pesapal_error("id required");
    };
    let notification_id = json_str(&body, "notification_id").unwrap_or_default();
    let phone = body
        .get("billing_address")
        .and_then(|b| json_str(b, "phone_number"))
        .unwrap_or_default();
    let amount = body.get("amount").and_then(Value::as_f64).unwrap_or(0.0);
    let currency = json_str(&body, "currency").unwrap_or_else(|| "KES".into());
    let tracking_id = uuid::Uuid::new_v4().to_string();
    let (outcome, redirect) = {
        let mut inner = sim.lock();
        inner.stats.orders += 1;
        if inner
            .orders
            .values()
            .any(|o| o.merchant_reference == reference)
        {
            drop(inner);
            return pesapal_error("duplicate merchant reference");
        }
        let outcome = sim.pick(&mut inner, &phone);
        inner.counter += 1;
        let n = inner.counter;
        let ipn_url = inner.ipn_urls.get(&notification_id).cloned();
        inner.orders.insert(
            tracking_id.clone(),
            SimOrder {
                merchant_reference: reference.clone(),
                amount,
                currency,
                ipn_url,
                status_code: 0,
                confirmation_code: format!("PP{n:08}"),
                outcome,
            },
        );
        (
            outcome,
            format!("{}/pesapal/pay/{tracking_id}", inner.base_url),
        )
    };
    let worker = sim.clone();
    let id = tracking_id.clone();
    tokio::spawn(async move { worker.run_order(id, outcome).await });
    axum::Json(json!({
        "order_tracking_id": tracking_id,
        "merchant_reference": reference,
        "redirect_url": redirect,
        "error": null, "status": "200"
    }))
    .into_response()
}

async fn order_status(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !has_bearer(&headers) {
        return pesapal_error("unauthorized");
    }
    let id = q.get("orderTrackingId").cloned().unwrap_or_default();
    let inner = sim.lock();
    let Some(o) = inner.orders.get(&id) else {
        drop(inner);
        return pesapal_error("unknown order");
    };
    let description = match o.status_code {
        1 => "Completed",
        2 => "Failed",
        3 => "Reversed",
        _ => "INVALID",
    };
    axum::Json(json!({
        "payment_method": if o.status_code == 0 { Value::Null } else { json!("MpesaKE") },
        "amount": o.amount,
        "created_date": chrono::Utc::now().to_rfc3339(),
        "confirmation_code": if o.status_code == 1 { json!(o.confirmation_code) } else { json!("") },
        "payment_status_description": description,
        "description": description,
        "message": "Request processed successfully",
        "payment_account": "2547******00",
        "call_back_url": "",
        "status_code": o.status_code,
        "merchant_reference": o.merchant_reference,
        "currency": o.currency,
        "error": {"error_type": null, "code": null, "message": null},
        "status": "200",
        "simulated_outcome": format!("{:?}", o.outcome),
    }))
    .into_response()
}

/// The "customer" opening the payment link pays at once.
async fn pay_order(State(sim): State<Simulator>, Path(tracking_id): Path<String>) -> Response {
    sim.settle_order(&tracking_id, 1).await;
    (StatusCode::OK, "Paid (simulator). You can close this page.").into_response()
}

async fn control_next(
    State(sim): State<Simulator>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    match json_str(&body, "outcome")
        .as_deref()
        .and_then(SimOutcome::parse)
    {
        Some(o) => {
            sim.force_next(o);
            StatusCode::NO_CONTENT.into_response()
        }
        None => (StatusCode::BAD_REQUEST, "unknown outcome").into_response(),
    }
}

async fn control_stats(State(sim): State<Simulator>) -> Response {
    axum::Json(sim.stats()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_by_phone_suffix() {
        assert_eq!(
            SimOutcome::from_phone_suffix("254712345600"),
            SimOutcome::Success
        );
        assert_eq!(
            SimOutcome::from_phone_suffix("254712345694"),
            SimOutcome::WrongPin
        );
        assert_eq!(
            SimOutcome::from_phone_suffix("254712345692").result_code(),
            1032
        );
        assert_eq!(SimOutcome::from_phone_suffix(""), SimOutcome::Success);
        assert_eq!(SimOutcome::parse("1037"), Some(SimOutcome::Timeout));
    }
}
