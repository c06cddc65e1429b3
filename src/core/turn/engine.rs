//! The state machine behind [`TurnEngine`]; the contract and state diagram
//! are in the module docs of [`super`].

use super::echo::EchoGate;
use super::level::CallerLevel;
use super::lexicon::{self, Completion};
use super::timers::{Timer, Timers};
use super::{
    Expectation, Floor, Lang, PlaybackCommand, TranscriptUpdate, TurnConfig, TurnEvent, TurnInput,
    TurnOutput,
};
use crate::core::vad::{SpectralVad, VadFrame};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Outputs kept if a driver never drains (bounded memory).
const MAX_QUEUED: usize = 256;
/// A run shorter than this over the bot is noise, not even a backchannel.
const BACKCHANNEL_MIN_MS: i64 = 100;
/// Runs longer than this are never backchannels, whatever the words say.
const BACKCHANNEL_MAX_MS: i64 = 1000;
/// A tentative pause with no voiced frame for this long was a blip.
const BLIP_RESUME_MS: i64 = 240;
/// After a short sound over the bot ends (a backchannel), the bot resumes
/// only if the caller stays quiet this long: "Ndiyo… tafadhali" must not
/// get a fifth of a second of the old reply between its words.
const RESUME_GRACE_MS: i64 = 250;
/// The end-of-turn deadline moves at most this far for late voiced frames.
const EOT_MAX_POSTPONE_MS: i64 = 300;
/// Closed-mouth hums ("mm-hmm") keep their energy low in the spectrum.
const HUM_MAX_ZC_HZ: f32 = 600.0;
/// ... and their level steady: a nasal murmur has no articulation, while
/// words with low vowels ("zilizo-", "u-") also sit low in the spectrum but
/// jump in level at every consonant.
const HUM_MAX_LEVEL_STEP_DB: f32 = 1.5;
/// Two sounds over the bot this close (end of voicing to start of voicing)
/// are one utterance with a pause in it ("Sorry — that's not what I said"),
/// so the second is judged with the first one's speech counted in. Pauses
/// inside a phrase are mostly shorter; acknowledgements come seconds apart.
const CONTINUATION_MS: i64 = 500;
/// A sound over the bot whose onset (its first [`ONSET_PEAK_MS`]) comes
/// within this of the caller's own speech (the 80th percentile of their
/// turns' voiced frames) is confirmed on sound as soon as without a
/// recogniser: someone taking the turn starts at full voice, while an
/// acknowledgement starts softer (measured 5-10 dB below; an "ndiyo" may
/// still end loud, so only the onset counts).
const AS_LOUD_AS_THE_CALLER_DB: f32 = 3.0;
const ONSET_PEAK_MS: i64 = 200;
/// Voiced speech of the caller's own (0.5 s) before their level counts.
const CALLER_LEVEL_MIN_FRAMES: u32 = 25;
/// Words heard this soon after a short burst over the bot still count for it.
const LATE_WORDS_MS: i64 = 1500;
/// No-input timeout after the bot finishes.
const NO_INPUT_MS: i64 = 10_000;
/// Words per second and voiced bursts per second of an average caller.
const REFERENCE_WORDS_PER_S: f32 = 2.6;
const REFERENCE_BURSTS_PER_S: f32 = 4.0;

#[derive(Debug, Clone)]
struct Word {
    norm: String,
    start_ms: i64,
    end_ms: i64,
    punctuated: bool,
    /// From an interim result: replaced by the next update, whatever it is.
    provisional: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Idle,
    /// The caller holds the floor; `speaking` while a run is open.
    CallerTurn {
        speaking: bool,
    },
    BotSpeaking,
    /// Tentative pause: playback paused at the first sign of caller speech.
    BotPaused {
        since_ms: i64,
    },
}

#[derive(Debug, Clone, Copy)]
struct Bot {
    utterance: u64,
    heard_ms: u32,
    guard_until_ms: i64,
    interruptions: u32,
}

