//! The hand-off's rows: the `handoff_started` line of `handoff_log` with its
//! deadlines and claim, admins' replies, and the tenant's admins
//! (`public.tenant_admins`). The workflow around them (notices, commands)
//! is `runtime::handoff`'s.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::Row;
use uuid::Uuid;

use super::conversation::{self as conv, HandoffLine};
use super::{Db, StorageError, TenantHandle, TenantTx};
use crate::core::ids::{PhoneNumber, TenantId, ThreadId};

/// An active admin of a tenant (public.tenant_admins).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantAdmin {
    pub id: Uuid,
    pub phone: String,
}

/// The active admin of `tenant` writing from `phone`, if it is one. Numbers
/// are compared by their digits ("+254 722…" and "254722…" are one number).
pub async fn admin_by_phone(
    db: &Db,
    tenant: TenantId,
    phone: &PhoneNumber,
) -> Result<Option<TenantAdmin>, StorageError> {
    let row: Option<(Uuid, String)> = sqlx::query_as(
        "SELECT id, phone_number FROM public.tenant_admins \
         WHERE tenant_id = $1 AND is_active IS NOT FALSE \
           AND regexp_replace(phone_number, '[^0-9]', '', 'g') = $2 \
         ORDER BY created_at LIMIT 1",
    )
    .bind(tenant.0)
    .bind(phone.digits())
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(|(id, phone)| TenantAdmin { id, phone }))
}

/// The phone number of admin `id` of `tenant`, if still active.
pub async fn admin_phone(
    db: &Db,
    tenant: TenantId,
    id: Uuid,
) -> Result<Option<String>, StorageError> {
    Ok(sqlx::query_scalar(
        "SELECT phone_number FROM public.tenant_admins \
         WHERE tenant_id = $1 AND id = $2 AND is_active IS NOT FALSE",
    )
    .bind(tenant.0)
    .bind(id)
    .fetch_optional(db.pool())
    .await?)
}

/// An unclaimed `handoff_started` line of an open thread, locked for this
/// transaction (other nodes skip it).
#[derive(Debug, Clone)]
pub struct StartedHandoff {
    pub id: Uuid,
    pub thread: ThreadId,
    pub customer_phone: String,
    pub metadata: Value,
}

/// The open threads' unclaimed hand-offs, oldest first, locked `FOR UPDATE
/// SKIP LOCKED` so two nodes never notify about the same one.
pub async fn lock_unclaimed(tx: &mut TenantTx) -> Result<Vec<StartedHandoff>, StorageError> {
    let rows = sqlx::query(
        "SELECT h.id, h.thread_id, h.actor_phone, h.message_metadata FROM handoff_log h \
         JOIN conversation_threads t ON t.thread_id = h.thread_id AND t.closed_at IS NULL \
         WHERE h.message_metadata->>'kind' = 'handoff_started' AND h.claimed_at IS NULL \
         ORDER BY h.sent_at FOR UPDATE OF h SKIP LOCKED",
    )
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(StartedHandoff {
                id: row.try_get("id")?,
                thread: ThreadId::from_existing(row.try_get::<String, _>("thread_id")?),
                customer_phone: row.try_get("actor_phone")?,
                metadata: row
                    .try_get::<Option<Value>, _>("message_metadata")?
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// Replaces a hand-off line's metadata (the notices' sent-at marks).
pub async fn set_metadata(
    tx: &mut TenantTx,
    id: Uuid,
    metadata: &Value,
) -> Result<(), StorageError> {
    sqlx::query("UPDATE handoff_log SET message_metadata = $2 WHERE id = $1")
        .bind(id)
        .bind(metadata)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Sets how a call's hand-off actually went (`message_metadata.call`) on
/// the thread's `handoff_started` line: a transfer the provider refused
/// becomes a promise, so the admins' notice says "call them back", not
/// "put through". No line (the dialog's row not written) changes nothing.
pub async fn set_call_route(
    tx: &mut TenantTx,
    thread: &ThreadId,
    call: &Value,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE handoff_log SET message_metadata = \
           jsonb_set(COALESCE(message_metadata, '{}'::jsonb), '{call}', $2, true) \
         WHERE thread_id = $1 AND message_metadata->>'kind' = 'handoff_started'",
    )
    .bind(thread.as_str())
    .bind(call)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// An open handed-off thread and its customer's phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandedOff {
    pub thread: ThreadId,
    pub customer_phone: String,
}

const OPEN_HANDOFFS: &str = "SELECT h.thread_id, h.actor_phone FROM handoff_log h \
     JOIN conversation_threads t ON t.thread_id = h.thread_id AND t.closed_at IS NULL \
     WHERE h.message_metadata->>'kind' = 'handoff_started'";

fn handed_off(row: (String, String)) -> HandedOff {
    HandedOff {
        thread: ThreadId::from_existing(row.0),
        customer_phone: row.1,
    }
}

/// Open handed-off threads nobody has claimed, oldest first.
pub async fn waiting(tenant: &TenantHandle) -> Result<Vec<HandedOff>, StorageError> {
    let mut tx = tenant.begin().await?;
    let rows: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{OPEN_HANDOFFS} AND h.claimed_at IS NULL ORDER BY h.sent_at"
    )))
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(rows.into_iter().map(handed_off).collect())
}

/// The open thread admin `admin_id` has claimed, if any.
pub async fn claimed_by(
    tenant: &TenantHandle,
    admin_id: Uuid,
) -> Result<Option<HandedOff>, StorageError> {
    let mut tx = tenant.begin().await?;
    let row: Option<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{OPEN_HANDOFFS} AND h.claimed_by_admin_id = $1 ORDER BY h.claimed_at DESC LIMIT 1"
    )))
    .bind(admin_id)
    .fetch_optional(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(row.map(handed_off))
}

