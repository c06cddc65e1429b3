//! Paying inside a chat: an M-Pesa push to the customer's phone or a PesaPal
//! order link sent in the conversation, and what the customer writes while
//! it is open or after it failed.
//!
//! The deadlines are durable: both are derived from the moment the payment
//! started (`payments.initiated_at`) and the tenant's `pesapal_nudge_seconds`
//! and `pesapal_abandon_seconds`, so a node that restarts rebuilds the machine
//! with [`ChatPayment::resume`] and honours them; nothing depends on an
//! in-memory sleep. Time is wall-clock (`DateTime<Utc>`) for that reason.
//!
//! A customer's message is read by [`PendingReply`]. A cancel, another
//! payer's number, a change to the booking, a payment problem and anything
//! else are the dialog's ([`ChatOutput::ForDialog`]: it confirms a
//! cancellation, makes the change, hands a problem to a person and answers
//! questions). While an M-Pesa prompt
//! is open, "send it again", "not received" and "I have paid" ask the
//! provider first ([`ChatOutput::QueryStatus`]): a prompt still open is not
//! pushed again (one live prompt per booking), a failed one is, and an
//! outcome the answer brings is told by the outcome's own notice, not here.
//!
//! Contract: `handle_input(input, now)`, then drain `poll_output()` until it
//! returns [`ChatOutput::Timeout`] or `None`.

use std::collections::VecDeque;

use chrono::{DateTime, Duration, Utc};

use super::Provider;
use super::hold::{FailureWhy, Lang};
use super::outcome::PaymentOutcome;
use super::reply::PendingReply;
use crate::core::dialog::text::{Tokens, detect, reply_language};

/// What a chat payment says lives in the message catalogue.
pub use crate::core::messages::chat_payment::ChatMessage;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatPaymentConfig {
    pub nudge_after: Duration,
    pub abandon_after: Duration,
    /// M-Pesa pushes allowed in one chat payment.
    pub max_pushes: u8,
    /// How long an M-Pesa prompt can still be on the phone: a push whose
    /// status cannot be learnt is taken as expired after this.
    pub prompt_lasts: Duration,
    /// The tenant's paybill, told to a customer who pays later or gets no
    /// prompt.
    pub paybill: Option<String>,
}

impl ChatPaymentConfig {
    pub fn from_tenant(pesapal_nudge_seconds: i64, pesapal_abandon_seconds: i64) -> Self {
        Self {
            nudge_after: Duration::seconds(pesapal_nudge_seconds.max(1)),
            abandon_after: Duration::seconds(pesapal_abandon_seconds.max(2)),
            max_pushes: 2,
            prompt_lasts: Duration::seconds(120),
            paybill: None,
        }
    }

    pub fn with_paybill(mut self, paybill: Option<String>) -> Self {
        self.paybill = paybill;
        self
    }
}

/// What is stored of a chat payment, to rebuild it on any node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The provider of the latest attempt.
    pub provider: Provider,
    /// When the latest attempt started (`payments.initiated_at`); the
    /// deadlines run from it.
    pub started_at: DateTime<Utc>,
    pub link: Option<String>,
    /// M-Pesa prompts made for the booking so far.
    pub pushes: u8,
    pub nudge_sent: bool,
    /// The latest attempt has no final outcome yet (a prompt may be live).
    pub open: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatInput {
    Start(Provider),
    PushAccepted,
    PushRejected,
    OrderCreated {
        redirect_url: String,
    },
    OrderFailed,
    Outcome(PaymentOutcome),
    /// A customer message while the payment is open or after it failed,
    /// read by [`PendingReply`].
    CustomerSaid(String),
    /// The provider's answer to [`ChatOutput::QueryStatus`].
    Status(Status),
    Tick,
}

