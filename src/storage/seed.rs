//! The demo tenant (a Nairobi salon) from `fixtures/demo/*.json`.
//!
//! The fixtures are data files compiled into the binary, so `ratiba seed
//! demo`, the first start of `ratiba serve` and the tests all load the same
//! rows from anywhere. Seeding is idempotent: the registry row's dials are
//! (re)applied every time; the catalog, staff, knowledge and personality are
//! inserted only into an empty tenant, in one transaction.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate, NaiveTime, TimeZone};
use rust_decimal::Decimal;
use serde::Deserialize;
use uuid::Uuid;

use super::onboarding::{NewTenant, Vertical};
use super::{Db, StorageError, TenantRecord, Vault};
use crate::core::ids::{PhoneNumber, TenantSlug};

/// The demo tenant's slug.
pub const DEMO_SLUG: &str = "demo";

const TENANT_JSON: &str = include_str!("../../fixtures/demo/tenant.json");
const SERVICES_JSON: &str = include_str!("../../fixtures/demo/services.json");
const STAFF_JSON: &str = include_str!("../../fixtures/demo/staff.json");
const KNOWLEDGE_JSON: &str = include_str!("../../fixtures/demo/knowledge.json");
const PERSONALITY_JSON: &str = include_str!("../../fixtures/demo/personality.json");

/// What seeding did.
#[derive(Debug, Clone)]
pub struct SeedReport {
    pub tenant: TenantRecord,
    /// The registry row was created by this run.
    pub created_tenant: bool,
    /// The catalog, staff and knowledge were inserted by this run.
    pub seeded_rows: bool,
}

#[derive(Debug, Deserialize)]
pub struct DemoTenant {
    pub slug: TenantSlug,
    pub name: String,
    pub vertical: Vertical,
    pub timezone: String,
    pub currency: String,
    pub locale: String,
    pub status: String,
    pub voice_number: String,
    pub whatsapp_number: String,
    pub whatsapp_phone_number_id: String,
    pub whatsapp_business_account_id: String,
    /// Instagram DMs, switched on (`ratiba chat --channel instagram`).
    pub instagram_business_account_id: String,
    /// Messenger, switched on (`ratiba chat --channel messenger`).
    pub facebook_page_id: String,
    pub voice: DemoVoice,
    pub payments: DemoPayments,
}

#[derive(Debug, Deserialize)]
pub struct DemoVoice {
    pub voice_enabled: bool,
    pub voice_full_duplex_enabled: bool,
    pub voice_backchannel_filter: bool,
    pub voice_hard_interrupt: bool,
    pub voice_streaming: bool,
    pub voice_listening_ack: bool,
    pub voice_adaptive_speed: bool,
    pub voice_greeting_language: Option<String>,
    pub voice_default_speaker: Option<String>,
    pub voice_eot_silence_ms: Option<i32>,
    pub voice_endpointing_min_delay_ms: Option<i32>,
    pub voice_endpointing_max_delay_ms: Option<i32>,
    pub voice_stk_max_hold_seconds: i32,
}

