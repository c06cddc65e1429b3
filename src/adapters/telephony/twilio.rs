//! Twilio Media Streams (PROTOCOLS.md 1.1): the voice webhook answered with
//! TwiML `<Connect><Stream>`, the bidirectional media websocket (µ-law 8 kHz,
//! base64 in JSON), playback acknowledged by echoed `mark`s and interrupted
//! with `clear`, and the `X-Twilio-Signature` check on signed requests.

use std::borrow::Cow;
use std::collections::BTreeMap;

use base64::Engine as _;
use hmac::{KeyInit, Mac};
use serde::Deserialize;

use super::{
    AudioEncoding, AudioFormat, CallEvent, CodecError, Inbound, MediaCodec, Outbound, Playback,
    Provider, StreamStart, StreamState, check_format, encode_b64, json_text, lenient_string_map,
    parse_json, xml_escape,
};
use super::{DtmfBody, MarkBody, MediaBody, MediaFormatBody, unknown_event};

/// Codec for one Twilio media websocket.
#[derive(Debug, Default)]
pub struct TwilioCodec {
    state: StreamState,
}

impl TwilioCodec {
    pub fn new() -> Self {
        Self::default()
    }
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    event: Cow<'a, str>,
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
#[serde(rename_all = "camelCase")]
struct Start {
    stream_sid: String,
    #[serde(default)]
    call_sid: Option<String>,
    #[serde(default)]
    media_format: Option<MediaFormatBody>,
    #[serde(default, deserialize_with = "lenient_string_map")]
    custom_parameters: BTreeMap<String, String>,
}

impl MediaCodec for TwilioCodec {
    fn provider(&self) -> Provider {
        Provider::Twilio
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
                let format = match start.media_format {
                    Some(f) => {
                        if f.channels.unwrap_or(1) != 1 {
                            return Err(CodecError::PeerUnsupportedFormat(format!(
                                "{} channels",
                                f.channels.unwrap_or(0)
                            )));
                        }
                        if !f.encoding.eq_ignore_ascii_case("audio/x-mulaw") {
                            return Err(CodecError::PeerUnsupportedFormat(
                                f.encoding.chars().take(64).collect(),
                            ));
                        }
                        check_format(AudioFormat {
                            encoding: AudioEncoding::Mulaw,
                            sample_rate: f.rate_hz(),
                        })?
                    }
                    None => AudioFormat::MULAW_8K,
                };
                self.state.start(&start.stream_sid, format)?;
                Ok(CallEvent::Start(StreamStart {
                    stream_id: start.stream_sid,
                    provider_call_id: start.call_sid,
                    from: start.custom_parameters.get("from").cloned(),
                    to: start.custom_parameters.get("to").cloned(),
                    format,
                    parameters: start.custom_parameters,
                }))
            }
            "media" => self.state.media_event(m.media, audio),
            "mark" => self.state.mark_event(m.mark),
            "dtmf" => self.state.dtmf_event(m.dtmf),
            "stop" => Ok(CallEvent::Stop),
            other => Err(unknown_event(other)),
        }
    }

    fn encode(&mut self, cmd: Playback<'_>, out: &mut Vec<Outbound>) -> Result<(), CodecError> {
        let (sid, _) = self.state.outbound()?;
        let msg = match cmd {
            Playback::Audio(bytes) => {
                if bytes.is_empty() {
                    return Ok(());
                }
                json_text(serde_json::json!({
                    "event": "media",
                    "streamSid": sid,
                    "media": {"payload": encode_b64(bytes)},
                }))
            }
            Playback::Mark(name) => json_text(serde_json::json!({
                "event": "mark",
                "streamSid": sid,
                "mark": {"name": name},
            })),
            Playback::Clear => json_text(serde_json::json!({"event": "clear", "streamSid": sid})),
        };
        out.push(msg);
        Ok(())
    }

    fn format(&self) -> Option<AudioFormat> {
        self.state.format()
    }
}

