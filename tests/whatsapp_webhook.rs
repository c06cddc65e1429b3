//! The WhatsApp webhook over loopback: verification, signatures, routing,
//! quarantine, retried deliveries, size and shape limits, statuses, and
//! whole bookings in English and Swahili through the dev capture endpoint.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ratiba::adapters::whatsapp::codec::sign;
use ratiba::config::Secret;
use ratiba::http::whatsapp::{WhatsAppConfig, router};
use ratiba::runtime::conversation::ConversationService;
use ratiba::storage::{TenantHandle, Vault};
use serde_json::{Value, json};

const SECRET: &str = "test-app-secret";
const DEMO_ID: &str = "109876543210001";

struct Server {
    base: String,
    http: reqwest::Client,
    db: common::TestDb,
    demo: TenantHandle,
}

async fn start() -> Server {
    let db = common::TestDb::new().await;
    let demo = db.seed_demo().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = WhatsAppConfig {
        db: db.db().clone(),
        vault: Some(Vault::new(&Secret::new(common::TEST_FERNET_KEY)).unwrap()),
        app_secret: Some(Secret::new(SECRET)),
        verify_token: Some(Secret::new("verify-me")),
        graph_base_url: format!("{base}/dev/graph"),
        service: ConversationService::new(db.db().clone()),
        reminder_sweep_every: std::time::Duration::from_secs(60),
    };
    let app = router(config);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        base,
        http: reqwest::Client::new(),
        db,
        demo,
    }
}

fn text_body(to_id: &str, from: &str, wamid: &str, text: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "254711000200", "phone_number_id": to_id},
        "contacts": [{"profile": {"name": "Wanjiku"}, "wa_id": from}],
        "messages": [{"from": from, "id": wamid, "timestamp": "1749416383", "type": "text", "text": {"body": text}}]}}]}]}))
    .unwrap()
}

impl Server {
    async fn post(&self, body: Vec<u8>, signature: Option<String>) -> reqwest::StatusCode {
        let mut req = self
            .http
            .post(format!("{}/wa/webhook", self.base))
            .header("content-type", "application/json");
        if let Some(sig) = signature {
            req = req.header("x-hub-signature-256", sig);
        }
        req.body(body).send().await.unwrap().status()
    }

    async fn say(&self, from: &str, wamid: &str, text: &str) -> reqwest::StatusCode {
        let body = text_body(DEMO_ID, from, wamid, text);
        let sig = sign(SECRET, &body);
        self.post(body, Some(sig)).await
    }

    async fn captured(&self, to: &str) -> Vec<Value> {
        common::captured_whatsapp(&self.base, to).await
    }

    /// Waits until `n` messages to `to` were captured; returns their texts.
    async fn wait_texts(&self, to: &str, n: usize) -> Vec<String> {
        common::wait_whatsapp_texts(&self.base, to, n, Duration::from_secs(15)).await
    }

    async fn count(&self, sql: &str) -> i64 {
        let mut tx = self.demo.begin().await.unwrap();
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(tx.conn())
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn verification_handshake() {
    let s = start().await;
    let get = |q: &'static str| {
        let url = format!("{}/wa/webhook?{q}", s.base);
        let http = s.http.clone();
        async move { http.get(url).send().await.unwrap() }
    };
    let ok = get("hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444").await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    let bad = get("hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1").await;
    assert_eq!(bad.status(), 403);
    let no_mode = get("hub.verify_token=verify-me&hub.challenge=1").await;
    assert_eq!(no_mode.status(), 403);
}

#[tokio::test]
async fn signatures_are_checked_over_the_raw_body() {
    let s = start().await;
    let body = text_body(DEMO_ID, "254712345601", "wamid.sig.1", "Hello");
    assert_eq!(s.post(body.clone(), None).await, 401);
    assert_eq!(
        s.post(body.clone(), Some(sign("wrong-secret", &body)))
            .await,
        401
    );
    assert_eq!(s.post(body.clone(), Some("sha256=zz".into())).await, 401);
    // Signed for different bytes (re-serialised JSON would not match).
    let mut other = body.clone();
    other.push(b' ');
    assert_eq!(s.post(body.clone(), Some(sign(SECRET, &other))).await, 401);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.count("SELECT count(*) FROM interactions").await, 0);
    // The correct signature is accepted and answered.
    assert_eq!(s.post(body.clone(), Some(sign(SECRET, &body))).await, 200);
    let texts = s.wait_texts("254712345601", 1).await;
    assert_eq!(texts.len(), 1);
    assert!(texts[0].contains("Karibu Nywele Bora Salon"), "{texts:?}");
}

