//! Instagram and Messenger chats: what one stored inbound message does.
//!
//! The webhooks (`http::meta`) store messages in the same inbox as
//! WhatsApp's and answer; [`crate::runtime::chat_intake`] runs them here,
//! one customer at a time. A message is a turn through the shared
//! [`chat_turn`]: the customer is their IGSID or PSID
//! ([`ChannelIdentity::Instagram`] / [`ChannelIdentity::Messenger`]),
//! phoneless until they give their number (COLLECT_PHONE), then the same
//! customer as on WhatsApp and calls. Replies go through the Send API with
//! the tenant's page or Instagram token, choices as quick replies, only
//! inside the 24 h standard messaging window (outside it the reply is kept,
//! marked `not_sent` with the reason, and not sent); then the customer's
//! messages are marked seen.
//!
//! Processing may run more than once for one message (a retry): the turn
//! is claimed by its mid in its own transaction, so it happens once.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use tracing::Instrument;

use crate::adapters::meta::{self, MessagingType, MetaChannel, MetaInbound};
use crate::adapters::whatsapp::GraphClient;
use crate::adapters::whatsapp::client::Window;
use crate::config::Secret;
use crate::core::dialog::{Channel, Reply};
use crate::core::ids::{ChannelIdentity, MetaUserId};
use crate::runtime::chat_channel::{ChatChannel, ChatMessage, SendError, SendWindow, chat_turn};
use crate::runtime::chat_intake::{Claimed, InboxEvent, InboxHandler};
use crate::runtime::conversation::{BoxFuture, ConversationService};
use crate::storage::{Db, TenantRecord, Vault};

/// Why a reply outside the window was not sent (interactions.metadata
/// `not_sent_reason`).
pub const OUTSIDE_WINDOW: &str = "outside the 24 h standard messaging window";

/// Everything processing an Instagram or Messenger message needs.
pub struct MetaChats {
    db: Db,
    vault: Option<Vault>,
    service: ConversationService,
    graph: GraphClient,
    /// The Graph API is the development capture: a tenant without a stored
    /// token sends with a placeholder one.
    dev_token: bool,
}

impl MetaChats {
    /// `service` should not offer the M-Pesa prompt (it is sent on
    /// WhatsApp only): customers here are told how to pay.
    pub fn new(
        db: Db,
        vault: Option<Vault>,
        service: ConversationService,
        graph: GraphClient,
        dev_token: bool,
    ) -> Self {
        MetaChats {
            db,
            vault,
            service: service.with_payments_ready(Arc::new(|_: &TenantRecord| false)),
            graph,
            dev_token,
        }
    }
}

impl InboxHandler for MetaChats {
    fn handle<'a>(
        &'a self,
        event: InboxEvent,
        _claimed: Claimed,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            match event {
                InboxEvent::Meta(m) => handle_message(self, m).await,
                InboxEvent::Message(_) | InboxEvent::Status(_) => {
                    anyhow::bail!("a WhatsApp event reached the Instagram / Messenger runtime")
                }
            }
        })
    }
}

/// The live tenant with this account and the channel on.
pub async fn tenant_for(
    db: &Db,
    channel: MetaChannel,
    account_id: &str,
) -> Result<Option<TenantRecord>, crate::storage::StorageError> {
    match channel {
        MetaChannel::Instagram => db.tenant_by_instagram_account_id(account_id).await,
        MetaChannel::Messenger => db.tenant_by_facebook_page_id(account_id).await,
    }
}

async fn handle_message(shared: &MetaChats, m: MetaInbound) -> anyhow::Result<()> {
    let channel = m.channel.as_str();
    let Some(tenant) = tenant_for(&shared.db, m.channel, &m.account_id).await? else {
        // Routed when it was stored: switched off or taken away since.
        tracing::warn!(channel, mid = %m.mid, "message for an account no tenant has on any more; not answered");
        return Ok(());
    };
    let now = Utc::now();
    let standing = tenant.standing(now);
    if !standing.serves() {
        tracing::info!(tenant = %tenant.slug, channel, mid = %m.mid, standing = standing.as_str(), "message for a tenant not served; stored, not answered");
        return Ok(());
    }
    let Ok(user) = MetaUserId::parse(&m.sender_id) else {
        tracing::warn!(channel, mid = %m.mid, "sender id is not a scoped id; ignored");
        return Ok(());
    };
    let customer = m.channel.identity(user);
    let span =
        tracing::info_span!("meta_turn", tenant = %tenant.slug, channel, customer = %customer);
    customer_turn(shared, &tenant, &m, customer, now)
        .instrument(span)
        .await
}

