//! Telephony media-stream codecs: one module per provider, each a pure
//! translation between that provider's websocket messages and the call
//! runtime's vocabulary ([`CallEvent`] in, [`Playback`] out).
//!
//! The codecs do no I/O and read no clock, so recorded provider traffic can be
//! replayed through them in tests and fuzzed. Every provider connects to us,
//! says who the call is (`start` or a first text message), streams caller
//! audio, echoes our playback markers once the audio before them has played,
//! and ends with a `stop` or by closing the socket. What differs is spelling,
//! the audio format and how playback is acknowledged and cleared; that is all
//! a codec knows.
//!
//! A codec is stateful per connection: it remembers whether the stream has
//! started, the stream id outbound messages must carry, the audio format, and
//! (for providers with framing rules, Vonage and Exotel) the outbound audio
//! that does not yet fill a whole frame.
//!
//! Inbound audio is written into a caller-owned buffer so that the per-frame
//! path allocates nothing; it stays in the provider's encoding (see
//! [`AudioFormat`]) and the runtime converts it with `core::audio`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use serde::{Deserialize, Deserializer};
use thiserror::Error;

pub mod browser;
pub mod control;
pub mod exotel;
pub mod media_token;
pub mod plivo;
pub mod signature;
pub mod telnyx;
pub mod twilio;
pub mod vonage;

/// Largest text message we parse. A 100 ms L16 16 kHz chunk (the biggest a
/// provider sends in one message) is ~4.3 KB of base64; anything far beyond
/// that is a misbehaving peer.
pub const MAX_TEXT_MESSAGE_BYTES: usize = 64 * 1024;

/// Read buffer of a media websocket. tungstenite zero-fills the free part of
/// its read buffer before every read, and its default (128 KiB) made that
/// memset the largest single cost of a call on the load bench (12 % of the
/// server's CPU) and 124 KiB of every call's memory. A media message is
/// 0.3-4.3 KB; a larger one is read in several steps, as the buffer grows.
pub const SOCKET_READ_BUFFER_BYTES: usize = 4 * 1024;
/// Largest decoded audio payload in one inbound message (1 s of L16 16 kHz).
pub const MAX_AUDIO_PAYLOAD_BYTES: usize = 32 * 1024;

/// The telephony providers whose media streams we speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Provider {
    Twilio,
    Telnyx,
    Plivo,
    Vonage,
    Exotel,
    /// Our own call page in a browser (`GET /call/{slug}`).
    Browser,
}

