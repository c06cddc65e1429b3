//! One task per call. It owns everything of the call — the provider codec,
//! the audio converters, the turn-taking machine, the recognizer stream, the
//! synthesis of the current sentence, the pending conversation reply — and
//! `select!`s over the socket, the recognizer, the synthesizer, the reply,
//! one re-armable timer and shutdown. No locks, no callbacks; effects are
//! done right here (messages to the provider) or handed off without waiting
//! (rows to the writer).
//!
//! Playback (what was synthesized, sent and heard, markers, pause and
//! resume) is the sans-IO [`crate::core::playback::Utterance`]; the call
//! encodes what it hands out with the provider's codec, every
//! [`MARK_EVERY_MS`] a marker, and reports the markers the provider echoes.

mod ending;
mod hold;
mod retry;
mod rows;
mod speech;

pub use retry::sorry;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::Utc;
use futures::future::BoxFuture;
use futures::{Sink, SinkExt, Stream, StreamExt};
use tracing::{Instrument, debug, info, warn};

use crate::adapters::speech::{SttEvent, SttStream, TextToSpeech, TtsRequest, TtsStream};
use crate::adapters::telephony::control::{CallControl, LiveCall};
use crate::adapters::telephony::{
    AudioFormat, CallEvent, Inbound, MediaCodec, Outbound, Playback, Provider, StreamStart,
};
use crate::core::dialog::handoff::CallHandoff;
use crate::core::ids::{CallId, Lang};
use crate::core::messages::call::CallLine;
use crate::core::playback::{Send as PlaybackSend, Utterance};
use crate::runtime::call_acks::{self, AckClips};
use crate::runtime::call_audio::{OutboundAudio, line_codec};
use crate::runtime::call_payment::{CallHold, HoldRequest, PaymentLinkRequest};
use crate::runtime::call_setup::{
    BotReply, CallContext, CallConversation, CallerTurn, ConversationError,
};
use crate::runtime::call_turns::{CallTurns, TurnAction, TurnLog};
use crate::runtime::metrics::Metrics;
use crate::runtime::payments::{CallEffect, PaymentService};
use crate::runtime::shutdown::Shutdown;
use crate::runtime::writer::{CallRow, Direction, WriterHandle};

/// Playback marker cadence: the resolution of "heard up to".
pub const MARK_EVERY_MS: u64 = 200;
/// A call with no message from the provider for this long is dead.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The intent recorded on the hold's prompts (distinct from the dialog's
/// "payment" intent, so only the hold's own lines count as its prompts).
const HOLD_PROMPT: &str = "payment_hold";
/// The intent recorded on what the call says to a silent caller.
const NO_INPUT: &str = "no_input";

/// A websocket message from the provider (bytes shared, not copied).
#[derive(Debug, Clone)]
pub enum SocketIn {
    Text(Bytes),
    Binary(Bytes),
}

/// A websocket message to the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketOut {
    Text(String),
    Binary(Vec<u8>),
    Close,
}

impl From<Outbound> for SocketOut {
    fn from(o: Outbound) -> Self {
        match o {
            Outbound::Text(t) => SocketOut::Text(t),
            Outbound::Binary(b) => SocketOut::Binary(b),
        }
    }
}

/// Why a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// The provider sent stop (the caller hung up).
    ProviderStop,
    /// The socket closed or failed.
    SocketClosed,
    /// The bot said goodbye and hung up.
    BotHungUp,
    /// The provider broke the protocol.
    ProtocolError(String),
    Shutdown,
    Idle,
}

/// Who said a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    Caller,
    Bot,
}

/// One line of the call's transcript, times on the audio clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportLine {
    pub speaker: Speaker,
    pub at_ms: u64,
    pub text: String,
    /// Bot lines: cut short by the caller.
    pub interrupted: bool,
    /// Bot lines: milliseconds the caller heard.
    pub heard_ms: u64,
}

