//! Instagram Messaging and the Messenger Platform: the two Meta inboxes
//! besides WhatsApp. Both deliver the same `entry[].messaging[]` webhook
//! (object `instagram` or `page`), signed with the app secret's
//! `X-Hub-Signature-256` exactly as WhatsApp's is (one verifier:
//! [`crate::adapters::whatsapp::verify_signature`]), and both answer
//! through the Send API (`POST /{account id}/messages`).
//!
//! Pure: bytes in, typed events out, and JSON bodies out. Routing to a
//! tenant (by `entry[].id`), identities, the 24 h window and delivery are
//! the shell's.

pub mod client;
pub mod codec;
pub mod outbound;

pub use codec::{MetaCodecError, MetaEvent, MetaInbound, MetaInboundKind, parse_webhook};
pub use outbound::{MessagingType, for_reply, mark_seen};

/// Which Meta inbox a webhook or a reply belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetaChannel {
    Instagram,
    Messenger,
}

impl MetaChannel {
    /// The webhook's `object` for this inbox.
    pub fn webhook_object(self) -> &'static str {
        match self {
            MetaChannel::Instagram => "instagram",
            MetaChannel::Messenger => "page",
        }
    }

    /// The name used in the schema (customer_identities.provider,
    /// booking_channel, channel_started, interactions.channel).
    pub fn as_str(self) -> &'static str {
        self.dialog_channel().as_str()
    }

    /// The conversation's channel.
    pub fn dialog_channel(self) -> crate::core::dialog::Channel {
        match self {
            MetaChannel::Instagram => crate::core::dialog::Channel::Instagram,
            MetaChannel::Messenger => crate::core::dialog::Channel::Messenger,
        }
    }

    /// The customer's identity on this channel.
    pub fn identity(self, user: crate::core::ids::MetaUserId) -> crate::core::ids::ChannelIdentity {
        match self {
            MetaChannel::Instagram => crate::core::ids::ChannelIdentity::Instagram(user),
            MetaChannel::Messenger => crate::core::ids::ChannelIdentity::Messenger(user),
        }
    }
}
