//! What the bot says on a call: the line being played, the lines waiting
//! behind it, and what happened to each (heard, cut, replaced), sans-IO.
//!
//! Inputs are the call's: a line to say now or after the current one, the
//! dialog's answer replacing what is playing, synthesized audio, echoed
//! markers, the turn engine's pause / resume / cut, the caller's silence or
//! activity, a payment hold starting and ending. Outputs are
//! [`VoiceOut`]s, polled, plus the wire sends [`Voice::pump`] hands to the
//! provider's codec. Times are the call's audio clock (ms) and, for the
//! answer-latency metric only, the instant the caller's turn ended.

use std::collections::VecDeque;
use std::time::Instant;

use super::{Send, Utterance};
use crate::core::dialog::handoff::CallHandoff;
use crate::core::ids::Lang;
use crate::core::messages::call::CallLine;

/// The intent recorded on the hold's prompts (distinct from the dialog's
/// "payment" intent, so only the hold's own lines count as its prompts).
pub const HOLD_PROMPT: &str = "payment_hold";
/// The intent recorded on what the call says to a silent caller.
pub const NO_INPUT: &str = "no_input";

/// A line for the bot to say.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub sentences: Vec<String>,
    pub language: Lang,
    pub intent: Option<String>,
    /// Hang up once this has been heard.
    pub end_call: bool,
    /// A hand-off line: once heard (or cut short) the call is put through
    /// or hung up as this says.
    pub handoff: Option<CallHandoff>,
    /// interactions rows already written for this line (the record then
    /// adds what was heard to them).
    pub recorded: Vec<uuid::Uuid>,
}

impl Line {
    /// A line the call itself composed (not the dialog's).
    pub fn said(sentences: Vec<String>, language: Lang, intent: &str) -> Self {
        Self {
            sentences,
            language,
            intent: Some(intent.to_owned()),
            end_call: false,
            handoff: None,
            recorded: Vec::new(),
        }
    }
}

/// A line that is over, for its record.
#[derive(Debug, Clone, PartialEq)]
pub struct Spoken {
    pub utterance: u32,
    /// Every sentence of the line, said or not.
    pub text: String,
    /// What the caller heard of it (the sentences begun before a cut).
    pub heard_text: String,
    pub heard_bytes: usize,
    pub synthesized_bytes: usize,
    /// Audio-clock time the line was started.
    pub started_ms: u64,
    pub language: Lang,
    pub intent: Option<String>,
    pub recorded: Vec<uuid::Uuid>,
    /// Cut short (by the caller, the dialog's answer or the call's end).
    pub interrupted: bool,
}

/// What the call must do.
#[derive(Debug, Clone, PartialEq)]
pub enum VoiceOut {
    /// Synthesize this sentence (any synthesis under way is dropped).
    Synthesize { text: String, language: Lang },
    /// Drop the synthesis under way.
    StopSynthesis,
    /// Clear the provider's buffer.
    Clear,
    /// The line's first audio went out (the turn engine's bot-started cue);
    /// `answering` is when the caller's turn it answers ended.
    Started {
        utterance: u32,
        answering: Option<Instant>,
    },
    /// The caller has heard this many wire bytes of the line.
    Heard { utterance: u32, bytes: usize },
    /// The line was heard to its end.
    Finished { utterance: u32 },
    /// A line is over: record it.
    Done(Spoken),
    /// The hold's prompts played out (or cut off) so far.
    HoldPromptsHeard(u32),
    /// A hand-off line started: turns are no longer answered.
    HandingOff,
    /// The bot is done: put the caller through or hang up, as this says.
    EndCall(Option<CallHandoff>),
}

/// The line being played.
#[derive(Debug)]
struct Playing {
    playback: Utterance,
    language: Lang,
    intent: Option<String>,
    end_call: bool,
    handoff: Option<CallHandoff>,
    recorded: Vec<uuid::Uuid>,
    started_ms: u64,
    answering: Option<Instant>,
}

/// What the bot says on one call.
#[derive(Debug)]
pub struct Voice {
    playing: Option<Playing>,
    /// Lines waiting for the current one to be heard.
    queued: VecDeque<Line>,
    next_utterance: u32,
    /// The language of the bot's last line (what it says next follows it).
    last_language: Lang,
    /// The engine's no-input events since the caller last spoke.
    silences: u32,
    holding: bool,
    hold_prompts_heard: u32,
    mark_every_bytes: usize,
    streaming: bool,
    out: VecDeque<VoiceOut>,
}

