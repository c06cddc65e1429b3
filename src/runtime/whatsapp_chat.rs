//! WhatsApp chats: what one stored inbound event does.
//!
//! The HTTP receiver (`http::whatsapp`) stores events in the inbox and
//! answers; [`crate::runtime::chat_intake`] runs them through
//! [`WhatsAppChats`], one customer at a time and each customer in its own
//! task. A customer's message is a dialog turn (replies sent through the
//! Graph API, payments started: see [`crate::runtime::whatsapp_payments`]);
//! an admin's message is a hand-off command or words for the customer they
//! claimed; a delivery status moves our message's status forward.
//!
//! Processing may run more than once for one message (a retry after a
//! failure, a node that died mid-way): the dialog turn is claimed by its
//! message id in the turn's own transaction, so its effects (rows, booking,
//! replies, payment) happen once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use tokio::sync::mpsc;
use tracing::Instrument;

use crate::adapters::whatsapp::client::Window;
use crate::adapters::whatsapp::codec::{InboundMessage, StatusEvent};
use crate::adapters::whatsapp::{GraphClient, outbound};
use crate::config::Secret;
use crate::core::dialog::Channel;
use crate::core::ids::{ChannelIdentity, PhoneNumber, TenantId, ThreadId};
use crate::runtime::call_payment::PaymentLinkRequest;
use crate::runtime::chat_channel::{ChatChannel, ChatMessage, SendError, SendWindow, chat_turn};
use crate::runtime::chat_intake::{Claimed, InboxEvent, InboxHandler};
use crate::runtime::conversation::{BoxFuture, ConversationService};
use crate::runtime::handoff;
use crate::runtime::payments::{ChatPaymentEvent, PaymentService};
use crate::runtime::whatsapp_payments::{
    Chat, answer_payment, send_call_payment_links, send_payment_deadlines, send_payment_outcomes,
    start_payment,
};
use crate::storage::conversation as conv;
use crate::storage::registry::IntakeTenant;
use crate::storage::{Db, StorageError, TenantRecord, Vault};

/// The node's payments, for chats.
pub struct ChatPayments {
    pub service: Arc<PaymentService>,
    /// Nudge and abandon messages due (`PaymentsNode::take_chat_events`).
    pub events: mpsc::Receiver<ChatPaymentEvent>,
    /// Payment links promised on calls (`CallRuntime::with_payment_links`).
    pub call_links: Option<mpsc::Receiver<PaymentLinkRequest>>,
}

/// Everything processing a chat event needs.
pub struct WhatsAppChats {
    pub(crate) db: Db,
    pub(crate) vault: Option<Vault>,
    pub(crate) service: ConversationService,
    pub(crate) graph: GraphClient,
    /// The Graph API is the development capture: a tenant without a stored
    /// token sends with a placeholder one.
    pub(crate) dev_token: bool,
    pub(crate) payments: Option<Arc<PaymentService>>,
    /// Tenants' records and admins as last read, by tenant (see
    /// [`intake_tenant`]).
    tenants: Mutex<HashMap<TenantId, Arc<IntakeTenant>>>,
}

impl WhatsAppChats {
    pub fn new(
        db: Db,
        vault: Option<Vault>,
        service: ConversationService,
        graph: GraphClient,
        dev_token: bool,
        payments: Option<Arc<PaymentService>>,
    ) -> Self {
        WhatsAppChats {
            db,
            vault,
            service,
            graph,
            dev_token,
            payments,
            tenants: Mutex::new(HashMap::new()),
        }
    }

    /// Starts the background senders on the current runtime: payment
    /// outcomes, reminders and call links (with `payments`), the hand-off
    /// notices to the tenant's admins, and appointment reminders every
    /// `reminder_every`.
    pub fn start_background(
        self: &Arc<Self>,
        payments: Option<ChatPayments>,
        reminder_every: Duration,
    ) {
        if let Some(p) = payments {
            tokio::spawn(send_payment_outcomes(
                self.clone(),
                p.service.waiters().subscribe_all(),
            ));
            tokio::spawn(send_payment_deadlines(self.clone(), p.events));
            if let Some(links) = p.call_links {
                tokio::spawn(send_call_payment_links(self.clone(), links));
            }
        }
        // Hand-off notices, reminders and escalations go to the tenant's
        // admins on WhatsApp; their deadlines are in the database.
        handoff::spawn_sweeper(
            self.db.clone(),
            Arc::new(WhatsAppNotifier(self.clone())),
            Duration::from_secs(15),
        );
        crate::runtime::reminders::spawn_sweeper(self.clone(), reminder_every);
    }
}

