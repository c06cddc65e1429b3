//! A caller pays while on hold: the demo call `en_pay_on_hold` books,
//! says yes to an M-Pesa prompt and stays silent, against a server built as
//! `ratiba serve --payments simulator` builds it (call runtime with the
//! node's payment service, the payment routes and the simulator mounted
//! under /sim) on a fresh database seeded with the demo tenant.
//!
//! The payer number's last two digits choose the simulator's outcome: a
//! number ending 11 pays; one ending 92 cancels the prompt (1032).

mod common;

use std::path::PathBuf;
use std::time::Duration;

use ratiba::adapters::speech::scripted::Transcript;
use ratiba::adapters::telephony::Provider;
use ratiba::cli::call::{DEMO_VOICE_NUMBER, SimOptions, simulate};
use ratiba::config::PaymentEnvironment;
use ratiba::core::audio::wav;
use ratiba::http::whatsapp::{ChatPayments, WhatsAppConfig, router_with_payments};
use ratiba::runtime::call_setup::CallRuntime;
use ratiba::runtime::conversation::ConversationService;
use ratiba::runtime::payments::PaymentsNode;
use ratiba::runtime::shutdown::Shutdown;
use sqlx::Row;

/// What the database says after one call.
struct AfterCall {
    /// (status, mpesa_receipt) of every payment row.
    payments: Vec<(String, Option<String>)>,
    /// payment_status of every appointment booked by voice.
    appointment_payment: Vec<String>,
    /// What the bot said, line by line.
    bot_lines: Vec<String>,
    caller_lines: Vec<String>,
    /// Texts sent to the caller on WhatsApp (development capture).
    whatsapp: Vec<String>,
    /// Their message types (`text`, `template`, …).
    whatsapp_types: Vec<String>,
}

/// Runs the demo call from `from`; waits for `whatsapp_expected` WhatsApp
/// messages to the caller before looking at the database.
async fn pay_on_hold_call(from: &str, whatsapp_expected: usize) -> AfterCall {
    pay_on_hold_call_in(
        PaymentEnvironment::Simulator,
        true,
        from,
        whatsapp_expected,
        Duration::ZERO,
    )
    .await
}

