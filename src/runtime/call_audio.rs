//! Audio at the edge of a call: the provider's wire format on one side, the
//! engine's PCM frames of 20 ms at 8 or 16 kHz on the other (inbound), and
//! synthesized speech turned into the provider's wire format (outbound).
//! Buffers are made once per call; per-frame work does not allocate.

use crate::adapters::speech::TtsAudio;
use crate::adapters::telephony::{AudioEncoding, AudioFormat};
use crate::core::audio::{Endian, Framer, StreamResampler, g711, pcm};

/// Frame length of the engine.
pub const FRAME_MS: u64 = 20;
/// Rate the engine runs at when the line is neither 8 nor 16 kHz.
pub const FALLBACK_ENGINE_RATE: u32 = 16_000;

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

/// Wire bytes in, 20 ms engine frames out.
pub struct InboundAudio {
    format: AudioFormat,
    pcm: Vec<i16>,
    framer: Framer,
    frame: Vec<i16>,
    resampler: Option<StreamResampler>,
    out: Vec<i16>,
    engine_rate: u32,
    engine_frames: u64,
}

impl InboundAudio {
    pub fn new(format: AudioFormat) -> Result<Self, crate::core::audio::ResampleError> {
        let framer = Framer::new(format.sample_rate, FRAME_MS as u32, 1000);
        let chunk = framer.frame_len();
        let engine_rate = engine_rate(format.sample_rate);
        let resampler = if format.sample_rate == engine_rate {
            None
        } else {
            Some(StreamResampler::new(
                format.sample_rate,
                engine_rate,
                chunk,
            )?)
        };
        let engine_frame = (engine_rate as usize) * (FRAME_MS as usize) / 1000;
        let out_len = resampler
            .as_ref()
            .map_or(engine_frame, |r| r.output_max().max(engine_frame));
        Ok(Self {
            format,
            pcm: vec![0; 4096],
            framer,
            frame: vec![0; chunk],
            resampler,
            out: vec![0; out_len],
            engine_rate,
            engine_frames: 0,
        })
    }

    /// The rate of the frames handed out.
    pub fn engine_rate(&self) -> u32 {
        self.engine_rate
    }

    /// Decodes wire bytes and calls `on_frame(frame, at_ms)` for each whole
    /// engine frame, `at_ms` being the frame's start on the call's audio
    /// clock (20 ms per frame received).
    pub fn push(&mut self, wire: &[u8], mut on_frame: impl FnMut(&[i16], u64)) {
        let bps = self.format.bytes_per_sample();
        for chunk in wire.chunks(self.pcm.len() * bps) {
            let n = match self.format.encoding {
                AudioEncoding::Mulaw => g711::mulaw_decode_into(chunk, &mut self.pcm),
                AudioEncoding::Alaw => g711::alaw_decode_into(chunk, &mut self.pcm),
                AudioEncoding::L16 => pcm::l16_decode_into(chunk, Endian::Little, &mut self.pcm),
            };
            let mut offset = 0;
            while offset < n {
                let kept = self.framer.push(&self.pcm[offset..n]);
                offset += kept.max(1);
                while self.framer.pop_frame(&mut self.frame) {
                    let produced = match &mut self.resampler {
                        Some(r) => r.process(&self.frame, &mut self.out),
                        None => {
                            let n = self.frame.len().min(self.out.len());
                            self.out[..n].copy_from_slice(&self.frame[..n]);
                            n
                        }
                    };
                    if produced > 0 {
                        let at = self.engine_frames * FRAME_MS;
                        self.engine_frames += 1;
                        on_frame(&self.out[..produced], at);
                    }
                }
            }
        }
    }

    /// The call's audio clock: milliseconds of caller audio received.
    pub fn clock_ms(&self) -> u64 {
        self.engine_frames * FRAME_MS
    }
}

/// Synthesized audio in, provider wire bytes out.
pub struct OutboundAudio {
    format: AudioFormat,
    resampler: Option<(u32, StreamResampler, Framer)>,
    frame: Vec<i16>,
    out: Vec<i16>,
}

impl OutboundAudio {
    pub fn new(format: AudioFormat) -> Self {
        Self {
            format,
            resampler: None,
            frame: Vec::new(),
            out: Vec::new(),
        }
    }

    /// Converts one synthesized chunk, appending wire bytes to `wire`.
    pub fn push(&mut self, audio: &TtsAudio, wire: &mut Vec<u8>) {
        match audio {
            TtsAudio::Mulaw8k(bytes) => {
                if self.format == AudioFormat::MULAW_8K {
                    wire.extend_from_slice(bytes);
                } else {
                    let pcm: Vec<i16> = bytes.iter().map(|&b| g711::mulaw_decode(b)).collect();
                    self.push_pcm(8000, &pcm, wire);
                }
            }
            TtsAudio::Pcm {
                sample_rate,
                samples,
            } => self.push_pcm(*sample_rate, samples, wire),
        }
    }

