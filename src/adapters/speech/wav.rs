//! Minimal RIFF/WAVE for what we exchange: 16-bit PCM or G.711 µ-law, mono.
//! espeak-ng writes it on stdout (with an unknown length), whisper servers
//! take it, and the simulated caller reads and writes it.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WavError {
    #[error("not a RIFF/WAVE file")]
    NotWav,
    #[error("unsupported WAV format: {0}")]
    Unsupported(String),
    #[error("WAV file is truncated")]
    Truncated,
}

/// Decoded mono audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wav {
    pub sample_rate: u32,
    pub samples: Vec<i16>,
}

/// Parses a WAV file: PCM 16-bit (format 1) or µ-law (format 7), mono or the
/// first channel of several. A data chunk whose length runs past the end
/// (streamed output) is taken up to the end.
pub fn parse(bytes: &[u8]) -> Result<Wav, WavError> {
    if bytes.len() < 12 || bytes.get(0..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
        return Err(WavError::NotWav);
    }
    let mut pos = 12;
    let mut fmt: Option<(u16, u16, u32, u16)> = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let len = u32::from_le_bytes([
            bytes[pos + 4],
            bytes[pos + 5],
            bytes[pos + 6],
            bytes[pos + 7],
        ]) as usize;
        let body_start = pos + 8;
        let body_end = body_start.saturating_add(len).min(bytes.len());
        let body = &bytes[body_start..body_end];
        match id {
            b"fmt " => {
                if body.len() < 16 {
                    return Err(WavError::Truncated);
                }
                let format = u16::from_le_bytes([body[0], body[1]]);
                let channels = u16::from_le_bytes([body[2], body[3]]);
                let rate = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
                let bits = u16::from_le_bytes([body[14], body[15]]);
                fmt = Some((format, channels.max(1), rate, bits));
            }
            b"data" => {
                let (format, channels, sample_rate, bits) = fmt.ok_or(WavError::Truncated)?;
                let channels = usize::from(channels);
                let samples: Vec<i16> = match (format, bits) {
                    (1, 16) | (0xFFFE, 16) => body
                        .chunks_exact(2 * channels)
                        .map(|c| i16::from_le_bytes([c[0], c[1]]))
                        .collect(),
                    (7, 8) => body
                        .chunks_exact(channels)
                        .map(|c| mulaw_to_linear(c[0]))
                        .collect(),
                    _ => {
                        return Err(WavError::Unsupported(format!(
                            "format {format}, {bits} bits"
                        )));
                    }
                };
                if sample_rate == 0 {
                    return Err(WavError::Unsupported("0 Hz".into()));
                }
                return Ok(Wav {
                    sample_rate,
                    samples,
                });
            }
            _ => {}
        }
        pos = body_start.saturating_add(len + (len & 1));
    }
    Err(WavError::Truncated)
}

/// Writes 16-bit PCM mono.
pub fn write_pcm16(sample_rate: u32, samples: &[i16]) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&sample_rate.to_le_bytes());
    out.extend_from_slice(&(sample_rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// G.711 µ-law expansion (for µ-law WAV files only; the call path uses
/// `core::audio`).
fn mulaw_to_linear(code: u8) -> i16 {
    let u = !code;
    let t = ((i32::from(u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4);
    let v = if u & 0x80 != 0 { 0x84 - t } else { t - 0x84 };
    v as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcm_round_trips() {
        let samples: Vec<i16> = (0..1000).map(|i| (i * 37 % 2000 - 1000) as i16).collect();
        let bytes = write_pcm16(8000, &samples);
        assert_eq!(
            parse(&bytes),
            Ok(Wav {
                sample_rate: 8000,
                samples
            })
        );
    }

    #[test]
    fn streamed_length_is_taken_to_the_end() {
        let mut bytes = write_pcm16(22050, &[1, 2, 3]);
        bytes[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(parse(&bytes).unwrap().samples, vec![1, 2, 3]);
    }

    #[test]
    fn garbage_is_refused_not_panicked_on() {
        assert_eq!(parse(b"hello"), Err(WavError::NotWav));
        let bytes = write_pcm16(8000, &[1, 2]);
        assert!(parse(&bytes[..30]).is_err());
        for cut in 0..bytes.len() {
            let _ = parse(&bytes[..cut]);
        }
    }

    #[test]
    fn mulaw_expansion_is_symmetric() {
        assert_eq!(mulaw_to_linear(0xFF), 0);
        assert_eq!(mulaw_to_linear(0x00), -mulaw_to_linear(0x80));
    }
}
