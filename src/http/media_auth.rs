//! Who may start a call: the providers' webhook signatures and the per-call
//! media tokens (see `adapters::telephony::{signature, media_token}`).
//!
//! - With a provider's secret configured, its webhook must be signed:
//!   missing -> 401, wrong or stale -> 403, and nothing is started.
//!   Without one (development), webhooks are accepted as before and a
//!   WARN is logged once per provider; production refuses to start without
//!   the secrets of the enabled providers (`config.rs`).
//! - Every webhook that answers with stream instructions mints a media
//!   token bound to that call, put in the media URL's path. The media
//!   socket refuses an upgrade without a valid, unexpired token for its
//!   provider, and closes a stream whose start names another call, tenant or
//!   number than its token, or whose token was already used on this node.
//!   The caller's number the call uses (e.g. for an M-Pesa prompt) is the
//!   token's, i.e. the signed webhook's, never the start message's.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tracing::warn;

use crate::adapters::telephony::Provider;
use crate::adapters::telephony::media_token::{
    MEDIA_TOKEN_TTL_SECS, MediaClaims, MediaTokenError, MediaTokenKey,
};
use crate::adapters::telephony::signature::{SignatureError, TelnyxKey};

/// Signature secrets, the media-token key and the tokens used on this node.
pub struct TelephonyAuth {
    media_key: MediaTokenKey,
    pub telnyx_key: Option<TelnyxKey>,
    pub plivo_auth_token: Option<String>,
    pub vonage_signature_secret: Option<String>,
    /// Providers whose webhooks and media sockets are served.
    pub enabled: Vec<Provider>,
    warned_unsigned: [AtomicBool; Provider::ALL.len()],
    /// Tokens already used to start a stream (our call id -> expiry).
    used: Mutex<HashMap<String, i64>>,
}

impl std::fmt::Debug for TelephonyAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelephonyAuth")
            .field("telnyx", &self.telnyx_key.is_some())
            .field("plivo", &self.plivo_auth_token.is_some())
            .field("vonage", &self.vonage_signature_secret.is_some())
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl TelephonyAuth {
    /// Every provider served, no signature secrets (development, tests).
    pub fn new(media_key: MediaTokenKey) -> Self {
        Self {
            media_key,
            telnyx_key: None,
            plivo_auth_token: None,
            vonage_signature_secret: None,
            enabled: Provider::ALL.to_vec(),
            warned_unsigned: Default::default(),
            used: Mutex::new(HashMap::new()),
        }
    }

    /// From validated settings. The media key derives from the Fernet key
    /// (shared by every node); without one, a per-process key.
    pub fn from_settings(settings: &crate::config::Settings) -> Self {
        let media_key = match &settings.core.fernet_key {
            Some(k) => MediaTokenKey::derive(k.expose().trim().as_bytes()),
            None => {
                warn!("no RATIBA_FERNET_KEY: media tokens use a per-process key (one node only)");
                MediaTokenKey::random()
            }
        };
        let t = &settings.telephony;
        let mut auth = Self::new(media_key);
        auth.telnyx_key = t
            .telnyx_public_key
            .as_ref()
            .and_then(|k| TelnyxKey::parse(k.expose()).ok());
        auth.plivo_auth_token = t.plivo_auth_token.as_ref().map(|s| s.expose().to_owned());
        auth.vonage_signature_secret = t
            .vonage_signature_secret
            .as_ref()
            .map(|s| s.expose().to_owned());
        auth.enabled = t.providers.clone();
        auth
    }

    /// The key media (and Plivo transfer) tokens are signed with.
    pub fn media_key(&self) -> &MediaTokenKey {
        &self.media_key
    }

    pub fn serves(&self, provider: Provider) -> bool {
        self.enabled.contains(&provider)
    }

    /// Logs, once per provider and process, that its webhooks are taken
    /// unsigned.
    pub fn warn_unsigned_once(&self, provider: Provider) {
        let i = Provider::ALL
            .iter()
            .position(|p| *p == provider)
            .unwrap_or(0);
        if !self.warned_unsigned[i].swap(true, Ordering::Relaxed) {
            warn!(provider = %provider, "no signing secret configured: this provider's webhooks are accepted unsigned (development only)");
        }
    }

    /// A token for one call's media socket.
    pub fn mint(&self, claims: MediaClaimsInput<'_>, now_unix: i64) -> String {
        self.media_key.mint(&MediaClaims {
            provider: claims.provider.as_str().to_owned(),
            call: claims.call.to_owned(),
            tenant: claims.tenant.to_owned(),
            to: claims.to.to_owned(),
            from: claims.from.filter(|f| !f.is_empty()).map(str::to_owned),
            provider_call: claims
                .provider_call
                .filter(|c| !c.is_empty())
                .map(str::to_owned),
            expires: now_unix + MEDIA_TOKEN_TTL_SECS,
        })
    }

    /// The claims of a media URL's token.
    pub fn verify(
        &self,
        token: Option<&str>,
        provider: Provider,
        now_unix: i64,
    ) -> Result<MediaClaims, MediaTokenError> {
        let token = token.ok_or(MediaTokenError::Missing)?;
        self.media_key.verify(token, provider, now_unix)
    }

    /// Marks a token used (its stream started); a second start with it is
    /// refused.
    pub fn consume(&self, claims: &MediaClaims, now_unix: i64) -> Result<(), MediaTokenError> {
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        if used.len() > 4096 {
            used.retain(|_, exp| *exp >= now_unix);
        }
        if used.contains_key(&claims.call) {
            return Err(MediaTokenError::Used);
        }
        used.insert(claims.call.clone(), claims.expires);
        Ok(())
    }
}

