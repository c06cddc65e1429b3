//! Audio at the edge of a call. Inbound, the provider's wire bytes go
//! through the core's [`crate::core::turn::InboundAudio`] (the same path
//! `ratiba analyze` runs): this module only names the line's codec.
//! Outbound, synthesized speech is turned into the provider's wire format.
//! Buffers are made once per call; per-frame work does not allocate.

use crate::adapters::speech::TtsAudio;
use crate::adapters::telephony::{AudioEncoding, AudioFormat};
use crate::core::audio::{Endian, Framer, StreamResampler, g711, pcm};
use crate::core::turn::LineCodec;

pub use crate::core::turn::engine_rate;

/// Frame length of the engine.
pub const FRAME_MS: u64 = crate::core::turn::inbound::FRAME_MS as u64;

/// The core's name for a line's encoding.
pub fn line_codec(format: AudioFormat) -> LineCodec {
    match format.encoding {
        AudioEncoding::Mulaw => LineCodec::Mulaw,
        AudioEncoding::Alaw => LineCodec::Alaw,
        AudioEncoding::L16 => LineCodec::L16Le,
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