    /// Flushes what the resampler still holds (end of a sentence).
    pub fn finish(&mut self, wire: &mut Vec<u8>) {
        if let Some((rate, _, framer)) = &mut self.resampler {
            let rate = *rate;
            let pad = framer.frame_len();
            let silence = vec![0i16; pad];
            // Push one frame of silence so the tail (and the resampler's
            // delay) comes out.
            self.push_pcm(rate, &silence, wire);
        }
    }

    fn push_pcm(&mut self, rate: u32, samples: &[i16], wire: &mut Vec<u8>) {
        if rate == self.format.sample_rate {
            encode(self.format, samples, wire);
            return;
        }
        if self.resampler.as_ref().is_none_or(|(r, _, _)| *r != rate) {
            let framer = Framer::new(rate, FRAME_MS as u32, 60_000);
            let Ok(resampler) =
                StreamResampler::new(rate, self.format.sample_rate, framer.frame_len())
            else {
                return;
            };
            self.frame = vec![0; framer.frame_len()];
            self.out = vec![0; resampler.output_max()];
            self.resampler = Some((rate, resampler, framer));
        }
        let Some((_, resampler, framer)) = &mut self.resampler else {
            return;
        };
        let mut offset = 0;
        while offset < samples.len() {
            offset += framer.push(&samples[offset..]).max(1);
            while framer.pop_frame(&mut self.frame) {
                let n = resampler.process(&self.frame, &mut self.out);
                encode(self.format, &self.out[..n], wire);
            }
        }
    }
}

fn encode(format: AudioFormat, samples: &[i16], wire: &mut Vec<u8>) {
    let start = wire.len();
    match format.encoding {
        AudioEncoding::Mulaw => {
            wire.resize(start + samples.len(), 0);
            g711::mulaw_encode_into(samples, &mut wire[start..]);
        }
        AudioEncoding::Alaw => {
            wire.resize(start + samples.len(), 0);
            g711::alaw_encode_into(samples, &mut wire[start..]);
        }
        AudioEncoding::L16 => {
            wire.resize(start + samples.len() * 2, 0);
            pcm::l16_encode_into(samples, Endian::Little, &mut wire[start..]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mulaw_8k_stays_8k_in_frames_on_a_20ms_clock() {
        let mut inb = InboundAudio::new(AudioFormat::MULAW_8K).unwrap();
        assert_eq!(inb.engine_rate(), 8_000);
        let mut frames = Vec::new();
        inb.push(&[0xFF; 160 * 5], |f, at| frames.push((f.len(), at)));
        assert_eq!(frames.len(), 5);
        assert!(frames.iter().all(|(n, _)| *n == 160));
        assert_eq!(frames.last().map(|f| f.1), Some(80));
        assert_eq!(inb.clock_ms(), 100);
    }

    #[test]
    fn exotel_100ms_chunks_are_split_into_frames() {
        let mut inb = InboundAudio::new(AudioFormat::L16_8K).unwrap();
        let mut n = 0;
        inb.push(&[0u8; 1600], |_, _| n += 1);
        assert_eq!(n, 5);
    }

    #[test]
    fn espeak_rate_is_resampled_to_the_call() {
        let mut out = OutboundAudio::new(AudioFormat::MULAW_8K);
        let mut wire = Vec::new();
        let samples: Vec<i16> = (0..22050)
            .map(|i| ((i as f32 * 0.05).sin() * 8000.0) as i16)
            .collect();
        out.push(
            &TtsAudio::Pcm {
                sample_rate: 22050,
                samples,
            },
            &mut wire,
        );
        out.finish(&mut wire);
        // One second of speech is ~8000 µ-law bytes.
        assert!((7800..=8400).contains(&wire.len()), "{}", wire.len());
    }

    #[test]
    fn mulaw_tts_passes_straight_through_to_a_mulaw_call() {
        let mut out = OutboundAudio::new(AudioFormat::MULAW_8K);
        let mut wire = Vec::new();
        out.push(&TtsAudio::Mulaw8k(vec![1, 2, 3]), &mut wire);
        assert_eq!(wire, vec![1, 2, 3]);
        let mut out = OutboundAudio::new(AudioFormat::L16_16K);
        let mut wire = Vec::new();
        out.push(&TtsAudio::Mulaw8k(vec![0xFF; 1600]), &mut wire);
        out.finish(&mut wire);
        assert!(wire.len() >= 6400, "{}", wire.len());
    }
}
