//! The Send API over the one Graph API client ([`GraphClient`]):
//! `POST /{page or Instagram account id}/messages` with the tenant's page
//! or Instagram token. A 200 means accepted, not delivered.

use serde_json::Value;

use crate::adapters::whatsapp::GraphClient;
use crate::adapters::whatsapp::client::WhatsAppError;

/// Sends one Send API body from `account_id`; the `message_id` Meta gave
/// it (a sender action such as `mark_seen` has none).
pub async fn send(
    graph: &GraphClient,
    account_id: &str,
    token: &str,
    body: &Value,
) -> Result<Option<String>, WhatsAppError> {
    let answer = graph.post(account_id, token, body).await?;
    Ok(answer["message_id"].as_str().map(str::to_owned))
}