/// What the provider said of the open attempt when asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// A final result, recorded: its notice tells the customer.
    Final(PaymentOutcome),
    /// Still being processed: the prompt is live on the phone.
    Pending,
    /// Could not be asked (no provider reference yet, or the query failed).
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatResult {
    Paid,
    Abandoned,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatOutput {
    PushStk {
        attempt: u8,
    },
    CreatePesapalOrder,
    /// Ask the provider about the open attempt; answer with
    /// [`ChatInput::Status`].
    QueryStatus,
    Send(ChatMessage),
    /// The customer's message is not about paying: the dialog takes it, as
    /// if no payment were open.
    ForDialog,
    /// Cancel the appointment (`cancelled_by = 'system'`) with this reason.
    CancelAppointment {
        reason: String,
    },
    /// Close the conversation thread with `closed_reason = 'abandon'`.
    CloseThreadAbandoned,
    Finished(ChatResult),
    Timeout(DateTime<Utc>),
}

/// The language to answer a customer's message in: the message's own when
/// it is clear ("haijafika tuma tena" in an English chat is answered in
/// Swahili), else the chat's so far.
pub fn answer_lang(text: &str, chat: Lang) -> Lang {
    let tokens = Tokens::new(text);
    reply_language(&tokens, detect(&tokens), None, chat)
}

/// The named, durable timers of a chat payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChatTimer {
    /// Remind the customer once.
    Nudge,
    /// Give up: cancel the booking and close the thread.
    Abandon,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Idle,
    Starting,
    /// The latest push or link is with its provider, without an outcome,
    /// since `since`.
    Open {
        since: DateTime<Utc>,
    },
    /// Asking the provider about the open attempt, for what the customer
    /// said.
    Asking {
        since: DateTime<Utc>,
        asked: Asked,
    },
    /// The latest attempt ended unpaid (failed, refused, not started).
    Ended,
    Done,
}

/// What the customer said that needs the open attempt's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    Resend,
    NotReceived,
    Paid,
}

#[derive(Debug)]
pub struct ChatPayment {
    config: ChatPaymentConfig,
    provider: Provider,
    step: Step,
    pushes: u8,
    link: Option<String>,
    nudge_at: Option<DateTime<Utc>>,
    abandon_at: Option<DateTime<Utc>>,
    out: VecDeque<ChatOutput>,
    now: Option<DateTime<Utc>>,
}

impl ChatPayment {
    pub fn new(config: ChatPaymentConfig, provider: Provider) -> Self {
        Self {
            config,
            provider,
            step: Step::Idle,
            pushes: 0,
            link: None,
            nudge_at: None,
            abandon_at: None,
            out: VecDeque::new(),
            now: None,
        }
    }

    /// Rebuilds a payment from what is stored. A nudge that fell due while
    /// no node was running fires at the next tick; the abandon deadline is
    /// always honoured.
    pub fn resume(config: ChatPaymentConfig, stored: Stored, now: DateTime<Utc>) -> Self {
        let mut m = Self::new(config, stored.provider);
        m.step = if stored.open {
            Step::Open {
                since: stored.started_at,
            }
        } else {
            Step::Ended
        };
        m.pushes = stored.pushes;
        m.link = stored.link;
        m.now = Some(now);
        m.nudge_at = (!stored.nudge_sent).then_some(stored.started_at + m.config.nudge_after);
        m.abandon_at = Some(stored.started_at + m.config.abandon_after);
        m
    }

    pub fn is_done(&self) -> bool {
        self.step == Step::Done
    }

    /// Whether the last message was left to the dialog (nothing else to do).
    pub fn is_for_dialog(&self) -> bool {
        self.out.front() == Some(&ChatOutput::ForDialog)
    }

    pub fn deadline(&self, timer: ChatTimer) -> Option<DateTime<Utc>> {
        match timer {
            ChatTimer::Nudge => self.nudge_at,
            ChatTimer::Abandon => self.abandon_at,
        }
    }