/// The duplex turn-taking engine (see the module docs).
#[derive(Debug)]
pub struct TurnEngine {
    cfg: TurnConfig,
    origin: Instant,
    now_ms: i64,
    audio_ms: i64,
    vad: SpectralVad,
    phase: Phase,
    floor: Floor,
    bot: Option<Bot>,
    timers: Timers,
    out: VecDeque<TurnOutput>,
    holding: bool,
    expecting: Expectation,
    language: Lang,
    // caller speech bookkeeping
    run_open: bool,
    run_start_ms: i64,
    last_speech_ms: i64,
    last_voiced_ms: i64,
    last_active_ms: i64,
    last_run_end_ms: i64,
    turn_start_ms: i64,
    turn_speech_ms: i64,
    turn_bursts: u32,
    prev_voiced: bool,
    prev_level_db: f32,
    hum_frames: u32,
    voiced_frames: u32,
    run_frames: u32,
    /// The loudest voiced frame of the current run's onset (dBFS).
    run_peak_db: f32,
    caller_level: CallerLevel,
    echo: EchoGate,
    /// Speech of the previous short sound over the bot that the current one
    /// may continue, and until when it may.
    carried_ms: i64,
    carry_until_ms: i64,
    eot_postponed_ms: i64,
    last_ack_ms: i64,
    words: Vec<Word>,
    norm_buf: String,
}

impl TurnEngine {
    /// One engine per call, created at `now`.
    pub fn new(config: TurnConfig, now: Instant) -> Self {
        let vad = SpectralVad::new(config.sample_rate_hz, config.vad.clone());
        Self {
            cfg: config,
            origin: now,
            now_ms: 0,
            audio_ms: 0,
            vad,
            phase: Phase::Idle,
            floor: Floor::Nobody,
            bot: None,
            timers: Timers::default(),
            out: VecDeque::with_capacity(MAX_QUEUED),
            holding: false,
            expecting: Expectation::Anything,
            language: Lang::En,
            run_open: false,
            run_start_ms: 0,
            last_speech_ms: i64::MIN / 4,
            last_voiced_ms: i64::MIN / 4,
            last_active_ms: i64::MIN / 4,
            last_run_end_ms: i64::MIN / 4,
            turn_start_ms: 0,
            turn_speech_ms: 0,
            turn_bursts: 0,
            prev_voiced: false,
            prev_level_db: 0.0,
            hum_frames: 0,
            voiced_frames: 0,
            run_frames: 0,
            run_peak_db: f32::NEG_INFINITY,
            caller_level: CallerLevel::default(),
            echo: EchoGate::default(),
            carried_ms: 0,
            carry_until_ms: i64::MIN / 4,
            eot_postponed_ms: 0,
            last_ack_ms: i64::MIN / 4,
            words: Vec::with_capacity(128),
            norm_buf: String::with_capacity(32),
        }
    }

    // ---- getters ---------------------------------------------------------

    /// Who holds the floor now.
    pub fn floor(&self) -> Floor {
        self.floor
    }

    /// The configuration in use.
    pub fn config(&self) -> &TurnConfig {
        &self.cfg
    }

    /// Whether bot playback is currently paused tentatively.
    pub fn playback_paused(&self) -> bool {
        matches!(self.phase, Phase::BotPaused { .. })
    }

    /// Whether the caller is inside a speech run.
    pub fn caller_speaking(&self) -> bool {
        self.run_open
    }

    /// The next deadline and its reason.
    pub fn next_timeout(&self) -> Option<(Instant, Timer)> {
        self.timers.next().map(|(at, t)| (self.instant(at), t))
    }

    // ---- the one way in --------------------------------------------------

    /// Feed one input; then drain [`Self::poll_output`].
    pub fn handle_input(&mut self, input: TurnInput<'_>) {
        match input {
            TurnInput::CallerAudio { samples, at } => self.on_audio(samples, at),
            TurnInput::BotStarted { utterance, at } => {
                self.advance(at);
                self.on_bot_started(utterance);
            }
            TurnInput::BotMark {
                utterance,
                heard_ms,
                at,
            } => {
                self.advance(at);
                if let Some(b) = self.bot.as_mut().filter(|b| b.utterance == utterance) {
                    b.heard_ms = b.heard_ms.max(heard_ms);
                }
            }
            TurnInput::BotFinished { utterance, at } => {
                self.advance(at);
                self.on_bot_finished(utterance);
            }
            TurnInput::Transcript { update, at } => {
                self.advance(at);
                self.on_transcript(update);
            }
            TurnInput::Holding { on, at } => {
                self.advance(at);
                self.holding = on;
                if on {
                    self.timers.clear(Timer::NoInput);
                }
            }
            TurnInput::Expecting { what, at } => {
                self.advance(at);
                self.expecting = what;
                self.rearm_eot();
            }
            TurnInput::Timeout(at) => self.advance(at),
        }
    }

