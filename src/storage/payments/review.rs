//! Callbacks that changed nothing, kept with their reason in
//! `public.payment_callbacks_unrouted`: unroutable or malformed ones (the
//! dead letters), and those a payment's rules refused or found redundant.

use serde_json::Value;
use uuid::Uuid;

use super::super::{Db, StorageError};
use crate::core::payment::Provider;

/// Largest body kept verbatim in the review table; a larger or unreadable
/// one is kept as its first bytes.
const MAX_KEPT_BODY: usize = 16 * 1024;

/// A callback that changed nothing, to be kept with its reason.
#[derive(Debug, Clone, Copy)]
pub struct CallbackTrace<'a> {
    pub provider: Provider,
    pub raw_body: &'a [u8],
    /// The provider's id of the callback (see
    /// [`crate::adapters::payments::callback_ref`]): one row per id and
    /// reason.
    pub provider_ref: &'a str,
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
    let provider_ref: String = trace.provider_ref.chars().take(200).collect();
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
    .bind(provider_ref)
    .bind(trace.payment_id)
    .bind(trace.needs_review)
    .fetch_one(db.pool())
    .await?;
    Ok(id)
}
