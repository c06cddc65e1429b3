//! Payments taken in a chat: start, answers, deadlines.

use super::*;
use crate::storage::payments::PaymentDeadline;

/// A chat message the chat runtime should send on a thread.
#[derive(Debug, Clone)]
pub struct ChatPaymentEvent {
    pub tenant: TenantSlug,
    pub thread_id: ThreadId,
    pub payment_id: Uuid,
    pub message: ChatMessage,
}

/// Starts a chat payment (push or link) and returns the first message to
/// send.
pub async fn start_chat_payment(
    service: &PaymentService,
    tenant: &TenantRecord,
    request: &PushRequest,
    provider: Provider,
    now: DateTime<Utc>,
) -> Result<(Option<Uuid>, Vec<ChatMessage>), PaymentServiceError> {
    let mut machine = ChatPayment::new(chat_config(tenant), provider);
    machine.handle_input(ChatInput::Start(provider), now);
    drive_chat_payment(service, tenant, request, machine, None, now).await
}

/// A tenant's chat payment settings: its deadlines, and the paybill a
/// customer may pay to instead when payments are on.
fn chat_config(tenant: &TenantRecord) -> ChatPaymentConfig {
    ChatPaymentConfig::from_tenant(
        i64::from(tenant.pesapal_nudge_seconds),
        i64::from(tenant.pesapal_abandon_seconds),
    )
    .with_paybill(
        tenant
            .payment_enabled
            .then(|| tenant.mpesa_shortcode.clone())
            .flatten(),
    )
}

/// A booking's payment in a chat, by any channel: the prompt (or link)
/// to `phone` for the appointment, on the chat's `thread` (its outcome is
/// told there). Returns the payment started, if any, and the messages for
/// the chat; a payment that could not start is
/// [`ChatMessage::ProviderUnavailable`].
pub async fn start_booking_payment(
    service: &PaymentService,
    tenant: &TenantRecord,
    booking: &BookingPayment,
    provider: Provider,
    now: DateTime<Utc>,
) -> (Option<Uuid>, Vec<ChatMessage>) {
    let request = PushRequest {
        thread_id: booking.thread.clone(),
        appointment_id: Some(booking.appointment_id),
        contact_id: None,
        phone: booking.phone.clone(),
        amount: booking.amount,
        account_reference: account_reference(&tenant.name),
        description: "Booking".into(),
    };
    match start_chat_payment(service, tenant, &request, provider, now).await {
        Ok(started) => started,
        Err(e) => {
            tracing::warn!(error = %e, "chat payment not started");
            (None, vec![ChatMessage::ProviderUnavailable])
        }
    }
}

/// A booking a chat asks to be paid.
#[derive(Debug, Clone)]
pub struct BookingPayment {
    pub thread: ThreadId,
    pub appointment_id: Uuid,
    /// Who pays (the M-Pesa prompt goes to this number).
    pub phone: PhoneNumber,
    pub amount: Money,
}

/// Daraja's AccountReference: at most 12 letters and digits.
pub(crate) fn account_reference(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect::<String>()
        .to_uppercase()
}

/// A customer's message about a booking whose latest payment attempt is
/// open or failed (`attempt`), read by the chat payment rebuilt from it.
/// None when the message is the dialog's (a cancel, a question, …):
/// nothing has been done then.
pub fn read_chat_answer(
    tenant: &TenantRecord,
    attempt: &store::UnpaidAttempt,
    text: &str,
    now: DateTime<Utc>,
) -> Option<ChatPayment> {
    let stored = Stored {
        provider: attempt.provider,
        started_at: attempt.initiated_at.unwrap_or(now),
        link: None,
        pushes: u8::try_from(attempt.pushes).unwrap_or(u8::MAX),
        // Deadlines are the sweep's; a message never sends a reminder.
        nudge_sent: true,
        open: attempt.open,
    };
    let mut machine = ChatPayment::resume(chat_config(tenant), stored, now);
    machine.handle_input(ChatInput::CustomerSaid(text.to_owned()), now);
    (!machine.is_for_dialog()).then_some(machine)
}

/// Carries out what [`read_chat_answer`] decided: asks the provider about
/// the open attempt (`attempt`, on its own thread), pushes again or
/// creates an order with `request`. Returns the payment started, if any,
/// and the messages for the chat.
pub async fn answer_chat_payment(
    service: &PaymentService,
    tenant: &TenantRecord,
    request: &PushRequest,
    machine: ChatPayment,
    attempt: &store::UnpaidAttempt,
    attempt_thread: &ThreadId,
    now: DateTime<Utc>,
) -> Result<(Option<Uuid>, Vec<ChatMessage>), PaymentServiceError> {
    let asked = Asked {
        payment_id: attempt.payment_id,
        thread: attempt_thread,
        has_reference: attempt.has_reference,
    };
    drive_chat_payment(service, tenant, request, machine, Some(asked), now).await
}

/// The open attempt a status query asks about.
struct Asked<'a> {
    payment_id: Uuid,
    thread: &'a ThreadId,
    /// The provider's reference is stored (without it there is nothing to
    /// ask by).
    has_reference: bool,
}

