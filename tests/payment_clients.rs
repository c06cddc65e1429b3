//! The Daraja and PesaPal clients against the simulator over loopback,
//! including refusals, lost answers and unreachable providers.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use chrono::Utc;
use ratiba::adapters::payments::daraja::{
    DarajaClient, DarajaCredentials, StkCallback, StkPush, StkQueryResult,
};
use ratiba::adapters::payments::pesapal::{Ipn, Order, PesapalClient, PesapalCredentials};
use ratiba::adapters::payments::simulator::{SimConfig, SimOutcome, Simulator};
use ratiba::adapters::payments::{HttpPolicy, PaymentError};
use ratiba::core::ids::{Money, PhoneNumber};
use ratiba::core::payment::{FailureReason, PaymentOutcome};
use tokio::sync::mpsc;

fn fast_sim() -> Simulator {
    Simulator::new(SimConfig {
        callback_delay: Duration::from_millis(30),
        late_delay: Duration::from_millis(300),
        hang_for: Duration::from_secs(3),
    })
}

fn policy() -> HttpPolicy {
    HttpPolicy {
        connect_timeout: Duration::from_millis(300),
        request_timeout: Duration::from_millis(800),
        attempts: 3,
        backoff: Duration::from_millis(20),
    }
}

fn creds() -> DarajaCredentials {
    DarajaCredentials::for_tenant(
        None,
        Some("174379"),
        Some("sandbox-passkey"),
        Some(("key", "secret")),
    )
    .expect("legacy credentials")
}