/// What happened on a call (for logs, tests and the simulated caller).
#[derive(Debug, Clone)]
pub struct CallReport {
    pub call_id: CallId,
    pub end: EndReason,
    pub lines: Vec<ReportLine>,
    /// Audio-clock time of each caller onset that paused the bot, with the
    /// audio-clock time the clear was sent.
    pub barge_ins: Vec<(u64, u64)>,
    /// Listening acknowledgements played.
    pub listening_acks: u32,
    /// The turn engine's events and the cues it was fed, on the audio clock.
    pub turn_log: TurnLog,
    /// The call was handed to a person: put through or promised a call
    /// back (and whether the provider did what it was asked).
    pub handoff: Option<(CallHandoff, bool)>,
}

/// What a call task is given.
pub struct CallSetup {
    pub call_id: CallId,
    pub ctx: CallContext,
    pub provider: Provider,
    pub start: StreamStart,
    pub stt: Option<Box<dyn SttStream>>,
    pub tts: Arc<dyn TextToSpeech>,
    pub conversation: Arc<dyn CallConversation>,
    pub writer: WriterHandle,
    pub metrics: Arc<Metrics>,
    pub shutdown: Shutdown,
    /// Keep the turn engine's log in the report.
    pub turn_log: bool,
    /// Payments while the caller holds (none: the call only books).
    pub payments: Option<Arc<PaymentService>>,
    /// Where a payment link promised on the call goes (WhatsApp).
    pub payment_links: Option<tokio::sync::mpsc::Sender<PaymentLinkRequest>>,
    /// The provider's REST control of this call (transfer, hang up), when
    /// the deployment has its credentials.
    pub control: Option<(Arc<dyn CallControl>, LiveCall)>,
}

/// Runs one call to its end. `codec` has already decoded the stream's
/// start (given in `setup.start`).
pub async fn run_call<R, W, E>(
    rx: R,
    tx: W,
    codec: Box<dyn MediaCodec>,
    setup: CallSetup,
) -> CallReport
where
    R: Stream<Item = Result<SocketIn, E>> + Unpin + Send,
    W: Sink<SocketOut> + Unpin + Send,
    E: std::fmt::Display,
{
    let span = tracing::info_span!(
        "call",
        call_id = %setup.call_id,
        tenant = %setup.ctx.tenant.slug,
        provider = %setup.provider,
    );
    async move {
        let metrics = Arc::clone(&setup.metrics);
        metrics.active_calls.fetch_add(1, Ordering::Relaxed);
        metrics.calls_total.fetch_add(1, Ordering::Relaxed);
        let mut call = match Call::new(codec, setup) {
            Ok(c) => c,
            Err(report) => {
                metrics.active_calls.fetch_sub(1, Ordering::Relaxed);
                return *report;
            }
        };
        let report = call.run(rx, tx).await;
        call.conversation.call_ended(&call.ctx, &report);
        metrics.active_calls.fetch_sub(1, Ordering::Relaxed);
        info!(end = ?report.end, lines = report.lines.len(), "call ended");
        report
    }
    .instrument(span)
    .await
}

/// The bot utterance being played: its playback (`core::playback`) and
/// what the call records about it.
struct Speech {
    playback: Utterance,
    language: Lang,
    intent: Option<String>,
    end_call: bool,
    /// A hand-off line: once heard (or cut short) the call is put through
    /// or hung up as this says.
    handoff: Option<CallHandoff>,
    /// End of the caller's turn this answers (for the latency metric).
    answering_since: Option<Instant>,
    /// interactions rows the conversation wrote for this reply.
    recorded: Vec<uuid::Uuid>,
    started_ms: u64,
    tts_requested: Option<Instant>,
}

enum Wake<E> {
    Socket(Option<Result<SocketIn, E>>),
    Stt(Option<SttEvent>),
    Tts(Option<Result<crate::adapters::speech::TtsAudio, crate::adapters::speech::SpeechError>>),
    Reply(Result<BotReply, ConversationError>),
    Hold(Option<CallEffect>),
    Acks(Option<AckClips>),
    Control(Result<(), crate::adapters::telephony::control::ControlError>),
    Moment,
    Timer,
    Shutdown,
}

