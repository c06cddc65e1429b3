//! Frame features for [`super::SpectralVad`]: band energy, adaptive noise
//! floor, voicing (autocorrelation pitch strength) and dominant frequency.

/// Features of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FrameFeatures {
    /// Energy of the 200 Hz high-passed frame, dBFS.
    pub level_db: f32,
    /// Current noise floor, dBFS.
    pub floor_db: f32,
    /// `level_db - floor_db`.
    pub snr_db: f32,
    /// Peak normalised autocorrelation over pitch lags (0..1).
    pub voicing: f32,
    /// Pitch in Hz at that peak (0 when not computed).
    pub pitch_hz: f32,
    /// Zero-crossing frequency of the high-passed frame, Hz.
    pub zc_hz: f32,
    /// Normalised autocorrelation of the high-passed frame at lags 1-4
    /// (its spectral shape in four numbers).
    pub acf: [f32; 4],
    /// Prediction gain of an order-4 linear predictor, dB: a pure or dual
    /// tone is predicted almost exactly (30+ dB), speech and noise are not
    /// (a few dB to ~20).
    pub tonality_db: f32,
    /// Change of the spectral shape since the previous frame (sum of the
    /// absolute differences of `acf`): near zero for steady tones and hum,
    /// large at every speech transition.
    pub shape_change: f32,
    /// Change of the pitch-band autocorrelation (lags of 70-400 Hz
    /// periods, every other lag) since the previous frame, mean absolute
    /// difference: the fine spectral shape's stationarity. A line signal
    /// (tones of any pitch, dual and AM tones, hum) keeps it; a voice's
    /// pitch and formants move it. 1 when either frame was too quiet for
    /// the voicing search.
    pub pitch_acf_change: f32,
}

/// Second-order IIR section (RBJ cookbook), direct form I.
#[derive(Debug, Clone, Copy)]
struct Biquad {
    b0: f32,
    b1: f32,
    b2: f32,
    a1: f32,
    a2: f32,
    x1: f32,
    x2: f32,
    y1: f32,
    y2: f32,
}

impl Biquad {
    fn new(rate: f32, hz: f32, high_pass: bool) -> Self {
        let w0 = 2.0 * std::f32::consts::PI * hz / rate;
        let (s, c) = w0.sin_cos();
        let alpha = s / (2.0 * std::f32::consts::FRAC_1_SQRT_2);
        let a0 = 1.0 + alpha;
        let (b0, b1, b2) = if high_pass {
            ((1.0 + c) / 2.0, -(1.0 + c), (1.0 + c) / 2.0)
        } else {
            ((1.0 - c) / 2.0, 1.0 - c, (1.0 - c) / 2.0)
        };
        Self {
            b0: b0 / a0,
            b1: b1 / a0,
            b2: b2 / a0,
            a1: -2.0 * c / a0,
            a2: (1.0 - alpha) / a0,
            x1: 0.0,
            x2: 0.0,
            y1: 0.0,
            y2: 0.0,
        }
    }

    #[inline]
    fn run(&mut self, x: f32) -> f32 {
        let y = self.b0 * x + self.b1 * self.x1 + self.b2 * self.x2
            - self.a1 * self.y1
            - self.a2 * self.y2;
        self.x2 = self.x1;
        self.x1 = x;
        self.y2 = self.y1;
        // Flush denormals so long silences stay fast.
        self.y1 = if y.abs() < 1e-20 { 0.0 } else { y };
        self.y1
    }
}

/// Pitch-path history length (decimated samples), a power of two.
const HIST: usize = 256;
/// Autocorrelation window (decimated samples).
const ACF_LEN: usize = 80;
/// Floor tracking: number of blocks in the window.
const FLOOR_BLOCKS: usize = 10;
/// Coarse pitch lags kept for [`FrameFeatures::pitch_acf_change`].
const COARSE: usize = 40;

