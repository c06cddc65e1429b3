//! The daily reaper, at 03:00 Africa/Nairobi: removes expired payment
//! routing rows, moves hand-off log rows older than 90 days to
//! `handoff_log_archive`, deletes dial audits older than 90 days, and moves
//! checkpoints older than 90 days to their archive twins.
//!
//! Safe to run twice (every step is "move/delete what is past the cutoff")
//! and with several nodes: a run holds a Postgres advisory lock, and a node
//! that cannot take it skips the run (another node is doing it).

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Africa::Nairobi;
use tokio::task::JoinHandle;

use crate::storage::{Db, StorageError};

/// Advisory lock key of the reaper ("ratiba-reaper").
const REAPER_LOCK: i64 = 0x5241_5449_4241_5250;

/// How long hand-off logs, dial audits and checkpoints stay live.
pub fn retention() -> Duration {
    Duration::days(90)
}

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReaperReport {
    pub routing_removed: u64,
    pub handoff_archived: u64,
    pub dial_audits_deleted: u64,
    pub checkpoints_archived: u64,
    pub tenants: u64,
}

/// The next 03:00 in Nairobi strictly after `now`.
pub fn next_run_after(now: DateTime<Utc>) -> DateTime<Utc> {
    let local = now.with_timezone(&Nairobi);
    let three = NaiveTime::from_hms_opt(3, 0, 0).unwrap_or_default();
    let mut day = local.date_naive();
    loop {
        // Nairobi has no DST, so 03:00 always exists exactly once.
        if let Some(at) = Nairobi.from_local_datetime(&day.and_time(three)).single() {
            let at = at.with_timezone(&Utc);
            if at > now {
                return at;
            }
        }
        day = day.succ_opt().unwrap_or(day);
    }
}

/// Runs the reaper once, unless another node holds the lock (`Ok(None)`).
pub async fn run_once(db: &Db, now: DateTime<Utc>) -> Result<Option<ReaperReport>, StorageError> {
    let mut lock_conn = db.pool().acquire().await?;
    let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(REAPER_LOCK)
        .fetch_one(&mut *lock_conn)
        .await?;
    if !got {
        tracing::info!("reaper: another node is running it");
        return Ok(None);
    }
    let result = reap(db, now).await;
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(REAPER_LOCK)
        .execute(&mut *lock_conn)
        .await;
    result.map(Some)
}

async fn reap(db: &Db, now: DateTime<Utc>) -> Result<ReaperReport, StorageError> {
    let cutoff = now - retention();
    let mut report = ReaperReport {
        routing_removed: sqlx::query("DELETE FROM public.payment_routing WHERE expires_at <= $1")
            .bind(now)
            .execute(db.pool())
            .await?
            .rows_affected(),
        ..ReaperReport::default()
    };
    for tenant in db.list_tenants().await? {
        if tenant.schema_name.is_none() {
            continue;
        }
        let handle = db.tenant(&tenant.slug);
        let mut tx = match handle.begin().await {
            Ok(tx) => tx,
            Err(StorageError::UnknownTenant(_)) => continue,
            Err(e) => return Err(e),
        };
        report.handoff_archived += sqlx::query(
            "WITH moved AS (DELETE FROM handoff_log WHERE sent_at < $1 RETURNING *) \
             INSERT INTO handoff_log_archive SELECT * FROM moved ON CONFLICT DO NOTHING",
        )
        .bind(cutoff)
        .execute(tx.conn())
        .await?
        .rows_affected();
        report.dial_audits_deleted += sqlx::query("DELETE FROM dial_audits WHERE created_at < $1")
            .bind(cutoff)
            .execute(tx.conn())
            .await?
            .rows_affected();
        report.checkpoints_archived += archive_checkpoints(&mut tx, cutoff).await?;
        tx.commit().await?;
        report.tenants += 1;
    }
    tracing::info!(?report, "reaper finished");
    Ok(report)
}

/// Moves checkpoints (and their pending writes) older than the cutoff to
/// the archive twins (tenant migration 0007), and blobs no live checkpoint
/// of their thread refers to any more.
async fn archive_checkpoints(
    tx: &mut crate::storage::TenantTx,
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

/// Runs the reaper every day at 03:00 Nairobi time until aborted.
pub fn spawn_daily(db: Db) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let now = Utc::now();
            let wait = (next_run_after(now) - now)
                .to_std()
                .unwrap_or(std::time::Duration::from_secs(60));
            tokio::time::sleep(wait).await;
            if let Err(e) = run_once(&db, Utc::now()).await {
                tracing::warn!(error = %e, "reaper run failed");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_run_is_three_in_the_morning_nairobi() {
        // 23:59 UTC = 02:59 EAT: the run is one minute later.
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 23, 59, 0).unwrap();
        assert_eq!(
            next_run_after(now),
            Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap()
        );
        // Exactly at the run time: the next day's.
        let now = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
        assert_eq!(
            next_run_after(now),
            Utc.with_ymd_and_hms(2026, 3, 3, 0, 0, 0).unwrap()
        );
        // Midday UTC (15:00 EAT): tomorrow 00:00 UTC.
        let now = Utc.with_ymd_and_hms(2026, 12, 31, 12, 0, 0).unwrap();
        assert_eq!(
            next_run_after(now),
            Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()
        );
    }
}
