//! WhatsApp Cloud API webhook routes.
//!
//! * `GET /wa/webhook`: the subscription handshake (hub.mode / verify_token /
//!   challenge).
//! * `POST /wa/webhook`: signed events. The signature is checked over the
//!   exact raw body before parsing; then every message and delivery status
//!   is stored in one transaction (`public.whatsapp_inbox`, keyed by the
//!   provider's id, so a redelivery stores nothing new) and only then is 200
//!   returned. If the database cannot take them the answer is 503 and Meta
//!   delivers again. Messages to a phone_number_id no tenant has go to
//!   public.inbound_quarantine (once per message id) and get no answer.
//!   Processing runs from the inbox ([`crate::runtime::chat_intake`],
//!   [`crate::runtime::whatsapp_chat`]): one customer's messages in order,
//!   different customers in parallel, retried, parked when they keep
//!   failing.
//! * Development capture (only when `WHATSAPP_GRAPH_URL` points at this
//!   server's `/dev/graph`): `POST /dev/graph/{id}/messages` records what
//!   the server would have sent to Meta (Cloud API messages from a phone
//!   number id, Send API messages from a page or Instagram account), and
//!   `GET /dev/graph/messages?to=&after=` lists the messages (`to`: a
//!   WhatsApp number or an IGSID / PSID), which is what `ratiba chat`
//!   reads.
//!
//! The Instagram and Messenger webhooks ([`super::meta`]) are served with
//! these routes and share their inbox, secret and verify token.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::adapters::whatsapp::GraphClient;
use crate::adapters::whatsapp::codec::{self, WebhookEvent};
use crate::config::{Secret, Settings};
use crate::core::ids::TenantId;
use crate::runtime::chat_intake::{self, ByChannel, Intake, IntakeOptions};
use crate::runtime::conversation::ConversationService;
use crate::runtime::handoff::AdminNotifier;
use crate::runtime::meta_chat::MetaChats;
pub use crate::runtime::whatsapp_chat::ChatPayments;
use crate::runtime::whatsapp_chat::WhatsAppChats;
use crate::storage::inbox::{self, InboxKind, NewInboxRow, QuarantineRow, Stored};
use crate::storage::{Db, StorageError, Vault};

/// Webhook bodies above this are refused (Meta's are a few kB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// The signing secret used when none is configured and the Graph API is the
/// local capture endpoint (development only; `ratiba chat` uses it too).
pub const DEV_APP_SECRET: &str = "ratiba-dev-app-secret";

/// Everything the routes and workers need.
pub struct WhatsAppConfig {
    pub db: Db,
    pub vault: Option<Vault>,
    pub app_secret: Option<Secret>,
    pub verify_token: Option<Secret>,
    pub graph_base_url: String,
    pub service: ConversationService,
    /// How often this node sweeps for appointment reminders due
    /// (`RATIBA_REMINDER_SWEEP_MS`).
    pub reminder_sweep_every: Duration,
}

impl WhatsAppConfig {
    /// From the settings; in development (Graph URL on loopback under
    /// `/dev/graph`) a missing app secret defaults to [`DEV_APP_SECRET`].
    pub fn from_settings(
        db: Db,
        vault: Option<Vault>,
        settings: &Settings,
        service: ConversationService,
    ) -> Self {
        let graph = settings.whatsapp.graph_base_url.to_string();
        let app_secret = settings
            .whatsapp
            .app_secret
            .clone()
            .or_else(|| is_dev_capture(&graph).then(|| Secret::new(DEV_APP_SECRET)));
        WhatsAppConfig {
            db,
            vault,
            app_secret,
            verify_token: settings.whatsapp.verify_token.clone(),
            graph_base_url: graph,
            service,
            reminder_sweep_every: settings.whatsapp.reminder_sweep_every,
        }
    }
}

impl WhatsAppConfig {
    /// From the app's shared state.
    pub fn from_app(state: &super::AppState) -> Self {
        let mut service = ConversationService::new(state.db.clone());
        if let Some(llm) = crate::adapters::llm::LlmInterpreter::from_settings(&state.settings.llm)
        {
            service = service.with_interpreter(std::sync::Arc::new(llm));
        }
        Self::from_settings(
            state.db.clone(),
            Some(state.vault.clone()),
            &state.settings,
            service,
        )
    }
}