impl Provider {
    pub const ALL: [Provider; 6] = [
        Provider::Twilio,
        Provider::Telnyx,
        Provider::Plivo,
        Provider::Vonage,
        Provider::Exotel,
        Provider::Browser,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Twilio => "twilio",
            Provider::Telnyx => "telnyx",
            Provider::Plivo => "plivo",
            Provider::Vonage => "vonage",
            Provider::Exotel => "exotel",
            Provider::Browser => "browser",
        }
    }

    /// A fresh codec for one connection of this provider.
    pub fn codec(self) -> Box<dyn MediaCodec> {
        match self {
            Provider::Twilio => Box::new(twilio::TwilioCodec::new()),
            Provider::Telnyx => Box::new(telnyx::TelnyxCodec::new()),
            Provider::Plivo => Box::new(plivo::PlivoCodec::new()),
            Provider::Vonage => Box::new(vonage::VonageCodec::new()),
            Provider::Exotel => Box::new(exotel::ExotelCodec::new()),
            Provider::Browser => Box::new(browser::BrowserCodec::new()),
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Provider {
    type Err = UnknownProvider;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownProvider(s.chars().take(32).collect()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown telephony provider {0:?} (twilio, telnyx, plivo, vonage, exotel, browser)")]
pub struct UnknownProvider(pub String);

/// How audio bytes on the wire are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioEncoding {
    /// G.711 µ-law, one byte per sample.
    Mulaw,
    /// G.711 A-law, one byte per sample.
    Alaw,
    /// Signed 16-bit little-endian linear PCM.
    L16,
}

/// The audio format of a stream, the same in both directions for every
/// provider we speak (we ask for it to be so where it is negotiable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AudioFormat {
    pub encoding: AudioEncoding,
    pub sample_rate: u32,
}

impl AudioFormat {
    pub const MULAW_8K: AudioFormat = AudioFormat {
        encoding: AudioEncoding::Mulaw,
        sample_rate: 8000,
    };
    pub const L16_8K: AudioFormat = AudioFormat {
        encoding: AudioEncoding::L16,
        sample_rate: 8000,
    };
    pub const L16_16K: AudioFormat = AudioFormat {
        encoding: AudioEncoding::L16,
        sample_rate: 16000,
    };

    pub fn bytes_per_sample(self) -> usize {
        match self.encoding {
            AudioEncoding::Mulaw | AudioEncoding::Alaw => 1,
            AudioEncoding::L16 => 2,
        }
    }

    /// Bytes in one 20 ms frame.
    pub fn frame_bytes(self) -> usize {
        self.sample_rate as usize / 50 * self.bytes_per_sample()
    }

    /// Milliseconds of audio in `bytes` bytes.
    pub fn duration_ms(self, bytes: usize) -> u64 {
        let samples = bytes / self.bytes_per_sample();
        samples as u64 * 1000 / u64::from(self.sample_rate.max(1))
    }

    /// The byte a silent sample is made of (for padding).
    pub fn silence_byte(self) -> u8 {
        match self.encoding {
            AudioEncoding::Mulaw => 0xFF,
            AudioEncoding::Alaw => 0xD5,
            AudioEncoding::L16 => 0,
        }
    }
}

/// Who the call is, as told by the provider's start message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamStart {
    /// The provider's id of this media stream (empty for Vonage, which has none).
    pub stream_id: String,
    /// The provider's id of the call (CallSid, call_control_id, callId…).
    pub provider_call_id: Option<String>,
    /// Caller and dialled numbers, raw as the provider gave them (when it does).
    pub from: Option<String>,
    pub to: Option<String>,
    pub format: AudioFormat,
    /// Parameters we attached when answering the call (tenant, call id…).
    pub parameters: BTreeMap<String, String>,
}

/// What one inbound message meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEvent {
    /// The socket is up; the start follows.
    Connected,
    Start(StreamStart),
    /// Caller audio was written into the audio buffer passed to `decode`.
    /// `timestamp_ms` is the provider's media clock where it sends one.
    Audio {
        timestamp_ms: Option<u64>,
    },
    Dtmf {
        digit: char,
    },
    /// Everything queued before our marker of this name has been played (or
    /// flushed by a clear: the runtime tells the two apart).
    Mark {
        name: String,
    },
    /// The provider confirmed a clear.
    Cleared,
    /// The provider ends the stream (the caller hung up or the call moved on).
    Stop,
    /// The provider reported an error on the stream; the stream goes on.
    ProviderError {
        code: String,
        detail: String,
    },
    /// A message we have nothing to do with (keep-alives, status events).
    Ignored,
}

/// One inbound websocket message.
#[derive(Debug, Clone, Copy)]
pub enum Inbound<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
}

/// One outbound websocket message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    Text(String),
    Binary(Vec<u8>),
}

impl Outbound {
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Outbound::Text(t) => Some(t),
            Outbound::Binary(_) => None,
        }
    }
}

