//! Payments end to end against the simulator and a real database: each
//! outcome on a held call and in a chat, duplicate / out-of-order / late
//! callbacks, a second engine instance receiving the callback, and a restart
//! while a payment is open.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use ratiba::adapters::payments::simulator::{SimConfig, SimOutcome, Simulator};
use ratiba::adapters::payments::{HttpPolicy, PaymentEnvironment};
use ratiba::core::ids::{Money, PhoneNumber, ThreadId};
use ratiba::core::payment::chat::ChatMessage;
use ratiba::core::payment::hold::{HoldInput, HoldResult, Lang};
use ratiba::core::payment::{PaymentStatus, Provider};
use ratiba::runtime::payments::{
    CallEffect, CallbackHandled, ChatPaymentEvent, CredentialDecrypter, HoldSession,
    PaymentListener, PaymentRuntimeConfig, PaymentService, PaymentWaiters, PushRequest, PushStart,
    start_chat_payment, sweep_chat_deadlines,
};
use ratiba::storage::payments::{self as store, Applied};
use ratiba::storage::{Db, TenantHandle, TenantRecord};
use sqlx::Row;
use uuid::Uuid;

/// One engine instance: its own pool, listener, waiters and HTTP server for
/// callbacks.
struct Node {
    service: Arc<PaymentService>,
    base: String,
    _listener: tokio::task::JoinHandle<()>,
    _http: tokio::task::JoinHandle<()>,
}

async fn node(url: &str, sim_base: &str, vault: ratiba::storage::Vault, confirm: bool) -> Node {
    let db = Db::connect_with(url, 4).await.expect("pool");
    let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", http.local_addr().unwrap());
    let mut config =
        PaymentRuntimeConfig::new(PaymentEnvironment::Simulator, sim_base, sim_base, &base);
    config.confirm_success_with_query = confirm;
    config.http = HttpPolicy {
        connect_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_millis(1500),
        attempts: 2,
        backoff: Duration::from_millis(20),
    };
    let waiters = PaymentWaiters::default();
    let decrypter: Arc<dyn CredentialDecrypter> = Arc::new(vault);
    let service = Arc::new(PaymentService::new(
        db.clone(),
        config,
        Some(decrypter),
        waiters.clone(),
    ));
    let listener = PaymentListener::start(db, waiters).await.expect("listen");
    let app = ratiba::http::payments::router(service.clone(), Vec::new(), None);
    let server = tokio::spawn(async move {
        axum::serve(
            http,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap()
    });
    Node {
        service,
        base,
        _listener: listener,
        _http: server,
    }
}

struct Rig {
    db: common::TestDb,
    sim: Simulator,
    sim_base: String,
    tenant: TenantRecord,
    handle: TenantHandle,
    a: Node,
}

async fn rig(confirm: bool) -> Rig {
    let db = common::TestDb::new().await;
    let handle = db.seed_demo().await;
    let tenant = db
        .db()
        .tenant_by_slug(handle.slug())
        .await
        .unwrap()
        .expect("demo tenant");
    let sim = Simulator::new(SimConfig {
        callback_delay: Duration::from_millis(80),
        late_delay: Duration::from_millis(600),
        hang_for: Duration::from_secs(3),
    });
    let (addr, _) = sim.serve_loopback().await.unwrap();
    let sim_base = format!("http://{addr}");
    let a = node(db.url(), &sim_base, vault(&db), confirm).await;
    Rig {
        db,
        sim,
        sim_base,
        tenant,
        handle,
        a,
    }
}

fn vault(db: &common::TestDb) -> ratiba::storage::Vault {
    ratiba::storage::Vault::new(&ratiba::config::Secret::new(common::TEST_FERNET_KEY))
        .unwrap_or_else(|_| {
            let _ = db;
            unreachable!("test key is valid")
        })
}

/// An appointment awaiting payment, and its thread.
async fn appointment(h: &TenantHandle, phone: &str) -> (Uuid, ThreadId) {
    let thread = ThreadId::new();
    let mut tx = h.begin().await.unwrap();
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO appointments (start_at, end_at, status, payment_status, amount, booking_channel) \
         VALUES (NOW() + interval '1 day', NOW() + interval '1 day 1 hour', 'pending', 'unpaid', 500, 'voice') \
         RETURNING id",
    )
    .fetch_one(tx.conn())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO conversation_threads (customer_phone, thread_id, channel_started, actor_type) \
         VALUES ($1, $2, 'whatsapp', 'customer')",
    )
    .bind(phone)
    .bind(thread.as_str())
    .execute(tx.conn())
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (id, thread)
}

