//! A call answers from its tenant's cached catalogue while the database is
//! down (issue 11: "the tenant directory and catalogue cached and refreshed
//! in the background (stale on error)"). A first call puts the tenant's
//! number and catalogue in memory; the database is stopped; a second caller
//! asks what the salon offers and hears the services; once the database is
//! back, the turn, the reply and the dialog's checkpoint land, each once.

mod common;

use common::PrivateCluster;

use std::time::Duration;

use ratiba::adapters::speech::scripted::{ScriptWord, Transcript};
use ratiba::adapters::telephony::Provider;
use ratiba::cli::call::{DEMO_VOICE_NUMBER, SimOptions, simulate};
use ratiba::core::audio::wav;
use ratiba::storage::TenantHandle;
use sqlx::Row;

/// The `en_booking` caller's first utterance (4.5-8.6 s), with `words`
/// spread over it, and the call cut at `ms`.
fn first_utterance_saying(words: &str, ms: u64) -> (wav::Wav, Transcript) {
    let (mut audio, mut t) = common::calls::demo_call("en_booking");
    audio
        .samples
        .truncate((u64::from(audio.rate_hz) * ms / 1000) as usize);
    let words: Vec<&str> = words.split_whitespace().collect();
    let (from, to) = (4_526u64, 8_634u64);
    let step = (to - from) / words.len() as u64;
    t.words = words
        .iter()
        .enumerate()
        .map(|(i, w)| ScriptWord {
            text: (*w).to_owned(),
            start_ms: from + step * i as u64,
            end_ms: from + step * (i as u64 + 1) - 40,
        })
        .collect();
    if let Some(w) = t.words.last_mut() {
        w.end_ms = to;
    }
    (audio, t)
}

fn options(
    addr: std::net::SocketAddr,
    from: &str,
    (audio, t): (wav::Wav, Transcript),
) -> SimOptions {
    SimOptions {
        server: format!("http://{addr}"),
        provider: Provider::Twilio,
        to: DEMO_VOICE_NUMBER.into(),
        from: from.into(),
        audio,
        transcript: Some(t),
        fast: false,
        twilio_auth_token: None,
        max_duration: Duration::from_secs(60),
    }
}

async fn count(demo: &TenantHandle, sql: &str) -> Option<i64> {
    let mut tx = demo.begin().await.ok()?;
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(tx.conn())
        .await
        .ok()
}

/// Waits (polling) until `sql`'s count reaches `want`; returns the last.
async fn wait_count(demo: &TenantHandle, sql: &str, want: i64) -> i64 {
    let mut last = -1;
    for _ in 0..120 {
        if let Some(n) = count(demo, sql).await {
            last = n;
            if n >= want {
                return n;
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_lists_the_services_from_the_cached_catalogue_while_the_database_is_down() {
    let cluster = PrivateCluster::start("ratiba-calloffline-pg-").await;
    let (db, demo, settings) = common::calls::seeded_demo(&cluster.pg.url()).await;
    let first_service: String = {
        let mut tx = demo.begin().await.unwrap();
        sqlx::query_scalar(
            "SELECT name FROM services WHERE is_active IS NOT FALSE ORDER BY sort_order, name LIMIT 1",
        )
        .fetch_one(tx.conn())
        .await
        .unwrap()
    };
    let common::calls::CallServer { addr, shutdown, .. } =
        common::calls::serve_calls(&db, &settings).await;

    // A first call, database up: one turn puts the catalogue in memory.
    let warm = simulate(&options(
        addr,
        "+254722000401",
        first_utterance_saying("What services do you offer", 14_000),
    ))
    .await
    .expect("first call");
    assert!(!warm.segments.is_empty());
    let answered_online = wait_count(
        &demo,
        "SELECT count(*) FROM interactions WHERE direction = 'inbound' AND intent = 'ask_services'",
        1,
    )
    .await;
    assert_eq!(answered_online, 1, "the first call's question was answered");

    // The database goes away; a second caller asks the same.
    cluster.stop().await;
    let during = simulate(&options(
        addr,
        "+254722000402",
        first_utterance_saying("What services do you offer", 20_000),
    ))
    .await
    .expect("a call during the outage is connected");
    // The greeting, then the answer after the question (8.6 s).
    assert!(
        during.segments.iter().any(|s| s.start_ms > 8_634),
        "the caller heard an answer to the question: {:?}",
        during.segments
    );
    assert!(!during.server_hung_up, "the server did not close the call");
    cluster.restart().await;

    // What the call could not write meanwhile lands once, after recovery.
    let offline_turns = wait_count(
        &demo,
        "SELECT count(*) FROM interactions WHERE direction = 'inbound' \
         AND (metadata->>'answered_offline')::boolean AND intent = 'ask_services'",
        1,
    )
    .await;
    assert_eq!(offline_turns, 1, "the caller's turn is recorded once");
    let answers = wait_count(
        &demo,
        "SELECT count(*) FROM interactions WHERE direction = 'outbound' AND intent = 'ask_services'",
        1,
    )
    .await;
    assert_eq!(answers, 1, "the answer heard offline is recorded");
    let checkpoints = wait_count(
        &demo,
        "SELECT count(*) FROM checkpoints WHERE (metadata->>'offline')::boolean",
        1,
    )
    .await;
    assert_eq!(checkpoints, 1, "the dialog's state after the turn is kept");

    let mut tx = demo.begin().await.unwrap();
    let inbound = sqlx::query(
        "SELECT content, metadata FROM interactions WHERE direction = 'inbound' \
         AND (metadata->>'answered_offline')::boolean",
    )
    .fetch_one(tx.conn())
    .await
    .unwrap();
    let content: String = inbound.get("content");
    assert!(
        content.contains("What services do you offer"),
        "{content:?}"
    );
    let thread = inbound.get::<serde_json::Value, _>("metadata")["thread_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply: String = sqlx::query_scalar(
        "SELECT content FROM interactions WHERE direction = 'outbound' AND intent = 'ask_services' \
         ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_one(tx.conn())
    .await
    .unwrap();
    assert!(
        reply.contains(&first_service),
        "the services were listed from the cache: {reply:?}"
    );
    // The state the turn left is the one the same question leaves with the
    // database up (the first call's), and it is the thread's newest.
    let online_thread: String = sqlx::query_scalar(
        "SELECT metadata->>'thread_id' FROM interactions WHERE direction = 'inbound' \
         AND intent = 'ask_services' AND metadata->>'answered_offline' IS NULL",
    )
    .fetch_one(tx.conn())
    .await
    .unwrap();
    let newest = |thread: String| {
        sqlx::query(
            "SELECT checkpoint, metadata FROM checkpoints WHERE thread_id = $1 \
             ORDER BY checkpoint_id DESC LIMIT 1",
        )
        .bind(thread)
    };
    let online = newest(online_thread).fetch_one(tx.conn()).await.unwrap();
    let offline = newest(thread).fetch_one(tx.conn()).await.unwrap();
    let offline_meta: serde_json::Value = offline.get("metadata");
    assert_eq!(offline_meta["offline"], true, "{offline_meta}");
    let (a, b): (serde_json::Value, serde_json::Value) =
        (online.get("checkpoint"), offline.get("checkpoint"));
    assert_eq!(a["step"], b["step"], "same dialog state offline as online");
    assert_eq!(a["lang"], b["lang"]);
    let empty: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM interactions WHERE coalesce(btrim(content), '') = ''",
    )
    .fetch_one(tx.conn())
    .await
    .unwrap();
    assert_eq!(empty, 0, "no row with empty content");
    drop(tx);
    shutdown.trigger();
}
