//! The call's turn-taking: the core's [`TurnEngine`] behind the core's
//! [`InboundAudio`], the same path from wire bytes to turn events that
//! `ratiba analyze` replays, with the engine configured from the tenant's
//! dials by [`TurnConfig::from_dials`] (NULL numbers are the core's tuned
//! defaults). Voice activity on the caller's frames, recognizer words, the
//! bot's playback progress and the dialog's expectation go in; the engine's
//! playback commands and events come out as [`TurnAction`]s. The engine
//! decides every turn; this adds only what is not the engine's business:
//! the words of the turn (finals), keypad digits, and a per-utterance
//! recognizer's transcript that is still owed.
//!
//! Time is the call's audio clock (`epoch + ms`, 20 ms per frame received):
//! in a real call it runs with the wall clock; a simulated fast call runs it
//! faster, and the turn decisions stay the same.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::adapters::speech::{SttEvent, Word};
use crate::core::audio::ResampleError;
use crate::core::ids::Lang;
use crate::core::turn::{
    Cue, Expectation, InboundAudio, LineCodec, PlaybackCommand, TranscriptUpdate, TranscriptWord,
    TurnConfig, TurnDials, TurnEngine, TurnEvent, TurnInput, TurnOutput,
};

/// Entries kept in each part of a call's [`TurnLog`] (a long call stops
/// logging rather than growing).
const MAX_LOGGED: usize = 4096;
/// Actions queued between two polls (the call polls after every input).
const ACTIONS_QUEUED: usize = 16;

/// What the call must do.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnAction {
    /// The caller started speaking over the bot: stop playback now, keep
    /// the unheard rest.
    PauseBot { onset_ms: u64 },
    /// It was a real interruption: drop the rest, cancel synthesis.
    ConfirmBargeIn,
    /// It was noise or a backchannel: play the rest.
    ResumeBot,
    /// Speak at this factor of the normal rate from now on.
    SpeakingRate(f32),
    /// Play a soft "mm-hmm" / "ndiyo": the caller paused in a long turn
    /// that is not over.
    ListeningAck { language: Lang },
    /// The caller started a speech run.
    CallerSpeaking,
    /// The caller stopped speaking (the engine's speech end): time for a
    /// per-utterance recognizer to transcribe what it has.
    CallerPaused,
    /// Nobody has spoken for a long while since the bot finished.
    NoInput,
    /// The caller finished a turn.
    EndOfTurn {
        text: String,
        language: Option<Lang>,
        dtmf: String,
        at_ms: u64,
    },
}

/// What the engine decided on a call and the non-audio inputs it was fed,
/// on the audio clock (ms): with the caller's audio and words this is
/// enough to replay the call through `ratiba analyze`
/// ([`crate::cli::analyze::replay_cues`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TurnLog {
    pub events: Vec<(u64, TurnEvent)>,
    pub cues: Vec<(u64, Cue)>,
}

/// What the caller has said (and keyed) since the last end of turn.
#[derive(Debug, Default)]
struct Heard {
    words: Vec<String>,
    language: Option<Lang>,
    dtmf: String,
}

impl Heard {
    fn is_empty(&self) -> bool {
        self.words.is_empty() && self.dtmf.is_empty()
    }

    fn add_final(&mut self, text: &str, language: Option<Lang>) {
        self.words.push(text.trim().to_owned());
        if language.is_some() {
            self.language = language;
        }
    }

    /// The turn, if anything was said; the words and digits start afresh
    /// (the language carries over).
    fn take_turn(&mut self, at_ms: u64) -> Option<TurnAction> {
        (!self.is_empty()).then(|| TurnAction::EndOfTurn {
            text: std::mem::take(&mut self.words).join(" "),
            language: self.language,
            dtmf: std::mem::take(&mut self.dtmf),
            at_ms,
        })
    }
}

/// A recognizer's language code as ours (`sw`, `sw-KE`, `swahili` are
/// Swahili; anything else is English).
pub fn recognizer_lang(code: &str) -> Lang {
    if code.trim().to_ascii_lowercase().starts_with("sw") {
        Lang::Sw
    } else {
        Lang::En
    }
}

