//! `ratiba call`: A simulated caller: dials into a running server exactly as
//! a telephony provider would — the provider's incoming-call webhook first,
//! then its media websocket with its own messages — streams a WAV file as
//! the caller (in real time, or `--fast`), plays the bot's audio the way the
//! provider's buffer would (echoing markers as audio "plays", flushing on a
//! clear), records it into REPLY.wav and prints the conversation with
//! timings. The exit status is non-zero when the call failed.
//!
//! The simulator's clock is the caller audio sent so far, the same clock the
//! server's call task runs on, so clear and marker times compare directly
//! with word times in the transcript sidecar.

use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine as _;
use clap::Args as ClapArgs;
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::adapters::speech::scripted::Transcript;
use crate::adapters::telephony::{Provider, plivo, twilio, vonage};
use crate::core::audio::wav;
use crate::core::audio::{Endian, g711, pcm};
use crate::http::media::TRANSCRIPT_PARAM;

mod latency;
pub use latency::{AnswerLatency, Latency, speech_from_audio, speech_from_transcript};

/// A simulated caller: dials into a running server exactly as a telephony provider would.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Server base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// Which provider to impersonate: twilio, telnyx, plivo, vonage,
    /// exotel, or browser (the call page's socket).
    #[arg(long)]
    pub provider: String,
    /// The dialled number (default: the demo tenant's voice number); for
    /// `--provider browser`, the tenant's slug (default: demo).
    #[arg(long)]
    pub to: Option<String>,
    /// The caller's number.
    #[arg(long)]
    pub from: Option<String>,
    /// The caller's audio.
    pub file: std::path::PathBuf,
    /// Transcript sidecar in the corpus format.
    #[arg(long)]
    pub transcript: Option<std::path::PathBuf>,
    /// Where to write what the bot said.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
    /// Run the call (caller audio and the provider's playback) 4x faster than real time.
    #[arg(long)]
    pub fast: bool,
    /// Print, as the last line, the voice-to-voice latency of each answer
    /// as one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let provider: Provider = args.provider.parse()?;
    let audio =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let audio = wav::parse(&audio).with_context(|| format!("{}", args.file.display()))?;
    let transcript_path = args.transcript.clone().or_else(|| {
        let sidecar = args.file.with_extension("json");
        sidecar.exists().then_some(sidecar)
    });
    let transcript = match &transcript_path {
        Some(p) => Some(
            Transcript::parse(
                &std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
            )
            .with_context(|| format!("{}", p.display()))?,
        ),
        None => None,
    };
    let opts = SimOptions {
        server: args.server,
        provider,
        to: args.to.unwrap_or_else(|| match provider {
            Provider::Browser => "demo".to_owned(),
            Provider::Twilio
            | Provider::Telnyx
            | Provider::Plivo
            | Provider::Vonage
            | Provider::Exotel => DEMO_VOICE_NUMBER.to_owned(),
        }),
        from: args.from.unwrap_or_else(|| "+254722000111".to_owned()),
        audio,
        transcript,
        fast: args.fast,
        twilio_auth_token: std::env::var("TWILIO_AUTH_TOKEN").ok(),
        max_duration: Duration::from_secs(600),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = rt.block_on(simulate(&opts))?;
    print!("{}", report.render(opts.transcript.as_ref()));
    if let Some(out) = &args.out {
        std::fs::write(out, wav::encode_pcm16(report.reply_rate, &report.reply))
            .with_context(|| format!("writing {}", out.display()))?;
        println!("bot audio written to {}", out.display());
    }
    if args.json {
        let ends = match &opts.transcript {
            Some(t) => speech_from_transcript(t),
            None => speech_from_audio(&opts.audio)?,
        };
        let latency = Latency::of(&ends, &report.segments);
        if opts.fast {
            eprintln!("note: --fast stretches the server's processing 4x on the line's clock");
        }
        println!("{}", serde_json::to_string(&latency)?);
    }
    if report.segments.is_empty() {
        bail!("the bot never spoke");
    }
    Ok(())
}

