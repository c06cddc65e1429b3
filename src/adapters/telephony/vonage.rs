//! Vonage Voice API websockets (PROTOCOLS.md 1.4). The NCCO `connect` action
//! points at our socket with L16 16 kHz and our parameters as headers, which
//! come back flattened into the first text message. Audio is **binary**
//! frames of exactly 20 ms both ways; events and commands are JSON text.
//! Playback is acknowledged by `notify` -> `websocket:notify` and interrupted
//! by `clear` -> `websocket:cleared`. There is no stop: the socket closes.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;

use super::{
    AudioFormat, CallEvent, CodecError, Inbound, MAX_AUDIO_PAYLOAD_BYTES, MediaCodec, Outbound,
    Playback, Provider, Reframer, StreamStart, StreamState, json_text, parse_content_type,
    parse_digit, parse_json,
};
use super::{DtmfBody, unknown_event};

/// Codec for one Vonage websocket.
#[derive(Debug, Default)]
pub struct VonageCodec {
    state: StreamState,
    outbound: Reframer,
}

impl VonageCodec {
    pub fn new() -> Self {
        Self::default()
    }
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    event: Cow<'a, str>,
    #[serde(default)]
    digit: Option<String>,
    #[serde(default)]
    dtmf: Option<DtmfBody>,
    #[serde(default)]
    payload: Option<NotifyPayload>,
}

#[derive(Deserialize)]
struct NotifyPayload {
    #[serde(default)]
    name: Option<String>,
}

impl MediaCodec for VonageCodec {
    fn provider(&self) -> Provider {
        Provider::Vonage
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
            "websocket:connected" => {
                let all: BTreeMap<String, serde_json::Value> = parse_json(text)?;
                let content_type = all
                    .get("content-type")
                    .and_then(|v| v.as_str())
                    .ok_or(CodecError::PeerMissingField("content-type"))?;
                let format = parse_content_type(content_type, 16000)?;
                self.state.start("", format)?;
                let parameters: BTreeMap<String, String> = all
                    .into_iter()
                    .filter(|(k, _)| k != "event" && k != "content-type")
                    .filter_map(|(k, v)| match v {
                        serde_json::Value::String(s) => Some((k, s)),
                        serde_json::Value::Number(n) => Some((k, n.to_string())),
                        _ => None,
                    })
                    .collect();
                Ok(CallEvent::Start(StreamStart {
                    stream_id: String::new(),
                    provider_call_id: parameters.get("uuid").cloned(),
                    from: parameters.get("from").cloned(),
                    to: parameters.get("to").cloned(),
                    format,
                    parameters,
                }))
            }
            "websocket:dtmf" => {
                self.state.require("dtmf")?;
                let digit = m
                    .digit
                    .or(m.dtmf.map(|d| d.digit))
                    .ok_or(CodecError::PeerMissingField("digit"))?;
                Ok(CallEvent::Dtmf {
                    digit: parse_digit(&digit)?,
                })
            }
            "websocket:notify" => {
                self.state.require("notify")?;
                let name = m
                    .payload
                    .and_then(|p| p.name)
                    .ok_or(CodecError::PeerMissingField("payload.name"))?;
                Ok(CallEvent::Mark { name })
            }
            "websocket:cleared" => Ok(CallEvent::Cleared),
            "websocket:error" => Ok(CallEvent::ProviderError {
                code: String::new(),
                detail: text.chars().take(200).collect(),
            }),
            other => Err(unknown_event(other)),
        }
    }

    fn encode(&mut self, cmd: Playback<'_>, out: &mut Vec<Outbound>) -> Result<(), CodecError> {
        let (_, format) = self.state.outbound()?;
        let frame = format.frame_bytes();
        match cmd {
            Playback::Audio(bytes) => {
                self.outbound.push(bytes, frame, 1, 1, |f| {
                    out.push(Outbound::Binary(f.to_vec()))
                });
            }
            Playback::Mark(name) => {
                // The provider must see the audio before the marker, and
                // frames must stay whole: pad the tail with silence.
                self.outbound.flush(frame, format.silence_byte(), |f| {
                    for chunk in f.chunks(frame) {
                        out.push(Outbound::Binary(chunk.to_vec()));
                    }
                });
                out.push(json_text(serde_json::json!({
                    "action": "notify",
                    "payload": {"name": name},
                })));
            }
            Playback::Clear => {
                self.outbound.clear();
                out.push(json_text(serde_json::json!({"action": "clear"})));
            }
        }
        Ok(())
    }

    fn format(&self) -> Option<AudioFormat> {
        self.state.format()
    }
}

/// The NCCO answering a call: connect it to our websocket with L16 16 kHz,
/// our parameters as headers.
pub fn connect_ncco(stream_url: &str, parameters: &[(&str, &str)]) -> serde_json::Value {
    let headers: serde_json::Map<String, serde_json::Value> = parameters
        .iter()
        .filter(|(k, _)| *k != "event" && *k != "content-type")
        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String((*v).to_owned())))
        .collect();
    serde_json::json!([{
        "action": "connect",
        "endpoint": [{
            "type": "websocket",
            "uri": stream_url,
            "content-type": "audio/l16;rate=16000",
            "headers": headers,
        }],
    }])
}

/// The answer webhook's fields: the query's, then (for a POST) the string
/// fields of a JSON object body that the query does not have. A body that
/// is not a JSON object adds nothing.
pub fn answer_params(
    query: Vec<(String, String)>,
    body: Option<&[u8]>,
) -> BTreeMap<String, String> {
    let mut params: BTreeMap<String, String> = query.into_iter().collect();
    if let Some(Ok(serde_json::Value::Object(fields))) = body.map(serde_json::from_slice) {
        for (k, v) in fields {
            if let serde_json::Value::String(v) = v {
                params.entry(k).or_insert(v);
            }
        }
    }
    params
}

/// Reads the websocket URL and headers back out of our NCCO.
pub fn parse_connect_ncco(ncco: &serde_json::Value) -> Option<(String, Vec<(String, String)>)> {
    let endpoint = ncco.get(0)?.get("endpoint")?.get(0)?;
    let uri = endpoint.get("uri")?.as_str()?.to_owned();
    let headers = endpoint
        .get("headers")
        .and_then(|h| h.as_object())
        .map(|h| {
            h.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    Some((uri, headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbound_audio_is_whole_20ms_frames_padded_before_a_notify() {
        let mut c = VonageCodec::new();
        let mut audio = Vec::new();
        c.decode(
            Inbound::Text(
                r#"{"event":"websocket:connected","content-type":"audio/l16;rate=16000"}"#,
            ),
            &mut audio,
        )
        .unwrap();
        let mut out = Vec::new();
        c.encode(Playback::Audio(&[1u8; 1000]), &mut out).unwrap();
        assert_eq!(out, vec![Outbound::Binary(vec![1u8; 640])]);
        c.encode(Playback::Mark("m1"), &mut out).unwrap();
        assert_eq!(out.len(), 3);
        let Outbound::Binary(last) = &out[1] else {
            panic!("expected audio")
        };
        assert_eq!(last.len(), 640);
        assert!(last[360..].iter().all(|&b| b == 0));
        assert!(out[2].as_text().unwrap().contains("\"notify\""));
    }

    #[test]
    fn ncco_round_trips() {
        let ncco = connect_ncco("wss://h/media/vonage", &[("tenant", "demo")]);
        let (uri, headers) = parse_connect_ncco(&ncco).unwrap();
        assert_eq!(uri, "wss://h/media/vonage");
        assert_eq!(headers, vec![("tenant".into(), "demo".into())]);
    }
}
