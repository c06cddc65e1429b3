//! G.711 mu-law and A-law, bit-exact to ITU-T G.711 (the same results as the
//! classic Sun reference `g711.c`, which follows the ITU tables).
//!
//! Telephony providers (Twilio, Telnyx, Plivo, Exotel) send 8 kHz G.711;
//! every inbound frame passes through here, so decoding is a 256-entry table
//! lookup built at compile time and encoding is a few shifts, with no
//! allocation. Linear samples are 16-bit two's complement; mu-law works on the
//! top 14 bits and A-law on the top 13 bits, exactly as the standard does.

/// Bias added to the 14-bit magnitude before the mu-law segment search.
const MULAW_BIAS: i32 = 0x84;
/// The same bias in 14-bit units, used by the encoder.
const MULAW_BIAS_14: i32 = 33;
/// Largest 14-bit magnitude the mu-law encoder accepts before clipping.
const MULAW_CLIP_14: i32 = 8159;

/// Decode one mu-law byte to a 16-bit linear sample.
#[inline]
pub fn mulaw_decode(code: u8) -> i16 {
    MULAW_TABLE[code as usize]
}

/// Decode one A-law byte to a 16-bit linear sample.
#[inline]
pub fn alaw_decode(code: u8) -> i16 {
    ALAW_TABLE[code as usize]
}

/// Encode one 16-bit linear sample to mu-law (ITU-T G.711 table 2a).
#[inline]
pub fn mulaw_encode(sample: i16) -> u8 {
    // mu-law works on 14 bits (arithmetic shift, as the reference code does).
    let mut pcm = i32::from(sample) >> 2;
    let mask: u8 = if pcm < 0 {
        pcm = -pcm;
        0x7F
    } else {
        0xFF
    };
    pcm = pcm.min(MULAW_CLIP_14) + MULAW_BIAS_14;
    // Segment ends (biased 14-bit): 0x3F, 0x7F, ... 0x1FFF.
    let seg = (31 - (pcm as u32).leading_zeros()).saturating_sub(5) as i32;
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let mantissa = (pcm >> (seg + 1)) & 0x0F;
    ((seg << 4) as u8 | mantissa as u8) ^ mask
}

/// Encode one 16-bit linear sample to A-law (ITU-T G.711 table 1a).
#[inline]
pub fn alaw_encode(sample: i16) -> u8 {
    // A-law works on 13 bits; negative inputs use the ones' complement
    // magnitude, as in the standard.
    let mut pcm = i32::from(sample) >> 3;
    let mask: u8 = if pcm >= 0 {
        0xD5
    } else {
        pcm = -pcm - 1;
        0x55
    };
    // Segment ends (13-bit magnitude): 0x1F, 0x3F, 0x7F, ... 0xFFF.
    let seg = if pcm <= 0x1F {
        0
    } else {
        (32 - (pcm as u32).leading_zeros()) as i32 - 5
    };
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let shift = if seg < 2 { 1 } else { seg };
    let aval = (seg << 4) | ((pcm >> shift) & 0x0F);
    (aval as u8) ^ mask
}

/// Decode a buffer of mu-law bytes into `out` (same length; extra is left).
/// Returns the number of samples written.
pub fn mulaw_decode_into(codes: &[u8], out: &mut [i16]) -> usize {
    let n = codes.len().min(out.len());
    for (o, &c) in out[..n].iter_mut().zip(&codes[..n]) {
        *o = mulaw_decode(c);
    }
    n
}

/// Decode a buffer of A-law bytes into `out`. Returns the samples written.
pub fn alaw_decode_into(codes: &[u8], out: &mut [i16]) -> usize {
    let n = codes.len().min(out.len());
    for (o, &c) in out[..n].iter_mut().zip(&codes[..n]) {
        *o = alaw_decode(c);
    }
    n
}

