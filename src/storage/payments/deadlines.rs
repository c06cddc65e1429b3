//! A payment's deadlines and the notices it owes, one `payment_deadlines`
//! row per payment and [`PaymentDeadline`] (tenant migration 0009).
//!
//! * A chat payment's reminder and abandonment are claimed once, across
//!   nodes and restarts, when they fall due ([`claim_once`]).
//! * Telling the customer a final outcome is *owed* from the transaction
//!   that records the outcome ([`owe_notice`], called by
//!   [`super::record_outcome`]): nothing that happens to a node afterwards
//!   can lose it. A node claims the notice for a lease ([`claim_notice`],
//!   [`claim_due_notices`]), sends it and marks it told ([`notice_told`]);
//!   a send that failed is released to be tried again later
//!   ([`notice_failed`]); a node that died holding one leaves a lease that
//!   runs out, and another node's sweep takes it. A call that told its
//!   caller a failure on the line settles the same row ([`told_on_call`]),
//!   so the customer hears of an outcome once, one way or the other.

use std::time::Duration;

use sqlx::Row;
use uuid::Uuid;

use super::super::{StorageError, TenantHandle, TenantTx};
use crate::core::ids::ThreadId;

/// The `payment_deadlines.deadline` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentDeadline {
    /// A chat payment's reminder.
    Nudge,
    /// A chat payment given up on: the booking released.
    Abandon,
    /// The customer is told the payment's final outcome.
    Outcome,
    /// The customer is told that a payment recorded as failed was paid
    /// after all.
    LateSuccess,
}

impl PaymentDeadline {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nudge => "nudge",
            Self::Abandon => "abandon",
            Self::Outcome => "outcome",
            Self::LateSuccess => "late_success",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "nudge" => Self::Nudge,
            "abandon" => Self::Abandon,
            "outcome" => Self::Outcome,
            "late_success" => Self::LateSuccess,
            _ => return None,
        })
    }
}

/// How an owed notice was settled (`payment_deadlines.done_how`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Told {
    /// Sent on WhatsApp.
    WhatsApp,
    /// Said on the call, to the caller holding for it.
    OnTheCall,
    /// Written into a web chat (pushed to the widget if it is open; shown
    /// in its history when it is opened again).
    Web,
    /// The payment's thread has no chat to write to.
    NoChat,
    /// Sending kept failing; the last error is kept on the row.
    GaveUp,
}

impl Told {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WhatsApp => "whatsapp",
            Self::OnTheCall => "call",
            Self::Web => "web",
            Self::NoChat => "no_chat",
            Self::GaveUp => "gave_up",
        }
    }
}

/// Claims a deadline once, across nodes and restarts; true for the one
/// caller that wins it.
pub async fn claim_once(
    tenant: &TenantHandle,
    payment_id: Uuid,
    deadline: PaymentDeadline,
) -> Result<bool, StorageError> {
    let mut tx = tenant.begin().await?;
    let won = sqlx::query(
        "INSERT INTO payment_deadlines (payment_id, deadline, done_at, done_how) \
         VALUES ($1, $2, clock_timestamp(), 'sent') ON CONFLICT DO NOTHING",
    )
    .bind(payment_id)
    .bind(deadline.as_str())
    .execute(tx.conn())
    .await?
    .rows_affected()
        == 1;
    tx.commit().await?;
    Ok(won)
}

/// Whether a deadline of a payment has been claimed (or owed) already.
pub async fn is_claimed(
    tenant: &TenantHandle,
    payment_id: Uuid,
    deadline: PaymentDeadline,
) -> Result<bool, StorageError> {
    let mut tx = tenant.begin().await?;
    let claimed: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM payment_deadlines WHERE payment_id = $1 AND deadline = $2)",
    )
    .bind(payment_id)
    .bind(deadline.as_str())
    .fetch_one(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(claimed)
}

/// Records, in the transaction that records an outcome, that the customer
/// is owed a notice of it.
pub(super) async fn owe_notice(
    tx: &mut TenantTx,
    payment_id: Uuid,
    notice: PaymentDeadline,
    thread: &ThreadId,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO payment_deadlines (payment_id, deadline, thread_id) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(payment_id)
    .bind(notice.as_str())
    .bind(thread.as_str())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// An owed notice claimed by this node for a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwedNotice {
    pub payment_id: Uuid,
    pub notice: PaymentDeadline,
    pub thread_id: ThreadId,
    /// Tries so far, this one included.
    pub attempts: i32,
}

/// The open notices, claimable: not told, not leased (or the lease ran
/// out), due.
const CLAIMABLE: &str = "deadline IN ('outcome', 'late_success') AND done_at IS NULL \
     AND next_attempt_at <= clock_timestamp() \
     AND (locked_until IS NULL OR locked_until < clock_timestamp())";

/// Claims the open notice of one payment (the node that heard its outcome
/// tells it at once) for `lease`; `None` when there is none to claim (told
/// already, or another node holds it).
pub async fn claim_notice(
    tenant: &TenantHandle,
    payment_id: Uuid,
    node: &str,
    lease: Duration,
) -> Result<Option<OwedNotice>, StorageError> {
    let mut tx = tenant.begin().await?;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE payment_deadlines SET claimed_by = $2, attempts = attempts + 1, \
           locked_until = clock_timestamp() + make_interval(secs => $3) \
         WHERE (payment_id, deadline) = (SELECT payment_id, deadline FROM payment_deadlines \
           WHERE payment_id = $1 AND {CLAIMABLE} ORDER BY created_at LIMIT 1 \
           FOR UPDATE SKIP LOCKED) \
         RETURNING payment_id, deadline, thread_id, attempts"
    )))
    .bind(payment_id)
    .bind(node)
    .bind(lease.as_secs_f64())
    .fetch_optional(tx.conn())
    .await?;
    tx.commit().await?;
    row.as_ref().map(owed_from_row).transpose()
}

