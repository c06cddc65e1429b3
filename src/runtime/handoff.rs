//! Hand-off to a person: the team is told, reminded and escalated on stored
//! deadlines; an admin claims the thread, replies, and closes it.
//!
//! When the dialogue hands a thread off, [`ConversationService`] writes the
//! first handoff_log row with `message_metadata.kind = "handoff_started"`
//! and three deadlines (`notice_due_at`, `reminder_due_at`,
//! `escalation_due_at`, from the tenant's handoff_* seconds). The deadlines
//! live in the database, not in memory, so [`sweep`] — run every few seconds
//! by any node — picks them up after a restart; `FOR UPDATE SKIP LOCKED`
//! keeps two nodes from sending the same notice. A claimed thread gets no
//! further reminders or escalation. Closing the thread
//! (`closed_by_human`) returns the customer to the bot.
//!
//! Admins work on WhatsApp, writing to the business's own number (the
//! notice asks them to reply): a message from an active admin of the tenant
//! is an [`AdminCommand`], never a customer turn. `CLAIM` takes the oldest
//! waiting customer (`CLAIM <end of thread id>` a particular one); from then
//! on what the admin writes goes to that customer verbatim and the
//! customer's messages are forwarded to the admin; `CLOSE` hands the
//! customer back to the bot. One claimed customer per admin at a time.
//!
//! [`ConversationService`]: super::conversation::ConversationService

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::Row;
use uuid::Uuid;

use super::conversation::BoxFuture;
use crate::core::dialog::personality::Personality;
use crate::core::dialog::{Dialog, DialogConfig, Input};
use crate::core::ids::{PhoneNumber, ThreadId};
use crate::storage::conversation::{self as conv, HandoffLine};
use crate::storage::{Db, StorageError, TenantHandle, TenantRecord};

/// Sends a message to a tenant admin (WhatsApp in production).
pub trait AdminNotifier: Send + Sync {
    fn notify<'a>(
        &'a self,
        tenant: &'a TenantRecord,
        admin_phone: &'a str,
        text: String,
    ) -> BoxFuture<'a, Result<(), String>>;
}

/// Which deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Notice,
    Reminder,
    Escalation,
}

impl Stage {
    fn keys(self) -> (&'static str, &'static str) {
        match self {
            Stage::Notice => ("notice_due_at", "notice_sent_at"),
            Stage::Reminder => ("reminder_due_at", "reminder_sent_at"),
            Stage::Escalation => ("escalation_due_at", "escalation_sent_at"),
        }
    }
}

/// What one sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    pub sent: Vec<(String, ThreadId, StageName)>,
}

pub type StageName = &'static str;

/// Sends every notice, reminder and escalation whose deadline has passed.
pub async fn sweep(
    db: &Db,
    notifier: &dyn AdminNotifier,
    now: DateTime<Utc>,
) -> Result<SweepReport, StorageError> {
    let mut report = SweepReport::default();
    for tenant in db.list_tenants().await? {
        // Admins hear of hand-offs on WhatsApp only when the tenant opted
        // in (the same switch as the daily briefing).
        if !tenant.serves(now) || !tenant.admin_whatsapp_briefing_enabled {
            continue;
        }
        let admins = crate::storage::briefing::admin_phones(db, tenant.id).await?;
        let handle = db.tenant(&tenant.slug);
        let mut tx = handle.begin().await?;
        let rows = sqlx::query(
            "SELECT h.id, h.thread_id, h.actor_phone, h.message_metadata FROM handoff_log h \
             JOIN conversation_threads t ON t.thread_id = h.thread_id AND t.closed_at IS NULL \
             WHERE h.message_metadata->>'kind' = 'handoff_started' AND h.claimed_at IS NULL \
             ORDER BY h.sent_at FOR UPDATE OF h SKIP LOCKED",
        )
        .fetch_all(tx.conn())
        .await?;
        for row in rows {
            let id: Uuid = row.try_get("id")?;
            let thread = ThreadId::from_existing(row.try_get::<String, _>("thread_id")?);
            let customer: String = row.try_get("actor_phone")?;
            let mut meta: Value = row
                .try_get::<Option<Value>, _>("message_metadata")?
                .unwrap_or_default();
            let mut changed = false;
            for stage in [Stage::Notice, Stage::Reminder, Stage::Escalation] {
                let (due_key, sent_key) = stage.keys();
                let due = meta
                    .get(due_key)
                    .and_then(|v| v.as_str())
                    .and_then(|s| s.parse::<DateTime<Utc>>().ok());
                let already = meta.get(sent_key).is_some_and(|v| !v.is_null());
                let Some(due) = due else { continue };
                if already || due > now {
                    continue;
                }
                let text = message(stage, &tenant, &customer, &thread, &meta);
                for admin in &admins {
                    if let Err(e) = notifier.notify(&tenant, admin, text.clone()).await {
                        tracing::warn!(tenant = %tenant.slug, error = %e, "admin notice failed");
                    }
                }
                meta[sent_key] = json!(now);
                changed = true;
                let name = match stage {
                    Stage::Notice => "notice",
                    Stage::Reminder => "reminder",
                    Stage::Escalation => "escalation",
                };
                tracing::info!(tenant = %tenant.slug, thread = %thread, stage = name, admins = admins.len(), "hand-off notice sent");
                report
                    .sent
                    .push((tenant.slug.to_string(), thread.clone(), name));
            }
            if changed {
                sqlx::query("UPDATE handoff_log SET message_metadata = $2 WHERE id = $1")
                    .bind(id)
                    .bind(&meta)
                    .execute(tx.conn())
                    .await?;
            }
        }
        tx.commit().await?;
    }
    Ok(report)
}

