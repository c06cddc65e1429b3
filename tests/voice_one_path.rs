//! One path from frame to turn event: corpus recordings played as a caller
//! into a live call on loopback (real websocket, real call task, scripted
//! recognizer on the recording's transcript, espeak-ng speaking) decide the
//! same turn events, within one 20 ms frame, as `ratiba analyze`'s replay of
//! the same audio with the bot playback and dialog hints that call had.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use ratiba::adapters::speech::espeak::Espeak;
use ratiba::adapters::speech::scripted::Transcript;
use ratiba::adapters::speech::{SpeechProviders, sentences};
use ratiba::adapters::telephony::Provider;
use ratiba::adapters::telephony::media_token::MediaTokenKey;
use ratiba::cli::analyze::{CorpusTranscript, ReplayEvent, replay_cues, reported};
use ratiba::cli::call::{SimOptions, simulate};
use ratiba::core::audio::{g711, wav};
use ratiba::core::ids::{Lang, PhoneNumber, TenantSlug};
use ratiba::core::turn::{Cue, TurnDials};
use ratiba::http::media_auth::TelephonyAuth;
use ratiba::runtime::call::CallReport;
use ratiba::runtime::call_setup::{
    BotReply, CallContext, CallConversation, CallServices, CallerTurn, ConversationError,
    StaticDirectory, VoiceDials, VoiceTenant,
};
use ratiba::runtime::metrics::Metrics;
use ratiba::runtime::shutdown::Shutdown;
use ratiba::runtime::writer::{self, MemorySink};

/// The bot talks at length (so callers can talk over it) and hands each
/// finished call's report to the test.
#[derive(Default)]
struct Talkative {
    reports: Mutex<Vec<CallReport>>,
}

const LONG_GREETING: &str = "Hello, welcome to Nywele Bora Salon. We do haircuts, braids, \
    colour and manicures, and we are open every day from eight in the morning to eight in the \
    evening. How can I help you today?";
const REPLY: &str = "Let me check that for you. We have openings on Friday at ten, eleven \
    thirty and two in the afternoon. Which one works best for you?";

impl CallConversation for Talkative {
    fn greeting(&self, ctx: &CallContext) -> BotReply {
        let text = if ctx.tenant.name == "short" {
            "Hi."
        } else {
            LONG_GREETING
        };
        BotReply::said(sentences(text), Lang::En, "greeting")
    }

    fn reply<'a>(
        &'a self,
        _ctx: &'a CallContext,
        _turn: CallerTurn,
    ) -> BoxFuture<'a, Result<BotReply, ConversationError>> {
        Box::pin(async move { Ok(BotReply::said(sentences(REPLY), Lang::En, "reply")) })
    }

    fn call_ended(&self, _ctx: &CallContext, report: &CallReport) {
        self.reports.lock().unwrap().push(report.clone());
    }
}

/// The dials `ratiba analyze` replays with by default: the demo tenant's.
fn dials() -> VoiceDials {
    VoiceDials {
        turn: TurnDials::all_on(),
        ..VoiceDials::default()
    }
}

async fn start_server(conversation: Arc<Talkative>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut numbers = HashMap::new();
    for (number, name) in [("+254711000100", "long"), ("+254711000300", "short")] {
        numbers.insert(
            PhoneNumber::parse(number).unwrap(),
            VoiceTenant {
                slug: TenantSlug::parse("demo").unwrap(),
                name: name.into(),
                status: "active".into(),
                trial_ends_at: None,
                deleted_at: None,
                voice_enabled: true,
                dials: dials(),
            },
        );
    }
    let metrics = Arc::new(Metrics::default());
    let (writer, _task) = writer::spawn(
        Arc::new(MemorySink::default()),
        Arc::clone(&metrics),
        10_000,
        Shutdown::new(),
        Duration::from_secs(5),
    );
    let services = CallServices {
        directory: Arc::new(StaticDirectory(numbers)),
        conversation,
        speech: SpeechProviders {
            stt: None,
            tts: Arc::new(Espeak::new(None)),
        },
        writer,
        metrics,
        public_base_url: base.clone(),
        twilio_auth_token: None,
        auth: Arc::new(TelephonyAuth::new(MediaTokenKey::random())),
        allow_scripted_transcripts: true,
        shutdown: Shutdown::new(),
        turn_log: true,
        payments: None,
        payment_links: None,
        control: Default::default(),
    };
    let app = ratiba::http::media::router(services);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// Line before each recording: its own first 400 ms (the line before the
/// caller speaks) three times over. The bot starts 0.4-0.6 s into a call,
/// as fast as espeak-ng synthesises on a loaded machine; a recording whose
/// caller speaks from 0.5 s would otherwise land its first syllable in the
/// echo gate's learning window on some runs and not on others. The
/// comparison is of frames to events, so where the speech sits is free.
const LEAD_MS: u64 = 1_200;

fn corpus(id: &str) -> (wav::Wav, Vec<u8>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpus");
    let mut audio = wav::parse(&std::fs::read(dir.join(format!("{id}.wav"))).unwrap()).unwrap();
    let before = audio.rate_hz as usize * 400 / 1000;
    let line: Vec<i16> = audio.samples[..before].to_vec();
    let mut samples = Vec::with_capacity(audio.samples.len() + 3 * before);
    for _ in 0..3 {
        samples.extend_from_slice(&line);
    }
    samples.extend_from_slice(&audio.samples);
    audio.samples = samples;
    let mut transcript: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(format!("{id}.transcript.json"))).unwrap())
            .unwrap();
    for word in transcript["words"].as_array_mut().unwrap() {
        for key in ["start_ms", "end_ms"] {
            let t = word[key].as_u64().unwrap();
            word[key] = (t + LEAD_MS).into();
        }
    }
    (audio, serde_json::to_vec(&transcript).unwrap())
}

