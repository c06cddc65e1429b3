//! The review queues of the registry: payment callbacks that changed
//! nothing (public.payment_callbacks_unrouted) and WhatsApp messages to
//! numbers no tenant had (public.inbound_quarantine).
//!
//! A tenant sees only its own traffic: callbacks whose merchant reference
//! was routed to it (public.payment_routing) or that name one of its
//! payments, and quarantined messages to its WhatsApp phone_number_id (sent
//! before the number was connected, or while it was not). The platform
//! sees everything.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::core::ids::TenantId;
use crate::storage::{Db, StorageError};

/// Whose rows a caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueScope {
    Platform,
    Tenant {
        id: TenantId,
        whatsapp_phone_number_id: Option<String>,
    },
}

/// Which rows to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    /// Waiting for a person (the default).
    #[default]
    Open,
    Reviewed,
    All,
}

impl ReviewState {
    fn as_str(self) -> &'static str {
        match self {
            ReviewState::Open => "open",
            ReviewState::Reviewed => "reviewed",
            ReviewState::All => "all",
        }
    }
}

/// A payment callback that changed nothing.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct UnroutedCallback {
    pub id: Uuid,
    pub provider: String,
    pub raw_payload: Value,
    pub received_at: DateTime<Utc>,
    pub attempted_merchant_reference: Option<String>,
    /// Why it is here (unknown_reference, amount_mismatch, ...).
    pub reason: Option<String>,
    pub times_received: i32,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub reviewed_by: Option<Uuid>,
    pub resolution_note: Option<String>,
}

/// A message to a WhatsApp number, Instagram account or Facebook page no
/// tenant had (or had switched on).
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct QuarantinedMessage {
    pub id: Uuid,
    pub received_at: DateTime<Utc>,
    /// whatsapp | instagram | messenger
    pub channel: String,
    /// The WhatsApp phone_number_id, Instagram account id or page id.
    pub to_phone_number_id: String,
    /// The sender's number (WhatsApp) or scoped id (IGSID, PSID).
    pub from_phone: String,
    pub raw_payload: Value,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub reviewed_by: Option<Uuid>,
    pub resolution_note: Option<String>,
}

fn tenant_params(scope: &QueueScope) -> (Option<Uuid>, Option<String>) {
    match scope {
        QueueScope::Platform => (None, None),
        QueueScope::Tenant {
            id,
            whatsapp_phone_number_id,
        } => (Some(id.0), whatsapp_phone_number_id.clone()),
    }
}

// $1 tenant id (NULL: platform). A tenant's callbacks: routed to it by
// merchant reference.
const CALLBACK_SCOPE: &str = "($1::uuid IS NULL OR c.attempted_merchant_reference IN \
     (SELECT r.merchant_reference FROM public.payment_routing r WHERE r.tenant_id = $1))";
// $1 tenant id (NULL: platform), $2 the tenant's phone_number_id.
const QUARANTINE_SCOPE: &str =
    "($1::uuid IS NULL OR ($2::text IS NOT NULL AND q.to_phone_number_id = $2))";
/// The review-state filter on parameter `$n`.
fn state_filter(n: u8) -> String {
    format!("(${n} = 'all' OR (${n} = 'open') = (reviewed_at IS NULL))")
}

const CALLBACK_COLUMNS: &str = "c.id, c.provider, c.raw_payload, c.received_at, \
     c.attempted_merchant_reference, c.reason, c.times_received, c.reviewed_at, c.reviewed_by, \
     c.resolution_note";
const QUARANTINE_COLUMNS: &str = "q.id, q.received_at, q.channel, q.to_phone_number_id, q.from_phone, \
     q.raw_payload, q.reviewed_at, q.reviewed_by, q.resolution_note";

