//! Provider callbacks, from any node, for every provider: routed by the
//! URL's token, read by the provider's gateway, verified with a status
//! query when the body alone cannot be believed, recorded once; every
//! callback that changes nothing is kept with its reason.

use super::*;
use crate::adapters::payments::callback_ref;
use crate::storage::payments::{CallbackKey, CallbackTrace, Outcome, RouteLookup};

impl PaymentService {
    /// A Daraja callback posted to `/payments/daraja/callback/{token}`.
    pub async fn handle_daraja_callback(
        &self,
        token: &str,
        raw: &[u8],
        now: DateTime<Utc>,
    ) -> Result<CallbackHandled, PaymentServiceError> {
        self.handle_callback(Provider::Mpesa, token, raw, now).await
    }

    /// A callback `provider` posted to the URL of the payment whose
    /// merchant reference is `token` (a PesaPal GET notification's query
    /// string comes as a JSON object of its fields).
    ///
    /// A callback that reports an outcome (Daraja) is recorded as it says,
    /// except that with `confirm_success_with_query` a success is recorded
    /// only when the provider's status query agrees. One that only says
    /// "look again" (PesaPal) is recorded as the status query says.
    pub async fn handle_callback(
        &self,
        provider: Provider,
        token: &str,
        raw: &[u8],
        now: DateTime<Utc>,
    ) -> Result<CallbackHandled, PaymentServiceError> {
        let route = match store::route(self.db(), token, now).await? {
            RouteLookup::Found(route) if route.provider == provider => route,
            other => {
                let why = match other {
                    RouteLookup::Found(_) => "wrong_provider",
                    RouteLookup::Expired(_) => "routing_expired",
                    RouteLookup::Unknown => "unknown_reference",
                };
                tracing::warn!(
                    provider = provider.as_str(),
                    why,
                    "unroutable payment callback"
                );
                return self.dead_letter(provider, raw, token, why).await;
            }
        };
        let Some(payment_id) = route.payment_id() else {
            return self
                .dead_letter(provider, raw, token, "no_payment_id")
                .await;
        };
        let Some(tenant) = self.db().tenant_by_slug(&route.slug).await? else {
            return self
                .dead_letter(provider, raw, token, "unknown_tenant")
                .await;
        };
        let gateway = match self.gateway(&tenant, provider) {
            Ok(g) => g,
            Err(e) => {
                tracing::warn!(tenant = %route.slug, error = %e, "payment callback for a tenant without credentials");
                return self
                    .dead_letter(provider, raw, token, "no_credentials")
                    .await;
            }
        };
        let claim = match gateway.parse_callback(raw) {
            Ok(claim) => claim,
            Err(e) => {
                tracing::warn!(tenant = %route.slug, error = %e, "malformed payment callback");
                return self.dead_letter(provider, raw, token, "malformed").await;
            }
        };
        if claim
            .merchant_reference
            .as_deref()
            .is_some_and(|r| r != token)
        {
            return self
                .dead_letter(provider, raw, token, "reference_mismatch")
                .await;
        }
        let handle = self.db().tenant(&route.slug);
        let Some(payment) = store::find_payment(&handle, payment_id).await? else {
            return self
                .dead_letter(provider, raw, token, "unknown_payment")
                .await;
        };
        let confirm = self.config().confirm_success_with_query;
        let applied = match claim.outcome {
            // The body says it all (Daraja), unless a success must be
            // confirmed by the provider first.
            Some(mut outcome) => {
                if confirm && outcome.status() == PaymentStatus::Completed {
                    let asked = gateway.query(&claim.provider_ref, now).await;
                    match asked.ok().flatten() {
                        Some(v) if v.outcome.status() == PaymentStatus::Completed => {}
                        Some(v) => {
                            tracing::warn!(tenant = %route.slug, "success callback contradicted by the status query");
                            outcome = v.outcome;
                        }
                        None => return Ok(CallbackHandled::Unconfirmed),
                    }
                }
                let payload: Value = serde_json::from_slice(raw).unwrap_or(Value::Null);
                store::record_outcome(
                    &handle,
                    &Outcome {
                        payment_id,
                        thread_id: &route.thread_id,
                        outcome: &outcome,
                        checkout_id: Some(&claim.provider_ref),
                        amount_minor: claim.amount.map(|a| a.minor),
                        payload: &payload,
                        callback: claim
                            .key
                            .as_deref()
                            .map(|key| CallbackKey { provider, key }),
                        now,
                    },
                )
                .await?
            }
            // "Look again" (PesaPal): the provider's own status decides.
            None => {
                let Some(verdict) = gateway.query(&claim.provider_ref, now).await? else {
                    return Ok(CallbackHandled::NotFinal);
                };
                self.record_verdict(
                    &tenant,
                    provider,
                    payment_id,
                    payment.amount,
                    &route.thread_id,
                    &claim.provider_ref,
                    verdict,
                    now,
                )
                .await?
                .0
            }
        };
        if applied == Applied::UnknownPayment {
            return self
                .dead_letter(provider, raw, token, "unknown_payment")
                .await;
        }
        if let Some((reason, needs_review)) = applied.trace() {
            if needs_review {
                tracing::warn!(payment = %payment_id, reason, "payment callback kept for review");
            }
            self.keep(
                provider,
                raw,
                Some(token),
                Some(payment_id),
                &reason,
                needs_review,
            )
            .await?;
        }
        tracing::info!(tenant = %route.slug, payment = %payment_id, provider = provider.as_str(), applied = ?applied, "payment callback");
        Ok(CallbackHandled::Applied(applied))
    }

    /// Keeps a callback nobody can apply, verbatim, for a person to review.
    pub async fn dead_letter(
        &self,
        provider: Provider,
        raw: &[u8],
        token: &str,
        reason: &str,
    ) -> Result<CallbackHandled, PaymentServiceError> {
        self.keep(provider, raw, Some(token), None, reason, true)
            .await?;
        Ok(CallbackHandled::DeadLettered)
    }

    /// Keeps a callback that changed nothing (or overrode a failure) with
    /// its reason, once per provider id and reason.
    pub(super) async fn keep(
        &self,
        provider: Provider,
        raw: &[u8],
        token: Option<&str>,
        payment_id: Option<Uuid>,
        reason: &str,
        needs_review: bool,
    ) -> Result<(), PaymentServiceError> {
        store::record_callback_trace(
            self.db(),
            CallbackTrace {
                provider,
                raw_body: raw,
                provider_ref: &callback_ref(provider, raw),
                attempted_merchant_reference: token,
                reason,
                payment_id,
                needs_review,
            },
        )
        .await?;
        Ok(())
    }
}
