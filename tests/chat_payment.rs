//! Paying for a WhatsApp booking in the chat, against a server built as
//! `ratiba serve --payments simulator` builds it: the WhatsApp routes with
//! the node's payment service, the payment callback routes and the
//! simulator under /sim, on a fresh database seeded with the demo tenant.
//! What the bot sends is read back from the development Graph capture.
//!
//! The customer's number's last two digits choose the simulator's outcome
//! (11 pays, 92 cancels the prompt, 96 pays after a minute, 97 never calls
//! back).

mod common;

use std::time::Duration;

use ratiba::adapters::whatsapp::codec::sign;
use ratiba::config::{PaymentEnvironment, Secret};
use ratiba::http::whatsapp::{ChatPayments, WhatsAppConfig, router_with_payments};
use ratiba::runtime::conversation::ConversationService;
use ratiba::runtime::payments::PaymentsNode;
use ratiba::storage::{TenantHandle, Vault};
use serde_json::json;
use sqlx::Row;

const SECRET: &str = "test-app-secret";
const DEMO_ID: &str = "109876543210001";

struct Server {
    base: String,
    http: reqwest::Client,
    _db: common::TestDb,
    demo: TenantHandle,
    node: PaymentsNode,
}

/// A server whose demo tenant has these payment settings (SQL assignments
/// for public.tenants, or empty).
async fn start(tenant_settings: &str) -> Server {
    let db = common::TestDb::new().await;
    let demo = db.seed_demo().await;
    serve_on(db, demo, tenant_settings).await
}

/// [`start`] on a database prepared beforehand.
async fn serve_on(db: common::TestDb, demo: TenantHandle, tenant_settings: &str) -> Server {
    if !tenant_settings.is_empty() {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE public.tenants SET {tenant_settings} WHERE slug = 'demo'"
        )))
        .execute(db.db().pool())
        .await
        .unwrap();
    }
    let mut settings = db.settings();
    settings.payments.payment_environment = PaymentEnvironment::Simulator;
    // Owed outcome notices are looked for often (picked up after 10 s).
    settings.payments.notice_sweep_every = Duration::from_millis(200);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let vault = || Vault::new(&Secret::new(common::TEST_FERNET_KEY)).unwrap();
    let mut node = PaymentsNode::start(&settings, addr, db.db().clone(), Some(vault()))
        .await
        .expect("payments node");
    let config = WhatsAppConfig {
        db: db.db().clone(),
        vault: Some(vault()),
        app_secret: Some(Secret::new(SECRET)),
        verify_token: None,
        graph_base_url: format!("{base}/dev/graph"),
        service: ConversationService::new(db.db().clone()),
        reminder_sweep_every: Duration::from_secs(60),
    };
    let payments = ChatPayments {
        service: node.service.clone(),
        events: node.take_chat_events(),
        call_links: None,
    };
    let app = router_with_payments(config, Some(payments))
        .merge(ratiba::http::payments::router(
            node.service.clone(),
            Vec::new(),
            node.simulator.as_ref(),
        ))
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        base,
        http: reqwest::Client::new(),
        _db: db,
        demo,
        node,
    }
}

