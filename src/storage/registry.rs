//! The tenant registry (`public.tenants`): who the tenants are, how inbound
//! traffic finds its tenant, and each tenant's dials.
//!
//! Routing lookups (by voice number, WhatsApp phone_number_id, Instagram
//! account or Facebook page) skip
//! deleted tenants, so traffic for a number whose tenant is gone is treated
//! as unknown. Lookup by slug returns any registered tenant.

use rust_decimal::Decimal;
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use super::{Db, StorageError};
use crate::config::Secret;
use crate::core::ids::{PhoneNumber, TenantId, TenantSlug};
use crate::core::tenancy::Standing;

/// One row of `public.tenants`. Encrypted columns are carried as
/// ciphertext; decrypt them with [`super::Vault`] where needed. Its `Debug`
/// never shows a credential.
#[derive(Debug, Clone)]
pub struct TenantRecord {
    pub id: TenantId,
    pub slug: TenantSlug,
    pub name: String,
    pub schema_name: Option<String>,
    pub vertical: String,
    pub timezone: String,
    pub currency: String,
    pub locale: String,
    /// 'active' | 'suspended' | 'trial' | 'deleted', or unset.
    pub status: Option<String>,
    pub trial_ends_at: Option<chrono::DateTime<chrono::Utc>>,
    pub deleted_at: Option<chrono::DateTime<chrono::Utc>>,

    // Channels.
    pub voice_number: Option<String>,
    pub whatsapp_number: Option<String>,
    pub whatsapp_phone_number_id: Option<String>,
    pub whatsapp_business_account_id: Option<String>,
    /// Fernet token (text) of the Cloud API access token.
    pub whatsapp_access_token: Option<Secret>,
    pub admin_whatsapp_briefing_enabled: bool,
    /// The Instagram professional account id (a webhook's `entry[].id`).
    pub instagram_business_account_id: Option<String>,
    /// Fernet token (text) of the Instagram messaging access token.
    pub instagram_access_token: Option<Secret>,
    pub instagram_enabled: bool,
    /// The Facebook page id (a Messenger webhook's `entry[].id`).
    pub facebook_page_id: Option<String>,
    /// Fernet token (text) of the page access token.
    pub facebook_page_access_token: Option<Secret>,
    pub messenger_enabled: bool,
    pub channel_steering_enabled: bool,
    pub phone_otp_required: bool,

    // Voice dials (drive the turn engine).
    pub voice_enabled: bool,
    pub voice_greeting_language: Option<String>,
    pub voice_default_speaker: Option<String>,
    pub voice_eot_silence_ms: Option<i32>,
    pub voice_full_duplex_enabled: bool,
    pub voice_backchannel_filter: bool,
    pub voice_hard_interrupt: bool,
    pub voice_streaming: bool,
    pub voice_listening_ack: bool,
    pub voice_adaptive_speed: bool,
    pub voice_endpointing_min_delay_ms: Option<i32>,
    pub voice_endpointing_max_delay_ms: Option<i32>,
    pub voice_stk_max_hold_seconds: i32,
    /// Where a caller who asks for a person is put through (migration
    /// public/0004; NULL: promise a call back and hang up).
    pub voice_transfer_number: Option<String>,

    // Payments.
    pub payment_enabled: bool,
    /// 'mpesa' | 'pesapal'.
    pub preferred_payment_provider: String,
    /// 'sandbox' | 'production' | unset (use the settings).
    pub payment_environment_override: Option<String>,
    pub mpesa_enabled: bool,
    pub mpesa_shortcode: Option<String>,
    /// Legacy plain-text passkey column.
    pub mpesa_passkey: Option<Secret>,
    /// Fernet token (bytes) of the Daraja credential JSON.
    pub daraja_credentials: Option<Secret>,
    /// Fernet token (bytes) of the PesaPal credential JSON.
    pub pesapal_credentials: Option<Secret>,
    pub pesapal_ipn_id: Option<Uuid>,
    pub pesapal_nudge_seconds: i32,
    pub pesapal_abandon_seconds: i32,

    // Hand-off and costs.
    pub handoff_admin_notice_seconds: i32,
    pub handoff_admin_reminder_seconds: i32,
    pub handoff_escalation_seconds: i32,
    pub handoff_thresholds: serde_json::Value,
    pub cost_ceiling_soft_usd: Decimal,
    pub cost_ceiling_hard_usd: Decimal,
    pub llm_role_overrides: serde_json::Value,
    pub reminder_lead_seconds: i32,

