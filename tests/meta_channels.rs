//! Instagram DMs and Messenger over loopback: the real webhook routes
//! (signed with the Meta app secret), the shared durable inbox, and a fake
//! Graph API that speaks the Send API. For each channel: the handshake, a
//! wrong signature refused with nothing stored, an unknown (or switched
//! off) account reviewed once however often Meta redelivers and never
//! answered, a whole booking (phoneless until the number is given) written
//! with the channel, a redelivered mid handled once, and a reply outside
//! the 24 h window kept and not sent.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ratiba::adapters::meta::MetaChannel;
use ratiba::adapters::whatsapp::codec::sign;
use ratiba::config::Secret;
use ratiba::http::whatsapp::{WhatsAppConfig, router};
use ratiba::runtime::conversation::ConversationService;
use ratiba::storage::admin::{Actor, credentials, dials};
use ratiba::storage::{TenantHandle, seed};
use serde_json::{Value, json};

const SECRET: &str = "test-app-secret";
const IG_ACCOUNT: &str = "17841400000000001";
const PAGE: &str = "110000000000001";
const CHANNELS: [MetaChannel; 2] = [MetaChannel::Instagram, MetaChannel::Messenger];

/// What the fake Graph API was sent: the account in the path, the bearer
/// token, the body.
type Seen = Arc<Mutex<Vec<(String, String, Value)>>>;

/// A Send API on loopback: `POST /{account id}/messages`, answered as Meta
/// answers (`recipient_id`, and `message_id` for a message).
async fn fake_graph() -> (String, Seen) {
    use axum::extract::Path;
    use axum::http::HeaderMap;
    use axum::routing::post;
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    let app = axum::Router::new().route(
        "/{account_id}/messages",
        post(
            move |Path(account): Path<String>,
                  headers: HeaderMap,
                  axum::Json(body): axum::Json<Value>| {
                let log = Arc::clone(&log);
                async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    let mut log = log.lock().unwrap();
                    log.push((account, auth, body.clone()));
                    let mut answer = json!({"recipient_id": body["recipient"]["id"]});
                    if body.get("message").is_some() {
                        answer["message_id"] = json!(format!("m_fake_{}", log.len()));
                    }
                    axum::Json(answer)
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, seen)
}

struct Server {
    base: String,
    http: reqwest::Client,
    db: common::TestDb,
    demo: TenantHandle,
    seen: Seen,
}

/// The demo tenant (Instagram and Messenger on, from the seed) with its
/// tokens set as an admin sets them (encrypted), served on loopback.
async fn start() -> Server {
    let db = common::TestDb::new().await;
    let demo = db.seed_demo().await;
    let record = db.db().tenant_by_slug(demo.slug()).await.unwrap().unwrap();
    let slot = |name: &str| *credentials::SLOTS.iter().find(|s| s.name == name).unwrap();
    credentials::set(
        db.db(),
        db.vault(),
        &demo,
        record.id,
        &[
            (
                slot("instagram_access_token"),
                Some(credentials::Plain::Text("ig-token")),
            ),
            (
                slot("facebook_page_access_token"),
                Some(credentials::Plain::Text("page-token")),
            ),
        ],
        Actor { admin_id: None },
    )
    .await
    .unwrap();
    let (graph, seen) = fake_graph().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = WhatsAppConfig {
        db: db.db().clone(),
        vault: Some(db.vault().clone()),
        app_secret: Some(Secret::new(SECRET)),
        verify_token: Some(Secret::new("verify-me")),
        graph_base_url: graph,
        service: ConversationService::new(db.db().clone()),
        reminder_sweep_every: Duration::from_secs(60),
    };
    let app = router(config);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        base,
        http: reqwest::Client::new(),
        db,
        demo,
        seen,
    }
}

fn path(channel: MetaChannel) -> &'static str {
    match channel {
        MetaChannel::Instagram => "webhooks/instagram",
        MetaChannel::Messenger => "webhooks/messenger",
    }
}

fn account(channel: MetaChannel) -> &'static str {
    match channel {
        MetaChannel::Instagram => IG_ACCOUNT,
        MetaChannel::Messenger => PAGE,
    }
}

