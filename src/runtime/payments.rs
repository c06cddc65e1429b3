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

/// The tenant and thread of an awaited payment, and who awaits it.
type Awaited = (TenantSlug, ThreadId, Vec<oneshot::Sender<PaymentNotice>>);

/// Waiters on this node, keyed by payment id, plus a broadcast of every
/// notice for the chat runtime. Cheap to clone.
#[derive(Clone)]
pub struct PaymentWaiters {
    inner: Arc<Mutex<HashMap<Uuid, Awaited>>>,
    all: broadcast::Sender<PaymentNotice>,
}

impl Default for PaymentWaiters {
    fn default() -> Self {
        Self {
            inner: Arc::default(),
            all: broadcast::channel(256).0,
        }
    }
}

impl PaymentWaiters {
    /// Every notice this node hears (chat threads filter by thread id).
    pub fn subscribe_all(&self) -> broadcast::Receiver<PaymentNotice> {
        self.all.subscribe()
    }

    /// Waits for the final outcome of one payment. Registers first, then
    /// reads the row, so an outcome recorded before the registration is
    /// not missed.
    pub async fn wait_for(
        &self,
        db: &Db,
        tenant: &TenantSlug,
        payment_id: Uuid,
        thread_id: &ThreadId,
    ) -> Result<oneshot::Receiver<PaymentNotice>, StorageError> {
        let (tx, rx) = oneshot::channel();
        lock(&self.inner)
            .entry(payment_id)
            .or_insert_with(|| (tenant.clone(), thread_id.clone(), Vec::new()))
            .2
            .push(tx);
        self.recheck_one(db, tenant, payment_id, thread_id).await?;
        Ok(rx)
    }

    /// How many payments this node is waiting on.
    pub fn waiting(&self) -> usize {
        lock(&self.inner).len()
    }

    /// Hands a notice to its waiters (and the broadcast).
    pub fn deliver(&self, notice: PaymentNotice) {
        let _ = self.all.send(notice.clone());
        if !notice.status().is_some_and(PaymentStatus::is_final) {
            return;
        }
        let senders = lock(&self.inner).remove(&notice.payment_id);
        for tx in senders.map(|(_, _, v)| v).unwrap_or_default() {
            let _ = tx.send(notice.clone());
        }
    }

    async fn recheck_one(
        &self,
        db: &Db,
        tenant: &TenantSlug,
        payment_id: Uuid,
        thread_id: &ThreadId,
    ) -> Result<(), StorageError> {
        let Some(row) = store::find_payment(&db.tenant(tenant), payment_id).await? else {
            return Ok(());
        };
        if row.status.is_final() {
            let outcome =
                outcome_of_row(row.status, row.mpesa_receipt.clone(), &row.callback_payload);
            self.deliver(PaymentNotice {
                tenant: tenant.clone(),
                payment_id,
                thread_id: thread_id.clone(),
                status: row.status.as_str().to_owned(),
                receipt: row.mpesa_receipt,
                result_code: outcome.result_code(),
            });
        }
        Ok(())
    }

    /// Re-reads every awaited payment (after the listener lost its
    /// connection, notices sent meanwhile are gone).
    pub async fn recheck_all(&self, db: &Db) {
        let awaited: Vec<(Uuid, TenantSlug, ThreadId)> = lock(&self.inner)
            .iter()
            .map(|(id, (slug, thread, _))| (*id, slug.clone(), thread.clone()))
            .collect();
        for (id, slug, thread) in awaited {
            if let Err(e) = self.recheck_one(db, &slug, id, &thread).await {
                tracing::warn!(tenant = %slug, error = %e, "payment recheck failed");
            }
        }
    }
}

/// The node's LISTEN task.
pub struct PaymentListener;

