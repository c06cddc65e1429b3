//! Whole calls against a real server in-process on loopback: the simulated
//! caller of `ratiba call` dials in exactly as each provider would, the
//! server answers with espeak-ng, and the rows reach the writer.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ratiba::adapters::speech::espeak::Espeak;
use ratiba::adapters::speech::whisper::WhisperServer;
use ratiba::adapters::speech::{SpeechProviders, SpeechToText};
use ratiba::adapters::telephony::Provider;
use ratiba::adapters::telephony::media_token::MediaTokenKey;
use ratiba::cli::call::{SimOptions, SimReport, simulate};
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
    metrics: Arc<Metrics>,
}

fn tenant(slug: &str, status: &str, voice_enabled: bool) -> VoiceTenant {
    VoiceTenant {
        slug: TenantSlug::parse(slug).unwrap(),
        name: "Nywele Bora Salon".into(),
        status: status.into(),
        trial_ends_at: None,
        deleted_at: None,
        voice_enabled,
        dials: VoiceDials::default(),
    }
}

async fn start_server() -> Server {
    start_server_with(None).await
}

async fn start_server_with(stt: Option<Arc<dyn SpeechToText>>) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut numbers = HashMap::new();
    numbers.insert(
        PhoneNumber::parse("+254711000100").unwrap(),
        tenant("demo", "active", true),
    );
    numbers.insert(
        PhoneNumber::parse("+254711000999").unwrap(),
        tenant("closed", "suspended", true),
    );
    let mut acks = tenant("acks", "active", true);
    acks.dials.turn.voice_listening_ack = true;
    numbers.insert(PhoneNumber::parse("+254711000200").unwrap(), acks);
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
        metrics: Arc::clone(&metrics),
        public_base_url: base.clone(),
        twilio_auth_token: Some("test-token".into()),
        auth: Arc::new(TelephonyAuth::new(MediaTokenKey::random())),
        allow_scripted_transcripts: true,
        shutdown: Shutdown::new(),
        turn_log: false,
        payments: None,
        payment_links: None,
        control: Default::default(),
    };
    let app = ratiba::http::media::router(services)
        .merge(ratiba::http::metrics::router(Arc::clone(&metrics)));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        base,
        sink,
        metrics,
    }
}

fn options(server: &Server, provider: Provider, name: &str, fast: bool) -> SimOptions {
    let (audio, transcript) = common::calls::demo_call(name);
    SimOptions {
        server: server.base.clone(),
        provider,
        // The call page dials the tenant's slug, not a number.
        to: if provider == Provider::Browser {
            "demo".into()
        } else {
            "+254711000100".into()
        },
        from: "+254722000111".into(),
        audio,
        transcript: Some(transcript),
        fast,
        twilio_auth_token: Some("test-token".into()),
        max_duration: Duration::from_secs(120),
    }
}

/// The caller's turns the call wrote.
fn caller_turns(rows: &[CallRow]) -> Vec<&str> {
    rows.iter()
        .filter_map(|r| match r {
            CallRow::Interaction {
                direction: Direction::Inbound,
                content,
                ..
            } => Some(content.as_str()),
            _ => None,
        })
        .collect()
}

