//! Engine behaviour on a fake clock with synthetic audio: thresholds probed
//! at +-1 frame where the engine promises a number.

use super::*;
use std::time::Duration;

const RATE: u32 = 16_000;
const FRAME: usize = 320;

/// Deterministic caller audio: a voiced harmonic "vowel" or quiet hiss.
struct Caller {
    phase: f64,
    seed: u32,
    /// Loudness of the voiced frames (1.0: a full voice).
    gain: f64,
}

impl Caller {
    fn new() -> Self {
        Self {
            phase: 0.0,
            seed: 1,
            gain: 1.0,
        }
    }
    fn noise(&mut self) -> f64 {
        self.seed = self.seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        f64::from((self.seed >> 16) & 0x7fff) / 16384.0 - 1.0
    }
    fn frame(&mut self, voiced: bool) -> Vec<i16> {
        (0..FRAME)
            .map(|_| {
                let n = 30.0 * self.noise();
                if !voiced {
                    return n as i16;
                }
                self.phase += 140.0 / f64::from(RATE);
                let p = 2.0 * std::f64::consts::PI * self.phase;
                // An open vowel: harmonics up to ~2 kHz (a hum would stop
                // below ~600 Hz).
                let v = 2500.0
                    * self.gain
                    * (p.sin()
                        + 0.7 * (2.0 * p).sin()
                        + 0.5 * (3.0 * p).sin()
                        + 0.8 * (7.0 * p).sin()
                        + 0.9 * (9.0 * p).sin()
                        + 0.6 * (13.0 * p).sin());
                (v + n) as i16
            })
            .collect()
    }
}

/// A low, dark sound (fundamental and second harmonic only, so its energy
/// sits below ~600 Hz) with a natural pitch wobble; `gain` per frame.
struct LowVoice {
    phase: f64,
    t: f64,
    seed: u32,
}

impl LowVoice {
    fn new() -> Self {
        Self {
            phase: 0.0,
            t: 0.0,
            seed: 5,
        }
    }
    fn frame(&mut self, gain: f64) -> Vec<i16> {
        (0..FRAME)
            .map(|_| {
                self.seed = self.seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let n = 30.0 * (f64::from((self.seed >> 16) & 0x7fff) / 16384.0 - 1.0);
                self.t += 1.0 / f64::from(RATE);
                // Vibrato plus ~1 % jitter: a human voice never holds pitch.
                let jitter = 1.5 * (f64::from((self.seed >> 8) & 0xff) / 128.0 - 1.0);
                let f0 = 150.0 + 20.0 * (2.0 * std::f64::consts::PI * 3.0 * self.t).sin() + jitter;
                self.phase += f0 / f64::from(RATE);
                let p = 2.0 * std::f64::consts::PI * self.phase;
                // A dark voice: harmonics falling off fast (a two-harmonic
                // signal is a tone, which the VAD rightly refuses).
                let v: f64 = (1..=6)
                    .map(|k| f64::from(k).powf(-1.5) * (f64::from(k) * p).sin())
                    .sum();
                // ... nor its loudness (shimmer, ~0.5 dB).
                let shimmer = 1.0 + 0.06 * (2.0 * std::f64::consts::PI * 7.0 * self.t).sin();
                (gain * shimmer * 5000.0 * v + n) as i16
            })
            .collect()
    }
}

struct Harness {
    t0: Instant,
    ms: i64,
    engine: TurnEngine,
    caller: Caller,
    log: Vec<(i64, TurnOutput)>,
}