    // Web widget.
    pub widget_primary_color: String,
    pub widget_logo_url: Option<String>,
    pub widget_display_name: Option<String>,
}

impl TenantRecord {
    /// Where the tenant stands at `now` (the one rule: [`Standing::of`]).
    pub fn standing(&self, now: chrono::DateTime<chrono::Utc>) -> Standing {
        Standing::of(
            self.status.as_deref(),
            self.trial_ends_at,
            self.deleted_at,
            now,
        )
    }

    /// Whether traffic for this tenant is served at `now`.
    pub fn serves(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.standing(now).serves()
    }
}

/// The columns [`TenantRecord`] is read from, for `SELECT`s on
/// `public.tenants`.
pub(crate) const TENANT_COLUMNS: &str = "id, slug, name, schema_name, vertical, timezone, currency, locale, status, \
     trial_ends_at, deleted_at, voice_number, whatsapp_number, whatsapp_phone_number_id, \
     whatsapp_business_account_id, whatsapp_access_token, admin_whatsapp_briefing_enabled, \
     instagram_business_account_id, instagram_access_token, instagram_enabled, \
     facebook_page_id, facebook_page_access_token, messenger_enabled, channel_steering_enabled, phone_otp_required, \
     voice_enabled, voice_greeting_language, voice_default_speaker, voice_eot_silence_ms, \
     voice_full_duplex_enabled, voice_backchannel_filter, voice_hard_interrupt, voice_streaming, \
     voice_listening_ack, voice_adaptive_speed, voice_endpointing_min_delay_ms, \
     voice_endpointing_max_delay_ms, voice_stk_max_hold_seconds, voice_transfer_number, \
     payment_enabled, \
     preferred_payment_provider, payment_environment_override, mpesa_enabled, mpesa_shortcode, \
     mpesa_passkey, encode(daraja_credentials, 'escape') AS daraja_credentials, \
     encode(pesapal_credentials, 'escape') AS pesapal_credentials, pesapal_ipn_id, \
     pesapal_nudge_seconds, pesapal_abandon_seconds, handoff_admin_notice_seconds, \
     handoff_admin_reminder_seconds, handoff_escalation_seconds, handoff_thresholds, \
     cost_ceiling_soft_usd, cost_ceiling_hard_usd, llm_role_overrides, reminder_lead_seconds, \
     widget_primary_color, widget_logo_url, widget_display_name";