/// Computes [`FrameFeatures`] frame after frame.
#[derive(Debug, Clone)]
pub struct FeatureExtractor {
    rate_hz: u32,
    hp: Biquad,
    /// Input samples averaged into one low-rate sample.
    pre: usize,
    /// Rate after that averaging (~8 kHz).
    low_rate: f32,
    lp1: Biquad,
    lp2: Biquad,
    decim: usize,
    phase: usize,
    box_sum: f32,
    hist: [f32; HIST],
    hist_pos: usize,
    min_lag: usize,
    max_lag: usize,
    eff_rate: f32,
    last_sign: bool,
    // floor: minimum of per-block minima over the window
    block_ms: f32,
    block_elapsed_ms: f32,
    block_min: f32,
    blocks: [f32; FLOOR_BLOCKS],
    block_pos: usize,
    blocks_filled: usize,
    floor_min_dbfs: f32,
    floor_db: f32,
    voicing_min_snr_db: f32,
    /// The last four high-passed samples (short-lag autocorrelation).
    lags: [f32; 4],
    prev_acf: [f32; 4],
    /// The last frame's coarse pitch-lag autocorrelation (valid if
    /// `coarse_valid`).
    coarse: [f32; COARSE],
    coarse_valid: bool,
}

impl FeatureExtractor {
    /// Extractor for `rate_hz` frames; the floor is the quietest frame of the
    /// last `floor_window_ms`.
    pub fn new(
        rate_hz: u32,
        floor_window_ms: u32,
        floor_min_dbfs: f32,
        voicing_min_snr_db: f32,
    ) -> Self {
        let rate = rate_hz.max(1000) as f32;
        let pre = ((rate / 8000.0).round() as usize).max(1);
        let low_rate = rate / pre as f32;
        let decim = ((low_rate / 4000.0).round() as usize).max(1);
        let eff_rate = low_rate / decim as f32;
        let min_lag = ((eff_rate / 400.0).floor() as usize).max(2);
        let max_lag = ((eff_rate / 70.0).ceil() as usize).min(HIST - ACF_LEN - 1);
        Self {
            rate_hz: rate_hz.max(1000),
            hp: Biquad::new(low_rate, 200.0, true),
            pre,
            low_rate,
            // Box-average down to ~4 kHz, then low-pass at the low rate.
            lp1: Biquad::new(eff_rate, 1000.0, false),
            lp2: Biquad::new(eff_rate, 1000.0, false),
            decim,
            phase: 0,
            box_sum: 0.0,
            hist: [0.0; HIST],
            hist_pos: 0,
            min_lag,
            max_lag,
            eff_rate,
            last_sign: false,
            block_ms: floor_window_ms.max(100) as f32 / FLOOR_BLOCKS as f32,
            block_elapsed_ms: 0.0,
            block_min: f32::INFINITY,
            blocks: [f32::INFINITY; FLOOR_BLOCKS],
            block_pos: 0,
            blocks_filled: 0,
            floor_min_dbfs,
            floor_db: f32::NAN,
            voicing_min_snr_db,
            lags: [0.0; 4],
            prev_acf: [0.0; 4],
            coarse: [0.0; COARSE],
            coarse_valid: false,
        }
    }

    /// Input rate.
    pub fn rate_hz(&self) -> u32 {
        self.rate_hz
    }

