//! Appointment reminders against real Postgres, sent to the development
//! Graph API capture on loopback: once only across two concurrent
//! sweepers, a new one after a reschedule, none for a cancelled
//! appointment, the template outside the 24 h window (free-form inside
//! it), and CANCEL / MOVE replies that mean the reminded appointment.

mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use ratiba::adapters::whatsapp::GraphClient;
use ratiba::adapters::whatsapp::codec::sign;
use ratiba::config::Secret;
use ratiba::core::ids::PhoneNumber;
use ratiba::http::whatsapp::{WhatsAppConfig, router_with_intake};
use ratiba::runtime::chat_intake::IntakeOptions;
use ratiba::runtime::conversation::ConversationService;
use ratiba::runtime::reminders::{ReminderReport, sweep};
use ratiba::runtime::whatsapp_chat::WhatsAppChats;
use ratiba::storage::{TenantHandle, Vault, booking};
use serde_json::{Value, json};
use uuid::Uuid;

const SECRET: &str = "test-app-secret";
const DEMO_ID: &str = "109876543210001";

struct Env {
    db: common::TestDb,
    demo: TenantHandle,
    base: String,
    http: reqwest::Client,
}

/// The WhatsApp router on loopback (its own dev capture as the Graph
/// API), with the background reminder sweep effectively off: the tests
/// sweep themselves at chosen instants.
async fn start() -> Env {
    let db = common::TestDb::new().await;
    let demo = db.seed_demo().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = WhatsAppConfig {
        db: db.db().clone(),
        vault: Some(Vault::new(&Secret::new(common::TEST_FERNET_KEY)).unwrap()),
        app_secret: Some(Secret::new(SECRET)),
        verify_token: None,
        graph_base_url: format!("{base}/dev/graph"),
        service: ConversationService::new(db.db().clone()),
        reminder_sweep_every: Duration::from_secs(3600),
    };
    let options = IntakeOptions {
        sweep_every: Duration::from_millis(100),
        ..IntakeOptions::default()
    };
    let app = router_with_intake(config, None, options);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Env {
        db,
        demo,
        base,
        http: reqwest::Client::new(),
    }
}

impl Env {
    /// A node's chat runtime (what `serve` builds), sending to the capture.
    fn node(&self) -> WhatsAppChats {
        let graph =
            GraphClient::new(&format!("{}/dev/graph", self.base), Duration::from_secs(10)).unwrap();
        WhatsAppChats::new(
            self.db.db().clone(),
            Some(Vault::new(&Secret::new(common::TEST_FERNET_KEY)).unwrap()),
            ConversationService::new(self.db.db().clone()),
            graph,
            true,
            None,
        )
    }

