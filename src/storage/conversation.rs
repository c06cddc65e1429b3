//! The conversation's rows in one tenant's schema: threads, checkpoints of
//! the dialogue state, interactions (every message in and out), customers
//! and their channel identities, knowledge snippets and the hand-off log.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::Row;
use uuid::Uuid;

use super::{StorageError, TenantHandle, TenantTx};
use crate::core::dialog::{Channel, DialogState, Snippet};
use crate::core::ids::{ChannelIdentity, PhoneNumber, ThreadId};

/// Past this many active snippets (or about this many tokens) the answers
/// should move to retrieval: the knowledge_overflow warning says so.
pub const KNOWLEDGE_MAX_SNIPPETS: usize = 20;
pub const KNOWLEDGE_MAX_TOKENS: usize = 1500;

/// The customer's open thread, or a new one (`key`: the customer's
/// [`ChannelIdentity::thread_key`], their E.164 number on phone channels).
pub async fn open_thread(
    tx: &mut TenantTx,
    key: &str,
    channel: Channel,
) -> Result<ThreadId, StorageError> {
    let existing: Option<String> = sqlx::query_scalar(
        "SELECT thread_id FROM conversation_threads \
         WHERE customer_phone = $1 AND closed_at IS NULL AND actor_type = 'customer' \
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(key)
    .fetch_optional(tx.conn())
    .await?;
    match existing {
        Some(id) => Ok(ThreadId::from_existing(id)),
        None => new_thread(tx, key, channel).await,
    }
}

/// Opens a new thread for the customer `key`.
async fn new_thread(
    tx: &mut TenantTx,
    key: &str,
    channel: Channel,
) -> Result<ThreadId, StorageError> {
    let id = ThreadId::new();
    sqlx::query(
        "INSERT INTO conversation_threads (customer_phone, thread_id, channel_started, actor_type) \
         VALUES ($1, $2, $3, 'customer')",
    )
    .bind(key)
    .bind(id.as_str())
    .bind(channel.as_str())
    .execute(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    Ok(id)
}

/// The customer `from`'s open thread becomes `to`'s (their own open
/// threads closed as abandoned): a conversation continued on another
/// channel keeps its checkpoint and history. The thread moved, if `from`
/// had one open.
pub async fn adopt_thread(
    tx: &mut TenantTx,
    from: &str,
    to: &str,
) -> Result<Option<ThreadId>, StorageError> {
    let existing: Option<String> = sqlx::query_scalar(
        "SELECT thread_id FROM conversation_threads \
         WHERE customer_phone = $1 AND closed_at IS NULL AND actor_type = 'customer' \
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(from)
    .fetch_optional(tx.conn())
    .await?;
    let Some(id) = existing else {
        return Ok(None);
    };
    sqlx::query(
        "UPDATE conversation_threads SET closed_at = NOW(), closed_reason = 'abandon' \
         WHERE customer_phone = $1 AND closed_at IS NULL AND actor_type = 'customer'",
    )
    .bind(to)
    .execute(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    sqlx::query("UPDATE conversation_threads SET customer_phone = $2 WHERE thread_id = $1")
        .bind(&id)
        .bind(to)
        .execute(tx.conn())
        .await
        .map_err(StorageError::classify)?;
    Ok(Some(ThreadId::from_existing(id)))
}

/// Makes sure a caller-chosen thread has its row.
pub async fn ensure_thread(
    tx: &mut TenantTx,
    key: &str,
    thread: &ThreadId,
    channel: Channel,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO conversation_threads (customer_phone, thread_id, channel_started, actor_type) \
         VALUES ($1, $2, $3, 'customer') ON CONFLICT DO NOTHING",
    )
    .bind(key)
    .bind(thread.as_str())
    .bind(channel.as_str())
    .execute(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    Ok(())
}

/// Closes a thread ('done' | 'abandon' | 'closed_by_human').
pub async fn close_thread(
    tx: &mut TenantTx,
    thread: &ThreadId,
    reason: &str,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE conversation_threads SET closed_at = NOW(), closed_reason = $2 \
         WHERE thread_id = $1 AND closed_at IS NULL",
    )
    .bind(thread.as_str())
    .bind(reason)
    .execute(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    Ok(done.rows_affected() > 0)
}

/// Whether the thread is still open.
pub async fn thread_open(tx: &mut TenantTx, thread: &ThreadId) -> Result<bool, StorageError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM conversation_threads WHERE thread_id = $1 AND closed_at IS NULL)",
    )
    .bind(thread.as_str())
    .fetch_one(tx.conn())
    .await?)
}

