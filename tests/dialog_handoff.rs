//! Hand-off to a person: silence and verbatim log, stored deadlines for the
//! admin notice / reminder / escalation (a sweep with nothing in memory finds
//! them, as after a restart), claim, admin reply and close.

mod common;

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use ratiba::core::dialog::Channel;
use ratiba::core::ids::{ChannelIdentity, PhoneNumber, ThreadId};
use ratiba::runtime::conversation::{BoxFuture, ConversationService, TurnText};
use ratiba::runtime::handoff::{self, AdminNotifier};
use ratiba::storage::{TenantHandle, TenantRecord};
use uuid::Uuid;

#[derive(Default)]
struct Recorder(Mutex<Vec<(String, String)>>);

impl AdminNotifier for Recorder {
    fn notify<'a>(
        &'a self,
        _t: &'a TenantRecord,
        admin: &'a str,
        text: String,
    ) -> BoxFuture<'a, Result<(), String>> {
        self.0.lock().unwrap().push((admin.to_owned(), text));
        Box::pin(async { Ok(()) })
    }
}

impl Recorder {
    fn take(&self) -> Vec<(String, String)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

async fn say(
    service: &ConversationService,
    demo: &TenantHandle,
    from: &str,
    text: &str,
    now: DateTime<Utc>,
) -> (ThreadId, String) {
    let phone = PhoneNumber::parse(from).unwrap();
    let out = service
        .handle_turn(
            demo,
            None,
            TurnText {
                channel: Channel::WhatsApp,
                customer: ChannelIdentity::WhatsApp(phone.clone()),
                customer_name: None,
                text: text.into(),
                language_hint: None,
                dtmf: None,
                choice_id: None,
                message_id: Some(format!("wamid.{}", Uuid::new_v4())),
                message_type: "text".into(),
                now,
            },
        )
        .await
        .unwrap();
    let text = out
        .replies
        .iter()
        .map(|r| r.reply.text())
        .collect::<Vec<_>>()
        .join(" | ");
    (out.thread.unwrap(), text)
}

/// Turns on the tenant's admin WhatsApp notices and briefing.
async fn opt_in(db: &common::TestDb, record: &ratiba::storage::TenantRecord) {
    sqlx::query("UPDATE public.tenants SET admin_whatsapp_briefing_enabled = TRUE WHERE id = $1")
        .bind(record.id.0)
        .execute(db.db().pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn handoff_deadlines_claim_reply_and_close() {
    let db = common::TestDb::new().await;
    let demo = db.seed_demo().await;
    let record = db.db().tenant_by_slug(demo.slug()).await.unwrap().unwrap();
    sqlx::query(
        "INSERT INTO public.tenant_admins (tenant_id, phone_number) VALUES ($1, '+254722999001')",
    )
    .bind(record.id.0)
    .execute(db.db().pool())
    .await
    .unwrap();
    let service = ConversationService::new(db.db().clone());
    let t0: DateTime<Utc> = "2030-01-07T05:00:00Z".parse().unwrap();
    let rec = Recorder::default();

    let (thread, reply) = say(
        &service,
        &demo,
        "+254712888001",
        "I want to talk to a real person",
        t0,
    )
    .await;
    assert!(reply.contains("passing you to a member"), "{reply}");
    let (_, silent) = say(
        &service,
        &demo,
        "+254712888001",
        "My braids are itchy, please call me",
        t0 + Duration::seconds(5),
    )
    .await;
    assert!(silent.is_empty(), "the bot must stay quiet: {silent}");

    // Deadlines come from the tenant (120 s / 600 s / 3600 s by default).
    assert!(
        handoff::sweep(db.db(), &rec, t0 + Duration::seconds(100))
            .await
            .unwrap()
            .sent
            .is_empty()
    );
    // Admins hear of hand-offs on WhatsApp only when the tenant opted in.
    assert!(
        handoff::sweep(db.db(), &rec, t0 + Duration::seconds(121))
            .await
            .unwrap()
            .sent
            .is_empty()
    );
    assert!(rec.take().is_empty());
    opt_in(&db, &record).await;
    let r = handoff::sweep(db.db(), &rec, t0 + Duration::seconds(121))
        .await
        .unwrap();
    assert_eq!(r.sent.len(), 1);
    assert_eq!(r.sent[0].2, "notice");
    let sent = rec.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "+254722999001");
    assert!(sent[0].1.contains("Nywele Bora Salon") && sent[0].1.contains(thread.as_str()));
    // A second sweep at the same time (another node, or after a restart)
    // sends nothing new.
    assert!(
        handoff::sweep(db.db(), &rec, t0 + Duration::seconds(130))
            .await
            .unwrap()
            .sent
            .is_empty()
    );
    let r = handoff::sweep(db.db(), &rec, t0 + Duration::seconds(601))
        .await
        .unwrap();
    assert_eq!(r.sent.iter().map(|s| s.2).collect::<Vec<_>>(), ["reminder"]);
    rec.take();

    // Claimed: no escalation.
    let admin = Uuid::new_v4();
    assert!(
        handoff::claim(
            &demo,
            &thread,
            admin,
            "whatsapp",
            t0 + Duration::seconds(700)
        )
        .await
        .unwrap()
    );
    assert!(
        !handoff::claim(
            &demo,
            &thread,
            Uuid::new_v4(),
            "dashboard",
            t0 + Duration::seconds(701)
        )
        .await
        .unwrap()
    );
    assert!(
        handoff::sweep(db.db(), &rec, t0 + Duration::seconds(4000))
            .await
            .unwrap()
            .sent
            .is_empty()
    );
    let to = handoff::admin_reply(
        &demo,
        &thread,
        "+254722999001",
        "Pole sana! I will call you now.",
        Some("wamid.admin.1"),
        t0 + Duration::seconds(710),
    )
    .await
    .unwrap();
    assert_eq!(to.as_deref(), Some("+254712888001"));

    {
        let mut tx = demo.begin().await.unwrap();
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT actor, content FROM handoff_log WHERE thread_id = $1 ORDER BY sent_at, actor DESC")
            .bind(thread.as_str())
            .fetch_all(tx.conn())
            .await
            .unwrap();
        let contents: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
        assert!(
            contents.contains(&"My braids are itchy, please call me"),
            "{rows:?}"
        );
        assert!(
            rows.iter()
                .any(|r| r.0 == "admin" && r.1 == "Pole sana! I will call you now.")
        );
        let claimed: (Option<Uuid>, Option<String>, bool) = sqlx::query_as(
            "SELECT claimed_by_admin_id, claimed_via, admin_replied_at IS NOT NULL FROM handoff_log \
             WHERE thread_id = $1 AND message_metadata->>'kind' = 'handoff_started'",
        )
        .bind(thread.as_str())
        .fetch_one(tx.conn())
        .await
        .unwrap();
        assert_eq!(claimed, (Some(admin), Some("whatsapp".into()), true));
    }

    // Closing returns the customer to the bot.
    assert!(handoff::close(&demo, &record, &thread).await.unwrap());
    let (next, reply) = say(
        &service,
        &demo,
        "+254712888001",
        "What time do you open?",
        t0 + Duration::seconds(800),
    )
    .await;
    assert!(reply.contains("Monday to Saturday"), "{reply}");
    assert_ne!(next, thread);
    let mut tx = demo.begin().await.unwrap();
    let reason: Option<String> =
        sqlx::query_scalar("SELECT closed_reason FROM conversation_threads WHERE thread_id = $1")
            .bind(thread.as_str())
            .fetch_one(tx.conn())
            .await
            .unwrap();
    assert_eq!(reason.as_deref(), Some("closed_by_human"));
}

#[tokio::test]
async fn unclaimed_handoff_escalates() {
    let db = common::TestDb::new().await;
    let demo = db.seed_demo().await;
    let record = db.db().tenant_by_slug(demo.slug()).await.unwrap().unwrap();
    sqlx::query(
        "INSERT INTO public.tenant_admins (tenant_id, phone_number) VALUES ($1, '+254722999002')",
    )
    .bind(record.id.0)
    .execute(db.db().pool())
    .await
    .unwrap();
    let service = ConversationService::new(db.db().clone());
    let t0: DateTime<Utc> = "2030-01-07T05:00:00Z".parse().unwrap();
    say(
        &service,
        &demo,
        "+254712888002",
        "Nataka kuongea na mtu",
        t0,
    )
    .await;
    let rec = Recorder::default();
    opt_in(&db, &record).await;
    // One late sweep (the node was down) sends all three, once.
    let r = handoff::sweep(db.db(), &rec, t0 + Duration::seconds(3601))
        .await
        .unwrap();
    assert_eq!(
        r.sent.iter().map(|s| s.2).collect::<Vec<_>>(),
        ["notice", "reminder", "escalation"]
    );
    assert!(rec.take()[2].1.contains("ESCALATION"));
    assert!(
        handoff::sweep(db.db(), &rec, t0 + Duration::seconds(9000))
            .await
            .unwrap()
            .sent
            .is_empty()
    );
}