impl WhatsAppChats {
    /// Sends text from a tenant's number (hand-off notices to admins, and
    /// the dashboard's replies to customers).
    pub fn sender(self: &Arc<Self>) -> Arc<dyn handoff::AdminNotifier> {
        Arc::new(WhatsAppNotifier(self.clone()))
    }
}

impl InboxHandler for WhatsAppChats {
    fn handle<'a>(
        &'a self,
        event: InboxEvent,
        claimed: Claimed,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            match event {
                InboxEvent::Message(m) => handle_message(self, m, claimed).await,
                InboxEvent::Status(st) => handle_status(self, st, claimed).await,
                // Routed to the Meta runtime by `chat_intake::ByChannel`.
                InboxEvent::Meta(m) => {
                    anyhow::bail!("{} message {} is not WhatsApp's", m.channel.as_str(), m.mid)
                }
            }
        })
    }
}

/// The registry entry (record and admins) of the tenant owning WhatsApp
/// number `phone_number_id`, for an event claimed as `claimed`: from
/// memory when what is kept there was read at the version the claim saw
/// or later (a change to the tenant or its admins bumps it, see
/// migration public/0008, so a suspension applies from the next message
/// claimed), else read again (one query). A number that is no longer the
/// stored tenant's is looked up as the webhook does. `None`: no live
/// tenant has the number.
async fn intake_tenant(
    shared: &WhatsAppChats,
    phone_number_id: &str,
    claimed: Claimed,
) -> Result<Option<Arc<IntakeTenant>>, StorageError> {
    let usable = |t: &IntakeTenant| {
        t.routable() && t.record.whatsapp_phone_number_id.as_deref() == Some(phone_number_id)
    };
    let kept = shared
        .kept_tenants()
        .get(&claimed.tenant_id)
        .filter(|t| claimed.tenant_version.is_some_and(|v| t.version >= v))
        .cloned();
    if let Some(t) = kept
        && usable(&t)
    {
        return Ok(Some(t));
    }
    if let Some(t) = shared.db.tenant_for_intake(claimed.tenant_id).await? {
        let t = shared.keep_tenant(t);
        if usable(&t) {
            return Ok(Some(t));
        }
    }
    // Routed elsewhere since it was stored (rare): as the webhook would.
    let Some(record) = shared
        .db
        .tenant_by_whatsapp_phone_number_id(phone_number_id)
        .await?
    else {
        return Ok(None);
    };
    Ok(shared
        .db
        .tenant_for_intake(record.id)
        .await?
        .map(|t| shared.keep_tenant(t))
        .filter(|t| usable(t)))
}

impl WhatsAppChats {
    fn kept_tenants(&self) -> std::sync::MutexGuard<'_, HashMap<TenantId, Arc<IntakeTenant>>> {
        // A panic while holding the lock leaves a map that is still whole.
        self.tenants.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps `t` unless a newer read of it is kept already; what is kept.
    fn keep_tenant(&self, t: IntakeTenant) -> Arc<IntakeTenant> {
        let mut kept = self.kept_tenants();
        match kept.get(&t.record.id) {
            Some(newer) if newer.version > t.version => Arc::clone(newer),
            _ => {
                let t = Arc::new(t);
                kept.insert(t.record.id, Arc::clone(&t));
                t
            }
        }
    }
}

