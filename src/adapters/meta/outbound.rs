//! Send API bodies (`POST /{account id}/messages`) for a conversation
//! [`Reply`]: text, with the reply's choices as quick replies, within each
//! platform's limits, and the messaging type the 24 h window allows.

use serde_json::{Value, json};

use super::MetaChannel;
use crate::adapters::whatsapp::client::Window;
use crate::core::dialog::{Choice, Reply};

/// Messenger takes 2,000 characters of text; Instagram 1,000 bytes.
const MESSENGER_TEXT_MAX_CHARS: usize = 2000;
const INSTAGRAM_TEXT_MAX_BYTES: usize = 1000;
/// Both take up to 13 quick replies, titles of 20 characters and payloads
/// of 1,000.
const QUICK_REPLIES_MAX: usize = 13;
const QUICK_REPLY_TITLE_MAX: usize = 20;
const PAYLOAD_MAX: usize = 1000;

/// Under which rule a message is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessagingType {
    /// An answer inside the 24 h standard messaging window.
    Response,
    /// Outside the window, an update about an appointment the customer
    /// booked (Messenger's `CONFIRMED_EVENT_UPDATE` tag). Instagram has no
    /// such tag: there, outside the window, nothing may be sent.
    ConfirmedEventUpdate,
    /// Outside the window, a person from the business answering (the
    /// `HUMAN_AGENT` tag, 7 days, both platforms).
    HumanAgent,
}

impl MessagingType {
    /// What may be sent to a customer whose window is `window`: a bot
    /// answer needs the window open (or unknown: Meta refuses it if
    /// closed); an appointment update outside it only on Messenger.
    /// `None`: Meta's policy allows nothing on this channel; tell the
    /// customer on another one, or not at all.
    pub fn allowed(channel: MetaChannel, window: Window, update: bool) -> Option<Self> {
        match (window, update, channel) {
            (Window::Open | Window::Unknown, _, _) => Some(Self::Response),
            (Window::Closed, true, MetaChannel::Messenger) => Some(Self::ConfirmedEventUpdate),
            (Window::Closed, true, MetaChannel::Instagram) | (Window::Closed, false, _) => None,
        }
    }

    fn fields(self) -> (&'static str, Option<&'static str>) {
        match self {
            Self::Response => ("RESPONSE", None),
            Self::ConfirmedEventUpdate => ("MESSAGE_TAG", Some("CONFIRMED_EVENT_UPDATE")),
            Self::HumanAgent => ("MESSAGE_TAG", Some("HUMAN_AGENT")),
        }
    }
}

fn cut_chars(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// At most `max` bytes of `s`, cut at a character boundary.
fn cut_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn text_for(channel: MetaChannel, text: &str) -> String {
    match channel {
        MetaChannel::Messenger => cut_chars(text, MESSENGER_TEXT_MAX_CHARS),
        MetaChannel::Instagram => cut_bytes(text, INSTAGRAM_TEXT_MAX_BYTES).to_owned(),
    }
}

/// The body for a conversation reply to `recipient_id` (IGSID or PSID).
/// Choices beyond the platform's 13 quick replies are listed in the text
/// (numbered) so the customer can still type them.
pub fn for_reply(
    channel: MetaChannel,
    recipient_id: &str,
    reply: &Reply,
    messaging_type: MessagingType,
) -> Value {
    let mut body = reply.text();
    let choices: &[Choice] = &reply.choices;
    if choices.len() > QUICK_REPLIES_MAX {
        for (k, c) in choices.iter().enumerate() {
            body.push_str(&format!("\n{}. {}", k + 1, c.title));
        }
    }
    let mut message = json!({"text": text_for(channel, &body)});
    if !choices.is_empty() && choices.len() <= QUICK_REPLIES_MAX {
        let quick: Vec<Value> = choices
            .iter()
            .map(|c| {
                json!({
                    "content_type": "text",
                    "title": cut_chars(&c.title, QUICK_REPLY_TITLE_MAX),
                    "payload": cut_chars(&c.id, PAYLOAD_MAX),
                })
            })
            .collect();
        message["quick_replies"] = Value::Array(quick);
    }
    let (kind, tag) = messaging_type.fields();
    let mut out = json!({
        "recipient": {"id": recipient_id},
        "messaging_type": kind,
        "message": message,
    });
    if let Some(tag) = tag {
        out["tag"] = Value::String(tag.to_owned());
    }
    out
}

/// Marks the customer's messages as seen (the read receipt).
pub fn mark_seen(recipient_id: &str) -> Value {
    json!({"recipient": {"id": recipient_id}, "sender_action": "mark_seen"})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::dialog::Lang;

    fn reply(text: &str, n: usize) -> Reply {
        Reply {
            language: Lang::Sw,
            sentences: vec![text.into()],
            choices: (0..n)
                .map(|i| Choice {
                    id: format!("slot_{i}"),
                    title: format!("Ijumaa saa {i} asubuhi kabisa"),
                    description: None,
                })
                .collect(),
        }
    }

    #[test]
    fn choices_become_quick_replies_within_limits() {
        let b = for_reply(
            MetaChannel::Messenger,
            "2400000000000001",
            &reply("Chagua saa:", 3),
            MessagingType::Response,
        );
        assert_eq!(b["recipient"]["id"], "2400000000000001");
        assert_eq!(b["messaging_type"], "RESPONSE");
        assert!(b.get("tag").is_none());
        let q = b["message"]["quick_replies"].as_array().unwrap();
        assert_eq!(q.len(), 3);
        assert_eq!(q[1]["payload"], "slot_1");
        assert_eq!(q[1]["title"].as_str().unwrap().chars().count(), 20);
        // Past 13 the choices are numbered in the text instead.
        let many = for_reply(
            MetaChannel::Instagram,
            "1",
            &reply("Chagua:", 14),
            MessagingType::Response,
        );
        assert!(many["message"].get("quick_replies").is_none());
        assert!(many["message"]["text"].as_str().unwrap().contains("\n14. "));
    }

    #[test]
    fn instagram_text_is_cut_to_1000_bytes_at_a_character_boundary() {
        let long = "é".repeat(700); // 1,400 bytes
        let b = for_reply(
            MetaChannel::Instagram,
            "1",
            &reply(&long, 0),
            MessagingType::Response,
        );
        let text = b["message"]["text"].as_str().unwrap();
        assert_eq!(text.len(), 1000);
        let m = for_reply(
            MetaChannel::Messenger,
            "1",
            &reply(&long, 0),
            MessagingType::Response,
        );
        assert_eq!(m["message"]["text"].as_str().unwrap().chars().count(), 700);
    }

    #[test]
    fn outside_the_window_only_messenger_updates_may_be_sent() {
        use MessagingType::*;
        let ig = MetaChannel::Instagram;
        let fb = MetaChannel::Messenger;
        assert_eq!(
            MessagingType::allowed(ig, Window::Open, true),
            Some(Response)
        );
        assert_eq!(
            MessagingType::allowed(fb, Window::Closed, true),
            Some(ConfirmedEventUpdate)
        );
        assert_eq!(MessagingType::allowed(ig, Window::Closed, true), None);
        assert_eq!(MessagingType::allowed(fb, Window::Closed, false), None);
        let b = for_reply(fb, "1", &reply("Kumbusho", 0), ConfirmedEventUpdate);
        assert_eq!(b["messaging_type"], "MESSAGE_TAG");
        assert_eq!(b["tag"], "CONFIRMED_EVENT_UPDATE");
        assert_eq!(mark_seen("9")["sender_action"], "mark_seen");
    }
}