/// A `messaging` webhook as Meta posts it, carrying one message.
fn body(channel: MetaChannel, to: &str, from: &str, ts_ms: i64, message: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"object": channel.webhook_object(), "entry": [{"id": to, "time": ts_ms,
        "messaging": [{"sender": {"id": from}, "recipient": {"id": to}, "timestamp": ts_ms, "message": message}]}]}))
    .unwrap()
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Server {
    async fn post(&self, channel: MetaChannel, body: &[u8], sig: Option<String>) -> u16 {
        let mut req = self
            .http
            .post(format!("{}/{}", self.base, path(channel)))
            .header("content-type", "application/json");
        if let Some(sig) = sig {
            req = req.header("x-hub-signature-256", sig);
        }
        req.body(body.to_vec())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    async fn signed(&self, channel: MetaChannel, body: &[u8]) -> u16 {
        self.post(channel, body, Some(sign(SECRET, body))).await
    }

    async fn say(&self, channel: MetaChannel, from: &str, mid: &str, text: &str) -> u16 {
        let b = body(
            channel,
            account(channel),
            from,
            now_ms(),
            json!({"mid": mid, "text": text}),
        );
        self.signed(channel, &b).await
    }

    /// Taps a quick reply the bot offered.
    async fn tap(&self, channel: MetaChannel, from: &str, mid: &str, quick: &Value) -> u16 {
        let b = body(
            channel,
            account(channel),
            from,
            now_ms(),
            json!({"mid": mid, "text": quick["title"], "quick_reply": {"payload": quick["payload"]}}),
        );
        self.signed(channel, &b).await
    }

    /// The Send API messages (not sender actions) to `psid`.
    fn sent_to(&self, psid: &str) -> Vec<(String, String, Value)> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, _, b)| b["recipient"]["id"] == psid && b.get("message").is_some())
            .cloned()
            .collect()
    }

    /// Waits until `n` messages went to `psid`; returns their bodies.
    async fn wait_sent(&self, psid: &str, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let got = self.sent_to(psid);
            if got.len() >= n || Instant::now() > deadline {
                return got.into_iter().map(|(_, _, b)| b).collect();
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    async fn scalar<T>(&self, sql: &str) -> T
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
    {
        let mut tx = self.demo.begin().await.unwrap();
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(tx.conn())
            .await
            .unwrap()
    }

    async fn public_count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(self.db.db().pool())
            .await
            .unwrap()
    }

    /// Waits until the inbox has no open row (everything stored was run).
    async fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline
            && self
                .public_count("SELECT count(*) FROM public.whatsapp_inbox WHERE status IN ('pending', 'processing')")
                .await
                > 0
        {
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }
}

fn text(message: &Value) -> String {
    message["message"]["text"].as_str().unwrap_or("").to_owned()
}

