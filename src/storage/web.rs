//! Web chat sessions (the widget's Tier-2 sessions) in one tenant's
//! schema: customer_sessions rows. A session starts phoneless and
//! unverified (`customer_id` NULL, `unverified` TRUE); when the customer
//! gives their number [`super::conversation::promote_identity`] back-fills
//! `customer_id` and stamps `promoted_at`.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{StorageError, TenantTx};
use crate::core::ids::{ChannelIdentity, PhoneNumber, ThreadId, WebSessionId};
use crate::core::phone_check::StoredCode;

/// How long a "continue on WhatsApp" token is good for.
pub const HANDOFF_TOKEN_HOURS: i64 = 24;

/// A web session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    pub customer_id: Option<Uuid>,
    pub unverified: bool,
    pub promoted_at: Option<DateTime<Utc>>,
}

/// The session's row, made on its first message (unverified, phoneless).
pub async fn ensure_session(tx: &mut TenantTx, id: &WebSessionId) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO customer_sessions (id, unverified) VALUES ($1, TRUE) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id.as_uuid())
    .execute(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    Ok(())
}

/// The session's row, if it has one.
pub async fn session(
    tx: &mut TenantTx,
    id: &WebSessionId,
) -> Result<Option<WebSession>, StorageError> {
    let row: Option<(Option<Uuid>, bool, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT customer_id, unverified, promoted_at FROM customer_sessions WHERE id = $1",
    )
    .bind(id.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    Ok(
        row.map(|(customer_id, unverified, promoted_at)| WebSession {
            customer_id,
            unverified,
            promoted_at,
        }),
    )
}

/// The session's current SMS code, locked for this transaction.
pub async fn phone_code(
    tx: &mut TenantTx,
    id: &WebSessionId,
) -> Result<Option<StoredCode>, StorageError> {
    type Row = (
        String,
        String,
        i32,
        DateTime<Utc>,
        DateTime<Utc>,
        i32,
        DateTime<Utc>,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT phone_e164, code_hash, attempts, expires_at, sent_at, sends, window_started_at \
         FROM web_phone_codes WHERE session_id = $1 FOR UPDATE",
    )
    .bind(id.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    row.map(
        |(phone, code_hash, attempts, expires_at, sent_at, sends, window_started_at)| {
            Ok(StoredCode {
                phone: PhoneNumber::parse(&phone).map_err(|e| {
                    StorageError::Corrupt(format!("web_phone_codes.phone_e164: {e}"))
                })?,
                code_hash,
                attempts,
                expires_at,
                sent_at,
                sends,
                window_started_at,
            })
        },
    )
    .transpose()
}

/// Stores the session's new code (replacing any earlier one).
pub async fn store_phone_code(
    tx: &mut TenantTx,
    id: &WebSessionId,
    code: &StoredCode,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO web_phone_codes \
           (session_id, phone_e164, code_hash, attempts, expires_at, sent_at, sends, window_started_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (session_id) DO UPDATE SET phone_e164 = EXCLUDED.phone_e164, \
           code_hash = EXCLUDED.code_hash, attempts = EXCLUDED.attempts, \
           expires_at = EXCLUDED.expires_at, sent_at = EXCLUDED.sent_at, \
           sends = EXCLUDED.sends, window_started_at = EXCLUDED.window_started_at",
    )
    .bind(id.as_uuid())
    .bind(code.phone.expose())
    .bind(&code.code_hash)
    .bind(code.attempts)
    .bind(code.expires_at)
    .bind(code.sent_at)
    .bind(code.sends)
    .bind(code.window_started_at)
    .execute(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    Ok(())
}

/// Records the wrong tries of the session's code.
pub async fn set_code_attempts(
    tx: &mut TenantTx,
    id: &WebSessionId,
    attempts: i32,
) -> Result<(), StorageError> {
    sqlx::query("UPDATE web_phone_codes SET attempts = $2 WHERE session_id = $1")
        .bind(id.as_uuid())
        .bind(attempts)
        .execute(tx.conn())
        .await
        .map_err(StorageError::classify)?;
    Ok(())
}

/// The code was right: it is spent and the session is verified (its
/// promotion is [`super::conversation::promote_identity`]).
pub async fn mark_verified(tx: &mut TenantTx, id: &WebSessionId) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM web_phone_codes WHERE session_id = $1")
        .bind(id.as_uuid())
        .execute(tx.conn())
        .await
        .map_err(StorageError::classify)?;
    sqlx::query(
        "UPDATE customer_sessions SET unverified = FALSE, claimed_phone = NULL WHERE id = $1",
    )
    .bind(id.as_uuid())
    .execute(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    Ok(())
}

/// A number typed in a session with no phone check: kept as claimed (the
/// session stays unverified and unpromoted until it is proven).
pub async fn claim_phone(
    tx: &mut TenantTx,
    id: &WebSessionId,
    phone: &PhoneNumber,
) -> Result<(), StorageError> {
    sqlx::query("UPDATE customer_sessions SET claimed_phone = $2 WHERE id = $1")
        .bind(id.as_uuid())
        .bind(phone.expose())
        .execute(tx.conn())
        .await
        .map_err(StorageError::classify)?;
    Ok(())
}

/// The M-Pesa prompt for this appointment is the proof of the session's
/// claimed number: paid, the session is promoted
/// ([`promote_paid_sessions`]).
pub async fn set_proof_appointment(
    tx: &mut TenantTx,
    id: &WebSessionId,
    appointment: Uuid,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE customer_sessions SET proof_appointment_id = $2 \
         WHERE id = $1 AND promoted_at IS NULL AND claimed_phone IS NOT NULL",
    )
    .bind(id.as_uuid())
    .bind(appointment)
    .execute(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    Ok(())
}

/// STK as oracle: the appointment's payment completed, so the number its
/// web session claimed is the customer's. Promotes those sessions
/// (customer_id and promoted_at back-filled, identity joined); how many.
pub async fn promote_paid_sessions(
    tx: &mut TenantTx,
    appointment: Uuid,
    now: DateTime<Utc>,
) -> Result<usize, StorageError> {
    let rows: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT id, claimed_phone FROM customer_sessions \
         WHERE proof_appointment_id = $1 AND claimed_phone IS NOT NULL FOR UPDATE",
    )
    .bind(appointment)
    .fetch_all(tx.conn())
    .await?;
    let mut promoted = 0;
    for (id, phone) in rows {
        let (Ok(session), Ok(phone)) = (
            WebSessionId::parse(&id.simple().to_string()),
            PhoneNumber::parse(&phone),
        ) else {
            continue;
        };
        super::conversation::promote_identity(
            tx,
            &ChannelIdentity::WebCookie(session),
            &phone,
            now,
        )
        .await?;
        sqlx::query(
            "UPDATE customer_sessions SET unverified = FALSE, claimed_phone = NULL, \
             proof_appointment_id = NULL WHERE id = $1",
        )
        .bind(id)
        .execute(tx.conn())
        .await
        .map_err(StorageError::classify)?;
        promoted += 1;
    }
    Ok(promoted)
}

/// The customer key (`web:` + …) of a thread begun in a web chat; `None`
/// for other threads.
pub async fn web_thread_key(
    tx: &mut TenantTx,
    thread: &ThreadId,
) -> Result<Option<String>, StorageError> {
    let key: Option<String> = sqlx::query_scalar(
        "SELECT customer_phone FROM conversation_threads \
         WHERE thread_id = $1 AND channel_started = 'web' LIMIT 1",
    )
    .bind(thread.as_str())
    .fetch_optional(tx.conn())
    .await?;
    Ok(key)
}

/// The session's "continue on WhatsApp" token: the current one while it
/// is good, else `fresh` (stored with a 24 h expiry).
pub async fn handoff_token(
    tx: &mut TenantTx,
    id: &WebSessionId,
    fresh: &str,
    now: DateTime<Utc>,
) -> Result<String, StorageError> {
    let token: String = sqlx::query_scalar(
        "UPDATE customer_sessions SET \
           handoff_token = CASE WHEN handoff_token IS NOT NULL AND handoff_token_expires_at > $3 \
                                THEN handoff_token ELSE $2 END, \
           handoff_token_expires_at = CASE WHEN handoff_token IS NOT NULL AND handoff_token_expires_at > $3 \
                                THEN handoff_token_expires_at ELSE $4 END \
         WHERE id = $1 RETURNING handoff_token",
    )
    .bind(id.as_uuid())
    .bind(fresh)
    .bind(now)
    .bind(now + Duration::hours(HANDOFF_TOKEN_HOURS))
    .fetch_one(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    Ok(token)
}

/// Spends a hand-off token: the session it belongs to if it is good (not
/// expired, not used); it cannot be used again.
pub async fn redeem_handoff_token(
    tx: &mut TenantTx,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<WebSessionId>, StorageError> {
    let id: Option<Uuid> = sqlx::query_scalar(
        "UPDATE customer_sessions SET handoff_token = NULL, handoff_token_expires_at = NULL \
         WHERE handoff_token = $1 AND handoff_token_expires_at > $2 RETURNING id",
    )
    .bind(token)
    .bind(now)
    .fetch_optional(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    Ok(id.and_then(|id| WebSessionId::parse(&id.simple().to_string()).ok()))
}

/// One message of a conversation as the widget shows it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryLine {
    pub inbound: bool,
    pub text: String,
}

/// The latest `limit` messages of the customer's threads (`key`: their
/// thread key), oldest first.
pub async fn history(
    tx: &mut TenantTx,
    key: &str,
    limit: i64,
) -> Result<Vec<HistoryLine>, StorageError> {
    // A turn's rows share one transaction's NOW(): the customer's message
    // first, then the replies in the order written.
    let rows: Vec<(bool, Option<String>)> = sqlx::query_as(
        "SELECT inbound, content FROM ( \
           SELECT i.direction = 'inbound' AS inbound, i.content, i.created_at, i.ctid AS at \
           FROM interactions i \
           WHERE i.metadata ->> 'thread_id' IN \
             (SELECT thread_id FROM conversation_threads WHERE customer_phone = $1) \
           ORDER BY i.created_at DESC, (i.direction = 'inbound') ASC, i.ctid DESC LIMIT $2 \
         ) latest ORDER BY created_at, inbound DESC, at",
    )
    .bind(key)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(inbound, text)| {
            text.filter(|t| !t.is_empty())
                .map(|text| HistoryLine { inbound, text })
        })
        .collect())
}