fn request(phone: &str, appointment: Uuid, thread: &ThreadId) -> PushRequest {
    PushRequest {
        thread_id: thread.clone(),
        appointment_id: Some(appointment),
        contact_id: None,
        phone: PhoneNumber::parse(phone).unwrap(),
        amount: Money::kes(50_000),
        account_reference: "NYWELE".into(),
        description: "Booking".into(),
    }
}

async fn appointment_state(h: &TenantHandle, id: Uuid) -> (String, String) {
    let mut tx = h.begin().await.unwrap();
    let row = sqlx::query("SELECT status, payment_status FROM appointments WHERE id = $1")
        .bind(id)
        .fetch_one(tx.conn())
        .await
        .unwrap();
    (row.get("status"), row.get("payment_status"))
}

async fn completed_count(h: &TenantHandle) -> i64 {
    let mut tx = h.begin().await.unwrap();
    sqlx::query_scalar("SELECT count(*) FROM payments WHERE status = 'completed'")
        .fetch_one(tx.conn())
        .await
        .unwrap()
}

/// Runs a held call to its end: consent, push, hold, outcome (and, for a
/// failure, the caller declines the retry).
async fn held_call(r: &Rig, phone: &str) -> (Vec<CallEffect>, Uuid, Uuid) {
    let (appt, thread) = appointment(&r.handle, phone).await;
    let mut session = HoldSession::new(
        r.a.service.clone(),
        r.tenant.clone(),
        request(phone, appt, &thread),
        Lang::Sw,
    );
    let t0 = Instant::now();
    let mut all = Vec::new();
    let (e, _) = session.handle(HoldInput::Start, t0).await;
    all.extend(e);
    let (e, _) = session
        .handle(HoldInput::CallerSaid("ndiyo".into()), t0)
        .await;
    assert!(e.contains(&CallEffect::EnterHold), "{e:?}");
    all.extend(e);
    let outcome = tokio::time::timeout(Duration::from_secs(5), session.next_outcome())
        .await
        .expect("outcome within 5 s")
        .expect("an outcome");
    let (e, _) = session.handle(outcome, t0 + Duration::from_secs(5)).await;
    all.extend(e);
    if !session.is_done() {
        let (e, _) = session
            .handle(
                HoldInput::CallerSaid("hapana".into()),
                t0 + Duration::from_secs(6),
            )
            .await;
        all.extend(e);
    }
    assert!(session.is_done());
    (all, session.payment_id().unwrap(), appt)
}

fn finished(effects: &[CallEffect]) -> Option<&HoldResult> {
    effects.iter().find_map(|e| match e {
        CallEffect::Finished(r) => Some(r),
        _ => None,
    })
}

#[tokio::test]
async fn each_outcome_on_a_held_call() {
    let r = rig(false).await;
    // Success: receipt read back, payment completed, appointment paid.
    let (effects, payment_id, appt) = held_call(&r, "0712345600").await;
    let Some(HoldResult::Paid {
        receipt: Some(receipt),
    }) = finished(&effects)
    else {
        panic!("not paid: {effects:?}");
    };
    let spoken: String = receipt.chars().map(|c| format!("{c} ")).collect();
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, CallEffect::Say(s) if s.contains(spoken.trim()))),
        "receipt not read back: {effects:?}"
    );
    let row = store::find_payment(&r.handle, payment_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, PaymentStatus::Completed);
    assert_eq!(row.mpesa_receipt.as_deref(), Some(receipt.as_str()));
    assert!(row.completed_at.is_some());
    assert_eq!(appointment_state(&r.handle, appt).await.1, "paid");

    // Failures: explained (Swahili), one retry offered, declined -> link.
    for (phone, status, words) in [
        ("0712345691", PaymentStatus::Failed, "Salio"),
        (
            "0712345692",
            PaymentStatus::CancelledByCustomer,
            "lilighairiwa",
        ),
        ("0712345693", PaymentStatus::Timeout, "haikujibu"),
        ("0712345694", PaymentStatus::Failed, "PIN"),
    ] {
        let (effects, payment_id, appt) = held_call(&r, phone).await;
        assert_eq!(finished(&effects), Some(&HoldResult::PayLater), "{phone}");
        assert!(effects.contains(&CallEffect::SendPaymentLink));
        assert!(
            effects
                .iter()
                .any(|e| matches!(e, CallEffect::Say(s) if s.contains(words))),
            "{phone}: {effects:?}"
        );
        let row = store::find_payment(&r.handle, payment_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.status, status, "{phone}");
        assert_eq!(row.mpesa_receipt, None);
        let expected = if status == PaymentStatus::Timeout {
            "pending"
        } else {
            "unpaid"
        };
        assert_eq!(
            appointment_state(&r.handle, appt).await.1,
            expected,
            "{phone}"
        );
    }
    assert_eq!(completed_count(&r.handle).await, 1);
}

