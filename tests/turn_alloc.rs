//! Proof that the inbound path allocates nothing per frame in steady state:
//! a counting global allocator (one per test binary, hence this file) around
//! mu-law decode, framing, resampling, VAD and the turn engine, over speech,
//! silence, bot playback, tentative pauses and resumes.

use ratiba::core::audio::{g711, wav};
use ratiba::core::turn::{InboundAudio, TurnConfig, TurnDials, TurnEngine, TurnInput};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

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

fn load(name: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/corpus")
        .join(name);
    let w = wav::parse(&std::fs::read(p).unwrap()).unwrap();
    w.samples.iter().map(|&s| g711::mulaw_encode(s)).collect()
}

#[test]
fn inbound_path_allocates_nothing_per_frame() {
    // The live path of a telephone call (engine at the line's 8 kHz) and the
    // one with a resampler in it (engine at 16 kHz).
    for engine_rate in [8_000, 16_000] {
        inbound_path_allocates_nothing_at(engine_rate);
    }
}

fn inbound_path_allocates_nothing_at(engine_rate: u32) {
    // A barge-in scenario (bot playing, caller interrupting) and a turn with
    // pauses, back to back.
    let mut audio = load("pub_p02_pause_en_syn.wav");
    audio.extend(load("pub_b02_backchannel_en.wav"));
    audio.extend(load("pub_i03_bargein_sw.wav"));
    let t0 = Instant::now();
    let mut engine = TurnEngine::new(
        TurnConfig::from_dials(&TurnDials::all_on(), engine_rate),
        t0,
    );
    let mut inbound = InboundAudio::new(8000, engine_rate, t0).unwrap();
    ALLOCS.store(0, Ordering::SeqCst);
    let mut events = 0usize;
    let mut counted_frames = 0usize;
    // Warm-up pass: the first second sizes nothing new, but keep it out of
    // the count anyway (lazy statics in std, first FFT plans are built in new()).
    for (k, chunk) in audio.chunks(160).enumerate() {
        let t_ms = k as u64 * 20;
        let at = t0 + Duration::from_millis(t_ms);
        // Bot playback over the second and third scenario.
        if t_ms == 7_600 + 400 || t_ms == 17_100 + 300 {
            engine.handle_input(TurnInput::BotStarted {
                utterance: t_ms,
                at,
            });
        }
        if t_ms > 8_000 && t_ms.is_multiple_of(100) {
            engine.handle_input(TurnInput::BotMark {
                utterance: 8_000,
                heard_ms: (t_ms - 8_000) as u32,
                at,
            });
        }
        if k == 50 {
            COUNTING.store(true, Ordering::SeqCst);
        }
        inbound.push_mulaw(chunk, &mut engine);
        engine.handle_input(TurnInput::Timeout(at + Duration::from_millis(20)));
        while engine.poll_output().is_some() {
            events += 1;
        }
        if k >= 50 {
            counted_frames += 1;
        }
    }
    COUNTING.store(false, Ordering::SeqCst);
    let allocs = ALLOCS.load(Ordering::SeqCst);
    assert!(counted_frames > 1000, "{counted_frames} frames");
    assert!(events > 10, "the scenario produced only {events} outputs");
    assert_eq!(
        allocs, 0,
        "{allocs} allocations over {counted_frames} frames (engine at {engine_rate} Hz)"
    );
}
