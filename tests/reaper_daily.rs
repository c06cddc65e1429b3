//! The daily reaper against a real database: what it moves and deletes, that
//! a second run finds nothing, and that only one node runs it at a time.

mod common;

use chrono::{Duration, Utc};
use ratiba::runtime::reaper::{ReaperReport, run_once};
use ratiba::storage::TenantHandle;
use sqlx::Row;

async fn fill(h: &TenantHandle) {
    let mut tx = h.begin().await.unwrap();
    for (age_days, content) in [(120, "old"), (91, "old"), (10, "recent")] {
        sqlx::query(
            "INSERT INTO handoff_log (thread_id, actor, actor_phone, content, sent_at) \
             VALUES ('t1', 'customer', '+254712345678', $1, NOW() - make_interval(days => $2))",
        )
        .bind(content)
        .bind(age_days)
        .execute(tx.conn())
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO dial_audits (dial, created_at) VALUES ('tone', NOW() - make_interval(days => $1))",
        )
        .bind(age_days)
        .execute(tx.conn())
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO checkpoints (thread_id, checkpoint_id, checkpoint, created_at) \
             VALUES ($1, $2, '{}'::jsonb, NOW() - make_interval(days => $3))",
        )
        .bind(format!("thread-{age_days}"))
        .bind(format!("cp-{age_days}"))
        .bind(age_days)
        .execute(tx.conn())
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO checkpoint_blobs (thread_id, channel, version, type, blob) \
             VALUES ($1, 'messages', '1', 'json', '\\x00')",
        )
        .bind(format!("thread-{age_days}"))
        .execute(tx.conn())
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn routing(db: &ratiba::storage::Db, tenant_id: uuid::Uuid) {
    for (reference, expires_in_hours) in [("expired-a", -30), ("expired-b", -1), ("live-c", 5)] {
        sqlx::query(
            "INSERT INTO public.payment_routing (merchant_reference, tenant_id, schema_name, thread_id, provider, expires_at) \
             VALUES ($1, $2, 'tenant_acme', 't1', 'mpesa', NOW() + make_interval(hours => $3))",
        )
        .bind(reference)
        .bind(tenant_id)
        .bind(expires_in_hours)
        .execute(db.pool())
        .await
        .unwrap();
    }
}

async fn count(h: &TenantHandle, table: &str) -> i64 {
    let mut tx = h.begin().await.unwrap();
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(tx.conn())
        .await
        .unwrap()
}

#[tokio::test]
async fn reaper_twice_in_a_row() {
    let db = common::TestDb::new().await;
    let acme = db.create_tenant("acme").await;
    let other = db.create_tenant("other").await;
    let acme_id: uuid::Uuid = sqlx::query("SELECT id FROM public.tenants WHERE slug = 'acme'")
        .fetch_one(db.db().pool())
        .await
        .unwrap()
        .get("id");
    fill(&acme).await;
    fill(&other).await;
    routing(db.db(), acme_id).await;

    let first = run_once(db.db(), Utc::now())
        .await
        .unwrap()
        .expect("lock taken");
    assert_eq!(
        first,
        ReaperReport {
            routing_removed: 2,
            handoff_archived: 4,
            dial_audits_deleted: 4,
            checkpoints_archived: 4,
            tenants: 2,
        }
    );
    for h in [&acme, &other] {
        assert_eq!(count(h, "handoff_log").await, 1);
        assert_eq!(count(h, "handoff_log_archive").await, 2);
        assert_eq!(count(h, "dial_audits").await, 1);
        assert_eq!(count(h, "checkpoints").await, 1);
        assert_eq!(count(h, "checkpoints_archive").await, 2);
        // Blobs of archived threads moved; the live thread's stayed.
        assert_eq!(count(h, "checkpoint_blobs").await, 1);
        assert_eq!(count(h, "checkpoint_blobs_archive").await, 2);
        let mut tx = h.begin().await.unwrap();
        let kept: String = sqlx::query_scalar("SELECT content FROM handoff_log")
            .fetch_one(tx.conn())
            .await
            .unwrap();
        assert_eq!(kept, "recent");
    }
    let live: Vec<String> =
        sqlx::query_scalar("SELECT merchant_reference FROM public.payment_routing")
            .fetch_all(db.db().pool())
            .await
            .unwrap();
    assert_eq!(live, vec!["live-c".to_string()]);

    // The second run in a row finds nothing and changes nothing.
    let second = run_once(db.db(), Utc::now())
        .await
        .unwrap()
        .expect("lock taken");
    assert_eq!(
        second,
        ReaperReport {
            tenants: 2,
            ..ReaperReport::default()
        }
    );
    assert_eq!(count(&acme, "handoff_log_archive").await, 2);

    // 85 days on, the 10-day-old rows pass the 90-day line and go too.
    let later = run_once(db.db(), Utc::now() + Duration::days(85))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(later.handoff_archived, 2);
    assert_eq!(later.routing_removed, 1);
}

#[tokio::test]
async fn only_one_node_runs_it_at_a_time() {
    let db = common::TestDb::new().await;
    db.create_tenant("acme").await;
    // Another node holds the reaper's lock.
    let mut other_node = db.db().pool().acquire().await.unwrap();
    let held: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(0x5241_5449_4241_5250_i64)
        .fetch_one(&mut *other_node)
        .await
        .unwrap();
    assert!(held);
    assert_eq!(run_once(db.db(), Utc::now()).await.unwrap(), None);
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(0x5241_5449_4241_5250_i64)
        .execute(&mut *other_node)
        .await
        .unwrap();
    assert!(run_once(db.db(), Utc::now()).await.unwrap().is_some());
    // Two runs at once: exactly one does the work or they serialise; both
    // finish without error.
    let (a, b) = tokio::join!(run_once(db.db(), Utc::now()), run_once(db.db(), Utc::now()));
    assert!(a.is_ok() && b.is_ok());
}
