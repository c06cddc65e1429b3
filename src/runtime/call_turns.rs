//! Turn-taking for the call task, decided from recognizer events: speech
//! onsets pause the bot, recognized words confirm a barge-in (unless they are
//! only a backchannel such as "mm" or "sawa"), and a silence after the last
//! word ends the caller's turn.
//!
//! This follows the same contract as the core's machines (inputs with their
//! time on the call's audio clock, actions drained with `poll`, one named
//! deadline table) so the call task can swap it for `core::turn::TurnEngine`
//! behind the same calls. Time is the audio clock in milliseconds: in a real
//! call it runs with the wall clock; a simulated fast call runs it faster,
//! and the turn decisions stay the same.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::adapters::speech::{SttEvent, Word};
use crate::core::turn::{
    Lang, PlaybackCommand, TranscriptUpdate, TranscriptWord, TurnConfig, TurnDials, TurnEngine,
    TurnEvent, TurnInput, TurnOutput, lexicon,
};
use crate::runtime::call_setup::VoiceDials;

/// How long a paused bot waits for the onset to turn into real words.
const BARGE_IN_CONFIRM_MS: u64 = 1200;

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
    /// Play a soft "mm-hmm" (`en`) or "ndiyo" (`sw`): the caller paused in a
    /// long turn that is not over.
    ListeningAck { language: &'static str },
    /// The caller stopped speaking (the engine's speech end): time for a
    /// per-utterance recognizer to transcribe what it has.
    CallerPaused,
    /// The caller finished a turn.
    EndOfTurn {
        text: String,
        language: Option<String>,
        dtmf: String,
        at_ms: u64,
    },
}

/// The named deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    EndOfTurn,
    BargeInConfirm,
}

/// What the caller has said (and keyed) since the last end of turn.
#[derive(Debug, Default)]
struct Heard {
    words: Vec<String>,
    language: Option<String>,
    dtmf: String,
}

impl Heard {
    fn is_empty(&self) -> bool {
        self.words.is_empty() && self.dtmf.is_empty()
    }

    fn add_final(&mut self, text: &str, language: &Option<String>) {
        self.words.push(text.trim().to_owned());
        if language.is_some() {
            self.language.clone_from(language);
        }
    }

    /// The turn, if anything was said; the words and digits start afresh
    /// (the language carries over).
    fn take_turn(&mut self, at_ms: u64) -> Option<TurnAction> {
        (!self.is_empty()).then(|| TurnAction::EndOfTurn {
            text: std::mem::take(&mut self.words).join(" "),
            language: self.language.clone(),
            dtmf: std::mem::take(&mut self.dtmf),
            at_ms,
        })
    }
}

#[derive(Debug)]
pub struct SttTurns {
    dials: VoiceDials,
    clock_ms: u64,
    heard: Heard,
    /// Paused by an onset, waiting for words to confirm.
    paused: bool,
    /// Words heard while paused (to tell backchannels apart).
    paused_words: Vec<String>,
    deadlines: [Option<u64>; 2],
    actions: VecDeque<TurnAction>,
}

impl SttTurns {
    pub fn new(dials: VoiceDials) -> Self {
        Self {
            dials,
            clock_ms: 0,
            heard: Heard::default(),
            paused: false,
            paused_words: Vec::new(),
            deadlines: [None, None],
            actions: VecDeque::new(),
        }
    }

    /// The next deadline on the audio clock, if any.
    pub fn next_deadline(&self) -> Option<u64> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// The audio clock advanced (a frame arrived, or the wall timer fired).
    pub fn advance(&mut self, now_ms: u64, bot_speaking: bool) {
        if now_ms < self.clock_ms {
            return;
        }
        self.clock_ms = now_ms;
        if self
            .deadline(Timer::BargeInConfirm)
            .is_some_and(|d| now_ms >= d)
        {
            self.set(Timer::BargeInConfirm, None);
            if self.paused {
                self.paused = false;
                self.actions.push_back(TurnAction::ResumeBot);
                // What was heard was a backchannel: not a turn.
                self.heard.words.clear();
                self.paused_words.clear();
                self.set(Timer::EndOfTurn, None);
            }
        }
        if self.deadline(Timer::EndOfTurn).is_some_and(|d| now_ms >= d) && !bot_speaking {
            self.set(Timer::EndOfTurn, None);
            self.end_turn(now_ms);
        }
    }

