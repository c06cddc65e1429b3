//! The caller's inbound audio path in front of the engine, the one a live
//! call and `ratiba analyze` both run: decode the line's bytes (G.711 or
//! L16), frame to 20 ms at the line's rate, resample only when the line is
//! neither 8 nor 16 kHz, and hand each frame to [`TurnEngine`] with its time.
//!
//! Frame times come from the sample count since `stream_start`, not from
//! arrival times, so jitter in the websocket does not jitter the VAD: this
//! count is the call's audio clock. Every buffer is sized in
//! [`InboundAudio::new`]; pushing audio allocates nothing.

use super::{TurnEngine, TurnInput};
use crate::core::audio::{Endian, Framer, ResampleError, StreamResampler, g711, pcm};
use std::time::{Duration, Instant};

/// Input frame length.
pub const FRAME_MS: u32 = 20;
/// Rate the engine runs at when the line is neither 8 nor 16 kHz.
pub const FALLBACK_ENGINE_RATE: u32 = 16_000;
/// Decode scratch: samples decoded per step.
const DECODE_CHUNK: usize = 1024;
/// Audio the framer holds at most (a stalled engine drops the newest).
const FRAMER_BUFFER_MS: u32 = 1000;

/// The rate the turn engine (and the recognizer) run at for a line at
/// `line_rate`: the line's own for telephone (8 kHz) and wideband (16 kHz)
/// audio, so no resampler sits on the per-frame path. Upsampling telephone
/// audio adds nothing the detector uses (it works below 4 kHz) and cost
/// a third of the per-frame time.
pub fn engine_rate(line_rate: u32) -> u32 {
    match line_rate {
        8_000 | 16_000 => line_rate,
        _ => FALLBACK_ENGINE_RATE,
    }
}

/// How the line's bytes encode samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineCodec {
    /// G.711 mu-law, one byte per sample.
    Mulaw,
    /// G.711 A-law, one byte per sample.
    Alaw,
    /// Signed 16-bit little-endian linear PCM.
    L16Le,
}

/// Framing + (rarely) resampling in front of one engine.
#[derive(Debug)]
pub struct InboundAudio {
    codec: LineCodec,
    line_rate: u32,
    engine_rate: u32,
    stream_start: Instant,
    framer: Framer,
    resampler: Option<StreamResampler>,
    decoded: Vec<i16>,
    frame: Vec<i16>,
    resampled: Vec<i16>,
    frames: u64,
}

impl InboundAudio {
    /// A line of `codec` at `line_rate` whose first sample was captured at
    /// `stream_start`; the engine runs at [`engine_rate`]`(line_rate)`.
    pub fn new(
        codec: LineCodec,
        line_rate: u32,
        stream_start: Instant,
    ) -> Result<Self, ResampleError> {
        Self::with_engine_rate(codec, line_rate, engine_rate(line_rate), stream_start)
    }

    /// The same with an explicit engine rate (benches of the resampled path).
    pub fn with_engine_rate(
        codec: LineCodec,
        line_rate: u32,
        engine_rate: u32,
        stream_start: Instant,
    ) -> Result<Self, ResampleError> {
        let framer = Framer::new(line_rate, FRAME_MS, FRAMER_BUFFER_MS);
        let frame_len = framer.frame_len();
        let resampler = if line_rate == engine_rate {
            None
        } else {
            Some(StreamResampler::new(line_rate, engine_rate, frame_len)?)
        };
        let out_len = resampler.as_ref().map_or(frame_len, |r| r.output_max());
        Ok(Self {
            codec,
            line_rate,
            engine_rate,
            stream_start,
            framer,
            resampler,
            decoded: vec![0; DECODE_CHUNK],
            frame: vec![0; frame_len],
            resampled: vec![0; out_len],
            frames: 0,
        })
    }

    /// The engine's (and the recognizer's) sample rate.
    pub fn engine_rate(&self) -> u32 {
        self.engine_rate
    }

    /// The line's sample rate.
    pub fn line_rate(&self) -> u32 {
        self.line_rate
    }

    /// Added latency of the resampler, ms (0 without one).
    pub fn resampler_delay_ms(&self) -> f64 {
        self.resampler.as_ref().map_or(0.0, |r| r.delay_ms())
    }

    /// The call's audio clock: milliseconds of caller audio handed on.
    pub fn clock_ms(&self) -> u64 {
        self.frames * u64::from(FRAME_MS)
    }

