//! Webhook signatures of Telnyx, Plivo and Vonage (Twilio's is in
//! [`super::twilio`]). Pure functions: the clock is an argument, keys are
//! parsed once at start-up, and every comparison is constant-time.
//!
//! - **Telnyx**: Ed25519 over `{telnyx-timestamp}|{raw body}`, signature in
//!   `telnyx-signature-ed25519` (base64), public key from the portal (base64
//!   of the 32-byte key). A timestamp more than [`TIMESTAMP_TOLERANCE_SECS`]
//!   away from now is refused (a replayed old request).
//! - **Plivo** (V3): `base64(HMAC-SHA256(auth_token, url' + "." + nonce))` in
//!   `X-Plivo-Signature-V3`, nonce in `X-Plivo-Signature-V3-Nonce`, where
//!   `url'` is built as plivo-python's `validate_v3_signature` does: for a
//!   GET the URL without query plus `?k=v&…` of the query parameters, sorted;
//!   for a POST the URL without query, `?` and the sorted query (if any),
//!   `.` when both exist, then the POST parameters sorted as `kv…`. The
//!   header may carry several comma-separated signatures (one per active
//!   auth token): any one matching is enough.
//! - **Vonage**: a JWT in `Authorization: Bearer`, HS256 with the signature
//!   secret; its `payload_hash` claim is the SHA-256 hex of the request
//!   payload (the raw body of a POST; for a GET the query parameters as a
//!   compact JSON object in their order). `iat` must be within the tolerance
//!   of now and `exp`, when present, not passed.

use base64::Engine as _;
use hmac::{KeyInit, Mac};
use serde::Deserialize;
use sha2::Digest as _;
use thiserror::Error;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// How far a signed timestamp may be from our clock (either way).
pub const TIMESTAMP_TOLERANCE_SECS: i64 = 300;

/// Why a signed request was refused. The sender's fault in every case; the
/// message names what was wrong, never a secret.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignatureError {
    #[error("signature header {0} missing")]
    Missing(&'static str),
    #[error("signature header {0} malformed")]
    Malformed(&'static str),
    #[error("signature does not match the request")]
    Mismatch,
    #[error("signed timestamp {age_secs} s away from now (tolerance {TIMESTAMP_TOLERANCE_SECS} s)")]
    Stale { age_secs: i64 },
    #[error("signed token expired")]
    Expired,
    #[error("payload_hash does not match the request payload")]
    PayloadMismatch,
}

// ---------------------------------------------------------------- Telnyx

/// A Telnyx webhook public key, parsed.
#[derive(Clone)]
pub struct TelnyxKey(ed25519_dalek::VerifyingKey);

impl std::fmt::Debug for TelnyxKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TelnyxKey(..)")
    }
}

/// The DER prefix of an Ed25519 SubjectPublicKeyInfo (a PEM body), before
/// the 32 key bytes.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

impl TelnyxKey {
    /// Base64 of the 32-byte key as the Telnyx portal shows it; a PEM or
    /// base64 SubjectPublicKeyInfo is accepted too.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let body: String = raw
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>()
            .split_whitespace()
            .collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|_| "not base64".to_owned())?;
        let key: [u8; 32] = match bytes.len() {
            32 => bytes.try_into().map_err(|_| "not 32 bytes".to_owned())?,
            44 if bytes[..12] == ED25519_SPKI_PREFIX => bytes[12..]
                .try_into()
                .map_err(|_| "not 32 bytes".to_owned())?,
            n => return Err(format!("{n} bytes, not a 32-byte Ed25519 key")),
        };
        ed25519_dalek::VerifyingKey::from_bytes(&key)
            .map(Self)
            .map_err(|_| "not a valid Ed25519 public key".to_owned())
    }
}

