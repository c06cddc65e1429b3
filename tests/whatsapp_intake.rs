//! The WhatsApp inbox over loopback: stored before acknowledged, 503 when
//! the database cannot take it, nothing lost to a stopped database or a
//! panicking worker, NUL characters, redeliveries, the quarantine's
//! dedup, per-customer order, rows a dead worker left, and no head-of-line
//! blocking behind a slow Graph API.

mod common;

use common::PrivateCluster;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ratiba::adapters::whatsapp::codec::sign;
use ratiba::config::Secret;
use ratiba::core::ids::TenantSlug;
use ratiba::http::whatsapp::{WhatsAppConfig, router_with_intake};
use ratiba::runtime::chat_intake::{FaultHook, InboxEvent, IntakeOptions};
use ratiba::runtime::conversation::ConversationService;
use ratiba::storage::{Db, TenantHandle, Vault, migrate, seed};
use serde_json::{Value, json};

const SECRET: &str = "test-app-secret";
const DEMO_ID: &str = "109876543210001";

struct Server {
    base: String,
    http: reqwest::Client,
    db: Db,
    demo: TenantHandle,
}

/// Options for tests: quick retries and sweeps.
fn quick() -> IntakeOptions {
    IntakeOptions {
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        sweep_every: Duration::from_millis(100),
        ..IntakeOptions::default()
    }
}

/// The router on loopback over `db`, the Graph API at `graph` (`None`: the
/// server's own dev capture).
async fn serve(db: Db, graph: Option<String>, options: IntakeOptions) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = WhatsAppConfig {
        db: db.clone(),
        vault: Some(Vault::new(&Secret::new(common::TEST_FERNET_KEY)).unwrap()),
        app_secret: Some(Secret::new(SECRET)),
        verify_token: None,
        graph_base_url: graph.unwrap_or_else(|| format!("{base}/dev/graph")),
        service: ConversationService::new(db.clone()),
        reminder_sweep_every: Duration::from_secs(60),
    };
    let app = router_with_intake(config, None, options);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let demo = db.tenant(&TenantSlug::parse("demo").unwrap());
    Server {
        base,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        db,
        demo,
    }
}

async fn start(options: IntakeOptions) -> (common::TestDb, Server) {
    let db = common::TestDb::new().await;
    db.seed_demo().await;
    let s = serve(db.db().clone(), None, options).await;
    (db, s)
}

fn envelope(value: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}]}))
        .unwrap()
}

fn text_body(to_id: &str, from: &str, wamid: &str, text: &str) -> Vec<u8> {
    envelope(json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "254711000200", "phone_number_id": to_id},
        "contacts": [{"profile": {"name": "Wanjiku"}, "wa_id": from}],
        "messages": [{"from": from, "id": wamid, "timestamp": "1749416383", "type": "text", "text": {"body": text}}]
    }))
}

impl Server {
    async fn post(&self, body: Vec<u8>) -> u16 {
        let sig = sign(SECRET, &body);
        match self
            .http
            .post(format!("{}/wa/webhook", self.base))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", sig)
            .body(body)
            .send()
            .await
        {
            Ok(r) => r.status().as_u16(),
            Err(_) => 0,
        }
    }

    async fn say(&self, from: &str, wamid: &str, text: &str) -> u16 {
        self.post(text_body(DEMO_ID, from, wamid, text)).await
    }

    async fn texts(&self, to: &str) -> Vec<String> {
        common::captured_whatsapp(&self.base, to)
            .await
            .iter()
            .map(common::whatsapp_text)
            .collect()
    }

    async fn wait_texts(&self, to: &str, n: usize) -> Vec<String> {
        common::wait_whatsapp_texts(&self.base, to, n, Duration::from_secs(20)).await
    }

    async fn count(&self, sql: &str) -> i64 {
        let mut tx = self.demo.begin().await.unwrap();
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(tx.conn())
            .await
            .unwrap()
    }

    async fn inbox_row(&self, wamid: &str) -> Option<(String, i32, Option<String>)> {
        sqlx::query_as(
            "SELECT status, attempts, last_error FROM public.whatsapp_inbox WHERE message_id = $1",
        )
        .bind(wamid)
        .fetch_optional(self.db.pool())
        .await
        .unwrap()
    }

