//! A call from the browser (`GET /call/{slug}`), against a real server
//! in-process on loopback: the page and its session endpoint; the media
//! socket spoken as the page speaks it (the simulated caller of `ratiba
//! call --provider browser`: 16 kHz L16 frames in, bot audio out, a clear on
//! barge-in); and the page itself in headless Chromium (Debian's, driven
//! over WebDriver by chromedriver with `fantoccini`) with a fake microphone
//! playing a recorded caller who speaks over the greeting.
//!
//! The browser test needs `chromium` and `chromium-driver`
//! (`scripts/bootstrap --ci` installs them) and saves screenshots of the
//! page under `target/` (`call-page.png`, `call-page-in-call.png`).

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::browser::{chromium, chromium_args, start_driver, target_dir};
use ratiba::adapters::speech::espeak::Espeak;
use ratiba::adapters::speech::scripted::Transcript;
use ratiba::adapters::speech::{SpeechProviders, SpeechToText};
use ratiba::adapters::telephony::Provider;
use ratiba::adapters::telephony::media_token::MediaTokenKey;
use ratiba::cli::call::{SimOptions, simulate};
use ratiba::core::audio::wav;
use ratiba::core::ids::{PhoneNumber, TenantSlug};
use ratiba::http::media_auth::TelephonyAuth;
use ratiba::runtime::call_setup::{
    CallServices, EchoConversation, StaticDirectory, VoiceDials, VoiceTenant,
};
use ratiba::runtime::metrics::Metrics;
use ratiba::runtime::shutdown::Shutdown;
use ratiba::runtime::writer::{self, CallRow, Direction, MemorySink};

struct Server {
    base: String,
    sink: Arc<MemorySink>,
}

fn tenant(slug: &str, status: &str) -> VoiceTenant {
    VoiceTenant {
        slug: TenantSlug::parse(slug).unwrap(),
        name: "Nywele Bora Salon".into(),
        status: status.into(),
        trial_ends_at: None,
        deleted_at: None,
        voice_enabled: true,
        // Full duplex with the backchannel filter: speech over the bot
        // interrupts it.
        dials: VoiceDials::default(),
    }
}

async fn start_server(stt: Option<Arc<dyn SpeechToText>>) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut numbers = HashMap::new();
    numbers.insert(
        PhoneNumber::parse("+254711000100").unwrap(),
        tenant("demo", "active"),
    );
    numbers.insert(
        PhoneNumber::parse("+254711000999").unwrap(),
        tenant("closed", "suspended"),
    );
    let metrics = Arc::new(Metrics::default());
    let sink = Arc::new(MemorySink::default());
    let (writer, _task) = writer::spawn(
        Arc::clone(&sink),
        Arc::clone(&metrics),
        10_000,
        Shutdown::new(),
        Duration::from_secs(5),
    );
    let services = CallServices {
        directory: Arc::new(StaticDirectory(numbers)),
        conversation: Arc::new(EchoConversation),
        speech: SpeechProviders {
            stt,
            tts: Arc::new(Espeak::new(None)),
        },
        writer,
        metrics,
        public_base_url: base.clone(),
        twilio_auth_token: None,
        auth: Arc::new(TelephonyAuth::new(MediaTokenKey::random())),
        allow_scripted_transcripts: true,
        shutdown: Shutdown::new(),
        turn_log: false,
        payments: None,
        payment_links: None,
        control: Default::default(),
    };
    let app = ratiba::http::media::router(services);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server { base, sink }
}

/// The local recognizer when this build has it (the browser call is then
/// understood); none otherwise.
fn recognizer() -> Option<Arc<dyn SpeechToText>> {
    #[cfg(feature = "local-whisper")]
    {
        use ratiba::adapters::speech::local_whisper::{self, LocalWhisper};
        let path = std::env::var_os(local_whisper::MODEL_ENV)
            .map(PathBuf::from)
            .or_else(local_whisper::default_model_path)
            .expect("no HOME to find the model under");
        let model = LocalWhisper::load(&path).unwrap_or_else(|e| {
            panic!("{e}: run scripts/bootstrap (it makes the local recognizer's model)")
        });
        Some(Arc::new(model))
    }
    #[cfg(not(feature = "local-whisper"))]
    None
}