/// Unrouted payment callbacks in scope, oldest first (at most `limit`).
pub async fn callbacks(
    db: &Db,
    scope: &QueueScope,
    state: ReviewState,
    limit: i64,
) -> Result<Vec<UnroutedCallback>, StorageError> {
    let (tenant, _) = tenant_params(scope);
    let state_sql = state_filter(2);
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CALLBACK_COLUMNS} FROM public.payment_callbacks_unrouted c \
         WHERE {CALLBACK_SCOPE} AND {state_sql} ORDER BY c.received_at, c.id LIMIT $3"
    )))
    .bind(tenant)
    .bind(state.as_str())
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// Quarantined messages in scope, oldest first (at most `limit`).
pub async fn quarantine(
    db: &Db,
    scope: &QueueScope,
    state: ReviewState,
    limit: i64,
) -> Result<Vec<QuarantinedMessage>, StorageError> {
    let (tenant, wa) = tenant_params(scope);
    let state_sql = state_filter(3);
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {QUARANTINE_COLUMNS} FROM public.inbound_quarantine q \
         WHERE {QUARANTINE_SCOPE} AND {state_sql} ORDER BY q.received_at, q.id LIMIT $4"
    )))
    .bind(tenant)
    .bind(wa)
    .bind(state.as_str())
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// What resolving a row found.
#[derive(Debug)]
pub enum ResolvedRow<T> {
    Done(T),
    /// No such row in the caller's scope.
    NotFound,
    /// Someone reviewed it already.
    AlreadyReviewed,
}

/// Who reviewed which row, when, and why.
struct Review<'a> {
    id: Uuid,
    by: Uuid,
    note: &'a str,
    now: DateTime<Utc>,
}

/// Sets a locked, not yet reviewed row of a review queue reviewed.
/// `table` is the queue's table with the alias its `columns` use (one of
/// this module's constants, never input).
async fn mark_reviewed<T>(
    tx: &mut sqlx::PgConnection,
    table: &str,
    columns: &str,
    review: Review<'_>,
) -> Result<T, StorageError>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    let alias = table.rsplit(' ').next().unwrap_or(table);
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET reviewed_at = $2, reviewed_by = $3, resolution_note = $4 \
         WHERE {alias}.id = $1 RETURNING {columns}"
    )))
    .bind(review.id)
    .bind(review.now)
    .bind(review.by)
    .bind(review.note)
    .fetch_one(tx)
    .await
    .map_err(StorageError::classify)
}

/// Marks a callback reviewed by `by` with a note.
pub async fn resolve_callback(
    db: &Db,
    scope: &QueueScope,
    id: Uuid,
    by: Uuid,
    note: &str,
    now: DateTime<Utc>,
) -> Result<ResolvedRow<UnroutedCallback>, StorageError> {
    let (tenant, _) = tenant_params(scope);
    let mut tx = db.pool().begin().await?;
    let row: Option<UnroutedCallback> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CALLBACK_COLUMNS} FROM public.payment_callbacks_unrouted c \
         WHERE c.id = $2 AND {CALLBACK_SCOPE} FOR UPDATE"
    )))
    .bind(tenant)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(ResolvedRow::NotFound);
    };
    if row.reviewed_at.is_some() {
        return Ok(ResolvedRow::AlreadyReviewed);
    }
    let row = mark_reviewed(
        &mut tx,
        "public.payment_callbacks_unrouted c",
        CALLBACK_COLUMNS,
        Review { id, by, note, now },
    )
    .await?;
    tx.commit().await?;
    Ok(ResolvedRow::Done(row))
}

/// Marks a quarantined message reviewed by `by` with a note.
pub async fn resolve_quarantined(
    db: &Db,
    scope: &QueueScope,
    id: Uuid,
    by: Uuid,
    note: &str,
    now: DateTime<Utc>,
) -> Result<ResolvedRow<QuarantinedMessage>, StorageError> {
    let (tenant, wa) = tenant_params(scope);
    let mut tx = db.pool().begin().await?;
    let row: Option<QuarantinedMessage> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {QUARANTINE_COLUMNS} FROM public.inbound_quarantine q \
         WHERE q.id = $3 AND {QUARANTINE_SCOPE} FOR UPDATE"
    )))
    .bind(tenant)
    .bind(wa)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(ResolvedRow::NotFound);
    };
    if row.reviewed_at.is_some() {
        return Ok(ResolvedRow::AlreadyReviewed);
    }
    let row = mark_reviewed(
        &mut tx,
        "public.inbound_quarantine q",
        QUARANTINE_COLUMNS,
        Review { id, by, note, now },
    )
    .await?;
    tx.commit().await?;
    Ok(ResolvedRow::Done(row))
}
