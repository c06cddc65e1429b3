//! A recognizer that "hears" a transcript sidecar instead of audio, for demo
//! calls, tests and load benches. The sidecar is the corpus format
//! `{"language": "sw", "words": [{"text", "start_ms", "end_ms"}]}`, times on
//! the caller audio's clock. Each word is released as a final segment once
//! the audio clock (advanced by the audio pushed in) passes its end plus
//! [`RELEASE_DELAY_MS`], roughly what a streaming recognizer takes. Speech
//! onset is reported when the clock passes a word's start after a pause, as
//! a recognizer with VAD events would.

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context, Poll};

use serde::{Deserialize, Serialize};

use super::{SpeechError, SpeechToText, SttEvent, SttOptions, SttStream, Word};

/// How long after a word ends the scripted recognizer reports it.
pub const RELEASE_DELAY_MS: u64 = 200;
/// A pause this long between words counts as a new speech onset.
const ONSET_GAP_MS: u64 = 400;

/// A transcript sidecar (corpus format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transcript {
    #[serde(default)]
    pub language: Option<String>,
    pub words: Vec<ScriptWord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptWord {
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
}

impl Transcript {
    /// Parses and checks a sidecar: words in order, each ending after it
    /// starts, at most 10,000 words.
    pub fn parse(json: &[u8]) -> Result<Self, SpeechError> {
        let t: Transcript =
            serde_json::from_slice(json).map_err(|e| SpeechError::BadScript(e.to_string()))?;
        if t.words.len() > 10_000 {
            return Err(SpeechError::BadScript("more than 10000 words".into()));
        }
        let mut last_start = 0;
        for w in &t.words {
            if w.end_ms < w.start_ms || w.start_ms < last_start {
                return Err(SpeechError::BadScript(format!(
                    "word {:?} out of order",
                    w.text.chars().take(32).collect::<String>()
                )));
            }
            last_start = w.start_ms;
        }
        Ok(t)
    }
}

/// Factory for scripted streams reading one transcript.
#[derive(Debug, Clone)]
pub struct Scripted {
    transcript: Arc<Transcript>,
}

impl Scripted {
    pub fn new(transcript: Transcript) -> Self {
        Self {
            transcript: Arc::new(transcript),
        }
    }

    /// A stream over this transcript, without boxing.
    pub fn stream(&self) -> ScriptedStream {
        ScriptedStream {
            transcript: Arc::clone(&self.transcript),
            next_word: 0,
            next_onset: 0,
            clock_ms: 0,
            sample_rate_hz: super::DEFAULT_STT_SAMPLE_RATE,
            ready: VecDeque::new(),
        }
    }
}

impl SpeechToText for Scripted {
    fn name(&self) -> &'static str {
        "scripted"
    }

    fn open(&self, opts: &SttOptions) -> Box<dyn SttStream> {
        let mut stream = self.stream();
        stream.sample_rate_hz = opts.sample_rate_hz.max(1);
        Box::new(stream)
    }
}

/// One call's scripted stream.
#[derive(Debug)]
pub struct ScriptedStream {
    transcript: Arc<Transcript>,
    next_word: usize,
    next_onset: usize,
    clock_ms: u64,
    sample_rate_hz: u32,
    ready: VecDeque<SttEvent>,
}

impl ScriptedStream {
    /// Advances the audio clock to `now_ms`, queueing what is now heard.
    pub fn advance_to(&mut self, now_ms: u64) {
        if now_ms <= self.clock_ms {
            return;
        }
        self.clock_ms = now_ms;
        let words = &self.transcript.words;
        while let Some(w) = words.get(self.next_onset) {
            if w.start_ms > now_ms {
                break;
            }
            let after_pause = self.next_onset == 0
                || words
                    .get(self.next_onset - 1)
                    .is_some_and(|prev| w.start_ms.saturating_sub(prev.end_ms) >= ONSET_GAP_MS);
            if after_pause {
                self.ready
                    .push_back(SttEvent::SpeechStarted { at_ms: w.start_ms });
            }
            self.next_onset += 1;
        }
        while let Some(w) = words.get(self.next_word) {
            if w.end_ms + RELEASE_DELAY_MS > now_ms {
                break;
            }
            self.ready.push_back(SttEvent::Final {
                text: w.text.clone(),
                words: vec![Word {
                    text: w.text.clone(),
                    start_ms: w.start_ms,
                    end_ms: w.end_ms,
                }],
                language: self.transcript.language.clone(),
            });
            self.next_word += 1;
        }
    }

