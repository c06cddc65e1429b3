//! Commissions through the admin API, against a real database: rules
//! (validated, audited), visits completed through the calendar, a period
//! closed with the figures worked out by hand, the same close again
//! changing no row, and a visit completed after the close landing in an
//! amendment that points at the close (which stays as it was).

mod common;

use chrono::{DateTime, Duration, Utc};
use common::TestDb;
use common::admin::{Api, book, complete, service, staff_member, ten_am, tenant, token_for};
use ratiba::storage::TenantHandle;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Every commission_period row, as JSON, in id order.
async fn period_table(handle: &TenantHandle) -> Vec<Value> {
    let mut tx = handle.begin().await.unwrap();
    let rows = sqlx::query_scalar("SELECT to_jsonb(c) FROM commission_period c ORDER BY id")
        .fetch_all(tx.conn())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    rows
}

async fn audits(
    handle: &TenantHandle,
    entity: &str,
) -> Vec<(String, Option<Value>, Option<Value>)> {
    let mut tx = handle.begin().await.unwrap();
    let rows = sqlx::query_as(
        "SELECT action, before, after FROM catalog_audits WHERE entity = $1 \
         ORDER BY created_at, audit_id",
    )
    .bind(entity)
    .fetch_all(tx.conn())
    .await
    .unwrap();
    tx.commit().await.unwrap();
    rows
}

fn at(t: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
    t + Duration::minutes(minutes)
}

async fn close(api: &Api, token: &str, body: Value) -> Value {
    api.ok(
        StatusCode::OK,
        "/commission-periods",
        Method::POST,
        "/commission-periods",
        token,
        Some(body),
    )
    .await
}

fn row_of<'a>(closed: &'a Value, staff: &str, kind: &str) -> &'a Value {
    closed["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["staff_id"] == staff && r["type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} row for {staff} in {closed}"))
}