    /// The next output, or `None` when drained.
    pub fn poll_output(&mut self) -> Option<TurnOutput> {
        self.out.pop_front()
    }

    // ---- time ------------------------------------------------------------

    fn ms(&self, at: Instant) -> i64 {
        at.saturating_duration_since(self.origin).as_millis() as i64
    }

    fn instant(&self, ms: i64) -> Instant {
        self.origin + Duration::from_millis(ms.max(0) as u64)
    }

    /// Move the clock forward to `at` (never back), firing due timers at
    /// their own deadlines.
    fn advance(&mut self, at: Instant) {
        let t = self.ms(at).max(self.now_ms);
        self.advance_ms(t);
    }

    fn advance_ms(&mut self, t: i64) {
        while let Some((due, timer)) = self.timers.pop_due(t) {
            self.now_ms = self.now_ms.max(due);
            self.on_timer(timer);
        }
        self.now_ms = self.now_ms.max(t);
    }

    fn emit(&mut self, event: TurnEvent) {
        let at = self.instant(self.now_ms);
        self.push(TurnOutput::Event { at, event });
    }

    fn command(&mut self, command: PlaybackCommand) {
        let at = self.instant(self.now_ms);
        self.push(TurnOutput::Command { at, command });
    }

    fn push(&mut self, o: TurnOutput) {
        if self.out.len() >= MAX_QUEUED {
            self.out.pop_front();
        }
        self.out.push_back(o);
    }

    fn set_floor(&mut self, floor: Floor) {
        if self.floor != floor {
            self.floor = floor;
            self.emit(TurnEvent::FloorChanged { floor });
        }
    }

    // ---- audio -----------------------------------------------------------

    fn on_audio(&mut self, samples: &[i16], at: Instant) {
        // Frames are laid end to end; one that claims an earlier time starts
        // where the last one ended.
        let start = self.ms(at).max(self.audio_ms);
        self.advance_ms(start);
        if samples.is_empty() {
            return;
        }
        let rate = i64::from(self.cfg.sample_rate_hz.max(1));
        let dur = (samples.len() as i64 * 1000) / rate;
        if self.cfg.echo_gate {
            self.vad.set_gate_db(self.echo.gate_db(start));
        }
        let vf = self.vad.process(samples, start);
        let caller_db = self.caller_level.quantile(0.8, CALLER_LEVEL_MIN_FRAMES);
        self.echo.observe(
            start,
            vf.features.level_db,
            vf.features.snr_db,
            vf.speech || vf.ended,
            caller_db,
        );
        let end = start + dur.max(1);
        self.audio_ms = end;
        self.now_ms = self.now_ms.max(end);
        self.on_vad(&vf, end);
        // Timers that fell inside this frame fire now.
        self.advance_ms(end);
    }

    fn on_vad(&mut self, vf: &VadFrame, end: i64) {
        if vf.voiced {
            self.last_voiced_ms = end;
        }
        if vf.active {
            self.last_active_ms = end;
        }
        if vf.started {
            self.run_open = true;
            self.run_start_ms = vf.run_start_ms;
            self.hum_frames = 0;
            self.run_frames = 0;
            self.voiced_frames = 0;
            self.run_peak_db = f32::NEG_INFINITY;
            if self.run_start_ms > self.carry_until_ms {
                self.carried_ms = 0;
            }
            self.emit(TurnEvent::SpeechStart);
            self.on_run_start();
        }
        if self.run_open && vf.speech {
            self.last_speech_ms = vf.last_speech_ms;
            self.run_frames += 1;
            // Hum-likeness is judged on voiced frames that follow a voiced
            // frame: the first frame of each voiced stretch is a ramp-up in
            // level, whatever the sound.
            if vf.voiced && self.prev_voiced {
                self.voiced_frames += 1;
                let step = (vf.features.level_db - self.prev_level_db).abs();
                if step <= HUM_MAX_LEVEL_STEP_DB && vf.features.zc_hz < HUM_MAX_ZC_HZ {
                    self.hum_frames += 1;
                }
            }
            if vf.voiced && !self.prev_voiced {
                self.turn_bursts += 1;
            }
            if vf.voiced {
                if end - self.run_start_ms <= ONSET_PEAK_MS {
                    self.run_peak_db = self.run_peak_db.max(vf.features.level_db);
                }
                if matches!(self.phase, Phase::CallerTurn { .. }) {
                    self.caller_level.observe(vf.features.level_db);
                }
            }
        }
        self.prev_voiced = vf.voiced;
        self.prev_level_db = vf.features.level_db;
        if vf.ended {
            self.run_open = false;
            self.last_run_end_ms = end;
            self.last_speech_ms = vf.last_speech_ms;
            self.emit(TurnEvent::SpeechEnd);
            self.on_run_end();
        }
        // Per-frame checks by phase.
        match self.phase {
            Phase::BotSpeaking => {
                let guard = self.bot.map_or(0, |b| b.guard_until_ms);
                // Fresh voicing after the echo guard: a run that began
                // inside the guard counts only once it is still voiced after.
                if self.cfg.full_duplex && end > guard && vf.voiced {
                    self.tentative_pause();
                }
            }
            Phase::BotPaused { since_ms } => {
                if self.run_open {
                    self.check_confirm();
                } else if !vf.speech
                    && end - self.last_voiced_ms >= BLIP_RESUME_MS
                    && self.last_run_end_ms < since_ms
                {
                    // A blip that never became a run: resume. (After a run,
                    // the grace timer decides.)
                    self.resume_bot(false);
                }
            }
            _ => {}
        }
    }