/// How much faster than real time `--fast` runs the call.
pub const FAST_SPEEDUP: u32 = 4;

/// The demo tenant's voice number (INTERFACES.md).
pub const DEMO_VOICE_NUMBER: &str = "+254711000100";

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub server: String,
    pub provider: Provider,
    pub to: String,
    pub from: String,
    pub audio: wav::Wav,
    pub transcript: Option<Transcript>,
    pub fast: bool,
    pub twilio_auth_token: Option<String>,
    /// Give up on a call longer than this.
    pub max_duration: Duration,
}

/// One stretch of bot audio as the caller heard it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotSegment {
    pub start_ms: u64,
    pub end_ms: u64,
    /// Ended by a clear from the server (the caller interrupted).
    pub cleared: bool,
}

/// What the simulated caller observed.
#[derive(Debug, Clone, Default)]
pub struct SimReport {
    pub segments: Vec<BotSegment>,
    /// Caller-clock times at which the server sent a clear.
    pub clears_ms: Vec<u64>,
    pub marks_echoed: usize,
    /// The bot's audio as heard, on the caller's timeline.
    pub reply: Vec<i16>,
    pub reply_rate: u32,
    /// The server hung up (closed the socket) rather than us.
    pub server_hung_up: bool,
    pub duration_ms: u64,
    /// The provider's id this simulated call had (CallSid, call_control_id,
    /// CallUUID, uuid: the same for every provider here).
    pub call_sid: String,
}

impl SimReport {
    /// The conversation with timings, caller words from the transcript.
    pub fn render(&self, transcript: Option<&Transcript>) -> String {
        let mut lines: Vec<(u64, String)> = Vec::new();
        if let Some(t) = transcript {
            let mut current: Option<(u64, u64, Vec<&str>)> = None;
            for w in &t.words {
                match &mut current {
                    Some((_, end, words)) if w.start_ms.saturating_sub(*end) < 700 => {
                        *end = w.end_ms;
                        words.push(&w.text);
                    }
                    _ => {
                        if let Some((start, _, words)) = current.take() {
                            lines.push((start, format!("caller: {}", words.join(" "))));
                        }
                        current = Some((w.start_ms, w.end_ms, vec![&w.text]));
                    }
                }
            }
            if let Some((start, _, words)) = current {
                lines.push((start, format!("caller: {}", words.join(" "))));
            }
        }
        for s in &self.segments {
            let secs = (s.end_ms - s.start_ms) as f64 / 1000.0;
            let note = if s.cleared {
                ", cut off by the caller"
            } else {
                ""
            };
            lines.push((s.start_ms, format!("bot:    speaks {secs:.1} s{note}")));
        }
        lines.sort_by_key(|(t, _)| *t);
        let mut out = String::new();
        for (t, line) in lines {
            out.push_str(&format!(
                "[{:02}:{:05.2}] {line}\n",
                t / 60_000,
                (t % 60_000) as f64 / 1000.0
            ));
        }
        out.push_str(&format!(
            "call lasted {:.1} s; {} clear(s); {} marker(s) acknowledged; {}\n",
            self.duration_ms as f64 / 1000.0,
            self.clears_ms.len(),
            self.marks_echoed,
            if self.server_hung_up {
                "the bot hung up"
            } else {
                "the caller hung up"
            }
        ));
        out
    }
}

