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
//! WhatsApp later is the same customer. A booking that takes a payment
//! sends the M-Pesa prompt to that number ([`web_payments`]); paid, it is
//! the proof of a number only claimed.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tracing::Instrument;

use crate::adapters::sms::SmsSender;
use crate::runtime::web_identity::{CodeToSend, fresh_token};

use crate::core::dialog::{Channel, Choice, Reply};
use crate::core::ids::{ChannelIdentity, WebSessionId};
use crate::core::payment::Provider;
use crate::runtime::chat_channel::{ChatChannel, ChatMessage, SendError, SendWindow, chat_turn};
use crate::runtime::conversation::{
    BoxFuture, ConversationError, ConversationService, TurnOutcome,
};
use crate::runtime::payments::{BookingPayment, PaymentService};
use crate::runtime::web_payments::{self, OpenSocket, WebSockets};
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
    /// The session's earlier messages, oldest first (sent when a socket
    /// opens; the page shows them if it shows nothing yet).
    History { messages: Vec<HistoryMessage> },
    /// "Continue on WhatsApp": a wa.me link carrying the session's
    /// hand-off token.
    Steer { url: String, text: String },
    /// A booking's M-Pesa payment: "check your phone", then its outcome;
    /// `status` is `pending`, `paid` or `unpaid`.
    Payment {
        text: String,
        lang: &'static str,
        status: &'static str,
    },
}

/// One earlier message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryMessage {
    /// "me" (the customer) or "bot", as the page's roles.
    pub role: &'static str,
    pub text: String,
}

/// Messages a reopened widget is shown again.
pub const HISTORY_LIMIT: i64 = 50;

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
    sms: Option<Arc<dyn SmsSender>>,
    payments: Option<Arc<PaymentService>>,
    sockets: WebSockets,
}

impl WebChats {
    /// `sms`: how the phone check's codes are sent (none: a tenant with
    /// phone_otp_required cannot take web bookings, and says so).
    /// `payments`: the node's payment service; a booking asks for the
    /// M-Pesa prompt where the tenant's M-Pesa gateway is ready, else the
    /// customer is told how to pay (the paybill). With it, outcomes are
    /// told to open widgets from a background task (call on a runtime).
    pub fn new(
        db: Db,
        service: ConversationService,
        sms: Option<Arc<dyn SmsSender>>,
        payments: Option<Arc<PaymentService>>,
    ) -> Self {
        let ready = payments.clone();
        let service = service
            .with_phone_codes(sms.is_some())
            .with_payments_ready(Arc::new(move |tenant: &TenantRecord| {
                ready
                    .as_ref()
                    .is_some_and(|p| p.gateway(tenant, Provider::Mpesa).is_ok())
            }));
        let sockets = WebSockets::default();
        if let Some(p) = &payments {
            web_payments::spawn_outcomes(db.clone(), p.clone(), sockets.clone());
        }
        WebChats {
            db,
            service,
            sms,
            payments,
            sockets,
        }
    }

    /// Registers an open widget of `session` (payment outcomes are pushed
    /// to it) until the returned guard is dropped.
    pub fn open_socket(&self, session: &WebSessionId, out: mpsc::Sender<ToWidget>) -> OpenSocket {
        let key = ChannelIdentity::WebCookie(session.clone()).thread_key();
        self.sockets.open(key, out)
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
        // The socket outlives changes to the tenant: its turn reads the
        // record afresh.
        let current = self
            .db
            .tenant_by_slug(&tenant.slug)
            .await?
            .ok_or_else(|| ConversationError::UnknownTenant(tenant.slug.to_string()))?;
        let outcome = chat_turn(
            &self.service,
            channel,
            &current,
            &handle,
            message,
            Utc::now(),
        )
        .await?;
        for code in &outcome.codes {
            self.send_code(tenant, code.clone());
        }
        if let (Some(payments), Some(thread), Some(phone)) =
            (&self.payments, &outcome.thread, &outcome.payer)
        {
            let lang = outcome
                .replies
                .last()
                .map_or(crate::core::ids::Lang::En, |r| r.reply.language);
            for &(appointment_id, amount) in &outcome.payment_requests {
                let booking = BookingPayment {
                    thread: thread.clone(),
                    appointment_id,
                    phone: phone.clone(),
                    amount,
                };
                web_payments::start(payments, &self.db, tenant, &channel.out, &booking, lang).await;
            }
        }
        Ok(outcome)
    }

    /// Sends a phone-check code by SMS in the background (the turn has
    /// committed; the customer is already told it is on its way).
    fn send_code(&self, tenant: &TenantRecord, code: CodeToSend) {
        let Some(sms) = self.sms.clone() else {
            return;
        };
        let name = tenant
            .widget_display_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| tenant.name.clone());
        let text = format!(
            "{} is your {name} booking code. It expires in {} minutes.",
            code.code.expose(),
            crate::core::phone_check::CODE_TTL_MIN
        );
        tokio::spawn(
            async move {
                match sms.send(&code.to, &text).await {
                    Ok(_) => tracing::info!("phone check code handed to the SMS provider"),
                    Err(e) => tracing::warn!(error = %e, "phone check code not sent"),
                }
            }
            .in_current_span(),
        );
    }

    /// The session's earlier messages (nothing for a new session).
    pub async fn history(
        &self,
        tenant: &TenantRecord,
        session: &WebSessionId,
    ) -> anyhow::Result<Vec<HistoryMessage>> {
        let key = ChannelIdentity::WebCookie(session.clone()).thread_key();
        let mut tx = self.db.tenant(&tenant.slug).begin().await?;
        let lines = crate::storage::web::history(&mut tx, &key, HISTORY_LIMIT).await?;
        tx.commit().await?;
        Ok(lines
            .into_iter()
            .map(|l| HistoryMessage {
                role: if l.inbound { "me" } else { "bot" },
                text: l.text,
            })
            .collect())
    }

    /// The "continue on WhatsApp" link for a session that has written
    /// (tenants.channel_steering_enabled and a WhatsApp number), with its
    /// hand-off token (24 h, single use).
    pub async fn steer(
        &self,
        tenant: &TenantRecord,
        session: &WebSessionId,
    ) -> anyhow::Result<Option<ToWidget>> {
        let Some(number) = tenant
            .whatsapp_number
            .as_deref()
            .filter(|_| tenant.channel_steering_enabled)
            .and_then(|n| crate::core::ids::PhoneNumber::parse(n).ok())
        else {
            return Ok(None);
        };
        let mut tx = self.db.tenant(&tenant.slug).begin().await?;
        let token =
            crate::storage::web::handoff_token(&mut tx, session, &fresh_token(), Utc::now())
                .await?;
        tx.commit().await?;
        let phrase = format!("Hi! I'd like to continue my chat here ({token})");
        let url = url::Url::parse_with_params(
            &format!("https://wa.me/{}", number.digits()),
            &[("text", phrase.as_str())],
        )?;
        Ok(Some(ToWidget::Steer {
            url: url.to_string(),
            text: "Continue on WhatsApp".into(),
        }))
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
