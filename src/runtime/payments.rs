//! The payment shell: starts pushes and orders (the three-step vendor write),
//! handles provider callbacks from any node, wakes whichever node holds the
//! waiting call or chat, and picks up payments left open by a restart.
//!
//! Cross-node wake-up: every recorded outcome is published with `pg_notify`
//! in the transaction that records it ([`crate::storage::payments`]). Each
//! node runs one [`PaymentListener`] that LISTENs and hands notices to the
//! [`PaymentWaiters`] registered on that node; a waiter registered after the
//! notice went out finds the outcome in the database instead, so no wake-up
//! is lost to a race or a dropped listener connection.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use thiserror::Error;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::adapters::payments::daraja::{DarajaClient, DarajaCredentials, StkCallback, StkPush};
use crate::adapters::payments::pesapal::{Ipn, Order, PesapalClient, PesapalCredentials};
use crate::adapters::payments::{HttpPolicy, PaymentEnvironment, PaymentError, kenyan_msisdn};
use crate::core::ids::{Money, PhoneNumber, TenantId, TenantSlug, ThreadId};
use crate::core::payment::chat::{
    ChatInput, ChatMessage, ChatOutput, ChatPayment, ChatPaymentConfig, ChatProvider,
};
use crate::core::payment::hold::{
    HoldConfig, HoldInput, HoldOutput, HoldResult, Lang, Prompt, StkHold,
};
use crate::core::payment::{PaymentOutcome, PaymentStatus};
use crate::storage::payments::{
    self as store, Applied, NOTIFY_CHANNEL, NewPayment, PaymentNotice, Provider, RouteLookup,
};
use crate::storage::{Db, StorageError, TenantRecord};

mod chat;
mod hold_session;
mod waiters;

pub use chat::*;
pub use hold_session::*;
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
        }
    }

    fn bases_for(&self, env: PaymentEnvironment) -> (String, String) {
        if env == self.environment {
            return (self.daraja_base_url.clone(), self.pesapal_base_url.clone());
        }
        (
            env.daraja_base()
                .unwrap_or(&self.daraja_base_url)
                .to_owned(),
            env.pesapal_base()
                .unwrap_or(&self.pesapal_base_url)
                .to_owned(),
        )
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

/// One push to a caller's or customer's phone.
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
    /// A PesaPal order not final yet.
    NotFinal,
}

/// The node's payment service. Cheap to share (`Arc`).
pub struct PaymentService {
    db: Db,
    config: PaymentRuntimeConfig,
    decrypter: Option<Arc<dyn CredentialDecrypter>>,
    waiters: PaymentWaiters,
    daraja_clients: Mutex<HashMap<(TenantId, PaymentEnvironment), Arc<DarajaClient>>>,
    pesapal_clients: Mutex<HashMap<(TenantId, PaymentEnvironment), Arc<PesapalClient>>>,
}

