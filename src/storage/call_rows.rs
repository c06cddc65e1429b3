//! What a call writes through the background writer (`runtime::writer`):
//! the caller's identity, the call's thread, its interactions rows and the
//! playback facts merged into them. Every statement is idempotent (fixed
//! ids, ON CONFLICT, "only if still open"), so a batch retried after an
//! unclear failure writes each row once.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{StorageError, TenantTx};
use crate::core::ids::ThreadId;

/// A caller reached us: upserts customers, customer_identities (provider
/// `voice`) and contacts for this number.
pub async fn record_caller(
    tx: &mut TenantTx,
    phone_e164: &str,
    at: DateTime<Utc>,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO customers (customer_id, phone_e164, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (phone_e164) WHERE phone_e164 IS NOT NULL DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(phone_e164)
    .bind(at)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO customer_identities (customer_id, provider, external_id, created_at) \
         SELECT customer_id, 'voice', $1, $2 FROM customers WHERE phone_e164 = $1 \
         ON CONFLICT DO NOTHING",
    )
    .bind(phone_e164)
    .bind(at)
    .execute(tx.conn())
    .await?;
    if phone_e164.len() <= 20 {
        sqlx::query(
            "INSERT INTO contacts (id, phone_number, created_at, updated_at) \
             VALUES ($1, $2, $3, $3) ON CONFLICT (phone_number) DO NOTHING",
        )
        .bind(Uuid::now_v7())
        .bind(phone_e164)
        .bind(at)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// The call's conversation_threads row (channel_started voice, actor_type
/// customer).
pub async fn open_call_thread(
    tx: &mut TenantTx,
    thread: &ThreadId,
    customer_phone: &str,
    at: DateTime<Utc>,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO conversation_threads \
         (customer_phone, thread_id, created_at, channel_started, actor_type) \
         VALUES ($1, $2, $3, 'voice', 'customer') ON CONFLICT DO NOTHING",
    )
    .bind(customer_phone)
    .bind(thread.as_str())
    .bind(at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The call ended: closes its thread (if still open) with `reason`.
pub async fn close_call_thread(
    tx: &mut TenantTx,
    thread: &ThreadId,
    customer_phone: &str,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE conversation_threads SET closed_at = $3, closed_reason = $4 \
         WHERE customer_phone = $1 AND thread_id = $2 AND closed_at IS NULL",
    )
    .bind(customer_phone)
    .bind(thread.as_str())
    .bind(at)
    .bind(reason)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Merges what the caller heard into reply rows another writer (the
/// dialog) recorded.
pub async fn merge_playback(
    tx: &mut TenantTx,
    ids: &[Uuid],
    duration_ms: Option<i32>,
    metadata: &serde_json::Value,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE interactions SET metadata = COALESCE(metadata, '{}'::jsonb) || $2, \
         duration_ms = COALESCE($3, duration_ms) WHERE id = ANY($1)",
    )
    .bind(ids)
    .bind(metadata)
    .bind(duration_ms)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// One voice interactions row (a caller turn or a bot utterance).
#[derive(Debug, Clone, Copy)]
pub struct CallInteraction<'a> {
    pub id: Uuid,
    pub customer_phone: &'a str,
    /// `inbound` or `outbound`.
    pub direction: &'a str,
    pub content: &'a str,
    pub language: Option<&'a str>,
    pub intent: Option<&'a str>,
    pub duration_ms: Option<i32>,
    pub metadata: &'a serde_json::Value,
    pub at: DateTime<Utc>,
}

/// Inserts the row once (by its id). A caller turn carrying the turn's
/// key (`metadata.wamid`) is not inserted when the dialog already recorded
/// that turn: a turn kept (or answered without the database) after a try
/// whose commit did land is still recorded once.
pub async fn insert_call_interaction(
    tx: &mut TenantTx,
    row: &CallInteraction<'_>,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO interactions \
         (id, contact_id, channel, direction, message_type, content, intent, language, \
          duration_ms, metadata, created_at) \
         SELECT $1, (SELECT id FROM contacts WHERE phone_number = $2), 'voice', $3, 'speech', \
                $4, $5, $6, $7, $8, $9 \
         WHERE NOT EXISTS (SELECT 1 FROM interactions WHERE $3 = 'inbound' \
           AND direction = 'inbound' AND metadata->>'wamid' = $8::jsonb->>'wamid') \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(row.id)
    .bind(row.customer_phone)
    .bind(row.direction)
    .bind(row.content)
    .bind(row.intent)
    .bind(row.language)
    .bind(row.duration_ms)
    .bind(row.metadata)
    .bind(row.at)
    .execute(tx.conn())
    .await?;
    Ok(())
}