/// What the runtime asks the provider to do with playback.
#[derive(Debug, Clone, Copy)]
pub enum Playback<'a> {
    /// Queue bot audio, already in the stream's [`AudioFormat`].
    Audio(&'a [u8]),
    /// Ask to be told (with [`CallEvent::Mark`]) once everything queued so
    /// far has played.
    Mark(&'a str),
    /// Drop everything queued and not yet played.
    Clear,
}

/// Why an inbound message or a playback command was refused. `Peer*`
/// variants are the provider's (or whoever connected) fault; `NotStarted`
/// on the outbound side is ours.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CodecError {
    #[error("peer sent malformed JSON: {0}")]
    PeerMalformed(String),
    #[error("peer sent an unknown event {0:?}")]
    PeerUnknownEvent(String),
    #[error("peer sent a message without its required field {0}")]
    PeerMissingField(&'static str),
    #[error("peer sent audio that is not valid base64")]
    PeerBadBase64,
    #[error("peer sent a {len}-byte message, over the {max}-byte limit")]
    PeerOversized { len: usize, max: usize },
    #[error("peer asked for an audio format we do not take: {0}")]
    PeerUnsupportedFormat(String),
    #[error("peer sent {0} before the stream started")]
    PeerBeforeStart(&'static str),
    #[error("peer started the stream a second time")]
    PeerSecondStart,
    #[error("peer sent a {0} frame where this provider never does")]
    PeerUnexpectedFrame(&'static str),
    #[error("peer sent an invalid DTMF digit")]
    PeerBadDigit,
    #[error("peer sent audio of {0} bytes, not whole samples")]
    PeerPartialSample(usize),
    #[error("we tried to play audio before the stream started")]
    NotStarted,
}

impl CodecError {
    /// Whether the connection should be closed, or the message just dropped.
    /// Audio glitches (bad base64, odd sizes) drop one frame; a peer that
    /// breaks the protocol's order or format loses the call.
    pub fn is_fatal(&self) -> bool {
        !matches!(
            self,
            CodecError::PeerBadBase64
                | CodecError::PeerBadDigit
                | CodecError::PeerPartialSample(_)
                | CodecError::PeerUnknownEvent(_)
        )
    }
}

/// One connection's codec. `decode` turns one inbound message into one
/// event; `encode` appends the messages a playback command becomes.
pub trait MediaCodec: Send {
    fn provider(&self) -> Provider;

    /// Decodes one message. On [`CallEvent::Audio`], `audio` holds the
    /// payload (cleared first); otherwise its content is unspecified.
    fn decode(&mut self, msg: Inbound<'_>, audio: &mut Vec<u8>) -> Result<CallEvent, CodecError>;

    /// Appends the outbound messages for one playback command.
    fn encode(&mut self, cmd: Playback<'_>, out: &mut Vec<Outbound>) -> Result<(), CodecError>;

    /// The stream's audio format, once started.
    fn format(&self) -> Option<AudioFormat>;
}

// ---------------------------------------------------------------------------
// Helpers shared by the provider modules.

/// Connection state common to every provider: before or after `start`.
#[derive(Debug, Default)]
pub(crate) struct StreamState {
    started: Option<(String, AudioFormat)>,
}

impl StreamState {
    pub(crate) fn start(&mut self, stream_id: &str, format: AudioFormat) -> Result<(), CodecError> {
        if self.started.is_some() {
            return Err(CodecError::PeerSecondStart);
        }
        self.started = Some((stream_id.to_owned(), format));
        Ok(())
    }

    pub(crate) fn require(&self, what: &'static str) -> Result<(&str, AudioFormat), CodecError> {
        match &self.started {
            Some((id, format)) => Ok((id.as_str(), *format)),
            None => Err(CodecError::PeerBeforeStart(what)),
        }
    }

    pub(crate) fn outbound(&self) -> Result<(&str, AudioFormat), CodecError> {
        self.require("playback").map_err(|_| CodecError::NotStarted)
    }

    pub(crate) fn format(&self) -> Option<AudioFormat> {
        self.started.as_ref().map(|(_, f)| *f)
    }
}

/// The `media` body of the JSON protocols (Twilio, Telnyx, Plivo, Exotel).
#[derive(Deserialize)]
pub(crate) struct MediaBody<'a> {
    #[serde(borrow, default)]
    track: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "lenient_u64")]
    timestamp: Option<u64>,
    #[serde(borrow)]
    payload: Cow<'a, str>,
}

/// The `mediaFormat` / `media_format` of a JSON protocol's start message
/// (each provider spells the rate its own way; every field but the
/// encoding is optional).
#[derive(Deserialize)]
pub(crate) struct MediaFormatBody {
    pub(crate) encoding: String,
    #[serde(default, alias = "sampleRate", deserialize_with = "lenient_u64")]
    pub(crate) sample_rate: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub(crate) channels: Option<u64>,
    #[serde(default, alias = "bitRate", deserialize_with = "lenient_u64")]
    pub(crate) bit_rate: Option<u64>,
}

impl MediaFormatBody {
    /// The rate, 8 kHz when not given (an absurd one becomes 0 and is refused).
    pub(crate) fn rate_hz(&self) -> u32 {
        u32::try_from(self.sample_rate.unwrap_or(8000)).unwrap_or(0)
    }
}

/// A `mark` body: the name we gave the marker.
#[derive(Deserialize)]
pub(crate) struct MarkBody {
    name: String,
}

/// A `dtmf` body: one keypad digit.
#[derive(Deserialize)]
pub(crate) struct DtmfBody {
    pub(crate) digit: String,
}

impl StreamState {
    /// A `media` message: audio of the caller's (inbound) track decoded into
    /// `audio`; other tracks are ignored.
    pub(crate) fn media_event(
        &self,
        media: Option<MediaBody<'_>>,
        audio: &mut Vec<u8>,
    ) -> Result<CallEvent, CodecError> {
        let (_, format) = self.require("media")?;
        let media = media.ok_or(CodecError::PeerMissingField("media"))?;
        if media
            .track
            .as_deref()
            .is_some_and(|t| !t.starts_with("inbound"))
        {
            return Ok(CallEvent::Ignored);
        }
        decode_audio(&media.payload, format, audio)?;
        Ok(CallEvent::Audio {
            timestamp_ms: media.timestamp,
        })
    }

    /// A `mark` message: playback reached our marker.
    pub(crate) fn mark_event(&self, mark: Option<MarkBody>) -> Result<CallEvent, CodecError> {
        self.require("mark")?;
        let mark = mark.ok_or(CodecError::PeerMissingField("mark"))?;
        Ok(CallEvent::Mark { name: mark.name })
    }

    /// A `dtmf` message: a keypad digit.
    pub(crate) fn dtmf_event(&self, dtmf: Option<DtmfBody>) -> Result<CallEvent, CodecError> {
        self.require("dtmf")?;
        let dtmf = dtmf.ok_or(CodecError::PeerMissingField("dtmf"))?;
        Ok(CallEvent::Dtmf {
            digit: parse_digit(&dtmf.digit)?,
        })
    }
}

/// An event name we do not know, cut short for the log.
pub(crate) fn unknown_event(name: &str) -> CodecError {
    CodecError::PeerUnknownEvent(name.chars().take(32).collect())
}

pub(crate) fn check_text_size(text: &str) -> Result<(), CodecError> {
    if text.len() > MAX_TEXT_MESSAGE_BYTES {
        return Err(CodecError::PeerOversized {
            len: text.len(),
            max: MAX_TEXT_MESSAGE_BYTES,
        });
    }
    Ok(())
}

pub(crate) fn parse_json<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, CodecError> {
    check_text_size(text)?;
    serde_json::from_str(text).map_err(|e| CodecError::PeerMalformed(e.to_string()))
}

/// Decodes a base64 audio payload into `audio`, checking its size first and
/// that it holds whole samples of `format`.
pub(crate) fn decode_audio(
    payload: &str,
    format: AudioFormat,
    audio: &mut Vec<u8>,
) -> Result<(), CodecError> {
    let max_b64 = MAX_AUDIO_PAYLOAD_BYTES.div_ceil(3) * 4;
    if payload.len() > max_b64 {
        return Err(CodecError::PeerOversized {
            len: payload.len(),
            max: max_b64,
        });
    }
    audio.clear();
    base64::engine::general_purpose::STANDARD
        .decode_vec(payload.as_bytes(), audio)
        .map_err(|_| CodecError::PeerBadBase64)?;
    if !audio.len().is_multiple_of(format.bytes_per_sample()) {
        return Err(CodecError::PeerPartialSample(audio.len()));
    }
    Ok(())
}

pub(crate) fn encode_b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn parse_digit(raw: &str) -> Result<char, CodecError> {
    let mut chars = raw.trim().chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D') => Ok(c),
        _ => Err(CodecError::PeerBadDigit),
    }
}

/// Serialises an outbound JSON message. Our own values always serialise.
pub(crate) fn json_text(value: serde_json::Value) -> Outbound {
    Outbound::Text(value.to_string())
}

/// Numbers that providers send sometimes as JSON numbers, sometimes as
/// strings ("8000"), or leave out.
pub(crate) fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumOrStr<'a> {
        Num(u64),
        #[serde(borrow)]
        Str(Cow<'a, str>),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Option::<NumOrStr<'de>>::deserialize(d)? {
        Some(NumOrStr::Num(n)) => Some(n),
        Some(NumOrStr::Str(s)) => s.trim().parse().ok(),
        Some(NumOrStr::Other(_)) | None => None,
    })
}

