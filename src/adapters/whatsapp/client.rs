//! The Graph API client: sends messages and read receipts with the tenant's
//! access token. A send's 200 means accepted, not delivered; delivery comes
//! back as a status webhook.

use std::time::Duration;

use serde_json::Value;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum WhatsAppError {
    /// Meta refused the request (bad token, outside the 24 h window, …).
    #[error("graph api refused the request: http {status}, code {code:?}")]
    Refused { status: u16, code: Option<i64> },
    /// The network or Meta failed; worth retrying later.
    #[error("graph api unreachable: {0}")]
    Unreachable(String),
    /// The answer was not what the API documents.
    #[error("graph api answered unexpectedly: {0}")]
    Unexpected(String),
}

/// The platform's approved utility template for messages the business
/// starts when the customer's 24 h service window is closed: one body
/// parameter carrying the text, approved in `en` and `sw` on the platform's
/// WhatsApp Business Account.
pub const UPDATE_TEMPLATE: &str = "ratiba_update";

/// Meta's error code for a free-form message outside the 24 h window.
pub const OUTSIDE_WINDOW: i64 = 131_047;

/// What we know of a recipient's 24 h customer-service window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// They wrote within 24 h: free-form is allowed.
    Open,
    /// They have not written within 24 h (or never): only a template.
    Closed,
    /// Not tracked for this recipient: try free-form, fall back.
    Unknown,
}

impl Window {
    /// From the time the recipient last wrote.
    pub fn since(
        last_message: Option<chrono::DateTime<chrono::Utc>>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Self {
        match last_message {
            Some(t) if now - t < chrono::Duration::hours(24) => Self::Open,
            _ => Self::Closed,
        }
    }
}

#[derive(Debug, Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    base_url: String,
}

impl GraphClient {
    /// `base_url` like `https://graph.facebook.com/v21.0` (or a local
    /// capture endpoint in development).
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, WhatsAppError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(3))
            .build()
            .map_err(|e| WhatsAppError::Unexpected(e.to_string()))?;
        Ok(GraphClient {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    /// Sends one message body; returns the wamid Meta gave it.
    pub async fn send(
        &self,
        phone_number_id: &str,
        token: &str,
        body: &Value,
    ) -> Result<String, WhatsAppError> {
        let answer = self.post(phone_number_id, token, body).await?;
        answer["messages"][0]["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| WhatsAppError::Unexpected("no messages[0].id".into()))
    }

    /// Sends text the business starts (a payment follow-up, a hand-off
    /// notice, an admin's words), not a reply to a message just received:
    /// free-form while the recipient's 24 h window is open, the
    /// [`UPDATE_TEMPLATE`] in `language_code` when it is closed, or when
    /// Meta answers that it is ([`OUTSIDE_WINDOW`]).
    pub async fn send_update(
        &self,
        phone_number_id: &str,
        token: &str,
        to_digits: &str,
        text: &str,
        language_code: &str,
        window: Window,
    ) -> Result<String, WhatsAppError> {
        let template = || super::outbound::update_template(to_digits, text, language_code);
        if window == Window::Closed {
            return self.send(phone_number_id, token, &template()).await;
        }
        let free_form = super::outbound::text(to_digits, text);
        match self.send(phone_number_id, token, &free_form).await {
            Err(WhatsAppError::Refused {
                code: Some(OUTSIDE_WINDOW),
                ..
            }) => self.send(phone_number_id, token, &template()).await,
            other => other,
        }
    }

    /// Marks an inbound message (and the ones before it) as read.
    pub async fn mark_read(
        &self,
        phone_number_id: &str,
        token: &str,
        message_id: &str,
    ) -> Result<(), WhatsAppError> {
        self.post(
            phone_number_id,
            token,
            &super::outbound::mark_read(message_id),
        )
        .await
        .map(|_| ())
    }

    /// POSTs `body` to `{base}/{phone_number_id}/messages` with the token:
    /// the Cloud API's messages edge, and the Send API's of a Facebook page
    /// or Instagram account (the same Graph API), whose answer is returned.
    pub async fn post(
        &self,
        phone_number_id: &str,
        token: &str,
        body: &Value,
    ) -> Result<Value, WhatsAppError> {
        if phone_number_id.is_empty() || !phone_number_id.chars().all(|c| c.is_ascii_digit()) {
            return Err(WhatsAppError::Unexpected(
                "phone_number_id is not numeric".into(),
            ));
        }
        let url = format!("{}/{phone_number_id}/messages", self.base_url);
        let response = self
            .http
            .post(&url)
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .map_err(|e| WhatsAppError::Unreachable(e.to_string()))?;
        let status = response.status();
        let answer: Value = response
            .json()
            .await
            .map_err(|e| WhatsAppError::Unexpected(e.to_string()))?;
        if status.is_success() {
            return Ok(answer);
        }
        let code = answer["error"]["code"].as_i64();
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(WhatsAppError::Unreachable(format!("http {status}")));
        }
        Err(WhatsAppError::Refused {
            status: status.as_u16(),
            code,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Window;
    use chrono::{Duration, Utc};

    #[test]
    fn the_window_is_open_for_24_hours_after_the_customer_wrote() {
        let now = Utc::now();
        assert_eq!(
            Window::since(Some(now - Duration::hours(23)), now),
            Window::Open
        );
        assert_eq!(
            Window::since(Some(now - Duration::hours(25)), now),
            Window::Closed
        );
        assert_eq!(Window::since(None, now), Window::Closed);
    }
}
