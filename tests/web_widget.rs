//! The web chat widget against a real server in-process on loopback and a
//! real database seeded with the demo tenant: the page and its embed
//! script, the session cookie, the conversation's websocket spoken as the
//! page speaks it; a phoneless session that books after giving its number
//! (COLLECT_PHONE), and is the same customer on WhatsApp.

mod common;

use std::time::Duration;

use chrono::Utc;
use futures::SinkExt;
use ratiba::core::dialog::Channel;
use ratiba::core::ids::{ChannelIdentity, PhoneNumber};
use ratiba::runtime::conversation::{ConversationService, TurnText};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use common::widget::{connect, cookie, say, scalar, start, texts};

/// Turns the SMS phone check on for the demo tenant.
async fn require_code(db: &common::TestDb) {
    sqlx::query("UPDATE public.tenants SET phone_otp_required = TRUE WHERE slug = 'demo'")
        .execute(db.db().pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn the_page_and_embed_are_served_in_the_tenants_colours_and_a_socket_needs_its_cookie() {
    let s = start().await;
    sqlx::query(
        "UPDATE public.tenants SET widget_primary_color = '#7C3AED', \
         widget_display_name = 'Nywele Bora', widget_logo_url = 'https://cdn.example/logo.png' \
         WHERE slug = 'demo'",
    )
    .execute(s.db.db().pool())
    .await
    .unwrap();
    let page = reqwest::get(format!("{}/widget/demo", s.base))
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("ratiba_web="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("Path=/widget/demo"));
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains("<h1>Nywele Bora</h1>"), "display name");
    assert!(html.contains("--brand: #7C3AED"), "the widget colour");
    for hook in [
        "data-testid=\"widget-input\"",
        "data-testid=\"widget-send\"",
        "<label for=\"input\"",
        "role=\"log\"",
    ] {
        assert!(html.contains(hook), "{hook}");
    }
    assert!(
        !html.contains("cdn.example") && !html.contains("src=\"http"),
        "nothing is fetched from elsewhere (the off-site logo becomes an initial)"
    );
    let embed = reqwest::get(format!("{}/widget/demo/embed.js", s.base))
        .await
        .unwrap();
    assert_eq!(embed.status(), 200);
    assert!(
        embed.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let js = embed.text().await.unwrap();
    assert!(
        js.contains("\"/widget/demo\"") && js.contains("#7C3AED"),
        "{js}"
    );
    for slug in ["nobody", "Bad-Slug"] {
        let status = reqwest::get(format!("{}/widget/{slug}", s.base))
            .await
            .unwrap()
            .status();
        assert_eq!(status, 404, "{slug}");
    }
    let ws = format!("{}/widget/demo/ws", s.base.replacen("http://", "ws://", 1));
    let err = tokio_tungstenite::connect_async(ws).await.unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
}

#[tokio::test]
async fn a_web_customer_gives_their_number_before_booking_and_is_the_same_customer_on_whatsapp() {
    let s = start().await;
    require_code(&s.db).await;
    let cookie = cookie(&s.base).await;
    let session = Uuid::parse_str(cookie.trim_start_matches("ratiba_web=")).unwrap();
    let mut ws = connect(&s.base, &cookie).await;

    let t = say(
        &mut ws,
        json!({"type": "text", "text": "Hi, I want box braids next Tuesday at 10am", "id": "1"}),
    )
    .await;
    assert!(texts(&t).contains("Shall I book it?"), "{t:?}");
    let last = t.last().unwrap();
    let yes = last["choices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "yes")
        .unwrap_or_else(|| panic!("a yes button: {last}"))
        .clone();
    // A phoneless, unverified session with a web_cookie identity.
    let (customer, unverified): (Option<Uuid>, bool) = sqlx::query_as(
        "SELECT customer_id, unverified FROM tenant_demo.customer_sessions WHERE id = $1",
    )
    .bind(session)
    .fetch_one(s.db.db().pool())
    .await
    .unwrap();
    assert_eq!((customer, unverified), (None, true));
    let cookie_identities: i64 = scalar(
        &s.db,
        "SELECT count(*) FROM tenant_demo.customer_identities WHERE provider = 'web_cookie'",
    )
    .await;
    assert_eq!(cookie_identities, 1);

    // "Yes" asks for the number first; nothing is booked yet.
    let t = say(
        &mut ws,
        json!({"type": "choice", "choice": yes["id"], "title": yes["title"], "id": "2"}),
    )
    .await;
    assert!(texts(&t).contains("phone number"), "{t:?}");
    let booked: i64 = scalar(&s.db, "SELECT count(*) FROM tenant_demo.appointments").await;
    assert_eq!(booked, 0);
    let t = say(
        &mut ws,
        json!({"type": "text", "text": "it's 12 34", "id": "3"}),
    )
    .await;
    assert!(
        texts(&t).contains("doesn't look like a phone number"),
        "{t:?}"
    );
    // A resend of a message already handled does nothing.
    ws.send(Message::Text(
        json!({"type": "text", "text": "it's 12 34", "id": "3"})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let t = say(
        &mut ws,
        json!({"type": "text", "text": "my number is 0712 345 611", "id": "4"}),
    )
    .await;
    assert!(texts(&t).contains("6-digit code"), "{t:?}");
    let code = s.sms.code(1).await;
    assert_eq!(s.sms.sent()[0].to, "+254712345611");
    let t = say(&mut ws, json!({"type": "text", "text": code, "id": "5"})).await;
    assert!(texts(&t).contains("Done!"), "{t:?}");

    let channel: String = scalar(
        &s.db,
        "SELECT booking_channel FROM tenant_demo.appointments",
    )
    .await;
    assert_eq!(channel, "web");
    let web_rows: i64 = scalar(
        &s.db,
        "SELECT count(*) FROM tenant_demo.interactions WHERE channel = 'web' AND direction = 'inbound'",
    )
    .await;
    assert_eq!(
        web_rows, 5,
        "one inbound row per message, the resend not again"
    );
    let started: String = scalar(
        &s.db,
        "SELECT channel_started FROM tenant_demo.conversation_threads",
    )
    .await;
    assert_eq!(started, "web");
    // Promoted: customer_id and promoted_at back-filled.
    let (customer, promoted): (Option<Uuid>, Option<chrono::DateTime<Utc>>) = sqlx::query_as(
        "SELECT customer_id, promoted_at FROM tenant_demo.customer_sessions WHERE id = $1",
    )
    .bind(session)
    .fetch_one(s.db.db().pool())
    .await
    .unwrap();
    let customer = customer.expect("customer_id back-filled");
    assert!(promoted.is_some(), "promoted_at stamped");
    let phone: Option<String> =
        sqlx::query_scalar("SELECT phone_e164 FROM tenant_demo.customers WHERE customer_id = $1")
            .bind(customer)
            .fetch_one(s.db.db().pool())
            .await
            .unwrap();
    assert_eq!(phone.as_deref(), Some("+254712345611"));

    // Later, the same person on WhatsApp: the same customer, who sees the
    // booking made on the web.
    let service = ConversationService::new(s.db.db().clone());
    let demo = s.db.db().tenant(&"demo".parse().unwrap());
    let phone = PhoneNumber::parse("+254712345611").unwrap();
    let out = service
        .handle_turn(
            &demo,
            None,
            TurnText {
                channel: Channel::WhatsApp,
                customer: ChannelIdentity::WhatsApp(phone),
                customer_name: None,
                text: "I want to cancel my appointment".into(),
                language_hint: None,
                dtmf: None,
                choice_id: None,
                message_id: Some("wamid.web.1".into()),
                message_type: "text".into(),
                now: Utc::now(),
            },
        )
        .await
        .unwrap();
    let said: String = out.replies.iter().map(|r| r.reply.text()).collect();
    assert!(said.to_lowercase().contains("braids"), "{said}");
    let on_whatsapp: Uuid = scalar(
        &s.db,
        "SELECT customer_id FROM tenant_demo.customer_identities WHERE provider = 'whatsapp'",
    )
    .await;
    assert_eq!(on_whatsapp, customer);
    let customers: i64 = scalar(&s.db, "SELECT count(*) FROM tenant_demo.customers").await;
    assert_eq!(customers, 1);
}

#[tokio::test]
async fn a_web_session_giving_a_known_number_joins_that_customer() {
    let s = start().await;
    require_code(&s.db).await;
    // Known from WhatsApp first.
    let service = ConversationService::new(s.db.db().clone());
    let demo = s.db.db().tenant(&"demo".parse().unwrap());
    service
        .handle_turn(
            &demo,
            None,
            TurnText {
                channel: Channel::WhatsApp,
                customer: ChannelIdentity::WhatsApp(PhoneNumber::parse("+254712345612").unwrap()),
                customer_name: Some("Achieng".into()),
                text: "Hello".into(),
                language_hint: None,
                dtmf: None,
                choice_id: None,
                message_id: Some("wamid.known.1".into()),
                message_type: "text".into(),
                now: Utc::now(),
            },
        )
        .await
        .unwrap();
    let known: Uuid = scalar(
        &s.db,
        "SELECT customer_id FROM tenant_demo.customers WHERE phone_e164 = '+254712345612'",
    )
    .await;
    let cookie = cookie(&s.base).await;
    let mut ws = connect(&s.base, &cookie).await;
    let t = say(
        &mut ws,
        json!({"type": "text", "text": "Book box braids next Tuesday at 10am"}),
    )
    .await;
    assert!(texts(&t).contains("Shall I book it?"), "{t:?}");
    assert_eq!(
        scalar::<i64>(&s.db, "SELECT count(*) FROM tenant_demo.customers").await,
        2,
        "a phoneless customer for the cookie"
    );
    say(&mut ws, json!({"type": "text", "text": "yes"})).await;
    say(&mut ws, json!({"type": "text", "text": "+254 712 345 612"})).await;
    let code = s.sms.code(1).await;
    let t = say(&mut ws, json!({"type": "text", "text": code})).await;
    assert!(texts(&t).contains("Done!"), "{t:?}");
    let joined: Uuid = scalar(
        &s.db,
        "SELECT customer_id FROM tenant_demo.customer_identities WHERE provider = 'web_cookie'",
    )
    .await;
    assert_eq!(joined, known);
    assert_eq!(
        scalar::<i64>(&s.db, "SELECT count(*) FROM tenant_demo.customers").await,
        1,
        "the phoneless customer was folded in"
    );
    let session_customer: Uuid = scalar(
        &s.db,
        "SELECT customer_id FROM tenant_demo.customer_sessions",
    )
    .await;
    assert_eq!(session_customer, known);
}

// ------------------------------------------------------------ Chromium

/// The bot's messages on the page, as shown.
async fn bot_texts(client: &fantoccini::Client) -> Vec<String> {
    let v = client
        .execute(
            "return Array.from(document.querySelectorAll('[data-role=bot]')).map(e => e.textContent);",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

/// Waits until a bot message contains `needle` (or panics after 30 s).
async fn wait_bot(client: &fantoccini::Client, needle: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let texts = bot_texts(client).await;
        if texts.iter().any(|t| t.contains(needle)) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no bot message with {needle:?}; the page shows {texts:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn type_and_send(client: &fantoccini::Client, text: &str) {
    use fantoccini::Locator;
    let input = client
        .find(Locator::Css("[data-testid=widget-input]"))
        .await
        .unwrap();
    input.send_keys(text).await.unwrap();
    client
        .find(Locator::Css("[data-testid=widget-send]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// A customer books by typing in the widget in headless Chromium on a
/// phone-sized screen: the quick replies are buttons, the number is asked
/// for before booking, and the appointment is a web booking. Screenshots:
/// target/widget.png (opened), target/widget-booked.png (booked). Opened
/// again, the page shows the conversation so far.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_books_through_the_widget_in_headless_chromium() {
    use common::browser::{chromium, chromium_args, start_driver, target_dir};
    use fantoccini::Locator;
    let s = start().await;
    let scratch = tempfile::tempdir().unwrap();
    let driver = start_driver().await;
    let client = chromium(
        &driver,
        chromium_args(
            &scratch.path().join("profile"),
            &["--window-size=390,844".into()],
        ),
    )
    .await;
    client
        .goto(&format!("{}/widget/demo", s.base))
        .await
        .unwrap();
    let shots = target_dir();
    let input = client
        .find(Locator::Css("[data-testid=widget-input]"))
        .await
        .unwrap();
    // Labelled for screen readers.
    let id = input.attr("id").await.unwrap().unwrap();
    client
        .find(Locator::Css(&format!("label[for={id}]")))
        .await
        .expect("the input has a label");
    type_and_send(&client, "Hi, I want box braids next Tuesday at 10am").await;
    wait_bot(&client, "Shall I book it?").await;
    std::fs::write(shots.join("widget.png"), client.screenshot().await.unwrap()).unwrap();
    let yes = client
        .find(Locator::Css("[data-testid=widget-choice][data-choice=yes]"))
        .await
        .expect("a Yes button");
    assert_eq!(yes.text().await.unwrap().trim(), "Yes");
    yes.click().await.unwrap();
    wait_bot(&client, "phone number").await;
    let booked: i64 = scalar(&s.db, "SELECT count(*) FROM tenant_demo.appointments").await;
    assert_eq!(booked, 0, "not before the number");
    type_and_send(&client, "0712 345 613").await;
    wait_bot(&client, "Done!").await;
    std::fs::write(
        shots.join("widget-booked.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();
    let channel: String = scalar(
        &s.db,
        "SELECT booking_channel FROM tenant_demo.appointments",
    )
    .await;
    assert_eq!(channel, "web");
    let phone: String = scalar(
        &s.db,
        "SELECT c.phone_number FROM tenant_demo.appointments a \
         JOIN tenant_demo.contacts c ON c.id = a.contact_id",
    )
    .await;
    assert_eq!(phone, "+254712345613");
    // Opened again (same cookie): the conversation so far is shown.
    client
        .goto(&format!("{}/widget/demo", s.base))
        .await
        .unwrap();
    wait_bot(&client, "Done!").await;
    let mine = client
        .execute(
            "return Array.from(document.querySelectorAll('[data-role=me]')).map(e => e.textContent);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        mine[0], "Hi, I want box braids next Tuesday at 10am",
        "{mine}"
    );
    client.close().await.unwrap();
}
