//! Who a web customer is, over the widget's websocket against a real
//! server and database: the SMS phone check through a loopback Africa's
//! Talking (wrong codes lock, codes expire, resends wait, the right code
//! promotes and books), the M-Pesa prompt as the proof when there is no
//! phone check (promoted when paid), "continue on WhatsApp" by hand-off
//! token (joins the customer and the conversation; an expired or used
//! token does not), and the history a reconnecting session is shown.

mod common;

use chrono::Utc;
use common::widget::{connect, cookie, say, scalar, start, texts};
use ratiba::core::dialog::Channel;
use ratiba::core::ids::{ChannelIdentity, PhoneNumber, WebSessionId};
use ratiba::core::payment::{PaymentOutcome, Provider};
use ratiba::runtime::conversation::{ConversationService, TurnText};
use ratiba::storage::payments::{self as payment_store, NewPayment};
use serde_json::{Value, json};
use uuid::Uuid;

async fn exec(db: &common::TestDb, sql: &str) {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(db.db().pool())
        .await
        .unwrap();
}

fn session_of(cookie: &str) -> Uuid {
    Uuid::parse_str(cookie.trim_start_matches("ratiba_web=")).unwrap()
}

async fn session_row(db: &common::TestDb, id: Uuid) -> (Option<Uuid>, bool, bool) {
    let (customer, unverified, promoted): (Option<Uuid>, bool, Option<chrono::DateTime<Utc>>) =
        sqlx::query_as(
            "SELECT customer_id, unverified, promoted_at FROM tenant_demo.customer_sessions WHERE id = $1",
        )
        .bind(id)
        .fetch_one(db.db().pool())
        .await
        .unwrap();
    (customer, unverified, promoted.is_some())
}

fn turn(customer: ChannelIdentity, text: &str, id: &str) -> TurnText {
    TurnText {
        channel: match customer {
            ChannelIdentity::WebCookie(_) => Channel::Web,
            _ => Channel::WhatsApp,
        },
        customer,
        customer_name: None,
        text: text.into(),
        language_hint: None,
        dtmf: None,
        choice_id: None,
        message_id: Some(id.into()),
        message_type: "text".into(),
        now: Utc::now(),
    }
}

#[tokio::test]
async fn the_sms_code_locks_after_five_wrong_tries_expires_and_the_right_one_promotes_and_books() {
    let s = start().await;
    exec(
        &s.db,
        "UPDATE public.tenants SET phone_otp_required = TRUE WHERE slug = 'demo'",
    )
    .await;
    let cookie = cookie(&s.base).await;
    let session = session_of(&cookie);
    let mut ws = connect(&s.base, &cookie).await;
    say(
        &mut ws,
        json!({"type": "text", "text": "Box braids next Tuesday at 10am please"}),
    )
    .await;
    say(&mut ws, json!({"type": "text", "text": "yes"})).await;
    let t = say(&mut ws, json!({"type": "text", "text": "0712 345 621"})).await;
    assert!(texts(&t).contains("ending 621"), "{t:?}");
    let first = s.sms.code(1).await;
    let sms = &s.sms.sent()[0];
    assert_eq!(
        (sms.to.as_str(), sms.username.as_str()),
        ("+254712345621", "ratiba-test")
    );
    let stored: String = scalar(&s.db, "SELECT code_hash FROM tenant_demo.web_phone_codes").await;
    assert!(
        !stored.contains(&first) && stored.len() == 64,
        "stored hashed"
    );

    // Five wrong codes lock it: then even the right one is refused.
    let wrong = if first == "000000" {
        "111111"
    } else {
        "000000"
    };
    for left in (1..=4).rev() {
        let t = say(&mut ws, json!({"type": "text", "text": wrong})).await;
        assert!(texts(&t).contains(&format!("({left} tr")), "{t:?}");
    }
    let t = say(&mut ws, json!({"type": "text", "text": wrong})).await;
    assert!(texts(&t).contains("too many wrong tries"), "{t:?}");
    let t = say(&mut ws, json!({"type": "text", "text": first})).await;
    assert!(texts(&t).contains("too many wrong tries"), "{t:?}");
    assert_eq!(
        session_row(&s.db, session).await,
        (None, true, false),
        "not promoted while locked"
    );

    // A new code only after a minute.
    let resend = json!({"type": "choice", "choice": "resend", "title": "Send a new code"});
    let t = say(&mut ws, resend.clone()).await;
    assert!(texts(&t).contains("less than a minute ago"), "{t:?}");
    exec(
        &s.db,
        "UPDATE tenant_demo.web_phone_codes SET sent_at = sent_at - interval '2 minutes'",
    )
    .await;
    say(&mut ws, resend.clone()).await;
    let second = s.sms.code(2).await;
    // Past its ten minutes, a code is refused.
    exec(&s.db, "UPDATE tenant_demo.web_phone_codes SET expires_at = now() - interval '1 second', sent_at = sent_at - interval '2 minutes'").await;
    let t = say(&mut ws, json!({"type": "text", "text": second})).await;
    assert!(texts(&t).contains("expired"), "{t:?}");
    assert_eq!(
        scalar::<i64>(&s.db, "SELECT count(*) FROM tenant_demo.appointments").await,
        0
    );

    say(&mut ws, resend).await;
    let third = s.sms.code(3).await;
    let t = say(
        &mut ws,
        json!({"type": "text", "text": format!("my code is {third}")}),
    )
    .await;
    assert!(texts(&t).contains("Done!"), "{t:?}");
    let (customer, unverified, promoted) = session_row(&s.db, session).await;
    assert!(!unverified && promoted, "verified and promoted");
    let phone: String =
        sqlx::query_scalar("SELECT phone_e164 FROM tenant_demo.customers WHERE customer_id = $1")
            .bind(customer.unwrap())
            .fetch_one(s.db.db().pool())
            .await
            .unwrap();
    assert_eq!(phone, "+254712345621");
    assert_eq!(
        scalar::<String>(
            &s.db,
            "SELECT booking_channel FROM tenant_demo.appointments"
        )
        .await,
        "web"
    );
    assert_eq!(s.sms.sent().len(), 3);

    // The same cookie reconnecting is shown the conversation so far.
    drop(ws);
    let mut again = connect(&s.base, &cookie).await;
    let history = common::widget::receive(
        &mut again,
        std::time::Duration::from_secs(10),
        std::time::Duration::from_millis(300),
    )
    .await;
    let first_msg = history.first().expect("history on reconnect");
    assert_eq!(first_msg["type"], "history");
    let lines = first_msg["messages"].as_array().unwrap();
    assert_eq!(
        lines[0],
        json!({"role": "me", "text": "Box braids next Tuesday at 10am please"})
    );
    assert_eq!(lines[1]["role"], "bot");
    assert!(
        lines.last().unwrap()["text"]
            .as_str()
            .unwrap()
            .contains("Done!")
    );
    assert!(
        lines
            .iter()
            .all(|l| !l["text"].as_str().unwrap().contains(&third) || l["role"] == "me"),
        "the bot never says the code"
    );
}

