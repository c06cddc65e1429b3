//! Twilio: a call update (twilio-python `CallContext.update`) with inline
//! TwiML `<Dial>` puts the caller through; `Status=completed` hangs up.

use futures::future::BoxFuture;

use super::{CallControl, ControlError, LiveCall, send};
use crate::adapters::telephony::{Provider, xml_escape};
use crate::config::Secret;
use crate::core::ids::PhoneNumber;

pub struct TwilioControl {
    http: reqwest::Client,
    base: String,
    account_sid: String,
    auth_token: Secret,
}

impl TwilioControl {
    pub fn new(http: reqwest::Client, base: &str, account_sid: &str, auth_token: Secret) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            account_sid: account_sid.to_owned(),
            auth_token,
        }
    }

    async fn update(&self, call: &LiveCall, form: &[(&str, &str)]) -> Result<(), ControlError> {
        let id = call.path_id(Provider::Twilio)?;
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Calls/{id}.json",
            self.base, self.account_sid
        );
        let request = self
            .http
            .post(url)
            .basic_auth(&self.account_sid, Some(self.auth_token.expose()))
            .form(form);
        send(Provider::Twilio, request).await
    }
}

/// The TwiML that puts the call through to `to` (the caller's number is
/// shown, as Twilio does for a forwarded inbound call).
pub fn dial_twiml(to: &PhoneNumber) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Dial>{}</Dial></Response>",
        xml_escape(to.expose())
    )
}

impl CallControl for TwilioControl {
    fn provider(&self) -> Provider {
        Provider::Twilio
    }

    fn can_transfer(&self) -> bool {
        true
    }

    fn transfer<'a>(
        &'a self,
        call: &'a LiveCall,
        to: &'a PhoneNumber,
    ) -> BoxFuture<'a, Result<(), ControlError>> {
        Box::pin(async move { self.update(call, &[("Twiml", &dial_twiml(to))]).await })
    }

    fn hang_up<'a>(&'a self, call: &'a LiveCall) -> BoxFuture<'a, Result<(), ControlError>> {
        Box::pin(async move { self.update(call, &[("Status", "completed")]).await })
    }
}