/// Checks a Telnyx request: `signature` and `timestamp` are the
/// `telnyx-signature-ed25519` and `telnyx-timestamp` headers, `body` the raw
/// body, `now_unix` our clock.
pub fn verify_telnyx(
    key: &TelnyxKey,
    signature: Option<&str>,
    timestamp: Option<&str>,
    body: &[u8],
    now_unix: i64,
) -> Result<(), SignatureError> {
    const SIG: &str = "telnyx-signature-ed25519";
    const TS: &str = "telnyx-timestamp";
    let signature = signature.ok_or(SignatureError::Missing(SIG))?;
    let timestamp = timestamp.ok_or(SignatureError::Missing(TS))?.trim();
    let sig_bytes = base64::engine::general_purpose::STANDARD
        .decode(signature.trim().as_bytes())
        .map_err(|_| SignatureError::Malformed(SIG))?;
    let sig = ed25519_dalek::Signature::from_slice(&sig_bytes)
        .map_err(|_| SignatureError::Malformed(SIG))?;
    let ts: i64 = timestamp
        .parse()
        .map_err(|_| SignatureError::Malformed(TS))?;
    let mut signed = Vec::with_capacity(timestamp.len() + 1 + body.len());
    signed.extend_from_slice(timestamp.as_bytes());
    signed.push(b'|');
    signed.extend_from_slice(body);
    key.0
        .verify_strict(&signed, &sig)
        .map_err(|_| SignatureError::Mismatch)?;
    // Checked after the signature, so the timestamp is known to be Telnyx's.
    let age = now_unix.saturating_sub(ts);
    if age.abs() > TIMESTAMP_TOLERANCE_SECS {
        return Err(SignatureError::Stale { age_secs: age });
    }
    Ok(())
}

// ---------------------------------------------------------------- Plivo

/// Plivo's V3 signature of a request (what `X-Plivo-Signature-V3` carries
/// for one auth token). `post_params` are the form parameters of a POST
/// (ignored for a GET, whose parameters are in the URL).
pub fn plivo_v3_signature(
    auth_token: &str,
    method: &str,
    url: &str,
    post_params: &[(String, String)],
    nonce: &str,
) -> String {
    let mac = plivo_mac(auth_token, method, url, post_params, nonce);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn plivo_mac(
    auth_token: &str,
    method: &str,
    url: &str,
    post_params: &[(String, String)],
    nonce: &str,
) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(auth_token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(plivo_base_url(method, url, post_params).as_bytes());
    mac.update(b".");
    mac.update(nonce.as_bytes());
    mac
}

/// The string Plivo signs before `.nonce`.
fn plivo_base_url(method: &str, url: &str, post_params: &[(String, String)]) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, q),
        None => (url, ""),
    };
    let base = base.split('#').next().unwrap_or(base);
    let query: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let sorted_query = sorted_pairs(&query)
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut out = base.to_owned();
    if method.eq_ignore_ascii_case("GET") || post_params.is_empty() {
        if !sorted_query.is_empty() {
            out.push('?');
            out.push_str(&sorted_query);
        }
        return out;
    }
    out.push('?');
    out.push_str(&sorted_query);
    if !sorted_query.is_empty() {
        out.push('.');
    }
    for (k, v) in sorted_pairs(post_params) {
        out.push_str(k);
        out.push_str(v);
    }
    out
}

/// Pairs sorted by key, then value (plivo-python sorts a repeated key's
/// values).
fn sorted_pairs(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    let mut v: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    v.sort_unstable();
    v
}

/// Checks `X-Plivo-Signature-V3` (`header`, possibly several signatures
/// separated by commas) with its nonce.
pub fn verify_plivo_v3(
    auth_token: &str,
    method: &str,
    url: &str,
    post_params: &[(String, String)],
    nonce: Option<&str>,
    header: Option<&str>,
) -> Result<(), SignatureError> {
    const SIG: &str = "X-Plivo-Signature-V3";
    let header = header.ok_or(SignatureError::Missing(SIG))?;
    let nonce = nonce.ok_or(SignatureError::Missing("X-Plivo-Signature-V3-Nonce"))?;
    let mut any_decoded = false;
    for candidate in header.split(',') {
        let Ok(claimed) =
            base64::engine::general_purpose::STANDARD.decode(candidate.trim().as_bytes())
        else {
            continue;
        };
        any_decoded = true;
        let mac = plivo_mac(auth_token, method, url, post_params, nonce);
        if mac.verify_slice(&claimed).is_ok() {
            return Ok(());
        }
    }
    Err(if any_decoded {
        SignatureError::Mismatch
    } else {
        SignatureError::Malformed(SIG)
    })
}