#[tokio::test]
async fn unknown_phone_number_id_is_quarantined_silently() {
    let s = start().await;
    let body = text_body("999999999999", "254712345602", "wamid.q.1", "Hello?");
    assert_eq!(s.post(body.clone(), Some(sign(SECRET, &body))).await, 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut n = 0i64;
    while Instant::now() < deadline {
        n = sqlx::query_scalar(
            "SELECT count(*) FROM public.inbound_quarantine WHERE to_phone_number_id = '999999999999' AND from_phone = '254712345602'",
        )
        .fetch_one(s.db.db().pool())
        .await
        .unwrap();
        if n > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(n, 1);
    let payload: Value = sqlx::query_scalar("SELECT raw_payload FROM public.inbound_quarantine")
        .fetch_one(s.db.db().pool())
        .await
        .unwrap();
    assert_eq!(
        payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"],
        "Hello?"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        s.captured("254712345602").await.is_empty(),
        "nothing may be sent"
    );
}

#[tokio::test]
async fn retried_delivery_is_handled_once() {
    let s = start().await;
    for _ in 0..3 {
        assert_eq!(
            s.say("254712345603", "wamid.dup.1", "What time do you open?")
                .await,
            200
        );
    }
    let texts = s.wait_texts("254712345603", 1).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(s.captured("254712345603").await.len(), 1, "{texts:?}");
    assert!(texts[0].contains("Monday to Saturday"), "{texts:?}");
    assert_eq!(
        s.count("SELECT count(*) FROM interactions WHERE direction = 'inbound' AND metadata->>'wamid' = 'wamid.dup.1'")
            .await,
        1
    );
}

#[tokio::test]
async fn oversized_and_malformed_bodies_are_refused() {
    let s = start().await;
    let big = vec![b'a'; 300 * 1024];
    let sig = sign(SECRET, &big);
    assert_eq!(s.post(big, Some(sig)).await, 413);
    let bad = b"{not json".to_vec();
    assert_eq!(s.post(bad.clone(), Some(sign(SECRET, &bad))).await, 400);
    let wrong_object = br#"{"object":"page","entry":[]}"#.to_vec();
    assert_eq!(
        s.post(wrong_object.clone(), Some(sign(SECRET, &wrong_object)))
            .await,
        400
    );
}

#[tokio::test]
async fn english_and_swahili_bookings_and_delivery_statuses() {
    let s = start().await;
    // English.
    assert_eq!(
        s.say(
            "254712345604",
            "wamid.en.1",
            "Hi, I want box braids next Tuesday at 10am"
        )
        .await,
        200
    );
    let t = s.wait_texts("254712345604", 1).await;
    assert!(
        t[0].contains("Box Braids") && t[0].contains("Shall I book it?"),
        "{t:?}"
    );
    // The confirm question came with Yes/No buttons.
    let first = &s.captured("254712345604").await[0]["message"];
    assert_eq!(first["interactive"]["type"], "button");
    assert_eq!(
        first["interactive"]["action"]["buttons"][0]["reply"]["id"],
        "yes"
    );
    // Tap "Yes".
    let tap = serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "metadata": {"phone_number_id": DEMO_ID},
        "messages": [{"from": "254712345604", "id": "wamid.en.2", "timestamp": "1", "type": "interactive",
                      "interactive": {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes"}}}]}}]}]}))
    .unwrap();
    assert_eq!(s.post(tap.clone(), Some(sign(SECRET, &tap))).await, 200);
    let t = s.wait_texts("254712345604", 2).await;
    assert!(t[1].contains("Done!"), "{t:?}");
    // No payment runtime here, so no M-Pesa prompt can start: the customer
    // is told the paybill instead of being asked to reply RETRY.
    assert!(t[1].contains("Paybill 174379"), "{t:?}");
    assert!(!t.iter().any(|m| m.contains("RETRY")), "{t:?}");
    // Swahili.
    assert_eq!(
        s.say(
            "254712345605",
            "wamid.sw.1",
            "Habari, nataka kusuka mabutu Jumanne ijayo saa nne asubuhi"
        )
        .await,
        200
    );
    let t = s.wait_texts("254712345605", 1).await;
    assert!(t[0].contains("Nikuwekee?"), "{t:?}");
    assert_eq!(s.say("254712345605", "wamid.sw.2", "Ndiyo").await, 200);
    let t = s.wait_texts("254712345605", 2).await;
    assert!(t[1].contains("Tayari!"), "{t:?}");
    assert_eq!(
        s.count("SELECT count(*) FROM appointments WHERE booking_channel = 'whatsapp' AND status = 'confirmed'").await,
        2
    );
    // Outbound rows carry the wamid the Graph API gave; a status moves them
    // forward, never back.
    let wamid: String = {
        let mut tx = s.demo.begin().await.unwrap();
        sqlx::query_scalar(
            "SELECT metadata->>'wamid' FROM interactions WHERE direction = 'outbound' AND metadata ? 'wamid' ORDER BY created_at LIMIT 1",
        )
        .fetch_one(tx.conn())
        .await
        .unwrap()
    };
    assert!(wamid.starts_with("wamid.dev."));
    for status in ["read", "delivered"] {
        let body = serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
            "metadata": {"phone_number_id": DEMO_ID},
            "statuses": [{"id": wamid, "status": status, "timestamp": "1749416400", "recipient_id": "254712345604"}]}}]}]}))
        .unwrap();
        assert_eq!(s.post(body.clone(), Some(sign(SECRET, &body))).await, 200);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let sql = format!(
        "SELECT count(*) FROM interactions WHERE metadata->>'wamid' = '{wamid}' AND metadata->>'status' = 'read'"
    );
    while s.count(&sql).await == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        s.count(&sql).await,
        1,
        "read must stick even after a late 'delivered'"
    );
}

