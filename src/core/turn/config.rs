//! [`TurnConfig`]: the tenant's voice_* dials plus the engine's measured
//! constants.

use crate::core::vad::VadConfig;

/// The tenant dials as stored (public.tenants); `None` means "use the
/// project default".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TurnDials {
    pub voice_full_duplex_enabled: bool,
    pub voice_backchannel_filter: bool,
    pub voice_hard_interrupt: bool,
    pub voice_listening_ack: bool,
    pub voice_adaptive_speed: bool,
    pub voice_eot_silence_ms: Option<i32>,
    pub voice_endpointing_min_delay_ms: Option<i32>,
    pub voice_endpointing_max_delay_ms: Option<i32>,
}

impl TurnDials {
    /// Every switch on, numbers at their defaults (the demo tenant).
    pub fn all_on() -> Self {
        Self {
            voice_full_duplex_enabled: true,
            voice_backchannel_filter: true,
            voice_hard_interrupt: true,
            voice_listening_ack: true,
            voice_adaptive_speed: true,
            ..Self::default()
        }
    }
}

/// Default silence that ends a turn when the words say nothing either way
/// (or there are no words): long enough for most mid-sentence pauses.
pub const DEFAULT_EOT_SILENCE_MS: u32 = 850;
/// Default floor of the adaptive window (after a complete-sounding answer).
pub const DEFAULT_MIN_DELAY_MS: u32 = 250;
/// Default ceiling (unfinished sentence, half-said number, expected digits).
pub const DEFAULT_MAX_DELAY_MS: u32 = 1300;

/// Everything the engine needs to know, fixed for a call.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnConfig {
    /// Sample rate of the caller frames handed to the engine.
    pub sample_rate_hz: u32,
    /// voice_full_duplex_enabled: caller speech may interrupt the bot.
    /// Off: half duplex, only stop words interrupt.
    pub full_duplex: bool,
    /// voice_backchannel_filter: short acknowledgements do not interrupt.
    pub backchannel_filter: bool,
    /// voice_hard_interrupt: a second interruption in one reply cancels it.
    pub hard_interrupt: bool,
    /// voice_listening_ack: ask for "mm-hmm" in long caller turns.
    pub listening_ack: bool,
    /// voice_adaptive_speed: emit a speaking-rate factor for synthesis.
    pub adaptive_speed: bool,
    /// voice_eot_silence_ms: silence ending a turn when words are neutral.
    pub eot_silence_ms: u32,
    /// voice_endpointing_min_delay_ms: silence after a complete answer.
    pub min_delay_ms: u32,
    /// voice_endpointing_max_delay_ms: silence after an unfinished one.
    pub max_delay_ms: u32,
    /// A streaming recogniser feeds words: barge-in waits a little longer
    /// for them before judging by sound alone.
    pub expect_transcripts: bool,
    /// Added to `eot_silence_ms` for neutral endings when words are expected.
    pub neutral_extra_with_words_ms: u32,
    /// Caller sounds in the first ms of bot playback are treated as echo.
    pub echo_guard_ms: u32,
    /// Tell line echo of the bot from the caller by its onset with the
    /// reply and its level (`core::turn::echo`).
    pub echo_gate: bool,
    /// Voiced run length that confirms a barge-in without words. Runs start
    /// at the first voiced frame, after any unvoiced onset ("S-", "H-"), so
    /// this is about 300 ms of the word: a one-syllable "No." / "Sorry"
    /// interrupts, while hums and very quiet sounds are held off by other
    /// rules (duration alone cannot tell "okay" from "Sorry").
    pub barge_in_confirm_ms: u32,
    /// Same, when words are expected (the recogniser gets a chance first).
    pub barge_in_confirm_with_words_ms: u32,
    /// A tentative pause not confirmed within this resumes the bot.
    pub barge_in_window_ms: u32,
    /// Listening ack: caller turn length before the first one.
    pub listening_ack_after_ms: u32,
    /// Listening ack: pause length that triggers one.
    pub listening_ack_pause_ms: u32,
    /// Listening ack: minimum gap between two.
    pub listening_ack_gap_ms: u32,
    /// Speaking rate factor bounds.
    pub rate_factor_min: f32,
    pub rate_factor_max: f32,
    /// The voice activity detector's thresholds.
    pub vad: VadConfig,
}

impl Default for TurnConfig {
    fn default() -> Self {
        Self::from_dials(&TurnDials::all_on(), 16_000)
    }
}