#[derive(Debug, Deserialize)]
pub struct DemoPayments {
    pub payment_enabled: bool,
    pub preferred_payment_provider: String,
    pub payment_environment_override: Option<String>,
    pub mpesa_enabled: bool,
    pub mpesa_shortcode: String,
    pub mpesa_passkey: String,
    /// Stored Fernet-encrypted in `daraja_credentials`.
    pub daraja_credentials: serde_json::Value,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DemoService {
    pub name: String,
    pub name_sw: String,
    pub description: String,
    pub duration_min: i32,
    pub price: Decimal,
    pub buffer_min: i32,
    pub sort_order: i32,
}

#[derive(Debug, Deserialize)]
pub struct DemoStaffFile {
    pub staff: Vec<DemoStaff>,
    pub blocks: Vec<DemoBlock>,
}

#[derive(Debug, Deserialize)]
pub struct DemoStaff {
    pub name: String,
    pub phone_number: String,
    pub employment_type: String,
    pub kra_pin: String,
    pub hire_date: NaiveDate,
    pub base_pay_kes_minor: Option<i32>,
    /// Service names from services.json.
    pub services: Vec<String>,
    pub schedule: Vec<DemoShift>,
}

#[derive(Debug, Deserialize)]
pub struct DemoShift {
    /// 0 = Monday … 6 = Sunday.
    pub day_of_week: i16,
    pub start_time: NaiveTime,
    pub end_time: NaiveTime,
}

/// A block relative to the seeding day, so the demo always has one ahead.
#[derive(Debug, Deserialize)]
pub struct DemoBlock {
    pub staff: String,
    pub days_from_seed: u64,
    pub start_time: NaiveTime,
    pub end_time: NaiveTime,
    pub reason: String,
}

#[derive(Debug, Deserialize)]
pub struct DemoSnippet {
    pub category: String,
    pub language: String,
    pub title: String,
    pub body: String,
}

#[derive(Debug, Deserialize)]
pub struct DemoPersonality {
    pub tone: Option<String>,
    pub greeting_mode: Option<String>,
    pub greeting_custom: Option<String>,
    pub upsell: Option<String>,
    pub cancellation_tone: Option<String>,
    pub honorific: Option<String>,
    pub cross_sell: Option<String>,
}

/// All demo fixtures, parsed.
#[derive(Debug)]
pub struct DemoFixtures {
    pub tenant: DemoTenant,
    pub services: Vec<DemoService>,
    pub staff: DemoStaffFile,
    pub knowledge: Vec<DemoSnippet>,
    pub personality: DemoPersonality,
}

fn parse<T: serde::de::DeserializeOwned>(
    name: &'static str,
    text: &str,
) -> Result<T, StorageError> {
    serde_json::from_str(text).map_err(|e| StorageError::Fixture {
        name,
        reason: e.to_string(),
    })
}

impl DemoFixtures {
    pub fn load() -> Result<Self, StorageError> {
        Ok(Self {
            tenant: parse("tenant.json", TENANT_JSON)?,
            services: parse("services.json", SERVICES_JSON)?,
            staff: parse("staff.json", STAFF_JSON)?,
            knowledge: parse("knowledge.json", KNOWLEDGE_JSON)?,
            personality: parse("personality.json", PERSONALITY_JSON)?,
        })
    }
}

/// Onboards the demo tenant, applies its dials, and fills an empty tenant
/// with the demo rows. With a vault, the Daraja credentials are stored
/// encrypted too.
pub async fn seed_demo(db: &Db, vault: Option<&Vault>) -> Result<SeedReport, StorageError> {
    let fx = DemoFixtures::load()?;
    let t = &fx.tenant;
    let phone = |raw: &str| {
        PhoneNumber::parse(raw).map_err(|e| StorageError::Fixture {
            name: "tenant.json",
            reason: e.to_string(),
        })
    };
    let mut new = NewTenant::new(t.slug.clone(), &t.name, t.vertical);
    new.voice_number = Some(phone(&t.voice_number)?);
    new.whatsapp_number = Some(phone(&t.whatsapp_number)?);
    new.whatsapp_phone_number_id = Some(t.whatsapp_phone_number_id.clone());
    new.timezone = Some(t.timezone.clone());
    new.currency = Some(t.currency.clone());
    new.status = Some(t.status.clone());
    let onboarded = db.onboard_tenant(&new).await?;
    let created_tenant = onboarded.created();

    let daraja = vault
        .map(|v| v.encrypt_json(&t.payments.daraja_credentials))
        .transpose()?;
    let v = &t.voice;
    let p = &t.payments;
    sqlx::query(
        "UPDATE public.tenants SET \
           locale = $2, whatsapp_business_account_id = $3, \
           voice_enabled = $4, voice_full_duplex_enabled = $5, voice_backchannel_filter = $6, \
           voice_hard_interrupt = $7, voice_streaming = $8, voice_listening_ack = $9, \
           voice_adaptive_speed = $10, voice_greeting_language = $11, \
           voice_default_speaker = $12, voice_eot_silence_ms = $13, \
           voice_endpointing_min_delay_ms = $14, voice_endpointing_max_delay_ms = $15, \
           voice_stk_max_hold_seconds = $16, payment_enabled = $17, \
           preferred_payment_provider = $18, payment_environment_override = $19, \
           mpesa_enabled = $20, mpesa_shortcode = $21, mpesa_passkey = $22, \
           daraja_credentials = COALESCE(daraja_credentials, $23), updated_at = NOW() \
         WHERE slug = $1",
    )
    .bind(t.slug.as_str())
    .bind(&t.locale)
    .bind(&t.whatsapp_business_account_id)
    .bind(v.voice_enabled)
    .bind(v.voice_full_duplex_enabled)
    .bind(v.voice_backchannel_filter)
    .bind(v.voice_hard_interrupt)
    .bind(v.voice_streaming)
    .bind(v.voice_listening_ack)
    .bind(v.voice_adaptive_speed)
    .bind(&v.voice_greeting_language)
    .bind(&v.voice_default_speaker)
    .bind(v.voice_eot_silence_ms)
    .bind(v.voice_endpointing_min_delay_ms)
    .bind(v.voice_endpointing_max_delay_ms)
    .bind(v.voice_stk_max_hold_seconds)
    .bind(p.payment_enabled)
    .bind(&p.preferred_payment_provider)
    .bind(&p.payment_environment_override)
    .bind(p.mpesa_enabled)
    .bind(&p.mpesa_shortcode)
    .bind(&p.mpesa_passkey)
    .bind(daraja)
    .execute(db.pool())
    .await
    .map_err(StorageError::classify)?;

    meta_channels(db, t).await?;
    let seeded_rows = seed_rows(db, &fx).await?;
    let tenant = db
        .tenant_by_slug(&t.slug)
        .await?
        .ok_or_else(|| StorageError::UnknownTenant(t.slug.clone()))?;
    Ok(SeedReport {
        tenant,
        created_tenant,
        seeded_rows,
    })
}

/// Gives a demo tenant seeded before Instagram and Messenger existed its
/// Instagram account and page, both switched on (run at every start; a
/// no-op when there is no demo tenant or it has them).
pub async fn upgrade_demo(db: &Db) -> Result<(), StorageError> {
    let fx = DemoFixtures::load()?;
    meta_channels(db, &fx.tenant).await
}

/// The demo's Instagram account id and page id, each with its channel on,
/// where the fixture's demo tenant (its WhatsApp number id) has none yet:
/// idempotent, and an operator's later change (an id, a channel switched
/// off) stays.
async fn meta_channels(db: &Db, t: &DemoTenant) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE public.tenants SET \
           instagram_business_account_id = COALESCE(instagram_business_account_id, $3), \
           instagram_enabled = instagram_enabled OR instagram_business_account_id IS NULL, \
           facebook_page_id = COALESCE(facebook_page_id, $4), \
           messenger_enabled = messenger_enabled OR facebook_page_id IS NULL, \
           updated_at = NOW() \
         WHERE slug = $1 AND whatsapp_phone_number_id = $2 \
           AND (instagram_business_account_id IS NULL OR facebook_page_id IS NULL)",
    )
    .bind(t.slug.as_str())
    .bind(&t.whatsapp_phone_number_id)
    .bind(&t.instagram_business_account_id)
    .bind(&t.facebook_page_id)
    .execute(db.pool())
    .await
    .map_err(StorageError::classify)?;
    Ok(())
}