/// Who claimed the open thread `thread`, and through what (`whatsapp` or
/// `dashboard`).
pub async fn claimant(
    tenant: &TenantHandle,
    thread: &ThreadId,
) -> Result<Option<(Uuid, String)>, StorageError> {
    let mut tx = tenant.begin().await?;
    let row: Option<(Option<Uuid>, Option<String>)> = sqlx::query_as(
        "SELECT claimed_by_admin_id, claimed_via FROM handoff_log \
         WHERE thread_id = $1 AND message_metadata->>'kind' = 'handoff_started' \
         ORDER BY sent_at DESC LIMIT 1",
    )
    .bind(thread.as_str())
    .fetch_optional(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(row.and_then(|(id, via)| Some((id?, via.unwrap_or_default()))))
}

/// An admin takes the thread. False if it was already claimed (or is not
/// handed off).
pub async fn claim(
    tenant: &TenantHandle,
    thread: &ThreadId,
    admin_id: Uuid,
    via: &str,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let mut tx = tenant.begin().await?;
    let done = sqlx::query(
        "UPDATE handoff_log SET claimed_by_admin_id = $2, claimed_at = $3, claimed_via = $4 \
         WHERE thread_id = $1 AND message_metadata->>'kind' = 'handoff_started' AND claimed_at IS NULL",
    )
    .bind(thread.as_str())
    .bind(admin_id)
    .bind(now)
    .bind(via)
    .execute(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    tx.commit().await?;
    Ok(done.rows_affected() > 0)
}

/// Records an admin's reply (verbatim) and returns the customer's phone to
/// send it to; `None` when the thread is closed or this message (by its
/// WhatsApp id) was relayed already.
pub async fn admin_reply(
    tenant: &TenantHandle,
    thread: &ThreadId,
    admin_phone: &str,
    text: &str,
    message_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<String>, StorageError> {
    let mut tx = tenant.begin().await?;
    if let Some(id) = message_id {
        // A redelivered webhook must not reach the customer twice.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(format!("admin-reply:{id}"))
            .execute(tx.conn())
            .await?;
        let seen: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM handoff_log WHERE thread_id = $1 AND actor = 'admin' \
             AND message_metadata->>'wamid' = $2)",
        )
        .bind(thread.as_str())
        .bind(id)
        .fetch_one(tx.conn())
        .await?;
        if seen {
            return Ok(None);
        }
    }
    let customer: Option<String> = sqlx::query_scalar(
        "SELECT customer_phone FROM conversation_threads WHERE thread_id = $1 AND closed_at IS NULL",
    )
    .bind(thread.as_str())
    .fetch_optional(tx.conn())
    .await?;
    let Some(customer) = customer else {
        return Ok(None);
    };
    conv::append_handoff(
        &mut tx,
        &HandoffLine {
            thread,
            from_admin: true,
            actor_phone: admin_phone,
            content: text,
            language: None,
            metadata: json!({"wamid": message_id}),
        },
    )
    .await?;
    sqlx::query(
        "UPDATE handoff_log SET admin_replied_at = COALESCE(admin_replied_at, $2) \
         WHERE thread_id = $1 AND message_metadata->>'kind' = 'handoff_started'",
    )
    .bind(thread.as_str())
    .bind(now)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(Some(customer))
}

/// An open handed-off thread with who claimed it (the dashboard's list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenHandoff {
    pub thread: ThreadId,
    pub customer_phone: String,
    pub started_at: Option<DateTime<Utc>>,
    pub claimed_by: Option<Uuid>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub claimed_via: Option<String>,
}

/// Every open handed-off thread, claimed or not, oldest first.
pub async fn open_handoffs(tenant: &TenantHandle) -> Result<Vec<OpenHandoff>, StorageError> {
    let mut tx = tenant.begin().await?;
    let rows = sqlx::query(
        "SELECT h.thread_id, h.actor_phone, h.sent_at, h.claimed_by_admin_id, h.claimed_at, h.claimed_via \
         FROM handoff_log h \
         JOIN conversation_threads t ON t.thread_id = h.thread_id AND t.closed_at IS NULL \
         WHERE h.message_metadata->>'kind' = 'handoff_started' ORDER BY h.sent_at, h.id",
    )
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    rows.iter()
        .map(|r| {
            Ok(OpenHandoff {
                thread: ThreadId::from_existing(r.try_get::<String, _>("thread_id")?),
                customer_phone: r.try_get("actor_phone")?,
                started_at: r.try_get("sent_at")?,
                claimed_by: r.try_get("claimed_by_admin_id")?,
                claimed_at: r.try_get("claimed_at")?,
                claimed_via: r.try_get("claimed_via")?,
            })
        })
        .collect()
}

/// One line of a handed-off thread's verbatim log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// 'customer' or 'admin'.
    pub actor: String,
    pub content: String,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The verbatim log of thread `thread` (oldest first, at most 500 lines).
pub async fn thread_log(
    tenant: &TenantHandle,
    thread: &ThreadId,
) -> Result<Vec<LogLine>, StorageError> {
    let mut tx = tenant.begin().await?;
    let rows: Vec<(String, String, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT actor, content, sent_at FROM handoff_log WHERE thread_id = $1 \
         ORDER BY sent_at, id LIMIT 500",
    )
    .bind(thread.as_str())
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|(actor, content, sent_at)| LogLine {
            actor,
            content,
            sent_at,
        })
        .collect())
}
