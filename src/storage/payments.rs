//! Payment rows (tenant `payments`), the routing bridge
//! (`public.payment_routing`) and the dead-letter table
//! (`public.payment_callbacks_unrouted`).
//!
//! Vendor writes go in three steps ([`initiate`], the provider call,
//! [`mark_pending`]): our row exists and is committed before the provider
//! hears of it, so nothing the provider does can be lost, and a reconciler
//! finds rows left `initiated` or `pending`.
//!
//! A provider outcome is recorded by [`apply_outcome`] (a callback's by
//! [`apply_callback`]), idempotent in three layers: a callback already
//! processed changes nothing (its `processed_callbacks` row, written in the
//! transaction of the change it made, or the identical stored
//! `callback_payload`); the status only moves forward (`initiated -> pending -> final`, in the UPDATE's
//! WHERE clause, so concurrent callbacks cannot both win); and the receipt is
//! unique (deferred constraint, checked at commit). The outcome is published
//! with `pg_notify` inside the same transaction, so listeners hear of it
//! exactly when it is committed.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;
use uuid::Uuid;

use super::{Db, StorageError, TenantHandle};
use crate::core::ids::{Currency, Money, PhoneNumber, TenantId, TenantSlug, ThreadId};
use crate::core::payment::callback::{CallbackFacts, Decision, NoChange, PaymentFacts, decide};
use crate::core::payment::{PaymentOutcome, PaymentStatus};

/// The Postgres channel every payment outcome is published on.
pub const NOTIFY_CHANNEL: &str = "ratiba_payments";

/// How long a routing row lives (and so how late a callback may be).
pub fn routing_ttl() -> Duration {
    Duration::hours(24)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Mpesa,
    Pesapal,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mpesa => "mpesa",
            Self::Pesapal => "pesapal",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "mpesa" => Some(Self::Mpesa),
            "pesapal" => Some(Self::Pesapal),
            _ => None,
        }
    }
}

/// A payment about to be started.
#[derive(Debug, Clone)]
pub struct NewPayment<'a> {
    pub tenant_id: TenantId,
    pub thread_id: &'a ThreadId,
    pub appointment_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub amount: Money,
    pub provider: Provider,
    pub phone: Option<&'a PhoneNumber>,
}

/// Step one done: our row and its routing exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Initiated {
    pub payment_id: Uuid,
    /// The unguessable reference that routes the provider's callback; also
    /// the token in the callback URL.
    pub merchant_reference: String,
}

/// One `payments` row.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentRow {
    pub id: Uuid,
    pub appointment_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub amount: Money,
    pub provider: Option<Provider>,
    pub status: PaymentStatus,
    pub mpesa_receipt: Option<String>,
    /// Daraja CheckoutRequestID, or PesaPal order_tracking_id.
    pub checkout_id: Option<String>,
    pub phone: Option<String>,
    pub initiated_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub callback_payload: Option<Value>,
}

/// The merchant reference of a payment: its id, 32 hex characters of a v4
/// UUID (122 random bits), which fits `payment_routing.merchant_reference`
/// (40), a PesaPal order id (50) and a URL path segment.
pub fn merchant_reference(payment_id: Uuid) -> String {
    payment_id.simple().to_string()
}

/// The payment id behind a merchant reference, if it has that shape.
pub fn payment_id_of(merchant_reference: &str) -> Option<Uuid> {
    if merchant_reference.len() != 32 {
        return None;
    }
    Uuid::try_parse(merchant_reference).ok()
}

