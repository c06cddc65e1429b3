//! Load bench: N simulated Twilio calls on loopback against one server
//! process. The server (media routes, call tasks with the core turn engine,
//! scripted recognizer, an instant tone synthesizer, an in-memory writer)
//! runs pinned to CPU 0; the load generator to CPU 1 (`taskset`, when
//! present). Each caller talks ~2 s then waits ~3 s while the bot answers,
//! so audio flows both ways about half the time.
//!
//! ```text
//! cargo bench --bench load_calls -- [CALLS] [SECONDS]      # default 200 calls, 20 s
//! ```
//! Reports: per-frame processing time, inbound frame lag percentiles, end of
//! turn to first reply audio, server CPU and memory per call — read from the
//! server's own /metrics and /proc.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use futures::{SinkExt, StreamExt};
use ratiba::adapters::speech::{SpeechProviders, TextToSpeech, TtsAudio, TtsRequest, TtsStream};
use ratiba::adapters::telephony::Provider;
use ratiba::adapters::telephony::media_token::MediaTokenKey;
use ratiba::core::ids::{PhoneNumber, TenantSlug};
use ratiba::http::media_auth::{MediaClaimsInput, TelephonyAuth};
use ratiba::runtime::call_setup::{
    CallServices, EchoConversation, StaticDirectory, VoiceDials, VoiceTenant,
};
use ratiba::runtime::metrics::Metrics;
use ratiba::runtime::shutdown::Shutdown;
use ratiba::runtime::writer::{self, CallRow, RowSink, SinkError};
use tokio_tungstenite::tungstenite::Message;

/// The media-token key shared by the bench's server and its callers.
fn bench_media_key() -> MediaTokenKey {
    MediaTokenKey::derive(b"load bench")
}

const CYCLE_MS: u64 = 5000;
const SPEECH_MS: u64 = 2000;

fn main() {
    // `cargo test --all-targets` runs this without `--bench`: a short smoke
    // run (50 calls, 10 s) that proves the bench works; `cargo bench
    // --bench load_calls -- N SECONDS` is the measurement.
    let measuring = std::env::args().any(|a| a == "--bench");
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.first().map(String::as_str) {
        Some("serve") => serve(args.get(1).map_or("0", String::as_str)),
        Some("load") => load(&args[1..]),
        _ => orchestrate(&args, measuring),
    }
}

// ------------------------------------------------------------ the server

/// A synthesizer that answers at once with a tone: ~30 ms per character, at most 1.2 s a sentence.
struct ToneTts;

impl TextToSpeech for ToneTts {
    fn name(&self) -> &'static str {
        "tone"
    }
    fn synthesize(&self, req: TtsRequest) -> TtsStream {
        let ms = (req.text.len() as u64 * 30).min(1200);
        TtsStream::spawn(move |tx| async move {
            let samples = (ms * 8) as usize;
            let bytes: Vec<u8> = (0..samples)
                .map(|i| if (i / 20) % 2 == 0 { 0x20 } else { 0xA0 })
                .collect();
            let _ = tx.send(Ok(TtsAudio::Mulaw8k(bytes))).await;
        })
    }
}

/// Discards rows (the bench measures the call path, not Postgres).
struct NullSink;
impl RowSink for NullSink {
    fn write<'a>(
        &'a self,
        _t: &'a TenantSlug,
        _rows: &'a [CallRow],
    ) -> futures::future::BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async { Ok(()) })
    }
}

fn serve(port: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}"))
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut numbers = HashMap::new();
        numbers.insert(
            PhoneNumber::parse("+254711000100").expect("number"),
            VoiceTenant {
                slug: TenantSlug::parse("demo").expect("slug"),
                name: "Nywele Bora".into(),
                status: "active".into(),
                trial_ends_at: None,
                deleted_at: None,
                voice_enabled: true,
                dials: VoiceDials::default(),
            },
        );
        let metrics = Arc::new(Metrics::default());
        let shutdown = Shutdown::new();
        let (writer, _task) = writer::spawn(
            Arc::new(NullSink),
            Arc::clone(&metrics),
            1_000_000,
            shutdown.clone(),
            Duration::from_secs(1),
        );
        let services = CallServices {
            directory: Arc::new(StaticDirectory(numbers)),
            conversation: Arc::new(EchoConversation),
            speech: SpeechProviders {
                stt: None,
                tts: Arc::new(ToneTts),
            },
            writer,
            metrics: Arc::clone(&metrics),
            public_base_url: format!("http://{addr}"),
            twilio_auth_token: None,
            auth: Arc::new(TelephonyAuth::new(bench_media_key())),
            allow_scripted_transcripts: true,
            shutdown,
            turn_log: false,
            payments: None,
            payment_links: None,
            control: Default::default(),
        };
        let app =
            ratiba::http::media::router(services).merge(ratiba::http::metrics::router(metrics));
        println!("{}", addr.port());
        axum::serve(listener, app).await.expect("serve");
    });
}