/// Places a call and returns what was heard.
pub async fn simulate(opts: &SimOptions) -> anyhow::Result<SimReport> {
    let http = reqwest::Client::new();
    let base = opts.server.trim_end_matches('/');
    let call_sid = format!("CA{}", uuid::Uuid::new_v4().simple());
    let dial = dial(&http, base, opts, &call_sid).await?;
    let sim = ProviderSim::new(opts.provider, &call_sid, dial.stream_id.clone());
    let rate = sim.rate();

    let mut request = dial
        .ws_url
        .as_str()
        .into_client_request()
        .with_context(|| format!("bad media socket URL {}", dial.ws_url))?;
    if opts.provider == Provider::Twilio
        && let Some(token) = &opts.twilio_auth_token
    {
        // Twilio signs the websocket upgrade too (no POST parameters).
        let sig = twilio::signature(token, &dial.ws_url, &[]);
        request.headers_mut().insert(
            "X-Twilio-Signature",
            sig.parse().context("signature header")?,
        );
    }
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(crate::adapters::telephony::SOCKET_READ_BUFFER_BYTES);
    let (ws, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), false)
        .await
        .with_context(|| format!("opening the media socket {}", dial.ws_url))?;
    let (mut tx, mut rx) = ws.split();
    let mut params = dial.params.clone();
    if let Some(t) = &opts.transcript {
        let json = serde_json::to_vec(t)?;
        params.push((
            TRANSCRIPT_PARAM.to_owned(),
            base64::engine::general_purpose::STANDARD.encode(json),
        ));
    }
    for m in sim.start_messages(opts, &params) {
        tx.send(m).await?;
    }

    let caller = resample(&opts.audio.samples, opts.audio.rate_hz, rate)?;
    let frame = rate as usize / 50;
    let mut playback = Playback::default();
    let mut report = SimReport {
        reply_rate: rate,
        call_sid: call_sid.clone(),
        ..SimReport::default()
    };
    // Fast runs the whole line (caller audio, the provider's playback) at
    // FAST_SPEEDUP times real time; the server's turn-taking runs on the
    // audio clock, so it decides the same; only its processing delays look
    // longer by that factor.
    let step = if opts.fast {
        Duration::from_millis(20) / FAST_SPEEDUP
    } else {
        Duration::from_millis(20)
    };
    let mut ticker = tokio::time::interval(step);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut clock_ms: u64 = 0;
    let mut pos = 0;
    let mut quiet_since: u64 = 0;
    let silence = vec![0i16; frame];
    let limit_ms = opts.max_duration.as_millis() as u64;
    'call: loop {
        let caller_done = pos >= caller.len();
        tokio::select! {
            _ = ticker.tick() => {}
            msg = rx.next() => {
                match msg {
                    Some(Ok(m)) => {
                        for reply in handle_server(&sim, m, &mut playback, &mut report, clock_ms) {
                            if tx.send(reply).await.is_err() {
                                // The server closed the socket under us.
                                report.server_hung_up = true;
                                break 'call;
                            }
                        }
                        continue 'call;
                    }
                    _ => { report.server_hung_up = true; break 'call; }
                }
            }
        }
        // One 20 ms step of the line: caller audio out, bot audio played.
        let chunk = if caller_done {
            &silence[..]
        } else {
            let end = (pos + frame).min(caller.len());
            let c = &caller[pos..end];
            pos = end;
            c
        };
        let mut out: Vec<Message> = sim.media(chunk).into_iter().collect();
        clock_ms += 20;
        for echo in playback.play(frame, clock_ms, &mut report) {
            out.push(sim.mark_echo(&echo));
        }
        for m in out {
            if tx.send(m).await.is_err() {
                // The server hung up between our reads: a send fails
                // before the close is read.
                report.server_hung_up = true;
                break 'call;
            }
        }
        if playback.is_idle() {
            if quiet_since == 0 {
                quiet_since = clock_ms;
            }
        } else {
            quiet_since = 0;
        }
        let bot_spoke = !report.segments.is_empty() || !playback.is_idle();
        if caller_done && bot_spoke && quiet_since > 0 && clock_ms - quiet_since >= 4000 {
            break;
        }
        if clock_ms > limit_ms {
            break;
        }
    }
    playback.close_segment(clock_ms, false, &mut report);
    if !report.server_hung_up {
        if let Some(stop) = sim.stop() {
            let _ = tx.send(stop).await;
        }
        let _ = tx.send(Message::Close(None)).await;
    }
    report.duration_ms = clock_ms;
    Ok(report)
}