    /// Process one frame (any length; empty frames change nothing but the
    /// report).
    pub fn process(&mut self, samples: &[i16]) -> FrameFeatures {
        if samples.is_empty() {
            let floor = if self.floor_db.is_nan() {
                self.floor_min_dbfs
            } else {
                self.floor_db
            };
            return FrameFeatures {
                level_db: floor,
                floor_db: floor,
                ..FrameFeatures::default()
            };
        }
        let mut energy = 0.0f32;
        let mut crossings = 0u32;
        let mut r = [0.0f32; 4];
        let mut lags = self.lags;
        let mut n_low = 0usize;
        // Average groups of `pre` samples down to ~8 kHz first (telephone
        // speech has nothing above 4 kHz that the features need), then run
        // the filters at the low rate.
        let scale = 1.0 / (32768.0 * self.pre as f32);
        // Filter state in locals so it stays in registers across the loop.
        let (mut hp, mut lp1, mut lp2) = (self.hp, self.lp1, self.lp2);
        let (mut last_sign, mut box_sum, mut phase, mut hist_pos) =
            (self.last_sign, self.box_sum, self.phase, self.hist_pos);
        let decim = self.decim;
        let inv_decim = 1.0 / decim as f32;
        for group in samples.chunks(self.pre) {
            let sum: i32 = group.iter().map(|&v| i32::from(v)).sum();
            let h = hp.run(sum as f32 * scale);
            energy += h * h;
            for k in 0..4 {
                r[k] += h * lags[k];
            }
            lags = [h, lags[0], lags[1], lags[2]];
            let sign = h < 0.0;
            crossings += u32::from(sign != last_sign);
            last_sign = sign;
            n_low += 1;
            box_sum += h;
            phase += 1;
            if phase >= decim {
                phase = 0;
                let l = lp2.run(lp1.run(box_sum * inv_decim));
                box_sum = 0.0;
                self.hist[hist_pos] = l;
                hist_pos = (hist_pos + 1) & (HIST - 1);
            }
        }
        (self.hp, self.lp1, self.lp2) = (hp, lp1, lp2);
        self.lags = lags;
        let mut acf = [0.0f32; 4];
        if energy > 1e-12 {
            for k in 0..4 {
                acf[k] = (r[k] / energy).clamp(-1.0, 1.0);
            }
        }
        let tonality_db = prediction_gain_db(&acf);
        let shape_change: f32 = acf
            .iter()
            .zip(self.prev_acf.iter())
            .map(|(a, b)| (a - b).abs())
            .sum();
        self.prev_acf = acf;
        (self.last_sign, self.box_sum, self.phase, self.hist_pos) =
            (last_sign, box_sum, phase, hist_pos);
        let n = n_low.max(1) as f32;
        let level_db = (10.0 * (energy / n + 1e-12).log10()).max(-120.0);
        let frame_ms = samples.len() as f32 * 1000.0 / self.rate_hz as f32;
        self.update_floor(level_db, frame_ms);
        let floor_db = self.floor_db;
        let snr_db = level_db - floor_db;
        // Voicing only matters for frames loud enough to be "active".
        let (voicing, pitch_hz, pitch_acf_change) = if snr_db >= self.voicing_min_snr_db {
            self.voicing()
        } else {
            self.coarse_valid = false;
            (0.0, 0.0, 1.0)
        };
        FrameFeatures {
            level_db,
            floor_db,
            snr_db,
            voicing,
            pitch_hz,
            zc_hz: crossings as f32 * self.low_rate / (2.0 * n),
            acf,
            tonality_db,
            shape_change,
            pitch_acf_change,
        }
    }

    fn update_floor(&mut self, level_db: f32, frame_ms: f32) {
        self.block_min = self.block_min.min(level_db);
        self.block_elapsed_ms += frame_ms;
        if self.block_elapsed_ms >= self.block_ms {
            self.blocks[self.block_pos] = self.block_min;
            self.block_pos = (self.block_pos + 1) % FLOOR_BLOCKS;
            self.blocks_filled = (self.blocks_filled + 1).min(FLOOR_BLOCKS);
            self.block_min = f32::INFINITY;
            self.block_elapsed_ms = 0.0;
        }
        let mut m = self.block_min;
        for b in &self.blocks[..self.blocks_filled.clamp(1, FLOOR_BLOCKS)] {
            m = m.min(*b);
        }
        // Until the first block completes, the running minimum is all we have.
        let target = m.max(self.floor_min_dbfs);
        if self.floor_db.is_nan() || target < self.floor_db {
            self.floor_db = target;
        } else {
            // Rise smoothly toward a louder window minimum (new noise level).
            self.floor_db += (target - self.floor_db) * 0.05;
        }
    }