    fn on_run_start(&mut self) {
        self.timers.clear(Timer::NoInput);
        match self.phase {
            Phase::Idle => {
                self.start_caller_turn(self.run_start_ms);
            }
            Phase::CallerTurn { .. } => {
                self.phase = Phase::CallerTurn { speaking: true };
                self.timers.clear(Timer::EndOfTurn);
                self.timers.clear(Timer::ListeningAck);
                self.eot_postponed_ms = 0;
            }
            Phase::BotSpeaking | Phase::BotPaused { .. } => {
                if self.cfg.hard_interrupt
                    && self.cfg.full_duplex
                    && self.bot.is_some_and(|b| b.interruptions >= 1)
                {
                    self.confirm_barge_in();
                } else if matches!(self.phase, Phase::BotPaused { .. }) {
                    // The caller goes on within the grace: a fresh window.
                    self.timers.set(
                        Timer::BargeInWindow,
                        self.now_ms + i64::from(self.cfg.barge_in_window_ms),
                    );
                }
            }
        }
    }

    fn on_run_end(&mut self) {
        let run_ms = self.last_speech_ms - self.run_start_ms;
        match self.phase {
            Phase::CallerTurn { .. } => {
                self.turn_speech_ms += run_ms.max(0);
                self.phase = Phase::CallerTurn { speaking: false };
                self.rearm_eot();
                self.arm_listening_ack();
            }
            Phase::BotPaused { .. } => {
                // A run that ended before confirmation: a backchannel if it
                // was long enough to be speech at all.
                if run_ms >= BACKCHANNEL_MIN_MS {
                    self.emit(TurnEvent::Backchannel);
                    self.carried_ms += run_ms;
                    self.carry_until_ms = self.last_speech_ms + CONTINUATION_MS;
                }
                // Explained (short): not an "interruption" for hard
                // interrupt. Resume once the caller has stayed quiet a
                // moment (the window timer, re-armed to the grace).
                self.timers
                    .set(Timer::BargeInWindow, self.now_ms + RESUME_GRACE_MS);
            }
            _ => {}
        }
    }

    fn start_caller_turn(&mut self, start_ms: i64) {
        self.turn_start_ms = start_ms;
        self.turn_speech_ms = 0;
        self.turn_bursts = 0;
        self.eot_postponed_ms = 0;
        // Words from before this turn are no longer needed.
        let keep_from = start_ms - 300;
        self.words.retain(|w| w.end_ms >= keep_from);
        self.phase = Phase::CallerTurn {
            speaking: self.run_open,
        };
        self.timers.clear(Timer::EndOfTurn);
        self.set_floor(Floor::Caller);
        if !self.run_open {
            self.rearm_eot();
        }
    }

    // ---- bot playback ----------------------------------------------------