/// Saves the dialogue state as the thread's newest checkpoint.
pub async fn save_checkpoint(
    tx: &mut TenantTx,
    thread: &ThreadId,
    state: &DialogState,
) -> Result<(), StorageError> {
    let body = serde_json::to_value(state)
        .map_err(|e| StorageError::Corrupt(format!("dialog state: {e}")))?;
    // Time-ordered, so the newest sorts last.
    let id = Uuid::now_v7().to_string();
    insert_checkpoint(tx, thread, &id, &body, &checkpoint_metadata(state)).await
}

/// A checkpoint row's metadata for `state`.
pub fn checkpoint_metadata(state: &DialogState) -> Value {
    json!({"step": state.step.name(), "language": state.lang.code()})
}

/// Inserts a checkpoint under an id made earlier (time-ordered: a
/// checkpoint made offline and written after recovery still sorts before
/// the ones made after it). Its parent is the thread's newest before it; a
/// retried write of the same id lands once.
pub async fn insert_checkpoint(
    tx: &mut TenantTx,
    thread: &ThreadId,
    id: &str,
    body: &Value,
    metadata: &Value,
) -> Result<(), StorageError> {
    // One round trip: the parent is looked up by the INSERT itself.
    sqlx::query(
        "INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata) \
         VALUES ($1, '', $2, \
           (SELECT p.checkpoint_id FROM checkpoints p WHERE p.thread_id = $1 AND p.checkpoint_ns = '' \
              AND p.checkpoint_id < $2 ORDER BY p.checkpoint_id DESC LIMIT 1), \
           'ratiba.dialog.v1', $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(thread.as_str())
    .bind(id)
    .bind(body)
    .bind(metadata)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The thread's newest dialogue state, or a fresh one.
pub async fn load_checkpoint(
    tx: &mut TenantTx,
    thread: &ThreadId,
) -> Result<DialogState, StorageError> {
    let body: Option<Value> = sqlx::query_scalar(
        "SELECT checkpoint FROM checkpoints WHERE thread_id = $1 AND checkpoint_ns = '' \
         ORDER BY checkpoint_id DESC LIMIT 1",
    )
    .bind(thread.as_str())
    .fetch_optional(tx.conn())
    .await?;
    Ok(dialog_state(thread, body))
}

/// The dialogue state a checkpoint body holds (none: a fresh one). A state
/// written by an older version that no longer parses starts the
/// conversation afresh rather than failing every turn.
fn dialog_state(thread: &ThreadId, body: Option<Value>) -> DialogState {
    match body {
        None => DialogState::default(),
        Some(v) => serde_json::from_value(v).unwrap_or_else(|e| {
            tracing::warn!(thread = %thread, error = %e, "checkpoint unreadable; starting afresh");
            DialogState::default()
        }),
    }
}

/// What a chat turn starts from.
#[derive(Debug)]
pub struct TurnStart {
    /// The turn's message id was handled before (an inbound row has it).
    pub seen: bool,
    pub thread: ThreadId,
    pub state: DialogState,
}

/// A chat turn's start, read in one statement under the turn's locks
/// ([`begin_turn`]): whether `message_id` was handled before, and the
/// customer's open thread (as [`open_thread`], a new one when there is
/// none) with its newest state (as [`load_checkpoint`]).
pub async fn start_turn(
    tx: &mut TenantTx,
    key: &str,
    channel: Channel,
    message_id: Option<&str>,
) -> Result<TurnStart, StorageError> {
    let (seen, thread, body): (bool, Option<String>, Option<Value>) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM interactions \
                        WHERE direction = 'inbound' AND metadata->>'wamid' = $2), \
                t.thread_id, c.checkpoint \
         FROM (SELECT 1) AS one \
         LEFT JOIN LATERAL (SELECT thread_id FROM conversation_threads \
              WHERE customer_phone = $1 AND closed_at IS NULL AND actor_type = 'customer' \
              ORDER BY created_at DESC LIMIT 1) t ON true \
         LEFT JOIN LATERAL (SELECT checkpoint FROM checkpoints \
              WHERE thread_id = t.thread_id AND checkpoint_ns = '' \
              ORDER BY checkpoint_id DESC LIMIT 1) c ON true",
    )
    .bind(key)
    .bind(message_id)
    .fetch_one(tx.conn())
    .await?;
    let (thread, state) = match thread {
        Some(id) => {
            let thread = ThreadId::from_existing(id);
            let state = dialog_state(&thread, body);
            (thread, state)
        }
        None if seen => (ThreadId::new(), DialogState::default()),
        None => (new_thread(tx, key, channel).await?, DialogState::default()),
    };
    Ok(TurnStart {
        seen,
        thread,
        state,
    })
}