fn handle_server(
    sim: &ProviderSim,
    msg: Message,
    playback: &mut Playback,
    report: &mut SimReport,
    clock_ms: u64,
) -> Vec<Message> {
    let mut replies = Vec::new();
    for ev in sim.parse_server(msg) {
        match ev {
            SimEvent::Audio(pcm) => playback.queue_audio(pcm),
            SimEvent::Mark(name) => playback.queue_mark(name),
            SimEvent::Clear => {
                report.clears_ms.push(clock_ms);
                for name in playback.clear(clock_ms, report) {
                    replies.push(sim.mark_echo(&name));
                }
                if let Some(m) = sim.clear_ack() {
                    replies.push(m);
                }
            }
        }
    }
    replies
}

// ------------------------------------------------------------ the line

/// The provider's playback buffer.
#[derive(Debug, Default)]
struct Playback {
    queue: std::collections::VecDeque<Queued>,
    segment_start: Option<u64>,
    /// Samples played in the current segment.
    segment_samples: usize,
}

#[derive(Debug)]
enum Queued {
    Audio(Vec<i16>, usize),
    Mark(String),
}

impl Playback {
    fn queue_audio(&mut self, pcm: Vec<i16>) {
        if !pcm.is_empty() {
            self.queue.push_back(Queued::Audio(pcm, 0));
        }
    }

    fn queue_mark(&mut self, name: String) {
        self.queue.push_back(Queued::Mark(name));
    }

    fn is_idle(&self) -> bool {
        !self.queue.iter().any(|q| matches!(q, Queued::Audio(..)))
    }

    /// Plays up to `samples` samples into the recording; returns markers
    /// reached.
    fn play(&mut self, samples: usize, clock_ms: u64, report: &mut SimReport) -> Vec<String> {
        let mut echoes = Vec::new();
        let mut left = samples;
        let timeline = (clock_ms as usize).saturating_sub(20) * report.reply_rate as usize / 1000;
        if report.reply.len() < timeline {
            report.reply.resize(timeline, 0);
        }
        let mut played_any = false;
        while let Some(front) = self.queue.front_mut() {
            match front {
                Queued::Mark(name) => {
                    echoes.push(std::mem::take(name));
                    report.marks_echoed += 1;
                    self.queue.pop_front();
                }
                Queued::Audio(pcm, offset) => {
                    if left == 0 {
                        break;
                    }
                    let n = (pcm.len() - *offset).min(left);
                    report.reply.extend_from_slice(&pcm[*offset..*offset + n]);
                    self.segment_samples += n;
                    *offset += n;
                    left -= n;
                    played_any = true;
                    if *offset >= pcm.len() {
                        self.queue.pop_front();
                    }
                }
            }
        }
        if played_any && self.segment_start.is_none() {
            let now = clock_ms.saturating_sub(20);
            // Audio that follows on without a gap continues the segment.
            let continues = report
                .segments
                .last()
                .is_some_and(|l| !l.cleared && l.end_ms + 40 >= now);
            if continues && let Some(last) = report.segments.pop() {
                self.segment_start = Some(last.start_ms);
                self.segment_samples +=
                    ((last.end_ms - last.start_ms) * u64::from(report.reply_rate) / 1000) as usize;
            } else {
                self.segment_start = Some(now);
            }
        }
        if !played_any && self.is_idle() {
            self.close_segment(clock_ms.saturating_sub(20), false, report);
        }
        echoes
    }

    /// Drops queued audio; returns the markers flushed with it.
    fn clear(&mut self, clock_ms: u64, report: &mut SimReport) -> Vec<String> {
        let flushed = self
            .queue
            .drain(..)
            .filter_map(|q| match q {
                Queued::Mark(n) => Some(n),
                Queued::Audio(..) => None,
            })
            .collect();
        self.close_segment(clock_ms, true, report);
        flushed
    }

