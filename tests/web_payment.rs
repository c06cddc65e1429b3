//! Paying for a web widget booking: the M-Pesa prompt to the number the
//! customer gave, its outcome pushed down the widget's websocket, and the
//! prompt as the proof of that number (STK as oracle) when the tenant has
//! no SMS phone check. Against the widget and the node's payments on one
//! loopback server, as `ratiba serve --payments simulator` builds them:
//! the Daraja simulator takes the STK push over HTTP and POSTs Daraja's
//! callback back to the engine (a number ending 11 pays, 92 cancels the
//! prompt: ResultCode 1032). Without a payment runtime the widget tells the
//! paybill.

mod common;

use std::time::Duration;

use common::widget::{Server, Socket, connect, cookie, receive, receive_until, say, scalar, texts};
use futures::SinkExt;
use serde_json::{Value, json};
use uuid::Uuid;

fn session_of(cookie: &str) -> Uuid {
    Uuid::parse_str(cookie.trim_start_matches("ratiba_web=")).unwrap()
}

/// (customer_id set, unverified, promoted_at set) of the session.
async fn session_row(s: &Server, id: Uuid) -> (bool, bool, bool) {
    let (customer, unverified, promoted): (Option<Uuid>, bool, Option<chrono::DateTime<chrono::Utc>>) =
        sqlx::query_as(
            "SELECT customer_id, unverified, promoted_at FROM tenant_demo.customer_sessions WHERE id = $1",
        )
        .bind(id)
        .fetch_one(s.db.db().pool())
        .await
        .unwrap();
    (customer.is_some(), unverified, promoted.is_some())
}