#[tokio::test]
async fn handshake_and_signatures() {
    let s = start().await;
    for channel in CHANNELS {
        let url = |q: &str| format!("{}/{}?{q}", s.base, path(channel));
        let ok = s
            .http
            .get(url(
                "hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=31337",
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
        assert_eq!(ok.text().await.unwrap(), "31337");
        let bad = s
            .http
            .get(url(
                "hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1",
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 403);

        let psid = "6100000000000101";
        let b = body(
            channel,
            account(channel),
            psid,
            now_ms(),
            json!({"mid": format!("m_sig_{}", channel.as_str()), "text": "Hi"}),
        );
        assert_eq!(s.post(channel, &b, None).await, 401);
        assert_eq!(
            s.post(channel, &b, Some(sign("wrong-secret", &b))).await,
            401
        );
        let mut other = b.clone();
        other.push(b' ');
        assert_eq!(s.post(channel, &b, Some(sign(SECRET, &other))).await, 401);
        // The other platform's body on this route is refused too.
        let other_object = body(
            match channel {
                MetaChannel::Instagram => MetaChannel::Messenger,
                MetaChannel::Messenger => MetaChannel::Instagram,
            },
            account(channel),
            psid,
            now_ms(),
            json!({"mid": "m_x", "text": "Hi"}),
        );
        assert_eq!(s.signed(channel, &other_object).await, 400);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        s.public_count("SELECT count(*) FROM public.whatsapp_inbox")
            .await,
        0
    );
    assert_eq!(
        s.scalar::<i64>("SELECT count(*) FROM interactions").await,
        0
    );
    assert!(s.seen.lock().unwrap().is_empty(), "nothing may be sent");
}

#[tokio::test]
async fn unknown_and_switched_off_accounts_are_reviewed_once_and_never_answered() {
    let s = start().await;
    // Messenger switched off for the demo: its page is as unknown.
    let record =
        s.db.db()
            .tenant_by_slug(s.demo.slug())
            .await
            .unwrap()
            .unwrap();
    let mut off = serde_json::Map::new();
    off.insert("messenger_enabled".into(), json!(false));
    dials::set(
        s.db.db(),
        &s.demo,
        record.id,
        &off,
        Actor { admin_id: None },
    )
    .await
    .unwrap();
    let cases = [
        (MetaChannel::Instagram, "17841499999999999", "m_unknown_ig"),
        (MetaChannel::Messenger, "199999999999999", "m_unknown_fb"),
        (MetaChannel::Messenger, PAGE, "m_off_fb"),
    ];
    for (channel, to, mid) in cases {
        let b = body(
            channel,
            to,
            "6100000000000102",
            now_ms(),
            json!({"mid": mid, "text": "Hello?"}),
        );
        for _ in 0..3 {
            assert_eq!(s.signed(channel, &b).await, 200);
        }
    }
    for (channel, to, mid) in cases {
        let (n, got_channel, got_to): (i64, String, String) = sqlx::query_as(
            "SELECT count(*) OVER (), channel, to_phone_number_id FROM public.inbound_quarantine \
             WHERE provider_message_id = $1",
        )
        .bind(mid)
        .fetch_one(s.db.db().pool())
        .await
        .unwrap();
        assert_eq!(
            (n, got_channel.as_str(), got_to.as_str()),
            (1, channel.as_str(), to)
        );
    }
    let raw: Value = sqlx::query_scalar(
        "SELECT raw_payload FROM public.inbound_quarantine WHERE provider_message_id = 'm_unknown_ig'",
    )
    .fetch_one(s.db.db().pool())
    .await
    .unwrap();
    assert_eq!(raw["entry"][0]["messaging"][0]["message"]["text"], "Hello?");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        s.public_count("SELECT count(*) FROM public.whatsapp_inbox")
            .await,
        0
    );
    assert!(s.seen.lock().unwrap().is_empty(), "nothing may be sent");
    // Echoes of our own messages and read receipts are answered, not kept.
    let echo = body(
        MetaChannel::Instagram,
        IG_ACCOUNT,
        IG_ACCOUNT,
        now_ms(),
        json!({"mid": "m_echo", "text": "Sawa", "is_echo": true}),
    );
    assert_eq!(s.signed(MetaChannel::Instagram, &echo).await, 200);
    let read = serde_json::to_vec(&json!({"object": "instagram", "entry": [{"id": IG_ACCOUNT, "messaging": [
        {"sender": {"id": "6100000000000102"}, "recipient": {"id": IG_ACCOUNT}, "timestamp": now_ms(), "read": {"mid": "m_1"}}]}]}))
    .unwrap();
    assert_eq!(s.signed(MetaChannel::Instagram, &read).await, 200);
    assert_eq!(
        s.public_count("SELECT count(*) FROM public.whatsapp_inbox")
            .await,
        0
    );
    assert_eq!(
        s.public_count("SELECT count(*) FROM public.inbound_quarantine")
            .await,
        3
    );
}

#[tokio::test]
async fn a_customer_books_on_each_channel_phoneless_until_they_give_their_number() {
    let s = start().await;
    for (k, channel) in CHANNELS.into_iter().enumerate() {
        let name = channel.as_str();
        let psid = format!("61000000000002{k:02}");
        let phone = format!("+2547123456{:02}", 20 + k);
        // Different services, so the two bookings do not want one chair.
        let ask = match channel {
            MetaChannel::Instagram => "Hi, I want box braids next Tuesday at 10am",
            MetaChannel::Messenger => "Hi, I want a manicure next Thursday at 11am",
        };
        assert_eq!(
            s.say(channel, &psid, &format!("m_{name}_1"), ask).await,
            200
        );
        let sent = s.wait_sent(&psid, 1).await;
        assert_eq!(sent.len(), 1, "{name}");
        assert!(text(&sent[0]).contains("Shall I book it?"), "{sent:?}");
        assert_eq!(sent[0]["messaging_type"], "RESPONSE");
        let quick = sent[0]["message"]["quick_replies"]
            .as_array()
            .expect("quick replies")
            .clone();
        assert!(
            quick.len() <= 13
                && quick
                    .iter()
                    .all(|q| q["title"].as_str().unwrap().chars().count() <= 20)
        );
        let yes = quick
            .iter()
            .find(|q| q["payload"] == "yes")
            .expect("a yes quick reply")
            .clone();
        // Sent from the tenant's account with its own (decrypted) token.
        let (from_account, auth, _) = s.sent_to(&psid)[0].clone();
        assert_eq!(from_account, account(channel));
        let token = match channel {
            MetaChannel::Instagram => "Bearer ig-token",
            MetaChannel::Messenger => "Bearer page-token",
        };
        assert_eq!(auth, token);

        // Phoneless: the number is asked before anything is booked.
        assert_eq!(
            s.tap(channel, &psid, &format!("m_{name}_2"), &yes).await,
            200
        );
        let sent = s.wait_sent(&psid, 2).await;
        assert!(text(&sent[1]).contains("phone number"), "{sent:?}");
        let sql = format!("SELECT count(*) FROM appointments WHERE booking_channel = '{name}'");
        assert_eq!(s.scalar::<i64>(&sql).await, 0);
        assert_eq!(
            s.say(
                channel,
                &psid,
                &format!("m_{name}_3"),
                &format!("my number is {phone}")
            )
            .await,
            200
        );
        let sent = s.wait_sent(&psid, 3).await;
        assert!(text(&sent[2]).contains("Done!"), "{sent:?}");

        assert_eq!(s.scalar::<i64>(&sql).await, 1, "{name}");
        let booked_for: String = s
            .scalar(&format!("SELECT c.phone_number FROM appointments a JOIN contacts c ON c.id = a.contact_id WHERE a.booking_channel = '{name}'"))
            .await;
        assert_eq!(booked_for, phone);
        let inbound: i64 = s
            .scalar(&format!("SELECT count(*) FROM interactions WHERE channel = '{name}' AND direction = 'inbound'"))
            .await;
        assert_eq!(inbound, 3);
        let accepted: i64 = s
            .scalar(&format!("SELECT count(*) FROM interactions WHERE channel = '{name}' AND direction = 'outbound' AND metadata->>'wamid' LIKE 'm_fake_%'"))
            .await;
        assert!(
            accepted >= 3,
            "the Send API's message ids are kept: {accepted}"
        );
        let started: String = s
            .scalar(&format!("SELECT channel_started FROM conversation_threads WHERE customer_phone LIKE '%{psid}'"))
            .await;
        assert_eq!(started, name);
        // The IGSID / PSID joined the customer with that number.
        let identity_phone: String = s
            .scalar(&format!("SELECT c.phone_e164 FROM customer_identities i JOIN customers c USING (customer_id) WHERE i.provider = '{name}' AND i.external_id = '{psid}'"))
            .await;
        assert_eq!(identity_phone, phone);
        // Read receipts went with the replies.
        let seen_marks = s
            .seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, _, b)| {
                b["recipient"]["id"] == psid.as_str() && b["sender_action"] == "mark_seen"
            })
            .count();
        assert!(seen_marks >= 1, "{name}: mark_seen");
    }
    // One customer per number, whatever the channel.
    let customers: i64 = s.scalar("SELECT count(*) FROM customers").await;
    assert_eq!(customers, 2);
}