/// One interactions row.
#[derive(Debug, Clone)]
pub struct InteractionRow<'a> {
    pub contact_id: Option<Uuid>,
    pub channel: Channel,
    pub inbound: bool,
    pub message_type: &'a str,
    pub content: &'a str,
    pub intent: Option<&'a str>,
    pub language: Option<&'a str>,
    pub metadata: Value,
}

pub async fn record_interaction(
    tx: &mut TenantTx,
    row: &InteractionRow<'_>,
) -> Result<Uuid, StorageError> {
    let ids = record_interactions(tx, std::slice::from_ref(row)).await?;
    ids.into_iter()
        .next()
        .ok_or_else(|| StorageError::Corrupt("interactions insert returned no id".into()))
}

/// Inserts several interactions rows in one statement (a turn's message
/// and its replies); their ids, in the order given.
pub async fn record_interactions(
    tx: &mut TenantTx,
    rows: &[InteractionRow<'_>],
) -> Result<Vec<Uuid>, StorageError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let columns = InteractionColumns::of(rows);
    // interactions.channel allows whatsapp | voice | dashboard. One
    // statement for all the rows, inserted in the order given.
    columns
        .bind(sqlx::query(
            "INSERT INTO interactions (id, contact_id, channel, direction, message_type, content, intent, language, metadata) \
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
                                  $8::text[], $9::jsonb[])",
        ))
        .execute(tx.conn())
        .await
        .map_err(StorageError::classify)?;
    Ok(columns.ids)
}

/// A turn's interactions rows (its message and replies) and the thread's
/// new checkpoint (as [`record_interactions`] and [`save_checkpoint`]) in
/// one statement; the rows' ids, in the order given.
pub async fn record_turn(
    tx: &mut TenantTx,
    rows: &[InteractionRow<'_>],
    thread: &ThreadId,
    state: &DialogState,
) -> Result<Vec<Uuid>, StorageError> {
    let body = serde_json::to_value(state)
        .map_err(|e| StorageError::Corrupt(format!("dialog state: {e}")))?;
    // Time-ordered, so the newest sorts last.
    let checkpoint_id = Uuid::now_v7().to_string();
    let columns = InteractionColumns::of(rows);
    columns
        .bind(sqlx::query(
            "WITH turn AS ( \
               INSERT INTO interactions (id, contact_id, channel, direction, message_type, content, intent, language, metadata) \
               SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
                                    $8::text[], $9::jsonb[])) \
             INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata) \
             VALUES ($10, '', $11, \
               (SELECT p.checkpoint_id FROM checkpoints p WHERE p.thread_id = $10 AND p.checkpoint_ns = '' \
                  AND p.checkpoint_id < $11 ORDER BY p.checkpoint_id DESC LIMIT 1), \
               'ratiba.dialog.v1', $12, $13) ON CONFLICT DO NOTHING",
        ))
        .bind(thread.as_str())
        .bind(&checkpoint_id)
        .bind(&body)
        .bind(checkpoint_metadata(state))
        .execute(tx.conn())
        .await
        .map_err(StorageError::classify)?;
    Ok(columns.ids)
}

