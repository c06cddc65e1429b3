//! Sending an SMS (the web phone check's codes).
//!
//! * [`AfricasTalking`]: `POST {base}/version1/messaging`, form-encoded
//!   `username`, `to`, `message` and optional `from`; header `apiKey`,
//!   `Accept: application/json`. The answer is
//!   `{"SMSMessageData":{"Message":…,"Recipients":[{"number","status",
//!   "statusCode","messageId","cost"}]}}`; a recipient's statusCode 100
//!   (processed), 101 (sent) or 102 (queued) is accepted, anything else
//!   (401 risk hold, 403 invalid number, 405 insufficient balance, …) is
//!   refused.
//! * [`DevSms`]: the embedded default with no key. It logs "code sent" at
//!   INFO (never the number or the text) and keeps the message only in a
//!   local capture, listed by `GET /dev/sms` on the server itself, as the
//!   WhatsApp development capture does, so a newcomer can finish the flow.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;

use crate::config::{Secret, SmsSettings};
use crate::core::ids::PhoneNumber;

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("SMS provider unreachable: {0}")]
    Transport(String),
    #[error("SMS provider answered HTTP {0}")]
    Status(u16),
    #[error("SMS refused for the recipient: {status} ({code})")]
    Refused { status: String, code: i64 },
    #[error("SMS provider's answer not understood: {0}")]
    Malformed(String),
}

/// One way of sending a text message.
pub trait SmsSender: Send + Sync {
    /// Sends `text` to `to`; the provider's message id if it gives one.
    fn send<'a>(
        &'a self,
        to: &'a PhoneNumber,
        text: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, SmsError>>;
}

/// Africa's Talking's SMS API.
pub struct AfricasTalking {
    http: reqwest::Client,
    base: String,
    username: String,
    api_key: Secret,
    from: Option<String>,
}

impl AfricasTalking {
    pub fn new(
        http: reqwest::Client,
        base: &str,
        username: &str,
        api_key: Secret,
        from: Option<String>,
    ) -> Self {
        AfricasTalking {
            http,
            base: base.trim_end_matches('/').to_owned(),
            username: username.to_owned(),
            api_key,
            from,
        }
    }
}

#[derive(Deserialize)]
struct Answer {
    #[serde(rename = "SMSMessageData")]
    data: AnswerData,
}

#[derive(Deserialize)]
struct AnswerData {
    #[serde(rename = "Message", default)]
    message: String,
    #[serde(rename = "Recipients", default)]
    recipients: Vec<Recipient>,
}

#[derive(Deserialize)]
struct Recipient {
    #[serde(default)]
    status: String,
    #[serde(rename = "statusCode", default)]
    status_code: i64,
    #[serde(rename = "messageId", default)]
    message_id: Option<String>,
}

/// Reads Africa's Talking's answer for one recipient.
pub fn read_answer(body: &[u8]) -> Result<Option<String>, SmsError> {
    let answer: Answer =
        serde_json::from_slice(body).map_err(|e| SmsError::Malformed(e.to_string()))?;
    let Some(r) = answer.data.recipients.into_iter().next() else {
        // No recipient accepted: the Message says why ("InvalidSenderId").
        return Err(SmsError::Refused {
            status: answer.data.message,
            code: 0,
        });
    };
    match r.status_code {
        100..=102 => Ok(r.message_id.filter(|id| !id.is_empty() && id != "None")),
        code => Err(SmsError::Refused {
            status: r.status,
            code,
        }),
    }
}

impl SmsSender for AfricasTalking {
    fn send<'a>(
        &'a self,
        to: &'a PhoneNumber,
        text: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, SmsError>> {
        Box::pin(async move {
            let mut form = vec![
                ("username", self.username.as_str()),
                ("to", to.expose()),
                ("message", text),
            ];
            if let Some(from) = &self.from {
                form.push(("from", from.as_str()));
            }
            let response = self
                .http
                .post(format!("{}/version1/messaging", self.base))
                .header("apiKey", self.api_key.expose())
                .header(reqwest::header::ACCEPT, "application/json")
                .timeout(Duration::from_secs(10))
                .form(&form)
                .send()
                .await
                .map_err(|e| SmsError::Transport(e.without_url().to_string()))?;
            let status = response.status();
            let body = response
                .bytes()
                .await
                .map_err(|e| SmsError::Transport(e.without_url().to_string()))?;
            if !status.is_success() {
                return Err(SmsError::Status(status.as_u16()));
            }
            read_answer(&body)
        })
    }
}

