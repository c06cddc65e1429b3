//! Inbound webhook bodies: `X-Hub-Signature-256` and the `messages` /
//! `statuses` payloads. Parsing is lenient (unknown fields ignored, numbers
//! accepted as strings) because Meta adds fields without notice.

use hmac::{KeyInit, Mac};
use serde::Deserialize;
use thiserror::Error;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Why a webhook was refused. Always the sender's fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignatureError {
    #[error("X-Hub-Signature-256 header missing")]
    Missing,
    #[error("X-Hub-Signature-256 header malformed")]
    Malformed,
    #[error("X-Hub-Signature-256 does not match the body")]
    Mismatch,
}

/// The header value Meta would send for `body`: `sha256=<lowercase hex>`.
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(app_secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks `X-Hub-Signature-256` over the exact raw body, in constant time.
pub fn verify_signature(
    app_secret: &str,
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let hex_part = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    let claimed = hex::decode(hex_part).map_err(|_| SignatureError::Malformed)?;
    let mut mac =
        HmacSha256::new_from_slice(app_secret.as_bytes()).map_err(|_| SignatureError::Malformed)?;
    mac.update(body);
    mac.verify_slice(&claimed)
        .map_err(|_| SignatureError::Mismatch)
}

/// One thing the webhook told us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookEvent {
    Message(InboundMessage),
    Status(StatusEvent),
}

/// A customer's message to one of our numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    /// Which of our numbers it reached (routes to the tenant).
    pub phone_number_id: String,
    /// The sender's wa_id: digits, no `+`.
    pub from: String,
    pub profile_name: Option<String>,
    /// The wamid: the deduplication key.
    pub id: String,
    pub timestamp: i64,
    pub kind: InboundKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundKind {
    Text(String),
    /// A tapped reply button or list row: our id and its title.
    Choice {
        id: String,
        title: String,
    },
    /// Anything we cannot read as text (image, audio, sticker, location…).
    Unsupported(String),
}

impl InboundMessage {
    /// The text to give the conversation.
    pub fn text(&self) -> &str {
        match &self.kind {
            InboundKind::Text(t) => t,
            InboundKind::Choice { title, .. } => title,
            InboundKind::Unsupported(_) => "",
        }
    }

    pub fn choice_id(&self) -> Option<&str> {
        match &self.kind {
            InboundKind::Choice { id, .. } => Some(id),
            _ => None,
        }
    }

    pub fn message_type(&self) -> &str {
        match &self.kind {
            InboundKind::Text(_) => "text",
            InboundKind::Choice { .. } => "interactive",
            InboundKind::Unsupported(t) => t,
        }
    }
}

/// A delivery status of one of our messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEvent {
    pub phone_number_id: String,
    /// Our message's wamid.
    pub id: String,
    pub status: String,
    pub timestamp: i64,
    pub recipient_id: String,
    pub error_codes: Vec<i64>,
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error("webhook body is not a WhatsApp Business Account event: {0}")]
pub struct CodecError(pub String);

