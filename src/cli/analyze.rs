//! `ratiba analyze`: Replay a recording through the turn-taking engine on a virtual clock.
//!
//! The recording goes through exactly the live inbound path
//! ([`InboundAudio`]: 20 ms framing at the line's rate, resampling only for
//! rates other than 8 and 16 kHz, the VAD and the [`TurnEngine`] configured
//! by [`TurnConfig::from_dials`]), frame by frame on a virtual clock.
//! `tests/voice_one_path.rs` checks that a live call on loopback decides
//! the same events as [`replay_cues`] on the same audio. Bot playback follows
//! `--bot-speaking` (started / marks every 100 ms / finished, open-loop as
//! the corpus scoring assumes), and transcript words are released to the
//! engine only at their `end_ms + 200 ms` (a streaming recogniser's delay).
//! Dials default to the demo tenant's (every switch on, default numbers);
//! `--dial NAME=VALUE` overrides one.
//!
//! Output (`--json`): `{"events":[{"t_ms":1234,"type":"speech_start"},...]}`
//! with types speech_start, speech_end, end_of_turn, barge_in, backchannel and
//! listening_ack; `t_ms` is the audio time at which the engine decided.

use crate::core::audio::wav;
use crate::core::turn::inbound::FRAME_MS;
use crate::core::turn::{
    Cue, Floor, InboundAudio, LineCodec, TranscriptUpdate, TranscriptWord, TurnConfig, TurnDials,
    TurnEngine, TurnEvent, TurnInput, TurnOutput, engine_rate,
};
use anyhow::{Context, bail};
use clap::Args as ClapArgs;
use std::time::{Duration, Instant};

/// Replay a recording through the turn-taking engine on a virtual clock.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// WAV file: 8 or 16 kHz, 16-bit PCM or mu-law.
    pub file: std::path::PathBuf,
    /// Bot playback intervals, ms from file start: START-END,START-END,...
    #[arg(long)]
    pub bot_speaking: Option<String>,
    /// Transcript sidecar in the corpus format.
    #[arg(long)]
    pub transcript: Option<std::path::PathBuf>,
    /// Tenant dial override, NAME=VALUE (repeatable).
    #[arg(long = "dial")]
    pub dials: Vec<String>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Recogniser delay assumed for replayed transcripts.
pub const WORD_RELEASE_DELAY_MS: i64 = 200;

/// One replay event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReplayEvent {
    pub t_ms: i64,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// A word of a corpus transcript.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct CorpusWord {
    pub text: String,
    pub start_ms: i64,
    pub end_ms: i64,
}

/// A corpus transcript sidecar.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct CorpusTranscript {
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub words: Vec<CorpusWord>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let audio = wav::parse(&bytes).with_context(|| format!("parsing {}", args.file.display()))?;
    let bot = match &args.bot_speaking {
        Some(s) => parse_intervals(s)?,
        None => Vec::new(),
    };
    let transcript = match &args.transcript {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Some(
                serde_json::from_str::<CorpusTranscript>(&text)
                    .with_context(|| format!("parsing {}", p.display()))?,
            )
        }
        None => None,
    };
    let mut dials = TurnDials::all_on();
    for d in &args.dials {
        let Some((name, value)) = d.split_once('=') else {
            bail!("--dial expects NAME=VALUE, got {d:?}");
        };
        TurnConfig::apply_dial(&mut dials, name.trim(), value.trim())
            .map_err(anyhow::Error::msg)?;
    }
    let events = replay(
        &audio.samples,
        audio.rate_hz,
        &bot,
        transcript.as_ref(),
        &dials,
    )?;
    if args.json {
        println!("{}", serde_json::json!({ "events": events }));
    } else {
        for e in &events {
            println!("{:>8} ms  {}", e.t_ms, e.kind);
        }
    }
    Ok(())
}

/// `START-END,START-END` in ms.
pub fn parse_intervals(s: &str) -> anyhow::Result<Vec<(i64, i64)>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((a, b)) = part.split_once('-') else {
            bail!("bot interval {part:?} is not START-END");
        };
        let (a, b): (i64, i64) = (a.trim().parse()?, b.trim().parse()?);
        if b <= a || a < 0 {
            bail!("bot interval {part:?} is empty or negative");
        }
        out.push((a, b));
    }
    out.sort();
    Ok(out)
}

/// Replay samples at `rate_hz` through the live inbound path and engine.
pub fn replay(
    samples: &[i16],
    rate_hz: u32,
    bot: &[(i64, i64)],
    transcript: Option<&CorpusTranscript>,
    dials: &TurnDials,
) -> anyhow::Result<Vec<ReplayEvent>> {
    let cfg = TurnConfig::from_dials(dials, engine_rate(rate_hz));
    replay_with_config(samples, rate_hz, bot, transcript, cfg)
}

