//! The daily reaper's statements: expired payment routing, and per tenant
//! the hand-off log, dial audits and checkpoints past the retention cutoff
//! (moved to their archive twins, tenant migration 0007). The schedule and
//! the report are `runtime::reaper`'s.

use chrono::{DateTime, Utc};
use sqlx::Postgres;
use sqlx::pool::PoolConnection;

use super::{Db, StorageError, TenantTx};

/// Advisory lock key of the reaper ("ratiba-reaper").
const REAPER_LOCK: i64 = 0x5241_5449_4241_5250;

/// The reaper's cluster-wide lock, held on its own connection until
/// [`ReaperLock::release`] (or the connection closes).
pub struct ReaperLock {
    conn: PoolConnection<Postgres>,
}

/// Takes the reaper's lock, or `None` when another node holds it.
pub async fn try_lock(db: &Db) -> Result<Option<ReaperLock>, StorageError> {
    let mut conn = db.pool().acquire().await?;
    let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(REAPER_LOCK)
        .fetch_one(&mut *conn)
        .await?;
    Ok(got.then_some(ReaperLock { conn }))
}

impl ReaperLock {
    /// Lets the next run (on any node) take the lock. Best effort: a lock
    /// not released ends with its session.
    pub async fn release(mut self) {
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(REAPER_LOCK)
            .execute(&mut *self.conn)
            .await;
    }
}

/// Deletes payment routing rows expired at `now`; returns how many.
pub async fn delete_expired_routing(db: &Db, now: DateTime<Utc>) -> Result<u64, StorageError> {
    Ok(
        sqlx::query("DELETE FROM public.payment_routing WHERE expires_at <= $1")
            .bind(now)
            .execute(db.pool())
            .await?
            .rows_affected(),
    )
}

/// Moves hand-off log rows sent before `cutoff` to `handoff_log_archive`.
pub async fn archive_handoff_log(
    tx: &mut TenantTx,
    cutoff: DateTime<Utc>,
) -> Result<u64, StorageError> {
    Ok(sqlx::query(
        "WITH moved AS (DELETE FROM handoff_log WHERE sent_at < $1 RETURNING *) \
         INSERT INTO handoff_log_archive SELECT * FROM moved ON CONFLICT DO NOTHING",
    )
    .bind(cutoff)
    .execute(tx.conn())
    .await?
    .rows_affected())
}

/// Deletes dial audits made before `cutoff`.
pub async fn delete_dial_audits(
    tx: &mut TenantTx,
    cutoff: DateTime<Utc>,
) -> Result<u64, StorageError> {
    Ok(sqlx::query("DELETE FROM dial_audits WHERE created_at < $1")
        .bind(cutoff)
        .execute(tx.conn())
        .await?
        .rows_affected())
}

/// Moves checkpoints (and their pending writes) older than the cutoff to
/// the archive twins, and blobs no live checkpoint of their thread refers
/// to any more. Returns the checkpoints moved.
pub async fn archive_checkpoints(
    tx: &mut TenantTx,
    cutoff: DateTime<Utc>,
) -> Result<u64, StorageError> {
    let has_checkpoints: bool = sqlx::query_scalar("SELECT to_regclass('checkpoints') IS NOT NULL")
        .fetch_one(tx.conn())
        .await?;
    if !has_checkpoints {
        return Ok(0);
    }
    let moved = sqlx::query(
        "WITH moved AS (DELETE FROM checkpoints WHERE created_at < $1 RETURNING *) \
         INSERT INTO checkpoints_archive SELECT * FROM moved ON CONFLICT DO NOTHING",
    )
    .bind(cutoff)
    .execute(tx.conn())
    .await?
    .rows_affected();
    sqlx::query(
        "WITH moved AS (DELETE FROM checkpoint_writes WHERE created_at < $1 RETURNING *) \
         INSERT INTO checkpoint_writes_archive SELECT * FROM moved ON CONFLICT DO NOTHING",
    )
    .bind(cutoff)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "WITH moved AS (DELETE FROM checkpoint_blobs b WHERE NOT EXISTS \
           (SELECT 1 FROM checkpoints c WHERE c.thread_id = b.thread_id \
            AND c.checkpoint_ns = b.checkpoint_ns) RETURNING *) \
         INSERT INTO checkpoint_blobs_archive SELECT * FROM moved ON CONFLICT DO NOTHING",
    )
    .execute(tx.conn())
    .await?;
    Ok(moved)
}