    async fn sql(&self, sql: &str) {
        let mut tx = self.demo.begin().await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(tx.conn())
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    async fn scalar<T>(&self, sql: &str, id: Uuid) -> T
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
    {
        let mut tx = self.demo.begin().await.unwrap();
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .bind(id)
            .fetch_one(tx.conn())
            .await
            .unwrap()
    }

    /// A confirmed appointment for `phone` starting at `start`, with the
    /// demo's first service and a staff member who does it.
    async fn book(&self, phone: &str, start: DateTime<Utc>) -> Uuid {
        let mut tx = self.demo.begin().await.unwrap();
        let contact: Uuid = sqlx::query_scalar(
            "INSERT INTO contacts (phone_number, name, language_pref) VALUES ($1, 'Wanjiku', 'en') \
             ON CONFLICT (phone_number) DO UPDATE SET name = EXCLUDED.name RETURNING id",
        )
        .bind(phone)
        .fetch_one(tx.conn())
        .await
        .unwrap();
        let (service, staff): (Uuid, Uuid) = sqlx::query_as(
            "SELECT ss.service_id, ss.staff_id FROM staff_services ss \
             JOIN services s ON s.id = ss.service_id ORDER BY s.name, ss.staff_id LIMIT 1",
        )
        .fetch_one(tx.conn())
        .await
        .unwrap();
        let id: Uuid = sqlx::query_scalar(
            "INSERT INTO appointments (contact_id, service_id, staff_id, start_at, end_at, status, \
               payment_status, amount, booking_channel) \
             VALUES ($1, $2, $3, $4, $4 + interval '1 hour', 'confirmed', 'unpaid', 1000, 'whatsapp') \
             RETURNING id",
        )
        .bind(contact)
        .bind(service)
        .bind(staff)
        .bind(start)
        .fetch_one(tx.conn())
        .await
        .unwrap();
        tx.commit().await.unwrap();
        id
    }

    async fn sent_to(&self, digits: &str) -> Vec<Value> {
        common::captured_whatsapp(&self.base, digits).await
    }

    async fn reminder_rows(&self, id: Uuid) -> i64 {
        self.scalar(
            "SELECT count(*) FROM interactions WHERE intent = 'reminder' AND direction = 'outbound' \
             AND metadata->>'appointment_id' = $1::text",
            id,
        )
        .await
    }

    async fn say(&self, from: &str, wamid: &str, text: &str) {
        let body = serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "254711000200", "phone_number_id": DEMO_ID},
            "contacts": [{"profile": {"name": "Wanjiku"}, "wa_id": from}],
            "messages": [{"from": from, "id": wamid, "timestamp": "1749416383", "type": "text", "text": {"body": text}}]
        }}]}]}))
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
}

fn hours(h: i64) -> chrono::Duration {
    chrono::Duration::hours(h)
}

#[tokio::test]
async fn two_nodes_sweeping_at_once_send_each_reminder_once() {
    let env = start().await;
    let now = Utc::now();
    let mut ids = Vec::new();
    for i in 0..6 {
        let phone = format!("+2547123411{i:02}");
        ids.push(env.book(&phone, now + hours(2 + i)).await);
    }
    // Outside the 24 h lead: not yet.
    let later = env.book("+254712341199", now + hours(30)).await;
    let (a, b) = (env.node(), env.node());
    let (ra, rb) = tokio::join!(sweep(&a, now), sweep(&b, now));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.sent + rb.sent, 6, "{ra:?} {rb:?}");
    for (i, id) in ids.iter().enumerate() {
        let digits = format!("2547123411{i:02}");
        assert_eq!(env.sent_to(&digits).await.len(), 1, "customer {i}");
        assert!(
            env.scalar::<bool>("SELECT reminder_sent FROM appointments WHERE id = $1", *id)
                .await
        );
        assert_eq!(env.reminder_rows(*id).await, 1);
    }
    assert!(env.sent_to("254712341199").await.is_empty());
    assert!(
        !env.scalar::<bool>(
            "SELECT reminder_sent FROM appointments WHERE id = $1",
            later
        )
        .await
    );
    // Swept again: nothing new; the later one is due 7 hours on.
    assert_eq!(sweep(&a, now).await.unwrap(), ReminderReport::default());
    assert_eq!(sweep(&b, now + hours(7)).await.unwrap().sent, 1);
    assert_eq!(env.sent_to("254712341199").await.len(), 1);
}

