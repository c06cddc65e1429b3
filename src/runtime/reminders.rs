//! Appointment reminders on WhatsApp: every node sweeps every
//! `RATIBA_REMINDER_SWEEP_MS` (default 60 s). For each served tenant with a
//! WhatsApp number, each confirmed appointment starting within the
//! tenant's `reminder_lead_seconds` is claimed (`FOR UPDATE SKIP LOCKED`,
//! [`crate::storage::reminders`]), its reminder sent (free-form inside the
//! customer's 24 h window, the update template outside it), and in the
//! same transaction `reminder_sent` set, an outbound interaction with
//! intent `reminder` written and the reminded appointment put into the
//! customer's conversation, so that "CANCEL" or "MOVE" next means it.
//!
//! A send Meta refuses (a bad number) still marks the reminder sent and is
//! recorded with status `failed`, so it is not retried every minute; a
//! send that did not get through (network, 5xx) rolls back and is tried
//! at the next sweep. A node dying between Meta's answer and the commit
//! may send the same reminder twice; the flag is set once.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use tracing::Instrument;

use crate::adapters::whatsapp::WhatsAppError;
use crate::adapters::whatsapp::client::Window;
use crate::core::dialog::Channel;
use crate::core::ids::{Lang, PhoneNumber};
use crate::core::messages::reminder::{Reminder, due_until};
use crate::runtime::whatsapp_chat::{WhatsAppChats, sender};
use crate::storage::conversation::{self as conv, InteractionRow};
use crate::storage::reminders::{self, DueReminder};
use crate::storage::{StorageError, TenantRecord};

/// What one sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReminderReport {
    /// Reminders Meta accepted.
    pub sent: usize,
    /// Reminders Meta refused (marked sent, recorded as failed).
    pub refused: usize,
}

/// Sweeps reminders, then the admins' briefings
/// ([`crate::runtime::briefing`]), every `every` until the process ends.
pub fn spawn_sweeper(chats: Arc<WhatsAppChats>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(
        async move {
            let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // The first sweep one period after start.
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = sweep(&chats, Utc::now()).await {
                    tracing::warn!(error = %e, "reminder sweep failed; will retry");
                }
                if let Err(e) = crate::runtime::briefing::sweep(&chats, Utc::now()).await {
                    tracing::warn!(error = %e, "admin briefing sweep failed; will retry");
                }
            }
        }
        .instrument(tracing::info_span!("reminder_sweep")),
    )
}

/// Sends every reminder due at `now`, across the served tenants.
pub async fn sweep(
    chats: &WhatsAppChats,
    now: DateTime<Utc>,
) -> Result<ReminderReport, StorageError> {
    let mut report = ReminderReport::default();
    for tenant in chats.db.list_tenants().await? {
        if !tenant.serves(now)
            || tenant.reminder_lead_seconds <= 0
            || tenant.whatsapp_phone_number_id.is_none()
        {
            continue;
        }
        let span = tracing::info_span!("reminders", tenant = %tenant.slug);
        if let Err(e) = sweep_tenant(chats, &tenant, now, &mut report)
            .instrument(span)
            .await
        {
            tracing::warn!(tenant = %tenant.slug, error = %e, "reminders not swept for a tenant");
        }
    }
    Ok(report)
}

async fn sweep_tenant(
    chats: &WhatsAppChats,
    tenant: &TenantRecord,
    now: DateTime<Utc>,
    report: &mut ReminderReport,
) -> Result<(), StorageError> {
    let Some((phone_number_id, token)) = sender(chats, tenant, "reminder") else {
        return Ok(());
    };
    let tz: chrono_tz::Tz = tenant
        .timezone
        .parse()
        .unwrap_or(chrono_tz::Africa::Nairobi);
    let handle = chats.db.tenant(&tenant.slug);
    let until = due_until(now, tenant.reminder_lead_seconds);
    loop {
        let mut tx = handle.begin().await?;
        let Some(due) = reminders::claim_due(&mut tx, now, until).await? else {
            return Ok(());
        };
        let Ok(phone) = PhoneNumber::parse(&due.phone) else {
            tracing::warn!(appointment = %due.appointment_id, "contact phone unusable; reminder skipped");
            reminders::mark_sent(&mut tx, due.appointment_id).await?;
            tx.commit().await?;
            continue;
        };
        let lang = due
            .language
            .as_deref()
            .and_then(Lang::from_code)
            .unwrap_or_default();
        let text = reminder_text(tenant, &due, lang, tz);
        let window = Window::since(conv::last_whatsapp_message(&mut tx, &phone).await?, now);
        let sent = chats
            .graph
            .send_update(
                &phone_number_id,
                token.expose(),
                phone.digits(),
                &text,
                lang.code(),
                window,
            )
            .await;
        let (status, wamid) = match sent {
            Ok(wamid) => {
                report.sent += 1;
                ("accepted", Some(wamid))
            }
            Err(WhatsAppError::Refused { status, code }) => {
                tracing::warn!(appointment = %due.appointment_id, http = status, code = ?code, "reminder refused by the Graph API; not retried");
                report.refused += 1;
                ("failed", None)
            }
            Err(e) => {
                tracing::warn!(error = %e, "reminder not sent; the next sweep tries again");
                tx.rollback().await?;
                return Ok(());
            }
        };
        reminders::mark_sent(&mut tx, due.appointment_id).await?;
        conv::record_interaction(
            &mut tx,
            &InteractionRow {
                contact_id: Some(due.contact_id),
                channel: Channel::WhatsApp,
                inbound: false,
                message_type: if window == Window::Closed {
                    "template"
                } else {
                    "text"
                },
                content: &text,
                intent: Some("reminder"),
                language: Some(lang.code()),
                metadata: json!({
                    "wamid": wamid,
                    "status": status,
                    "appointment_id": due.appointment_id,
                }),
            },
        )
        .await?;
        // The conversation knows which appointment "CANCEL" / "MOVE" means.
        let thread = conv::open_thread(&mut tx, phone.expose(), Channel::WhatsApp).await?;
        let mut state = conv::load_checkpoint(&mut tx, &thread).await?;
        state.reminded = Some(due.appointment_id);
        state.lang = lang;
        conv::save_checkpoint(&mut tx, &thread, &state).await?;
        tx.commit().await?;
        tracing::info!(appointment = %due.appointment_id, status, "reminder sent");
    }
}

fn reminder_text(
    tenant: &TenantRecord,
    due: &DueReminder,
    lang: Lang,
    tz: chrono_tz::Tz,
) -> String {
    let service = match lang {
        Lang::Sw => due
            .service_name_sw
            .as_deref()
            .or(due.service_name.as_deref()),
        Lang::En => due.service_name.as_deref(),
    };
    Reminder {
        business: &tenant.name,
        service,
        staff: due.staff_name.as_deref(),
        start: due.start,
        tz,
    }
    .text(lang)
}