    /// A recognizer event at `now_ms`.
    pub fn on_stt(&mut self, ev: &SttEvent, now_ms: u64, bot_speaking: bool) {
        self.advance(now_ms, bot_speaking);
        match ev {
            SttEvent::SpeechStarted { at_ms } => {
                if bot_speaking && !self.paused && self.dials.full_duplex {
                    self.paused = true;
                    self.paused_words.clear();
                    self.actions
                        .push_back(TurnAction::PauseBot { onset_ms: *at_ms });
                    self.set(Timer::BargeInConfirm, Some(now_ms + BARGE_IN_CONFIRM_MS));
                }
                // The caller is speaking: no end of turn yet.
                self.set(Timer::EndOfTurn, None);
            }
            SttEvent::Final {
                text,
                words,
                language,
            } => {
                if text.trim().is_empty() {
                    return;
                }
                if bot_speaking && !self.paused && !self.dials.full_duplex {
                    return; // half duplex: the bot holds the floor
                }
                self.heard.add_final(text, language);
                if self.paused {
                    self.paused_words.push(text.trim().to_owned());
                    let only_backchannel = self.dials.backchannel_filter
                        && self.paused_words.iter().all(|w| is_backchannel(w));
                    if !only_backchannel {
                        self.paused = false;
                        self.paused_words.clear();
                        self.set(Timer::BargeInConfirm, None);
                        self.actions.push_back(TurnAction::ConfirmBargeIn);
                    }
                }
                let last_end = words.iter().map(|w| w.end_ms).max().unwrap_or(now_ms);
                let silence = self.dials.eot_silence_ms.clamp(
                    self.dials.endpointing_min_delay_ms,
                    self.dials.endpointing_max_delay_ms,
                );
                self.set(
                    Timer::EndOfTurn,
                    Some(last_end.max(now_ms.saturating_sub(200)) + silence),
                );
            }
            SttEvent::UtteranceEnd => {
                if !self.heard.words.is_empty() && !self.paused {
                    self.set(Timer::EndOfTurn, Some(now_ms));
                    self.advance(now_ms, bot_speaking);
                }
            }
            SttEvent::Partial { .. } | SttEvent::Failed(_) => {}
        }
    }

    /// A keypad digit: a turn of its own once the caller stops pressing.
    pub fn on_dtmf(&mut self, digit: char, now_ms: u64) {
        self.heard.dtmf.push(digit);
        let wait = if digit == '#' { 0 } else { 1500 };
        self.set(Timer::EndOfTurn, Some(now_ms + wait));
    }

    pub fn poll(&mut self) -> Option<TurnAction> {
        self.actions.pop_front()
    }

    /// Whether an end of turn is armed (the caller said something that the
    /// bot will answer).
    pub fn turn_pending(&self) -> bool {
        self.deadline(Timer::EndOfTurn).is_some()
    }

    fn end_turn(&mut self, now_ms: u64) {
        self.actions.extend(self.heard.take_turn(now_ms));
    }

    fn deadline(&self, t: Timer) -> Option<u64> {
        self.deadlines[t as usize]
    }

    fn set(&mut self, t: Timer, at: Option<u64>) {
        self.deadlines[t as usize] = at;
    }
}

/// Turn-taking by the core's [`TurnEngine`]: voice activity on the caller's
/// frames, recognizer words, and the bot's playback progress go in; its
/// playback commands and end-of-turn events come out as [`TurnAction`]s.
/// The engine's clock is the call's audio clock (`epoch + ms`). Keypad
/// digits are not the engine's business: they end a turn of their own here.
pub struct EngineTurns {
    engine: TurnEngine,
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
}

impl std::fmt::Debug for EngineTurns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineTurns")
            .field("floor", &self.engine.floor())
            .finish()
    }
}

impl EngineTurns {
    /// Turns for a call whose engine frames come at `sample_rate_hz`.
    pub fn new(
        dials: &VoiceDials,
        sample_rate_hz: u32,
        expect_transcripts: bool,
        epoch: Instant,
    ) -> Self {
        let as_i32 = |v: u64| i32::try_from(v).ok();
        let turn_dials = TurnDials {
            voice_full_duplex_enabled: dials.full_duplex,
            voice_backchannel_filter: dials.backchannel_filter,
            voice_hard_interrupt: dials.hard_interrupt,
            voice_listening_ack: dials.listening_ack,
            voice_adaptive_speed: dials.adaptive_speed,
            voice_eot_silence_ms: as_i32(dials.eot_silence_ms),
            voice_endpointing_min_delay_ms: as_i32(dials.endpointing_min_delay_ms),
            voice_endpointing_max_delay_ms: as_i32(dials.endpointing_max_delay_ms),
        };
        let mut config = TurnConfig::from_dials(&turn_dials, sample_rate_hz);
        config.expect_transcripts = expect_transcripts;
        Self {
            engine: TurnEngine::new(config, epoch),
            epoch,
            heard: Heard::default(),
            dtmf_deadline: None,
            transcripts_pending: 0,
            ended_awaiting_words: false,
            actions: VecDeque::new(),
        }
    }