/// [`replay`] with an explicit engine configuration (for measuring the
/// engine's constants; `sample_rate_hz` and `expect_transcripts` are set
/// here).
pub fn replay_with_config(
    samples: &[i16],
    rate_hz: u32,
    bot: &[(i64, i64)],
    transcript: Option<&CorpusTranscript>,
    cfg: TurnConfig,
) -> anyhow::Result<Vec<ReplayEvent>> {
    // Bot schedule as (time, what): started / mark / finished, per window.
    let mut cues: Vec<(i64, usize, Cue)> = Vec::new();
    for (k, &(a, b)) in bot.iter().enumerate() {
        let utterance = k as u64 + 1;
        cues.push((a, k, Cue::BotStarted { utterance }));
        let mut m = a + 100;
        while m < b {
            let heard_ms = (m - a) as u32;
            cues.push((
                m,
                k,
                Cue::BotMark {
                    utterance,
                    heard_ms,
                },
            ));
            m += 100;
        }
        cues.push((b, k, Cue::BotFinished { utterance }));
    }
    cues.sort_by_key(|&(t, _, cue)| (t, cue_order(cue)));
    run_replay(
        samples,
        rate_hz,
        Schedule::Windows { bot, cues },
        transcript,
        cfg,
    )
}

/// Replays a call: its caller audio with the cues its engine was fed (bot
/// playback, holding, the dialog's expectation) at their audio-clock times
/// (ms), and its transcript's words at `end_ms + 200 ms`, as the scripted
/// recognizer releases them. The events are those the call's engine
/// decided, if the call ran this same path.
pub fn replay_cues(
    samples: &[i16],
    rate_hz: u32,
    cues: &[(u64, Cue)],
    transcript: Option<&CorpusTranscript>,
    dials: &TurnDials,
) -> anyhow::Result<Vec<ReplayEvent>> {
    let cfg = TurnConfig::from_dials(dials, engine_rate(rate_hz));
    let cues = cues
        .iter()
        .map(|&(t, cue)| (i64::try_from(t).unwrap_or(i64::MAX), 0, cue))
        .collect();
    run_replay(samples, rate_hz, Schedule::Cues(cues), transcript, cfg)
}

/// The event types `ratiba analyze` reports (the scored ones); the others
/// are the driver's business.
pub fn reported(event: TurnEvent) -> Option<&'static str> {
    match event {
        TurnEvent::SpeechStart
        | TurnEvent::SpeechEnd
        | TurnEvent::EndOfTurn
        | TurnEvent::BargeIn
        | TurnEvent::Backchannel
        | TurnEvent::ListeningAck { .. } => Some(event.name()),
        TurnEvent::FloorChanged { .. } | TurnEvent::SpeakingRate { .. } | TurnEvent::NoInput => {
            None
        }
    }
}

/// Started before marks before finished at one instant.
fn cue_order(cue: Cue) -> u8 {
    match cue {
        Cue::BotStarted { .. } => 0,
        Cue::BotMark { .. } => 1,
        Cue::BotFinished { .. } => 2,
        Cue::Holding { .. } | Cue::Expecting { .. } => 3,
    }
}

/// Where the bot's playback comes from in a replay.
enum Schedule<'a> {
    /// Open-loop windows (`--bot-speaking`, the corpus scoring), with a
    /// reply started when the caller's turn ends inside one; each cue
    /// carries its window.
    Windows {
        bot: &'a [(i64, i64)],
        cues: Vec<(i64, usize, Cue)>,
    },
    /// Exactly the cues a call fed its engine, in order.
    Cues(Vec<(i64, usize, Cue)>),
}

impl Schedule<'_> {
    fn cues(&self) -> &[(i64, usize, Cue)] {
        match self {
            Schedule::Windows { cues, .. } | Schedule::Cues(cues) => cues,
        }
    }
}

