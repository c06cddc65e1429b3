//! The web widget in-process on loopback, spoken to as the page speaks
//! (tests/web_widget.rs, tests/web_identity.rs), and a loopback fake of
//! Africa's Talking's SMS API (`POST /version1/messaging`, form-encoded,
//! `apiKey` header, the real JSON answer) that keeps what it was sent.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use futures::{SinkExt, StreamExt};
use ratiba::adapters::sms::{AfricasTalking, SmsBackend};
use ratiba::config::{PaymentEnvironment, Secret};
use ratiba::runtime::conversation::ConversationService;
use ratiba::runtime::payments::PaymentsNode;
use ratiba::storage::Vault;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::TestDb;

pub const FAKE_AT_KEY: &str = "at-test-key";

pub struct Server {
    pub base: String,
    pub db: TestDb,
    pub sms: FakeAfricasTalking,
    /// The node's payments ([`start_with_payments`]).
    pub payments: Option<PaymentsNode>,
}

/// The demo tenant's widget with SMS through the fake Africa's Talking
/// (no payment runtime: a booking is told the paybill).
pub async fn start() -> Server {
    serve(false).await
}

/// [`start`], with the node's payments as `ratiba serve --payments
/// simulator` builds them: the payment service, its callback routes and
/// the Daraja simulator under /sim on the same loopback server (the
/// simulator speaks Daraja's protocol: STK push, then the callback POSTed
/// back; a number ending 11 pays, 92 cancels the prompt, ResultCode 1032).
pub async fn start_with_payments() -> Server {
    serve(true).await
}

async fn serve(with_payments: bool) -> Server {
    let db = TestDb::new().await;
    db.seed_demo().await;
    let sms = FakeAfricasTalking::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let payments = match with_payments {
        true => {
            let mut settings = db.settings();
            settings.payments.payment_environment = PaymentEnvironment::Simulator;
            let vault = Vault::new(&Secret::new(super::TEST_FERNET_KEY)).unwrap();
            Some(
                PaymentsNode::start(&settings, addr, db.db().clone(), Some(vault))
                    .await
                    .expect("payments node"),
            )
        }
        false => None,
    };
    let mut app = ratiba::http::widget::router(
        db.db().clone(),
        ConversationService::new(db.db().clone()),
        false,
        Some(SmsBackend::Provider(Arc::new(AfricasTalking::new(
            reqwest::Client::new(),
            &sms.base,
            "ratiba-test",
            Secret::new(FAKE_AT_KEY),
            None,
        )))),
        payments.as_ref().map(|p| p.service.clone()),
    );
    if let Some(node) = &payments {
        app = app.merge(ratiba::http::payments::router(
            node.service.clone(),
            Vec::new(),
            node.simulator.as_ref(),
        ));
    }
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        base,
        db,
        sms,
        payments,
    }
}

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The session cookie the page hands out.
pub async fn cookie(base: &str) -> String {
    let page = reqwest::get(format!("{base}/widget/demo")).await.unwrap();
    let set = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    set.split(';').next().unwrap().to_owned()
}

pub async fn connect(base: &str, cookie: &str) -> Socket {
    let url = format!("{}/widget/demo/ws", base.replacen("http://", "ws://", 1));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

/// What the server sends until it is quiet for `quiet`, after waiting up
/// to `first` for the first message.
pub async fn receive(ws: &mut Socket, first: Duration, quiet: Duration) -> Vec<Value> {
    let mut got = Vec::new();
    let mut wait = first;
    while let Ok(Some(Ok(m))) = tokio::time::timeout(wait, ws.next()).await {
        if let Message::Text(t) = m {
            got.push(serde_json::from_str::<Value>(t.as_str()).unwrap());
            wait = quiet;
        }
    }
    got
}

/// What the server sends until a message of `kind` (`"payment"`, …)
/// with `status` arrives (waiting up to `within`); all of it, that one
/// last.
pub async fn receive_until(
    ws: &mut Socket,
    kind: &str,
    status: &str,
    within: Duration,
) -> Vec<Value> {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    while let Ok(Some(Ok(m))) = tokio::time::timeout_at(deadline, ws.next()).await {
        if let Message::Text(t) = m {
            let v = serde_json::from_str::<Value>(t.as_str()).unwrap();
            let done = v["type"] == kind && v["status"] == status;
            got.push(v);
            if done {
                return got;
            }
        }
    }
    panic!("no {kind} {status} message; got {got:?}");
}

/// Sends one message and returns the server's messages that answer it.
pub async fn say(ws: &mut Socket, msg: Value) -> Vec<Value> {
    ws.send(Message::Text(msg.to_string().into()))
        .await
        .unwrap();
    // The replies of one turn come together; wait for the first, then
    // for quiet.
    let got = receive(ws, Duration::from_secs(20), Duration::from_millis(250)).await;
    assert!(!got.is_empty(), "no answer to {msg}");
    got
}

pub fn texts(msgs: &[Value]) -> String {
    msgs.iter()
        .map(|m| m["text"].as_str().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" | ")
}

pub async fn scalar<T>(db: &TestDb, sql: &str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(db.db().pool())
        .await
        .unwrap()
}

/// One SMS the fake was asked to send.
#[derive(Debug, Clone)]
pub struct SentSms {
    pub username: String,
    pub to: String,
    pub message: String,
}

/// Africa's Talking's SMS API on loopback.
#[derive(Clone)]
pub struct FakeAfricasTalking {
    pub base: String,
    sent: Arc<Mutex<Vec<SentSms>>>,
}

impl FakeAfricasTalking {
    pub async fn start() -> Self {
        let sent: Arc<Mutex<Vec<SentSms>>> = Arc::default();
        let app = axum::Router::new()
            .route("/version1/messaging", axum::routing::post(messaging))
            .with_state(sent.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeAfricasTalking { base, sent }
    }

    pub fn sent(&self) -> Vec<SentSms> {
        self.sent.lock().unwrap().clone()
    }

    /// Waits for the `n`th SMS (1-based) and returns the code in it.
    pub async fn code(&self, n: usize) -> String {
        for _ in 0..200 {
            if let Some(m) = self.sent().get(n - 1) {
                return m
                    .message
                    .chars()
                    .filter(char::is_ascii_digit)
                    .take(6)
                    .collect();
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("no SMS number {n}; sent: {:?}", self.sent());
    }
}

async fn messaging(
    State(sent): State<Arc<Mutex<Vec<SentSms>>>>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<std::collections::HashMap<String, String>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if headers.get("apikey").and_then(|v| v.to_str().ok()) != Some(FAKE_AT_KEY) {
        return (
            axum::http::StatusCode::UNAUTHORIZED,
            "The supplied authentication is invalid",
        )
            .into_response();
    }
    let to = form.get("to").cloned().unwrap_or_default();
    sent.lock().unwrap().push(SentSms {
        username: form.get("username").cloned().unwrap_or_default(),
        to: to.clone(),
        message: form.get("message").cloned().unwrap_or_default(),
    });
    (
        axum::http::StatusCode::CREATED,
        axum::Json(json!({"SMSMessageData": {
            "Message": "Sent to 1/1 Total Cost: KES 0.8000",
            "Recipients": [{"statusCode": 101, "number": to, "status": "Success",
                            "cost": "KES 0.8000", "messageId": "ATXid_test"}]}})),
    )
        .into_response()
}