impl PaymentService {
    pub fn new(
        db: Db,
        config: PaymentRuntimeConfig,
        decrypter: Option<Arc<dyn CredentialDecrypter>>,
        waiters: PaymentWaiters,
    ) -> Self {
        Self {
            db,
            config,
            decrypter,
            waiters,
            daraja_clients: Mutex::new(HashMap::new()),
            pesapal_clients: Mutex::new(HashMap::new()),
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn waiters(&self) -> &PaymentWaiters {
        &self.waiters
    }

    pub fn config(&self) -> &PaymentRuntimeConfig {
        &self.config
    }

    fn environment_for(&self, tenant: &TenantRecord) -> PaymentEnvironment {
        self.config
            .environment
            .for_tenant(tenant.payment_environment_override.as_deref())
    }

    fn decrypt(
        &self,
        token: Option<&crate::config::Secret>,
    ) -> Result<Option<Vec<u8>>, PaymentServiceError> {
        let Some(token) = token else { return Ok(None) };
        let Some(decrypter) = &self.decrypter else {
            return Err(PaymentServiceError::Credentials(
                "no Fernet key configured".into(),
            ));
        };
        decrypter
            .decrypt(token.expose())
            .map(Some)
            .ok_or_else(|| PaymentServiceError::Credentials("undecryptable".into()))
    }

    /// The Daraja client for a tenant (cached, so its token is reused).
    pub fn daraja(&self, tenant: &TenantRecord) -> Result<Arc<DarajaClient>, PaymentServiceError> {
        let env = self.environment_for(tenant);
        if let Some(c) = lock(&self.daraja_clients).get(&(tenant.id, env)) {
            return Ok(c.clone());
        }
        let stored = self.decrypt(tenant.daraja_credentials.as_ref());
        let platform = self
            .config
            .platform_daraja_consumer
            .as_ref()
            .map(|(k, s)| (k.as_str(), s.as_str()))
            .or((env == PaymentEnvironment::Simulator).then_some(("simulator", "simulator")));
        let creds = match stored {
            Ok(json) => DarajaCredentials::for_tenant(
                json.as_deref(),
                tenant.mpesa_shortcode.as_deref(),
                tenant.mpesa_passkey.as_ref().map(|p| p.expose()),
                platform,
            ),
            Err(e) if env == PaymentEnvironment::Simulator => {
                tracing::debug!(error = %e, "simulator: using legacy credentials");
                DarajaCredentials::for_tenant(
                    None,
                    tenant.mpesa_shortcode.as_deref().or(Some("174379")),
                    tenant
                        .mpesa_passkey
                        .as_ref()
                        .map(|p| p.expose())
                        .or(Some("simulator")),
                    platform,
                )
            }
            Err(e) => return Err(e),
        }?;
        let (daraja_base, _) = self.config.bases_for(env);
        let client = Arc::new(DarajaClient::new(&daraja_base, creds, self.config.http)?);
        lock(&self.daraja_clients).insert((tenant.id, env), client.clone());
        Ok(client)
    }

    pub fn pesapal(
        &self,
        tenant: &TenantRecord,
    ) -> Result<Arc<PesapalClient>, PaymentServiceError> {
        let env = self.environment_for(tenant);
        if let Some(c) = lock(&self.pesapal_clients).get(&(tenant.id, env)) {
            return Ok(c.clone());
        }
        let creds = match self.decrypt(tenant.pesapal_credentials.as_ref()) {
            Ok(json) => PesapalCredentials::for_tenant(json.as_deref(), None, None),
            Err(e) => Err(PaymentError::Credentials(e.to_string())),
        };
        let creds = match creds {
            Ok(c) => c,
            Err(_) if env == PaymentEnvironment::Simulator => {
                PesapalCredentials::for_tenant(None, Some("simulator"), Some("simulator"))?
            }
            Err(e) => return Err(e.into()),
        };
        let (_, pesapal_base) = self.config.bases_for(env);
        let client = Arc::new(PesapalClient::new(&pesapal_base, creds, self.config.http)?);
        lock(&self.pesapal_clients).insert((tenant.id, env), client.clone());
        Ok(client)
    }

    pub fn daraja_callback_url(&self, merchant_reference: &str) -> String {
        format!(
            "{}/payments/daraja/callback/{merchant_reference}",
            self.config.public_base_url
        )
    }

    pub fn pesapal_ipn_url(&self, merchant_reference: &str) -> String {
        format!(
            "{}/payments/pesapal/ipn/{merchant_reference}",
            self.config.public_base_url
        )
    }

    /// Pushes an M-Pesa prompt: our row first (committed), then the push,
    /// then the checkout id. A bad number is refused before anything.
    pub async fn start_stk_push(
        &self,
        tenant: &TenantRecord,
        req: &PushRequest,
        now: DateTime<Utc>,
    ) -> Result<StartedPush, PaymentServiceError> {
        kenyan_msisdn(&req.phone)?;
        let client = self.daraja(tenant)?;
        let handle = self.db.tenant(&tenant.slug);
        let initiated = store::initiate(
            &self.db,
            &handle,
            &NewPayment {
                tenant_id: tenant.id,
                thread_id: &req.thread_id,
                appointment_id: req.appointment_id,
                contact_id: req.contact_id,
                amount: req.amount,
                provider: Provider::Mpesa,
                phone: Some(&req.phone),
            },
            now,
        )
        .await?;
        let callback_url = self.daraja_callback_url(&initiated.merchant_reference);
        let pushed = client
            .stk_push(
                &StkPush {
                    phone: &req.phone,
                    amount: req.amount,
                    account_reference: &req.account_reference,
                    description: &req.description,
                    callback_url: &callback_url,
                },
                now,
            )
            .await;
        let start = match pushed {
            Ok(accepted) => {
                store::mark_pending(
                    &handle,
                    initiated.payment_id,
                    Some(&accepted.checkout_request_id),
                )
                .await?;
                PushStart::Accepted
            }
            Err(PaymentError::Uncertain) => {
                store::mark_pending(&handle, initiated.payment_id, None).await?;
                PushStart::Uncertain
            }
            Err(e) => {
                tracing::info!(tenant = %tenant.slug, error = %e, "stk push refused");
                store::mark_rejected(
                    &handle,
                    initiated.payment_id,
                    &req.thread_id,
                    &e.to_string(),
                    now,
                )
                .await?;
                PushStart::Rejected(e)
            }
        };
        Ok(StartedPush {
            payment_id: initiated.payment_id,
            start,
        })
    }

    /// Asks Daraja about a payment and records a final answer. `None` while
    /// it is still being processed (or cannot be asked about yet).
    pub async fn query_stk(
        &self,
        tenant: &TenantRecord,
        payment_id: Uuid,
        thread_id: &ThreadId,
        now: DateTime<Utc>,
    ) -> Result<Option<PaymentOutcome>, PaymentServiceError> {
        let handle = self.db.tenant(&tenant.slug);
        let Some(payment) = store::find_payment(&handle, payment_id).await? else {
            return Ok(None);
        };
        if payment.status.is_final() {
            return Ok(Some(outcome_of_row(
                payment.status,
                payment.mpesa_receipt,
                &payment.callback_payload,
            )));
        }
        let Some(checkout) = payment.checkout_id.as_deref() else {
            return Ok(None);
        };
        let answer = self.daraja(tenant)?.stk_query(checkout, now).await?;
        let Some(outcome) = answer.outcome() else {
            return Ok(None);
        };
        let payload = json!({"stk_query": {"CheckoutRequestID": checkout, "ResultCode": outcome.result_code()}});
        store::apply_outcome(
            &handle,
            payment_id,
            thread_id,
            &outcome,
            Some(checkout),
            &payload,
            now,
        )
        .await?;
        Ok(Some(outcome))
    }

    /// Creates a PesaPal order and returns the link to send in the chat.
    pub async fn start_pesapal_order(
        &self,
        tenant: &TenantRecord,
        req: &PushRequest,
        now: DateTime<Utc>,
    ) -> Result<StartedOrder, PaymentServiceError> {
        let client = self.pesapal(tenant)?;
        let handle = self.db.tenant(&tenant.slug);
        let initiated = store::initiate(
            &self.db,
            &handle,
            &NewPayment {
                tenant_id: tenant.id,
                thread_id: &req.thread_id,
                appointment_id: req.appointment_id,
                contact_id: req.contact_id,
                amount: req.amount,
                provider: Provider::Pesapal,
                phone: Some(&req.phone),
            },
            now,
        )
        .await?;
        let reference = initiated.merchant_reference.clone();
        let created = async {
            let ipn_id = client
                .register_ipn(&self.pesapal_ipn_url(&reference))
                .await?;
            let return_url = format!("{}/payments/pesapal/return", self.config.public_base_url);
            client
                .submit_order(&Order {
                    merchant_reference: &reference,
                    amount: req.amount,
                    description: &req.description,
                    callback_url: &return_url,
                    notification_id: &ipn_id,
                    phone: Some(&req.phone),
                    email: None,
                    first_name: "",
                    last_name: "",
                })
                .await
        }
        .await;
        match created {
            Ok(order) => {
                store::mark_pending(
                    &handle,
                    initiated.payment_id,
                    Some(&order.order_tracking_id),
                )
                .await?;
                Ok(StartedOrder {
                    payment_id: initiated.payment_id,
                    redirect_url: order.redirect_url,
                })
            }
            Err(PaymentError::Uncertain) => {
                store::mark_pending(&handle, initiated.payment_id, None).await?;
                Err(PaymentError::Uncertain.into())
            }
            Err(e) => {
                store::mark_rejected(
                    &handle,
                    initiated.payment_id,
                    &req.thread_id,
                    &e.to_string(),
                    now,
                )
                .await?;
                Err(e.into())
            }
        }
    }

    /// A Daraja callback posted to `/payments/daraja/callback/{token}`.
    pub async fn handle_daraja_callback(
        &self,
        token: &str,
        raw: &[u8],
        now: DateTime<Utc>,
    ) -> Result<CallbackHandled, PaymentServiceError> {
        let route = match store::route(&self.db, token, now).await? {
            RouteLookup::Found(route) if route.provider == Provider::Mpesa => route,
            other => {
                let why = match other {
                    RouteLookup::Found(_) => "wrong_provider",
                    RouteLookup::Expired(_) => "routing_expired",
                    RouteLookup::Unknown => "unknown_reference",
                };
                tracing::warn!(why, "unroutable daraja callback");
                store::dead_letter(&self.db, Provider::Mpesa, raw, Some(token), why).await?;
                return Ok(CallbackHandled::DeadLettered);
            }
        };
        let callback = match StkCallback::parse(raw) {
            Ok(cb) => cb,
            Err(e) => {
                tracing::warn!(tenant = %route.slug, error = %e, "malformed daraja callback");
                store::dead_letter(&self.db, Provider::Mpesa, raw, Some(token), "malformed")
                    .await?;
                return Ok(CallbackHandled::DeadLettered);
            }
        };
        let Some(payment_id) = route.payment_id() else {
            store::dead_letter(&self.db, Provider::Mpesa, raw, Some(token), "no_payment_id")
                .await?;
            return Ok(CallbackHandled::DeadLettered);
        };
        let mut outcome = callback.outcome();
        let handle = self.db.tenant(&route.slug);
        if self.config.confirm_success_with_query && outcome.status() == PaymentStatus::Completed {
            let Some(tenant) = self.db.tenant_by_slug(&route.slug).await? else {
                return Ok(CallbackHandled::DeadLettered);
            };
            let answer = self
                .daraja(&tenant)?
                .stk_query(&callback.checkout_request_id, now)
                .await;
            match answer.as_ref().ok().and_then(|a| a.outcome()) {
                Some(confirmed) if confirmed.status() == PaymentStatus::Completed => {}
                Some(other) => {
                    tracing::warn!(tenant = %route.slug, "success callback contradicted by STK query");
                    outcome = other;
                }
                None => return Ok(CallbackHandled::Unconfirmed),
            }
        }
        let payload: Value = serde_json::from_slice(raw).unwrap_or(Value::Null);
        let key = format!("{}:{}", callback.checkout_request_id, callback.result_code);
        let applied = store::apply_callback(
            &handle,
            payment_id,
            &route.thread_id,
            &outcome,
            Some(&callback.checkout_request_id),
            callback.amount.map(|a| a.minor),
            &payload,
            store::CallbackKey {
                provider: Provider::Mpesa,
                key: &key,
            },
            now,
        )
        .await?;
        if applied == Applied::UnknownPayment {
            store::dead_letter(
                &self.db,
                Provider::Mpesa,
                raw,
                Some(token),
                "unknown_payment",
            )
            .await?;
            return Ok(CallbackHandled::DeadLettered);
        }
        self.keep_trace(Provider::Mpesa, raw, token, payment_id, &applied)
            .await?;
        tracing::info!(tenant = %route.slug, payment = %payment_id, applied = ?applied, "daraja callback");
        Ok(CallbackHandled::Applied(applied))
    }

    /// Keeps a callback that changed nothing (or overrode a failure) with
    /// its reason in the review table.
    async fn keep_trace(
        &self,
        provider: Provider,
        raw: &[u8],
        token: &str,
        payment_id: Uuid,
        applied: &Applied,
    ) -> Result<(), PaymentServiceError> {
        let Some((reason, needs_review)) = applied.trace() else {
            return Ok(());
        };
        if needs_review {
            tracing::warn!(payment = %payment_id, reason, "payment callback kept for review");
        }
        store::record_callback_trace(
            &self.db,
            store::CallbackTrace {
                provider,
                raw_body: raw,
                attempted_merchant_reference: Some(token),
                reason: &reason,
                payment_id: Some(payment_id),
                needs_review,
            },
        )
        .await?;
        Ok(())
    }

    /// A PesaPal IPN posted (or sent as GET) to `/payments/pesapal/ipn/{token}`.
    /// The IPN says only "look again": the status comes from
    /// GetTransactionStatus.
    pub async fn handle_pesapal_ipn(
        &self,
        token: &str,
        ipn: &Ipn,
        raw: &[u8],
        now: DateTime<Utc>,
    ) -> Result<CallbackHandled, PaymentServiceError> {
        let route = match store::route(&self.db, token, now).await? {
            RouteLookup::Found(route)
                if route.provider == Provider::Pesapal && ipn.merchant_reference == token =>
            {
                route
            }
            other => {
                let why = match other {
                    RouteLookup::Found(_) => "wrong_provider_or_reference",
                    RouteLookup::Expired(_) => "routing_expired",
                    RouteLookup::Unknown => "unknown_reference",
                };
                store::dead_letter(&self.db, Provider::Pesapal, raw, Some(token), why).await?;
                return Ok(CallbackHandled::DeadLettered);
            }
        };
        let Some(payment_id) = route.payment_id() else {
            store::dead_letter(
                &self.db,
                Provider::Pesapal,
                raw,
                Some(token),
                "no_payment_id",
            )
            .await?;
            return Ok(CallbackHandled::DeadLettered);
        };
        let Some(tenant) = self.db.tenant_by_slug(&route.slug).await? else {
            return Ok(CallbackHandled::DeadLettered);
        };
        let handle = self.db.tenant(&route.slug);
        let Some(payment) = store::find_payment(&handle, payment_id).await? else {
            store::dead_letter(
                &self.db,
                Provider::Pesapal,
                raw,
                Some(token),
                "unknown_payment",
            )
            .await?;
            return Ok(CallbackHandled::DeadLettered);
        };
        let status = self
            .pesapal(&tenant)?
            .transaction_status(&ipn.order_tracking_id)
            .await?;
        let Some(mut outcome) = status.outcome() else {
            return Ok(CallbackHandled::NotFinal);
        };
        if outcome.status() == PaymentStatus::Completed
            && status
                .amount
                .is_some_and(|a| a.minor != payment.amount.minor)
        {
            // PesaPal's own status (not the IPN) says another amount was
            // paid: the payment fails, and the difference goes to review.
            tracing::warn!(tenant = %route.slug, payment = %payment_id, "pesapal amount differs from ours");
            store::record_callback_trace(
                &self.db,
                store::CallbackTrace {
                    provider: Provider::Pesapal,
                    raw_body: raw,
                    attempted_merchant_reference: Some(token),
                    reason: "amount_mismatch",
                    payment_id: Some(payment_id),
                    needs_review: true,
                },
            )
            .await?;
            outcome = PaymentOutcome::Failed(crate::core::payment::FailureReason::Other(-2));
        }
        let payload = json!({
            "ipn": {"OrderTrackingId": ipn.order_tracking_id, "OrderMerchantReference": ipn.merchant_reference},
            "status_code": status.status_code,
            "confirmation_code": status.confirmation_code,
            "payment_method": status.payment_method,
        });
        let key = format!("{}:{}", ipn.order_tracking_id, status.status_code);
        let applied = store::apply_callback(
            &handle,
            payment_id,
            &route.thread_id,
            &outcome,
            Some(&ipn.order_tracking_id),
            None,
            &payload,
            store::CallbackKey {
                provider: Provider::Pesapal,
                key: &key,
            },
            now,
        )
        .await?;
        self.keep_trace(Provider::Pesapal, raw, token, payment_id, &applied)
            .await?;
        Ok(CallbackHandled::Applied(applied))
    }

    /// Asks the provider about every open payment older than `min_age`
    /// and records final answers. Run at start-up (resuming what a restart
    /// interrupted) and periodically (callbacks that never came).
    pub async fn reconcile_open(
        &self,
        min_age: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<usize, PaymentServiceError> {
        let mut resolved = 0;
        for open in store::open_payments(&self.db, now).await? {
            if open
                .payment
                .initiated_at
                .is_some_and(|at| now - at < min_age)
            {
                continue;
            }
            let Some(tenant) = self.db.tenant_by_slug(&open.route.slug).await? else {
                continue;
            };
            let result = match open.route.provider {
                Provider::Mpesa => self
                    .query_stk(&tenant, open.payment.id, &open.route.thread_id, now)
                    .await
                    .map(|o| o.is_some()),
                Provider::Pesapal => match open.payment.checkout_id.as_deref() {
                    Some(tracking) => {
                        let ipn = Ipn {
                            order_tracking_id: tracking.to_owned(),
                            merchant_reference: open.route.merchant_reference.clone(),
                            notification_type: "RECONCILE".into(),
                        };
                        self.handle_pesapal_ipn(&open.route.merchant_reference, &ipn, b"{}", now)
                            .await
                            .map(|h| {
                                matches!(
                                    h,
                                    CallbackHandled::Applied(
                                        Applied::Recorded { .. } | Applied::LateSuccess { .. }
                                    )
                                )
                            })
                    }
                    None => Ok(false),
                },
            };
            match result {
                Ok(true) => resolved += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(tenant = %open.route.slug, error = %e, "reconcile failed"),
            }
        }
        Ok(resolved)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The outcome a final row records (failure reasons come from the stored
/// callback's ResultCode when there is one).
fn outcome_of_row(
    status: PaymentStatus,
    receipt: Option<String>,
    payload: &Option<Value>,
) -> PaymentOutcome {
    let code = payload
        .as_ref()
        .and_then(|p| {
            p.pointer("/Body/stkCallback/ResultCode")
                .or_else(|| p.pointer("/stk_query/ResultCode"))
        })
        .and_then(|c| {
            c.as_i64()
                .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
        });
    match (status, code) {
        (PaymentStatus::Completed, _) => PaymentOutcome::Completed { receipt },
        (PaymentStatus::CancelledByCustomer, _) => PaymentOutcome::CancelledByCustomer,
        (PaymentStatus::Timeout, _) => PaymentOutcome::Timeout,
        (_, Some(code)) => PaymentOutcome::from_daraja(code, None),
        _ => PaymentOutcome::Failed(crate::core::payment::FailureReason::Other(-1)),
    }
}

/// Everything payments needs on one node, started together by `serve`:
/// the service, the LISTEN task, the reconciler, the durable chat deadlines,
/// the daily reaper, and (in simulator mode only) the simulator.
pub struct PaymentsNode {
    pub service: Arc<PaymentService>,
    /// Mounted under `/sim` by the HTTP layer when present.
    pub simulator: Option<crate::adapters::payments::simulator::Simulator>,
    /// Chat messages due from stored deadlines (nudge, abandon), for the
    /// chat runtime to send.
    pub chat_events: mpsc::Receiver<ChatPaymentEvent>,
    tasks: Vec<JoinHandle<()>>,
}

/// How often open payments are asked about, and how old they must be.
const RECONCILE_EVERY: Duration = Duration::from_secs(30);
const RECONCILE_MIN_AGE_SECS: i64 = 45;
const DEADLINE_SWEEP_EVERY: Duration = Duration::from_secs(15);

impl PaymentsNode {
    /// Starts the node's payment tasks. `listen` is where this node serves
    /// HTTP (used when no public URL is configured, and to reach the
    /// mounted simulator).
    pub async fn start(
        settings: &crate::config::Settings,
        listen: std::net::SocketAddr,
        db: Db,
        vault: Option<crate::storage::Vault>,
    ) -> Result<Self, StorageError> {
        use crate::config::PaymentEnvironment as Configured;
        let p = &settings.payments;
        let environment = match p.payment_environment {
            Configured::Sandbox => PaymentEnvironment::Sandbox,
            Configured::Production => PaymentEnvironment::Production,
            Configured::Simulator => PaymentEnvironment::Simulator,
        };
        let local = match listen.ip() {
            ip if ip.is_unspecified() => format!("http://127.0.0.1:{}", listen.port()),
            _ => format!("http://{listen}"),
        };
        let public = settings
            .core
            .public_base_url
            .as_ref()
            .map(|u| u.as_str().trim_end_matches('/').to_owned())
            .unwrap_or_else(|| local.clone());
        let simulator = (environment == PaymentEnvironment::Simulator).then(|| {
            let sim = crate::adapters::payments::simulator::Simulator::new(Default::default());
            sim.set_base_url(&format!("{local}/sim"));
            sim
        });
        let (daraja, pesapal) = match &simulator {
            Some(_) => (format!("{local}/sim"), format!("{local}/sim")),
            None => (
                p.daraja_base_url.as_str().to_owned(),
                p.pesapal_base_url.as_str().to_owned(),
            ),
        };
        let mut config = PaymentRuntimeConfig::new(environment, &daraja, &pesapal, &public);
        if let (Some(k), Some(s)) = (&p.daraja_consumer_key, &p.daraja_consumer_secret) {
            config.platform_daraja_consumer = Some((k.expose().to_owned(), s.expose().to_owned()));
        }
        let waiters = PaymentWaiters::default();
        let decrypter = vault.map(|v| Arc::new(v) as Arc<dyn CredentialDecrypter>);
        let service = Arc::new(PaymentService::new(
            db.clone(),
            config,
            decrypter,
            waiters.clone(),
        ));
        let mut tasks = vec![PaymentListener::start(db.clone(), waiters).await?];

        let reconciler = service.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let min_age = chrono::Duration::seconds(RECONCILE_MIN_AGE_SECS);
                match reconciler.reconcile_open(min_age, Utc::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(resolved = n, "reconciled open payments"),
                    Err(e) => tracing::warn!(error = %e, "reconcile pass failed"),
                }
                tokio::time::sleep(RECONCILE_EVERY).await;
            }
        }));

        let (events_tx, chat_events) = mpsc::channel(256);
        let sweeper = service.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                if let Err(e) = sweep_chat_deadlines(&sweeper, &events_tx, Utc::now()).await {
                    tracing::warn!(error = %e, "chat deadline sweep failed");
                }
                tokio::time::sleep(DEADLINE_SWEEP_EVERY).await;
            }
        }));
        tasks.push(crate::runtime::reaper::spawn_daily(db));
        Ok(Self {
            service,
            simulator,
            chat_events,
            tasks,
        })
    }

    /// Hands the chat deadline messages to their consumer (the WhatsApp
    /// runtime); a second call gets a receiver that never yields.
    pub fn take_chat_events(&mut self) -> mpsc::Receiver<ChatPaymentEvent> {
        std::mem::replace(&mut self.chat_events, mpsc::channel(1).1)
    }

    /// Stops the node's payment tasks.
    pub fn shutdown(&self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}