    fn on_bot_started(&mut self, utterance: u64) {
        self.echo.bot_started(utterance, self.now_ms, self.run_open);
        let guard = self.now_ms + i64::from(self.cfg.echo_guard_ms);
        self.bot = Some(Bot {
            utterance,
            heard_ms: 0,
            guard_until_ms: guard,
            interruptions: 0,
        });
        self.carried_ms = 0;
        self.timers.clear(Timer::NoInput);
        match self.phase {
            Phase::CallerTurn { speaking } => {
                // The bot taking the floor ends a pausing caller's turn (the
                // driver answered before our silence deadline).
                self.timers.clear(Timer::EndOfTurn);
                self.timers.clear(Timer::ListeningAck);
                if !speaking && !self.run_open {
                    self.emit(TurnEvent::EndOfTurn);
                }
            }
            Phase::BotPaused { .. } => self.timers.clear(Timer::BargeInWindow),
            _ => {}
        }
        self.phase = Phase::BotSpeaking;
        self.set_floor(Floor::Bot);
    }

    fn on_bot_finished(&mut self, utterance: u64) {
        self.echo.bot_finished(utterance, self.now_ms);
        if self.bot.is_none_or(|b| b.utterance != utterance) {
            return;
        }
        self.bot = None;
        self.timers.clear(Timer::BargeInWindow);
        match self.phase {
            Phase::BotSpeaking | Phase::BotPaused { .. } => {
                if self.run_open {
                    // The caller started while the reply ended: their turn.
                    let start = self.run_start_ms;
                    self.start_caller_turn(start);
                } else {
                    self.phase = Phase::Idle;
                    self.set_floor(Floor::Nobody);
                    if !self.holding {
                        self.timers.set(Timer::NoInput, self.now_ms + NO_INPUT_MS);
                    }
                }
            }
            _ => {}
        }
    }

    fn tentative_pause(&mut self) {
        let Some(b) = self.bot else { return };
        self.phase = Phase::BotPaused {
            since_ms: self.now_ms,
        };
        self.command(PlaybackCommand::Pause {
            utterance: b.utterance,
            heard_ms: b.heard_ms,
        });
        self.timers.set(
            Timer::BargeInWindow,
            self.now_ms + i64::from(self.cfg.barge_in_window_ms),
        );
        if self.run_open {
            self.check_confirm();
        }
    }

    fn check_confirm(&mut self) {
        // Speech actually heard in this run, not the hangover after it, plus
        // the sound it continues.
        let run_ms = self.last_speech_ms - self.run_start_ms + self.carried_ms;
        let words = self.burst_words();
        if words.stop || (words.other && self.cfg.full_duplex) {
            self.confirm_barge_in();
            return;
        }
        if !self.cfg.backchannel_filter {
            if run_ms >= i64::from(self.cfg.barge_in_confirm_ms) {
                self.confirm_barge_in();
            }
            return;
        }
        if words.backchannel {
            if run_ms >= BACKCHANNEL_MAX_MS {
                self.confirm_barge_in();
            }
            return;
        }
        // With a recogniser the sound waits for words, unless it is as loud
        // as the caller's own speech.
        let need = if self.cfg.expect_transcripts && !self.as_loud_as_the_caller() {
            self.cfg.barge_in_confirm_with_words_ms
        } else {
            self.cfg.barge_in_confirm_ms
        };
        let hum_like = self.voiced_frames >= 4 && self.hum_frames * 10 >= self.voiced_frames * 7;
        let need = if hum_like {
            BACKCHANNEL_MAX_MS
        } else {
            i64::from(need)
        };
        if run_ms >= need {
            self.confirm_barge_in();
        }
    }

    fn as_loud_as_the_caller(&self) -> bool {
        self.caller_level
            .quantile(0.8, CALLER_LEVEL_MIN_FRAMES)
            .is_some_and(|p80| self.run_peak_db >= p80 - AS_LOUD_AS_THE_CALLER_DB)
    }

    fn confirm_barge_in(&mut self) {
        let Some(b) = self.bot.take() else { return };
        self.carried_ms = 0;
        self.timers.clear(Timer::BargeInWindow);
        self.emit(TurnEvent::BargeIn);
        self.command(PlaybackCommand::Stop {
            utterance: b.utterance,
        });
        if self.cfg.hard_interrupt {
            self.command(PlaybackCommand::StopSynthesis {
                utterance: b.utterance,
            });
        }
        let start = if self.run_open {
            self.run_start_ms
        } else {
            self.now_ms
        };
        self.phase = Phase::Idle;
        self.start_caller_turn(start);
    }