fn caller_turns(rows: &[CallRow]) -> Vec<String> {
    rows.iter()
        .filter_map(|r| match r {
            CallRow::Interaction {
                direction: Direction::Inbound,
                content,
                ..
            } => Some(content.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn the_call_page_and_its_session_are_served_for_tenants_that_take_calls() {
    let server = start_server(None).await;
    let http = reqwest::Client::new();
    let page = http
        .get(format!("{}/call/demo", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains("<h1>Nywele Bora Salon</h1>"), "display name");
    assert!(html.contains("aria-label=\"Call Nywele Bora Salon\""));
    assert!(html.contains("--brand: #0F766E"), "the widget colour");
    assert!(
        html.contains("cannot understand what you say"),
        "no recognizer here"
    );
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "nothing is fetched from elsewhere"
    );
    for slug in ["closed", "nobody", "Bad-Slug"] {
        let status = http
            .get(format!("{}/call/{slug}", server.base))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 404, "{slug}");
    }

    let session = |slug: &str, phone: &str| {
        http.post(format!("{}/call/{slug}/session", server.base))
            .json(&serde_json::json!({ "phone": phone }))
            .send()
    };
    assert_eq!(session("demo", "not a number").await.unwrap().status(), 422);
    assert_eq!(session("closed", "0722000111").await.unwrap().status(), 404);
    let ok: serde_json::Value = session("demo", "0722 000 111")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let media = ok["media"].as_str().unwrap();
    assert!(media.starts_with("/media/browser/v1."), "{media}");

    // The socket needs its token, and a token opens one call.
    let ws = server.base.replacen("http://", "ws://", 1);
    let err = tokio_tungstenite::connect_async(format!("{ws}/media/browser"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    let forged = format!("{ws}{}x", media);
    let err = tokio_tungstenite::connect_async(forged).await.unwrap_err();
    assert!(err.to_string().contains("403"), "{err}");
}

/// The page's protocol without a browser: 16 kHz L16 frames of the
/// barge-in demo call in real time; the bot's audio comes back, and when the
/// caller cuts in, a clear follows within 300 ms of the onset and nothing
/// of that answer plays after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_socket_call_is_answered_and_cleared_on_barge_in() {
    let server = start_server(None).await;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/calls");
    let audio = wav::parse(&std::fs::read(dir.join("en_barge_in.wav")).unwrap()).unwrap();
    let transcript =
        Transcript::parse(&std::fs::read(dir.join("en_barge_in.json")).unwrap()).unwrap();
    let opts = SimOptions {
        server: server.base.clone(),
        provider: Provider::Browser,
        to: "demo".into(),
        from: "+254722000111".into(),
        audio,
        transcript: Some(transcript.clone()),
        fast: false,
        twilio_auth_token: None,
        max_duration: Duration::from_secs(120),
    };
    let report = simulate(&opts).await.expect("call");
    assert_eq!(report.reply_rate, 16_000);
    assert!(report.marks_echoed > 0);
    let onset = transcript
        .words
        .windows(2)
        .find(|w| w[1].start_ms - w[0].end_ms > 2000)
        .map(|w| w[1].start_ms)
        .expect("a second phrase");
    let cut = report
        .segments
        .iter()
        .find(|s| s.cleared && s.start_ms < onset && s.end_ms >= onset)
        .unwrap_or_else(|| panic!("the bot was not cut at {onset} ms: {report:?}"));
    assert!(
        cut.end_ms - onset <= 300,
        "clear {} ms late",
        cut.end_ms - onset
    );
    let clear = *report.clears_ms.iter().find(|c| **c >= onset).unwrap();
    let after = (clear + 40) as usize * 16;
    let until = (onset + 1500) as usize * 16;
    let leaked = report
        .reply
        .get(after..until.min(report.reply.len()))
        .unwrap_or_default()
        .iter()
        .filter(|s| s.unsigned_abs() > 2000)
        .count();
    assert_eq!(leaked, 0, "bot audio kept playing after the clear");
    let rows = server.sink.rows.lock().unwrap().clone();
    let turns = caller_turns(&rows);
    assert!(
        turns.iter().any(|t| t.contains("book")),
        "the caller's words reached the conversation: {turns:?}"
    );
}

// ------------------------------------------------------------ Chromium

/// The fake microphone: 2.5 s of silence (the greeting plays), then a real
/// recorded English sentence ("he was not an ill disposed young man") over
/// the rest of the greeting, then silence; 16 kHz mono.
fn caller_recording(path: &Path) -> Vec<String> {
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpus");
    let audio =
        wav::parse(&std::fs::read(corpus.join("pub_s05_single_en_real.wav")).unwrap()).unwrap();
    let speech = ratiba::core::audio::resample_all(
        &audio.samples[audio.rate_hz as usize * 800 / 1000..audio.rate_hz as usize * 3700 / 1000],
        audio.rate_hz,
        16_000,
    )
    .unwrap();
    let mut samples = vec![0i16; 16_000 * 5 / 2];
    samples.extend_from_slice(&speech);
    samples.extend(std::iter::repeat_n(0i16, 16_000 * 8));
    std::fs::write(path, wav::encode_pcm16(16_000, &samples)).unwrap();
    "he was not an ill disposed young man"
        .split(' ')
        .map(str::to_owned)
        .collect()
}

async fn page_state(client: &fantoccini::Client) -> serde_json::Value {
    client
        .execute("return window.ratibaCall || null;", vec![])
        .await
        .unwrap()
}

/// Polls the page's call state until `ok` holds (or panics after `secs`).
async fn wait_for(
    client: &fantoccini::Client,
    secs: u64,
    what: &str,
    ok: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let state = page_state(client).await;
        if ok(&state) {
            return state;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("{what}: not within {secs} s; the page says {state}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_in_headless_chromium_is_answered_and_barge_in_flushes_its_playback() {
    let stt = recognizer();
    let understood = stt.is_some();
    let server = start_server(stt).await;
    let scratch = tempfile::tempdir().unwrap();
    let mic = scratch.path().join("caller.wav");
    let said = caller_recording(&mic);
    let profile = scratch.path().join("profile");
    let driver = start_driver().await;

    let args = chromium_args(
        &profile,
        &[
            "--autoplay-policy=no-user-gesture-required".into(),
            "--use-fake-ui-for-media-stream".into(),
            "--use-fake-device-for-media-stream".into(),
            format!("--use-file-for-fake-audio-capture={}%noloop", mic.display()),
            "--window-size=412,860".into(),
        ],
    );
    let client = chromium(&driver, args).await;

    // ?raw=1: echo cancellation, noise suppression and auto gain off (the
    // fake microphone is the caller, not a room).
    client
        .goto(&format!("{}/call/demo?raw=1", server.base))
        .await
        .unwrap();
    let shots = target_dir();
    let png = client.screenshot().await.unwrap();
    std::fs::write(shots.join("call-page.png"), &png).unwrap();
    let button = client
        .find(fantoccini::Locator::Css("[data-testid=call-button]"))
        .await
        .unwrap();
    assert_eq!(
        button.attr("aria-label").await.unwrap().as_deref(),
        Some("Call Nywele Bora Salon")
    );
    client
        .find(fantoccini::Locator::Css("[data-testid=call-phone]"))
        .await
        .unwrap()
        .send_keys("0722 000 111")
        .await
        .unwrap();
    button.click().await.unwrap();

    // Answered: the greeting's audio reaches the page and is queued.
    let answered = wait_for(&client, 20, "bot audio on the page", |s| {
        s["botChunks"].as_u64().unwrap_or(0) > 0
    })
    .await;
    eprintln!("answered: {answered}");
    let png = client.screenshot().await.unwrap();
    std::fs::write(shots.join("call-page-in-call.png"), &png).unwrap();

    // The caller speaks over the greeting: the server's clear reaches the
    // page, which drops what it had queued at once.
    let cleared = wait_for(&client, 20, "a clear on barge-in", |s| {
        s["clears"].as_u64().unwrap_or(0) > 0
    })
    .await;
    eprintln!("after the barge-in: {cleared}");
    assert!(
        cleared["lastFlushedMs"].as_u64().unwrap_or(0) > 0,
        "greeting audio was still queued when the clear came: {cleared}"
    );
    assert!(cleared["playingAtLastClear"].as_u64().unwrap_or(0) > 0);
    assert_eq!(
        cleared["playing"].as_u64(),
        Some(0),
        "nothing plays after it"
    );
    assert!(cleared["framesSent"].as_u64().unwrap_or(0) > 50);
    assert!(cleared["marksEchoed"].as_u64().unwrap_or(0) > 0);

    if understood {
        // Spoken English understood with no cloud keys: the caller's turn,
        // transcribed by the local recognizer, reached the conversation.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let turns = loop {
            let rows = server.sink.rows.lock().unwrap().clone();
            let turns = caller_turns(&rows);
            if !turns.is_empty() || tokio::time::Instant::now() > deadline {
                break turns;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let heard = turns.join(" ").to_lowercase();
        let hits = said.iter().filter(|w| heard.contains(w.as_str())).count();
        eprintln!("the call heard: {turns:?}");
        assert!(hits > said.len() / 2, "heard {turns:?}");
    }

    client
        .find(fantoccini::Locator::Css("[data-testid=call-hangup]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&client, 10, "the call ends", |s| s["state"] == "ended").await;
    client.close().await.unwrap();
}
