//! Voice activity detection for telephone audio, chosen by measurement (see
//! `docs/turn-taking.md` and `examples/vad_eval.rs`).
//!
//! [`SpectralVad`] is our own detector. Per frame it computes
//!
//! * the energy of the signal high-passed at 200 Hz (hum and rumble out),
//! * a noise floor that follows the quietest frames of the last few seconds
//!   (falls at once, rises only when the whole window was louder), so
//!   stationary noise of any colour, line hum and distant babble sit *at* the
//!   floor rather than above it,
//! * voicing: the peak normalised autocorrelation over pitch lags 70-400 Hz of
//!   the 200-1000 Hz band, decimated to about 4 kHz (coughs, breaths, clicks,
//!   rustle and hiss are aperiodic; vowels are not),
//! * the dominant frequency from zero crossings (fricatives and breath are
//!   high, voiced speech low).
//!
//! A speech run starts only after several voiced frames well above the floor
//! within a short window (so a cough's voiced moment, a click or a babble
//! peak does not start one) and continues while frames stay speech-like; it
//! ends after a hangover. Each frame reports both the smoothed state and the
//! raw evidence, because the turn engine wants the raw "first sign of speech"
//! for its tentative pause and the smoothed state for everything else.
//!
//! Works at any rate whose frames it is fed (8 and 16 kHz tested), with any
//! frame length; per frame it does a fixed amount of arithmetic and no
//! allocation.

mod features;
mod model;
mod weights;

pub use features::{FeatureExtractor, FrameFeatures};
pub use model::SpeechModel;

/// Tunable thresholds of [`SpectralVad`]. Defaults are the measured ones.
#[derive(Debug, Clone, PartialEq)]
pub struct VadConfig {
    /// Frame energy above the noise floor (dB) for a frame to be "active".
    pub active_snr_db: f32,
    /// Energy above the floor (dB) for an unvoiced frame to count as speech
    /// inside a run (fricatives between vowels).
    pub strong_snr_db: f32,
    /// Normalised autocorrelation for a frame to be "voiced".
    pub voicing_threshold: f32,
    /// Inside a run, an active frame at least this periodic keeps it going.
    pub keep_voicing_threshold: f32,
    /// Voiced active frames needed within [`Self::onset_window_ms`] to start
    /// a run.
    pub onset_voiced_ms: u32,
    /// Among them, frames at least this periodic (vowels are; babble and
    /// coughs rarely are).
    pub strong_voicing: f32,
    /// How many strongly voiced frames an onset needs.
    pub onset_strong_frames: u32,
    /// Consecutive voiced frames must agree on pitch within this ratio
    /// (octave jumps allowed) for the onset to count.
    pub pitch_tolerance: f32,
    /// Window for the onset count.
    pub onset_window_ms: u32,
    /// Within this long after a run, a new one starts on less evidence (the
    /// same talker going on after a pause).
    pub continuation_window_ms: u32,
    /// Voiced time a continuation onset needs.
    pub continuation_voiced_ms: u32,
    /// Silence (no speech-like frame) that ends a run.
    pub hangover_ms: u32,
    /// Noise floor window (the floor is the quietest frame in it).
    pub floor_window_ms: u32,
    /// Floor never goes below this (dBFS).
    pub floor_min_dbfs: f32,
    /// The learned model's probability a voiced frame needs to count as
    /// speech evidence (0 disables the model).
    pub model_min_p: f32,
    /// The same, within a run or [`Self::continuation_window_ms`] after one.
    pub model_continue_p: f32,
    /// A frame the model is this sure of counts as strongly voiced.
    pub model_sure_p: f32,
    /// Line-signal veto: from the fifth periodic frame in a row (voicing
    /// at least [`Self::keep_voicing_threshold`], active) on, a frame is
    /// "steady" when its pitch-band autocorrelation and its predecessor's
    /// both changed by at most this ([`FrameFeatures::pitch_acf_change`],
    /// 60 ms): a tone, dual tone or hum holds its fine spectral shape, a
    /// voice moves it. An onset waits while at least as many judged frames
    /// of its window are steady as are not (0 disables). Set at the 0.1 %
    /// point of that statistic on corpus speech.
    pub steady_acf_change: f32,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self {
            active_snr_db: 9.0,
            strong_snr_db: 14.0,
            voicing_threshold: 0.6,
            keep_voicing_threshold: 0.4,
            onset_voiced_ms: 60,
            strong_voicing: 0.8,
            onset_strong_frames: 2,
            pitch_tolerance: 0.15,
            onset_window_ms: 100,
            continuation_window_ms: 1500,
            continuation_voiced_ms: 40,
            hangover_ms: 160,
            floor_window_ms: 3000,
            floor_min_dbfs: -85.0,
            model_min_p: 0.5,
            model_continue_p: 0.3,
            model_sure_p: 0.95,
            steady_acf_change: 0.027,
        }
    }
}

