//! The admins' daily briefing on WhatsApp (`admin_whatsapp_briefing_enabled`):
//! once the tenant's business has started for the day (the earliest staff
//! start in its timezone), one card to each active admin with today's
//! appointments, the unpaid ones, the customers waiting for a person and
//! the tenant's parked WhatsApp messages. Sent once per tenant and local
//! day across nodes: the node that inserts the day's
//! `public.admin_briefings` row sends, holding the row uncommitted until
//! the sends are done (a node that fails to send rolls it back and the
//! next sweep tries again). Swept with the reminders.

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use tracing::Instrument;

use crate::adapters::whatsapp::client::Window;
use crate::core::ids::PhoneNumber;
use crate::core::messages::briefing::{Briefing, BriefingLine, due};
use crate::runtime::handoff;
use crate::runtime::whatsapp_chat::{WhatsAppChats, sender};
use crate::storage::briefing as store;
use crate::storage::{StorageError, TenantRecord};

/// Sends every briefing due at `now`; returns the tenants briefed.
pub async fn sweep(chats: &WhatsAppChats, now: DateTime<Utc>) -> Result<usize, StorageError> {
    let mut briefed = 0;
    for tenant in chats.db.list_tenants().await? {
        if !tenant.serves(now)
            || !tenant.admin_whatsapp_briefing_enabled
            || tenant.whatsapp_phone_number_id.is_none()
        {
            continue;
        }
        let span = tracing::info_span!("briefing", tenant = %tenant.slug);
        match brief(chats, &tenant, now).instrument(span).await {
            Ok(true) => briefed += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(tenant = %tenant.slug, error = %e, "admin briefing not sent; will retry")
            }
        }
    }
    Ok(briefed)
}

async fn brief(
    chats: &WhatsAppChats,
    tenant: &TenantRecord,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let tz: chrono_tz::Tz = tenant
        .timezone
        .parse()
        .unwrap_or(chrono_tz::Africa::Nairobi);
    let local = now.with_timezone(&tz);
    let today = local.date_naive();
    let handle = chats.db.tenant(&tenant.slug);
    let mut tx = handle.begin().await?;
    let dow = i16::try_from(today.weekday().num_days_from_monday()).unwrap_or(0);
    if !due(local.time(), store::opens_on(&mut tx, dow).await?) {
        return Ok(false);
    }
    let admins = store::admin_phones(&chats.db, tenant.id).await?;
    if admins.is_empty() {
        return Ok(false);
    }
    let Some((phone_number_id, token)) = sender(chats, tenant, "admin briefing") else {
        return Ok(false);
    };
    let Some(claim) = store::claim_day(&chats.db, tenant.id, today).await? else {
        return Ok(false);
    };
    let start = tz
        .from_local_datetime(&today.and_hms_opt(0, 0, 0).unwrap_or_default())
        .earliest()
        .map_or(now, |t| t.with_timezone(&Utc));
    let day = store::appointments_between(&mut tx, start, start + Duration::days(1)).await?;
    tx.commit().await?;
    let card = Briefing {
        business: tenant.name.clone(),
        date: today,
        appointments: day
            .into_iter()
            .map(|a| BriefingLine {
                time: a.start.with_timezone(&tz).time(),
                service: a.service.unwrap_or_else(|| "appointment".into()),
                staff: a.staff,
                customer: a.customer,
                unpaid: a.payment_status.as_deref() != Some("paid"),
            })
            .collect(),
        waiting: i64::try_from(handoff::waiting(&handle).await?.len()).unwrap_or(i64::MAX),
        dead_letters: store::parked_messages(&chats.db, tenant.id).await?,
    };
    let text = card.text();
    let mut sent = 0;
    for admin in &admins {
        let Ok(to) = PhoneNumber::parse(admin) else {
            continue;
        };
        match chats
            .graph
            .send_update(
                &phone_number_id,
                token.expose(),
                to.digits(),
                &text,
                "en",
                Window::Unknown,
            )
            .await
        {
            Ok(_) => sent += 1,
            Err(e) => tracing::warn!(error = %e, "admin briefing not delivered to one admin"),
        }
    }
    if sent == 0 {
        // Dropping the claim rolls it back: the next sweep tries again.
        return Ok(false);
    }
    claim.sent(sent).await?;
    tracing::info!(admins = sent, "admin briefing sent");
    Ok(true)
}