/// The turn-taking of one call.
pub struct CallTurns {
    engine: TurnEngine,
    inbound: InboundAudio,
    epoch: Instant,
    heard: Heard,
    dtmf_deadline: Option<u64>,
    /// Transcripts asked of a per-utterance recognizer and not yet back.
    transcripts_pending: u32,
    /// The engine ended a turn before its words arrived (a per-utterance
    /// recognizer answers after the caller stops): the words end it when
    /// they come, unless the caller speaks again first.
    ended_awaiting_words: bool,
    actions: VecDeque<TurnAction>,
    /// Keep a [`TurnLog`] (tests and replays; off on a production call,
    /// whose per-frame path allocates nothing).
    logging: bool,
    log: TurnLog,
}

impl std::fmt::Debug for CallTurns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallTurns")
            .field("floor", &self.engine.floor())
            .field("clock_ms", &self.inbound.clock_ms())
            .finish()
    }
}

impl CallTurns {
    /// Turns for a line of `codec` at `line_rate`, with the tenant's
    /// `dials`; `expect_transcripts` when a streaming recognizer sends
    /// words while the caller speaks.
    pub fn new(
        dials: &TurnDials,
        codec: LineCodec,
        line_rate: u32,
        expect_transcripts: bool,
        epoch: Instant,
    ) -> Result<Self, ResampleError> {
        let inbound = InboundAudio::new(codec, line_rate, epoch)?;
        let mut config = TurnConfig::from_dials(dials, inbound.engine_rate());
        config.expect_transcripts = expect_transcripts;
        Ok(Self {
            engine: TurnEngine::new(config, epoch),
            inbound,
            epoch,
            heard: Heard::default(),
            dtmf_deadline: None,
            transcripts_pending: 0,
            ended_awaiting_words: false,
            actions: VecDeque::with_capacity(ACTIONS_QUEUED),
            logging: false,
            log: TurnLog::default(),
        })
    }

    /// Keeps a [`TurnLog`] of this call from now on.
    pub fn keep_log(&mut self) {
        self.logging = true;
    }

    /// The engine's configuration (what the dials became).
    pub fn config(&self) -> &TurnConfig {
        self.engine.config()
    }

    /// The rate of the frames the engine and the recognizer get.
    pub fn engine_rate(&self) -> u32 {
        self.inbound.engine_rate()
    }

    /// The call's audio clock: milliseconds of caller audio received.
    pub fn clock_ms(&self) -> u64 {
        self.inbound.clock_ms()
    }

    /// The line's bytes: each whole 20 ms frame goes to `tap` (the
    /// recognizer) and then the engine. Returns the frames made.
    pub fn push_audio(&mut self, wire: &[u8], tap: impl FnMut(&[i16], u64)) -> u64 {
        let before = self.inbound.frames();
        self.inbound.push(wire, &mut self.engine, tap);
        self.drain();
        self.inbound.frames() - before
    }

    /// The audio clock moved on without audio (the wall timer).
    pub fn advance(&mut self, now_ms: u64) {
        if self.dtmf_deadline.is_some_and(|d| now_ms >= d) {
            self.dtmf_deadline = None;
            self.end_turn(now_ms);
        }
        let now = self.at(now_ms);
        self.engine.handle_input(TurnInput::Timeout(now));
        self.drain();
    }

    /// The call asked a per-utterance recognizer for a transcript: an end
    /// of turn waits for it.
    pub fn transcript_requested(&mut self) {
        self.transcripts_pending += 1;
    }

    pub fn on_stt(&mut self, ev: &SttEvent, now_ms: u64) {
        match ev {
            SttEvent::Final {
                text,
                words,
                language,
            } => {
                self.transcripts_pending = self.transcripts_pending.saturating_sub(1);
                let language = language.as_deref().map(recognizer_lang);
                if !text.trim().is_empty() {
                    self.heard.add_final(text, language);
                    self.tell_engine(words, language, true, now_ms);
                }
                self.end_turn_if_words_settled(now_ms);
            }
            // Interim words tell the engine early what is being said: a stop
            // word or a real word over the bot confirms a barge-in before the
            // final arrives. The turn's text comes from finals only.
            SttEvent::Partial { words, .. } => {
                if !words.is_empty() {
                    self.tell_engine(words, None, false, now_ms);
                }
            }
            SttEvent::Failed(_) => {
                self.transcripts_pending = self.transcripts_pending.saturating_sub(1);
                self.end_turn_if_words_settled(now_ms);
            }
            // The engine hears onsets and ends itself, on the audio.
            SttEvent::SpeechStarted { .. } | SttEvent::UtteranceEnd => {}
        }
    }

