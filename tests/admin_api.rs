//! The admin API (/api/v1) against a real database over loopback HTTP:
//! the OpenAPI document, bearer tokens (expiry, revocation, deactivated
//! admins, platform vs tenant), tenant isolation of every endpoint that
//! takes an id, the day's work (catalogue with audits, calendar, dials,
//! review queues, admins), a hand-off worked from the dashboard, and a
//! staff block taking a time out of what the conversation offers.

mod common;

use std::sync::Arc;

use chrono::{Duration, Utc};
use common::TestDb;
use common::admin::{Api, Outbox, catalogue, handed_off_thread, id, ten_am, tenant, token_for};
use ratiba::storage::admin::tokens::{self, Scope};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

#[tokio::test]
async fn openapi_document_describes_every_route_and_bearer_auth() {
    let db = TestDb::new().await;
    let api = Api::start(&db, None).await;
    let resp = reqwest::get(format!("{}/api/v1/openapi.json", api.base))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let doc: Value = resp.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/appointments",
        "/api/v1/appointments/{id}/complete",
        "/api/v1/services",
        "/api/v1/staff/{id}/blocks",
        "/api/v1/dials",
        "/api/v1/handoffs/{thread_id}/reply",
        "/api/v1/review/quarantine",
        "/api/v1/admins",
        "/api/v1/platform/tenants",
    ] {
        assert!(paths.contains_key(p), "missing {p}");
    }
    // Every operation answers errors in the one shape.
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            assert_eq!(
                op["responses"]["default"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{method} {path}"
            );
        }
    }
    // The document is the one the library generates, not a file.
    assert_eq!(
        doc,
        serde_json::to_value(ratiba::http::admin::openapi()).unwrap()
    );
}

