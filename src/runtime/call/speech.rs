//! What the bot says: one [`Utterance`] at a time, synthesized sentence by
//! sentence, sent as it comes with markers, paused, resumed or cut as the
//! turn engine says; what a silent caller hears; listening acknowledgements.

use super::*;

impl Call {
    pub(super) fn on_mark(&mut self, name: &str) {
        let Some(speech) = self.speech.as_mut() else {
            return;
        };
        let Some(heard) = speech.playback.marker_heard(name) else {
            return; // a marker from before a clear, or not ours
        };
        let (utterance, heard_ms) = (speech.playback.id(), self.format.duration_ms(heard));
        self.turns
            .bot_mark(utterance, heard_ms, self.turns.clock_ms());
        self.maybe_finish_speech();
    }

    pub(super) fn on_tts(
        &mut self,
        chunk: Option<
            Result<crate::adapters::speech::TtsAudio, crate::adapters::speech::SpeechError>,
        >,
    ) {
        let Some(speech) = self.speech.as_mut() else {
            self.synth = None;
            return;
        };
        match chunk {
            Some(Ok(audio)) => {
                if let Some(asked) = speech.tts_requested.take() {
                    self.metrics
                        .tts_first_audio_seconds
                        .observe(asked.elapsed().as_secs_f64());
                }
                self.outbound.push(&audio, speech.playback.audio_mut());
                self.pump();
            }
            Some(Err(e)) => {
                warn!(error = %e, "speech synthesis failed; skipping the sentence");
                self.synth = None;
                self.next_sentence();
            }
            None => {
                self.outbound.finish(speech.playback.audio_mut());
                self.synth = None;
                self.next_sentence();
            }
        }
    }

    /// The caller has said nothing for a while: ask whether they are still
    /// there; the second time, say goodbye and hang up once it is heard.
    pub(super) fn no_input(&mut self) {
        if self.hold.is_some() || self.reply.is_some() {
            return; // the silence is ours, not the caller's
        }
        self.silences += 1;
        let lang = self.speech_language();
        let (line, end_call) = match self.silences {
            1 => (CallLine::StillThere, false),
            _ => (CallLine::Goodbye, true),
        };
        let text = line.text(lang);
        info!(silences = self.silences, end_call, "caller silent");
        let mut reply = BotReply::said(vec![text.to_owned()], lang, NO_INPUT);
        reply.end_call = end_call;
        self.say_after_current(reply);
    }

    /// A soft "mm-hmm" while the caller pauses in a long turn: played as
    /// it is (no marks), and only when the bot is not speaking.
    pub(super) fn listening_ack(&mut self, language: Lang) {
        let Some(clip) = self.acks.as_ref().map(|a| a.for_language(language)) else {
            return; // not made (yet): skip this one
        };
        if clip.is_empty() || self.speech.is_some() {
            return;
        }
        if self
            .codec
            .encode(Playback::Audio(clip), &mut self.out)
            .is_ok()
        {
            self.report.listening_acks += 1;
            self.metrics.listening_acks.fetch_add(1, Ordering::Relaxed);
            debug!(
                language = language.code(),
                "listening acknowledgement played"
            );
        }
    }

    pub(super) fn pause(&mut self, onset_ms: u64) {
        let Some(speech) = self.speech.as_mut() else {
            return;
        };
        if !speech.playback.pause() {
            return;
        }
        let _ = self.codec.encode(Playback::Clear, &mut self.out);
        let now = self.turns.clock_ms();
        self.report.barge_ins.push((onset_ms, now));
        self.metrics
            .barge_in_reaction_seconds
            .observe(now.saturating_sub(onset_ms) as f64 / 1000.0);
        info!(
            onset_ms,
            clear_ms = now,
            "caller spoke over the bot; playback cleared"
        );
    }

    /// A confirmed interruption: the rest will never be said.
    pub(super) fn cut_speech(&mut self) {
        self.synth = None;
        let Some(mut speech) = self.speech.take() else {
            return;
        };
        if speech.playback.cut() {
            let _ = self.codec.encode(Playback::Clear, &mut self.out);
        }
        self.record_bot(&speech, true);
        if let Some(handoff) = speech.handoff {
            // The caller asked for a person; talking over the hand-off line
            // does not take that back.
            self.end_call(Some(handoff));
        }
    }

    pub(super) fn start_speech(&mut self, reply: BotReply, answering_since: Option<Instant>) {
        if reply.handoff.is_some() {
            self.ending.handing_off();
        }
        if reply.sentences.is_empty() {
            if reply.end_call {
                self.end_call(reply.handoff);
            }
            return;
        }
        self.synth = None;
        if let Some(old) = self.speech.take() {
            self.record_bot(&old, true);
        }
        self.next_utterance += 1;
        self.last_language = reply.language;
        self.speech = Some(Speech {
            playback: Utterance::new(self.next_utterance, reply.sentences),
            language: reply.language,
            intent: reply.intent,
            end_call: reply.end_call,
            handoff: reply.handoff,
            answering_since,
            recorded: reply.recorded,
            started_ms: self.turns.clock_ms(),
            tts_requested: None,
        });
        self.next_sentence();
    }

    pub(super) fn next_sentence(&mut self) {
        let Some(speech) = self.speech.as_mut() else {
            return;
        };
        match speech.playback.next_sentence() {
            Some(sentence) => {
                speech.tts_requested = Some(Instant::now());
                self.synth = Some(self.tts.synthesize(TtsRequest {
                    text: sentence,
                    language: speech.language.code().to_owned(),
                    voice: self.ctx.tenant.dials.default_speaker.clone(),
                    speed: self.speed,
                    prefer_mulaw_8k: self.format == AudioFormat::MULAW_8K,
                }));
            }
            None => self.pump(),
        }
    }

    /// Sends what is synthesized and not yet sent, with markers.
    pub(super) fn pump(&mut self) {
        let Some(speech) = self.speech.as_mut() else {
            return;
        };
        let mark_bytes = self.format.frame_bytes() * (MARK_EVERY_MS / 20) as usize;
        let (codec, out) = (&mut self.codec, &mut self.out);
        let started = speech
            .playback
            .pump(mark_bytes, self.ctx.tenant.dials.streaming, |send| {
                let playback = match send {
                    PlaybackSend::Audio(chunk) => Playback::Audio(chunk),
                    PlaybackSend::Mark(name) => Playback::Mark(name),
                };
                codec.encode(playback, out).is_ok()
            });
        if started {
            self.turns
                .bot_started(speech.playback.id(), self.turns.clock_ms());
            if let Some(since) = speech.answering_since.take() {
                self.metrics
                    .eot_to_first_audio_seconds
                    .observe(since.elapsed().as_secs_f64());
            }
        }
        self.maybe_finish_speech();
    }

    pub(super) fn maybe_finish_speech(&mut self) {
        let done = self.speech.as_ref().is_some_and(|s| s.playback.finished());
        if !done {
            return;
        }
        if let Some(speech) = self.speech.take() {
            self.turns
                .bot_finished(speech.playback.id(), self.turns.clock_ms());
            self.record_bot(&speech, false);
            if speech.end_call {
                self.end_call(speech.handoff);
                return;
            }
        }
        if let Some(next) = self.queued_replies.pop_front() {
            self.start_speech(next, None);
        }
    }
}