impl Harness {
    fn new(cfg: TurnConfig) -> Self {
        let t0 = Instant::now();
        Self {
            t0,
            ms: 0,
            engine: TurnEngine::new(cfg, t0),
            caller: Caller::new(),
            log: Vec::new(),
        }
    }
    fn default() -> Self {
        Self::new(TurnConfig::from_dials(&TurnDials::all_on(), RATE))
    }
    fn at(&self, ms: i64) -> Instant {
        self.t0 + Duration::from_millis(ms as u64)
    }
    fn drain(&mut self) {
        while let Some(o) = self.engine.poll_output() {
            let at = match o {
                TurnOutput::Event { at, .. } | TurnOutput::Command { at, .. } => at,
            };
            self.log.push(((at - self.t0).as_millis() as i64, o));
        }
    }
    fn audio(&mut self, ms: i64, voiced: bool) {
        for _ in 0..ms / 20 {
            let f = self.caller.frame(voiced);
            let at = self.at(self.ms);
            self.engine
                .handle_input(TurnInput::CallerAudio { samples: &f, at });
            self.ms += 20;
            self.drain();
        }
    }
    /// Frames of [`LowVoice`], one gain per 20 ms frame.
    fn low_voice(&mut self, voice: &mut LowVoice, gains: &[f64]) {
        for &g in gains {
            let f = voice.frame(g);
            let at = self.at(self.ms);
            self.engine
                .handle_input(TurnInput::CallerAudio { samples: &f, at });
            self.ms += 20;
            self.drain();
        }
    }
    fn input(&mut self, i: TurnInput<'_>) {
        self.engine.handle_input(i);
        self.drain();
    }
    fn words(&mut self, text: &str, start: i64, end: i64) {
        let update = TranscriptUpdate {
            words: vec![TranscriptWord {
                text: text.into(),
                start: self.at(start),
                end: self.at(end),
            }],
            language: None,
            is_final: true,
        };
        let at = self.at(self.ms);
        self.input(TurnInput::Transcript { update, at });
    }
    fn events(&self, e: TurnEvent) -> Vec<i64> {
        self.log
            .iter()
            .filter(|(_, o)| matches!(o, TurnOutput::Event { event, .. } if *event == e))
            .map(|(t, _)| *t)
            .collect()
    }
    fn commands(&self) -> Vec<PlaybackCommand> {
        self.log
            .iter()
            .filter_map(|(_, o)| match o {
                TurnOutput::Command { command, .. } => Some(*command),
                _ => None,
            })
            .collect()
    }
    fn last_speech_end(&self) -> i64 {
        // speech_end is decided after the VAD hangover
        *self.events(TurnEvent::SpeechEnd).last().unwrap()
            - i64::from(self.engine.config().vad.hangover_ms)
    }
}

#[test]
fn end_of_turn_after_the_silence_dial_within_a_frame() {
    let mut h = Harness::default();
    h.audio(500, false);
    h.audio(1000, true);
    h.audio(2000, false);
    assert_eq!(h.events(TurnEvent::SpeechStart).len(), 1);
    let eot = h.events(TurnEvent::EndOfTurn);
    assert_eq!(eot.len(), 1, "{:?}", h.log);
    let gap = eot[0] - h.last_speech_end();
    let want = i64::from(DEFAULT_EOT_SILENCE_MS);
    assert!(
        (want - 20..=want + 20).contains(&gap),
        "eot {gap} ms after speech"
    );
    assert_eq!(h.engine.floor(), Floor::Nobody);
}

#[test]
fn a_pause_shorter_than_the_window_does_not_end_the_turn() {
    let mut h = Harness::default();
    h.audio(400, false);
    h.audio(800, true);
    h.audio(i64::from(DEFAULT_EOT_SILENCE_MS) - 200, false);
    h.audio(800, true);
    h.audio(2000, false);
    assert_eq!(h.events(TurnEvent::EndOfTurn).len(), 1);
    assert_eq!(h.events(TurnEvent::SpeechStart).len(), 2);
}

#[test]
fn complete_words_shorten_and_unfinished_words_lengthen_the_wait() {
    for (word, want) in [
        ("Friday.", DEFAULT_MIN_DELAY_MS),
        ("on", DEFAULT_MAX_DELAY_MS),
    ] {
        let mut cfg = TurnConfig::from_dials(&TurnDials::all_on(), RATE);
        cfg.expect_transcripts = true;
        let mut h = Harness::new(cfg);
        h.audio(400, false);
        h.audio(1000, true);
        // The recogniser reports the word 100 ms after it ends.
        h.audio(100, false);
        h.words(word, 1000, 1400);
        h.audio(2000, false);
        let eot = h.events(TurnEvent::EndOfTurn);
        assert_eq!(eot.len(), 1, "{word}");
        let gap = eot[0] - h.last_speech_end();
        let want = i64::from(want);
        assert!(
            (want - 20..=want + 20).contains(&gap),
            "{word}: eot {gap} ms after speech"
        );
    }
}

