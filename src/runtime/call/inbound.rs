//! What comes in: the provider's messages (audio through the turn engine
//! and on to the recognizer, markers, keys, stop) and the recognizer's words.

use super::*;

impl Call {
    pub(super) fn on_socket(&mut self, msg: SocketIn) -> Result<(), EndReason> {
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
            CallEvent::Mark { name } => self.voice.marker_heard(&name, self.turns.clock_ms()),
            CallEvent::Dtmf { digit } => {
                debug!(digit = %digit, "dtmf");
                self.voice.caller_active();
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

    pub(super) fn on_stt(&mut self, ev: Option<SttEvent>) {
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
}