/// Step one of the vendor write: the routing row (registry) and our
/// `initiated` payment row (tenant), both committed before the provider is
/// called.
pub async fn initiate(
    db: &Db,
    tenant: &TenantHandle,
    new: &NewPayment<'_>,
    now: DateTime<Utc>,
) -> Result<Initiated, StorageError> {
    let payment_id = Uuid::new_v4();
    let reference = merchant_reference(payment_id);
    sqlx::query(
        "INSERT INTO public.payment_routing \
         (merchant_reference, tenant_id, schema_name, thread_id, provider, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&reference)
    .bind(new.tenant_id.0)
    .bind(tenant.slug().schema_name())
    .bind(new.thread_id.as_str())
    .bind(new.provider.as_str())
    .bind(now + routing_ttl())
    .execute(db.pool())
    .await
    .map_err(StorageError::classify)?;

    let mut tx = tenant.begin().await?;
    sqlx::query(
        "INSERT INTO payments (id, appointment_id, contact_id, amount, currency, provider, \
         phone_number, status, initiated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'initiated', $8)",
    )
    .bind(payment_id)
    .bind(new.appointment_id)
    .bind(new.contact_id)
    .bind(Decimal::new(new.amount.minor, 2))
    .bind(new.amount.currency.as_str())
    .bind(new.provider.as_str())
    .bind(new.phone.map(|p| p.expose().to_owned()))
    .bind(now)
    .execute(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    if let Some(appointment_id) = new.appointment_id {
        sqlx::query(
            "UPDATE appointments SET payment_status = 'pending', updated_at = NOW() \
             WHERE id = $1 AND payment_status IS DISTINCT FROM 'paid'",
        )
        .bind(appointment_id)
        .execute(tx.conn())
        .await?;
    }
    tx.commit().await?;
    Ok(Initiated {
        payment_id,
        merchant_reference: reference,
    })
}

/// Step three: the provider accepted (or may have accepted) the request.
/// `checkout_id` is Daraja's CheckoutRequestID or PesaPal's tracking id;
/// `None` when the answer was lost.
pub async fn mark_pending(
    tenant: &TenantHandle,
    payment_id: Uuid,
    checkout_id: Option<&str>,
) -> Result<bool, StorageError> {
    let mut tx = tenant.begin().await?;
    let moved = sqlx::query(
        "UPDATE payments SET status = 'pending', \
         mpesa_checkout_id = COALESCE($2, mpesa_checkout_id) \
         WHERE id = $1 AND status = 'initiated'",
    )
    .bind(payment_id)
    .bind(checkout_id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(moved == 1)
}

/// Records a checkout id learnt later (e.g. from a callback after a lost
/// push answer) without changing the status.
pub async fn set_checkout_id(
    tenant: &TenantHandle,
    payment_id: Uuid,
    checkout_id: &str,
) -> Result<(), StorageError> {
    let mut tx = tenant.begin().await?;
    sqlx::query(
        "UPDATE payments SET mpesa_checkout_id = $2 WHERE id = $1 AND mpesa_checkout_id IS NULL",
    )
    .bind(payment_id)
    .bind(checkout_id)
    .execute(tx.conn())
    .await?;
    tx.commit().await
}

/// A routing row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub merchant_reference: String,
    pub tenant_id: TenantId,
    pub slug: TenantSlug,
    pub thread_id: ThreadId,
    pub provider: Provider,
    pub expires_at: DateTime<Utc>,
}

impl Route {
    pub fn payment_id(&self) -> Option<Uuid> {
        payment_id_of(&self.merchant_reference)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteLookup {
    Found(Route),
    /// Past its TTL (the reaper has not removed it yet).
    Expired(Route),
    Unknown,
}

/// Looks up where a callback belongs.
pub async fn route(
    db: &Db,
    merchant_reference: &str,
    now: DateTime<Utc>,
) -> Result<RouteLookup, StorageError> {
    if merchant_reference.is_empty() || merchant_reference.len() > 40 {
        return Ok(RouteLookup::Unknown);
    }
    let row = sqlx::query(
        "SELECT merchant_reference, tenant_id, schema_name, thread_id, provider, expires_at \
         FROM public.payment_routing WHERE merchant_reference = $1",
    )
    .bind(merchant_reference)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else {
        return Ok(RouteLookup::Unknown);
    };
    let schema: String = row.try_get("schema_name")?;
    let slug = schema
        .strip_prefix("tenant_")
        .and_then(|s| TenantSlug::parse(s).ok())
        .ok_or_else(|| StorageError::Corrupt(format!("routing schema_name {schema:?}")))?;
    let provider: String = row.try_get("provider")?;
    let route = Route {
        merchant_reference: row.try_get("merchant_reference")?,
        tenant_id: TenantId(row.try_get("tenant_id")?),
        slug,
        thread_id: ThreadId::from_existing(row.try_get::<String, _>("thread_id")?),
        provider: Provider::parse(&provider)
            .ok_or_else(|| StorageError::Corrupt(format!("routing provider {provider:?}")))?,
        expires_at: row.try_get("expires_at")?,
    };
    Ok(if route.expires_at <= now {
        RouteLookup::Expired(route)
    } else {
        RouteLookup::Found(route)
    })
}

/// Largest body kept verbatim in the review table; a larger or unreadable
/// one is kept as its first bytes.
const MAX_KEPT_BODY: usize = 16 * 1024;

/// A callback that changed nothing, to be kept with its reason.
#[derive(Debug, Clone, Copy)]
pub struct CallbackTrace<'a> {
    pub provider: Provider,
    pub raw_body: &'a [u8],
    /// The merchant reference (URL token) it came with.
    pub attempted_merchant_reference: Option<&'a str>,
    /// Why it changed nothing (`unknown_reference`, `duplicate`, ...).
    pub reason: &'a str,
    /// The payment it was routed to, when it was.
    pub payment_id: Option<Uuid>,
    /// Whether a person should look at it; a mere trace (a duplicate) is
    /// stored already reviewed.
    pub needs_review: bool,
}

/// The provider's id of a callback body: Daraja `CheckoutRequestID:
/// ResultCode`, PesaPal `OrderTrackingId:OrderNotificationType`, or the
/// SHA-256 of a body that has neither. A redelivery has the same id.
pub fn provider_ref(provider: Provider, raw_body: &[u8]) -> String {
    use sha2::Digest as _;
    let v: Option<Value> = serde_json::from_slice(raw_body).ok();
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let found = v.as_ref().and_then(|v| match provider {
        Provider::Mpesa => {
            let cb = v.pointer("/Body/stkCallback")?;
            let id = text(cb.get("CheckoutRequestID")?)?;
            let code = cb.get("ResultCode").and_then(text).unwrap_or_default();
            Some(format!("{id}:{code}"))
        }
        Provider::Pesapal => {
            let id = text(v.get("OrderTrackingId")?)?;
            let kind = v
                .get("OrderNotificationType")
                .and_then(text)
                .unwrap_or_default();
            Some(format!("{id}:{kind}"))
        }
    });
    found
        .map(|r| r.chars().take(200).collect())
        .unwrap_or_else(|| format!("sha256:{}", hex::encode(sha2::Sha256::digest(raw_body))))
}

/// Keeps a callback that changed nothing (unroutable, malformed, or
/// refused by the payment's rules) with its reason, once per provider id:
/// a redelivery for the same reason bumps `times_received` (and reopens
/// nothing).
pub async fn record_callback_trace(
    db: &Db,
    trace: CallbackTrace<'_>,
) -> Result<Uuid, StorageError> {
    let raw = trace.raw_body;
    let parsed = (raw.len() <= MAX_KEPT_BODY)
        .then(|| serde_json::from_slice::<Value>(raw).ok())
        .flatten();
    let payload = parsed.unwrap_or_else(|| {
        let head = &raw[..raw.len().min(MAX_KEPT_BODY)];
        serde_json::json!({
            "unparsed_body": String::from_utf8_lossy(head),
            "body_bytes": raw.len(),
        })
    });
    let attempted = trace
        .attempted_merchant_reference
        .map(|r| r.chars().take(40).collect::<String>());
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO public.payment_callbacks_unrouted \
         (provider, raw_payload, attempted_merchant_reference, reason, provider_ref, payment_id, \
          reviewed_at, resolution_note, last_received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7 THEN NULL ELSE NOW() END, \
                 CASE WHEN $7 THEN NULL ELSE 'no action needed: ' || $4 END, NOW()) \
         ON CONFLICT (provider, provider_ref, reason) DO UPDATE SET \
           times_received = payment_callbacks_unrouted.times_received + 1, \
           last_received_at = NOW() \
         RETURNING id",
    )
    .bind(trace.provider.as_str())
    .bind(payload)
    .bind(attempted)
    .bind(trace.reason)
    .bind(provider_ref(trace.provider, raw))
    .bind(trace.payment_id)
    .bind(trace.needs_review)
    .fetch_one(db.pool())
    .await?;
    Ok(id)
}

/// Keeps a callback nobody can route, verbatim, for ops to review.
pub async fn dead_letter(
    db: &Db,
    provider: Provider,
    raw_body: &[u8],
    attempted_merchant_reference: Option<&str>,
    reason: &str,
) -> Result<Uuid, StorageError> {
    record_callback_trace(
        db,
        CallbackTrace {
            provider,
            raw_body,
            attempted_merchant_reference,
            reason,
            payment_id: None,
            needs_review: true,
        },
    )
    .await
}

/// What [`apply_outcome`] did.
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

/// Records a final provider outcome on a payment, moves the appointment's
/// payment_status along, and publishes the outcome. Idempotent (see module
/// docs).
pub async fn apply_outcome(
    tenant: &TenantHandle,
    payment_id: Uuid,
    thread_id: &ThreadId,
    outcome: &PaymentOutcome,
    checkout_id: Option<&str>,
    payload: &Value,
    now: DateTime<Utc>,
) -> Result<Applied, StorageError> {
    let change = Change {
        payment_id,
        thread_id,
        outcome,
        checkout_id,
        amount_minor: None,
        payload,
        now,
    };
    apply(tenant, &change, None).await
}

/// Identifies one provider callback: a second delivery has the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackKey<'a> {
    pub provider: Provider,
    /// Daraja: `CheckoutRequestID:ResultCode`; PesaPal:
    /// `OrderTrackingId:status_code`.
    pub key: &'a str,
}

/// [`apply_outcome`] for a provider callback: a callback that changes the
/// payment is recorded in `processed_callbacks` in the same transaction, and
/// one already recorded changes nothing ([`Applied::Duplicate`]).
/// `amount_minor` is the amount the provider says moved, when it says:
/// a success for another amount than the payment's changes nothing.
#[allow(clippy::too_many_arguments)]
pub async fn apply_callback(
    tenant: &TenantHandle,
    payment_id: Uuid,
    thread_id: &ThreadId,
    outcome: &PaymentOutcome,
    checkout_id: Option<&str>,
    amount_minor: Option<i64>,
    payload: &Value,
    callback: CallbackKey<'_>,
    now: DateTime<Utc>,
) -> Result<Applied, StorageError> {
    let change = Change {
        payment_id,
        thread_id,
        outcome,
        checkout_id,
        amount_minor,
        payload,
        now,
    };
    apply(tenant, &change, Some(callback)).await
}

/// One outcome to record.
struct Change<'a> {
    payment_id: Uuid,
    thread_id: &'a ThreadId,
    outcome: &'a PaymentOutcome,
    checkout_id: Option<&'a str>,
    amount_minor: Option<i64>,
    payload: &'a Value,
    now: DateTime<Utc>,
}

