//! Voice activity detector evaluation on the turn-taking corpus.
//!
//! ```text
//! cargo run --release --example vad_eval [-- CORPUS_DIR] [--rate 8000|16000] [--trace ID]
//! ```
//!
//! For every scenario it runs each candidate detector over the 8 kHz telephone
//! audio (optionally resampled to 16 kHz first, as a live call does) in
//! 20 ms frames and prints, per candidate: frame-level precision / recall / F1
//! (10 ms frames, +-50 ms collar around label boundaries, state taken at the
//! detector's decision time as SCORING.md does), utterance-onset recall and
//! median latency, noise-only scenarios with any speech start, noise events
//! with a speech start, and the cost per 20 ms frame. `--trace ID` prints the
//! per-frame features of one scenario instead.

use ratiba::core::audio::{StreamResampler, wav};
use ratiba::core::vad::{SpectralVad, VadConfig};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Instant;

struct Scenario {
    id: String,
    labels: Value,
    rate: u32,
    samples: Vec<i16>,
}

fn load(dir: &Path) -> Vec<Scenario> {
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("corpus dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .collect();
    entries.sort();
    for wav_path in entries {
        let id = wav_path.file_stem().unwrap().to_string_lossy().to_string();
        let label_path = wav_path.with_extension("json");
        let Ok(text) = std::fs::read_to_string(&label_path) else {
            continue;
        };
        let labels: Value = serde_json::from_str(&text).expect("labels");
        let w = wav::parse(&std::fs::read(&wav_path).unwrap()).expect("wav");
        out.push(Scenario {
            id,
            labels,
            rate: w.rate_hz,
            samples: w.samples,
        });
    }
    out
}

fn segs(l: &Value, key: &str) -> Vec<(f64, f64)> {
    l[key]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    (
                        s["start_ms"].as_f64().unwrap(),
                        s["end_ms"].as_f64().unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// One detector run: (decision time ms, speech state after this frame, run started).
type Trace = Vec<(f64, bool, bool)>;

trait Candidate {
    fn name(&self) -> String;
    fn run(&mut self, rate: u32, frame: &[i16], start_ms: i64) -> (bool, bool);
}

struct Ours {
    vad: Option<SpectralVad>,
    rate: u32,
}

impl Candidate for Ours {
    fn name(&self) -> String {
        "spectral (ours)".into()
    }
    fn run(&mut self, rate: u32, frame: &[i16], start_ms: i64) -> (bool, bool) {
        if self.vad.is_none() || self.rate != rate {
            self.vad = Some(SpectralVad::new(rate, VadConfig::default()));
            self.rate = rate;
        }
        let f = self.vad.as_mut().unwrap().process(frame, start_ms);
        (f.speech, f.started)
    }
}

/// Plain energy threshold above the adaptive floor (the "energy VAD" idea).
struct EnergyOnly {
    vad: Option<SpectralVad>,
}

impl Candidate for EnergyOnly {
    fn name(&self) -> String {
        "energy-only (ours, no voicing)".into()
    }
    fn run(&mut self, rate: u32, frame: &[i16], start_ms: i64) -> (bool, bool) {
        let cfg = VadConfig {
            voicing_threshold: 0.0,
            strong_voicing: 0.0,
            onset_strong_frames: 0,
            pitch_tolerance: 100.0,
            ..VadConfig::default()
        };
        let v = self.vad.get_or_insert_with(|| SpectralVad::new(rate, cfg));
        let f = v.process(frame, start_ms);
        (f.speech, f.started)
    }
}

/// The anchors' rules (SCORING.md section 5): speech starts after 60 ms of
/// positive frames and ends after a 200 ms hangover.
#[derive(Default)]
struct AnchorRules {
    on: bool,
    pos_ms: i64,
    neg_ms: i64,
}

impl AnchorRules {
    fn step(&mut self, positive: bool, frame_ms: i64) -> (bool, bool) {
        let mut started = false;
        if positive {
            self.pos_ms += frame_ms;
            self.neg_ms = 0;
            if !self.on && self.pos_ms >= 60 {
                self.on = true;
                started = true;
            }
        } else {
            self.pos_ms = 0;
            self.neg_ms += frame_ms;
            if self.on && self.neg_ms >= 200 {
                self.on = false;
            }
        }
        (self.on, started)
    }
}

/// webrtc-vad (libfvad) in its most aggressive mode on 20 ms frames.
struct WebRtc {
    vad: Option<webrtc_vad::Vad>,
    rules: AnchorRules,
}

impl Candidate for WebRtc {
    fn name(&self) -> String {
        "webrtc-vad mode 3 + anchor rules".into()
    }
    fn run(&mut self, rate: u32, frame: &[i16], _start_ms: i64) -> (bool, bool) {
        let vad = self.vad.get_or_insert_with(|| {
            let r = if rate == 8000 {
                webrtc_vad::SampleRate::Rate8kHz
            } else {
                webrtc_vad::SampleRate::Rate16kHz
            };
            webrtc_vad::Vad::new_with_rate_and_mode(r, webrtc_vad::VadMode::VeryAggressive)
        });
        let positive = vad.is_voice_segment(frame).unwrap_or(false);
        self.rules.step(positive, 20)
    }
}

/// earshot (takes exactly 256 samples at 16 kHz per call): fed from a small
/// buffer, positive when any 16 ms block in the 20 ms frame scores >= 0.5.
struct Earshot {
    det: Box<earshot::Detector>,
    buf: Vec<i16>,
    rules: AnchorRules,
}

impl Candidate for Earshot {
    fn name(&self) -> String {
        "earshot 1.2 (16 kHz) + anchor rules".into()
    }
    fn run(&mut self, rate: u32, frame: &[i16], _start_ms: i64) -> (bool, bool) {
        assert_eq!(rate, 16_000, "earshot needs 16 kHz: run with --rate 16000");
        self.buf.extend_from_slice(frame);
        let mut positive = false;
        while self.buf.len() >= 256 {
            let p = self.det.predict_i16(&self.buf[..256]);
            positive |= p >= 0.5;
            self.buf.drain(..256);
        }
        self.rules.step(positive, 20)
    }
}

fn fresh(name: &str) -> Box<dyn Candidate> {
    match name {
        "spectral (ours)" => Box::new(Ours { vad: None, rate: 0 }),
        "webrtc-vad mode 3 + anchor rules" => Box::new(WebRtc {
            vad: None,
            rules: AnchorRules::default(),
        }),
        "earshot 1.2 (16 kHz) + anchor rules" => Box::new(Earshot {
            det: earshot::Detector::default_boxed(),
            buf: Vec::new(),
            rules: AnchorRules::default(),
        }),
        _ => Box::new(EnergyOnly { vad: None }),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut dir = PathBuf::from("fixtures/corpus");
    let mut rate_out = 8000u32;
    let mut trace: Option<String> = None;
    let mut verbose = false;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--rate" => {
                rate_out = args[i + 1].parse().unwrap();
                i += 1;
            }
            "--verbose" => verbose = true,
            "--trace" => {
                trace = Some(args[i + 1].clone());
                i += 1;
            }
            d => dir = PathBuf::from(d),
        }
        i += 1;
    }
    let scenarios = load(&dir);
    if let Some(id) = trace {
        let s = scenarios.iter().find(|s| s.id == id).expect("scenario id");
        let mut vad = SpectralVad::new(s.rate, VadConfig::default());
        let n = (s.rate / 50) as usize;
        for (k, fr) in s.samples.chunks(n).enumerate() {
            let t = k as i64 * 20;
            let f = vad.process(fr, t);
            println!(
                "{:6} lvl {:6.1} floor {:6.1} snr {:5.1} voi {:4.2} f0 {:4.0} zc {:5.0} {}{}{}{}",
                t + 20,
                f.features.level_db,
                f.features.floor_db,
                f.features.snr_db,
                f.features.voicing,
                f.features.pitch_hz,
                f.features.zc_hz,
                if f.active { "A" } else { "." },
                if f.voiced { "V" } else { "." },
                if f.speech { "S" } else { "." },
                if f.started {
                    " START"
                } else if f.ended {
                    " END"
                } else {
                    ""
                },
            );
        }
        return;
    }
    let mut names = vec![
        "spectral (ours)",
        "energy-only (ours, no voicing)",
        "webrtc-vad mode 3 + anchor rules",
    ];
    if rate_out == 16_000 {
        names.push("earshot 1.2 (16 kHz) + anchor rules");
    }
    let mut candidates: Vec<Box<dyn Candidate>> = names.iter().map(|n| fresh(n)).collect();
    println!(
        "corpus {} ({} scenarios), detector input {} Hz, 20 ms frames",
        dir.display(),
        scenarios.len(),
        rate_out
    );
    println!(
        "{:32} {:>6} {:>6} {:>6} {:>8} {:>8} {:>10} {:>10} {:>9}",
        "detector",
        "prec",
        "recall",
        "F1",
        "onsets",
        "on.med",
        "noise-only",
        "noise-evt",
        "ns/frame"
    );
    for c in candidates.iter_mut() {
        let (mut tp, mut fp, mut fneg) = (0u64, 0u64, 0u64);
        let (mut onsets, mut onset_hits) = (0, 0);
        let mut onset_lat = Vec::new();
        let (mut noise_only, mut noise_only_trig) = (0, 0);
        let (mut noise_ev, mut noise_ev_trig) = (0, 0);
        let mut frames = 0u64;
        let mut nanos = 0u128;
        for s in &scenarios {
            // fresh detector per scenario
            let mut cand = fresh(&c.name());
            let n_in = (s.rate / 50) as usize;
            let mut rs =
                (rate_out != s.rate).then(|| StreamResampler::new(s.rate, rate_out, n_in).unwrap());
            let delay_ms = rs.as_ref().map(|r| r.delay_ms()).unwrap_or(0.0);
            let mut buf = vec![0i16; rs.as_ref().map(|r| r.output_max()).unwrap_or(n_in)];
            let mut tr: Trace = Vec::new();
            let t0 = Instant::now();
            for (k, fr) in s.samples.chunks(n_in).enumerate() {
                let t = k as i64 * 20;
                let (speech, started) = if let Some(r) = rs.as_mut() {
                    let m = r.process(fr, &mut buf);
                    cand.run(rate_out, &buf[..m], t)
                } else {
                    cand.run(s.rate, fr, t)
                };
                tr.push(((t + 20) as f64 + delay_ms, speech, started));
                frames += 1;
            }
            nanos += t0.elapsed().as_nanos();
            let dur = s.labels["duration_ms"].as_f64().unwrap();
            let sp = segs(&s.labels, "speech_segments");
            // frame-level with collar, state at decision time
            let nfr = (dur / 10.0) as usize;
            for k in 0..nfr {
                let t = k as f64 * 10.0;
                if sp
                    .iter()
                    .any(|&(a, b)| (t - a).abs() <= 50.0 || (t - b).abs() <= 50.0)
                {
                    continue;
                }
                let r = sp.iter().any(|&(a, b)| t >= a && t < b);
                let h = tr
                    .iter()
                    .take_while(|x| x.0 <= t + 10.0)
                    .last()
                    .is_some_and(|x| x.1);
                match (r, h) {
                    (true, true) => tp += 1,
                    (false, true) => fp += 1,
                    (true, false) => fneg += 1,
                    _ => {}
                }
            }
            let starts: Vec<f64> = tr.iter().filter(|x| x.2).map(|x| x.0).collect();
            let mut prev_end = -1e9;
            for &(a, b) in &sp {
                if a - prev_end >= 1000.0 {
                    onsets += 1;
                    if let Some(t) = starts.iter().find(|&&t| t >= a - 150.0 && t <= a + 500.0) {
                        onset_hits += 1;
                        onset_lat.push(t - a);
                    } else if verbose {
                        eprintln!("  {}: onset {a} missed (starts {:?})", s.id, starts);
                    }
                }
                prev_end = b;
            }
            if sp.is_empty() {
                noise_only += 1;
                if !starts.is_empty() {
                    noise_only_trig += 1;
                    if verbose {
                        eprintln!("  {}: noise-only scenario triggered at {:?}", s.id, starts);
                    }
                }
            }
            for (a, b) in segs(&s.labels, "noise_events") {
                noise_ev += 1;
                let near = |t: f64| sp.iter().any(|&(x, y)| t >= x - 300.0 && t <= y + 300.0);
                if starts
                    .iter()
                    .any(|&t| t >= a - 50.0 && t <= b + 500.0 && !near(t))
                {
                    noise_ev_trig += 1;
                    if verbose {
                        eprintln!("  {}: noise event {a}-{b} triggered", s.id);
                    }
                }
            }
        }
        onset_lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let p = tp as f64 / (tp + fp).max(1) as f64;
        let r = tp as f64 / (tp + fneg).max(1) as f64;
        println!(
            "{:32} {:6.3} {:6.3} {:6.3} {:>8} {:>8.0} {:>10} {:>10} {:>9.0}",
            c.name(),
            p,
            r,
            2.0 * p * r / (p + r).max(1e-9),
            format!("{onset_hits}/{onsets}"),
            onset_lat
                .get(onset_lat.len() / 2)
                .copied()
                .unwrap_or(f64::NAN),
            format!("{noise_only_trig}/{noise_only}"),
            format!("{noise_ev_trig}/{noise_ev}"),
            nanos as f64 / frames.max(1) as f64,
        );
    }
}
