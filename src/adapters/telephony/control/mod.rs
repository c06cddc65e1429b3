//! Call control: what the bot asks a telephony provider to do with a live
//! call over its REST API — put the caller through to another number
//! (a person at the business) or hang up once the goodbye has been heard.
//!
//! One [`CallControl`] per provider, each speaking that provider's real
//! wire format (PROTOCOLS.md §1):
//!
//! | provider | transfer | hang up | auth |
//! |---|---|---|---|
//! | Twilio | `POST /2010-04-01/Accounts/{sid}/Calls/{CallSid}.json` `Twiml=<Response><Dial>…</Dial></Response>` | same, `Status=completed` | Basic sid:token |
//! | Telnyx | `POST /calls/{call_control_id}/actions/transfer` `{"to":…}` | `…/actions/hangup` | Bearer key |
//! | Plivo | `POST /v1/Account/{id}/Call/{uuid}/` `{"legs":"aleg","aleg_url":…}` (our signed XML `<Dial>`) | `DELETE` same | Basic id:token |
//! | Vonage | `PUT /v1/calls/{uuid}` `{"action":"transfer","destination":{"type":"ncco","ncco":[connect phone]}}` | `{"action":"hangup"}` | Bearer RS256 JWT |
//! | Exotel | no call-control API: the flow decides (see [`exotel`]) | the stream ends | — |
//!
//! Base URLs come from the settings (`*_API_URL`) so tests point them at a
//! loopback fake. A provider without credentials has no control here: its
//! callers are promised a call back and its calls end by closing the media
//! socket, as before.

pub mod exotel;
pub mod plivo;
pub mod telnyx;
pub mod twilio;
pub mod vonage;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use thiserror::Error;

use super::Provider;
use super::media_token::MediaTokenKey;
use crate::config::TelephonySettings;
use crate::core::ids::PhoneNumber;

/// How long a control request may take: the caller is waiting on the line.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The live call a request is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveCall {
    /// The provider's id of the call: Twilio CallSid, Telnyx
    /// call_control_id, Plivo CallUUID, Vonage uuid, Exotel CallSid.
    pub id: String,
    /// The number the caller dialled (the tenant's, on this provider).
    pub dialled: Option<PhoneNumber>,
}

impl LiveCall {
    /// The id, if it is safe to put in a URL path as it is (every
    /// provider's ids are letters, digits, `-`, `_`, `.` and `:`).
    fn path_id(&self, provider: Provider) -> Result<&str, ControlError> {
        let ok = !self.id.is_empty()
            && self.id.len() <= 200
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
        if ok {
            Ok(&self.id)
        } else {
            Err(ControlError::BadCallId { provider })
        }
    }
}

/// Why a control request failed. `Unreachable` is the network's or the
/// provider's; `Refused` with a 4xx status is usually ours (credentials,
/// settings) or a call that has already ended; `BadCallId` is the media
/// stream's (it named the call with something that is not an id).
#[derive(Debug, Error)]
pub enum ControlError {
    #[error("{provider} gave this call no usable id")]
    BadCallId { provider: Provider },
    #[error("{provider} call control unreachable: {detail}")]
    Unreachable { provider: Provider, detail: String },
    #[error("{provider} refused the call control request (http {status}): {detail}")]
    Refused {
        provider: Provider,
        status: u16,
        detail: String,
    },
    #[error("{provider} cannot put calls through in this deployment")]
    CannotTransfer { provider: Provider },
    #[error("{provider} call control is misconfigured: {detail}")]
    Misconfigured { provider: Provider, detail: String },
}

impl ControlError {
    /// The error's name, for records (no provider text, no numbers).
    pub fn kind(&self) -> &'static str {
        match self {
            ControlError::BadCallId { .. } => "bad_call_id",
            ControlError::Unreachable { .. } => "unreachable",
            ControlError::Refused { .. } => "refused",
            ControlError::CannotTransfer { .. } => "cannot_transfer",
            ControlError::Misconfigured { .. } => "misconfigured",
        }
    }
}