#[tokio::test]
async fn an_admin_claims_a_waiting_customer_talks_to_them_and_hands_them_back() {
    let s = start().await;
    let record =
        s.db.db()
            .tenant_by_slug(s.demo.slug())
            .await
            .unwrap()
            .unwrap();
    // Stored with a plus and spaces; WhatsApp sends bare digits.
    sqlx::query(
        "INSERT INTO public.tenant_admins (tenant_id, phone_number) VALUES ($1, '+254 722 999001')",
    )
    .bind(record.id.0)
    .execute(s.db.db().pool())
    .await
    .unwrap();
    let (customer, admin) = ("254712888001", "254722999001");

    // Nobody waiting yet: the admin is told so (and is not a customer).
    assert_eq!(s.say(admin, "wamid.adm.0", "claim").await, 200);
    let to_admin = s.wait_texts(admin, 1).await;
    assert!(
        to_admin[0].contains("No customer is waiting"),
        "{to_admin:?}"
    );

    assert_eq!(
        s.say(customer, "wamid.cus.1", "I want to talk to a real person")
            .await,
        200
    );
    let to_customer = s.wait_texts(customer, 1).await;
    assert!(
        to_customer[0].contains("passing you to a member"),
        "{to_customer:?}"
    );

    assert_eq!(s.say(admin, "wamid.adm.1", "CLAIM").await, 200);
    let to_admin = s.wait_texts(admin, 2).await;
    assert!(
        to_admin[1].contains("You have customer …8001 now"),
        "{to_admin:?}"
    );

    // The admin's words reach the customer as they are, once even if the
    // webhook is delivered twice.
    assert_eq!(
        s.say(
            admin,
            "wamid.adm.2",
            "Pole sana! I will call you in 5 minutes."
        )
        .await,
        200
    );
    assert_eq!(
        s.say(
            admin,
            "wamid.adm.2",
            "Pole sana! I will call you in 5 minutes."
        )
        .await,
        200
    );
    let to_customer = s.wait_texts(customer, 2).await;
    assert_eq!(to_customer[1], "Pole sana! I will call you in 5 minutes.");

    // The customer's answer goes to the admin; the bot stays quiet.
    assert_eq!(s.say(customer, "wamid.cus.2", "Asante, sawa").await, 200);
    let to_admin = s.wait_texts(admin, 3).await;
    assert_eq!(to_admin[2], "Customer …8001: Asante, sawa");

    assert_eq!(s.say(admin, "wamid.adm.3", "close").await, 200);
    let to_admin = s.wait_texts(admin, 4).await;
    assert!(to_admin[3].contains("Closed"), "{to_admin:?}");

    // Back with the bot.
    assert_eq!(s.say(customer, "wamid.cus.3", "Hi").await, 200);
    let to_customer = s.wait_texts(customer, 3).await;
    assert_eq!(to_customer.len(), 3, "{to_customer:?}");
    assert!(
        !to_customer[2].contains("Pole sana"),
        "the bot answered: {to_customer:?}"
    );
    // Exactly one admin line was relayed; the admin never became a customer.
    assert_eq!(
        s.count("SELECT count(*) FROM handoff_log WHERE actor = 'admin'")
            .await,
        1
    );
    assert_eq!(
        s.count("SELECT count(*) FROM conversation_threads WHERE customer_phone LIKE '%722999001'")
            .await,
        0
    );
    let claimed_via: String = {
        let mut tx = s.demo.begin().await.unwrap();
        sqlx::query_scalar(
            "SELECT claimed_via FROM handoff_log WHERE message_metadata->>'kind' = 'handoff_started'",
        )
        .fetch_one(tx.conn())
        .await
        .unwrap()
    };
    assert_eq!(claimed_via, "whatsapp");
}