/// Whether the Graph base URL is this kind of server's capture endpoint.
pub fn is_dev_capture(graph_base_url: &str) -> bool {
    let Ok(url) = url::Url::parse(graph_base_url) else {
        return false;
    };
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    loopback && url.path().starts_with("/dev/graph")
}

struct Shared {
    db: Db,
    app_secret: Option<Secret>,
    verify_token: Option<Secret>,
    intake: Intake,
    capture: Option<Capture>,
    routes: Routes,
}

/// How long the webhook routes a number from memory once found.
const ROUTE_FRESH_FOR: Duration = Duration::from_secs(5);

/// The webhook's routing (phone_number_id to tenant), remembered for
/// [`ROUTE_FRESH_FOR`] once found. Only found numbers are remembered: a
/// number no tenant has is asked again every time, so nothing is
/// quarantined from memory; and processing checks the tenant at the
/// registry version its row was claimed with (see
/// `runtime::whatsapp_chat::intake_tenant`), so a number taken off a tenant
/// meanwhile is stored and not answered (as when it is taken off between
/// storing and processing).
#[derive(Default)]
struct Routes(Mutex<HashMap<String, (TenantId, Instant)>>);

impl Routes {
    async fn tenant(
        &self,
        db: &Db,
        phone_number_id: &str,
    ) -> Result<Option<TenantId>, StorageError> {
        let remembered = self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(phone_number_id)
            .filter(|(_, at)| at.elapsed() < ROUTE_FRESH_FOR)
            .map(|(id, _)| *id);
        if remembered.is_some() {
            return Ok(remembered);
        }
        let found = db
            .tenant_by_whatsapp_phone_number_id(phone_number_id)
            .await?
            .map(|t| t.id);
        let mut routes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match found {
            Some(id) => {
                routes.insert(phone_number_id.to_owned(), (id, Instant::now()));
            }
            None => {
                routes.remove(phone_number_id);
            }
        }
        Ok(found)
    }
}

/// The WhatsApp routes, with their processing started on the current
/// runtime. Bookings are not paid in the chat (see [`router_with_payments`]).
pub fn router(config: WhatsAppConfig) -> Router {
    router_with_payments(config, None)
}

/// The WhatsApp routes; chats take payments through `payments`.
pub fn router_with_payments(config: WhatsAppConfig, payments: Option<ChatPayments>) -> Router {
    router_with_intake(config, payments, IntakeOptions::default())
}

/// The WhatsApp routes, with the inbox processed as `options` say.
pub fn router_with_intake(
    config: WhatsAppConfig,
    payments: Option<ChatPayments>,
    options: IntakeOptions,
) -> Router {
    router_and_sender(config, payments, options).0
}

/// The WhatsApp routes, and what sends a message from a tenant's number
/// (the admin API's hand-off replies go through it).
pub fn router_and_sender(
    config: WhatsAppConfig,
    payments: Option<ChatPayments>,
    options: IntakeOptions,
) -> (Router, Arc<dyn AdminNotifier>) {
    let graph = GraphClient::new(&config.graph_base_url, Duration::from_secs(10))
        .unwrap_or_else(|_| unreachable!("a client with rustls and plain settings always builds"));
    let capture = is_dev_capture(&config.graph_base_url).then(Capture::default);
    // A chat offers the M-Pesa prompt only where one can be sent (a payment
    // runtime and credentials for the tenant's environment); otherwise the
    // customer is told how to pay.
    let payment_service = payments.as_ref().map(|p| p.service.clone());
    let service = config.service.with_payments_ready(Arc::new(
        move |tenant: &crate::storage::TenantRecord| {
            payment_service.as_ref().is_some_and(|p| {
                [
                    crate::core::payment::Provider::Mpesa,
                    crate::core::payment::Provider::Pesapal,
                ]
                .into_iter()
                .any(|provider| p.gateway(tenant, provider).is_ok())
            })
        },
    ));
    let meta = Arc::new(MetaChats::new(
        config.db.clone(),
        config.vault.clone(),
        service.clone(),
        graph.clone(),
        capture.is_some(),
    ));
    let chats = Arc::new(WhatsAppChats::new(
        config.db.clone(),
        config.vault,
        service,
        graph,
        capture.is_some(),
        payments.as_ref().map(|p| p.service.clone()),
    ));
    chats.start_background(payments, config.reminder_sweep_every);
    let sender = chats.sender();
    // One inbox for every Meta channel: WhatsApp, Instagram, Messenger.
    let handler = Arc::new(ByChannel {
        whatsapp: chats,
        meta,
    });
    let intake = Intake::start(config.db.clone(), handler, options);
    let meta_routes = super::meta::router(super::meta::MetaWebhooks {
        db: config.db.clone(),
        app_secret: config.app_secret.clone(),
        verify_token: config.verify_token.clone(),
        intake: intake.clone(),
    });
    let shared = Arc::new(Shared {
        db: config.db,
        app_secret: config.app_secret,
        verify_token: config.verify_token,
        intake,
        capture,
        routes: Routes::default(),
    });
    let mut router = Router::new().route("/wa/webhook", get(verify).post(receive));
    if shared.capture.is_some() {
        router = router
            .route("/dev/graph/{phone_number_id}/messages", post(capture_post))
            .route("/dev/graph/messages", get(capture_list));
    }
    let router = router
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(shared)
        .merge(meta_routes);
    (router, sender)
}