#[tokio::test]
async fn tokens_expire_are_revoked_and_follow_the_admin() {
    let db = TestDb::new().await;
    let rec = tenant(&db, "alpha", "1001").await;
    let api = Api::start(&db, None).await;
    let (status, _) = api
        .call_as("/services", Method::GET, "/services", None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for bad in ["nonsense", "rtb_0000", "Basic abc"] {
        let (status, _) = api
            .call_as("/services", Method::GET, "/services", Some(bad), None)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{bad:?}");
    }
    let (token, admin) = token_for(&db, &rec, "+254722000001").await;
    api.ok(
        StatusCode::OK,
        "/services",
        Method::GET,
        "/services",
        &token,
        None,
    )
    .await;
    // Only the hash is stored.
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM public.admin_api_tokens WHERE position($1::bytea in token_sha256) > 0",
    )
    .bind(token.as_bytes())
    .fetch_one(db.db().pool())
    .await
    .unwrap();
    assert_eq!(stored, 0);

    // Expired.
    let old = tokens::create(
        db.db(),
        Scope::Tenant {
            tenant: rec.id,
            admin,
        },
        None,
        Utc::now() - Duration::seconds(1),
    )
    .await
    .unwrap();
    let (status, _) = api
        .call("/services", Method::GET, "/services", &old.token, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Revoked.
    let spare = tokens::create(
        db.db(),
        Scope::Tenant {
            tenant: rec.id,
            admin,
        },
        None,
        Utc::now() + Duration::days(1),
    )
    .await
    .unwrap();
    assert!(tokens::revoke(db.db(), spare.id, Utc::now()).await.unwrap());
    let (status, _) = api
        .call("/services", Method::GET, "/services", &spare.token, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A platform token is not a tenant's, and a tenant's is not the platform's.
    let platform = tokens::create(
        db.db(),
        Scope::Platform,
        None,
        Utc::now() + Duration::days(1),
    )
    .await
    .unwrap();
    let (status, _) = api
        .call("/services", Method::GET, "/services", &platform.token, None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = api
        .call(
            "/platform/tenants",
            Method::GET,
            "/platform/tenants",
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Deactivating an admin ends their tokens; nobody deactivates themself.
    let (other, other_id) = token_for(&db, &rec, "+254722000002").await;
    let (status, _) = api
        .call(
            "/admins/{id}/deactivate",
            Method::POST,
            &format!("/admins/{other_id}/deactivate"),
            &other,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let row = api
        .ok(
            StatusCode::OK,
            "/admins/{id}/deactivate",
            Method::POST,
            &format!("/admins/{other_id}/deactivate"),
            &token,
            None,
        )
        .await;
    assert_eq!(row["is_active"], false);
    let (status, _) = api
        .call("/services", Method::GET, "/services", &other, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Onboarding with the platform token gives the first admin a token.
    let made = api
        .ok(
            StatusCode::CREATED,
            "/platform/tenants",
            Method::POST,
            "/platform/tenants",
            &platform.token,
            Some(
                json!({"slug": "gamma", "name": "Gamma Spa", "vertical": "spa",
                        "admin_phone": "0733000003", "whatsapp_phone_number_id": "3003"}),
            ),
        )
        .await;
    let gamma_token = made["token"].as_str().unwrap();
    let admins = api
        .ok(
            StatusCode::OK,
            "/admins",
            Method::GET,
            "/admins",
            gamma_token,
            None,
        )
        .await;
    assert_eq!(admins[0]["phone_number"], "+254733000003");
    let (status, _) = api
        .call(
            "/platform/tenants",
            Method::POST,
            "/platform/tenants",
            &platform.token,
            Some(json!({"slug": "gamma", "name": "Again", "vertical": "spa", "admin_phone": "0733000004"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_tenant_token_gets_404_for_another_tenants_ids_on_every_endpoint() {
    let db = TestDb::new().await;
    let a = tenant(&db, "alpha", "1001").await;
    let b = tenant(&db, "beta", "2002").await;
    let api = Api::start(&db, Some(Arc::new(Outbox::default()))).await;
    let (ta, _) = token_for(&db, &a, "+254722000001").await;
    let (tb, b_admin_self) = token_for(&db, &b, "+254722000002").await;

    // B's things, made through the API with B's token.
    let (b_service, b_staff) = catalogue(&api, &tb, "Box braids").await;
    let b_appt = id(&api
        .ok(
            StatusCode::CREATED,
            "/appointments",
            Method::POST,
            "/appointments",
            &tb,
            Some(
                json!({"customer_phone": "0712000002", "service_id": b_service,
                        "staff_id": b_staff, "start_at": ten_am(1)}),
            ),
        )
        .await);
    let b_block = id(&api
        .ok(
            StatusCode::CREATED,
            "/staff/{id}/blocks",
            Method::POST,
            &format!("/staff/{b_staff}/blocks"),
            &tb,
            Some(json!({"start_at": ten_am(3), "end_at": ten_am(3) + Duration::hours(2), "reason": "sick"})),
        )
        .await);
    let b_admin = id(&api
        .ok(
            StatusCode::CREATED,
            "/admins",
            Method::POST,
            "/admins",
            &tb,
            Some(json!({"phone_number": "0722000099", "role": "manager"})),
        )
        .await);
    let b_thread = handed_off_thread(&db, &b, "+254712000002").await;
    let b_quarantined: Uuid = sqlx::query_scalar(
        "INSERT INTO public.inbound_quarantine (to_phone_number_id, from_phone, raw_payload) \
         VALUES ('2002', '+254712000002', '{}') RETURNING id",
    )
    .fetch_one(db.db().pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO public.payment_routing (merchant_reference, tenant_id, schema_name, thread_id, provider, expires_at) \
         VALUES ('REF-B', $1, 'tenant_beta', 't', 'mpesa', NOW() + interval '1 day')",
    )
    .bind(b.id.0)
    .execute(db.db().pool())
    .await
    .unwrap();
    let b_callback: Uuid = sqlx::query_scalar(
        "INSERT INTO public.payment_callbacks_unrouted (provider, raw_payload, attempted_merchant_reference, reason) \
         VALUES ('mpesa', '{}', 'REF-B', 'amount_mismatch') RETURNING id",
    )
    .fetch_one(db.db().pool())
    .await
    .unwrap();

    let b_contact = api
        .ok(
            StatusCode::OK,
            "/contacts",
            Method::GET,
            "/contacts?q=0712000002",
            &tb,
            None,
        )
        .await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let b_rule = id(&api
        .ok(
            StatusCode::CREATED,
            "/commission-rules",
            Method::POST,
            "/commission-rules",
            &tb,
            Some(json!({"staff_id": b_staff, "rule_type": "pct", "value": 30})),
        )
        .await);
    let b_period = api
        .ok(
            StatusCode::OK,
            "/commission-periods",
            Method::POST,
            "/commission-periods",
            &tb,
            Some(json!({"period_start": "2030-01-01", "period_end": "2030-01-31"})),
        )
        .await["rows"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b_import = api
        .ok(
            StatusCode::CREATED,
            "/catalog/imports",
            Method::POST,
            "/catalog/imports",
            &tb,
            Some(json!({"format": "text", "content": "Box braids 5000 4hrs\nManicure 800 45min"})),
        )
        .await["import_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // A has a catalogue of its own (so "not found" is not "nothing at all").
    let (a_service, a_staff) = catalogue(&api, &ta, "Gel nails").await;

    let day = ten_am(1).format("%Y-%m-%d").to_string();
    let probes: Vec<(&str, Method, String, Option<Value>)> = vec![
        (
            "/appointments/{id}",
            Method::GET,
            format!("/appointments/{b_appt}"),
            None,
        ),
        (
            "/appointments/{id}/move",
            Method::POST,
            format!("/appointments/{b_appt}/move"),
            Some(json!({"start_at": ten_am(2)})),
        ),
        (
            "/appointments/{id}/cancel",
            Method::POST,
            format!("/appointments/{b_appt}/cancel"),
            Some(json!({"reason": "x"})),
        ),
        (
            "/appointments/{id}/complete",
            Method::POST,
            format!("/appointments/{b_appt}/complete"),
            Some(json!({"tip_amount": "100.00"})),
        ),
        (
            "/appointments/{id}/no-show",
            Method::POST,
            format!("/appointments/{b_appt}/no-show"),
            Some(json!({})),
        ),
        (
            "/appointments",
            Method::POST,
            "/appointments".into(),
            Some(
                json!({"customer_phone": "0712000001", "service_id": b_service,
                        "staff_id": b_staff, "start_at": ten_am(2)}),
            ),
        ),
        (
            "/appointments",
            Method::POST,
            "/appointments".into(),
            Some(
                json!({"customer_phone": "0712000001", "service_id": a_service,
                        "staff_id": b_staff, "start_at": ten_am(2)}),
            ),
        ),
        (
            "/services/{id}",
            Method::PATCH,
            format!("/services/{b_service}"),
            Some(json!({"price": "1.00"})),
        ),
        (
            "/services/{id}",
            Method::DELETE,
            format!("/services/{b_service}"),
            None,
        ),
        (
            "/staff/{id}",
            Method::PATCH,
            format!("/staff/{b_staff}"),
            Some(json!({"name": "X"})),
        ),
        (
            "/staff/{id}",
            Method::DELETE,
            format!("/staff/{b_staff}"),
            None,
        ),
        (
            "/staff/{id}/services/{service_id}",
            Method::PUT,
            format!("/staff/{b_staff}/services/{b_service}"),
            None,
        ),
        (
            "/staff/{id}/services/{service_id}",
            Method::PUT,
            format!("/staff/{a_staff}/services/{b_service}"),
            None,
        ),
        (
            "/staff/{id}/services/{service_id}",
            Method::DELETE,
            format!("/staff/{b_staff}/services/{b_service}"),
            None,
        ),
        (
            "/staff/{id}/schedule",
            Method::GET,
            format!("/staff/{b_staff}/schedule"),
            None,
        ),
        (
            "/staff/{id}/schedule/{day_of_week}",
            Method::PUT,
            format!("/staff/{b_staff}/schedule/1"),
            Some(json!({"start_time": "08:00:00", "end_time": "09:00:00"})),
        ),
        (
            "/staff/{id}/schedule/{day_of_week}",
            Method::DELETE,
            format!("/staff/{b_staff}/schedule/1"),
            None,
        ),
        (
            "/staff/{id}/blocks",
            Method::GET,
            format!("/staff/{b_staff}/blocks"),
            None,
        ),
        (
            "/staff/{id}/blocks",
            Method::POST,
            format!("/staff/{b_staff}/blocks"),
            Some(json!({"start_at": ten_am(4), "end_at": ten_am(4) + Duration::hours(1)})),
        ),
        (
            "/blocks/{id}",
            Method::DELETE,
            format!("/blocks/{b_block}"),
            None,
        ),
        (
            "/handoffs/{thread_id}/messages",
            Method::GET,
            format!("/handoffs/{b_thread}/messages"),
            None,
        ),
        (
            "/handoffs/{thread_id}/claim",
            Method::POST,
            format!("/handoffs/{b_thread}/claim"),
            None,
        ),
        (
            "/handoffs/{thread_id}/reply",
            Method::POST,
            format!("/handoffs/{b_thread}/reply"),
            Some(json!({"text": "hello"})),
        ),
        (
            "/handoffs/{thread_id}/close",
            Method::POST,
            format!("/handoffs/{b_thread}/close"),
            None,
        ),
        (
            "/review/payment-callbacks/{id}/resolve",
            Method::POST,
            format!("/review/payment-callbacks/{b_callback}/resolve"),
            Some(json!({"resolution_note": "mine"})),
        ),
        (
            "/review/quarantine/{id}/resolve",
            Method::POST,
            format!("/review/quarantine/{b_quarantined}/resolve"),
            Some(json!({"resolution_note": "mine"})),
        ),
        (
            "/admins/{id}/deactivate",
            Method::POST,
            format!("/admins/{b_admin}/deactivate"),
            None,
        ),
        (
            "/admins/{id}/deactivate",
            Method::POST,
            format!("/admins/{b_admin_self}/deactivate"),
            None,
        ),
        (
            "/contacts/{id}",
            Method::GET,
            format!("/contacts/{b_contact}"),
            None,
        ),
        (
            "/contacts/{id}/interactions",
            Method::GET,
            format!("/contacts/{b_contact}/interactions"),
            None,
        ),
        (
            "/commission-rules/{id}",
            Method::GET,
            format!("/commission-rules/{b_rule}"),
            None,
        ),
        (
            "/commission-rules/{id}",
            Method::PUT,
            format!("/commission-rules/{b_rule}"),
            Some(json!({"service_category": "*", "rule_type": "pct", "value": 1})),
        ),
        (
            "/commission-rules/{id}",
            Method::DELETE,
            format!("/commission-rules/{b_rule}"),
            None,
        ),
        (
            "/commission-rules",
            Method::POST,
            "/commission-rules".into(),
            Some(json!({"staff_id": b_staff, "rule_type": "pct", "value": 1})),
        ),
        (
            "/commission-periods",
            Method::POST,
            "/commission-periods".into(),
            Some(
                json!({"period_start": "2030-02-01", "period_end": "2030-02-28", "staff_id": b_staff}),
            ),
        ),
        (
            "/commission-periods/{id}",
            Method::GET,
            format!("/commission-periods/{b_period}"),
            None,
        ),
        (
            "/catalog/imports/{id}",
            Method::GET,
            format!("/catalog/imports/{b_import}"),
            None,
        ),
        (
            "/catalog/imports/{id}/commit",
            Method::POST,
            format!("/catalog/imports/{b_import}/commit"),
            None,
        ),
        (
            "/catalog/imports/{id}/rollback",
            Method::POST,
            format!("/catalog/imports/{b_import}/rollback"),
            None,
        ),
    ];
    for (template, method, path, body) in probes {
        let (status, v) = api.call(template, method.clone(), &path, &ta, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {v}");
    }

    // Lists show none of B's rows.
    let b_ids = [
        &b_service, &b_staff, &b_appt, &b_block, &b_admin, &b_thread, &b_contact, &b_rule,
        &b_period, &b_import,
    ];
    let lists = [
        ("/contacts", "/contacts".to_owned()),
        ("/appointments", format!("/appointments?date={day}&days=7")),
        ("/services", "/services".to_owned()),
        ("/staff", "/staff".to_owned()),
        ("/handoffs", "/handoffs".to_owned()),
        ("/admins", "/admins".to_owned()),
        ("/catalog/audits", "/catalog/audits".to_owned()),
        ("/catalog/imports", "/catalog/imports".to_owned()),
        ("/dials/audits", "/dials/audits".to_owned()),
        ("/commission-rules", "/commission-rules".to_owned()),
        ("/commission-periods", "/commission-periods".to_owned()),
        (
            "/review/payment-callbacks",
            "/review/payment-callbacks?state=all".to_owned(),
        ),
        (
            "/review/quarantine",
            "/review/quarantine?state=all".to_owned(),
        ),
    ];
    for (template, path) in lists {
        let v = api
            .ok(StatusCode::OK, template, Method::GET, &path, &ta, None)
            .await;
        let text = v.to_string();
        for b_id in b_ids {
            assert!(
                !text.contains(b_id.as_str()),
                "{path} shows B's {b_id}: {text}"
            );
        }
        for b_id in [b_callback, b_quarantined] {
            assert!(!text.contains(&b_id.to_string()), "{path} shows B's {b_id}");
        }
    }
    // B's own lists do show them (the probes above were real ids).
    let mine = api
        .ok(
            StatusCode::OK,
            "/review/quarantine",
            Method::GET,
            "/review/quarantine",
            &tb,
            None,
        )
        .await;
    assert_eq!(mine[0]["id"], b_quarantined.to_string());
    let cbs = api
        .ok(
            StatusCode::OK,
            "/review/payment-callbacks",
            Method::GET,
            "/review/payment-callbacks",
            &tb,
            None,
        )
        .await;
    assert_eq!(cbs[0]["id"], b_callback.to_string());

    // Nothing of B's changed.
    let import = api
        .ok(
            StatusCode::OK,
            "/catalog/imports/{id}",
            Method::GET,
            &format!("/catalog/imports/{b_import}"),
            &tb,
            None,
        )
        .await;
    assert_eq!(import["status"], "preview");
    let appt = api
        .ok(
            StatusCode::OK,
            "/appointments/{id}",
            Method::GET,
            &format!("/appointments/{b_appt}"),
            &tb,
            None,
        )
        .await;
    assert_eq!(appt["status"], "confirmed");
    assert_eq!(appt["start_at"], json!(ten_am(1)));
    let blocks = api
        .ok(
            StatusCode::OK,
            "/staff/{id}/blocks",
            Method::GET,
            &format!("/staff/{b_staff}/blocks"),
            &tb,
            None,
        )
        .await;
    assert_eq!(blocks.as_array().unwrap().len(), 1);
    let services = api
        .ok(
            StatusCode::OK,
            "/services",
            Method::GET,
            "/services",
            &tb,
            None,
        )
        .await;
    assert_eq!(services[0]["price"], "1500.00");
    assert_eq!(services[0]["is_active"], true);
    let rule = api
        .ok(
            StatusCode::OK,
            "/commission-rules/{id}",
            Method::GET,
            &format!("/commission-rules/{b_rule}"),
            &tb,
            None,
        )
        .await;
    assert_eq!(rule["value"], 30);
    assert_eq!(rule["valid_to"], Value::Null);

    // Every route that takes an id was probed.
    let doc = serde_json::to_value(ratiba::http::admin::openapi()).unwrap();
    let seen = api.seen.lock().unwrap().clone();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.contains('{') {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            assert!(
                seen.contains(&(method.clone(), path.clone())),
                "{method} {path} has no isolation probe"
            );
        }
    }
}

#[tokio::test]
async fn unknown_paths_and_wrong_methods_answer_the_error_shape() {
    let db = TestDb::new().await;
    let rec = tenant(&db, "alpha", "1001").await;
    let (token, _) = token_for(&db, &rec, "+254722000001").await;
    let api = Api::start(&db, None).await;
    // call_as asserts the {error, message} shape on every 4xx.
    for path in ["/nothing", "/services/x/y/z", ""] {
        for token in [Some(token.as_str()), None] {
            let (status, v) = api
                .call_as("/unknown", Method::GET, path, token, None)
                .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {v}");
            assert_eq!(v["error"], "not_found");
        }
    }
    let url = format!("{}/api/v1/services", api.base);
    let resp = reqwest::Client::new()
        .put(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(resp.headers().get("allow").is_some());
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"], "method_not_allowed");
    let (status, v) = api
        .call(
            "/openapi.json",
            Method::DELETE,
            "/openapi.json",
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{v}");
}

#[tokio::test]
async fn failed_bearer_attempts_are_limited_per_client_address() {
    let db = TestDb::new().await;
    let rec = tenant(&db, "alpha", "1001").await;
    let (token, _) = token_for(&db, &rec, "+254722000001").await;
    let api = Api::start(&db, None).await;
    let url = format!("{}/api/v1/services", api.base);
    let from = |ip: [u8; 4]| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from(ip))
            .build()
            .unwrap()
    };
    let (one, two) = (from([127, 0, 0, 1]), from([127, 0, 0, 2]));
    // Successes are not counted.
    for _ in 0..30 {
        let r = one.get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let limit = ratiba::http::admin::AUTH_FAILURES_PER_WINDOW;
    for i in 0..limit {
        let r = one.get(&url).bearer_auth("rtb_wrong").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // Now the address is refused, even with a good token, in the one shape.
    for t in ["rtb_wrong", token.as_str()] {
        let r = one.get(&url).bearer_auth(t).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait: u64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"], "rate_limited");
        assert!(v["message"].is_string());
    }
    // Another address is not.
    let r = two.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = two.get(&url).bearer_auth("rtb_wrong").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
