//! Processing from the chat inbox (`public.whatsapp_inbox`): WhatsApp
//! messages and statuses, Instagram and Messenger messages.
//!
//! The webhook stores events and answers; this runs them. One dispatcher
//! task per node claims due rows ([`inbox::claim`]: the oldest open row of
//! each customer, so a customer's messages run one at a time and in the
//! order received, across nodes too) and runs each as its own task, at most
//! [`IntakeOptions::concurrency`] at once: a slow vendor call (a payment
//! push, a Graph API send) delays its own customer only.
//!
//! A row that fails (an error, or a panic, caught at the task's
//! `JoinHandle`) goes back to its lane after an exponential backoff; after
//! [`IntakeOptions::max_attempts`] it is `parked` with its last error and a
//! WARN line naming the message id, and the customer's later messages go
//! on. The dispatcher wakes when the webhook stores something
//! ([`Intake::wake`]), when a task ends, and every
//! [`IntakeOptions::sweep_every`]; the sweep also takes back rows whose
//! lease ran out (their worker or node died), so nothing acknowledged is
//! lost to a crash or a restart. A running task renews its lease.
//!
//! A row processed is marked done by the dispatcher's next claim (the
//! same statement: one round trip and one commit for a batch of outcomes
//! and claims, milliseconds later). Losing that mark (a crash before it)
//! is harmless: the row's lease runs out, it is run again, and the turn,
//! already claimed by its message id in its own committed transaction, is
//! a duplicate that sends nothing.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{Notify, Semaphore};
use tracing::Instrument;

use crate::adapters::meta::{MetaChannel, MetaInbound, MetaInboundKind};
use crate::adapters::whatsapp::codec::{InboundKind, InboundMessage, StatusEvent};
use crate::core::ids::TenantId;
use crate::runtime::conversation::BoxFuture;
use crate::storage::Db;
use crate::storage::inbox::{self, InboxKind, InboxRow};

/// One stored event, read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboxEvent {
    Message(InboundMessage),
    Status(StatusEvent),
    /// An Instagram or Messenger message.
    Meta(MetaInbound),
}

/// Where a claimed row was routed when it was stored, and the version of
/// that tenant's registry entry when it was claimed: a tenant record (or
/// admin list) read at an older version is out of date for this event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claimed {
    pub tenant_id: TenantId,
    /// `None`: the tenant's registry row is gone.
    pub tenant_version: Option<i64>,
}

/// Runs one event. An `Err` (or a panic) means "try again later".
pub trait InboxHandler: Send + Sync + 'static {
    fn handle<'a>(
        &'a self,
        event: InboxEvent,
        claimed: Claimed,
    ) -> BoxFuture<'a, anyhow::Result<()>>;
}

/// One inbox, several channels: each event goes to its channel's runtime.
pub struct ByChannel {
    /// WhatsApp messages and statuses.
    pub whatsapp: Arc<dyn InboxHandler>,
    /// Instagram and Messenger messages.
    pub meta: Arc<dyn InboxHandler>,
}

impl InboxHandler for ByChannel {
    fn handle<'a>(
        &'a self,
        event: InboxEvent,
        claimed: Claimed,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        match event {
            InboxEvent::Message(_) | InboxEvent::Status(_) => self.whatsapp.handle(event, claimed),
            InboxEvent::Meta(_) => self.meta.handle(event, claimed),
        }
    }
}

/// Called with each event and its attempt number (from 1) before the
/// handler, inside the processing task: a test injects faults with it.
pub type FaultHook = Arc<dyn Fn(&InboxEvent, i32) + Send + Sync>;

/// How processing runs.
#[derive(Clone)]
pub struct IntakeOptions {
    /// Events processed at once (each its own task).
    pub concurrency: usize,
    /// Attempts before a row is parked.
    pub max_attempts: i32,
    /// The wait after the first failure; doubled after each further one.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// How long a claimed row is ours before another worker may take it.
    pub lease: Duration,
    /// The periodic sweep (retries due, leases run out, missed wake-ups).
    pub sweep_every: Duration,
    pub fault_hook: Option<FaultHook>,
}

