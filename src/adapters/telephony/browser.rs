//! The browser call page's media websocket (`GET /call/{slug}`, served by
//! `http::call_page`): our own protocol, shaped like the providers' so that
//! a browser call runs through the same call task, turn engine and
//! playback as a phone call.
//!
//! Audio is **binary** frames both ways, 16-bit little-endian PCM at
//! 16 kHz (L16): the page's AudioWorklet sends 20 ms (640 bytes) per frame,
//! we send synthesized speech in chunks of whole samples. 16 kHz rather than
//! 8 kHz because a browser's microphone is wide-band (a phone line is not):
//! the recognizer gets the whole voice band (Whisper works at 16 kHz, so
//! nothing is resampled on the way in), the bot's voice is not band-limited
//! to a telephone's 3.4 kHz, and the turn engine runs at 16 kHz natively
//! (`core::turn::InboundAudio`); the cost, 32 KB/s each way, is nothing for
//! one browser.
//!
//! Events and commands are JSON text:
//!
//! | page -> us | meaning |
//! |---|---|
//! | `{"event":"start","call":ID,"format":{"encoding":"L16","sampleRate":16000}}` | first message (optional `"parameters":{..}`, checked against the token like a provider's) |
//! | `{"event":"mark","name":N}` | playback reached our marker `N` |
//! | `{"event":"cleared"}` | the page flushed its playback queue on our `clear` |
//! | `{"event":"dtmf","digit":"5"}` | a keypad digit |
//! | `{"event":"stop"}` | the caller hung up |
//!
//! | us -> page | meaning |
//! |---|---|
//! | binary | bot audio, queued after what is queued |
//! | `{"event":"mark","name":N}` | tell us when playback gets here |
//! | `{"event":"clear"}` | drop everything queued and not yet played, now (Twilio's `clear`) |

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;

use super::{
    AudioEncoding, AudioFormat, CallEvent, CodecError, Inbound, MAX_AUDIO_PAYLOAD_BYTES,
    MediaCodec, Outbound, Playback, Provider, StreamStart, StreamState, check_format, json_text,
    lenient_string_map, parse_digit, parse_json, unknown_event,
};

/// The format the page sends and plays.
pub const FORMAT: AudioFormat = AudioFormat::L16_16K;

/// Codec for one browser call's websocket.
#[derive(Debug, Default)]
pub struct BrowserCodec {
    state: StreamState,
}

impl BrowserCodec {
    pub fn new() -> Self {
        Self::default()
    }
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    event: Cow<'a, str>,
    #[serde(default)]
    call: Option<String>,
    #[serde(default)]
    format: Option<FormatBody>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    digit: Option<String>,
    /// Extra stream parameters (a demo call's transcript sidecar).
    #[serde(default, deserialize_with = "lenient_string_map")]
    parameters: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FormatBody {
    encoding: String,
    sample_rate: u32,
}

impl MediaCodec for BrowserCodec {
    fn provider(&self) -> Provider {
        Provider::Browser
    }

    fn decode(&mut self, msg: Inbound<'_>, audio: &mut Vec<u8>) -> Result<CallEvent, CodecError> {
        let text = match msg {
            Inbound::Binary(bytes) => {
                let (_, format) = self.state.require("audio")?;
                if bytes.len() > MAX_AUDIO_PAYLOAD_BYTES {
                    return Err(CodecError::PeerOversized {
                        len: bytes.len(),
                        max: MAX_AUDIO_PAYLOAD_BYTES,
                    });
                }
                if !bytes.len().is_multiple_of(format.bytes_per_sample()) {
                    return Err(CodecError::PeerPartialSample(bytes.len()));
                }
                audio.clear();
                audio.extend_from_slice(bytes);
                return Ok(CallEvent::Audio { timestamp_ms: None });
            }
            Inbound::Text(text) => text,
        };
        let m: Message<'_> = parse_json(text)?;
        match m.event.as_ref() {
            "start" => {
                let f = m.format.ok_or(CodecError::PeerMissingField("format"))?;
                if !f.encoding.eq_ignore_ascii_case("L16") {
                    return Err(CodecError::PeerUnsupportedFormat(
                        f.encoding.chars().take(32).collect(),
                    ));
                }
                let format = check_format(AudioFormat {
                    encoding: AudioEncoding::L16,
                    sample_rate: f.sample_rate,
                })?;
                let call = m.call.ok_or(CodecError::PeerMissingField("call"))?;
                let call: String = call.chars().take(64).collect();
                self.state.start(&call, format)?;
                let mut parameters = m.parameters;
                parameters.insert("call".to_owned(), call.clone());
                Ok(CallEvent::Start(StreamStart {
                    stream_id: call,
                    provider_call_id: None,
                    from: None,
                    to: None,
                    format,
                    parameters,
                }))
            }
            "mark" => {
                self.state.require("mark")?;
                Ok(CallEvent::Mark {
                    name: m.name.ok_or(CodecError::PeerMissingField("name"))?,
                })
            }
            "cleared" => Ok(CallEvent::Cleared),
            "dtmf" => {
                self.state.require("dtmf")?;
                let digit = m.digit.ok_or(CodecError::PeerMissingField("digit"))?;
                Ok(CallEvent::Dtmf {
                    digit: parse_digit(&digit)?,
                })
            }
            "stop" => Ok(CallEvent::Stop),
            other => Err(unknown_event(other)),
        }
    }

