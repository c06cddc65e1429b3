//! Vonage Voice API: `PUT /v1/calls/{uuid}` with a transfer to an inline
//! NCCO that connects the caller to a phone, or `{"action":"hangup"}`.
//! Authorised by a JWT the application signs with its private key (RS256;
//! claims `application_id`, `iat`, `exp`, `jti`).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use futures::future::BoxFuture;
use serde_json::json;

use super::{CallControl, ControlError, LiveCall, send};
use crate::adapters::telephony::Provider;
use crate::core::ids::PhoneNumber;

/// A request's JWT is good for this long.
const JWT_TTL_SECS: i64 = 300;

/// The application's private key (PEM: PKCS#8 `PRIVATE KEY`, or PKCS#1
/// `RSA PRIVATE KEY`).
pub struct VonageKey(RsaKeyPair);

impl std::fmt::Debug for VonageKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VonageKey(<redacted>)")
    }
}

impl VonageKey {
    pub fn parse(pem: &str) -> Result<Self, String> {
        let body: String = pem
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("-----"))
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|_| "not PEM (the base64 between the BEGIN and END lines)".to_owned())?;
        RsaKeyPair::from_pkcs8(&der)
            .or_else(|_| RsaKeyPair::from_der(&der))
            .map(Self)
            .map_err(|e| format!("not an RSA private key ({e})"))
    }

    /// A JWT for `application_id`, issued at `now_unix`.
    pub fn jwt(&self, application_id: &str, now_unix: i64, jti: &str) -> Result<String, String> {
        let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let header = b64(br#"{"alg":"RS256","typ":"JWT"}"#);
        let claims = b64(json!({
            "application_id": application_id,
            "iat": now_unix,
            "exp": now_unix + JWT_TTL_SECS,
            "jti": jti,
        })
        .to_string()
        .as_bytes());
        let signed = format!("{header}.{claims}");
        let mut signature = vec![0u8; self.0.public_modulus_len()];
        self.0
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signed.as_bytes(),
                &mut signature,
            )
            .map_err(|_| "RSA signing failed".to_owned())?;
        Ok(format!("{signed}.{}", b64(&signature)))
    }
}

pub struct VonageControl {
    http: reqwest::Client,
    base: String,
    application_id: String,
    key: VonageKey,
}

impl VonageControl {
    pub fn new(http: reqwest::Client, base: &str, application_id: &str, key: VonageKey) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            application_id: application_id.to_owned(),
            key,
        }
    }

    async fn modify(&self, call: &LiveCall, body: serde_json::Value) -> Result<(), ControlError> {
        let id = call.path_id(Provider::Vonage)?;
        let jwt = self
            .key
            .jwt(
                &self.application_id,
                chrono::Utc::now().timestamp(),
                &uuid::Uuid::new_v4().to_string(),
            )
            .map_err(|detail| ControlError::Misconfigured {
                provider: Provider::Vonage,
                detail,
            })?;
        let request = self
            .http
            .put(format!("{}/v1/calls/{id}", self.base))
            .bearer_auth(jwt)
            .json(&body);
        send(Provider::Vonage, request).await
    }
}

/// The transfer body: the caller's leg moves to an NCCO that connects it
/// to `to` (Vonage numbers are digits without `+`), shown as coming from
/// the number they dialled when known (a Vonage number of the application).
pub fn transfer_body(to: &PhoneNumber, dialled: Option<&PhoneNumber>) -> serde_json::Value {
    let mut connect = json!({
        "action": "connect",
        "endpoint": [{"type": "phone", "number": to.digits()}],
    });
    if let Some(from) = dialled {
        connect["from"] = json!(from.digits());
    }
    json!({"action": "transfer", "destination": {"type": "ncco", "ncco": [connect]}})
}

impl CallControl for VonageControl {
    fn provider(&self) -> Provider {
        Provider::Vonage
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
            self.modify(call, transfer_body(to, call.dialled.as_ref()))
                .await
        })
    }

    fn hang_up<'a>(&'a self, call: &'a LiveCall) -> BoxFuture<'a, Result<(), ControlError>> {
        Box::pin(async move { self.modify(call, json!({"action": "hangup"})).await })
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    use super::*;

    fn pem(der: &[u8]) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        )
    }

    #[test]
    fn the_jwt_is_rs256_over_its_claims_and_verifies_with_the_public_key() {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).unwrap();
        let key = VonageKey::parse(&pem(der.as_ref())).unwrap();
        let jwt = key.jwt("app-1", 1_700_000_000, "j1").unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |s: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(s)
                .unwrap()
        };
        let header: serde_json::Value = serde_json::from_slice(&decode(parts[0])).unwrap();
        assert_eq!(header["alg"], "RS256");
        let claims: serde_json::Value = serde_json::from_slice(&decode(parts[1])).unwrap();
        assert_eq!(claims["application_id"], "app-1");
        assert_eq!(claims["iat"], 1_700_000_000);
        assert_eq!(claims["exp"], 1_700_000_000 + JWT_TTL_SECS);
        assert_eq!(claims["jti"], "j1");
        let public =
            UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pair.public_key().as_ref());
        let signed = format!("{}.{}", parts[0], parts[1]);
        public.verify(signed.as_bytes(), &decode(parts[2])).unwrap();
        // Another message does not verify.
        assert!(public.verify(b"x.y", &decode(parts[2])).is_err());
        assert!(
            VonageKey::parse("-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----")
                .is_err()
        );
        assert!(VonageKey::parse("").is_err());
    }

    #[test]
    fn the_transfer_connects_the_caller_to_the_number_from_the_dialled_one() {
        let to = PhoneNumber::parse("+254700123456").unwrap();
        let dialled = PhoneNumber::parse("+254711000100").unwrap();
        assert_eq!(
            transfer_body(&to, Some(&dialled)),
            json!({"action": "transfer", "destination": {"type": "ncco", "ncco": [
                {"action": "connect", "from": "254711000100",
                 "endpoint": [{"type": "phone", "number": "254700123456"}]}]}})
        );
    }
}