/// What the VAD says about one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VadFrame {
    /// Smoothed state: inside a speech run.
    pub speech: bool,
    /// A run started on this frame.
    pub started: bool,
    /// A run ended on this frame (after the hangover).
    pub ended: bool,
    /// Raw evidence: this frame alone looks like voiced speech.
    pub voiced: bool,
    /// Raw evidence: this frame is well above the noise floor.
    pub active: bool,
    /// Time (ms, input clock) the current or last run's speech began.
    pub run_start_ms: i64,
    /// Time (ms) at the end of the last speech-like frame.
    pub last_speech_ms: i64,
    /// The frame's features.
    pub features: FrameFeatures,
    /// The learned model's probability that this frame is caller speech.
    pub p_speech: f32,
}

#[derive(Debug, Clone, Copy, Default)]
struct Recent {
    end_ms: i64,
    voiced: bool,
    tonal: bool,
    zc_hz: f32,
    level_db: f32,
    strong: bool,
    continuous: bool,
    pitch_hz: f32,
    /// Consecutive periodic active frames up to this one (the
    /// line-signal veto's frames).
    periodic_run: u32,
    /// The frame's [`FrameFeatures::pitch_acf_change`].
    acf_change: f32,
    /// Judged, and nothing moved over 60 ms (a line signal).
    steady: bool,
    /// Judged, and the sound moved (a voice).
    moving: bool,
}

/// Periodic frames in a row before the first change free of the sound's
/// start; frames after it are judged steady or moving.
const MATURE_RUN: u32 = 4;

fn pitch_agrees(a: f32, b: f32, tol: f32) -> bool {
    if a <= 0.0 || b <= 0.0 {
        return false;
    }
    let r = if a > b { a / b } else { b / a };
    (r - 1.0).abs() <= tol || (r - 2.0).abs() <= 2.0 * tol
}

/// Our energy + periodicity detector with an adaptive noise floor.
#[derive(Debug, Clone)]
pub struct SpectralVad {
    cfg: VadConfig,
    fx: FeatureExtractor,
    model: SpeechModel,
    in_speech: bool,
    /// Recent frames for the onset count.
    recent: [Recent; 16],
    recent_pos: usize,
    run_start_ms: i64,
    last_speech_ms: i64,
    first_voiced_ms: Option<i64>,
    /// Frames quieter than this (dBFS) are not caller sound, whatever the
    /// floor (the turn engine's echo gate; `-inf` = off).
    gate_db: f32,
}

impl SpectralVad {
    /// A detector for frames at `rate_hz`.
    pub fn new(rate_hz: u32, cfg: VadConfig) -> Self {
        let fx = FeatureExtractor::new(
            rate_hz,
            cfg.floor_window_ms,
            cfg.floor_min_dbfs,
            cfg.active_snr_db,
        );
        Self {
            cfg,
            fx,
            model: SpeechModel::default(),
            in_speech: false,
            recent: [Recent::default(); 16],
            recent_pos: 0,
            run_start_ms: 0,
            last_speech_ms: i64::MIN / 2,
            first_voiced_ms: None,
            gate_db: f32::NEG_INFINITY,
        }
    }