    fn close_segment(&mut self, end_ms: u64, cleared: bool, report: &mut SimReport) {
        if let Some(start) = self.segment_start.take() {
            // Real time: the clock says when it ended; fast: what was played.
            let played = (self.segment_samples as u64 * 1000) / u64::from(report.reply_rate.max(1));
            report.segments.push(BotSegment {
                start_ms: start,
                end_ms: if cleared {
                    end_ms.max(start)
                } else {
                    end_ms.max(start + played)
                },
                cleared,
            });
        }
        self.segment_samples = 0;
    }
}

// ------------------------------------------------------------ dialling

struct Dial {
    ws_url: String,
    params: Vec<(String, String)>,
    stream_id: String,
}

async fn dial(
    http: &reqwest::Client,
    base: &str,
    opts: &SimOptions,
    call_sid: &str,
) -> anyhow::Result<Dial> {
    let stream_id = format!("MZ{}", uuid::Uuid::new_v4().simple());
    let form = vec![
        ("CallSid".to_owned(), call_sid.to_owned()),
        ("AccountSid".to_owned(), "ACsimulated".to_owned()),
        ("From".to_owned(), opts.from.clone()),
        ("To".to_owned(), opts.to.clone()),
        ("CallStatus".to_owned(), "ringing".to_owned()),
        ("Direction".to_owned(), "inbound".to_owned()),
    ];
    let refused = |body: &str| anyhow::anyhow!("the server did not connect the call: {body}");
    match opts.provider {
        Provider::Twilio | Provider::Telnyx => {
            let path = if opts.provider == Provider::Twilio {
                "/voice/twilio"
            } else {
                "/voice/telnyx"
            };
            let url = format!("{base}{path}");
            let mut req = http.post(&url).form(&form);
            if let Some(token) = &opts.twilio_auth_token {
                req = req.header("X-Twilio-Signature", twilio::signature(token, &url, &form));
            }
            let resp = req.send().await.context("calling the voice webhook")?;
            let status = resp.status();
            let body = resp.text().await?;
            if !status.is_success() {
                bail!("voice webhook answered {status}: {body}");
            }
            let (ws_url, params) =
                twilio::parse_connect_stream(&body).ok_or_else(|| refused(&body))?;
            Ok(Dial {
                ws_url,
                params,
                stream_id,
            })
        }
        Provider::Plivo => {
            let form = [
                ("CallUUID", call_sid),
                ("From", opts.from.as_str()),
                ("To", opts.to.as_str()),
            ];
            let body = http
                .post(format!("{base}/voice/plivo"))
                .form(&form)
                .send()
                .await?
                .text()
                .await?;
            let (ws_url, headers) = parse_plivo_stream(&body).ok_or_else(|| refused(&body))?;
            let params = crate::adapters::telephony::parse_pairs(&headers, ',')
                .into_iter()
                .collect();
            Ok(Dial {
                ws_url,
                params,
                stream_id,
            })
        }
        Provider::Vonage => {
            let body: serde_json::Value = http
                .get(format!("{base}/voice/vonage"))
                .query(&[
                    ("to", opts.to.trim_start_matches('+')),
                    ("from", opts.from.trim_start_matches('+')),
                    ("uuid", call_sid),
                ])
                .send()
                .await?
                .json()
                .await?;
            let (ws_url, params) =
                vonage::parse_connect_ncco(&body).ok_or_else(|| refused(&body.to_string()))?;
            Ok(Dial {
                ws_url,
                params,
                stream_id,
            })
        }
        Provider::Exotel => {
            let resp = http
                .get(format!("{base}/voice/exotel"))
                .query(&[
                    ("CallSid", call_sid),
                    ("From", opts.from.as_str()),
                    ("To", opts.to.as_str()),
                ])
                .send()
                .await?;
            if !resp.status().is_success() {
                bail!("the server did not connect the call: {}", resp.status());
            }
            let body: serde_json::Value = resp.json().await?;
            let ws_url = body
                .get("url")
                .and_then(|u| u.as_str())
                .ok_or_else(|| refused(&body.to_string()))?
                .to_owned();
            // Exotel hands the URL's query parameters back as custom
            // parameters in the start message.
            let params = url::Url::parse(&ws_url)
                .map(|u| u.query_pairs().into_owned().collect())
                .unwrap_or_default();
            Ok(Dial {
                ws_url,
                params,
                stream_id,
            })
        }
        Provider::Browser => {
            // The call page: `to` is the tenant's slug.
            let slug = crate::core::ids::TenantSlug::parse(&opts.to).map_err(|_| {
                anyhow::anyhow!("for --provider browser, --to is the tenant's slug (e.g. demo)")
            })?;
            let resp = http
                .post(format!("{base}/call/{}/session", slug.as_str()))
                .json(&serde_json::json!({"phone": opts.from}))
                .send()
                .await
                .context("starting the browser call")?;
            let status = resp.status();
            let body: serde_json::Value = resp.json().await.unwrap_or_default();
            if !status.is_success() {
                bail!("the call page answered {status}: {body}");
            }
            let (Some(call), Some(media)) = (
                body.get("call").and_then(|c| c.as_str()),
                body.get("media").and_then(|m| m.as_str()),
            ) else {
                return Err(refused(&body.to_string()));
            };
            let ws_base = base
                .replacen("https://", "wss://", 1)
                .replacen("http://", "ws://", 1);
            Ok(Dial {
                ws_url: format!("{ws_base}{media}"),
                params: vec![("call".to_owned(), call.to_owned())],
                stream_id: call.to_owned(),
            })
        }
    }
}