// ------------------------------------------------------------ the callers

/// The loudest 1.8 s of a real English recording from the corpus, as
/// mu-law frames of 160 samples.
fn speech_frames() -> Vec<Vec<u8>> {
    let bytes = include_bytes!("../fixtures/corpus/pub_s05_single_en_real.wav");
    let wav = ratiba::core::audio::wav::parse(bytes).expect("corpus wav");
    let frames: Vec<&[i16]> = wav.samples.chunks_exact(160).collect();
    let energy: Vec<f64> = frames
        .iter()
        .map(|f| f.iter().map(|s| f64::from(*s).powi(2)).sum())
        .collect();
    let window = 90.min(frames.len());
    let best = (0..=frames.len() - window)
        .max_by(|a, b| {
            let sum = |i: &usize| energy[*i..*i + window].iter().sum::<f64>();
            sum(a).total_cmp(&sum(b))
        })
        .unwrap_or(0);
    frames[best..best + window]
        .iter()
        .map(|f| f.iter().map(|s| mulaw(*s)).collect())
        .collect()
}

fn mulaw(sample: i16) -> u8 {
    let mut out = [0u8];
    ratiba::core::audio::g711::mulaw_encode_into(&[sample], &mut out);
    out[0]
}

fn transcript(seconds: u64) -> String {
    let mut words = Vec::new();
    let mut t = 0;
    while t + CYCLE_MS <= seconds * 1000 + CYCLE_MS {
        let texts = ["nataka", "miadi", "kesho", "asubuhi", "tafadhali"];
        for (w, text) in texts.iter().enumerate() {
            let start = t + 200 + w as u64 * 360;
            words.push(serde_json::json!({"text": text, "start_ms": start, "end_ms": start + 300}));
        }
        t += CYCLE_MS;
    }
    base64::engine::general_purpose::STANDARD
        .encode(serde_json::json!({"language":"sw","words":words}).to_string())
}

/// How late the generator sent its frames (whole milliseconds): when it
/// cannot keep to the 20 ms schedule, the server's lag figures measure the
/// generator, and the report says so.
struct Lateness {
    counts: Vec<u64>,
}

impl Default for Lateness {
    fn default() -> Self {
        Self {
            counts: vec![0; 1001],
        }
    }
}

impl Lateness {
    fn observe(&mut self, late: Duration) {
        self.counts[(late.as_millis() as usize).min(1000)] += 1;
    }
    fn merge(&mut self, other: &Lateness) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += b;
        }
    }
    fn quantile_ms(&self, q: f64) -> usize {
        let total: u64 = self.counts.iter().sum();
        let mut seen = 0;
        for (ms, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen as f64 >= total as f64 * q {
                return ms;
            }
        }
        1000
    }
}