/// Encode samples to mu-law into `out`. Returns the bytes written.
pub fn mulaw_encode_into(samples: &[i16], out: &mut [u8]) -> usize {
    let n = samples.len().min(out.len());
    for (o, &s) in out[..n].iter_mut().zip(&samples[..n]) {
        *o = mulaw_encode(s);
    }
    n
}

/// Encode samples to A-law into `out`. Returns the bytes written.
pub fn alaw_encode_into(samples: &[i16], out: &mut [u8]) -> usize {
    let n = samples.len().min(out.len());
    for (o, &s) in out[..n].iter_mut().zip(&samples[..n]) {
        *o = alaw_encode(s);
    }
    n
}

const fn mulaw_decode_slow(code: u8) -> i16 {
    let u = !code;
    let t = (((u & 0x0F) as i32) << 3) + MULAW_BIAS;
    let t = t << ((u & 0x70) >> 4);
    if u & 0x80 != 0 {
        (MULAW_BIAS - t) as i16
    } else {
        (t - MULAW_BIAS) as i16
    }
}

const fn alaw_decode_slow(code: u8) -> i16 {
    let a = code ^ 0x55;
    let mut t = ((a & 0x0F) as i32) << 4;
    let seg = ((a & 0x70) >> 4) as i32;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    if a & 0x80 != 0 { t as i16 } else { -t as i16 }
}

const MULAW_TABLE: [i16; 256] = {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = mulaw_decode_slow(i as u8);
        i += 1;
    }
    t
};