async fn seed_rows(db: &Db, fx: &DemoFixtures) -> Result<bool, StorageError> {
    let mut tx = db.tenant(&fx.tenant.slug).begin().await?;
    let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM services")
        .fetch_one(tx.conn())
        .await?;
    if existing > 0 {
        return Ok(false);
    }

    let mut service_ids = BTreeMap::new();
    for s in &fx.services {
        let id: Uuid = sqlx::query_scalar(
            "INSERT INTO services \
               (name, name_sw, description, duration_min, price, currency, buffer_min, sort_order) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(&s.name)
        .bind(&s.name_sw)
        .bind(&s.description)
        .bind(s.duration_min)
        .bind(s.price)
        .bind(&fx.tenant.currency)
        .bind(s.buffer_min)
        .bind(s.sort_order)
        .fetch_one(tx.conn())
        .await?;
        service_ids.insert(s.name.as_str(), id);
    }

    let mut staff_ids = BTreeMap::new();
    for member in &fx.staff.staff {
        let id: Uuid = sqlx::query_scalar(
            "INSERT INTO staff \
               (name, phone_number, employment_type, kra_pin, hire_date, base_pay_kes_minor) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(&member.name)
        .bind(&member.phone_number)
        .bind(&member.employment_type)
        .bind(&member.kra_pin)
        .bind(member.hire_date)
        .bind(member.base_pay_kes_minor)
        .fetch_one(tx.conn())
        .await
        .map_err(StorageError::classify)?;
        staff_ids.insert(member.name.as_str(), id);
        for service in &member.services {
            let service_id =
                service_ids
                    .get(service.as_str())
                    .ok_or_else(|| StorageError::Fixture {
                        name: "staff.json",
                        reason: format!("{} offers unknown service {service:?}", member.name),
                    })?;
            sqlx::query("INSERT INTO staff_services (staff_id, service_id) VALUES ($1, $2)")
                .bind(id)
                .bind(service_id)
                .execute(tx.conn())
                .await?;
        }
        for shift in &member.schedule {
            sqlx::query(
                "INSERT INTO staff_schedules (staff_id, day_of_week, start_time, end_time) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(shift.day_of_week)
            .bind(shift.start_time)
            .bind(shift.end_time)
            .execute(tx.conn())
            .await
            .map_err(StorageError::classify)?;
        }
    }

    let tz: chrono_tz::Tz = fx
        .tenant
        .timezone
        .parse()
        .map_err(|_| StorageError::Fixture {
            name: "tenant.json",
            reason: "bad timezone".into(),
        })?;
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    for block in &fx.staff.blocks {
        let staff_id =
            staff_ids
                .get(block.staff.as_str())
                .ok_or_else(|| StorageError::Fixture {
                    name: "staff.json",
                    reason: format!("block for unknown staff {:?}", block.staff),
                })?;
        let day = today
            .checked_add_days(Days::new(block.days_from_seed))
            .ok_or_else(|| StorageError::Fixture {
                name: "staff.json",
                reason: "block date out of range".into(),
            })?;
        let local = |t: NaiveTime| {
            tz.from_local_datetime(&day.and_time(t))
                .single()
                .map(|d| d.with_timezone(&chrono::Utc))
                .ok_or_else(|| StorageError::Fixture {
                    name: "staff.json",
                    reason: "ambiguous block time".into(),
                })
        };
        sqlx::query(
            "INSERT INTO staff_blocks (staff_id, start_at, end_at, reason) VALUES ($1, $2, $3, $4)",
        )
        .bind(staff_id)
        .bind(local(block.start_time)?)
        .bind(local(block.end_time)?)
        .bind(&block.reason)
        .execute(tx.conn())
        .await?;
    }

    for k in &fx.knowledge {
        sqlx::query(
            "INSERT INTO knowledge_snippets (category, title, body, language) VALUES ($1, $2, $3, $4)",
        )
        .bind(&k.category)
        .bind(&k.title)
        .bind(&k.body)
        .bind(&k.language)
        .execute(tx.conn())
        .await?;
    }

    let p = &fx.personality;
    sqlx::query(
        "INSERT INTO tenant_personality_config \
           (tone, greeting_mode, greeting_custom, upsell, cancellation_tone, honorific, cross_sell) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&p.tone)
    .bind(&p.greeting_mode)
    .bind(&p.greeting_custom)
    .bind(&p.upsell)
    .bind(&p.cancellation_tone)
    .bind(&p.honorific)
    .bind(&p.cross_sell)
    .execute(tx.conn())
    .await?;

    tx.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixtures_parse_and_hang_together() {
        let fx = DemoFixtures::load().unwrap();
        assert_eq!(fx.tenant.slug.as_str(), DEMO_SLUG);
        assert_eq!(fx.tenant.payments.mpesa_shortcode, "174379");
        assert!(fx.services.len() >= 10);
        assert!((3..=4).contains(&fx.staff.staff.len()));
        let names: Vec<&str> = fx.services.iter().map(|s| s.name.as_str()).collect();
        for member in &fx.staff.staff {
            for s in &member.services {
                assert!(names.contains(&s.as_str()), "{s}");
            }
            for shift in &member.schedule {
                assert!((0..=6).contains(&shift.day_of_week));
                assert!(shift.start_time < shift.end_time);
            }
        }
        for lang in ["en", "sw"] {
            assert!(fx.knowledge.iter().filter(|k| k.language == lang).count() >= 5);
        }
    }
}