    pub fn handle_input(&mut self, input: ChatInput, now: DateTime<Utc>) {
        let now = match self.now {
            Some(prev) if now < prev => prev,
            _ => now,
        };
        self.now = Some(now);
        match (self.step.clone(), input) {
            (Step::Idle, ChatInput::Start(provider)) => {
                self.provider = provider;
                self.nudge_at = Some(now + self.config.nudge_after);
                self.abandon_at = Some(now + self.config.abandon_after);
                self.begin(provider);
            }
            (Step::Starting, ChatInput::PushAccepted) => {
                self.step = Step::Open { since: now };
                self.send(ChatMessage::CheckYourPhone);
            }
            (Step::Starting, ChatInput::OrderCreated { redirect_url }) => {
                self.step = Step::Open { since: now };
                self.link = Some(redirect_url.clone());
                self.send(ChatMessage::PayWithLink { url: redirect_url });
            }
            (Step::Starting, ChatInput::PushRejected | ChatInput::OrderFailed) => {
                self.step = Step::Ended;
                self.send(ChatMessage::ProviderUnavailable);
            }
            (
                Step::Starting | Step::Open { .. } | Step::Asking { .. } | Step::Ended,
                ChatInput::Outcome(outcome),
            ) => match outcome {
                PaymentOutcome::Completed { receipt } => {
                    self.send(ChatMessage::Paid { receipt });
                    self.paid();
                }
                failure => {
                    self.step = Step::Ended;
                    let can_retry = self.can_retry();
                    self.send(ChatMessage::for_outcome(&failure, can_retry));
                }
            },
            (Step::Open { since }, ChatInput::CustomerSaid(text)) => {
                self.answer_open(since, PendingReply::read(&text));
            }
            (Step::Ended, ChatInput::CustomerSaid(text)) => {
                self.answer_ended(PendingReply::read(&text));
            }
            (Step::Asking { since, asked }, ChatInput::Status(status)) => {
                self.answer_status(since, asked, status, now);
            }
            (
                Step::Starting | Step::Open { .. } | Step::Asking { .. } | Step::Ended,
                ChatInput::Tick,
            ) => self.fire_timers(now),
            // Inputs a step does not take: a start once started, an
            // answer to a request not made, anything once done. The chat
            // runtime feeds one message at a time, so a message never
            // arrives mid-request.
            (
                Step::Idle | Step::Starting | Step::Asking { .. } | Step::Done,
                ChatInput::CustomerSaid(_),
            )
            | (
                Step::Starting | Step::Open { .. } | Step::Asking { .. } | Step::Ended | Step::Done,
                ChatInput::Start(_),
            )
            | (
                Step::Idle | Step::Open { .. } | Step::Asking { .. } | Step::Ended | Step::Done,
                ChatInput::PushAccepted
                | ChatInput::PushRejected
                | ChatInput::OrderCreated { .. }
                | ChatInput::OrderFailed,
            )
            | (
                Step::Idle | Step::Starting | Step::Open { .. } | Step::Ended | Step::Done,
                ChatInput::Status(_),
            )
            | (Step::Idle | Step::Done, ChatInput::Outcome(_) | ChatInput::Tick) => {}
        }
    }

    pub fn poll_output(&mut self) -> Option<ChatOutput> {
        if let Some(o) = self.out.pop_front() {
            return Some(o);
        }
        [self.nudge_at, self.abandon_at]
            .into_iter()
            .flatten()
            .min()
            .map(ChatOutput::Timeout)
    }

    /// A message while the latest push or link is open.
    fn answer_open(&mut self, since: DateTime<Utc>, reply: PendingReply) {
        match (reply, self.provider) {
            (PendingReply::Resend, Provider::Mpesa) => self.ask(since, Asked::Resend),
            (PendingReply::NotReceived, Provider::Mpesa) => self.ask(since, Asked::NotReceived),
            (PendingReply::Paid, _) => self.ask(since, Asked::Paid),
            // A link that did not come or does not open: a new one.
            (PendingReply::Resend | PendingReply::NotReceived, Provider::Pesapal)
            | (PendingReply::Card, _) => self.switch_to_link(),
            (PendingReply::Wait, _) => self.take_your_time(),
            (PendingReply::CashLater, _) => self.pay_later(),
            (
                PendingReply::Cancel
                | PendingReply::OtherNumber(_)
                | PendingReply::Change
                | PendingReply::Problem
                | PendingReply::Other,
                _,
            ) => self.for_dialog(),
        }
    }

    /// A message after the latest attempt ended unpaid.
    fn answer_ended(&mut self, reply: PendingReply) {
        match (reply, self.provider) {
            (PendingReply::Resend, _) => self.retry(),
            (PendingReply::NotReceived, Provider::Mpesa) => {
                self.send(ChatMessage::NotReceivedHelp {
                    prompt_open: false,
                    can_retry: self.can_retry(),
                    paybill: self.config.paybill.clone(),
                });
            }
            (PendingReply::NotReceived, Provider::Pesapal) | (PendingReply::Card, _) => {
                self.switch_to_link();
            }
            (PendingReply::Paid, _) => self.send(ChatMessage::NotSeenYet {
                can_retry: self.can_retry(),
            }),
            (PendingReply::Wait, _) => self.take_your_time(),
            (PendingReply::CashLater, _) => self.pay_later(),
            (
                PendingReply::Cancel
                | PendingReply::OtherNumber(_)
                | PendingReply::Change
                | PendingReply::Problem
                | PendingReply::Other,
                _,
            ) => self.for_dialog(),
        }
    }

