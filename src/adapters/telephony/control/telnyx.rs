//! Telnyx Call Control: `actions/transfer` with the number to dial,
//! `actions/hangup`; the API key as a bearer token.

use futures::future::BoxFuture;
use serde_json::json;

use super::{CallControl, ControlError, LiveCall, send};
use crate::adapters::telephony::Provider;
use crate::config::Secret;
use crate::core::ids::PhoneNumber;

pub struct TelnyxControl {
    http: reqwest::Client,
    base: String,
    api_key: Secret,
}

impl TelnyxControl {
    pub fn new(http: reqwest::Client, base: &str, api_key: Secret) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            api_key,
        }
    }

    async fn action(
        &self,
        call: &LiveCall,
        action: &str,
        body: serde_json::Value,
    ) -> Result<(), ControlError> {
        let id = call.path_id(Provider::Telnyx)?;
        let request = self
            .http
            .post(format!("{}/calls/{id}/actions/{action}", self.base))
            .bearer_auth(self.api_key.expose())
            .json(&body);
        send(Provider::Telnyx, request).await
    }
}

impl CallControl for TelnyxControl {
    fn provider(&self) -> Provider {
        Provider::Telnyx
    }

    fn can_transfer(&self) -> bool {
        true
    }

    fn transfer<'a>(
        &'a self,
        call: &'a LiveCall,
        to: &'a PhoneNumber,
    ) -> BoxFuture<'a, Result<(), ControlError>> {
        Box::pin(async move {
            self.action(call, "transfer", json!({"to": to.expose()}))
                .await
        })
    }

    fn hang_up<'a>(&'a self, call: &'a LiveCall) -> BoxFuture<'a, Result<(), ControlError>> {
        Box::pin(async move { self.action(call, "hangup", json!({})).await })
    }
}