#[tokio::test]
async fn without_the_phone_check_the_paid_mpesa_prompt_promotes_the_session() {
    let s = start().await;
    exec(
        &s.db,
        "UPDATE public.tenants SET payment_enabled = TRUE WHERE slug = 'demo'",
    )
    .await;
    let service = ConversationService::new(s.db.db().clone());
    let demo = s.db.db().tenant(&"demo".parse().unwrap());
    let session = WebSessionId::new();
    let me = ChannelIdentity::WebCookie(session.clone());
    let mut tx = demo.begin().await.unwrap();
    ratiba::storage::web::ensure_session(&mut tx, &session)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    service
        .handle_turn(
            &demo,
            None,
            turn(me.clone(), "Box braids next Tuesday at 10am", "w1"),
        )
        .await
        .unwrap();
    service
        .handle_turn(&demo, None, turn(me.clone(), "yes", "w2"))
        .await
        .unwrap();
    let out = service
        .handle_turn(&demo, None, turn(me.clone(), "0712 345 631", "w3"))
        .await
        .unwrap();
    let said: String = out.replies.iter().map(|r| r.reply.text()).collect();
    assert!(said.contains("Done!"), "{said}");
    let &(appointment, amount) = out
        .payment_requests
        .first()
        .expect("an M-Pesa prompt asked for");
    // Booked for the number, but the session is only claimed: not promoted.
    assert_eq!(
        session_row(&s.db, session.as_uuid()).await,
        (None, true, false)
    );
    assert_eq!(
        scalar::<i64>(&s.db, "SELECT count(*) FROM tenant_demo.customer_identities i JOIN tenant_demo.customers c USING (customer_id) WHERE i.provider = 'web_cookie' AND c.phone_e164 IS NOT NULL").await,
        0,
        "the cookie is not joined to the number yet"
    );

    let tenant =
        s.db.db()
            .tenant_by_slug(&"demo".parse().unwrap())
            .await
            .unwrap()
            .unwrap();
    let thread = out.thread.clone().unwrap();
    let phone = PhoneNumber::parse("0712345631").unwrap();
    let started = payment_store::initiate(
        s.db.db(),
        &demo,
        &NewPayment {
            tenant_id: tenant.id,
            thread_id: &thread,
            appointment_id: Some(appointment),
            contact_id: None,
            amount,
            provider: Provider::Mpesa,
            phone: Some(&phone),
        },
        Utc::now(),
    )
    .await
    .unwrap();
    payment_store::outcomes::record_outcome(
        &demo,
        &payment_store::outcomes::Outcome {
            payment_id: started.payment_id,
            thread_id: &thread,
            outcome: &PaymentOutcome::Completed {
                receipt: Some("SGR7ABC123".into()),
            },
            checkout_id: None,
            amount_minor: Some(amount.minor),
            payload: &json!({"test": true}),
            callback: None,
            now: Utc::now(),
        },
    )
    .await
    .unwrap();
    let (customer, unverified, promoted) = session_row(&s.db, session.as_uuid()).await;
    assert!(
        customer.is_some() && !unverified && promoted,
        "promoted by the payment"
    );
    let joined: String = scalar(
        &s.db,
        "SELECT c.phone_e164 FROM tenant_demo.customer_identities i JOIN tenant_demo.customers c USING (customer_id) WHERE i.provider = 'web_cookie'",
    )
    .await;
    assert_eq!(joined, "+254712345631");
}