fn run_replay(
    samples: &[i16],
    rate_hz: u32,
    schedule: Schedule<'_>,
    transcript: Option<&CorpusTranscript>,
    mut cfg: TurnConfig,
) -> anyhow::Result<Vec<ReplayEvent>> {
    if !(8_000..=48_000).contains(&rate_hz) {
        bail!("unsupported sample rate {rate_hz} Hz (8000..=48000)");
    }
    let t0 = Instant::now();
    let at = |ms: i64| t0 + Duration::from_millis(ms.max(0) as u64);
    // The live inbound path: 20 ms frames, the engine at the line's rate.
    let mut inbound = InboundAudio::new(LineCodec::L16Le, rate_hz, t0)?;
    cfg.sample_rate_hz = inbound.engine_rate();
    cfg.expect_transcripts = transcript.is_some();
    let mut engine = TurnEngine::new(cfg, t0);
    let language = transcript
        .and_then(|t| t.language.as_deref())
        .map(crate::runtime::call_turns::recognizer_lang);
    let mut words: Vec<&CorpusWord> = transcript
        .map(|t| t.words.iter().collect())
        .unwrap_or_default();
    words.sort_by_key(|w| w.end_ms);
    let mut next_word = 0;
    let cues = schedule.cues();
    // The utterance each window's cues refer to (a reply renames it).
    let windows = match &schedule {
        Schedule::Windows { bot, .. } => bot.len() as u64,
        Schedule::Cues(_) => 0,
    };
    let mut window_utt: Vec<u64> = (1..=windows).collect();
    let mut replies = 0u64;
    let mut last_eot_ms: Option<i64> = None;
    let mut next_cue = 0;
    let frame = inbound_frame_len(rate_hz);
    let mut events = Vec::new();
    let drain =
        |engine: &mut TurnEngine, events: &mut Vec<ReplayEvent>, last_eot: &mut Option<i64>| {
            while let Some(o) = engine.poll_output() {
                let TurnOutput::Event { at: when, event } = o else {
                    continue; // playback commands: the replay plays nothing
                };
                let Some(kind) = reported(event) else {
                    continue;
                };
                let t_ms = when.saturating_duration_since(t0).as_millis() as i64;
                if event == TurnEvent::EndOfTurn {
                    *last_eot = Some(t_ms);
                }
                events.push(ReplayEvent { t_ms, kind });
            }
        };
    let total_ms = samples.len() as i64 * 1000 / i64::from(rate_hz);
    let mut pos = 0usize;
    loop {
        let start_ms = pos as i64 * 1000 / i64::from(rate_hz);
        // Inputs due by the start of this frame, in time order.
        loop {
            let cue_t = cues.get(next_cue).map(|x| x.0).unwrap_or(i64::MAX);
            let word_t = words
                .get(next_word)
                .map(|w| w.end_ms + WORD_RELEASE_DELAY_MS)
                .unwrap_or(i64::MAX);
            let t = cue_t.min(word_t);
            if t > start_ms {
                break;
            }
            if cue_t <= word_t {
                let (_, window, cue) = cues[next_cue];
                next_cue += 1;
                let cue = match (&schedule, cue) {
                    (Schedule::Windows { .. }, Cue::BotStarted { .. }) => Cue::BotStarted {
                        utterance: window_utt[window],
                    },
                    (Schedule::Windows { .. }, Cue::BotMark { heard_ms, .. }) => Cue::BotMark {
                        utterance: window_utt[window],
                        heard_ms,
                    },
                    (Schedule::Windows { .. }, Cue::BotFinished { .. }) => Cue::BotFinished {
                        utterance: window_utt[window],
                    },
                    (_, cue) => cue,
                };
                engine.handle_input(cue.input(at(t)));
            } else {
                let w = words[next_word];
                next_word += 1;
                let update = TranscriptUpdate {
                    words: vec![TranscriptWord {
                        text: w.text.clone(),
                        start: at(w.start_ms),
                        end: at(w.end_ms),
                    }],
                    language,
                    is_final: true,
                };
                engine.handle_input(TurnInput::Transcript { update, at: at(t) });
            }
            drain(&mut engine, &mut events, &mut last_eot_ms);
        }
        // Closed loop where the open-loop schedule allows it: when the
        // caller's turn ends inside a bot window, the bot answers with a new
        // reply, which the rest of the window's marks then refer to.
        if let Schedule::Windows { bot, .. } = &schedule
            && let Some(k) = active_window(bot, start_ms)
            && engine.floor() == Floor::Nobody
            && last_eot_ms.is_some_and(|e| e > bot[k].0)
        {
            replies += 1;
            window_utt[k] = 1000 + replies;
            engine.handle_input(TurnInput::BotStarted {
                utterance: window_utt[k],
                at: at(start_ms),
            });
            last_eot_ms = None;
            drain(&mut engine, &mut events, &mut last_eot_ms);
        }
        if pos >= samples.len() {
            break;
        }
        let end = (pos + frame).min(samples.len());
        inbound.push_pcm(&samples[pos..end], &mut engine, |_, _| {});
        drain(&mut engine, &mut events, &mut last_eot_ms);
        pos = end;
    }
    engine.handle_input(TurnInput::Timeout(at(total_ms)));
    drain(&mut engine, &mut events, &mut last_eot_ms);
    Ok(events)
}

/// Samples of one 20 ms frame at `rate_hz`.
fn inbound_frame_len(rate_hz: u32) -> usize {
    (rate_hz as usize * FRAME_MS as usize / 1000).max(1)
}

fn active_window(bot: &[(i64, i64)], t: i64) -> Option<usize> {
    bot.iter().position(|&(a, b)| a < t && t < b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_parse_and_reject_nonsense() {
        assert_eq!(
            parse_intervals("500-900, 100-200").unwrap(),
            vec![(100, 200), (500, 900)]
        );
        assert!(parse_intervals("5-3").is_err());
        assert!(parse_intervals("abc").is_err());
        assert_eq!(parse_intervals("").unwrap(), vec![]);
    }
}