/// Places one call with `id`'s audio and returns its report.
async fn live_call(base: &str, talkative: &Talkative, id: &str, to: &str) -> CallReport {
    let (audio, transcript) = corpus(id);
    let before = talkative.reports.lock().unwrap().len();
    simulate(&SimOptions {
        server: base.to_owned(),
        provider: Provider::Twilio,
        to: to.into(),
        from: "+254722000111".into(),
        audio,
        transcript: Some(Transcript::parse(&transcript).unwrap()),
        fast: true,
        twilio_auth_token: None,
        max_duration: Duration::from_secs(60),
    })
    .await
    .unwrap_or_else(|e| panic!("{id}: {e:#}"));
    for _ in 0..200 {
        if let Some(r) = talkative.reports.lock().unwrap().get(before) {
            return r.clone();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{id}: the call task never ended");
}

/// `ratiba analyze`'s replay of the audio the call heard (mu-law on the
/// line) with the call's cues, up to `until_ms`.
fn replayed(id: &str, cues: &[(u64, Cue)], until_ms: u64) -> Vec<ReplayEvent> {
    let (audio, transcript) = corpus(id);
    let transcript: CorpusTranscript = serde_json::from_slice(&transcript).unwrap();
    let mut line: Vec<i16> = audio
        .samples
        .iter()
        .map(|&s| g711::mulaw_decode(g711::mulaw_encode(s)))
        .collect();
    // After the recording the simulated caller sends silence.
    line.resize(until_ms as usize * 8, 0);
    replay_cues(&line, 8_000, cues, Some(&transcript), &dials().turn).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_call_and_analyze_decide_the_same_turn_events_within_a_frame() {
    let talkative = Arc::new(Talkative::default());
    let base = start_server(Arc::clone(&talkative)).await;
    let cases = [
        ("pub_b02_backchannel_en", "+254711000100"),
        ("pub_b04_backchannel_sw", "+254711000100"),
        ("pub_i01_bargein_en", "+254711000100"),
        ("pub_i03_bargein_sw", "+254711000100"),
        ("pub_p02_pause_en_syn", "+254711000300"),
        ("pub_s01_single_en_syn", "+254711000300"),
    ];
    let mut kinds: HashMap<&str, usize> = HashMap::new();
    for (id, to) in cases {
        let report = live_call(&base, &talkative, id, to).await;
        let log = &report.turn_log;
        // Compare up to the last thing the live call heard (its log ends
        // when the caller hangs up).
        let until = log
            .events
            .iter()
            .map(|(t, _)| *t)
            .chain(log.cues.iter().map(|(t, _)| *t))
            .max()
            .unwrap_or(0)
            + 20;
        let live: Vec<(u64, &str)> = log
            .events
            .iter()
            .filter_map(|&(t, e)| reported(e).map(|k| (t, k)))
            .collect();
        let replay: Vec<(u64, &str)> = replayed(id, &log.cues, until)
            .into_iter()
            .filter(|e| (e.t_ms as u64) < until)
            .map(|e| (e.t_ms as u64, e.kind))
            .collect();
        assert!(
            !live.is_empty(),
            "{id}: the live call decided nothing (analyze's replay: {replay:?}): {report:?}"
        );
        let same = live.len() == replay.len()
            && live
                .iter()
                .zip(&replay)
                .all(|((ta, ka), (tb, kb))| ka == kb && ta.abs_diff(*tb) <= 20);
        assert!(
            same,
            "{id}: live call and analyze differ\n  cues:   {:?}\n  live:   {live:?}\n  replay: {replay:?}",
            log.cues
        );
        for (_, k) in &live {
            *kinds.entry(k).or_default() += 1;
        }
        eprintln!("{id}: {} events agree: {live:?}", live.len());
    }
    // The scenarios did what they are for on the live call.
    for kind in ["end_of_turn", "barge_in", "backchannel", "speech_start"] {
        assert!(
            kinds.get(kind).copied().unwrap_or(0) > 0,
            "no {kind}: {kinds:?}"
        );
    }
}