fn parse_plivo_stream(xml: &str) -> Option<(String, String)> {
    let at = xml.find("<Stream")?;
    let rest = xml.get(at..)?;
    let headers = rest
        .find("extraHeaders=\"")
        .and_then(|i| {
            let s = rest.get(i + 14..)?;
            Some(s.get(..s.find('"')?)?.to_owned())
        })
        .unwrap_or_default();
    let open_end = rest.find('>')?;
    let body = rest.get(open_end + 1..)?;
    let url = body.get(..body.find("</Stream>")?)?.trim().to_owned();
    let _ = plivo::stream_xml; // the markup this parses
    Some((url.replace("&amp;", "&"), headers.replace("&amp;", "&")))
}

// ------------------------------------------------------------ provider side

enum SimEvent {
    Audio(Vec<i16>),
    Mark(String),
    Clear,
}

struct ProviderSim {
    provider: Provider,
    call_sid: String,
    stream_id: String,
    /// Exotel takes 100 ms chunks: caller audio waits here.
    pending: std::cell::RefCell<Vec<i16>>,
}

impl ProviderSim {
    fn new(provider: Provider, call_sid: &str, stream_id: String) -> Self {
        Self {
            provider,
            call_sid: call_sid.to_owned(),
            stream_id,
            pending: std::cell::RefCell::new(Vec::new()),
        }
    }

    fn rate(&self) -> u32 {
        match self.provider {
            Provider::Vonage | Provider::Browser => 16_000,
            _ => 8000,
        }
    }

