//! The seam every text channel plugs into (WhatsApp, the web widget,
//! Instagram and Messenger).
//!
//! A channel's receiver verifies and parses what arrives in its own
//! transport (WhatsApp: a signed webhook, stored in the inbox first; the
//! widget: a socket opened with its session cookie) and hands over a
//! [`ChatMessage`]: the customer as a [`ChannelIdentity`], never a bare
//! phone number. [`chat_turn`] then runs the same conversation for every
//! channel and sends the replies back through the channel's
//! [`ChatChannel`]: text and quick-reply choices, within the channel's
//! window rules. What is particular to a channel (WhatsApp's admin
//! hand-off relay, read receipts, the M-Pesa prompt's chat messages) stays
//! in that channel's runtime.

use chrono::{DateTime, Utc};

use crate::core::dialog::{Channel, Reply};
use crate::core::ids::ChannelIdentity;
use crate::runtime::conversation::{
    BoxFuture, ConversationError, ConversationService, TurnOutcome, TurnText,
};
use crate::storage::conversation::{Delivery, record_deliveries};
use crate::storage::{TenantHandle, TenantRecord};

/// Whether a free-form message may go to the customer now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendWindow {
    /// Free-form text and choices are allowed.
    Open,
    /// Only an approved template (WhatsApp after 24 h of silence).
    TemplateOnly,
    /// Nothing may be sent now (Instagram and Messenger outside the 24 h
    /// standard messaging window): tell the customer elsewhere, or not at
    /// all.
    Closed,
    /// Not deliverable: the customer is not there (a closed browser tab).
    Gone,
}

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SendError(pub String);

/// One text channel, as the conversation sees it.
pub trait ChatChannel: Send + Sync {
    /// interactions.channel and appointments.booking_channel of its turns.
    fn channel(&self) -> Channel;

    /// The channel's rule for messages the customer did not just ask for,
    /// from the time they last wrote. A reply to a message is always in
    /// the window.
    fn window(&self, last_inbound: Option<DateTime<Utc>>, now: DateTime<Utc>) -> SendWindow;

    /// Sends one reply (its sentences and quick-reply choices) to the
    /// customer; the provider's message id if it gives one.
    fn send_reply<'a>(
        &'a self,
        tenant: &'a TenantRecord,
        to: &'a ChannelIdentity,
        reply: &'a Reply,
    ) -> BoxFuture<'a, Result<Option<String>, SendError>>;
}

/// One inbound customer message, verified and parsed by its receiver.
#[derive(Debug, Clone)]
pub struct ChatMessage {
    pub customer: ChannelIdentity,
    /// The name the channel shows (a WhatsApp profile name).
    pub customer_name: Option<String>,
    pub text: String,
    /// The id of a tapped quick reply.
    pub choice_id: Option<String>,
    /// The provider's (or the widget's) message id: handled once.
    pub message_id: Option<String>,
    /// interactions.message_type ("text", "interactive", …).
    pub message_type: String,
}

/// Runs one customer message through the conversation and sends its
/// replies through `channel` (each reply's provider id is recorded on its
/// interactions row; a reply the channel did not send is marked
/// `not_sent` there with its reason). A repeated message id does nothing.
pub async fn chat_turn(
    service: &ConversationService,
    channel: &dyn ChatChannel,
    tenant: &TenantRecord,
    handle: &TenantHandle,
    message: ChatMessage,
    now: DateTime<Utc>,
) -> Result<TurnOutcome, ConversationError> {
    let outcome = service
        .handle_chat_turn(
            handle,
            tenant,
            TurnText {
                channel: channel.channel(),
                customer: message.customer.clone(),
                customer_name: message.customer_name,
                text: message.text,
                language_hint: None,
                dtmf: None,
                choice_id: message.choice_id,
                message_id: message.message_id,
                message_type: message.message_type,
                now,
            },
        )
        .await?;
    if outcome.duplicate {
        return Ok(outcome);
    }
    // Sent in order; what became of them is recorded together afterwards
    // (a delivery status for one of them is in the customer's inbox lane,
    // so it is not processed before this turn is done).
    let mut sent_ids = Vec::with_capacity(outcome.replies.len());
    for sent in &outcome.replies {
        let result = channel
            .send_reply(tenant, &message.customer, &sent.reply)
            .await;
        if let Err(e) = &result {
            tracing::warn!(channel = channel.channel().as_str(), error = %e, "reply not sent");
        }
        sent_ids.push((sent.interaction_id, result));
    }
    let deliveries: Vec<(uuid::Uuid, Delivery<'_>)> = sent_ids
        .iter()
        .filter_map(|(id, result)| match result {
            Ok(Some(provider_id)) => Some((*id, Delivery::Accepted(provider_id))),
            Ok(None) => None,
            Err(e) => Some((*id, Delivery::NotSent(&e.0))),
        })
        .collect();
    record_deliveries(handle, &deliveries).await?;
    Ok(outcome)
}
