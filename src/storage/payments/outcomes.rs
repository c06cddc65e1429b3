//! Recording a provider's outcome on a payment, once.
//!
//! [`record_outcome`] is idempotent in three layers: a callback already
//! processed changes nothing (its `processed_callbacks` row, written in the
//! transaction of the change it made, or the identical stored
//! `callback_payload`); the status only moves forward (`initiated ->
//! pending -> final`, in the UPDATE's WHERE clause, so concurrent callbacks
//! cannot both win); and the receipt is unique (deferred constraint,
//! checked at commit). In the same transaction the outcome is published
//! with `pg_notify`, so listeners hear of it exactly when it is committed,
//! and the notice the customer is owed is recorded
//! ([`super::deadlines`]), so telling them survives any node dying.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;
use uuid::Uuid;

use super::super::{Db, StorageError, TenantHandle, TenantTx};
use super::deadlines::{PaymentDeadline, owe_notice};
use super::minor_units;
use crate::core::ids::{TenantSlug, ThreadId};
use crate::core::payment::callback::{CallbackFacts, Decision, NoChange, PaymentFacts, decide};
use crate::core::payment::{FailureReason, PaymentOutcome, PaymentStatus, Provider};

/// The Postgres channel every payment outcome is published on.
pub const NOTIFY_CHANNEL: &str = "ratiba_payments";

/// What [`record_outcome`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The outcome was recorded and published.
    Recorded {
        status: PaymentStatus,
        appointment_id: Option<Uuid>,
    },
    /// A success with a receipt after a failure: the payment was completed
    /// (recorded and published); kept for review too.
    LateSuccess {
        overridden: PaymentStatus,
        appointment_id: Option<Uuid>,
    },
    /// The same callback was already recorded: nothing changed.
    Duplicate,
    /// The payment was already completed without a receipt; the receipt
    /// was added.
    ReceiptAdded,
    /// The payment already has a final status: nothing changed.
    AlreadyFinal { status: PaymentStatus },
    /// The receipt is already recorded on another payment: refused.
    ReceiptConflict,
    /// The callback names a different checkout than the payment's.
    CheckoutMismatch,
    /// A success for another amount than the payment's: refused.
    AmountMismatch,
    /// Another kind of no-change that needs review (a second receipt on a
    /// completed payment, a success without receipt after a failure).
    Refused(NoChange),
    /// No such payment in this tenant.
    UnknownPayment,
}

impl Applied {
    fn from_no_change(why: NoChange) -> Self {
        match why {
            NoChange::Duplicate => Self::Duplicate,
            NoChange::CheckoutMismatch => Self::CheckoutMismatch,
            NoChange::AmountMismatch => Self::AmountMismatch,
            NoChange::ReceiptConflict => Self::ReceiptConflict,
            NoChange::LateAfterFinal(status) => Self::AlreadyFinal { status },
            other @ (NoChange::LateSuccessWithoutReceipt(_) | NoChange::SecondReceipt) => {
                Self::Refused(other)
            }
        }
    }

    /// Whether the outcome was recorded (and published).
    pub fn recorded(&self) -> bool {
        matches!(self, Self::Recorded { .. } | Self::LateSuccess { .. })
    }

    /// Why this changed nothing, when it did (the trace to keep); a late
    /// success that changed the payment is kept for review too.
    pub fn trace(&self) -> Option<(String, bool)> {
        let why = match self {
            Self::Recorded { .. } | Self::ReceiptAdded | Self::UnknownPayment => return None,
            Self::LateSuccess { overridden, .. } => {
                return Some((format!("late_success_after_{overridden}_completed"), true));
            }
            Self::Duplicate => NoChange::Duplicate,
            Self::AlreadyFinal { status } => NoChange::LateAfterFinal(*status),
            Self::ReceiptConflict => NoChange::ReceiptConflict,
            Self::CheckoutMismatch => NoChange::CheckoutMismatch,
            Self::AmountMismatch => NoChange::AmountMismatch,
            Self::Refused(why) => *why,
        };
        Some((why.reason(), why.needs_review()))
    }
}