    fn at(&self, ms: u64) -> Instant {
        self.epoch + Duration::from_millis(ms)
    }

    fn ms(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.epoch).as_millis() as u64
    }

    pub fn on_frame(&mut self, samples: &[i16], at_ms: u64) {
        let at = self.at(at_ms);
        self.engine
            .handle_input(TurnInput::CallerAudio { samples, at });
        self.drain();
    }

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
                if !text.trim().is_empty() {
                    self.heard.add_final(text, language);
                    self.tell_engine(words, language.as_deref(), true, now_ms);
                }
                self.end_turn_if_words_settled(now_ms);
            }
            // Interim words tell the engine early what is being said: a stop
            // word or a real word over the bot confirms a barge-in before the
            // final arrives. The turn's text comes from finals only.
            SttEvent::Partial { words, .. } if !words.is_empty() => {
                self.tell_engine(words, None, false, now_ms);
            }
            SttEvent::Failed(_) => {
                self.transcripts_pending = self.transcripts_pending.saturating_sub(1);
                self.end_turn_if_words_settled(now_ms);
            }
            SttEvent::Partial { .. } | SttEvent::SpeechStarted { .. } | SttEvent::UtteranceEnd => {}
        }
    }

    fn tell_engine(&mut self, words: &[Word], language: Option<&str>, is_final: bool, now_ms: u64) {
        let language = language.map(|l| {
            if l.starts_with("sw") {
                Lang::Sw
            } else {
                Lang::En
            }
        });
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

    pub fn on_dtmf(&mut self, digit: char, now_ms: u64) {
        self.heard.dtmf.push(digit);
        self.dtmf_deadline = Some(now_ms + if digit == '#' { 0 } else { 1500 });
    }

    pub fn bot_started(&mut self, utterance: u32, now_ms: u64) {
        let at = self.at(now_ms);
        self.engine.handle_input(TurnInput::BotStarted {
            utterance: u64::from(utterance),
            at,
        });
        self.drain();
    }

    pub fn bot_mark(&mut self, utterance: u32, heard_ms: u64, now_ms: u64) {
        let at = self.at(now_ms);
        self.engine.handle_input(TurnInput::BotMark {
            utterance: u64::from(utterance),
            heard_ms: u32::try_from(heard_ms).unwrap_or(u32::MAX),
            at,
        });
        self.drain();
    }

    pub fn set_holding(&mut self, on: bool, now_ms: u64) {
        let at = self.at(now_ms);
        self.engine.handle_input(TurnInput::Holding { on, at });
        self.drain();
    }

    pub fn bot_finished(&mut self, utterance: u32, now_ms: u64) {
        let at = self.at(now_ms);
        self.engine.handle_input(TurnInput::BotFinished {
            utterance: u64::from(utterance),
            at,
        });
        self.drain();
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
                TurnOutput::Event { at, event } => match event {
                    TurnEvent::EndOfTurn => {
                        let now = self.ms(at);
                        if self.transcripts_pending > 0 || self.heard.is_empty() {
                            self.ended_awaiting_words = true;
                        } else {
                            self.end_turn(now);
                        }
                    }
                    TurnEvent::SpeechStart => self.ended_awaiting_words = false,
                    TurnEvent::SpeechEnd => self.actions.push_back(TurnAction::CallerPaused),
                    TurnEvent::SpeakingRate { factor } => {
                        self.actions.push_back(TurnAction::SpeakingRate(factor));
                    }
                    TurnEvent::ListeningAck { language } => {
                        self.actions.push_back(TurnAction::ListeningAck {
                            language: match language {
                                Lang::Sw => "sw",
                                Lang::En => "en",
                            },
                        });
                    }
                    TurnEvent::Backchannel => {
                        // An acknowledgement is not part of the next turn.
                        self.heard.words.clear();
                    }
                    _ => {}
                },
            }
        }
    }

    fn end_turn(&mut self, now_ms: u64) {
        self.actions.extend(self.heard.take_turn(now_ms));
    }
}