#[test]
fn barge_in_pauses_first_then_confirms_and_clears() {
    let mut h = Harness::default();
    h.audio(400, false);
    let at = h.at(h.ms);
    h.input(TurnInput::BotStarted { utterance: 7, at });
    assert_eq!(h.engine.floor(), Floor::Bot);
    h.audio(300, false);
    let at = h.at(h.ms);
    h.input(TurnInput::BotMark {
        utterance: 7,
        heard_ms: 300,
        at,
    });
    h.audio(1000, true);
    let cmds = h.commands();
    assert_eq!(
        cmds[0],
        PlaybackCommand::Pause {
            utterance: 7,
            heard_ms: 300
        }
    );
    assert!(cmds.contains(&PlaybackCommand::Stop { utterance: 7 }));
    assert!(
        cmds.contains(&PlaybackCommand::StopSynthesis { utterance: 7 }),
        "hard interrupt drops the rest"
    );
    let bi = h.events(TurnEvent::BargeIn);
    assert_eq!(bi.len(), 1);
    let start = h.events(TurnEvent::SpeechStart)[0];
    let cfg_ms = i64::from(h.engine.config().barge_in_confirm_ms);
    assert!(
        bi[0] - start <= cfg_ms,
        "confirmed {} ms after speech start",
        bi[0] - start
    );
    assert_eq!(h.engine.floor(), Floor::Caller);
}

#[test]
fn a_short_burst_is_a_backchannel_and_playback_resumes_where_heard() {
    let mut h = Harness::default();
    h.audio(400, false);
    let at = h.at(h.ms);
    h.input(TurnInput::BotStarted { utterance: 3, at });
    h.audio(1000, false);
    let at = h.at(h.ms);
    h.input(TurnInput::BotMark {
        utterance: 3,
        heard_ms: 900,
        at,
    });
    h.audio(180, true);
    h.audio(1500, false);
    assert!(h.events(TurnEvent::BargeIn).is_empty(), "{:?}", h.log);
    assert_eq!(h.events(TurnEvent::Backchannel).len(), 1);
    let cmds = h.commands();
    assert_eq!(
        cmds,
        vec![
            PlaybackCommand::Pause {
                utterance: 3,
                heard_ms: 900
            },
            PlaybackCommand::Resume {
                utterance: 3,
                from_ms: 900
            }
        ]
    );
    assert_eq!(h.engine.floor(), Floor::Bot);
    assert!(h.events(TurnEvent::EndOfTurn).is_empty());
}

#[test]
fn a_short_sound_followed_at_once_by_more_speech_does_not_resume_in_between() {
    let mut h = Harness::default();
    h.audio(400, false);
    let at = h.at(h.ms);
    h.input(TurnInput::BotStarted { utterance: 4, at });
    h.audio(1000, false);
    // "Ndiyo" (short: its run ends after the VAD's hangover), a breath, then
    // "tafadhali…": one interruption, no blip of the old reply between.
    h.audio(180, true);
    h.audio(340, false);
    h.audio(600, true);
    let cmds = h.commands();
    assert_eq!(h.events(TurnEvent::Backchannel).len(), 1, "{:?}", h.log);
    assert!(
        !cmds
            .iter()
            .any(|c| matches!(c, PlaybackCommand::Resume { .. })),
        "{cmds:?}"
    );
    assert_eq!(h.events(TurnEvent::BargeIn).len(), 1, "{:?}", h.log);
    assert_eq!(h.engine.floor(), Floor::Caller);
}

#[test]
fn a_steady_hum_is_held_off_but_low_articulated_speech_confirms() {
    // 600 ms of a steady "mmm" over the bot: a hum needs 1 s to count as
    // an interruption, so it ends as a backchannel.
    let mut h = Harness::default();
    h.audio(400, false);
    let at = h.at(h.ms);
    h.input(TurnInput::BotStarted { utterance: 1, at });
    h.audio(1000, false);
    let mut hum = LowVoice::new();
    h.low_voice(&mut hum, &[1.0; 30]);
    h.audio(1500, false);
    // (The VAD's learned model may refuse so steady a sound outright; if it
    // takes it for speech, the engine must still hold it off.)
    assert!(h.events(TurnEvent::BargeIn).is_empty(), "{:?}", h.log);
    assert_eq!(
        h.events(TurnEvent::Backchannel).len(),
        h.events(TurnEvent::SpeechStart).len(),
        "{:?}",
        h.log
    );

    // The same dark timbre with a level step every other frame (syllables,
    // consonants) is articulated speech: confirmed on the normal clock.
    let mut h = Harness::default();
    h.audio(400, false);
    let at = h.at(h.ms);
    h.input(TurnInput::BotStarted { utterance: 1, at });
    h.audio(1000, false);
    let mut voice = LowVoice::new();
    let gains: Vec<f64> = (0..30).map(|k| if k % 4 < 2 { 1.0 } else { 0.4 }).collect();
    h.low_voice(&mut voice, &gains);
    let bi = h.events(TurnEvent::BargeIn);
    assert_eq!(bi.len(), 1, "{:?}", h.log);
    let start = h.events(TurnEvent::SpeechStart)[0];
    let confirm = i64::from(h.engine.config().barge_in_confirm_ms);
    assert!(
        bi[0] - start <= confirm,
        "confirmed {} ms after speech start",
        bi[0] - start
    );
}