    /// Frames handed to the engine so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Feeds the line's bytes, any chunk size. Each whole frame goes to the
    /// engine, and to `tap` first with its start on the audio clock (ms):
    /// a recognizer hears exactly what the engine hears.
    pub fn push(&mut self, wire: &[u8], engine: &mut TurnEngine, mut tap: impl FnMut(&[i16], u64)) {
        let per_step = match self.codec {
            LineCodec::Mulaw | LineCodec::Alaw => DECODE_CHUNK,
            LineCodec::L16Le => DECODE_CHUNK * 2,
        };
        for chunk in wire.chunks(per_step) {
            let mut decoded = std::mem::take(&mut self.decoded);
            let n = match self.codec {
                LineCodec::Mulaw => g711::mulaw_decode_into(chunk, &mut decoded),
                LineCodec::Alaw => g711::alaw_decode_into(chunk, &mut decoded),
                LineCodec::L16Le => pcm::l16_decode_into(chunk, Endian::Little, &mut decoded),
            };
            self.push_pcm(&decoded[..n], engine, &mut tap);
            self.decoded = decoded;
        }
    }

    /// Feeds G.711 mu-law bytes (a line built with [`LineCodec::Mulaw`]).
    pub fn push_mulaw(&mut self, bytes: &[u8], engine: &mut TurnEngine) {
        debug_assert_eq!(self.codec, LineCodec::Mulaw);
        self.push(bytes, engine, |_, _| {});
    }

    /// Feeds linear PCM at the line's rate, any chunk size (a recording
    /// already decoded). Frames go on exactly as in [`Self::push`].
    pub fn push_pcm(
        &mut self,
        mut samples: &[i16],
        engine: &mut TurnEngine,
        mut tap: impl FnMut(&[i16], u64),
    ) {
        while !samples.is_empty() {
            let kept = self.framer.push(samples);
            samples = &samples[kept..];
            self.drain(engine, &mut tap);
            if kept == 0 {
                break;
            }
        }
    }

    fn drain(&mut self, engine: &mut TurnEngine, tap: &mut impl FnMut(&[i16], u64)) {
        while self.framer.pop_frame(&mut self.frame) {
            let at_ms = self.clock_ms();
            self.frames += 1;
            let samples: &[i16] = match self.resampler.as_mut() {
                Some(r) => {
                    let n = r.process(&self.frame, &mut self.resampled);
                    &self.resampled[..n]
                }
                None => &self.frame,
            };
            if samples.is_empty() {
                continue; // the resampler's start-up delay
            }
            tap(samples, at_ms);
            let at = self.stream_start + Duration::from_millis(at_ms);
            engine.handle_input(TurnInput::CallerAudio { samples, at });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::turn::{TurnConfig, TurnDials};

    fn engine(rate: u32, t0: Instant) -> TurnEngine {
        TurnEngine::new(TurnConfig::from_dials(&TurnDials::all_on(), rate), t0)
    }

    #[test]
    fn telephone_and_wideband_lines_run_the_engine_at_their_own_rate() {
        assert_eq!(engine_rate(8_000), 8_000);
        assert_eq!(engine_rate(16_000), 16_000);
        assert_eq!(engine_rate(24_000), FALLBACK_ENGINE_RATE);
    }

    #[test]
    fn mulaw_8k_stays_8k_in_frames_on_a_20ms_clock() {
        let t0 = Instant::now();
        let mut e = engine(8_000, t0);
        let mut inb = InboundAudio::new(LineCodec::Mulaw, 8_000, t0).unwrap();
        assert_eq!(inb.engine_rate(), 8_000);
        let mut frames = Vec::new();
        inb.push(&[0xFF; 160 * 5 + 30], &mut e, |f, at| {
            frames.push((f.len(), at))
        });
        assert_eq!(frames.len(), 5);
        assert!(frames.iter().all(|(n, _)| *n == 160));
        assert_eq!(frames.last().map(|f| f.1), Some(80));
        assert_eq!(inb.clock_ms(), 100);
    }

    #[test]
    fn exotel_100ms_chunks_of_l16_are_split_into_frames() {
        let t0 = Instant::now();
        let mut e = engine(8_000, t0);
        let mut inb = InboundAudio::new(LineCodec::L16Le, 8_000, t0).unwrap();
        let mut n = 0;
        inb.push(&[0u8; 1600], &mut e, |_, _| n += 1);
        assert_eq!(n, 5);
    }

    #[test]
    fn a_line_at_another_rate_is_resampled_to_16k() {
        let t0 = Instant::now();
        let mut e = engine(16_000, t0);
        let mut inb = InboundAudio::new(LineCodec::L16Le, 24_000, t0).unwrap();
        assert_eq!(inb.engine_rate(), 16_000);
        let mut samples = 0;
        inb.push(&vec![0u8; 480 * 2 * 50], &mut e, |f, _| samples += f.len());
        // One second in, about a second out (less the resampler's delay).
        assert!((14_000..=16_000).contains(&samples), "{samples}");
    }
}
