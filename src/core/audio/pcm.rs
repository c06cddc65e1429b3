//! L16: 16-bit linear PCM as raw bytes, little-endian (Twilio-free providers,
//! WAV bodies) or big-endian (the RFC 3551 network byte order Vonage's
//! `audio/l16` uses). Odd trailing bytes are never read: a half sample is
//! dropped rather than guessed.

/// Byte order of an L16 stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endian {
    Little,
    Big,
}

/// Decode L16 bytes into `out`. Returns the samples written: the smaller of
/// `bytes.len() / 2` and `out.len()`.
pub fn l16_decode_into(bytes: &[u8], endian: Endian, out: &mut [i16]) -> usize {
    let n = (bytes.len() / 2).min(out.len());
    for (o, b) in out[..n].iter_mut().zip(bytes.chunks_exact(2)) {
        let pair = [b[0], b[1]];
        *o = match endian {
            Endian::Little => i16::from_le_bytes(pair),
            Endian::Big => i16::from_be_bytes(pair),
        };
    }
    n
}

/// Encode samples as L16 bytes into `out`. Returns the bytes written (always
/// even).
pub fn l16_encode_into(samples: &[i16], endian: Endian, out: &mut [u8]) -> usize {
    let n = samples.len().min(out.len() / 2);
    for (o, &s) in out.chunks_exact_mut(2).zip(&samples[..n]) {
        let b = match endian {
            Endian::Little => s.to_le_bytes(),
            Endian::Big => s.to_be_bytes(),
        };
        o.copy_from_slice(&b);
    }
    n * 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn little_and_big_endian_differ_and_round_trip() {
        let samples = [0i16, 1, -1, 0x1234, i16::MIN, i16::MAX];
        for endian in [Endian::Little, Endian::Big] {
            let mut bytes = [0u8; 12];
            assert_eq!(l16_encode_into(&samples, endian, &mut bytes), 12);
            let mut back = [0i16; 6];
            assert_eq!(l16_decode_into(&bytes, endian, &mut back), 6);
            assert_eq!(back, samples);
        }
        let mut le = [0u8; 2];
        let mut be = [0u8; 2];
        l16_encode_into(&[0x1234], Endian::Little, &mut le);
        l16_encode_into(&[0x1234], Endian::Big, &mut be);
        assert_eq!(le, [0x34, 0x12]);
        assert_eq!(be, [0x12, 0x34]);
    }

    #[test]
    fn odd_byte_is_dropped_and_short_output_is_respected() {
        let mut out = [7i16; 4];
        assert_eq!(l16_decode_into(&[1, 0, 2], Endian::Little, &mut out), 1);
        assert_eq!(out, [1, 7, 7, 7]);
        let mut small = [0u8; 3];
        assert_eq!(l16_encode_into(&[5, 6], Endian::Big, &mut small), 2);
        assert_eq!(small, [0, 5, 0]);
    }
}
