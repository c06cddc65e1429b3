//! Proof that a live call's inbound path allocates nothing per frame in
//! steady state: a counting global allocator (one per test binary, hence
//! this file) around exactly what the call task runs per socket message,
//! [`CallTurns::push_audio`] (mu-law decode, framing, resampling where the
//! line needs it, VAD, the turn engine and the call's handling of its
//! outputs), over speech, silence, bot playback, tentative pauses, resumes
//! and a barge-in.

use ratiba::core::audio::{g711, wav};
use ratiba::core::turn::{LineCodec, TurnDials};
use ratiba::runtime::call_turns::CallTurns;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn load(name: &str) -> Vec<i16> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/corpus")
        .join(name);
    wav::parse(&std::fs::read(p).unwrap()).unwrap().samples
}

#[test]
fn inbound_path_allocates_nothing_per_frame() {
    // A telephone call (engine at the line's 8 kHz), a wideband L16 one
    // (16 kHz) and one at a rate that is resampled (24 kHz -> 16 kHz).
    for (codec, line_rate) in [
        (LineCodec::Mulaw, 8_000),
        (LineCodec::L16Le, 16_000),
        (LineCodec::L16Le, 24_000),
    ] {
        inbound_path_allocates_nothing_at(codec, line_rate);
    }
}

/// The corpus audio (8 kHz) as the line's bytes at `line_rate` (sample
/// and hold up: only the byte count and the path matter here).
fn line_bytes(samples: &[i16], codec: LineCodec, line_rate: u32) -> Vec<u8> {
    let up = (line_rate / 8_000) as usize;
    let half = !line_rate.is_multiple_of(8_000);
    let mut out = Vec::new();
    for (k, &s) in samples.iter().enumerate() {
        let n = up + usize::from(half && k % 2 == 1);
        for _ in 0..n {
            match codec {
                LineCodec::Mulaw => out.push(g711::mulaw_encode(s)),
                LineCodec::Alaw => out.push(g711::alaw_encode(s)),
                LineCodec::L16Le => out.extend_from_slice(&s.to_le_bytes()),
            }
        }
    }
    out
}

fn inbound_path_allocates_nothing_at(codec: LineCodec, line_rate: u32) {
    // A barge-in scenario (bot playing, caller interrupting) and a turn with
    // pauses, back to back.
    let mut audio = load("pub_p02_pause_en_syn.wav");
    audio.extend(load("pub_b02_backchannel_en.wav"));
    audio.extend(load("pub_i03_bargein_sw.wav"));
    let wire = line_bytes(&audio, codec, line_rate);
    let per_frame = wire.len() / (audio.len() / 160);
    let t0 = Instant::now();
    let mut turns = CallTurns::new(&TurnDials::all_on(), codec, line_rate, false, t0).unwrap();
    ALLOCS.store(0, Ordering::SeqCst);
    let mut actions = 0usize;
    let mut counted_frames = 0usize;
    let mut tapped = 0usize;
    // The first second stays out of the count (lazy statics in std).
    for (k, chunk) in wire.chunks(per_frame).enumerate() {
        let t_ms = k as u64 * 20;
        // Bot playback over the second and third scenario.
        if t_ms == 7_600 + 400 || t_ms == 17_100 + 300 {
            turns.bot_started(t_ms as u32, t_ms);
        }
        if t_ms > 8_000 && t_ms.is_multiple_of(100) {
            turns.bot_mark(8_000, t_ms - 8_000, t_ms);
        }
        if k == 50 {
            COUNTING.store(true, Ordering::SeqCst);
        }
        // What the call does per socket message: frames to the recognizer's
        // tap and the engine, then the actions.
        turns.push_audio(chunk, |frame, _| tapped += frame.len());
        turns.advance(t_ms + 20);
        while turns.poll().is_some() {
            actions += 1;
        }
        if k >= 50 {
            counted_frames += 1;
        }
    }
    COUNTING.store(false, Ordering::SeqCst);
    let allocs = ALLOCS.load(Ordering::SeqCst);
    assert!(counted_frames > 1000, "{counted_frames} frames");
    assert!(tapped > 0);
    assert!(
        actions > 5,
        "the scenario produced only {actions} actions at {line_rate} Hz"
    );
    assert_eq!(
        allocs, 0,
        "{allocs} allocations over {counted_frames} frames (line at {line_rate} Hz)"
    );
}
