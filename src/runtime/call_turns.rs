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

use crate::adapters::speech::SttEvent;
use crate::runtime::call_setup::VoiceDials;

/// Words that acknowledge rather than interrupt.
const BACKCHANNELS: &[&str] = &[
    "mm", "mhm", "mmm", "uh-huh", "uhuh", "hmm", "ok", "okay", "yes", "yeah", "right", "sawa",
    "ndiyo", "eeh", "ee", "aha", "naam",
];
/// How long a paused bot waits for the onset to turn into real words.
const BARGE_IN_CONFIRM_MS: u64 = 1200;

/// What the call must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TurnAction {
    /// The caller started speaking over the bot: stop playback now, keep
    /// the unheard rest.
    PauseBot { onset_ms: u64 },
    /// It was a real interruption: drop the rest, cancel synthesis.
    ConfirmBargeIn,
    /// It was noise or a backchannel: play the rest.
    ResumeBot,
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

#[derive(Debug)]
pub struct SttTurns {
    dials: VoiceDials,
    clock_ms: u64,
    words: Vec<String>,
    language: Option<String>,
    dtmf: String,
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
            words: Vec::new(),
            language: None,
            dtmf: String::new(),
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
                self.words.clear();
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
                if language.is_some() {
                    self.language.clone_from(language);
                }
                self.words.push(text.trim().to_owned());
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
                if !self.words.is_empty() && !self.paused {
                    self.set(Timer::EndOfTurn, Some(now_ms));
                    self.advance(now_ms, bot_speaking);
                }
            }
            SttEvent::Partial { .. } | SttEvent::Failed(_) => {}
        }
    }

    /// A keypad digit: a turn of its own once the caller stops pressing.
    pub fn on_dtmf(&mut self, digit: char, now_ms: u64) {
        self.dtmf.push(digit);
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
        if self.words.is_empty() && self.dtmf.is_empty() {
            return;
        }
        self.actions.push_back(TurnAction::EndOfTurn {
            text: std::mem::take(&mut self.words).join(" "),
            language: self.language.clone(),
            dtmf: std::mem::take(&mut self.dtmf),
            at_ms: now_ms,
        });
    }

    fn deadline(&self, t: Timer) -> Option<u64> {
        self.deadlines[t as usize]
    }

    fn set(&mut self, t: Timer, at: Option<u64>) {
        self.deadlines[t as usize] = at;
    }
}

fn is_backchannel(text: &str) -> bool {
    text.split_whitespace().all(|w| {
        let w = w
            .trim_matches(|c: char| !c.is_alphanumeric() && c != '-')
            .to_lowercase();
        BACKCHANNELS.contains(&w.as_str())
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