struct Call {
    call_id: CallId,
    ctx: Arc<CallContext>,
    provider_stream_id: String,
    codec: Box<dyn MediaCodec>,
    format: AudioFormat,
    outbound: OutboundAudio,
    wire_in: Vec<u8>,
    out: Vec<Outbound>,
    stt: Option<Box<dyn SttStream>>,
    stt_first_push: Option<Instant>,
    stt_measured: bool,
    turns: CallTurns,
    tts: Arc<dyn TextToSpeech>,
    synth: Option<TtsStream>,
    speech: Option<Speech>,
    next_utterance: u32,
    conversation: Arc<dyn CallConversation>,
    reply: Option<BoxFuture<'static, Result<BotReply, ConversationError>>>,
    reply_since: Option<Instant>,
    /// The caller turn being answered (tried again on a database error).
    in_flight: Option<retry::TurnInFlight>,
    /// Turns said while the one in flight is stuck on the database.
    waiting_turns: VecDeque<CallerTurn>,
    /// When to tell the caller "one moment".
    moment: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
    writer: WriterHandle,
    metrics: Arc<Metrics>,
    shutdown: Shutdown,
    report: CallReport,
    /// Wall time and audio clock of the last frame, to map audio-clock
    /// deadlines onto the wall clock when audio stops flowing.
    last_frame: (Instant, u64),
    last_message: Instant,
    first_frame_at: Option<Instant>,
    speed: f32,
    turn_words: (u64, u64, usize),
    /// The engine's no-input events since the caller last spoke.
    silences: u32,
    caller_phone: String,
    hang_up: bool,
    caller_turns: u32,
    payments: Option<Arc<PaymentService>>,
    /// The language of the bot's last line (hold prompts follow it).
    last_language: Lang,
    /// The payment hold in progress: caller turns go to it, not the dialog.
    hold: Option<CallHold>,
    /// Listening acknowledgements: being made, then ready.
    acks_coming: Option<tokio::sync::oneshot::Receiver<AckClips>>,
    acks: Option<AckClips>,
    /// What the hold is for (appointment, amount, language), for the link.
    hold_for: Option<(uuid::Uuid, crate::core::ids::Money, Lang)>,
    payment_links: Option<tokio::sync::mpsc::Sender<PaymentLinkRequest>>,
    /// The hold's prompts played out (or cut off) so far.
    hold_prompts_heard: u32,
    /// Bot lines waiting for the current one to be heard (the hold's
    /// prompts follow the dialog's reply rather than cutting it).
    queued_replies: VecDeque<BotReply>,
    /// Ending the call through the provider (`call/ending.rs`).
    ending: ending::Ending,
}

