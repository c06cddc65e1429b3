//! Print, frame by frame, what the voice activity detector sees in one
//! recording (level, floor, SNR, voicing, pitch, zero-crossing rate, state),
//! at the rate a live call's engine runs at (the file's own, 8 or 16 kHz). For
//! finding out *why* the engine decided something on one file:
//!
//! ```text
//! cargo run --example turn_trace -- fixtures/corpus/pub_i02_bargein_en.wav [FROM_MS TO_MS]
//! ```

use ratiba::core::audio::{StreamResampler, wav};
use ratiba::core::vad::{SpectralVad, VadConfig};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .ok_or_else(|| anyhow::anyhow!("usage: turn_trace FILE.wav [FROM_MS TO_MS]"))?;
    let from: i64 = args.get(1).map_or(Ok(0), |s| s.parse())?;
    let to: i64 = args.get(2).map_or(Ok(i64::MAX), |s| s.parse())?;
    let audio = wav::parse(&std::fs::read(path)?)?;
    let engine_rate = audio.rate_hz;
    let frame = (audio.rate_hz / 50) as usize;
    let mut resampler = (audio.rate_hz != engine_rate)
        .then(|| StreamResampler::new(audio.rate_hz, engine_rate, frame))
        .transpose()?;
    let mut out = vec![0i16; resampler.as_ref().map_or(frame, |r| r.output_max())];
    let mut vad = SpectralVad::new(engine_rate, VadConfig::default());
    println!("  t_ms  level  floor   snr  voic  pitch    zc  flags");
    for (k, chunk) in audio.samples.chunks_exact(frame).enumerate() {
        let start = k as i64 * 20;
        let samples: &[i16] = match resampler.as_mut() {
            Some(r) => {
                let n = r.process(chunk, &mut out);
                &out[..n]
            }
            None => chunk,
        };
        let v = vad.process(samples, start);
        if !(from..=to).contains(&start) {
            continue;
        }
        let f = v.features;
        println!(
            "{:6} {:6.1} {:6.1} {:5.1} {:5.2} {:6.0} {:5.0}  {}{}{}{}{}",
            start + 20,
            f.level_db,
            f.floor_db,
            f.snr_db,
            f.voicing,
            f.pitch_hz,
            f.zc_hz,
            if v.active { "a" } else { "." },
            if v.voiced { "v" } else { "." },
            if v.speech { "S" } else { "." },
            if v.started { " START" } else { "" },
            if v.ended { " END" } else { "" },
        );
    }
    Ok(())
}