#[tokio::test]
async fn a_redelivered_mid_is_handled_once() {
    let s = start().await;
    for (k, channel) in CHANNELS.into_iter().enumerate() {
        let psid = format!("61000000000003{k:02}");
        let mid = format!("m_dup_{}", channel.as_str());
        for _ in 0..3 {
            assert_eq!(
                s.say(channel, &psid, &mid, "What time do you open?").await,
                200
            );
        }
        let sent = s.wait_sent(&psid, 1).await;
        assert!(text(&sent[0]).contains("Monday to Saturday"), "{sent:?}");
    }
    s.settle().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for (k, channel) in CHANNELS.into_iter().enumerate() {
        let psid = format!("61000000000003{k:02}");
        assert_eq!(s.sent_to(&psid).len(), 1, "{}", channel.as_str());
        let n: i64 = s
            .scalar(&format!("SELECT count(*) FROM interactions WHERE direction = 'inbound' AND metadata->>'wamid' = 'm_dup_{}'", channel.as_str()))
            .await;
        assert_eq!(n, 1);
    }
    assert_eq!(
        s.public_count("SELECT count(*) FROM public.whatsapp_inbox WHERE kind = 'meta_message'")
            .await,
        2
    );
}

#[tokio::test]
async fn outside_the_24h_window_nothing_is_sent_and_the_reason_is_kept() {
    let s = start().await;
    let day_and_a_bit_ago = now_ms() - 25 * 3600 * 1000;
    for (k, channel) in CHANNELS.into_iter().enumerate() {
        let psid = format!("61000000000004{k:02}");
        let mid = format!("m_late_{}", channel.as_str());
        let b = body(
            channel,
            account(channel),
            &psid,
            day_and_a_bit_ago,
            json!({"mid": mid, "text": "What time do you open?"}),
        );
        assert_eq!(s.signed(channel, &b).await, 200);
    }
    s.settle().await;
    assert_eq!(
        s.public_count("SELECT count(*) FROM public.whatsapp_inbox WHERE status = 'done'")
            .await,
        2
    );
    assert!(
        s.seen.lock().unwrap().is_empty(),
        "nothing may be sent: {:?}",
        s.seen.lock().unwrap()
    );
    let not_sent: Vec<String> = {
        let mut tx = s.demo.begin().await.unwrap();
        sqlx::query_scalar(
            "SELECT metadata->>'not_sent_reason' FROM interactions \
             WHERE direction = 'outbound' AND metadata->>'status' = 'not_sent' ORDER BY channel",
        )
        .fetch_all(tx.conn())
        .await
        .unwrap()
    };
    assert_eq!(not_sent.len(), 2, "{not_sent:?}");
    assert!(not_sent.iter().all(|r| r.contains("24 h")), "{not_sent:?}");
}