#[test]
fn a_sound_resumed_after_a_short_pause_continues_the_first() {
    // Two 160 ms sounds, each too short to confirm alone: 300 ms apart they
    // are one utterance ("Sorry - that's ..."), 1200 ms apart two
    // acknowledgements.
    for (gap, want_barge_in) in [(300, true), (1200, false)] {
        let mut h = Harness::default();
        h.audio(400, false);
        let at = h.at(h.ms);
        h.input(TurnInput::BotStarted { utterance: 2, at });
        h.audio(1000, false);
        h.audio(160, true);
        h.audio(gap, false);
        h.audio(160, true);
        h.audio(1500, false);
        let bi = h.events(TurnEvent::BargeIn);
        assert_eq!(
            bi.len(),
            usize::from(want_barge_in),
            "gap {gap}: {:?}",
            h.log
        );
        if want_barge_in {
            let second = 1400 + 160 + gap;
            assert!(
                bi[0] - second <= 120,
                "confirmed {} ms into the second sound",
                bi[0] - second
            );
        } else {
            assert_eq!(h.events(TurnEvent::Backchannel).len(), 2, "{:?}", h.log);
        }
    }
}

#[test]
fn backchannel_words_hold_off_a_longer_burst_when_words_are_expected() {
    let mut cfg = TurnConfig::from_dials(&TurnDials::all_on(), RATE);
    cfg.expect_transcripts = true;
    let mut h = Harness::new(cfg);
    h.audio(400, false);
    let at = h.at(h.ms);
    h.input(TurnInput::BotStarted { utterance: 1, at });
    h.audio(600, false);
    h.audio(500, true);
    h.words("sawa", 1000, 1500);
    h.audio(1500, false);
    assert!(h.events(TurnEvent::BargeIn).is_empty(), "{:?}", h.log);
    assert_eq!(h.engine.floor(), Floor::Bot);
}

#[test]
fn a_sound_as_loud_as_the_callers_own_speech_confirms_without_waiting_for_words() {
    // (caller spoke before, loudness of the sound over the bot, fast?)
    for (spoke_before, gain, fast) in [(true, 1.0, true), (true, 0.2, false), (false, 1.0, false)] {
        let mut cfg = TurnConfig::from_dials(&TurnDials::all_on(), RATE);
        cfg.expect_transcripts = true;
        let (confirm, with_words) = (
            i64::from(cfg.barge_in_confirm_ms),
            i64::from(cfg.barge_in_confirm_with_words_ms),
        );
        let mut h = Harness::new(cfg);
        h.audio(400, false);
        if spoke_before {
            h.audio(1500, true);
            h.audio(1500, false);
            assert_eq!(h.events(TurnEvent::EndOfTurn).len(), 1);
        }
        let at = h.at(h.ms);
        h.input(TurnInput::BotStarted { utterance: 1, at });
        h.audio(600, false);
        h.caller.gain = gain;
        h.audio(1200, true);
        let onset = *h.events(TurnEvent::SpeechStart).last().unwrap();
        let bi = h.events(TurnEvent::BargeIn);
        assert_eq!(bi.len(), 1, "{spoke_before} {gain}");
        let after = bi[0] - onset;
        if fast {
            assert!(after <= confirm, "{after} ms");
        } else {
            assert!(
                after >= with_words - 100,
                "{spoke_before} {gain}: {after} ms"
            );
        }
    }
}

