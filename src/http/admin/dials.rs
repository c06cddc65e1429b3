//! The tenant's dials: voice, hand-off, payment and reminder settings of
//! public.tenants, and the personality dials. Each value is checked here;
//! each change is written to dial_audits with the old and new value.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::AdminState;
use super::auth::{ApiJson, ApiQuery, TenantCaller};
use super::catalogue::AuditQuery;
use super::error::AppError;
use crate::core::dialog::personality::{CancellationTone, GreetingMode, Honorific, Tone, Upsell};
use crate::core::ids::PhoneNumber;
use crate::storage::admin::dials::{self, DialAudit};

/// The dials. In a change, an absent field stays as it is and an empty
/// string clears a text dial (a cleared personality dial inherits the
/// vertical's default). In an answer, absent means unset.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct Dials {
    /// Whether calls are answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voice_enabled: Option<bool>,
    /// en | sw
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voice_greeting_language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voice_default_speaker: Option<String>,
    /// 100 to 5000 ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voice_eot_silence_ms: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voice_full_duplex_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voice_backchannel_filter: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voice_hard_interrupt: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voice_streaming: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voice_listening_ack: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voice_adaptive_speed: Option<bool>,
    /// 0 to 5000 ms, not above the max.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voice_endpointing_min_delay_ms: Option<i32>,
    /// 0 to 10000 ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voice_endpointing_max_delay_ms: Option<i32>,
    /// 0 to 600 s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voice_stk_max_hold_seconds: Option<i32>,
    /// Where callers who ask for a person are put through ("" clears).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voice_transfer_number: Option<String>,
    /// 0 to 604800 s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handoff_admin_notice_seconds: Option<i32>,
    /// 0 to 604800 s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handoff_admin_reminder_seconds: Option<i32>,
    /// 0 to 604800 s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handoff_escalation_seconds: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_enabled: Option<bool>,
    /// mpesa | pesapal
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_payment_provider: Option<String>,
    /// sandbox | production ("" clears: the node's setting)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_environment_override: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mpesa_enabled: Option<bool>,
    /// 5 to 10 digits ("" clears).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mpesa_shortcode: Option<String>,
    /// 0 to 3600 s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pesapal_nudge_seconds: Option<i32>,
    /// 60 to 86400 s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pesapal_abandon_seconds: Option<i32>,
    /// 0 to 604800 s before an appointment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reminder_lead_seconds: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_whatsapp_briefing_enabled: Option<bool>,
    /// The Instagram professional account id, digits ("" clears).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instagram_business_account_id: Option<String>,
    /// Whether Instagram DMs are answered (needs the account id and token).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instagram_enabled: Option<bool>,
    /// The Facebook page id, digits ("" clears).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facebook_page_id: Option<String>,
    /// Whether Messenger is answered (needs the page id and page token).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messenger_enabled: Option<bool>,
    /// Write-only: the WhatsApp Cloud API access token ("" clears). Stored
    /// encrypted; never in an answer; audited as set or cleared.
    #[serde(skip_serializing)]
    pub whatsapp_access_token: Option<String>,
    /// Write-only: the Instagram messaging token ("" clears).
    #[serde(skip_serializing)]
    pub instagram_access_token: Option<String>,
    /// Write-only: the page access token for Messenger ("" clears).
    #[serde(skip_serializing)]
    pub facebook_page_access_token: Option<String>,
    /// warm | professional | playful
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tone: Option<String>,
    /// standard | short | custom
    #[serde(skip_serializing_if = "Option::is_none")]
    pub greeting_mode: Option<String>,
    /// At most 140 characters (used with greeting_mode custom).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub greeting_custom: Option<String>,
    /// off | gentle | active
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upsell: Option<String>,
    /// understanding | neutral | firm
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation_tone: Option<String>,
    /// none | first_name | formal
    #[serde(skip_serializing_if = "Option::is_none")]
    pub honorific: Option<String>,
    /// on | off
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cross_sell: Option<String>,
}

fn range(name: &str, v: Option<i32>, lo: i32, hi: i32) -> Result<(), AppError> {
    match v {
        Some(x) if !(lo..=hi).contains(&x) => {
            Err(AppError::invalid(format!("{name} must be {lo} to {hi}")))
        }
        _ => Ok(()),
    }
}

/// "" is a clear (JSON null); otherwise one of `allowed`.
fn one_of(
    out: &mut Map<String, Value>,
    name: &str,
    v: &Option<String>,
    allowed: &[&str],
    clearable: bool,
) -> Result<(), AppError> {
    let Some(v) = v else { return Ok(()) };
    let v = v.trim();
    if v.is_empty() && clearable {
        out.insert(name.to_owned(), Value::Null);
        return Ok(());
    }
    if !allowed.contains(&v) {
        return Err(AppError::invalid(format!(
            "{name} must be one of: {}",
            allowed.join(", ")
        )));
    }
    out.insert(name.to_owned(), Value::String(v.to_owned()));
    Ok(())
}

