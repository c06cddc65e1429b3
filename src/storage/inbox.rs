//! The chat inbox (`public.whatsapp_inbox`: WhatsApp, Instagram and
//! Messenger messages) and the review queue of unknown numbers and
//! accounts (`public.inbound_quarantine`).
//!
//! The webhook stores every event with [`store`] in one transaction before
//! it answers; workers take rows with [`claim`], which hands out at most one
//! open row per customer lane (the oldest), so a customer's events are
//! processed one at a time and in order, on this node or any other. A
//! claimed row is leased (`locked_until`): a worker that dies leaves a row
//! whose lease runs out, and the next [`claim`] takes it again.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::Row;

use super::{Db, StorageError};
use crate::core::ids::TenantId;

/// One event to store.
#[derive(Debug, Clone)]
pub struct NewInboxRow {
    pub message_id: String,
    pub kind: InboxKind,
    pub tenant_id: TenantId,
    pub customer_key: String,
    pub payload: Value,
}

/// What a row holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxKind {
    /// A WhatsApp message.
    Message,
    /// A WhatsApp delivery status.
    Status,
    /// An Instagram or Messenger message.
    MetaMessage,
}

impl InboxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InboxKind::Message => "message",
            InboxKind::Status => "status",
            InboxKind::MetaMessage => "meta_message",
        }
    }

    fn parse(s: &str) -> Result<Self, StorageError> {
        match s {
            "message" => Ok(InboxKind::Message),
            "status" => Ok(InboxKind::Status),
            "meta_message" => Ok(InboxKind::MetaMessage),
            other => Err(StorageError::Corrupt(format!("inbox kind {other:?}"))),
        }
    }
}

/// A message for a number (or Instagram account, or page) no tenant has:
/// kept for review, answered nowhere.
#[derive(Debug, Clone)]
pub struct QuarantineRow {
    /// whatsapp | instagram | messenger
    pub channel: &'static str,
    pub message_id: String,
    pub to_phone_number_id: String,
    pub from_phone: String,
    pub raw_payload: Value,
}

/// A claimed row.
#[derive(Debug, Clone)]
pub struct InboxRow {
    pub message_id: String,
    pub kind: InboxKind,
    pub tenant_id: TenantId,
    pub customer_key: String,
    pub payload: Value,
    pub received_at: DateTime<Utc>,
    /// Including this one.
    pub attempts: i32,
    /// The tenant's registry version when the row was claimed
    /// (`public.tenants.registry_version`): a record read at an older one
    /// is out of date.
    /// `None`: the tenant's row is gone.
    pub tenant_version: Option<i64>,
}

/// What [`store`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Rows new to the inbox (the rest were redeliveries).
    pub inboxed: usize,
    pub quarantined: usize,
}

/// Stores a webhook's events atomically: the inbox rows and the
/// quarantined messages (one statement when there is nothing to
/// quarantine, else one transaction). A message id already stored is left
/// as it is.
pub async fn store(
    db: &Db,
    rows: &[NewInboxRow],
    quarantine: &[QuarantineRow],
) -> Result<Stored, StorageError> {
    if quarantine.is_empty() {
        let mut conn = db.pool().acquire().await?;
        return Ok(Stored {
            inboxed: insert_rows(&mut conn, rows).await?,
            quarantined: 0,
        });
    }
    let mut tx = db.pool().begin().await?;
    let mut stored = Stored {
        inboxed: insert_rows(&mut tx, rows).await?,
        quarantined: 0,
    };
    for q in quarantine {
        let done = sqlx::query(
            "INSERT INTO public.inbound_quarantine \
               (to_phone_number_id, from_phone, raw_payload, provider_message_id, channel) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (provider_message_id) WHERE provider_message_id IS NOT NULL DO NOTHING",
        )
        .bind(&q.to_phone_number_id)
        .bind(&q.from_phone)
        .bind(&q.raw_payload)
        .bind(&q.message_id)
        .bind(q.channel)
        .execute(&mut *tx)
        .await?;
        stored.quarantined += usize::try_from(done.rows_affected()).unwrap_or(0);
    }
    tx.commit().await?;
    Ok(stored)
}

/// Inserts the inbox rows in one statement (in the order given, so their
/// `seq` keeps each customer's order); how many were new.
async fn insert_rows(
    conn: &mut sqlx::PgConnection,
    rows: &[NewInboxRow],
) -> Result<usize, StorageError> {
    if rows.is_empty() {
        return Ok(0);
    }
    let message_ids: Vec<&str> = rows.iter().map(|r| r.message_id.as_str()).collect();
    let kinds: Vec<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
    let tenants: Vec<uuid::Uuid> = rows.iter().map(|r| r.tenant_id.0).collect();
    let keys: Vec<&str> = rows.iter().map(|r| r.customer_key.as_str()).collect();
    let payloads: Vec<&Value> = rows.iter().map(|r| &r.payload).collect();
    let done = sqlx::query(
        "INSERT INTO public.whatsapp_inbox (message_id, kind, tenant_id, customer_key, payload) \
         SELECT r.message_id, r.kind, r.tenant_id, r.customer_key, r.payload \
         FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[], $5::jsonb[]) \
              WITH ORDINALITY AS r(message_id, kind, tenant_id, customer_key, payload, n) \
         ORDER BY r.n \
         ON CONFLICT (message_id) DO NOTHING",
    )
    .bind(&message_ids)
    .bind(&kinds)
    .bind(&tenants)
    .bind(&keys)
    .bind(&payloads)
    .execute(conn)
    .await?;
    Ok(usize::try_from(done.rows_affected()).unwrap_or(0))
}

