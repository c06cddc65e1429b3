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

use crate::storage::reaper as store;
use crate::storage::{Db, StorageError};

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
    let Some(lock) = store::try_lock(db).await? else {
        tracing::info!("reaper: another node is running it");
        return Ok(None);
    };
    let result = reap(db, now).await;
    lock.release().await;
    result.map(Some)
}

async fn reap(db: &Db, now: DateTime<Utc>) -> Result<ReaperReport, StorageError> {
    let cutoff = now - retention();
    let mut report = ReaperReport {
        routing_removed: store::delete_expired_routing(db, now).await?,
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
        report.handoff_archived += store::archive_handoff_log(&mut tx, cutoff).await?;
        report.dial_audits_deleted += store::delete_dial_audits(&mut tx, cutoff).await?;
        report.checkpoints_archived += store::archive_checkpoints(&mut tx, cutoff).await?;
        tx.commit().await?;
        report.tenants += 1;
    }
    tracing::info!(?report, "reaper finished");
    Ok(report)
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