async fn rows_settle(sink: &MemorySink, min_closed: usize) -> Vec<CallRow> {
    for _ in 0..100 {
        let rows = sink.rows.lock().unwrap().clone();
        let closed = rows
            .iter()
            .filter(|r| matches!(r, CallRow::ThreadClosed { .. }))
            .count();
        if closed >= min_closed {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("threads were not closed");
}

/// Every provider's call, streamed fast: the bot greets and answers, the
/// caller's words reach the conversation, and the call's rows are written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_provider_completes_a_call() {
    let server = start_server().await;
    let calls = Provider::ALL.map(|p| {
        let opts = options(&server, p, "en_booking", true);
        async move { (p, simulate(&opts).await) }
    });
    let results: Vec<(Provider, anyhow::Result<SimReport>)> =
        futures::future::join_all(calls).await;
    for (p, r) in &results {
        let r = r.as_ref().unwrap_or_else(|e| panic!("{p}: {e:#}"));
        let spoken: u64 = r.segments.iter().map(|s| s.end_ms - s.start_ms).sum();
        assert!(spoken >= 1000, "{p}: the bot spoke only {spoken} ms");
        assert!(r.marks_echoed > 0, "{p}: no playback markers");
        let loud = r.reply.iter().filter(|s| s.unsigned_abs() > 2000).count();
        assert!(loud > 1000, "{p}: the recorded reply is silent");
    }
    let rows = rows_settle(&server.sink, Provider::ALL.len()).await;
    let opened = rows
        .iter()
        .filter(|r| matches!(r, CallRow::ThreadOpened { .. }))
        .count();
    assert_eq!(opened, Provider::ALL.len());
    let caller_texts = caller_turns(&rows);
    assert!(
        caller_texts
            .iter()
            .filter(|t| t.contains("haircut"))
            .count()
            >= Provider::ALL.len(),
        "{caller_texts:?}"
    );
    assert!(
        rows.iter().any(
            |r| matches!(r, CallRow::Caller { phone_e164, .. } if phone_e164 == "+254722000111")
        )
    );
    let metrics = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("ratiba_active_calls 0"));
    assert!(metrics.contains(&format!("ratiba_calls_total {}", Provider::ALL.len())));
    assert!(server.metrics.frame_seconds.count() > 0);
}

/// The barge-in demo call, in real time: the caller cuts into the bot's
/// answer and the bot's audio stops (clear sent) within 300 ms of the
/// caller's onset in the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn barge_in_stops_the_bot_within_300ms() {
    let server = start_server().await;
    let opts = options(&server, Provider::Twilio, "en_barge_in", false);
    let report = simulate(&opts).await.expect("call");
    let transcript = opts.transcript.as_ref().unwrap();
    // The interrupting phrase: the first word after the question's pause.
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
    let reaction = cut.end_ms - onset;
    assert!(
        reaction <= 300,
        "clear {reaction} ms after the caller's onset"
    );
    let clear = report
        .clears_ms
        .iter()
        .find(|c| **c >= onset)
        .expect("a clear after the onset");
    eprintln!("barge-in: caller onset {onset} ms, clear sent at {clear} ms");
    assert!(clear - onset <= 300);
    // The caller heard nothing of that answer after the clear.
    let after = (clear + 40) as usize * report.reply_rate as usize / 1000;
    let until = (onset + 1500) as usize * report.reply_rate as usize / 1000;
    let leaked = report
        .reply
        .get(after..until.min(report.reply.len()))
        .unwrap_or_default()
        .iter()
        .filter(|s| s.unsigned_abs() > 2000)
        .count();
    assert_eq!(leaked, 0, "bot audio kept playing after the clear");

    let rows = rows_settle(&server.sink, 1).await;
    let interrupted = rows.iter().any(|r| {
        matches!(r, CallRow::Interaction { direction: Direction::Outbound, metadata, .. }
            if metadata["barge_in"] == true && metadata["heard_up_to_ms"].as_u64().is_some_and(|h| h > 0))
    });
    assert!(interrupted, "the cut answer is recorded with heard-up-to");
    assert!(server.metrics.barge_in_reaction_seconds.count() >= 1);
}