impl PaymentListener {
    /// Starts listening (LISTEN is in place when this returns) and hands
    /// every notice to `waiters` until the task is aborted.
    pub async fn start(db: Db, waiters: PaymentWaiters) -> Result<JoinHandle<()>, StorageError> {
        let mut listener = sqlx::postgres::PgListener::connect_with(db.pool()).await?;
        listener.listen(NOTIFY_CHANNEL).await?;
        Ok(tokio::spawn(async move {
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) => match serde_json::from_str::<PaymentNotice>(n.payload()) {
                        Ok(notice) => waiters.deliver(notice),
                        Err(e) => tracing::warn!(error = %e, "unreadable payment notice"),
                    },
                    Ok(None) => {
                        tracing::warn!("payment listener reconnecting; rechecking waiters");
                        waiters.recheck_all(&db).await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "payment listener error");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        waiters.recheck_all(&db).await;
                    }
                }
            }
        }))
    }
}

/// What the call task must do for a hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEffect {
    Say(String),
    EnterHold,
    LeaveHold,
    SendPaymentLink,
    Finished(HoldResult),
}

/// What a call's hold records (as a claimed deadline of the payment) once
/// it has told the caller on the line that the payment failed. The chat side
/// writes a failure to a call's caller only when this is missing: the caller
/// was released before the result came, or hung up during the hold.
pub const FAILURE_TOLD_ON_CALL: &str = "failure_told_on_call";

/// Drives one [`StkHold`] for a call task: performs the payment effects
/// (push, query) itself and returns what the call must say or do.
pub struct HoldSession {
    hold: StkHold,
    service: Arc<PaymentService>,
    tenant: TenantRecord,
    request: PushRequest,
    lang: Lang,
    payment_id: Option<Uuid>,
    notice: Option<oneshot::Receiver<PaymentNotice>>,
}

impl HoldSession {
    pub fn new(
        service: Arc<PaymentService>,
        tenant: TenantRecord,
        request: PushRequest,
        lang: Lang,
    ) -> Self {
        let config =
            HoldConfig::from_tenant(u32::try_from(tenant.voice_stk_max_hold_seconds).unwrap_or(90));
        Self {
            hold: StkHold::new(config, request.amount),
            service,
            tenant,
            request,
            lang,
            payment_id: None,
            notice: None,
        }
    }

    pub fn payment_id(&self) -> Option<Uuid> {
        self.payment_id
    }

    pub fn is_done(&self) -> bool {
        self.hold.is_done()
    }

    /// Feeds one input and performs the resulting payment effects; returns
    /// the call's effects and the next deadline (feed `HoldInput::Tick` then).
    pub async fn handle(
        &mut self,
        input: HoldInput,
        now: Instant,
    ) -> (Vec<CallEffect>, Option<Instant>) {
        let mut effects = Vec::new();
        let mut queue = vec![input];
        let mut deadline = None;
        while let Some(input) = queue.pop() {
            self.hold.handle_input(input, now);
            while let Some(out) = self.hold.poll_output() {
                match out {
                    HoldOutput::Timeout(at) => {
                        deadline = Some(at);
                        break;
                    }
                    HoldOutput::Say(p) => {
                        if matches!(p, Prompt::Failed { .. }) {
                            self.record_failure_told().await;
                        }
                        effects.push(CallEffect::Say(p.text(self.lang)));
                    }
                    HoldOutput::EnterHold => effects.push(CallEffect::EnterHold),
                    HoldOutput::LeaveHold => effects.push(CallEffect::LeaveHold),
                    HoldOutput::SendPaymentLink => effects.push(CallEffect::SendPaymentLink),
                    HoldOutput::Finished(r) => effects.push(CallEffect::Finished(r)),
                    HoldOutput::PushStk { .. } => queue.push(self.push().await),
                    HoldOutput::QueryStk => {
                        if let Some(next) = self.query().await {
                            queue.push(next);
                        }
                    }
                }
            }
            if self.hold.is_done() {
                deadline = None;
            }
        }
        (effects, deadline)
    }

    async fn record_failure_told(&self) {
        let Some(payment_id) = self.payment_id else {
            return;
        };
        let tenant = self.service.db().tenant(&self.tenant.slug);
        if let Err(e) = store::claim_deadline(&tenant, payment_id, FAILURE_TOLD_ON_CALL).await {
            // The caller may also get the failure in writing: better twice
            // than never.
            tracing::warn!(tenant = %self.tenant.slug, error = %e, "could not record the failure as told on the call");
        }
    }

