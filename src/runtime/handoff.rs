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

use super::conversation::BoxFuture;
use crate::core::dialog::personality::Personality;
use crate::core::dialog::{Dialog, DialogConfig, Input};
use crate::core::ids::ThreadId;
use crate::storage::conversation as conv;
use crate::storage::handoff::{self as store, StartedHandoff};
use crate::storage::{Db, StorageError, TenantHandle, TenantRecord};

pub use crate::storage::handoff::{
    HandedOff, LogLine, OpenHandoff, TenantAdmin, admin_by_phone, admin_phone, admin_reply, claim,
    claimant, claimed_by, open_handoffs, thread_log, waiting,
};

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
        for started in store::lock_unclaimed(&mut tx).await? {
            let StartedHandoff {
                id,
                thread,
                customer_phone: customer,
                metadata: mut meta,
            } = started;
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
                store::set_metadata(&mut tx, id, &meta).await?;
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
    let why = why(meta);
    match stage {
        Stage::Notice => format!(
            "{}: a customer (…{tail}) {why} {place}. Reply CLAIM to take them (thread {thread}).",
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

/// What the customer did that needs a person, for the notice.
fn why(meta: &Value) -> &'static str {
    match meta.get("reason").and_then(Value::as_str) {
        Some("payment_problem") => {
            "reported a payment gone wrong (money taken with no confirmation, paid twice or a wrong amount)"
        }
        Some("complaint") => {
            "complained about a service (harm done, a rude stylist, a long wait, or a refund)"
        }
        _ => "asked for a person",
    }
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
    use super::{AdminCommand, why};
    use crate::core::dialog::HandoffReason;

    #[test]
    fn the_notice_says_a_payment_problem_is_one() {
        let meta = |reason| serde_json::json!({ "reason": reason });
        assert!(why(&meta(HandoffReason::PaymentProblem)).contains("payment gone wrong"));
        assert_eq!(why(&meta(HandoffReason::Requested)), "asked for a person");
        assert!(why(&meta(HandoffReason::Complaint)).contains("complained"));
        assert_eq!(why(&serde_json::json!({})), "asked for a person");
    }

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