async fn customer_turn(
    shared: &MetaChats,
    tenant: &TenantRecord,
    m: &MetaInbound,
    customer: ChannelIdentity,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let handle = shared.db.tenant(&tenant.slug);
    let token = access_token(shared, tenant, m.channel);
    let channel = MetaChatChannel {
        graph: &shared.graph,
        channel: m.channel,
        account_id: &m.account_id,
        token: token.as_ref(),
        customer_wrote_at: Utc.timestamp_millis_opt(m.timestamp_ms).single(),
        now,
    };
    let message = ChatMessage {
        customer: customer.clone(),
        customer_name: None,
        text: m.text().to_owned(),
        choice_id: m.choice_id().map(str::to_owned),
        message_id: Some(m.mid.clone()),
        message_type: m.message_type().to_owned(),
    };
    let outcome = chat_turn(&shared.service, &channel, tenant, &handle, message, now).await?;
    if outcome.duplicate {
        return Ok(());
    }
    if outcome.replies.is_empty()
        || channel.window(channel.customer_wrote_at, now) != SendWindow::Open
    {
        return Ok(());
    }
    // The read receipt, once the turn is answered.
    if let Some(token) = &token {
        let seen = meta::mark_seen(&m.sender_id);
        if let Err(e) =
            meta::client::send(&shared.graph, &m.account_id, token.expose(), &seen).await
        {
            tracing::debug!(error = %e, "mark_seen failed");
        }
    }
    Ok(())
}

/// Instagram or Messenger as a [`ChatChannel`]: the tenant's account and
/// token, Send API messages with quick replies, the 24 h window counted
/// from when the customer wrote.
struct MetaChatChannel<'a> {
    graph: &'a GraphClient,
    channel: MetaChannel,
    account_id: &'a str,
    /// None: the tenant has no usable token (nothing can be sent).
    token: Option<&'a Secret>,
    /// The message's own time (Meta's `timestamp`); a message Meta or the
    /// inbox delivered late may be past the window.
    customer_wrote_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
}

impl ChatChannel for MetaChatChannel<'_> {
    fn channel(&self) -> Channel {
        self.channel.dialog_channel()
    }

    fn window(&self, last_inbound: Option<DateTime<Utc>>, now: DateTime<Utc>) -> SendWindow {
        match Window::since(last_inbound, now) {
            Window::Open => SendWindow::Open,
            Window::Closed | Window::Unknown => SendWindow::Closed,
        }
    }

    fn send_reply<'a>(
        &'a self,
        _tenant: &'a TenantRecord,
        to: &'a ChannelIdentity,
        reply: &'a Reply,
    ) -> BoxFuture<'a, Result<Option<String>, SendError>> {
        Box::pin(async move {
            let recipient = match to {
                ChannelIdentity::Instagram(id) | ChannelIdentity::Messenger(id) => id.expose(),
                ChannelIdentity::WhatsApp(_)
                | ChannelIdentity::Voice(_)
                | ChannelIdentity::WebCookie(_) => {
                    return Err(SendError("not an Instagram or Messenger customer".into()));
                }
            };
            // A reply is never an appointment update: outside the window
            // nothing may be sent.
            let window = Window::since(self.customer_wrote_at, self.now);
            let Some(kind) = MessagingType::allowed(self.channel, window, false) else {
                return Err(SendError(OUTSIDE_WINDOW.into()));
            };
            let Some(token) = self.token else {
                return Err(SendError(format!(
                    "no usable {} access token",
                    self.channel.as_str()
                )));
            };
            let body = meta::for_reply(self.channel, recipient, reply, kind);
            meta::client::send(self.graph, self.account_id, token.expose(), &body)
                .await
                .map_err(|e| SendError(e.to_string()))
        })
    }
}

/// The tenant's page token (Messenger) or Instagram token, decrypted; the
/// development capture's placeholder when none is stored there.
fn access_token(shared: &MetaChats, tenant: &TenantRecord, channel: MetaChannel) -> Option<Secret> {
    let stored = match channel {
        MetaChannel::Instagram => tenant.instagram_access_token.as_ref(),
        MetaChannel::Messenger => tenant.facebook_page_access_token.as_ref(),
    };
    let stored = stored.and_then(|t| {
        let vault = shared.vault.as_ref()?;
        vault.decrypt_text(t.expose()).ok()
    });
    stored.or_else(|| shared.dev_token.then(|| Secret::new("dev-capture-token")))
}