/// What a webhook knows when it mints a token.
#[derive(Debug, Clone, Copy)]
pub struct MediaClaimsInput<'a> {
    pub provider: Provider,
    pub call: &'a str,
    pub tenant: &'a str,
    pub to: &'a str,
    pub from: Option<&'a str>,
    pub provider_call: Option<&'a str>,
}

/// The answer to a request whose signature failed: 401 when it carried
/// none, 403 when it carried a wrong or stale one.
pub fn refuse_signature(provider: Provider, what: &str, err: &SignatureError) -> Response {
    warn!(provider = %provider, what, error = %err, "signature check failed; refused");
    let status = match err {
        SignatureError::Missing(_) => StatusCode::UNAUTHORIZED,
        SignatureError::Malformed(_)
        | SignatureError::Mismatch
        | SignatureError::Stale { .. }
        | SignatureError::Expired
        | SignatureError::PayloadMismatch => StatusCode::FORBIDDEN,
    };
    (status, format!("{provider} {what} refused: {err}\n")).into_response()
}

/// The answer to a media upgrade whose token failed.
pub fn refuse_token(provider: Provider, err: &MediaTokenError) -> Response {
    warn!(provider = %provider, error = %err, "media socket refused");
    let status = match err {
        MediaTokenError::Missing => StatusCode::UNAUTHORIZED,
        MediaTokenError::Malformed
        | MediaTokenError::BadMac
        | MediaTokenError::WrongProvider
        | MediaTokenError::Expired
        | MediaTokenError::Used
        | MediaTokenError::Mismatch(_) => StatusCode::FORBIDDEN,
    };
    (status, format!("{provider} media socket refused: {err}\n")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_starts_one_stream() {
        let auth = TelephonyAuth::new(MediaTokenKey::random());
        let token = auth.mint(
            MediaClaimsInput {
                provider: Provider::Exotel,
                call: "c1",
                tenant: "demo",
                to: "+254711000100",
                from: Some(""),
                provider_call: None,
            },
            100,
        );
        let claims = auth.verify(Some(&token), Provider::Exotel, 101).unwrap();
        assert_eq!(claims.from, None, "an empty caller is no caller");
        assert_eq!(auth.consume(&claims, 101), Ok(()));
        assert_eq!(auth.consume(&claims, 102), Err(MediaTokenError::Used));
        assert_eq!(
            auth.verify(None, Provider::Exotel, 101),
            Err(MediaTokenError::Missing)
        );
        assert_eq!(
            refuse_token(Provider::Exotel, &MediaTokenError::Missing).status(),
            401
        );
        assert_eq!(
            refuse_signature(Provider::Plivo, "webhook", &SignatureError::Mismatch).status(),
            403
        );
    }
}
