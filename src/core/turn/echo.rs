//! Line echo of the bot's own voice, told apart from the caller without
//! the bot's audio: by when it starts and how loud it is.
//!
//! A hybrid or a handset on a poor line sends the bot's prompt back on the
//! caller channel, some 20-30 dB under the caller's voice but well over the
//! line noise, and it is speech by every spectral measure. What gives it
//! away is its timing: it starts with the bot, before any caller could
//! react, on a line that was quiet before. So:
//!
//! * For the first [`LEARN_MS`] of each reply, caller-channel sound is not
//!   evidence of caller speech; sound then that is clearly louder
//!   ([`ONSET_OVER_BEFORE_DB`]) than the line was in the second before the
//!   reply (the caller's own speech left out) is taken for echo, and its
//!   level is remembered.
//! * For the rest of the reply, a frame counts as caller sound only if it
//!   is [`MARGIN_DB`] over the loudest echo heard. Quieter sound is echo,
//!   and raises that level (later syllables of the prompt are louder than
//!   its first), but never more than [`MAX_GROWTH_DB`] over what the
//!   learning window heard, nor to within [`UNDER_CALLER_DB`] of the
//!   caller's own speech: a caller's soft or rising onset must not teach
//!   the gate to ignore them.
//!
//! A line without echo (nothing new in the first [`LEARN_MS`]) is not gated
//! at all. Fixed size, no allocation.

/// How long after a reply starts its echo is learnt (no caller reacts this
/// fast; a barge-in 250 ms into the prompt is still heard).
pub(super) const LEARN_MS: i64 = 200;
/// How much louder than the line before the reply its echo must be.
pub(super) const ONSET_OVER_BEFORE_DB: f32 = 6.0;
/// How far over the loudest echo caller sound must be.
pub(super) const MARGIN_DB: f32 = 8.0;
/// How far the echo level may grow over what the learning window heard.
pub(super) const MAX_GROWTH_DB: f32 = 6.0;
/// The echo level stays this far under the caller's own speech.
pub(super) const UNDER_CALLER_DB: f32 = 12.0;
/// The gate stays this long after the reply ends (the echo path's delay
/// and tail).
pub(super) const TAIL_MS: i64 = 150;
/// The loudest a line echo of the bot can be (dBFS). The bot is sent at
/// about nominal speech level (ITU-T P.56: -26 dBov active speech, a few dB
/// over at its peaks) and a line returns it at least 6 dB down (G.168's
/// smallest echo return loss), so sound louder than this in a reply's first
/// moments is a caller talking as the bot starts, never its echo: it is not
/// learnt, and the caller is heard once the learning window ends.
pub(super) const ECHO_CEILING_DBFS: f32 = -26.0;
/// Frames of line level remembered before a reply (1 s of 20 ms frames).
const BEFORE_FRAMES: usize = 50;
/// Frame level over the noise floor that counts as sound at all.
const ACTIVE_SNR_DB: f32 = 9.0;

/// Echo state of one call.
#[derive(Debug, Clone)]
pub(super) struct EchoGate {
    /// Levels of recent frames outside caller speech (ring, dBFS).
    before: [f32; BEFORE_FRAMES],
    before_pos: usize,
    /// The line's loudest level in the second before the current reply.
    before_max_db: f32,
    utterance: Option<u64>,
    learn_until_ms: i64,
    /// Gate on until this time (the reply's end plus the tail).
    until_ms: i64,
    learnt_db: f32,
    peak_db: f32,
}

impl Default for EchoGate {
    fn default() -> Self {
        Self {
            before: [f32::NEG_INFINITY; BEFORE_FRAMES],
            before_pos: 0,
            before_max_db: f32::NEG_INFINITY,
            utterance: None,
            learn_until_ms: i64::MIN / 4,
            until_ms: i64::MIN / 4,
            learnt_db: f32::NEG_INFINITY,
            peak_db: f32::NEG_INFINITY,
        }
    }
}

impl EchoGate {
    /// A reply started playing at `now_ms`. `caller_speaking`: a caller run
    /// is open (then nothing can be learnt: the caller is on the line).
    pub(super) fn bot_started(&mut self, utterance: u64, now_ms: i64, caller_speaking: bool) {
        self.utterance = Some(utterance);
        self.learn_until_ms = if caller_speaking {
            now_ms
        } else {
            now_ms + LEARN_MS
        };
        self.until_ms = i64::MAX / 4;
        self.before_max_db = self
            .before
            .iter()
            .copied()
            .fold(f32::NEG_INFINITY, f32::max);
        self.learnt_db = f32::NEG_INFINITY;
        self.peak_db = f32::NEG_INFINITY;
    }

    /// Reply `utterance` finished playing at `now_ms`.
    pub(super) fn bot_finished(&mut self, utterance: u64, now_ms: i64) {
        if self.utterance == Some(utterance) {
            self.utterance = None;
            self.until_ms = now_ms + TAIL_MS;
        }
    }

    /// The level (dBFS) a frame starting at `start_ms` must reach to count
    /// as caller sound: `-inf` when there is no echo to tell apart, `+inf`
    /// while the echo is being learnt.
    pub(super) fn gate_db(&self, start_ms: i64) -> f32 {
        if start_ms >= self.until_ms {
            return f32::NEG_INFINITY;
        }
        if start_ms < self.learn_until_ms {
            return f32::INFINITY;
        }
        self.peak_db + MARGIN_DB
    }