async fn pay_on_hold_call_in(
    environment: PaymentEnvironment,
    mpesa_credentials: bool,
    from: &str,
    whatsapp_expected: usize,
    // After the expected messages, how long to watch for one more.
    settle: Duration,
) -> AfterCall {
    let db = common::TestDb::new().await;
    let demo = db.seed_demo().await;
    if !mpesa_credentials {
        sqlx::query(
            "UPDATE public.tenants SET daraja_credentials = NULL, mpesa_shortcode = NULL, \
             mpesa_passkey = NULL WHERE slug = 'demo'",
        )
        .execute(db.db().pool())
        .await
        .unwrap();
    }
    let mut settings = db.settings();
    settings.telephony.twilio_auth_token = None;
    settings.payments.payment_environment = environment;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = Shutdown::new();
    let vault = ratiba::storage::Vault::new(&ratiba::config::Secret::new(common::TEST_FERNET_KEY))
        .expect("test key");
    let mut node = PaymentsNode::start(&settings, addr, db.db().clone(), Some(vault))
        .await
        .expect("payments node");
    let (links_tx, links_rx) = tokio::sync::mpsc::channel(16);
    let calls = CallRuntime::start(db.db(), &settings, addr, &shutdown)
        .with_payments(node.service.clone())
        .with_payment_links(links_tx);
    let base = format!("http://{addr}");
    let whatsapp = router_with_payments(
        WhatsAppConfig {
            db: db.db().clone(),
            vault: Some(
                ratiba::storage::Vault::new(&ratiba::config::Secret::new(common::TEST_FERNET_KEY))
                    .unwrap(),
            ),
            app_secret: Some(ratiba::config::Secret::new("test-app-secret")),
            verify_token: None,
            graph_base_url: format!("{base}/dev/graph"),
            service: ConversationService::new(db.db().clone()),
            reminder_sweep_every: std::time::Duration::from_secs(60),
        },
        Some(ChatPayments {
            service: node.service.clone(),
            events: node.take_chat_events(),
            call_links: Some(links_rx),
        }),
    );
    let app = calls
        .router()
        .merge(whatsapp)
        .merge(ratiba::http::payments::router(
            node.service.clone(),
            Vec::new(),
            node.simulator.as_ref(),
        ))
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server_shutdown = shutdown.clone();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { server_shutdown.wait().await })
            .await
            .unwrap()
    });

    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/calls");
    let audio = wav::parse(&std::fs::read(dir.join("en_pay_on_hold.wav")).unwrap()).unwrap();
    let transcript =
        Transcript::parse(&std::fs::read(dir.join("en_pay_on_hold.json")).unwrap()).unwrap();
    let report = simulate(&SimOptions {
        server: format!("http://{addr}"),
        provider: Provider::Twilio,
        to: DEMO_VOICE_NUMBER.into(),
        from: from.into(),
        audio,
        transcript: Some(transcript.clone()),
        fast: true,
        twilio_auth_token: None,
        max_duration: Duration::from_secs(180),
    })
    .await
    .expect("call");
    eprint!("{}", report.render(Some(&transcript)));
    let to = from.trim_start_matches('+');
    let mut whatsapp =
        common::wait_whatsapp_texts(&base, to, whatsapp_expected, Duration::from_secs(15)).await;
    if !settle.is_zero() {
        whatsapp = common::wait_whatsapp_texts(&base, to, whatsapp_expected + 1, settle).await;
    }
    let whatsapp_types = common::captured_whatsapp(&base, to)
        .await
        .iter()
        .map(|m| m["message"]["type"].as_str().unwrap_or_default().to_owned())
        .collect();

    // Let the call task close, then drain the writer.
    tokio::time::sleep(Duration::from_millis(300)).await;
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(20), calls.writer_task)
        .await
        .expect("writer drains")
        .unwrap();
    node.shutdown();

    let mut tx = demo.begin().await.unwrap();
    let payments = sqlx::query("SELECT status, mpesa_receipt FROM payments ORDER BY initiated_at")
        .fetch_all(tx.conn())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get("status"), r.get("mpesa_receipt")))
        .collect();
    let appointment_payment = sqlx::query(
        "SELECT payment_status FROM appointments WHERE booking_channel = 'voice' AND status <> 'cancelled'",
    )
    .fetch_all(tx.conn())
    .await
    .unwrap()
    .iter()
    .map(|r| r.get::<Option<String>, _>("payment_status").unwrap_or_default())
    .collect();
    let lines = sqlx::query(
        "SELECT direction, content FROM interactions WHERE channel = 'voice' ORDER BY created_at",
    )
    .fetch_all(tx.conn())
    .await
    .unwrap();
    let of = |dir: &str| -> Vec<String> {
        lines
            .iter()
            .filter(|r| r.get::<String, _>("direction") == dir)
            .map(|r| r.get::<Option<String>, _>("content").unwrap_or_default())
            .collect()
    };
    let after = AfterCall {
        payments,
        appointment_payment,
        bot_lines: of("outbound"),
        caller_lines: of("inbound"),
        whatsapp,
        whatsapp_types,
    };
    for l in &after.bot_lines {
        eprintln!("bot:    {l}");
    }
    for l in &after.caller_lines {
        eprintln!("caller: {l}");
    }
    after
}

