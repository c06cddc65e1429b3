//! WhatsApp Cloud API webhook routes.
//!
//! * `GET /wa/webhook`: the subscription handshake (hub.mode / verify_token /
//!   challenge).
//! * `POST /wa/webhook`: signed events. The signature is checked over the
//!   exact raw body before parsing; the body is parsed, the events queued,
//!   and 200 returned at once: the conversation, the database and the Graph
//!   API calls happen on worker tasks (one queue per customer shard, so one
//!   customer's messages stay in order). Unknown phone_number_ids go to
//!   public.inbound_quarantine and get no answer.
//! * Payments (when the node takes them, [`router_with_payments`]): a
//!   booking the dialog wants paid starts an M-Pesa prompt to the chat's
//!   number or a PesaPal link (tenant's preferred provider; a link for a
//!   number M-Pesa cannot prompt); the outcome, from whichever node got the
//!   callback, is confirmed in the chat once (claimed in the database, so
//!   several nodes hearing the same notice send one message); nudge and
//!   abandon messages from the durable deadlines go out as they fall due.
//! * Development capture (only when `WHATSAPP_GRAPH_URL` points at this
//!   server's `/dev/graph`): `POST /dev/graph/{phone_number_id}/messages`
//!   records what the server would have sent to Meta, and
//!   `GET /dev/graph/messages?to=&after=` lists it, which is what
//!   `ratiba chat` reads.