/// One provider's call control.
pub trait CallControl: Send + Sync {
    fn provider(&self) -> Provider;
    /// Whether [`CallControl::transfer`] can put a call through here.
    fn can_transfer(&self) -> bool;
    /// Connects the caller to `to`; the bot's stream ends with it.
    fn transfer<'a>(
        &'a self,
        call: &'a LiveCall,
        to: &'a PhoneNumber,
    ) -> BoxFuture<'a, Result<(), ControlError>>;
    /// Ends the call.
    fn hang_up<'a>(&'a self, call: &'a LiveCall) -> BoxFuture<'a, Result<(), ControlError>>;
}

/// Sends one request; any 2xx is success.
pub(crate) async fn send(
    provider: Provider,
    request: reqwest::RequestBuilder,
) -> Result<(), ControlError> {
    let response =
        request
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(|e| ControlError::Unreachable {
                provider,
                detail: e.to_string(),
            })?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let body = response.text().await.unwrap_or_default();
    Err(ControlError::Refused {
        provider,
        status: status.as_u16(),
        detail: body.chars().take(300).collect(),
    })
}

/// The controls a deployment has, by provider.
#[derive(Clone, Default)]
pub struct CallControls {
    by_provider: BTreeMap<Provider, Arc<dyn CallControl>>,
    exotel_flow: Arc<exotel::ExotelFlow>,
}

impl std::fmt::Debug for CallControls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallControls")
            .field("providers", &self.by_provider.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl CallControls {
    /// Every provider whose credentials are set. `public_base_url` is how
    /// providers reach us (Plivo fetches its transfer XML there); `key`
    /// signs those URLs.
    pub fn from_settings(
        settings: &TelephonySettings,
        public_base_url: &str,
        key: MediaTokenKey,
    ) -> Self {
        let c = &settings.control;
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(3))
            .build()
            .unwrap_or_default();
        let mut controls = Self::default();
        if let (Some(sid), Some(auth)) = (&c.twilio_account_sid, &settings.twilio_auth_token) {
            controls.insert(Arc::new(twilio::TwilioControl::new(
                http.clone(),
                c.twilio_api_url.as_str(),
                sid,
                auth.clone(),
            )));
        }
        if let Some(key) = &c.telnyx_api_key {
            controls.insert(Arc::new(telnyx::TelnyxControl::new(
                http.clone(),
                c.telnyx_api_url.as_str(),
                key.clone(),
            )));
        }
        if let (Some(id), Some(auth)) = (&c.plivo_auth_id, &settings.plivo_auth_token) {
            controls.insert(Arc::new(plivo::PlivoControl::new(
                http.clone(),
                c.plivo_api_url.as_str(),
                id,
                auth.clone(),
                public_base_url,
                key,
            )));
        }
        if let (Some(app), Some(pem)) = (&c.vonage_application_id, &c.vonage_private_key) {
            match vonage::VonageKey::parse(pem.expose()) {
                Ok(signing) => controls.insert(Arc::new(vonage::VonageControl::new(
                    http.clone(),
                    c.vonage_api_url.as_str(),
                    app,
                    signing,
                ))),
                // The settings checked it; a key that stops parsing is
                // left out rather than failing calls.
                Err(e) => {
                    tracing::warn!(error = %e, "Vonage private key unusable; no call control")
                }
            }
        }
        let flow = Arc::clone(&controls.exotel_flow);
        controls.insert(Arc::new(exotel::ExotelControl::new(
            flow,
            c.exotel_transfer_flow,
        )));
        controls
    }

    /// Adds (or replaces) a provider's control.
    pub fn insert(&mut self, control: Arc<dyn CallControl>) {
        self.by_provider.insert(control.provider(), control);
    }

    /// The control of `provider`, if this deployment has one.
    pub fn get(&self, provider: Provider) -> Option<Arc<dyn CallControl>> {
        self.by_provider.get(&provider).cloned()
    }

    /// What Exotel calls were ended for (read by the flow's Passthru).
    pub fn exotel_flow(&self) -> &Arc<exotel::ExotelFlow> {
        &self.exotel_flow
    }
}