/// One customer's message: an admin's command or relay, a payment answer,
/// or a dialog turn with its replies and payments.
async fn handle_message(
    shared: &WhatsAppChats,
    m: InboundMessage,
    claimed: Claimed,
) -> anyhow::Result<()> {
    let Some(entry) = intake_tenant(shared, &m.phone_number_id, claimed).await? else {
        // Routed when it was stored: the number has been taken off since.
        tracing::warn!(wamid = %m.id, phone_number_id = %m.phone_number_id, "WhatsApp message for a number no tenant has any more; not answered");
        return Ok(());
    };
    let tenant = &entry.record;
    let standing = tenant.standing(Utc::now());
    if !standing.serves() {
        // Kept in the inbox (acknowledged to Meta, payload stored), not
        // answered: the rule calls apply too (`core::tenancy`).
        tracing::info!(tenant = %tenant.slug, wamid = %m.id, standing = standing.as_str(), "WhatsApp message for a tenant not served; stored, not answered");
        return Ok(());
    }
    let Ok(customer) = PhoneNumber::parse(&m.from) else {
        tracing::warn!(wamid = %m.id, "WhatsApp sender is not a phone number; ignored");
        return Ok(());
    };
    if let Some(admin) = entry.admin_by_phone(&customer) {
        let span = tracing::info_span!("whatsapp_admin", tenant = %tenant.slug, admin = %admin.id);
        return handle_admin_message(shared, tenant, &m, admin)
            .instrument(span)
            .await;
    }
    let span = tracing::info_span!("whatsapp_turn", tenant = %tenant.slug, customer = %customer);
    customer_turn(shared, tenant, &m, &customer)
        .instrument(span)
        .await
}

/// A customer's turn: a message about a booking waiting for payment is
/// the payment's first (`answer_payment`); the rest is the dialog's, then
/// its replies and payments.
async fn customer_turn(
    shared: &WhatsAppChats,
    tenant: &TenantRecord,
    m: &InboundMessage,
    customer: &PhoneNumber,
) -> anyhow::Result<()> {
    let db = &shared.db;
    let handle = db.tenant(&tenant.slug);
    let now = Utc::now();
    if let Some(service) = &shared.payments
        && answer_payment(shared, service, tenant, m, customer).await?
    {
        return Ok(());
    }
    let token = access_token(shared, tenant);
    let channel = WhatsAppChannel {
        chats: shared,
        phone_number_id: &m.phone_number_id,
        token: token.as_ref(),
    };
    let message = ChatMessage {
        customer: ChannelIdentity::WhatsApp(customer.clone()),
        customer_name: m.profile_name.clone(),
        text: m.text().to_owned(),
        choice_id: m.choice_id().map(str::to_owned),
        message_id: Some(m.id.clone()),
        message_type: m.message_type().to_owned(),
    };
    let outcome = chat_turn(&shared.service, &channel, tenant, &handle, message, now).await?;
    if outcome.duplicate {
        return Ok(());
    }
    let Some(token) = token else {
        tracing::warn!("tenant has no usable WhatsApp access token; replies not sent");
        return Ok(());
    };
    if let Err(e) = shared
        .graph
        .mark_read(&m.phone_number_id, token.expose(), &m.id)
        .await
    {
        tracing::debug!(error = %e, "mark as read failed");
    }
    if outcome.handed_off
        && let Some(thread) = &outcome.thread
    {
        forward_to_claimant(shared, tenant, m, &token, customer, thread).await?;
    }
    if let (Some(service), Some(thread)) = (&shared.payments, &outcome.thread) {
        let lang = outcome
            .replies
            .last()
            .map_or(crate::core::ids::Lang::En, |r| r.reply.language);
        for &(appointment_id, amount) in &outcome.payment_requests {
            let chat = Chat {
                tenant,
                phone_number_id: &m.phone_number_id,
                token: &token,
                customer,
                thread,
                lang,
            };
            start_payment(shared, service, &chat, appointment_id, amount).await;
        }
    }
    Ok(())
}

/// WhatsApp as a [`ChatChannel`]: the tenant's number and token, the
/// Cloud API's messages (buttons or a list for choices), Meta's 24 h
/// customer-service window.
pub(crate) struct WhatsAppChannel<'a> {
    pub(crate) chats: &'a WhatsAppChats,
    pub(crate) phone_number_id: &'a str,
    /// None: the tenant has no usable token (nothing can be sent).
    pub(crate) token: Option<&'a Secret>,
}