fn message(
    stage: Stage,
    tenant: &TenantRecord,
    customer: &str,
    thread: &ThreadId,
    meta: &Value,
) -> String {
    // Where they asked: a chat, or a call put through or promised a call back.
    let place = match (
        meta.get("channel").and_then(Value::as_str),
        meta.pointer("/call/route").and_then(Value::as_str),
    ) {
        (Some("voice"), Some("transfer")) => {
            "on a call and was put through to your number (if nobody answered, call them back)"
        }
        (Some("voice"), _) => "on a call and was promised a call back on their number",
        _ => "on WhatsApp",
    };
    let tail: String = customer
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    match stage {
        Stage::Notice => format!(
            "{}: a customer (…{tail}) asked for a person {place}. Reply CLAIM to take them (thread {thread}).",
            tenant.name
        ),
        Stage::Reminder => format!(
            "{}: reminder — customer …{tail} is still waiting for a person (thread {thread}). Reply CLAIM to take them.",
            tenant.name
        ),
        Stage::Escalation => format!(
            "{}: ESCALATION — nobody has answered customer …{tail} (thread {thread}). Please step in now.",
            tenant.name
        ),
    }
}

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
    tenant: &TenantRecord,
    phone: &PhoneNumber,
) -> Result<Option<TenantAdmin>, StorageError> {
    let row: Option<(Uuid, String)> = sqlx::query_as(
        "SELECT id, phone_number FROM public.tenant_admins \
         WHERE tenant_id = $1 AND is_active IS NOT FALSE \
           AND regexp_replace(phone_number, '[^0-9]', '', 'g') = $2 \
         ORDER BY created_at LIMIT 1",
    )
    .bind(tenant.id.0)
    .bind(phone.digits())
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(|(id, phone)| TenantAdmin { id, phone }))
}

/// The phone number of admin `id` of `tenant`, if still active.
pub async fn admin_phone(
    db: &Db,
    tenant: &TenantRecord,
    id: Uuid,
) -> Result<Option<String>, StorageError> {
    Ok(sqlx::query_scalar(
        "SELECT phone_number FROM public.tenant_admins \
         WHERE tenant_id = $1 AND id = $2 AND is_active IS NOT FALSE",
    )
    .bind(tenant.id.0)
    .bind(id)
    .fetch_optional(db.pool())
    .await?)
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

/// What an admin's WhatsApp message asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminCommand<'a> {
    /// Take a waiting customer: the oldest, or the one whose thread id ends
    /// with these characters. `CLAIM` / `CHUKUA`.
    Claim(Option<&'a str>),
    /// Hand the claimed customer back to the bot. `CLOSE` / `FUNGA`.
    Close,
    /// Anything else: for the claimed customer, as it is.
    Relay(&'a str),
}

impl<'a> AdminCommand<'a> {
    pub fn parse(text: &'a str) -> Self {
        let text = text.trim();
        let mut words = text.split_whitespace();
        let first = words
            .next()
            .unwrap_or("")
            .trim_end_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase();
        let rest: Vec<&str> = words.collect();
        match (first.as_str(), rest.as_slice()) {
            ("claim" | "chukua", []) => Self::Claim(None),
            ("claim" | "chukua", [which]) => Self::Claim(Some(which)),
            ("close" | "funga", []) => Self::Close,
            _ => Self::Relay(text),
        }
    }
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

/// Closes a handed-off thread (closed_by_human); the customer's next
/// message reaches the bot again.
pub async fn close(
    tenant: &TenantHandle,
    record: &TenantRecord,
    thread: &ThreadId,
) -> Result<bool, StorageError> {
    let mut tx = tenant.begin().await?;
    let state = conv::load_checkpoint(&mut tx, thread).await?;
    let tz = record
        .timezone
        .parse()
        .unwrap_or(chrono_tz::Africa::Nairobi);
    let config = DialogConfig::new(
        tz,
        Default::default(),
        Personality::resolve(&record.vertical, None),
    );
    let mut dialog = Dialog::new(&config, state);
    dialog
        .handle_input(Input::HandoffClosed)
        .map_err(|e| StorageError::Corrupt(e.to_string()))?;
    conv::save_checkpoint(&mut tx, thread, dialog.state()).await?;
    let closed = conv::close_thread(&mut tx, thread, "closed_by_human").await?;
    tx.commit().await?;
    Ok(closed)
}

/// Runs [`sweep`] every `every` until the task is dropped.
pub fn spawn_sweeper(
    db: Db,
    notifier: Arc<dyn AdminNotifier>,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = sweep(&db, notifier.as_ref(), Utc::now()).await {
                tracing::warn!(error = %e, "hand-off sweep failed");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::AdminCommand;

    #[test]
    fn admin_commands_are_single_words_and_everything_else_is_relayed() {
        assert_eq!(AdminCommand::parse(" CLAIM "), AdminCommand::Claim(None));
        assert_eq!(AdminCommand::parse("chukua"), AdminCommand::Claim(None));
        assert_eq!(
            AdminCommand::parse("claim 3f9a"),
            AdminCommand::Claim(Some("3f9a"))
        );
        assert_eq!(AdminCommand::parse("Close."), AdminCommand::Close);
        assert_eq!(AdminCommand::parse("funga"), AdminCommand::Close);
        // A sentence that starts with a command word is a message.
        assert_eq!(
            AdminCommand::parse("Close to 5pm is fine, see you then"),
            AdminCommand::Relay("Close to 5pm is fine, see you then")
        );
        assert_eq!(
            AdminCommand::parse("Pole sana! I will call you."),
            AdminCommand::Relay("Pole sana! I will call you.")
        );
    }
}