    /// From the next frame on, frames under `db` (dBFS) are not caller
    /// sound at all (line echo of the bot; `f32::NEG_INFINITY` = no gate).
    pub fn set_gate_db(&mut self, db: f32) {
        self.gate_db = db;
    }

    /// The configuration in use.
    pub fn config(&self) -> &VadConfig {
        &self.cfg
    }

    /// Whether a run is open.
    pub fn in_speech(&self) -> bool {
        self.in_speech
    }

    /// Feed one frame whose first sample is at `start_ms` (input clock).
    pub fn process(&mut self, samples: &[i16], start_ms: i64) -> VadFrame {
        let f = self.fx.process(samples);
        let p_speech = self.model.process(&f);
        let dur_ms = (samples.len() as i64 * 1000) / i64::from(self.fx.rate_hz().max(1));
        let end_ms = start_ms + dur_ms;
        let audible = f.level_db >= self.gate_db;
        let active = audible && f.snr_db >= self.cfg.active_snr_db;
        // The learned model vetoes tones and noises that are periodic, and
        // vouches for weakly periodic frames it is sure of (a low voice
        // near the bottom of the pitch range).
        // The same talker going on (inside a run or just after one) needs
        // less of the model's confidence than a new onset.
        let dur_ms_now = (samples.len() as i64 * 1000) / i64::from(self.fx.rate_hz().max(1));
        let going_on = self.in_speech
            || start_ms + dur_ms_now - self.last_speech_ms
                <= i64::from(self.cfg.continuation_window_ms);
        let min_p = if going_on {
            self.cfg.model_continue_p
        } else {
            self.cfg.model_min_p
        };
        let sure = p_speech >= self.cfg.model_sure_p;
        let voiced = active
            && p_speech >= min_p
            && (f.voicing >= self.cfg.voicing_threshold
                || (sure && f.voicing >= self.cfg.keep_voicing_threshold));
        // Inside a run, less evidence keeps it going than starts one: loud
        // frames (fricatives between vowels) and weakly voiced ones (the
        // fading nasal at the end of a word).
        let speech_like = voiced
            || (self.in_speech
                && ((audible && f.snr_db >= self.cfg.strong_snr_db)
                    || (active && f.voicing >= self.cfg.keep_voicing_threshold)));

        let prev = self.recent[(self.recent_pos + self.recent.len() - 1) % self.recent.len()];
        // A steady pure tone (line tones, 425 Hz) is perfectly periodic but
        // has no jitter: same zero-crossing rate and level frame after frame.
        let tonal = voiced
            && f.voicing >= 0.95
            && prev.zc_hz > 0.0
            && (f.zc_hz - prev.zc_hz).abs() <= 0.02 * prev.zc_hz
            && (f.level_db - prev.level_db).abs() <= 1.0;
        let continuous = voiced
            && prev.voiced
            && prev.end_ms == start_ms
            && pitch_agrees(prev.pitch_hz, f.pitch_hz, self.cfg.pitch_tolerance);
        // Line signals (tones of any pitch, dual tones, clipped tones, hum)
        // hold the fine spectral shape of the pitch band from frame to
        // frame; a voice's pitch and formants move it.
        let periodic = active && f.voicing >= self.cfg.keep_voicing_threshold;
        let periodic_run = if !periodic {
            0
        } else if prev.end_ms == start_ms {
            prev.periodic_run + 1
        } else {
            1
        };
        // The pitch-band autocorrelation spans ~35 ms, so the first two
        // frames of a sound still see what came before it: the change of
        // the fourth periodic frame is the first free of the start, and a
        // frame is judged from the fifth on, over its own change and its
        // predecessor's (three frames, 60 ms): both small is steady.
        let paired = periodic_run > MATURE_RUN;
        let steady = paired
            && self.cfg.steady_acf_change > 0.0
            && f.pitch_acf_change.max(prev.acf_change) <= self.cfg.steady_acf_change;
        self.recent[self.recent_pos] = Recent {
            end_ms,
            voiced,
            tonal,
            zc_hz: f.zc_hz,
            level_db: f.level_db,
            strong: voiced && (f.voicing >= self.cfg.strong_voicing || sure),
            continuous,
            pitch_hz: f.pitch_hz,
            periodic_run,
            acf_change: f.pitch_acf_change,
            steady,
            moving: paired && !steady,
        };
        self.recent_pos = (self.recent_pos + 1) % self.recent.len();

        let mut started = false;
        let mut ended = false;
        if self.in_speech {
            if speech_like || (active && end_ms - self.last_speech_ms < 60) {
                self.last_speech_ms = end_ms;
            } else if end_ms - self.last_speech_ms >= i64::from(self.cfg.hangover_ms) {
                self.in_speech = false;
                ended = true;
            }
        } else {
            let window_start = end_ms - i64::from(self.cfg.onset_window_ms);
            let in_window = self.recent.iter().filter(|r| r.end_ms > window_start);
            let (mut n_voiced, mut n_strong, mut n_cont, mut n_tonal) = (0i64, 0u32, 0u32, 0u32);
            let (mut n_steady, mut n_moving) = (0u32, 0u32);
            for r in in_window {
                n_steady += u32::from(r.steady);
                n_moving += u32::from(r.moving);
                n_voiced += i64::from(r.voiced);
                n_tonal += u32::from(r.tonal);
                n_strong += u32::from(r.strong);
                n_cont += u32::from(r.continuous);
            }
            let voiced_ms = n_voiced * dur_ms.max(1);
            if voiced && self.first_voiced_ms.is_none_or(|t| t < window_start) {
                self.first_voiced_ms = Some(start_ms);
            }
            let continuing =
                end_ms - self.last_speech_ms <= i64::from(self.cfg.continuation_window_ms);
            let onset = if n_tonal >= 2 || (n_steady >= 1 && n_steady >= n_moving) {
                false
            } else if continuing {
                voiced_ms >= i64::from(self.cfg.continuation_voiced_ms) && n_strong >= 1
            } else {
                voiced_ms >= i64::from(self.cfg.onset_voiced_ms)
                    && n_strong >= self.cfg.onset_strong_frames
                    && n_cont >= 1
            };
            if onset {
                self.in_speech = true;
                started = true;
                self.run_start_ms = self.first_voiced_ms.unwrap_or(start_ms);
                self.last_speech_ms = end_ms;
                self.first_voiced_ms = None;
            }
        }
        VadFrame {
            speech: self.in_speech,
            started,
            ended,
            voiced,
            active,
            run_start_ms: self.run_start_ms,
            last_speech_ms: self.last_speech_ms,
            features: f,
            p_speech,
        }
    }

