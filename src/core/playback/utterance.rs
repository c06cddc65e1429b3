//! One utterance: its wire audio, what was sent and what was heard.

use std::collections::VecDeque;

/// Something to send to the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Send<'a> {
    /// Wire audio, in order.
    Audio(&'a [u8]),
    /// A marker the provider echoes once the audio before it has played.
    Mark(&'a str),
}

/// One bot utterance (a reply of one or more sentences).
#[derive(Debug, Clone)]
pub struct Utterance {
    id: u32,
    /// Sentences not yet synthesized.
    queued: VecDeque<String>,
    /// Each synthesized sentence and the wire offset where its audio starts.
    spoken: Vec<(usize, String)>,
    synth_done: bool,
    audio: Vec<u8>,
    sent: usize,
    heard: usize,
    marks: VecDeque<(String, usize)>,
    mark_seq: u32,
    epoch: u32,
    paused: bool,
    started: bool,
}

impl Utterance {
    pub fn new(id: u32, sentences: Vec<String>) -> Self {
        Self {
            id,
            queued: sentences.into(),
            spoken: Vec::new(),
            synth_done: false,
            audio: Vec::new(),
            sent: 0,
            heard: 0,
            marks: VecDeque::new(),
            mark_seq: 0,
            epoch: 0,
            paused: false,
            started: false,
        }
    }

    // ---- getters ---------------------------------------------------------

    pub fn id(&self) -> u32 {
        self.id
    }

    /// Paused: the caller is talking over it; nothing is sent.
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// Wire bytes the caller has heard.
    pub fn heard_bytes(&self) -> usize {
        self.heard
    }

    /// Wire bytes synthesized.
    pub fn synthesized_bytes(&self) -> usize {
        self.audio.len()
    }

    /// Everything synthesized, sent and heard, nothing paused.
    pub fn finished(&self) -> bool {
        self.synth_done && self.queued.is_empty() && !self.paused && self.heard >= self.audio.len()
    }

    /// The sentences whose audio the caller began to hear.
    pub fn text_heard(&self) -> String {
        self.spoken
            .iter()
            .filter(|(start, _)| *start < self.heard)
            .map(|(_, s)| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Every sentence of the utterance, said or not.
    pub fn full_text(&self) -> String {
        self.spoken
            .iter()
            .map(|(_, s)| s.as_str())
            .chain(self.queued.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }

    // ---- synthesis -------------------------------------------------------

    /// The next sentence to synthesize; `None` once all are (synthesis is
    /// then done and the tail can be marked).
    pub fn next_sentence(&mut self) -> Option<String> {
        let sentence = self.queued.pop_front();
        match &sentence {
            Some(s) => self.spoken.push((self.audio.len(), s.clone())),
            None => self.synth_done = true,
        }
        sentence
    }

    /// Where synthesized wire bytes go.
    pub fn audio_mut(&mut self) -> &mut Vec<u8> {
        &mut self.audio
    }

    // ---- sending ---------------------------------------------------------

    /// Hands `send` what is synthesized and not yet sent, with markers,
    /// unless paused (or, without `streaming`, until synthesis is done).
    /// `send` returns false when the bytes could not be encoded (nothing
    /// more is sent then). Returns true when this sent the utterance's
    /// first audio (the bot started speaking).
    pub fn pump(
        &mut self,
        mark_every_bytes: usize,
        streaming: bool,
        mut send: impl FnMut(Send<'_>) -> bool,
    ) -> bool {
        if self.paused || (!streaming && !self.synth_done) {
            return false;
        }
        let mark_bytes = mark_every_bytes.max(1);
        let mut first = false;
        while self.sent < self.audio.len() {
            let next_mark = (self.sent / mark_bytes + 1) * mark_bytes;
            let end = next_mark.min(self.audio.len());
            let Some(chunk) = self.audio.get(self.sent..end) else {
                break;
            };
            if !send(Send::Audio(chunk)) {
                return first;
            }
            self.sent = end;
            if !self.started {
                self.started = true;
                first = true;
            }
            if end == next_mark || (self.synth_done && end == self.audio.len()) {
                self.mark(end, &mut send);
            }
        }
        // Everything was sent before synthesis was known to be over: the
        // tail still needs its marker, or the end would never be heard.
        let tail_unmarked = self.synth_done
            && self.sent == self.audio.len()
            && self.heard < self.audio.len()
            && self.marks.back().map(|(_, pos)| *pos) != Some(self.audio.len());
        if tail_unmarked {
            self.mark(self.audio.len(), &mut send);
        }
        first
    }

    fn mark(&mut self, at: usize, send: &mut impl FnMut(Send<'_>) -> bool) {
        self.mark_seq += 1;
        let name = format!("u{}.{}.{}", self.id, self.epoch, self.mark_seq);
        send(Send::Mark(&name));
        self.marks.push_back((name, at));
    }

    /// The provider echoed marker `name`: returns the bytes now heard, or
    /// `None` for a marker that is not (or no longer) ours.
    pub fn marker_heard(&mut self, name: &str) -> Option<usize> {
        let ix = self.marks.iter().position(|(n, _)| n == name)?;
        for _ in 0..=ix {
            if let Some((_, pos)) = self.marks.pop_front() {
                self.heard = self.heard.max(pos);
            }
        }
        Some(self.heard)
    }

    // ---- interruptions ---------------------------------------------------

    /// The caller talks over the bot: stop where they are. Returns true
    /// when the provider's buffer must be cleared now (it was playing).
    pub fn pause(&mut self) -> bool {
        if self.paused {
            return false;
        }
        self.paused = true;
        self.epoch += 1;
        self.marks.clear();
        self.sent = self.heard;
        true
    }

    /// Play the unheard rest (call [`Self::pump`] next).
    pub fn resume(&mut self) {
        self.paused = false;
    }

    /// A real interruption: the rest will never be said. Returns true when
    /// the provider's buffer must be cleared (it was not already).
    pub fn cut(&mut self) -> bool {
        self.queued.clear();
        !self.paused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends recorded as ("audio", len) / ("mark", name).
    fn pump(u: &mut Utterance, every: usize) -> (bool, Vec<(String, usize)>) {
        let mut sent = Vec::new();
        let first = u.pump(every, true, |s| {
            sent.push(match s {
                Send::Audio(a) => ("audio".to_owned(), a.len()),
                Send::Mark(m) => (m.to_owned(), 0),
            });
            true
        });
        (first, sent)
    }

    fn synthesized(u: &mut Utterance, bytes: usize) {
        u.audio_mut().extend(std::iter::repeat_n(0xFFu8, bytes));
    }

    #[test]
    fn audio_goes_out_as_synthesized_with_a_marker_every_interval_and_at_the_end() {
        let mut u = Utterance::new(7, vec!["One.".into(), "Two.".into()]);
        assert_eq!(u.next_sentence().as_deref(), Some("One."));
        synthesized(&mut u, 2500);
        let (first, sent) = pump(&mut u, 1000);
        assert!(first);
        assert_eq!(
            sent,
            vec![
                ("audio".into(), 1000),
                ("u7.0.1".into(), 0),
                ("audio".into(), 1000),
                ("u7.0.2".into(), 0),
                ("audio".into(), 500),
            ]
        );
        assert_eq!(u.next_sentence().as_deref(), Some("Two."));
        synthesized(&mut u, 100);
        assert_eq!(u.next_sentence(), None);
        let (first, sent) = pump(&mut u, 1000);
        assert!(!first);
        assert_eq!(sent, vec![("audio".into(), 100), ("u7.0.3".into(), 0)]);
        assert!(!u.finished());
        assert_eq!(u.marker_heard("u7.0.3"), Some(2600));
        assert!(u.finished());
        assert_eq!(u.full_text(), "One. Two.");
    }

    #[test]
    fn a_pause_replays_the_unheard_rest_and_ignores_markers_from_before_it() {
        let mut u = Utterance::new(1, vec!["Hello there.".into()]);
        u.next_sentence();
        synthesized(&mut u, 3000);
        pump(&mut u, 1000);
        assert_eq!(u.marker_heard("u1.0.1"), Some(1000));
        assert!(u.pause());
        assert!(!u.pause(), "a second pause clears nothing");
        let (_, sent) = pump(&mut u, 1000);
        assert!(sent.is_empty(), "nothing is sent while paused");
        // The provider flushes the old markers on the clear.
        assert_eq!(u.marker_heard("u1.0.2"), None);
        u.resume();
        let (first, sent) = pump(&mut u, 1000);
        assert!(!first);
        assert_eq!(sent[0], ("audio".into(), 1000));
        assert_eq!(sent[1], ("u1.1.4".into(), 0), "a new epoch");
        assert_eq!(u.heard_bytes(), 1000);
    }

    #[test]
    fn a_cut_utterance_counts_as_heard_up_to_the_cut() {
        let mut u = Utterance::new(2, vec!["First part.".into(), "Second part.".into()]);
        u.next_sentence();
        synthesized(&mut u, 2000);
        pump(&mut u, 1000);
        assert_eq!(u.text_heard(), "", "nothing heard before the first marker");
        u.marker_heard("u2.0.1");
        assert!(u.pause());
        assert!(!u.cut(), "already cleared by the pause");
        assert_eq!(u.text_heard(), "First part.");
        assert_eq!(u.full_text(), "First part.");
        let mut playing = Utterance::new(3, vec!["x.".into()]);
        assert!(playing.cut(), "a playing utterance must be cleared");
    }

    #[test]
    fn without_streaming_nothing_goes_out_before_synthesis_is_done() {
        let mut u = Utterance::new(4, vec!["Hi.".into()]);
        u.next_sentence();
        synthesized(&mut u, 500);
        assert!(!u.pump(1000, false, |_| panic!("sent too early")));
        assert_eq!(u.next_sentence(), None);
        let mut n = 0;
        assert!(u.pump(1000, false, |_| {
            n += 1;
            true
        }));
        assert_eq!(n, 2, "the audio and its end marker");
    }
}