/// Claims up to `limit` open notices for `lease`: those retried after a
/// failure or left by a node that died, and those nobody took within
/// `unclaimed_for` of being owed (no node heard the outcome).
pub async fn claim_due_notices(
    tenant: &TenantHandle,
    node: &str,
    lease: Duration,
    unclaimed_for: Duration,
    limit: i64,
) -> Result<Vec<OwedNotice>, StorageError> {
    let mut tx = tenant.begin().await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE payment_deadlines SET claimed_by = $1, attempts = attempts + 1, \
           locked_until = clock_timestamp() + make_interval(secs => $2) \
         WHERE (payment_id, deadline) IN (SELECT payment_id, deadline FROM payment_deadlines \
           WHERE {CLAIMABLE} \
             AND (attempts > 0 OR created_at <= clock_timestamp() - make_interval(secs => $3)) \
           ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED) \
         RETURNING payment_id, deadline, thread_id, attempts"
    )))
    .bind(node)
    .bind(lease.as_secs_f64())
    .bind(unclaimed_for.as_secs_f64())
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    rows.iter().map(owed_from_row).collect()
}

fn owed_from_row(row: &sqlx::postgres::PgRow) -> Result<OwedNotice, StorageError> {
    let raw: String = row.try_get("deadline")?;
    let notice = PaymentDeadline::parse(&raw)
        .ok_or_else(|| StorageError::Corrupt(format!("payment deadline {raw:?}")))?;
    let thread: Option<String> = row.try_get("thread_id")?;
    Ok(OwedNotice {
        payment_id: row.try_get("payment_id")?,
        notice,
        thread_id: ThreadId::from_existing(thread.unwrap_or_default()),
        attempts: row.try_get("attempts")?,
    })
}

/// Marks a claimed notice settled.
pub async fn notice_told(
    tenant: &TenantHandle,
    owed: &OwedNotice,
    how: Told,
) -> Result<(), StorageError> {
    let mut tx = tenant.begin().await?;
    sqlx::query(
        "UPDATE payment_deadlines SET done_at = clock_timestamp(), done_how = $3, \
           locked_until = NULL \
         WHERE payment_id = $1 AND deadline = $2 AND done_at IS NULL",
    )
    .bind(owed.payment_id)
    .bind(owed.notice.as_str())
    .bind(how.as_str())
    .execute(tx.conn())
    .await?;
    tx.commit().await
}

/// Releases a claimed notice whose sending failed, to be tried again after
/// `retry_after`; with `None` it is given up ([`Told::GaveUp`]) and the
/// error kept for an operator.
pub async fn notice_failed(
    tenant: &TenantHandle,
    owed: &OwedNotice,
    error: &str,
    retry_after: Option<Duration>,
) -> Result<(), StorageError> {
    let mut tx = tenant.begin().await?;
    sqlx::query(
        "UPDATE payment_deadlines SET locked_until = NULL, last_error = $3, \
           next_attempt_at = clock_timestamp() + make_interval(secs => COALESCE($4, 0)), \
           done_at = CASE WHEN $4 IS NULL THEN clock_timestamp() END, \
           done_how = CASE WHEN $4 IS NULL THEN 'gave_up' END \
         WHERE payment_id = $1 AND deadline = $2 AND done_at IS NULL",
    )
    .bind(owed.payment_id)
    .bind(owed.notice.as_str())
    .bind(error.chars().take(500).collect::<String>())
    .bind(retry_after.map(|d| d.as_secs_f64()))
    .execute(tx.conn())
    .await?;
    tx.commit().await
}

/// A call told its caller the payment's (failed) outcome on the line: the
/// outcome notice is settled, unless a node is writing it already. True
/// when this settled it.
pub async fn told_on_call(tenant: &TenantHandle, payment_id: Uuid) -> Result<bool, StorageError> {
    let mut tx = tenant.begin().await?;
    let settled = sqlx::query(
        "INSERT INTO payment_deadlines (payment_id, deadline, done_at, done_how) \
         VALUES ($1, 'outcome', clock_timestamp(), 'call') \
         ON CONFLICT (payment_id, deadline) DO UPDATE SET \
           done_at = clock_timestamp(), done_how = 'call' \
         WHERE payment_deadlines.done_at IS NULL \
           AND (payment_deadlines.locked_until IS NULL \
                OR payment_deadlines.locked_until < clock_timestamp())",
    )
    .bind(payment_id)
    .execute(tx.conn())
    .await?
    .rows_affected()
        == 1;
    tx.commit().await?;
    Ok(settled)
}

/// Whether the outcome notice of a payment was settled by its call.
pub async fn was_told_on_call(
    tenant: &TenantHandle,
    payment_id: Uuid,
) -> Result<bool, StorageError> {
    let mut tx = tenant.begin().await?;
    let told: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM payment_deadlines WHERE payment_id = $1 \
           AND deadline = 'outcome' AND done_how = 'call')",
    )
    .bind(payment_id)
    .fetch_one(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(told)
}