#[tokio::test]
async fn the_demo_seed_gives_both_channels_once_even_to_an_older_demo() {
    let db = common::TestDb::new().await;
    let demo = db.seed_demo().await;
    let r = db.db().tenant_by_slug(demo.slug()).await.unwrap().unwrap();
    assert_eq!(r.instagram_business_account_id.as_deref(), Some(IG_ACCOUNT));
    assert_eq!(r.facebook_page_id.as_deref(), Some(PAGE));
    assert!(r.instagram_enabled && r.messenger_enabled);
    // An older demo (no Meta ids) gets them at start-up; a switched-off
    // channel stays off however often it runs.
    let mut clear = serde_json::Map::new();
    clear.insert("instagram_business_account_id".into(), Value::Null);
    clear.insert("instagram_enabled".into(), json!(false));
    clear.insert("messenger_enabled".into(), json!(false));
    dials::set(db.db(), &demo, r.id, &clear, Actor { admin_id: None })
        .await
        .unwrap();
    for _ in 0..2 {
        seed::upgrade_demo(db.db()).await.unwrap();
    }
    let r = db.db().tenant_by_slug(demo.slug()).await.unwrap().unwrap();
    assert_eq!(r.instagram_business_account_id.as_deref(), Some(IG_ACCOUNT));
    assert!(r.instagram_enabled, "given back with its id");
    assert!(!r.messenger_enabled, "the operator's switch stays");
    assert!(
        db.db()
            .tenant_by_facebook_page_id(PAGE)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        db.db()
            .tenant_by_instagram_account_id(IG_ACCOUNT)
            .await
            .unwrap()
            .is_some()
    );
}