    /// Waits until the inbox row of `wamid` has `status`.
    async fn wait_status(&self, wamid: &str, status: &str) -> (String, i32, Option<String>) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let row = self.inbox_row(wamid).await;
            if let Some(row) = &row
                && (row.0 == status || Instant::now() > deadline)
            {
                return row.clone();
            }
            assert!(Instant::now() < deadline, "{wamid} never stored");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A hook that panics on messages whose text contains `word`, on the
/// attempts `when` accepts.
fn panic_on(word: &'static str, when: fn(i32) -> bool) -> FaultHook {
    Arc::new(move |event: &InboxEvent, attempt: i32| {
        if let InboxEvent::Message(m) = event
            && m.text().contains(word)
            && when(attempt)
        {
            panic!("injected fault on attempt {attempt}");
        }
    })
}

#[tokio::test]
async fn a_message_is_in_the_inbox_before_200() {
    let (_db, s) = start(quick()).await;
    assert_eq!(s.say("254712340001", "wamid.ack.1", "Hello").await, 200);
    // Read at once after the answer: the webhook stored it.
    let row = s.inbox_row("wamid.ack.1").await;
    assert!(row.is_some(), "stored before the 200");
    let payload: Value = sqlx::query_scalar(
        "SELECT payload FROM public.whatsapp_inbox WHERE message_id = 'wamid.ack.1'",
    )
    .fetch_one(s.db.pool())
    .await
    .unwrap();
    assert_eq!(payload["a"], "Hello");
    assert_eq!(payload["from"], "254712340001");
    // A delivery status is stored the same way.
    let status = envelope(json!({"metadata": {"phone_number_id": DEMO_ID},
               "statuses": [{"id": "wamid.out.1", "status": "delivered", "timestamp": "1", "recipient_id": "254712340001"}]}));
    assert_eq!(s.post(status).await, 200);
    assert!(s.inbox_row("status:wamid.out.1:delivered").await.is_some());
    // And the message is processed from there.
    let texts = s.wait_texts("254712340001", 1).await;
    assert!(texts[0].contains("Karibu Nywele Bora Salon"), "{texts:?}");
    assert_eq!(s.wait_status("wamid.ack.1", "done").await.0, "done");
}

#[tokio::test]
async fn a_database_that_is_down_answers_503() {
    // Nothing listens on this port: the pool cannot connect.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(2))
        .connect_lazy(&format!("postgres://postgres@127.0.0.1:{port}/none"))
        .unwrap();
    let s = serve(Db::from_pool(pool), None, quick()).await;
    assert_eq!(s.say("254712340002", "wamid.down.1", "Hello").await, 503);
    // A body the signature refuses is still refused first.
    let body = text_body(DEMO_ID, "254712340002", "wamid.down.2", "Hello");
    let refused = s
        .http
        .post(format!("{}/wa/webhook", s.base))
        .header("x-hub-signature-256", sign("wrong", &body))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
}

#[tokio::test]
async fn postgres_stopped_and_restarted_during_a_chat_loses_no_acknowledged_message() {
    let cluster = PrivateCluster::start("ratiba-intake-pg-").await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(2))
        .connect(&cluster.pg.url())
        .await
        .unwrap();
    let db = Db::from_pool(pool);
    migrate::migrate_public(&db).await.unwrap();
    let vault = Vault::new(&Secret::new(common::TEST_FERNET_KEY)).unwrap();
    seed::seed_demo(&db, Some(&vault)).await.unwrap();
    let s = Arc::new(serve(db, None, quick()).await);

