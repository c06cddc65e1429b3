//! Outbound message bodies for `POST /{phone_number_id}/messages`, built
//! from a conversation [`Reply`]: plain text, reply buttons (up to three
//! choices) or a list (up to ten), within Meta's length limits.

use serde_json::{Value, json};

use crate::core::dialog::{Choice, Lang, Reply};

const TEXT_MAX: usize = 4096;
const INTERACTIVE_BODY_MAX: usize = 1024;
const BUTTON_TITLE_MAX: usize = 20;
const ROW_TITLE_MAX: usize = 24;
const ROW_DESCRIPTION_MAX: usize = 72;
const ID_MAX: usize = 200;

fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// A plain text message.
pub fn text(to_digits: &str, body: &str) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to_digits,
        "type": "text",
        "text": {"preview_url": false, "body": cut(body, TEXT_MAX)},
    })
}

/// Longest text a template body parameter takes.
const TEMPLATE_PARAM_MAX: usize = 1024;

/// The platform's update template carrying `body` as its one body
/// parameter (see [`super::client::UPDATE_TEMPLATE`]). Template parameters
/// may not hold newlines, tabs or runs of spaces: whitespace is folded.
pub fn update_template(to_digits: &str, body: &str, language_code: &str) -> Value {
    let folded = body.split_whitespace().collect::<Vec<_>>().join(" ");
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to_digits,
        "type": "template",
        "template": {
            "name": super::client::UPDATE_TEMPLATE,
            "language": {"code": language_code},
            "components": [{
                "type": "body",
                "parameters": [{"type": "text", "text": cut(&folded, TEMPLATE_PARAM_MAX)}],
            }],
        },
    })
}

/// The message for a conversation reply.
pub fn for_reply(to_digits: &str, reply: &Reply) -> Value {
    let body = reply.text();
    match reply.choices.len() {
        0 => text(to_digits, &body),
        1..=3 if body.chars().count() <= INTERACTIVE_BODY_MAX => {
            buttons(to_digits, &body, &reply.choices)
        }
        4..=10 if body.chars().count() <= INTERACTIVE_BODY_MAX => {
            list(to_digits, &body, &reply.choices, reply.language)
        }
        _ => text(to_digits, &body),
    }
}

fn buttons(to: &str, body: &str, choices: &[Choice]) -> Value {
    let buttons: Vec<Value> = choices
        .iter()
        .map(|c| json!({"type": "reply", "reply": {"id": cut(&c.id, ID_MAX), "title": cut(&c.title, BUTTON_TITLE_MAX)}}))
        .collect();
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "interactive",
        "interactive": {"type": "button", "body": {"text": body}, "action": {"buttons": buttons}},
    })
}

fn list(to: &str, body: &str, choices: &[Choice], lang: Lang) -> Value {
    let rows: Vec<Value> = choices
        .iter()
        .take(10)
        .map(|c| {
            let mut row = json!({"id": cut(&c.id, ID_MAX), "title": cut(&c.title, ROW_TITLE_MAX)});
            if let Some(d) = &c.description {
                row["description"] = Value::String(cut(d, ROW_DESCRIPTION_MAX));
            }
            row
        })
        .collect();
    let (button, section) = match lang {
        Lang::En => ("Choose", "Options"),
        Lang::Sw => ("Chagua", "Chaguo"),
    };
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": body},
            "action": {"button": button, "sections": [{"title": section, "rows": rows}]},
        },
    })
}

/// Marks an inbound message as read.
pub fn mark_read(message_id: &str) -> Value {
    json!({"messaging_product": "whatsapp", "status": "read", "message_id": message_id})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(n: usize) -> Reply {
        Reply {
            language: Lang::En,
            sentences: vec!["Pick one.".into()],
            choices: (0..n)
                .map(|i| Choice {
                    id: format!("slot_{i}"),
                    title: "A very long button title indeed".into(),
                    description: Some("d".repeat(100)),
                })
                .collect(),
        }
    }

    #[test]
    fn reply_shapes_follow_choice_count_and_limits() {
        let t = for_reply("254712345678", &reply(0));
        assert_eq!(t["type"], "text");
        assert_eq!(t["text"]["body"], "Pick one.");
        let b = for_reply("254712345678", &reply(3));
        assert_eq!(b["interactive"]["type"], "button");
        let title = b["interactive"]["action"]["buttons"][0]["reply"]["title"]
            .as_str()
            .unwrap();
        assert_eq!(title.chars().count(), 20);
        let l = for_reply("254712345678", &reply(7));
        assert_eq!(l["interactive"]["type"], "list");
        let rows = l["interactive"]["action"]["sections"][0]["rows"]
            .as_array()
            .unwrap();
        assert_eq!(rows.len(), 7);
        assert_eq!(rows[0]["title"].as_str().unwrap().chars().count(), 24);
        assert_eq!(rows[0]["description"].as_str().unwrap().chars().count(), 72);
        assert_eq!(for_reply("2547", &reply(11))["type"], "text");
    }
}