    pub fn pop(&mut self) -> Option<SttEvent> {
        self.ready.pop_front()
    }
}

impl SttStream for ScriptedStream {
    fn push_audio(&mut self, pcm: &[i16], at_ms: u64) {
        let duration = pcm.len() as u64 * 1000 / u64::from(self.sample_rate_hz);
        self.advance_to(at_ms + duration);
    }

    fn flush(&mut self) {}

    fn poll_event(&mut self, _cx: &mut Context<'_>) -> Poll<Option<SttEvent>> {
        // Only push_audio (on the same task) makes events ready, and the
        // call loop polls again after every push, so no waker is needed.
        match self.ready.pop_front() {
            Some(e) => Poll::Ready(Some(e)),
            None => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transcript() -> Transcript {
        Transcript::parse(
            br#"{"language":"sw","words":[
                {"text":"habari","start_ms":500,"end_ms":900},
                {"text":"yako","start_ms":950,"end_ms":1300},
                {"text":"nataka","start_ms":3000,"end_ms":3400}]}"#,
        )
        .unwrap()
    }

    fn drain(s: &mut ScriptedStream) -> Vec<SttEvent> {
        std::iter::from_fn(|| s.pop()).collect()
    }

    #[test]
    fn words_are_released_200ms_after_they_end() {
        let mut s = Scripted::new(transcript()).stream();
        s.advance_to(1099);
        let ev = drain(&mut s);
        assert_eq!(ev, vec![SttEvent::SpeechStarted { at_ms: 500 }]);
        s.advance_to(1100);
        let ev = drain(&mut s);
        assert!(
            matches!(&ev[..], [SttEvent::Final { text, language: Some(l), .. }] if text == "habari" && l == "sw")
        );
        s.advance_to(1499);
        assert!(drain(&mut s).is_empty());
        s.advance_to(1500);
        assert_eq!(drain(&mut s).len(), 1);
    }

    #[test]
    fn onset_only_after_a_pause() {
        let mut s = Scripted::new(transcript()).stream();
        s.advance_to(10_000);
        let onsets: Vec<u64> = drain(&mut s)
            .into_iter()
            .filter_map(|e| match e {
                SttEvent::SpeechStarted { at_ms } => Some(at_ms),
                _ => None,
            })
            .collect();
        assert_eq!(onsets, vec![500, 3000]);
    }

    #[test]
    fn the_clock_follows_pushed_audio() {
        let mut s = Scripted::new(transcript()).stream();
        let frame = [0i16; 320];
        for i in 0..55 {
            s.push_audio(&frame, i * 20);
        }
        // 55 frames = 1100 ms of audio.
        assert!(
            drain(&mut s)
                .iter()
                .any(|e| matches!(e, SttEvent::Final { text, .. } if text == "habari"))
        );
    }

    #[test]
    fn bad_scripts_are_refused() {
        assert!(Transcript::parse(b"{").is_err());
        assert!(Transcript::parse(br#"{"words":[{"text":"a","start_ms":5,"end_ms":1}]}"#).is_err());
        assert!(
            Transcript::parse(
                br#"{"words":[{"text":"a","start_ms":5,"end_ms":6},{"text":"b","start_ms":1,"end_ms":2}]}"#
            )
            .is_err()
        );
    }
}