impl Voice {
    /// A call's voice: a marker every `mark_every_bytes` of wire audio;
    /// `streaming` sends audio as it is synthesized (else a sentence's
    /// audio waits for the whole line).
    pub fn new(language: Lang, mark_every_bytes: usize, streaming: bool) -> Self {
        Self {
            playing: None,
            queued: VecDeque::new(),
            next_utterance: 0,
            last_language: language,
            silences: 0,
            holding: false,
            hold_prompts_heard: 0,
            mark_every_bytes,
            streaming,
            out: VecDeque::with_capacity(8),
        }
    }

    pub fn poll(&mut self) -> Option<VoiceOut> {
        self.out.pop_front()
    }

    // ---- state -----------------------------------------------------------

    /// A line is playing.
    pub fn speaking(&self) -> bool {
        self.playing.is_some()
    }

    /// A line is playing or waiting.
    pub fn busy(&self) -> bool {
        self.playing.is_some() || !self.queued.is_empty()
    }

    /// The language the bot is speaking in (the line playing, else the last
    /// one waiting, else the last one said).
    pub fn language(&self) -> Lang {
        self.playing
            .as_ref()
            .map(|p| p.language)
            .or_else(|| self.queued.back().map(|l| l.language))
            .unwrap_or(self.last_language)
    }

    /// The caller's silences since they last spoke.
    pub fn silences(&self) -> u32 {
        self.silences
    }

    // ---- what to say -----------------------------------------------------

    /// Say `line` now, replacing what is playing; `answering` is when the
    /// caller's turn it answers ended.
    pub fn say(&mut self, line: Line, answering: Option<Instant>, now_ms: u64) {
        if line.handoff.is_some() {
            self.out.push_back(VoiceOut::HandingOff);
        }
        if line.sentences.is_empty() {
            if line.end_call {
                self.out.push_back(VoiceOut::EndCall(line.handoff));
            }
            return;
        }
        self.out.push_back(VoiceOut::StopSynthesis);
        if let Some(old) = self.playing.take() {
            self.done(old, true);
        }
        self.next_utterance += 1;
        self.last_language = line.language;
        self.playing = Some(Playing {
            playback: Utterance::new(self.next_utterance, line.sentences),
            language: line.language,
            intent: line.intent,
            end_call: line.end_call,
            handoff: line.handoff,
            recorded: line.recorded,
            started_ms: now_ms,
            answering,
        });
        self.next_sentence();
    }

    /// Say `line` once what is playing (and waiting) has been heard.
    pub fn say_after_current(&mut self, line: Line, now_ms: u64) {
        if self.busy() {
            self.queued.push_back(line);
        } else {
            self.say(line, None, now_ms);
        }
    }

    /// Nothing playing: the first line waiting (held back behind one the
    /// caller cut off) starts now.
    pub fn say_waiting(&mut self, now_ms: u64) {
        if self.playing.is_none()
            && let Some(next) = self.queued.pop_front()
        {
            self.say(next, None, now_ms);
        }
    }

    /// The dialog is answering the caller: lines waiting are dropped and
    /// the one still playing (half duplex) is cut for the answer.
    pub fn make_way(&mut self) {
        self.queued.clear();
        if let Some(old) = self.playing.take() {
            self.out.push_back(VoiceOut::StopSynthesis);
            self.out.push_back(VoiceOut::Clear);
            self.done(old, true);
        }
    }

    /// The caller has said nothing for a while: "are you still there?",
    /// the second time goodbye and hang up once it is heard. Returns the
    /// silences so far and whether this one ends the call.
    pub fn no_input(&mut self, now_ms: u64) -> (u32, bool) {
        self.silences += 1;
        let lang = self.language();
        let (said, end_call) = match self.silences {
            1 => (CallLine::StillThere, false),
            _ => (CallLine::Goodbye, true),
        };
        let mut line = Line::said(vec![said.text(lang).to_owned()], lang, NO_INPUT);
        line.end_call = end_call;
        self.say_after_current(line, now_ms);
        (self.silences, end_call)
    }

    /// The caller spoke or keyed: their silences start afresh.
    pub fn caller_active(&mut self) {
        self.silences = 0;
    }

    /// A payment hold starts (its prompts are counted afresh) or ends.
    pub fn holding(&mut self, on: bool) {
        self.holding = on;
        if on {
            self.hold_prompts_heard = 0;
        }
    }

    // ---- synthesis -------------------------------------------------------

