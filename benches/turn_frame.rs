//! Per-frame cost of the full inbound path of a live call, exactly what its
//! task runs per socket message (`CallTurns::push_audio`: mu-law decode,
//! 20 ms framing, VAD, turn engine at the line's 8 kHz, the call's handling
//! of the outputs), of the same path with an 8 -> 16 kHz resampler in it
//! (the engine at 16 kHz, as for lines at other rates), and replay speed of
//! `ratiba analyze` on 60 s of audio.
//!
//! ```text
//! cargo bench --bench turn_frame
//! ```
//! Targets: median <= 5 us per 20 ms frame; analyze faster than 500x real
//! time (60 s in < 120 ms).

use criterion::{Criterion, criterion_group, criterion_main};
use ratiba::cli::analyze::replay;
use ratiba::core::audio::{StreamResampler, g711, wav};
use ratiba::core::turn::{InboundAudio, LineCodec, TurnConfig, TurnDials, TurnEngine};
use ratiba::core::vad::{SpectralVad, VadConfig};
use ratiba::runtime::call_turns::CallTurns;
use std::hint::black_box;
use std::time::Instant;

/// 60 s of corpus audio (8 kHz), speech and noise mixed.
fn corpus_minute() -> Vec<i16> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpus");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures/corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .collect();
    names.sort();
    let mut out = Vec::with_capacity(8000 * 60);
    for p in names.iter().cycle() {
        let w = wav::parse(&std::fs::read(p).unwrap()).unwrap();
        out.extend_from_slice(&w.samples);
        if out.len() >= 8000 * 60 {
            break;
        }
    }
    out.truncate(8000 * 60);
    out
}

fn inbound_frame(c: &mut Criterion) {
    let minute = corpus_minute();
    let ulaw: Vec<u8> = minute.iter().map(|&s| g711::mulaw_encode(s)).collect();
    let frames: Vec<&[u8]> = ulaw.chunks_exact(160).collect();
    let mut turns = CallTurns::new(
        &TurnDials::all_on(),
        LineCodec::Mulaw,
        8_000,
        false,
        Instant::now(),
    )
    .unwrap();
    let mut k = 0usize;
    c.bench_function("inbound_path_per_20ms_frame", |b| {
        b.iter(|| {
            turns.push_audio(black_box(frames[k % frames.len()]), |f, _| {
                black_box(f);
            });
            while let Some(a) = turns.poll() {
                black_box(a);
            }
            k += 1;
        })
    });
    // The resampled path: the same frames, the engine at 16 kHz.
    let t0 = Instant::now();
    let mut engine = TurnEngine::new(TurnConfig::from_dials(&TurnDials::all_on(), 16_000), t0);
    let mut inbound = InboundAudio::with_engine_rate(LineCodec::Mulaw, 8_000, 16_000, t0).unwrap();
    let mut k = 0usize;
    c.bench_function("inbound_path_resampled_to_16k_per_20ms_frame", |b| {
        b.iter(|| {
            inbound.push_mulaw(black_box(frames[k % frames.len()]), &mut engine);
            while let Some(o) = engine.poll_output() {
                black_box(o);
            }
            k += 1;
        })
    });
}

/// The parts on their own, to see where the frame's time goes.
fn parts(c: &mut Criterion) {
    let minute = corpus_minute();
    let frames: Vec<&[i16]> = minute.chunks_exact(160).collect();
    let mut rs = StreamResampler::new(8000, 16_000, 160).unwrap();
    let mut out = vec![0i16; rs.output_max()];
    let up: Vec<Vec<i16>> = frames
        .iter()
        .map(|f| {
            let n = rs.process(f, &mut out);
            out[..n].to_vec()
        })
        .collect();
    let mut k = 0usize;
    c.bench_function("part_resample_8k_to_16k", |b| {
        b.iter(|| {
            black_box(rs.process(black_box(frames[k % frames.len()]), &mut out));
            k += 1;
        })
    });
    let mut vad = SpectralVad::new(8_000, VadConfig::default());
    let mut k = 0usize;
    c.bench_function("part_vad_8k", |b| {
        b.iter(|| {
            black_box(vad.process(black_box(frames[k % frames.len()]), k as i64 * 20));
            k += 1;
        })
    });
    let mut vad = SpectralVad::new(16_000, VadConfig::default());
    let mut k = 0usize;
    c.bench_function("part_vad_16k", |b| {
        b.iter(|| {
            black_box(vad.process(black_box(&up[k % up.len()]), k as i64 * 20));
            k += 1;
        })
    });
}

fn analyze_minute(c: &mut Criterion) {
    let minute = corpus_minute();
    let bot = vec![(5_000, 12_000), (30_000, 38_000)];
    let mut g = c.benchmark_group("analyze");
    g.sample_size(10);
    g.bench_function("analyze_60s_audio", |b| {
        b.iter(|| black_box(replay(&minute, 8000, &bot, None, &TurnDials::all_on()).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, inbound_frame, parts, analyze_minute);
criterion_main!(benches);