    fn start_messages(&self, opts: &SimOptions, params: &[(String, String)]) -> Vec<Message> {
        let custom: serde_json::Map<String, serde_json::Value> = params
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let sid = &self.stream_id;
        let json = |v: serde_json::Value| Message::text(v.to_string());
        match self.provider {
            Provider::Twilio => vec![
                json(serde_json::json!({"event":"connected","protocol":"Call","version":"1.0.0"})),
                json(
                    serde_json::json!({"event":"start","sequenceNumber":"1","streamSid":sid,
                    "start":{"accountSid":"ACsimulated","streamSid":sid,"callSid":self.call_sid,
                    "tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},
                    "customParameters":custom}}),
                ),
            ],
            Provider::Telnyx => vec![
                json(serde_json::json!({"event":"connected","version":"1.0.0"})),
                json(
                    serde_json::json!({"event":"start","sequence_number":"1","stream_id":sid,
                    "start":{"call_control_id":self.call_sid,"from":opts.from,"to":opts.to,
                    "media_format":{"encoding":"PCMU","sample_rate":8000,"channels":1},
                    "custom_parameters":custom}}),
                ),
            ],
            Provider::Plivo => {
                let headers: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
                vec![json(serde_json::json!({"event":"start","sequenceNumber":1,
                    "extra_headers":headers.join(";"),
                    "start":{"callId":self.call_sid,"streamId":sid,"accountId":"MAsimulated","tracks":["inbound"],
                    "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000}}}))]
            }
            Provider::Vonage => {
                let mut m = custom;
                m.insert("event".into(), "websocket:connected".into());
                m.insert("content-type".into(), "audio/l16;rate=16000".into());
                vec![json(serde_json::Value::Object(m))]
            }
            Provider::Browser => vec![json(serde_json::json!({"event":"start","call":sid,
                "format":{"encoding":"L16","sampleRate":16000},"parameters":custom}))],
            Provider::Exotel => vec![
                json(serde_json::json!({"event":"connected"})),
                json(
                    serde_json::json!({"event":"start","sequence_number":"1","stream_sid":sid,
                    "start":{"stream_sid":sid,"call_sid":self.call_sid,"account_sid":"simulated",
                    "from":opts.from,"to":opts.to,"custom_parameters":custom,
                    "media_format":{"encoding":"audio/x-raw","sample_rate":"8000","bit_rate":"16"}}}),
                ),
            ],
        }
    }

    fn media(&self, samples: &[i16]) -> Option<Message> {
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let sid = &self.stream_id;
        match self.provider {
            Provider::Twilio | Provider::Telnyx | Provider::Plivo => {
                let mut bytes = vec![0u8; samples.len()];
                g711::mulaw_encode_into(samples, &mut bytes);
                let payload = b64(&bytes);
                Some(Message::text(
                    match self.provider {
                        Provider::Twilio => serde_json::json!({"event":"media","streamSid":sid,
                            "media":{"track":"inbound","payload":payload}}),
                        Provider::Telnyx => serde_json::json!({"event":"media","stream_id":sid,
                            "media":{"track":"inbound","payload":payload}}),
                        _ => serde_json::json!({"event":"media","streamId":sid,
                            "media":{"track":"inbound","payload":payload}}),
                    }
                    .to_string(),
                ))
            }
            Provider::Vonage | Provider::Browser => {
                let mut bytes = vec![0u8; samples.len() * 2];
                pcm::l16_encode_into(samples, Endian::Little, &mut bytes);
                Some(Message::Binary(bytes.into()))
            }
            Provider::Exotel => {
                let mut pending = self.pending.borrow_mut();
                pending.extend_from_slice(samples);
                if pending.len() < 800 {
                    return None;
                }
                let mut bytes = vec![0u8; pending.len() * 2];
                pcm::l16_encode_into(&pending, Endian::Little, &mut bytes);
                pending.clear();
                Some(Message::text(
                    serde_json::json!({"event":"media","stream_sid":sid,"media":{"payload":b64(&bytes)}})
                        .to_string(),
                ))
            }
        }
    }

    fn parse_server(&self, msg: Message) -> Vec<SimEvent> {
        let text = match msg {
            Message::Binary(b) if matches!(self.provider, Provider::Vonage | Provider::Browser) => {
                let mut samples = vec![0i16; b.len() / 2];
                pcm::l16_decode_into(&b, Endian::Little, &mut samples);
                return vec![SimEvent::Audio(samples)];
            }
            Message::Text(t) => t,
            _ => return Vec::new(),
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(text.as_str()) else {
            return Vec::new();
        };
        let event = v
            .get("event")
            .or(v.get("action"))
            .and_then(|e| e.as_str())
            .unwrap_or_default();
        let payload = v
            .pointer("/media/payload")
            .and_then(|p| p.as_str())
            .and_then(|p| base64::engine::general_purpose::STANDARD.decode(p).ok());
        match (event, payload) {
            ("media" | "playAudio", Some(bytes)) => {
                let samples = if self.provider == Provider::Exotel {
                    let mut s = vec![0i16; bytes.len() / 2];
                    pcm::l16_decode_into(&bytes, Endian::Little, &mut s);
                    s
                } else {
                    let mut s = vec![0i16; bytes.len()];
                    g711::mulaw_decode_into(&bytes, &mut s);
                    s
                };
                vec![SimEvent::Audio(samples)]
            }
            ("mark", _) => v
                .pointer("/mark/name")
                .or(v.get("name"))
                .and_then(|n| n.as_str())
                .map(|n| vec![SimEvent::Mark(n.to_owned())])
                .unwrap_or_default(),
            ("checkpoint", _) => v
                .get("name")
                .and_then(|n| n.as_str())
                .map(|n| vec![SimEvent::Mark(n.to_owned())])
                .unwrap_or_default(),
            ("notify", _) => v
                .pointer("/payload/name")
                .and_then(|n| n.as_str())
                .map(|n| vec![SimEvent::Mark(n.to_owned())])
                .unwrap_or_default(),
            ("clear" | "clearAudio", _) => vec![SimEvent::Clear],
            _ => Vec::new(),
        }
    }

    fn mark_echo(&self, name: &str) -> Message {
        let sid = &self.stream_id;
        Message::text(
            match self.provider {
                Provider::Twilio => {
                    serde_json::json!({"event":"mark","streamSid":sid,"mark":{"name":name}})
                }
                Provider::Telnyx => {
                    serde_json::json!({"event":"mark","stream_id":sid,"mark":{"name":name}})
                }
                Provider::Plivo => {
                    serde_json::json!({"event":"playedStream","streamId":sid,"name":name})
                }
                Provider::Vonage => {
                    serde_json::json!({"event":"websocket:notify","payload":{"name":name}})
                }
                Provider::Exotel => {
                    serde_json::json!({"event":"mark","stream_sid":sid,"mark":{"name":name}})
                }
                Provider::Browser => serde_json::json!({"event":"mark","name":name}),
            }
            .to_string(),
        )
    }

    fn clear_ack(&self) -> Option<Message> {
        match self.provider {
            Provider::Plivo => Some(Message::text(
                serde_json::json!({"event":"clearedAudio","streamId":self.stream_id}).to_string(),
            )),
            Provider::Vonage => Some(Message::text(r#"{"event":"websocket:cleared"}"#)),
            Provider::Browser => Some(Message::text(r#"{"event":"cleared"}"#)),
            _ => None,
        }
    }

    fn stop(&self) -> Option<Message> {
        let sid = &self.stream_id;
        match self.provider {
            Provider::Twilio => Some(Message::text(
                serde_json::json!({"event":"stop","streamSid":sid,"stop":{"callSid":self.call_sid}}).to_string(),
            )),
            Provider::Telnyx => Some(Message::text(
                serde_json::json!({"event":"stop","stream_id":sid,"stop":{"call_control_id":self.call_sid}}).to_string(),
            )),
            Provider::Exotel => Some(Message::text(
                serde_json::json!({"event":"stop","stream_sid":sid,"stop":{"call_sid":self.call_sid,"reason":"callended"}}).to_string(),
            )),
            Provider::Browser => Some(Message::text(r#"{"event":"stop"}"#)),
            Provider::Plivo | Provider::Vonage => None,
        }
    }
}

fn resample(samples: &[i16], from: u32, to: u32) -> anyhow::Result<Vec<i16>> {
    Ok(crate::core::audio::resample_all(samples, from, to)?)
}