#[test]
fn stop_words_interrupt_even_in_half_duplex() {
    let dials = TurnDials {
        voice_full_duplex_enabled: false,
        ..TurnDials::all_on()
    };
    let mut h = Harness::new(TurnConfig::from_dials(&dials, RATE));
    h.audio(400, false);
    let at = h.at(h.ms);
    h.input(TurnInput::BotStarted { utterance: 1, at });
    h.audio(600, false);
    h.audio(1200, true);
    assert!(
        h.commands().is_empty(),
        "half duplex ignores speech: {:?}",
        h.log
    );
    h.words("ngoja", 1100, 1400);
    assert_eq!(h.events(TurnEvent::BargeIn).len(), 1);
    assert_eq!(h.engine.floor(), Floor::Caller);
}

#[test]
fn echo_guard_ignores_sound_at_playback_start_but_not_after_it() {
    let mut h = Harness::default();
    h.audio(400, false);
    let at = h.at(h.ms);
    h.input(TurnInput::BotStarted { utterance: 1, at });
    // one soft voiced frame inside the guard (line echo), then quiet
    h.caller.gain = 0.1;
    h.audio(40, true);
    h.caller.gain = 1.0;
    h.audio(1000, false);
    assert!(h.commands().is_empty(), "{:?}", h.log);
    // the caller's voice well after the start of playback pauses it
    h.audio(300, true);
    assert!(
        matches!(h.commands().first(), Some(PlaybackCommand::Pause { .. })),
        "{:?}",
        h.log
    );
}

#[test]
fn line_echo_of_the_reply_is_not_the_caller_but_the_caller_over_it_is() {
    let mut h = Harness::default();
    h.audio(1000, false);
    let at = h.at(h.ms);
    h.input(TurnInput::BotStarted { utterance: 1, at });
    // The reply's echo, 20 dB under the caller, from the reply's start:
    // syllables and gaps for 4 s.
    h.caller.gain = 0.1;
    for _ in 0..10 {
        h.audio(300, true);
        h.audio(100, false);
    }
    assert!(
        h.log.iter().all(|(_, o)| !matches!(
            o,
            TurnOutput::Event {
                event: TurnEvent::SpeechStart | TurnEvent::BargeIn,
                ..
            } | TurnOutput::Command { .. }
        )),
        "echo taken for the caller: {:?}",
        h.log
    );
    // The caller at full voice over the echo is heard and interrupts.
    h.caller.gain = 1.0;
    h.audio(600, true);
    assert_eq!(h.events(TurnEvent::SpeechStart).len(), 1, "{:?}", h.log);
    assert_eq!(h.events(TurnEvent::BargeIn).len(), 1, "{:?}", h.log);
    // Without the gate the same echo starts speech.
    let mut cfg = TurnConfig::from_dials(&TurnDials::all_on(), RATE);
    cfg.echo_gate = false;
    let mut h = Harness::new(cfg);
    h.audio(1000, false);
    let at = h.at(h.ms);
    h.input(TurnInput::BotStarted { utterance: 1, at });
    h.caller.gain = 0.1;
    for _ in 0..10 {
        h.audio(300, true);
        h.audio(100, false);
    }
    assert!(!h.events(TurnEvent::SpeechStart).is_empty(), "{:?}", h.log);
}

#[test]
fn holding_leaves_reassurance_to_the_hold_and_suppresses_no_input() {
    let mut h = Harness::default();
    let at = h.at(0);
    h.input(TurnInput::Holding { on: true, at });
    h.audio(30_000, false);
    // The hold says its own reassurance; the engine says nothing at all.
    assert!(h.log.is_empty(), "{:?}", h.log);
    // caller speech is still heard and still makes turns
    h.audio(800, true);
    h.audio(2000, false);
    assert_eq!(h.events(TurnEvent::EndOfTurn).len(), 1);
    assert!(h.events(TurnEvent::NoInput).is_empty());
}

