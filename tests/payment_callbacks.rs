//! Payment callback hygiene against a real database and real HTTP: every
//! callback that changes nothing is kept with its reason, a late success
//! after a cancellation completes the payment, a Daraja amount that is not
//! the payment's completes nothing, the review table holds one row per
//! provider id, and a PesaPal IPN from outside the allow-list stores
//! nothing.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use ratiba::adapters::payments::simulator::{SimConfig, SimOutcome, Simulator};
use ratiba::adapters::payments::{HttpPolicy, PaymentEnvironment};
use ratiba::config::IpNet;
use ratiba::core::ids::{Money, PhoneNumber, ThreadId};
use ratiba::core::payment::PaymentStatus;
use ratiba::runtime::payments::{
    CredentialDecrypter, PaymentRuntimeConfig, PaymentService, PaymentWaiters, PushRequest,
    PushStart,
};
use ratiba::storage::payments as store;
use ratiba::storage::{Db, TenantHandle, TenantRecord};
use sqlx::Row;
use uuid::Uuid;

struct Rig {
    db: common::TestDb,
    _sim: Simulator,
    tenant: TenantRecord,
    handle: TenantHandle,
    service: Arc<PaymentService>,
    base: String,
}

async fn rig(allowlist: Vec<IpNet>) -> Rig {
    let db = common::TestDb::new().await;
    let handle = db.seed_demo().await;
    let tenant = db
        .db()
        .tenant_by_slug(handle.slug())
        .await
        .unwrap()
        .expect("demo tenant");
    let sim = Simulator::new(SimConfig {
        callback_delay: Duration::from_millis(50),
        late_delay: Duration::from_millis(300),
        hang_for: Duration::from_secs(2),
    });
    let (addr, _) = sim.serve_loopback().await.unwrap();
    let sim_base = format!("http://{addr}");
    let pool = Db::connect_with(db.url(), 4).await.expect("pool");
    let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", http.local_addr().unwrap());
    let mut config =
        PaymentRuntimeConfig::new(PaymentEnvironment::Simulator, &sim_base, &sim_base, &base);
    config.http = HttpPolicy {
        connect_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_millis(1500),
        attempts: 2,
        backoff: Duration::from_millis(20),
    };
    let vault =
        ratiba::storage::Vault::new(&ratiba::config::Secret::new(common::TEST_FERNET_KEY)).unwrap();
    let decrypter: Arc<dyn CredentialDecrypter> = Arc::new(vault);
    let service = Arc::new(PaymentService::new(
        pool,
        config,
        Some(decrypter),
        PaymentWaiters::default(),
    ));
    let app = ratiba::http::payments::router(service.clone(), allowlist, None);
    tokio::spawn(async move {
        axum::serve(
            http,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap()
    });
    Rig {
        db,
        _sim: sim,
        tenant,
        handle,
        service,
        base,
    }
}

/// A pushed payment of KES 500 whose callback never comes (the test posts
/// its own), with its appointment.
async fn pending_payment(r: &Rig) -> (Uuid, String, Uuid) {
    let thread = ThreadId::new();
    let mut tx = r.handle.begin().await.unwrap();
    let appt: Uuid = sqlx::query_scalar(
        "INSERT INTO appointments (start_at, end_at, status, payment_status, amount, booking_channel) \
         VALUES (NOW() + interval '1 day', NOW() + interval '1 day 1 hour', 'pending', 'unpaid', 500, 'voice') \
         RETURNING id",
    )
    .fetch_one(tx.conn())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO conversation_threads (customer_phone, thread_id, channel_started, actor_type) \
         VALUES ('0712345600', $1, 'whatsapp', 'customer')",
    )
    .bind(thread.as_str())
    .execute(tx.conn())
    .await
    .unwrap();
    tx.commit().await.unwrap();
    r._sim.force_next(SimOutcome::NoCallback);
    let started = r
        .service
        .start_stk_push(
            &r.tenant,
            &PushRequest {
                thread_id: thread,
                appointment_id: Some(appt),
                contact_id: None,
                phone: PhoneNumber::parse("0712345600").unwrap(),
                amount: Money::kes(50_000),
                account_reference: "NYWELE".into(),
                description: "Booking".into(),
            },
            Utc::now(),
        )
        .await
        .unwrap();
    assert!(matches!(started.start, PushStart::Accepted));
    let row = store::find_payment(&r.handle, started.payment_id)
        .await
        .unwrap()
        .unwrap();
    (started.payment_id, row.checkout_id.unwrap(), appt)
}