/// Interactions rows as the column arrays `unnest` takes.
struct InteractionColumns<'r> {
    /// Made here, so each row's id is known without relying on the order
    /// RETURNING gives them back in.
    ids: Vec<Uuid>,
    contact: Vec<Option<Uuid>>,
    channel: Vec<&'static str>,
    direction: Vec<&'static str>,
    message_type: Vec<&'r str>,
    content: Vec<&'r str>,
    intent: Vec<Option<&'r str>>,
    language: Vec<Option<&'r str>>,
    metadata: Vec<&'r Value>,
}

impl<'r> InteractionColumns<'r> {
    fn of(rows: &'r [InteractionRow<'r>]) -> Self {
        InteractionColumns {
            ids: rows.iter().map(|_| Uuid::new_v4()).collect(),
            contact: rows.iter().map(|r| r.contact_id).collect(),
            channel: rows.iter().map(|r| r.channel.as_str()).collect(),
            direction: rows
                .iter()
                .map(|r| if r.inbound { "inbound" } else { "outbound" })
                .collect(),
            message_type: rows.iter().map(|r| r.message_type).collect(),
            content: rows.iter().map(|r| r.content).collect(),
            intent: rows.iter().map(|r| r.intent).collect(),
            language: rows.iter().map(|r| r.language).collect(),
            metadata: rows.iter().map(|r| &r.metadata).collect(),
        }
    }

    /// Binds $1 to $9.
    fn bind<'q>(
        &'q self,
        query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
        query
            .bind(&self.ids)
            .bind(&self.contact)
            .bind(&self.channel)
            .bind(&self.direction)
            .bind(&self.message_type)
            .bind(&self.content)
            .bind(&self.intent)
            .bind(&self.language)
            .bind(&self.metadata)
    }
}

