//! Tenant onboarding: the registry row, the tenant's schema and its
//! migration chain, as one transaction.
//!
//! Onboarding is idempotent: onboarding a slug that already exists leaves its
//! registry row as it is, makes sure the schema and chain are complete, and
//! reports [`Onboarded::AlreadyExisted`]. It is atomic: if any step fails
//! (say the voice number belongs to another tenant) nothing of it remains —
//! no schema, no tables, no registry row. The schema and chain are created
//! before the registry row, so a late failure still rolls them back.

use std::fmt;
use std::str::FromStr;

use super::registry::{TENANT_COLUMNS, TenantRecord};
use super::{Db, StorageError, migrate};
use crate::core::ids::{PhoneNumber, TenantSlug};

/// The kinds of business Ratiba serves (`public.tenants.vertical`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Vertical {
    Spa,
    Salon,
    Barbershop,
    Dental,
    Physio,
    Medical,
    Tutoring,
    Legal,
}

impl Vertical {
    pub const ALL: [Vertical; 8] = [
        Self::Spa,
        Self::Salon,
        Self::Barbershop,
        Self::Dental,
        Self::Physio,
        Self::Medical,
        Self::Tutoring,
        Self::Legal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Spa => "spa",
            Self::Salon => "salon",
            Self::Barbershop => "barbershop",
            Self::Dental => "dental",
            Self::Physio => "physio",
            Self::Medical => "medical",
            Self::Tutoring => "tutoring",
            Self::Legal => "legal",
        }
    }
}

impl fmt::Display for Vertical {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Vertical {
    type Err = StorageError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<_> = Self::ALL.iter().map(|v| v.as_str()).collect();
                StorageError::Invalid(format!("vertical {s:?} is not one of {}", all.join(", ")))
            })
    }
}

/// What onboarding needs to know about a new tenant.
#[derive(Debug, Clone)]
pub struct NewTenant {
    pub slug: TenantSlug,
    pub name: String,
    pub vertical: Vertical,
    pub voice_number: Option<PhoneNumber>,
    pub whatsapp_number: Option<PhoneNumber>,
    pub whatsapp_phone_number_id: Option<String>,
    /// IANA zone; default Africa/Nairobi.
    pub timezone: Option<String>,
    /// ISO 4217; default KES.
    pub currency: Option<String>,
    /// Default 'active'.
    pub status: Option<String>,
}

impl NewTenant {
    pub fn new(slug: TenantSlug, name: impl Into<String>, vertical: Vertical) -> Self {
        Self {
            slug,
            name: name.into(),
            vertical,
            voice_number: None,
            whatsapp_number: None,
            whatsapp_phone_number_id: None,
            timezone: None,
            currency: None,
            status: None,
        }
    }
}

/// The outcome of onboarding.
#[derive(Debug, Clone)]
pub enum Onboarded {
    Created(TenantRecord),
    AlreadyExisted(TenantRecord),
}

impl Onboarded {
    pub fn record(&self) -> &TenantRecord {
        match self {
            Self::Created(r) | Self::AlreadyExisted(r) => r,
        }
    }

    pub fn into_record(self) -> TenantRecord {
        match self {
            Self::Created(r) | Self::AlreadyExisted(r) => r,
        }
    }

    pub fn created(&self) -> bool {
        matches!(self, Self::Created(_))
    }
}

impl Db {
    /// Registers the tenant, creates `tenant_<slug>` and applies the tenant
    /// chain, all in one transaction. Idempotent (see the module docs).
    pub async fn onboard_tenant(&self, new: &NewTenant) -> Result<Onboarded, StorageError> {
        if new.name.trim().is_empty() {
            return Err(StorageError::Invalid("tenant name is empty".into()));
        }
        if let Some(tz) = &new.timezone
            && tz.parse::<chrono_tz::Tz>().is_err()
        {
            return Err(StorageError::Invalid(format!(
                "{tz:?} is not an IANA time zone"
            )));
        }
        let mut tx = self.pool().begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('ratiba-onboard:' || $1))")
            .bind(new.slug.as_str())
            .execute(&mut *tx)
            .await?;

        migrate::create_and_migrate_tenant_in(&mut tx, &new.slug).await?;

        let inserted = sqlx::query(
            "INSERT INTO public.tenants \
               (name, slug, schema_name, vertical, voice_number, whatsapp_number, \
                whatsapp_phone_number_id, timezone, currency, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, \
                     COALESCE($8, 'Africa/Nairobi'), COALESCE($9, 'KES'), COALESCE($10, 'active')) \
             ON CONFLICT (slug) DO NOTHING \
             RETURNING id",
        )
        .bind(new.name.trim())
        .bind(new.slug.as_str())
        .bind(new.slug.schema_name())
        .bind(new.vertical.as_str())
        .bind(new.voice_number.as_ref().map(PhoneNumber::expose))
        .bind(new.whatsapp_number.as_ref().map(PhoneNumber::expose))
        .bind(new.whatsapp_phone_number_id.as_deref())
        .bind(new.timezone.as_deref())
        .bind(new.currency.as_deref())
        .bind(new.status.as_deref())
        .fetch_optional(&mut *tx)
        .await
        .map_err(StorageError::classify)?;

        let sql = format!("SELECT {TENANT_COLUMNS} FROM public.tenants WHERE slug = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(new.slug.as_str())
            .fetch_one(&mut *tx)
            .await?;
        let record = TenantRecord::from_row(&row)?;
        if inserted.is_none() && record.schema_name.as_deref() != Some(&new.slug.schema_name()) {
            // The slug is registered but its schema was finalised away
            // (deleted tenant): refuse rather than resurrect it silently.
            return Err(StorageError::Conflict {
                constraint: "tenants_slug_key (a deleted tenant holds this slug)".into(),
            });
        }
        tx.commit().await?;
        Ok(if inserted.is_some() {
            Onboarded::Created(record)
        } else {
            Onboarded::AlreadyExisted(record)
        })
    }
}
