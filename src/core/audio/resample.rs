//! Streaming sample-rate conversion on rubato's synchronous FFT resampler.
//!
//! One [`StreamResampler`] per call and direction, built once: rubato's FFT
//! plans, the f32 staging buffers and the output buffer are all allocated in
//! [`StreamResampler::new`], so [`StreamResampler::process`] never touches the
//! heap. Input comes in fixed chunks (one 20 ms frame at the input rate, which
//! is what [`super::framer::Framer`] produces).
//!
//! **Delay.** The FFT resampler overlaps blocks, so its output lags its input
//! by [`StreamResampler::delay_output_samples`] samples at the output rate
//! (half the FFT output block). For 8 -> 16 kHz with 20 ms chunks that is 160
//! samples = 10 ms; [`StreamResampler::delay_ms`] gives it for any pair. The
//! turn engine takes frame times from the input side, so this delay only
//! shifts where in the resampled stream a sound appears, by a known amount.

use rubato::audioadapter_buffers::direct::SequentialSlice;
use rubato::{Fft, FixedSync, Resampler};

/// Why a resampler could not be built (our configuration, never input data).
#[derive(Debug, thiserror::Error)]
pub enum ResampleError {
    #[error(
        "unsupported resampling {from_hz} Hz -> {to_hz} Hz with {chunk} samples per chunk: {reason}"
    )]
    Construction {
        from_hz: u32,
        to_hz: u32,
        chunk: usize,
        reason: String,
    },
}

/// Mono streaming resampler with buffers made once.
pub struct StreamResampler {
    inner: Fft<f32>,
    from_hz: u32,
    to_hz: u32,
    chunk_in: usize,
    in_f32: Vec<f32>,
    out_f32: Vec<f32>,
}

impl std::fmt::Debug for StreamResampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamResampler")
            .field("from_hz", &self.from_hz)
            .field("to_hz", &self.to_hz)
            .field("chunk_in", &self.chunk_in)
            .finish()
    }
}

impl StreamResampler {
    /// A resampler taking exactly `chunk_in` samples at `from_hz` per call.
    pub fn new(from_hz: u32, to_hz: u32, chunk_in: usize) -> Result<Self, ResampleError> {
        let err = |reason: String| ResampleError::Construction {
            from_hz,
            to_hz,
            chunk: chunk_in,
            reason,
        };
        if chunk_in == 0 {
            return Err(err("empty chunk".into()));
        }
        let inner = Fft::<f32>::new(
            from_hz as usize,
            to_hz as usize,
            chunk_in,
            1,
            FixedSync::Input,
        )
        .map_err(|e| err(e.to_string()))?;
        let out_max = inner.output_frames_max();
        Ok(Self {
            inner,
            from_hz,
            to_hz,
            chunk_in,
            in_f32: vec![0.0; chunk_in],
            out_f32: vec![0.0; out_max],
        })
    }

    /// Input samples every call takes.
    pub fn chunk_in(&self) -> usize {
        self.chunk_in
    }

    /// Most output samples one call can produce (size `out` at least this).
    pub fn output_max(&self) -> usize {
        self.out_f32.len()
    }

    /// Output lag in samples at the output rate.
    pub fn delay_output_samples(&self) -> usize {
        self.inner.output_delay()
    }

    /// Output lag in milliseconds.
    pub fn delay_ms(&self) -> f64 {
        self.delay_output_samples() as f64 * 1000.0 / f64::from(self.to_hz)
    }

