//! Contacts (the customers who booked or wrote) and their history: the
//! interactions of every channel, newest first. Identities come from the
//! channel-agnostic layer (customers / customer_identities), bridged by
//! phone number as the DAO layer does elsewhere.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::storage::{StorageError, TenantHandle};

/// One contact.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Contact {
    pub id: Uuid,
    pub phone_number: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub language_pref: Option<String>,
    pub tags: Option<Vec<String>>,
    pub notes: Option<String>,
    pub total_bookings: Option<i32>,
    pub total_spent: Option<Decimal>,
    pub last_visit_at: Option<DateTime<Utc>>,
    pub created_at: Option<DateTime<Utc>>,
}

/// How the customer is known on a channel.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Identity {
    /// whatsapp | voice | web_cookie | instagram | messenger
    pub provider: String,
    pub external_id: String,
    pub created_at: Option<DateTime<Utc>>,
}

/// A contact with the identities of the same person.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContactDetail {
    #[serde(flatten)]
    pub contact: Contact,
    pub identities: Vec<Identity>,
}

/// One message in or out, on any channel.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Interaction {
    pub id: Uuid,
    /// whatsapp | voice | dashboard
    pub channel: String,
    /// inbound | outbound
    pub direction: String,
    pub message_type: Option<String>,
    pub content: Option<String>,
    pub intent: Option<String>,
    pub language: Option<String>,
    pub duration_ms: Option<i32>,
    pub created_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, phone_number, name, email, language_pref, tags, notes, \
     total_bookings, total_spent, last_visit_at, created_at";

/// The digits of a phone search, without a national leading 0 (so
/// "0722 000" finds +254722000…); `None` when there are fewer than 3.
pub fn phone_digits(q: &str) -> Option<String> {
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.strip_prefix('0').unwrap_or(&digits).to_owned();
    (digits.len() >= 3).then_some(digits)
}

/// Contacts whose name contains `q` (any case) or whose phone contains its
/// digits; all when `q` is `None`. Newest first; `limit` + `offset`.
pub async fn search(
    tenant: &TenantHandle,
    q: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Contact>, StorageError> {
    let mut tx = tenant.begin().await?;
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM contacts \
         WHERE $1::text IS NULL \
            OR position(lower($1) IN lower(coalesce(name, ''))) > 0 \
            OR ($2::text IS NOT NULL AND position($2 IN regexp_replace(phone_number, '\\D', '', 'g')) > 0) \
         ORDER BY created_at DESC NULLS LAST, id LIMIT $3 OFFSET $4"
    )))
    .bind(q)
    .bind(q.and_then(phone_digits))
    .bind(limit)
    .bind(offset)
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(rows)
}

/// One contact with their identities; `None` if not this tenant's.
pub async fn get(tenant: &TenantHandle, id: Uuid) -> Result<Option<ContactDetail>, StorageError> {
    let mut tx = tenant.begin().await?;
    let contact: Option<Contact> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM contacts WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    let Some(contact) = contact else {
        tx.commit().await?;
        return Ok(None);
    };
    let identities = sqlx::query_as(
        "SELECT i.provider, i.external_id, i.created_at FROM customer_identities i \
         JOIN customers cu ON cu.customer_id = i.customer_id \
         WHERE cu.phone_e164 = $1 ORDER BY i.created_at, i.provider, i.external_id",
    )
    .bind(&contact.phone_number)
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(Some(ContactDetail {
        contact,
        identities,
    }))
}

/// A contact's interactions, newest first; `None` if the contact is not
/// this tenant's.
pub async fn interactions(
    tenant: &TenantHandle,
    id: Uuid,
    limit: i64,
    offset: i64,
) -> Result<Option<Vec<Interaction>>, StorageError> {
    let mut tx = tenant.begin().await?;
    let exists: Option<Uuid> = sqlx::query_scalar("SELECT id FROM contacts WHERE id = $1")
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    if exists.is_none() {
        tx.commit().await?;
        return Ok(None);
    }
    let rows = sqlx::query_as(
        "SELECT id, channel, direction, message_type, content, intent, language, duration_ms, \
                created_at \
         FROM interactions WHERE contact_id = $1 \
         ORDER BY created_at DESC NULLS LAST, id LIMIT $2 OFFSET $3",
    )
    .bind(id)
    .bind(limit)
    .bind(offset)
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(Some(rows))
}

#[cfg(test)]
mod tests {
    use super::phone_digits;

    #[test]
    fn phone_search_digits() {
        assert_eq!(phone_digits("0722 000").as_deref(), Some("722000"));
        assert_eq!(phone_digits("+254-722").as_deref(), Some("254722"));
        assert_eq!(phone_digits("Amina"), None);
        assert_eq!(phone_digits("07"), None);
    }
}