impl Call {
    fn new(codec: Box<dyn MediaCodec>, setup: CallSetup) -> Result<Self, Box<CallReport>> {
        let format = setup.start.format;
        let report = CallReport {
            call_id: setup.call_id,
            end: EndReason::SocketClosed,
            lines: Vec::new(),
            barge_ins: Vec::new(),
            listening_acks: 0,
            turn_log: TurnLog::default(),
            handoff: None,
        };
        let now = Instant::now();
        let turns = match CallTurns::new(
            &setup.ctx.tenant.dials.turn,
            line_codec(format),
            format.sample_rate,
            // Words that arrive while the caller speaks; a per-utterance
            // recognizer only answers afterwards.
            setup.stt.as_ref().is_some_and(|s| !s.finals_need_flush()),
            now,
        ) {
            Ok(mut t) => {
                if setup.turn_log {
                    t.keep_log();
                }
                t
            }
            Err(e) => {
                warn!(error = %e, "cannot convert this call's audio");
                return Err(Box::new(CallReport {
                    end: EndReason::ProtocolError(e.to_string()),
                    ..report
                }));
            }
        };
        let greeting_language = setup.ctx.tenant.dials.greeting_language;
        let acks_coming = setup.ctx.tenant.dials.turn.voice_listening_ack.then(|| {
            call_acks::prepare(
                Arc::clone(&setup.tts),
                format,
                setup.ctx.tenant.dials.default_speaker.clone(),
            )
        });
        let caller_phone = setup
            .ctx
            .caller
            .as_ref()
            .map(|p| p.expose().to_owned())
            .unwrap_or_else(|| "anonymous".to_owned());
        Ok(Self {
            call_id: setup.call_id,
            turns,
            ctx: Arc::new(setup.ctx),
            provider_stream_id: setup.start.stream_id.clone(),
            codec,
            format,
            outbound: OutboundAudio::new(format),
            wire_in: Vec::with_capacity(4096),
            out: Vec::with_capacity(16),
            stt: setup.stt,
            stt_first_push: None,
            stt_measured: false,
            tts: setup.tts,
            synth: None,
            speech: None,
            next_utterance: 0,
            conversation: setup.conversation,
            reply: None,
            reply_since: None,
            in_flight: None,
            waiting_turns: VecDeque::new(),
            moment: None,
            writer: setup.writer,
            metrics: setup.metrics,
            shutdown: setup.shutdown,
            report,
            last_frame: (now, 0),
            last_message: now,
            first_frame_at: None,
            speed: 1.0,
            turn_words: (0, 0, 0),
            silences: 0,
            caller_phone,
            hang_up: false,
            caller_turns: 0,
            payments: setup.payments,
            last_language: greeting_language,
            hold: None,
            acks_coming,
            acks: None,
            hold_for: None,
            payment_links: setup.payment_links,
            hold_prompts_heard: 0,
            queued_replies: VecDeque::new(),
            ending: ending::Ending::new(setup.control),
        })
    }

    async fn run<R, W, E>(&mut self, mut rx: R, mut tx: W) -> CallReport
    where
        R: Stream<Item = Result<SocketIn, E>> + Unpin + Send,
        W: Sink<SocketOut> + Unpin + Send,
        E: std::fmt::Display,
    {
        self.open_rows();
        let greeting = self.conversation.greeting(&self.ctx);
        self.start_speech(greeting, None);

        let sleep = tokio::time::sleep(IDLE_TIMEOUT);
        tokio::pin!(sleep);
        let mut armed = tokio::time::Instant::now() + IDLE_TIMEOUT;
        let end = loop {
            if let Err(end) = self.flush(&mut tx).await {
                break end;
            }
            if self.hang_up {
                let _ = tx.send(SocketOut::Close).await;
                break EndReason::BotHungUp;
            }
            let deadline = self.wall_deadline();
            if deadline != armed {
                sleep.as_mut().reset(deadline);
                armed = deadline;
            }
            let wake = tokio::select! {
                biased;
                _ = self.shutdown.wait() => Wake::Shutdown,
                // Words about audio already heard go in before more audio,
                // so the engine sees them in the order a replay does.
                e = next_stt(&mut self.stt) => Wake::Stt(e),
                m = rx.next() => Wake::Socket(m),
                c = next_tts(&mut self.synth) => Wake::Tts(c),
                r = next_reply(&mut self.reply) => Wake::Reply(r),
                h = next_hold_effect(&mut self.hold) => Wake::Hold(h),
                a = next_acks(&mut self.acks_coming) => Wake::Acks(a),
                c = self.ending.next_result() => Wake::Control(c),
                _ = next_moment(&mut self.moment) => Wake::Moment,
                _ = &mut sleep => Wake::Timer,
            };
            let step = match wake {
                Wake::Shutdown => Err(EndReason::Shutdown),
                Wake::Socket(None) => Err(EndReason::SocketClosed),
                Wake::Socket(Some(Err(e))) => {
                    debug!(error = %e, "socket error");
                    Err(EndReason::SocketClosed)
                }
                Wake::Socket(Some(Ok(msg))) => self.on_socket(msg),
                Wake::Stt(ev) => {
                    self.on_stt(ev);
                    Ok(())
                }
                Wake::Tts(chunk) => {
                    self.on_tts(chunk);
                    Ok(())
                }
                Wake::Reply(r) => {
                    self.on_reply(r);
                    Ok(())
                }
                Wake::Hold(effect) => {
                    self.on_hold_effect(effect);
                    Ok(())
                }
                Wake::Acks(clips) => {
                    self.acks_coming = None;
                    self.acks = clips;
                    Ok(())
                }
                Wake::Control(result) => {
                    self.on_control(result);
                    Ok(())
                }
                Wake::Moment => {
                    self.on_moment();
                    Ok(())
                }
                Wake::Timer => self.on_timer(),
            };
            if let Err(end) = step {
                break end;
            }
            self.drive_turns();
        };
        let _ = self.flush(&mut tx).await;
        self.keep_unanswered_turns();
        self.close_rows(&end);
        self.report.end = end;
        self.report.turn_log = self.turns.take_log();
        self.report.clone()
    }