    /// The model's input vector of the last frame (for training dumps).
    pub fn model_inputs(&self) -> &[f32] {
        self.model.inputs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(signal: impl Fn(usize) -> f64, ms: usize) -> Vec<VadFrame> {
        let mut vad = SpectralVad::new(8000, VadConfig::default());
        let mut seed = 7u32;
        let x: Vec<i16> = (0..ms * 8)
            .map(|i| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let noise = f64::from((seed >> 16) & 0x7fff) / 16384.0 - 1.0;
                (signal(i) + 40.0 * noise) as i16
            })
            .collect();
        x.chunks(160)
            .enumerate()
            .map(|(k, f)| vad.process(f, k as i64 * 20))
            .collect()
    }

    #[test]
    fn a_line_tone_is_not_speech() {
        let tone = |i: usize| {
            if (8000..11200).contains(&i) {
                4000.0 * (2.0 * std::f64::consts::PI * 425.0 * i as f64 / 8000.0).sin()
            } else {
                0.0
            }
        };
        assert!(run(tone, 3000).iter().all(|f| !f.started));
    }

    fn starts(signal: impl Fn(usize) -> f64, ms: usize) -> usize {
        run(signal, ms).iter().filter(|f| f.started).count()
    }

    fn sine(hz: f64, i: usize) -> f64 {
        (2.0 * std::f64::consts::PI * hz * i as f64 / 8000.0).sin()
    }

