//! Per-call media tokens: minted by the voice webhook (after the provider's
//! signature was checked), carried in the media websocket URL's path
//! (`/media/{provider}/{token}`), checked on the upgrade and again against
//! the stream's start message.
//!
//! A token is `v1.<claims>.<mac>`: the claims (provider, our call id,
//! tenant, dialled and calling numbers, the provider's call id when it has
//! one, expiry) as base64url JSON, and an HMAC-SHA256 of `v1.<claims>` with
//! the server's media key, base64url. The key is derived from
//! `RATIBA_FERNET_KEY` (or the data directory's dev key), so every node of a
//! deployment accepts the others' tokens. The claims, not the start
//! message, say who is calling: a stream whose start names another call,
//! tenant or number than its token is refused.
//!
//! Pure: the clock is an argument.

use base64::Engine as _;
use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{Provider, StreamStart};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// How long a minted token opens a media socket: the provider connects
/// within seconds of our answer.
pub const MEDIA_TOKEN_TTL_SECS: i64 = 120;

const VERSION: &str = "v1";

/// The server's key for media tokens.
#[derive(Clone)]
pub struct MediaTokenKey([u8; 32]);

impl std::fmt::Debug for MediaTokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MediaTokenKey(<redacted>)")
    }
}

impl MediaTokenKey {
    /// Derives the key from a deployment secret (the Fernet key), so all
    /// nodes share it without another setting.
    pub fn derive(secret: &[u8]) -> Self {
        let mut mac = HmacSha256::new_from_slice(secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"ratiba/media-token/v1");
        Self(mac.finalize().into_bytes().into())
    }