#[test]
fn no_input_ten_seconds_after_the_bot_finished_and_again_after_the_next_reply() {
    let mut h = Harness::default();
    let at = h.at(0);
    h.input(TurnInput::BotStarted { utterance: 1, at });
    h.audio(2000, false);
    let at = h.at(h.ms);
    h.input(TurnInput::BotFinished { utterance: 1, at });
    h.audio(9_980, false);
    assert!(h.events(TurnEvent::NoInput).is_empty());
    h.audio(40, false);
    assert_eq!(h.events(TurnEvent::NoInput), vec![12_000]);
    // "Are you still there?" plays; silence again after it
    let at = h.at(h.ms);
    h.input(TurnInput::BotStarted { utterance: 2, at });
    h.audio(1000, false);
    let at = h.at(h.ms);
    h.input(TurnInput::BotFinished { utterance: 2, at });
    h.audio(10_020, false);
    assert_eq!(h.events(TurnEvent::NoInput).len(), 2);
}

#[test]
fn listening_ack_in_a_long_turn_pause_never_over_speech() {
    let mut cfg = TurnConfig::from_dials(&TurnDials::all_on(), RATE);
    cfg.expect_transcripts = true;
    let mut h = Harness::new(cfg);
    h.audio(400, false);
    h.audio(3500, true);
    h.words("and", 3600, 3900); // unfinished: the turn goes on
    h.audio(700, false);
    h.audio(800, true);
    h.audio(2500, false);
    let acks = h.events(TurnEvent::ListeningAck { language: Lang::En });
    assert_eq!(acks.len(), 1, "{:?}", h.log);
    let eot = h.events(TurnEvent::EndOfTurn);
    assert_eq!(eot.len(), 1);
    assert!(acks[0] < eot[0]);
}

#[test]
fn time_never_runs_backwards() {
    let mut h = Harness::default();
    h.audio(400, false);
    h.audio(800, true);
    h.audio(200, false);
    let late = h.at(10_000);
    h.input(TurnInput::Timeout(late));
    let n = h.events(TurnEvent::EndOfTurn).len();
    assert_eq!(n, 1);
    // An older time afterwards changes nothing and emits nothing.
    let before = h.log.len();
    let old = h.at(100);
    h.input(TurnInput::Timeout(old));
    assert_eq!(h.log.len(), before);
    assert!(h.engine.next_timeout().is_none_or(|(at, _)| at >= late));
}

#[test]
fn adaptive_speed_reports_a_bounded_factor() {
    let mut cfg = TurnConfig::from_dials(&TurnDials::all_on(), RATE);
    cfg.expect_transcripts = true;
    let mut h = Harness::new(cfg);
    h.audio(400, false);
    h.audio(1200, true);
    for (k, w) in [
        "one", "two", "three", "four", "five", "six", "seven", "eight",
    ]
    .iter()
    .enumerate()
    {
        let s = 400 + k as i64 * 150;
        h.words(w, s, s + 140);
    }
    h.audio(2500, false);
    let f: Vec<f32> = h
        .log
        .iter()
        .filter_map(|(_, o)| match o {
            TurnOutput::Event {
                event: TurnEvent::SpeakingRate { factor },
                ..
            } => Some(*factor),
            _ => None,
        })
        .collect();
    assert_eq!(f.len(), 1);
    let c = h.engine.config();
    assert!(f[0] >= c.rate_factor_min && f[0] <= c.rate_factor_max);
    assert!(f[0] > 1.0, "8 words in 1.2 s is fast: {}", f[0]);
}

#[test]
fn a_yes_to_a_yes_or_no_question_ends_the_turn_after_the_short_wait() {
    let end_of_turn = |expecting: Expectation| {
        let mut cfg = TurnConfig::from_dials(&TurnDials::all_on(), RATE);
        cfg.expect_transcripts = true;
        let mut h = Harness::new(cfg);
        let at = h.at(0);
        h.input(TurnInput::Expecting {
            what: expecting,
            at,
        });
        h.audio(400, false);
        h.audio(1200, true);
        h.words("yes", 400, 700);
        h.words("please", 750, 1100);
        h.words("book", 1150, 1400);
        h.words("it", 1450, 1600);
        h.audio(1500, false);
        h.events(TurnEvent::EndOfTurn)[0] - h.last_speech_end()
    };
    let min = i64::from(DEFAULT_MIN_DELAY_MS);
    let yes_no = end_of_turn(Expectation::YesNo);
    assert!((min..=min + 20).contains(&yes_no), "{yes_no}");
    // Asked anything else, "… book it" is a neutral ending.
    let anything = end_of_turn(Expectation::Anything);
    assert!(anything >= i64::from(DEFAULT_EOT_SILENCE_MS), "{anything}");
}
