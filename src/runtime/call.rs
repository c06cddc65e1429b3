//! One task per call. It owns everything of the call — the provider codec,
//! the audio converters, the turn-taking machine, the recognizer stream, the
//! synthesis of the current sentence, the pending conversation reply — and
//! `select!`s over the socket, the recognizer, the synthesizer, the reply,
//! one re-armable timer and shutdown. No locks, no callbacks; effects are
//! done right here (messages to the provider) or handed off without waiting
//! (rows to the writer).
//!
//! What the bot says (the line playing, what waits behind it, what was
//! synthesized, sent and heard, markers, pause and resume, the caller's
//! silences) is the sans-IO [`crate::core::playback::Voice`]; the call
//! performs what it decides, encoding audio with the provider's codec and
//! a marker every [`MARK_EVERY_MS`].

mod ending;
mod hold;
mod inbound;
mod report;
mod retry;
mod rows;
mod setup;
mod speech;
mod turns;
mod wake;

pub use report::{CallReport, EndReason, ReportLine, SocketIn, SocketOut, Speaker};
pub use retry::sorry;
pub use setup::CallSetup;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

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
use crate::core::playback::{HOLD_PROMPT, Line, Send as PlaybackSend, Spoken, Voice};
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
use wake::{next_acks, next_hold_effect, next_moment, next_reply, next_stt, next_tts};

/// Playback marker cadence: the resolution of "heard up to".
pub const MARK_EVERY_MS: u64 = 200;
/// A call with no message from the provider for this long is dead.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

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
    /// When the sentence being synthesized was asked for (until its first
    /// audio).
    tts_requested: Option<Instant>,
    /// What the bot says (`core::playback`).
    voice: Voice,
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
    caller_phone: String,
    hang_up: bool,
    caller_turns: u32,
    payments: Option<Arc<PaymentService>>,
    /// The payment hold in progress: caller turns go to it, not the dialog.
    hold: Option<CallHold>,
    /// Listening acknowledgements: being made, then ready.
    acks_coming: Option<tokio::sync::oneshot::Receiver<AckClips>>,
    acks: Option<AckClips>,
    /// What the hold is for (appointment, amount, language), for the link.
    hold_for: Option<(uuid::Uuid, crate::core::ids::Money, Lang)>,
    /// Caller words the hold left to the dialog, answered once it is over.
    for_dialog: Option<String>,
    payment_links: Option<tokio::sync::mpsc::Sender<PaymentLinkRequest>>,
    /// Ending the call through the provider (`call/ending.rs`).
    ending: ending::Ending,
}

impl Call {
    async fn run<R, W, E>(&mut self, mut rx: R, mut tx: W) -> CallReport
    where
        R: Stream<Item = Result<SocketIn, E>> + Unpin + Send,
        W: Sink<SocketOut> + Unpin + Send,
        E: std::fmt::Display,
    {
        self.open_rows();
        let greeting = self.conversation.greeting(&self.ctx);
        self.say(greeting.into(), None);
        self.drive_voice();

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
            self.drive_voice();
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
