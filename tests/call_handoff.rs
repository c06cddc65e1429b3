//! A caller who asks for a person, on live calls over loopback (the
//! simulated caller of `ratiba call` dialling in as each provider would, the
//! real dialog on the demo tenant, rows in Postgres): with a transfer number
//! the bot says it is putting them through and asks the provider's REST API
//! to transfer the call; without one it promises a call back and hangs up
//! through the API once that has been heard. A fake of each provider's REST
//! API on loopback checks the requests as the real one would read them
//! (path, auth, body). Also: the greeting follows the personality dials,
//! and an unclear call turn waits for a slow language model only as long as
//! the call's budget.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_2048_8192_SHA256, RsaKeyPair, UnparsedPublicKey};
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use base64::Engine as _;
use ratiba::adapters::llm::{LlmClient, LlmInterpreter};
use ratiba::adapters::speech::SpeechProviders;
use ratiba::adapters::speech::espeak::Espeak;
use ratiba::adapters::speech::scripted::{ScriptWord, Transcript};
use ratiba::adapters::telephony::Provider;
use ratiba::adapters::telephony::control::CallControls;
use ratiba::adapters::telephony::media_token::MediaTokenKey;
use ratiba::cli::call::{DEMO_VOICE_NUMBER, SimOptions, SimReport, simulate};
use ratiba::config::{Settings, Source};
use ratiba::core::audio::wav;
use ratiba::http::media_auth::TelephonyAuth;
use ratiba::runtime::call_setup::{CallServices, DialogConversation};
use ratiba::runtime::conversation::ConversationService;
use ratiba::runtime::metrics::Metrics;
use ratiba::runtime::shutdown::Shutdown;
use ratiba::runtime::writer::{self, DbSink};
use serde_json::{Value, json};
use sqlx::Row;

const TRANSFER_TO: &str = "+254700123456";

/// One request the fake provider API received.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: String,
}

/// Every provider's REST API in one loopback server: it records what it is
/// sent and answers as the provider does on success.
#[derive(Clone, Default)]
struct FakeProviders {
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Answer transfer requests with a provider error (hang-ups succeed).
    refuse_transfers: Arc<AtomicBool>,
}

/// Whether a request asks to put a call through (on any provider).
fn is_transfer(method: &Method, path: &str, body: &str) -> bool {
    path.ends_with("/actions/transfer")
        || (*method == Method::POST && (body.contains("Twiml=") || body.contains("aleg_url")))
        || (*method == Method::PUT && body.contains("\"transfer\""))
}

