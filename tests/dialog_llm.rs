//! The optional language model against a fake OpenAI-compatible server on
//! loopback: an unclear turn is understood through a tool call, the cost
//! ceilings switch to the cheap model and then stop calls, role overrides
//! pick the model, and every failure falls back to the rules.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::routing::post;
use chrono::{DateTime, Utc};
use ratiba::adapters::llm::{LlmClient, LlmInterpreter};
use ratiba::core::dialog::Channel;
use ratiba::core::ids::{ChannelIdentity, PhoneNumber};
use ratiba::runtime::conversation::{ConversationService, TurnText};
use ratiba::storage::TenantHandle;
use serde_json::{Value, json};
use uuid::Uuid;

#[derive(Clone, Copy)]
enum Mode {
    BookCornrows,
    ServerError,
    Slow,
    BadArguments,
}

#[derive(Clone)]
struct Fake {
    mode: Arc<Mutex<Mode>>,
    models: Arc<Mutex<Vec<String>>>,
}

async fn completions(State(f): State<Fake>, Json(body): Json<Value>) -> axum::response::Response {
    use axum::response::IntoResponse;
    f.models
        .lock()
        .unwrap()
        .push(body["model"].as_str().unwrap_or("").to_owned());
    assert!(body["tools"].as_array().is_some_and(|t| !t.is_empty()));
    let mode = *f.mode.lock().unwrap();
    let call = |args: &str| {
        Json(json!({"id": "chatcmpl-1", "object": "chat.completion", "choices": [{"index": 0, "finish_reason": "tool_calls",
            "message": {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
                "function": {"name": "book", "arguments": args}}]}}],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100}}))
        .into_response()
    };
    match mode {
        Mode::BookCornrows => call(r#"{"service":"Cornrows","date":"2030-01-11","time":"14:00"}"#),
        Mode::BadArguments => call(r#"{"service": "Cornrows", "date": "#),
        Mode::ServerError => axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Mode::Slow => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            call(r#"{"service":"Cornrows"}"#)
        }
    }
}

async fn fake() -> (String, Fake) {
    let f = Fake {
        mode: Arc::new(Mutex::new(Mode::BookCornrows)),
        models: Arc::new(Mutex::new(Vec::new())),
    };
    let app = axum::Router::new()
        .route("/v1/chat/completions", post(completions))
        .with_state(f.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, f)
}

async fn say(service: &ConversationService, demo: &TenantHandle, from: &str, text: &str) -> String {
    let now: DateTime<Utc> = "2030-01-07T05:00:00Z".parse().unwrap();
    let phone = PhoneNumber::parse(from).unwrap();
    let out = service
        .handle_turn(
            demo,
            None,
            TurnText {
                channel: Channel::WhatsApp,
                customer: ChannelIdentity::WhatsApp(phone.clone()),
                customer_name: None,
                text: text.into(),
                language_hint: None,
                dtmf: None,
                choice_id: None,
                message_id: Some(format!("wamid.{}", Uuid::new_v4())),
                message_type: "text".into(),
                now,
            },
        )
        .await
        .unwrap();
    out.replies
        .iter()
        .map(|r| r.reply.text())
        .collect::<Vec<_>>()
        .join(" | ")
}

async fn setup(overrides: Value) -> (common::TestDb, TenantHandle, ConversationService, Fake) {
    let db = common::TestDb::new().await;
    let demo = db.seed_demo().await;
    sqlx::query("UPDATE public.tenants SET llm_role_overrides = $1 WHERE slug = 'demo'")
        .bind(overrides)
        .execute(db.db().pool())
        .await
        .unwrap();
    let (base, f) = fake().await;
    let client = LlmClient::new(&base, None, Duration::from_millis(1500)).unwrap();
    let llm = LlmInterpreter::new(client, "big-model", "small-model");
    let service = ConversationService::new(db.db().clone()).with_interpreter(Arc::new(llm));
    (db, demo, service, f)
}

#[tokio::test]
async fn unclear_swahili_turn_is_understood_through_a_tool_call() {
    let (_db, demo, service, f) = setup(json!({})).await;
    // No rule matches this; the model says "book Cornrows Friday 14:00",
    // and the reply stays in Swahili.
    let r = say(
        &service,
        &demo,
        "+254712999001",
        "Naomba ule mtindo wa kichwa mzima",
    )
    .await;
    assert!(
        r.contains("Kusuka Mabutu") && r.contains("Ijumaa 11 Januari saa 8:00 mchana"),
        "{r}"
    );
    assert!(r.contains("Nikuwekee?"), "{r}");
    assert_eq!(*f.models.lock().unwrap(), ["big-model"]);
    // Turns the rules understand never reach the model.
    let r = say(&service, &demo, "+254712999001", "ndiyo").await;
    assert!(r.contains("Tayari!"), "{r}");
    assert_eq!(f.models.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn cost_ceilings_switch_to_cheap_then_stop_and_overrides_pick_models() {
    // 1000 prompt tokens at 60 USD/Mtok = 0.06 USD a call: past the soft
    // ceiling (0.05) after one call, past the hard one (0.20) after four.
    let (_db, demo, service, f) = setup(
        json!({"understand": "tenant-model", "price_in_per_mtok": 60.0, "price_out_per_mtok": 0.0}),
    )
    .await;
    for _ in 0..6 {
        say(
            &service,
            &demo,
            "+254712999002",
            "Naomba ule mtindo wa kichwa mzima",
        )
        .await;
    }
    assert_eq!(
        *f.models.lock().unwrap(),
        ["tenant-model", "small-model", "small-model", "small-model"]
    );
}

#[tokio::test]
async fn every_failure_falls_back_to_the_rules() {
    for mode in [Mode::ServerError, Mode::Slow, Mode::BadArguments] {
        let (_db, demo, service, f) = setup(json!({})).await;
        *f.mode.lock().unwrap() = mode;
        let r = say(
            &service,
            &demo,
            "+254712999003",
            "Naomba ule mtindo wa kichwa mzima",
        )
        .await;
        assert!(r.contains("Samahani, sijaelewa vizuri"), "{r}");
        assert_eq!(f.models.lock().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn the_spend_is_kept_with_the_thread_across_a_restart() {
    // 0.06 USD a call: the hard ceiling (0.20) is reached after four calls.
    let (db, demo, service, f) =
        setup(json!({"price_in_per_mtok": 60.0, "price_out_per_mtok": 0.0})).await;
    for _ in 0..4 {
        say(
            &service,
            &demo,
            "+254712999004",
            "Naomba ule mtindo wa kichwa mzima",
        )
        .await;
    }
    assert_eq!(f.models.lock().unwrap().len(), 4);
    // Another process (a fresh interpreter, its own model server) picks the
    // thread up from the database: the ceiling still holds.
    let (base, fresh) = fake().await;
    let client = LlmClient::new(&base, None, Duration::from_millis(1500)).unwrap();
    let restarted = ConversationService::new(db.db().clone()).with_interpreter(Arc::new(
        LlmInterpreter::new(client, "big-model", "small-model"),
    ));
    say(
        &restarted,
        &demo,
        "+254712999004",
        "Naomba ule mtindo wa kichwa mzima",
    )
    .await;
    assert!(fresh.models.lock().unwrap().is_empty());
    // Another customer's thread has its own budget.
    say(
        &restarted,
        &demo,
        "+254712999005",
        "Naomba ule mtindo wa kichwa mzima",
    )
    .await;
    assert_eq!(*fresh.models.lock().unwrap(), ["big-model"]);
}