    /// Resolves when the payment's outcome is known (from any node).
    pub async fn next_outcome(&mut self) -> Option<HoldInput> {
        let rx = self.notice.as_mut()?;
        let notice = rx.await.ok();
        self.notice = None;
        notice.map(|n| HoldInput::Outcome(n.outcome()))
    }

    async fn push(&mut self) -> HoldInput {
        let started = self
            .service
            .start_stk_push(&self.tenant, &self.request, Utc::now())
            .await;
        match started {
            Ok(StartedPush { payment_id, start }) => {
                self.payment_id = Some(payment_id);
                self.notice = self
                    .service
                    .waiters
                    .wait_for(
                        self.service.db(),
                        &self.tenant.slug,
                        payment_id,
                        &self.request.thread_id,
                    )
                    .await
                    .ok();
                match start {
                    PushStart::Accepted => HoldInput::PushAccepted,
                    PushStart::Uncertain => HoldInput::PushUncertain,
                    PushStart::Rejected(_) => HoldInput::PushRejected,
                }
            }
            Err(e) => {
                tracing::warn!(tenant = %self.tenant.slug, error = %e, "stk push not started");
                HoldInput::PushRejected
            }
        }
    }

    async fn query(&mut self) -> Option<HoldInput> {
        let payment_id = self.payment_id?;
        match self
            .service
            .query_stk(
                &self.tenant,
                payment_id,
                &self.request.thread_id,
                Utc::now(),
            )
            .await
        {
            Ok(Some(outcome)) => Some(HoldInput::Outcome(outcome)),
            Ok(None) => Some(HoldInput::QueryPending),
            Err(e) => {
                tracing::warn!(tenant = %self.tenant.slug, error = %e, "stk query failed");
                Some(HoldInput::QueryPending)
            }
        }
    }
}

/// A chat message the chat runtime should send on a thread.
#[derive(Debug, Clone)]
pub struct ChatPaymentEvent {
    pub tenant: TenantSlug,
    pub thread_id: ThreadId,
    pub payment_id: Uuid,
    pub message: ChatMessage,
}

/// Starts a chat payment (push or link) and returns the first message to
/// send.
pub async fn start_chat_payment(
    service: &PaymentService,
    tenant: &TenantRecord,
    request: &PushRequest,
    provider: ChatProvider,
    now: DateTime<Utc>,
) -> Result<(Option<Uuid>, Vec<ChatMessage>), PaymentServiceError> {
    let config = ChatPaymentConfig::from_tenant(
        i64::from(tenant.pesapal_nudge_seconds),
        i64::from(tenant.pesapal_abandon_seconds),
    );
    let machine = ChatPayment::new(config, provider);
    drive_chat_payment(
        service,
        tenant,
        request,
        machine,
        ChatInput::Start(provider),
        now,
    )
    .await
}

/// A customer's answer after a chat payment failed ("RETRY", "LINK"):
/// `pushes` M-Pesa prompts were made for the booking so far, the last
/// started at `started_at`. Starts the next attempt if the answer asks for
/// one and returns the messages to send.
pub async fn answer_chat_payment(
    service: &PaymentService,
    tenant: &TenantRecord,
    request: &PushRequest,
    pushes: u8,
    started_at: DateTime<Utc>,
    text: &str,
    now: DateTime<Utc>,
) -> Result<(Option<Uuid>, Vec<ChatMessage>), PaymentServiceError> {
    let config = ChatPaymentConfig::from_tenant(
        i64::from(tenant.pesapal_nudge_seconds),
        i64::from(tenant.pesapal_abandon_seconds),
    );
    // The nudge belongs to the failed attempt: not sent again.
    let machine = ChatPayment::resume(
        config,
        ChatProvider::Mpesa,
        started_at,
        None,
        pushes,
        true,
        now,
    );
    drive_chat_payment(
        service,
        tenant,
        request,
        machine,
        ChatInput::CustomerSaid(text.to_owned()),
        now,
    )
    .await
}

