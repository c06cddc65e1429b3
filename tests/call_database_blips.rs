//! Calls ride out database blips (issue 11, item 6): a private Postgres
//! cluster of each test's own is stopped and started under a call placed
//! over loopback (the real call wiring, `CallRuntime`, with the scripted
//! recognizer). Caller turns are recorded once and answered; a call that
//! connects while the database is down is not closed; what the call writes
//! meanwhile lands after recovery; nothing is recorded empty.

mod common;

use common::PrivateCluster;

use std::time::Duration;

use ratiba::adapters::speech::scripted::Transcript;
use ratiba::adapters::telephony::Provider;
use ratiba::cli::call::{DEMO_VOICE_NUMBER, SimOptions, SimReport, simulate};
use ratiba::core::audio::wav;
use ratiba::runtime::shutdown::Shutdown;
use ratiba::storage::TenantHandle;
use sqlx::Row;

/// The demo tenant on a private cluster, with a call server in front.
struct Setup {
    cluster: PrivateCluster,
    demo: TenantHandle,
    addr: std::net::SocketAddr,
    shutdown: Shutdown,
}

async fn setup() -> Setup {
    setup_on(PrivateCluster::start("ratiba-callblip-pg-").await).await
}

async fn setup_on(cluster: PrivateCluster) -> Setup {
    let (db, demo, settings) = common::calls::seeded_demo(&cluster.pg.url()).await;
    let server = common::calls::serve_calls(&db, &settings).await;
    Setup {
        cluster,
        demo,
        addr: server.addr,
        shutdown: server.shutdown,
    }
}

fn options(addr: std::net::SocketAddr, from: &str, audio: wav::Wav, t: Transcript) -> SimOptions {
    SimOptions {
        server: format!("http://{addr}"),
        provider: Provider::Twilio,
        to: DEMO_VOICE_NUMBER.into(),
        from: from.into(),
        audio,
        transcript: Some(t),
        fast: false,
        twilio_auth_token: None,
        max_duration: Duration::from_secs(120),
    }
}

/// The first `ms` of the call, caller silent (no words): a call that only
/// hears the greeting.
fn greeting_only(ms: u64) -> (wav::Wav, Transcript) {
    let (mut audio, mut t) = common::calls::demo_call("en_booking");
    audio
        .samples
        .truncate((u64::from(audio.rate_hz) * ms / 1000) as usize);
    t.words.clear();
    (audio, t)
}

