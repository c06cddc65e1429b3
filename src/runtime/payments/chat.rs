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
    let config = ChatPaymentConfig::from_tenant(
        i64::from(tenant.pesapal_nudge_seconds),
        i64::from(tenant.pesapal_abandon_seconds),
    );
    let machine = ChatPayment::new(config, provider);
    drive_chat_payment(
        service,
        tenant,
        request,
        machine,
        ChatInput::Start(provider),
        now,
    )
    .await
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

/// A customer's answer after a chat payment failed ("RETRY", "LINK"):
/// `pushes` M-Pesa prompts were made for the booking so far, the last
/// started at `started_at`. Starts the next attempt if the answer asks for
/// one and returns the messages to send.
pub async fn answer_chat_payment(
    service: &PaymentService,
    tenant: &TenantRecord,
    request: &PushRequest,
    pushes: u8,
    started_at: DateTime<Utc>,
    text: &str,
    now: DateTime<Utc>,
) -> Result<(Option<Uuid>, Vec<ChatMessage>), PaymentServiceError> {
    let config = ChatPaymentConfig::from_tenant(
        i64::from(tenant.pesapal_nudge_seconds),
        i64::from(tenant.pesapal_abandon_seconds),
    );
    // The nudge belongs to the failed attempt: not sent again.
    let machine = ChatPayment::resume(config, Provider::Mpesa, started_at, None, pushes, true, now);
    drive_chat_payment(
        service,
        tenant,
        request,
        machine,
        ChatInput::CustomerSaid(text.to_owned()),
        now,
    )
    .await
}

/// Feeds `input` to a chat payment and performs what it asks (push, order)
/// until it waits; returns the payment started (if any) and the messages.
async fn drive_chat_payment(
    service: &PaymentService,
    tenant: &TenantRecord,
    request: &PushRequest,
    mut machine: ChatPayment,
    input: ChatInput,
    now: DateTime<Utc>,
) -> Result<(Option<Uuid>, Vec<ChatMessage>), PaymentServiceError> {
    machine.handle_input(input, now);
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
                            _ => ChatInput::PushAccepted,
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
            ChatOutput::Send(m) => messages.push(m),
            ChatOutput::Timeout(_) => break,
            _ => {}
        }
    }
    Ok((payment_id, messages))
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
        let config = ChatPaymentConfig::from_tenant(
            i64::from(tenant.pesapal_nudge_seconds),
            i64::from(tenant.pesapal_abandon_seconds),
        );
        let provider = open.route.provider;
        let handle = service.db().tenant(&open.route.slug);
        let nudge_sent =
            store::deadlines::is_claimed(&handle, open.payment.id, PaymentDeadline::Nudge).await?;
        let mut machine =
            ChatPayment::resume(config, provider, started_at, None, 1, nudge_sent, now);
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