#[tokio::test]
async fn rules_are_validated_and_audited() {
    let db = TestDb::new().await;
    let rec = tenant(&db, "alpha", "1001").await;
    let handle = db.db().tenant(&rec.slug);
    let api = Api::start(&db, None).await;
    let (token, admin) = token_for(&db, &rec, "+254722000001").await;
    let braids = service(&api, &token, "Box braids", "1500.00").await;
    let amina = staff_member(&api, &token, "Amina", "0722000111", &[&braids]).await;

    let refused = [
        json!({"service_category": "*", "rule_type": "pct", "value": 101}),
        json!({"service_category": "*", "rule_type": "pct", "value": -1}),
        json!({"service_category": "*", "rule_type": "pct", "value": "40"}),
        json!({"service_category": "*", "rule_type": "fixed", "value": 12.5}),
        json!({"service_category": "*", "rule_type": "fixed", "value": -100}),
        json!({"service_category": "*", "rule_type": "tiered",
               "value": [{"threshold": 500000, "rate": 30}, {"threshold": 100000, "rate": 40}]}),
        json!({"service_category": "*", "rule_type": "tiered",
               "value": [{"threshold": 0, "rate": 30}, {"threshold": 0, "rate": 40}]}),
        json!({"service_category": "*", "rule_type": "tiered", "value": []}),
        json!({"staff_id": amina, "service_category": "nails", "rule_type": "pct", "value": 10}),
        json!({"rule_type": "pct", "value": 10}),
        json!({"service_category": "  ", "rule_type": "pct", "value": 10}),
        json!({"service_category": "*", "rule_type": "pct", "value": 10,
               "valid_from": "2030-01-02T00:00:00Z", "valid_to": "2030-01-01T00:00:00Z"}),
    ];
    for body in refused {
        let (status, v) = api
            .call(
                "/commission-rules",
                Method::POST,
                "/commission-rules",
                &token,
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
    }
    // A staff member the tenant does not have.
    let (status, _) = api
        .call(
            "/commission-rules",
            Method::POST,
            "/commission-rules",
            &token,
            Some(json!({"staff_id": uuid::Uuid::new_v4(), "rule_type": "pct", "value": 10})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(audits(&handle, "commission_rule").await.is_empty());

    // Created: stored canonical, category lower-cased, audited.
    let rule = api
        .ok(
            StatusCode::CREATED,
            "/commission-rules",
            Method::POST,
            "/commission-rules",
            &token,
            Some(
                json!({"service_category": " Nails ", "rule_type": "pct", "value": 12.5,
                        "valid_from": "2025-01-01T00:00:00Z"}),
            ),
        )
        .await;
    let rule_id = rule["id"].as_str().unwrap().to_owned();
    assert_eq!(rule["service_category"], "nails");
    assert_eq!(rule["value"], json!(12.5));
    assert_eq!(rule["staff_id"], Value::Null);
    // Replaced: a tiered rule for Amina.
    let tiers = json!([{"threshold": 0, "rate": 30}, {"threshold": 200000, "rate": 40}]);
    let replaced = api
        .ok(
            StatusCode::OK,
            "/commission-rules/{id}",
            Method::PUT,
            &format!("/commission-rules/{rule_id}"),
            &token,
            Some(json!({"staff_id": amina, "rule_type": "tiered", "value": tiers})),
        )
        .await;
    assert_eq!(replaced["rule_type"], "tiered");
    assert_eq!(replaced["value"], tiers);
    assert_eq!(replaced["staff_id"], amina.as_str());
    assert_eq!(replaced["service_category"], Value::Null);
    // valid_from kept when not given.
    assert_eq!(replaced["valid_from"], rule["valid_from"]);
    // Ended (started in the past): valid_to set, still listed, not active.
    api.ok(
        StatusCode::NO_CONTENT,
        "/commission-rules/{id}",
        Method::DELETE,
        &format!("/commission-rules/{rule_id}"),
        &token,
        None,
    )
    .await;
    let got = api
        .ok(
            StatusCode::OK,
            "/commission-rules/{id}",
            Method::GET,
            &format!("/commission-rules/{rule_id}"),
            &token,
            None,
        )
        .await;
    assert!(got["valid_to"].is_string(), "{got}");
    let active = api
        .ok(
            StatusCode::OK,
            "/commission-rules",
            Method::GET,
            "/commission-rules?active=true",
            &token,
            None,
        )
        .await;
    assert_eq!(active, json!([]));
    let all = api
        .ok(
            StatusCode::OK,
            "/commission-rules",
            Method::GET,
            &format!("/commission-rules?staff_id={amina}"),
            &token,
            None,
        )
        .await;
    assert_eq!(all.as_array().unwrap().len(), 1);
    // A rule not started yet is removed outright.
    let future = api
        .ok(
            StatusCode::CREATED,
            "/commission-rules",
            Method::POST,
            "/commission-rules",
            &token,
            Some(
                json!({"service_category": "*", "rule_type": "fixed", "value": 5000,
                        "valid_from": "2099-01-01T00:00:00Z"}),
            ),
        )
        .await;
    let future_id = future["id"].as_str().unwrap();
    api.ok(
        StatusCode::NO_CONTENT,
        "/commission-rules/{id}",
        Method::DELETE,
        &format!("/commission-rules/{future_id}"),
        &token,
        None,
    )
    .await;
    let (status, _) = api
        .call(
            "/commission-rules/{id}",
            Method::GET,
            &format!("/commission-rules/{future_id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Every change is in catalog_audits with its before and after.
    let trail = audits(&handle, "commission_rule").await;
    let actions: Vec<&str> = trail.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(actions, ["insert", "update", "update", "insert", "delete"]);
    assert_eq!(trail[0].1, None);
    assert_eq!(trail[0].2.as_ref().unwrap()["value"], json!(12.5));
    assert_eq!(trail[1].1.as_ref().unwrap()["rule_type"], "pct");
    assert_eq!(trail[1].2.as_ref().unwrap()["rule_type"], "tiered");
    assert_eq!(trail[2].1.as_ref().unwrap()["valid_to"], Value::Null);
    assert!(trail[2].2.as_ref().unwrap()["valid_to"].is_string());
    assert_eq!(trail[4].2, None);
    let mut tx = handle.begin().await.unwrap();
    let actors: Vec<Option<uuid::Uuid>> = sqlx::query_scalar(
        "SELECT actor_admin_id FROM catalog_audits WHERE entity = 'commission_rule'",
    )
    .fetch_all(tx.conn())
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(actors.iter().all(|a| *a == Some(admin)), "{actors:?}");
}

#[tokio::test]
async fn a_close_is_frozen_idempotent_and_amended_after_a_late_visit() {
    let db = TestDb::new().await;
    let rec = tenant(&db, "alpha", "1001").await;
    let handle = db.db().tenant(&rec.slug);
    let api = Api::start(&db, None).await;
    let (token, _) = token_for(&db, &rec, "+254722000001").await;
    let braids = service(&api, &token, "Box braids", "1500.00").await;
    let nails = service(&api, &token, "Gel manicure", "800.00").await;
    let amina = staff_member(&api, &token, "Amina", "0722000111", &[&braids, &nails]).await;
    let baraka = staff_member(&api, &token, "Baraka", "0722000222", &[&braids, &nails]).await;

    // The default: 10%; nails: KES 200.00 a visit; Amina: 30% of her sales
    // up to KES 2,000.00 and 40% above (marginal).
    for body in [
        json!({"service_category": "*", "rule_type": "pct", "value": 10,
               "valid_from": "2030-01-01T00:00:00Z"}),
        json!({"service_category": "nails", "rule_type": "fixed", "value": 20000,
               "valid_from": "2030-01-01T00:00:00Z"}),
        json!({"staff_id": amina, "rule_type": "tiered",
               "value": [{"threshold": 0, "rate": 30}, {"threshold": 200000, "rate": 40}],
               "valid_from": "2030-01-01T00:00:00Z"}),
    ] {
        api.ok(
            StatusCode::CREATED,
            "/commission-rules",
            Method::POST,
            "/commission-rules",
            &token,
            Some(body),
        )
        .await;
    }

    // Amina: two braids visits (90 and 60 minutes, a KES 200 tip); a
    // no-show and a cancellation that count for nothing.
    let a1 = book(&api, &token, "0712000001", &braids, &amina, ten_am(0)).await;
    complete(
        &api,
        &token,
        &a1,
        json!({"actual_start_at": ten_am(0), "actual_end_at": at(ten_am(0), 90),
               "tip_amount": "200.00", "staff_notes": "knotless"}),
    )
    .await;
    let a2 = book(&api, &token, "0712000002", &braids, &amina, ten_am(1)).await;
    complete(
        &api,
        &token,
        &a2,
        json!({"actual_start_at": at(ten_am(1), 5), "actual_end_at": at(ten_am(1), 65)}),
    )
    .await;
    let a3 = book(&api, &token, "0712000003", &nails, &amina, ten_am(2)).await;
    api.ok(
        StatusCode::OK,
        "/appointments/{id}/no-show",
        Method::POST,
        &format!("/appointments/{a3}/no-show"),
        &token,
        Some(json!({})),
    )
    .await;
    let a4 = book(&api, &token, "0712000004", &braids, &amina, ten_am(3)).await;
    api.ok(
        StatusCode::OK,
        "/appointments/{id}/cancel",
        Method::POST,
        &format!("/appointments/{a4}/cancel"),
        &token,
        Some(json!({"reason": "rain"})),
    )
    .await;
    // Baraka: braids under the default (10%) and nails (fixed).
    let b1 = book(&api, &token, "0712000005", &braids, &baraka, ten_am(0)).await;
    complete(&api, &token, &b1, json!({"tip_amount": "50.50"})).await;
    let b2 = book(&api, &token, "0712000006", &nails, &baraka, ten_am(1)).await;
    complete(
        &api,
        &token,
        &b2,
        json!({"actual_start_at": ten_am(1), "actual_end_at": at(ten_am(1), 45)}),
    )
    .await;
    // A confirmed visit not yet done: not counted until completed.
    let late = book(&api, &token, "0712000007", &braids, &amina, ten_am(5)).await;

    let period = json!({"period_start": "2030-01-01", "period_end": "2030-01-31"});
    let first = close(&api, &token, period.clone()).await;
    assert_eq!(first["written"], 2, "{first}");
    assert_eq!(first["rows"].as_array().unwrap().len(), 2);
    // Amina: 3,000.00 of braids → 30% × 2,000 + 40% × 1,000 = 1,000.00.
    let a = row_of(&first, &amina, "close");
    assert_eq!(a["commission_kes_minor"], 100_000);
    assert_eq!(a["tip_kes_minor"], 20_000);
    assert_eq!(a["hours_worked"], "2.50");
    assert_eq!(a["services_rendered_count"], 2);
    assert_eq!(a["amendment_of_id"], Value::Null);
    assert_eq!(a["period_start"], "2030-01-01");
    // Baraka: 10% of 1,500.00 + 200.00 for the nails.
    let b = row_of(&first, &baraka, "close");
    assert_eq!(b["commission_kes_minor"], 35_000);
    assert_eq!(b["tip_kes_minor"], 5_050);
    assert_eq!(b["hours_worked"], "1.75");
    assert_eq!(b["services_rendered_count"], 2);

    // Closing again: the same close, and not one row changes.
    let table = period_table(&handle).await;
    let audit_rows = audits(&handle, "commission_period").await.len();
    assert_eq!(audit_rows, 2);
    let again = close(&api, &token, period.clone()).await;
    assert_eq!(again["written"], 0);
    assert_eq!(again["rows"], first["rows"]);
    assert_eq!(period_table(&handle).await, table);
    assert_eq!(audits(&handle, "commission_period").await.len(), audit_rows);
    // One staff member's close of the same period is the same row too.
    let just_amina = close(
        &api,
        &token,
        json!({"period_start": "2030-01-01", "period_end": "2030-01-31", "staff_id": amina}),
    )
    .await;
    assert_eq!(just_amina["written"], 0);
    assert_eq!(just_amina["rows"], json!([a]));
    assert_eq!(period_table(&handle).await, table);

    // A period overlapping the close is refused.
    let (status, v) = api
        .call(
            "/commission-periods",
            Method::POST,
            "/commission-periods",
            &token,
            Some(json!({"period_start": "2030-01-15", "period_end": "2030-02-14"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert_eq!(period_table(&handle).await, table);

    // The late visit is completed after the close: the next close writes an
    // amendment (the difference) pointing at the close, which stays.
    complete(&api, &token, &late, json!({"tip_amount": "100.00"})).await;
    let amended = close(&api, &token, period.clone()).await;
    assert_eq!(amended["written"], 1, "{amended}");
    let close_row = row_of(&amended, &amina, "close");
    assert_eq!(close_row, a);
    let fix = row_of(&amended, &amina, "amendment").clone();
    assert_eq!(fix["amendment_of_id"], a["id"]);
    // 4,500.00 → 600 + 1,000 = 1,600.00: 600.00 more.
    assert_eq!(fix["commission_kes_minor"], 60_000);
    assert_eq!(fix["tip_kes_minor"], 10_000);
    assert_eq!(fix["hours_worked"], "1.00");
    assert_eq!(fix["services_rendered_count"], 1);
    assert_eq!(row_of(&amended, &baraka, "close"), b);
    assert_eq!(amended["rows"].as_array().unwrap().len(), 3);
    // The frozen rows are exactly as they were; one row was added.
    let now_table = period_table(&handle).await;
    assert_eq!(now_table.len(), table.len() + 1);
    for row in &table {
        assert!(now_table.contains(row), "{row} changed");
    }
    // And closing again changes nothing.
    let still = close(&api, &token, period.clone()).await;
    assert_eq!(still["written"], 0);
    assert_eq!(period_table(&handle).await, now_table);

    // Another late visit, and a tip corrected on a visit already closed:
    // the one amendment carries all of it, the close stays.
    let later = book(&api, &token, "0712000008", &nails, &amina, ten_am(6)).await;
    complete(&api, &token, &later, json!({})).await;
    let mut tx = handle.begin().await.unwrap();
    sqlx::query(
        "UPDATE appointments SET tip_amount = 250.00, updated_at = NOW() WHERE id = $1::uuid",
    )
    .bind(&a1)
    .execute(tx.conn())
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let twice = close(&api, &token, period.clone()).await;
    assert_eq!(twice["written"], 1);
    assert_eq!(row_of(&twice, &amina, "close"), a);
    let fix2 = row_of(&twice, &amina, "amendment");
    assert_eq!(fix2["id"], fix["id"]);
    // 5,300.00 → 600 + 1,320 = 1,920.00: 920.00 more than the close.
    assert_eq!(fix2["commission_kes_minor"], 92_000);
    assert_eq!(fix2["services_rendered_count"], 2);
    assert_eq!(fix2["tip_kes_minor"], 15_000);
    assert_eq!(fix2["amendment_of_id"], a["id"]);
    let trail = audits(&handle, "commission_period").await;
    let actions: Vec<&str> = trail.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(actions, ["insert", "insert", "insert", "update"]);

    // Two closes of a new period at once: one writes, the other finds it.
    let feb = json!({"period_start": "2030-02-01", "period_end": "2030-02-28"});
    let (x, y) = tokio::join!(close(&api, &token, feb.clone()), close(&api, &token, feb));
    assert_eq!(x["rows"], y["rows"]);
    assert_eq!(
        x["written"].as_i64().unwrap() + y["written"].as_i64().unwrap(),
        2
    );
    assert_eq!(row_of(&x, &amina, "close")["services_rendered_count"], 0);

    // The rows are listed and fetched by id.
    let listed = api
        .ok(
            StatusCode::OK,
            "/commission-periods",
            Method::GET,
            &format!("/commission-periods?staff_id={amina}&from=2030-01-01&to=2030-01-31"),
            &token,
            None,
        )
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let fetched = api
        .ok(
            StatusCode::OK,
            "/commission-periods/{id}",
            Method::GET,
            &format!("/commission-periods/{}", a["id"].as_str().unwrap()),
            &token,
            None,
        )
        .await;
    assert_eq!(&fetched, a);
}