/// Parses a (signature-checked) webhook body into events.
pub fn parse_webhook(body: &[u8]) -> Result<Vec<WebhookEvent>, CodecError> {
    let envelope: Envelope = serde_json::from_slice(body).map_err(|e| CodecError(e.to_string()))?;
    if envelope.object.as_deref() != Some("whatsapp_business_account") {
        return Err(CodecError(format!("object {:?}", envelope.object)));
    }
    let mut events = Vec::new();
    for entry in envelope.entry {
        for change in entry.changes {
            if change.field.as_deref().is_some_and(|f| f != "messages") {
                continue;
            }
            let Some(value) = change.value else { continue };
            let phone_number_id = value
                .metadata
                .as_ref()
                .and_then(|m| m.phone_number_id.clone())
                .map(|v| v.0)
                .unwrap_or_default();
            let name_of = |wa_id: &str| {
                value
                    .contacts
                    .iter()
                    .find(|c| c.wa_id.as_ref().is_some_and(|w| w.0 == wa_id))
                    .or(value.contacts.first())
                    .and_then(|c| c.profile.as_ref())
                    .and_then(|p| p.name.clone())
            };
            for m in &value.messages {
                let kind = match m.kind.as_deref() {
                    Some("text") => InboundKind::Text(
                        m.text
                            .as_ref()
                            .and_then(|t| t.body.clone())
                            .unwrap_or_default(),
                    ),
                    Some("interactive") => {
                        let i = m.interactive.as_ref();
                        let reply =
                            i.and_then(|i| i.button_reply.as_ref().or(i.list_reply.as_ref()));
                        match reply {
                            Some(r) => InboundKind::Choice {
                                id: r.id.clone().unwrap_or_default(),
                                title: r.title.clone().unwrap_or_default(),
                            },
                            None => InboundKind::Unsupported("interactive".into()),
                        }
                    }
                    Some("button") => match &m.button {
                        Some(b) => InboundKind::Choice {
                            id: b.payload.clone().unwrap_or_default(),
                            title: b.text.clone().unwrap_or_default(),
                        },
                        None => InboundKind::Unsupported("button".into()),
                    },
                    other => InboundKind::Unsupported(other.unwrap_or("unknown").to_owned()),
                };
                let (Some(id), Some(from)) = (&m.id, &m.from) else {
                    continue;
                };
                events.push(WebhookEvent::Message(InboundMessage {
                    phone_number_id: phone_number_id.clone(),
                    from: from.0.clone(),
                    profile_name: name_of(&from.0),
                    id: id.clone(),
                    timestamp: m
                        .timestamp
                        .as_ref()
                        .and_then(|t| t.0.parse().ok())
                        .unwrap_or(0),
                    kind,
                }));
            }
            for s in &value.statuses {
                let (Some(id), Some(status)) = (&s.id, &s.status) else {
                    continue;
                };
                events.push(WebhookEvent::Status(StatusEvent {
                    phone_number_id: phone_number_id.clone(),
                    id: id.clone(),
                    status: status.clone(),
                    timestamp: s
                        .timestamp
                        .as_ref()
                        .and_then(|t| t.0.parse().ok())
                        .unwrap_or(0),
                    recipient_id: s.recipient_id.clone().map(|r| r.0).unwrap_or_default(),
                    error_codes: s.errors.iter().filter_map(|e| e.code).collect(),
                }));
            }
        }
    }
    Ok(events)
}

/// A string that may arrive as a JSON number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lenient(pub(crate) String);

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Ok(Lenient(match v {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        }))
    }
}

#[derive(Deserialize)]
struct Envelope {
    object: Option<String>,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    field: Option<String>,
    value: Option<Value>,
}

#[derive(Deserialize)]
struct Value {
    metadata: Option<Metadata>,
    #[serde(default)]
    contacts: Vec<Contact>,
    #[serde(default)]
    messages: Vec<Message>,
    #[serde(default)]
    statuses: Vec<Status>,
}

#[derive(Deserialize)]
struct Metadata {
    phone_number_id: Option<Lenient>,
}

#[derive(Deserialize)]
struct Contact {
    profile: Option<Profile>,
    wa_id: Option<Lenient>,
}

#[derive(Deserialize)]
struct Profile {
    name: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    from: Option<Lenient>,
    id: Option<String>,
    timestamp: Option<Lenient>,
    #[serde(rename = "type")]
    kind: Option<String>,
    text: Option<Text>,
    interactive: Option<Interactive>,
    button: Option<TemplateButton>,
}

#[derive(Deserialize)]
struct Text {
    body: Option<String>,
}

#[derive(Deserialize)]
struct Interactive {
    button_reply: Option<ReplyRef>,
    list_reply: Option<ReplyRef>,
}

#[derive(Deserialize)]
struct ReplyRef {
    id: Option<String>,
    title: Option<String>,
}

#[derive(Deserialize)]
struct TemplateButton {
    payload: Option<String>,
    text: Option<String>,
}

#[derive(Deserialize)]
struct Status {
    id: Option<String>,
    status: Option<String>,
    timestamp: Option<Lenient>,
    recipient_id: Option<Lenient>,
    #[serde(default)]
    errors: Vec<StatusError>,
}