/// The token in a steer message's wa.me link.
fn token_of(steer: &Value) -> String {
    let url = url::Url::parse(steer["url"].as_str().unwrap()).unwrap();
    assert_eq!(url.host_str(), Some("wa.me"));
    assert_eq!(url.path(), "/254700000777");
    let text = url
        .query_pairs()
        .find(|(k, _)| k == "text")
        .unwrap()
        .1
        .to_string();
    ratiba::runtime::web_identity::token_in(&text).expect("a token in the phrase")
}

#[tokio::test]
async fn a_handoff_token_sent_on_whatsapp_joins_the_customer_and_the_conversation_once() {
    let s = start().await;
    exec(&s.db, "UPDATE public.tenants SET channel_steering_enabled = TRUE, whatsapp_number = '+254700000777' WHERE slug = 'demo'").await;
    let cookie = cookie(&s.base).await;
    let session = session_of(&cookie);
    let mut ws = connect(&s.base, &cookie).await;
    let t = say(
        &mut ws,
        json!({"type": "text", "text": "Box braids next Tuesday at 10am"}),
    )
    .await;
    assert!(texts(&t).contains("Shall I book it?"), "{t:?}");
    let steer = t
        .iter()
        .find(|m| m["type"] == "steer")
        .unwrap_or_else(|| panic!("a steer link: {t:?}"));
    let token = token_of(steer);

    let service = ConversationService::new(s.db.db().clone());
    let demo = s.db.db().tenant(&"demo".parse().unwrap());
    let wa = ChannelIdentity::WhatsApp(PhoneNumber::parse("+254712345641").unwrap());
    let out = service
        .handle_turn(
            &demo,
            None,
            turn(
                wa.clone(),
                &format!("Hi! I'd like to continue my chat here ({token})"),
                "wamid.s1",
            ),
        )
        .await
        .unwrap();
    let said: String = out
        .replies
        .iter()
        .map(|r| r.reply.text())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        said.contains("carry on with the chat") && said.contains("Shall I go ahead"),
        "{said}"
    );
    let out = service
        .handle_turn(&demo, None, turn(wa.clone(), "yes", "wamid.s2"))
        .await
        .unwrap();
    let said: String = out.replies.iter().map(|r| r.reply.text()).collect();
    assert!(
        said.contains("Done!"),
        "the pending booking continues: {said}"
    );
    let (customer, unverified, promoted) = session_row(&s.db, session).await;
    assert!(!unverified && promoted);
    let wa_customer: Uuid = scalar(
        &s.db,
        "SELECT customer_id FROM tenant_demo.customer_identities WHERE provider = 'whatsapp'",
    )
    .await;
    assert_eq!(
        customer,
        Some(wa_customer),
        "one customer across the channels"
    );
    let history: i64 = scalar(
        &s.db,
        "SELECT count(DISTINCT metadata->>'thread_id') FROM tenant_demo.interactions",
    )
    .await;
    assert_eq!(history, 1, "one conversation, continued");

    // Used once; an expired token neither.
    let other = ChannelIdentity::WhatsApp(PhoneNumber::parse("+254712345642").unwrap());
    let out = service
        .handle_turn(
            &demo,
            None,
            turn(other.clone(), &format!("continue ({token})"), "wamid.s3"),
        )
        .await
        .unwrap();
    let said: String = out.replies.iter().map(|r| r.reply.text()).collect();
    assert!(
        !said.contains("carry on with the chat"),
        "a used token is answered as usual: {said}"
    );
    let cookie2 = common::widget::cookie(&s.base).await;
    let mut ws2 = connect(&s.base, &cookie2).await;
    let t = say(
        &mut ws2,
        json!({"type": "text", "text": "What are your opening hours?"}),
    )
    .await;
    let token2 = token_of(t.iter().find(|m| m["type"] == "steer").unwrap());
    exec(&s.db, "UPDATE tenant_demo.customer_sessions SET handoff_token_expires_at = now() - interval '1 minute' WHERE handoff_token IS NOT NULL").await;
    let out = service
        .handle_turn(
            &demo,
            None,
            turn(other, &format!("continue ({token2})"), "wamid.s4"),
        )
        .await
        .unwrap();
    let said: String = out.replies.iter().map(|r| r.reply.text()).collect();
    assert!(
        !said.contains("carry on with the chat"),
        "an expired token is answered as usual: {said}"
    );
    assert_eq!(
        session_row(&s.db, session_of(&cookie2)).await,
        (None, true, false)
    );
}