impl Server {
    async fn say(&self, from: &str, wamid: &str, text: &str) {
        let body = serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "254711000200", "phone_number_id": DEMO_ID},
            "contacts": [{"profile": {"name": "Wanjiku"}, "wa_id": from}],
            "messages": [{"from": from, "id": wamid, "timestamp": "1749416383", "type": "text", "text": {"body": text}}]}}]}]}))
        .unwrap();
        let status = self
            .http
            .post(format!("{}/wa/webhook", self.base))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", sign(SECRET, &body))
            .body(body)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200);
    }

    /// Texts sent to `to` so far, once at least `n` (or after 20 s).
    async fn wait_texts(&self, to: &str, n: usize) -> Vec<String> {
        common::wait_whatsapp_texts(&self.base, to, n, Duration::from_secs(20)).await
    }

    /// Books box braids in the chat of `from` and returns the texts so far
    /// (at least the question, the confirmation and the first payment
    /// message).
    async fn book(&self, from: &str) -> Vec<String> {
        self.say(
            from,
            &format!("wamid.{from}.1"),
            "Hi, I want box braids next Tuesday at 10am",
        )
        .await;
        let t = self.wait_texts(from, 1).await;
        assert!(t[0].contains("Shall I book it?"), "{t:?}");
        self.say(from, &format!("wamid.{from}.2"), "Yes").await;
        let t = self.wait_texts(from, 3).await;
        assert!(t[1].contains("Done!"), "{t:?}");
        t
    }

    /// (status, mpesa_receipt) of every payment, and the payment_status of
    /// every appointment.
    async fn rows(&self) -> (Vec<(String, Option<String>)>, Vec<String>) {
        let mut tx = self.demo.begin().await.unwrap();
        let payments = sqlx::query("SELECT status, mpesa_receipt FROM payments")
            .fetch_all(tx.conn())
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get("status"), r.get("mpesa_receipt")))
            .collect();
        let appointments = sqlx::query("SELECT payment_status, status FROM appointments")
            .fetch_all(tx.conn())
            .await
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "{}/{}",
                    r.get::<Option<String>, _>("payment_status")
                        .unwrap_or_default(),
                    r.get::<Option<String>, _>("status").unwrap_or_default()
                )
            })
            .collect();
        (payments, appointments)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_booking_is_paid_by_mpesa_prompt_and_confirmed_in_the_chat() {
    let s = start("").await;
    let t = s.book("254712345611").await;
    assert!(t[2].contains("M-Pesa request"), "{t:?}");

    let t = s.wait_texts("254712345611", 4).await;
    let (payments, appointments) = s.rows().await;
    assert_eq!(payments.len(), 1, "{payments:?}");
    assert_eq!(payments[0].0, "completed");
    let receipt = payments[0].1.clone().expect("receipt");
    assert!(
        t[3].contains("Payment received") && t[3].contains(&receipt),
        "{t:?}"
    );
    assert_eq!(appointments, vec!["paid/confirmed".to_owned()]);
    s.node.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_cancelled_on_the_phone_is_explained_in_the_chat() {
    let s = start("").await;
    let t = s.book("254712345692").await;
    assert!(t[2].contains("M-Pesa request"), "{t:?}");

    let t = s.wait_texts("254712345692", 4).await;
    assert!(t[3].contains("The request was cancelled"), "{t:?}");
    let (payments, appointments) = s.rows().await;
    assert_eq!(
        payments,
        vec![("cancelled_by_customer".to_owned(), None)],
        "not completed"
    );
    assert_ne!(appointments, vec!["paid/confirmed".to_owned()]);

    // The customer answers RETRY as the message offers: a second prompt
    // (paid this time), confirmed in the chat; the dialog never saw it.
    let next = s
        .http
        .post(format!("{}/sim/control/next", s.base))
        .json(&json!({"outcome": "success"}))
        .send()
        .await
        .unwrap();
    assert_eq!(next.status(), 204);
    s.say("254712345692", "wamid.254712345692.3", "RETRY").await;
    let t = s.wait_texts("254712345692", 6).await;
    assert!(t[4].contains("M-Pesa request"), "{t:?}");
    assert!(t[5].contains("Payment received"), "{t:?}");
    let (payments, appointments) = s.rows().await;
    assert_eq!(payments.len(), 2, "{payments:?}");
    assert!(payments.iter().any(|(status, _)| status == "completed"));
    assert_eq!(appointments, vec!["paid/confirmed".to_owned()]);
    // A redelivery of the same RETRY starts nothing more.
    s.say("254712345692", "wamid.254712345692.3", "RETRY").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(s.rows().await.0.len(), 2);
    s.node.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_preferring_pesapal_sends_a_link_and_confirms_the_order() {
    let s = start("preferred_payment_provider = 'pesapal'").await;
    let t = s.book("254712345612").await;
    assert!(
        t[2].contains("Pay securely here") && t[2].contains("/sim/pesapal/"),
        "{t:?}"
    );
    let t = s.wait_texts("254712345612", 4).await;
    assert!(t[3].contains("Payment received"), "{t:?}");
    let (payments, appointments) = s.rows().await;
    assert_eq!(payments.len(), 1);
    assert_eq!(payments[0].0, "completed");
    assert_eq!(appointments, vec!["paid/confirmed".to_owned()]);
    s.node.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpaid_chat_booking_is_released_with_a_message() {
    // Nudge and abandon fall due at once; the node's deadline sweep (every
    // 15 s) finds them.
    let s = start("pesapal_nudge_seconds = 1, pesapal_abandon_seconds = 2").await;
    // 97: the simulator never calls back.
    let t = s.book("254712345697").await;
    assert!(t[2].contains("M-Pesa request"), "{t:?}");

    let t = s.wait_texts("254712345697", 4).await;
    assert!(t[3].contains("the booking has been released"), "{t:?}");
    let (_, appointments) = s.rows().await;
    assert_eq!(appointments.len(), 1);
    assert!(appointments[0].ends_with("/cancelled"), "{appointments:?}");
    s.node.shutdown();
}

/// A booking made on a call (a voice thread and an appointment of its
/// caller) whose M-Pesa prompt was pushed as the call's hold pushes it;
/// returns the payment id. The simulator's outcome follows `phone`'s last
/// two digits.
async fn call_payment_pushed(s: &Server, phone: &str) -> uuid::Uuid {
    use ratiba::core::ids::{Currency, Money, PhoneNumber, TenantSlug, ThreadId};
    use ratiba::runtime::payments::PushRequest;
    let thread = ThreadId::new();
    let mut tx = s.demo.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO conversation_threads (customer_phone, thread_id, channel_started, actor_type) \
         VALUES ($1, $2, 'voice', 'customer')",
    )
    .bind(phone)
    .bind(thread.as_str())
    .execute(tx.conn())
    .await
    .unwrap();
    let appointment: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO appointments (start_at, end_at, status, payment_status, amount, booking_channel) \
         VALUES (now() + interval '1 day', now() + interval '25 hours', 'pending', 'unpaid', 1500, 'voice') \
         RETURNING id",
    )
    .fetch_one(tx.conn())
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let tenant = s
        ._db
        .db()
        .tenant_by_slug(&TenantSlug::parse("demo").unwrap())
        .await
        .unwrap()
        .unwrap();
    let request = PushRequest {
        thread_id: thread,
        appointment_id: Some(appointment),
        contact_id: None,
        phone: PhoneNumber::parse(phone).unwrap(),
        amount: Money::new(150_000, Currency::KES),
        account_reference: "Nywele Bora".into(),
        description: "Booking".into(),
    };
    s.node
        .service
        .start_stk_push(&tenant, &request, chrono::Utc::now())
        .await
        .expect("push started")
        .payment_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_payment_failing_after_the_call_is_told_in_writing_with_a_link() {
    let s = start("").await;
    // 92: the prompt is cancelled on the phone, 4 s after the push; no call
    // is holding any more (the caller was released, or hung up).
    call_payment_pushed(&s, "+254722000192").await;
    let texts = s.wait_texts("254722000192", 2).await;
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(
        texts[0].contains("did not go through") && texts[0].contains("cancelled"),
        "{texts:?}"
    );
    assert!(
        texts[1].contains("Pay securely here") && texts[1].contains("/sim/pesapal/"),
        "{texts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_the_call_told_on_the_line_is_not_written_again() {
    let s = start("").await;
    let payment = call_payment_pushed(&s, "+254722000192").await;
    // What a holding call records when it says the failure on the line.
    assert!(
        ratiba::storage::payments::deadlines::told_on_call(&s.demo, payment)
            .await
            .unwrap()
    );
    // The outcome comes 4 s after the push; the chat side gives the call 5 s.
    tokio::time::sleep(Duration::from_secs(12)).await;
    let texts = common::captured_whatsapp(&s.base, "254722000192").await;
    assert!(texts.is_empty(), "{texts:?}");
    let (payments, _) = s.rows().await;
    assert_eq!(
        payments[0].0, "cancelled_by_customer",
        "the outcome did come"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outcome_no_node_heard_is_told_by_the_sweep() {
    use ratiba::core::ids::{Money, PhoneNumber, ThreadId};
    use ratiba::core::payment::{PaymentOutcome, Provider};
    use ratiba::storage::payments::{self as store, NewPayment, Outcome};
    // A chat payment completed while no node was listening (say all of
    // them were restarting): its notice went nowhere.
    let db = common::TestDb::new().await;
    let demo = db.seed_demo().await;
    let tenant = db.db().tenant_by_slug(demo.slug()).await.unwrap().unwrap();
    let phone = PhoneNumber::parse("+254712345688").unwrap();
    let thread = ThreadId::new();
    let mut tx = demo.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO conversation_threads (customer_phone, thread_id, channel_started, actor_type) \
         VALUES ($1, $2, 'whatsapp', 'customer')",
    )
    .bind(phone.expose())
    .bind(thread.as_str())
    .execute(tx.conn())
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let new = NewPayment {
        tenant_id: tenant.id,
        thread_id: &thread,
        appointment_id: None,
        contact_id: None,
        amount: Money::kes(150_000),
        provider: Provider::Mpesa,
        phone: Some(&phone),
    };
    let payment = store::initiate(db.db(), &demo, &new, chrono::Utc::now())
        .await
        .unwrap()
        .payment_id;
    store::mark_pending(&demo, payment, Some("ws_CO_unheard"))
        .await
        .unwrap();
    let applied = store::record_outcome(
        &demo,
        &Outcome {
            payment_id: payment,
            thread_id: &thread,
            outcome: &PaymentOutcome::Completed {
                receipt: Some("UNHEARD001".into()),
            },
            checkout_id: Some("ws_CO_unheard"),
            amount_minor: None,
            payload: &json!({"stk_query": {"ResultCode": 0}}),
            callback: None,
            now: chrono::Utc::now(),
        },
    )
    .await
    .unwrap();
    assert!(applied.recorded(), "{applied:?}");

    // A node starting afterwards finds the notice still owed and tells it,
    // once.
    let s = serve_on(db, demo, "").await;
    let texts = s.wait_texts("254712345688", 1).await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].contains("UNHEARD001"), "{texts:?}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let texts = common::captured_whatsapp(&s.base, "254712345688").await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    s.node.shutdown();
}

impl Server {
    /// The simulator's (pushes made, status queries answered).
    async fn sim_counts(&self) -> (u64, u64) {
        let stats: serde_json::Value = self
            .http
            .get(format!("{}/sim/control/stats", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (
            stats["pushes"].as_u64().unwrap(),
            stats["queries"].as_u64().unwrap(),
        )
    }

    /// (direction, intent, content) of the interactions of a message id.
    async fn interactions_of(&self, wamid: &str) -> Vec<(String, Option<String>, String)> {
        let mut tx = self.demo.begin().await.unwrap();
        sqlx::query(
            "SELECT direction, intent, content FROM interactions \
             WHERE metadata->>'wamid' = $1 ORDER BY created_at",
        )
        .bind(wamid)
        .fetch_all(tx.conn())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get("direction"), r.get("intent"), r.get("content")))
        .collect()
    }

    /// (direction, content) of the payment interactions, oldest first.
    async fn payment_interactions(&self) -> Vec<(String, String)> {
        let mut tx = self.demo.begin().await.unwrap();
        sqlx::query(
            "SELECT direction, content FROM interactions WHERE intent = 'payment' ORDER BY created_at",
        )
        .fetch_all(tx.conn())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get("direction"), r.get("content")))
        .collect()
    }
}

// Numbers ending 96: the simulated customer answers the prompt only after a
// minute, so it stays pending (M-Pesa's status query says "being
// processed") for the whole test.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_again_while_the_prompt_is_open_asks_m_pesa_and_keeps_one_prompt() {
    let s = start("").await;
    let from = "254712345696";
    let t = s.book(from).await;
    assert!(t[2].contains("M-Pesa request"), "{t:?}");
    assert_eq!(s.sim_counts().await, (1, 0));

    s.say(from, "wamid.254712345696.3", "haijafika tuma tena")
        .await;
    let t = s.wait_texts(from, 4).await;
    assert_eq!(t.len(), 4, "{t:?}");
    // Answered in the message's language, the prompt still the only one.
    assert!(
        t[3].contains("bado liko wazi") && t[3].contains("TENA"),
        "{t:?}"
    );
    assert_eq!(s.sim_counts().await, (1, 1), "(pushes, status queries)");
    let (payments, appointments) = s.rows().await;
    assert_eq!(payments, vec![("pending".to_owned(), None)]);
    assert_eq!(appointments.len(), 1);
    assert!(!appointments[0].starts_with("paid"), "{appointments:?}");
    // Recorded as a payment exchange, the message once and its answer.
    assert_eq!(
        s.interactions_of("wamid.254712345696.3").await,
        vec![(
            "inbound".to_owned(),
            Some("payment".to_owned()),
            "haijafika tuma tena".to_owned()
        )]
    );
    let recorded = s.payment_interactions().await;
    assert_eq!(
        recorded.last(),
        Some(&("outbound".to_owned(), t[3].clone())),
        "{recorded:?}"
    );

    // Meta delivers the same message again: answered once.
    s.say(from, "wamid.254712345696.3", "haijafika tuma tena")
        .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(s.wait_texts(from, 5).await.len(), 4);
    assert_eq!(s.interactions_of("wamid.254712345696.3").await.len(), 1);
    assert_eq!(s.sim_counts().await, (1, 1));
    s.node.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_link_asked_for_while_the_prompt_is_open_is_sent() {
    let s = start("").await;
    let from = "254712345796";
    s.book(from).await;
    s.say(from, "wamid.254712345796.3", "nitumie link ya card")
        .await;
    let t = s.wait_texts(from, 4).await;
    assert_eq!(t.len(), 4, "{t:?}");
    assert!(t[3].contains("/sim/pesapal/"), "{t:?}");
    let (payments, _) = s.rows().await;
    assert_eq!(
        payments.len(),
        2,
        "an M-Pesa prompt and an order: {payments:?}"
    );
    let mut tx = s.demo.begin().await.unwrap();
    let providers: Vec<String> =
        sqlx::query_scalar("SELECT provider FROM payments ORDER BY created_at")
            .fetch_all(tx.conn())
            .await
            .unwrap();
    assert_eq!(providers, vec!["mpesa".to_owned(), "pesapal".to_owned()]);
    s.node.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i_have_paid_is_checked_and_never_taken_as_paid() {
    let s = start("").await;
    let from = "254712345896";
    s.book(from).await;
    s.say(from, "wamid.254712345896.3", "nimelipa").await;
    let t = s.wait_texts(from, 4).await;
    assert_eq!(t.len(), 4, "{t:?}");
    // One word that tells no language: the chat's (English).
    assert!(
        t[3].contains("I'm checking") && t[3].contains("as soon as M-Pesa"),
        "{t:?}"
    );
    assert_eq!(s.sim_counts().await, (1, 1));
    let (payments, appointments) = s.rows().await;
    assert_eq!(payments, vec![("pending".to_owned(), None)]);
    assert!(!appointments[0].starts_with("paid"), "{appointments:?}");
    s.node.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_while_the_prompt_is_open_is_the_dialogs() {
    let s = start("").await;
    let from = "254712345996";
    s.book(from).await;
    let question = "what time is my appointment?";
    s.say(from, "wamid.254712345996.3", question).await;
    let t = s.wait_texts(from, 4).await;
    assert_eq!(t.len(), 4, "{t:?}");
    // The dialog's answer: the booking's time, nothing of the payment.
    assert!(t[1].contains("10:00") && t[3].contains("10:00"), "{t:?}");
    assert!(!t[3].contains("M-Pesa"), "{t:?}");
    let recorded = s.interactions_of("wamid.254712345996.3").await;
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_ne!(recorded[0].1.as_deref(), Some("payment"), "{recorded:?}");
    // M-Pesa was not asked, nothing was pushed.
    assert_eq!(s.sim_counts().await, (1, 0));

    // A cancel is the dialog's too: it asks first, the booking stands.
    s.say(from, "wamid.254712345996.4", "cancel it").await;
    let t = s.wait_texts(from, 5).await;
    assert_eq!(t.len(), 5, "{t:?}");
    assert!(t[4].contains('?') && !t[4].contains("M-Pesa"), "{t:?}");
    let (_, appointments) = s.rows().await;
    assert!(!appointments[0].ends_with("/cancelled"), "{appointments:?}");
    s.node.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_the_status_query_finds_is_told_once_by_its_notice() {
    let s = start("").await;
    // 97: paid on the phone 4 s after the push, but M-Pesa never calls
    // back; only its status query knows.
    let from = "254712345597";
    s.book(from).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(s.rows().await.0, vec![("pending".to_owned(), None)]);
    s.say(from, "wamid.254712345597.3", "I have paid").await;
    let t = s.wait_texts(from, 4).await;
    assert_eq!(t.len(), 4, "{t:?}");
    // M-Pesa's status query gives no receipt number.
    assert!(t[3].contains("Payment received"), "{t:?}");
    let (payments, appointments) = s.rows().await;
    assert_eq!(payments, vec![("completed".to_owned(), None)]);
    assert_eq!(appointments, vec!["paid/confirmed".to_owned()]);
    // Told once: no "checking" besides it.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(common::captured_whatsapp(&s.base, from).await.len(), 4);
    s.node.shutdown();
}