const ALAW_TABLE: [i16; 256] = {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = alaw_decode_slow(i as u8);
        i += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    /// ITU-T G.711 table 2a (mu-law), in 14-bit units: segment edges and
    /// step sizes. Decision intervals inside a segment have equal width and
    /// the decoder outputs the interval midpoint (segment 0 starts with the
    /// single interval [0, 1) decoded as 0).
    fn mulaw_reference_value_14(mag: i32) -> i32 {
        if mag < 1 {
            return 0;
        }
        let edges = [1, 31, 95, 223, 479, 991, 2015, 4063, 8159];
        for s in 0..8 {
            let (lo, hi) = (edges[s], edges[s + 1]);
            if mag < hi {
                let step = 2 << s;
                let k = (mag - lo) / step;
                return lo + k * step + step / 2;
            }
        }
        // Overload: clipped into the last interval of segment 7.
        8031
    }

    /// ITU-T G.711 table 1a (A-law), 13-bit units.
    fn alaw_reference_value_13(mag: i32) -> i32 {
        let mag = mag.min(4095);
        if mag < 32 {
            return (mag / 2) * 2 + 1;
        }
        let seg = (31 - (mag as u32).leading_zeros()) as i32 - 4; // 1..=7
        let lo = 16 << seg;
        let step = 1 << seg;
        lo + ((mag - lo) / step) * step + step / 2
    }

    #[test]
    fn mulaw_known_codes() {
        assert_eq!(mulaw_decode(0x00), -32124);
        assert_eq!(mulaw_decode(0x80), 32124);
        assert_eq!(mulaw_decode(0xFF), 0);
        assert_eq!(mulaw_decode(0x7F), 0);
        assert_eq!(mulaw_decode(0xFE), 8);
        assert_eq!(mulaw_decode(0x7E), -8);
        assert_eq!(mulaw_encode(0), 0xFF);
        assert_eq!(mulaw_encode(i16::MAX), 0x80);
        assert_eq!(mulaw_encode(i16::MIN), 0x00);
    }

    #[test]
    fn alaw_known_codes() {
        assert_eq!(alaw_decode(0xD5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_decode(0xAA), 32256);
        assert_eq!(alaw_decode(0x2A), -32256);
        assert_eq!(alaw_encode(0), 0xD5);
        assert_eq!(alaw_encode(-1), 0x55);
        assert_eq!(alaw_encode(i16::MAX), 0xAA);
        assert_eq!(alaw_encode(i16::MIN), 0x2A);
    }

    #[test]
    fn mulaw_all_codes_round_trip() {
        for c in 0..=255u8 {
            let back = mulaw_encode(mulaw_decode(c));
            // 0x7F is "negative zero": it decodes to 0, which encodes as 0xFF.
            let want = if c == 0x7F { 0xFF } else { c };
            assert_eq!(back, want, "code {c:#04x}");
        }
    }

    #[test]
    fn alaw_all_codes_round_trip() {
        for c in 0..=255u8 {
            assert_eq!(alaw_encode(alaw_decode(c)), c, "code {c:#04x}");
        }
    }

    #[test]
    fn mulaw_decoded_values_are_the_itu_interval_midpoints() {
        for c in 0..=255u8 {
            let v = i32::from(mulaw_decode(c));
            assert_eq!(v % 4, 0, "mu-law output is 14-bit, code {c:#04x}");
            let mag14 = v.abs() / 4;
            assert_eq!(mulaw_reference_value_14(mag14), mag14, "code {c:#04x}");
        }
    }

    #[test]
    fn mulaw_encoder_matches_the_itu_decision_intervals_everywhere() {
        // Every 14-bit input magnitude, both signs, lands in the ITU interval.
        for mag in 0..8192i32 {
            for sign in [1, -1] {
                let x = (sign * mag * 4).clamp(-32768, 32767) as i16;
                let got = i32::from(mulaw_decode(mulaw_encode(x))).abs() / 4;
                assert_eq!(got, mulaw_reference_value_14(mag), "input {x}");
            }
        }
    }

    #[test]
    fn mulaw_segment_boundaries() {
        // The first input of each segment (14-bit: 31, 95, 223, ...) gets
        // mantissa 0 of the next segment; the input before it is still in the
        // previous segment with mantissa 15.
        for (seg, edge) in [31, 95, 223, 479, 991, 2015, 4063].into_iter().enumerate() {
            let below = !mulaw_encode((edge as i16 - 1) * 4);
            let at = !mulaw_encode(edge as i16 * 4);
            assert_eq!(below & 0x7F, ((seg as u8) << 4) | 0x0F, "below edge {edge}");
            assert_eq!(at & 0x7F, ((seg as u8 + 1) << 4), "at edge {edge}");
        }
    }

    #[test]
    fn alaw_encoder_matches_the_itu_decision_intervals_everywhere() {
        for x in i16::MIN..=i16::MAX {
            let x13 = i32::from(x) >> 3;
            let (mag, neg) = if x13 >= 0 {
                (x13, false)
            } else {
                (-x13 - 1, true)
            };
            let got = i32::from(alaw_decode(alaw_encode(x)));
            let want = alaw_reference_value_13(mag) * 8;
            assert_eq!(got, if neg { -want } else { want }, "input {x}");
        }
    }

    #[test]
    fn alaw_segment_boundaries() {
        for (seg, edge) in [32, 64, 128, 256, 512, 1024, 2048].into_iter().enumerate() {
            let below = alaw_encode((edge as i16 - 1) * 8) ^ 0xD5;
            let at = alaw_encode(edge as i16 * 8) ^ 0xD5;
            assert_eq!(below, ((seg as u8) << 4) | 0x0F, "below edge {edge}");
            assert_eq!(at, (seg as u8 + 1) << 4, "at edge {edge}");
        }
    }

    #[test]
    fn buffer_helpers_stop_at_the_shorter_slice() {
        let codes = [0xFFu8, 0x80, 0x00];
        let mut out = [1i16; 2];
        assert_eq!(mulaw_decode_into(&codes, &mut out), 2);
        assert_eq!(out, [0, 32124]);
        let mut enc = [0u8; 3];
        assert_eq!(alaw_encode_into(&[0, -1], &mut enc), 2);
        assert_eq!(&enc[..2], &[0xD5, 0x55]);
    }
}
