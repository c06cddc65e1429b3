//! Voice-to-voice latency of a simulated call (`ratiba call --json`): from
//! the end of each stretch of the caller's speech in the file to the first
//! bot audio the caller heard after it.

use super::BotSegment;
use crate::adapters::speech::scripted::Transcript;
use crate::core::audio::wav;

/// One answer: the caller stopped speaking (in the file's timeline) and the
/// bot's first audio after it reached the simulated caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct AnswerLatency {
    pub caller_end_ms: u64,
    pub bot_audio_ms: u64,
    pub response_ms: u64,
}

/// Voice-to-voice latency of a call (`ratiba call --json`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Latency {
    pub turns: Vec<AnswerLatency>,
    pub response_ms_p50: Option<u64>,
    pub response_ms_p90: Option<u64>,
}

/// A caller's words closer than this belong to one stretch of speech (the
/// same grouping as the printed conversation).
const SAME_STRETCH_MS: u64 = 700;

/// Stretches of caller speech (start, end) in the file, from its transcript.
pub fn speech_from_transcript(t: &Transcript) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for w in &t.words {
        match out.last_mut() {
            Some((_, end)) if w.start_ms.saturating_sub(*end) < SAME_STRETCH_MS => {
                *end = (*end).max(w.end_ms);
            }
            _ => out.push((w.start_ms, w.end_ms)),
        }
    }
    out
}

/// The same, measured by the turn engine's voice activity detector on the
/// file (no transcript): its speech runs, less the detector's hangover.
pub fn speech_from_audio(audio: &wav::Wav) -> anyhow::Result<Vec<(u64, u64)>> {
    use crate::core::turn::{TurnConfig, TurnDials};
    let hangover = u64::from(
        TurnConfig::from_dials(&TurnDials::all_on(), audio.rate_hz)
            .vad
            .hangover_ms,
    );
    let events = crate::cli::analyze::replay(
        &audio.samples,
        audio.rate_hz,
        &[],
        None,
        &TurnDials::all_on(),
    )?;
    let mut out: Vec<(u64, u64)> = Vec::new();
    let mut start = None;
    for e in events {
        let t = u64::try_from(e.t_ms).unwrap_or(0);
        match e.kind {
            "speech_start" => start = Some(t),
            "speech_end" => {
                if let Some(s) = start.take() {
                    let end = t.saturating_sub(hangover).max(s);
                    match out.last_mut() {
                        Some((_, last)) if s.saturating_sub(*last) < SAME_STRETCH_MS => *last = end,
                        _ => out.push((s, end)),
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

impl Latency {
    /// Each stretch of caller speech that began while the bot was silent
    /// (a stretch over the bot is a barge-in or an acknowledgement, not a
    /// turn the bot answers), and the first bot audio after it, unless the
    /// caller spoke again first.
    pub fn of(speech: &[(u64, u64)], segments: &[BotSegment]) -> Self {
        let over_bot = |t: u64| segments.iter().any(|s| s.start_ms <= t && t < s.end_ms);
        let mut turns = Vec::new();
        for (k, &(start, end)) in speech.iter().enumerate() {
            if over_bot(start) {
                continue;
            }
            let Some(bot) = segments.iter().find(|s| s.start_ms >= end) else {
                continue;
            };
            let spoke_again = speech
                .get(k + 1)
                .is_some_and(|&(next, _)| next < bot.start_ms);
            if spoke_again {
                continue;
            }
            turns.push(AnswerLatency {
                caller_end_ms: end,
                bot_audio_ms: bot.start_ms,
                response_ms: bot.start_ms - end,
            });
        }
        let mut sorted: Vec<u64> = turns.iter().map(|t| t.response_ms).collect();
        sorted.sort_unstable();
        let rank = |q: f64| -> Option<u64> {
            let n = sorted.len();
            (n > 0).then(|| sorted[((q * n as f64).ceil() as usize).clamp(1, n) - 1])
        };
        Self {
            response_ms_p50: rank(0.5),
            response_ms_p90: rank(0.9),
            turns,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(start_ms: u64, end_ms: u64, cleared: bool) -> BotSegment {
        BotSegment {
            start_ms,
            end_ms,
            cleared,
        }
    }

    #[test]
    fn latency_counts_answers_to_turns_not_to_barge_ins_or_acknowledgements() {
        let speech = [
            (4_500, 8_600),   // a turn, answered at 9 100
            (10_000, 10_400), // "mm-hmm" over the answer
            (18_000, 19_300), // a turn, answered at 20 000
            (21_000, 22_000), // cuts into that answer: a barge-in
            (30_000, 30_500), // nothing after it
        ];
        let segments = [
            seg(200, 3_000, false),
            seg(9_100, 15_000, false),
            seg(20_000, 21_200, true),
            seg(22_900, 25_000, false),
        ];
        let l = Latency::of(&speech, &segments);
        let got: Vec<(u64, u64, u64)> = l
            .turns
            .iter()
            .map(|t| (t.caller_end_ms, t.bot_audio_ms, t.response_ms))
            .collect();
        assert_eq!(got, vec![(8_600, 9_100, 500), (19_300, 20_000, 700)]);
        assert_eq!(
            (l.response_ms_p50, l.response_ms_p90),
            (Some(500), Some(700))
        );
        let json = serde_json::to_value(&l).unwrap();
        assert_eq!(json["turns"][0]["response_ms"], 500);
        assert_eq!(json["response_ms_p90"], 700);
    }

    #[test]
    fn caller_speech_groups_words_closer_than_700ms() {
        let t = Transcript::parse(
            br#"{"words":[{"text":"a","start_ms":100,"end_ms":300},
            {"text":"b","start_ms":900,"end_ms":1200},
            {"text":"c","start_ms":2000,"end_ms":2400}]}"#,
        )
        .unwrap();
        assert_eq!(speech_from_transcript(&t), vec![(100, 1200), (2000, 2400)]);
    }
}