// ---------------------------------------------------------------------------
// The voice webhook.

/// The fields of Twilio's incoming-call webhook we use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingCall {
    pub call_sid: String,
    pub account_sid: Option<String>,
    pub from: Option<String>,
    pub to: String,
}

impl IncomingCall {
    /// Reads the webhook's form parameters.
    pub fn from_params(params: &[(String, String)]) -> Result<Self, CodecError> {
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        Ok(Self {
            call_sid: get("CallSid").ok_or(CodecError::PeerMissingField("CallSid"))?,
            account_sid: get("AccountSid"),
            from: get("From"),
            to: get("To").ok_or(CodecError::PeerMissingField("To"))?,
        })
    }
}

/// TwiML that connects the call to our media websocket, bidirectionally,
/// with `parameters` handed back to us in the stream's `start`.
pub fn connect_stream_twiml(stream_url: &str, parameters: &[(&str, &str)]) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Connect>");
    xml.push_str(&format!("<Stream url=\"{}\">", xml_escape(stream_url)));
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

/// TwiML that says one short message and hangs up.
pub fn say_and_hang_up_twiml(message: &str, language: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say language=\"{}\">{}</Say><Hangup/></Response>",
        xml_escape(language),
        xml_escape(message)
    )
}

/// Reads the stream URL and parameters back out of our own
/// `<Connect><Stream>` TwiML (what a simulated Twilio does with the answer).
/// Returns `None` when the TwiML does not connect a stream (a hang-up).
pub fn parse_connect_stream(twiml: &str) -> Option<(String, Vec<(String, String)>)> {
    let stream_at = twiml.find("<Stream")?;
    let rest = twiml.get(stream_at..)?;
    let url = xml_attr(rest, "url")?;
    let mut params = Vec::new();
    let mut cursor = rest;
    while let Some(i) = cursor.find("<Parameter") {
        let tail = cursor.get(i..)?;
        let end = tail.find("/>").unwrap_or(tail.len());
        let tag = tail.get(..end)?;
        if let (Some(n), Some(v)) = (xml_attr(tag, "name"), xml_attr(tag, "value")) {
            params.push((n, v));
        }
        cursor = tail.get(end..)?;
    }
    Some((url, params))
}

fn xml_attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let len = tag.get(start..)?.find('"')?;
    Some(xml_unescape(tag.get(start..start + len)?))
}

