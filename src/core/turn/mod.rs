//! The duplex turn-taking engine: who holds the floor, when the caller's turn
//! ends, when caller speech over the bot is a barge-in and when it is only
//! "mm-hmm".
//!
//! # Contract (sans-IO)
//!
//! [`TurnEngine`] never reads a clock, sleeps or touches a socket.
//!
//! * [`TurnEngine::new`]`(config, now)` makes one engine per call.
//! * [`TurnEngine::handle_input`] takes one [`TurnInput`]: caller audio frames
//!   (i16 PCM at `config.sample_rate_hz`, any length, 20 ms is the norm, with
//!   the time of their first sample), bot playback progress (a reply started,
//!   a mark echoed = the caller has heard up to here, the reply finished),
//!   speech-to-text words with their timings (finals, and interim results
//!   as provisional words that the next update replaces), `Timeout(now)`, holding on/off
//!   and the dialog's hint that digits or a date are expected.
//! * After every input, drain [`TurnEngine::poll_output`] until `None`, then
//!   arm one timer at [`TurnEngine::next_timeout`] and call
//!   `handle_input(TurnInput::Timeout(now))` when it expires. Extra or early
//!   timeouts are harmless; time never runs backwards (an older `now` is
//!   treated as the latest one seen).
//!
//! Outputs are events (speech start / end, end of turn, barge-in, backchannel,
//! listening ack, floor changes, speaking-rate factor, hold reassurance, no
//! input) and playback commands (pause keeping the unplayed rest, resume from
//! where the caller last heard, stop for good, stop synthesis). Event times
//! are decision times: the moment the engine could first know.
//!
//! # States
//!
//! ```text
//!              caller speech run                      silence >= delay(words)
//!   Idle ───────────────────────────▶ CallerTurn ──────────────────────────▶ Idle
//!    ▲  ╲ BotStarted                 (speaking ⇄ pausing)   end_of_turn       ▲
//!    │   ╲                                ▲                                   │
//!    │    ▼         first voiced frame    │ confirmed: barge_in,              │
//!    │  BotSpeaking ─────────────────▶ BotPaused ── stop playback ───────────┘
//!    │    │  ▲  (after echo guard)   (playback paused, rest kept)
//!    │    │  └──── resume from heard mark ◀── backchannel / noise /
//!    │    │                                  window expired
//!    └────┘ BotFinished
//! ```
//!
//! * **Endpointing.** After the caller's last speech frame the turn ends after
//!   `min_delay_ms` when the words sound complete (closing word, sentence
//!   punctuation, a full phone number), `max_delay_ms` when unfinished
//!   ("… on", "… na", a half-said number, a hesitation, or the dialog expects
//!   digits or a date), and `eot_silence_ms` otherwise or without words. A
//!   voiced frame at the deadline postpones it briefly.
//! * **Barge-in** in two steps: the first voiced caller frame after the echo
//!   guard pauses playback (`PausePlayback`, rest kept); a stop word, any word
//!   that is not a backchannel, or a speech run long enough (and not a
//!   closed-mouth hum: low in the spectrum and steady in level) confirms it
//!   (`barge_in`, `StopPlayback`, floor to the caller). "Long enough" is
//!   `barge_in_confirm_ms`, or `barge_in_confirm_with_words_ms` when a
//!   recogniser is attached, unless the run's onset is as loud as the
//!   caller's own speech (their turns' voiced frames), which is the caller
//!   taking the turn. A run that ends
//!   short (once the caller has then been quiet for 250 ms), a run of
//!   backchannel words, or nothing within `barge_in_window_ms` resumes
//!   playback from the last heard mark; a new
//!   run within 500 ms of a short one continues it (their speech adds up).
//! * **Hard interrupt**: a confirmed barge-in also stops synthesis (the rest
//!   of the reply is dropped), and a second unexplained interruption in one
//!   reply confirms at once.
//! * **Half duplex** (`full_duplex` off): caller audio over the bot is ignored
//!   except stop words, which stop the bot at once.
//! * **Holding** (payment wait): no no-input timeout; caller speech is still
//!   heard and still makes turns. Reassuring the caller is the hold's job
//!   (`core::payment::hold`), not the engine's: one owner, one cadence.
//! * **No input**: once the bot has finished (or the caller's turn ended)
//!   and nobody speaks for 10 s, a `NoInput` event; the driver asks whether
//!   the caller is still there, and ends the call after a second one.
//! * **Echo guard**: caller sound in the first `echo_guard_ms` of each reply
//!   (and of each resume) is taken for line echo of the bot and does not
//!   pause it; a frame after the guard that is still voiced does.
//! * **Listening acks** in long caller turns at short pauses, rate-limited,
//!   never while the caller is speaking. **Speaking rate**: words per second
//!   (or voiced bursts per second without words) at each end of turn, mapped
//!   to a bounded factor.