use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{TimeZone, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row;
use tokio::sync::mpsc;
use tracing::Instrument;

use crate::adapters::payments::kenyan_msisdn;
use crate::adapters::whatsapp::client::Window;
use crate::adapters::whatsapp::codec::{self, InboundMessage, StatusEvent, WebhookEvent};
use crate::adapters::whatsapp::{GraphClient, outbound};
use crate::config::{Secret, Settings};
use crate::core::dialog::Channel;
use crate::core::ids::{Money, PhoneNumber, ThreadId};
use crate::core::payment::chat::{ChatMessage, ChatProvider};
use crate::core::payment::hold::Lang as PayLang;
use crate::runtime::call_payment::PaymentLinkRequest;
use crate::runtime::conversation::{BoxFuture, ConversationService, TurnText};
use crate::runtime::handoff;
use crate::runtime::payments::{
    ChatPaymentEvent, FAILURE_TOLD_ON_CALL, PaymentService, PushRequest, answer_chat_payment,
    start_chat_payment,
};
use crate::storage::conversation as conv;
use crate::storage::payments::{self as payment_store, PaymentNotice};
use crate::storage::{Db, TenantRecord, Vault};

/// Webhook bodies above this are refused (Meta's are a few kB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// The signing secret used when none is configured and the Graph API is the
/// local capture endpoint (development only; `ratiba chat` uses it too).
pub const DEV_APP_SECRET: &str = "ratiba-dev-app-secret";
const SHARDS: usize = 8;
const QUEUE_PER_SHARD: usize = 256;

/// Everything the routes and workers need.
pub struct WhatsAppConfig {
    pub db: Db,
    pub vault: Option<Vault>,
    pub app_secret: Option<Secret>,
    pub verify_token: Option<Secret>,
    pub graph_base_url: String,
    pub service: ConversationService,
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
    config: WhatsAppConfig,
    graph: GraphClient,
    queues: Vec<mpsc::Sender<Job>>,
    capture: Option<Capture>,
    payments: Option<Arc<PaymentService>>,
}

/// The node's payments, for chats.
pub struct ChatPayments {
    pub service: Arc<PaymentService>,
    /// Nudge and abandon messages due (`PaymentsNode::take_chat_events`).
    pub events: mpsc::Receiver<ChatPaymentEvent>,
    /// Payment links promised on calls (`CallRuntime::with_payment_links`).
    pub call_links: Option<mpsc::Receiver<PaymentLinkRequest>>,
}

enum Job {
    Message {
        raw: Arc<Value>,
        message: InboundMessage,
    },
    Status(StatusEvent),
}

/// The WhatsApp routes, with their workers started on the current runtime.
/// Bookings are not paid in the chat (see [`router_with_payments`]).
pub fn router(config: WhatsAppConfig) -> Router {
    router_with_payments(config, None)
}

/// The WhatsApp routes; chats take payments through `payments`.
pub fn router_with_payments(config: WhatsAppConfig, payments: Option<ChatPayments>) -> Router {
    let graph = GraphClient::new(&config.graph_base_url, Duration::from_secs(10))
        .unwrap_or_else(|_| unreachable!("a client with rustls and plain settings always builds"));
    let capture = is_dev_capture(&config.graph_base_url).then(Capture::default);
    let mut senders = Vec::with_capacity(SHARDS);
    let mut receivers = Vec::with_capacity(SHARDS);
    for _ in 0..SHARDS {
        let (tx, rx) = mpsc::channel(QUEUE_PER_SHARD);
        senders.push(tx);
        receivers.push(rx);
    }
    let shared = Arc::new(Shared {
        config,
        graph,
        queues: senders,
        capture,
        payments: payments.as_ref().map(|p| p.service.clone()),
    });
    if let Some(p) = payments {
        tokio::spawn(send_payment_outcomes(
            shared.clone(),
            p.service.waiters().subscribe_all(),
        ));
        tokio::spawn(send_payment_deadlines(shared.clone(), p.events));
        if let Some(links) = p.call_links {
            tokio::spawn(send_call_payment_links(shared.clone(), links));
        }
    }
    for rx in receivers {
        tokio::spawn(worker(shared.clone(), rx));
    }
    // Hand-off notices, reminders and escalations go to the tenant's admins
    // on WhatsApp; their deadlines are in the database.
    handoff::spawn_sweeper(
        shared.config.db.clone(),
        Arc::new(WhatsAppNotifier(shared.clone())),
        Duration::from_secs(15),
    );
    let mut router = Router::new().route("/wa/webhook", get(verify).post(receive));
    if shared.capture.is_some() {
        router = router
            .route("/dev/graph/{phone_number_id}/messages", post(capture_post))
            .route("/dev/graph/messages", get(capture_list));
    }
    router
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(shared)
}

#[derive(Deserialize)]
struct VerifyQuery {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

async fn verify(State(s): State<Arc<Shared>>, Query(q): Query<VerifyQuery>) -> Response {
    let Some(expected) = &s.config.verify_token else {
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

async fn receive(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = &s.config.app_secret else {
        tracing::warn!("WhatsApp webhook refused: WHATSAPP_APP_SECRET is not configured");
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let header = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if let Err(e) = codec::verify_signature(secret.expose(), &body, header) {
        tracing::warn!(error = %e, "WhatsApp webhook signature refused");
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let events = match codec::parse_webhook(&body) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(error = %e, "WhatsApp webhook body refused");
            return StatusCode::BAD_REQUEST.into_response();
        }
    };
    let raw: Arc<Value> = Arc::new(serde_json::from_slice(&body).unwrap_or(Value::Null));
    for event in events {
        let (key, job) = match event {
            WebhookEvent::Message(m) => (
                format!("{}:{}", m.phone_number_id, m.from),
                Job::Message {
                    raw: raw.clone(),
                    message: m,
                },
            ),
            WebhookEvent::Status(st) => (
                format!("{}:{}", st.phone_number_id, st.recipient_id),
                Job::Status(st),
            ),
        };
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        let shard = (h.finish() as usize) % s.queues.len().max(1);
        let Some(queue) = s.queues.get(shard) else {
            continue;
        };
        if queue.try_send(job).is_err() {
            // Full or closed: let Meta retry later rather than lose it.
            tracing::warn!("WhatsApp queue full; asking Meta to retry");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    StatusCode::OK.into_response()
}

async fn worker(shared: Arc<Shared>, mut rx: mpsc::Receiver<Job>) {
    while let Some(job) = rx.recv().await {
        let result = match job {
            Job::Message { raw, message } => handle_message(&shared, &raw, message).await,
            Job::Status(st) => handle_status(&shared, st).await,
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "WhatsApp event failed");
        }
    }
}

async fn handle_message(shared: &Shared, raw: &Value, m: InboundMessage) -> anyhow::Result<()> {
    let db = &shared.config.db;
    let Some(tenant) = db
        .tenant_by_whatsapp_phone_number_id(&m.phone_number_id)
        .await?
    else {
        quarantine(db, &m, raw).await?;
        return Ok(());
    };
    let Ok(customer) = PhoneNumber::parse(&m.from) else {
        tracing::warn!("WhatsApp sender is not a phone number; ignored");
        return Ok(());
    };
    if let Some(admin) = handoff::admin_by_phone(db, &tenant, &customer).await? {
        let span = tracing::info_span!("whatsapp_admin", tenant = %tenant.slug, admin = %admin.id);
        return handle_admin_message(shared, &tenant, &m, &admin)
            .instrument(span)
            .await;
    }
    let span = tracing::info_span!("whatsapp_turn", tenant = %tenant.slug, customer = %customer);
    let _enter = span.enter();
    let handle = db.tenant(&tenant.slug);
    let now = Utc::now();
    if let Some(service) = &shared.payments
        && is_payment_answer(m.text())
        && answer_failed_payment(shared, service, &tenant, &m, &customer).await?
    {
        return Ok(());
    }
    let outcome = shared
        .config
        .service
        .handle_turn(
            &handle,
            None,
            TurnText {
                channel: Channel::WhatsApp,
                customer: customer.clone(),
                customer_name: m.profile_name.clone(),
                external_id: m.from.clone(),
                text: m.text().to_owned(),
                language_hint: None,
                dtmf: None,
                choice_id: m.choice_id().map(str::to_owned),
                message_id: Some(m.id.clone()),
                message_type: m.message_type().to_owned(),
                now,
            },
        )
        .await?;
    if outcome.duplicate {
        return Ok(());
    }
    let Some(token) = access_token(shared, &tenant) else {
        tracing::warn!("tenant has no usable WhatsApp access token; replies not sent");
        return Ok(());
    };
    if let Err(e) = shared
        .graph
        .mark_read(&m.phone_number_id, token.expose(), &m.id)
        .await
    {
        tracing::debug!(error = %e, "mark as read failed");
    }
    for sent in &outcome.replies {
        let body = outbound::for_reply(customer.digits(), &sent.reply);
        match shared
            .graph
            .send(&m.phone_number_id, token.expose(), &body)
            .await
        {
            Ok(wamid) => {
                let mut tx = handle.begin().await?;
                sqlx::query(
                    "UPDATE interactions SET metadata = COALESCE(metadata, '{}'::jsonb) || jsonb_build_object('wamid', $2::text, 'status', 'accepted') WHERE id = $1",
                )
                .bind(sent.interaction_id)
                .bind(&wamid)
                .execute(tx.conn())
                .await?;
                tx.commit().await?;
            }
            Err(e) => tracing::warn!(error = %e, "WhatsApp send failed"),
        }
    }
    if outcome.handed_off
        && let Some(thread) = &outcome.thread
    {
        forward_to_claimant(shared, &tenant, &m, &token, &customer, thread).await?;
    }
    if let (Some(service), Some(thread)) = (&shared.payments, &outcome.thread) {
        let lang = outcome
            .replies
            .last()
            .map_or(PayLang::En, |r| pay_lang(r.reply.language));
        for &(appointment_id, amount) in &outcome.payment_requests {
            let chat = Chat {
                tenant: &tenant,
                phone_number_id: &m.phone_number_id,
                token: &token,
                customer: &customer,
                thread,
                lang,
            };
            start_payment(shared, service, &chat, appointment_id, amount).await;
        }
    }
    Ok(())
}

// ---- admins taking over a chat ------------------------------------------

/// The last four characters of a customer's number, for admins' messages
/// (the number comes from the database: no byte slicing).
fn customer_tail(phone: &str) -> &str {
    phone
        .char_indices()
        .rev()
        .nth(3)
        .map_or(phone, |(i, _)| &phone[i..])
}

/// Sends plain text from the tenant's number (a failure is logged).
async fn send_text(shared: &Shared, phone_number_id: &str, token: &Secret, to: &str, text: &str) {
    let digits: String = to.chars().filter(char::is_ascii_digit).collect();
    if let Err(e) = shared
        .graph
        .send_update(
            phone_number_id,
            token.expose(),
            &digits,
            text,
            "en",
            Window::Unknown,
        )
        .await
    {
        tracing::warn!(error = %e, "WhatsApp message not sent");
    }
}

/// A message from one of the tenant's admins: a command, or words for the
/// customer the admin has claimed (see [`handoff`]).
async fn handle_admin_message(
    shared: &Shared,
    tenant: &TenantRecord,
    m: &InboundMessage,
    admin: &handoff::TenantAdmin,
) -> anyhow::Result<()> {
    let Some(token) = access_token(shared, tenant) else {
        tracing::warn!("tenant has no usable WhatsApp access token; admin message not handled");
        return Ok(());
    };
    let handle = shared.config.db.tenant(&tenant.slug);
    let now = Utc::now();
    let claimed = handoff::claimed_by(&handle, admin.id).await?;
    let answer = match (handoff::AdminCommand::parse(m.text()), claimed) {
        (handoff::AdminCommand::Claim(_), Some(current)) => format!(
            "You already have customer …{}. Send CLOSE to hand them back to the bot first.",
            customer_tail(&current.customer_phone)
        ),
        (handoff::AdminCommand::Claim(which), None) => {
            let waiting = handoff::waiting(&handle).await?;
            let pick = match which {
                Some(end) => waiting.iter().find(|w| w.thread.as_str().ends_with(end)),
                None => waiting.first(),
            };
            match pick {
                None if waiting.is_empty() => "No customer is waiting for a person.".to_owned(),
                None => format!(
                    "No waiting customer's thread ends with {}. Send CLAIM for the one waiting longest.",
                    which.unwrap_or_default()
                ),
                Some(w)
                    if handoff::claim(&handle, &w.thread, admin.id, "whatsapp", now).await? =>
                {
                    tracing::info!(thread = %w.thread, "hand-off claimed on WhatsApp");
                    format!(
                        "You have customer …{} now (thread {}). What you write here goes to them as it is; \
                         their messages come to you. Send CLOSE to hand them back to the bot.",
                        customer_tail(&w.customer_phone),
                        w.thread
                    )
                }
                Some(_) => "Another admin claimed that customer just now.".to_owned(),
            }
        }
        (handoff::AdminCommand::Close, None) | (handoff::AdminCommand::Relay(_), None) => {
            "You have no customer open. Send CLAIM to take the one waiting longest for a person."
                .to_owned()
        }
        (handoff::AdminCommand::Close, Some(current)) => {
            handoff::close(&handle, tenant, &current.thread).await?;
            tracing::info!(thread = %current.thread, "hand-off closed on WhatsApp");
            format!(
                "Closed: the bot answers customer …{} again.",
                customer_tail(&current.customer_phone)
            )
        }
        (handoff::AdminCommand::Relay(text), Some(current)) => {
            let to = handoff::admin_reply(
                &handle,
                &current.thread,
                &admin.phone,
                text,
                Some(&m.id),
                now,
            )
            .await?;
            if let Some(to) = to {
                send_text(shared, &m.phone_number_id, &token, &to, text).await;
            }
            return Ok(());
        }
    };
    send_text(shared, &m.phone_number_id, &token, &m.from, &answer).await;
    Ok(())
}

/// A customer's message in a thread an admin claimed on WhatsApp goes to
/// that admin.
async fn forward_to_claimant(
    shared: &Shared,
    tenant: &TenantRecord,
    m: &InboundMessage,
    token: &Secret,
    customer: &PhoneNumber,
    thread: &ThreadId,
) -> anyhow::Result<()> {
    let handle = shared.config.db.tenant(&tenant.slug);
    let Some((admin_id, via)) = handoff::claimant(&handle, thread).await? else {
        return Ok(()); // not claimed yet: the notices are on their way
    };
    if via != "whatsapp" {
        return Ok(()); // the dashboard shows it
    }
    let Some(admin_phone) = handoff::admin_phone(&shared.config.db, tenant, admin_id).await? else {
        return Ok(());
    };
    let said = if m.text().trim().is_empty() {
        format!("[{}]", m.message_type())
    } else {
        m.text().to_owned()
    };
    let text = format!("Customer …{}: {said}", customer_tail(customer.digits()));
    send_text(shared, &m.phone_number_id, token, &admin_phone, &text).await;
    Ok(())
}

// ---- payments in the chat ---------------------------------------------

/// One chat to write payment messages to.
struct Chat<'a> {
    tenant: &'a TenantRecord,
    phone_number_id: &'a str,
    token: &'a Secret,
    customer: &'a PhoneNumber,
    thread: &'a ThreadId,
    lang: PayLang,
}

fn pay_lang(lang: crate::core::dialog::Lang) -> PayLang {
    match lang {
        crate::core::dialog::Lang::Sw => PayLang::Sw,
        crate::core::dialog::Lang::En => PayLang::En,
    }
}

/// Starts the payment of a booking: a prompt to the chat's number, or a
/// link when the tenant prefers PesaPal or the number is not one M-Pesa
/// can prompt.
async fn start_payment(
    shared: &Shared,
    service: &PaymentService,
    chat: &Chat<'_>,
    appointment_id: uuid::Uuid,
    amount: Money,
) {
    let provider = if chat.tenant.preferred_payment_provider == "pesapal"
        || kenyan_msisdn(chat.customer).is_err()
    {
        ChatProvider::Pesapal
    } else {
        ChatProvider::Mpesa
    };
    start_payment_by(shared, service, chat, appointment_id, amount, provider).await;
}

async fn start_payment_by(
    shared: &Shared,
    service: &PaymentService,
    chat: &Chat<'_>,
    appointment_id: uuid::Uuid,
    amount: Money,
    provider: ChatProvider,
) {
    let request = PushRequest {
        thread_id: chat.thread.clone(),
        appointment_id: Some(appointment_id),
        contact_id: None,
        phone: chat.customer.clone(),
        amount,
        account_reference: account_reference(&chat.tenant.name),
        description: "Booking".into(),
    };
    let (payment_id, messages) =
        match start_chat_payment(service, chat.tenant, &request, provider, Utc::now()).await {
            Ok(started) => started,
            Err(e) => {
                tracing::warn!(error = %e, "chat payment not started");
                (None, vec![ChatMessage::ProviderUnavailable])
            }
        };
    tracing::info!(payment = ?payment_id, provider = ?provider, "chat payment started");
    for message in messages {
        send_payment_text(shared, chat, payment_id, &message.text(chat.lang)).await;
    }
}

/// "RETRY" / "LINK" (or "TENA" / "KIUNGO"), the answers a failed payment's
/// message asks for. Only these exact words are taken from the dialog: an
/// ordinary "no" or "cancel" is the conversation's.
fn is_payment_answer(text: &str) -> bool {
    let word = text
        .trim()
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    matches!(word.as_str(), "retry" | "tena" | "link" | "kiungo")
}

/// Acts on a "RETRY" / "LINK" for the customer's latest failed payment of
/// a booking still unpaid. False when there is none: the dialog takes the
/// message as usual.
async fn answer_failed_payment(
    shared: &Shared,
    service: &PaymentService,
    tenant: &TenantRecord,
    m: &InboundMessage,
    customer: &PhoneNumber,
) -> anyhow::Result<bool> {
    let handle = shared.config.db.tenant(&tenant.slug);
    let mut tx = handle.begin().await?;
    let failed = sqlx::query(
        "SELECT p.id, p.appointment_id, p.initiated_at, \
                (SELECT count(*) FROM payments q WHERE q.appointment_id = p.appointment_id \
                   AND q.provider = 'mpesa') AS pushes \
         FROM payments p JOIN appointments a ON a.id = p.appointment_id \
         WHERE p.phone_number = $1 \
           AND p.status IN ('failed', 'timeout', 'cancelled_by_customer') \
           AND a.status <> 'cancelled' AND a.payment_status IS DISTINCT FROM 'paid' \
           AND NOT EXISTS (SELECT 1 FROM payments later \
                 WHERE later.appointment_id = p.appointment_id AND later.created_at > p.created_at) \
         ORDER BY p.created_at DESC LIMIT 1",
    )
    .bind(customer.expose())
    .fetch_optional(tx.conn())
    .await?;
    let Some(failed) = failed else {
        return Ok(false);
    };
    // A redelivered message is answered once.
    if !conv::claim_message_id(&mut tx, &m.id).await? {
        return Ok(true);
    }
    let payment_id: uuid::Uuid = failed.try_get("id")?;
    let appointment_id: uuid::Uuid = failed.try_get("appointment_id")?;
    let started_at: Option<chrono::DateTime<Utc>> = failed.try_get("initiated_at")?;
    let pushes: i64 = failed.try_get("pushes")?;
    let Some(previous) = payment_store::find_payment(&handle, payment_id).await? else {
        return Ok(false);
    };
    let thread = conv::open_thread(&mut tx, customer, Channel::WhatsApp).await?;
    let lang = pay_lang(conv::load_checkpoint(&mut tx, &thread).await?.lang);
    conv::record_interaction(
        &mut tx,
        &conv::InteractionRow {
            contact_id: previous.contact_id,
            channel: Channel::WhatsApp,
            inbound: true,
            message_type: m.message_type(),
            content: m.text(),
            intent: Some("payment"),
            language: None,
            metadata: json!({"thread_id": thread.as_str(), "wamid": m.id, "payment_id": payment_id.to_string()}),
        },
    )
    .await?;
    tx.commit().await?;
    let Some(token) = access_token(shared, tenant) else {
        return Ok(true);
    };
    let request = PushRequest {
        thread_id: thread.clone(),
        appointment_id: Some(appointment_id),
        contact_id: previous.contact_id,
        phone: customer.clone(),
        amount: previous.amount,
        account_reference: account_reference(&tenant.name),
        description: "Booking".into(),
    };
    let now = Utc::now();
    let (next_payment, messages) = answer_chat_payment(
        service,
        tenant,
        &request,
        u8::try_from(pushes).unwrap_or(u8::MAX),
        started_at.unwrap_or(now),
        m.text(),
        now,
    )
    .await
    .unwrap_or_else(|e| {
        tracing::warn!(error = %e, "payment retry not started");
        (None, vec![ChatMessage::ProviderUnavailable])
    });
    tracing::info!(previous = %payment_id, next = ?next_payment, "customer answered a failed payment");
    let chat = Chat {
        tenant,
        phone_number_id: &m.phone_number_id,
        token: &token,
        customer,
        thread: &thread,
        lang,
    };
    for message in messages {
        send_payment_text(shared, &chat, next_payment, &message.text(lang)).await;
    }
    Ok(true)
}

/// Daraja's AccountReference: at most 12 letters and digits.
fn account_reference(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect::<String>()
        .to_uppercase()
}

/// Sends one payment message and records it in interactions.
async fn send_payment_text(
    shared: &Shared,
    chat: &Chat<'_>,
    payment_id: Option<uuid::Uuid>,
    text: &str,
) {
    let lang_code = match chat.lang {
        PayLang::En => "en",
        PayLang::Sw => "sw",
    };
    let window = match customer_window(shared, chat.tenant, chat.customer).await {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "24 h window unknown");
            Window::Unknown
        }
    };
    let wamid = match shared
        .graph
        .send_update(
            chat.phone_number_id,
            chat.token.expose(),
            chat.customer.digits(),
            text,
            lang_code,
            window,
        )
        .await
    {
        Ok(id) => Some(id),
        Err(e) => {
            tracing::warn!(error = %e, "WhatsApp payment message not sent");
            None
        }
    };
    let recorded = async {
        let mut tx = shared.config.db.tenant(&chat.tenant.slug).begin().await?;
        conv::record_interaction(
            &mut tx,
            &conv::InteractionRow {
                contact_id: None,
                channel: Channel::WhatsApp,
                inbound: false,
                message_type: "text",
                content: text,
                intent: Some("payment"),
                language: Some(lang_code),
                metadata: json!({
                    "thread_id": chat.thread.as_str(),
                    "payment_id": payment_id.map(|p| p.to_string()),
                    "wamid": wamid,
                    "status": if wamid.is_some() { "accepted" } else { "failed" },
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok::<_, crate::storage::StorageError>(())
    };
    if let Err(e) = recorded.await {
        tracing::warn!(error = %e, "payment message not recorded");
    }
}

/// A customer's 24 h window, from when they last wrote on WhatsApp.
async fn customer_window(
    shared: &Shared,
    tenant: &TenantRecord,
    customer: &PhoneNumber,
) -> anyhow::Result<Window> {
    let mut tx = shared.config.db.tenant(&tenant.slug).begin().await?;
    let last = conv::last_whatsapp_message(&mut tx, customer).await?;
    tx.commit().await?;
    Ok(Window::since(last, Utc::now()))
}

/// Whether a payment message of a call's thread goes to the caller on
/// WhatsApp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallThreads {
    /// Chats only.
    Skip,
    /// The caller too: a receipt read on the line is gone when the call ends.
    Write,
    /// The caller too, unless the call told them on the line
    /// ([`FAILURE_TOLD_ON_CALL`]). A holding call hears of the outcome at the
    /// same moment as this writer and records it at once; the writer gives
    /// it [`CALL_TELLS_FIRST`] to do so.
    UnlessFailureToldOnCall,
}

/// How long the chat side waits before writing a failure to a caller whose
/// call may be telling it on the line.
const CALL_TELLS_FIRST: Duration = Duration::from_secs(5);

/// The WhatsApp chat behind a thread: the customer to write to, their
/// language, and whether the thread began as a call (a call's caller is
/// written to at the number that called); `None` for other channels, and
/// for a call's thread when `calls` is [`CallThreads::Skip`].
async fn chat_of(
    shared: &Shared,
    tenant: &TenantRecord,
    thread: &ThreadId,
    calls: CallThreads,
) -> anyhow::Result<Option<(PhoneNumber, PayLang, bool)>> {
    let mut tx = shared.config.db.tenant(&tenant.slug).begin().await?;
    let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT customer_phone, channel_started FROM conversation_threads \
         WHERE thread_id = $1 \
           AND (channel_started = 'whatsapp' OR ($2 AND channel_started = 'voice')) LIMIT 1",
    )
    .bind(thread.as_str())
    .bind(calls != CallThreads::Skip)
    .fetch_optional(tx.conn())
    .await?;
    let Some((Some(phone), channel)) = row else {
        return Ok(None);
    };
    let Ok(phone) = PhoneNumber::parse(&phone) else {
        return Ok(None);
    };
    let lang = pay_lang(conv::load_checkpoint(&mut tx, thread).await?.lang);
    tx.commit().await?;
    Ok(Some((phone, lang, channel.as_deref() == Some("voice"))))
}

/// Writes a payment message into the chat of `thread`, if it is one.
async fn write_to_thread(
    shared: &Shared,
    tenant_slug: &crate::core::ids::TenantSlug,
    thread: &ThreadId,
    payment_id: uuid::Uuid,
    message: ChatMessage,
    claim: Option<&str>,
    calls: CallThreads,
) -> anyhow::Result<()> {
    let db = &shared.config.db;
    let Some(tenant) = db.tenant_by_slug(tenant_slug).await? else {
        return Ok(());
    };
    let Some((customer, lang, is_call)) = chat_of(shared, &tenant, thread, calls).await? else {
        return Ok(());
    };
    let failure_after_call = is_call && calls == CallThreads::UnlessFailureToldOnCall;
    if failure_after_call {
        tokio::time::sleep(CALL_TELLS_FIRST).await;
        let handle = db.tenant(&tenant.slug);
        if payment_store::deadline_claimed(&handle, payment_id, FAILURE_TOLD_ON_CALL).await? {
            return Ok(()); // the caller heard it on the line
        }
    }
    let Some((phone_number_id, token)) = sender(shared, &tenant, "payment message") else {
        return Ok(());
    };
    if let Some(name) = claim
        && !payment_store::claim_deadline(&db.tenant(&tenant.slug), payment_id, name).await?
    {
        return Ok(()); // another node (or an earlier notice) sent it
    }
    let chat = Chat {
        tenant: &tenant,
        phone_number_id: &phone_number_id,
        token: &token,
        customer: &customer,
        thread,
        lang,
    };
    if !failure_after_call {
        send_payment_text(shared, &chat, Some(payment_id), &message.text(lang)).await;
        return Ok(());
    }
    // A caller can't answer RETRY to a call: say what happened and send a
    // link in a chat of its own, as the hold does when a caller picks one.
    let message = match message {
        ChatMessage::Failed { why, .. } => ChatMessage::FailedLinkFollows { why },
        other => other,
    };
    send_payment_text(shared, &chat, Some(payment_id), &message.text(lang)).await;
    let payment = payment_store::find_payment(&db.tenant(&tenant.slug), payment_id).await?;
    if let Some((appointment_id, amount)) =
        payment.and_then(|p| Some((p.appointment_id?, p.amount)))
    {
        let link = PaymentLinkRequest {
            tenant: tenant.slug.clone(),
            phone: customer.clone(),
            appointment_id,
            amount,
            lang,
        };
        send_call_payment_link(shared, &link).await?;
    }
    Ok(())
}

/// Confirms each final payment outcome in its chat, once across nodes.
async fn send_payment_outcomes(
    shared: Arc<Shared>,
    mut notices: tokio::sync::broadcast::Receiver<PaymentNotice>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let notice = match notices.recv().await {
            Ok(n) => n,
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "payment notices missed; the chats will not be told");
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        if !notice
            .status()
            .is_some_and(crate::core::payment::PaymentStatus::is_final)
        {
            continue;
        }
        let outcome = notice.outcome();
        // A payment made for a call is confirmed in writing too: the receipt
        // read on the line is gone when the call ends, and a caller released
        // before the money came through was promised this message. A failure
        // is written only if the call did not tell it (the caller was
        // released first, or hung up during the hold).
        let calls = if matches!(
            outcome,
            crate::core::payment::PaymentOutcome::Completed { .. }
        ) {
            CallThreads::Write
        } else {
            CallThreads::UnlessFailureToldOnCall
        };
        // Each in its own task: a failure on a call's thread waits for the
        // call first, and must not hold up the other chats.
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let sent = write_to_thread(
                &shared,
                &notice.tenant,
                &notice.thread_id,
                notice.payment_id,
                // One push failed; the customer may ask for another (or a link).
                ChatMessage::for_outcome(&outcome, true),
                Some("outcome"),
                calls,
            )
            .await;
            if let Err(e) = sent {
                tracing::warn!(tenant = %notice.tenant, error = %e, "payment outcome not sent to the chat");
            }
        });
    }
}

/// Sends the payment links calls promised: a PesaPal order in a new
/// WhatsApp thread of the caller (so its outcome is confirmed there).
async fn send_call_payment_links(
    shared: Arc<Shared>,
    mut links: mpsc::Receiver<PaymentLinkRequest>,
) {
    while let Some(link) = links.recv().await {
        if let Err(e) = send_call_payment_link(&shared, &link).await {
            tracing::warn!(tenant = %link.tenant, error = %e, "payment link from a call not sent");
        }
    }
}

async fn send_call_payment_link(shared: &Shared, link: &PaymentLinkRequest) -> anyhow::Result<()> {
    let Some(service) = &shared.payments else {
        return Ok(());
    };
    let db = &shared.config.db;
    let Some(tenant) = db.tenant_by_slug(&link.tenant).await? else {
        return Ok(());
    };
    let Some((phone_number_id, token)) = sender(shared, &tenant, "payment link") else {
        return Ok(());
    };
    let thread = ThreadId::new();
    let mut tx = db.tenant(&tenant.slug).begin().await?;
    sqlx::query(
        "INSERT INTO conversation_threads (customer_phone, thread_id, channel_started, actor_type) \
         VALUES ($1, $2, 'whatsapp', 'customer')",
    )
    .bind(link.phone.expose())
    .bind(thread.as_str())
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    let chat = Chat {
        tenant: &tenant,
        phone_number_id: &phone_number_id,
        token: &token,
        customer: &link.phone,
        thread: &thread,
        lang: link.lang,
    };
    start_payment_by(
        shared,
        service,
        &chat,
        link.appointment_id,
        link.amount,
        ChatProvider::Pesapal,
    )
    .await;
    Ok(())
}

/// Sends the nudge and abandon messages the durable deadlines produce.
async fn send_payment_deadlines(shared: Arc<Shared>, mut events: mpsc::Receiver<ChatPaymentEvent>) {
    while let Some(event) = events.recv().await {
        let ChatPaymentEvent {
            tenant,
            thread_id,
            payment_id,
            message,
        } = event;
        // Already claimed by the sweeper.
        let sent = write_to_thread(
            &shared,
            &tenant,
            &thread_id,
            payment_id,
            message,
            None,
            CallThreads::Skip,
        )
        .await;
        if let Err(e) = sent {
            tracing::warn!(tenant = %tenant, error = %e, "payment reminder not sent to the chat");
        }
    }
}

/// Tells tenant admins about hand-offs on WhatsApp.
struct WhatsAppNotifier(Arc<Shared>);

impl handoff::AdminNotifier for WhatsAppNotifier {
    fn notify<'a>(
        &'a self,
        tenant: &'a TenantRecord,
        admin_phone: &'a str,
        text: String,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let phone_number_id = tenant
                .whatsapp_phone_number_id
                .as_deref()
                .ok_or("tenant has no WhatsApp number")?;
            let token = access_token(&self.0, tenant).ok_or("tenant has no access token")?;
            let to = PhoneNumber::parse(admin_phone).map_err(|e| e.to_string())?;
            self.0
                .graph
                .send_update(
                    phone_number_id,
                    token.expose(),
                    to.digits(),
                    &text,
                    "en",
                    Window::Unknown,
                )
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }
}

