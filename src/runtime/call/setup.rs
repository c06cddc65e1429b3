//! What a call task is given, and the call it makes of it.

use super::*;

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

impl Call {
    pub(super) fn new(
        codec: Box<dyn MediaCodec>,
        setup: CallSetup,
    ) -> Result<Self, Box<CallReport>> {
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
        let streaming = setup.ctx.tenant.dials.streaming;
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
            tts_requested: None,
            voice: Voice::new(
                greeting_language,
                format.frame_bytes() * (MARK_EVERY_MS / 20) as usize,
                streaming,
            ),
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
            caller_phone,
            hang_up: false,
            caller_turns: 0,
            payments: setup.payments,
            hold: None,
            acks_coming,
            acks: None,
            hold_for: None,
            for_dialog: None,
            payment_links: setup.payment_links,
            ending: ending::Ending::new(setup.control),
        })
    }
}