/// A Graph API on loopback that refuses free-form messages to
/// `closed_window` with code 131047 (outside the 24 h window) and accepts
/// everything else; records every body it got.
async fn graph_with_closed_window(closed_window: &'static str) -> (String, Arc<Mutex<Vec<Value>>>) {
    use axum::Json;
    use axum::http::StatusCode;
    use axum::routing::post;
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let log = Arc::clone(&seen);
    let app = axum::Router::new().route(
        "/{phone_number_id}/messages",
        post(move |Json(body): Json<Value>| {
            let log = Arc::clone(&log);
            async move {
                log.lock().unwrap().push(body.clone());
                if body["to"] == closed_window && body["type"] == "text" {
                    return (
                        StatusCode::BAD_REQUEST,
                        Json(json!({"error": {"message": "Re-engagement message", "type": "OAuthException", "code": 131047}})),
                    );
                }
                (
                    StatusCode::OK,
                    Json(json!({"messaging_product": "whatsapp", "messages": [{"id": "wamid.fake"}]})),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, seen)
}

#[tokio::test]
async fn outside_the_24h_window_an_update_goes_as_the_approved_template() {
    use ratiba::adapters::whatsapp::GraphClient;
    use ratiba::adapters::whatsapp::client::Window;
    let (base, seen) = graph_with_closed_window("254712000002").await;
    let graph = GraphClient::new(&base, Duration::from_secs(5)).unwrap();
    // Open window: free-form text, sent once.
    graph
        .send_update(
            "1099",
            "token",
            "254712000001",
            "Payment received.",
            "en",
            Window::Unknown,
        )
        .await
        .unwrap();
    // Closed window: refused as text (131047), then sent as the template,
    // in the customer's language, with the text folded onto one line.
    let wamid = graph
        .send_update(
            "1099",
            "token",
            "254712000002",
            "Malipo yamepokelewa.\nMiadi yako imethibitishwa.",
            "sw",
            Window::Unknown,
        )
        .await
        .unwrap();
    assert_eq!(wamid, "wamid.fake");
    let first = seen.lock().unwrap().clone();
    assert_eq!(first.len(), 3, "{first:?}");
    assert_eq!(first[0]["type"], "text");
    assert_eq!(first[1]["type"], "text");
    let template = &first[2]["template"];
    assert_eq!(first[2]["type"], "template");
    assert_eq!(template["name"], "ratiba_update");
    assert_eq!(template["language"]["code"], "sw");
    assert_eq!(
        template["components"][0]["parameters"][0]["text"],
        "Malipo yamepokelewa. Miadi yako imethibitishwa."
    );
    // Known to be closed (the customer has not written for a day): the
    // template at once, no refused request first.
    graph
        .send_update(
            "1099",
            "token",
            "254712000003",
            "Payment received.",
            "en",
            Window::Closed,
        )
        .await
        .unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert_eq!(seen[3]["type"], "template");
    assert_eq!(seen[3]["to"], "254712000003");
}