    fn resume_bot(&mut self, was_speech: bool) {
        let counts = was_speech && !self.burst_words().backchannel;
        let Some(b) = self.bot.as_mut() else {
            self.phase = Phase::Idle;
            return;
        };
        if counts {
            b.interruptions += 1;
        }
        b.guard_until_ms = self.now_ms + i64::from(self.cfg.echo_guard_ms);
        let (utterance, from_ms) = (b.utterance, b.heard_ms);
        self.timers.clear(Timer::BargeInWindow);
        self.phase = Phase::BotSpeaking;
        self.command(PlaybackCommand::Resume { utterance, from_ms });
    }

    // ---- words -----------------------------------------------------------

    fn on_transcript(&mut self, update: TranscriptUpdate) {
        if let Some(lang) = update.language {
            self.language = lang;
        }
        // An interim result stands only until the next update: the next
        // interim one revises it, a final one settles the segment.
        self.words.retain(|w| !w.provisional);
        if let Some(first) = update.words.iter().map(|w| self.ms(w.start)).min() {
            self.words.retain(|w| w.start_ms < first);
        }
        for w in &update.words {
            lexicon::normalise_into(&w.text, &mut self.norm_buf);
            if self.norm_buf.is_empty() {
                continue;
            }
            let start_ms = self.ms(w.start);
            let word = Word {
                norm: self.norm_buf.clone(),
                start_ms,
                end_ms: self.ms(w.end).max(start_ms),
                punctuated: lexicon::ends_sentence(&w.text),
                provisional: !update.is_final,
            };
            self.words.push(word);
        }
        if self.words.len() > 512 {
            let cut = self.words.len() - 512;
            self.words.drain(..cut);
        }
        let recent_burst = self.run_open || self.now_ms - self.last_run_end_ms <= LATE_WORDS_MS;
        match self.phase {
            Phase::BotPaused { .. } if self.run_open => self.check_confirm(),
            Phase::BotSpeaking | Phase::BotPaused { .. }
                if self.cfg.full_duplex && recent_burst && self.burst_words().confirms_late() =>
            {
                self.confirm_barge_in()
            }
            Phase::BotSpeaking | Phase::BotPaused { .. }
                if !self.cfg.full_duplex && self.burst_words().stop =>
            {
                self.confirm_barge_in()
            }
            Phase::CallerTurn { speaking: false } => self.rearm_eot(),
            _ => {}
        }
    }

    /// Words of the current caller burst over the bot.
    fn burst_words(&self) -> BurstWords {
        // The current run, or the last one (words arrive after it ends).
        let from = self.run_start_ms - 150;
        let mut r = BurstWords::default();
        for w in self.words.iter().filter(|w| w.end_ms >= from) {
            if lexicon::is_stop_word(&w.norm) {
                r.stop = true;
            } else if lexicon::is_backchannel(&w.norm) {
                r.backchannel = true;
            } else {
                r.other = true;
                r.others += 1;
            }
        }
        if r.other {
            r.backchannel = false;
        }
        r
    }

    // ---- endpointing -----------------------------------------------------

    /// Silence needed after the last speech frame, from what the words say.
    fn eot_delay_ms(&self) -> i64 {
        let from = self.turn_start_ms - 200;
        let turn_words = || self.words.iter().filter(|w| w.start_ms >= from);
        let expect = self.expecting.lengthens_endpointing();
        // With a recogniser attached, real endings usually announce
        // themselves (closing word, punctuation), so a neutral ending is
        // more often a mid-sentence pause: wait a little longer.
        let neutral = i64::from(self.cfg.eot_silence_ms)
            + if self.cfg.expect_transcripts {
                i64::from(self.cfg.neutral_extra_with_words_ms)
            } else {
                0
            };
        let unknown = if expect {
            i64::from(self.cfg.max_delay_ms)
        } else {
            neutral
        };
        let Some(last) = turn_words().next_back() else {
            return unknown;
        };
        // Words must cover the speech: speech well after the last word means
        // the recogniser has not caught up, so the ending is unknown.
        if last.end_ms + 250 < self.last_speech_ms {
            return unknown;
        }
        let completion = lexicon::judge_completion(
            turn_words().map(|w| w.norm.as_str()),
            last.punctuated,
            expect,
        );
        match completion {
            Completion::Complete => i64::from(self.cfg.min_delay_ms),
            // "Yes, please book it" answers the question that was asked.
            Completion::Neutral
                if self
                    .expecting
                    .answered_by(turn_words().map(|w| w.norm.as_str())) =>
            {
                i64::from(self.cfg.min_delay_ms)
            }
            Completion::Neutral => neutral,
            Completion::Unfinished => i64::from(self.cfg.max_delay_ms),
        }
    }

