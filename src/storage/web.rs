//! Web chat sessions (the widget's Tier-2 sessions) in one tenant's
//! schema: customer_sessions rows. A session starts phoneless and
//! unverified (`customer_id` NULL, `unverified` TRUE); when the customer
//! gives their number [`super::conversation::promote_identity`] back-fills
//! `customer_id` and stamps `promoted_at`.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{StorageError, TenantTx};
use crate::core::ids::WebSessionId;

/// A web session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    pub customer_id: Option<Uuid>,
    pub unverified: bool,
    pub promoted_at: Option<DateTime<Utc>>,
}

/// The session's row, made on its first message (unverified, phoneless).
pub async fn ensure_session(tx: &mut TenantTx, id: &WebSessionId) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO customer_sessions (id, unverified) VALUES ($1, TRUE) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id.as_uuid())
    .execute(tx.conn())
    .await
    .map_err(StorageError::classify)?;
    Ok(())
}

/// The session's row, if it has one.
pub async fn session(
    tx: &mut TenantTx,
    id: &WebSessionId,
) -> Result<Option<WebSession>, StorageError> {
    let row: Option<(Option<Uuid>, bool, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT customer_id, unverified, promoted_at FROM customer_sessions WHERE id = $1",
    )
    .bind(id.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    Ok(
        row.map(|(customer_id, unverified, promoted_at)| WebSession {
            customer_id,
            unverified,
            promoted_at,
        }),
    )
}