/// The names a personality enum accepts, as the core parses them.
fn names<T: for<'de> Deserialize<'de>>(candidates: &[&'static str]) -> Vec<&'static str> {
    candidates
        .iter()
        .copied()
        .filter(|c| serde_json::from_value::<T>(Value::String((*c).to_owned())).is_ok())
        .collect()
}

impl Dials {
    /// The checked changes, as dial name to JSON value.
    pub fn changes(&self) -> Result<Map<String, Value>, AppError> {
        range("voice_eot_silence_ms", self.voice_eot_silence_ms, 100, 5000)?;
        range(
            "voice_endpointing_min_delay_ms",
            self.voice_endpointing_min_delay_ms,
            0,
            5000,
        )?;
        range(
            "voice_endpointing_max_delay_ms",
            self.voice_endpointing_max_delay_ms,
            0,
            10_000,
        )?;
        if let (Some(lo), Some(hi)) = (
            self.voice_endpointing_min_delay_ms,
            self.voice_endpointing_max_delay_ms,
        ) && lo > hi
        {
            return Err(AppError::invalid(
                "voice_endpointing_min_delay_ms is above the max",
            ));
        }
        range(
            "voice_stk_max_hold_seconds",
            self.voice_stk_max_hold_seconds,
            0,
            600,
        )?;
        for (name, v) in [
            (
                "handoff_admin_notice_seconds",
                self.handoff_admin_notice_seconds,
            ),
            (
                "handoff_admin_reminder_seconds",
                self.handoff_admin_reminder_seconds,
            ),
            (
                "handoff_escalation_seconds",
                self.handoff_escalation_seconds,
            ),
            ("reminder_lead_seconds", self.reminder_lead_seconds),
        ] {
            range(name, v, 0, 604_800)?;
        }
        range("pesapal_nudge_seconds", self.pesapal_nudge_seconds, 0, 3600)?;
        range(
            "pesapal_abandon_seconds",
            self.pesapal_abandon_seconds,
            60,
            86_400,
        )?;

        // Every typed field goes in as it is; text fields are checked below.
        let mut out = match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        for text in [
            "instagram_business_account_id",
            "facebook_page_id",
            "voice_greeting_language",
            "voice_default_speaker",
            "voice_transfer_number",
            "preferred_payment_provider",
            "payment_environment_override",
            "mpesa_shortcode",
            "tone",
            "greeting_mode",
            "greeting_custom",
            "upsell",
            "cancellation_tone",
            "honorific",
            "cross_sell",
        ] {
            out.remove(text);
        }
        one_of(
            &mut out,
            "voice_greeting_language",
            &self.voice_greeting_language,
            &["en", "sw"],
            true,
        )?;
        if let Some(s) = &self.voice_default_speaker {
            let s = super::check::optional("voice_default_speaker", Some(s), 64)?;
            out.insert(
                "voice_default_speaker".into(),
                s.map_or(Value::Null, |s| s.into()),
            );
        }
        if let Some(n) = &self.voice_transfer_number {
            let v = if n.trim().is_empty() {
                Value::Null
            } else {
                let p = PhoneNumber::parse(n)
                    .map_err(|e| AppError::invalid(format!("voice_transfer_number: {e}")))?;
                Value::String(p.expose().to_owned())
            };
            out.insert("voice_transfer_number".into(), v);
        }
        one_of(
            &mut out,
            "preferred_payment_provider",
            &self.preferred_payment_provider,
            &["mpesa", "pesapal"],
            false,
        )?;
        one_of(
            &mut out,
            "payment_environment_override",
            &self.payment_environment_override,
            &["sandbox", "production"],
            true,
        )?;
        if let Some(code) = &self.mpesa_shortcode {
            let code = code.trim();
            let v = if code.is_empty() {
                Value::Null
            } else if (5..=10).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()) {
                Value::String(code.to_owned())
            } else {
                return Err(AppError::invalid("mpesa_shortcode must be 5 to 10 digits"));
            };
            out.insert("mpesa_shortcode".into(), v);
        }
        for (name, id) in [
            (
                "instagram_business_account_id",
                &self.instagram_business_account_id,
            ),
            ("facebook_page_id", &self.facebook_page_id),
        ] {
            let Some(id) = id else { continue };
            let id = id.trim();
            let v = if id.is_empty() {
                Value::Null
            } else if id.len() <= 50 && id.bytes().all(|b| b.is_ascii_digit()) {
                Value::String(id.to_owned())
            } else {
                return Err(AppError::invalid(format!("{name} must be the numeric id")));
            };
            out.insert(name.into(), v);
        }
        let tones = ["warm", "professional", "playful"];
        one_of(&mut out, "tone", &self.tone, &names::<Tone>(&tones), true)?;
        let modes = ["standard", "short", "custom"];
        one_of(
            &mut out,
            "greeting_mode",
            &self.greeting_mode,
            &names::<GreetingMode>(&modes),
            true,
        )?;
        if let Some(g) = &self.greeting_custom {
            let g = super::check::optional("greeting_custom", Some(g), 140)?;
            out.insert(
                "greeting_custom".into(),
                g.map_or(Value::Null, |g| g.into()),
            );
        }
        let upsells = ["off", "gentle", "active"];
        one_of(
            &mut out,
            "upsell",
            &self.upsell,
            &names::<Upsell>(&upsells),
            true,
        )?;
        let ctones = ["understanding", "neutral", "firm"];
        one_of(
            &mut out,
            "cancellation_tone",
            &self.cancellation_tone,
            &names::<CancellationTone>(&ctones),
            true,
        )?;
        let hons = ["none", "first_name", "formal"];
        one_of(
            &mut out,
            "honorific",
            &self.honorific,
            &names::<Honorific>(&hons),
            true,
        )?;
        one_of(
            &mut out,
            "cross_sell",
            &self.cross_sell,
            &["on", "off"],
            true,
        )?;
        Ok(out)
    }
}

impl Dials {
    /// The credentials to change: each dial with its new plaintext, or
    /// `None` to clear it ("").
    pub fn secrets(&self) -> Result<Vec<(&'static str, Option<String>)>, AppError> {
        let mut out = Vec::new();
        for (name, v) in [
            ("whatsapp_access_token", &self.whatsapp_access_token),
            ("instagram_access_token", &self.instagram_access_token),
            (
                "facebook_page_access_token",
                &self.facebook_page_access_token,
            ),
        ] {
            let Some(v) = v else { continue };
            let v = v.trim();
            if v.len() > 4096 || v.chars().any(char::is_control) {
                return Err(AppError::invalid(format!("{name} is not a token")));
            }
            out.push((name, (!v.is_empty()).then(|| v.to_owned())));
        }
        Ok(out)
    }
}

/// Stores each credential of `dials` encrypted with `vault` (audited as
/// set or cleared); the names that changed.
pub async fn set_secrets(
    db: &crate::storage::Db,
    vault: Option<&crate::storage::Vault>,
    tenant: &crate::storage::TenantHandle,
    id: crate::core::ids::TenantId,
    secrets: Vec<(&'static str, Option<String>)>,
    actor: crate::storage::admin::Actor,
) -> Result<Vec<String>, AppError> {
    use crate::storage::admin::credentials::{self, Plain};
    if secrets.is_empty() {
        return Ok(Vec::new());
    }
    let Some(vault) = vault else {
        return Err(AppError::invalid(
            "credentials cannot be stored: this server has no encryption key",
        ));
    };
    let changes = secrets
        .iter()
        .map(|(name, plaintext)| {
            let slot = super::credentials::slot(name)?;
            Ok((slot, plaintext.as_deref().map(Plain::Text)))
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    credentials::set(db, vault, tenant, id, &changes, actor).await?;
    Ok(secrets
        .into_iter()
        .map(|(name, _)| name.to_owned())
        .collect())
}

async fn read(state: &AdminState, caller: &TenantCaller) -> Result<Dials, AppError> {
    let map = dials::current(&state.db, &caller.handle, caller.tenant.id).await?;
    let map: Map<String, Value> = map.into_iter().filter(|(_, v)| !v.is_null()).collect();
    serde_json::from_value(Value::Object(map)).map_err(|e| {
        AppError::Internal(crate::storage::StorageError::Corrupt(format!("dials: {e}")))
    })
}

/// The tenant's dials.
#[utoipa::path(get, path = "/dials", tag = "dials", responses((status = 200, body = Dials)))]
pub async fn get_dials(
    State(state): State<AdminState>,
    caller: TenantCaller,
) -> Result<Json<Dials>, AppError> {
    Ok(Json(read(&state, &caller).await?))
}

/// Changes dials (absent fields stay); each change is audited.
#[utoipa::path(patch, path = "/dials", tag = "dials", request_body = Dials,
    responses((status = 200, body = Dials)))]
pub async fn set_dials(
    State(state): State<AdminState>,
    caller: TenantCaller,
    ApiJson(body): ApiJson<Dials>,
) -> Result<Json<Dials>, AppError> {
    let changes = body.changes()?;
    let secrets = body.secrets()?;
    let mut changed = dials::set(
        &state.db,
        &caller.handle,
        caller.tenant.id,
        &changes,
        caller.actor(),
    )
    .await?;
    changed.extend(
        set_secrets(
            &state.db,
            Some(&state.vault),
            &caller.handle,
            caller.tenant.id,
            secrets,
            caller.actor(),
        )
        .await?,
    );
    tracing::info!(tenant = %caller.tenant.slug, dials = ?changed, "dials changed");
    Ok(Json(read(&state, &caller).await?))
}

/// The newest dial changes.
#[utoipa::path(get, path = "/dials/audits", tag = "dials", params(AuditQuery),
    responses((status = 200, body = Vec<DialAudit>)))]
pub async fn list_dial_audits(
    caller: TenantCaller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<DialAudit>>, AppError> {
    Ok(Json(dials::audits(&caller.handle, q.limit()?).await?))
}