mod config;
mod echo;
mod engine;
pub mod inbound;
mod level;
pub mod lexicon;
mod timers;

pub use config::{
    DEFAULT_EOT_SILENCE_MS, DEFAULT_MAX_DELAY_MS, DEFAULT_MIN_DELAY_MS, TurnConfig, TurnDials,
};
pub use engine::TurnEngine;
pub use inbound::{InboundAudio, LineCodec, engine_rate};
pub use timers::{Timer, Timers};

use std::time::Instant;

/// Caller language, for listening acknowledgements (the one language type).
pub use crate::core::ids::Lang;

/// What the dialog expects next. Digits, a date or a phone number lengthen
/// endpointing (callers pause while they read or recall them); a yes or no
/// does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Expectation {
    #[default]
    Anything,
    Digits,
    Date,
    PhoneNumber,
    YesNo,
}

impl Expectation {
    /// Whether a neutral or unknown ending waits the longest silence.
    pub fn lengthens_endpointing(self) -> bool {
        match self {
            Expectation::Digits | Expectation::Date | Expectation::PhoneNumber => true,
            Expectation::Anything | Expectation::YesNo => false,
        }
    }

    /// Whether the turn's words (normalised) answer the expectation
    /// outright: a yes or a no among the first two words of the answer to
    /// a yes-or-no question. Only a neutral ending is shortened by this; an
    /// unfinished one ("yes, and …") still waits.
    pub fn answered_by<'a>(self, mut words: impl Iterator<Item = &'a str>) -> bool {
        match self {
            Expectation::YesNo => words.by_ref().take(2).any(|w| YES_OR_NO.contains(&w)),
            Expectation::Anything
            | Expectation::Digits
            | Expectation::Date
            | Expectation::PhoneNumber => false,
        }
    }

    /// Stable name for logs and replays.
    pub fn name(self) -> &'static str {
        match self {
            Expectation::Anything => "anything",
            Expectation::Digits => "digits",
            Expectation::Date => "date",
            Expectation::PhoneNumber => "phone_number",
            Expectation::YesNo => "yes_no",
        }
    }
}

/// Answers to a yes-or-no question (English, Swahili, Sheng).
const YES_OR_NO: &[&str] = &[
    "yes", "yeah", "yep", "yup", "no", "nope", "ndiyo", "ndio", "hapana", "sawa", "okay", "ok",
    "sure", "correct", "eeh", "aa",
];

/// A non-audio input as a driver fed it, without its time: what a call
/// keeps (with the audio-clock time) so that `ratiba analyze` can replay
/// the call's audio with exactly the same bot playback and dialog hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cue {
    BotStarted { utterance: u64 },
    BotMark { utterance: u64, heard_ms: u32 },
    BotFinished { utterance: u64 },
    Holding { on: bool },
    Expecting { what: Expectation },
}