impl Default for IntakeOptions {
    fn default() -> Self {
        IntakeOptions {
            concurrency: 64,
            max_attempts: 8,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            lease: Duration::from_secs(60),
            sweep_every: Duration::from_secs(1),
            fault_hook: None,
        }
    }
}

impl IntakeOptions {
    /// The wait after the `attempts`-th failure.
    pub fn backoff(&self, attempts: i32) -> Duration {
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        self.backoff_base
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.backoff_max)
    }
}

/// The node's processing; cheap to clone.
#[derive(Clone)]
pub struct Intake {
    wake: Arc<Notify>,
}

impl Intake {
    /// Starts the dispatcher on the current runtime.
    pub fn start(db: Db, handler: Arc<dyn InboxHandler>, options: IntakeOptions) -> Intake {
        let wake = Arc::new(Notify::new());
        let dispatcher = Arc::new(Dispatcher {
            db,
            handler,
            permits: Arc::new(Semaphore::new(options.concurrency.max(1))),
            options,
            wake: wake.clone(),
            done: std::sync::Mutex::new(Vec::new()),
        });
        tokio::spawn(supervise(dispatcher).instrument(tracing::info_span!("whatsapp_intake")));
        Intake { wake }
    }

    /// Something was stored: look now rather than at the next sweep.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Runs the dispatcher, and runs it again if it ever panics (the rows it
/// had handed out finish on their own tasks; their leases cover the gap).
async fn supervise(dispatcher: Arc<Dispatcher>) {
    loop {
        let run = tokio::spawn(dispatcher.clone().run().in_current_span());
        match run.await {
            Ok(()) => return,
            Err(e) => {
                tracing::error!(error = %e, "WhatsApp intake dispatcher died; restarting it");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Under a backlog, how long the dispatcher waits for a batch of free
/// permits before claiming what it has.
const BATCH_WAIT: Duration = Duration::from_millis(5);

struct Dispatcher {
    db: Db,
    handler: Arc<dyn InboxHandler>,
    options: IntakeOptions,
    permits: Arc<Semaphore>,
    wake: Arc<Notify>,
    /// Rows processed, to be marked done by the next claim.
    done: std::sync::Mutex<Vec<String>>,
}

impl Dispatcher {
    async fn run(self: Arc<Self>) {
        let this = self;
        // Rows were left behind by the last claim (all permits were taken):
        // under such a backlog each claim waits for a batch of free
        // permits (or [`BATCH_WAIT`]) rather than claiming one row per
        // finished task.
        let mut backlog = false;
        let batch = (this.options.concurrency / 8).max(1);
        loop {
            let mut free = this.permits.available_permits();
            if backlog && free > 0 && free < batch {
                let until = tokio::time::Instant::now() + BATCH_WAIT;
                while free < batch {
                    tokio::select! {
                        () = this.wake.notified() => {}
                        () = tokio::time::sleep_until(until) => break,
                    }
                    free = this.permits.available_permits();
                }
                free = this.permits.available_permits();
            }
            let done = this.take_done();
            if free > 0 || !done.is_empty() {
                match inbox::claim(&this.db, free, this.options.lease, &done).await {
                    Ok(rows) => {
                        let full = rows.len() >= free;
                        backlog = full;
                        for row in rows {
                            let Ok(permit) = this.permits.clone().try_acquire_owned() else {
                                break; // cannot happen: only this task takes permits
                            };
                            let task = this.clone();
                            let span = tracing::info_span!(
                                "whatsapp_inbox",
                                wamid = %row.message_id,
                                attempt = row.attempts
                            );
                            tokio::spawn(
                                async move {
                                    task.run_one(row).await;
                                    drop(permit);
                                    task.wake.notify_one();
                                }
                                .instrument(span),
                            );
                        }
                        if full {
                            continue;
                        }
                    }
                    Err(e) => {
                        backlog = false;
                        this.put_back_done(done);
                        tracing::warn!(error = %e, "WhatsApp inbox not read; will retry");
                    }
                }
            }
            tokio::select! {
                () = this.wake.notified() => {}
                () = tokio::time::sleep(this.options.sweep_every) => {}
            }
        }
    }

    fn done_list(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        // A panic while holding the lock leaves a list that is still whole.
        self.done.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take_done(&self) -> Vec<String> {
        std::mem::take(&mut *self.done_list())
    }

    /// Done marks not written (the database is away): tried again with
    /// the next claim.
    fn put_back_done(&self, mut done: Vec<String>) {
        if !done.is_empty() {
            let mut list = self.done_list();
            done.append(&mut list);
            *list = done;
        }
    }

    /// Runs one row to an outcome and records it.
    async fn run_one(&self, row: InboxRow) {
        let event = match decode(row.kind, &row.payload) {
            Ok(e) => e,
            Err(e) => {
                self.finish(&row, Err(format!("unreadable payload: {e}")), true)
                    .await;
                return;
            }
        };
        let handler = self.handler.clone();
        let hook = self.options.fault_hook.clone();
        let attempt = row.attempts;
        let claimed = Claimed {
            tenant_id: row.tenant_id,
            tenant_version: row.tenant_version,
        };
        // Its own task: a panic ends that task only, and comes back here
        // as the JoinHandle's error.
        let mut work = tokio::spawn(
            async move {
                if let Some(hook) = hook {
                    hook(&event, attempt);
                }
                handler.handle(event, claimed).await
            }
            .in_current_span(),
        );
        let mut renew =
            tokio::time::interval((self.options.lease / 3).max(Duration::from_millis(10)));
        renew.tick().await;
        let outcome = loop {
            tokio::select! {
                joined = &mut work => break joined,
                _ = renew.tick() => {
                    if let Err(e) = inbox::renew(&self.db, &row.message_id, self.options.lease).await {
                        tracing::warn!(error = %e, "WhatsApp inbox lease not renewed");
                    }
                }
            }
        };
        let result = match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("{e:#}")),
            Err(joined) if joined.is_panic() => {
                let why = panic_text(joined.into_panic());
                tracing::error!(panic = %why, "WhatsApp processing task panicked");
                Err(format!("panicked: {why}"))
            }
            Err(joined) => Err(format!("processing task ended: {joined}")),
        };
        self.finish(&row, result, false).await;
    }

    /// Records the outcome: a row processed is marked done with the next
    /// claim (the task's end wakes the dispatcher); a failure is written
    /// now, retrying while the database is away (until the lease is nearly
    /// up: then the sweep takes the row back).
    async fn finish(&self, row: &InboxRow, result: Result<(), String>, park_now: bool) {
        if result.is_ok() {
            self.done_list().push(row.message_id.clone());
            return;
        }
        let give_up_at = tokio::time::Instant::now() + self.options.lease / 2;
        let mut pause = Duration::from_millis(100);
        loop {
            let recorded = match &result {
                Ok(()) => return,
                Err(error) => {
                    let park = park_now || row.attempts >= self.options.max_attempts;
                    let retry_in = (!park).then(|| self.options.backoff(row.attempts));
                    if park {
                        tracing::warn!(
                            wamid = %row.message_id,
                            attempts = row.attempts,
                            error = %error,
                            "WhatsApp message parked after repeated failures; see public.whatsapp_inbox"
                        );
                    } else {
                        tracing::warn!(error = %error, retry_in_ms = retry_in.map_or(0, |d| d.as_millis()), "WhatsApp event failed; will retry");
                    }
                    inbox::mark_failed(&self.db, &row.message_id, error, retry_in).await
                }
            };
            match recorded {
                Ok(()) => return,
                Err(e) if tokio::time::Instant::now() + pause < give_up_at => {
                    tracing::warn!(error = %e, "WhatsApp inbox outcome not recorded; retrying");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "WhatsApp inbox outcome not recorded; the sweep will take the row back");
                    return;
                }
            }
        }
    }
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-text panic".to_owned())
}

// ---- the stored form of events ------------------------------------------

/// Why a stored payload could not be read back.
#[derive(Debug, thiserror::Error)]
#[error("inbox payload: {0}")]
pub struct DecodeError(String);

/// `s` without NUL characters (Postgres text and jsonb cannot hold them).
pub fn without_nul(s: &str) -> String {
    s.replace('\0', "")
}

/// A JSON value with NUL characters removed from every string and key.
pub fn sanitize_json(value: Value) -> Value {
    match value {
        Value::String(s) if s.contains('\0') => Value::String(without_nul(&s)),
        Value::Array(items) => Value::Array(items.into_iter().map(sanitize_json).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (without_nul(&k), sanitize_json(v)))
                .collect(),
        ),
        other => other,
    }
}

/// The inbox row of a message: its payload (NULs normalised out).
pub fn encode_message(m: &InboundMessage) -> Value {
    let (kind, a, b) = match &m.kind {
        InboundKind::Text(text) => ("text", text.as_str(), ""),
        InboundKind::Choice { id, title } => ("choice", id.as_str(), title.as_str()),
        InboundKind::Unsupported(t) => ("unsupported", t.as_str(), ""),
    };
    sanitize_json(json!({
        "phone_number_id": m.phone_number_id,
        "from": m.from,
        "profile_name": m.profile_name,
        "id": m.id,
        "timestamp": m.timestamp,
        "kind": kind,
        "a": a,
        "b": b,
    }))
}

/// The inbox row of a delivery status.
pub fn encode_status(st: &StatusEvent) -> Value {
    sanitize_json(json!({
        "phone_number_id": st.phone_number_id,
        "id": st.id,
        "status": st.status,
        "timestamp": st.timestamp,
        "recipient_id": st.recipient_id,
        "error_codes": st.error_codes,
    }))
}

/// The inbox row of an Instagram or Messenger message.
pub fn encode_meta(m: &MetaInbound) -> Value {
    let (kind, a, b) = match &m.kind {
        MetaInboundKind::Text(text) => ("text", text.as_str(), ""),
        MetaInboundKind::Choice { payload, title } => ("choice", payload.as_str(), title.as_str()),
        MetaInboundKind::Unsupported(t) => ("unsupported", t.as_str(), ""),
    };
    sanitize_json(json!({
        "channel": m.channel.as_str(),
        "account_id": m.account_id,
        "sender_id": m.sender_id,
        "mid": m.mid,
        "timestamp_ms": m.timestamp_ms,
        "kind": kind,
        "a": a,
        "b": b,
    }))
}

/// Reads a stored event back.
pub fn decode(kind: InboxKind, payload: &Value) -> Result<InboxEvent, DecodeError> {
    let text = |key: &str| -> Result<String, DecodeError> {
        payload[key]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| DecodeError(format!("{key} missing")))
    };
    match kind {
        InboxKind::Message => {
            let (a, b) = (text("a")?, text("b")?);
            let kind = match text("kind")?.as_str() {
                "text" => InboundKind::Text(a),
                "choice" => InboundKind::Choice { id: a, title: b },
                "unsupported" => InboundKind::Unsupported(a),
                other => return Err(DecodeError(format!("message kind {other:?}"))),
            };
            Ok(InboxEvent::Message(InboundMessage {
                phone_number_id: text("phone_number_id")?,
                from: text("from")?,
                profile_name: payload["profile_name"].as_str().map(str::to_owned),
                id: text("id")?,
                timestamp: payload["timestamp"].as_i64().unwrap_or(0),
                kind,
            }))
        }
        InboxKind::MetaMessage => {
            let (a, b) = (text("a")?, text("b")?);
            let kind = match text("kind")?.as_str() {
                "text" => MetaInboundKind::Text(a),
                "choice" => MetaInboundKind::Choice {
                    payload: a,
                    title: b,
                },
                "unsupported" => MetaInboundKind::Unsupported(a),
                other => return Err(DecodeError(format!("message kind {other:?}"))),
            };
            let channel = match text("channel")?.as_str() {
                "instagram" => MetaChannel::Instagram,
                "messenger" => MetaChannel::Messenger,
                other => return Err(DecodeError(format!("channel {other:?}"))),
            };
            Ok(InboxEvent::Meta(MetaInbound {
                channel,
                account_id: text("account_id")?,
                sender_id: text("sender_id")?,
                mid: text("mid")?,
                timestamp_ms: payload["timestamp_ms"].as_i64().unwrap_or(0),
                kind,
            }))
        }
        InboxKind::Status => Ok(InboxEvent::Status(StatusEvent {
            phone_number_id: text("phone_number_id")?,
            id: text("id")?,
            status: text("status")?,
            timestamp: payload["timestamp"].as_i64().unwrap_or(0),
            recipient_id: text("recipient_id")?,
            error_codes: payload["error_codes"]
                .as_array()
                .map(|codes| codes.iter().filter_map(Value::as_i64).collect())
                .unwrap_or_default(),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: InboundKind) -> InboundMessage {
        InboundMessage {
            phone_number_id: "109876543210001".into(),
            from: "254712345678".into(),
            profile_name: Some("Wanjiku".into()),
            id: "wamid.1".into(),
            timestamp: 1_749_416_383,
            kind,
        }
    }

    #[test]
    fn messages_and_statuses_read_back_as_stored() {
        for kind in [
            InboundKind::Text("Habari".into()),
            InboundKind::Choice {
                id: "svc:1".into(),
                title: "Braids".into(),
            },
            InboundKind::Unsupported("image".into()),
        ] {
            let m = message(kind);
            let back = decode(InboxKind::Message, &encode_message(&m)).unwrap();
            assert_eq!(back, InboxEvent::Message(m));
        }
        let st = StatusEvent {
            phone_number_id: "1".into(),
            id: "wamid.out".into(),
            status: "read".into(),
            timestamp: 5,
            recipient_id: "254712345678".into(),
            error_codes: vec![131047],
        };
        let back = decode(InboxKind::Status, &encode_status(&st)).unwrap();
        assert_eq!(back, InboxEvent::Status(st));
        for (channel, kind) in [
            (
                MetaChannel::Instagram,
                MetaInboundKind::Text("Habari".into()),
            ),
            (
                MetaChannel::Messenger,
                MetaInboundKind::Choice {
                    payload: "yes".into(),
                    title: "Yes".into(),
                },
            ),
            (
                MetaChannel::Instagram,
                MetaInboundKind::Unsupported("image".into()),
            ),
        ] {
            let m = MetaInbound {
                channel,
                account_id: "17841400000000001".into(),
                sender_id: "6100000000000001".into(),
                mid: "aWdfZAG1".into(),
                timestamp_ms: 1_733_500_000_100,
                kind,
            };
            let back = decode(InboxKind::MetaMessage, &encode_meta(&m)).unwrap();
            assert_eq!(back, InboxEvent::Meta(m));
        }
    }

    #[test]
    fn nul_characters_are_normalised_out_of_text_and_keys() {
        let m = message(InboundKind::Text("Hel\0lo\0".into()));
        let InboxEvent::Message(back) = decode(InboxKind::Message, &encode_message(&m)).unwrap()
        else {
            panic!("a message");
        };
        assert_eq!(back.text(), "Hello");
        let raw = json!({"a\u{0}b": ["x\u{0}", {"k": "\u{0}"}], "n": 1});
        assert_eq!(sanitize_json(raw), json!({"ab": ["x", {"k": ""}], "n": 1}));
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let o = IntakeOptions::default();
        assert_eq!(o.backoff(1), Duration::from_secs(1));
        assert_eq!(o.backoff(2), Duration::from_secs(2));
        assert_eq!(o.backoff(4), Duration::from_secs(8));
        assert_eq!(o.backoff(40), Duration::from_secs(300));
    }
}
