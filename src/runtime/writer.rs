//! The background writer: calls hand it rows (threads, interactions, caller
//! identities) and never wait for the database. It batches what is queued,
//! writes each batch in one transaction per tenant, retries on database
//! errors with backoff (rows are idempotent, so a retry after an unclear
//! failure is safe), and drains the queue on shutdown.
//!
//! The queue is bounded so a long database outage cannot eat the process's
//! memory; a row is refused (and counted) only when it is full, which at the
//! default size means hours of calls without a database.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::core::ids::{TenantSlug, ThreadId};
use crate::runtime::metrics::Metrics;
use crate::runtime::shutdown::Shutdown;
use crate::storage::StorageError;
use crate::storage::call_rows as store;
use crate::storage::conversation as conv;

/// Rows queued before new ones are refused.
pub const DEFAULT_QUEUE: usize = 100_000;
/// Rows written per batch at most.
const MAX_BATCH: usize = 500;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Inbound (caller) or outbound (bot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// One row for a tenant's schema.
#[derive(Debug, Clone, PartialEq)]
pub enum CallRow {
    /// A caller reached us: upsert customers / customer_identities (provider
    /// voice) / contacts for this number.
    Caller {
        tenant: TenantSlug,
        phone_e164: String,
        at: DateTime<Utc>,
    },
    /// conversation_threads row for the call (channel_started voice,
    /// actor_type customer).
    ThreadOpened {
        tenant: TenantSlug,
        thread: ThreadId,
        customer_phone: String,
        at: DateTime<Utc>,
    },
    /// The call ended: closed_at / closed_reason.
    ThreadClosed {
        tenant: TenantSlug,
        thread: ThreadId,
        customer_phone: String,
        reason: &'static str,
        at: DateTime<Utc>,
    },
    /// What the caller heard of reply rows another writer (the dialog)
    /// recorded: merged into their metadata.
    PlaybackHeard {
        tenant: TenantSlug,
        ids: Vec<Uuid>,
        duration_ms: Option<i32>,
        metadata: serde_json::Value,
    },
    /// A checkpoint of the dialog made while the database was away (a turn
    /// answered from memory), under the id it was given then.
    Checkpoint {
        tenant: TenantSlug,
        thread: ThreadId,
        id: String,
        body: serde_json::Value,
        metadata: serde_json::Value,
    },
    /// How a call's hand-off went, on the thread's handoff_started line
    /// (`message_metadata.call`): a refused transfer became a promise.
    HandoffRoute {
        tenant: TenantSlug,
        thread: ThreadId,
        call: serde_json::Value,
    },
    /// interactions row for a caller turn or a bot utterance.
    Interaction {
        tenant: TenantSlug,
        id: Uuid,
        customer_phone: String,
        direction: Direction,
        content: String,
        language: Option<String>,
        intent: Option<String>,
        duration_ms: Option<i32>,
        metadata: serde_json::Value,
        at: DateTime<Utc>,
    },
}

impl CallRow {
    pub fn tenant(&self) -> &TenantSlug {
        match self {
            CallRow::PlaybackHeard { tenant, .. }
            | CallRow::Caller { tenant, .. }
            | CallRow::ThreadOpened { tenant, .. }
            | CallRow::ThreadClosed { tenant, .. }
            | CallRow::Checkpoint { tenant, .. }
            | CallRow::HandoffRoute { tenant, .. }
            | CallRow::Interaction { tenant, .. } => tenant,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("database write failed: {0}")]
pub struct SinkError(pub String);

/// Where batches go (Postgres in the server, memory in tests).
pub trait RowSink: Send + Sync + 'static {
    /// Writes rows of one tenant atomically.
    fn write<'a>(
        &'a self,
        tenant: &'a TenantSlug,
        rows: &'a [CallRow],
    ) -> BoxFuture<'a, Result<(), SinkError>>;
}

/// The cheap, cloneable sending side.
#[derive(Debug, Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<CallRow>,
    metrics: Arc<Metrics>,
}