    fn encode(&mut self, cmd: Playback<'_>, out: &mut Vec<Outbound>) -> Result<(), CodecError> {
        self.state.outbound()?;
        match cmd {
            Playback::Audio(bytes) => {
                if !bytes.is_empty() {
                    out.push(Outbound::Binary(bytes.to_vec()));
                }
            }
            Playback::Mark(name) => out.push(json_text(serde_json::json!({
                "event": "mark",
                "name": name,
            }))),
            Playback::Clear => out.push(json_text(serde_json::json!({"event": "clear"}))),
        }
        Ok(())
    }

    fn format(&self) -> Option<AudioFormat> {
        self.state.format()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started() -> BrowserCodec {
        let mut c = BrowserCodec::new();
        let ev = c
            .decode(
                Inbound::Text(
                    r#"{"event":"start","call":"c1","format":{"encoding":"L16","sampleRate":16000}}"#,
                ),
                &mut Vec::new(),
            )
            .unwrap();
        let CallEvent::Start(start) = ev else {
            panic!("expected a start, got {ev:?}")
        };
        assert_eq!(start.format, FORMAT);
        assert_eq!(start.parameters.get("call").map(String::as_str), Some("c1"));
        c
    }

    #[test]
    fn frames_in_marks_and_clears_out() {
        let mut c = started();
        let mut audio = Vec::new();
        assert_eq!(
            c.decode(Inbound::Binary(&[1u8; 640]), &mut audio),
            Ok(CallEvent::Audio { timestamp_ms: None })
        );
        assert_eq!(audio.len(), 640);
        assert_eq!(
            c.decode(Inbound::Binary(&[1u8; 3]), &mut audio),
            Err(CodecError::PeerPartialSample(3))
        );
        assert_eq!(
            c.decode(Inbound::Text(r#"{"event":"mark","name":"m7"}"#), &mut audio),
            Ok(CallEvent::Mark { name: "m7".into() })
        );
        assert_eq!(
            c.decode(Inbound::Text(r#"{"event":"dtmf","digit":"5"}"#), &mut audio),
            Ok(CallEvent::Dtmf { digit: '5' })
        );
        let mut out = Vec::new();
        c.encode(Playback::Audio(&[0u8; 320]), &mut out).unwrap();
        c.encode(Playback::Mark("m1"), &mut out).unwrap();
        c.encode(Playback::Clear, &mut out).unwrap();
        assert_eq!(out[0], Outbound::Binary(vec![0u8; 320]));
        assert_eq!(out[1].as_text(), Some(r#"{"event":"mark","name":"m1"}"#));
        assert_eq!(out[2].as_text(), Some(r#"{"event":"clear"}"#));
    }

    #[test]
    fn audio_before_start_and_odd_formats_are_refused() {
        let mut c = BrowserCodec::new();
        let mut audio = Vec::new();
        assert!(c.decode(Inbound::Binary(&[0u8; 640]), &mut audio).is_err());
        for bad in [
            r#"{"event":"start","call":"c","format":{"encoding":"opus","sampleRate":48000}}"#,
            r#"{"event":"start","call":"c","format":{"encoding":"L16","sampleRate":44100}}"#,
            r#"{"event":"start","format":{"encoding":"L16","sampleRate":16000}}"#,
            r#"{"event":"start","call":"c"}"#,
        ] {
            let err = c.decode(Inbound::Text(bad), &mut audio).unwrap_err();
            assert!(err.is_fatal(), "{bad}: {err}");
        }
        assert!(
            c.encode(Playback::Clear, &mut Vec::new()).is_err(),
            "nothing is sent before the start"
        );
    }
}