/// The tenant's WhatsApp number id and access token, to send `what` from;
/// `None` (logged) when either is missing.
fn sender(shared: &Shared, tenant: &TenantRecord, what: &str) -> Option<(String, Secret)> {
    let found = tenant
        .whatsapp_phone_number_id
        .clone()
        .zip(access_token(shared, tenant));
    if found.is_none() {
        tracing::warn!(tenant = %tenant.slug, what, "no WhatsApp number or token; not sent");
    }
    found
}

fn access_token(shared: &Shared, tenant: &TenantRecord) -> Option<Secret> {
    let stored = tenant.whatsapp_access_token.as_ref().and_then(|t| {
        let vault = shared.config.vault.as_ref()?;
        vault.decrypt_text(t.expose()).ok()
    });
    stored.or_else(|| {
        shared
            .capture
            .is_some()
            .then(|| Secret::new("dev-capture-token"))
    })
}

async fn quarantine(db: &Db, m: &InboundMessage, raw: &Value) -> anyhow::Result<()> {
    tracing::info!(phone_number_id = %m.phone_number_id, "WhatsApp message for an unknown number quarantined");
    let from: String = m.from.chars().take(20).collect();
    let to: String = m.phone_number_id.chars().take(50).collect();
    sqlx::query(
        "INSERT INTO public.inbound_quarantine (to_phone_number_id, from_phone, raw_payload) VALUES ($1, $2, $3)",
    )
    .bind(to)
    .bind(from)
    .bind(raw)
    .execute(db.pool())
    .await?;
    Ok(())
}

async fn handle_status(shared: &Shared, st: StatusEvent) -> anyhow::Result<()> {
    let db = &shared.config.db;
    let Some(tenant) = db
        .tenant_by_whatsapp_phone_number_id(&st.phone_number_id)
        .await?
    else {
        return Ok(());
    };
    let mut tx = db.tenant(&tenant.slug).begin().await?;
    let at = Utc
        .timestamp_opt(st.timestamp, 0)
        .single()
        .unwrap_or_else(Utc::now);
    conv::record_status(&mut tx, &st.id, &st.status, at, &st.error_codes).await?;
    tx.commit().await?;
    Ok(())
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
    log.items.push_back((seq, value));
    while log.items.len() > CAPTURE_KEEP {
        log.items.pop_front();
    }
    axum::Json(json!({"messaging_product": "whatsapp", "messages": [{"id": format!("wamid.dev.{seq}")}], "success": true}))
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
            *seq > q.after
                && v.get("to").is_some()
                && q.to
                    .as_deref()
                    .is_none_or(|to| v["to"].as_str() == Some(to.trim_start_matches('+')))
        })
        .map(|(seq, v)| json!({"seq": seq, "message": v}))
        .collect();
    axum::Json(json!({"last": log.next, "messages": items})).into_response()
}