/// Performs what a chat payment asks (status query, push, order) until it
/// waits; returns the payment started (if any) and the messages.
async fn drive_chat_payment(
    service: &PaymentService,
    tenant: &TenantRecord,
    request: &PushRequest,
    mut machine: ChatPayment,
    asked: Option<Asked<'_>>,
    now: DateTime<Utc>,
) -> Result<(Option<Uuid>, Vec<ChatMessage>), PaymentServiceError> {
    let mut messages = Vec::new();
    let mut payment_id = None;
    while let Some(out) = machine.poll_output() {
        match out {
            ChatOutput::PushStk { .. } => {
                let input = match service.start_stk_push(tenant, request, now).await {
                    Ok(started) => {
                        payment_id = Some(started.payment_id);
                        match started.start {
                            PushStart::Rejected(_) => ChatInput::PushRejected,
                            PushStart::Accepted | PushStart::Uncertain => ChatInput::PushAccepted,
                        }
                    }
                    Err(PaymentServiceError::Provider(PaymentError::BadPhone)) => {
                        ChatInput::PushRejected
                    }
                    Err(e) => return Err(e),
                };
                machine.handle_input(input, now);
            }
            ChatOutput::CreatePesapalOrder => {
                let input = match service.start_pesapal_order(tenant, request, now).await {
                    Ok(order) => {
                        payment_id = Some(order.payment_id);
                        ChatInput::OrderCreated {
                            redirect_url: order.redirect_url,
                        }
                    }
                    Err(e) => {
                        tracing::warn!(tenant = %tenant.slug, error = %e, "pesapal order failed");
                        ChatInput::OrderFailed
                    }
                };
                machine.handle_input(input, now);
            }
            ChatOutput::QueryStatus => {
                let status = query_status(service, tenant, asked.as_ref(), now).await;
                machine.handle_input(ChatInput::Status(status), now);
            }
            ChatOutput::Send(m) => messages.push(m),
            ChatOutput::Timeout(_) => break,
            // Left to the dialog before anything was done; deadlines and
            // their effects are the sweep's.
            ChatOutput::ForDialog
            | ChatOutput::CancelAppointment { .. }
            | ChatOutput::CloseThreadAbandoned
            | ChatOutput::Finished(_) => {}
        }
    }
    Ok((payment_id, messages))
}

/// What the provider says of the open attempt. A final answer is recorded
/// (and so told by its notice); no reference, or a query that failed, is
/// [`Status::Unknown`].
async fn query_status(
    service: &PaymentService,
    tenant: &TenantRecord,
    asked: Option<&Asked<'_>>,
    now: DateTime<Utc>,
) -> Status {
    let Some(asked) = asked.filter(|a| a.has_reference) else {
        return Status::Unknown;
    };
    match service
        .query(tenant, asked.payment_id, asked.thread, now)
        .await
    {
        Ok(Some(outcome)) => Status::Final(outcome),
        Ok(None) => Status::Pending,
        Err(e) => {
            tracing::warn!(tenant = %tenant.slug, error = %e, "payment status query failed");
            Status::Unknown
        }
    }
}

/// One pass over open chat payments: the durable nudge and abandon
/// deadlines (derived from the stored `initiated_at` and the tenant's
/// seconds). Safe on several nodes at once: each nudge and abandonment is
/// claimed in the database first.
pub async fn sweep_chat_deadlines(
    service: &PaymentService,
    events: &mpsc::Sender<ChatPaymentEvent>,
    now: DateTime<Utc>,
) -> Result<usize, PaymentServiceError> {
    let mut acted = 0;
    for open in store::open_payments(service.db(), now).await? {
        let Some(started_at) = open.payment.initiated_at else {
            continue;
        };
        let Some(tenant) = service.db().tenant_by_slug(&open.route.slug).await? else {
            continue;
        };
        let provider = open.route.provider;
        let handle = service.db().tenant(&open.route.slug);
        let nudge_sent =
            store::deadlines::is_claimed(&handle, open.payment.id, PaymentDeadline::Nudge).await?;
        let stored = Stored {
            provider,
            started_at,
            link: None,
            pushes: 1,
            nudge_sent,
            open: true,
        };
        let mut machine = ChatPayment::resume(chat_config(&tenant), stored, now);
        machine.handle_input(ChatInput::Tick, now);
        while let Some(out) = machine.poll_output() {
            let message = match out {
                ChatOutput::Timeout(_) => break,
                ChatOutput::Send(m @ ChatMessage::Nudge { .. }) => {
                    if !store::deadlines::claim_once(
                        &handle,
                        open.payment.id,
                        PaymentDeadline::Nudge,
                    )
                    .await?
                    {
                        continue;
                    }
                    m
                }
                ChatOutput::CancelAppointment { reason } => {
                    if !store::deadlines::claim_once(
                        &handle,
                        open.payment.id,
                        PaymentDeadline::Abandon,
                    )
                    .await?
                    {
                        break;
                    }
                    store::abandon_chat_payment(
                        &handle,
                        open.payment.appointment_id,
                        &open.route.thread_id,
                        &reason,
                    )
                    .await?;
                    ChatMessage::Abandoned
                }
                _ => continue,
            };
            let _ = events
                .send(ChatPaymentEvent {
                    tenant: open.route.slug.clone(),
                    thread_id: open.route.thread_id.clone(),
                    payment_id: open.payment.id,
                    message,
                })
                .await;
            acted += 1;
        }
    }
    Ok(acted)
}