/// A string map that tolerates non-string values (turned into their JSON
/// text) so that a provider sending `{"n": 1}` does not fail the start.
pub(crate) fn lenient_string_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let raw = Option::<BTreeMap<String, serde_json::Value>>::deserialize(d)?;
    Ok(raw
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect())
}

/// The `application/x-www-form-urlencoded` fields of a webhook body or a
/// query string, in their order (Twilio, Telnyx and Plivo post forms).
pub fn form_params(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// Splits `k=v` pairs separated by `sep` (Plivo's extra headers).
pub fn parse_pairs(raw: &str, sep: char) -> BTreeMap<String, String> {
    raw.split(sep)
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            let k = k.trim();
            (!k.is_empty()).then(|| (k.to_owned(), v.trim().to_owned()))
        })
        .collect()
}

/// Parses `audio/x-mulaw;rate=8000`, `audio/l16;rate=16000`, `audio/x-l16`…
/// into a format; `default_rate` when no rate is given.
pub(crate) fn parse_content_type(raw: &str, default_rate: u32) -> Result<AudioFormat, CodecError> {
    let mut parts = raw.split(';');
    let mime = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let mut rate = default_rate;
    for p in parts {
        if let Some((k, v)) = p.split_once('=')
            && k.trim().eq_ignore_ascii_case("rate")
        {
            rate = v
                .trim()
                .parse()
                .map_err(|_| CodecError::PeerUnsupportedFormat(raw.chars().take(64).collect()))?;
        }
    }
    let encoding = match mime.as_str() {
        "audio/x-mulaw" | "audio/mulaw" | "audio/pcmu" => AudioEncoding::Mulaw,
        "audio/x-alaw" | "audio/alaw" | "audio/pcma" => AudioEncoding::Alaw,
        "audio/l16" | "audio/x-l16" | "audio/x-raw" => AudioEncoding::L16,
        _ => {
            return Err(CodecError::PeerUnsupportedFormat(
                raw.chars().take(64).collect(),
            ));
        }
    };
    check_format(AudioFormat {
        encoding,
        sample_rate: rate,
    })
}