fn stk(checkout: &str, code: i64, amount: &str, receipt: Option<&str>) -> serde_json::Value {
    let mut items =
        vec![serde_json::json!({"Name": "Amount", "Value": amount.parse::<f64>().unwrap()})];
    if let Some(r) = receipt {
        items.push(serde_json::json!({"Name": "MpesaReceiptNumber", "Value": r}));
    }
    items.push(serde_json::json!({"Name": "PhoneNumber", "Value": 254712345600_i64}));
    let mut cb = serde_json::json!({"MerchantRequestID": "m", "CheckoutRequestID": checkout,
        "ResultCode": code, "ResultDesc": "desc"});
    if code == 0 {
        cb["CallbackMetadata"] = serde_json::json!({"Item": items});
    }
    serde_json::json!({"Body": {"stkCallback": cb}})
}

async fn post_callback(r: &Rig, payment: Uuid, body: &serde_json::Value) {
    let url = format!(
        "{}/payments/daraja/callback/{}",
        r.base,
        store::merchant_reference(payment)
    );
    let ack: serde_json::Value = reqwest::Client::new()
        .post(url)
        .json(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ack["ResultCode"], 0);
}

async fn status_of(r: &Rig, payment: Uuid) -> store::PaymentRow {
    store::find_payment(&r.handle, payment)
        .await
        .unwrap()
        .unwrap()
}

/// (reason, reviewed, times received) of the review rows of a payment.
async fn traces(r: &Rig, payment: Uuid) -> Vec<(String, bool, i32)> {
    sqlx::query(
        "SELECT reason, reviewed_at IS NOT NULL AS reviewed, times_received \
         FROM public.payment_callbacks_unrouted WHERE payment_id = $1 ORDER BY received_at",
    )
    .bind(payment)
    .fetch_all(r.db.db().pool())
    .await
    .unwrap()
    .iter()
    .map(|row| {
        (
            row.get("reason"),
            row.get("reviewed"),
            row.get("times_received"),
        )
    })
    .collect()
}

fn has(traces: &[(String, bool, i32)], reason: &str, reviewed: bool) -> bool {
    traces
        .iter()
        .any(|(r, rev, _)| r == reason && *rev == reviewed)
}

#[tokio::test]
async fn callbacks_that_change_nothing_are_kept_with_their_reason() {
    let r = rig(Vec::new()).await;
    let (p1, checkout, appt) = pending_payment(&r).await;

    // Another CheckoutRequestID on this payment's URL.
    post_callback(&r, p1, &stk("ws_CO_other", 0, "500", Some("RCPTWRONG1"))).await;
    // Amount=1 on a KES 500 payment: not completed.
    post_callback(&r, p1, &stk(&checkout, 0, "1", Some("RCPTONE001"))).await;
    assert_eq!(status_of(&r, p1).await.status, PaymentStatus::Pending);
    let t = traces(&r, p1).await;
    assert!(has(&t, "checkout_mismatch", false), "{t:?}");
    assert!(has(&t, "amount_mismatch", false), "{t:?}");

    // The genuine success completes it; its redelivery and a late 1032
    // are kept as traces that need nobody.
    let good = stk(&checkout, 0, "500", Some("RCPTGOOD01"));
    post_callback(&r, p1, &good).await;
    let row = status_of(&r, p1).await;
    assert_eq!(row.status, PaymentStatus::Completed);
    assert_eq!(row.mpesa_receipt.as_deref(), Some("RCPTGOOD01"));
    post_callback(&r, p1, &good).await;
    post_callback(&r, p1, &good).await;
    post_callback(&r, p1, &stk(&checkout, 1032, "0", None)).await;
    let t = traces(&r, p1).await;
    assert!(
        t.iter()
            .any(|(reason, reviewed, n)| reason == "duplicate" && *reviewed && *n == 2),
        "two redeliveries, one row: {t:?}"
    );
    assert!(has(&t, "late_after_completed", true), "{t:?}");
    let mut tx = r.handle.begin().await.unwrap();
    let paid: String = sqlx::query_scalar("SELECT payment_status FROM appointments WHERE id = $1")
        .bind(appt)
        .fetch_one(tx.conn())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(paid, "paid");

    // The same receipt on another payment: refused and kept for review.
    let (p2, checkout2, _) = pending_payment(&r).await;
    post_callback(&r, p2, &stk(&checkout2, 0, "500", Some("RCPTGOOD01"))).await;
    assert_eq!(status_of(&r, p2).await.status, PaymentStatus::Pending);
    let t = traces(&r, p2).await;
    assert!(has(&t, "receipt_used_on_another_payment", false), "{t:?}");
}

