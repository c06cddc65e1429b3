//! Replay every corpus scenario through `ratiba analyze`'s code path in both
//! modes (audio only; with transcripts) and write one events file per
//! scenario for the reference scorer:
//!
//! ```text
//! cargo run --example turn_eval [-- CORPUS_DIR OUT_DIR] [--dial NAME=VALUE ...]
//!     [--confirm-ms N] [--confirm-with-words-ms N] [--no-echo-gate]
//!     [--model-min-p P] [--model-continue-p P]
//!     [--steady MAX_CHANGE]
//! python3 fixtures/corpus/score.py --labels fixtures/corpus --events OUT_DIR/audio
//! python3 fixtures/corpus/score.py --labels fixtures/corpus --events OUT_DIR/transcript
//! ```
//!
//! `--confirm-ms` and `--confirm-with-words-ms` override the engine's
//! barge-in confirmation constants (`TurnConfig::barge_in_confirm_ms`,
//! `barge_in_confirm_with_words_ms`), for measuring their trade-off;
//! `--no-echo-gate` switches the line-echo gate off (`TurnConfig::echo_gate`);
//! `--model-min-p` / `--model-continue-p` override the frame model's
//! thresholds (`VadConfig::model_min_p`, `model_continue_p`); `--steady`
//! the line-signal veto's bound (`VadConfig::steady_acf_change`; 0 = off).

use ratiba::cli::analyze::{CorpusTranscript, replay_with_config};
use ratiba::core::audio::wav;
use ratiba::core::turn::{TurnConfig, TurnDials};
use serde_json::Value;
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let mut pos = Vec::new();
    let mut dials = TurnDials::all_on();
    let mut confirm_ms: Option<u32> = None;
    let mut confirm_with_words_ms: Option<u32> = None;
    let mut echo_gate = true;
    let mut model_p: (Option<f32>, Option<f32>) = (None, None);
    let mut steady: Option<f32> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--confirm-ms" {
            confirm_ms = Some(args.next().unwrap_or_default().parse()?);
        } else if a == "--confirm-with-words-ms" {
            confirm_with_words_ms = Some(args.next().unwrap_or_default().parse()?);
        } else if a == "--model-min-p" {
            model_p.0 = Some(args.next().unwrap_or_default().parse()?);
        } else if a == "--model-continue-p" {
            model_p.1 = Some(args.next().unwrap_or_default().parse()?);
        } else if a == "--steady" {
            steady = Some(args.next().unwrap_or_default().parse()?);
        } else if a == "--no-echo-gate" {
            echo_gate = false;
        } else if a == "--dial" {
            let d = args.next().unwrap_or_default();
            let (n, v) = d.split_once('=').unwrap_or((&d, ""));
            TurnConfig::apply_dial(&mut dials, n, v).map_err(anyhow::Error::msg)?;
        } else {
            pos.push(a);
        }
    }
    let corpus = PathBuf::from(pos.first().map(String::as_str).unwrap_or("fixtures/corpus"));
    let out = PathBuf::from(pos.get(1).map(String::as_str).unwrap_or("target/turn_eval"));
    for mode in ["audio", "transcript"] {
        std::fs::create_dir_all(out.join(mode))?;
    }
    let mut n = 0;
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&corpus)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .collect();
    paths.sort();
    for wav_path in paths {
        let id = wav_path.file_stem().unwrap().to_string_lossy().to_string();
        let labels: Value =
            serde_json::from_str(&std::fs::read_to_string(wav_path.with_extension("json"))?)?;
        let audio = wav::parse(&std::fs::read(&wav_path)?)?;
        let bot: Vec<(i64, i64)> = labels["bot_speaking"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|b| {
                (
                    b["start_ms"].as_i64().unwrap_or(0),
                    b["end_ms"].as_i64().unwrap_or(0),
                )
            })
            .collect();
        let tpath = corpus.join(format!("{id}.transcript.json"));
        let transcript: Option<CorpusTranscript> = std::fs::read_to_string(&tpath)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        for (mode, tr) in [("audio", None), ("transcript", transcript.as_ref())] {
            let mut cfg = TurnConfig::from_dials(&dials, audio.rate_hz);
            cfg.barge_in_confirm_ms = confirm_ms.unwrap_or(cfg.barge_in_confirm_ms);
            cfg.barge_in_confirm_with_words_ms =
                confirm_with_words_ms.unwrap_or(cfg.barge_in_confirm_with_words_ms);
            cfg.echo_gate = echo_gate;
            cfg.vad.model_min_p = model_p.0.unwrap_or(cfg.vad.model_min_p);
            cfg.vad.model_continue_p = model_p.1.unwrap_or(cfg.vad.model_continue_p);
            cfg.vad.steady_acf_change = steady.unwrap_or(cfg.vad.steady_acf_change);
            let events = replay_with_config(&audio.samples, audio.rate_hz, &bot, tr, cfg)?;
            let body = serde_json::json!({ "events": events });
            std::fs::write(
                out.join(mode).join(format!("{id}.events.json")),
                body.to_string(),
            )?;
        }
        n += 1;
    }
    eprintln!("{n} scenarios replayed into {}", out.display());
    Ok(())
}