fn load(args: &[String]) {
    let url = args.first().cloned().expect("server url");
    let calls: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let seconds: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(20);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        // Real speech, not a tone (the detector rightly refuses steady
        // tones): the loudest 1.8 s of a corpus recording, as 20 ms frames.
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let speech_payload: Arc<Vec<String>> = Arc::new(
            speech_frames()
                .iter()
                .map(|f| b64(f))
                .collect(),
        );
        let silence_payload = Arc::new(b64(&[0xFFu8; 160]));
        let script = Arc::new(transcript(seconds));
        let mut tasks = Vec::new();
        for n in 0..calls {
            let url = url.clone();
            let (sp, si, script) = (
                Arc::clone(&speech_payload),
                Arc::clone(&silence_payload),
                Arc::clone(&script),
            );
            tasks.push(tokio::spawn(async move {
                // Stagger starts over the first 2 s.
                tokio::time::sleep(Duration::from_millis((n as u64 * 2000) / calls as u64)).await;
                let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
                    .read_buffer_size(ratiba::adapters::telephony::SOCKET_READ_BUFFER_BYTES);
                // The per-call media token the webhook would have minted.
                let token = TelephonyAuth::new(bench_media_key()).mint(
                    MediaClaimsInput {
                        provider: Provider::Twilio,
                        call: &uuid::Uuid::new_v4().to_string(),
                        tenant: "demo",
                        to: "+254711000100",
                        from: Some("+254722000111"),
                        provider_call: Some(&format!("CA{n}")),
                    },
                    chrono::Utc::now().timestamp(),
                );
                let url = format!("{url}/{token}");
                let Ok((ws, _)) =
                    tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), false).await
                else {
                    return (0u64, Lateness::default());
                };
                let (mut tx, mut rx) = ws.split();
                let sid = format!("MZ{n:032}");
                let start = serde_json::json!({"event":"start","streamSid":sid,"start":{"streamSid":sid,"callSid":format!("CA{n}"),
                    "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},
                    "customParameters":{"to":"+254711000100","from":"+254722000111","x-transcript":*script}}});
                if tx.send(Message::text(start.to_string())).await.is_err() {
                    return (0, Lateness::default());
                }
                // The two frames this caller sends, made once: a clone is a
                // reference count, so the generator's cost per frame is the
                // websocket write itself.
                let frame = |payload: &str| {
                    Message::text(format!(
                        r#"{{"event":"media","streamSid":"{sid}","media":{{"track":"inbound","payload":"{payload}"}}}}"#
                    ))
                };
                let speech_frames: Vec<Message> = sp.iter().map(|p| frame(p)).collect();
                let silence_frame = frame(&si);
                let mut tick = tokio::time::interval(Duration::from_millis(20));
                let frames = seconds * 50;
                let mut received = 0u64;
                let mut sent = 0u64;
                let mut late = Lateness::default();
                while sent < frames {
                    tokio::select! {
                        due = tick.tick() => {
                            late.observe(due.elapsed());
                            let t = (sent * 20) % CYCLE_MS;
                            let msg = if (200..SPEECH_MS).contains(&t) {
                                &speech_frames[((t - 200) / 20) as usize % speech_frames.len()]
                            } else {
                                &silence_frame
                            };
                            if tx.send(msg.clone()).await.is_err() { break; }
                            sent += 1;
                        }
                        m = rx.next() => match m {
                            Some(Ok(Message::Text(t))) => {
                                received += 1;
                                if let Some(i) = t.as_str().find(r#""mark":{"name":""#) {
                                    let rest = &t.as_str()[i + 16..];
                                    let name = &rest[..rest.find('"').unwrap_or(0)];
                                    let echo = format!(r#"{{"event":"mark","streamSid":"{sid}","mark":{{"name":"{name}"}}}}"#);
                                    let _ = tx.send(Message::text(echo)).await;
                                }
                            }
                            Some(Ok(_)) => {}
                            _ => break,
                        }
                    }
                }
                let _ = tx
                    .send(Message::text(format!(r#"{{"event":"stop","streamSid":"{sid}"}}"#)))
                    .await;
                (received, late)
            }));
        }
        let mut total = 0;
        let mut late = Lateness::default();
        for t in tasks {
            if let Ok((received, l)) = t.await {
                total += received;
                late.merge(&l);
            }
        }
        println!("{total} {} {}", late.quantile_ms(0.99), late.quantile_ms(0.999));
    });
}

// ------------------------------------------------------------ orchestration

fn proc_stat(pid: u32) -> (u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = fields
        .get(11)
        .and_then(|u| u.parse::<u64>().ok())
        .unwrap_or(0)
        + fields
            .get(12)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss_kib = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (ticks, rss_kib)
}

/// Quantile from cumulative Prometheus buckets (upper bound of the bucket).
fn quantile(metrics: &str, name: &str, q: f64) -> Option<f64> {
    let mut buckets: Vec<(f64, f64)> = Vec::new();
    for line in metrics.lines() {
        let Some(rest) = line.strip_prefix(&format!("{name}_bucket{{le=\"")) else {
            continue;
        };
        let (le, count) = rest.split_once("\"} ")?;
        let le = if le == "+Inf" {
            f64::INFINITY
        } else {
            le.parse().ok()?
        };
        buckets.push((le, count.parse().ok()?));
    }
    let total = buckets.last()?.1;
    if total == 0.0 {
        return None;
    }
    buckets
        .iter()
        .find(|(_, c)| *c >= total * q)
        .map(|(le, _)| *le)
}

