//! Credentials through the API: written Fernet-encrypted, never returned.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::AdminState;
use super::auth::{ApiJson, TenantCaller};
use super::check;
use super::error::AppError;
use crate::storage::admin::credentials::{self, CredentialSlot, CredentialState, Plain, SLOTS};

/// The Daraja (M-Pesa) credential quartet, stored as the JSON document
/// the payment adapter reads (`daraja_credentials`).
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DarajaIn {
    /// Absent: the platform's Daraja app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumer_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumer_secret: Option<String>,
    pub shortcode: String,
    pub passkey: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub till_number: Option<String>,
    /// CustomerPayBillOnline (default) or CustomerBuyGoodsOnline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_type: Option<String>,
}

/// The PesaPal consumer pair (`pesapal_credentials`).
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PesapalIn {
    pub consumer_key: String,
    pub consumer_secret: String,
}

/// Credentials to write; absent ones are left as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialChanges {
    pub daraja: Option<DarajaIn>,
    pub pesapal: Option<PesapalIn>,
    pub whatsapp_access_token: Option<String>,
    pub instagram_access_token: Option<String>,
    pub facebook_page_access_token: Option<String>,
    /// Names of credentials to remove (daraja, pesapal,
    /// whatsapp_access_token, instagram_access_token,
    /// facebook_page_access_token).
    #[serde(default)]
    pub clear: Vec<String>,
}

const MAX_SECRET: usize = 2000;

pub(super) fn slot(name: &str) -> Result<CredentialSlot, AppError> {
    SLOTS
        .iter()
        .find(|s| s.name == name)
        .copied()
        .ok_or_else(|| AppError::invalid(format!("unknown credential {name}")))
}

fn secret(field: &str, v: &str) -> Result<(), AppError> {
    check::required(field, v, MAX_SECRET).map(|_| ())
}

fn secret_opt(field: &str, v: Option<&str>) -> Result<(), AppError> {
    check::optional(field, v, MAX_SECRET).map(|_| ())
}

/// Which credentials are set and when each last changed; never a secret.
#[utoipa::path(get, path = "/credentials", tag = "dials",
    responses((status = 200, body = Vec<CredentialState>)))]
pub async fn get_credentials(
    State(state): State<AdminState>,
    caller: TenantCaller,
) -> Result<Json<Vec<CredentialState>>, AppError> {
    Ok(Json(
        credentials::states(&state.db, &caller.handle, caller.tenant.id).await?,
    ))
}

/// Writes credentials, Fernet-encrypted, each change audited in
/// dial_audits (`credential_<name>`, whether set before and after, never
/// the value). Answers as GET does.
#[utoipa::path(put, path = "/credentials", tag = "dials", request_body = CredentialChanges,
    responses((status = 200, body = Vec<CredentialState>)))]
pub async fn set_credentials(
    State(state): State<AdminState>,
    caller: TenantCaller,
    ApiJson(body): ApiJson<CredentialChanges>,
) -> Result<Json<Vec<CredentialState>>, AppError> {
    let daraja = match &body.daraja {
        Some(d) => {
            secret("daraja.shortcode", &d.shortcode)?;
            if !d.shortcode.trim().chars().all(|c| c.is_ascii_digit()) {
                return Err(AppError::invalid("daraja.shortcode must be digits"));
            }
            secret("daraja.passkey", &d.passkey)?;
            secret_opt("daraja.consumer_key", d.consumer_key.as_deref())?;
            secret_opt("daraja.consumer_secret", d.consumer_secret.as_deref())?;
            secret_opt("daraja.till_number", d.till_number.as_deref())?;
            match d.transaction_type.as_deref() {
                None | Some("CustomerPayBillOnline" | "CustomerBuyGoodsOnline") => {}
                Some(_) => {
                    return Err(AppError::invalid(
                        "daraja.transaction_type must be CustomerPayBillOnline or CustomerBuyGoodsOnline",
                    ));
                }
            }
            Some(serde_json::to_value(d).map_err(|e| AppError::invalid(e.to_string()))?)
        }
        None => None,
    };
    let pesapal = match &body.pesapal {
        Some(p) => {
            secret("pesapal.consumer_key", &p.consumer_key)?;
            secret("pesapal.consumer_secret", &p.consumer_secret)?;
            Some(serde_json::to_value(p).map_err(|e| AppError::invalid(e.to_string()))?)
        }
        None => None,
    };
    let mut changes: Vec<(CredentialSlot, Option<Plain<'_>>)> = Vec::new();
    let json_changes: [(&str, Option<&Value>); 2] =
        [("daraja", daraja.as_ref()), ("pesapal", pesapal.as_ref())];
    for (name, v) in json_changes {
        if let Some(v) = v {
            changes.push((slot(name)?, Some(Plain::Json(v))));
        }
    }
    let texts = [
        (
            "whatsapp_access_token",
            body.whatsapp_access_token.as_deref(),
        ),
        (
            "instagram_access_token",
            body.instagram_access_token.as_deref(),
        ),
        (
            "facebook_page_access_token",
            body.facebook_page_access_token.as_deref(),
        ),
    ];
    for (name, v) in texts {
        if let Some(v) = v {
            secret(name, v)?;
            changes.push((slot(name)?, Some(Plain::Text(v.trim()))));
        }
    }
    for name in &body.clear {
        let s = slot(name)?;
        if changes.iter().any(|(c, _)| *c == s) {
            return Err(AppError::invalid(format!("{name} is both set and cleared")));
        }
        changes.push((s, None));
    }
    if changes.is_empty() {
        return Err(AppError::invalid("no credential to change"));
    }
    credentials::set(
        &state.db,
        &state.vault,
        &caller.handle,
        caller.tenant.id,
        &changes,
        caller.actor(),
    )
    .await?;
    Ok(Json(
        credentials::states(&state.db, &caller.handle, caller.tenant.id).await?,
    ))
}