/// Marks the rows `done` processed and claims up to `limit` rows that are
/// due, in one statement (one round trip, one commit for a batch of
/// outcomes and claims): for each customer lane with open rows, its
/// oldest, if it is pending and due or processing with a lapsed lease (a
/// row being marked done does not hold its lane, so the customer's next
/// message can be claimed by the same statement). Each claimed row is
/// `processing`, leased for `lease`, and its attempt counted (so a row
/// that kills its worker is parked in the end too).
pub async fn claim(
    db: &Db,
    limit: usize,
    lease: Duration,
    done: &[String],
) -> Result<Vec<InboxRow>, StorageError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
    let rows = sqlx::query(
        "WITH done AS ( \
           UPDATE public.whatsapp_inbox \
           SET status = 'done', done_at = clock_timestamp(), locked_until = NULL \
           WHERE message_id = ANY($3::text[]) \
           RETURNING message_id) \
         UPDATE public.whatsapp_inbox i \
         SET status = 'processing', attempts = i.attempts + 1, \
             locked_until = clock_timestamp() + make_interval(secs => $2::double precision / 1000) \
         WHERE $1 > 0 AND i.message_id IN ( \
           SELECT h.message_id FROM public.whatsapp_inbox h \
           WHERE h.status IN ('pending', 'processing') \
             AND NOT (h.message_id = ANY($3::text[])) \
             AND ((h.status = 'pending' AND h.next_attempt_at <= clock_timestamp()) \
               OR (h.status = 'processing' AND h.locked_until < clock_timestamp())) \
             AND NOT EXISTS (SELECT 1 FROM public.whatsapp_inbox e \
                 WHERE e.customer_key = h.customer_key AND e.seq < h.seq \
                   AND e.status IN ('pending', 'processing') \
                   AND NOT (e.message_id = ANY($3::text[]))) \
           ORDER BY h.seq LIMIT $1 \
           FOR UPDATE SKIP LOCKED) \
         RETURNING i.message_id, i.kind, i.tenant_id, i.customer_key, i.payload, \
                   i.received_at, i.attempts, i.seq, \
                   (SELECT t.registry_version FROM public.tenants t WHERE t.id = i.tenant_id) \
                     AS tenant_version",
    )
    .bind(limit)
    .bind(lease_ms)
    .bind(done)
    .fetch_all(db.pool())
    .await?;
    let mut claimed = rows
        .iter()
        .map(|r| {
            Ok((
                r.try_get::<i64, _>("seq")?,
                InboxRow {
                    message_id: r.try_get("message_id")?,
                    kind: InboxKind::parse(r.try_get::<&str, _>("kind")?)?,
                    tenant_id: TenantId(r.try_get("tenant_id")?),
                    customer_key: r.try_get("customer_key")?,
                    payload: r.try_get("payload")?,
                    received_at: r.try_get("received_at")?,
                    attempts: r.try_get("attempts")?,
                    tenant_version: r.try_get("tenant_version")?,
                },
            ))
        })
        .collect::<Result<Vec<_>, StorageError>>()?;
    claimed.sort_by_key(|(seq, _)| *seq);
    Ok(claimed.into_iter().map(|(_, row)| row).collect())
}

/// Extends the lease of a row still being worked on.
pub async fn renew(db: &Db, message_id: &str, lease: Duration) -> Result<(), StorageError> {
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
    sqlx::query(
        "UPDATE public.whatsapp_inbox \
         SET locked_until = clock_timestamp() + make_interval(secs => $2::double precision / 1000) \
         WHERE message_id = $1 AND status = 'processing'",
    )
    .bind(message_id)
    .bind(lease_ms)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Records a failed attempt: the row is tried again after `retry_in`, or,
/// with `None`, parked for an operator.
pub async fn mark_failed(
    db: &Db,
    message_id: &str,
    error: &str,
    retry_in: Option<Duration>,
) -> Result<(), StorageError> {
    let error: String = error.replace('\0', "").chars().take(2000).collect();
    let retry_ms = retry_in.map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    sqlx::query(
        "UPDATE public.whatsapp_inbox \
         SET status = CASE WHEN $3::bigint IS NULL THEN 'parked' ELSE 'pending' END, \
             next_attempt_at = clock_timestamp() \
               + make_interval(secs => COALESCE($3::bigint, 0)::double precision / 1000), \
             locked_until = NULL, last_error = $2 \
         WHERE message_id = $1",
    )
    .bind(message_id)
    .bind(error)
    .bind(retry_ms)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Counts of the inbox's rows by status, for operators and tests.
pub async fn status_counts(db: &Db) -> Result<Vec<(String, i64)>, StorageError> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, count(*) FROM public.whatsapp_inbox GROUP BY status ORDER BY status",
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows)
}

/// Puts parked rows back in their lanes (an operator fixed the cause):
/// pending, due now, attempts reset. Returns how many.
pub async fn requeue_parked(db: &Db) -> Result<u64, StorageError> {
    let done = sqlx::query(
        "UPDATE public.whatsapp_inbox \
         SET status = 'pending', attempts = 0, next_attempt_at = clock_timestamp() \
         WHERE status = 'parked'",
    )
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected())
}