/// A customer cancels the prompt (1032), then pays after all: the success
/// with its receipt completes the payment and the appointment is paid.
#[tokio::test]
async fn a_success_after_a_1032_cancellation_completes_the_payment() {
    let r = rig(Vec::new()).await;
    let (p, checkout, appt) = pending_payment(&r).await;
    post_callback(&r, p, &stk(&checkout, 1032, "0", None)).await;
    assert_eq!(
        status_of(&r, p).await.status,
        PaymentStatus::CancelledByCustomer
    );
    post_callback(&r, p, &stk(&checkout, 0, "500", Some("RCPTLATE01"))).await;
    let row = status_of(&r, p).await;
    assert_eq!(row.status, PaymentStatus::Completed);
    assert_eq!(row.mpesa_receipt.as_deref(), Some("RCPTLATE01"));
    let mut tx = r.handle.begin().await.unwrap();
    let paid: String = sqlx::query_scalar("SELECT payment_status FROM appointments WHERE id = $1")
        .bind(appt)
        .fetch_one(tx.conn())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(paid, "paid");
    let t = traces(&r, p).await;
    assert!(
        has(
            &t,
            "late_success_after_cancelled_by_customer_completed",
            false
        ),
        "kept for a look too: {t:?}"
    );
}

#[tokio::test]
async fn identical_unknown_callbacks_make_one_row() {
    let r = rig(Vec::new()).await;
    let body = stk("ws_CO_nobody", 0, "500", Some("RCPTNOBODY"));
    let url = format!("{}/payments/daraja/callback/nosuchtoken", r.base);
    let http = reqwest::Client::new();
    for _ in 0..20 {
        http.post(&url).json(&body).send().await.unwrap();
    }
    for _ in 0..20 {
        http.post(&url).body("not json {").send().await.unwrap();
    }
    let rows: Vec<(String, String, i32)> = sqlx::query_as(
        "SELECT provider_ref, reason, times_received FROM public.payment_callbacks_unrouted ORDER BY provider_ref",
    )
    .fetch_all(r.db.db().pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].0, "sha256:".to_owned() + &rows[0].0[7..]);
    assert_eq!(rows[0].2, 20);
    assert_eq!(
        (rows[1].0.as_str(), rows[1].1.as_str(), rows[1].2),
        ("ws_CO_nobody:0", "unknown_reference", 20)
    );
}

#[tokio::test]
async fn pesapal_ipns_from_outside_the_allow_list_store_nothing() {
    let r = rig(vec![IpNet::parse("10.9.9.9").unwrap()]).await;
    let http = reqwest::Client::new();
    let big = "x".repeat(1024 * 1024);
    for body in [big.as_str(), "{\"OrderTrackingId\":\"t\"}", "garbage"] {
        let resp = http
            .post(format!("{}/payments/pesapal/ipn/sometoken", r.base))
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM public.payment_callbacks_unrouted")
        .fetch_one(r.db.db().pool())
        .await
        .unwrap();
    assert_eq!(n, 0, "nothing stored for a sender outside the allow-list");

    // From inside the list (a trusted local proxy naming the sender), an
    // unreadable IPN is kept, once.
    for _ in 0..3 {
        http.post(format!("{}/payments/pesapal/ipn/sometoken", r.base))
            .header("x-forwarded-for", "10.9.9.9")
            .body("garbage")
            .send()
            .await
            .unwrap();
    }
    let rows: Vec<(String, i32)> =
        sqlx::query_as("SELECT reason, times_received FROM public.payment_callbacks_unrouted")
            .fetch_all(r.db.db().pool())
            .await
            .unwrap();
    assert_eq!(rows, vec![("malformed".to_owned(), 3)]);
}