    /// `on_off` cadence in ms (on, off, on, off, ...), repeated from 500 ms.
    fn cadence(i: usize, on_off: &[usize]) -> bool {
        let t_ms = i / 8;
        if t_ms < 500 {
            return false;
        }
        let period: usize = on_off.iter().sum();
        let mut t = (t_ms - 500) % period;
        for (k, d) in on_off.iter().enumerate() {
            if t < *d {
                return k % 2 == 0;
            }
            t -= d;
        }
        false
    }

    /// Line signals the model never saw in these exact forms: single tones
    /// of many pitches and lengths, the dual-tone dial, busy and ringback
    /// signals, and mains hum with harmonics switching on mid-call.
    #[test]
    fn tones_of_any_pitch_and_hum_with_harmonics_never_start_speech() {
        let on = |i: usize, from_ms: usize, to_ms: usize| (from_ms * 8..to_ms * 8).contains(&i);
        for hz in [250.0, 330.0, 425.0, 600.0, 850.0, 1000.0, 1400.0, 2000.0] {
            for len_ms in [200, 600, 1500] {
                let tone = |i: usize| {
                    if on(i, 1000, 1000 + len_ms) {
                        3000.0 * sine(hz, i)
                    } else {
                        0.0
                    }
                };
                assert_eq!(
                    starts(tone, 3500),
                    0,
                    "{hz} Hz for {len_ms} ms started speech"
                );
            }
        }
        let dual = |a: f64, b: f64, cadence_ms: usize| {
            move |i: usize| {
                let t_ms = i / 8;
                if t_ms < 500 || (cadence_ms > 0 && (t_ms / cadence_ms) % 2 == 1) {
                    return 0.0;
                }
                2000.0 * (sine(a, i) + sine(b, i))
            }
        };
        for (name, a, b, cadence) in [
            ("dial", 350.0, 440.0, 0),
            ("busy", 480.0, 620.0, 500),
            ("ringback", 440.0, 480.0, 2000),
        ] {
            assert_eq!(
                starts(dual(a, b, cadence), 6000),
                0,
                "{name} tone started speech"
            );
        }
        for mains in [50.0, 60.0] {
            let hum = |i: usize| {
                if i < 8000 {
                    return 0.0;
                }
                (1..=25)
                    .map(|k| 1500.0 / f64::from(k) * sine(mains * f64::from(k), i))
                    .sum::<f64>()
            };
            assert_eq!(starts(hum, 5000), 0, "{mains} Hz hum started speech");
        }
    }

    /// Issue 12's line signals: tones over the whole telephone band and
    /// from 40 ms to 4 s, clipped tones, an AM tone, a triple-tone cadence
    /// and SIT. (Still starting speech in this setting, see
    /// docs/turn-taking.md: tones under 500 Hz clipped to odd harmonics,
    /// and DTMF digits of 80 ms.)
    #[test]
    fn line_signals_of_the_whole_band_never_start_speech() {
        let on = |i: usize, from_ms: usize, to_ms: usize| (from_ms * 8..to_ms * 8).contains(&i);
        let mut failed = Vec::new();
        for hz in [
            150.0, 210.0, 300.0, 520.0, 780.0, 1200.0, 1800.0, 2600.0, 3400.0,
        ] {
            for len_ms in [40, 120, 400, 1200, 4000] {
                let tone = |i: usize| {
                    if on(i, 1000, 1000 + len_ms) {
                        3000.0 * sine(hz, i)
                    } else {
                        0.0
                    }
                };
                if starts(tone, len_ms + 2500) > 0 {
                    failed.push(format!("{hz} Hz for {len_ms} ms"));
                }
            }
        }
        for hz in [1000.0, 2200.0] {
            // clipped at a third of its peak: odd harmonics
            let clipped = |i: usize| {
                if on(i, 1000, 2500) {
                    (9000.0 * sine(hz, i)).clamp(-3000.0, 3000.0)
                } else {
                    0.0
                }
            };
            if starts(clipped, 4000) > 0 {
                failed.push(format!("{hz} Hz clipped"));
            }
        }
        // 400 Hz x 25 Hz AM in the Indian ringback cadence
        let am = |i: usize| {
            if !cadence(i, &[400, 200, 400, 2000]) {
                return 0.0;
            }
            3000.0 * (0.5 + 0.5 * sine(25.0, i)) * sine(400.0, i)
        };
        if starts(am, 7000) > 0 {
            failed.push("AM 400 Hz x 25 Hz".into());
        }
        // three simultaneous tones in a ringback cadence
        let triple = |i: usize| {
            if !cadence(i, &[1000, 2000]) {
                return 0.0;
            }
            1400.0 * (sine(350.0, i) + sine(440.0, i) + sine(480.0, i))
        };
        if starts(triple, 7000) > 0 {
            failed.push("triple-tone ringback".into());
        }
        // SIT: 950, 1400, 1800 Hz, 330 ms each, then silence
        let sit = |i: usize| {
            let t = i / 8;
            let hz = match t {
                500..830 => 950.0,
                830..1160 => 1400.0,
                1160..1490 => 1800.0,
                _ => return 0.0,
            };
            3000.0 * sine(hz, i)
        };
        if starts(sit, 3000) > 0 {
            failed.push("SIT".into());
        }
        assert!(failed.is_empty(), "started speech: {failed:?}");
    }