impl TurnConfig {
    /// Build from the tenant dials; out-of-range numbers are clamped to
    /// sane bounds (min <= eot <= max, all within 100..=5000 ms).
    pub fn from_dials(d: &TurnDials, sample_rate_hz: u32) -> Self {
        let ms = |v: Option<i32>, def: u32| -> u32 {
            v.map(|x| x.clamp(100, 5000) as u32).unwrap_or(def)
        };
        let min_delay_ms = ms(d.voice_endpointing_min_delay_ms, DEFAULT_MIN_DELAY_MS);
        let max_delay_ms =
            ms(d.voice_endpointing_max_delay_ms, DEFAULT_MAX_DELAY_MS).max(min_delay_ms);
        let eot_silence_ms =
            ms(d.voice_eot_silence_ms, DEFAULT_EOT_SILENCE_MS).clamp(min_delay_ms, max_delay_ms);
        Self {
            sample_rate_hz,
            full_duplex: d.voice_full_duplex_enabled,
            backchannel_filter: d.voice_backchannel_filter,
            hard_interrupt: d.voice_hard_interrupt,
            listening_ack: d.voice_listening_ack,
            adaptive_speed: d.voice_adaptive_speed,
            eot_silence_ms,
            min_delay_ms,
            max_delay_ms,
            expect_transcripts: false,
            neutral_extra_with_words_ms: 50,
            echo_guard_ms: 150,
            echo_gate: true,
            barge_in_confirm_ms: 220,
            barge_in_confirm_with_words_ms: 700,
            barge_in_window_ms: 1500,
            listening_ack_after_ms: 3000,
            listening_ack_pause_ms: 450,
            listening_ack_gap_ms: 6000,
            rate_factor_min: 0.85,
            rate_factor_max: 1.15,
            vad: VadConfig::default(),
        }
    }

    /// Apply a `NAME=VALUE` dial override (the `--dial` of `ratiba analyze`).
    pub fn apply_dial(dials: &mut TurnDials, name: &str, value: &str) -> Result<(), String> {
        let flag = || match value {
            "true" | "1" | "on" | "yes" => Ok(true),
            "false" | "0" | "off" | "no" => Ok(false),
            _ => Err(format!("{name}: expected true/false, got {value:?}")),
        };
        let num = || -> Result<Option<i32>, String> {
            if value == "null" || value.is_empty() {
                return Ok(None);
            }
            value
                .parse()
                .map(Some)
                .map_err(|_| format!("{name}: expected a number, got {value:?}"))
        };
        match name {
            "voice_full_duplex_enabled" => dials.voice_full_duplex_enabled = flag()?,
            "voice_backchannel_filter" => dials.voice_backchannel_filter = flag()?,
            "voice_hard_interrupt" => dials.voice_hard_interrupt = flag()?,
            "voice_listening_ack" => dials.voice_listening_ack = flag()?,
            "voice_adaptive_speed" => dials.voice_adaptive_speed = flag()?,
            "voice_eot_silence_ms" => dials.voice_eot_silence_ms = num()?,
            "voice_endpointing_min_delay_ms" => dials.voice_endpointing_min_delay_ms = num()?,
            "voice_endpointing_max_delay_ms" => dials.voice_endpointing_max_delay_ms = num()?,
            _ => return Err(format!("unknown dial {name:?}")),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_clamping() {
        let c = TurnConfig::from_dials(&TurnDials::default(), 8000);
        assert!(!c.full_duplex && !c.backchannel_filter);
        assert_eq!(
            (c.min_delay_ms, c.eot_silence_ms, c.max_delay_ms),
            (
                DEFAULT_MIN_DELAY_MS,
                DEFAULT_EOT_SILENCE_MS,
                DEFAULT_MAX_DELAY_MS
            )
        );
        let d = TurnDials {
            voice_eot_silence_ms: Some(50_000),
            voice_endpointing_min_delay_ms: Some(-3),
            voice_endpointing_max_delay_ms: Some(900),
            ..TurnDials::all_on()
        };
        let c = TurnConfig::from_dials(&d, 16000);
        assert_eq!(
            (c.min_delay_ms, c.eot_silence_ms, c.max_delay_ms),
            (100, 900, 900)
        );
    }

    #[test]
    fn dial_overrides() {
        let mut d = TurnDials::default();
        TurnConfig::apply_dial(&mut d, "voice_hard_interrupt", "true").unwrap();
        TurnConfig::apply_dial(&mut d, "voice_eot_silence_ms", "700").unwrap();
        assert!(d.voice_hard_interrupt);
        assert_eq!(d.voice_eot_silence_ms, Some(700));
        assert!(TurnConfig::apply_dial(&mut d, "voice_bogus", "1").is_err());
        assert!(TurnConfig::apply_dial(&mut d, "voice_listening_ack", "maybe").is_err());
    }
}