/// Whether this callback was processed before (it changed the payment).
async fn callback_processed(
    tx: &mut super::TenantTx,
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
    tx: &mut super::TenantTx,
    callback: CallbackKey<'_>,
    payment_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let inserted = sqlx::query(
        "INSERT INTO processed_callbacks (provider, callback_key, payment_id, received_at)          VALUES ($1, $2, $3, $4) ON CONFLICT (provider, callback_key) DO NOTHING",
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

async fn apply(
    tenant: &TenantHandle,
    change: &Change<'_>,
    callback: Option<CallbackKey<'_>>,
) -> Result<Applied, StorageError> {
    let &Change {
        payment_id,
        thread_id,
        outcome,
        checkout_id,
        amount_minor,
        payload,
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
                Err(StorageError::Database(sqlx::Error::Database(e)))
                    if e.is_unique_violation() =>
                {
                    Ok(Applied::ReceiptConflict)
                }
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
    }
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
        Err(StorageError::Database(sqlx::Error::Database(e))) if e.is_unique_violation() => {
            Ok(Applied::ReceiptConflict)
        }
        Err(e) => Err(e),
    }
}

/// A NUMERIC(10,2) amount in minor units.
fn minor_units(amount: Decimal) -> Result<i64, StorageError> {
    (amount * Decimal::from(100))
        .round()
        .to_string()
        .parse::<i64>()
        .map_err(|_| StorageError::Corrupt(format!("payment amount {amount}")))
}

/// Marks a payment failed because the provider refused to start it.
pub async fn mark_rejected(
    tenant: &TenantHandle,
    payment_id: Uuid,
    thread_id: &ThreadId,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Applied, StorageError> {
    apply_outcome(
        tenant,
        payment_id,
        thread_id,
        &PaymentOutcome::Failed(crate::core::payment::FailureReason::Other(-1)),
        None,
        &serde_json::json!({"rejected": reason}),
        now,
    )
    .await
}

async fn publish(tx: &mut super::TenantTx, notice: &PaymentNotice) -> Result<(), StorageError> {
    let payload =
        serde_json::to_string(notice).map_err(|e| StorageError::Corrupt(format!("notice: {e}")))?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(NOTIFY_CHANNEL)
        .bind(payload)
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn find_payment(
    tenant: &TenantHandle,
    payment_id: Uuid,
) -> Result<Option<PaymentRow>, StorageError> {
    let mut tx = tenant.begin().await?;
    let row = sqlx::query(
        "SELECT id, appointment_id, contact_id, amount, currency, provider, status, \
         mpesa_receipt, mpesa_checkout_id, phone_number, initiated_at, completed_at, \
         callback_payload FROM payments WHERE id = $1",
    )
    .bind(payment_id)
    .fetch_optional(tx.conn())
    .await?;
    tx.commit().await?;
    row.as_ref().map(payment_from_row).transpose()
}

fn payment_from_row(row: &sqlx::postgres::PgRow) -> Result<PaymentRow, StorageError> {
    let minor = minor_units(row.try_get("amount")?)?;
    let currency = row
        .try_get::<Option<String>, _>("currency")?
        .and_then(|c| Currency::parse(&c).ok())
        .unwrap_or(Currency::KES);
    let status: Option<String> = row.try_get("status")?;
    let status = status
        .as_deref()
        .and_then(PaymentStatus::parse)
        .ok_or_else(|| StorageError::Corrupt(format!("payment status {status:?}")))?;
    Ok(PaymentRow {
        id: row.try_get("id")?,
        appointment_id: row.try_get("appointment_id")?,
        contact_id: row.try_get("contact_id")?,
        amount: Money::new(minor, currency),
        provider: row
            .try_get::<Option<String>, _>("provider")?
            .as_deref()
            .and_then(Provider::parse),
        status,
        mpesa_receipt: row.try_get("mpesa_receipt")?,
        checkout_id: row.try_get("mpesa_checkout_id")?,
        phone: row.try_get("phone_number")?,
        initiated_at: row.try_get("initiated_at")?,
        completed_at: row.try_get("completed_at")?,
        callback_payload: row.try_get("callback_payload")?,
    })
}

/// A payment still waiting for its outcome, with its route.
#[derive(Debug, Clone)]
pub struct OpenPayment {
    pub route: Route,
    pub payment: PaymentRow,
}

/// Every payment, across tenants, whose routing is live and whose status is
/// not final: what a node must pick up again after a restart.
pub async fn open_payments(db: &Db, now: DateTime<Utc>) -> Result<Vec<OpenPayment>, StorageError> {
    let refs: Vec<String> = sqlx::query_scalar(
        "SELECT merchant_reference FROM public.payment_routing \
         WHERE expires_at > $1 ORDER BY created_at",
    )
    .bind(now)
    .fetch_all(db.pool())
    .await?;
    let mut open = Vec::new();
    for reference in refs {
        let RouteLookup::Found(route) = self::route(db, &reference, now).await? else {
            continue;
        };
        let Some(payment_id) = route.payment_id() else {
            continue;
        };
        let tenant = db.tenant(&route.slug);
        let payment = match find_payment(&tenant, payment_id).await {
            Ok(Some(p)) => p,
            Ok(None) | Err(StorageError::UnknownTenant(_)) => continue,
            Err(e) => return Err(e),
        };
        if !payment.status.is_final() {
            open.push(OpenPayment { route, payment });
        }
    }
    Ok(open)
}

/// A chat payment given up on: the appointment is cancelled by the system
/// (unless it got paid meanwhile) and the thread closed as abandoned.
pub async fn abandon_chat_payment(
    tenant: &TenantHandle,
    appointment_id: Option<Uuid>,
    thread_id: &ThreadId,
    reason: &str,
) -> Result<bool, StorageError> {
    let mut tx = tenant.begin().await?;
    let mut cancelled = false;
    if let Some(appointment_id) = appointment_id {
        cancelled = sqlx::query(
            "UPDATE appointments SET status = 'cancelled', cancelled_by = 'system', \
             cancel_reason = $2, payment_status = 'unpaid', updated_at = NOW() \
             WHERE id = $1 AND payment_status IS DISTINCT FROM 'paid' \
             AND status IS DISTINCT FROM 'cancelled'",
        )
        .bind(appointment_id)
        .bind(reason)
        .execute(tx.conn())
        .await?
        .rows_affected()
            == 1;
    }
    sqlx::query(
        "UPDATE conversation_threads SET closed_at = NOW(), closed_reason = 'abandon' \
         WHERE thread_id = $1 AND closed_at IS NULL",
    )
    .bind(thread_id.as_str())
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(cancelled)
}

/// Claims a durable payment deadline (`"nudge"` or `"abandon"`) once, across
/// nodes and restarts. The claim is an outbound `interactions` row of type
/// `payment_deadline` (the message it stands for goes out on WhatsApp);
/// an advisory transaction lock serialises concurrent claimers. Returns
/// whether this caller won the claim.
pub async fn claim_deadline(
    tenant: &TenantHandle,
    payment_id: Uuid,
    deadline: &str,
) -> Result<bool, StorageError> {
    let mut tx = tenant.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(format!("payment-deadline:{payment_id}:{deadline}"))
        .execute(tx.conn())
        .await?;
    let exists = deadline_claimed_in(&mut tx, payment_id, deadline).await?;
    if exists {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO interactions (contact_id, channel, direction, message_type, metadata) \
         SELECT contact_id, 'whatsapp', 'outbound', 'payment_deadline', $2 \
         FROM payments WHERE id = $1",
    )
    .bind(payment_id)
    .bind(serde_json::json!({"payment_id": payment_id.to_string(), "deadline": deadline}))
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Whether a deadline of a payment has been claimed already.
pub async fn deadline_claimed(
    tenant: &TenantHandle,
    payment_id: Uuid,
    deadline: &str,
) -> Result<bool, StorageError> {
    let mut tx = tenant.begin().await?;
    let claimed = deadline_claimed_in(&mut tx, payment_id, deadline).await?;
    tx.commit().await?;
    Ok(claimed)
}

async fn deadline_claimed_in(
    tx: &mut super::TenantTx,
    payment_id: Uuid,
    deadline: &str,
) -> Result<bool, StorageError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM interactions WHERE message_type = 'payment_deadline' \
         AND metadata->>'payment_id' = $1 AND metadata->>'deadline' = $2)",
    )
    .bind(payment_id.to_string())
    .bind(deadline)
    .fetch_one(tx.conn())
    .await?)
}
