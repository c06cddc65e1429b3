//! What goes over a call's socket and what a call reports when it ends.

use bytes::Bytes;

use crate::adapters::telephony::Outbound;
use crate::core::dialog::handoff::CallHandoff;
use crate::core::ids::CallId;
use crate::runtime::call_turns::TurnLog;

/// A websocket message from the provider (bytes shared, not copied).
#[derive(Debug, Clone)]
pub enum SocketIn {
    Text(Bytes),
    Binary(Bytes),
}

/// A websocket message to the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketOut {
    Text(String),
    Binary(Vec<u8>),
    Close,
}

impl From<Outbound> for SocketOut {
    fn from(o: Outbound) -> Self {
        match o {
            Outbound::Text(t) => SocketOut::Text(t),
            Outbound::Binary(b) => SocketOut::Binary(b),
        }
    }
}

/// Why a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// The provider sent stop (the caller hung up).
    ProviderStop,
    /// The socket closed or failed.
    SocketClosed,
    /// The bot said goodbye and hung up.
    BotHungUp,
    /// The provider broke the protocol.
    ProtocolError(String),
    Shutdown,
    Idle,
}

/// Who said a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    Caller,
    Bot,
}

/// One line of the call's transcript, times on the audio clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportLine {
    pub speaker: Speaker,
    pub at_ms: u64,
    pub text: String,
    /// Bot lines: cut short by the caller.
    pub interrupted: bool,
    /// Bot lines: milliseconds the caller heard.
    pub heard_ms: u64,
}

/// What happened on a call (for logs, tests and the simulated caller).
#[derive(Debug, Clone)]
pub struct CallReport {
    pub call_id: CallId,
    pub end: EndReason,
    pub lines: Vec<ReportLine>,
    /// Audio-clock time of each caller onset that paused the bot, with the
    /// audio-clock time the clear was sent.
    pub barge_ins: Vec<(u64, u64)>,
    /// Listening acknowledgements played.
    pub listening_acks: u32,
    /// The turn engine's events and the cues it was fed, on the audio clock.
    pub turn_log: TurnLog,
    /// The call was handed to a person: put through or promised a call
    /// back (and whether the provider did what it was asked).
    pub handoff: Option<(CallHandoff, bool)>,
}