#[tokio::test]
async fn a_rescheduled_appointment_is_reminded_again_a_cancelled_one_never() {
    let env = start().await;
    let now = Utc::now();
    let moved = env.book("+254712342001", now + hours(3)).await;
    let cancelled = env.book("+254712342002", now + hours(3)).await;
    env.sql(&format!(
        "UPDATE appointments SET status = 'cancelled', cancelled_by = 'customer' WHERE id = '{cancelled}'"
    ))
    .await;
    let node = env.node();
    assert_eq!(sweep(&node, now).await.unwrap().sent, 1);
    // Moved (as the dialog moves it) to a day later.
    let staff: Uuid = env
        .scalar("SELECT staff_id FROM appointments WHERE id = $1", moved)
        .await;
    let service: Uuid = env
        .scalar("SELECT service_id FROM appointments WHERE id = $1", moved)
        .await;
    let new_start = now + hours(27);
    {
        let mut tx = env.demo.begin().await.unwrap();
        let phone = PhoneNumber::parse("+254712342001").unwrap();
        booking::reschedule(&mut tx, &phone, moved, service, staff, new_start)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    assert!(
        !env.scalar::<bool>(
            "SELECT reminder_sent FROM appointments WHERE id = $1",
            moved
        )
        .await
    );
    assert_eq!(sweep(&node, now).await.unwrap().sent, 0, "not due yet");
    assert_eq!(sweep(&node, now + hours(4)).await.unwrap().sent, 1);
    let sent = env.sent_to("254712342001").await;
    assert_eq!(sent.len(), 2);
    assert_eq!(env.reminder_rows(moved).await, 2);
    assert!(env.sent_to("254712342002").await.is_empty());
    assert_eq!(env.reminder_rows(cancelled).await, 0);
}

#[tokio::test]
async fn the_template_outside_the_window_free_form_inside_it() {
    let env = start().await;
    let now = Utc::now();
    // This customer wrote an hour ago: their window is open.
    env.book("+254712343001", now + hours(5)).await;
    env.sql(
        "INSERT INTO interactions (contact_id, channel, direction, message_type, content, created_at) \
         SELECT id, 'whatsapp', 'inbound', 'text', 'hi', now() - interval '1 hour' FROM contacts \
         WHERE phone_number = '+254712343001'",
    )
    .await;
    // This one last wrote two days ago: only a template may go.
    let closed_id = env.book("+254712343002", now + hours(5)).await;
    env.sql(
        "INSERT INTO interactions (contact_id, channel, direction, message_type, content, created_at) \
         SELECT id, 'whatsapp', 'inbound', 'text', 'hi', now() - interval '2 days' FROM contacts \
         WHERE phone_number = '+254712343002'",
    )
    .await;
    assert_eq!(sweep(&env.node(), now).await.unwrap().sent, 2);
    let open = &env.sent_to("254712343001").await[0]["message"];
    assert_eq!(open["type"], "text", "{open}");
    let closed = &env.sent_to("254712343002").await[0]["message"];
    assert_eq!(closed["type"], "template", "{closed}");
    assert_eq!(closed["template"]["name"], "ratiba_update");
    let text = common::whatsapp_text(&env.sent_to("254712343002").await[0]);
    assert!(text.contains("Demo") || text.contains("Reminder"), "{text}");
    assert!(text.contains("CANCEL") && text.contains("MOVE"), "{text}");
    let staff: String = env
        .scalar(
            "SELECT st.name FROM appointments a JOIN staff st ON st.id = a.staff_id WHERE a.id = $1",
            closed_id,
        )
        .await;
    assert!(text.contains(&staff), "{text} should name {staff}");
}

/// The customer's reply texts after the first `skip` messages, once there
/// are more than `skip`.
async fn replies_after(env: &Env, digits: &str, skip: usize) -> Vec<String> {
    common::wait_whatsapp_texts(&env.base, digits, skip + 1, Duration::from_secs(20))
        .await
        .into_iter()
        .skip(skip)
        .collect()
}

#[tokio::test]
async fn cancel_right_after_a_reminder_cancels_that_appointment() {
    let env = start().await;
    let now = Utc::now();
    let reminded = env.book("+254712344001", now + hours(6)).await;
    // Another booking later in the week: a bare "cancel" would be ambiguous.
    let other = env.book("+254712344001", now + hours(100)).await;
    assert_eq!(sweep(&env.node(), Utc::now()).await.unwrap().sent, 1);
    env.say("254712344001", "wamid.rc.1", "CANCEL").await;
    let asked = replies_after(&env, "254712344001", 1).await.join(" | ");
    assert!(asked.contains("Cancel your"), "{asked}");
    let sent_so_far = env.sent_to("254712344001").await.len();
    env.say("254712344001", "wamid.rc.2", "yes").await;
    replies_after(&env, "254712344001", sent_so_far).await;
    let status = |id| env.scalar::<String>("SELECT status FROM appointments WHERE id = $1", id);
    assert_eq!(status(reminded).await, "cancelled");
    assert_eq!(status(other).await, "confirmed");
}

#[tokio::test]
async fn move_right_after_a_reminder_asks_for_the_new_time_of_that_appointment() {
    let env = start().await;
    let now = Utc::now();
    let reminded = env.book("+254712345001", now + hours(6)).await;
    env.book("+254712345001", now + hours(100)).await;
    assert_eq!(sweep(&env.node(), Utc::now()).await.unwrap().sent, 1);
    env.say("254712345001", "wamid.rm.1", "MOVE").await;
    let asked = replies_after(&env, "254712345001", 1).await.join(" | ");
    assert!(
        asked.contains("When would you like to move it to?"),
        "{asked}"
    );
    // The conversation holds the reminded appointment as the one to move.
    let step: Value = env
        .scalar(
            "SELECT k.checkpoint->'step' FROM checkpoints k JOIN conversation_threads t \
             ON t.thread_id = k.thread_id WHERE t.customer_phone = '+254712345001' \
             AND $1 = $1 ORDER BY k.checkpoint_id DESC LIMIT 1",
            reminded,
        )
        .await;
    assert!(step.to_string().contains(&reminded.to_string()), "{step}");
}

/// Adds an admin to the demo tenant (`active` as given).
async fn add_admin(env: &Env, phone: &str, active: bool) {
    sqlx::query(
        "INSERT INTO public.tenant_admins (tenant_id, phone_number, is_active) \
         SELECT id, $1, $2 FROM public.tenants WHERE slug = 'demo'",
    )
    .bind(phone)
    .bind(active)
    .execute(env.db.db().pool())
    .await
    .unwrap();
}

#[tokio::test]
async fn the_briefing_goes_once_a_day_to_active_admins_after_opening_when_enabled() {
    let env = start().await;
    add_admin(&env, "+254722990001", true).await;
    add_admin(&env, "+254722990002", false).await;
    // Monday 7 Jan 2030, Nairobi (UTC+3): one unpaid appointment at 12:00.
    let monday_10: DateTime<Utc> = "2030-01-07T07:00:00Z".parse().unwrap();
    env.book("+254712346001", "2030-01-07T09:00:00Z".parse().unwrap())
        .await;
    let node = env.node();
    // Not opted in: nothing.
    assert_eq!(
        ratiba::runtime::briefing::sweep(&node, monday_10)
            .await
            .unwrap(),
        0
    );
    sqlx::query(
        "UPDATE public.tenants SET admin_whatsapp_briefing_enabled = TRUE WHERE slug = 'demo'",
    )
    .execute(env.db.db().pool())
    .await
    .unwrap();
    // Before anyone starts work (05:00 local): not yet.
    let monday_5: DateTime<Utc> = "2030-01-07T02:00:00Z".parse().unwrap();
    assert_eq!(
        ratiba::runtime::briefing::sweep(&node, monday_5)
            .await
            .unwrap(),
        0
    );
    // Two nodes at once after opening: one card.
    let other = env.node();
    let (a, b) = tokio::join!(
        ratiba::runtime::briefing::sweep(&node, monday_10),
        ratiba::runtime::briefing::sweep(&other, monday_10)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    let cards = env.sent_to("254722990001").await;
    assert_eq!(cards.len(), 1);
    let text = common::whatsapp_text(&cards[0]);
    assert!(text.contains("1 appointment, 1 unpaid"), "{text}");
    assert!(text.contains("12:00"), "{text}");
    assert!(text.contains("Waiting for a person: 0"), "{text}");
    assert!(
        env.sent_to("254722990002").await.is_empty(),
        "inactive admin"
    );
    // Later that day: not again; the next day: again.
    assert_eq!(
        ratiba::runtime::briefing::sweep(&node, monday_10 + hours(5))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        ratiba::runtime::briefing::sweep(&node, monday_10 + hours(24))
            .await
            .unwrap(),
        1
    );
    assert_eq!(env.sent_to("254722990001").await.len(), 2);
}
