//! The node's payment service: one code path for every provider, through
//! its [`PaymentGateway`].

use super::*;
use crate::adapters::payments::daraja::{DarajaClient, DarajaCredentials};
use crate::adapters::payments::pesapal::{PesapalClient, PesapalCredentials};
use crate::adapters::payments::{PaymentRequest, Verdict};
use crate::storage::payments::{CallbackKey, NewPayment, Outcome};

/// A tenant's gateway to one provider in one environment.
type GatewayKey = (TenantId, PaymentEnvironment, Provider);

/// The node's payment service. Cheap to share (`Arc`).
pub struct PaymentService {
    db: Db,
    config: PaymentRuntimeConfig,
    decrypter: Option<Arc<dyn CredentialDecrypter>>,
    pub(super) waiters: PaymentWaiters,
    /// Cached, so each tenant's OAuth token is reused.
    gateways: Mutex<HashMap<GatewayKey, Arc<dyn PaymentGateway>>>,
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
            gateways: Mutex::new(HashMap::new()),
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

    /// A tenant's gateway to `provider` (cached). Fails when the tenant has
    /// no usable credentials for it in its environment.
    pub fn gateway(
        &self,
        tenant: &TenantRecord,
        provider: Provider,
    ) -> Result<Arc<dyn PaymentGateway>, PaymentServiceError> {
        let env = self.environment_for(tenant);
        let key = (tenant.id, env, provider);
        if let Some(g) = lock(&self.gateways).get(&key) {
            return Ok(g.clone());
        }
        let base = self.config.base_for(provider, env);
        let policy = self.config.http;
        let gateway: Arc<dyn PaymentGateway> = match provider {
            Provider::Mpesa => Arc::new(DarajaClient::new(
                &base,
                self.daraja_credentials(tenant, env)?,
                policy,
            )?),
            Provider::Pesapal => Arc::new(PesapalClient::new(
                &base,
                self.pesapal_credentials(tenant, env)?,
                policy,
            )?),
        };
        lock(&self.gateways).insert(key, gateway.clone());
        Ok(gateway)
    }

    fn daraja_credentials(
        &self,
        tenant: &TenantRecord,
        env: PaymentEnvironment,
    ) -> Result<DarajaCredentials, PaymentServiceError> {
        let simulated = env == PaymentEnvironment::Simulator;
        let platform = self
            .config
            .platform_daraja_consumer
            .as_ref()
            .map(|(k, s)| (k.as_str(), s.as_str()))
            .or(simulated.then_some(("simulator", "simulator")));
        let passkey = tenant.mpesa_passkey.as_ref().map(|p| p.expose());
        let creds = match self.decrypt(tenant.daraja_credentials.as_ref()) {
            Ok(json) => DarajaCredentials::for_tenant(
                json.as_deref(),
                tenant.mpesa_shortcode.as_deref(),
                passkey,
                platform,
            ),
            Err(e) if simulated => {
                tracing::debug!(error = %e, "simulator: using legacy credentials");
                DarajaCredentials::for_tenant(
                    None,
                    tenant.mpesa_shortcode.as_deref().or(Some("174379")),
                    passkey.or(Some("simulator")),
                    platform,
                )
            }
            Err(e) => return Err(e),
        };
        Ok(creds?)
    }

    fn pesapal_credentials(
        &self,
        tenant: &TenantRecord,
        env: PaymentEnvironment,
    ) -> Result<PesapalCredentials, PaymentServiceError> {
        let creds = match self.decrypt(tenant.pesapal_credentials.as_ref()) {
            Ok(json) => PesapalCredentials::for_tenant(json.as_deref(), None, None),
            Err(e) => Err(PaymentError::Credentials(e.to_string())),
        };
        match creds {
            Ok(c) => Ok(c),
            Err(_) if env == PaymentEnvironment::Simulator => Ok(PesapalCredentials::for_tenant(
                None,
                Some("simulator"),
                Some("simulator"),
            )?),
            Err(e) => Err(e.into()),
        }
    }

    /// Where `provider` reports on the payment with this reference.
    pub fn notify_url(&self, provider: Provider, merchant_reference: &str) -> String {
        let path = match provider {
            Provider::Mpesa => "daraja/callback",
            Provider::Pesapal => "pesapal/ipn",
        };
        format!(
            "{}/payments/{path}/{merchant_reference}",
            self.config.public_base_url
        )
    }