fn xml_unescape(raw: &str) -> String {
    raw.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

// ---------------------------------------------------------------------------
// X-Twilio-Signature.

type HmacSha1 = hmac::Hmac<sha1::Sha1>;

/// `base64(HMAC-SHA1(auth_token, url + Σ sorted(name + value)))`.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = HmacSha1::new_from_slice(auth_token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks a request's `X-Twilio-Signature`, in constant time, trying the URL
/// as given and with/without the default port the way Twilio's own helper
/// libraries do.
pub fn verify_signature(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    header: &str,
) -> bool {
    let Ok(claimed) = base64::engine::general_purpose::STANDARD.decode(header.trim()) else {
        return false;
    };
    url_variants(url).iter().any(|candidate| {
        let mut sorted: Vec<&(String, String)> = params.iter().collect();
        sorted.sort();
        let Ok(mut mac) = HmacSha1::new_from_slice(auth_token.as_bytes()) else {
            return false;
        };
        mac.update(candidate.as_bytes());
        for (k, v) in sorted {
            mac.update(k.as_bytes());
            mac.update(v.as_bytes());
        }
        mac.verify_slice(&claimed).is_ok()
    })
}

fn url_variants(raw: &str) -> Vec<String> {
    let mut out = vec![raw.to_owned()];
    let Ok(parsed) = url::Url::parse(raw) else {
        return out;
    };
    let default_port = match parsed.scheme() {
        "https" | "wss" => 443,
        "http" | "ws" => 80,
        _ => return out,
    };
    let Some(host) = parsed.host_str() else {
        return out;
    };
    let path_and_more = &raw[raw.find(host).map_or(0, |i| i + host.len())..];
    let prefix = format!("{}://{}", parsed.scheme(), host);
    match path_and_more.strip_prefix(':') {
        Some(rest) => {
            let after_port = rest.trim_start_matches(|c: char| c.is_ascii_digit());
            let port = &rest[..rest.len() - after_port.len()];
            if port.parse::<u16>() == Ok(default_port) {
                out.push(format!("{prefix}{after_port}"));
            }
        }
        None => out.push(format!("{prefix}:{default_port}{path_and_more}")),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started() -> TwilioCodec {
        let mut c = TwilioCodec::new();
        let mut audio = Vec::new();
        c.decode(
            Inbound::Text(r#"{"event":"start","streamSid":"MZ1","start":{"streamSid":"MZ1","callSid":"CA1","mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},"customParameters":{"tenant":"demo"}}}"#),
            &mut audio,
        )
        .expect("start");
        c
    }

    #[test]
    fn signature_matches_twilio_documented_example() {
        // The fixture of twilio-python's request-validator tests.
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let sig = signature("12345", url, &params);
        assert_eq!(sig, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        assert!(verify_signature("12345", url, &params, &sig));
        assert!(!verify_signature("54321", url, &params, &sig));
        assert!(!verify_signature("12345", url, &params[1..], &sig));
        assert!(!verify_signature("12345", url, &params, "not base64!"));
    }

    #[test]
    fn signature_accepts_the_url_with_or_without_default_port() {
        let params = vec![("To".to_string(), "+1".to_string())];
        let sig = signature("tok", "https://h.example/voice/twilio", &params);
        assert!(verify_signature(
            "tok",
            "https://h.example:443/voice/twilio",
            &params,
            &sig
        ));
        let sig = signature("tok", "https://h.example:443/v?x=1", &params);
        assert!(verify_signature(
            "tok",
            "https://h.example/v?x=1",
            &params,
            &sig
        ));
    }

    #[test]
    fn twiml_round_trips_through_our_parser() {
        let xml = connect_stream_twiml(
            "wss://h/media/twilio",
            &[("tenant", "demo"), ("call", "a&b\"c")],
        );
        let (url, params) = parse_connect_stream(&xml).expect("stream");
        assert_eq!(url, "wss://h/media/twilio");
        assert_eq!(
            params,
            vec![
                ("tenant".to_string(), "demo".to_string()),
                ("call".to_string(), "a&b\"c".to_string())
            ]
        );
        assert!(parse_connect_stream(&say_and_hang_up_twiml("Bye <now>", "en-GB")).is_none());
    }

    #[test]
    fn outbound_messages_carry_the_stream_sid() {
        let mut c = started();
        let mut out = Vec::new();
        c.encode(Playback::Audio(&[0xFF; 160]), &mut out).unwrap();
        c.encode(Playback::Mark("utt-1"), &mut out).unwrap();
        c.encode(Playback::Clear, &mut out).unwrap();
        let v: Vec<serde_json::Value> = out
            .iter()
            .map(|o| serde_json::from_str(o.as_text().unwrap()).unwrap())
            .collect();
        assert_eq!(v[0]["event"], "media");
        assert_eq!(v[0]["streamSid"], "MZ1");
        assert_eq!(v[0]["media"]["payload"].as_str().unwrap().len(), 216);
        assert_eq!(v[1]["mark"]["name"], "utt-1");
        assert_eq!(v[2], serde_json::json!({"event":"clear","streamSid":"MZ1"}));
    }

    #[test]
    fn playback_before_start_is_our_error() {
        let mut c = TwilioCodec::new();
        let mut out = Vec::new();
        assert_eq!(
            c.encode(Playback::Clear, &mut out),
            Err(CodecError::NotStarted)
        );
    }
}
