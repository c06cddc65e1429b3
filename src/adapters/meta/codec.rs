//! Inbound `messaging` webhooks of Instagram and Messenger. Lenient like
//! the WhatsApp codec (unknown fields ignored, ids that arrive as numbers
//! taken as strings): Meta adds fields without notice.

use serde::Deserialize;
use thiserror::Error;

use super::MetaChannel;
use crate::adapters::whatsapp::codec::Lenient;

/// Why a (signature-checked) body was not a messaging webhook. The
/// sender's fault.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum MetaCodecError {
    #[error("webhook body is not JSON: {0}")]
    NotJson(String),
    #[error("webhook object {found:?} is not {expected:?}")]
    WrongObject {
        expected: &'static str,
        found: Option<String>,
    },
}

/// One thing a webhook told us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaEvent {
    /// A customer wrote or tapped something.
    Message(MetaInbound),
    /// Our own message, echoed back (`is_echo`): never a customer turn.
    Echo { account_id: String, mid: String },
    /// The customer read our messages up to `watermark` (ms).
    Read {
        account_id: String,
        sender_id: String,
        watermark: i64,
    },
}

/// A customer's message to one of our accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaInbound {
    pub channel: MetaChannel,
    /// `entry[].id`: the Instagram professional account id or the Facebook
    /// page id. Routes to the tenant.
    pub account_id: String,
    /// The sender's scoped id (IGSID or PSID): the customer's identity on
    /// this channel, not a phone number.
    pub sender_id: String,
    /// The message id: the deduplication key.
    pub mid: String,
    /// Milliseconds since the epoch.
    pub timestamp_ms: i64,
    pub kind: MetaInboundKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaInboundKind {
    Text(String),
    /// A tapped quick reply or button: our payload and what it said.
    Choice {
        payload: String,
        title: String,
    },
    /// Anything without text (image, audio, sticker, reel share…).
    Unsupported(String),
}

impl MetaInbound {
    /// The text to give the conversation.
    pub fn text(&self) -> &str {
        match &self.kind {
            MetaInboundKind::Text(t) => t,
            MetaInboundKind::Choice { title, .. } => title,
            MetaInboundKind::Unsupported(_) => "",
        }
    }

    /// interactions.message_type: `text`, `interactive` for a tapped quick
    /// reply or button, else the attachment's type.
    pub fn message_type(&self) -> &str {
        match &self.kind {
            MetaInboundKind::Text(_) => "text",
            MetaInboundKind::Choice { .. } => "interactive",
            MetaInboundKind::Unsupported(t) => t,
        }
    }

    /// The choice id the customer tapped, if any.
    pub fn choice_id(&self) -> Option<&str> {
        match &self.kind {
            MetaInboundKind::Choice { payload, .. } => Some(payload),
            MetaInboundKind::Text(_) | MetaInboundKind::Unsupported(_) => None,
        }
    }
}

/// Parses a webhook body for `channel` into events, in delivery order.
/// Entries without messaging (comments, mentions) yield nothing.
pub fn parse_webhook(channel: MetaChannel, body: &[u8]) -> Result<Vec<MetaEvent>, MetaCodecError> {
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| MetaCodecError::NotJson(e.to_string()))?;
    let expected = channel.webhook_object();
    if envelope.object.as_deref() != Some(expected) {
        return Err(MetaCodecError::WrongObject {
            expected,
            found: envelope.object,
        });
    }
    let mut events = Vec::new();
    for entry in envelope.entry {
        let account_id = entry.id.map(|l| l.0).unwrap_or_default();
        for m in entry.messaging {
            let sender_id = m.sender.and_then(|p| p.id).map(|l| l.0);
            let timestamp_ms = m.timestamp.unwrap_or(0);
            if let Some(read) = m.read {
                if let Some(sender_id) = sender_id {
                    events.push(MetaEvent::Read {
                        account_id: account_id.clone(),
                        sender_id,
                        watermark: read.watermark.unwrap_or(timestamp_ms),
                    });
                }
                continue;
            }
            if let Some(postback) = m.postback {
                let (Some(sender_id), Some(payload)) = (sender_id, postback.payload) else {
                    continue;
                };
                // Postbacks carry a mid on newer API versions; older ones
                // have none, so one is made from what identifies the tap.
                let mid = postback
                    .mid
                    .unwrap_or_else(|| format!("postback:{sender_id}:{timestamp_ms}:{payload}"));
                events.push(MetaEvent::Message(MetaInbound {
                    channel,
                    account_id: account_id.clone(),
                    sender_id,
                    mid,
                    timestamp_ms,
                    kind: MetaInboundKind::Choice {
                        title: postback.title.unwrap_or_else(|| payload.clone()),
                        payload,
                    },
                }));
                continue;
            }
            let Some(message) = m.message else { continue };
            let Some(mid) = message.mid else { continue };
            if message.is_echo.unwrap_or(false) {
                events.push(MetaEvent::Echo {
                    account_id: account_id.clone(),
                    mid,
                });
                continue;
            }
            let Some(sender_id) = sender_id else { continue };
            let text = message.text.unwrap_or_default();
            let kind = match (message.quick_reply.and_then(|q| q.payload), text) {
                (Some(payload), title) => MetaInboundKind::Choice { payload, title },
                (None, t) if !t.is_empty() => MetaInboundKind::Text(t),
                (None, _) => MetaInboundKind::Unsupported(
                    message
                        .attachments
                        .first()
                        .and_then(|a| a.kind.clone())
                        .unwrap_or_else(|| "unknown".into()),
                ),
            };
            events.push(MetaEvent::Message(MetaInbound {
                channel,
                account_id: account_id.clone(),
                sender_id,
                mid,
                timestamp_ms,
                kind,
            }));
        }
    }
    Ok(events)
}