/// One message the development sender kept.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CapturedSms {
    pub seq: u64,
    pub to: String,
    pub text: String,
}

/// The development sender: nothing leaves the machine.
#[derive(Clone, Default)]
pub struct DevSms {
    log: Arc<Mutex<VecDeque<CapturedSms>>>,
}

const DEV_KEEP: usize = 200;

impl DevSms {
    /// What was "sent", oldest first (optionally to one number).
    pub fn captured(&self, to: Option<&str>) -> Vec<CapturedSms> {
        let Ok(log) = self.log.lock() else {
            return Vec::new();
        };
        log.iter()
            .filter(|m| to.is_none_or(|to| m.to == to))
            .cloned()
            .collect()
    }
}

impl SmsSender for DevSms {
    fn send<'a>(
        &'a self,
        to: &'a PhoneNumber,
        text: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, SmsError>> {
        Box::pin(async move {
            let seq = {
                let mut log = self
                    .log
                    .lock()
                    .map_err(|_| SmsError::Transport("capture poisoned".into()))?;
                let seq = log.back().map_or(1, |m| m.seq + 1);
                log.push_back(CapturedSms {
                    seq,
                    to: to.expose().to_owned(),
                    text: text.to_owned(),
                });
                while log.len() > DEV_KEEP {
                    log.pop_front();
                }
                seq
            };
            tracing::info!(seq, "code sent (development capture: GET /dev/sms)");
            Ok(Some(format!("dev-sms-{seq}")))
        })
    }
}

/// The sender the settings give: Africa's Talking when its key is set;
/// else, on the embedded default (`dev_capture`), the development
/// capture; else none (the phone check then cannot send codes).
pub fn from_settings(settings: &SmsSettings, dev_capture: bool) -> Option<SmsBackend> {
    match (
        &settings.africastalking_username,
        &settings.africastalking_api_key,
    ) {
        (Some(username), Some(key)) => Some(SmsBackend::Provider(Arc::new(AfricasTalking::new(
            reqwest::Client::new(),
            settings.africastalking_url.as_str(),
            username,
            key.clone(),
            settings.africastalking_from.clone(),
        )))),
        _ if dev_capture => Some(SmsBackend::Dev(DevSms::default())),
        _ => None,
    }
}

/// A configured sender.
#[derive(Clone)]
pub enum SmsBackend {
    Provider(Arc<dyn SmsSender>),
    /// The development capture (its messages are listed at `/dev/sms`).
    Dev(DevSms),
}

impl SmsBackend {
    pub fn sender(&self) -> Arc<dyn SmsSender> {
        match self {
            SmsBackend::Provider(s) => s.clone(),
            SmsBackend::Dev(d) => Arc::new(d.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_per_recipient() {
        let ok = br#"{"SMSMessageData":{"Message":"Sent to 1/1 Total Cost: KES 0.8000","Recipients":[{"statusCode":101,"number":"+254712345678","status":"Success","cost":"KES 0.8000","messageId":"ATXid_1"}]}}"#;
        assert_eq!(read_answer(ok).unwrap().as_deref(), Some("ATXid_1"));
        let refused = br#"{"SMSMessageData":{"Message":"Sent to 0/1","Recipients":[{"statusCode":403,"number":"+254","status":"InvalidPhoneNumber","cost":"0","messageId":"None"}]}}"#;
        assert!(matches!(
            read_answer(refused),
            Err(SmsError::Refused { code: 403, .. })
        ));
        let none = br#"{"SMSMessageData":{"Message":"InvalidSenderId","Recipients":[]}}"#;
        assert!(matches!(read_answer(none), Err(SmsError::Refused { .. })));
        assert!(matches!(
            read_answer(b"<html>"),
            Err(SmsError::Malformed(_))
        ));
    }
}