impl ChatChannel for WhatsAppChannel<'_> {
    fn channel(&self) -> Channel {
        Channel::WhatsApp
    }

    fn window(
        &self,
        last_inbound: Option<chrono::DateTime<Utc>>,
        now: chrono::DateTime<Utc>,
    ) -> SendWindow {
        match Window::since(last_inbound, now) {
            Window::Open => SendWindow::Open,
            Window::Closed | Window::Unknown => SendWindow::TemplateOnly,
        }
    }

    fn send_reply<'a>(
        &'a self,
        _tenant: &'a TenantRecord,
        to: &'a ChannelIdentity,
        reply: &'a crate::core::dialog::Reply,
    ) -> BoxFuture<'a, Result<Option<String>, SendError>> {
        Box::pin(async move {
            let Some(phone) = to.phone() else {
                return Err(SendError("not a WhatsApp customer".into()));
            };
            let Some(token) = self.token else {
                return Err(SendError("no usable WhatsApp access token".into()));
            };
            let body = outbound::for_reply(phone.digits(), reply);
            self.chats
                .graph
                .send(self.phone_number_id, token.expose(), &body)
                .await
                .map(Some)
                .map_err(|e| SendError(e.to_string()))
        })
    }
}

// ---- admins taking over a chat ------------------------------------------

/// The last four characters of a customer's number, for admins' messages
/// (the number comes from the database: no byte slicing).
fn customer_tail(phone: &str) -> &str {
    phone
        .char_indices()
        .rev()
        .nth(3)
        .map_or(phone, |(i, _)| &phone[i..])
}

/// Sends plain text from the tenant's number (a failure is logged).
async fn send_text(
    shared: &WhatsAppChats,
    phone_number_id: &str,
    token: &Secret,
    to: &str,
    text: &str,
) {
    let digits: String = to.chars().filter(char::is_ascii_digit).collect();
    if let Err(e) = shared
        .graph
        .send_update(
            phone_number_id,
            token.expose(),
            &digits,
            text,
            "en",
            Window::Unknown,
        )
        .await
    {
        tracing::warn!(error = %e, "WhatsApp message not sent");
    }
}

/// A message from one of the tenant's admins: a command, or words for the
/// customer the admin has claimed (see [`handoff`]).
async fn handle_admin_message(
    shared: &WhatsAppChats,
    tenant: &TenantRecord,
    m: &InboundMessage,
    admin: &handoff::TenantAdmin,
) -> anyhow::Result<()> {
    let Some(token) = access_token(shared, tenant) else {
        tracing::warn!("tenant has no usable WhatsApp access token; admin message not handled");
        return Ok(());
    };
    let handle = shared.db.tenant(&tenant.slug);
    let now = Utc::now();
    let claimed = handoff::claimed_by(&handle, admin.id).await?;
    let answer = match (handoff::AdminCommand::parse(m.text()), claimed) {
        (handoff::AdminCommand::Claim(_), Some(current)) => format!(
            "You already have customer …{}. Send CLOSE to hand them back to the bot first.",
            customer_tail(&current.customer_phone)
        ),
        (handoff::AdminCommand::Claim(which), None) => {
            let waiting = handoff::waiting(&handle).await?;
            let pick = match which {
                Some(end) => waiting.iter().find(|w| w.thread.as_str().ends_with(end)),
                None => waiting.first(),
            };
            match pick {
                None if waiting.is_empty() => "No customer is waiting for a person.".to_owned(),
                None => format!(
                    "No waiting customer's thread ends with {}. Send CLAIM for the one waiting longest.",
                    which.unwrap_or_default()
                ),
                Some(w)
                    if handoff::claim(&handle, &w.thread, admin.id, "whatsapp", now).await? =>
                {
                    tracing::info!(thread = %w.thread, "hand-off claimed on WhatsApp");
                    format!(
                        "You have customer …{} now (thread {}). What you write here goes to them as it is; \
                         their messages come to you. Send CLOSE to hand them back to the bot.",
                        customer_tail(&w.customer_phone),
                        w.thread
                    )
                }
                Some(_) => "Another admin claimed that customer just now.".to_owned(),
            }
        }
        (handoff::AdminCommand::Close, None) | (handoff::AdminCommand::Relay(_), None) => {
            "You have no customer open. Send CLAIM to take the one waiting longest for a person."
                .to_owned()
        }
        (handoff::AdminCommand::Close, Some(current)) => {
            handoff::close(&handle, tenant, &current.thread).await?;
            tracing::info!(thread = %current.thread, "hand-off closed on WhatsApp");
            format!(
                "Closed: the bot answers customer …{} again.",
                customer_tail(&current.customer_phone)
            )
        }
        (handoff::AdminCommand::Relay(text), Some(current)) => {
            let to = handoff::admin_reply(
                &handle,
                &current.thread,
                &admin.phone,
                text,
                Some(&m.id),
                now,
            )
            .await?;
            if let Some(to) = to {
                send_text(shared, &m.phone_number_id, &token, &to, text).await;
            }
            return Ok(());
        }
    };
    send_text(shared, &m.phone_number_id, &token, &m.from, &answer).await;
    Ok(())
}

