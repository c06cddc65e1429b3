//! A demo call against the server's real call wiring (`CallRuntime`, as
//! `ratiba serve` builds it) on a fresh database seeded with the demo tenant:
//! the call's thread, turns, bot utterances and the caller's identity land in
//! tenant_demo, and a call to an unknown number writes nothing.

mod common;

use std::time::Duration;

use ratiba::adapters::telephony::Provider;
use ratiba::cli::call::{DEMO_VOICE_NUMBER, SimOptions, simulate};
use sqlx::Row;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_call_writes_its_rows_into_the_tenant_schema() {
    let db = common::TestDb::new().await;
    let demo = db.seed_demo().await;

    let common::calls::CallServer {
        addr,
        shutdown,
        calls,
    } = common::calls::serve_calls(db.db(), &db.settings()).await;

    let (audio, transcript) = common::calls::demo_call("sw_booking");
    let opts = SimOptions {
        server: format!("http://{addr}"),
        provider: Provider::Twilio,
        to: DEMO_VOICE_NUMBER.into(),
        from: "+254722000111".into(),
        audio: audio.clone(),
        transcript: Some(transcript),
        fast: true,
        twilio_auth_token: None,
        max_duration: Duration::from_secs(120),
    };
    let report = simulate(&opts).await.expect("call");
    assert!(!report.segments.is_empty(), "the bot spoke");

    let refused = simulate(&SimOptions {
        to: "+254700999888".into(),
        ..opts.clone()
    })
    .await;
    assert!(refused.is_err(), "unknown number is refused");

    // Give the call task a moment to finish, then drain the writer.
    tokio::time::sleep(Duration::from_millis(300)).await;
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(20), calls.writer_task)
        .await
        .expect("writer drains")
        .unwrap();

    let mut tx = demo.begin().await.unwrap();
    let threads = sqlx::query(
        "SELECT customer_phone, channel_started, actor_type, closed_at IS NOT NULL AS closed, closed_reason \
         FROM conversation_threads",
    )
    .fetch_all(tx.conn())
    .await
    .unwrap();
    assert_eq!(threads.len(), 1, "one thread for the one connected call");
    let t = &threads[0];
    assert_eq!(t.get::<String, _>("customer_phone"), "+254722000111");
    assert_eq!(t.get::<String, _>("channel_started"), "voice");
    assert_eq!(t.get::<String, _>("actor_type"), "customer");
    assert!(t.get::<bool, _>("closed"));
    assert_eq!(
        t.get::<Option<String>, _>("closed_reason").as_deref(),
        Some("done")
    );

    let interactions = sqlx::query(
        "SELECT direction, content, language, metadata, contact_id IS NOT NULL AS linked \
         FROM interactions WHERE channel = 'voice' ORDER BY created_at",
    )
    .fetch_all(tx.conn())
    .await
    .unwrap();
    let inbound: Vec<String> = interactions
        .iter()
        .filter(|r| r.get::<String, _>("direction") == "inbound")
        .map(|r| r.get::<Option<String>, _>("content").unwrap_or_default())
        .collect();
    assert!(
        inbound
            .iter()
            .any(|c| c.contains("nataka") && c.contains("mabutu")),
        "{inbound:?}"
    );
    let outbound = interactions
        .iter()
        .filter(|r| r.get::<String, _>("direction") == "outbound")
        .count();
    assert!(outbound >= 2, "greeting and at least one answer");
    // The dialog wrote its replies; the call added what the caller heard.
    let with_playback = interactions
        .iter()
        .filter(|r| r.get::<String, _>("direction") == "outbound")
        .filter(|r| r.get::<serde_json::Value, _>("metadata")["heard_up_to_ms"].is_u64())
        .count();
    assert!(with_playback >= 2, "playback facts on the bot's rows");
    for r in &interactions {
        eprintln!(
            "{:>8}: {}",
            r.get::<String, _>("direction"),
            r.get::<Option<String>, _>("content").unwrap_or_default()
        );
    }
    assert!(interactions.iter().all(|r| r.get::<bool, _>("linked")));
    let meta: serde_json::Value = interactions[0].get("metadata");
    assert!(meta["call_id"].is_string() && meta["stream_id"].is_string());
    assert_eq!(meta["barge_in"], false, "the greeting was heard to the end");

    // The Swahili demo call books what it asks for.
    let booked: i64 = sqlx::query(
        "SELECT count(*) AS n FROM appointments a JOIN services s ON s.id = a.service_id \
         WHERE a.booking_channel = 'voice' AND s.name = 'Cornrows' AND a.status <> 'cancelled'",
    )
    .fetch_one(tx.conn())
    .await
    .unwrap()
    .get("n");
    assert_eq!(booked, 1, "the call booked Kusuka Mabutu");

    let identities: i64 = sqlx::query(
        "SELECT count(*) AS n FROM customer_identities i JOIN customers c USING (customer_id) \
         WHERE i.provider = 'voice' AND c.phone_e164 = '+254722000111'",
    )
    .fetch_one(tx.conn())
    .await
    .unwrap()
    .get("n");
    assert_eq!(identities, 1);
}
