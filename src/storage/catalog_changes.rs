//! "A tenant's catalogue or personality changed": a NOTIFY sent in the
//! transaction that changes it (so it is heard only if that commits), heard
//! by every node, which then reads that tenant's turn context again before
//! its next turn instead of serving the cached one for up to a few seconds.

use sqlx::PgConnection;

use super::{Db, StorageError};
use crate::core::ids::TenantSlug;

/// The LISTEN/NOTIFY channel; the payload is the tenant's schema name.
pub const CHANNEL: &str = "ratiba_catalog_changed";

/// Announces, on commit, that the tenant whose schema the transaction is
/// scoped to changed its catalogue or personality.
pub async fn announce(conn: &mut PgConnection) -> Result<(), StorageError> {
    sqlx::query("SELECT pg_notify($1, current_schema())")
        .bind(CHANNEL)
        .execute(conn)
        .await?;
    Ok(())
}

/// What a [`ChangeListener`] heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Tenant(TenantSlug),
    /// The connection was lost and made again: changes meanwhile are
    /// unknown, so everything cached is old.
    Reconnected,
}

/// A connection LISTENing on [`CHANNEL`].
pub struct ChangeListener {
    inner: sqlx::postgres::PgListener,
}

impl ChangeListener {
    pub async fn start(db: &Db) -> Result<Self, StorageError> {
        let mut inner = sqlx::postgres::PgListener::connect_with(db.pool()).await?;
        inner.listen(CHANNEL).await?;
        Ok(Self { inner })
    }

    /// The next change; payloads that name no tenant are skipped.
    pub async fn next(&mut self) -> Result<Change, StorageError> {
        loop {
            let Some(n) = self.inner.try_recv().await? else {
                return Ok(Change::Reconnected);
            };
            let slug = n
                .payload()
                .strip_prefix("tenant_")
                .and_then(|s| TenantSlug::parse(s).ok());
            if let Some(slug) = slug {
                return Ok(Change::Tenant(slug));
            }
        }
    }
}