    /// Starts a payment: our row first (committed), then the provider's
    /// request, then its id for the payment. A number M-Pesa cannot prompt
    /// is refused before anything; a refused request marks the row failed;
    /// a lost answer leaves it pending for the callback or a query.
    pub async fn start(
        &self,
        tenant: &TenantRecord,
        provider: Provider,
        req: &PushRequest,
        now: DateTime<Utc>,
    ) -> Result<(StartedPush, Option<String>), PaymentServiceError> {
        if provider == Provider::Mpesa {
            kenyan_msisdn(&req.phone)?;
        }
        let gateway = self.gateway(tenant, provider)?;
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
                provider,
                phone: Some(&req.phone),
            },
            now,
        )
        .await?;
        let reference = &initiated.merchant_reference;
        let request = PaymentRequest {
            merchant_reference: reference,
            phone: &req.phone,
            amount: req.amount,
            account_reference: &req.account_reference,
            description: &req.description,
            notify_url: &self.notify_url(provider, reference),
            return_url: &format!("{}/payments/pesapal/return", self.config.public_base_url),
        };
        let payment_id = initiated.payment_id;
        let (start, redirect_url) = match gateway.start(&request, now).await {
            Ok(started) => {
                store::mark_pending(&handle, payment_id, Some(&started.provider_ref)).await?;
                (PushStart::Accepted, started.redirect_url)
            }
            Err(PaymentError::Uncertain) => {
                store::mark_pending(&handle, payment_id, None).await?;
                (PushStart::Uncertain, None)
            }
            Err(e) => {
                tracing::info!(tenant = %tenant.slug, provider = provider.as_str(), error = %e, "payment request refused");
                store::mark_rejected(&handle, payment_id, &req.thread_id, &e.to_string(), now)
                    .await?;
                (PushStart::Rejected(e), None)
            }
        };
        Ok((StartedPush { payment_id, start }, redirect_url))
    }

    /// Pushes an M-Pesa prompt ([`Self::start`]).
    pub async fn start_stk_push(
        &self,
        tenant: &TenantRecord,
        req: &PushRequest,
        now: DateTime<Utc>,
    ) -> Result<StartedPush, PaymentServiceError> {
        Ok(self.start(tenant, Provider::Mpesa, req, now).await?.0)
    }

    /// Creates a PesaPal order ([`Self::start`]) and returns the link to
    /// send in the chat; without a link (refused, or the answer lost) there
    /// is nothing to send.
    pub async fn start_pesapal_order(
        &self,
        tenant: &TenantRecord,
        req: &PushRequest,
        now: DateTime<Utc>,
    ) -> Result<StartedOrder, PaymentServiceError> {
        let (started, redirect_url) = self.start(tenant, Provider::Pesapal, req, now).await?;
        match (started.start, redirect_url) {
            (PushStart::Accepted, Some(redirect_url)) => Ok(StartedOrder {
                payment_id: started.payment_id,
                redirect_url,
            }),
            (PushStart::Rejected(e), _) => Err(e.into()),
            (PushStart::Accepted | PushStart::Uncertain, _) => Err(PaymentError::Uncertain.into()),
        }
    }

    /// Asks the provider about a payment and records a final answer (the
    /// outcome already recorded, when there is one). `None` while it is
    /// still being processed, or cannot be asked about yet.
    pub async fn query(
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
            return Ok(Some(stored_outcome(
                payment.status,
                payment.mpesa_receipt,
                payment.callback_payload.as_ref(),
            )));
        }
        let (Some(provider), Some(provider_ref)) = (payment.provider, payment.checkout_id) else {
            return Ok(None);
        };
        let Some(verdict) = self
            .gateway(tenant, provider)?
            .query(&provider_ref, now)
            .await?
        else {
            return Ok(None);
        };
        let (applied, outcome) = self
            .record_verdict(
                tenant,
                provider,
                payment_id,
                payment.amount,
                thread_id,
                &provider_ref,
                verdict,
                now,
            )
            .await?;
        Ok(match applied {
            Applied::UnknownPayment => None,
            _ => Some(outcome),
        })
    }

    /// Records what the provider said when asked. An amount the provider
    /// itself reports, when it is not ours, fails the payment and is kept
    /// for review: the provider's word is final, and another amount than
    /// asked for is never a success.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn record_verdict(
        &self,
        tenant: &TenantRecord,
        provider: Provider,
        payment_id: Uuid,
        amount: Money,
        thread_id: &ThreadId,
        provider_ref: &str,
        verdict: Verdict,
        now: DateTime<Utc>,
    ) -> Result<(Applied, PaymentOutcome), PaymentServiceError> {
        let mut outcome = verdict.outcome;
        if outcome.status() == PaymentStatus::Completed
            && verdict.amount.is_some_and(|a| a.minor != amount.minor)
        {
            tracing::warn!(tenant = %tenant.slug, payment = %payment_id, "the provider reports another amount than ours");
            self.keep(
                provider,
                &serde_json::to_vec(&verdict.payload).unwrap_or_default(),
                Some(&store::merchant_reference(payment_id)),
                Some(payment_id),
                "amount_mismatch",
                true,
            )
            .await?;
            outcome = PaymentOutcome::Failed(crate::core::payment::FailureReason::Other(-2));
        }
        let applied = store::record_outcome(
            &self.db.tenant(&tenant.slug),
            &Outcome {
                payment_id,
                thread_id,
                outcome: &outcome,
                checkout_id: Some(provider_ref),
                amount_minor: None,
                payload: &verdict.payload,
                callback: verdict
                    .key
                    .as_deref()
                    .map(|key| CallbackKey { provider, key }),
                now,
            },
        )
        .await?;
        Ok((applied, outcome))
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
            let asked = self
                .query(&tenant, open.payment.id, &open.route.thread_id, now)
                .await;
            match asked {
                Ok(Some(_)) => resolved += 1,
                Ok(None) => {}
                Err(e) => tracing::warn!(tenant = %open.route.slug, error = %e, "reconcile failed"),
            }
        }
        Ok(resolved)
    }
}