impl TenantRecord {
    pub(crate) fn from_row(row: &PgRow) -> Result<Self, StorageError> {
        let raw_slug: Option<String> = row.try_get("slug")?;
        let raw_slug =
            raw_slug.ok_or_else(|| StorageError::Corrupt("tenant without slug".into()))?;
        let slug = TenantSlug::parse(&raw_slug)
            .map_err(|e| StorageError::Corrupt(format!("registry slug: {e}")))?;
        let secret = |col: &str| -> Result<Option<Secret>, StorageError> {
            Ok(row.try_get::<Option<String>, _>(col)?.map(Secret::new))
        };
        Ok(TenantRecord {
            id: TenantId(row.try_get("id")?),
            slug,
            name: row.try_get("name")?,
            schema_name: row.try_get("schema_name")?,
            vertical: row.try_get("vertical")?,
            timezone: row
                .try_get::<Option<String>, _>("timezone")?
                .unwrap_or_else(|| "Africa/Nairobi".into()),
            currency: row
                .try_get::<Option<String>, _>("currency")?
                .unwrap_or_else(|| "KES".into()),
            locale: row
                .try_get::<Option<String>, _>("locale")?
                .unwrap_or_else(|| "en".into()),
            status: row.try_get("status")?,
            trial_ends_at: row.try_get("trial_ends_at")?,
            deleted_at: row.try_get("deleted_at")?,
            voice_number: row.try_get("voice_number")?,
            whatsapp_number: row.try_get("whatsapp_number")?,
            whatsapp_phone_number_id: row.try_get("whatsapp_phone_number_id")?,
            whatsapp_business_account_id: row.try_get("whatsapp_business_account_id")?,
            whatsapp_access_token: secret("whatsapp_access_token")?,
            admin_whatsapp_briefing_enabled: row.try_get("admin_whatsapp_briefing_enabled")?,
            instagram_business_account_id: row.try_get("instagram_business_account_id")?,
            instagram_access_token: secret("instagram_access_token")?,
            instagram_enabled: row.try_get("instagram_enabled")?,
            facebook_page_id: row.try_get("facebook_page_id")?,
            facebook_page_access_token: secret("facebook_page_access_token")?,
            messenger_enabled: row.try_get("messenger_enabled")?,
            channel_steering_enabled: row.try_get("channel_steering_enabled")?,
            phone_otp_required: row.try_get("phone_otp_required")?,
            voice_enabled: row.try_get("voice_enabled")?,
            voice_greeting_language: row.try_get("voice_greeting_language")?,
            voice_default_speaker: row.try_get("voice_default_speaker")?,
            voice_eot_silence_ms: row.try_get("voice_eot_silence_ms")?,
            voice_full_duplex_enabled: row.try_get("voice_full_duplex_enabled")?,
            voice_backchannel_filter: row.try_get("voice_backchannel_filter")?,
            voice_hard_interrupt: row.try_get("voice_hard_interrupt")?,
            voice_streaming: row.try_get("voice_streaming")?,
            voice_listening_ack: row.try_get("voice_listening_ack")?,
            voice_adaptive_speed: row.try_get("voice_adaptive_speed")?,
            voice_endpointing_min_delay_ms: row.try_get("voice_endpointing_min_delay_ms")?,
            voice_endpointing_max_delay_ms: row.try_get("voice_endpointing_max_delay_ms")?,
            voice_stk_max_hold_seconds: row.try_get("voice_stk_max_hold_seconds")?,
            voice_transfer_number: row.try_get("voice_transfer_number")?,
            payment_enabled: row.try_get("payment_enabled")?,
            preferred_payment_provider: row.try_get("preferred_payment_provider")?,
            payment_environment_override: row.try_get("payment_environment_override")?,
            mpesa_enabled: row
                .try_get::<Option<bool>, _>("mpesa_enabled")?
                .unwrap_or(false),
            mpesa_shortcode: row.try_get("mpesa_shortcode")?,
            mpesa_passkey: secret("mpesa_passkey")?,
            daraja_credentials: secret("daraja_credentials")?,
            pesapal_credentials: secret("pesapal_credentials")?,
            pesapal_ipn_id: row.try_get("pesapal_ipn_id")?,
            pesapal_nudge_seconds: row.try_get("pesapal_nudge_seconds")?,
            pesapal_abandon_seconds: row.try_get("pesapal_abandon_seconds")?,
            handoff_admin_notice_seconds: row.try_get("handoff_admin_notice_seconds")?,
            handoff_admin_reminder_seconds: row.try_get("handoff_admin_reminder_seconds")?,
            handoff_escalation_seconds: row.try_get("handoff_escalation_seconds")?,
            handoff_thresholds: row.try_get("handoff_thresholds")?,
            cost_ceiling_soft_usd: row.try_get("cost_ceiling_soft_usd")?,
            cost_ceiling_hard_usd: row.try_get("cost_ceiling_hard_usd")?,
            llm_role_overrides: row.try_get("llm_role_overrides")?,
            reminder_lead_seconds: row.try_get("reminder_lead_seconds")?,
            widget_primary_color: row.try_get("widget_primary_color")?,
            widget_logo_url: row.try_get("widget_logo_url")?,
            widget_display_name: row.try_get("widget_display_name")?,
        })
    }
}

const ROUTABLE: &str = "deleted_at IS NULL AND status IS DISTINCT FROM 'deleted'";

/// What [`Db::tenant_for_intake`] reads.
#[derive(Debug, Clone)]
pub struct IntakeTenant {
    pub record: TenantRecord,
    /// `public.tenants.registry_version` when read.
    pub version: i64,
    /// Active admins, oldest first.
    pub admins: Vec<super::handoff::TenantAdmin>,
}

impl IntakeTenant {
    /// Whether traffic is routed to it (as the routing lookups' `ROUTABLE`).
    pub fn routable(&self) -> bool {
        self.record.deleted_at.is_none() && self.record.status.as_deref() != Some("deleted")
    }

    /// The active admin writing from `phone` (compared by digits, as
    /// [`super::handoff::admin_by_phone`] does), if it is one.
    pub fn admin_by_phone(&self, phone: &PhoneNumber) -> Option<&super::handoff::TenantAdmin> {
        self.admins.iter().find(|a| {
            a.phone
                .chars()
                .filter(char::is_ascii_digit)
                .eq(phone.digits().chars())
        })
    }
}