    pub fn on_dtmf(&mut self, digit: char, now_ms: u64) {
        self.heard.dtmf.push(digit);
        self.dtmf_deadline = Some(now_ms + if digit == '#' { 0 } else { 1500 });
    }

    pub fn bot_started(&mut self, utterance: u32, now_ms: u64) {
        self.cue(
            Cue::BotStarted {
                utterance: u64::from(utterance),
            },
            now_ms,
        );
    }

    pub fn bot_mark(&mut self, utterance: u32, heard_ms: u64, now_ms: u64) {
        self.cue(
            Cue::BotMark {
                utterance: u64::from(utterance),
                heard_ms: u32::try_from(heard_ms).unwrap_or(u32::MAX),
            },
            now_ms,
        );
    }

    pub fn bot_finished(&mut self, utterance: u32, now_ms: u64) {
        self.cue(
            Cue::BotFinished {
                utterance: u64::from(utterance),
            },
            now_ms,
        );
    }

    /// The caller is on hold (waiting for a payment) or no longer.
    pub fn set_holding(&mut self, on: bool, now_ms: u64) {
        self.cue(Cue::Holding { on }, now_ms);
    }

    /// What the dialog waits for in the caller's next answer.
    pub fn expecting(&mut self, what: Expectation, now_ms: u64) {
        self.cue(Cue::Expecting { what }, now_ms);
    }

