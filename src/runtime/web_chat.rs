//! The web chat widget's conversations: one browser socket per open widget
//! (`http::widget` receives), each message a turn through the shared
//! [`chat_turn`], the replies pushed back down the same socket.
//!
//! The customer is their session cookie ([`ChannelIdentity::WebCookie`]):
//! a customer_sessions row, unverified and phoneless, made on the first
//! message, with a web_cookie identity in customer_identities (a phoneless
//! customers row until the number is known). Before a booking the dialog
//! asks for the number (COLLECT_PHONE) and the session is promoted: the
//! identity joins the customer with that number, so the same person on
//! WhatsApp later is the same customer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::core::dialog::{Channel, Choice, Reply};
use crate::core::ids::{ChannelIdentity, WebSessionId};
use crate::runtime::chat_channel::{ChatChannel, ChatMessage, SendError, SendWindow, chat_turn};
use crate::runtime::conversation::{BoxFuture, ConversationService, TurnOutcome};
use crate::storage::{Db, TenantRecord};

/// Longest message the widget takes (characters); longer is cut.
pub const MAX_MESSAGE_CHARS: usize = 2000;

/// What the browser sends.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromWidget {
    /// Typed text; `id` is the widget's own message id (a resend after a
    /// reconnect is handled once).
    Text { text: String, id: Option<String> },
    /// A tapped quick-reply button.
    Choice {
        choice: String,
        title: String,
        id: Option<String>,
    },
}

/// What the page is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToWidget {
    /// A bot message and its quick replies.
    Bot {
        text: String,
        lang: &'static str,
        choices: Vec<WidgetChoice>,
    },
    /// The message could not be handled now; the widget may send it again.
    Error { text: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WidgetChoice {
    pub id: String,
    pub title: String,
}

impl ToWidget {
    pub fn from_reply(reply: &Reply) -> Self {
        ToWidget::Bot {
            text: reply.text(),
            lang: reply.language.code(),
            choices: reply.choices.iter().map(widget_choice).collect(),
        }
    }
}

fn widget_choice(c: &Choice) -> WidgetChoice {
    WidgetChoice {
        id: c.id.clone(),
        title: c.title.clone(),
    }
}

/// One open widget as a [`ChatChannel`]: replies go down its socket while
/// it is open.
pub struct WebChannel {
    out: mpsc::Sender<ToWidget>,
}

impl WebChannel {
    pub fn new(out: mpsc::Sender<ToWidget>) -> Self {
        WebChannel { out }
    }
}

impl ChatChannel for WebChannel {
    fn channel(&self) -> Channel {
        Channel::Web
    }

    fn window(&self, _last_inbound: Option<DateTime<Utc>>, _now: DateTime<Utc>) -> SendWindow {
        if self.out.is_closed() {
            SendWindow::Gone
        } else {
            SendWindow::Open
        }
    }

    fn send_reply<'a>(
        &'a self,
        _tenant: &'a TenantRecord,
        _to: &'a ChannelIdentity,
        reply: &'a Reply,
    ) -> BoxFuture<'a, Result<Option<String>, SendError>> {
        Box::pin(async move {
            self.out
                .send(ToWidget::from_reply(reply))
                .await
                .map(|()| None)
                .map_err(|_| SendError("the widget closed".into()))
        })
    }
}

/// The web chats of this node.
#[derive(Clone)]
pub struct WebChats {
    db: Db,
    service: ConversationService,
}

impl WebChats {
    pub fn new(db: Db, service: ConversationService) -> Self {
        WebChats { db, service }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// One message from a widget: the session's row (made on its first
    /// message), then the turn, its replies sent down `channel`.
    pub async fn message(
        &self,
        tenant: &TenantRecord,
        session: &WebSessionId,
        channel: &WebChannel,
        inbound: FromWidget,
    ) -> anyhow::Result<TurnOutcome> {
        let handle = self.db.tenant(&tenant.slug);
        let mut tx = handle.begin().await?;
        crate::storage::web::ensure_session(&mut tx, session).await?;
        tx.commit().await?;
        let (text, choice_id, id, message_type) = match inbound {
            FromWidget::Text { text, id } => (text, None, id, "text"),
            FromWidget::Choice { choice, title, id } => (title, Some(choice), id, "interactive"),
        };
        let text: String = text
            .replace('\0', "")
            .chars()
            .take(MAX_MESSAGE_CHARS)
            .collect();
        // The widget's ids are its own: scoped to the session so one
        // browser cannot collide with another's.
        let message_id = id
            .filter(|id| !id.is_empty() && id.len() <= 64)
            .map(|id| format!("web:{}:{}", session.expose(), id.replace('\0', "")));
        let message = ChatMessage {
            customer: ChannelIdentity::WebCookie(session.clone()),
            customer_name: None,
            text,
            choice_id,
            message_id,
            message_type: message_type.to_owned(),
        };
        Ok(chat_turn(&self.service, channel, tenant, &handle, message, Utc::now()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ids::Lang;

    #[test]
    fn widget_messages_parse_and_replies_serialise() {
        let m: FromWidget =
            serde_json::from_str(r#"{"type":"text","text":"hi","id":"m1"}"#).unwrap();
        assert_eq!(
            m,
            FromWidget::Text {
                text: "hi".into(),
                id: Some("m1".into())
            }
        );
        let m: FromWidget =
            serde_json::from_str(r#"{"type":"choice","choice":"yes","title":"Yes"}"#).unwrap();
        assert!(matches!(m, FromWidget::Choice { ref choice, .. } if choice == "yes"));
        assert!(serde_json::from_str::<FromWidget>(r#"{"type":"admin"}"#).is_err());
        let reply = Reply {
            language: Lang::Sw,
            sentences: vec!["Sawa.".into(), "Niendelee?".into()],
            choices: vec![Choice {
                id: "yes".into(),
                title: "Ndiyo".into(),
                description: None,
            }],
        };
        let json = serde_json::to_value(ToWidget::from_reply(&reply)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "bot", "text": "Sawa. Niendelee?", "lang": "sw",
                "choices": [{"id": "yes", "title": "Ndiyo"}]})
        );
    }
}
