//! Per-frame level features: cheap numbers every later stage may want (the
//! analyze command prints them, the VAD has its own richer features).

/// Level summary of one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameLevel {
    /// RMS level in dB relative to full scale (-100 for digital silence).
    pub rms_dbfs: f32,
    /// Peak absolute sample in dBFS.
    pub peak_dbfs: f32,
    /// Zero crossings per sample, 0..=1.
    pub zero_crossing_rate: f32,
    /// Samples at or next to full scale.
    pub clipped: u32,
}

/// Floor used for digital silence.
pub const SILENCE_DBFS: f32 = -100.0;

/// Compute [`FrameLevel`] for one frame. An empty frame is silence.
pub fn frame_level(samples: &[i16]) -> FrameLevel {
    if samples.is_empty() {
        return FrameLevel {
            rms_dbfs: SILENCE_DBFS,
            peak_dbfs: SILENCE_DBFS,
            zero_crossing_rate: 0.0,
            clipped: 0,
        };
    }
    let mut energy = 0.0f64;
    let mut peak = 0i32;
    let mut crossings = 0u32;
    let mut clipped = 0u32;
    let mut prev_neg = samples[0] < 0;
    for &s in samples {
        let v = i32::from(s);
        energy += f64::from(v * v);
        peak = peak.max(v.abs());
        if v.abs() >= 32766 {
            clipped += 1;
        }
        let neg = s < 0;
        if neg != prev_neg {
            crossings += 1;
        }
        prev_neg = neg;
    }
    let n = samples.len() as f64;
    FrameLevel {
        rms_dbfs: to_dbfs((energy / n).sqrt()),
        peak_dbfs: to_dbfs(f64::from(peak)),
        zero_crossing_rate: crossings as f32 / samples.len() as f32,
        clipped,
    }
}

fn to_dbfs(amplitude: f64) -> f32 {
    if amplitude <= 0.0 {
        return SILENCE_DBFS;
    }
    ((20.0 * (amplitude / 32768.0).log10()) as f32).max(SILENCE_DBFS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_scale_square_is_zero_dbfs_and_silence_is_floor() {
        let sq: Vec<i16> = (0..160)
            .map(|i| if i % 2 == 0 { 32767 } else { -32768 })
            .collect();
        let l = frame_level(&sq);
        assert!(l.rms_dbfs > -0.01 && l.rms_dbfs <= 0.01, "{}", l.rms_dbfs);
        assert!(l.zero_crossing_rate > 0.99);
        assert_eq!(l.clipped, 160);
        let s = frame_level(&[0; 160]);
        assert_eq!(s.rms_dbfs, SILENCE_DBFS);
        assert_eq!(frame_level(&[]).peak_dbfs, SILENCE_DBFS);
    }

    #[test]
    fn minus_twenty_db_sine() {
        let a = 32768.0 * 0.1 * std::f64::consts::SQRT_2;
        let x: Vec<i16> = (0..1600)
            .map(|i| (a * (2.0 * std::f64::consts::PI * 440.0 * i as f64 / 8000.0).sin()) as i16)
            .collect();
        let l = frame_level(&x);
        assert!((l.rms_dbfs + 20.0).abs() < 0.1, "{}", l.rms_dbfs);
    }
}