#[tokio::test]
async fn unknown_or_suspended_numbers_get_a_polite_refusal() {
    let server = start_server().await;
    for to in ["+254711000999", "+254700123456"] {
        let mut opts = options(&server, Provider::Twilio, "en_booking", true);
        opts.to = to.into();
        let err = simulate(&opts).await.unwrap_err();
        assert!(format!("{err:#}").contains("did not connect"), "{err:#}");
    }
    let twiml = reqwest::Client::new()
        .post(format!("{}/voice/twilio", server.base))
        .header(
            "X-Twilio-Signature",
            ratiba::adapters::telephony::twilio::signature(
                "test-token",
                &format!("{}/voice/twilio", server.base),
                &[
                    ("CallSid".into(), "CA1".into()),
                    ("To".into(), "+254711000999".into()),
                ],
            ),
        )
        .form(&[("CallSid", "CA1"), ("To", "+254711000999")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        twiml.contains("<Say") && twiml.contains("<Hangup/>"),
        "{twiml}"
    );
    assert_eq!(
        server
            .metrics
            .calls_rejected
            .load(std::sync::atomic::Ordering::Relaxed),
        3
    );
}

#[tokio::test]
async fn twilio_webhook_without_a_valid_signature_is_refused() {
    let server = start_server().await;
    let status = reqwest::Client::new()
        .post(format!("{}/voice/twilio", server.base))
        .header("X-Twilio-Signature", "AAAA")
        .form(&[("CallSid", "CA1"), ("To", "+254711000100")])
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 403);
}

/// A peer that breaks the protocol loses its call; the server carries on.
#[tokio::test]
async fn bad_media_input_closes_only_that_call() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let server = start_server().await;
    // A media URL (with its per-call token) from the webhook.
    let texml = reqwest::Client::new()
        .post(format!("{}/voice/telnyx", server.base))
        .form(&[("To", "+254711000100"), ("From", "+254722000111")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (ws_url, _) = ratiba::adapters::telephony::twilio::parse_connect_stream(&texml).unwrap();
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url.as_str())
        .await
        .unwrap();
    ws.send(Message::text(
        r#"{"event":"media","media":{"payload":"AAAA"}}"#,
    ))
    .await
    .unwrap();
    // Media before start: the server closes the socket.
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(m) = ws.next().await {
            if matches!(m, Ok(Message::Close(_)) | Err(_)) {
                return true;
            }
        }
        true
    })
    .await
    .unwrap();
    assert!(closed);
    // And a good call still works afterwards.
    let opts = options(&server, Provider::Telnyx, "sw_booking", true);
    let report = simulate(&opts).await.unwrap();
    assert!(!report.segments.is_empty());
}