/// A customer's message in a thread an admin claimed on WhatsApp goes to
/// that admin.
async fn forward_to_claimant(
    shared: &WhatsAppChats,
    tenant: &TenantRecord,
    m: &InboundMessage,
    token: &Secret,
    customer: &PhoneNumber,
    thread: &ThreadId,
) -> anyhow::Result<()> {
    let handle = shared.db.tenant(&tenant.slug);
    let Some((admin_id, via)) = handoff::claimant(&handle, thread).await? else {
        return Ok(()); // not claimed yet: the notices are on their way
    };
    if via != "whatsapp" {
        return Ok(()); // the dashboard shows it
    }
    let Some(admin_phone) = handoff::admin_phone(&shared.db, tenant.id, admin_id).await? else {
        return Ok(());
    };
    let said = if m.text().trim().is_empty() {
        format!("[{}]", m.message_type())
    } else {
        m.text().to_owned()
    };
    let text = format!("Customer …{}: {said}", customer_tail(customer.digits()));
    send_text(shared, &m.phone_number_id, token, &admin_phone, &text).await;
    Ok(())
}

/// Tells tenant admins about hand-offs on WhatsApp.
struct WhatsAppNotifier(Arc<WhatsAppChats>);

impl handoff::AdminNotifier for WhatsAppNotifier {
    fn notify<'a>(
        &'a self,
        tenant: &'a TenantRecord,
        admin_phone: &'a str,
        text: String,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let phone_number_id = tenant
                .whatsapp_phone_number_id
                .as_deref()
                .ok_or("tenant has no WhatsApp number")?;
            let token = access_token(&self.0, tenant).ok_or("tenant has no access token")?;
            let to = PhoneNumber::parse(admin_phone).map_err(|e| e.to_string())?;
            self.0
                .graph
                .send_update(
                    phone_number_id,
                    token.expose(),
                    to.digits(),
                    &text,
                    "en",
                    Window::Unknown,
                )
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }
}

/// The tenant's WhatsApp number id and access token, to send `what` from;
/// `None` (logged) when either is missing.
pub(crate) fn sender(
    shared: &WhatsAppChats,
    tenant: &TenantRecord,
    what: &str,
) -> Option<(String, Secret)> {
    let found = tenant
        .whatsapp_phone_number_id
        .clone()
        .zip(access_token(shared, tenant));
    if found.is_none() {
        tracing::warn!(tenant = %tenant.slug, what, "no WhatsApp number or token; not sent");
    }
    found
}

pub(crate) fn access_token(shared: &WhatsAppChats, tenant: &TenantRecord) -> Option<Secret> {
    let stored = tenant.whatsapp_access_token.as_ref().and_then(|t| {
        let vault = shared.vault.as_ref()?;
        vault.decrypt_text(t.expose()).ok()
    });
    stored.or_else(|| shared.dev_token.then(|| Secret::new("dev-capture-token")))
}

async fn handle_status(
    shared: &WhatsAppChats,
    st: StatusEvent,
    claimed: Claimed,
) -> anyhow::Result<()> {
    let Some(entry) = intake_tenant(shared, &st.phone_number_id, claimed).await? else {
        return Ok(());
    };
    let mut tx = shared.db.tenant(&entry.record.slug).begin().await?;
    let at = Utc
        .timestamp_opt(st.timestamp, 0)
        .single()
        .unwrap_or_else(Utc::now);
    conv::record_status(&mut tx, &st.id, &st.status, at, &st.error_codes).await?;
    tx.commit().await?;
    Ok(())
}
