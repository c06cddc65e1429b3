//! Minimal RIFF/WAVE reader for replays (`ratiba analyze`, evaluations):
//! mono or multi-channel 16-bit PCM, G.711 mu-law or A-law; channels other
//! than the first are dropped. Pure: it parses bytes the caller has read.

use super::g711;

/// Why a WAV could not be used (the file's fault).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WavError {
    #[error("not a RIFF/WAVE file")]
    NotWave,
    #[error("no fmt chunk before data")]
    NoFormat,
    #[error("no data chunk")]
    NoData,
    #[error("unsupported encoding: format tag {tag}, {bits} bits")]
    Unsupported { tag: u16, bits: u16 },
}

/// Decoded audio: first channel as 16-bit linear samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Wav {
    pub rate_hz: u32,
    pub samples: Vec<i16>,
}

/// Parse a WAV file's bytes.
pub fn parse(bytes: &[u8]) -> Result<Wav, WavError> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(WavError::NotWave);
    }
    let mut pos = 12;
    let mut fmt: Option<(u16, u16, u32, u16)> = None; // tag, channels, rate, bits
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
        if id == b"fmt " && body.len() >= 16 {
            let mut tag = u16::from_le_bytes([body[0], body[1]]);
            let channels = u16::from_le_bytes([body[2], body[3]]).max(1);
            let rate = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
            let bits = u16::from_le_bytes([body[14], body[15]]);
            if tag == 0xFFFE && body.len() >= 26 {
                // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID starts with the tag.
                tag = u16::from_le_bytes([body[24], body[25]]);
            }
            fmt = Some((tag, channels, rate, bits));
        } else if id == b"data" {
            let (tag, channels, rate, bits) = fmt.ok_or(WavError::NoFormat)?;
            let ch = usize::from(channels);
            let samples = match (tag, bits) {
                (1, 16) => body
                    .chunks_exact(2 * ch)
                    .map(|b| i16::from_le_bytes([b[0], b[1]]))
                    .collect(),
                (7, 8) => body
                    .chunks_exact(ch)
                    .map(|b| g711::mulaw_decode(b[0]))
                    .collect(),
                (6, 8) => body
                    .chunks_exact(ch)
                    .map(|b| g711::alaw_decode(b[0]))
                    .collect(),
                _ => return Err(WavError::Unsupported { tag, bits }),
            };
            return Ok(Wav {
                rate_hz: rate,
                samples,
            });
        }
        pos = body_start.saturating_add(len + (len & 1));
    }
    Err(WavError::NoData)
}

/// Build a mono 16-bit PCM WAV (for tests and fixtures).
pub fn encode_pcm16(rate_hz: u32, samples: &[i16]) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut v = Vec::with_capacity(44 + samples.len() * 2);
    v.extend_from_slice(b"RIFF");
    v.extend_from_slice(&(36 + data_len).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&rate_hz.to_le_bytes());
    v.extend_from_slice(&(rate_hz * 2).to_le_bytes());
    v.extend_from_slice(&2u16.to_le_bytes());
    v.extend_from_slice(&16u16.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        v.extend_from_slice(&s.to_le_bytes());
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcm16_round_trip_and_mulaw_file() {
        let w = parse(&encode_pcm16(8000, &[1, -2, 300])).unwrap();
        assert_eq!(
            w,
            Wav {
                rate_hz: 8000,
                samples: vec![1, -2, 300]
            }
        );
        let mut ulaw = encode_pcm16(8000, &[]);
        ulaw[20] = 7; // format tag mu-law
        ulaw[34] = 8; // bits
        ulaw.extend_from_slice(&[0xFF, 0x80]);
        let n = ulaw.len() as u32 - 44;
        ulaw[40..44].copy_from_slice(&n.to_le_bytes());
        assert_eq!(parse(&ulaw).unwrap().samples, vec![0, 32124]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert_eq!(parse(b"hello"), Err(WavError::NotWave));
        let mut w = encode_pcm16(8000, &[1, 2]);
        w[34] = 24;
        assert!(matches!(parse(&w), Err(WavError::Unsupported { .. })));
        assert_eq!(parse(&w[..36]), Err(WavError::NoData));
    }

    #[test]
    fn streamed_length_is_taken_to_the_end() {
        // espeak-ng on stdout cannot know the length and writes 0xFFFFFFFF.
        let mut bytes = encode_pcm16(22050, &[1, 2, 3]);
        bytes[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(parse(&bytes).unwrap().samples, vec![1, 2, 3]);
    }

    #[test]
    fn garbage_is_refused_not_panicked_on() {
        assert_eq!(parse(b"hello"), Err(WavError::NotWave));
        let bytes = encode_pcm16(8000, &[1, 2]);
        assert!(parse(&bytes[..30]).is_err());
        for cut in 0..bytes.len() {
            let _ = parse(&bytes[..cut]);
        }
    }
}