    fn rearm_eot(&mut self) {
        if self.phase != (Phase::CallerTurn { speaking: false }) {
            return;
        }
        let at = self.last_speech_ms + self.eot_delay_ms() + self.eot_postponed_ms;
        self.timers.set(Timer::EndOfTurn, at.max(self.now_ms));
    }

    fn arm_listening_ack(&mut self) {
        if !self.cfg.listening_ack || self.holding {
            return;
        }
        let turn_ms = self.last_speech_ms - self.turn_start_ms;
        if turn_ms < i64::from(self.cfg.listening_ack_after_ms)
            || self.now_ms - self.last_ack_ms < i64::from(self.cfg.listening_ack_gap_ms)
        {
            return;
        }
        let at = self.last_speech_ms + i64::from(self.cfg.listening_ack_pause_ms);
        // Only in a pause that is clearly not the end of the turn.
        if self
            .timers
            .get(Timer::EndOfTurn)
            .is_some_and(|eot| eot > at + 200)
        {
            self.timers.set(Timer::ListeningAck, at.max(self.now_ms));
        }
    }

    fn end_turn(&mut self) {
        self.timers.clear(Timer::ListeningAck);
        self.emit(TurnEvent::EndOfTurn);
        if let Some(factor) = self
            .speaking_rate_factor()
            .filter(|_| self.cfg.adaptive_speed)
        {
            self.emit(TurnEvent::SpeakingRate { factor });
        }
        self.phase = Phase::Idle;
        self.set_floor(Floor::Nobody);
        if !self.holding {
            self.timers.set(Timer::NoInput, self.now_ms + NO_INPUT_MS);
        }
    }

    fn speaking_rate_factor(&self) -> Option<f32> {
        let speech_s = self.turn_speech_ms as f32 / 1000.0;
        if speech_s < 0.8 {
            return None;
        }
        let from = self.turn_start_ms - 200;
        let n_words = self.words.iter().filter(|w| w.start_ms >= from).count();
        let ratio = if n_words >= 3 {
            n_words as f32 / speech_s / REFERENCE_WORDS_PER_S
        } else {
            self.turn_bursts as f32 / speech_s / REFERENCE_BURSTS_PER_S
        };
        Some(ratio.clamp(self.cfg.rate_factor_min, self.cfg.rate_factor_max))
    }

    // ---- timers ----------------------------------------------------------

    fn on_timer(&mut self, t: Timer) {
        match t {
            Timer::EndOfTurn => {
                if self.phase != (Phase::CallerTurn { speaking: false }) || self.run_open {
                    return;
                }
                // A voiced frame right now may be the caller going on.
                if self.now_ms - self.last_active_ms < 60
                    && self.eot_postponed_ms < EOT_MAX_POSTPONE_MS
                {
                    self.eot_postponed_ms += 60;
                    self.timers.set(Timer::EndOfTurn, self.now_ms + 60);
                    return;
                }
                self.end_turn();
            }
            Timer::BargeInWindow => {
                if matches!(self.phase, Phase::BotPaused { .. }) {
                    let speech = self.run_open;
                    if speech && !self.cfg.backchannel_filter {
                        self.confirm_barge_in();
                    } else {
                        if speech {
                            self.emit(TurnEvent::Backchannel);
                        }
                        self.resume_bot(speech);
                    }
                }
            }
            Timer::ListeningAck => {
                if self.phase == (Phase::CallerTurn { speaking: false }) && !self.run_open {
                    self.last_ack_ms = self.now_ms;
                    self.emit(TurnEvent::ListeningAck {
                        language: self.language,
                    });
                }
            }
            Timer::NoInput => {
                if !self.holding && self.phase == Phase::Idle && !self.run_open {
                    self.emit(TurnEvent::NoInput);
                }
            }
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct BurstWords {
    stop: bool,
    backchannel: bool,
    other: bool,
    others: u32,
}

impl BurstWords {
    /// Words that arrive after a short burst ended still stop the bot when
    /// they ask to, or when they are clearly more than an acknowledgement.
    fn confirms_late(&self) -> bool {
        self.stop || self.others >= 2
    }
}