/// A per-utterance recognizer (an OpenAI-compatible whisper server, faked on
/// loopback) on a live call: the call asks it for a transcript when the
/// caller stops, the turn waits for the answer, and the words reach the
/// conversation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_utterance_recognizer_is_flushed_when_the_caller_stops() {
    use axum::routing::post;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let requests = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&requests);
    let app = axum::Router::new().route(
        "/v1/audio/transcriptions",
        post(move || {
            let seen = Arc::clone(&seen);
            async move {
                seen.fetch_add(1, Ordering::SeqCst);
                // A slow recognizer: the answer comes well after the
                // engine's end-of-turn silence has started.
                tokio::time::sleep(Duration::from_millis(300)).await;
                r#"{"language":"english","text":" I want a haircut.","words":[{"word":" I","start":0.0,"end":0.1},{"word":" want","start":0.1,"end":0.3},{"word":" a","start":0.3,"end":0.4},{"word":" haircut.","start":0.4,"end":0.9}]}"#
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let whisper_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let stt: Arc<dyn SpeechToText> = Arc::new(WhisperServer::new(
        whisper_url,
        None,
        Duration::from_secs(5),
    ));
    let server = start_server_with(Some(stt)).await;
    let mut opts = options(&server, Provider::Twilio, "en_booking", true);
    opts.transcript = None;
    let report = simulate(&opts).await.expect("call");
    assert!(
        requests.load(Ordering::SeqCst) >= 1,
        "the recognizer was never asked"
    );
    let rows = rows_settle(&server.sink, 1).await;
    let heard = caller_turns(&rows);
    assert!(
        heard.iter().any(|t| t.contains("I want a haircut.")),
        "caller turns: {heard:?}"
    );
    // The greeting and at least one answer.
    let answers = report.segments.len();
    assert!(answers >= 2, "the bot spoke {answers} times");
}

/// A long caller turn with a pause in it, on a tenant with voice_listening_ack:
/// the caller hears a soft "mm-hmm" in the pause (real time, so the clips made
/// at call start are ready as they would be on a phone line).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_turn_with_a_pause_gets_a_listening_acknowledgement() {
    let server = start_server().await;
    let p02 =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpus/pub_p02_pause_en_syn.wav");
    let turn = wav::parse(&std::fs::read(p02).unwrap()).unwrap();
    // Quiet while the greeting plays, then "I need to reschedule … my
    // appointment … to next Tuesday" (3.4 s of turn before its 800 ms pause).
    let mut samples = vec![0i16; 8000 * 5];
    samples.extend_from_slice(&turn.samples);
    samples.extend(std::iter::repeat_n(0i16, 8000 * 2));
    let report = simulate(&SimOptions {
        server: server.base.clone(),
        provider: Provider::Twilio,
        to: "+254711000200".into(),
        from: "+254722000111".into(),
        audio: wav::Wav {
            rate_hz: 8000,
            samples,
        },
        transcript: None,
        fast: false,
        twilio_auth_token: Some("test-token".into()),
        max_duration: Duration::from_secs(60),
    })
    .await
    .expect("call");
    let acks = server
        .metrics
        .listening_acks
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(acks, 1, "{report:?}");
    // The caller heard it: short bot audio after the greeting, in the turn.
    assert!(
        report
            .segments
            .iter()
            .skip(1)
            .any(|s| s.start_ms >= 5_000 && s.end_ms - s.start_ms <= 800),
        "{:?}",
        report.segments
    );
}

/// A caller who says nothing: after the greeting and 10 s of silence the
/// bot asks whether they are still there, after another 10 s it says
/// goodbye, and then it hangs up (closes the provider's socket).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_caller_is_asked_if_still_there_then_the_bot_says_goodbye_and_hangs_up() {
    let server = start_server().await;
    let report = simulate(&SimOptions {
        server: server.base.clone(),
        provider: Provider::Twilio,
        to: "+254711000100".into(),
        from: "+254722000111".into(),
        audio: wav::Wav {
            rate_hz: 8000,
            samples: vec![0i16; 8000 * 40],
        },
        transcript: None,
        fast: true,
        twilio_auth_token: Some("test-token".into()),
        max_duration: Duration::from_secs(60),
    })
    .await
    .expect("call");
    assert!(report.server_hung_up, "{report:?}");
    // Greeting, "Are you still there?", goodbye: three things said, each
    // maybe in pieces a moment apart when the machine is busy (the
    // greeting once came as 260-360 ms and 420-4500 ms), ten seconds apart.
    let mut said: Vec<(u64, u64)> = Vec::new();
    for seg in &report.segments {
        match said.last_mut() {
            Some(last) if seg.start_ms.saturating_sub(last.1) < 1_000 => last.1 = seg.end_ms,
            _ => said.push((seg.start_ms, seg.end_ms)),
        }
    }
    assert_eq!(said.len(), 3, "{:?}", report.segments);
    let gap = said[1].0 - said[0].1;
    assert!((10_000..=10_500).contains(&gap), "asked after {gap} ms");
    assert!(report.duration_ms < 35_000, "{}", report.duration_ms);
    let rows = rows_settle(&server.sink, 1).await;
    let said: Vec<&str> = rows
        .iter()
        .filter_map(|r| match r {
            CallRow::Interaction {
                direction: Direction::Outbound,
                intent: Some(i),
                content,
                ..
            } if i == "no_input" => Some(content.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(said.len(), 2, "{said:?}");
    assert!(said[0].contains("still there"), "{said:?}");
    assert!(said[1].contains("goodbye"), "{said:?}");
    let closed = rows
        .iter()
        .any(|r| matches!(r, CallRow::ThreadClosed { reason, .. } if *reason == "abandon"));
    assert!(closed);
}