/// The message published on [`NOTIFY_CHANNEL`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentNotice {
    pub tenant: TenantSlug,
    pub payment_id: Uuid,
    pub thread_id: ThreadId,
    pub status: String,
    pub receipt: Option<String>,
    /// Daraja-style result code of the outcome (see
    /// [`PaymentOutcome::result_code`]).
    pub result_code: i64,
}

impl PaymentNotice {
    pub fn status(&self) -> Option<PaymentStatus> {
        PaymentStatus::parse(&self.status)
    }

    pub fn outcome(&self) -> PaymentOutcome {
        PaymentOutcome::from_daraja(self.result_code, self.receipt.clone())
    }
}

/// A connection LISTENing on [`NOTIFY_CHANNEL`]: every outcome recorded on
/// any node, as it is committed.
pub struct OutcomeListener {
    inner: sqlx::postgres::PgListener,
}

/// What an [`OutcomeListener`] heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    Notice(PaymentNotice),
    /// A payload that is not a notice (kept out of the way).
    Unreadable(String),
    /// The connection was lost and made again: notices sent meanwhile are
    /// gone, so whoever waits must read the rows again.
    Reconnected,
}

impl OutcomeListener {
    /// Connects and LISTENs (in place when this returns).
    pub async fn start(db: &Db) -> Result<Self, StorageError> {
        let mut inner = sqlx::postgres::PgListener::connect_with(db.pool()).await?;
        inner.listen(NOTIFY_CHANNEL).await?;
        Ok(Self { inner })
    }

    /// The next thing heard; an error when the connection failed and could
    /// not be made again yet.
    pub async fn next(&mut self) -> Result<Heard, StorageError> {
        Ok(match self.inner.try_recv().await? {
            Some(n) => match serde_json::from_str::<PaymentNotice>(n.payload()) {
                Ok(notice) => Heard::Notice(notice),
                Err(e) => Heard::Unreadable(e.to_string()),
            },
            None => Heard::Reconnected,
        })
    }
}

/// Identifies one provider callback: a second delivery has the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackKey<'a> {
    pub provider: Provider,
    /// Daraja: `CheckoutRequestID:ResultCode`; PesaPal:
    /// `OrderTrackingId:status_code`.
    pub key: &'a str,
}

/// One provider outcome to record on a payment.
#[derive(Debug, Clone, Copy)]
pub struct Outcome<'a> {
    pub payment_id: Uuid,
    pub thread_id: &'a ThreadId,
    pub outcome: &'a PaymentOutcome,
    /// The provider's id of the payment it names (checked against ours,
    /// stored when we have none).
    pub checkout_id: Option<&'a str>,
    /// The amount the provider says moved, unverified (a callback body):
    /// a success for another amount than the payment's changes nothing.
    pub amount_minor: Option<i64>,
    /// What to keep of the provider's answer (`callback_payload`).
    pub payload: &'a Value,
    /// The callback that brought it, if one did: a callback that changes
    /// the payment is recorded in `processed_callbacks` in the same
    /// transaction, and one already recorded changes nothing
    /// ([`Applied::Duplicate`]). `None` for a status query's answer or our
    /// own refusal.
    pub callback: Option<CallbackKey<'a>>,
    pub now: DateTime<Utc>,
}