/// The formats the runtime can handle: G.711 at 8 kHz, L16 at 8/16 kHz.
pub(crate) fn check_format(format: AudioFormat) -> Result<AudioFormat, CodecError> {
    let ok = match format.encoding {
        AudioEncoding::Mulaw | AudioEncoding::Alaw => format.sample_rate == 8000,
        AudioEncoding::L16 => matches!(format.sample_rate, 8000 | 16000),
    };
    if ok {
        Ok(format)
    } else {
        Err(CodecError::PeerUnsupportedFormat(format!(
            "{:?} at {} Hz",
            format.encoding, format.sample_rate
        )))
    }
}

/// Escapes text for an XML attribute or element (TwiML, TeXML, Plivo XML).
pub fn xml_escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// Re-frames outbound audio into fixed-size chunks for providers that need
/// them (Vonage: exactly 20 ms; Exotel: multiples of 20 ms of at least
/// 100 ms). Keeps the remainder until more audio or a flush.
#[derive(Debug, Default)]
pub(crate) struct Reframer {
    pending: Vec<u8>,
}

impl Reframer {
    /// Appends audio and hands out every whole chunk of `unit` bytes
    /// (grouped by `min_units..=max_units` per chunk).
    pub(crate) fn push(
        &mut self,
        audio: &[u8],
        unit: usize,
        min_units: usize,
        max_units: usize,
        mut emit: impl FnMut(&[u8]),
    ) {
        self.pending.extend_from_slice(audio);
        let min = unit * min_units;
        let max = unit * max_units;
        let mut start = 0;
        while self.pending.len() - start >= min {
            let avail = (self.pending.len() - start) / unit * unit;
            let take = avail.min(max);
            emit(&self.pending[start..start + take]);
            start += take;
        }
        self.pending.drain(..start);
    }