    /// Where the current sentence's wire audio goes (none: nothing is
    /// playing, drop the synthesis).
    pub fn audio_mut(&mut self) -> Option<&mut Vec<u8>> {
        self.playing.as_mut().map(|p| p.playback.audio_mut())
    }

    /// The current sentence is synthesized (or failed): the next one.
    pub fn sentence_done(&mut self) {
        self.next_sentence();
    }

    fn next_sentence(&mut self) {
        let Some(p) = self.playing.as_mut() else {
            return;
        };
        if let Some(text) = p.playback.next_sentence() {
            self.out.push_back(VoiceOut::Synthesize {
                text,
                language: p.language,
            });
        }
    }

    // ---- playing ---------------------------------------------------------

    /// Hands `send` what is synthesized and not yet sent, with markers
    /// (`send` returns false when it could not encode the bytes).
    pub fn pump(&mut self, now_ms: u64, send: impl FnMut(Send<'_>) -> bool) {
        let Some(p) = self.playing.as_mut() else {
            return;
        };
        if p.playback.pump(self.mark_every_bytes, self.streaming, send) {
            self.out.push_back(VoiceOut::Started {
                utterance: p.playback.id(),
                answering: p.answering.take(),
            });
        }
        self.finish_if_heard(now_ms);
    }

    /// The provider echoed marker `name`.
    pub fn marker_heard(&mut self, name: &str, now_ms: u64) {
        let Some(p) = self.playing.as_mut() else {
            return;
        };
        let Some(bytes) = p.playback.marker_heard(name) else {
            return; // a marker from before a clear, or not ours
        };
        self.out.push_back(VoiceOut::Heard {
            utterance: p.playback.id(),
            bytes,
        });
        self.finish_if_heard(now_ms);
    }

    /// The caller started talking over the bot: stop where they are.
    /// Returns true when this cleared the provider's buffer.
    pub fn pause(&mut self) -> bool {
        let paused = self.playing.as_mut().is_some_and(|p| p.playback.pause());
        if paused {
            self.out.push_back(VoiceOut::Clear);
        }
        paused
    }

    /// It was not an interruption: play the unheard rest.
    pub fn resume(&mut self) {
        if let Some(p) = self.playing.as_mut() {
            p.playback.resume();
        }
    }

    /// A confirmed interruption: the rest will never be said.
    pub fn cut(&mut self) {
        self.out.push_back(VoiceOut::StopSynthesis);
        let Some(mut p) = self.playing.take() else {
            return;
        };
        if p.playback.cut() {
            self.out.push_back(VoiceOut::Clear);
        }
        let handoff = p.handoff.take();
        self.done(p, true);
        if let Some(handoff) = handoff {
            // The caller asked for a person; talking over the hand-off line
            // does not take that back.
            self.out.push_back(VoiceOut::EndCall(Some(handoff)));
        }
    }

    /// The call is over: the line playing is recorded as cut there.
    pub fn end(&mut self) {
        if let Some(p) = self.playing.take() {
            self.done(p, true);
        }
    }

    fn finish_if_heard(&mut self, now_ms: u64) {
        if !self.playing.as_ref().is_some_and(|p| p.playback.finished()) {
            return;
        }
        if let Some(mut p) = self.playing.take() {
            self.out.push_back(VoiceOut::Finished {
                utterance: p.playback.id(),
            });
            let (end_call, handoff) = (p.end_call, p.handoff.take());
            self.done(p, false);
            if end_call {
                self.out.push_back(VoiceOut::EndCall(handoff));
                return;
            }
        }
        if let Some(next) = self.queued.pop_front() {
            self.say(next, None, now_ms);
        }
    }

    fn done(&mut self, p: Playing, interrupted: bool) {
        if self.holding && p.intent.as_deref() == Some(HOLD_PROMPT) {
            self.hold_prompts_heard += 1;
            self.out
                .push_back(VoiceOut::HoldPromptsHeard(self.hold_prompts_heard));
        }
        let text = p.playback.full_text();
        let heard_text = if interrupted {
            p.playback.text_heard()
        } else {
            text.clone()
        };
        self.out.push_back(VoiceOut::Done(Spoken {
            utterance: p.playback.id(),
            text,
            heard_text,
            heard_bytes: p.playback.heard_bytes(),
            synthesized_bytes: p.playback.synthesized_bytes(),
            started_ms: p.started_ms,
            language: p.language,
            intent: p.intent,
            recorded: p.recorded,
            interrupted,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARK: usize = 1000;

    fn voice() -> Voice {
        Voice::new(Lang::En, MARK, true)
    }

    fn outs(v: &mut Voice) -> Vec<VoiceOut> {
        std::iter::from_fn(|| v.poll()).collect()
    }

    fn line(text: &str) -> Line {
        Line::said(vec![text.to_owned()], Lang::En, "test")
    }

    /// Synthesizes the current sentence (`bytes` of audio), ends its
    /// synthesis and sends it; returns the markers sent.
    fn synthesize(v: &mut Voice, bytes: usize, now_ms: u64) -> Vec<String> {
        v.audio_mut()
            .expect("a line playing")
            .extend(std::iter::repeat_n(0xFF, bytes));
        v.sentence_done();
        let mut marks = Vec::new();
        v.pump(now_ms, |s| {
            if let Send::Mark(m) = s {
                marks.push(m.to_owned());
            }
            true
        });
        marks
    }

    fn done(outs: &[VoiceOut]) -> Vec<&Spoken> {
        outs.iter()
            .filter_map(|o| match o {
                VoiceOut::Done(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_line_is_synthesized_sent_heard_and_recorded_then_the_next_one_starts() {
        let mut v = voice();
        let t0 = Instant::now();
        v.say(line("Hello."), Some(t0), 100);
        v.say_after_current(line("Then this."), 100);
        assert!(v.busy() && v.speaking());
        let got = outs(&mut v);
        assert_eq!(
            got,
            vec![
                VoiceOut::StopSynthesis,
                VoiceOut::Synthesize {
                    text: "Hello.".into(),
                    language: Lang::En
                }
            ]
        );
        let marks = synthesize(&mut v, 1500, 120);
        assert_eq!(marks.len(), 2);
        let got = outs(&mut v);
        assert_eq!(
            got,
            vec![VoiceOut::Started {
                utterance: 1,
                answering: Some(t0)
            }]
        );
        v.marker_heard(&marks[0], 300);
        assert_eq!(
            outs(&mut v),
            vec![VoiceOut::Heard {
                utterance: 1,
                bytes: 1000
            }]
        );
        v.marker_heard(&marks[1], 400);
        let got = outs(&mut v);
        assert_eq!(got[1], VoiceOut::Finished { utterance: 1 });
        let spoken = done(&got);
        assert_eq!(spoken.len(), 1);
        assert_eq!(
            (spoken[0].heard_text.as_str(), spoken[0].interrupted),
            ("Hello.", false)
        );
        assert_eq!((spoken[0].heard_bytes, spoken[0].started_ms), (1500, 100));
        // The waiting line starts at once, as utterance 2.
        assert!(got.contains(&VoiceOut::Synthesize {
            text: "Then this.".into(),
            language: Lang::En
        }));
        assert!(v.speaking());
    }

    #[test]
    fn an_answer_replaces_what_is_playing_and_drops_what_waits() {
        let mut v = voice();
        v.say(line("A long greeting."), None, 0);
        v.say_after_current(line("Waiting."), 0);
        synthesize(&mut v, 500, 0);
        outs(&mut v);
        v.make_way();
        let got = outs(&mut v);
        assert_eq!(got[..2], [VoiceOut::StopSynthesis, VoiceOut::Clear]);
        let spoken = done(&got);
        assert!(spoken[0].interrupted);
        assert_eq!(spoken[0].heard_text, "", "no marker echoed: nothing heard");
        assert_eq!(spoken[0].text, "A long greeting.");
        assert!(!v.busy());
    }

    #[test]
    fn a_cut_hand_off_line_still_ends_the_call_as_it_says() {
        let mut v = voice();
        let mut l = line("Putting you through.");
        l.handoff = Some(CallHandoff::Promise);
        v.say(l, None, 0);
        assert_eq!(outs(&mut v)[0], VoiceOut::HandingOff);
        synthesize(&mut v, 2500, 0);
        outs(&mut v);
        assert!(v.pause());
        assert!(!v.pause(), "cleared once");
        assert_eq!(outs(&mut v), vec![VoiceOut::Clear]);
        v.cut();
        let got = outs(&mut v);
        assert_eq!(got[0], VoiceOut::StopSynthesis);
        assert!(!got.contains(&VoiceOut::Clear), "the pause already cleared");
        assert_eq!(
            got.last(),
            Some(&VoiceOut::EndCall(Some(CallHandoff::Promise)))
        );
        assert!(done(&got)[0].interrupted);
    }

    #[test]
    fn a_paused_line_resumes_from_what_was_heard() {
        let mut v = voice();
        v.say(line("Your appointment is at ten."), None, 0);
        let marks = synthesize(&mut v, 2500, 0);
        v.marker_heard(&marks[0], 200);
        outs(&mut v);
        assert!(v.pause());
        assert_eq!(outs(&mut v), vec![VoiceOut::Clear]);
        v.resume();
        let mut resent = 0;
        v.pump(400, |s| {
            if let Send::Audio(a) = s {
                resent += a.len();
            }
            true
        });
        assert_eq!(resent, 1500);
        assert!(outs(&mut v).is_empty(), "not started again");
    }

    #[test]
    fn silence_asks_once_then_says_goodbye_and_ends_the_call() {
        let mut v = Voice::new(Lang::Sw, MARK, true);
        assert_eq!(v.no_input(0), (1, false));
        let got = outs(&mut v);
        assert!(got.contains(&VoiceOut::Synthesize {
            text: "Bado uko?".into(),
            language: Lang::Sw
        }));
        let marks = synthesize(&mut v, 800, 0);
        v.marker_heard(marks.last().unwrap(), 200);
        let got = outs(&mut v);
        assert_eq!(done(&got)[0].intent.as_deref(), Some(NO_INPUT));
        v.caller_active();
        assert_eq!(v.silences(), 0);
        assert_eq!(
            v.no_input(5000),
            (1, false),
            "afresh after the caller spoke"
        );
        outs(&mut v);
        // While "bado uko?" plays, the second silence waits behind it.
        assert_eq!(v.no_input(6000), (2, true));
        assert!(
            !outs(&mut v)
                .iter()
                .any(|o| matches!(o, VoiceOut::Synthesize { .. }))
        );
        let marks = synthesize(&mut v, 800, 6000);
        v.marker_heard(marks.last().unwrap(), 6200);
        let got = outs(&mut v);
        assert!(got.contains(&VoiceOut::Synthesize {
            text: CallLine::Goodbye.text(Lang::Sw).into(),
            language: Lang::Sw
        }));
        let marks = synthesize(&mut v, 800, 6200);
        v.marker_heard(marks.last().unwrap(), 6400);
        let got = outs(&mut v);
        assert_eq!(got.last(), Some(&VoiceOut::EndCall(None)));
        assert!(!v.busy());
    }

    #[test]
    fn only_the_holds_own_prompts_count_as_heard_while_holding() {
        let mut v = voice();
        v.holding(true);
        v.say(
            Line::said(vec!["Paying...".into()], Lang::En, HOLD_PROMPT),
            None,
            0,
        );
        v.say_after_current(line("Not a prompt."), 0);
        v.say_after_current(
            Line::said(vec!["Still waiting.".into()], Lang::En, HOLD_PROMPT),
            0,
        );
        let mut counted = Vec::new();
        for _ in 0..3 {
            let marks = synthesize(&mut v, 300, 0);
            v.marker_heard(marks.last().unwrap(), 0);
            counted.extend(outs(&mut v).into_iter().filter_map(|o| match o {
                VoiceOut::HoldPromptsHeard(n) => Some(n),
                _ => None,
            }));
        }
        assert_eq!(counted, vec![1, 2]);
        v.holding(false);
        v.say(
            Line::said(vec!["Late prompt.".into()], Lang::En, HOLD_PROMPT),
            None,
            0,
        );
        v.end();
        assert!(
            !outs(&mut v)
                .iter()
                .any(|o| matches!(o, VoiceOut::HoldPromptsHeard(_)))
        );
    }

    #[test]
    fn an_empty_line_that_ends_the_call_ends_it_at_once_and_language_follows_the_lines() {
        let mut v = voice();
        v.say_waiting(0);
        assert!(outs(&mut v).is_empty());
        v.say(line("One."), None, 0);
        v.say_after_current(Line::said(vec!["Mbili.".into()], Lang::Sw, "t"), 0);
        assert_eq!(v.language(), Lang::En, "the line playing");
        v.end();
        assert_eq!(v.language(), Lang::Sw, "the last line waiting");
        outs(&mut v);
        v.say_waiting(0);
        assert!(v.speaking());
        let mut bye = Line::said(Vec::new(), Lang::En, "bye");
        bye.end_call = true;
        v.say(bye, None, 0);
        assert_eq!(outs(&mut v).last(), Some(&VoiceOut::EndCall(None)));
    }
}