impl WriterHandle {
    /// Queues a row without waiting. Returns false if the queue was full.
    pub fn send(&self, row: CallRow) -> bool {
        match self.tx.try_send(row) {
            Ok(()) => {
                self.metrics
                    .writer_queue_depth
                    .fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(_) => {
                self.metrics
                    .writer_rows_dropped
                    .fetch_add(1, Ordering::Relaxed);
                tracing::error!("writer queue full or closed; row dropped");
                false
            }
        }
    }
}

/// Starts the writer task. It ends (after draining every queued row, or
/// giving up at `drain_deadline` after shutdown) once all handles are
/// dropped or `shutdown` fires.
pub fn spawn<S: RowSink>(
    sink: Arc<S>,
    metrics: Arc<Metrics>,
    capacity: usize,
    shutdown: Shutdown,
    drain_deadline: Duration,
) -> (WriterHandle, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<CallRow>(capacity.max(1));
    let handle = WriterHandle {
        tx,
        metrics: Arc::clone(&metrics),
    };
    let task = tokio::spawn(async move {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        let mut deadline: Option<tokio::time::Instant> = None;
        loop {
            batch.clear();
            tokio::select! {
                biased;
                n = rx.recv_many(&mut batch, MAX_BATCH) => {
                    if n == 0 {
                        return; // every handle dropped and queue empty
                    }
                }
                _ = shutdown.wait(), if deadline.is_none() => {
                    deadline = Some(tokio::time::Instant::now() + drain_deadline);
                    rx.close(); // refuse new rows; drain what is queued
                    continue;
                }
            }
            metrics
                .writer_queue_depth
                .fetch_sub(batch.len() as i64, Ordering::Relaxed);
            write_with_retry(
                sink.as_ref(),
                &batch,
                &metrics,
                &shutdown,
                drain_deadline,
                &mut deadline,
            )
            .await;
            if deadline.is_some() {
                rx.close(); // shutting down: drain what is queued, take no more
            }
        }
    });
    (handle, task)
}

/// Writes one batch, grouped by tenant, retrying each group until it lands
/// or, once shutdown has begun, the drain deadline passes.
async fn write_with_retry<S: RowSink>(
    sink: &S,
    batch: &[CallRow],
    metrics: &Metrics,
    shutdown: &Shutdown,
    drain_deadline: Duration,
    deadline: &mut Option<tokio::time::Instant>,
) {
    let mut tenants: Vec<&TenantSlug> = batch.iter().map(CallRow::tenant).collect();
    tenants.sort();
    tenants.dedup();
    for tenant in tenants {
        let rows: Vec<CallRow> = batch
            .iter()
            .filter(|r| r.tenant() == tenant)
            .cloned()
            .collect();
        let mut backoff = FIRST_BACKOFF;
        loop {
            match sink.write(tenant, &rows).await {
                Ok(()) => {
                    metrics
                        .writer_rows_written
                        .fetch_add(rows.len() as u64, Ordering::Relaxed);
                    break;
                }
                Err(e) => {
                    metrics.writer_retries.fetch_add(1, Ordering::Relaxed);
                    if deadline.is_none() && shutdown.is_triggered() {
                        *deadline = Some(tokio::time::Instant::now() + drain_deadline);
                    }
                    if deadline.is_some_and(|d| tokio::time::Instant::now() + backoff > d) {
                        tracing::error!(tenant = %tenant, rows = rows.len(), error = %e, "writer gave up at shutdown; rows lost");
                        break;
                    }
                    tracing::warn!(tenant = %tenant, rows = rows.len(), error = %e, retry_in_ms = backoff.as_millis() as u64, "database write failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
}

/// Rows into the tenant's own schema, one transaction per batch. Every
/// statement is idempotent (fixed ids, ON CONFLICT), so a batch retried
/// after an unclear failure writes each row once.
#[derive(Debug, Clone)]
pub struct DbSink {
    db: crate::storage::Db,
}

impl DbSink {
    pub fn new(db: crate::storage::Db) -> Self {
        Self { db }
    }

    async fn write_rows(&self, tenant: &TenantSlug, rows: &[CallRow]) -> Result<(), SinkError> {
        let err = |e: StorageError| SinkError(e.to_string());
        let mut tx = self.db.tenant(tenant).begin().await.map_err(err)?;
        for row in rows {
            match row {
                CallRow::Caller { phone_e164, at, .. } => {
                    store::record_caller(&mut tx, phone_e164, *at).await
                }
                CallRow::ThreadOpened {
                    thread,
                    customer_phone,
                    at,
                    ..
                } => store::open_call_thread(&mut tx, thread, customer_phone, *at).await,
                CallRow::ThreadClosed {
                    thread,
                    customer_phone,
                    reason,
                    at,
                    ..
                } => store::close_call_thread(&mut tx, thread, customer_phone, reason, *at).await,
                CallRow::PlaybackHeard {
                    ids,
                    duration_ms,
                    metadata,
                    ..
                } => store::merge_playback(&mut tx, ids, *duration_ms, metadata).await,
                CallRow::Checkpoint {
                    thread,
                    id,
                    body,
                    metadata,
                    ..
                } => conv::insert_checkpoint(&mut tx, thread, id, body, metadata).await,
                CallRow::HandoffRoute { thread, call, .. } => {
                    crate::storage::handoff::set_call_route(&mut tx, thread, call).await
                }
                CallRow::Interaction {
                    id,
                    customer_phone,
                    direction,
                    content,
                    language,
                    intent,
                    duration_ms,
                    metadata,
                    at,
                    ..
                } => {
                    store::insert_call_interaction(
                        &mut tx,
                        &store::CallInteraction {
                            id: *id,
                            customer_phone,
                            direction: direction.as_str(),
                            content,
                            language: language.as_deref(),
                            intent: intent.as_deref(),
                            duration_ms: *duration_ms,
                            metadata,
                            at: *at,
                        },
                    )
                    .await
                }
            }
            .map_err(err)?;
        }
        tx.commit().await.map_err(err)
    }
}

impl RowSink for DbSink {
    fn write<'a>(
        &'a self,
        tenant: &'a TenantSlug,
        rows: &'a [CallRow],
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(self.write_rows(tenant, rows))
    }
}

/// Rows kept in memory (tests and benches); can be told to fail.
#[derive(Debug, Default)]
pub struct MemorySink {
    pub rows: std::sync::Mutex<Vec<CallRow>>,
    /// Fail this many writes before succeeding.
    pub fail_next: std::sync::atomic::AtomicUsize,
}

impl RowSink for MemorySink {
    fn write<'a>(
        &'a self,
        _tenant: &'a TenantSlug,
        rows: &'a [CallRow],
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            let failing = self
                .fail_next
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if failing {
                return Err(SinkError("injected failure".into()));
            }
            self.rows
                .lock()
                .map_err(|_| SinkError("poisoned".into()))?
                .extend_from_slice(rows);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(tenant: &str, n: usize) -> CallRow {
        CallRow::Interaction {
            tenant: TenantSlug::parse(tenant).unwrap(),
            id: Uuid::now_v7(),
            customer_phone: "+254700000000".into(),
            direction: Direction::Inbound,
            content: format!("turn {n}"),
            language: None,
            intent: None,
            duration_ms: None,
            metadata: serde_json::Value::Null,
            at: Utc::now(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retries_until_the_database_is_back_and_loses_nothing() {
        let sink = Arc::new(MemorySink::default());
        sink.fail_next.store(3, Ordering::SeqCst);
        let metrics = Arc::new(Metrics::default());
        let shutdown = Shutdown::new();
        let trigger = shutdown.clone();
        let (handle, task) = spawn(
            Arc::clone(&sink),
            Arc::clone(&metrics),
            100,
            shutdown,
            Duration::from_secs(30),
        );
        for i in 0..10 {
            assert!(handle.send(row(if i % 2 == 0 { "a" } else { "b" }, i)));
        }
        trigger.trigger();
        drop(handle);
        task.await.unwrap();
        assert_eq!(sink.rows.lock().unwrap().len(), 10);
        assert_eq!(metrics.writer_retries.load(Ordering::Relaxed), 3);
        assert_eq!(metrics.writer_queue_depth.load(Ordering::Relaxed), 0);
        assert_eq!(metrics.writer_rows_written.load(Ordering::Relaxed), 10);
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_queue_refuses_rows_instead_of_blocking() {
        let sink = Arc::new(MemorySink::default());
        sink.fail_next.store(usize::MAX, Ordering::SeqCst);
        let metrics = Arc::new(Metrics::default());
        let shutdown = Shutdown::new();
        let (handle, _task) = spawn(sink, Arc::clone(&metrics), 4, shutdown, Duration::ZERO);
        let accepted = (0..20).filter(|i| handle.send(row("a", *i))).count();
        assert!(accepted < 20);
        assert_eq!(
            metrics.writer_rows_dropped.load(Ordering::Relaxed),
            (20 - accepted) as u64
        );
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_gives_up_after_the_deadline() {
        let sink = Arc::new(MemorySink::default());
        sink.fail_next.store(usize::MAX, Ordering::SeqCst);
        let metrics = Arc::new(Metrics::default());
        let shutdown = Shutdown::new();
        let trigger = shutdown.clone();
        let (handle, task) = spawn(
            sink,
            Arc::clone(&metrics),
            10,
            shutdown,
            Duration::from_secs(2),
        );
        handle.send(row("a", 0));
        tokio::task::yield_now().await;
        trigger.trigger();
        tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("writer ends")
            .unwrap();
        assert!(metrics.writer_retries.load(Ordering::Relaxed) >= 1);
    }
}