/// What became of one reply the channel was asked to send.
#[derive(Debug, Clone, Copy)]
pub enum Delivery<'a> {
    /// Accepted by the provider under this message id (delivery statuses
    /// then find the row).
    Accepted(&'a str),
    /// Not sent, and why (outside the channel's messaging window, no
    /// token, the provider refused it): the row keeps the text, with
    /// status `not_sent`.
    NotSent(&'a str),
}

/// Records what became of a turn's replies (their interactions rows) in
/// one statement, its transaction and scoping in the same round trip
/// ([`TenantHandle::run_losable`]), not waiting for the disk: a database
/// crash just after may lose the provider ids and reasons (a later
/// delivery status then finds no row), never the replies themselves,
/// whose rows and message-id claim committed durably with their turn, so a
/// replay does not send them again.
pub async fn record_deliveries(
    tenant: &TenantHandle,
    deliveries: &[(Uuid, Delivery<'_>)],
) -> Result<(), StorageError> {
    if deliveries.is_empty() {
        return Ok(());
    }
    let rows: Vec<Value> = deliveries
        .iter()
        .map(|(id, d)| {
            let patch = match d {
                Delivery::Accepted(message_id) => {
                    json!({"wamid": message_id.replace('\0', ""), "status": "accepted"})
                }
                Delivery::NotSent(reason) => {
                    let reason: String = reason.replace('\0', "").chars().take(500).collect();
                    json!({"status": "not_sent", "not_sent_reason": reason})
                }
            };
            json!({"id": id, "patch": patch})
        })
        .collect();
    // The simple query takes no parameters: the rows go as one quoted
    // JSON literal, and their ids (hex and dashes) as an array for the
    // primary key's index (the planner cannot see into the JSON).
    let ids: Vec<String> = deliveries.iter().map(|(id, _)| id.to_string()).collect();
    let rows = super::sql_literal(&Value::Array(rows).to_string());
    tenant
        .run_losable(&format!(
            "UPDATE interactions i SET metadata = COALESCE(i.metadata, '{{}}'::jsonb) || d.patch \
             FROM jsonb_to_recordset({rows}::jsonb) AS d(id uuid, patch jsonb) \
             WHERE i.id = ANY('{{{}}}'::uuid[]) AND i.id = d.id",
            ids.join(",")
        ))
        .await?;
    Ok(())
}

/// Serialises one customer's turns (`key`: their
/// [`ChannelIdentity::thread_key`]): the lock is held until the
/// transaction ends.
pub async fn lock_customer(tx: &mut TenantTx, key: &str) -> Result<(), StorageError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('customer:' || $1, 0))")
        .bind(key)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Begins a customer's turn: a tenant transaction ([`TenantHandle::begin`])
/// holding the customer's lock and, with a provider message id, that message's lock (always in that order), in one round trip.
pub async fn begin_turn(
    tenant: &TenantHandle,
    key: &str,
    message_id: Option<&str>,
) -> Result<TenantTx, StorageError> {
    let customer = super::sql_literal(key);
    let message = match message_id {
        Some(id) => format!(
            ", pg_advisory_xact_lock(hashtextextended('wamid:' || {}, 0))",
            super::sql_literal(id)
        ),
        None => String::new(),
    };
    tenant
        .begin_then(&format!(
            "SELECT pg_advisory_xact_lock(hashtextextended('customer:' || {customer}, 0)){message}"
        ))
        .await
}

/// Whether an inbound interactions row carries this message id (under
/// its lock: see [`claim_message_id`]).
pub async fn message_seen(tx: &mut TenantTx, message_id: &str) -> Result<bool, StorageError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM interactions WHERE direction = 'inbound' AND metadata->>'wamid' = $1)",
    )
    .bind(message_id)
    .fetch_one(tx.conn())
    .await?)
}

/// Takes the per-message lock for a provider message id and says whether
/// it was already handled (an interactions row carries it). Held until the
/// transaction ends, so two deliveries of one message are handled once.
pub async fn claim_message_id(tx: &mut TenantTx, message_id: &str) -> Result<bool, StorageError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('wamid:' || $1, 0))")
        .bind(message_id)
        .execute(tx.conn())
        .await?;
    Ok(!message_seen(tx, message_id).await?)
}

/// Records a delivery status on our outbound message, moving forward only
/// (sent < delivered < read; failed is final). Returns whether it matched.
pub async fn record_status(
    tx: &mut TenantTx,
    message_id: &str,
    status: &str,
    at: DateTime<Utc>,
    error_codes: &[i64],
) -> Result<bool, StorageError> {
    let rank = |s: &str| match s {
        "sent" => 1,
        "delivered" => 2,
        "read" | "played" => 3,
        "failed" => 4,
        _ => 0,
    };
    let current: Option<Option<String>> = sqlx::query_scalar(
        "SELECT metadata->>'status' FROM interactions WHERE direction = 'outbound' AND metadata->>'wamid' = $1 \
         ORDER BY created_at DESC LIMIT 1 FOR UPDATE",
    )
    .bind(message_id)
    .fetch_optional(tx.conn())
    .await?;
    let Some(current) = current else {
        return Ok(false);
    };
    if rank(status) <= current.as_deref().map(rank).unwrap_or(0) {
        return Ok(true);
    }
    sqlx::query(
        "UPDATE interactions SET metadata = COALESCE(metadata, '{}'::jsonb) || \
           jsonb_build_object('status', $2::text, 'status_at', $3::timestamptz, 'error_codes', $4::jsonb) \
         WHERE direction = 'outbound' AND metadata->>'wamid' = $1",
    )
    .bind(message_id)
    .bind(status)
    .bind(at)
    .bind(json!(error_codes))
    .execute(tx.conn())
    .await?;
    Ok(true)
}

