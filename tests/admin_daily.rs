//! A business's day through the admin API, against a real database: the
//! catalogue with its audit trail, the calendar (book, move, cancel,
//! complete, no-show), the dials with theirs, the review queues, a
//! hand-off worked from the dashboard, and a staff block that takes a time
//! out of what the conversation offers.

mod common;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use common::TestDb;
use common::admin::{Api, Outbox, catalogue, id, say, ten_am, tenant, token_for, vault};
use ratiba::runtime::conversation::ConversationService;
use ratiba::storage::TenantHandle;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

async fn count(handle: &TenantHandle, sql: &str) -> i64 {
    let mut tx = handle.begin().await.unwrap();
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(tx.conn())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    n
}

#[tokio::test]
async fn catalogue_changes_are_audited_and_the_calendar_runs_the_day() {
    let db = TestDb::new().await;
    let rec = tenant(&db, "alpha", "1001").await;
    let handle = db.db().tenant(&rec.slug);
    let api = Api::start(&db, None).await;
    let (token, admin) = token_for(&db, &rec, "+254722000001").await;

    let (service, staff) = catalogue(&api, &token, "Box braids").await;
    // 1 service + 1 staff + 1 staff_service + 7 schedule days.
    assert_eq!(
        count(
            &handle,
            "SELECT count(*) FROM catalog_audits WHERE source = 'dashboard' AND action = 'insert'"
        )
        .await,
        10
    );
    let changed = api
        .ok(
            StatusCode::OK,
            "/services/{id}",
            Method::PATCH,
            &format!("/services/{service}"),
            &token,
            Some(json!({"price": "4500.00", "name_sw": "Kusuka box braids"})),
        )
        .await;
    assert_eq!(changed["price"], "4500.00");
    assert_eq!(changed["name_sw"], "Kusuka box braids");
    let audits = api
        .ok(
            StatusCode::OK,
            "/catalog/audits",
            Method::GET,
            "/catalog/audits?limit=1",
            &token,
            None,
        )
        .await;
    let last = &audits[0];
    assert_eq!(last["action"], "update");
    assert_eq!(last["entity"], "service");
    assert_eq!(last["row_id"], service.as_str());
    assert_eq!(last["before"]["price"].as_f64(), Some(1500.0), "{last}");
    assert_eq!(last["after"]["price"].as_f64(), Some(4500.0), "{last}");
    assert_eq!(last["actor_admin_id"], admin.to_string());
    assert_eq!(last["source"], "dashboard");

    // Bad values are refused in the one error shape, and change nothing.
    for bad in [
        json!({"duration_min": 0}),
        json!({"price": "-1"}),
        json!({"name": "x".repeat(300)}),
        json!({"price": "abc"}),
    ] {
        let (status, v) = api
            .call(
                "/services/{id}",
                Method::PATCH,
                &format!("/services/{service}"),
                &token,
                Some(bad.clone()),
            )
            .await;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
            "{bad}: {status} {v}"
        );
    }
    let (status, _) = api
        .call(
            "/services",
            Method::POST,
            "/services",
            &token,
            Some(json!({"name": "No price"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Book two customers; the second at the same time is refused.
    let day = ten_am(1);
    let appt = api
        .ok(
            StatusCode::CREATED,
            "/appointments",
            Method::POST,
            "/appointments",
            &token,
            Some(
                json!({"customer_phone": "0712000001", "customer_name": "Wanjiku",
                        "service_id": service, "staff_id": staff, "start_at": day}),
            ),
        )
        .await;
    assert_eq!(appt["status"], "confirmed");
    assert_eq!(appt["booking_channel"], "dashboard");
    assert_eq!(appt["customer_name"], "Wanjiku");
    assert_eq!(appt["amount"], "4500.00");
    let (status, _) = api
        .call(
            "/appointments",
            Method::POST,
            "/appointments",
            &token,
            Some(
                json!({"customer_phone": "0712000002", "service_id": service,
                        "staff_id": staff, "start_at": day + Duration::minutes(30)}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let other = api
        .ok(
            StatusCode::CREATED,
            "/appointments",
            Method::POST,
            "/appointments",
            &token,
            Some(
                json!({"customer_phone": "0712000002", "service_id": service,
                        "staff_id": staff, "start_at": day + Duration::hours(2)}),
            ),
        )
        .await;
    let third = api
        .ok(
            StatusCode::CREATED,
            "/appointments",
            Method::POST,
            "/appointments",
            &token,
            Some(
                json!({"customer_phone": "0712000003", "service_id": service,
                        "staff_id": staff, "start_at": day + Duration::hours(4)}),
            ),
        )
        .await;

    // Move the first an hour later: onto the second's time is refused.
    let (status, _) = api
        .call(
            "/appointments/{id}/move",
            Method::POST,
            &format!("/appointments/{}/move", id(&appt)),
            &token,
            Some(json!({"start_at": day + Duration::hours(2)})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let moved = api
        .ok(
            StatusCode::OK,
            "/appointments/{id}/move",
            Method::POST,
            &format!("/appointments/{}/move", id(&appt)),
            &token,
            Some(json!({"start_at": day - Duration::hours(1)})),
        )
        .await;
    assert_eq!(moved["start_at"], json!(day - Duration::hours(1)));

    // The day's list, by status and staff.
    let date = day.format("%Y-%m-%d");
    let list = api
        .ok(
            StatusCode::OK,
            "/appointments",
            Method::GET,
            &format!("/appointments?date={date}&staff_id={staff}"),
            &token,
            None,
        )
        .await;
    assert_eq!(list.as_array().unwrap().len(), 3);
    let next_day = (day + Duration::days(1)).format("%Y-%m-%d");
    let none = api
        .ok(
            StatusCode::OK,
            "/appointments",
            Method::GET,
            &format!("/appointments?date={next_day}"),
            &token,
            None,
        )
        .await;
    assert_eq!(none.as_array().unwrap().len(), 0);

    // Completed with actual times, tip and notes.
    let done = api
        .ok(
            StatusCode::OK,
            "/appointments/{id}/complete",
            Method::POST,
            &format!("/appointments/{}/complete", id(&appt)),
            &token,
            Some(json!({"actual_start_at": day - Duration::minutes(50),
                        "actual_end_at": day + Duration::minutes(20),
                        "tip_amount": "300.00", "staff_notes": "Wants thinner braids next time"})),
        )
        .await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["tip_amount"], "300.00");
    assert_eq!(done["actual_end_at"], json!(day + Duration::minutes(20)));
    assert_eq!(done["staff_notes"], "Wants thinner braids next time");
    // Completing twice, or cancelling a completed visit, is a conflict.
    let (status, _) = api
        .call(
            "/appointments/{id}/cancel",
            Method::POST,
            &format!("/appointments/{}/cancel", id(&appt)),
            &token,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = api
        .call(
            "/appointments/{id}/complete",
            Method::POST,
            &format!("/appointments/{}/complete", id(&third)),
            &token,
            Some(json!({"actual_start_at": day, "actual_end_at": day - Duration::minutes(1)})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let cancelled = api
        .ok(
            StatusCode::OK,
            "/appointments/{id}/cancel",
            Method::POST,
            &format!("/appointments/{}/cancel", id(&other)),
            &token,
            Some(json!({"reason": "stylist ill"})),
        )
        .await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["cancelled_by"], "admin");
    assert_eq!(cancelled["cancel_reason"], "stylist ill");
    let absent = api
        .ok(
            StatusCode::OK,
            "/appointments/{id}/no-show",
            Method::POST,
            &format!("/appointments/{}/no-show", id(&third)),
            &token,
            Some(json!({"staff_notes": "no answer on the phone"})),
        )
        .await;
    assert_eq!(absent["status"], "no_show");
    let no_shows = api
        .ok(
            StatusCode::OK,
            "/appointments",
            Method::GET,
            &format!("/appointments?date={date}&status=no_show"),
            &token,
            None,
        )
        .await;
    assert_eq!(no_shows.as_array().unwrap().len(), 1);
    // The cancelled booking left the customer's totals.
    let mut tx = handle.begin().await.unwrap();
    let (bookings, last_visit): (i32, Option<DateTime<Utc>>) = sqlx::query_as(
        "SELECT total_bookings, last_visit_at FROM contacts WHERE phone_number = '+254712000001'",
    )
    .fetch_one(tx.conn())
    .await
    .unwrap();
    assert_eq!(bookings, 1);
    assert_eq!(last_visit, Some(day + Duration::minutes(20)));
    let spent: i32 = sqlx::query_scalar(
        "SELECT total_bookings FROM contacts WHERE phone_number = '+254712000002'",
    )
    .fetch_one(tx.conn())
    .await
    .unwrap();
    assert_eq!(spent, 0);
    tx.commit().await.unwrap();

    // Staff off a service, a day off the schedule, a deactivated service:
    // each audited with its entity.
    api.ok(
        StatusCode::OK,
        "/staff/{id}/services/{service_id}",
        Method::DELETE,
        &format!("/staff/{staff}/services/{service}"),
        &token,
        None,
    )
    .await;
    api.ok(
        StatusCode::NO_CONTENT,
        "/staff/{id}/schedule/{day_of_week}",
        Method::DELETE,
        &format!("/staff/{staff}/schedule/0"),
        &token,
        None,
    )
    .await;
    let off = api
        .ok(
            StatusCode::OK,
            "/services/{id}",
            Method::DELETE,
            &format!("/services/{service}"),
            &token,
            None,
        )
        .await;
    assert_eq!(off["is_active"], false);
    let week = api
        .ok(
            StatusCode::OK,
            "/staff/{id}/schedule",
            Method::GET,
            &format!("/staff/{staff}/schedule"),
            &token,
            None,
        )
        .await;
    assert_eq!(week.as_array().unwrap().len(), 6);
    assert_eq!(
        count(&handle, "SELECT count(*) FROM catalog_audits WHERE entity = 'staff_service' AND action = 'delete' AND after IS NULL").await,
        1
    );
    assert_eq!(
        count(
            &handle,
            "SELECT count(*) FROM catalog_audits WHERE entity = 'schedule' AND action = 'delete'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &handle,
            "SELECT count(*) FROM catalog_audits WHERE entity = 'service' AND action = 'toggle' \
                        AND (before->>'is_active')::bool AND NOT (after->>'is_active')::bool"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn dials_are_checked_and_audited_and_review_queues_resolve() {
    let db = TestDb::new().await;
    let rec = tenant(&db, "alpha", "1001").await;
    let other = tenant(&db, "beta", "2002").await;
    let handle = db.db().tenant(&rec.slug);
    let api = Api::start(&db, None).await;
    let (token, admin) = token_for(&db, &rec, "+254722000001").await;

    let before = api
        .ok(
            StatusCode::OK,
            "/dials",
            Method::GET,
            "/dials",
            &token,
            None,
        )
        .await;
    assert_eq!(before["voice_enabled"], false);
    let after = api
        .ok(
            StatusCode::OK,
            "/dials",
            Method::PATCH,
            "/dials",
            &token,
            Some(json!({"voice_enabled": true, "voice_eot_silence_ms": 700,
                        "voice_transfer_number": "0722000555", "handoff_escalation_seconds": 1800,
                        "tone": "playful", "greeting_custom": "Karibu Alpha!"})),
        )
        .await;
    assert_eq!(after["voice_enabled"], true);
    assert_eq!(after["voice_eot_silence_ms"], 700);
    assert_eq!(after["voice_transfer_number"], "+254722000555");
    assert_eq!(after["tone"], "playful");
    let fresh = db.db().tenant_by_slug(&rec.slug).await.unwrap().unwrap();
    assert!(fresh.voice_enabled);
    assert_eq!(fresh.handoff_escalation_seconds, 1800);
    // The other tenant's dials did not move.
    let beta = db.db().tenant_by_slug(&other.slug).await.unwrap().unwrap();
    assert!(!beta.voice_enabled);
    let audits = api
        .ok(
            StatusCode::OK,
            "/dials/audits",
            Method::GET,
            "/dials/audits",
            &token,
            None,
        )
        .await;
    let names: Vec<&str> = audits
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["dial"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 6, "{names:?}");
    let voice = audits
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["dial"] == "voice_enabled")
        .unwrap();
    assert_eq!(voice["before"], false);
    assert_eq!(voice["after"], true);
    assert_eq!(voice["actor_admin_id"], admin.to_string());
    // The same values again change (and audit) nothing.
    api.ok(
        StatusCode::OK,
        "/dials",
        Method::PATCH,
        "/dials",
        &token,
        Some(json!({"voice_enabled": true, "tone": "playful"})),
    )
    .await;
    assert_eq!(count(&handle, "SELECT count(*) FROM dial_audits").await, 6);
    // Clearing a personality dial inherits the default again.
    let cleared = api
        .ok(
            StatusCode::OK,
            "/dials",
            Method::PATCH,
            "/dials",
            &token,
            Some(json!({"tone": ""})),
        )
        .await;
    assert!(cleared.get("tone").is_none(), "{cleared}");
    for bad in [
        json!({"voice_eot_silence_ms": 5}),
        json!({"tone": "grumpy"}),
        json!({"preferred_payment_provider": ""}),
        json!({"mpesa_shortcode": "12ab"}),
        json!({"voice_endpointing_min_delay_ms": 900, "voice_endpointing_max_delay_ms": 100}),
        json!({"greeting_custom": "x".repeat(141)}),
    ] {
        let (status, _) = api
            .call("/dials", Method::PATCH, "/dials", &token, Some(bad.clone()))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    assert_eq!(count(&handle, "SELECT count(*) FROM dial_audits").await, 7);

    // Review: the tenant's quarantined message, resolved once.
    let q: Uuid = sqlx::query_scalar(
        "INSERT INTO public.inbound_quarantine (to_phone_number_id, from_phone, raw_payload) \
         VALUES ('1001', '+254712000009', '{\"text\": \"hi\"}') RETURNING id",
    )
    .fetch_one(db.db().pool())
    .await
    .unwrap();
    let open = api
        .ok(
            StatusCode::OK,
            "/review/quarantine",
            Method::GET,
            "/review/quarantine",
            &token,
            None,
        )
        .await;
    assert_eq!(open.as_array().unwrap().len(), 1);
    let done = api
        .ok(
            StatusCode::OK,
            "/review/quarantine/{id}/resolve",
            Method::POST,
            &format!("/review/quarantine/{q}/resolve"),
            &token,
            Some(json!({"resolution_note": "customer wrote before we connected the number"})),
        )
        .await;
    assert_eq!(done["reviewed_by"], admin.to_string());
    assert!(done["reviewed_at"].is_string());
    let (status, _) = api
        .call(
            "/review/quarantine/{id}/resolve",
            Method::POST,
            &format!("/review/quarantine/{q}/resolve"),
            &token,
            Some(json!({"resolution_note": "again"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let open = api
        .ok(
            StatusCode::OK,
            "/review/quarantine",
            Method::GET,
            "/review/quarantine",
            &token,
            None,
        )
        .await;
    assert_eq!(open.as_array().unwrap().len(), 0);
    let reviewed = api
        .ok(
            StatusCode::OK,
            "/review/quarantine",
            Method::GET,
            "/review/quarantine?state=reviewed",
            &token,
            None,
        )
        .await;
    assert_eq!(
        reviewed[0]["resolution_note"],
        "customer wrote before we connected the number"
    );
}

#[tokio::test]
async fn a_new_staff_block_takes_the_time_out_of_what_the_dialog_offers() {
    let db = TestDb::new().await;
    let rec = tenant(&db, "alpha", "1001").await;
    let handle = db.db().tenant(&rec.slug);
    let api = Api::start(&db, None).await;
    let (token, _) = token_for(&db, &rec, "+254722000001").await;
    let (_, staff) = catalogue(&api, &token, "Gel nails").await;
    let service = ConversationService::new(db.db().clone());
    // The evening before (Nairobi), asking for tomorrow 10am.
    let now = ten_am(0) + Duration::hours(8);
    let offered = say(
        &service,
        &handle,
        "+254712000101",
        "gel nails tomorrow 10am",
        now,
    )
    .await;
    assert!(
        offered.contains("10:00") || offered.contains("10am") || offered.contains("10 am"),
        "{offered}"
    );

    // Amina is off sick tomorrow morning.
    api.ok(StatusCode::CREATED, "/staff/{id}/blocks", Method::POST, &format!("/staff/{staff}/blocks"), &token,
        Some(json!({"start_at": ten_am(1) - Duration::hours(1), "end_at": ten_am(1) + Duration::hours(3), "reason": "sick"})))
        .await;
    let after = say(
        &service,
        &handle,
        "+254712000102",
        "gel nails tomorrow 10am",
        now,
    )
    .await;
    assert!(!after.contains("10:00") || after.contains("not"), "{after}");
    assert_ne!(offered, after);
    eprintln!("before the block: {offered}\nafter the block: {after}");
}

#[tokio::test]
async fn a_handoff_is_claimed_answered_and_closed_from_the_dashboard() {
    let db = TestDb::new().await;
    let demo = db.seed_demo().await;
    let rec = db.db().tenant_by_slug(demo.slug()).await.unwrap().unwrap();
    let outbox = Arc::new(Outbox::default());
    let api = Api::start(&db, Some(outbox.clone())).await;
    let (token, admin) = token_for(&db, &rec, "+254722999001").await;
    let service = ConversationService::new(db.db().clone());
    let t0: DateTime<Utc> = "2030-01-07T05:00:00Z".parse().unwrap();
    let said = say(
        &service,
        &demo,
        "+254712888001",
        "I want to talk to a real person",
        t0,
    )
    .await;
    assert!(said.contains("passing you to a member"), "{said}");

    let waiting = api
        .ok(
            StatusCode::OK,
            "/handoffs",
            Method::GET,
            "/handoffs",
            &token,
            None,
        )
        .await;
    assert_eq!(waiting.as_array().unwrap().len(), 1);
    let thread = waiting[0]["thread_id"].as_str().unwrap().to_owned();
    assert!(waiting[0]["claimed_by_admin_id"].is_null());
    // Replying before claiming is refused.
    let (status, _) = api
        .call(
            "/handoffs/{thread_id}/reply",
            Method::POST,
            &format!("/handoffs/{thread}/reply"),
            &token,
            Some(json!({"text": "hi"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let claimed = api
        .ok(
            StatusCode::OK,
            "/handoffs/{thread_id}/claim",
            Method::POST,
            &format!("/handoffs/{thread}/claim"),
            &token,
            None,
        )
        .await;
    assert_eq!(claimed["claimed_via"], "dashboard");
    assert_eq!(claimed["claimed_by_admin_id"], admin.to_string());
    // Another admin cannot take it.
    let (other, _) = token_for(&db, &rec, "+254722999002").await;
    let (status, _) = api
        .call(
            "/handoffs/{thread_id}/claim",
            Method::POST,
            &format!("/handoffs/{thread}/claim"),
            &other,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    let sent = api
        .ok(
            StatusCode::OK,
            "/handoffs/{thread_id}/reply",
            Method::POST,
            &format!("/handoffs/{thread}/reply"),
            &token,
            Some(json!({"text": "Hello, this is Achieng from the salon. How can I help?"})),
        )
        .await;
    assert_eq!(sent["delivered"], true);
    assert_eq!(
        outbox.0.lock().unwrap().clone(),
        vec![(
            "+254712888001".to_owned(),
            "Hello, this is Achieng from the salon. How can I help?".to_owned()
        )]
    );
    let log = api
        .ok(
            StatusCode::OK,
            "/handoffs/{thread_id}/messages",
            Method::GET,
            &format!("/handoffs/{thread}/messages"),
            &token,
            None,
        )
        .await;
    let last = log.as_array().unwrap().last().unwrap();
    assert_eq!(last["actor"], "admin");
    assert_eq!(
        last["content"],
        "Hello, this is Achieng from the salon. How can I help?"
    );

    api.ok(
        StatusCode::NO_CONTENT,
        "/handoffs/{thread_id}/close",
        Method::POST,
        &format!("/handoffs/{thread}/close"),
        &token,
        None,
    )
    .await;
    let waiting: Value = api
        .ok(
            StatusCode::OK,
            "/handoffs",
            Method::GET,
            "/handoffs",
            &token,
            None,
        )
        .await;
    assert_eq!(waiting.as_array().unwrap().len(), 0);
    let mut tx = demo.begin().await.unwrap();
    let reason: Option<String> =
        sqlx::query_scalar("SELECT closed_reason FROM conversation_threads WHERE thread_id = $1")
            .bind(&thread)
            .fetch_one(tx.conn())
            .await
            .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(reason.as_deref(), Some("closed_by_human"));
    // The bot answers the customer again.
    let back = say(
        &service,
        &demo,
        "+254712888001",
        "What are your opening hours?",
        t0 + Duration::minutes(10),
    )
    .await;
    assert!(!back.is_empty());
}

#[tokio::test]
async fn contacts_are_searched_and_their_history_paged_across_channels() {
    let db = TestDb::new().await;
    let rec = tenant(&db, "alpha", "1001").await;
    let (token, _) = token_for(&db, &rec, "+254722000001").await;
    let api = Api::start(&db, None).await;
    let handle = db.db().tenant(&rec.slug);
    let mut tx = handle.begin().await.unwrap();
    let amina: Uuid = sqlx::query_scalar(
        "INSERT INTO contacts (phone_number, name) VALUES ('+254712345678', 'Amina Wanjiru') RETURNING id",
    )
    .fetch_one(tx.conn())
    .await
    .unwrap();
    sqlx::query("INSERT INTO contacts (phone_number, name) VALUES ('+254799000111', 'Baraka')")
        .execute(tx.conn())
        .await
        .unwrap();
    let customer: Uuid = sqlx::query_scalar(
        "INSERT INTO customers (phone_e164, name) VALUES ('+254712345678', 'Amina') RETURNING customer_id",
    )
    .fetch_one(tx.conn())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO customer_identities (customer_id, provider, external_id) \
         VALUES ($1, 'whatsapp', '254712345678'), ($1, 'instagram', 'ig-77')",
    )
    .bind(customer)
    .execute(tx.conn())
    .await
    .unwrap();
    for (i, channel) in ["whatsapp", "voice", "dashboard"].iter().enumerate() {
        sqlx::query(
            "INSERT INTO interactions (contact_id, channel, direction, content, created_at) \
             VALUES ($1, $2, 'inbound', $3, NOW() - make_interval(mins => $4))",
        )
        .bind(amina)
        .bind(channel)
        .bind(format!("message {i}"))
        .bind(10 - i as i32)
        .execute(tx.conn())
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();

    for (q, want) in [
        ("amina", 1),
        ("WANJIRU", 1),
        ("0712 345", 1),
        ("254799", 1),
        ("nobody", 0),
    ] {
        let v = api
            .ok(
                StatusCode::OK,
                "/contacts",
                Method::GET,
                &format!("/contacts?q={q}"),
                &token,
                None,
            )
            .await;
        assert_eq!(v["items"].as_array().unwrap().len(), want, "{q}: {v}");
    }
    let page = api
        .ok(
            StatusCode::OK,
            "/contacts",
            Method::GET,
            "/contacts?limit=1",
            &token,
            None,
        )
        .await;
    assert_eq!(page["next_offset"], 1);
    let all = api
        .ok(
            StatusCode::OK,
            "/contacts",
            Method::GET,
            "/contacts",
            &token,
            None,
        )
        .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    assert!(all["next_offset"].is_null());
    let (status, _) = api
        .call("/contacts", Method::GET, "/contacts?limit=0", &token, None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let one = api
        .ok(
            StatusCode::OK,
            "/contacts/{id}",
            Method::GET,
            &format!("/contacts/{amina}"),
            &token,
            None,
        )
        .await;
    assert_eq!(one["name"], "Amina Wanjiru");
    let providers: Vec<&str> = one["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["provider"].as_str().unwrap())
        .collect();
    assert_eq!(providers.len(), 2);
    assert!(providers.contains(&"instagram") && providers.contains(&"whatsapp"));

    let first = api
        .ok(
            StatusCode::OK,
            "/contacts/{id}/interactions",
            Method::GET,
            &format!("/contacts/{amina}/interactions?limit=2"),
            &token,
            None,
        )
        .await;
    let channels: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["channel"].as_str().unwrap())
        .collect();
    assert_eq!(channels, ["dashboard", "voice"], "newest first");
    assert_eq!(first["next_offset"], 2);
    let rest = api
        .ok(
            StatusCode::OK,
            "/contacts/{id}/interactions",
            Method::GET,
            &format!("/contacts/{amina}/interactions?limit=2&offset=2"),
            &token,
            None,
        )
        .await;
    assert_eq!(rest["items"][0]["channel"], "whatsapp");
    assert!(rest["next_offset"].is_null());
    let (status, _) = api
        .call(
            "/contacts/{id}",
            Method::GET,
            &format!("/contacts/{}", Uuid::new_v4()),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn credentials_are_stored_encrypted_audited_and_never_returned() {
    let db = TestDb::new().await;
    let rec = tenant(&db, "alpha", "1001").await;
    let (token, admin) = token_for(&db, &rec, "+254722000001").await;
    let api = Api::start(&db, None).await;
    let before = api
        .ok(
            StatusCode::OK,
            "/credentials",
            Method::GET,
            "/credentials",
            &token,
            None,
        )
        .await;
    assert!(
        before
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["is_set"] == false)
    );
    let body = json!({
        "daraja": {"shortcode": "174379", "passkey": "PASSKEY-SECRET-1"},
        "whatsapp_access_token": "EAAG-SECRET-2",
    });
    let after = api
        .ok(
            StatusCode::OK,
            "/credentials",
            Method::PUT,
            "/credentials",
            &token,
            Some(body),
        )
        .await;
    let text = after.to_string();
    assert!(!text.contains("SECRET"), "{text}");
    let state = |v: &Value, name: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(state(&after, "daraja")["is_set"], true);
    assert!(state(&after, "daraja")["changed_at"].is_string());
    assert_eq!(state(&after, "whatsapp_access_token")["is_set"], true);
    assert_eq!(state(&after, "pesapal")["is_set"], false);

    // Stored as Fernet tokens that decrypt to what was sent.
    let (daraja, wa): (Vec<u8>, String) = sqlx::query_as(
        "SELECT daraja_credentials, whatsapp_access_token FROM public.tenants WHERE id = $1",
    )
    .bind(rec.id.0)
    .fetch_one(db.db().pool())
    .await
    .unwrap();
    assert!(!String::from_utf8_lossy(&daraja).contains("SECRET"));
    assert!(!wa.contains("SECRET"));
    let v = vault();
    let doc: Value = v.decrypt_json(&daraja).unwrap();
    assert_eq!(
        doc,
        json!({"shortcode": "174379", "passkey": "PASSKEY-SECRET-1"})
    );
    assert_eq!(v.decrypt_text(&wa).unwrap().expose(), "EAAG-SECRET-2");

    // Audited without the secret, by the admin.
    let audits = api
        .ok(
            StatusCode::OK,
            "/dials/audits",
            Method::GET,
            "/dials/audits",
            &token,
            None,
        )
        .await;
    let text = audits.to_string();
    assert!(!text.contains("SECRET"), "{text}");
    let dials: Vec<&str> = audits
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["dial"].as_str().unwrap())
        .collect();
    assert!(
        dials.contains(&"credential_daraja") && dials.contains(&"credential_whatsapp_access_token")
    );
    assert!(
        audits
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["actor_admin_id"] == admin.to_string())
    );

    // Cleared; bad values refused without a change.
    let cleared = api
        .ok(
            StatusCode::OK,
            "/credentials",
            Method::PUT,
            "/credentials",
            &token,
            Some(json!({"clear": ["whatsapp_access_token"]})),
        )
        .await;
    assert_eq!(state(&cleared, "whatsapp_access_token")["is_set"], false);
    for bad in [
        json!({}),
        json!({"clear": ["nope"]}),
        json!({"daraja": {"shortcode": "abc", "passkey": "x"}}),
        json!({"pesapal": {"consumer_key": "", "consumer_secret": "s"}}),
    ] {
        let (status, v) = api
            .call(
                "/credentials",
                Method::PUT,
                "/credentials",
                &token,
                Some(bad.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {v}");
    }
    let handle = db.db().tenant(&rec.slug);
    assert_eq!(
        count(
            &handle,
            "SELECT count(*) FROM dial_audits WHERE dial LIKE 'credential%'"
        )
        .await,
        3
    );
}