/// The subscription handshake's query (WhatsApp, Instagram, Messenger).
#[derive(Deserialize)]
pub(crate) struct VerifyQuery {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

async fn verify(State(s): State<Arc<Shared>>, Query(q): Query<VerifyQuery>) -> Response {
    handshake(s.verify_token.as_ref(), q)
}

/// Answers Meta's subscription handshake: the challenge when the mode is
/// `subscribe` and the token is ours, else 403.
pub(crate) fn handshake(expected: Option<&Secret>, q: VerifyQuery) -> Response {
    let Some(expected) = expected else {
        return StatusCode::FORBIDDEN.into_response();
    };
    let token_ok = q
        .token
        .as_deref()
        .is_some_and(|t| constant_time_eq(t.as_bytes(), expected.expose().as_bytes()));
    match (q.mode.as_deref(), token_ok, q.challenge) {
        (Some("subscribe"), true, Some(challenge)) => (StatusCode::OK, challenge).into_response(),
        _ => StatusCode::FORBIDDEN.into_response(),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks a Meta webhook's `X-Hub-Signature-256` over the raw body with
/// the app secret (one secret signs WhatsApp, Instagram and Messenger):
/// 503 without a secret, 401 when missing or wrong.
pub(crate) fn check_signature(
    secret: Option<&Secret>,
    headers: &HeaderMap,
    body: &[u8],
    what: &'static str,
) -> Result<(), StatusCode> {
    let Some(secret) = secret else {
        tracing::warn!(
            what,
            "webhook refused: WHATSAPP_APP_SECRET (META_APP_SECRET) is not configured"
        );
        return Err(StatusCode::SERVICE_UNAVAILABLE);
    };
    let header = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    codec::verify_signature(secret.expose(), body, header).map_err(|e| {
        tracing::warn!(what, error = %e, "webhook signature refused");
        StatusCode::UNAUTHORIZED
    })
}

async fn receive(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(refused) = check_signature(s.app_secret.as_ref(), &headers, &body, "whatsapp") {
        return refused.into_response();
    }
    let events = match codec::parse_webhook(&body) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(error = %e, "WhatsApp webhook body refused");
            return StatusCode::BAD_REQUEST.into_response();
        }
    };
    match store(&s.db, &s.routes, &body, events).await {
        Ok(stored) => {
            if stored.inboxed > 0 {
                s.intake.wake();
            }
            StatusCode::OK.into_response()
        }
        Err(e) => {
            // Nothing was acknowledged: Meta delivers the body again.
            tracing::warn!(error = %e, "WhatsApp webhook not stored; asking Meta to redeliver");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Routes each event to its tenant and stores them all, in one
/// transaction: inbox rows for routed numbers, quarantine rows for messages
/// to unknown ones. Statuses of unknown numbers are dropped (nothing of
/// ours to update).
async fn store(
    db: &Db,
    routes: &Routes,
    body: &[u8],
    events: Vec<WebhookEvent>,
) -> Result<Stored, StorageError> {
    let mut tenants: BTreeMap<String, Option<TenantId>> = BTreeMap::new();
    for event in &events {
        let pnid = match event {
            WebhookEvent::Message(m) => &m.phone_number_id,
            WebhookEvent::Status(st) => &st.phone_number_id,
        };
        if !tenants.contains_key(pnid) {
            let tenant = routes.tenant(db, pnid).await?;
            tenants.insert(pnid.clone(), tenant);
        }
    }
    let mut rows = Vec::new();
    let mut quarantine = Vec::new();
    let mut raw: Option<Value> = None;
    for event in events {
        match event {
            WebhookEvent::Message(m) => match tenants.get(&m.phone_number_id).copied().flatten() {
                Some(tenant_id) => rows.push(NewInboxRow {
                    message_id: chat_intake::without_nul(&m.id),
                    kind: InboxKind::Message,
                    tenant_id,
                    customer_key: chat_intake::without_nul(&format!(
                        "{}:{}",
                        m.phone_number_id, m.from
                    )),
                    payload: chat_intake::encode_message(&m),
                }),
                None => {
                    tracing::info!(phone_number_id = %m.phone_number_id, "WhatsApp message for an unknown number quarantined");
                    let raw = raw
                        .get_or_insert_with(|| {
                            chat_intake::sanitize_json(
                                serde_json::from_slice(body).unwrap_or(Value::Null),
                            )
                        })
                        .clone();
                    quarantine.push(QuarantineRow {
                        channel: "whatsapp",
                        message_id: chat_intake::without_nul(&m.id),
                        to_phone_number_id: chat_intake::without_nul(&m.phone_number_id)
                            .chars()
                            .take(50)
                            .collect(),
                        from_phone: chat_intake::without_nul(&m.from).chars().take(20).collect(),
                        raw_payload: raw,
                    });
                }
            },
            WebhookEvent::Status(st) => match tenants.get(&st.phone_number_id).copied().flatten() {
                Some(tenant_id) => rows.push(NewInboxRow {
                    message_id: chat_intake::without_nul(&format!(
                        "status:{}:{}",
                        st.id, st.status
                    )),
                    kind: InboxKind::Status,
                    tenant_id,
                    customer_key: chat_intake::without_nul(&format!(
                        "{}:{}",
                        st.phone_number_id, st.recipient_id
                    )),
                    payload: chat_intake::encode_status(&st),
                }),
                None => tracing::debug!("WhatsApp status for an unknown number dropped"),
            },
        }
    }
    inbox::store(db, &rows, &quarantine).await
}

// ---- development capture ----------------------------------------------

/// What the server sent to the "Graph API" in development.
#[derive(Default)]
struct Capture {
    inner: Mutex<CaptureLog>,
}

#[derive(Default)]
struct CaptureLog {
    next: u64,
    items: VecDeque<(u64, Value)>,
}

const CAPTURE_KEEP: usize = 2000;

async fn capture_post(
    State(s): State<Arc<Shared>>,
    Path(phone_number_id): Path<String>,
    body: Bytes,
) -> Response {
    let Some(capture) = &s.capture else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let Ok(mut log) = capture.inner.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    log.next += 1;
    let seq = log.next;
    value["_phone_number_id"] = Value::String(phone_number_id);
    let recipient = value["recipient"]["id"].clone();
    log.items.push_back((seq, value));
    while log.items.len() > CAPTURE_KEEP {
        log.items.pop_front();
    }
    // Answered as the Cloud API and the Send API answer.
    axum::Json(json!({"messaging_product": "whatsapp", "messages": [{"id": format!("wamid.dev.{seq}")}], "success": true,
                      "recipient_id": recipient, "message_id": format!("m_dev.{seq}")}))
        .into_response()
}

#[derive(Deserialize)]
struct CaptureQuery {
    to: Option<String>,
    #[serde(default)]
    after: u64,
}

async fn capture_list(State(s): State<Arc<Shared>>, Query(q): Query<CaptureQuery>) -> Response {
    let Some(capture) = &s.capture else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Ok(log) = capture.inner.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let items: Vec<Value> = log
        .items
        .iter()
        .filter(|(seq, v)| {
            // A Cloud API message has `to`; a Send API message `recipient`
            // and `message` (sender actions and read marks are left out).
            let to_whom = match (v["to"].as_str(), v.get("message")) {
                (Some(to), _) => Some(to),
                (None, Some(_)) => v["recipient"]["id"].as_str(),
                (None, None) => None,
            };
            *seq > q.after
                && to_whom.is_some_and(|who| {
                    q.to.as_deref()
                        .is_none_or(|to| who == to.trim_start_matches('+'))
                })
        })
        .map(|(seq, v)| json!({"seq": seq, "message": v}))
        .collect();
    axum::Json(json!({"last": log.next, "messages": items})).into_response()
}