#[tokio::test]
async fn a_bad_number_is_refused_before_any_row_or_request() {
    let r = rig(false).await;
    let (appt, thread) = appointment(&r.handle, "+255712345678").await;
    let err =
        r.a.service
            .start_stk_push(
                &r.tenant,
                &request("+255712345678", appt, &thread),
                Utc::now(),
            )
            .await
            .unwrap_err();
    assert!(err.to_string().contains("Kenyan"), "{err}");
    let mut tx = r.handle.begin().await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM payments")
        .fetch_one(tx.conn())
        .await
        .unwrap();
    assert_eq!(n, 0);
    assert_eq!(r.sim.stats().pushes, 0);
}

async fn push_and_wait(r: &Rig, phone: &str) -> (Uuid, ThreadId, Uuid) {
    let (appt, thread) = appointment(&r.handle, phone).await;
    let started =
        r.a.service
            .start_stk_push(&r.tenant, &request(phone, appt, &thread), Utc::now())
            .await
            .unwrap();
    assert!(
        matches!(started.start, PushStart::Accepted),
        "{:?}",
        started.start
    );
    (started.payment_id, thread, appt)
}

async fn wait_final(r: &Rig, payment_id: Uuid, thread: &ThreadId) -> PaymentStatus {
    let rx =
        r.a.service
            .waiters()
            .wait_for(r.db.db(), r.handle.slug(), payment_id, thread)
            .await
            .unwrap();
    let notice = tokio::time::timeout(Duration::from_secs(5), rx)
        .await
        .unwrap()
        .unwrap();
    notice.status().unwrap()
}