    /// A random key (one process; tests and tools).
    pub fn random() -> Self {
        let mut key = [0u8; 32];
        key[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        key[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        Self::derive(&key)
    }

    fn mac(&self, signed: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(signed.as_bytes());
        mac
    }

    /// The token for `claims`.
    pub fn mint(&self, claims: &MediaClaims) -> String {
        let json = serde_json::to_vec(claims).unwrap_or_default();
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
        let signed = format!("{VERSION}.{body}");
        let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(self.mac(&signed).finalize().into_bytes());
        format!("{signed}.{tag}")
    }

    /// The claims of a token this key minted for `provider`, if it has not
    /// expired at `now_unix`.
    pub fn verify(
        &self,
        token: &str,
        provider: Provider,
        now_unix: i64,
    ) -> Result<MediaClaims, MediaTokenError> {
        if token.len() > 2048 {
            return Err(MediaTokenError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(version), Some(body), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(MediaTokenError::Malformed);
        };
        if version != VERSION {
            return Err(MediaTokenError::Malformed);
        }
        let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(tag.as_bytes())
            .map_err(|_| MediaTokenError::Malformed)?;
        self.mac(&format!("{version}.{body}"))
            .verify_slice(&tag)
            .map_err(|_| MediaTokenError::BadMac)?;
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body.as_bytes())
            .map_err(|_| MediaTokenError::Malformed)?;
        let claims: MediaClaims =
            serde_json::from_slice(&json).map_err(|_| MediaTokenError::Malformed)?;
        if claims.provider != provider.as_str() {
            return Err(MediaTokenError::WrongProvider);
        }
        if claims.expires < now_unix {
            return Err(MediaTokenError::Expired);
        }
        Ok(claims)
    }
}

/// What a media token vouches for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaClaims {
    #[serde(rename = "p")]
    pub provider: String,
    /// Our call id (the `call` stream parameter).
    #[serde(rename = "c")]
    pub call: String,
    #[serde(rename = "t")]
    pub tenant: String,
    /// The dialled number, as the signed webhook gave it.
    pub to: String,
    /// The caller's number, as the signed webhook gave it.
    #[serde(rename = "fr", default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The provider's id of the call (CallSid, CallUUID…), when its stream
    /// start repeats it.
    #[serde(rename = "pc", default, skip_serializing_if = "Option::is_none")]
    pub provider_call: Option<String>,
    /// Unix seconds after which the token opens nothing.
    #[serde(rename = "x")]
    pub expires: i64,
}

/// Why a media socket was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MediaTokenError {
    #[error("media token missing")]
    Missing,
    #[error("media token malformed")]
    Malformed,
    #[error("media token not signed by this deployment")]
    BadMac,
    #[error("media token minted for another provider")]
    WrongProvider,
    #[error("media token expired")]
    Expired,
    #[error("media token already used")]
    Used,
    #[error("stream start does not match its media token ({0})")]
    Mismatch(&'static str),
}

impl MediaClaims {
    /// Checks the stream's start against the token: every call parameter
    /// the start names must be the token's. Numbers compare by their
    /// digits (providers spell them with or without `+`).
    pub fn check_start(
        &self,
        start: &StreamStart,
        provider: Provider,
    ) -> Result<(), MediaTokenError> {
        let param = |k: &str| start.parameters.get(k).map(String::as_str);
        if param("call").is_some_and(|c| c != self.call) {
            return Err(MediaTokenError::Mismatch("call"));
        }
        if param("tenant").is_some_and(|t| t != self.tenant) {
            return Err(MediaTokenError::Mismatch("tenant"));
        }
        let to = start.to.as_deref().or(param("to"));
        if to.is_some_and(|to| !same_number(to, &self.to)) {
            return Err(MediaTokenError::Mismatch("to"));
        }
        let from = start.from.as_deref().or(param("from"));
        if let (Some(from), Some(ours)) = (from, &self.from)
            && !same_number(from, ours)
        {
            return Err(MediaTokenError::Mismatch("from"));
        }
        if let (Some(theirs), Some(ours)) = (&start.provider_call_id, &self.provider_call)
            && provider_echoes_call_id(provider)
            && theirs != ours
        {
            return Err(MediaTokenError::Mismatch("provider call id"));
        }
        Ok(())
    }
}

/// Providers whose stream start carries the same call id as their webhook.
fn provider_echoes_call_id(provider: Provider) -> bool {
    match provider {
        Provider::Twilio | Provider::Plivo | Provider::Exotel | Provider::Vonage => true,
        // The TeXML webhook's CallSid and the stream's call_control_id are
        // different ids.
        Provider::Telnyx => false,
        // The page has no call id of its own.
        Provider::Browser => false,
    }
}

fn same_number(a: &str, b: &str) -> bool {
    let digits = |s: &str| -> String { s.chars().filter(char::is_ascii_digit).collect() };
    let (a, b) = (digits(a), digits(b));
    !a.is_empty() && a == b
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::adapters::telephony::AudioFormat;

    fn claims(call: &str) -> MediaClaims {
        MediaClaims {
            provider: "twilio".into(),
            call: call.into(),
            tenant: "demo".into(),
            to: "+254711000100".into(),
            from: Some("+254722000111".into()),
            provider_call: Some("CA1".into()),
            expires: 1_000,
        }
    }

    fn start(params: &[(&str, &str)]) -> StreamStart {
        StreamStart {
            stream_id: "MZ1".into(),
            provider_call_id: Some("CA1".into()),
            from: None,
            to: None,
            format: AudioFormat::MULAW_8K,
            parameters: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn minted_tokens_verify_until_they_expire() {
        let key = MediaTokenKey::derive(b"deployment secret");
        let token = key.mint(&claims("c1"));
        assert!(token.starts_with("v1."));
        assert!(
            token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
            "fits a URL path segment: {token}"
        );
        assert_eq!(key.verify(&token, Provider::Twilio, 999), Ok(claims("c1")));
        assert_eq!(
            key.verify(&token, Provider::Twilio, 1_001),
            Err(MediaTokenError::Expired)
        );
        assert_eq!(
            key.verify(&token, Provider::Telnyx, 999),
            Err(MediaTokenError::WrongProvider)
        );
        // Another node of the deployment derives the same key.
        let same = MediaTokenKey::derive(b"deployment secret");
        assert!(same.verify(&token, Provider::Twilio, 999).is_ok());
        let other = MediaTokenKey::derive(b"another deployment");
        assert_eq!(
            other.verify(&token, Provider::Twilio, 999),
            Err(MediaTokenError::BadMac)
        );
    }

    #[test]
    fn tampered_or_junk_tokens_are_refused() {
        let key = MediaTokenKey::random();
        let token = key.mint(&claims("c1"));
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged_claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&claims("c2")).unwrap());
        parts[1] = &forged_claims;
        assert_eq!(
            key.verify(&parts.join("."), Provider::Twilio, 0),
            Err(MediaTokenError::BadMac)
        );
        for junk in [
            "",
            "v1",
            "v1.a.b.c",
            "v2.a.b",
            "v1.!!.!!",
            &"v1.a.".repeat(600),
        ] {
            assert!(key.verify(junk, Provider::Twilio, 0).is_err(), "{junk}");
        }
    }

    #[test]
    fn the_start_must_name_the_tokens_call() {
        let c = claims("c1");
        let ok = start(&[
            ("call", "c1"),
            ("tenant", "demo"),
            ("to", "254711000100"),
            ("from", "+254722000111"),
        ]);
        assert_eq!(c.check_start(&ok, Provider::Twilio), Ok(()));
        assert_eq!(
            c.check_start(&start(&[]), Provider::Twilio),
            Ok(()),
            "nothing named, nothing contradicted"
        );
        let cases = [
            (start(&[("call", "c2")]), "call"),
            (start(&[("tenant", "other")]), "tenant"),
            (start(&[("to", "+254711000999")]), "to"),
            (start(&[("from", "+254700000001")]), "from"),
        ];
        for (s, what) in cases {
            assert_eq!(
                c.check_start(&s, Provider::Twilio),
                Err(MediaTokenError::Mismatch(what))
            );
        }
        let mut other_sid = start(&[]);
        other_sid.provider_call_id = Some("CA2".into());
        assert_eq!(
            c.check_start(&other_sid, Provider::Twilio),
            Err(MediaTokenError::Mismatch("provider call id"))
        );
        assert_eq!(c.check_start(&other_sid, Provider::Telnyx), Ok(()));
    }
}