    // ------------------------------------------------------------ inputs

    fn on_socket(&mut self, msg: SocketIn) -> Result<(), EndReason> {
        self.last_message = Instant::now();
        let decoded = match &msg {
            SocketIn::Text(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => self.codec.decode(Inbound::Text(text), &mut self.wire_in),
                Err(_) => {
                    self.metrics.frames_dropped.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
            },
            SocketIn::Binary(bytes) => self.codec.decode(Inbound::Binary(bytes), &mut self.wire_in),
        };
        let event = match decoded {
            Ok(e) => e,
            Err(e) if e.is_fatal() => {
                warn!(error = %e, "provider broke the media protocol; ending the call");
                return Err(EndReason::ProtocolError(e.to_string()));
            }
            Err(e) => {
                debug!(error = %e, "inbound message dropped");
                self.metrics.frames_dropped.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
        };
        match event {
            CallEvent::Audio { .. } => self.on_audio(),
            CallEvent::Mark { name } => self.on_mark(&name),
            CallEvent::Dtmf { digit } => {
                debug!(digit = %digit, "dtmf");
                self.silences = 0;
                self.turns.on_dtmf(digit, self.turns.clock_ms());
            }
            CallEvent::Stop => return Err(EndReason::ProviderStop),
            CallEvent::ProviderError { code, detail } => {
                warn!(code = %code, detail = %detail, "provider reported a stream error");
            }
            CallEvent::Start(_) => {
                return Err(EndReason::ProtocolError("second start".into()));
            }
            CallEvent::Connected | CallEvent::Cleared | CallEvent::Ignored => {}
        }
        Ok(())
    }

    fn on_audio(&mut self) {
        let started = Instant::now();
        let wire = std::mem::take(&mut self.wire_in);
        let stt = &mut self.stt;
        let stt_first_push = &mut self.stt_first_push;
        let frames = self.turns.push_audio(&wire, |frame, at_ms| {
            if let Some(stt) = stt.as_mut() {
                stt_first_push.get_or_insert_with(Instant::now);
                stt.push_audio(frame, at_ms);
            }
        });
        self.wire_in = wire;
        if frames > 0 {
            let now = Instant::now();
            let clock = self.turns.clock_ms();
            self.last_frame = (now, clock);
            let first = *self.first_frame_at.get_or_insert(now);
            let behind = now.duration_since(first).as_secs_f64()
                - clock.saturating_sub(crate::runtime::call_audio::FRAME_MS) as f64 / 1000.0;
            self.metrics.frame_lag_seconds.observe(behind.max(0.0));
        }
        self.metrics.frames_in.fetch_add(frames, Ordering::Relaxed);
        self.metrics
            .frame_seconds
            .observe(started.elapsed().as_secs_f64() / frames.max(1) as f64);
    }

    fn on_stt(&mut self, ev: Option<SttEvent>) {
        let Some(ev) = ev else {
            self.stt = None;
            return;
        };
        if !self.stt_measured
            && let Some(first) = self.stt_first_push
        {
            self.stt_measured = true;
            self.metrics
                .stt_first_result_seconds
                .observe(first.elapsed().as_secs_f64());
        }
        if let SttEvent::Failed(e) = &ev {
            warn!(error = %e, "speech recognition failed");
            if !self.stt.as_ref().is_some_and(|s| s.finals_need_flush()) {
                self.stt = None;
            }
            // A turn waiting on this transcript goes on without it.
            let now = self.turns.clock_ms();
            self.turns.on_stt(&ev, now);
            return;
        }
        if let SttEvent::Final { words, .. } = &ev
            && let (Some(first), Some(last)) = (words.first(), words.last())
        {
            let (start, _, count) = self.turn_words;
            self.turn_words = (
                if count == 0 { first.start_ms } else { start },
                last.end_ms,
                count + words.len(),
            );
        }
        let now = self.turns.clock_ms();
        self.turns.on_stt(&ev, now);
    }

    fn on_reply(&mut self, reply: Result<BotReply, ConversationError>) {
        self.reply = None;
        self.moment = None;
        let Some((reply, after_current)) = self.settle_reply(reply) else {
            return; // tried again; the answer is still owed
        };
        let since = self.reply_since.take();
        self.turns.expecting(reply.expecting, self.turns.clock_ms());
        self.maybe_start_hold(&reply);
        if after_current {
            self.say_after_current(reply);
        } else {
            self.start_speech(reply, since);
        }
        self.next_waiting_turn();
    }

    fn on_timer(&mut self) -> Result<(), EndReason> {
        if self.last_message.elapsed() >= IDLE_TIMEOUT {
            warn!("no message from the provider for a minute; ending the call");
            return Err(EndReason::Idle);
        }
        // Audio stopped flowing: advance the audio clock with the wall clock.
        let (at, clock) = self.last_frame;
        let now = clock + at.elapsed().as_millis() as u64;
        self.turns.advance(now);
        Ok(())
    }

    // ------------------------------------------------------------ turns

    fn drive_turns(&mut self) {
        while let Some(action) = self.turns.poll() {
            match action {
                TurnAction::PauseBot { onset_ms } => self.pause(onset_ms),
                TurnAction::ResumeBot => {
                    if let Some(s) = self.speech.as_mut() {
                        s.playback.resume();
                    }
                    self.pump();
                }
                TurnAction::ConfirmBargeIn => self.cut_speech(),
                TurnAction::CallerPaused => {
                    if let Some(stt) = self.stt.as_mut().filter(|s| s.finals_need_flush()) {
                        stt.flush();
                        self.turns.transcript_requested();
                    }
                }
                TurnAction::ListeningAck { language } => self.listening_ack(language),
                TurnAction::CallerSpeaking => self.silences = 0,
                TurnAction::NoInput => self.no_input(),
                // The engine sends it only with voice_adaptive_speed, bounded.
                TurnAction::SpeakingRate(factor) => self.speed = factor,
                TurnAction::EndOfTurn {
                    text,
                    language,
                    dtmf,
                    at_ms,
                } => self.end_of_turn(text, language, dtmf, at_ms),
            }
        }
    }

    fn end_of_turn(&mut self, text: String, language: Option<Lang>, dtmf: String, at_ms: u64) {
        self.caller_turns += 1;
        self.silences = 0;
        let (start, end, _) = std::mem::take(&mut self.turn_words);
        debug!(text = %text, dtmf = %dtmf, "caller turn");
        self.report.lines.push(ReportLine {
            speaker: Speaker::Caller,
            at_ms,
            text: if text.is_empty() {
                format!("[dtmf {dtmf}]")
            } else {
                text.clone()
            },
            interrupted: false,
            heard_ms: 0,
        });
        if self.ending.closing() {
            // Handed to a person: the call is ending; nothing more to answer.
            self.write_caller_turn(&text, language, &dtmf, at_ms, end.saturating_sub(start));
            return;
        }
        if let Some(hold) = &self.hold {
            // The hold understands the few answers it needs ("yes",
            // "cancel", "nimelipa"); the dialog does not see them, so the
            // call records the turn itself.
            hold.caller_said(text.clone());
            self.write_caller_turn(&text, language, &dtmf, at_ms, end.saturating_sub(start));
            // Lines held back behind one the caller cut off come now.
            if self.speech.is_none()
                && let Some(next) = self.queued_replies.pop_front()
            {
                self.start_speech(next, None);
            }
            return;
        }
        if !self.conversation.records_turns() {
            self.write_caller_turn(&text, language, &dtmf, at_ms, end.saturating_sub(start));
        }
        self.answer(text, language, dtmf);
    }

    fn answer(&mut self, text: String, language: Option<Lang>, dtmf: String) {
        // The dialog's answer supersedes lines still waiting to be said.
        self.queued_replies.clear();
        if let Some(s) = self.speech.take() {
            // The caller's turn ended while the bot still held audio (half
            // duplex): the answer replaces it.
            self.synth = None;
            let _ = self.codec.encode(Playback::Clear, &mut self.out);
            self.record_bot(&s, true);
        }
        let turn = CallerTurn {
            key: format!("call:{}:{}", self.call_id, self.caller_turns),
            text,
            language,
            dtmf,
        };
        if self.ask(turn) {
            self.reply_since = Some(Instant::now());
        }
    }

    // ------------------------------------------------------------ plumbing

    async fn flush<W: Sink<SocketOut> + Unpin>(&mut self, tx: &mut W) -> Result<(), EndReason> {
        if self.out.is_empty() {
            return Ok(());
        }
        for msg in self.out.drain(..) {
            if tx.feed(SocketOut::from(msg)).await.is_err() {
                return Err(EndReason::SocketClosed);
            }
        }
        tx.flush().await.map_err(|_| EndReason::SocketClosed)
    }

    fn wall_deadline(&self) -> tokio::time::Instant {
        let idle = tokio::time::Instant::from_std(self.last_message + IDLE_TIMEOUT);
        let Some(at) = self.turns.next_deadline() else {
            return idle;
        };
        let (wall, clock) = self.last_frame;
        // Frames drive the audio clock while they flow; the wall timer only
        // matters once they stop, so give them a frame of slack.
        let wait = Duration::from_millis(at.saturating_sub(clock) + 40);
        idle.min(tokio::time::Instant::from_std(wall + wait))
    }
}

async fn next_stt(stt: &mut Option<Box<dyn SttStream>>) -> Option<SttEvent> {
    match stt {
        Some(s) => s.as_mut().next_event().await,
        None => std::future::pending().await,
    }
}

async fn next_tts(
    synth: &mut Option<TtsStream>,
) -> Option<Result<crate::adapters::speech::TtsAudio, crate::adapters::speech::SpeechError>> {
    match synth {
        Some(s) => s.next_chunk().await,
        None => std::future::pending().await,
    }
}

async fn next_acks(
    coming: &mut Option<tokio::sync::oneshot::Receiver<AckClips>>,
) -> Option<AckClips> {
    match coming {
        Some(rx) => rx.await.ok(),
        None => std::future::pending().await,
    }
}

async fn next_hold_effect(hold: &mut Option<CallHold>) -> Option<CallEffect> {
    match hold {
        Some(h) => h.next_effect().await,
        None => std::future::pending().await,
    }
}

async fn next_moment(moment: &mut Option<std::pin::Pin<Box<tokio::time::Sleep>>>) {
    match moment {
        Some(m) => m.as_mut().await,
        None => std::future::pending().await,
    }
}

async fn next_reply(
    reply: &mut Option<BoxFuture<'static, Result<BotReply, ConversationError>>>,
) -> Result<BotReply, ConversationError> {
    match reply {
        Some(f) => f.await,
        None => std::future::pending().await,
    }
}