    #[test]
    fn a_voiced_vowel_with_natural_jitter_is_speech() {
        let vowel = |i: usize| {
            if !(8000..16000).contains(&i) {
                return 0.0;
            }
            let t = i as f64 / 8000.0;
            // pitch glides 120 -> 150 Hz; rich harmonics
            let f0 = 120.0 + 30.0 * (t - 1.0);
            let p = 2.0 * std::f64::consts::PI * f0 * t;
            1500.0
                * (p.sin() + 0.8 * (3.0 * p).sin() + 0.9 * (5.0 * p).sin() + 0.5 * (8.0 * p).sin())
        };
        let frames = run(vowel, 3000);
        let start = frames.iter().position(|f| f.started).expect("speech start");
        // decided within 120 ms of the onset at 1000 ms
        assert!(start * 20 <= 1000 + 120, "started at {} ms", start * 20);
        assert!(frames.iter().filter(|f| f.ended).count() == 1);
    }

    /// A held vowel whose period jitters by ~1 % (a real voice's
    /// irregularity) at a steady 125 Hz is speech, veto or not.
    #[test]
    fn a_held_vowel_with_period_jitter_starts_speech() {
        let mut seed = 99u32;
        let mut phase = 0.0f64;
        let mut f0 = 125.0f64;
        let x: Vec<f64> = (0..3000 * 8)
            .map(|i| {
                if !(8000..16000).contains(&i) {
                    return 0.0;
                }
                let before = phase;
                phase += f0 / 8000.0;
                if phase.floor() > before.floor() {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    let r = f64::from((seed >> 16) & 0x7fff) / 16384.0 - 1.0;
                    f0 = 125.0 * (1.0 + 0.01 * r);
                }
                let p = 2.0 * std::f64::consts::PI * phase;
                1500.0
                    * (p.sin()
                        + 0.8 * (3.0 * p).sin()
                        + 0.9 * (5.0 * p).sin()
                        + 0.5 * (8.0 * p).sin())
            })
            .collect();
        let frames = run(|i| x[i], 3000);
        let start = frames.iter().position(|f| f.started).expect("speech start");
        assert!(start * 20 <= 1000 + 120, "started at {} ms", start * 20);
    }

    #[test]
    fn odd_and_empty_frames_are_harmless() {
        let mut vad = SpectralVad::new(16000, VadConfig::default());
        for (k, len) in [0usize, 1, 3, 319, 320, 1000, 0].into_iter().enumerate() {
            let f = vad.process(&vec![i16::MAX; len], k as i64 * 20);
            assert!(f.features.level_db.is_finite());
        }
    }
}