    // What one "Hello" gets when all is well.
    assert_eq!(s.say("254712350000", "wamid.f.0", "Hello").await, 200);
    let normal = s.wait_texts("254712350000", 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let normal = s.texts("254712350000").await.len().max(normal.len());

    // Customers write while the database stops and comes back; each
    // message is delivered again after a non-200 answer, as Meta does.
    let senders: Vec<_> = (1..=12)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                let from = format!("2547123500{i:02}");
                let wamid = format!("wamid.f.{i}");
                tokio::time::sleep(Duration::from_millis(150 * i)).await;
                let mut answers = Vec::new();
                loop {
                    let status = s.say(&from, &wamid, "Hello").await;
                    answers.push(status);
                    if status == 200 {
                        return (from, answers);
                    }
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(400)).await;
    cluster.stop().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster.restart().await;

    let mut refused = 0;
    for sender in senders {
        let (from, answers) = sender.await.unwrap();
        refused += answers.iter().filter(|a| **a != 200).count();
        let texts = s.wait_texts(&from, normal).await;
        assert_eq!(texts.len(), normal, "{from}: {texts:?}");
    }
    assert!(refused > 0, "the outage was never seen by the webhook");
    // Nothing answered twice (late retries included).
    tokio::time::sleep(Duration::from_secs(1)).await;
    for i in 1..=12 {
        let from = format!("2547123500{i:02}");
        assert_eq!(s.texts(&from).await.len(), normal, "{from}");
    }
    let open: i64 =
        sqlx::query_scalar("SELECT count(*) FROM public.whatsapp_inbox WHERE status <> 'done'")
            .fetch_one(s.db.pool())
            .await
            .unwrap();
    assert_eq!(open, 0);
}

#[tokio::test]
async fn a_panic_in_processing_loses_nothing_and_other_customers_carry_on() {
    let (_db, s) = start(IntakeOptions {
        fault_hook: Some(panic_on("PANIC", |attempt| attempt == 1)),
        ..quick()
    })
    .await;
    assert_eq!(s.say("254712340010", "wamid.p.1", "Hello PANIC").await, 200);
    assert_eq!(s.say("254712340011", "wamid.p.2", "Hello").await, 200);
    let other = s.wait_texts("254712340011", 1).await;
    assert!(other[0].contains("Karibu"), "{other:?}");
    // The panicking message is tried again and answered.
    let (status, attempts, error) = s.wait_status("wamid.p.1", "done").await;
    assert_eq!((status.as_str(), attempts), ("done", 2), "{error:?}");
    assert!(error.unwrap_or_default().contains("panicked"));
    assert_eq!(s.wait_texts("254712340010", 1).await.len(), 1);
    // The intake still takes new customers afterwards.
    assert_eq!(s.say("254712340012", "wamid.p.3", "Hello").await, 200);
    assert_eq!(s.wait_texts("254712340012", 1).await.len(), 1);
}

#[tokio::test]
async fn a_message_that_keeps_failing_is_parked_and_the_customer_goes_on() {
    let (_db, s) = start(IntakeOptions {
        max_attempts: 3,
        fault_hook: Some(panic_on("POISON", |_| true)),
        ..quick()
    })
    .await;
    assert_eq!(s.say("254712340020", "wamid.x.1", "POISON").await, 200);
    assert_eq!(s.say("254712340020", "wamid.x.2", "Hello").await, 200);
    let (status, attempts, error) = s.wait_status("wamid.x.1", "parked").await;
    assert_eq!((status.as_str(), attempts), ("parked", 3));
    assert!(error.unwrap_or_default().contains("injected fault"));
    // The later message of the same customer is processed after it.
    assert_eq!(s.wait_status("wamid.x.2", "done").await.0, "done");
    let texts = s.wait_texts("254712340020", 1).await;
    assert!(texts[0].contains("Karibu"), "{texts:?}");
    // An operator can put it back once the cause is fixed.
    assert_eq!(
        ratiba::storage::inbox::requeue_parked(&s.db).await.unwrap(),
        1
    );
}

#[tokio::test]
async fn nul_characters_in_text_are_stored_and_processed() {
    let (_db, s) = start(quick()).await;
    assert_eq!(
        s.say("254712340030", "wamid.nul.1", "Hel\u{0}lo\u{0}")
            .await,
        200
    );
    let texts = s.wait_texts("254712340030", 1).await;
    assert!(texts[0].contains("Karibu"), "{texts:?}");
    assert_eq!(s.wait_status("wamid.nul.1", "done").await.0, "done");
    assert_eq!(
        s.count("SELECT count(*) FROM interactions WHERE direction = 'inbound' AND content = 'Hello' AND metadata->>'wamid' = 'wamid.nul.1'")
            .await,
        1
    );
    // An unknown number's NUL-bearing body is quarantined too.
    let body = text_body("999999999990", "254712340031", "wamid.nul.2", "\u{0}");
    assert_eq!(s.post(body).await, 200);
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM public.inbound_quarantine WHERE provider_message_id = 'wamid.nul.2'",
    )
    .fetch_one(s.db.pool())
    .await
    .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_redelivered_message_is_processed_once() {
    let (_db, s) = start(quick()).await;
    for _ in 0..3 {
        assert_eq!(s.say("254712340040", "wamid.r.1", "Hello").await, 200);
    }
    let first = s.wait_texts("254712340040", 1).await;
    s.wait_status("wamid.r.1", "done").await;
    // Again after it was processed (Meta retries for days).
    assert_eq!(s.say("254712340040", "wamid.r.1", "Hello").await, 200);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(s.texts("254712340040").await.len(), first.len());
    assert_eq!(
        s.count("SELECT count(*) FROM interactions WHERE direction = 'inbound' AND metadata->>'wamid' = 'wamid.r.1'")
            .await,
        1
    );
    // The duplicate check reads an index, not the whole table.
    let plan: Vec<String> = {
        let mut tx = s.demo.begin().await.unwrap();
        sqlx::query_scalar(
            "EXPLAIN SELECT 1 FROM interactions WHERE direction = 'inbound' AND metadata->>'wamid' = 'x'",
        )
        .fetch_all(tx.conn())
        .await
        .unwrap()
    };
    assert!(
        plan.iter().any(|l| l.contains("idx_interactions_wamid")),
        "{plan:?}"
    );
}

#[tokio::test]
async fn quarantine_keeps_one_row_per_redelivered_message() {
    let (_db, s) = start(quick()).await;
    let body = text_body("999999999999", "254712340050", "wamid.q.1", "Hello?");
    for _ in 0..3 {
        assert_eq!(s.post(body.clone()).await, 200);
    }
    let other = text_body("999999999999", "254712340050", "wamid.q.2", "Hello?");
    assert_eq!(s.post(other).await, 200);
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT to_phone_number_id, from_phone, provider_message_id FROM public.inbound_quarantine ORDER BY provider_message_id",
    )
    .fetch_all(s.db.pool())
    .await
    .unwrap();
    assert_eq!(
        rows,
        [
            (
                "999999999999".to_owned(),
                "254712340050".to_owned(),
                Some("wamid.q.1".to_owned())
            ),
            (
                "999999999999".to_owned(),
                "254712340050".to_owned(),
                Some("wamid.q.2".to_owned())
            ),
        ]
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(s.texts("254712340050").await.is_empty(), "nothing sent");
}

#[tokio::test]
async fn one_customers_messages_are_processed_in_the_order_received() {
    let (_db, s) = start(quick()).await;
    let words = [
        "Hello",
        "What time do you open?",
        "Price of box braids?",
        "Asante",
        "Bye",
    ];
    for (i, word) in words.iter().enumerate() {
        assert_eq!(
            s.say("254712340060", &format!("wamid.o.{i}"), word).await,
            200
        );
    }
    for i in 0..words.len() {
        s.wait_status(&format!("wamid.o.{i}"), "done").await;
    }
    let mut tx = s.demo.begin().await.unwrap();
    let seen: Vec<String> = sqlx::query_scalar(
        "SELECT content FROM interactions WHERE direction = 'inbound' ORDER BY created_at, id",
    )
    .fetch_all(tx.conn())
    .await
    .unwrap();
    assert_eq!(seen, words);
}

#[tokio::test]
async fn rows_left_processing_by_a_dead_worker_are_taken_back() {
    let db = common::TestDb::new().await;
    db.seed_demo().await;
    // A row a worker of another (now dead) node claimed: lease run out.
    let tenant = db
        .db()
        .tenant_by_slug(&TenantSlug::parse("demo").unwrap())
        .await
        .unwrap()
        .unwrap();
    let message = ratiba::adapters::whatsapp::codec::InboundMessage {
        phone_number_id: DEMO_ID.into(),
        from: "254712340070".into(),
        profile_name: None,
        id: "wamid.dead.1".into(),
        timestamp: 1,
        kind: ratiba::adapters::whatsapp::codec::InboundKind::Text("Hello".into()),
    };
    ratiba::storage::inbox::store(
        db.db(),
        &[ratiba::storage::inbox::NewInboxRow {
            message_id: "wamid.dead.1".into(),
            kind: ratiba::storage::inbox::InboxKind::Message,
            tenant_id: tenant.id,
            customer_key: format!("{DEMO_ID}:254712340070"),
            payload: ratiba::runtime::chat_intake::encode_message(&message),
        }],
        &[],
    )
    .await
    .unwrap();
    sqlx::query(
        "UPDATE public.whatsapp_inbox SET status = 'processing', attempts = 1, \
         locked_until = now() - interval '1 second' WHERE message_id = 'wamid.dead.1'",
    )
    .execute(db.db().pool())
    .await
    .unwrap();
    // A node starting up finds it and answers it.
    let s = serve(db.db().clone(), None, quick()).await;
    let texts = s.wait_texts("254712340070", 1).await;
    assert!(texts[0].contains("Karibu"), "{texts:?}");
    let (status, attempts, _) = s.wait_status("wamid.dead.1", "done").await;
    assert_eq!((status.as_str(), attempts), ("done", 2));
}

/// A Graph API on loopback that answers sends to `slow` after 3 s and the
/// rest at once; records when each recipient's message arrived.
async fn graph_slow_for(slow: &'static str) -> (String, Arc<Mutex<BTreeMap<String, Instant>>>) {
    use axum::Json;
    use axum::routing::post;
    let seen: Arc<Mutex<BTreeMap<String, Instant>>> = Arc::default();
    let log = Arc::clone(&seen);
    let app = axum::Router::new().route(
        "/{phone_number_id}/messages",
        post(move |Json(body): Json<Value>| {
            let log = Arc::clone(&log);
            async move {
                let to = body["to"].as_str().unwrap_or("").to_owned();
                if to == slow {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                }
                if !to.is_empty() {
                    log.lock().unwrap().entry(to).or_insert_with(Instant::now);
                }
                Json(json!({"messaging_product": "whatsapp", "messages": [{"id": "wamid.fake"}], "success": true}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, seen)
}

#[tokio::test]
async fn a_slow_graph_api_for_one_customer_does_not_delay_another() {
    let db = common::TestDb::new().await;
    db.seed_demo().await;
    // The demo tenant sends with a stored token to the fake Graph API.
    sqlx::query("UPDATE public.tenants SET whatsapp_access_token = $1 WHERE slug = 'demo'")
        .bind(db.vault().encrypt_text("test-token"))
        .execute(db.db().pool())
        .await
        .unwrap();
    let (graph, seen) = graph_slow_for("254712340080").await;
    let s = serve(db.db().clone(), Some(graph), quick()).await;
    assert_eq!(s.say("254712340080", "wamid.s.1", "Hello").await, 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(s.say("254712340081", "wamid.s.2", "Hello").await, 200);
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.lock().unwrap().len() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = seen.lock().unwrap().clone();
    let (slow, fast) = (seen["254712340080"], seen["254712340081"]);
    assert!(
        fast < slow,
        "the other customer's reply waited for the slow one"
    );
}

#[tokio::test]
async fn a_suspended_or_expired_trial_tenant_stores_messages_and_answers_none() {
    let (_db, s) = start(quick()).await;
    let set = |sql: &'static str| {
        let pool = s.db.pool().clone();
        async move {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
    };
    // Served: the bot answers.
    assert_eq!(s.say("254712340090", "wamid.st.1", "Hello").await, 200);
    assert!(!s.wait_texts("254712340090", 1).await.is_empty());
    let answered = s.texts("254712340090").await.len();
    let inbound = "SELECT count(*) FROM interactions WHERE direction = 'inbound'";
    let before = s.count(inbound).await;

    set("UPDATE public.tenants SET status = 'suspended' WHERE slug = 'demo'").await;
    assert_eq!(s.say("254712340090", "wamid.st.2", "Hello").await, 200);
    s.wait_status("wamid.st.2", "done").await;

    set("UPDATE public.tenants SET status = 'trial', trial_ends_at = now() - interval '1 hour' WHERE slug = 'demo'").await;
    assert_eq!(s.say("254712340090", "wamid.st.3", "Hello").await, 200);
    s.wait_status("wamid.st.3", "done").await;

    // Stored (acknowledged, kept in the inbox), not answered, no turn run.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.texts("254712340090").await.len(), answered);
    assert_eq!(s.count(inbound).await, before);

    // A trial still running is served again.
    set("UPDATE public.tenants SET trial_ends_at = now() + interval '1 day' WHERE slug = 'demo'")
        .await;
    assert_eq!(s.say("254712340090", "wamid.st.4", "Hello").await, 200);
    let again = s.wait_texts("254712340090", answered + 1).await;
    assert!(again.len() > answered);
}

#[tokio::test]
async fn a_change_to_the_tenants_admins_applies_from_the_next_message() {
    let (_db, s) = start(quick()).await;
    // A customer: the bot answers (the tenant's record and admins are now
    // kept in memory).
    assert_eq!(s.say("254712340110", "wamid.adm.1", "Hello").await, 200);
    let answered = s.wait_texts("254712340110", 1).await.len();
    s.wait_status("wamid.adm.1", "done").await;

    // Made an admin (by SQL, as an operator would): the next message is an
    // admin's command.
    sqlx::query(
        "INSERT INTO public.tenant_admins (tenant_id, phone_number) \
         SELECT id, '+254 712 340110' FROM public.tenants WHERE slug = 'demo'",
    )
    .execute(s.db.pool())
    .await
    .unwrap();
    assert_eq!(s.say("254712340110", "wamid.adm.2", "CLAIM").await, 200);
    let texts = s.wait_texts("254712340110", answered + 1).await;
    assert!(
        texts[answered].contains("No customer is waiting"),
        "{texts:?}"
    );

    // Deactivated: a customer again.
    sqlx::query("UPDATE public.tenant_admins SET is_active = FALSE")
        .execute(s.db.pool())
        .await
        .unwrap();
    assert_eq!(s.say("254712340110", "wamid.adm.3", "Hello").await, 200);
    s.wait_status("wamid.adm.3", "done").await;
    assert_eq!(
        s.count("SELECT count(*) FROM interactions WHERE direction = 'inbound' AND metadata->>'wamid' = 'wamid.adm.3'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_replay_after_the_done_mark_and_deliveries_were_lost_sends_nothing_again() {
    let (_db, s) = start(quick()).await;
    assert_eq!(s.say("254712340120", "wamid.lost.1", "Hello").await, 200);
    s.wait_texts("254712340120", 1).await;
    s.wait_status("wamid.lost.1", "done").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = s.texts("254712340120").await.len();
    assert!(sent >= 1);
    // What a database crash can undo of a processed message (the done mark
    // and the delivery outcomes commit without waiting for the disk): the
    // row back in its lane, the replies' provider ids gone. The turn's own
    // transaction (its rows and its message-id claim) was flushed before.
    let mut tx = s.demo.begin().await.unwrap();
    sqlx::query(
        "UPDATE interactions SET metadata = metadata - 'wamid' - 'status' WHERE direction = 'outbound'",
    )
    .execute(tx.conn())
    .await
    .unwrap();
    tx.commit().await.unwrap();
    sqlx::query(
        "UPDATE public.whatsapp_inbox SET status = 'processing', done_at = NULL, \
         locked_until = now() - interval '1 second' WHERE message_id = 'wamid.lost.1'",
    )
    .execute(s.db.pool())
    .await
    .unwrap();
    // Taken back by the sweep, run again: a duplicate, nothing sent.
    let (status, attempts, _) = s.wait_status("wamid.lost.1", "done").await;
    assert_eq!((status.as_str(), attempts), ("done", 2));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(s.texts("254712340120").await.len(), sent);
    assert_eq!(
        s.count("SELECT count(*) FROM interactions WHERE direction = 'inbound' AND metadata->>'wamid' = 'wamid.lost.1'")
            .await,
        1
    );
}

#[tokio::test]
async fn delivery_outcomes_with_quotes_and_dollar_tags_are_recorded_as_given() {
    use ratiba::core::dialog::Channel;
    use ratiba::storage::conversation::{self as conv, Delivery, InteractionRow};
    let db = common::TestDb::new().await;
    db.seed_demo().await;
    let demo = db.db().tenant(&TenantSlug::parse("demo").unwrap());
    let metadata = json!({"thread_id": "t"});
    let row = InteractionRow {
        contact_id: None,
        channel: Channel::WhatsApp,
        inbound: false,
        message_type: "text",
        content: "Karibu",
        intent: None,
        language: Some("en"),
        metadata: metadata.clone(),
    };
    let mut tx = demo.begin().await.unwrap();
    let ids = conv::record_interactions(&mut tx, &[row.clone(), row])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let provider_id = "wamid.it's $q0$ $$'); DROP TABLE interactions; --";
    let reason = "refused: \"$q1$\" it's\0 $q0";
    conv::record_deliveries(
        &demo,
        &[
            (ids[0], Delivery::Accepted(provider_id)),
            (ids[1], Delivery::NotSent(reason)),
        ],
    )
    .await
    .unwrap();
    let mut tx = demo.begin().await.unwrap();
    let stored: Vec<Value> = sqlx::query_scalar(
        "SELECT metadata FROM interactions WHERE id = ANY($1) ORDER BY id = $2 DESC",
    )
    .bind(&ids)
    .bind(ids[0])
    .fetch_all(tx.conn())
    .await
    .unwrap();
    assert_eq!(
        stored,
        [
            json!({"thread_id": "t", "wamid": provider_id, "status": "accepted"}),
            json!({"thread_id": "t", "status": "not_sent", "not_sent_reason": "refused: \"$q1$\" it's $q0"}),
        ]
    );
}