/// Feeds `input` to a chat payment and performs what it asks (push, order)
/// until it waits; returns the payment started (if any) and the messages.
async fn drive_chat_payment(
    service: &PaymentService,
    tenant: &TenantRecord,
    request: &PushRequest,
    mut machine: ChatPayment,
    input: ChatInput,
    now: DateTime<Utc>,
) -> Result<(Option<Uuid>, Vec<ChatMessage>), PaymentServiceError> {
    machine.handle_input(input, now);
    let mut messages = Vec::new();
    let mut payment_id = None;
    while let Some(out) = machine.poll_output() {
        match out {
            ChatOutput::PushStk { .. } => {
                let input = match service.start_stk_push(tenant, request, now).await {
                    Ok(started) => {
                        payment_id = Some(started.payment_id);
                        match started.start {
                            PushStart::Rejected(_) => ChatInput::PushRejected,
                            _ => ChatInput::PushAccepted,
                        }
                    }
                    Err(PaymentServiceError::Provider(PaymentError::BadPhone)) => {
                        ChatInput::PushRejected
                    }
                    Err(e) => return Err(e),
                };
                machine.handle_input(input, now);
            }
            ChatOutput::CreatePesapalOrder => {
                let input = match service.start_pesapal_order(tenant, request, now).await {
                    Ok(order) => {
                        payment_id = Some(order.payment_id);
                        ChatInput::OrderCreated {
                            redirect_url: order.redirect_url,
                        }
                    }
                    Err(e) => {
                        tracing::warn!(tenant = %tenant.slug, error = %e, "pesapal order failed");
                        ChatInput::OrderFailed
                    }
                };
                machine.handle_input(input, now);
            }
            ChatOutput::Send(m) => messages.push(m),
            ChatOutput::Timeout(_) => break,
            _ => {}
        }
    }
    Ok((payment_id, messages))
}

/// One pass over open chat payments: the durable nudge and abandon
/// deadlines (derived from the stored `initiated_at` and the tenant's
/// seconds). Safe on several nodes at once: each nudge and abandonment is
/// claimed in the database first.
pub async fn sweep_chat_deadlines(
    service: &PaymentService,
    events: &mpsc::Sender<ChatPaymentEvent>,
    now: DateTime<Utc>,
) -> Result<usize, PaymentServiceError> {
    let mut acted = 0;
    for open in store::open_payments(service.db(), now).await? {
        let Some(started_at) = open.payment.initiated_at else {
            continue;
        };
        let Some(tenant) = service.db().tenant_by_slug(&open.route.slug).await? else {
            continue;
        };
        let config = ChatPaymentConfig::from_tenant(
            i64::from(tenant.pesapal_nudge_seconds),
            i64::from(tenant.pesapal_abandon_seconds),
        );
        let provider = match open.route.provider {
            Provider::Pesapal => ChatProvider::Pesapal,
            Provider::Mpesa => ChatProvider::Mpesa,
        };
        let handle = service.db().tenant(&open.route.slug);
        let nudge_sent = store::deadline_claimed(&handle, open.payment.id, "nudge").await?;
        let mut machine =
            ChatPayment::resume(config, provider, started_at, None, 1, nudge_sent, now);
        machine.handle_input(ChatInput::Tick, now);
        while let Some(out) = machine.poll_output() {
            let message = match out {
                ChatOutput::Timeout(_) => break,
                ChatOutput::Send(m @ ChatMessage::Nudge { .. }) => {
                    if !store::claim_deadline(&handle, open.payment.id, "nudge").await? {
                        continue;
                    }
                    m
                }
                ChatOutput::CancelAppointment { reason } => {
                    if !store::claim_deadline(&handle, open.payment.id, "abandon").await? {
                        break;
                    }
                    store::abandon_chat_payment(
                        &handle,
                        open.payment.appointment_id,
                        &open.route.thread_id,
                        &reason,
                    )
                    .await?;
                    ChatMessage::Abandoned
                }
                _ => continue,
            };
            let _ = events
                .send(ChatPaymentEvent {
                    tenant: open.route.slug.clone(),
                    thread_id: open.route.thread_id.clone(),
                    payment_id: open.payment.id,
                    message,
                })
                .await;
            acted += 1;
        }
    }
    Ok(acted)
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