// ---------------------------------------------------------------- Vonage

/// The request payload a Vonage `payload_hash` covers.
#[derive(Debug, Clone, Copy)]
pub enum VonagePayload<'a> {
    /// A POST: the raw body.
    Body(&'a [u8]),
    /// A GET: its query parameters, in their order.
    Query(&'a [(String, String)]),
}

impl VonagePayload<'_> {
    /// The bytes whose SHA-256 is the `payload_hash`.
    fn bytes(&self) -> Vec<u8> {
        match self {
            VonagePayload::Body(b) => b.to_vec(),
            VonagePayload::Query(pairs) => {
                let mut out = String::from("{");
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::from(k.as_str()).to_string());
                    out.push(':');
                    out.push_str(&serde_json::Value::from(v.as_str()).to_string());
                }
                out.push('}');
                out.into_bytes()
            }
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            VonagePayload::Body(b) => b.is_empty(),
            VonagePayload::Query(p) => p.is_empty(),
        }
    }
}

/// The claims of a Vonage signed-webhook JWT that we check or log.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VonageClaims {
    #[serde(default)]
    pub iat: Option<i64>,
    #[serde(default)]
    pub exp: Option<i64>,
    #[serde(default)]
    pub payload_hash: Option<String>,
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default)]
    pub application_id: Option<String>,
    #[serde(default)]
    pub jti: Option<String>,
}

#[derive(Deserialize)]
struct JwtHeader {
    alg: String,
}

/// Checks a Vonage signed webhook: `authorization` is the `Authorization`
/// header (`Bearer <jwt>`).
pub fn verify_vonage(
    signature_secret: &str,
    authorization: Option<&str>,
    payload: VonagePayload<'_>,
    now_unix: i64,
) -> Result<VonageClaims, SignatureError> {
    const AUTH: &str = "Authorization";
    let auth = authorization.ok_or(SignatureError::Missing(AUTH))?.trim();
    let token = auth
        .strip_prefix("Bearer ")
        .or_else(|| auth.strip_prefix("bearer "))
        .ok_or(SignatureError::Malformed(AUTH))?
        .trim();
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SignatureError::Malformed(AUTH));
    };
    let b64 = |part: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('=').as_bytes())
            .map_err(|_| SignatureError::Malformed(AUTH))
    };
    let header: JwtHeader =
        serde_json::from_slice(&b64(h)?).map_err(|_| SignatureError::Malformed(AUTH))?;
    if header.alg != "HS256" {
        return Err(SignatureError::Malformed(AUTH));
    }
    let claimed = b64(s)?;
    let mut mac = HmacSha256::new_from_slice(signature_secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(h.as_bytes());
    mac.update(b".");
    mac.update(p.as_bytes());
    mac.verify_slice(&claimed)
        .map_err(|_| SignatureError::Mismatch)?;
    let claims: VonageClaims =
        serde_json::from_slice(&b64(p)?).map_err(|_| SignatureError::Malformed(AUTH))?;
    let iat = claims.iat.ok_or(SignatureError::Malformed(AUTH))?;
    let age = now_unix.saturating_sub(iat);
    if age.abs() > TIMESTAMP_TOLERANCE_SECS {
        return Err(SignatureError::Stale { age_secs: age });
    }
    if claims.exp.is_some_and(|exp| exp < now_unix) {
        return Err(SignatureError::Expired);
    }
    match &claims.payload_hash {
        Some(hash) => {
            let ours = hex::encode(sha2::Sha256::digest(payload.bytes()));
            if !constant_time_eq(hash.trim().to_ascii_lowercase().as_bytes(), ours.as_bytes()) {
                return Err(SignatureError::PayloadMismatch);
            }
        }
        // A signed token without a payload hash cannot vouch for a body.
        None if !payload.is_empty() => return Err(SignatureError::PayloadMismatch),
        None => {}
    }
    Ok(claims)
}

