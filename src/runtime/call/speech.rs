//! What the bot says, performed: the core's [`Voice`] decides (one line at
//! a time, what waits, what was heard); this synthesizes its sentences,
//! encodes its audio and markers with the provider's codec, clears the
//! provider, tells the turn engine and records the lines. Also the
//! listening acknowledgements, which are not lines.

use super::*;
use crate::core::playback::VoiceOut;

impl Call {
    /// Sends what is ready and performs what the voice decided, until it
    /// has nothing more to say.
    pub(super) fn drive_voice(&mut self) {
        loop {
            let now = self.turns.clock_ms();
            let (codec, out) = (&mut self.codec, &mut self.out);
            self.voice.pump(now, |send| {
                let playback = match send {
                    PlaybackSend::Audio(chunk) => Playback::Audio(chunk),
                    PlaybackSend::Mark(name) => Playback::Mark(name),
                };
                codec.encode(playback, out).is_ok()
            });
            let Some(effect) = self.voice.poll() else {
                return;
            };
            self.perform(effect);
        }
    }

    pub(super) fn perform(&mut self, effect: VoiceOut) {
        let now = self.turns.clock_ms();
        match effect {
            VoiceOut::Synthesize { text, language } => {
                self.tts_requested = Some(Instant::now());
                self.synth = Some(self.tts.synthesize(TtsRequest {
                    text,
                    language,
                    voice: self.ctx.tenant.dials.default_speaker.clone(),
                    speed: self.speed,
                    prefer_mulaw_8k: self.format == AudioFormat::MULAW_8K,
                }));
            }
            VoiceOut::StopSynthesis => self.synth = None,
            VoiceOut::Clear => {
                let _ = self.codec.encode(Playback::Clear, &mut self.out);
            }
            VoiceOut::Started {
                utterance,
                answering,
            } => {
                self.turns.bot_started(utterance, now);
                if let Some(since) = answering {
                    self.metrics
                        .eot_to_first_audio_seconds
                        .observe(since.elapsed().as_secs_f64());
                }
            }
            VoiceOut::Heard { utterance, bytes } => {
                self.turns
                    .bot_mark(utterance, self.format.duration_ms(bytes), now);
            }
            VoiceOut::Finished { utterance } => self.turns.bot_finished(utterance, now),
            VoiceOut::Done(spoken) => self.record_bot(&spoken),
            VoiceOut::HoldPromptsHeard(n) => {
                if let Some(hold) = &self.hold {
                    hold.prompts_heard(n);
                }
            }
            VoiceOut::HandingOff => self.ending.handing_off(),
            VoiceOut::EndCall(handoff) => self.end_call(handoff),
        }
    }

    pub(super) fn on_tts(
        &mut self,
        chunk: Option<
            Result<crate::adapters::speech::TtsAudio, crate::adapters::speech::SpeechError>,
        >,
    ) {
        let Some(audio_out) = self.voice.audio_mut() else {
            self.synth = None;
            return;
        };
        match chunk {
            Some(Ok(audio)) => {
                if let Some(asked) = self.tts_requested.take() {
                    self.metrics
                        .tts_first_audio_seconds
                        .observe(asked.elapsed().as_secs_f64());
                }
                self.outbound.push(&audio, audio_out);
            }
            Some(Err(e)) => {
                warn!(error = %e, "speech synthesis failed; skipping the sentence");
                self.synth = None;
                self.voice.sentence_done();
            }
            None => {
                self.outbound.finish(audio_out);
                self.synth = None;
                self.voice.sentence_done();
            }
        }
    }

    /// Says `line` now (replacing what plays), as the answer to the
    /// caller's turn that ended at `answering`.
    pub(super) fn say(&mut self, line: Line, answering: Option<Instant>) {
        self.voice.say(line, answering, self.turns.clock_ms());
    }

    /// Says `line` once what the bot is saying now has been heard.
    pub(super) fn say_after_current(&mut self, line: Line) {
        self.voice.say_after_current(line, self.turns.clock_ms());
    }

    /// The caller has said nothing for a while (the voice asks, then says
    /// goodbye), unless the silence is ours.
    pub(super) fn no_input(&mut self) {
        if self.hold.is_some() || self.reply.is_some() {
            return; // the silence is ours, not the caller's
        }
        let (silences, end_call) = self.voice.no_input(self.turns.clock_ms());
        info!(silences, end_call, "caller silent");
    }

    /// A soft "mm-hmm" while the caller pauses in a long turn: played as
    /// it is (no marks), and only when the bot is not speaking.
    pub(super) fn listening_ack(&mut self, language: Lang) {
        let Some(clip) = self.acks.as_ref().map(|a| a.for_language(language)) else {
            return; // not made (yet): skip this one
        };
        if clip.is_empty() || self.voice.speaking() {
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

    /// The caller started speaking over the bot: playback stops there.
    pub(super) fn pause(&mut self, onset_ms: u64) {
        if !self.voice.pause() {
            return;
        }
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
}