    /// Peak normalised autocorrelation of the latest pitch-band history,
    /// its pitch, and how much the coarse autocorrelation moved since the
    /// last frame.
    fn voicing(&mut self) -> (f32, f32, f32) {
        // Unroll the ring into time order: oldest..newest, last ACF_LEN +
        // max_lag samples.
        let span = ACF_LEN + self.max_lag;
        let mut buf = [0.0f32; HIST];
        let start = (self.hist_pos + HIST - span) % HIST;
        for (i, b) in buf[..span].iter_mut().enumerate() {
            *b = self.hist[(start + i) % HIST];
        }
        // Compare the newest ACF_LEN samples with the ones `lag` before.
        let cur = &buf[self.max_lag..span];
        let e0: f32 = cur.iter().map(|v| v * v).sum();
        if e0 <= 1e-12 {
            self.coarse_valid = false;
            return (0.0, 0.0, 1.0);
        }
        // Window energies from prefix sums of squares (one pass).
        let mut prefix = [0.0f32; HIST + 1];
        for i in 0..span {
            prefix[i + 1] = prefix[i] + buf[i] * buf[i];
        }
        // Coarse search on every other lag, then the neighbours of the best.
        let max_lag = self.max_lag;
        let corr = |lag: usize| -> f32 {
            let a = max_lag - lag;
            let past = &buf[a..span - lag];
            let el = prefix[a + ACF_LEN] - prefix[a];
            dot(cur, past) / (e0 * el.max(1e-12)).sqrt()
        };
        let mut best = 0.0f32;
        let mut best_lag = 0usize;
        let mut lag = self.min_lag;
        let mut coarse = [0.0f32; COARSE];
        let mut n_coarse = 0usize;
        let mut change = 0.0f32;
        while lag <= self.max_lag {
            let c = corr(lag);
            if n_coarse < COARSE {
                change += (c - self.coarse[n_coarse]).abs();
                coarse[n_coarse] = c;
                n_coarse += 1;
            }
            if c > best {
                best = c;
                best_lag = lag;
            }
            lag += 2;
        }
        let change = if self.coarse_valid && n_coarse > 0 {
            change / n_coarse as f32
        } else {
            1.0
        };
        self.coarse = coarse;
        self.coarse_valid = true;
        if best_lag > 0 {
            for l in [best_lag.saturating_sub(1), best_lag + 1] {
                if l >= self.min_lag && l <= self.max_lag {
                    let c = corr(l);
                    if c > best {
                        best = c;
                        best_lag = l;
                    }
                }
            }
        }
        let pitch = if best_lag > 0 {
            self.eff_rate / best_lag as f32
        } else {
            0.0
        };
        (best.min(1.0), pitch, change)
    }
}

/// Levinson-Durbin on `1, acf[0..4]`: the gain (dB) of the order-4
/// predictor, capped at 40 dB.
fn prediction_gain_db(acf: &[f32; 4]) -> f32 {
    let mut a = [0.0f32; 5];
    let mut err = 1.0f32;
    let r = [1.0, acf[0], acf[1], acf[2], acf[3]];
    for i in 1..=4 {
        let mut acc = r[i];
        for j in 1..i {
            acc -= a[j] * r[i - j];
        }
        let k = acc / err.max(1e-9);
        if !k.is_finite() || k.abs() >= 1.0 {
            return 40.0;
        }
        let prev = a;
        a[i] = k;
        for j in 1..i {
            a[j] = prev[j] - k * prev[i - j];
        }
        err *= 1.0 - k * k;
    }
    (-10.0 * err.max(1e-4).log10()).min(40.0)
}

#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let chunks = a.len() / 8;
    for k in 0..chunks {
        for j in 0..8 {
            acc[j] += a[k * 8 + j] * b[k * 8 + j];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for k in chunks * 8..a.len().min(b.len()) {
        s += a[k] * b[k];
    }
    s
}