/// A Vonage-style signed-webhook token (what Vonage sends; for tests and
/// the call simulator).
pub fn sign_vonage(signature_secret: &str, payload: VonagePayload<'_>, iat: i64) -> String {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let header = b64(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = serde_json::json!({
        "iat": iat,
        "jti": uuid::Uuid::new_v4().to_string(),
        "iss": "Vonage",
        "payload_hash": hex::encode(sha2::Sha256::digest(payload.bytes())),
    });
    let body = b64(claims.to_string().as_bytes());
    let mut mac = HmacSha256::new_from_slice(signature_secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(header.as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let sig = b64(&mac.finalize().into_bytes());
    format!("{header}.{body}.{sig}")
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(raw: &[(&str, &str)]) -> Vec<(String, String)> {
        raw.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    // ------------------------------------------------------------ Telnyx

    /// RFC 8032 section 7.1, test 1: the empty message under this key.
    #[test]
    fn ed25519_rfc8032_vector_verifies() {
        let pk = hex::decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
            .unwrap();
        let sig = hex::decode(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        )
        .unwrap();
        let key = ed25519_dalek::VerifyingKey::from_bytes(&pk.try_into().unwrap()).unwrap();
        let sig = ed25519_dalek::Signature::from_slice(&sig).unwrap();
        assert!(key.verify_strict(b"", &sig).is_ok());
        assert!(key.verify_strict(b"x", &sig).is_err());
    }

    fn telnyx_pair() -> (ed25519_dalek::SigningKey, TelnyxKey) {
        let signing = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let public =
            base64::engine::general_purpose::STANDARD.encode(signing.verifying_key().as_bytes());
        (signing, TelnyxKey::parse(&public).unwrap())
    }

    fn telnyx_sign(key: &ed25519_dalek::SigningKey, ts: i64, body: &[u8]) -> String {
        use ed25519_dalek::Signer as _;
        let mut msg = format!("{ts}|").into_bytes();
        msg.extend_from_slice(body);
        base64::engine::general_purpose::STANDARD.encode(key.sign(&msg).to_bytes())
    }

    #[test]
    fn telnyx_signed_request_is_accepted_and_tampering_refused() {
        let (signing, key) = telnyx_pair();
        let body = b"To=%2B254711000100&From=%2B254722000111";
        let now = 1_750_000_000;
        let sig = telnyx_sign(&signing, now - 10, body);
        let ts = (now - 10).to_string();
        assert_eq!(
            verify_telnyx(&key, Some(&sig), Some(&ts), body, now),
            Ok(())
        );
        assert_eq!(
            verify_telnyx(
                &key,
                Some(&sig),
                Some(&ts),
                b"To=%2B254711000100&From=%2B1",
                now
            ),
            Err(SignatureError::Mismatch)
        );
        let other_ts = (now - 9).to_string();
        assert_eq!(
            verify_telnyx(&key, Some(&sig), Some(&other_ts), body, now),
            Err(SignatureError::Mismatch),
            "the timestamp is signed too"
        );
        assert_eq!(
            verify_telnyx(&key, None, Some(&ts), body, now),
            Err(SignatureError::Missing("telnyx-signature-ed25519"))
        );
        assert_eq!(
            verify_telnyx(&key, Some(&sig), None, body, now),
            Err(SignatureError::Missing("telnyx-timestamp"))
        );
        assert_eq!(
            verify_telnyx(&key, Some("!!"), Some(&ts), body, now),
            Err(SignatureError::Malformed("telnyx-signature-ed25519"))
        );
    }

    #[test]
    fn telnyx_replayed_old_timestamp_is_refused() {
        let (signing, key) = telnyx_pair();
        let now = 1_750_000_000;
        let old = now - TIMESTAMP_TOLERANCE_SECS - 1;
        let sig = telnyx_sign(&signing, old, b"{}");
        assert_eq!(
            verify_telnyx(&key, Some(&sig), Some(&old.to_string()), b"{}", now),
            Err(SignatureError::Stale {
                age_secs: TIMESTAMP_TOLERANCE_SECS + 1
            })
        );
        let future = now + TIMESTAMP_TOLERANCE_SECS + 60;
        let sig = telnyx_sign(&signing, future, b"{}");
        assert!(matches!(
            verify_telnyx(&key, Some(&sig), Some(&future.to_string()), b"{}", now),
            Err(SignatureError::Stale { .. })
        ));
    }

    #[test]
    fn telnyx_keys_parse_raw_or_spki_and_refuse_junk() {
        let (signing, _) = telnyx_pair();
        let raw = signing.verifying_key().to_bytes();
        let mut spki = ED25519_SPKI_PREFIX.to_vec();
        spki.extend_from_slice(&raw);
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(&spki)
        );
        assert!(TelnyxKey::parse(&pem).is_ok());
        assert!(TelnyxKey::parse("not base64!").is_err());
        assert!(TelnyxKey::parse("AAAA").is_err());
    }

    // ------------------------------------------------------------ Plivo

    /// Plivo publishes no V3 vector for its current algorithm (plivo-go's
    /// old fixture signs `…/?…&` from a since-fixed URL builder). These were
    /// computed with Python's `hmac` over the strings plivo-python's
    /// `construct_get_url` / `construct_post_url` build for the same inputs.
    #[test]
    fn plivo_v3_matches_plivo_python_construction() {
        let params = pairs(&[
            ("CallUUID", "97ceeb52-58b6-11e1-86da-77300b68f8bb"),
            ("Duration", "300"),
        ]);
        // A GET: the parameters are in the URL, sorted when signed.
        let url = "https://answer.url?Duration=300&CallUUID=97ceeb52-58b6-11e1-86da-77300b68f8bb";
        let want = "MX+6eaJNdwpXJUAzjKuuuzLZkpa2CFRmA08aag1PeE4=";
        assert_eq!(
            plivo_v3_signature("my_auth_token", "GET", url, &[], "12345"),
            want
        );
        assert_eq!(
            verify_plivo_v3(
                "my_auth_token",
                "GET",
                url,
                &params,
                Some("12345"),
                Some(want)
            ),
            Ok(()),
            "GET ignores body parameters"
        );
        assert_eq!(
            verify_plivo_v3(
                "my_auth_token",
                "GET",
                url,
                &[],
                Some("12345"),
                Some("Bs0/VK/5eQPjmbjukCY7/HhjAOkiVhOiJsCGYwSGzVY=")
            ),
            Err(SignatureError::Mismatch)
        );
        // POSTs, with and without a query string.
        assert_eq!(
            plivo_v3_signature(
                "my_auth_token",
                "POST",
                "https://answer.url/voice?b=2&a=1",
                &params,
                "12345"
            ),
            "eIDNxhiSk2RkA8QSwbV0gNwkEQK+A75WIkNUI0daviY="
        );
        assert_eq!(
            plivo_v3_signature(
                "my_auth_token",
                "POST",
                "https://answer.url/voice",
                &params,
                "12345"
            ),
            "Bs0/VK/5eQPjmbjukCY7/HhjAOkiVhOiJsCGYwSGzVY="
        );
    }

    #[test]
    fn plivo_v3_post_signs_sorted_params_and_accepts_any_of_several() {
        let params = pairs(&[
            ("To", "+254711000100"),
            ("From", "+254722000111"),
            ("CallUUID", "u1"),
        ]);
        let url = "https://h.example/voice/plivo";
        assert_eq!(
            plivo_base_url("POST", url, &params),
            "https://h.example/voice/plivo?CallUUIDu1From+254722000111To+254711000100"
        );
        assert_eq!(
            plivo_base_url("POST", "https://h.example/v?b=2&a=1", &params),
            "https://h.example/v?a=1&b=2.CallUUIDu1From+254722000111To+254711000100"
        );
        assert_eq!(
            plivo_base_url("POST", "https://h.example/v?b=2", &[]),
            "https://h.example/v?b=2"
        );
        let sig = plivo_v3_signature("tok", "POST", url, &params, "n1");
        let header = format!("bm90LWl0,{sig}");
        assert_eq!(
            verify_plivo_v3("tok", "POST", url, &params, Some("n1"), Some(&header)),
            Ok(())
        );
        assert_eq!(
            verify_plivo_v3("tok", "POST", url, &params, Some("n2"), Some(&sig)),
            Err(SignatureError::Mismatch),
            "the nonce is signed"
        );
        let mut forged = params.clone();
        forged[1].1 = "+254700000001".into();
        assert_eq!(
            verify_plivo_v3("tok", "POST", url, &forged, Some("n1"), Some(&sig)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_plivo_v3("tok", "POST", url, &params, Some("n1"), None),
            Err(SignatureError::Missing("X-Plivo-Signature-V3"))
        );
        assert_eq!(
            verify_plivo_v3("tok", "POST", url, &params, None, Some(&sig)),
            Err(SignatureError::Missing("X-Plivo-Signature-V3-Nonce"))
        );
    }

    // ------------------------------------------------------------ Vonage

    /// The HS256 example token of RFC 7515 appendix A.1 verifies with our
    /// HMAC (the JOSE encoding, not a Vonage claim set).
    #[test]
    fn hs256_matches_rfc7515_example() {
        let key = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
            .unwrap();
        let signing_input = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
        let mut mac = HmacSha256::new_from_slice(&key).unwrap();
        mac.update(signing_input.as_bytes());
        let sig =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        assert_eq!(sig, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    }

    #[test]
    fn vonage_signed_post_is_accepted_and_forgeries_refused() {
        let body = br#"{"to":"254711000100","from":"254722000111","uuid":"u1"}"#;
        let now = 1_750_000_000;
        let jwt = sign_vonage("sekrit", VonagePayload::Body(body), now - 5);
        let auth = format!("Bearer {jwt}");
        let claims = verify_vonage("sekrit", Some(&auth), VonagePayload::Body(body), now).unwrap();
        assert_eq!(claims.iat, Some(now - 5));
        assert_eq!(
            verify_vonage("other", Some(&auth), VonagePayload::Body(body), now),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_vonage(
                "sekrit",
                Some(&auth),
                VonagePayload::Body(br#"{"to":"254711000100","from":"1"}"#),
                now
            ),
            Err(SignatureError::PayloadMismatch)
        );
        assert!(matches!(
            verify_vonage("sekrit", Some(&auth), VonagePayload::Body(body), now + 3600),
            Err(SignatureError::Stale { .. })
        ));
        assert_eq!(
            verify_vonage("sekrit", None, VonagePayload::Body(body), now),
            Err(SignatureError::Missing("Authorization"))
        );
        // A token whose algorithm says "none" is refused outright.
        let none = format!(
            "Bearer {}.{}.",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            jwt.split('.').nth(1).unwrap()
        );
        assert_eq!(
            verify_vonage("sekrit", Some(&none), VonagePayload::Body(body), now),
            Err(SignatureError::Malformed("Authorization"))
        );
    }

    #[test]
    fn vonage_get_hashes_the_query_as_compact_json_in_order() {
        let q = pairs(&[
            ("to", "254711000100"),
            ("from", "254722000111"),
            ("uuid", "u\"1"),
        ]);
        assert_eq!(
            String::from_utf8(VonagePayload::Query(&q).bytes()).unwrap(),
            r#"{"to":"254711000100","from":"254722000111","uuid":"u\"1"}"#
        );
        let now = 1_750_000_000;
        let auth = format!("Bearer {}", sign_vonage("s", VonagePayload::Query(&q), now));
        assert!(verify_vonage("s", Some(&auth), VonagePayload::Query(&q), now).is_ok());
        let mut other = q.clone();
        other[0].1 = "254711000999".into();
        assert_eq!(
            verify_vonage("s", Some(&auth), VonagePayload::Query(&other), now),
            Err(SignatureError::PayloadMismatch)
        );
    }
}