    /// Emits what is left, padded with silence to a whole `unit`.
    pub(crate) fn flush(&mut self, unit: usize, silence: u8, mut emit: impl FnMut(&[u8])) {
        if self.pending.is_empty() {
            return;
        }
        let padded = self.pending.len().div_ceil(unit) * unit;
        self.pending.resize(padded, silence);
        emit(&self.pending);
        self.pending.clear();
    }

    pub(crate) fn clear(&mut self) {
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_names_round_trip() {
        for p in Provider::ALL {
            assert_eq!(p.as_str().parse::<Provider>(), Ok(p));
        }
        assert!("skype".parse::<Provider>().is_err());
    }

    #[test]
    fn content_types_parse_and_refuse_unknown_rates() {
        assert_eq!(
            parse_content_type("audio/l16;rate=16000", 8000),
            Ok(AudioFormat::L16_16K)
        );
        assert_eq!(
            parse_content_type("audio/x-mulaw;rate=8000", 8000),
            Ok(AudioFormat::MULAW_8K)
        );
        assert!(parse_content_type("audio/x-mulaw;rate=16000", 8000).is_err());
        assert!(parse_content_type("audio/l16;rate=44100", 8000).is_err());
        assert!(parse_content_type("audio/opus", 8000).is_err());
        assert!(parse_content_type("audio/l16;rate=abc", 8000).is_err());
    }

    #[test]
    fn reframer_emits_whole_units_and_pads_the_rest() {
        let mut r = Reframer::default();
        let mut chunks = Vec::new();
        r.push(&[1u8; 700], 320, 1, 1, |c| chunks.push(c.to_vec()));
        assert_eq!(chunks.len(), 2);
        assert!(chunks.iter().all(|c| c.len() == 320));
        r.flush(320, 0, |c| chunks.push(c.to_vec()));
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[2].len(), 320);
        assert_eq!(&chunks[2][..60], &[1u8; 60][..]);
        assert!(chunks[2][60..].iter().all(|&b| b == 0));
    }

    #[test]
    fn reframer_groups_between_min_and_max() {
        let mut r = Reframer::default();
        let mut chunks = Vec::new();
        r.push(&[0u8; 3000], 320, 10, 20, |c| chunks.push(c.len()));
        assert!(chunks.is_empty(), "below the 10-unit minimum nothing goes");
        r.push(&[0u8; 8000], 320, 10, 20, |c| chunks.push(c.len()));
        assert_eq!(chunks, vec![6400, 4480]);
        r.clear();
        r.flush(320, 0, |c| chunks.push(c.len()));
        assert_eq!(chunks.len(), 2);
    }

    #[test]
    fn digits_are_checked() {
        assert_eq!(parse_digit("5"), Ok('5'));
        assert_eq!(parse_digit("#"), Ok('#'));
        assert!(parse_digit("55").is_err());
        assert!(parse_digit("x").is_err());
        assert!(parse_digit("").is_err());
    }

    #[test]
    fn xml_escape_escapes() {
        assert_eq!(xml_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
    }
}
