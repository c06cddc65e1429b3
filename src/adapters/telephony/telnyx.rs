//! Telnyx media streaming (PROTOCOLS.md 1.2). We answer with TeXML
//! `<Connect><Stream>` asking for **RTP** bidirectional playback in the
//! stream's own codec (Telnyx's default, mp3, would make raw frames silent);
//! outbound audio is base64 RTP payload, acknowledged by echoed `mark`s and
//! interrupted with `clear`. Telnyx names codecs (`PCMU`) where older docs used
//! MIME types (`audio/x-mulaw`): both are accepted.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;

use super::{
    AudioEncoding, AudioFormat, CallEvent, CodecError, Inbound, MediaCodec, Outbound, Playback,
    Provider, StreamStart, StreamState, check_format, decode_audio, encode_b64, json_text,
    lenient_string_map, lenient_u64, parse_content_type, parse_digit, parse_json, xml_escape,
};

/// Codec for one Telnyx media websocket.
#[derive(Debug, Default)]
pub struct TelnyxCodec {
    state: StreamState,
}

impl TelnyxCodec {
    pub fn new() -> Self {
        Self::default()
    }
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    event: Cow<'a, str>,
    #[serde(default)]
    stream_id: Option<String>,
    #[serde(borrow, default)]
    media: Option<Media<'a>>,
    #[serde(default)]
    start: Option<Start>,
    #[serde(default)]
    mark: Option<Mark>,
    #[serde(default)]
    dtmf: Option<Dtmf>,
    #[serde(default)]
    error: Option<ErrorBody>,
    /// Some Telnyx examples put the error body under `payload`.
    #[serde(default)]
    payload: Option<ErrorBody>,
}

#[derive(Deserialize)]
struct Media<'a> {
    #[serde(borrow, default)]
    track: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "lenient_u64")]
    timestamp: Option<u64>,
    #[serde(borrow)]
    payload: Cow<'a, str>,
}

#[derive(Deserialize)]
struct Start {
    #[serde(default)]
    call_control_id: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    media_format: Option<MediaFormat>,
    #[serde(default, deserialize_with = "lenient_string_map")]
    custom_parameters: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct MediaFormat {
    encoding: String,
    #[serde(default, deserialize_with = "lenient_u64")]
    sample_rate: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    channels: Option<u64>,
}

#[derive(Deserialize)]
struct Mark {
    name: String,
}

#[derive(Deserialize)]
struct Dtmf {
    digit: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    title: Option<String>,
    #[serde(default, deserialize_with = "lenient_u64")]
    code: Option<u64>,
    #[serde(default)]
    detail: Option<String>,
}

fn parse_format(f: &MediaFormat) -> Result<AudioFormat, CodecError> {
    if f.channels.unwrap_or(1) != 1 {
        return Err(CodecError::PeerUnsupportedFormat("stereo".into()));
    }
    let rate = u32::try_from(f.sample_rate.unwrap_or(8000)).unwrap_or(0);
    let encoding = match f.encoding.to_ascii_uppercase().as_str() {
        "PCMU" => AudioEncoding::Mulaw,
        "PCMA" => AudioEncoding::Alaw,
        "L16" => AudioEncoding::L16,
        _ => return parse_content_type(&f.encoding, rate),
    };
    check_format(AudioFormat {
        encoding,
        sample_rate: rate,
    })
}

impl MediaCodec for TelnyxCodec {
    fn provider(&self) -> Provider {
        Provider::Telnyx
    }