#[derive(Deserialize)]
struct StatusError {
    code: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages",
 "value":{"messaging_product":"whatsapp",
  "metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
  "contacts":[{"profile":{"name":"Wanjiku"},"wa_id":"254712345678"}],
  "messages":[{"from":"254712345678","id":"wamid.HBgL1","timestamp":"1749416383",
               "type":"text","text":{"body":"Nataka kuweka miadi kesho"}}]}}]}]}"#;

    #[test]
    fn signature_round_trip_and_refusals() {
        let body = TEXT.as_bytes();
        let sig = sign("secret", body);
        assert!(sig.starts_with("sha256="));
        assert_eq!(verify_signature("secret", body, Some(&sig)), Ok(()));
        assert_eq!(
            verify_signature("other", body, Some(&sig)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature("secret", body, None),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify_signature("secret", body, Some("sha1=abc")),
            Err(SignatureError::Malformed)
        );
        let mut tampered = body.to_vec();
        tampered[10] ^= 1;
        assert_eq!(
            verify_signature("secret", &tampered, Some(&sig)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn text_message() {
        let events = parse_webhook(TEXT.as_bytes()).unwrap();
        let [WebhookEvent::Message(m)] = events.as_slice() else {
            panic!("{events:?}")
        };
        assert_eq!(m.phone_number_id, "106540352242922");
        assert_eq!(m.from, "254712345678");
        assert_eq!(m.profile_name.as_deref(), Some("Wanjiku"));
        assert_eq!(m.id, "wamid.HBgL1");
        assert_eq!(m.timestamp, 1_749_416_383);
        assert_eq!(m.text(), "Nataka kuweka miadi kesho");
    }

    #[test]
    fn interactive_replies_and_statuses() {
        let body = r#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
          "metadata":{"phone_number_id":106540352242922},
          "messages":[
            {"from":"254712345678","id":"wamid.a","timestamp":"1","type":"interactive",
             "context":{"from":"15550783881","id":"wamid.ours"},
             "interactive":{"type":"button_reply","button_reply":{"id":"slot_0","title":"9:30 AM"}}},
            {"from":"254712345678","id":"wamid.b","timestamp":"2","type":"interactive",
             "interactive":{"type":"list_reply","list_reply":{"id":"svc_x","title":"Dental","description":"d"}}},
            {"from":"254712345678","id":"wamid.c","timestamp":"3","type":"image","image":{"id":"m1"}}],
          "statuses":[{"id":"wamid.ours","status":"failed","timestamp":"4","recipient_id":"254712345678",
             "errors":[{"code":131047,"title":"Re-engagement message"}],"extra":{"x":1}}]}}]}]}"#;
        let events = parse_webhook(body.as_bytes()).unwrap();
        assert_eq!(events.len(), 4);
        let WebhookEvent::Message(a) = &events[0] else {
            panic!()
        };
        assert_eq!(a.phone_number_id, "106540352242922");
        assert_eq!(a.choice_id(), Some("slot_0"));
        assert_eq!(a.text(), "9:30 AM");
        let WebhookEvent::Message(b) = &events[1] else {
            panic!()
        };
        assert_eq!(b.choice_id(), Some("svc_x"));
        let WebhookEvent::Message(c) = &events[2] else {
            panic!()
        };
        assert_eq!(c.kind, InboundKind::Unsupported("image".into()));
        let WebhookEvent::Status(s) = &events[3] else {
            panic!()
        };
        assert_eq!(
            (s.status.as_str(), s.error_codes.as_slice()),
            ("failed", &[131_047][..])
        );
    }

    #[test]
    fn malformed_bodies_are_refused() {
        assert!(parse_webhook(b"not json").is_err());
        assert!(parse_webhook(br#"{"object":"page","entry":[]}"#).is_err());
        assert_eq!(
            parse_webhook(br#"{"object":"whatsapp_business_account","entry":[]}"#).unwrap(),
            vec![]
        );
    }
}