impl Cue {
    /// The engine input for this cue at `at`.
    pub fn input(self, at: Instant) -> TurnInput<'static> {
        match self {
            Cue::BotStarted { utterance } => TurnInput::BotStarted { utterance, at },
            Cue::BotMark {
                utterance,
                heard_ms,
            } => TurnInput::BotMark {
                utterance,
                heard_ms,
                at,
            },
            Cue::BotFinished { utterance } => TurnInput::BotFinished { utterance, at },
            Cue::Holding { on } => TurnInput::Holding { on, at },
            Cue::Expecting { what } => TurnInput::Expecting { what, at },
        }
    }
}

/// One recognised word with its timing on the engine's clock.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptWord {
    pub text: String,
    pub start: Instant,
    pub end: Instant,
}

/// A recogniser update: words (a partial revises the words from its first
/// word's start on; a final fixes them).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TranscriptUpdate {
    pub words: Vec<TranscriptWord>,
    pub language: Option<Lang>,
    pub is_final: bool,
}

/// One way in.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnInput<'a> {
    /// Caller PCM at the configured rate; `at` is the time of its first sample.
    CallerAudio { samples: &'a [i16], at: Instant },
    /// The bot started playing reply `utterance`.
    BotStarted { utterance: u64, at: Instant },
    /// The provider echoed a mark: the caller has heard `heard_ms` of the reply.
    BotMark {
        utterance: u64,
        heard_ms: u32,
        at: Instant,
    },
    /// Reply `utterance` finished playing (its last mark came back).
    BotFinished { utterance: u64, at: Instant },
    /// Speech-to-text words.
    Transcript {
        update: TranscriptUpdate,
        at: Instant,
    },
    /// Holding mode (payment wait) on or off.
    Holding { on: bool, at: Instant },
    /// The dialog's expectation for the next answer.
    Expecting { what: Expectation, at: Instant },
    /// A timer armed from [`TurnEngine::next_timeout`] expired (or any time).
    Timeout(Instant),
}

/// Who holds the floor. At most one party, by construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Floor {
    #[default]
    Nobody,
    Caller,
    Bot,
}

/// Something the engine decided.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TurnEvent {
    SpeechStart,
    SpeechEnd,
    EndOfTurn,
    /// Confirmed interruption: playback is cleared for good.
    BargeIn,
    /// Caller acknowledgement over the bot, not an interruption.
    Backchannel,
    /// Say a soft "mm-hmm" / "ndiyo" now.
    ListeningAck {
        language: Lang,
    },
    FloorChanged {
        floor: Floor,
    },
    /// Synthesis speed factor from the caller's speaking rate.
    SpeakingRate {
        factor: f32,
    },
    /// Nobody has said anything for a long while.
    NoInput,
}

impl TurnEvent {
    /// The `type` string of `ratiba analyze --json`.
    pub fn name(&self) -> &'static str {
        match self {
            TurnEvent::SpeechStart => "speech_start",
            TurnEvent::SpeechEnd => "speech_end",
            TurnEvent::EndOfTurn => "end_of_turn",
            TurnEvent::BargeIn => "barge_in",
            TurnEvent::Backchannel => "backchannel",
            TurnEvent::ListeningAck { .. } => "listening_ack",
            TurnEvent::FloorChanged { .. } => "floor_changed",
            TurnEvent::SpeakingRate { .. } => "speaking_rate",
            TurnEvent::NoInput => "no_input",
        }
    }
}

/// What the call task must do to playback and synthesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaybackCommand {
    /// Clear the provider's buffer now, keep the unplayed rest from `heard_ms`.
    Pause { utterance: u64, heard_ms: u32 },
    /// Play the kept rest again from `from_ms`.
    Resume { utterance: u64, from_ms: u32 },
    /// Clear the provider's buffer for good.
    Stop { utterance: u64 },
    /// Stop synthesising the rest of the reply and drop it.
    StopSynthesis { utterance: u64 },
}

/// One way out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TurnOutput {
    Event {
        at: Instant,
        event: TurnEvent,
    },
    Command {
        at: Instant,
        command: PlaybackCommand,
    },
}

#[cfg(test)]
mod tests;