    fn decode(&mut self, msg: Inbound<'_>, audio: &mut Vec<u8>) -> Result<CallEvent, CodecError> {
        let Inbound::Text(text) = msg else {
            return Err(CodecError::PeerUnexpectedFrame("binary"));
        };
        let m: Message<'_> = parse_json(text)?;
        match m.event.as_ref() {
            "connected" => Ok(CallEvent::Connected),
            "start" => {
                let start = m.start.ok_or(CodecError::PeerMissingField("start"))?;
                let stream_id = m
                    .stream_id
                    .ok_or(CodecError::PeerMissingField("stream_id"))?;
                let format = match &start.media_format {
                    Some(f) => parse_format(f)?,
                    None => AudioFormat::MULAW_8K,
                };
                self.state.start(&stream_id, format)?;
                Ok(CallEvent::Start(StreamStart {
                    stream_id,
                    provider_call_id: start.call_control_id,
                    from: start.from,
                    to: start.to,
                    format,
                    parameters: start.custom_parameters,
                }))
            }
            "media" => {
                let (_, format) = self.state.require("media")?;
                let media = m.media.ok_or(CodecError::PeerMissingField("media"))?;
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
            "mark" => {
                self.state.require("mark")?;
                let mark = m.mark.ok_or(CodecError::PeerMissingField("mark"))?;
                Ok(CallEvent::Mark { name: mark.name })
            }
            "clear" | "cleared" => Ok(CallEvent::Cleared),
            "dtmf" => {
                self.state.require("dtmf")?;
                let dtmf = m.dtmf.ok_or(CodecError::PeerMissingField("dtmf"))?;
                Ok(CallEvent::Dtmf {
                    digit: parse_digit(&dtmf.digit)?,
                })
            }
            "error" => {
                let body = m.error.or(m.payload);
                Ok(CallEvent::ProviderError {
                    code: body
                        .as_ref()
                        .and_then(|b| b.code)
                        .map(|c| c.to_string())
                        .unwrap_or_default(),
                    detail: body
                        .map(|b| {
                            format!(
                                "{}: {}",
                                b.title.unwrap_or_default(),
                                b.detail.unwrap_or_default()
                            )
                        })
                        .unwrap_or_default(),
                })
            }
            "stop" => Ok(CallEvent::Stop),
            other => Err(CodecError::PeerUnknownEvent(
                other.chars().take(32).collect(),
            )),
        }
    }

    fn encode(&mut self, cmd: Playback<'_>, out: &mut Vec<Outbound>) -> Result<(), CodecError> {
        self.state.outbound()?;
        let msg = match cmd {
            Playback::Audio(bytes) => {
                if bytes.is_empty() {
                    return Ok(());
                }
                json_text(serde_json::json!({
                    "event": "media",
                    "media": {"payload": encode_b64(bytes)},
                }))
            }
            Playback::Mark(name) => json_text(serde_json::json!({
                "event": "mark",
                "mark": {"name": name},
            })),
            Playback::Clear => json_text(serde_json::json!({"event": "clear"})),
        };
        out.push(msg);
        Ok(())
    }

    fn format(&self) -> Option<AudioFormat> {
        self.state.format()
    }
}

/// TeXML answering a call with a bidirectional RTP stream in PCMU 8 kHz.
pub fn connect_stream_texml(stream_url: &str, parameters: &[(&str, &str)]) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Connect>");
    xml.push_str(&format!(
        "<Stream url=\"{}\" track=\"inbound_track\" bidirectionalMode=\"rtp\" bidirectionalCodec=\"PCMU\" bidirectionalSamplingRate=\"8000\">",
        xml_escape(stream_url)
    ));
    for (name, value) in parameters {
        xml.push_str(&format!(
            "<Parameter name=\"{}\" value=\"{}\"/>",
            xml_escape(name),
            xml_escape(value)
        ));
    }
    xml.push_str("</Stream></Connect></Response>");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texml_asks_for_rtp_not_mp3() {
        let xml = connect_stream_texml("wss://h/media/telnyx", &[("tenant", "demo")]);
        assert!(xml.contains("bidirectionalMode=\"rtp\""));
        assert!(xml.contains("bidirectionalCodec=\"PCMU\""));
        assert!(xml.contains("<Parameter name=\"tenant\" value=\"demo\"/>"));
    }

    #[test]
    fn both_codec_spellings_are_accepted() {
        for enc in ["PCMU", "audio/x-mulaw"] {
            let f = MediaFormat {
                encoding: enc.into(),
                sample_rate: Some(8000),
                channels: Some(1),
            };
            assert_eq!(parse_format(&f), Ok(AudioFormat::MULAW_8K));
        }
        let f = MediaFormat {
            encoding: "OPUS".into(),
            sample_rate: Some(48000),
            channels: Some(1),
        };
        assert!(matches!(
            parse_format(&f),
            Err(CodecError::PeerUnsupportedFormat(_))
        ));
    }
}
