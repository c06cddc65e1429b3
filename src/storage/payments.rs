//! Payment rows (tenant `payments`), the routing bridge
//! (`public.payment_routing`), and, by job:
//!
//! * [`outcomes`]: recording a provider outcome once and publishing it;
//! * [`deadlines`]: chat payment deadlines and the notices a payment owes
//!   its customer (`payment_deadlines`);
//! * [`review`]: callbacks that changed nothing, kept with their reason
//!   (`public.payment_callbacks_unrouted`).
//!
//! Every function serves both providers; the provider is a parameter.
//!
//! Vendor writes go in three steps ([`initiate`], the provider call,
//! [`mark_pending`]): our row exists and is committed before the provider
//! hears of it, so nothing the provider does can be lost, and a reconciler
//! finds rows left `initiated` or `pending`.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::Row;
use uuid::Uuid;

use super::{Db, StorageError, TenantHandle, TenantTx};
use crate::core::ids::{Currency, Money, PhoneNumber, TenantId, TenantSlug, ThreadId};
use crate::core::payment::PaymentStatus;
pub use crate::core::payment::Provider;

pub mod deadlines;
pub mod outcomes;
pub mod review;

pub use deadlines::{OwedNotice, PaymentDeadline, Told};
pub use outcomes::{
    Applied, CallbackKey, Heard, NOTIFY_CHANNEL, Outcome, OutcomeListener, PaymentNotice,
    mark_rejected, record_outcome,
};
pub use review::{CallbackTrace, record_callback_trace};

/// How long a routing row lives (and so how late a callback may be).
pub fn routing_ttl() -> Duration {
    Duration::hours(24)
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

/// A NUMERIC(10,2) amount in minor units.
pub(crate) fn minor_units(amount: Decimal) -> Result<i64, StorageError> {
    (amount * Decimal::from(100))
        .round()
        .to_string()
        .parse::<i64>()
        .map_err(|_| StorageError::Corrupt(format!("payment amount {amount}")))
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

/// A customer's latest payment attempt of a booking neither cancelled nor
/// paid, while it is open with its provider or after it failed: what their
/// messages are read against first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpaidAttempt {
    pub payment_id: Uuid,
    pub appointment_id: Uuid,
    pub provider: Provider,
    /// No final outcome yet (`initiated` or `pending`).
    pub open: bool,
    /// The provider's reference is stored: its status can be asked.
    pub has_reference: bool,
    pub initiated_at: Option<DateTime<Utc>>,
    /// M-Pesa prompts made for the booking so far.
    pub pushes: i64,
}

/// The latest payment attempt paid from `phone`, when it is open or
/// failed, its booking is neither cancelled nor paid, and the booking has
/// no later attempt.
pub async fn latest_unpaid_attempt(
    tx: &mut TenantTx,
    phone: &PhoneNumber,
) -> Result<Option<UnpaidAttempt>, StorageError> {
    let row = sqlx::query(
        "SELECT p.id, p.appointment_id, p.provider, p.status, p.mpesa_checkout_id, p.initiated_at, \
                (SELECT count(*) FROM payments q WHERE q.appointment_id = p.appointment_id \
                   AND q.provider = 'mpesa') AS pushes \
         FROM payments p JOIN appointments a ON a.id = p.appointment_id \
         WHERE p.phone_number = $1 \
           AND p.status IN ('initiated', 'pending', 'failed', 'timeout', 'cancelled_by_customer') \
           AND a.status <> 'cancelled' AND a.payment_status IS DISTINCT FROM 'paid' \
           AND NOT EXISTS (SELECT 1 FROM payments later \
                 WHERE later.appointment_id = p.appointment_id AND later.created_at > p.created_at) \
         ORDER BY p.created_at DESC LIMIT 1",
    )
    .bind(phone.expose())
    .fetch_optional(tx.conn())
    .await?;
    let Some(r) = row else {
        return Ok(None);
    };
    let status: Option<String> = r.try_get("status")?;
    let status = status
        .as_deref()
        .and_then(PaymentStatus::parse)
        .ok_or_else(|| StorageError::Corrupt(format!("payment status {status:?}")))?;
    // Rows from before the provider column were M-Pesa prompts.
    let provider = r
        .try_get::<Option<String>, _>("provider")?
        .as_deref()
        .and_then(Provider::parse)
        .unwrap_or(Provider::Mpesa);
    Ok(Some(UnpaidAttempt {
        payment_id: r.try_get("id")?,
        appointment_id: r.try_get("appointment_id")?,
        provider,
        open: !status.is_final(),
        has_reference: r
            .try_get::<Option<String>, _>("mpesa_checkout_id")?
            .is_some_and(|c| !c.is_empty()),
        initiated_at: r.try_get("initiated_at")?,
        pushes: r.try_get("pushes")?,
    }))
}

/// Who a payment's thread can be written to: the customer's number and
/// whether the thread began as a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentChat {
    pub customer_phone: String,
    pub began_as_call: bool,
}

/// The WhatsApp chat behind a payment's thread (a call's thread too when
/// `with_calls`: its caller is written to at the number that called).
pub async fn payment_chat(
    tx: &mut TenantTx,
    thread: &ThreadId,
    with_calls: bool,
) -> Result<Option<PaymentChat>, StorageError> {
    let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT customer_phone, channel_started FROM conversation_threads \
         WHERE thread_id = $1 \
           AND (channel_started = 'whatsapp' OR ($2 AND channel_started = 'voice')) LIMIT 1",
    )
    .bind(thread.as_str())
    .bind(with_calls)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.and_then(|(phone, channel)| {
        Some(PaymentChat {
            customer_phone: phone?,
            began_as_call: channel.as_deref() == Some("voice"),
        })
    }))
}

/// A new WhatsApp thread of `phone` for a payment link a call promised (its
/// outcome is then confirmed there).
pub async fn open_link_thread(
    tx: &mut TenantTx,
    phone: &PhoneNumber,
    thread: &ThreadId,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO conversation_threads (customer_phone, thread_id, channel_started, actor_type) \
         VALUES ($1, $2, 'whatsapp', 'customer')",
    )
    .bind(phone.expose())
    .bind(thread.as_str())
    .execute(tx.conn())
    .await?;
    Ok(())
}