/// The call's turn-taking: the core engine (voice activity + words), or
/// the recognizer-only rules above (no audio analysis at all; for load
/// tests and recognizers that report onsets themselves).
#[derive(Debug)]
pub enum Turns {
    Engine(Box<EngineTurns>),
    Stt(Box<SttTurns>),
}

impl Turns {
    pub fn on_frame(&mut self, frame: &[i16], at_ms: u64, bot_speaking: bool) {
        match self {
            Turns::Engine(e) => e.on_frame(frame, at_ms),
            Turns::Stt(t) => t.advance(at_ms + crate::runtime::call_audio::FRAME_MS, bot_speaking),
        }
    }

    pub fn advance(&mut self, now_ms: u64, bot_speaking: bool) {
        match self {
            Turns::Engine(e) => e.advance(now_ms),
            Turns::Stt(t) => t.advance(now_ms, bot_speaking),
        }
    }

    pub fn on_stt(&mut self, ev: &SttEvent, now_ms: u64, bot_speaking: bool) {
        match self {
            Turns::Engine(e) => e.on_stt(ev, now_ms),
            Turns::Stt(t) => t.on_stt(ev, now_ms, bot_speaking),
        }
    }

    /// See [`EngineTurns::transcript_requested`].
    pub fn transcript_requested(&mut self) {
        if let Turns::Engine(e) = self {
            e.transcript_requested();
        }
    }

    pub fn on_dtmf(&mut self, digit: char, now_ms: u64) {
        match self {
            Turns::Engine(e) => e.on_dtmf(digit, now_ms),
            Turns::Stt(t) => t.on_dtmf(digit, now_ms),
        }
    }

    pub fn bot_started(&mut self, utterance: u32, now_ms: u64) {
        if let Turns::Engine(e) = self {
            e.bot_started(utterance, now_ms);
        }
    }

    pub fn bot_mark(&mut self, utterance: u32, heard_ms: u64, now_ms: u64) {
        if let Turns::Engine(e) = self {
            e.bot_mark(utterance, heard_ms, now_ms);
        }
    }

    /// The caller is on hold (waiting for a payment) or no longer. The
    /// recognizer-only rules have no holding state: the hold's own
    /// reassurance covers it.
    pub fn set_holding(&mut self, on: bool, now_ms: u64) {
        if let Turns::Engine(e) = self {
            e.set_holding(on, now_ms);
        }
    }

    pub fn bot_finished(&mut self, utterance: u32, now_ms: u64) {
        if let Turns::Engine(e) = self {
            e.bot_finished(utterance, now_ms);
        }
    }

    pub fn next_deadline(&self) -> Option<u64> {
        match self {
            Turns::Engine(e) => e.next_deadline(),
            Turns::Stt(t) => t.next_deadline(),
        }
    }

    pub fn poll(&mut self) -> Option<TurnAction> {
        match self {
            Turns::Engine(e) => e.poll(),
            Turns::Stt(t) => t.poll(),
        }
    }
}