/// The customers row behind a channel identity, created (with the
/// identity) on first contact. Phone-bearing identities share one customer.
/// When the customer at `phone` last wrote on WhatsApp: the start of their
/// 24 h customer-service window.
pub async fn last_whatsapp_message(
    tx: &mut TenantTx,
    phone: &PhoneNumber,
) -> Result<Option<DateTime<Utc>>, StorageError> {
    Ok(sqlx::query_scalar(
        "SELECT max(i.created_at) FROM interactions i JOIN contacts c ON c.id = i.contact_id \
         WHERE c.phone_number = $1 AND i.channel = 'whatsapp' AND i.direction = 'inbound'",
    )
    .bind(phone.expose())
    .fetch_one(tx.conn())
    .await?)
}

/// A turn's contact row (upserted when the number is known, as
/// [`crate::storage::booking::ensure_contact`] does) and its customer (as
/// [`ensure_customer`]): one statement for a customer seen before, the
/// usual case. Returns (contact id, customer id).
pub async fn ensure_contact_and_customer(
    tx: &mut TenantTx,
    provider: &str,
    external_id: &str,
    phone: Option<&PhoneNumber>,
    name: Option<&str>,
    language: &str,
) -> Result<(Option<Uuid>, Uuid), StorageError> {
    let (contact, known): (Option<Uuid>, Option<Uuid>) = sqlx::query_as(
        "WITH contact AS ( \
           INSERT INTO contacts (phone_number, name, language_pref) \
           SELECT $3::text, $4::text, $5::text WHERE $3::text IS NOT NULL \
           ON CONFLICT (phone_number) DO UPDATE SET \
             name = COALESCE(contacts.name, EXCLUDED.name), \
             language_pref = EXCLUDED.language_pref, updated_at = NOW() \
           RETURNING id) \
         SELECT (SELECT id FROM contact), \
                (SELECT customer_id FROM customer_identities \
                 WHERE provider = $1 AND external_id = $2 LIMIT 1)",
    )
    .bind(provider)
    .bind(external_id)
    .bind(phone.map(PhoneNumber::expose))
    .bind(name)
    .bind(language)
    .fetch_one(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    let customer = match known {
        Some(id) => id,
        None => ensure_customer(tx, provider, external_id, phone, name, language).await?,
    };
    Ok((contact, customer))
}

pub async fn ensure_customer(
    tx: &mut TenantTx,
    provider: &str,
    external_id: &str,
    phone: Option<&PhoneNumber>,
    name: Option<&str>,
    language: &str,
) -> Result<Uuid, StorageError> {
    let known: Option<Uuid> = sqlx::query_scalar(
        "SELECT customer_id FROM customer_identities WHERE provider = $1 AND external_id = $2 LIMIT 1",
    )
    .bind(provider)
    .bind(external_id)
    .fetch_optional(tx.conn())
    .await?;
    if let Some(id) = known {
        return Ok(id);
    }
    let by_phone: Option<Uuid> = match phone {
        Some(p) => {
            sqlx::query_scalar("SELECT customer_id FROM customers WHERE phone_e164 = $1")
                .bind(p.expose())
                .fetch_optional(tx.conn())
                .await?
        }
        None => None,
    };
    let id = match by_phone {
        Some(id) => id,
        None => sqlx::query_scalar(
            "INSERT INTO customers (phone_e164, name, language_pref) VALUES ($1, $2, $3) \
             ON CONFLICT (phone_e164) WHERE phone_e164 IS NOT NULL \
             DO UPDATE SET name = COALESCE(customers.name, EXCLUDED.name) RETURNING customer_id",
        )
        .bind(phone.map(PhoneNumber::expose))
        .bind(name)
        .bind(language)
        .fetch_one(tx.conn())
        .await
        .map_err(StorageError::classify)?,
    };
    sqlx::query(
        "INSERT INTO customer_identities (customer_id, provider, external_id) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(provider)
    .bind(external_id)
    .execute(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    Ok(id)
}

/// The phone number of the customer a channel identity belongs to (a web
/// session's, once it was promoted).
pub async fn identity_phone(
    tx: &mut TenantTx,
    provider: &str,
    external_id: &str,
) -> Result<Option<PhoneNumber>, StorageError> {
    let stored: Option<Option<String>> = sqlx::query_scalar(
        "SELECT c.phone_e164 FROM customer_identities i JOIN customers c USING (customer_id) \
         WHERE i.provider = $1 AND i.external_id = $2 LIMIT 1",
    )
    .bind(provider)
    .bind(external_id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(stored.flatten().and_then(|p| PhoneNumber::parse(&p).ok()))
}

/// A customer known by `identity` gave their number: the identity joins
/// the customer with that number (the one a WhatsApp chat or a call made,
/// if there is one: the same person on every channel); a phoneless
/// customer made for the identity takes the number, or is folded into the
/// numbered one. A web session's customer_sessions row gets customer_id
/// and promoted_at (the first time). Returns the customer.
pub async fn promote_identity(
    tx: &mut TenantTx,
    identity: &ChannelIdentity,
    phone: &PhoneNumber,
    now: DateTime<Utc>,
) -> Result<Uuid, StorageError> {
    let (provider, external_id) = (identity.provider(), identity.external_id());
    let current: Option<(Uuid, Option<String>)> = sqlx::query_as(
        "SELECT c.customer_id, c.phone_e164 FROM customer_identities i JOIN customers c USING (customer_id) \
         WHERE i.provider = $1 AND i.external_id = $2 LIMIT 1",
    )
    .bind(provider)
    .bind(external_id)
    .fetch_optional(tx.conn())
    .await?;
    let by_phone: Option<Uuid> =
        sqlx::query_scalar("SELECT customer_id FROM customers WHERE phone_e164 = $1")
            .bind(phone.expose())
            .fetch_optional(tx.conn())
            .await?;
    let customer = match (current, by_phone) {
        (Some((id, _)), Some(known)) if id == known => known,
        (current, Some(known)) => {
            move_identity(tx, provider, external_id, known).await?;
            if let Some((old, None)) = current {
                // The phoneless customer the identity had: folded in.
                sqlx::query(
                    "DELETE FROM customers c WHERE c.customer_id = $1 AND c.phone_e164 IS NULL \
                     AND NOT EXISTS (SELECT 1 FROM customer_identities i WHERE i.customer_id = c.customer_id)",
                )
                .bind(old)
                .execute(tx.conn())
                .await
                .map_err(StorageError::classify)?;
            }
            known
        }
        (Some((id, None)), None) => {
            sqlx::query("UPDATE customers SET phone_e164 = $2 WHERE customer_id = $1")
                .bind(id)
                .bind(phone.expose())
                .execute(tx.conn())
                .await
                .map_err(StorageError::classify)?;
            id
        }
        // No customer yet, or one with another number: a new one with this.
        (Some((_, Some(_))), None) | (None, None) => {
            let id: Uuid = sqlx::query_scalar(
                "INSERT INTO customers (phone_e164) VALUES ($1) RETURNING customer_id",
            )
            .bind(phone.expose())
            .fetch_one(tx.conn())
            .await
            .map_err(StorageError::classify)?;
            move_identity(tx, provider, external_id, id).await?;
            id
        }
    };
    if let ChannelIdentity::WebCookie(session) = identity {
        sqlx::query(
            "UPDATE customer_sessions SET customer_id = $2, promoted_at = COALESCE(promoted_at, $3) \
             WHERE id = $1",
        )
        .bind(session.as_uuid())
        .bind(customer)
        .bind(now)
        .execute(tx.conn())
        .await
        .map_err(StorageError::classify)?;
    }
    Ok(customer)
}

/// Points the identity at `customer` (only there).
async fn move_identity(
    tx: &mut TenantTx,
    provider: &str,
    external_id: &str,
    customer: Uuid,
) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM customer_identities WHERE provider = $1 AND external_id = $2")
        .bind(provider)
        .bind(external_id)
        .execute(tx.conn())
        .await
        .map_err(StorageError::classify)?;
    sqlx::query(
        "INSERT INTO customer_identities (customer_id, provider, external_id) VALUES ($1, $2, $3)",
    )
    .bind(customer)
    .bind(provider)
    .bind(external_id)
    .execute(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    Ok(())
}

/// Active knowledge snippets of these categories (all when empty). Logs the
/// knowledge_overflow warning when the tenant's knowledge outgrows prompt
/// injection.
pub async fn knowledge(
    tx: &mut TenantTx,
    categories: &[String],
) -> Result<Vec<Snippet>, StorageError> {
    // One statement: the snippets asked for, and the size of all the
    // active ones (for the overflow warning).
    let rows = sqlx::query(
        "SELECT category, title, body, language, \
                (cardinality($1::text[]) = 0 OR category = ANY($1)) AS wanted, \
                count(*) OVER () AS active, \
                COALESCE(sum(length(title) + length(body)) OVER (), 0)::bigint AS chars \
         FROM knowledge_snippets WHERE is_active ORDER BY category, title",
    )
    .bind(categories)
    .fetch_all(tx.conn())
    .await?;
    let (mut count, mut chars) = (0i64, 0i64);
    let mut snippets = Vec::new();
    for r in &rows {
        count = r.try_get("active")?;
        chars = r.try_get("chars")?;
        if r.try_get::<bool, _>("wanted")? {
            snippets.push(Snippet {
                category: r.try_get("category")?,
                title: r.try_get("title")?,
                body: r.try_get("body")?,
                language: r.try_get("language")?,
            });
        }
    }
    let tokens = usize::try_from(chars).unwrap_or(0) / 4;
    let count = usize::try_from(count).unwrap_or(0);
    if count > KNOWLEDGE_MAX_SNIPPETS || tokens > KNOWLEDGE_MAX_TOKENS {
        tracing::warn!(
            event = "knowledge_overflow",
            snippets = count,
            approx_tokens = tokens,
            "knowledge_overflow: knowledge outgrew prompt injection"
        );
    }
    Ok(snippets)
}

/// One handoff_log row (a message folded verbatim into the hand-off).
#[derive(Debug, Clone)]
pub struct HandoffLine<'a> {
    pub thread: &'a ThreadId,
    pub from_admin: bool,
    pub actor_phone: &'a str,
    pub content: &'a str,
    pub language: Option<&'a str>,
    pub metadata: Value,
}

pub async fn append_handoff(
    tx: &mut TenantTx,
    line: &HandoffLine<'_>,
) -> Result<Uuid, StorageError> {
    let id = sqlx::query_scalar(
        "INSERT INTO handoff_log (thread_id, actor, actor_phone, content, language, message_metadata) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(line.thread.as_str())
    .bind(if line.from_admin { "admin" } else { "customer" })
    .bind(line.actor_phone)
    .bind(line.content)
    .bind(line.language)
    .bind(&line.metadata)
    .fetch_one(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    Ok(id)
}