    pub fn next_deadline(&self) -> Option<u64> {
        let engine = self.engine.next_timeout().map(|(at, _)| self.ms(at));
        match (engine, self.dtmf_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn poll(&mut self) -> Option<TurnAction> {
        self.actions.pop_front()
    }

    /// The call's log so far (taken: the call is ending).
    pub fn take_log(&mut self) -> TurnLog {
        std::mem::take(&mut self.log)
    }

    fn at(&self, ms: u64) -> Instant {
        self.epoch + Duration::from_millis(ms)
    }

    fn ms(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.epoch).as_millis() as u64
    }

    fn cue(&mut self, cue: Cue, now_ms: u64) {
        // Marks change no decision, only where a resume starts: not kept.
        if self.logging && !matches!(cue, Cue::BotMark { .. }) && self.log.cues.len() < MAX_LOGGED {
            self.log.cues.push((now_ms, cue));
        }
        let at = self.at(now_ms);
        self.engine.handle_input(cue.input(at));
        self.drain();
    }

    fn tell_engine(&mut self, words: &[Word], language: Option<Lang>, is_final: bool, now_ms: u64) {
        let update = TranscriptUpdate {
            words: words
                .iter()
                .map(|w| TranscriptWord {
                    text: w.text.clone(),
                    start: self.at(w.start_ms),
                    end: self.at(w.end_ms),
                })
                .collect(),
            language,
            is_final,
        };
        let at = self.at(now_ms);
        self.engine
            .handle_input(TurnInput::Transcript { update, at });
        self.drain();
    }

    /// A turn the engine ended while words were still owed ends now that
    /// none are.
    fn end_turn_if_words_settled(&mut self, now_ms: u64) {
        if self.ended_awaiting_words && self.transcripts_pending == 0 && !self.heard.is_empty() {
            self.ended_awaiting_words = false;
            self.end_turn(now_ms);
        }
    }

    fn drain(&mut self) {
        while let Some(out) = self.engine.poll_output() {
            match out {
                TurnOutput::Command { at, command } => match command {
                    PlaybackCommand::Pause { .. } => {
                        let onset_ms = self.ms(at);
                        self.actions.push_back(TurnAction::PauseBot { onset_ms });
                    }
                    PlaybackCommand::Resume { .. } => self.actions.push_back(TurnAction::ResumeBot),
                    PlaybackCommand::Stop { .. } | PlaybackCommand::StopSynthesis { .. } => {
                        if self.actions.back() != Some(&TurnAction::ConfirmBargeIn) {
                            self.actions.push_back(TurnAction::ConfirmBargeIn);
                        }
                    }
                },
                TurnOutput::Event { at, event } => {
                    let now = self.ms(at);
                    if self.logging && self.log.events.len() < MAX_LOGGED {
                        self.log.events.push((now, event));
                    }
                    self.on_event(event, now);
                }
            }
        }
    }

    fn on_event(&mut self, event: TurnEvent, now: u64) {
        match event {
            TurnEvent::EndOfTurn => {
                if self.transcripts_pending > 0 || self.heard.is_empty() {
                    self.ended_awaiting_words = true;
                } else {
                    self.end_turn(now);
                }
            }
            TurnEvent::SpeechStart => {
                self.ended_awaiting_words = false;
                self.actions.push_back(TurnAction::CallerSpeaking);
            }
            TurnEvent::SpeechEnd => self.actions.push_back(TurnAction::CallerPaused),
            TurnEvent::SpeakingRate { factor } => {
                self.actions.push_back(TurnAction::SpeakingRate(factor));
            }
            TurnEvent::ListeningAck { language } => {
                self.actions
                    .push_back(TurnAction::ListeningAck { language });
            }
            TurnEvent::Backchannel => {
                // An acknowledgement is not part of the next turn.
                self.heard.words.clear();
            }
            TurnEvent::NoInput => self.actions.push_back(TurnAction::NoInput),
            // The Stop command that comes with it cuts the reply.
            TurnEvent::BargeIn => {}
            // The call follows the engine's commands, not the floor itself.
            TurnEvent::FloorChanged { .. } => {}
        }
    }

    fn end_turn(&mut self, now_ms: u64) {
        self.actions.extend(self.heard.take_turn(now_ms));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::audio::g711;
    use crate::core::turn::{DEFAULT_EOT_SILENCE_MS, DEFAULT_MAX_DELAY_MS, DEFAULT_MIN_DELAY_MS};
    use crate::runtime::call_setup::VoiceDials;

    fn corpus(file: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/corpus")
            .join(file);
        let audio = crate::core::audio::wav::parse(&std::fs::read(path).unwrap()).unwrap();
        audio
            .samples
            .iter()
            .map(|&s| g711::mulaw_encode(s))
            .collect()
    }

    fn turns(dials: &TurnDials, expect_transcripts: bool) -> CallTurns {
        CallTurns::new(
            dials,
            LineCodec::Mulaw,
            8_000,
            expect_transcripts,
            Instant::now(),
        )
        .unwrap()
    }

    #[test]
    fn a_tenant_with_null_turn_dials_gets_the_cores_tuned_defaults() {
        let t = turns(&VoiceDials::default().turn, true);
        let c = t.config();
        assert_eq!(
            (c.eot_silence_ms, c.min_delay_ms, c.max_delay_ms),
            (
                DEFAULT_EOT_SILENCE_MS,
                DEFAULT_MIN_DELAY_MS,
                DEFAULT_MAX_DELAY_MS
            )
        );
        assert_eq!(
            (850, 250, 1300),
            (c.eot_silence_ms, c.min_delay_ms, c.max_delay_ms)
        );
        assert_eq!(c.sample_rate_hz, 8_000);
    }

    /// Replays a corpus barge-in ("Hapana subiri…" over the bot from 300 ms),
    /// optionally telling it an interim result; returns when the barge-in
    /// was confirmed.
    fn confirm_time_with_interim(interim: Option<(&str, u64)>) -> Option<u64> {
        let audio = corpus("pub_i03_bargein_sw.wav");
        let mut t = turns(&VoiceDials::default().turn, true);
        t.bot_started(1, 300);
        let mut paused = false;
        let mut told = false;
        for (k, frame) in audio.chunks_exact(160).enumerate() {
            let at = k as u64 * 20;
            t.push_audio(frame, |_, _| {});
            t.advance(at + 20);
            if let Some((word, when)) =
                interim.filter(|&(_, when)| paused && !told && at + 20 >= when)
            {
                told = true;
                t.on_stt(
                    &SttEvent::Partial {
                        text: word.into(),
                        words: vec![Word {
                            text: word.into(),
                            start_ms: 4100,
                            end_ms: when - 100,
                        }],
                    },
                    at + 20,
                );
            }
            while let Some(action) = t.poll() {
                match action {
                    TurnAction::PauseBot { .. } => paused = true,
                    TurnAction::ConfirmBargeIn => return Some(at + 20),
                    _ => {}
                }
            }
        }
        None
    }

    #[test]
    fn an_interim_word_confirms_a_barge_in_before_the_final() {
        // Sound alone (a recognizer attached, no words yet) confirms after
        // 700 ms of speech; the final "Hapana" would come at 4 817 ms.
        let by_sound = confirm_time_with_interim(None).expect("confirmed by sound");
        assert!(by_sound >= 4800, "{by_sound}");
        // Deepgram's interim "Hapana" at 4 340 ms confirms it there.
        assert_eq!(
            confirm_time_with_interim(Some(("Hapana", 4340))),
            Some(4340)
        );
        // An interim acknowledgement does not.
        let with_mm = confirm_time_with_interim(Some(("mm", 4340))).expect("confirmed later");
        assert!(with_mm >= 4800, "{with_mm}");
    }

    /// The actions a corpus recording gives a call's turns with `dials` (no
    /// recognizer), with the audio-clock time of each.
    fn actions(file: &str, dials: &TurnDials) -> Vec<(u64, TurnAction)> {
        let audio = corpus(file);
        let mut t = turns(dials, false);
        let mut actions = Vec::new();
        for (k, frame) in audio.chunks_exact(160).enumerate() {
            let at = k as u64 * 20;
            t.push_audio(frame, |_, _| {});
            t.advance(at + 20);
            actions.extend(std::iter::from_fn(|| t.poll()).map(|a| (at + 20, a)));
        }
        actions
    }

    #[test]
    fn the_listening_ack_dial_reaches_the_call() {
        let is_ack = |a: &TurnAction| matches!(a, TurnAction::ListeningAck { language: Lang::En });
        // "I need to reschedule … my appointment … to next Tuesday": a pause
        // after more than 3 s of the caller's turn; the default silence
        // (850 ms) keeps the 800 ms pause inside the turn.
        let on = TurnDials {
            voice_listening_ack: true,
            ..VoiceDials::default().turn
        };
        let acks: Vec<u64> = actions("pub_p02_pause_en_syn.wav", &on)
            .into_iter()
            .filter(|(_, a)| is_ack(a))
            .map(|(at, _)| at)
            .collect();
        assert_eq!(acks.len(), 1, "{acks:?}");
        let off = TurnDials {
            voice_listening_ack: false,
            ..on
        };
        let off = actions("pub_p02_pause_en_syn.wav", &off);
        assert!(!off.iter().any(|(_, a)| is_ack(a)), "{off:?}");
    }

    #[test]
    fn dtmf_is_a_turn() {
        let mut t = turns(&VoiceDials::default().turn, false);
        t.on_dtmf('1', 100);
        t.on_dtmf('#', 300);
        t.advance(300);
        let got: Vec<_> = std::iter::from_fn(|| t.poll()).collect();
        assert!(
            matches!(&got[..], [TurnAction::EndOfTurn { dtmf, .. }] if dtmf == "1#"),
            "{got:?}"
        );
    }

    #[test]
    fn silence_after_the_bot_finished_is_reported_as_no_input() {
        let mut t = turns(&VoiceDials::default().turn, false);
        let quiet = [0xFFu8; 160];
        t.bot_started(1, 0);
        t.bot_finished(1, 0);
        let mut no_input = Vec::new();
        for k in 0..520u64 {
            t.push_audio(&quiet, |_, _| {});
            no_input.extend(
                std::iter::from_fn(|| t.poll())
                    .filter(|a| *a == TurnAction::NoInput)
                    .map(|_| (k + 1) * 20),
            );
        }
        assert_eq!(no_input, vec![10_000]);
    }

    /// When the turn in `file` ends (ms), with `expecting` told first.
    fn end_of_turn_ms(file: &str, expecting: Expectation) -> u64 {
        let audio = corpus(file);
        let mut t = turns(&VoiceDials::default().turn, false);
        t.keep_log();
        t.expecting(expecting, 0);
        for frame in audio.chunks_exact(160) {
            t.push_audio(frame, |_, _| {});
        }
        t.advance(t.clock_ms() + 5_000);
        let log = t.take_log();
        assert!(log.cues.contains(&(0, Cue::Expecting { what: expecting })));
        log.events
            .iter()
            .find(|(_, e)| *e == TurnEvent::EndOfTurn)
            .map(|(at, _)| *at)
            .expect("an end of turn")
    }

    #[test]
    fn a_dialog_waiting_for_digits_lengthens_the_silence_that_ends_the_turn() {
        let file = "pub_s01_single_en_syn.wav";
        let anything = end_of_turn_ms(file, Expectation::Anything);
        let digits = end_of_turn_ms(file, Expectation::Digits);
        let yes_no = end_of_turn_ms(file, Expectation::YesNo);
        let longer = u64::from(DEFAULT_MAX_DELAY_MS - DEFAULT_EOT_SILENCE_MS);
        assert!(
            digits.abs_diff(anything + longer) <= 20,
            "{anything} {digits}"
        );
        assert_eq!(yes_no, anything);
    }
}