/// Waits (up to 30 s) until `sql` answers `want`.
async fn wait_for(s: &Server, sql: &str, want: &str) {
    let mut last = String::new();
    for _ in 0..300 {
        last = scalar::<Option<String>>(&s.db, sql)
            .await
            .unwrap_or_default();
        if last == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{sql} stayed {last:?}, not {want:?}");
}

/// Books box braids in the widget for `number`; returns the messages from
/// the number on, up to the "check your phone" payment message.
async fn book(ws: &mut Socket, number: &str) -> Vec<Value> {
    let t = say(
        ws,
        json!({"type": "text", "text": "Hi, I want box braids next Tuesday at 10am", "id": "1"}),
    )
    .await;
    assert!(texts(&t).contains("Shall I book it?"), "{t:?}");
    let t = say(ws, json!({"type": "text", "text": "Yes", "id": "2"})).await;
    assert!(texts(&t).contains("phone number"), "{t:?}");
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        json!({"type": "text", "text": format!("my number is {number}"), "id": "3"})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let t = receive_until(ws, "payment", "pending", Duration::from_secs(30)).await;
    assert!(texts(&t).contains("Done!"), "{t:?}");
    let prompt = t.last().unwrap();
    assert!(
        prompt["text"]
            .as_str()
            .unwrap()
            .contains("I've sent an M-Pesa request to your phone"),
        "{prompt}"
    );
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_prompt_is_told_in_the_widget_and_promotes_the_session() {
    let s = common::widget::start_with_payments().await;
    let cookie = cookie(&s.base).await;
    let session = session_of(&cookie);
    let mut ws = connect(&s.base, &cookie).await;
    book(&mut ws, "0712 345 611").await;

    // The prompt went to the number given, through the payment service.
    let phone: String = scalar(&s.db, "SELECT phone_number FROM tenant_demo.payments").await;
    assert_eq!(phone, "+254712345611");

    let t = receive_until(&mut ws, "payment", "paid", Duration::from_secs(30)).await;
    let receipt: String = scalar(
        &s.db,
        "SELECT mpesa_receipt FROM tenant_demo.payments WHERE status = 'completed'",
    )
    .await;
    let paid = t.last().unwrap()["text"].as_str().unwrap().to_owned();
    assert_eq!(
        paid,
        format!("Payment received (receipt {receipt}). Your booking is confirmed.")
    );

    // STK as oracle: the session is that number's customer now.
    assert_eq!(session_row(&s, session).await, (true, false, true));
    let joined: String = scalar(
        &s.db,
        "SELECT c.phone_e164 FROM tenant_demo.customer_identities i \
         JOIN tenant_demo.customers c USING (customer_id) WHERE i.provider = 'web_cookie'",
    )
    .await;
    assert_eq!(joined, "+254712345611");
    let appointment: String = scalar(
        &s.db,
        "SELECT payment_status || '/' || status || '/' || booking_channel FROM tenant_demo.appointments",
    )
    .await;
    assert_eq!(appointment, "paid/confirmed/web");

    // The outcome notice is settled once, by the web runtime, and both
    // payment messages are in the chat's history.
    wait_for(
        &s,
        "SELECT done_how FROM tenant_demo.payment_deadlines WHERE deadline = 'outcome'",
        "web",
    )
    .await;
    let written: i64 = scalar(
        &s.db,
        "SELECT count(*) FROM tenant_demo.interactions WHERE channel = 'web' AND intent = 'payment'",
    )
    .await;
    assert_eq!(written, 2);
    if let Some(node) = &s.payments {
        node.shutdown();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_prompt_is_told_in_the_widget_and_does_not_promote() {
    let s = common::widget::start_with_payments().await;
    let cookie = cookie(&s.base).await;
    let session = session_of(&cookie);
    let mut ws = connect(&s.base, &cookie).await;
    book(&mut ws, "0712 345 692").await;

    let t = receive_until(&mut ws, "payment", "unpaid", Duration::from_secs(30)).await;
    let said = t.last().unwrap()["text"].as_str().unwrap().to_owned();
    assert_eq!(
        said,
        "The request was cancelled. Your booking stands, not yet paid: you can pay by M-Pesa \
         to Paybill 174379 (account: your name), or at the salon."
    );
    let status: String = scalar(&s.db, "SELECT status FROM tenant_demo.payments").await;
    assert_eq!(status, "cancelled_by_customer");
    let appointment: String =
        scalar(&s.db, "SELECT payment_status FROM tenant_demo.appointments").await;
    assert_eq!(appointment, "unpaid");
    // Not proven: still a claimed number, not joined to its customer.
    assert_eq!(session_row(&s, session).await, (false, true, false));
    let joined: i64 = scalar(
        &s.db,
        "SELECT count(*) FROM tenant_demo.customer_identities i \
         JOIN tenant_demo.customers c USING (customer_id) \
         WHERE i.provider = 'web_cookie' AND c.phone_e164 IS NOT NULL",
    )
    .await;
    assert_eq!(joined, 0);
    if let Some(node) = &s.payments {
        node.shutdown();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_paid_after_the_widget_closed_still_promotes_and_is_shown_when_it_reopens() {
    let s = common::widget::start_with_payments().await;
    let cookie = cookie(&s.base).await;
    let session = session_of(&cookie);
    let mut ws = connect(&s.base, &cookie).await;
    book(&mut ws, "0712 345 611").await;
    ws.close(None).await.unwrap();
    drop(ws);

    wait_for(&s, "SELECT status FROM tenant_demo.payments", "completed").await;
    assert_eq!(session_row(&s, session).await, (true, false, true));
    wait_for(
        &s,
        "SELECT done_how FROM tenant_demo.payment_deadlines WHERE deadline = 'outcome'",
        "web",
    )
    .await;

    // Opened again: the outcome is in the conversation's history.
    let mut ws = connect(&s.base, &cookie).await;
    let got = receive(&mut ws, Duration::from_secs(20), Duration::from_millis(250)).await;
    let history = got
        .iter()
        .find(|m| m["type"] == "history")
        .unwrap_or_else(|| panic!("no history: {got:?}"));
    let last = history["messages"].as_array().unwrap().last().unwrap();
    assert_eq!(last["role"], "bot");
    assert!(
        last["text"]
            .as_str()
            .unwrap()
            .starts_with("Payment received (receipt "),
        "{history}"
    );
    if let Some(node) = &s.payments {
        node.shutdown();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_payment_runtime_the_widget_tells_the_paybill() {
    let s = common::widget::start().await;
    let cookie = cookie(&s.base).await;
    let mut ws = connect(&s.base, &cookie).await;
    say(
        &mut ws,
        json!({"type": "text", "text": "Hi, I want box braids next Tuesday at 10am", "id": "1"}),
    )
    .await;
    say(&mut ws, json!({"type": "text", "text": "Yes", "id": "2"})).await;
    let t = say(
        &mut ws,
        json!({"type": "text", "text": "my number is 0712 345 611", "id": "3"}),
    )
    .await;
    assert!(texts(&t).contains("Done!"), "{t:?}");
    assert!(texts(&t).contains("by M-Pesa to Paybill 174379"), "{t:?}");
    assert!(t.iter().all(|m| m["type"] != "payment"), "{t:?}");
    let payments: i64 = scalar(&s.db, "SELECT count(*) FROM tenant_demo.payments").await;
    assert_eq!(payments, 0);
}
