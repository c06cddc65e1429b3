//! Instagram and Messenger webhook routes.
//!
//! * `GET /webhooks/instagram`, `GET /webhooks/messenger`: the subscription
//!   handshake (hub.mode / hub.verify_token / hub.challenge), with the same
//!   verify token as WhatsApp's.
//! * `POST` on the same paths: signed `messaging` webhooks (object
//!   `instagram` / `page`). The `X-Hub-Signature-256` is checked over the
//!   exact raw body with the Meta app secret before anything is parsed
//!   (401 when missing or wrong; nothing stored). Each customer message is
//!   routed by `entry[].id` to the tenant whose Instagram account / page it
//!   is and who has the channel on, and stored in the chat inbox (keyed by
//!   its mid: a redelivery stores nothing new) in one transaction before
//!   200 is answered; 503 if the database cannot take it (Meta delivers
//!   again). Messages to an account no tenant has on go to
//!   public.inbound_quarantine once per mid, and nothing is sent back.
//!   Echoes of our own messages and read / delivery events are answered
//!   200 and dropped. Processing runs from the inbox
//!   ([`crate::runtime::meta_chat`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;

use super::whatsapp::{MAX_BODY_BYTES, VerifyQuery, check_signature, handshake};
use crate::adapters::meta::{MetaChannel, MetaEvent, parse_webhook};
use crate::config::Secret;
use crate::core::ids::TenantId;
use crate::runtime::chat_intake::{self, Intake};
use crate::runtime::meta_chat::tenant_for;
use crate::storage::inbox::{self, InboxKind, NewInboxRow, QuarantineRow, Stored};
use crate::storage::{Db, StorageError};

/// What the Instagram and Messenger routes need.
pub struct MetaWebhooks {
    pub db: Db,
    /// The Meta app secret (`WHATSAPP_APP_SECRET` / `META_APP_SECRET`).
    pub app_secret: Option<Secret>,
    pub verify_token: Option<Secret>,
    /// The chat inbox's processing, woken when something is stored.
    pub intake: Intake,
}

/// The routes `/webhooks/instagram` and `/webhooks/messenger`.
pub fn router(webhooks: MetaWebhooks) -> Router {
    Router::new()
        .route("/webhooks/instagram", get(verify).post(receive_instagram))
        .route("/webhooks/messenger", get(verify).post(receive_messenger))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(Arc::new(webhooks))
}

async fn verify(State(s): State<Arc<MetaWebhooks>>, Query(q): Query<VerifyQuery>) -> Response {
    handshake(s.verify_token.as_ref(), q)
}

async fn receive_instagram(
    s: State<Arc<MetaWebhooks>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    receive(MetaChannel::Instagram, s, headers, body).await
}

async fn receive_messenger(
    s: State<Arc<MetaWebhooks>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    receive(MetaChannel::Messenger, s, headers, body).await
}

async fn receive(
    channel: MetaChannel,
    State(s): State<Arc<MetaWebhooks>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = check_signature(s.app_secret.as_ref(), &headers, &body, channel.as_str())
    {
        return refused.into_response();
    }
    let events = match parse_webhook(channel, &body) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(channel = channel.as_str(), error = %e, "webhook body refused");
            return StatusCode::BAD_REQUEST.into_response();
        }
    };
    match store(&s.db, channel, &body, events).await {
        Ok(stored) => {
            if stored.inboxed > 0 {
                s.intake.wake();
            }
            StatusCode::OK.into_response()
        }
        Err(e) => {
            tracing::warn!(channel = channel.as_str(), error = %e, "webhook not stored; asking Meta to redeliver");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Routes each customer message to its tenant and stores them all in one
/// transaction: inbox rows for accounts a tenant has on, review rows for
/// the rest. Echoes and read receipts carry nothing to do.
async fn store(
    db: &Db,
    channel: MetaChannel,
    body: &[u8],
    events: Vec<MetaEvent>,
) -> Result<Stored, StorageError> {
    let mut tenants: BTreeMap<String, Option<TenantId>> = BTreeMap::new();
    let mut rows = Vec::new();
    let mut quarantine = Vec::new();
    let mut raw: Option<Value> = None;
    for event in events {
        let m = match event {
            MetaEvent::Message(m) => m,
            MetaEvent::Echo { .. } => {
                tracing::debug!(
                    channel = channel.as_str(),
                    "echo of our own message ignored"
                );
                continue;
            }
            MetaEvent::Read { .. } => {
                tracing::debug!(channel = channel.as_str(), "read receipt ignored");
                continue;
            }
        };
        let tenant = match tenants.get(&m.account_id) {
            Some(t) => *t,
            None => {
                let t = tenant_for(db, channel, &m.account_id).await?.map(|t| t.id);
                tenants.insert(m.account_id.clone(), t);
                t
            }
        };
        match tenant {
            Some(tenant_id) => rows.push(NewInboxRow {
                message_id: chat_intake::without_nul(&m.mid),
                kind: InboxKind::MetaMessage,
                tenant_id,
                customer_key: chat_intake::without_nul(&format!(
                    "{}:{}:{}",
                    channel.as_str(),
                    m.account_id,
                    m.sender_id
                )),
                payload: chat_intake::encode_meta(&m),
            }),
            None => {
                tracing::info!(channel = channel.as_str(), account_id = %m.account_id, "message for an account no tenant has on; quarantined");
                let raw = raw
                    .get_or_insert_with(|| {
                        chat_intake::sanitize_json(
                            serde_json::from_slice(body).unwrap_or(Value::Null),
                        )
                    })
                    .clone();
                quarantine.push(QuarantineRow {
                    channel: channel.as_str(),
                    message_id: chat_intake::without_nul(&m.mid),
                    to_phone_number_id: chat_intake::without_nul(&m.account_id)
                        .chars()
                        .take(50)
                        .collect(),
                    from_phone: chat_intake::without_nul(&m.sender_id)
                        .chars()
                        .take(20)
                        .collect(),
                    raw_payload: raw,
                });
            }
        }
    }
    if rows.is_empty() && quarantine.is_empty() {
        return Ok(Stored::default());
    }
    inbox::store(db, &rows, &quarantine).await
}
