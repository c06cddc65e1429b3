//! Measured quality on the three corpus parts (the public scenarios in
//! fixtures/corpus; the extra scenarios' tuning part and held-out part in
//! fixtures/corpus_extra), scored by the reference scorer `score.py`
//! (SCORING.md), in both modes: audio only, and with the transcripts
//! released 200 ms after each word ends.
//!
//! Fails when any figure of any part gets worse than the committed table
//! (`fixtures/corpus/quality_baseline.json`, also in docs/turn-taking.md),
//! and checks the anchors and targets of the issue that the table meets.

use ratiba::cli::analyze::{CorpusTranscript, replay};
use ratiba::core::audio::wav;
use ratiba::core::turn::TurnDials;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpus")
}

/// The labels folder of a corpus part and how many scenarios it has.
fn part(name: &str) -> (PathBuf, usize) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    match name {
        "public" => (corpus(), 46),
        "extra_tune" => (root.join("fixtures/corpus_extra/tune"), 92),
        "extra_heldout" => (root.join("fixtures/corpus_extra/heldout"), 30),
        _ => panic!("unknown corpus part {name}"),
    }
}

/// Replay every scenario of a part in one mode and score it; returns
/// score.py's summary.
fn score(part_name: &str, with_transcripts: bool) -> Value {
    let (dir, expected) = part(part_name);
    let out = tempfile::tempdir().unwrap();
    let mut wavs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .collect();
    wavs.sort();
    assert_eq!(wavs.len(), expected, "{part_name} incomplete");
    for w in &wavs {
        let id = w.file_stem().unwrap().to_string_lossy().to_string();
        let labels: Value =
            serde_json::from_str(&std::fs::read_to_string(w.with_extension("json")).unwrap())
                .unwrap();
        let bot: Vec<(i64, i64)> = labels["bot_speaking"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b["start_ms"].as_i64().unwrap(),
                    b["end_ms"].as_i64().unwrap(),
                )
            })
            .collect();
        let transcript: Option<CorpusTranscript> = with_transcripts.then(|| {
            let t = std::fs::read_to_string(dir.join(format!("{id}.transcript.json"))).unwrap();
            serde_json::from_str(&t).unwrap()
        });
        let audio = wav::parse(&std::fs::read(w).unwrap()).unwrap();
        let events = replay(
            &audio.samples,
            audio.rate_hz,
            &bot,
            transcript.as_ref(),
            &TurnDials::all_on(),
        )
        .unwrap();
        let body = serde_json::json!({ "events": events });
        std::fs::write(
            out.path().join(format!("{id}.events.json")),
            body.to_string(),
        )
        .unwrap();
    }
    let json_out = out.path().join("score.json");
    let status = Command::new("python3")
        .arg(corpus().join("score.py"))
        .arg("--labels")
        .arg(&dir)
        .arg("--events")
        .arg(out.path())
        .arg("--json")
        .arg(&json_out)
        .output()
        .expect("python3 must be installed to run the reference scorer");
    assert!(
        status.status.success(),
        "score.py failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(json_out).unwrap()).unwrap();
    v["summary"].clone()
}

/// Metrics where higher is better; every other compared metric is lower-better.
const HIGHER_BETTER: &[&str] = &["onset_recall", "vad_frame_f1"];

const COMPARED: &[&str] = &[
    "premature_eot_rate",
    "mid_turn_pause_cutoff_rate",
    "missed_eot_rate",
    "eot_latency_median_ms",
    "eot_latency_p90_ms",
    "false_bargein_on_backchannel_rate",
    "eot_on_backchannel_rate",
    "missed_bargein_rate",
    "bargein_latency_median_ms",
    "bargein_latency_p90_ms",
    "noise_only_false_trigger_rate",
    "noise_event_false_trigger_rate",
    "onset_recall",
    "vad_frame_f1",
];

fn f(v: &Value, k: &str) -> f64 {
    v[k].as_f64()
        .unwrap_or_else(|| panic!("metric {k} missing in {v}"))
}

fn check_against_baseline(part_name: &str, mode: &str, got: &Value) {
    let baseline: Value = serde_json::from_str(
        &std::fs::read_to_string(corpus().join("quality_baseline.json")).unwrap(),
    )
    .unwrap();
    let base = &baseline[part_name][mode];
    let mut worse = Vec::new();
    for k in COMPARED {
        let (g, b) = (f(got, k), f(base, k));
        let is_worse = if HIGHER_BETTER.contains(k) {
            g < b - 1e-6
        } else {
            g > b + 1e-6
        };
        if is_worse {
            worse.push(format!("{k}: {g:.3} (committed {b:.3})"));
        }
    }
    assert!(
        worse.is_empty(),
        "{part_name} {mode}: worse than the committed table: {worse:?}\nfull: {got}"
    );
}

#[test]
fn audio_only_beats_the_silero_anchor_and_the_committed_table() {
    let s = score("public", false);
    check_against_baseline("public", "audio", &s);
    // silero-vad + rules anchor (SCORING.md section 5).
    assert!(f(&s, "premature_eot_rate") < 0.12);
    assert_eq!(f(&s, "missed_eot_rate"), 0.0);
    assert!(f(&s, "eot_latency_median_ms") < 843.0);
    assert!(f(&s, "eot_latency_p90_ms") < 944.0);
    // The anchor's 0.82 is 9 of 11 (0.818): fewer than 9 is better.
    assert!(f(&s, "false_bargein_on_backchannel_rate") < 9.0 / 11.0 - 1e-9);
    assert_eq!(f(&s, "missed_bargein_rate"), 0.0);
    assert!(f(&s, "bargein_latency_median_ms") < 380.0);
    assert!(f(&s, "bargein_latency_p90_ms") < 409.0);
    assert_eq!(f(&s, "noise_only_false_trigger_rate"), 0.0);
    assert_eq!(f(&s, "noise_event_false_trigger_rate"), 0.0);
    assert!(f(&s, "vad_frame_f1") > 0.90);
}

#[test]
fn with_transcripts_meets_the_targets_and_the_committed_table() {
    let s = score("public", true);
    check_against_baseline("public", "transcript", &s);
    assert!(f(&s, "premature_eot_rate") <= 0.03);
    assert!(f(&s, "mid_turn_pause_cutoff_rate") <= 0.05);
    assert!(f(&s, "missed_eot_rate") <= 0.02);
    assert!(f(&s, "eot_latency_median_ms") <= 600.0);
    assert!(f(&s, "eot_latency_p90_ms") <= 900.0);
    assert!(f(&s, "false_bargein_on_backchannel_rate") <= 0.10);
    assert_eq!(f(&s, "missed_bargein_rate"), 0.0);
    assert_eq!(f(&s, "noise_only_false_trigger_rate"), 0.0);
}

/// The extra scenarios (new voices, pauses up to 1.3 s, backchannels,
/// barge-ins, line tones, hum, TV, line echo): no figure of either part may
/// get worse than committed, in either mode. The held-out part was never
/// used to tune anything; it is scored here so that later tuning on the
/// other parts cannot quietly cost it.
#[test]
fn extra_corpus_parts_hold_the_committed_table() {
    for part_name in ["extra_tune", "extra_heldout"] {
        for (mode, words) in [("audio", false), ("transcript", true)] {
            let s = score(part_name, words);
            check_against_baseline(part_name, mode, &s);
            assert!(f(&s, "vad_frame_f1") > 0.8, "{part_name} {mode}: {s}");
        }
    }
}