#[derive(Deserialize)]
struct Envelope {
    object: Option<String>,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    id: Option<Lenient>,
    #[serde(default)]
    messaging: Vec<Messaging>,
}

#[derive(Deserialize)]
struct Party {
    id: Option<Lenient>,
}

#[derive(Deserialize)]
struct Messaging {
    sender: Option<Party>,
    timestamp: Option<i64>,
    message: Option<Message>,
    postback: Option<Postback>,
    read: Option<Read>,
}

#[derive(Deserialize)]
struct Message {
    mid: Option<String>,
    text: Option<String>,
    is_echo: Option<bool>,
    quick_reply: Option<QuickReply>,
    #[serde(default)]
    attachments: Vec<Attachment>,
}

#[derive(Deserialize)]
struct QuickReply {
    payload: Option<String>,
}

#[derive(Deserialize)]
struct Attachment {
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct Postback {
    mid: Option<String>,
    title: Option<String>,
    payload: Option<String>,
}

#[derive(Deserialize)]
struct Read {
    watermark: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(object: &str, messaging: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "object": object,
            "entry": [{"id": "17841400000000001", "time": 1733500000000i64, "messaging": messaging}],
        }))
        .unwrap()
    }

    #[test]
    fn instagram_text_quick_reply_and_echo() {
        let b = body(
            "instagram",
            serde_json::json!([
                {"sender": {"id": "6100000000000001"}, "recipient": {"id": "17841400000000001"},
                 "timestamp": 1733500000100i64,
                 "message": {"mid": "aWdfZAG1", "text": "Niko na swali kuhusu braids"}},
                {"sender": {"id": "6100000000000001"}, "recipient": {"id": "17841400000000001"},
                 "timestamp": 1733500000200i64,
                 "message": {"mid": "aWdfZAG2", "text": "Kesho 10am",
                             "quick_reply": {"payload": "slot_2026-12-07T10:00"}}},
                {"sender": {"id": "17841400000000001"}, "recipient": {"id": "6100000000000001"},
                 "timestamp": 1733500000300i64,
                 "message": {"mid": "aWdfZAG3", "text": "Sawa!", "is_echo": true}}
            ]),
        );
        let events = parse_webhook(MetaChannel::Instagram, &b).unwrap();
        assert_eq!(events.len(), 3);
        let MetaEvent::Message(first) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(first.account_id, "17841400000000001");
        assert_eq!(first.sender_id, "6100000000000001");
        assert_eq!(first.text(), "Niko na swali kuhusu braids");
        assert_eq!(first.choice_id(), None);
        let MetaEvent::Message(second) = &events[1] else {
            panic!("{events:?}")
        };
        assert_eq!(second.choice_id(), Some("slot_2026-12-07T10:00"));
        assert_eq!(second.text(), "Kesho 10am");
        assert_eq!(
            events[2],
            MetaEvent::Echo {
                account_id: "17841400000000001".into(),
                mid: "aWdfZAG3".into()
            }
        );
    }

    #[test]
    fn messenger_postback_read_and_attachment() {
        let b = body(
            "page",
            serde_json::json!([
                {"sender": {"id": 2400000000000001u64}, "recipient": {"id": "17841400000000001"},
                 "timestamp": 1733500000100i64,
                 "postback": {"title": "Book", "payload": "start_booking"}},
                {"sender": {"id": "2400000000000001"}, "timestamp": 1733500000200i64,
                 "read": {"watermark": 1733500000150i64}},
                {"sender": {"id": "2400000000000001"}, "timestamp": 1733500000300i64,
                 "message": {"mid": "m_photo", "attachments": [{"type": "image", "payload": {"url": "x"}}]}}
            ]),
        );
        let events = parse_webhook(MetaChannel::Messenger, &b).unwrap();
        let MetaEvent::Message(tap) = &events[0] else {
            panic!("{events:?}")
        };
        // A numeric PSID is kept as its digits.
        assert_eq!(tap.sender_id, "2400000000000001");
        assert_eq!(tap.choice_id(), Some("start_booking"));
        assert_eq!(tap.text(), "Book");
        assert!(!tap.mid.is_empty());
        assert!(matches!(
            &events[1],
            MetaEvent::Read {
                watermark: 1733500000150,
                ..
            }
        ));
        let MetaEvent::Message(photo) = &events[2] else {
            panic!("{events:?}")
        };
        assert_eq!(photo.kind, MetaInboundKind::Unsupported("image".into()));
        assert_eq!(photo.text(), "");
    }

    #[test]
    fn the_other_platforms_body_and_garbage_are_refused() {
        let b = body("page", serde_json::json!([]));
        assert!(matches!(
            parse_webhook(MetaChannel::Instagram, &b),
            Err(MetaCodecError::WrongObject {
                expected: "instagram",
                ..
            })
        ));
        assert!(matches!(
            parse_webhook(MetaChannel::Messenger, b"{not json"),
            Err(MetaCodecError::NotJson(_))
        ));
        // Comments (changes, no messaging) carry no message.
        let comments = br#"{"object":"instagram","entry":[{"id":"1","changes":[{"field":"comments","value":{}}]}]}"#;
        assert_eq!(
            parse_webhook(MetaChannel::Instagram, comments).unwrap(),
            vec![]
        );
    }
}