    /// Resample one chunk. `input` shorter than [`Self::chunk_in`] is padded
    /// with silence, longer input is cut (the framer never produces either).
    /// Writes into `out` and returns how many samples were written.
    pub fn process(&mut self, input: &[i16], out: &mut [i16]) -> usize {
        let n = input.len().min(self.chunk_in);
        for (d, &s) in self.in_f32[..n].iter_mut().zip(input) {
            *d = f32::from(s) / 32768.0;
        }
        self.in_f32[n..].fill(0.0);
        let out_len = self.out_f32.len();
        let (Ok(buf_in), Ok(mut buf_out)) = (
            SequentialSlice::new(&self.in_f32[..], 1, self.chunk_in),
            SequentialSlice::new_mut(&mut self.out_f32[..], 1, out_len),
        ) else {
            return 0;
        };
        let Ok((_, produced)) = self.inner.process_into_buffer(&buf_in, &mut buf_out, None) else {
            return 0;
        };
        let m = produced.min(out.len());
        for (d, &s) in out[..m].iter_mut().zip(&self.out_f32[..m]) {
            // `as` saturates; adding +-0.5 rounds without a libm call.
            let v = s * 32768.0;
            *d = (v + 0.5f32.copysign(v)) as i16;
        }
        m
    }
}

/// A whole recording at another rate, in 20 ms chunks (the output lags by
/// [`StreamResampler::delay_output_samples`]; the last chunk is padded).
pub fn resample_all(samples: &[i16], from_hz: u32, to_hz: u32) -> Result<Vec<i16>, ResampleError> {
    if from_hz == to_hz {
        return Ok(samples.to_vec());
    }
    let chunk = (from_hz as usize / 50).max(1);
    let mut r = StreamResampler::new(from_hz, to_hz, chunk)?;
    let mut out = Vec::with_capacity(samples.len() * to_hz as usize / from_hz as usize + 1024);
    let mut buf = vec![0i16; r.output_max()];
    for c in samples.chunks(chunk) {
        let n = r.process(c, &mut buf);
        out.extend_from_slice(&buf[..n]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(hz: f64, rate: u32, n: usize, start: usize) -> Vec<i16> {
        (start..start + n)
            .map(|i| {
                (8000.0 * (2.0 * std::f64::consts::PI * hz * i as f64 / f64::from(rate)).sin())
                    as i16
            })
            .collect()
    }

    #[test]
    fn upsample_8k_to_16k_keeps_a_tone_and_reports_its_delay() {
        let mut r = StreamResampler::new(8000, 16000, 160).unwrap();
        assert!(r.output_max() >= 320);
        let mut out = vec![0i16; r.output_max()];
        let mut all = Vec::new();
        for k in 0..20 {
            let n = r.process(&sine(1000.0, 8000, 160, k * 160), &mut out);
            assert_eq!(n, 320);
            all.extend_from_slice(&out[..n]);
        }
        let d = r.delay_output_samples();
        assert!(d > 0 && d <= 320, "delay {d}");
        assert!((r.delay_ms() - d as f64 / 16.0).abs() < 1e-9);
        // After the delay the output is the same tone at 16 kHz, shifted by d.
        let want = sine(1000.0, 16000, all.len(), 0);
        let mut max_err = 0i32;
        for i in 1000..all.len() - 10 {
            max_err = max_err.max((i32::from(all[i]) - i32::from(want[i - d])).abs());
        }
        assert!(max_err < 200, "max error {max_err}");
    }

    #[test]
    fn all_telephony_rate_pairs_build() {
        for (a, b) in [
            (8000, 16000),
            (16000, 8000),
            (22050, 16000),
            (24000, 16000),
            (48000, 16000),
            (16000, 24000),
            (16000, 48000),
            (16000, 22050),
            (8000, 48000),
        ] {
            let chunk = a as usize / 50;
            let mut r = StreamResampler::new(a, b, chunk).unwrap();
            let mut out = vec![0i16; r.output_max()];
            let mut total = 0;
            for _ in 0..50 {
                total += r.process(&vec![100i16; chunk], &mut out);
            }
            // One second in gives one second out, within one FFT block.
            let expect = b as usize;
            assert!(
                total <= expect && total + r.output_max() >= expect,
                "{a}->{b}: {total}"
            );
        }
    }

    #[test]
    fn short_input_is_padded_not_rejected() {
        let mut r = StreamResampler::new(8000, 16000, 160).unwrap();
        let mut out = vec![0i16; r.output_max()];
        assert_eq!(r.process(&[1, 2, 3], &mut out), 320);
        assert!(StreamResampler::new(8000, 16000, 0).is_err());
    }
}