/// "NLJ7RT61SV" as the bot reads it: "N L J 7 R T 6 1 S V".
fn spelled(receipt: &str) -> String {
    receipt
        .chars()
        .map(String::from)
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_pays_on_hold_and_hears_the_receipt() {
    let after = pay_on_hold_call("+254722000111", 1).await;

    assert_eq!(after.payments.len(), 1, "one push: {:?}", after.payments);
    let (status, receipt) = &after.payments[0];
    assert_eq!(status, "completed");
    let receipt = receipt
        .as_deref()
        .expect("the payment has its M-Pesa receipt");
    assert_eq!(after.appointment_payment, vec!["paid".to_owned()]);

    assert!(
        after
            .bot_lines
            .iter()
            .any(|l| l.contains("Shall I send the payment request")),
        "the bot asked before pushing: {:?}",
        after.bot_lines
    );
    assert!(
        after
            .bot_lines
            .iter()
            .any(|l| l.contains(&spelled(receipt))),
        "the receipt {receipt} was read back: {:?}",
        after.bot_lines
    );
    // The caller's answer to the consent question was recorded by the call.
    assert!(
        after.caller_lines.iter().any(|l| l.contains("send it")),
        "{:?}",
        after.caller_lines
    );
    // Paid on the line, and confirmed in writing once on WhatsApp: as the
    // approved template, since the caller has never written to the business
    // (no 24 h window is open).
    assert_eq!(after.whatsapp.len(), 1, "{:?}", after.whatsapp);
    assert!(after.whatsapp[0].contains(receipt), "{:?}", after.whatsapp);
    assert_eq!(after.whatsapp_types, ["template"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_cancelled_on_the_phone_is_explained_and_not_paid() {
    // Watched 7 s longer than the link: the failure the bot explained on the
    // line is not written again (the chat side gives a call 5 s to say it).
    let after = pay_on_hold_call_in(
        PaymentEnvironment::Simulator,
        true,
        "+254722000192",
        1,
        Duration::from_secs(7),
    )
    .await;
    // (The simulator also fails the link's PesaPal order for a number
    // ending in 92; that failure, in the link's own chat, may come too.)
    assert!(
        !after.whatsapp.iter().any(|t| t.contains("link instead")),
        "{:?}",
        after.whatsapp
    );

    // The prompt, then the WhatsApp link the caller chose instead of a retry.
    assert_eq!(after.payments.len(), 2, "{:?}", after.payments);
    let (status, receipt) = &after.payments[0];
    assert_eq!(status, "cancelled_by_customer");
    assert_eq!(receipt, &None);
    assert!(
        after
            .whatsapp
            .first()
            .is_some_and(|t| t.contains("Pay securely here") && t.contains("/sim/pesapal/")),
        "the promised link came on WhatsApp: {:?}",
        after.whatsapp
    );
    assert_ne!(after.appointment_payment, vec!["paid".to_owned()]);
    assert!(
        after
            .bot_lines
            .iter()
            .any(|l| l.contains("cancelled on the phone")),
        "the bot explained: {:?}",
        after.bot_lines
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_without_a_kenyan_mobile_number_gets_no_prompt() {
    let after = pay_on_hold_call("+442071838750", 1).await;

    // No M-Pesa prompt; the payment is a PesaPal link sent on WhatsApp.
    assert_eq!(after.payments.len(), 1, "{:?}", after.payments);
    assert!(
        after
            .whatsapp
            .first()
            .is_some_and(|t| t.contains("Pay securely here")),
        "{:?}",
        after.whatsapp
    );
    assert!(
        after
            .bot_lines
            .iter()
            .any(|l| l.contains("payment details on WhatsApp")),
        "the bot said how payment follows: {:?}",
        after.bot_lines
    );
}

/// A tenant with payments on but no M-Pesa credentials for the environment
/// (none of its own, no platform keys): the bot does not ask to send a
/// prompt it cannot send; the booking stands and payment is left to WhatsApp.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_mpesa_credentials_the_caller_is_not_asked_to_pay_on_the_line() {
    let after = pay_on_hold_call_in(
        PaymentEnvironment::Sandbox,
        false,
        "+254722000111",
        0,
        Duration::ZERO,
    )
    .await;
    assert!(
        !after
            .bot_lines
            .iter()
            .any(|l| l.contains("Shall I send the payment request")),
        "asked for consent to an impossible prompt: {:?}",
        after.bot_lines
    );
    assert!(
        after
            .bot_lines
            .iter()
            .any(|l| l.contains("payment details on WhatsApp")),
        "{:?}",
        after.bot_lines
    );
    assert!(
        after
            .payments
            .iter()
            .all(|(status, _)| status != "completed"),
        "{:?}",
        after.payments
    );
    assert_eq!(after.appointment_payment.len(), 1, "the booking stands");
}