/// A loopback endpoint that collects every body posted to it.
async fn receiver() -> (String, mpsc::UnboundedReceiver<Bytes>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = Router::new().route(
        "/cb",
        post(move |body: Bytes| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(body);
                axum::Json(serde_json::json!({"ResultCode": 0, "ResultDesc": "Accepted"}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/cb"), rx)
}

async fn next_body(rx: &mut mpsc::UnboundedReceiver<Bytes>) -> Bytes {
    tokio::time::timeout(Duration::from_secs(3), rx.recv())
        .await
        .expect("a callback within 3 s")
        .expect("receiver open")
}

async fn push(client: &DarajaClient, phone: &str, url: &str) -> Result<String, PaymentError> {
    let phone = PhoneNumber::parse(phone).unwrap();
    let accepted = client
        .stk_push(
            &StkPush {
                phone: &phone,
                amount: Money::kes(50_000),
                account_reference: "NYWELE-BORA-0001",
                description: "Booking deposit for braids",
                callback_url: url,
            },
            Utc::now(),
        )
        .await?;
    Ok(accepted.checkout_request_id)
}

#[tokio::test]
async fn each_outcome_reaches_the_callback_and_the_query() {
    let sim = fast_sim();
    let (addr, _h) = sim.serve_loopback().await.unwrap();
    let client = DarajaClient::new(&format!("http://{addr}"), creds(), policy()).unwrap();
    let (url, mut rx) = receiver().await;

    let cases = [
        ("0712345600", PaymentOutcome::Completed { receipt: None }),
        (
            "0712345691",
            PaymentOutcome::Failed(FailureReason::InsufficientFunds),
        ),
        ("0712345692", PaymentOutcome::CancelledByCustomer),
        ("0712345693", PaymentOutcome::Timeout),
        (
            "0712345694",
            PaymentOutcome::Failed(FailureReason::WrongPin),
        ),
    ];
    for (phone, want) in cases {
        let checkout = push(&client, phone, &url).await.expect("push accepted");
        let cb = StkCallback::parse(&next_body(&mut rx).await).expect("callback parses");
        assert_eq!(cb.checkout_request_id, checkout);
        match (&cb.outcome(), &want) {
            (PaymentOutcome::Completed { receipt: Some(r) }, PaymentOutcome::Completed { .. }) => {
                assert!(r.starts_with("SIM"));
                assert_eq!(cb.amount, Some(Money::kes(50_000)));
            }
            (got, want) => assert_eq!(got, want, "{phone}"),
        }
        let q = client.stk_query(&checkout, Utc::now()).await.unwrap();
        assert_eq!(
            q.outcome().map(|o| o.status()),
            Some(want.status()),
            "query for {phone}"
        );
    }
    // One token for all five pushes and five queries.
    assert_eq!(sim.stats().daraja_tokens, 1);
    assert_eq!(sim.stats().pushes, 5);
}

#[tokio::test]
async fn query_is_pending_until_the_customer_acts_and_duplicates_arrive_twice() {
    let sim = fast_sim();
    let (addr, _h) = sim.serve_loopback().await.unwrap();
    let client = DarajaClient::new(&format!("http://{addr}"), creds(), policy()).unwrap();
    let (url, mut rx) = receiver().await;

    sim.force_next(SimOutcome::Late);
    let checkout = push(&client, "0712345600", &url).await.unwrap();
    assert_eq!(
        client.stk_query(&checkout, Utc::now()).await.unwrap(),
        StkQueryResult::Pending
    );
    let cb = StkCallback::parse(&next_body(&mut rx).await).unwrap();
    assert_eq!(cb.result_code, 0);

    let checkout = push(&client, "0712345695", &url).await.unwrap();
    let a = next_body(&mut rx).await;
    let b = next_body(&mut rx).await;
    assert_eq!(a, b);
    assert_eq!(
        StkCallback::parse(&a).unwrap().checkout_request_id,
        checkout
    );
}

#[tokio::test]
async fn bad_numbers_are_refused_before_any_request() {
    let sim = fast_sim();
    let (addr, _h) = sim.serve_loopback().await.unwrap();
    let client = DarajaClient::new(&format!("http://{addr}"), creds(), policy()).unwrap();
    for bad in ["+255712345678", "+254212345678", "+14155550100"] {
        let err = push(&client, bad, "http://127.0.0.1:9/cb")
            .await
            .unwrap_err();
        assert!(matches!(err, PaymentError::BadPhone), "{bad}: {err:?}");
    }
    let phone = PhoneNumber::parse("0712345678").unwrap();
    let err = client
        .stk_push(
            &StkPush {
                phone: &phone,
                amount: Money::kes(50),
                account_reference: "X",
                description: "X",
                callback_url: "http://127.0.0.1:9/cb",
            },
            Utc::now(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, PaymentError::BadAmount(_)));
    assert_eq!(sim.stats().daraja_tokens, 0);
    assert_eq!(sim.stats().pushes, 0);
}

#[tokio::test]
async fn refused_push_is_a_rejection_and_a_lost_answer_is_never_repeated() {
    let sim = fast_sim();
    let (addr, _h) = sim.serve_loopback().await.unwrap();
    let client = DarajaClient::new(&format!("http://{addr}"), creds(), policy()).unwrap();
    let (url, mut rx) = receiver().await;

    let err = push(&client, "0712345698", &url).await.unwrap_err();
    assert!(
        matches!(err, PaymentError::Rejected { status: 400, .. }),
        "{err:?}"
    );

    // The simulator processes the push but holds its answer past the
    // client's timeout: the client must report Uncertain after one try.
    let before = sim.stats().pushes;
    let err = push(&client, "0712345699", &url).await.unwrap_err();
    assert!(matches!(err, PaymentError::Uncertain), "{err:?}");
    assert_eq!(sim.stats().pushes, before + 1, "push was repeated");
    // The callback still arrives (the URL token routes it).
    let cb = StkCallback::parse(&next_body(&mut rx).await).unwrap();
    assert_eq!(cb.result_code, 0);
}

#[tokio::test]
async fn unreachable_provider_is_unavailable_after_retries() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = DarajaClient::new(&format!("http://{addr}"), creds(), policy()).unwrap();
    let err = push(&client, "0712345600", "http://127.0.0.1:9/cb")
        .await
        .unwrap_err();
    assert!(matches!(err, PaymentError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn pesapal_order_ipn_and_status() {
    let sim = fast_sim();
    let (addr, _h) = sim.serve_loopback().await.unwrap();
    let creds = PesapalCredentials::for_tenant(
        Some(br#"{"consumer_key":"k","consumer_secret":"s"}"#),
        None,
        None,
    )
    .unwrap();
    let client = PesapalClient::new(&format!("http://{addr}"), creds, policy()).unwrap();
    let (url, mut rx) = receiver().await;
    let ipn_id = client.register_ipn(&url).await.unwrap();

    let phone = PhoneNumber::parse("0712345600").unwrap();
    let order = |reference: &'static str| Order {
        merchant_reference: reference,
        amount: Money::kes(150_000),
        description: "Dental cleaning booking",
        callback_url: "http://127.0.0.1:9/return",
        notification_id: &ipn_id,
        phone: Some(&phone),
        email: None,
        first_name: "Wanjiku",
        last_name: "Kamau",
    };
    let created = client.submit_order(&order("ref-0001")).await.unwrap();
    assert!(created.redirect_url.contains(&created.order_tracking_id));
    let ipn = Ipn::parse(None, &next_body(&mut rx).await).unwrap();
    assert_eq!(ipn.order_tracking_id, created.order_tracking_id);
    assert_eq!(ipn.merchant_reference, "ref-0001");
    let status = client
        .transaction_status(&ipn.order_tracking_id)
        .await
        .unwrap();
    assert_eq!(status.status_code, 1);
    assert_eq!(status.amount, Some(Money::kes(150_000)));
    assert!(matches!(
        status.outcome(),
        Some(PaymentOutcome::Completed { receipt: Some(_) })
    ));

    // A failed payment, and a reused reference refused.
    sim.force_next(SimOutcome::WrongPin);
    let created = client.submit_order(&order("ref-0002")).await.unwrap();
    let _ = next_body(&mut rx).await;
    let status = client
        .transaction_status(&created.order_tracking_id)
        .await
        .unwrap();
    assert_eq!(status.status_code, 2);
    let err = client.submit_order(&order("ref-0001")).await.unwrap_err();
    assert!(matches!(err, PaymentError::Rejected { .. }), "{err:?}");
    assert_eq!(sim.stats().pesapal_tokens, 1);
}
