//! Encryption of the credential columns (`whatsapp_access_token`,
//! `pesapal_consumer_*`, `daraja_credentials`, `pesapal_credentials`, ...).
//!
//! The rest of the platform is Python and reads the same columns with
//! `cryptography.fernet.Fernet`, so we use the same format: Fernet tokens
//! (AES-128-CBC + HMAC-SHA256, URL-safe base64). TEXT columns hold the token
//! as text; BYTEA columns hold the token's ASCII bytes, exactly what
//! Python's `Fernet.encrypt` returns.

use std::io::Write;
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;

use crate::config::Secret;

#[derive(Debug, Error)]
pub enum CryptoError {
    /// The configured key is not a Fernet key (operator's fault).
    #[error("the Fernet key must be 32 bytes in URL-safe base64")]
    BadKey,
    /// A token did not decrypt: wrong key or tampered data.
    #[error("credential does not decrypt with the configured key")]
    Undecryptable,
    /// Decrypted bytes were not the JSON/text we expected.
    #[error("decrypted credential is malformed: {0}")]
    Malformed(String),
    #[error("key file {path}: {source}")]
    KeyFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Encrypts and decrypts credential columns with the configured Fernet key.
#[derive(Clone)]
pub struct Vault {
    fernet: fernet::Fernet,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(<key redacted>)")
    }
}

impl Vault {
    pub fn new(key: &Secret) -> Result<Self, CryptoError> {
        let fernet = fernet::Fernet::new(key.expose().trim()).ok_or(CryptoError::BadKey)?;
        Ok(Self { fernet })
    }

    /// A fresh random key in the format Python's `Fernet.generate_key()` makes.
    pub fn generate_key() -> Secret {
        Secret::new(fernet::Fernet::generate_key())
    }

    /// Reads the key stored at `path`, or generates one there (mode 0600)
    /// if the file does not exist yet. Used for the embedded dev setup.
    pub fn load_or_create_key_file(path: &Path) -> Result<Secret, CryptoError> {
        let key_err = |source| CryptoError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let key = Secret::new(text.trim());
                Self::new(&key)?;
                Ok(key)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(key_err)?;
                }
                let key = Self::generate_key();
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    options.mode(0o600);
                }
                let mut file = options.open(path).map_err(key_err)?;
                file.write_all(key.expose().as_bytes())
                    .and_then(|()| file.write_all(b"\n"))
                    .map_err(key_err)?;
                Ok(key)
            }
            Err(e) => Err(key_err(e)),
        }
    }

    /// A token for a TEXT column.
    pub fn encrypt_text(&self, plaintext: &str) -> String {
        self.fernet.encrypt(plaintext.as_bytes())
    }

    /// The plaintext of a TEXT column's token.
    pub fn decrypt_text(&self, token: &str) -> Result<Secret, CryptoError> {
        let bytes = self
            .fernet
            .decrypt(token.trim())
            .map_err(|_| CryptoError::Undecryptable)?;
        String::from_utf8(bytes)
            .map(Secret::new)
            .map_err(|_| CryptoError::Malformed("not UTF-8".into()))
    }

    /// A token for a BYTEA column holding a JSON document.
    pub fn encrypt_json<T: Serialize>(&self, value: &T) -> Result<Vec<u8>, CryptoError> {
        let json = serde_json::to_vec(value).map_err(|e| CryptoError::Malformed(e.to_string()))?;
        Ok(self.fernet.encrypt(&json).into_bytes())
    }

    /// The JSON document in a BYTEA column's token.
    pub fn decrypt_json<T: DeserializeOwned>(&self, token: &[u8]) -> Result<T, CryptoError> {
        let token = std::str::from_utf8(token).map_err(|_| CryptoError::Undecryptable)?;
        let bytes = self
            .fernet
            .decrypt(token.trim())
            .map_err(|_| CryptoError::Undecryptable)?;
        serde_json::from_slice(&bytes).map_err(|e| CryptoError::Malformed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made with Python's cryptography 48: `Fernet(key).encrypt(json)`.
    const PY_KEY: &str = "CgX-VCY42ZHwOR5kSTTRXFk-_1Y5oxD3OWNPph0Mnhg=";
    const PY_TOKEN: &str = "gAAAAABrBjgRAvSvM8U28bKGV_oz8KwAE9SruLHmELHLoYxpTPxlLsi8apztQS1hrAJjET1ChEy6RQUQHAXjHVZqliF-x3Eu2-EbAlkcaILxkyL-rWe1DnFRiSyJfHlkYhWN2AMK8TB8LbwYVxqke1pQhExMg_nGZzLbrjwlaJZonYYH0nzQCPI=";

    #[test]
    fn decrypts_a_token_made_by_python() {
        let vault = Vault::new(&Secret::new(PY_KEY)).unwrap();
        let value: serde_json::Value = vault.decrypt_json(PY_TOKEN.as_bytes()).unwrap();
        assert_eq!(value["consumer_key"], "ck");
        assert_eq!(value["passkey"], "Habari ya asubuhi \u{2014} M-Pesa");
        let text = vault.decrypt_text(PY_TOKEN).unwrap();
        assert!(text.expose().starts_with("{\"consumer_key\""));
    }

    #[test]
    fn python_decrypts_our_tokens() {
        let vault = Vault::new(&Secret::new(PY_KEY)).unwrap();
        let token = vault.encrypt_text("siri ya Daraja");
        let out = std::process::Command::new("python3")
            .args([
                "-c",
                "import sys; from cryptography.fernet import Fernet; \
                 sys.stdout.write(Fernet(sys.argv[1].encode()).decrypt(sys.argv[2].encode()).decode())",
                PY_KEY,
                &token,
            ])
            .output()
            .expect("python3 with the cryptography package (CI installs python3-cryptography)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8(out.stdout).unwrap(), "siri ya Daraja");
    }

    #[test]
    fn wrong_key_and_tampering_are_refused() {
        let vault = Vault::new(&Secret::new(PY_KEY)).unwrap();
        let other = Vault::new(&Vault::generate_key()).unwrap();
        assert!(matches!(
            other.decrypt_text(PY_TOKEN),
            Err(CryptoError::Undecryptable)
        ));
        let mut tampered = PY_TOKEN.to_owned();
        tampered.replace_range(40..41, if &PY_TOKEN[40..41] == "A" { "B" } else { "A" });
        assert!(vault.decrypt_text(&tampered).is_err());
        assert!(matches!(
            Vault::new(&Secret::new("not-a-key")),
            Err(CryptoError::BadKey)
        ));
        let json = vault.encrypt_json(&serde_json::json!({"a": 1})).unwrap();
        let back: serde_json::Value = vault.decrypt_json(&json).unwrap();
        assert_eq!(back["a"], 1);
    }

    #[test]
    fn key_file_is_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("fernet.key");
        let first = Vault::load_or_create_key_file(&path).unwrap();
        let second = Vault::load_or_create_key_file(&path).unwrap();
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "garbage").unwrap();
        assert!(Vault::load_or_create_key_file(&path).is_err());
    }
}
