//! Plivo: a transfer moves the caller's leg (`legs=aleg`) to XML fetched
//! from `aleg_url` — ours, `<Dial><Number>…</Number></Dial>`, at a URL
//! signed with the media-token key so it dials only what we asked for — and
//! `DELETE` on the call hangs up. Basic auth with the auth id and token.

use futures::future::BoxFuture;
use serde_json::json;

use super::{CallControl, ControlError, LiveCall, send};
use crate::adapters::telephony::media_token::{MediaClaims, MediaTokenError, MediaTokenKey};
use crate::adapters::telephony::{Provider, xml_escape};
use crate::config::Secret;
use crate::core::ids::PhoneNumber;

/// How long Plivo has to fetch the transfer XML after our request.
pub const TRANSFER_URL_TTL_SECS: i64 = 120;
/// The `call` claim of a transfer token starts with this, so a media token
/// never passes for one (and a transfer token opens no media socket: its
/// number is nobody's voice number, and its call id no stream's).
const TRANSFER_CLAIM: &str = "transfer:";

pub struct PlivoControl {
    http: reqwest::Client,
    base: String,
    auth_id: String,
    auth_token: Secret,
    public_base_url: String,
    key: MediaTokenKey,
}

impl PlivoControl {
    pub fn new(
        http: reqwest::Client,
        base: &str,
        auth_id: &str,
        auth_token: Secret,
        public_base_url: &str,
        key: MediaTokenKey,
    ) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            auth_id: auth_id.to_owned(),
            auth_token,
            public_base_url: public_base_url.trim_end_matches('/').to_owned(),
            key,
        }
    }

    fn call_url(&self, call: &LiveCall) -> Result<String, ControlError> {
        let id = call.path_id(Provider::Plivo)?;
        Ok(format!(
            "{}/v1/Account/{}/Call/{id}/",
            self.base, self.auth_id
        ))
    }

    /// Where Plivo fetches the XML that dials `to` for this call.
    pub fn transfer_url(&self, call: &LiveCall, to: &PhoneNumber, now_unix: i64) -> String {
        let token = self.key.mint(&MediaClaims {
            provider: Provider::Plivo.as_str().to_owned(),
            call: format!("{TRANSFER_CLAIM}{}", call.id),
            tenant: String::new(),
            to: to.expose().to_owned(),
            from: None,
            provider_call: Some(call.id.clone()),
            expires: now_unix + TRANSFER_URL_TTL_SECS,
        });
        format!("{}/voice/plivo/transfer/{token}", self.public_base_url)
    }
}

/// The number a transfer URL's token names, if this key signed it for a
/// transfer and it has not expired.
pub fn transfer_target(
    key: &MediaTokenKey,
    token: &str,
    now_unix: i64,
) -> Result<PhoneNumber, MediaTokenError> {
    let claims = key.verify(token, Provider::Plivo, now_unix)?;
    if !claims.call.starts_with(TRANSFER_CLAIM) {
        return Err(MediaTokenError::Mismatch("not a transfer"));
    }
    PhoneNumber::parse(&claims.to).map_err(|_| MediaTokenError::Malformed)
}

/// The Plivo XML that dials `to`.
pub fn dial_xml(to: &PhoneNumber) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Dial><Number>{}</Number></Dial></Response>",
        xml_escape(to.expose())
    )
}

impl CallControl for PlivoControl {
    fn provider(&self) -> Provider {
        Provider::Plivo
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
            let url = self.call_url(call)?;
            let aleg_url = self.transfer_url(call, to, chrono::Utc::now().timestamp());
            let request = self
                .http
                .post(url)
                .basic_auth(&self.auth_id, Some(self.auth_token.expose()))
                .json(&json!({"legs": "aleg", "aleg_url": aleg_url, "aleg_method": "GET"}));
            send(Provider::Plivo, request).await
        })
    }

    fn hang_up<'a>(&'a self, call: &'a LiveCall) -> BoxFuture<'a, Result<(), ControlError>> {
        Box::pin(async move {
            let request = self
                .http
                .delete(self.call_url(call)?)
                .basic_auth(&self.auth_id, Some(self.auth_token.expose()));
            send(Provider::Plivo, request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transfer_url_dials_only_its_number_and_only_while_fresh() {
        let key = MediaTokenKey::random();
        let control = PlivoControl::new(
            reqwest::Client::new(),
            "http://plivo.invalid",
            "MA1",
            Secret::new("t"),
            "https://bot.example.co.ke/",
            key.clone(),
        );
        let call = LiveCall {
            id: "uuid-1".into(),
            dialled: None,
        };
        let to = PhoneNumber::parse("+254700123456").unwrap();
        let url = control.transfer_url(&call, &to, 1_000);
        let token = url
            .strip_prefix("https://bot.example.co.ke/voice/plivo/transfer/")
            .unwrap();
        assert_eq!(transfer_target(&key, token, 1_010).unwrap(), to);
        assert_eq!(
            transfer_target(&key, token, 1_000 + TRANSFER_URL_TTL_SECS + 1),
            Err(MediaTokenError::Expired)
        );
        assert!(transfer_target(&MediaTokenKey::random(), token, 1_010).is_err());
        // A media token (another `call` claim) is no transfer.
        let media = key.mint(&MediaClaims {
            provider: "plivo".into(),
            call: "c1".into(),
            tenant: "demo".into(),
            to: "+254711000100".into(),
            from: None,
            provider_call: None,
            expires: 2_000,
        });
        assert!(transfer_target(&key, &media, 1_010).is_err());
        assert_eq!(
            dial_xml(&to),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Dial><Number>+254700123456</Number></Dial></Response>"
        );
    }
}