fn metric(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

fn pinned(cpu: &str) -> Command {
    let has_taskset = Command::new("taskset")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let exe = std::env::current_exe().expect("exe");
    if has_taskset {
        let mut c = Command::new("taskset");
        c.args(["-c", cpu]).arg(exe);
        c
    } else {
        Command::new(exe)
    }
}

fn orchestrate(args: &[String], measuring: bool) {
    let (default_calls, default_seconds) = if measuring { (200, 20) } else { (50, 10) };
    let calls: usize = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(default_calls);
    let seconds: u64 = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default_seconds);
    let mut server = pinned("0")
        .arg("serve")
        .stdout(Stdio::piped())
        .spawn()
        .expect("server");
    let pid = server.id();
    let mut port = String::new();
    {
        use std::io::BufRead;
        let stdout = server.stdout.take().expect("stdout");
        std::io::BufReader::new(stdout)
            .read_line(&mut port)
            .expect("port");
    }
    let base = format!("http://127.0.0.1:{}", port.trim());
    std::thread::sleep(Duration::from_millis(300));
    let (_, rss_idle) = proc_stat(pid);
    let mut load = pinned("1")
        .args([
            "load",
            &format!("ws://127.0.0.1:{}/media/twilio", port.trim()),
        ])
        .arg(calls.to_string())
        .arg(seconds.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .expect("load");
    // Measure the middle of the run, with every call connected.
    std::thread::sleep(Duration::from_secs(4));
    let (cpu0, _) = proc_stat(pid);
    let (gen_cpu0, _) = proc_stat(load.id());
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds.saturating_sub(6).max(2)));
    let (cpu1, rss_busy) = proc_stat(pid);
    let (gen_cpu1, _) = proc_stat(load.id());
    let wall = t0.elapsed().as_secs_f64();
    let metrics_mid = reqwest::blocking_get(&format!("{base}/metrics"));
    let generator = {
        use std::io::Read;
        let mut out = String::new();
        if let Some(mut stdout) = load.stdout.take() {
            let _ = stdout.read_to_string(&mut out);
        }
        out
    };
    let _ = load.wait();
    let metrics = reqwest::blocking_get(&format!("{base}/metrics")).or(metrics_mid);
    let mut gen_fields = generator.split_whitespace().skip(1);
    let gen_p99: u64 = gen_fields.next().and_then(|v| v.parse().ok()).unwrap_or(0);
    let gen_p999: u64 = gen_fields.next().and_then(|v| v.parse().ok()).unwrap_or(0);
    let _ = server.kill();
    let _ = server.wait();

    let clk = 100.0; // USER_HZ
    let cpu_share = (cpu1 - cpu0) as f64 / clk / wall;
    let gen_share = gen_cpu1.saturating_sub(gen_cpu0) as f64 / clk / wall;
    let m = metrics.unwrap_or_default();
    let ms = |v: Option<f64>| v.map_or("n/a".to_owned(), |v| format!("{:.3} ms", v * 1000.0));
    println!("load bench: {calls} Twilio calls, {seconds} s, server on CPU 0, callers on CPU 1");
    println!(
        "  calls handled: {} (frames in: {})",
        metric(&m, "ratiba_calls_total"),
        metric(&m, "ratiba_frames_in_total")
    );
    println!(
        "  per-frame processing: p50 <= {}, p99 <= {}",
        ms(quantile(&m, "ratiba_frame_processing_seconds", 0.5)),
        ms(quantile(&m, "ratiba_frame_processing_seconds", 0.99))
    );
    println!(
        "  inbound frame lag: p50 <= {}, p99 <= {}, p99.9 <= {}",
        ms(quantile(&m, "ratiba_frame_lag_seconds", 0.5)),
        ms(quantile(&m, "ratiba_frame_lag_seconds", 0.99)),
        ms(quantile(&m, "ratiba_frame_lag_seconds", 0.999))
    );
    println!(
        "  end of turn -> first reply audio: p50 <= {}, p99 <= {}",
        ms(quantile(&m, "ratiba_eot_to_first_audio_seconds", 0.5)),
        ms(quantile(&m, "ratiba_eot_to_first_audio_seconds", 0.99))
    );
    println!(
        "  generator: {:.1}% of one core; lateness vs its 20 ms schedule: p99 {gen_p99} ms, p99.9 {gen_p999} ms{}",
        gen_share * 100.0,
        if gen_p99 > 5 {
            "  <- the generator fell behind: the lag above is partly its own"
        } else {
            ""
        }
    );
    println!(
        "  server CPU: {:.1}% of one core ({:.3}% per call)",
        cpu_share * 100.0,
        cpu_share * 100.0 / calls as f64
    );
    println!(
        "  server memory: {} KiB idle, {} KiB busy: {:.0} KiB per call",
        rss_idle,
        rss_busy,
        rss_busy.saturating_sub(rss_idle) as f64 / calls as f64
    );
}

/// A tiny blocking GET without pulling in reqwest's blocking feature.
mod reqwest {
    pub fn blocking_get(url: &str) -> Option<String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        rt.block_on(async { ::reqwest::get(url).await.ok()?.text().await.ok() })
    }
}