    /// A frame was heard: `in_caller_run` when the detector holds a caller
    /// speech run; `caller_db` the caller's own speech level if known.
    pub(super) fn observe(
        &mut self,
        start_ms: i64,
        level_db: f32,
        snr_db: f32,
        in_caller_run: bool,
        caller_db: Option<f32>,
    ) {
        let gated = start_ms < self.until_ms;
        if !gated {
            self.before[self.before_pos] = if in_caller_run {
                f32::NEG_INFINITY
            } else {
                level_db
            };
            self.before_pos = (self.before_pos + 1) % BEFORE_FRAMES;
            return;
        }
        if in_caller_run || snr_db < ACTIVE_SNR_DB || !level_db.is_finite() {
            return;
        }
        let cap = caller_db
            .map_or(f32::INFINITY, |c| c - UNDER_CALLER_DB)
            .min(ECHO_CEILING_DBFS);
        if start_ms < self.learn_until_ms {
            if level_db >= self.before_max_db + ONSET_OVER_BEFORE_DB
                && level_db <= ECHO_CEILING_DBFS
            {
                self.learnt_db = self.learnt_db.max(level_db.min(cap));
                self.peak_db = self.learnt_db;
            }
            return;
        }
        if self.peak_db.is_finite() && level_db < self.peak_db + MARGIN_DB {
            let grown = level_db.min(self.learnt_db + MAX_GROWTH_DB).min(cap);
            self.peak_db = self.peak_db.max(grown);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(g: &mut EchoGate, from_ms: i64, levels: &[f32], floor: f32) {
        for (k, &l) in levels.iter().enumerate() {
            g.observe(from_ms + 20 * k as i64, l, l - floor, false, None);
        }
    }

    #[test]
    fn a_line_without_echo_is_not_gated() {
        let mut g = EchoGate::default();
        feed(&mut g, 0, &[-60.0; 50], -60.0);
        g.bot_started(1, 1000, false);
        assert_eq!(g.gate_db(1100), f32::INFINITY);
        feed(&mut g, 1000, &[-60.0; 10], -60.0);
        assert_eq!(g.gate_db(1300), f32::NEG_INFINITY);
    }

    #[test]
    fn echo_at_the_start_of_a_reply_is_learnt_and_follows_louder_syllables() {
        let mut g = EchoGate::default();
        feed(&mut g, 0, &[-56.0; 50], -56.0);
        g.bot_started(1, 1000, false);
        // The echo's first syllable inside the learning window.
        feed(&mut g, 1100, &[-45.0, -40.0, -44.0], -56.0);
        assert_eq!(g.gate_db(1300), -40.0 + MARGIN_DB);
        // A louder later syllable rises step by step: it is echo too.
        feed(&mut g, 1400, &[-38.0, -36.0], -56.0);
        assert_eq!(g.gate_db(1500), -36.0 + MARGIN_DB);
        // The caller at -14 dBFS is over the gate.
        assert!(-14.0 > g.gate_db(1500));
        // The growth is capped: a slow ramp cannot lift the gate forever.
        feed(&mut g, 1600, &[-30.0, -26.0, -22.0, -18.0, -14.0], -56.0);
        assert_eq!(g.gate_db(1700), -40.0 + MAX_GROWTH_DB + MARGIN_DB);
        g.bot_finished(1, 2000);
        assert!(g.gate_db(2100).is_finite());
        assert_eq!(g.gate_db(2000 + TAIL_MS), f32::NEG_INFINITY);
    }

    #[test]
    fn background_that_was_there_before_the_reply_is_not_echo() {
        let mut g = EchoGate::default();
        // Babble peaking at -40 dBFS over a -55 floor before the reply.
        let babble: Vec<f32> = (0..50)
            .map(|k| if k % 5 == 0 { -40.0 } else { -52.0 })
            .collect();
        feed(&mut g, 0, &babble, -55.0);
        g.bot_started(1, 1000, false);
        feed(&mut g, 1000, &[-41.0, -38.0, -42.0], -55.0);
        assert_eq!(g.gate_db(1300), f32::NEG_INFINITY);
    }

    #[test]
    fn a_caller_who_speaks_as_the_bot_starts_is_not_learnt_as_echo() {
        let mut g = EchoGate::default();
        feed(&mut g, 0, &[-47.0; 50], -47.0);
        g.bot_started(1, 500, false);
        // "Book me for Friday" from 40 ms into the reply, at telephone
        // speech level: inside the learning window, far over any echo.
        feed(&mut g, 540, &[-23.0, -12.0, -16.0, -20.0], -47.0);
        assert_eq!(g.gate_db(720), f32::NEG_INFINITY);
        // Echo-level sound in the same window is still learnt.
        let mut g = EchoGate::default();
        feed(&mut g, 0, &[-47.0; 50], -47.0);
        g.bot_started(1, 500, false);
        feed(&mut g, 540, &[-38.0, -12.0, -36.0], -47.0);
        assert_eq!(g.gate_db(720), -36.0 + MARGIN_DB);
    }

    #[test]
    fn the_echo_level_stays_under_the_callers_own_speech() {
        let mut g = EchoGate::default();
        feed(&mut g, 0, &[-60.0; 50], -60.0);
        g.bot_started(1, 1000, false);
        g.observe(1100, -30.0, 30.0, false, Some(-25.0));
        assert_eq!(g.gate_db(1300), -25.0 - UNDER_CALLER_DB + MARGIN_DB);
    }
}