/// Waits (polling) until `sql`'s count reaches `want`; returns the last.
async fn wait_count(demo: &TenantHandle, sql: &str, want: i64) -> i64 {
    let mut last = -1;
    for _ in 0..120 {
        if let Ok(mut tx) = demo.begin().await
            && let Ok(n) = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_one(tx.conn())
                .await
        {
            last = n;
            if n >= want {
                return n;
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    last
}

async fn empty_rows(demo: &TenantHandle) -> i64 {
    let mut tx = demo.begin().await.unwrap();
    sqlx::query_scalar("SELECT count(*) FROM interactions WHERE coalesce(btrim(content), '') = ''")
        .fetch_one(tx.conn())
        .await
        .unwrap()
}

/// The caller's three turns of `en_booking` are each recorded exactly once,
/// in order; each is answered by the dialog and the caller heard the answer
/// (the call added its playback facts to the dialog's row) or spoke over it
/// (the scripted caller does not wait: an answer delayed by an outage can
/// meet the next turn; that turn is then answered in its own right), except the
/// turns numbered in `kept`, which must be kept as inbound rows marked
/// unanswered (given up after the retry budget). No row is empty.
async fn every_turn_once_and_answered(demo: &TenantHandle, kept: &[usize]) {
    let mut tx = demo.begin().await.unwrap();
    let rows = sqlx::query(
        "SELECT direction, content, intent, metadata, created_at FROM interactions \
         WHERE channel = 'voice' ORDER BY created_at, id",
    )
    .fetch_all(tx.conn())
    .await
    .unwrap();
    for r in &rows {
        eprintln!(
            "{:>8} {:<14} {} {}",
            r.get::<String, _>("direction"),
            r.get::<Option<String>, _>("intent").unwrap_or_default(),
            r.get::<Option<String>, _>("content").unwrap_or_default(),
            r.get::<serde_json::Value, _>("metadata")
        );
    }
    let inbound: Vec<(String, chrono::DateTime<chrono::Utc>, serde_json::Value)> = rows
        .iter()
        .filter(|r| r.get::<String, _>("direction") == "inbound")
        .map(|r| {
            (
                r.get::<Option<String>, _>("content").unwrap_or_default(),
                r.get("created_at"),
                r.get("metadata"),
            )
        })
        .collect();
    // Every caller turn exactly once, in order.
    let said = ["haircut", "book it", "goodbye"];
    assert_eq!(inbound.len(), said.len(), "{inbound:?}");
    for (turn, words) in inbound.iter().zip(said) {
        assert!(turn.0.to_lowercase().contains(words), "{inbound:?}");
    }
    for (k, (_, at, meta)) in inbound.iter().enumerate() {
        if kept.contains(&k) {
            assert_eq!(meta["unanswered"], true, "turn {k} kept unanswered: {meta}");
            continue;
        }
        assert!(meta["unanswered"].is_null(), "turn {k} answered: {meta}");
        let until = inbound.get(k + 1).map(|(_, t, _)| *t);
        let heard = rows.iter().any(|r| {
            let t: chrono::DateTime<chrono::Utc> = r.get("created_at");
            let meta: serde_json::Value = r.get("metadata");
            r.get::<String, _>("direction") == "outbound"
                && t >= *at
                && until.is_none_or(|u| t < u)
                && meta["thread_id"].is_string()
                && (meta["heard_up_to_ms"].as_u64().is_some_and(|ms| ms > 0)
                    || meta["barge_in"] == true)
        });
        assert!(
            heard,
            "turn {k} was answered, and heard or cut off by the caller"
        );
    }
    assert_eq!(empty_rows(demo).await, 0, "no row with empty content");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_whose_database_stops_for_three_seconds_records_and_answers_every_caller_turn() {
    let s = setup().await;
    let (audio, transcript) = common::calls::demo_call("en_booking");
    let opts = options(s.addr, "+254722000301", audio, transcript);
    let call = tokio::spawn(async move { simulate(&opts).await });
    // The first caller turn ("… tomorrow at ten in the morning") ends at
    // about 9 s: the database goes away just before and is back ~3 s later.
    tokio::time::sleep(Duration::from_millis(8_500)).await;
    s.cluster.stop().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    s.cluster.restart().await;
    let report: SimReport = call.await.unwrap().expect("the call went through");
    assert!(!report.segments.is_empty());

    // The call's rows written during the outage land after it.
    let one_moment = wait_count(
        &s.demo,
        "SELECT count(*) FROM interactions WHERE intent = 'one_moment'",
        1,
    )
    .await;
    assert!(one_moment >= 1, "the caller was told to hold on");
    let closed = wait_count(
        &s.demo,
        "SELECT count(*) FROM conversation_threads WHERE closed_at IS NOT NULL",
        1,
    )
    .await;
    assert_eq!(closed, 1);

    every_turn_once_and_answered(&s.demo, &[]).await;
    assert_eq!(empty_rows(&s.demo).await, 0, "no row with empty content");
    s.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_connecting_while_the_database_is_down_is_answered_from_the_cached_tenant() {
    let s = setup().await;
    // An earlier call puts the tenant in the directory's memory.
    let (audio, t) = greeting_only(3_000);
    let mut opts = options(s.addr, "+254722000302", audio, t);
    opts.fast = true;
    let first = simulate(&opts).await.expect("first call");
    assert!(!first.segments.is_empty());

    s.cluster.stop().await;
    let during = simulate(&SimOptions {
        from: "+254722000303".into(),
        ..opts.clone()
    })
    .await
    .expect("a call during the outage is connected, not refused");
    assert!(!during.segments.is_empty(), "the caller heard the greeting");
    assert!(!during.server_hung_up, "the server did not close the call");
    s.cluster.restart().await;

    // What that call wrote while the database was down lands afterwards.
    let threads = wait_count(
        &s.demo,
        "SELECT count(*) FROM conversation_threads WHERE closed_at IS NOT NULL",
        2,
    )
    .await;
    assert_eq!(threads, 2, "both calls' threads are recorded");
    let greetings = wait_count(
        &s.demo,
        "SELECT count(*) FROM interactions WHERE direction = 'outbound' AND intent = 'greeting'",
        2,
    )
    .await;
    assert_eq!(greetings, 2);
    assert_eq!(empty_rows(&s.demo).await, 0, "no row with empty content");
    s.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_greeting_cut_off_before_a_word_was_heard_is_recorded_with_its_text() {
    let db = common::TestDb::new().await;
    let demo = db.seed_demo().await;
    let common::calls::CallServer {
        addr,
        shutdown,
        calls,
    } = common::calls::serve_calls(db.db(), &db.settings()).await;
    // The caller hangs up 40 ms into the call, before any of the greeting
    // has played.
    let (audio, t) = greeting_only(1_000);
    let mut opts = options(addr, "+254722000304", audio, t);
    opts.max_duration = Duration::from_millis(40);
    let _ = simulate(&opts).await;
    let closed = wait_count(
        &demo,
        "SELECT count(*) FROM conversation_threads WHERE closed_at IS NOT NULL",
        1,
    )
    .await;
    assert_eq!(closed, 1);
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(20), calls.writer_task)
        .await
        .expect("writer drains")
        .unwrap();
    let mut tx = demo.begin().await.unwrap();
    let greeting = sqlx::query(
        "SELECT content, metadata FROM interactions WHERE intent = 'greeting' AND channel = 'voice'",
    )
    .fetch_one(tx.conn())
    .await
    .unwrap();
    let content: String = greeting.get("content");
    let meta: serde_json::Value = greeting.get("metadata");
    assert!(content.contains("Karibu Nywele Bora Salon"), "{content:?}");
    assert_eq!(meta["nothing_heard"], true, "{meta}");
    assert_eq!(empty_rows(&demo).await, 0);
}

/// What happens to the database under a call.
#[derive(Clone, Copy)]
enum Fault {
    /// `pg_ctl stop` (fast), back after this long.
    Stop(Duration),
    /// SIGKILL to the postmaster, back after this long.
    Kill(Duration),
}

/// Places the `en_booking` call from `from` and, 8.5 s in (just before the
/// first caller turn ends), brings `fault` on the cluster; returns once the
/// call is over and its thread is recorded closed.
async fn call_through(s: &Setup, from: &str, fault: Fault) {
    let (audio, transcript) = common::calls::demo_call("en_booking");
    let opts = options(s.addr, from, audio, transcript);
    let call = tokio::spawn(async move { simulate(&opts).await });
    tokio::time::sleep(Duration::from_millis(8_500)).await;
    match fault {
        Fault::Stop(down) => {
            s.cluster.stop().await;
            tokio::time::sleep(down).await;
            s.cluster.restart().await;
        }
        Fault::Kill(down) => {
            s.cluster.kill_postmaster().await;
            tokio::time::sleep(down).await;
            s.cluster.restart_after_kill().await;
        }
    }
    let report: SimReport = call.await.unwrap().expect("the call went through");
    assert!(!report.segments.is_empty());
    let closed = wait_count(
        &s.demo,
        "SELECT count(*) FROM conversation_threads WHERE closed_at IS NOT NULL",
        1,
    )
    .await;
    assert_eq!(closed, 1, "the call's thread is recorded and closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_whose_database_stops_for_eight_seconds_records_and_answers_every_caller_turn() {
    // The first turn ends ~9 s in; the database is gone from 8.5 s to
    // ~17 s: inside the 10 s a turn is retried for, so it is answered late
    // (the caller hears "one moment" meanwhile) and the turns said in the
    // meantime wait behind it.
    let s = setup().await;
    call_through(&s, "+254722000305", Fault::Stop(Duration::from_secs(8))).await;
    let one_moment = wait_count(
        &s.demo,
        "SELECT count(*) FROM interactions WHERE intent = 'one_moment'",
        1,
    )
    .await;
    assert!(one_moment >= 1, "the caller was told to hold on");
    every_turn_once_and_answered(&s.demo, &[]).await;
    s.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_whose_postmaster_is_killed_records_and_answers_every_caller_turn() {
    // SIGKILL, no shutdown: every connection dies at once, the restart runs
    // crash recovery. The cluster has the production settings (fsync,
    // synchronous commit), so what was acknowledged survives.
    let s = setup_on(PrivateCluster::start_durable("ratiba-callkill-pg-").await).await;
    call_through(&s, "+254722000306", Fault::Kill(Duration::from_secs(3))).await;
    every_turn_once_and_answered(&s.demo, &[]).await;
    s.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_outlasting_the_retry_budget_is_kept_unanswered_once_and_later_turns_are_answered() {
    // Down for 14 s from 8.5 s: the first turn fails for longer than the
    // 10 s budget, so the caller is told it was kept and it is written
    // (once, marked unanswered) when the database is back; the second turn,
    // said while the first was retrying, waits behind it, then is answered
    // once the database returns, and so is the third.
    let s = setup().await;
    call_through(&s, "+254722000307", Fault::Stop(Duration::from_secs(14))).await;
    let kept = wait_count(
        &s.demo,
        "SELECT count(*) FROM interactions WHERE intent = 'turn_kept'",
        1,
    )
    .await;
    assert_eq!(kept, 1, "the caller was told the turn was kept");
    every_turn_once_and_answered(&s.demo, &[0]).await;
    s.shutdown.trigger();
}