impl Db {
    /// Any registered tenant with this slug.
    pub async fn tenant_by_slug(
        &self,
        slug: &TenantSlug,
    ) -> Result<Option<TenantRecord>, StorageError> {
        let sql = format!("SELECT {TENANT_COLUMNS} FROM public.tenants WHERE slug = $1");
        self.fetch_tenant(sql, slug.as_str()).await
    }

    /// The live tenant whose voice DID this is (the number a caller dialled).
    pub async fn tenant_by_voice_number(
        &self,
        number: &PhoneNumber,
    ) -> Result<Option<TenantRecord>, StorageError> {
        let sql = format!(
            "SELECT {TENANT_COLUMNS} FROM public.tenants WHERE voice_number = $1 AND {ROUTABLE}"
        );
        self.fetch_tenant(sql, number.expose()).await
    }

    /// The live tenant owning this WhatsApp Cloud API phone_number_id.
    pub async fn tenant_by_whatsapp_phone_number_id(
        &self,
        phone_number_id: &str,
    ) -> Result<Option<TenantRecord>, StorageError> {
        let sql = format!(
            "SELECT {TENANT_COLUMNS} FROM public.tenants \
             WHERE whatsapp_phone_number_id = $1 AND {ROUTABLE}"
        );
        self.fetch_tenant(sql, phone_number_id).await
    }

    /// The live tenant whose Instagram professional account this is, with
    /// the channel on (`instagram_enabled`).
    pub async fn tenant_by_instagram_account_id(
        &self,
        account_id: &str,
    ) -> Result<Option<TenantRecord>, StorageError> {
        let sql = format!(
            "SELECT {TENANT_COLUMNS} FROM public.tenants \
             WHERE instagram_business_account_id = $1 AND instagram_enabled AND {ROUTABLE}"
        );
        self.fetch_tenant(sql, account_id).await
    }

    /// The live tenant whose Facebook page this is, with Messenger on
    /// (`messenger_enabled`).
    pub async fn tenant_by_facebook_page_id(
        &self,
        page_id: &str,
    ) -> Result<Option<TenantRecord>, StorageError> {
        let sql = format!(
            "SELECT {TENANT_COLUMNS} FROM public.tenants \
             WHERE facebook_page_id = $1 AND messenger_enabled AND {ROUTABLE}"
        );
        self.fetch_tenant(sql, page_id).await
    }

    /// Every registered tenant, by slug.
    pub async fn list_tenants(&self) -> Result<Vec<TenantRecord>, StorageError> {
        let sql = format!(
            "SELECT {TENANT_COLUMNS} FROM public.tenants WHERE slug IS NOT NULL ORDER BY slug"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(TenantRecord::from_row).collect()
    }

    /// A tenant's record, its registry version (migration public/0008:
    /// bumped by any change to the row or to its admins) and its active
    /// admins (oldest first), in one statement: what processing a chat
    /// message needs from the registry, to keep in memory until a message
    /// is claimed with a newer version. Any registered tenant (the caller
    /// checks that it is routable and still has the number).
    pub async fn tenant_for_intake(
        &self,
        id: TenantId,
    ) -> Result<Option<IntakeTenant>, StorageError> {
        let sql = format!(
            "SELECT {TENANT_COLUMNS}, registry_version, \
               ARRAY(SELECT a.id FROM public.tenant_admins a \
                     WHERE a.tenant_id = t.id AND a.is_active IS NOT FALSE \
                     ORDER BY a.created_at, a.id) AS admin_ids, \
               ARRAY(SELECT a.phone_number FROM public.tenant_admins a \
                     WHERE a.tenant_id = t.id AND a.is_active IS NOT FALSE \
                     ORDER BY a.created_at, a.id) AS admin_phones \
             FROM public.tenants t WHERE id = $1"
        );
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .fetch_optional(self.pool())
            .await?
        else {
            return Ok(None);
        };
        let ids: Vec<Uuid> = row.try_get("admin_ids")?;
        let phones: Vec<String> = row.try_get("admin_phones")?;
        Ok(Some(IntakeTenant {
            record: TenantRecord::from_row(&row)?,
            version: row.try_get("registry_version")?,
            admins: ids
                .into_iter()
                .zip(phones)
                .map(|(id, phone)| super::handoff::TenantAdmin { id, phone })
                .collect(),
        }))
    }

    async fn fetch_tenant(
        &self,
        sql: String,
        key: &str,
    ) -> Result<Option<TenantRecord>, StorageError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(key)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(TenantRecord::from_row).transpose()
    }
}
