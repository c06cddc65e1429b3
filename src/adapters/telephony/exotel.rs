//! Exotel Voicebot applet (PROTOCOLS.md 1.5). The applet asks our https
//! endpoint for a per-call `{"url":"wss://…"}`; up to three query parameters
//! of that URL come back as `start.custom_parameters`. Audio is base64 raw
//! slin 16-bit 8 kHz by default, but we branch on `start.media_format`.
//! Outbound audio must go in chunks of whole 20 ms frames, at least 100 ms
//! and at most 100 KB (smaller ones jitter, odd ones leave gaps), so the codec
//! re-frames and pads before a `mark`. Interrupt is `clear`; end is `stop`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;

use super::{
    AudioFormat, CallEvent, CodecError, Inbound, MediaCodec, Outbound, Playback, Provider,
    Reframer, StreamStart, StreamState, encode_b64, json_text, lenient_string_map,
    parse_content_type, parse_json,
};
use super::{DtmfBody, MarkBody, MediaBody, MediaFormatBody, unknown_event};

/// Largest outbound chunk Exotel takes.
const MAX_CHUNK_BYTES: usize = 100 * 1000;
/// Smallest outbound chunk, in 20 ms frames (100 ms).
const MIN_CHUNK_FRAMES: usize = 5;

/// Codec for one Exotel voicebot websocket.
#[derive(Debug, Default)]
pub struct ExotelCodec {
    state: StreamState,
    outbound: Reframer,
}

impl ExotelCodec {
    pub fn new() -> Self {
        Self::default()
    }
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    event: Cow<'a, str>,
    #[serde(default)]
    stream_sid: Option<String>,
    #[serde(borrow, default)]
    media: Option<MediaBody<'a>>,
    #[serde(default)]
    start: Option<Start>,
    #[serde(default)]
    mark: Option<MarkBody>,
    #[serde(default)]
    dtmf: Option<DtmfBody>,
}

#[derive(Deserialize)]
struct Start {
    #[serde(default)]
    stream_sid: Option<String>,
    #[serde(default)]
    call_sid: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default, deserialize_with = "lenient_string_map")]
    custom_parameters: BTreeMap<String, String>,
    #[serde(default)]
    media_format: Option<MediaFormatBody>,
}

impl MediaCodec for ExotelCodec {
    fn provider(&self) -> Provider {
        Provider::Exotel
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
                let stream_id = start
                    .stream_sid
                    .or(m.stream_sid)
                    .ok_or(CodecError::PeerMissingField("stream_sid"))?;
                let format = match &start.media_format {
                    Some(f) => {
                        if f.bit_rate.is_some_and(|b| b != 16 && b != 8) {
                            return Err(CodecError::PeerUnsupportedFormat(format!(
                                "{} bits",
                                f.bit_rate.unwrap_or(0)
                            )));
                        }
                        let rate = f.rate_hz();
                        parse_content_type(&f.encoding, rate)?
                    }
                    None => AudioFormat::L16_8K,
                };
                self.state.start(&stream_id, format)?;
                Ok(CallEvent::Start(StreamStart {
                    stream_id,
                    provider_call_id: start.call_sid,
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
            "stop" => Ok(CallEvent::Stop),
            other => Err(unknown_event(other)),
        }
    }

    fn encode(&mut self, cmd: Playback<'_>, out: &mut Vec<Outbound>) -> Result<(), CodecError> {
        let (sid, format) = self.state.outbound()?;
        let sid = sid.to_owned();
        let frame = format.frame_bytes();
        let media = |chunk: &[u8]| {
            json_text(serde_json::json!({
                "event": "media",
                "stream_sid": sid,
                "media": {"payload": encode_b64(chunk)},
            }))
        };
        match cmd {
            Playback::Audio(bytes) => {
                self.outbound.push(
                    bytes,
                    frame,
                    MIN_CHUNK_FRAMES,
                    MAX_CHUNK_BYTES / frame,
                    |c| out.push(media(c)),
                );
            }
            Playback::Mark(name) => {
                self.outbound
                    .flush(frame, format.silence_byte(), |c| out.push(media(c)));
                out.push(json_text(serde_json::json!({
                    "event": "mark",
                    "stream_sid": sid,
                    "mark": {"name": name},
                })));
            }
            Playback::Clear => {
                self.outbound.clear();
                out.push(json_text(
                    serde_json::json!({"event": "clear", "stream_sid": sid}),
                ));
            }
        }
        Ok(())
    }

    fn format(&self) -> Option<AudioFormat> {
        self.state.format()
    }
}

/// The answer to Exotel's per-call URL request.
pub fn stream_url_answer(stream_url: &str) -> serde_json::Value {
    serde_json::json!({ "url": stream_url })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbound_chunks_are_at_least_100ms_and_whole_frames() {
        let mut c = ExotelCodec::new();
        let mut audio = Vec::new();
        c.decode(
            Inbound::Text(r#"{"event":"start","stream_sid":"S","start":{"stream_sid":"S","media_format":{"encoding":"audio/x-raw","sample_rate":"8000","bit_rate":"16"}}}"#),
            &mut audio,
        )
        .unwrap();
        let mut out = Vec::new();
        c.encode(Playback::Audio(&[0u8; 1000]), &mut out).unwrap();
        assert!(out.is_empty(), "1000 bytes is under 100 ms of slin");
        c.encode(Playback::Audio(&[0u8; 3000]), &mut out).unwrap();
        assert_eq!(out.len(), 1);
        let v: serde_json::Value = serde_json::from_str(out[0].as_text().unwrap()).unwrap();
        let payload = v["media"]["payload"].as_str().unwrap();
        let bytes =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, payload).unwrap();
        assert_eq!(bytes.len(), 3840);
        c.encode(Playback::Mark("m"), &mut out).unwrap();
        assert_eq!(
            out.len(),
            3,
            "the 160-byte rest is padded and sent before the mark"
        );
    }
}
