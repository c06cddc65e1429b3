//! Plivo Audio Streams (PROTOCOLS.md 1.3). Plivo XML `<Stream
//! bidirectional="true">` with our parameters as `extraHeaders`; audio in
//! `media` messages, played with `playAudio`, acknowledged by `checkpoint` ->
//! `playedStream` (older docs: `played`) and interrupted with `clearAudio` ->
//! `clearedAudio`. Plivo sends no stop: the socket closing ends the call.

use std::borrow::Cow;

use serde::Deserialize;

use super::{
    AudioEncoding, AudioFormat, CallEvent, CodecError, Inbound, MediaCodec, Outbound, Playback,
    Provider, StreamStart, StreamState, encode_b64, json_text, parse_content_type, parse_json,
    parse_pairs, xml_escape,
};
use super::{DtmfBody, MediaBody, MediaFormatBody, unknown_event};

/// Codec for one Plivo audio-stream websocket.
#[derive(Debug, Default)]
pub struct PlivoCodec {
    state: StreamState,
}

impl PlivoCodec {
    pub fn new() -> Self {
        Self::default()
    }
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    event: Cow<'a, str>,
    #[serde(default)]
    extra_headers: Option<String>,
    #[serde(borrow, default)]
    media: Option<MediaBody<'a>>,
    #[serde(default)]
    start: Option<Start>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    dtmf: Option<DtmfBody>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Start {
    #[serde(default)]
    call_id: Option<String>,
    stream_id: String,
    #[serde(default)]
    media_format: Option<MediaFormatBody>,
}

impl MediaCodec for PlivoCodec {
    fn provider(&self) -> Provider {
        Provider::Plivo
    }

    fn decode(&mut self, msg: Inbound<'_>, audio: &mut Vec<u8>) -> Result<CallEvent, CodecError> {
        let Inbound::Text(text) = msg else {
            return Err(CodecError::PeerUnexpectedFrame("binary"));
        };
        let m: Message<'_> = parse_json(text)?;
        match m.event.as_ref() {
            "start" => {
                let start = m.start.ok_or(CodecError::PeerMissingField("start"))?;
                let format = match &start.media_format {
                    Some(f) => {
                        let rate = f.rate_hz();
                        parse_content_type(&f.encoding, rate)?
                    }
                    None => AudioFormat::MULAW_8K,
                };
                self.state.start(&start.stream_id, format)?;
                let raw = m.extra_headers.unwrap_or_default();
                let sep = if raw.contains(';') { ';' } else { ',' };
                let parameters = parse_pairs(&raw, sep);
                Ok(CallEvent::Start(StreamStart {
                    stream_id: start.stream_id,
                    provider_call_id: start.call_id,
                    from: parameters.get("from").cloned(),
                    to: parameters.get("to").cloned(),
                    format,
                    parameters,
                }))
            }
            "media" => self.state.media_event(m.media, audio),
            "playedStream" | "played" => {
                self.state.require("playedStream")?;
                let name = m.name.ok_or(CodecError::PeerMissingField("name"))?;
                Ok(CallEvent::Mark { name })
            }
            "clearedAudio" => Ok(CallEvent::Cleared),
            "dtmf" => self.state.dtmf_event(m.dtmf),
            "stop" => Ok(CallEvent::Stop),
            other => Err(unknown_event(other)),
        }
    }

    fn encode(&mut self, cmd: Playback<'_>, out: &mut Vec<Outbound>) -> Result<(), CodecError> {
        let (stream_id, format) = self.state.outbound()?;
        let msg = match cmd {
            Playback::Audio(bytes) => {
                if bytes.is_empty() {
                    return Ok(());
                }
                let content_type = match format.encoding {
                    AudioEncoding::L16 => "audio/x-l16",
                    _ => "audio/x-mulaw",
                };
                json_text(serde_json::json!({
                    "event": "playAudio",
                    "media": {
                        "contentType": content_type,
                        "sampleRate": format.sample_rate,
                        "payload": encode_b64(bytes),
                    },
                }))
            }
            Playback::Mark(name) => json_text(serde_json::json!({
                "event": "checkpoint",
                "streamId": stream_id,
                "name": name,
            })),
            Playback::Clear => json_text(serde_json::json!({
                "event": "clearAudio",
                "streamId": stream_id,
            })),
        };
        out.push(msg);
        Ok(())
    }

    fn format(&self) -> Option<AudioFormat> {
        self.state.format()
    }
}

/// Plivo XML answering a call with a bidirectional µ-law stream that keeps
/// the call alive until the socket closes. Plivo allows only alphanumeric
/// header values, so callers pass ids without dashes.
pub fn stream_xml(stream_url: &str, parameters: &[(&str, &str)]) -> String {
    let headers: Vec<String> = parameters
        .iter()
        .map(|(k, v)| {
            let clean = |s: &str| -> String {
                s.chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '+' || *c == '_')
                    .collect()
            };
            format!("{}={}", clean(k), clean(v))
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Stream bidirectional=\"true\" keepCallAlive=\"true\" audioTrack=\"inbound\" contentType=\"audio/x-mulaw;rate=8000\" extraHeaders=\"{}\">{}</Stream></Response>",
        xml_escape(&headers.join(",")),
        xml_escape(stream_url)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_xml_carries_headers_and_url() {
        let xml = stream_xml(
            "wss://h/media/plivo",
            &[("tenant", "demo"), ("call", "ab-12")],
        );
        assert!(xml.contains("extraHeaders=\"tenant=demo,call=ab12\""));
        assert!(xml.contains(">wss://h/media/plivo</Stream>"));
        assert!(xml.contains("bidirectional=\"true\""));
    }
}