    /// The booking stays; a new prompt can be asked for.
    fn take_your_time(&mut self) {
        self.send(ChatMessage::TakeYourTime {
            can_retry: self.provider == Provider::Mpesa && self.can_retry(),
        });
    }

    /// The booking stays, to be paid at the salon or to the paybill.
    fn pay_later(&mut self) {
        self.send(ChatMessage::PayLater {
            paybill: self.config.paybill.clone(),
        });
    }

    /// A cancel is the dialog's, which asks first; so are a question, a
    /// change to the booking (the dialog makes it), a payment problem (the
    /// dialog hands the chat to a person: its hand-off is recorded and the
    /// team told like any other) and a prompt to another number (not made
    /// from here).
    fn for_dialog(&mut self) {
        self.out.push_back(ChatOutput::ForDialog);
    }

    fn ask(&mut self, since: DateTime<Utc>, asked: Asked) {
        self.step = Step::Asking { since, asked };
        self.out.push_back(ChatOutput::QueryStatus);
    }

    /// The provider's answer about the open attempt. An outcome it brings
    /// is told by that outcome's notice; what the customer asked is
    /// answered here.
    fn answer_status(
        &mut self,
        since: DateTime<Utc>,
        asked: Asked,
        status: Status,
        now: DateTime<Utc>,
    ) {
        let expired = match status {
            Status::Final(PaymentOutcome::Completed { .. }) => {
                self.paid();
                return;
            }
            Status::Final(_) => {
                self.step = Step::Ended;
                if asked == Asked::Resend {
                    self.retry();
                }
                return;
            }
            Status::Pending => false,
            Status::Unknown => now - since >= self.config.prompt_lasts,
        };
        self.step = Step::Open { since };
        let can_retry = self.can_retry();
        match asked {
            Asked::Resend if expired && can_retry => self.begin(Provider::Mpesa),
            Asked::Resend => self.send(ChatMessage::StillPending { can_retry }),
            Asked::NotReceived => self.send(ChatMessage::NotReceivedHelp {
                prompt_open: true,
                can_retry,
                paybill: self.config.paybill.clone(),
            }),
            Asked::Paid => self.send(ChatMessage::Checking {
                provider: self.provider,
            }),
        }
    }

    fn can_retry(&self) -> bool {
        self.pushes < self.config.max_pushes
    }

    /// Another attempt by the same provider, while one is allowed.
    fn retry(&mut self) {
        if self.provider == Provider::Mpesa && !self.can_retry() {
            self.send(ChatMessage::Failed {
                why: FailureWhy::Other,
                can_retry: false,
            });
        } else {
            self.begin(self.provider);
        }
    }

    fn switch_to_link(&mut self) {
        self.provider = Provider::Pesapal;
        self.begin(Provider::Pesapal);
    }

    fn begin(&mut self, provider: Provider) {
        self.step = Step::Starting;
        match provider {
            Provider::Mpesa => {
                self.pushes += 1;
                self.out.push_back(ChatOutput::PushStk {
                    attempt: self.pushes,
                });
            }
            Provider::Pesapal => self.out.push_back(ChatOutput::CreatePesapalOrder),
        }
    }

    fn fire_timers(&mut self, now: DateTime<Utc>) {
        if self.abandon_at.is_some_and(|at| at <= now) {
            self.abandon();
            return;
        }
        if self.nudge_at.is_some_and(|at| at <= now) {
            self.nudge_at = None;
            self.send(ChatMessage::Nudge {
                url: self.link.clone(),
            });
        }
    }

    fn paid(&mut self) {
        self.nudge_at = None;
        self.abandon_at = None;
        self.finish(ChatResult::Paid);
    }

    fn abandon(&mut self) {
        self.nudge_at = None;
        self.abandon_at = None;
        self.send(ChatMessage::Abandoned);
        self.out.push_back(ChatOutput::CancelAppointment {
            reason: "payment not completed in time".into(),
        });
        self.out.push_back(ChatOutput::CloseThreadAbandoned);
        self.finish(ChatResult::Abandoned);
    }

    fn send(&mut self, m: ChatMessage) {
        self.out.push_back(ChatOutput::Send(m));
    }

    fn finish(&mut self, r: ChatResult) {
        self.step = Step::Done;
        self.out.push_back(ChatOutput::Finished(r));
    }
}

#[cfg(test)]
mod tests;