/// Records a final provider outcome on a payment, moves the appointment's
/// payment_status along, publishes the outcome and owes the customer a
/// notice of it. Idempotent (see module docs).
pub async fn record_outcome(
    tenant: &TenantHandle,
    change: &Outcome<'_>,
) -> Result<Applied, StorageError> {
    let &Outcome {
        payment_id,
        thread_id,
        outcome,
        checkout_id,
        amount_minor,
        payload,
        callback,
        now,
    } = change;
    let mut tx = tenant.begin().await?;
    let row = sqlx::query(
        "SELECT status, mpesa_checkout_id, callback_payload, appointment_id, mpesa_receipt, amount \
         FROM payments WHERE id = $1 FOR UPDATE",
    )
    .bind(payment_id)
    .fetch_optional(tx.conn())
    .await?;
    let Some(row) = row else {
        return Ok(Applied::UnknownPayment);
    };
    let raw_status: Option<String> = row.try_get("status")?;
    let current = raw_status
        .as_deref()
        .and_then(PaymentStatus::parse)
        .unwrap_or(PaymentStatus::Initiated);
    let stored_payload: Option<Value> = row.try_get("callback_payload")?;
    let already_processed = stored_payload.as_ref() == Some(payload)
        || match callback {
            Some(cb) => callback_processed(&mut tx, cb).await?,
            None => false,
        };
    let stored_checkout: Option<String> = row.try_get("mpesa_checkout_id")?;
    let stored_receipt: Option<String> = row.try_get("mpesa_receipt")?;
    let amount: Decimal = row.try_get("amount")?;
    let receipt = outcome.receipt();
    let receipt_taken = match receipt {
        Some(r) => {
            sqlx::query_scalar::<_, bool>(
                "SELECT EXISTS (SELECT 1 FROM payments WHERE mpesa_receipt = $1 AND id <> $2)",
            )
            .bind(r)
            .bind(payment_id)
            .fetch_one(tx.conn())
            .await?
        }
        None => false,
    };
    let decision = decide(
        PaymentFacts {
            status: current,
            checkout_id: stored_checkout.as_deref(),
            receipt: stored_receipt.as_deref(),
            amount_minor: minor_units(amount)?,
        },
        CallbackFacts {
            outcome,
            checkout_id,
            amount_minor,
            already_processed,
            receipt_taken,
        },
    );
    let (next, overrides) = match decision {
        Decision::NoChange(why) => return Ok(Applied::from_no_change(why)),
        Decision::AddReceipt => {
            // Confirmed earlier by a status query (which carries no
            // receipt); the callback supplies it. The status does not change.
            if let Some(cb) = callback
                && !record_callback(&mut tx, cb, payment_id, now).await?
            {
                return Ok(Applied::Duplicate);
            }
            sqlx::query(
                "UPDATE payments SET mpesa_receipt = $2, callback_payload = $3 \
                 WHERE id = $1 AND mpesa_receipt IS NULL",
            )
            .bind(payment_id)
            .bind(receipt)
            .bind(payload)
            .execute(tx.conn())
            .await?;
            return match tx.commit().await {
                Ok(()) => Ok(Applied::ReceiptAdded),
                Err(e) if is_unique_violation(&e) => Ok(Applied::ReceiptConflict),
                Err(e) => Err(e),
            };
        }
        Decision::Record { status, overrides } => (status, overrides),
    };
    if let Some(cb) = callback
        && !record_callback(&mut tx, cb, payment_id, now).await?
    {
        return Ok(Applied::Duplicate);
    }
    let moved = sqlx::query(
        "UPDATE payments SET status = $2, mpesa_receipt = COALESCE($3, mpesa_receipt), \
         completed_at = CASE WHEN $2 = 'completed' THEN $4 ELSE completed_at END, \
         callback_payload = $5, mpesa_checkout_id = COALESCE(mpesa_checkout_id, $6) \
         WHERE id = $1 AND status IS NOT DISTINCT FROM $7",
    )
    .bind(payment_id)
    .bind(next.as_str())
    .bind(receipt)
    .bind(now)
    .bind(payload)
    .bind(checkout_id)
    .bind(raw_status.as_deref())
    .execute(tx.conn())
    .await?
    .rows_affected();
    if moved != 1 {
        return Ok(Applied::AlreadyFinal { status: current });
    }
    let appointment_id: Option<Uuid> = row.try_get("appointment_id")?;
    if let Some(appointment_id) = appointment_id {
        // A failure never undoes a payment made by another attempt.
        sqlx::query(
            "UPDATE appointments SET payment_status = $2, \
             payment_ref = COALESCE($3, payment_ref), updated_at = NOW() \
             WHERE id = $1 AND payment_status IS DISTINCT FROM 'paid'",
        )
        .bind(appointment_id)
        .bind(next.appointment_payment_status())
        .bind(receipt)
        .execute(tx.conn())
        .await?;
        if next == PaymentStatus::Completed {
            // STK as oracle: a web session that claimed the paying number
            // is that customer (docs/web.md).
            let promoted =
                crate::storage::web::promote_paid_sessions(&mut tx, appointment_id, now).await?;
            if promoted > 0 {
                tracing::info!(promoted, "web session promoted by its paid M-Pesa prompt");
            }
        }
    }
    let owed = match overrides {
        Some(_) => PaymentDeadline::LateSuccess,
        None => PaymentDeadline::Outcome,
    };
    owe_notice(&mut tx, payment_id, owed, thread_id).await?;
    let notice = PaymentNotice {
        tenant: tenant.slug().clone(),
        payment_id,
        thread_id: thread_id.clone(),
        status: next.as_str().to_owned(),
        receipt: receipt.map(str::to_owned),
        result_code: outcome.result_code(),
    };
    publish(&mut tx, &notice).await?;
    match tx.commit().await {
        Ok(()) => Ok(match overrides {
            Some(overridden) => Applied::LateSuccess {
                overridden,
                appointment_id,
            },
            None => Applied::Recorded {
                status: next,
                appointment_id,
            },
        }),
        Err(e) if is_unique_violation(&e) => Ok(Applied::ReceiptConflict),
        Err(e) => Err(e),
    }
}

