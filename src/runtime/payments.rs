//! The payment shell, by job:
//!
//! * [`service`]: [`PaymentService`], one code path for every provider
//!   behind [`PaymentGateway`]: the three-step vendor write, status queries,
//!   the reconciler;
//! * [`callbacks`]: provider callbacks from any node (routed, parsed,
//!   verified, recorded once, or kept with the reason they changed nothing);
//! * [`waiters`]: who awaits an outcome on this node, and the LISTEN task
//!   that wakes them;
//! * [`hold_session`]: a call's payment hold driven against the service;
//! * [`chat`]: payments in a chat and their durable deadlines;
//! * [`node`]: [`PaymentsNode`], everything above started together.
//!
//! Cross-node wake-up: every recorded outcome is published with `pg_notify`
//! in the transaction that records it ([`crate::storage::payments`]). Each
//! node runs one [`PaymentListener`] that LISTENs and hands notices to the
//! [`PaymentWaiters`] registered on that node; a waiter registered after the
//! notice went out finds the outcome in the database instead, so no wake-up
//! is lost to a race or a dropped listener connection. The same transaction
//! owes the customer a notice of the outcome, which the WhatsApp runtime of
//! any node settles ([`crate::runtime::whatsapp_payments`]), or for a web
//! chat the widget's ([`crate::runtime::web_payments`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;
use thiserror::Error;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::adapters::payments::{
    HttpPolicy, PaymentEnvironment, PaymentError, PaymentGateway, kenyan_msisdn, stored_outcome,
};
use crate::core::ids::{Money, PhoneNumber, TenantId, TenantSlug, ThreadId};
use crate::core::payment::chat::{
    ChatInput, ChatMessage, ChatOutput, ChatPayment, ChatPaymentConfig, Status, Stored,
};
use crate::core::payment::hold::{
    HoldConfig, HoldInput, HoldOutput, HoldResult, Lang, Prompt, StkHold,
};
use crate::core::payment::{PaymentOutcome, PaymentStatus, Provider};
use crate::storage::payments::{self as store, Applied, PaymentNotice};
use crate::storage::{Db, StorageError, TenantRecord};

mod callbacks;
mod chat;
mod hold_session;
mod node;
mod service;
mod waiters;

pub use chat::*;
pub use hold_session::*;
pub use node::*;
pub use service::*;
pub use waiters::*;

/// Where payments go and how callbacks find us.
#[derive(Debug, Clone)]
pub struct PaymentRuntimeConfig {
    pub environment: PaymentEnvironment,
    /// Daraja base for the deployment's environment (settings may point it
    /// elsewhere); other environments use their public base.
    pub daraja_base_url: String,
    pub pesapal_base_url: String,
    /// Our public URL, for callback and IPN URLs.
    pub public_base_url: String,
    /// The platform's Daraja app, for tenants with only a shortcode/passkey.
    pub platform_daraja_consumer: Option<(String, String)>,
    /// Confirm a success callback with an STK query before recording it.
    pub confirm_success_with_query: bool,
    pub http: HttpPolicy,
    /// Telling customers payment outcomes, shared out between nodes.
    pub notices: NoticePolicy,
}

/// How the nodes share out the payment outcomes owed to customers.
#[derive(Debug, Clone)]
pub struct NoticePolicy {
    /// This node's name in the claims it makes (`payment_deadlines.claimed_by`).
    pub node: String,
    /// How long a claim holds before another node may take it over.
    pub lease: Duration,
    /// How often the node looks for notices still owed.
    pub sweep_every: Duration,
}

impl NoticePolicy {
    /// How long an owed notice waits for a node that heard its outcome to
    /// take it before any node's sweep does: two sweeps, and at least 10 s
    /// (a holding call has 5 s to say a failure on the line first).
    pub fn unclaimed_for(&self) -> Duration {
        (self.sweep_every * 2).max(Duration::from_secs(10))
    }
}

impl Default for NoticePolicy {
    fn default() -> Self {
        Self {
            node: format!("pid-{}", std::process::id()),
            lease: Duration::from_secs(60),
            sweep_every: Duration::from_secs(15),
        }
    }
}

impl PaymentRuntimeConfig {
    /// The environment's defaults; `confirm_success_with_query` is on in
    /// production.
    pub fn new(
        environment: PaymentEnvironment,
        daraja_base_url: &str,
        pesapal_base_url: &str,
        public_base_url: &str,
    ) -> Self {
        Self {
            environment,
            daraja_base_url: daraja_base_url.trim_end_matches('/').to_owned(),
            pesapal_base_url: pesapal_base_url.trim_end_matches('/').to_owned(),
            public_base_url: public_base_url.trim_end_matches('/').to_owned(),
            platform_daraja_consumer: None,
            confirm_success_with_query: environment == PaymentEnvironment::Production,
            http: HttpPolicy::default(),
            notices: NoticePolicy::default(),
        }
    }

    /// The provider's base URL in an environment.
    fn base_for(&self, provider: Provider, env: PaymentEnvironment) -> String {
        let (configured, public) = match provider {
            Provider::Mpesa => (&self.daraja_base_url, env.daraja_base()),
            Provider::Pesapal => (&self.pesapal_base_url, env.pesapal_base()),
        };
        if env == self.environment {
            return configured.clone();
        }
        public.unwrap_or(configured).to_owned()
    }
}

/// Why starting or handling a payment failed.
#[derive(Debug, Error)]
pub enum PaymentServiceError {
    #[error(transparent)]
    Provider(#[from] PaymentError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("credentials cannot be read: {0}")]
    Credentials(String),
}

/// A way to turn stored ciphertext into plaintext (the Fernet vault).
pub trait CredentialDecrypter: Send + Sync {
    fn decrypt(&self, token: &str) -> Option<Vec<u8>>;
}

impl CredentialDecrypter for crate::storage::Vault {
    fn decrypt(&self, token: &str) -> Option<Vec<u8>> {
        self.decrypt_text(token)
            .ok()
            .map(|s| s.expose().as_bytes().to_vec())
    }
}

/// One payment to ask a caller or customer for.
#[derive(Debug, Clone)]
pub struct PushRequest {
    pub thread_id: ThreadId,
    pub appointment_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub phone: PhoneNumber,
    pub amount: Money,
    pub account_reference: String,
    pub description: String,
}

/// How the provider took a payment request.
#[derive(Debug)]
pub enum PushStart {
    Accepted,
    /// The answer was lost; the callback or a query will tell.
    Uncertain,
    Rejected(PaymentError),
}

#[derive(Debug)]
pub struct StartedPush {
    pub payment_id: Uuid,
    pub start: PushStart,
}

#[derive(Debug, Clone)]
pub struct StartedOrder {
    pub payment_id: Uuid,
    pub redirect_url: String,
}

/// What became of a callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackHandled {
    Applied(Applied),
    DeadLettered,
    /// A success the STK query did not confirm (yet): nothing recorded; the
    /// reconciler asks again.
    Unconfirmed,
    /// The provider says the payment is not final yet.
    NotFinal,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
