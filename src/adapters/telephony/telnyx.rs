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
    Provider, StreamStart, StreamState, check_format, encode_b64, json_text, lenient_string_map,
    lenient_u64, parse_content_type, parse_json, xml_escape,
};
use super::{DtmfBody, MarkBody, MediaBody, MediaFormatBody, unknown_event};

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
    media: Option<MediaBody<'a>>,
    #[serde(default)]
    start: Option<Start>,
    #[serde(default)]
    mark: Option<MarkBody>,
    #[serde(default)]
    dtmf: Option<DtmfBody>,
    #[serde(default)]
    error: Option<ErrorBody>,
    /// Some Telnyx examples put the error body under `payload`.
    #[serde(default)]
    payload: Option<ErrorBody>,
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
    media_format: Option<MediaFormatBody>,
    #[serde(default, deserialize_with = "lenient_string_map")]
    custom_parameters: BTreeMap<String, String>,
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

fn parse_format(f: &MediaFormatBody) -> Result<AudioFormat, CodecError> {
    if f.channels.unwrap_or(1) != 1 {
        return Err(CodecError::PeerUnsupportedFormat("stereo".into()));
    }
    let rate = f.rate_hz();
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
            "media" => self.state.media_event(m.media, audio),
            "mark" => self.state.mark_event(m.mark),
            "clear" | "cleared" => Ok(CallEvent::Cleared),
            "dtmf" => self.state.dtmf_event(m.dtmf),
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
            other => Err(unknown_event(other)),
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
            let f = MediaFormatBody {
                encoding: enc.into(),
                sample_rate: Some(8000),
                channels: Some(1),
                bit_rate: None,
            };
            assert_eq!(parse_format(&f), Ok(AudioFormat::MULAW_8K));
        }
        let f = MediaFormatBody {
            encoding: "OPUS".into(),
            sample_rate: Some(48000),
            channels: Some(1),
            bit_rate: None,
        };
        assert!(matches!(
            parse_format(&f),
            Err(CodecError::PeerUnsupportedFormat(_))
        ));
    }
}