impl FakeProviders {
    async fn start() -> (String, FakeProviders) {
        let fake = FakeProviders::default();
        let state = fake.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = state.clone();
                async move {
                    let body = String::from_utf8_lossy(&body).into_owned();
                    let refuse = state.refuse_transfers.load(Ordering::SeqCst)
                        && is_transfer(&method, uri.path(), &body);
                    state.seen.lock().unwrap().push(Seen {
                        method: method.clone(),
                        path: uri.path().to_owned(),
                        headers,
                        body,
                    });
                    if refuse {
                        (
                            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                            axum::Json(json!({"code": 20500, "message": "Internal Server Error", "status": 500})),
                        )
                            .into_response()
                    } else if method == Method::DELETE {
                        axum::http::StatusCode::NO_CONTENT.into_response()
                    } else {
                        axum::Json(json!({"status": "ok"})).into_response()
                    }
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (base, fake)
    }

    fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

use axum::response::IntoResponse;

/// A fake OpenAI-compatible model: the customer wants a person, or it takes
/// 30 s to say so.
#[derive(Clone, Default)]
struct FakeLlm {
    slow: Arc<Mutex<bool>>,
    asked: Arc<Mutex<u32>>,
}

impl FakeLlm {
    async fn start() -> (String, FakeLlm) {
        let fake = FakeLlm::default();
        let state = fake.clone();
        let app = axum::Router::new().route(
            "/v1/chat/completions",
            axum::routing::post(move || {
                let state = state.clone();
                async move {
                    *state.asked.lock().unwrap() += 1;
                    let slow = *state.slow.lock().unwrap();
                    if slow {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                    }
                    axum::Json(json!({"id": "chatcmpl-1", "object": "chat.completion",
                        "choices": [{"index": 0, "finish_reason": "tool_calls",
                        "message": {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1",
                            "type": "function", "function": {"name": "talk_to_person",
                            "arguments": "{}"}}]}}],
                        "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}}))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/v1", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (base, fake)
    }
}

struct Rig {
    db: common::TestDb,
    demo: ratiba::storage::TenantHandle,
    server: String,
    providers: FakeProviders,
    llm: FakeLlm,
    vonage_public_key: Vec<u8>,
}

fn pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<String> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

/// The demo tenant, its calls served as `ratiba serve` would (the dialog,
/// the database directory and writer), every provider's call control
/// configured from the environment's names and pointed at the fakes.
async fn rig() -> Rig {
    let db = common::TestDb::new().await;
    let demo = db.seed_demo().await;
    let (providers_base, providers) = FakeProviders::start().await;
    let (llm_base, llm) = FakeLlm::start().await;
    let vonage = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let vonage_pem = pem(AsDer::<Pkcs8V1Der>::as_der(&vonage).unwrap().as_ref());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = format!("http://{}", listener.local_addr().unwrap());
    let mut src = Source::default();
    src.set("DATABASE_URL", db.url())
        .set("TWILIO_ACCOUNT_SID", "ACtest")
        .set("TWILIO_AUTH_TOKEN", "twilio-token")
        .set("TWILIO_API_URL", &providers_base)
        .set("TELNYX_API_KEY", "KEYtelnyx")
        .set("TELNYX_API_URL", &format!("{providers_base}/v2"))
        .set("PLIVO_AUTH_ID", "MAtest")
        .set("PLIVO_AUTH_TOKEN", "plivo-token")
        .set("PLIVO_API_URL", &providers_base)
        .set("VONAGE_APPLICATION_ID", "app-test")
        .set("VONAGE_PRIVATE_KEY", &vonage_pem.replace('\n', "\\n"))
        .set("VONAGE_API_URL", &providers_base)
        .set("EXOTEL_TRANSFER_FLOW", "true");
    let settings = Settings::from_source(&src).unwrap();
    let key = MediaTokenKey::random();
    let metrics = Arc::new(Metrics::default());
    let (writer, _task) = writer::spawn(
        Arc::new(DbSink::new(db.db().clone())),
        Arc::clone(&metrics),
        10_000,
        Shutdown::new(),
        Duration::from_secs(5),
    );
    let client = LlmClient::new(&llm_base, None, Duration::from_secs(60)).unwrap();
    let service = ConversationService::new(db.db().clone())
        .with_interpreter(Arc::new(LlmInterpreter::new(client, "big", "small")))
        .with_call_llm_budget(Duration::from_millis(600));
    let services = CallServices {
        directory: Arc::new(db.db().clone()),
        conversation: Arc::new(DialogConversation::with_service(service)),
        speech: SpeechProviders {
            stt: None,
            tts: Arc::new(Espeak::new(None)),
        },
        writer,
        metrics: Arc::clone(&metrics),
        public_base_url: server.clone(),
        // Webhooks unsigned (development): the REST credentials above are
        // what this test is about.
        twilio_auth_token: None,
        auth: Arc::new(TelephonyAuth::new(key.clone())),
        allow_scripted_transcripts: true,
        shutdown: Shutdown::new(),
        turn_log: false,
        payments: None,
        payment_links: None,
        control: CallControls::from_settings(&settings.telephony, &server, key),
    };
    let app = ratiba::http::media::router(services);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Rig {
        db,
        demo,
        server,
        providers,
        llm,
        vonage_public_key: vonage.public_key().as_ref().to_vec(),
    }
}

/// The first utterance of a demo recording with its words relabelled, then
/// a minute of silence: the caller says one thing and waits (for the bot
/// to hang up, however slowly a loaded machine answers).
fn caller(recording: &str, words: &[&str]) -> (wav::Wav, Transcript) {
    caller_waiting(recording, words, 60)
}

fn caller_waiting(recording: &str, words: &[&str], wait_s: usize) -> (wav::Wav, Transcript) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/calls");
    let mut audio =
        wav::parse(&std::fs::read(dir.join(format!("{recording}.wav"))).unwrap()).unwrap();
    let t =
        Transcript::parse(&std::fs::read(dir.join(format!("{recording}.json"))).unwrap()).unwrap();
    let first: Vec<&ScriptWord> = t.words.iter().filter(|w| w.start_ms < 10_000).collect();
    assert!(words.len() <= first.len());
    let last_end = first[words.len() - 1].end_ms;
    let rate = audio.rate_hz as usize;
    // Keep the utterance (and a little after it), then silence.
    audio
        .samples
        .truncate(rate * (last_end as usize + 300) / 1000);
    audio.samples.resize(audio.samples.len() + rate * wait_s, 0);
    let words = words
        .iter()
        .zip(first)
        .map(|(text, w)| ScriptWord {
            text: (*text).to_owned(),
            start_ms: w.start_ms,
            end_ms: w.end_ms,
        })
        .collect();
    (
        audio,
        Transcript {
            language: t.language.clone(),
            words,
        },
    )
}

/// A caller who says nothing for `wait_s` seconds (the line's clock), so
/// the greeting is heard whole, never talked over.
fn silent_caller(wait_s: usize) -> (wav::Wav, Transcript) {
    let (mut audio, mut transcript) = caller_waiting("en_booking", &["Hello"], 0);
    audio.samples.clear();
    audio.samples.resize(audio.rate_hz as usize * wait_s, 0);
    transcript.words.clear();
    (audio, transcript)
}

const ASK_FOR_A_PERSON: [&str; 10] = [
    "Hello", "I", "would", "like", "to", "talk", "to", "a", "real", "person",
];

async fn call(
    rig: &Rig,
    provider: Provider,
    from: &str,
    said: (wav::Wav, Transcript),
) -> SimReport {
    let (audio, transcript) = said;
    let report = simulate(&SimOptions {
        server: rig.server.clone(),
        provider,
        to: DEMO_VOICE_NUMBER.into(),
        from: from.into(),
        audio,
        transcript: Some(transcript),
        fast: true,
        twilio_auth_token: None,
        max_duration: Duration::from_secs(120),
    })
    .await
    .expect("call");
    eprintln!("{provider}:\n{}", report.render(None));
    report
}

/// One caller per provider asking for a person, all at once.
async fn all_at_once(rig: &Rig, providers: &[(Provider, &str)]) -> Vec<SimReport> {
    futures::future::join_all(
        providers
            .iter()
            .map(|(p, from)| call(rig, *p, from, caller("en_booking", &ASK_FOR_A_PERSON))),
    )
    .await
}

/// The requests about one call (its id is in every provider's path).
fn of_call(seen: &[Seen], sid: &str) -> Vec<Seen> {
    seen.iter()
        .filter(|s| s.path.contains(sid))
        .cloned()
        .collect()
}

async fn set_transfer_number(rig: &Rig, number: Option<&str>) {
    sqlx::query("UPDATE public.tenants SET voice_transfer_number = $1 WHERE slug = 'demo'")
        .bind(number)
        .execute(rig.db.db().pool())
        .await
        .unwrap();
}

/// Waits (up to 20 s) for the handoff_log row of `phone`'s call and
/// returns its metadata; the call's rows go through the background writer
/// and the dialog's own transaction.
async fn handoff_row(rig: &Rig, phone: &str) -> Value {
    handoff_row_where(rig, phone, |_| true).await
}

/// As [`handoff_row`], once its metadata passes `done` (rows the call
/// changes later go through the background writer).
async fn handoff_row_where(rig: &Rig, phone: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..200 {
        let mut tx = rig.demo.begin().await.unwrap();
        let row = sqlx::query(
            "SELECT h.message_metadata, t.closed_at IS NULL AS open FROM handoff_log h \
             JOIN conversation_threads t ON t.thread_id = h.thread_id \
             WHERE h.actor_phone = $1 AND h.message_metadata->>'kind' = 'handoff_started'",
        )
        .bind(phone)
        .fetch_optional(tx.conn())
        .await
        .unwrap();
        tx.commit().await.unwrap();
        if let Some(row) = row {
            assert!(
                row.get::<bool, _>("open"),
                "a handed-off thread stays open for the team"
            );
            last = row.get("message_metadata");
            if done(&last) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no handoff_log row for {phone} as wanted (last: {last})");
}

/// The bot's lines to `phone`, in order, once `want` of them are written.
async fn bot_lines(rig: &Rig, phone: &str, want: usize) -> Vec<(Option<String>, String, Value)> {
    let mut lines = Vec::new();
    for _ in 0..200 {
        let mut tx = rig.demo.begin().await.unwrap();
        let rows = sqlx::query(
            "SELECT i.intent, i.content, i.metadata FROM interactions i \
             JOIN contacts c ON c.id = i.contact_id \
             WHERE c.phone_number = $1 AND i.direction = 'outbound' AND i.channel = 'voice' \
             ORDER BY i.created_at",
        )
        .bind(phone)
        .fetch_all(tx.conn())
        .await
        .unwrap();
        tx.commit().await.unwrap();
        lines = rows
            .iter()
            .map(|r| {
                (
                    r.get("intent"),
                    r.get::<Option<String>, _>("content").unwrap_or_default(),
                    r.get::<Value, _>("metadata"),
                )
            })
            .collect();
        let heard = lines
            .iter()
            .filter(|l| l.2.get("heard_up_to_ms").is_some())
            .count();
        if lines.len() >= want && heard >= want {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{phone}: wanted {want} bot lines, have {lines:?}");
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn header<'a>(seen: &'a Seen, name: &str) -> &'a str {
    seen.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn form(body: &str) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

/// Checks a Vonage request's JWT against the application's public key.
fn check_vonage_jwt(rig: &Rig, seen: &Seen) {
    let jwt = header(seen, "authorization")
        .strip_prefix("Bearer ")
        .unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    let decode = |s: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .unwrap()
    };
    let claims: Value = serde_json::from_slice(&decode(parts[1])).unwrap();
    assert_eq!(claims["application_id"], "app-test");
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &rig.vonage_public_key)
        .verify(
            format!("{}.{}", parts[0], parts[1]).as_bytes(),
            &decode(parts[2]),
        )
        .expect("the JWT is signed with the application's key");
}

/// What the Exotel flow's Passthru applet gets for call `sid`: 200 (go on
/// to Connect) or 302 (Hangup).
async fn exotel_next(rig: &Rig, sid: &str) -> u16 {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/voice/exotel/next?CallSid={sid}", rig.server))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Checks `s` is `provider`'s REST hang-up of call `sid` (Exotel: the
/// flow's Passthru is told to hang up; no request is made).
fn assert_hang_up(rig: &Rig, provider: Provider, sid: &str, s: &Seen) {
    match provider {
        Provider::Twilio => {
            assert_eq!(s.method, Method::POST);
            assert_eq!(
                s.path,
                format!("/2010-04-01/Accounts/ACtest/Calls/{sid}.json")
            );
            assert_eq!(header(s, "authorization"), basic("ACtest", "twilio-token"));
            assert_eq!(
                form(&s.body),
                BTreeMap::from([("Status".to_owned(), "completed".to_owned())])
            );
        }
        Provider::Telnyx => {
            assert_eq!(
                (s.method.clone(), s.path.as_str()),
                (
                    Method::POST,
                    format!("/v2/calls/{sid}/actions/hangup").as_str()
                )
            );
            assert_eq!(header(s, "authorization"), "Bearer KEYtelnyx");
        }
        Provider::Plivo => {
            assert_eq!(s.method, Method::DELETE);
            assert_eq!(s.path, format!("/v1/Account/MAtest/Call/{sid}/"));
            assert_eq!(header(s, "authorization"), basic("MAtest", "plivo-token"));
        }
        Provider::Vonage => {
            assert_eq!(
                (s.method.clone(), s.path.as_str()),
                (Method::PUT, format!("/v1/calls/{sid}").as_str())
            );
            check_vonage_jwt(rig, s);
            assert_eq!(
                serde_json::from_str::<Value>(&s.body).unwrap(),
                json!({"action": "hangup"})
            );
        }
        Provider::Exotel => unreachable!("Exotel has no REST hang-up"),
        // Not in the list: the browser's call page has no provider to call.
        Provider::Browser => unreachable!("browser calls have no provider call control"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_asking_for_a_person_is_put_through_on_every_provider() {
    let rig = rig().await;
    set_transfer_number(&rig, Some(TRANSFER_TO)).await;
    let providers = [
        (Provider::Twilio, "+254722100001"),
        (Provider::Telnyx, "+254722100002"),
        (Provider::Plivo, "+254722100003"),
        (Provider::Vonage, "+254722100004"),
        (Provider::Exotel, "+254722100005"),
    ];
    let reports = all_at_once(&rig, &providers).await;
    let all_seen = rig.providers.take();
    for ((provider, from), report) in providers.into_iter().zip(reports) {
        assert!(report.server_hung_up, "{provider}: the bot ended its part");
        let sid = report.call_sid.clone();
        let seen = of_call(&all_seen, &sid);
        match provider {
            Provider::Twilio => {
                assert_eq!(seen.len(), 1, "{seen:?}");
                let s = &seen[0];
                assert_eq!(s.method, Method::POST);
                assert_eq!(
                    s.path,
                    format!("/2010-04-01/Accounts/ACtest/Calls/{sid}.json")
                );
                assert_eq!(header(s, "authorization"), basic("ACtest", "twilio-token"));
                assert_eq!(
                    header(s, "content-type"),
                    "application/x-www-form-urlencoded"
                );
                assert_eq!(
                    form(&s.body),
                    BTreeMap::from([(
                        "Twiml".to_owned(),
                        format!(
                            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Dial>{TRANSFER_TO}</Dial></Response>"
                        )
                    )])
                );
            }
            Provider::Telnyx => {
                assert_eq!(seen.len(), 1, "{seen:?}");
                let s = &seen[0];
                assert_eq!(s.method, Method::POST);
                assert_eq!(s.path, format!("/v2/calls/{sid}/actions/transfer"));
                assert_eq!(header(s, "authorization"), "Bearer KEYtelnyx");
                assert_eq!(header(s, "content-type"), "application/json");
                assert_eq!(
                    serde_json::from_str::<Value>(&s.body).unwrap(),
                    json!({"to": TRANSFER_TO})
                );
            }
            Provider::Plivo => {
                assert_eq!(seen.len(), 1, "{seen:?}");
                let s = &seen[0];
                assert_eq!(s.method, Method::POST);
                assert_eq!(s.path, format!("/v1/Account/MAtest/Call/{sid}/"));
                assert_eq!(header(s, "authorization"), basic("MAtest", "plivo-token"));
                let body: Value = serde_json::from_str(&s.body).unwrap();
                assert_eq!(body["legs"], "aleg");
                assert_eq!(body["aleg_method"], "GET");
                // Plivo then fetches the XML: it dials the business.
                let url = body["aleg_url"].as_str().unwrap();
                assert!(
                    url.starts_with(&format!("{}/voice/plivo/transfer/", rig.server)),
                    "{url}"
                );
                let xml = reqwest::get(url).await.unwrap().text().await.unwrap();
                assert_eq!(
                    xml,
                    format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Dial><Number>{TRANSFER_TO}</Number></Dial></Response>"
                    )
                );
                // A forged token dials nothing.
                let forged =
                    reqwest::get(format!("{}/voice/plivo/transfer/v1.e30.AAAA", rig.server))
                        .await
                        .unwrap();
                assert!(forged.status().is_client_error());
            }
            Provider::Vonage => {
                assert_eq!(seen.len(), 1, "{seen:?}");
                let s = &seen[0];
                assert_eq!(s.method, Method::PUT);
                assert_eq!(s.path, format!("/v1/calls/{sid}"));
                check_vonage_jwt(&rig, s);
                assert_eq!(
                    serde_json::from_str::<Value>(&s.body).unwrap(),
                    json!({"action": "transfer", "destination": {"type": "ncco", "ncco": [
                        {"action": "connect", "from": DEMO_VOICE_NUMBER.trim_start_matches('+'),
                         "endpoint": [{"type": "phone", "number": TRANSFER_TO.trim_start_matches('+')}]}]}})
                );
            }
            Provider::Exotel => {
                // No call-control API: the flow's Passthru asks us.
                assert!(seen.is_empty(), "{seen:?}");
                assert_eq!(
                    exotel_next(&rig, &sid).await,
                    200,
                    "the flow goes on to its Connect applet"
                );
                let number: Value = reqwest::get(format!(
                    "{}/voice/exotel/transfer-number?CallSid={sid}",
                    rig.server
                ))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
                assert_eq!(number["destination"]["numbers"], json!([TRANSFER_TO]));
                assert_eq!(
                    exotel_next(&rig, "CAother").await,
                    302,
                    "any other call hangs up"
                );
            }
            // Not in the list: the browser's call page has no provider to call.
            Provider::Browser => unreachable!("browser calls have no provider call control"),
        }
        let meta = handoff_row(&rig, from).await;
        assert_eq!(meta["channel"], "voice", "{meta}");
        assert_eq!(meta["reason"], "requested", "{meta}");
        assert_eq!(
            meta["call"],
            json!({"route": "transfer", "to": TRANSFER_TO}),
            "{meta}"
        );
        // (On a loaded machine "One moment, please." may come first; the
        // dialog's row is stamped when its turn began.)
        let lines = bot_lines(&rig, from, 2).await;
        let put_through = lines
            .iter()
            .find(|l| {
                l.1.starts_with(
                    "I'll put you through to a member of the Nywele Bora Salon team now.",
                )
            })
            .unwrap_or_else(|| panic!("{provider}: {lines:?}"));
        assert_eq!(
            put_through.2["barge_in"], false,
            "heard to the end before the transfer"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_number_the_caller_is_promised_a_call_back_and_hung_up_on() {
    let rig = rig().await;
    set_transfer_number(&rig, None).await;
    let providers = [
        (Provider::Twilio, "+254722200001"),
        (Provider::Telnyx, "+254722200002"),
        (Provider::Plivo, "+254722200003"),
        (Provider::Vonage, "+254722200004"),
        (Provider::Exotel, "+254722200005"),
    ];
    let reports = all_at_once(&rig, &providers).await;
    let all_seen = rig.providers.take();
    for ((provider, from), report) in providers.into_iter().zip(reports) {
        assert!(report.server_hung_up, "{provider}");
        let sid = report.call_sid.clone();
        let seen = of_call(&all_seen, &sid);
        if provider == Provider::Exotel {
            // No call-control API: the stream closed, and the flow's
            // Passthru is told to take its Hangup branch.
            assert!(seen.is_empty(), "{seen:?}");
            assert_eq!(exotel_next(&rig, &sid).await, 302);
        } else {
            assert_eq!(seen.len(), 1, "{provider}: one hang-up request: {seen:?}");
            assert_hang_up(&rig, provider, &sid, &seen[0]);
        }
        let meta = handoff_row(&rig, from).await;
        assert_eq!(meta["call"], json!({"route": "promise"}), "{meta}");
        let lines = bot_lines(&rig, from, 2).await;
        let promise = lines
            .iter()
            .find(|l| {
                l.1.contains(
                    "They will call you back on this number shortly, or write to you on WhatsApp",
                )
            })
            .unwrap_or_else(|| panic!("{provider}: {lines:?}"));
        assert_eq!(
            promise.2["barge_in"], false,
            "the promise was heard before the hang-up"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_the_provider_refuses_becomes_a_promise_and_a_hang_up() {
    let rig = rig().await;
    set_transfer_number(&rig, Some(TRANSFER_TO)).await;
    rig.providers.refuse_transfers.store(true, Ordering::SeqCst);
    let providers = [
        (Provider::Twilio, "+254722500001"),
        (Provider::Telnyx, "+254722500002"),
        (Provider::Plivo, "+254722500003"),
        (Provider::Vonage, "+254722500004"),
    ];
    let reports = all_at_once(&rig, &providers).await;
    let all_seen = rig.providers.take();
    for ((provider, from), report) in providers.into_iter().zip(reports) {
        assert!(report.server_hung_up, "{provider}");
        let sid = report.call_sid.clone();
        let seen = of_call(&all_seen, &sid);
        // The transfer (refused), then — once the apology has been heard —
        // the hang-up.
        assert_eq!(seen.len(), 2, "{provider}: {seen:?}");
        assert!(
            is_transfer(&seen[0].method, &seen[0].path, &seen[0].body),
            "{provider}: {:?}",
            seen[0]
        );
        assert_hang_up(&rig, provider, &sid, &seen[1]);
        // The hand-off line now says the team must call back (the notice
        // follows it), and why.
        let meta = handoff_row_where(&rig, from, |m| m["call"]["route"] == "promise").await;
        assert_eq!(
            meta["call"],
            json!({"route": "promise", "transfer_failed": {"to": TRANSFER_TO, "error": "refused"}}),
            "{meta}"
        );
        assert_eq!(meta["channel"], "voice", "{meta}");
        let lines = bot_lines(&rig, from, 3).await;
        let said: Vec<&str> = lines.iter().map(|l| l.1.as_str()).collect();
        let put_through = said
            .iter()
            .position(|l| l.starts_with("I'll put you through"))
            .unwrap_or_else(|| panic!("{provider}: {said:?}"));
        let sorry = lines
            .iter()
            .position(|l| {
                l.0.as_deref() == Some("handoff_transfer_failed")
                    && l.1
                        .starts_with("Sorry, I couldn't put you through just now.")
                    && l.1.contains("call you back on this number")
            })
            .unwrap_or_else(|| panic!("{provider}: {lines:?}"));
        assert!(put_through < sorry, "{provider}: {said:?}");
        assert_eq!(
            lines[sorry].2["barge_in"], false,
            "{provider}: the apology was heard before the hang-up"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_call_greeting_follows_the_personality_dials() {
    let rig = rig().await;
    let mut greetings = Vec::new();
    for (from, lang, mode, honorific) in [
        ("+254722300001", "en", None, None),
        ("+254722300002", "en", Some("short"), Some("formal")),
        ("+254722300003", "en", Some("custom"), None),
        ("+254722300004", "sw", None, None),
        ("+254722300005", "sw", Some("short"), Some("formal")),
    ] {
        sqlx::query("UPDATE public.tenants SET voice_greeting_language = $1 WHERE slug = 'demo'")
            .bind(lang)
            .execute(rig.db.db().pool())
            .await
            .unwrap();
        let mut tx = rig.demo.begin().await.unwrap();
        sqlx::query(
            "INSERT INTO tenant_personality_config (tenant_personality_id, is_singleton, greeting_mode, honorific) \
             VALUES (gen_random_uuid(), TRUE, $1, $2) \
             ON CONFLICT (is_singleton) WHERE is_singleton = TRUE DO UPDATE SET greeting_mode = $1, honorific = $2",
        )
        .bind(mode)
        .bind(honorific)
        .execute(tx.conn())
        .await
        .unwrap();
        tx.commit().await.unwrap();
        call(&rig, Provider::Twilio, from, silent_caller(10)).await;
        let lines = bot_lines(&rig, from, 1).await;
        let greeting = lines
            .iter()
            .find(|l| l.0.as_deref() == Some("greeting"))
            .unwrap_or_else(|| panic!("{from}: {lines:?}"));
        assert_eq!(greeting.2["barge_in"], false, "{from}: heard whole");
        let greeting = greeting.1.clone();
        greetings.push(greeting);
    }
    assert_eq!(
        greetings,
        [
            // The salon vertical's dials: standard greeting, first name
            // (none known on a call).
            "Hello! Welcome to Nywele Bora Salon. How can I help?",
            "Good day. Nywele Bora Salon here. How can I help?",
            // The demo's own words (greeting_custom, seeded).
            "Karibu Nywele Bora Salon! How can we help?",
            // The tenant greets callers in Swahili: the same dials.
            "Habari! Karibu Nywele Bora Salon. Nikusaidie vipi?",
            "Habari yako, mpendwa mteja. Hapa ni Nywele Bora Salon. Nikusaidie vipi?",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unclear_call_turn_uses_the_model_and_a_slow_model_only_within_the_budget() {
    let rig = rig().await;
    let unclear = ["Naomba", "ule", "mtindo", "wa", "kichwa", "mzima"];
    // A model that answers: the turn is understood through it (here: the
    // caller wants a person; the hand-off follows, in Swahili).
    let report = call(
        &rig,
        Provider::Twilio,
        "+254722400001",
        caller("sw_booking", &unclear),
    )
    .await;
    assert!(report.server_hung_up);
    let lines = bot_lines(&rig, "+254722400001", 2).await;
    assert!(
        lines
            .iter()
            .any(|l| l.1.contains("Atakupigia tena kwa namba hii")),
        "{lines:?}"
    );
    assert_eq!(*rig.llm.asked.lock().unwrap(), 1);
    rig.providers.take();

    // A model that would take 30 s: after the call's budget the rules
    // answer, and the turn is not tried again (without the budget the try
    // would time out after 5 s, as a database failure, and ask again).
    *rig.llm.slow.lock().unwrap() = true;
    call(
        &rig,
        Provider::Twilio,
        "+254722400002",
        caller_waiting("sw_booking", &unclear, 25),
    )
    .await;
    let lines = bot_lines(&rig, "+254722400002", 2).await;
    let said: Vec<&str> = lines.iter().map(|l| l.1.as_str()).collect();
    assert!(
        said.iter()
            .any(|l| l.starts_with("Samahani, sijaelewa vizuri")),
        "{said:?}"
    );
    assert_eq!(
        *rig.llm.asked.lock().unwrap(),
        2,
        "asked once for this call"
    );
}
