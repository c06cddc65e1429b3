//! The caller's inbound audio path in front of the engine: decode (G.711 or
//! L16 already decoded), frame to 20 ms at the input rate, resample to the
//! engine rate, hand each frame to [`TurnEngine`] with its time.
//!
//! Frame times come from the sample count since `stream_start`, not from
//! arrival times, so jitter in the websocket does not jitter the VAD. Every
//! buffer is sized in [`InboundAudio::new`]; pushing audio allocates nothing.

use super::{TurnEngine, TurnInput};
use crate::core::audio::{Framer, ResampleError, StreamResampler, g711};
use std::time::{Duration, Instant};

/// Input frame length.
pub const FRAME_MS: u32 = 20;
/// Decode scratch: G.711 bytes decoded per step.
const DECODE_CHUNK: usize = 512;

/// Framing + resampling in front of one engine.
#[derive(Debug)]
pub struct InboundAudio {
    input_rate: u32,
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
    /// Audio at `input_rate` for an engine at `engine_rate`, whose first
    /// sample was captured at `stream_start`.
    pub fn new(
        input_rate: u32,
        engine_rate: u32,
        stream_start: Instant,
    ) -> Result<Self, ResampleError> {
        let framer = Framer::new(input_rate, FRAME_MS, 2000);
        let frame_len = framer.frame_len();
        let resampler = if input_rate == engine_rate {
            None
        } else {
            Some(StreamResampler::new(input_rate, engine_rate, frame_len)?)
        };
        let out_len = resampler.as_ref().map_or(frame_len, |r| r.output_max());
        Ok(Self {
            input_rate,
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

    /// Added latency of the resampler, ms (0 without one).
    pub fn resampler_delay_ms(&self) -> f64 {
        self.resampler.as_ref().map_or(0.0, |r| r.delay_ms())
    }

    /// The engine's sample rate.
    pub fn engine_rate(&self) -> u32 {
        self.engine_rate
    }

    /// Feed G.711 mu-law bytes.
    pub fn push_mulaw(&mut self, bytes: &[u8], engine: &mut TurnEngine) {
        self.push_g711(bytes, engine, g711::mulaw_decode);
    }

    /// Feed G.711 A-law bytes.
    pub fn push_alaw(&mut self, bytes: &[u8], engine: &mut TurnEngine) {
        self.push_g711(bytes, engine, g711::alaw_decode);
    }

    fn push_g711(&mut self, bytes: &[u8], engine: &mut TurnEngine, decode: fn(u8) -> i16) {
        for chunk in bytes.chunks(DECODE_CHUNK) {
            let mut decoded = std::mem::take(&mut self.decoded);
            for (d, &b) in decoded.iter_mut().zip(chunk) {
                *d = decode(b);
            }
            self.push_pcm(&decoded[..chunk.len()], engine);
            self.decoded = decoded;
        }
    }

    /// Feed linear PCM at the input rate, any chunk size.
    pub fn push_pcm(&mut self, mut samples: &[i16], engine: &mut TurnEngine) {
        while !samples.is_empty() {
            let kept = self.framer.push(samples);
            samples = &samples[kept..];
            self.drain(engine);
            if kept == 0 {
                break;
            }
        }
    }

    fn drain(&mut self, engine: &mut TurnEngine) {
        while self.framer.pop_frame(&mut self.frame) {
            let at = self.stream_start + Duration::from_millis(self.frames * u64::from(FRAME_MS));
            self.frames += 1;
            let samples: &[i16] = match self.resampler.as_mut() {
                Some(r) => {
                    let n = r.process(&self.frame, &mut self.resampled);
                    &self.resampled[..n]
                }
                None => &self.frame,
            };
            engine.handle_input(TurnInput::CallerAudio { samples, at });
        }
    }

    /// Frames handed to the engine so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Input rate.
    pub fn input_rate(&self) -> u32 {
        self.input_rate
    }
}