fn is_unique_violation(e: &StorageError) -> bool {
    matches!(e, StorageError::Database(sqlx::Error::Database(db)) if db.is_unique_violation())
}

/// Marks a payment failed because the provider refused to start it.
pub async fn mark_rejected(
    tenant: &TenantHandle,
    payment_id: Uuid,
    thread_id: &ThreadId,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Applied, StorageError> {
    record_outcome(
        tenant,
        &Outcome {
            payment_id,
            thread_id,
            outcome: &PaymentOutcome::Failed(FailureReason::Other(-1)),
            checkout_id: None,
            amount_minor: None,
            payload: &serde_json::json!({"rejected": reason}),
            callback: None,
            now,
        },
    )
    .await
}

/// Whether this callback was processed before (it changed the payment).
async fn callback_processed(
    tx: &mut TenantTx,
    callback: CallbackKey<'_>,
) -> Result<bool, StorageError> {
    let found: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM processed_callbacks WHERE provider = $1 AND callback_key = $2",
    )
    .bind(callback.provider.as_str())
    .bind(callback.key)
    .fetch_optional(tx.conn())
    .await?;
    Ok(found.is_some())
}

/// Records the callback as processed; false when it was already.
async fn record_callback(
    tx: &mut TenantTx,
    callback: CallbackKey<'_>,
    payment_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let inserted = sqlx::query(
        "INSERT INTO processed_callbacks (provider, callback_key, payment_id, received_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (provider, callback_key) DO NOTHING",
    )
    .bind(callback.provider.as_str())
    .bind(callback.key)
    .bind(payment_id)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

async fn publish(tx: &mut TenantTx, notice: &PaymentNotice) -> Result<(), StorageError> {
    let payload =
        serde_json::to_string(notice).map_err(|e| StorageError::Corrupt(format!("notice: {e}")))?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(NOTIFY_CHANNEL)
        .bind(payload)
        .execute(tx.conn())
        .await?;
    Ok(())
}
