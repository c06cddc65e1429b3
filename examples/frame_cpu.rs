//! CPU time (not wall time) per 20 ms frame of the full inbound path, for a
//! machine shared with other jobs where criterion's wall-clock medians are
//! inflated by waiting for a core. Reads this thread's user+system ticks from
//! /proc (Linux).
//!
//! ```text
//! cargo run --release --example frame_cpu [-- FRAMES]
//! ```

use ratiba::core::audio::{g711, wav};
use ratiba::core::turn::{InboundAudio, LineCodec, TurnConfig, TurnDials, TurnEngine};
use std::hint::black_box;
use std::time::Instant;

fn cpu_ticks() -> u64 {
    let s = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // fields after the ")" of the command name: state is field 3; utime 14, stime 15
    let rest = s.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ut: u64 = f.get(11).and_then(|x| x.parse().ok()).unwrap_or(0);
    let st: u64 = f.get(12).and_then(|x| x.parse().ok()).unwrap_or(0);
    ut + st
}

fn main() {
    let frames: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(300_000);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpus");
    let mut audio = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .collect();
    names.sort();
    for p in &names {
        audio.extend(wav::parse(&std::fs::read(p).unwrap()).unwrap().samples);
    }
    let ulaw: Vec<u8> = audio.iter().map(|&s| g711::mulaw_encode(s)).collect();
    let chunks: Vec<&[u8]> = ulaw.chunks_exact(160).collect();
    let t0 = Instant::now();
    let mut engine = TurnEngine::new(TurnConfig::from_dials(&TurnDials::all_on(), 8_000), t0);
    let mut inbound = InboundAudio::new(LineCodec::Mulaw, 8000, t0).unwrap();
    let hz = 100.0; // USER_HZ
    let (c0, w0) = (cpu_ticks(), Instant::now());
    for k in 0..frames {
        inbound.push_mulaw(chunks[k % chunks.len()], &mut engine);
        while let Some(o) = engine.poll_output() {
            black_box(o);
        }
    }
    let cpu_s = (cpu_ticks() - c0) as f64 / hz;
    let wall_s = w0.elapsed().as_secs_f64();
    println!(
        "{frames} frames ({:.0} s of audio): CPU {:.2} us/frame, wall {:.2} us/frame, {:.0}x real time on CPU",
        frames as f64 * 0.02,
        cpu_s * 1e6 / frames as f64,
        wall_s * 1e6 / frames as f64,
        frames as f64 * 0.02 / cpu_s.max(1e-9)
    );
}