/// Whether every word of `text` is an acknowledgement (the engine's word
/// list, English and Swahili).
fn is_backchannel(text: &str) -> bool {
    let mut norm = String::new();
    text.split_whitespace().all(|w| {
        lexicon::normalise_into(w, &mut norm);
        norm.is_empty() || lexicon::is_backchannel(&norm)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::speech::Word;

    fn word(text: &str, start: u64, end: u64) -> SttEvent {
        SttEvent::Final {
            text: text.into(),
            words: vec![Word {
                text: text.into(),
                start_ms: start,
                end_ms: end,
            }],
            language: Some("sw".into()),
        }
    }

    fn drain(t: &mut SttTurns) -> Vec<TurnAction> {
        std::iter::from_fn(|| t.poll()).collect()
    }

    #[test]
    fn silence_after_the_last_word_ends_the_turn() {
        let mut t = SttTurns::new(VoiceDials::default());
        t.on_stt(&word("nataka", 100, 400), 600, false);
        t.on_stt(&word("miadi", 450, 800), 1000, false);
        t.advance(1499, false);
        assert!(drain(&mut t).is_empty());
        t.advance(1500, false);
        assert_eq!(
            drain(&mut t),
            vec![TurnAction::EndOfTurn {
                text: "nataka miadi".into(),
                language: Some("sw".into()),
                dtmf: String::new(),
                at_ms: 1500
            }]
        );
    }

    #[test]
    fn an_onset_over_the_bot_pauses_and_words_confirm() {
        let mut t = SttTurns::new(VoiceDials::default());
        t.on_stt(&SttEvent::SpeechStarted { at_ms: 2000 }, 2000, true);
        assert_eq!(drain(&mut t), vec![TurnAction::PauseBot { onset_ms: 2000 }]);
        t.on_stt(&word("subiri", 2000, 2400), 2600, true);
        assert_eq!(drain(&mut t), vec![TurnAction::ConfirmBargeIn]);
    }

    #[test]
    fn a_backchannel_resumes_the_bot_and_is_not_a_turn() {
        let mut t = SttTurns::new(VoiceDials::default());
        t.on_stt(&SttEvent::SpeechStarted { at_ms: 2000 }, 2000, true);
        t.on_stt(&word("mm", 2000, 2200), 2400, true);
        assert_eq!(drain(&mut t), vec![TurnAction::PauseBot { onset_ms: 2000 }]);
        t.advance(2000 + BARGE_IN_CONFIRM_MS, true);
        assert_eq!(drain(&mut t), vec![TurnAction::ResumeBot]);
        t.advance(10_000, false);
        assert!(drain(&mut t).is_empty());
    }

    #[test]
    fn without_the_filter_a_backchannel_interrupts() {
        let mut t = SttTurns::new(VoiceDials {
            backchannel_filter: false,
            ..VoiceDials::default()
        });
        t.on_stt(&SttEvent::SpeechStarted { at_ms: 0 }, 0, true);
        t.on_stt(&word("mm", 0, 200), 400, true);
        assert_eq!(drain(&mut t).last(), Some(&TurnAction::ConfirmBargeIn));
    }

    /// Replays a corpus barge-in ("Hapana subiri…" over the bot from 300 ms)
    /// through the engine turns, optionally telling it an interim result;
    /// returns when the barge-in was confirmed.
    fn confirm_time_with_interim(interim: Option<(&str, u64)>) -> Option<u64> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/corpus/pub_i03_bargein_sw.wav");
        let audio = crate::core::audio::wav::parse(&std::fs::read(path).unwrap()).unwrap();
        let mut t = EngineTurns::new(&VoiceDials::default(), audio.rate_hz, true, Instant::now());
        t.bot_started(1, 300);
        let mut paused = false;
        let mut told = false;
        for (k, frame) in audio.samples.chunks_exact(160).enumerate() {
            let at = k as u64 * 20;
            t.on_frame(frame, at);
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

    /// The actions a corpus recording gives engine turns with `dials` (no
    /// recognizer), with the audio-clock time of each.
    fn engine_actions(file: &str, dials: &VoiceDials) -> Vec<(u64, TurnAction)> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/corpus")
            .join(file);
        let audio = crate::core::audio::wav::parse(&std::fs::read(path).unwrap()).unwrap();
        let mut t = EngineTurns::new(dials, audio.rate_hz, false, Instant::now());
        let mut actions = Vec::new();
        for (k, frame) in audio.samples.chunks_exact(160).enumerate() {
            let at = k as u64 * 20;
            t.on_frame(frame, at);
            t.advance(at + 20);
            actions.extend(std::iter::from_fn(|| t.poll()).map(|a| (at + 20, a)));
        }
        actions
    }

    #[test]
    fn the_listening_ack_dial_reaches_the_call() {
        let is_ack = |a: &TurnAction| matches!(a, TurnAction::ListeningAck { language: "en" });
        // "I need to reschedule … my appointment … to next Tuesday": a pause
        // after more than 3 s of the caller's turn.
        // The engine's default silence (850 ms) keeps the 800 ms pause
        // inside the turn.
        let on = VoiceDials {
            listening_ack: true,
            eot_silence_ms: 850,
            ..VoiceDials::default()
        };
        let acks: Vec<u64> = engine_actions("pub_p02_pause_en_syn.wav", &on)
            .into_iter()
            .filter(|(_, a)| is_ack(a))
            .map(|(at, _)| at)
            .collect();
        assert_eq!(acks.len(), 1, "{acks:?}");
        let off = VoiceDials {
            listening_ack: false,
            ..on
        };
        let off = engine_actions("pub_p02_pause_en_syn.wav", &off);
        assert!(!off.iter().any(|(_, a)| is_ack(a)), "{off:?}");
    }

    #[test]
    fn dtmf_is_a_turn() {
        let mut t = SttTurns::new(VoiceDials::default());
        t.on_dtmf('1', 100);
        t.on_dtmf('#', 300);
        t.advance(300, false);
        assert!(matches!(
            &drain(&mut t)[..],
            [TurnAction::EndOfTurn { dtmf, .. }] if dtmf == "1#"
        ));
    }
}