async fn post(url: &str, body: &serde_json::Value) -> serde_json::Value {
    reqwest::Client::new()
        .post(url)
        .json(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn duplicate_replayed_and_out_of_order_callbacks_complete_once() {
    let r = rig(false).await;
    r.sim.force_next(SimOutcome::Duplicate);
    let (payment_id, thread, _) = push_and_wait(&r, "0712345600").await;
    assert_eq!(
        wait_final(&r, payment_id, &thread).await,
        PaymentStatus::Completed
    );
    // Both deliveries of the duplicate arrive; still one completed payment.
    for _ in 0..50 {
        if r.sim.stats().callbacks_sent >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(r.sim.stats().callbacks_sent, 2);
    let row = store::find_payment(&r.handle, payment_id)
        .await
        .unwrap()
        .unwrap();
    let receipt = row.mpesa_receipt.clone().unwrap();
    let checkout = row.checkout_id.clone().unwrap();
    let url = format!(
        "{}/payments/daraja/callback/{}",
        r.a.base,
        store::merchant_reference(payment_id)
    );

    // Replayed success, a late failure for the same checkout, and a success
    // claiming a different receipt: none moves a completed payment.
    let success = row.callback_payload.clone().unwrap();
    let failure = serde_json::json!({"Body": {"stkCallback": {"MerchantRequestID": "m",
        "CheckoutRequestID": checkout, "ResultCode": 1032, "ResultDesc": "Request cancelled by user"}}});
    let mut other = success.clone();
    other["Body"]["stkCallback"]["CallbackMetadata"]["Item"][1]["Value"] =
        serde_json::json!("OTHER00001");
    for body in [&success, &failure, &other, &success, &failure] {
        let ack = post(&url, body).await;
        assert_eq!(ack["ResultCode"], 0);
    }
    let after = store::find_payment(&r.handle, payment_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.status, PaymentStatus::Completed);
    assert_eq!(after.mpesa_receipt.as_deref(), Some(receipt.as_str()));
    assert_eq!(after.completed_at, row.completed_at);
    assert_eq!(completed_count(&r.handle).await, 1);

    // The same receipt sent for a second payment is refused (unique
    // receipt), so it cannot produce a second completed payment.
    r.sim.force_next(SimOutcome::NoCallback);
    let (second, _, _) = push_and_wait(&r, "0712345600").await;
    let second_row = store::find_payment(&r.handle, second)
        .await
        .unwrap()
        .unwrap();
    let mut stolen = success.clone();
    stolen["Body"]["stkCallback"]["CheckoutRequestID"] =
        serde_json::json!(second_row.checkout_id.unwrap());
    let handled =
        r.a.service
            .handle_daraja_callback(
                &store::merchant_reference(second),
                &serde_json::to_vec(&stolen).unwrap(),
                Utc::now(),
            )
            .await
            .unwrap();
    assert_eq!(handled, CallbackHandled::Applied(Applied::ReceiptConflict));
    assert_eq!(completed_count(&r.handle).await, 1);

    // Out of order: a failure (1032) arrives first, then a success with a
    // receipt for the same push: money moved, so the payment completes.
    r.sim.force_next(SimOutcome::NoCallback);
    let (third, _, _) = push_and_wait(&r, "0712345600").await;
    let third_row = store::find_payment(&r.handle, third)
        .await
        .unwrap()
        .unwrap();
    let checkout3 = third_row.checkout_id.unwrap();
    let url3 = format!(
        "{}/payments/daraja/callback/{}",
        r.a.base,
        store::merchant_reference(third)
    );
    let mut fail3 = failure.clone();
    fail3["Body"]["stkCallback"]["CheckoutRequestID"] = serde_json::json!(checkout3);
    let mut ok3 = success.clone();
    ok3["Body"]["stkCallback"]["CheckoutRequestID"] = serde_json::json!(checkout3);
    ok3["Body"]["stkCallback"]["CallbackMetadata"]["Item"][1]["Value"] =
        serde_json::json!("THIRD00001");
    post(&url3, &fail3).await;
    post(&url3, &ok3).await;
    let row3 = store::find_payment(&r.handle, third)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row3.status, PaymentStatus::Completed);
    assert_eq!(row3.mpesa_receipt.as_deref(), Some("THIRD00001"));
    assert_eq!(completed_count(&r.handle).await, 2);
    // And the second failure after that changes nothing again.
    post(&url3, &fail3).await;
    assert_eq!(completed_count(&r.handle).await, 2);
}

#[tokio::test]
async fn late_and_unknown_callbacks_go_to_the_dead_letter_table() {
    let r = rig(false).await;
    r.sim.force_next(SimOutcome::Late);
    let (payment_id, _, _) = push_and_wait(&r, "0712345600").await;
    let reference = store::merchant_reference(payment_id);
    // The routing row outlives its TTL before the late callback arrives.
    sqlx::query("UPDATE public.payment_routing SET expires_at = NOW() - interval '1 second' WHERE merchant_reference = $1")
        .bind(&reference)
        .execute(r.db.db().pool())
        .await
        .unwrap();
    let mut dead = 0i64;
    for _ in 0..100 {
        dead = sqlx::query_scalar(
            "SELECT count(*) FROM public.payment_callbacks_unrouted WHERE attempted_merchant_reference = $1",
        )
        .bind(&reference)
        .fetch_one(r.db.db().pool())
        .await
        .unwrap();
        if dead > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert_eq!(dead, 1);
    let raw: serde_json::Value = sqlx::query_scalar(
        "SELECT raw_payload FROM public.payment_callbacks_unrouted WHERE attempted_merchant_reference = $1",
    )
    .bind(&reference)
    .fetch_one(r.db.db().pool())
    .await
    .unwrap();
    assert_eq!(raw["Body"]["stkCallback"]["ResultCode"], 0);
    let row = store::find_payment(&r.handle, payment_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.status,
        PaymentStatus::Pending,
        "a dead-lettered callback must not be applied"
    );

    // A token nobody issued, and garbage, are kept too and answered 200.
    let ack = post(
        &format!("{}/payments/daraja/callback/nosuchtoken", r.a.base),
        &serde_json::json!({"x": 1}),
    )
    .await;
    assert_eq!(ack["ResultCode"], 0);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM public.payment_callbacks_unrouted")
        .fetch_one(r.db.db().pool())
        .await
        .unwrap();
    assert_eq!(n, 2);
}

#[tokio::test]
async fn a_callback_received_by_a_second_instance_wakes_the_first() {
    let r = rig(false).await;
    let b = node(r.db.url(), &r.sim_base, vault(&r.db), false).await;
    // Node A starts the push, but its callback URL points at node B (as a
    // load balancer would send it anywhere).
    let (appt, thread) = appointment(&r.handle, "0712345600").await;
    let mut config = r.a.service.config().clone();
    config.public_base_url = b.base.clone();
    let a_waiters = PaymentWaiters::default();
    let a_db = Db::connect_with(r.db.url(), 4).await.unwrap();
    let _a_listener = PaymentListener::start(a_db.clone(), a_waiters.clone())
        .await
        .unwrap();
    let decrypter: Arc<dyn CredentialDecrypter> = Arc::new(vault(&r.db));
    let a = PaymentService::new(a_db.clone(), config, Some(decrypter), a_waiters.clone());
    r.sim.force_next(SimOutcome::Success);
    let started = a
        .start_stk_push(&r.tenant, &request("0712345600", appt, &thread), Utc::now())
        .await
        .unwrap();
    let rx = a_waiters
        .wait_for(&a_db, r.handle.slug(), started.payment_id, &thread)
        .await
        .unwrap();
    assert_eq!(a_waiters.waiting(), 1);
    let notice = tokio::time::timeout(Duration::from_secs(5), rx)
        .await
        .expect("woken")
        .unwrap();
    assert_eq!(notice.status(), Some(PaymentStatus::Completed));
    assert_eq!(notice.thread_id, thread);
    assert!(notice.receipt.is_some());
    assert_eq!(a_waiters.waiting(), 0);
    // B recorded it (B's waiters never held it).
    assert_eq!(b.service.waiters().waiting(), 0);
    assert_eq!(appointment_state(&r.handle, appt).await.1, "paid");
}

#[tokio::test]
async fn a_restart_during_a_hold_resumes_from_the_database() {
    let r = rig(false).await;
    // The push is accepted, then the node "dies" before any callback.
    r.sim.force_next(SimOutcome::NoCallback);
    let (payment_id, thread, appt) = push_and_wait(&r, "0712345600").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A fresh instance finds the open payment and asks the provider.
    let fresh = node(r.db.url(), &r.sim_base, vault(&r.db), false).await;
    let open = store::open_payments(r.db.db(), Utc::now()).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].payment.id, payment_id);
    let resolved = fresh
        .service
        .reconcile_open(chrono::Duration::zero(), Utc::now())
        .await
        .unwrap();
    assert_eq!(resolved, 1);
    let row = store::find_payment(&r.handle, payment_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, PaymentStatus::Completed);
    assert_eq!(appointment_state(&r.handle, appt).await.1, "paid");
    // A waiter registered after the fact is answered from the database.
    assert_eq!(
        wait_final(&r, payment_id, &thread).await,
        PaymentStatus::Completed
    );
    assert!(
        store::open_payments(r.db.db(), Utc::now())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn production_confirms_success_with_a_query_so_forged_callbacks_do_nothing() {
    let r = rig(true).await;
    r.sim.force_next(SimOutcome::Success);
    let (payment_id, thread, _) = push_and_wait(&r, "0712345600").await;
    assert_eq!(
        wait_final(&r, payment_id, &thread).await,
        PaymentStatus::Completed
    );
    let queries = r.sim.stats().queries;
    assert!(queries >= 1, "success was not confirmed by a query");

    // A forged success for a push the customer has not answered yet.
    r.sim.force_next(SimOutcome::Late);
    let (forged_for, _, _) = push_and_wait(&r, "0712345600").await;
    let row = store::find_payment(&r.handle, forged_for)
        .await
        .unwrap()
        .unwrap();
    let forged = serde_json::json!({"Body": {"stkCallback": {"MerchantRequestID": "x",
        "CheckoutRequestID": row.checkout_id.unwrap(), "ResultCode": 0, "ResultDesc": "ok",
        "CallbackMetadata": {"Item": [{"Name": "MpesaReceiptNumber", "Value": "FORGED0001"}]}}}});
    let handled =
        r.a.service
            .handle_daraja_callback(
                &store::merchant_reference(forged_for),
                &serde_json::to_vec(&forged).unwrap(),
                Utc::now(),
            )
            .await
            .unwrap();
    assert_eq!(handled, CallbackHandled::Unconfirmed);
    let row = store::find_payment(&r.handle, forged_for)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, PaymentStatus::Pending);
}

#[tokio::test]
async fn chat_payments_by_push_and_by_link() {
    let r = rig(false).await;
    let mut all = r.a.service.waiters().subscribe_all();

    // M-Pesa push in a chat.
    let (appt, thread) = appointment(&r.handle, "0712345600").await;
    let (payment, messages) = start_chat_payment(
        &r.a.service,
        &r.tenant,
        &request("0712345600", appt, &thread),
        Provider::Mpesa,
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(messages, vec![ChatMessage::CheckYourPhone]);
    let notice = tokio::time::timeout(Duration::from_secs(5), all.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(Some(notice.payment_id), payment);
    assert_eq!(notice.status(), Some(PaymentStatus::Completed));

    // A wrong PIN in a chat: the notice carries the reason.
    r.sim.force_next(SimOutcome::WrongPin);
    let (appt, thread) = appointment(&r.handle, "0712345600").await;
    let (payment, _) = start_chat_payment(
        &r.a.service,
        &r.tenant,
        &request("0712345600", appt, &thread),
        Provider::Mpesa,
        Utc::now(),
    )
    .await
    .unwrap();
    let notice = tokio::time::timeout(Duration::from_secs(5), all.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(Some(notice.payment_id), payment);
    assert_eq!(notice.thread_id, thread);
    assert_eq!(
        notice.outcome(),
        ratiba::core::payment::PaymentOutcome::Failed(
            ratiba::core::payment::FailureReason::WrongPin
        )
    );
    assert_eq!(appointment_state(&r.handle, appt).await.1, "unpaid");

    // PesaPal link: order, IPN, GetTransactionStatus, completed.
    let (appt, thread) = appointment(&r.handle, "0712345600").await;
    let (payment, messages) = start_chat_payment(
        &r.a.service,
        &r.tenant,
        &request("0712345600", appt, &thread),
        Provider::Pesapal,
        Utc::now(),
    )
    .await
    .unwrap();
    let [ChatMessage::PayWithLink { url }] = &messages[..] else {
        panic!("{messages:?}");
    };
    assert!(url.starts_with(&r.sim_base));
    let payment = payment.unwrap();
    let notice = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let n = all.recv().await.unwrap();
            if n.payment_id == payment {
                return n;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(notice.status(), Some(PaymentStatus::Completed));
    let row = store::find_payment(&r.handle, payment)
        .await
        .unwrap()
        .unwrap();
    assert!(row.mpesa_receipt.unwrap().starts_with("PP"));
    assert_eq!(
        appointment_state(&r.handle, appt).await,
        ("pending".into(), "paid".into())
    );
    // The simulator counts an IPN once our answer to it is back, which can
    // be after the payment's notice: give it a moment.
    let mut ipns = 0;
    for _ in 0..50 {
        ipns = r.sim.stats().ipns_sent;
        if ipns >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ipns >= 1, "the order was paid through an IPN");
}

#[tokio::test]
async fn chat_nudge_then_abandon_from_stored_deadlines() {
    let r = rig(false).await;
    // The customer never pays the link.
    r.sim.force_next(SimOutcome::Timeout);
    let (appt, thread) = appointment(&r.handle, "0712345600").await;
    let t0 = Utc::now();
    let (payment, _) = start_chat_payment(
        &r.a.service,
        &r.tenant,
        &request("0712345600", appt, &thread),
        Provider::Pesapal,
        t0,
    )
    .await
    .unwrap();
    let payment = payment.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<ChatPaymentEvent>(16);
    let nudge = chrono::Duration::seconds(i64::from(r.tenant.pesapal_nudge_seconds));
    let abandon = chrono::Duration::seconds(i64::from(r.tenant.pesapal_abandon_seconds));

    // Before the nudge: nothing. At the nudge: one nudge, from either node.
    assert_eq!(
        sweep_chat_deadlines(&r.a.service, &tx, t0 + nudge - chrono::Duration::seconds(5))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        sweep_chat_deadlines(&r.a.service, &tx, t0 + nudge + chrono::Duration::seconds(1))
            .await
            .unwrap(),
        1
    );
    let b = node(r.db.url(), &r.sim_base, vault(&r.db), false).await;
    assert_eq!(
        sweep_chat_deadlines(&b.service, &tx, t0 + nudge + chrono::Duration::seconds(2))
            .await
            .unwrap(),
        0
    );
    let ev = rx.recv().await.unwrap();
    assert_eq!(ev.payment_id, payment);
    assert!(matches!(ev.message, ChatMessage::Nudge { .. }));

    // At the abandon deadline (a "restarted" node b honours it): the booking
    // is cancelled by the system and the thread closed as abandoned, once.
    assert_eq!(
        sweep_chat_deadlines(&b.service, &tx, t0 + abandon + chrono::Duration::seconds(1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        sweep_chat_deadlines(
            &r.a.service,
            &tx,
            t0 + abandon + chrono::Duration::seconds(2)
        )
        .await
        .unwrap(),
        0
    );
    let ev = rx.recv().await.unwrap();
    assert_eq!(ev.message, ChatMessage::Abandoned);
    let mut t = r.handle.begin().await.unwrap();
    let row =
        sqlx::query("SELECT status, cancelled_by, cancel_reason FROM appointments WHERE id = $1")
            .bind(appt)
            .fetch_one(t.conn())
            .await
            .unwrap();
    assert_eq!(row.get::<String, _>("status"), "cancelled");
    assert_eq!(row.get::<String, _>("cancelled_by"), "system");
    assert!(row.get::<Option<String>, _>("cancel_reason").is_some());
    let reason: Option<String> =
        sqlx::query_scalar("SELECT closed_reason FROM conversation_threads WHERE thread_id = $1")
            .bind(thread.as_str())
            .fetch_one(t.conn())
            .await
            .unwrap();
    assert_eq!(reason.as_deref(), Some("abandon"));
}

#[tokio::test]
async fn simulator_mode_node_mounts_the_simulator_and_pays_a_held_call() {
    let db = common::TestDb::new().await;
    let handle = db.seed_demo().await;
    let tenant = db
        .db()
        .tenant_by_slug(handle.slug())
        .await
        .unwrap()
        .unwrap();
    let mut src = ratiba::config::Source::default();
    src.set("DATABASE_URL", db.url())
        .set("RATIBA_FERNET_KEY", common::TEST_FERNET_KEY)
        .set("PAYMENT_ENVIRONMENT", "simulator");
    let settings = ratiba::config::Settings::from_source(&src).unwrap();
    let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = http.local_addr().unwrap();
    let node = ratiba::runtime::payments::PaymentsNode::start(
        &settings,
        addr,
        db.db().clone(),
        Some(vault(&db)),
    )
    .await
    .unwrap();
    let app =
        ratiba::http::payments::router(node.service.clone(), Vec::new(), node.simulator.as_ref());
    tokio::spawn(async move { axum::serve(http, app).await.unwrap() });

    let (appt, thread) = appointment(&handle, "0712345600").await;
    let mut session = HoldSession::new(
        node.service.clone(),
        tenant,
        request("0712345600", appt, &thread),
        Lang::En,
    );
    let t0 = Instant::now();
    session.handle(HoldInput::Start, t0).await;
    let (effects, _) = session
        .handle(HoldInput::CallerSaid("yes please".into()), t0)
        .await;
    assert!(effects.contains(&CallEffect::EnterHold), "{effects:?}");
    let outcome = tokio::time::timeout(Duration::from_secs(15), session.next_outcome())
        .await
        .expect("the mounted simulator calls back")
        .unwrap();
    let (effects, _) = session.handle(outcome, t0 + Duration::from_secs(5)).await;
    assert!(
        matches!(
            finished(&effects),
            Some(HoldResult::Paid { receipt: Some(_) })
        ),
        "{effects:?}"
    );
    assert_eq!(appointment_state(&handle, appt).await.1, "paid");
    node.shutdown();
}

#[tokio::test]
async fn callbacks_from_outside_the_allow_list_are_acknowledged_but_not_applied() {
    let r = rig(false).await;
    r.sim.force_next(SimOutcome::NoCallback);
    let (payment_id, _, _) = push_and_wait(&r, "0712345600").await;
    let row = store::find_payment(&r.handle, payment_id)
        .await
        .unwrap()
        .unwrap();
    let allow = vec![ratiba::config::IpNet::parse("196.201.214.0/24").unwrap()];
    let app = ratiba::http::payments::router(r.a.service.clone(), allow, None);
    let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", http.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            http,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap()
    });
    let body = serde_json::json!({"Body": {"stkCallback": {"MerchantRequestID": "m",
        "CheckoutRequestID": row.checkout_id.clone().unwrap(), "ResultCode": 0, "ResultDesc": "ok",
        "CallbackMetadata": {"Item": [{"Name": "MpesaReceiptNumber", "Value": "ALLOW00001"}]}}}});
    let url = format!(
        "{base}/payments/daraja/callback/{}",
        store::merchant_reference(payment_id)
    );
    let client = reqwest::Client::new();
    // From loopback with no forwarded address, and forwarded from outside.
    let ack: serde_json::Value = client
        .post(&url)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ack["ResultCode"], 0);
    client
        .post(&url)
        .header("x-forwarded-for", "6.6.6.6")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        store::find_payment(&r.handle, payment_id)
            .await
            .unwrap()
            .unwrap()
            .status,
        PaymentStatus::Pending
    );
    // Forwarded by the local proxy from an allowed address: applied.
    client
        .post(&url)
        .header("x-forwarded-for", "196.201.214.200")
        .json(&body)
        .send()
        .await
        .unwrap();
    let after = store::find_payment(&r.handle, payment_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.status, PaymentStatus::Completed);
    assert_eq!(after.mpesa_receipt.as_deref(), Some("ALLOW00001"));
}

#[tokio::test]
async fn a_redelivered_callback_is_known_by_its_processed_record() {
    let r = rig(false).await;
    r.sim.force_next(SimOutcome::NoCallback);
    let (payment_id, _, _) = push_and_wait(&r, "0712345600").await;
    let checkout = store::find_payment(&r.handle, payment_id)
        .await
        .unwrap()
        .unwrap()
        .checkout_id
        .unwrap();
    let token = store::merchant_reference(payment_id);
    let success = |desc: &str| {
        serde_json::to_vec(&serde_json::json!({"Body": {"stkCallback": {
            "MerchantRequestID": "m-1", "CheckoutRequestID": checkout, "ResultCode": 0,
            "ResultDesc": desc,
            "CallbackMetadata": {"Item": [
                {"Name": "Amount", "Value": 500},
                {"Name": "MpesaReceiptNumber", "Value": "RED0000001"},
                {"Name": "TransactionDate", "Value": 20250101120000_i64},
                {"Name": "PhoneNumber", "Value": 254712345600_i64}]}}}}))
        .unwrap()
    };
    let first =
        r.a.service
            .handle_daraja_callback(
                &token,
                &success("The service request is processed successfully."),
                Utc::now(),
            )
            .await
            .unwrap();
    assert!(
        matches!(
            first,
            CallbackHandled::Applied(Applied::Recorded {
                status: PaymentStatus::Completed,
                ..
            })
        ),
        "{first:?}"
    );
    // The same callback delivered again, its body not byte-identical (the
    // stored payload no longer matches): the processed record knows it.
    let again =
        r.a.service
            .handle_daraja_callback(&token, &success("Processed."), Utc::now())
            .await
            .unwrap();
    assert_eq!(again, CallbackHandled::Applied(Applied::Duplicate));
    let mut tx = r.handle.begin().await.unwrap();
    let records: Vec<(String, String)> =
        sqlx::query_as("SELECT provider, callback_key FROM processed_callbacks")
            .fetch_all(tx.conn())
            .await
            .unwrap();
    assert_eq!(records, vec![("mpesa".to_owned(), format!("{checkout}:0"))]);
    drop(tx);
    assert_eq!(completed_count(&r.handle).await, 1);
}
