//! Paying inside a chat: an M-Pesa push to the customer's phone or a PesaPal
//! order link sent in the conversation.
//!
//! The deadlines are durable: both are derived from the moment the payment
//! started (`payments.initiated_at`) and the tenant's `pesapal_nudge_seconds`
//! and `pesapal_abandon_seconds`, so a node that restarts rebuilds the machine
//! with [`ChatPayment::resume`] and honours them; nothing depends on an
//! in-memory sleep. Time is wall-clock (`DateTime<Utc>`) for that reason.
//!
//! Contract: `handle_input(input, now)`, then drain `poll_output()` until it
//! returns [`ChatOutput::Timeout`] or `None`.

use std::collections::VecDeque;

use chrono::{DateTime, Duration, Utc};

use super::Provider;
use super::hold::FailureWhy;
use super::outcome::PaymentOutcome;
use super::reply::PendingReply;

/// What a chat payment says lives in the message catalogue.
pub use crate::core::messages::chat_payment::ChatMessage;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatPaymentConfig {
    pub nudge_after: Duration,
    pub abandon_after: Duration,
    /// M-Pesa pushes allowed in one chat payment.
    pub max_pushes: u8,
}

impl ChatPaymentConfig {
    pub fn from_tenant(pesapal_nudge_seconds: i64, pesapal_abandon_seconds: i64) -> Self {
        Self {
            nudge_after: Duration::seconds(pesapal_nudge_seconds.max(1)),
            abandon_after: Duration::seconds(pesapal_abandon_seconds.max(2)),
            max_pushes: 2,
        }
    }
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
    /// A customer message while the payment is open ("retry", "link", "cancel"),
    /// read by [`PendingReply`].
    CustomerSaid(String),
    Tick,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatResult {
    Paid,
    Abandoned,
    CustomerCancelled,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatOutput {
    PushStk {
        attempt: u8,
    },
    CreatePesapalOrder,
    Send(ChatMessage),
    /// Cancel the appointment (`cancelled_by = 'system'`) with this reason.
    CancelAppointment {
        reason: String,
    },
    /// Close the conversation thread with `closed_reason = 'abandon'`.
    CloseThreadAbandoned,
    Finished(ChatResult),
    Timeout(DateTime<Utc>),
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
    Waiting,
    Done,
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

    /// Rebuilds a payment from what is stored: when it started
    /// (`payments.initiated_at`) and whether its nudge was already sent. A
    /// nudge that fell due while no node was running fires at the next tick;
    /// the abandon deadline is always honoured.
    pub fn resume(
        config: ChatPaymentConfig,
        provider: Provider,
        started_at: DateTime<Utc>,
        link: Option<String>,
        pushes: u8,
        nudge_sent: bool,
        now: DateTime<Utc>,
    ) -> Self {
        let mut m = Self::new(config, provider);
        m.step = Step::Waiting;
        m.pushes = pushes;
        m.link = link;
        m.now = Some(now);
        m.nudge_at = (!nudge_sent).then_some(started_at + m.config.nudge_after);
        m.abandon_at = Some(started_at + m.config.abandon_after);
        m
    }

    pub fn is_done(&self) -> bool {
        self.step == Step::Done
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
                self.step = Step::Waiting;
                self.send(ChatMessage::CheckYourPhone);
            }
            (Step::Starting, ChatInput::OrderCreated { redirect_url }) => {
                self.step = Step::Waiting;
                self.link = Some(redirect_url.clone());
                self.send(ChatMessage::PayWithLink { url: redirect_url });
            }
            (Step::Starting, ChatInput::PushRejected | ChatInput::OrderFailed) => {
                self.step = Step::Waiting;
                self.send(ChatMessage::ProviderUnavailable);
            }
            (Step::Starting | Step::Waiting, ChatInput::Outcome(outcome)) => match outcome {
                PaymentOutcome::Completed { receipt } => {
                    self.nudge_at = None;
                    self.abandon_at = None;
                    self.send(ChatMessage::Paid { receipt });
                    self.finish(ChatResult::Paid);
                }
                failure => {
                    self.step = Step::Waiting;
                    let can_retry = self.pushes < self.config.max_pushes;
                    self.send(ChatMessage::for_outcome(&failure, can_retry));
                }
            },
            (Step::Waiting, ChatInput::CustomerSaid(text)) => match PendingReply::read(&text) {
                PendingReply::Cancel => self.abandon(true),
                PendingReply::Card => {
                    self.provider = Provider::Pesapal;
                    self.begin(Provider::Pesapal);
                }
                PendingReply::Resend => {
                    if self.provider == Provider::Mpesa && self.pushes >= self.config.max_pushes {
                        self.send(ChatMessage::Failed {
                            why: FailureWhy::Other,
                            can_retry: false,
                        });
                    } else {
                        self.begin(self.provider);
                    }
                }
                // The booking stays as it is; the dialog answers the rest.
                PendingReply::NotReceived
                | PendingReply::Paid
                | PendingReply::CashLater
                | PendingReply::OtherNumber(_)
                | PendingReply::Wait
                | PendingReply::Other => {}
            },
            (Step::Starting | Step::Waiting, ChatInput::Tick) => self.fire_timers(now),
            _ => {}
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
            self.abandon(false);
            return;
        }
        if self.nudge_at.is_some_and(|at| at <= now) {
            self.nudge_at = None;
            self.send(ChatMessage::Nudge {
                url: self.link.clone(),
            });
        }
    }

    fn abandon(&mut self, by_customer: bool) {
        self.nudge_at = None;
        self.abandon_at = None;
        if by_customer {
            self.send(ChatMessage::CustomerCancelled);
            self.out.push_back(ChatOutput::CancelAppointment {
                reason: "customer cancelled during payment".into(),
            });
            self.finish(ChatResult::CustomerCancelled);
        } else {
            self.send(ChatMessage::Abandoned);
            self.out.push_back(ChatOutput::CancelAppointment {
                reason: "payment not completed in time".into(),
            });
            self.out.push_back(ChatOutput::CloseThreadAbandoned);
            self.finish(ChatResult::Abandoned);
        }
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
mod tests {
    use super::*;
    use crate::core::ids::Lang;
    use crate::core::payment::FailureReason;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap() + Duration::seconds(secs)
    }

    fn drain(m: &mut ChatPayment) -> (Vec<ChatOutput>, Option<DateTime<Utc>>) {
        let mut got = Vec::new();
        while let Some(o) = m.poll_output() {
            if let ChatOutput::Timeout(at) = o {
                return (got, Some(at));
            }
            got.push(o);
        }
        (got, None)
    }

    fn step(m: &mut ChatPayment, secs: i64, input: ChatInput) -> Vec<ChatOutput> {
        m.handle_input(input, t(secs));
        drain(m).0
    }

    fn cfg() -> ChatPaymentConfig {
        ChatPaymentConfig::from_tenant(480, 1800)
    }

    #[test]
    fn pesapal_link_nudge_then_abandon() {
        let mut m = ChatPayment::new(cfg(), Provider::Pesapal);
        assert_eq!(
            step(&mut m, 0, ChatInput::Start(Provider::Pesapal)),
            vec![ChatOutput::CreatePesapalOrder]
        );
        let url = "https://pay.example/x".to_string();
        assert_eq!(
            step(
                &mut m,
                1,
                ChatInput::OrderCreated {
                    redirect_url: url.clone()
                }
            ),
            vec![ChatOutput::Send(ChatMessage::PayWithLink {
                url: url.clone()
            })]
        );
        assert_eq!(drain(&mut m).1, Some(t(480)));
        assert!(step(&mut m, 479, ChatInput::Tick).is_empty());
        assert_eq!(
            step(&mut m, 480, ChatInput::Tick),
            vec![ChatOutput::Send(ChatMessage::Nudge { url: Some(url) })]
        );
        assert_eq!(drain(&mut m).1, Some(t(1800)));
        assert!(step(&mut m, 1799, ChatInput::Tick).is_empty());
        assert_eq!(
            step(&mut m, 1800, ChatInput::Tick),
            vec![
                ChatOutput::Send(ChatMessage::Abandoned),
                ChatOutput::CancelAppointment {
                    reason: "payment not completed in time".into()
                },
                ChatOutput::CloseThreadAbandoned,
                ChatOutput::Finished(ChatResult::Abandoned)
            ]
        );
        assert!(m.is_done());
        assert_eq!(drain(&mut m).1, None);
    }

    #[test]
    fn mpesa_success_stops_the_timers() {
        let mut m = ChatPayment::new(cfg(), Provider::Mpesa);
        assert_eq!(
            step(&mut m, 0, ChatInput::Start(Provider::Mpesa)),
            vec![ChatOutput::PushStk { attempt: 1 }]
        );
        step(&mut m, 1, ChatInput::PushAccepted);
        let got = step(
            &mut m,
            30,
            ChatInput::Outcome(PaymentOutcome::Completed {
                receipt: Some("QX1".into()),
            }),
        );
        assert_eq!(got.last(), Some(&ChatOutput::Finished(ChatResult::Paid)));
        assert!(step(&mut m, 2000, ChatInput::Tick).is_empty());
    }

    #[test]
    fn mpesa_failure_then_retry_then_link() {
        let mut m = ChatPayment::new(cfg(), Provider::Mpesa);
        step(&mut m, 0, ChatInput::Start(Provider::Mpesa));
        step(&mut m, 1, ChatInput::PushAccepted);
        let got = step(
            &mut m,
            20,
            ChatInput::Outcome(PaymentOutcome::Failed(FailureReason::WrongPin)),
        );
        assert_eq!(
            got,
            vec![ChatOutput::Send(ChatMessage::Failed {
                why: FailureWhy::WrongPin,
                can_retry: true
            })]
        );
        assert_eq!(
            step(&mut m, 25, ChatInput::CustomerSaid("RETRY".into())),
            vec![ChatOutput::PushStk { attempt: 2 }]
        );
        step(&mut m, 26, ChatInput::PushAccepted);
        let got = step(&mut m, 60, ChatInput::Outcome(PaymentOutcome::Timeout));
        assert_eq!(
            got,
            vec![ChatOutput::Send(ChatMessage::Failed {
                why: FailureWhy::Unreachable,
                can_retry: false
            })]
        );
        // No third push; a link is still possible.
        assert!(matches!(
            step(&mut m, 61, ChatInput::CustomerSaid("tena".into()))[..],
            [ChatOutput::Send(ChatMessage::Failed {
                can_retry: false,
                ..
            })]
        ));
        assert_eq!(
            step(&mut m, 62, ChatInput::CustomerSaid("send a link".into())),
            vec![ChatOutput::CreatePesapalOrder]
        );
    }

    #[test]
    fn customer_cancel_cancels_booking() {
        let mut m = ChatPayment::new(cfg(), Provider::Mpesa);
        step(&mut m, 0, ChatInput::Start(Provider::Mpesa));
        step(&mut m, 1, ChatInput::PushAccepted);
        let got = step(&mut m, 5, ChatInput::CustomerSaid("cancel".into()));
        assert_eq!(
            got.last(),
            Some(&ChatOutput::Finished(ChatResult::CustomerCancelled))
        );
    }

    #[test]
    fn only_a_real_cancel_cancels_the_booking() {
        let waiting = || {
            let mut m = ChatPayment::new(cfg(), Provider::Mpesa);
            step(&mut m, 0, ChatInput::Start(Provider::Mpesa));
            step(&mut m, 1, ChatInput::PushAccepted);
            m
        };
        for text in [
            "no prompt yet",
            "hapana bado",
            "no dont cancel, give me a minute",
            "what's the link to your location?",
        ] {
            let mut m = waiting();
            assert!(
                step(&mut m, 5, ChatInput::CustomerSaid(text.into())).is_empty(),
                "{text}"
            );
        }
        let mut m = waiting();
        assert_eq!(
            step(
                &mut m,
                5,
                ChatInput::CustomerSaid("nitumie link ya kadi".into())
            ),
            vec![ChatOutput::CreatePesapalOrder]
        );
        let mut m = waiting();
        assert_eq!(
            step(
                &mut m,
                5,
                ChatInput::CustomerSaid("i cancelled the prompt by mistake, send again".into())
            ),
            vec![ChatOutput::PushStk { attempt: 2 }]
        );
    }

    #[test]
    fn resume_after_restart_honours_stored_deadlines() {
        // Restarted 100 s in: the nudge (480) and abandon (1800) still stand.
        let mut m = ChatPayment::resume(cfg(), Provider::Pesapal, t(0), None, 0, false, t(100));
        assert_eq!(drain(&mut m).1, Some(t(480)));
        assert_eq!(m.deadline(ChatTimer::Abandon), Some(t(1800)));

        // Restarted after the nudge fell due, unsent: it fires at once.
        let mut m = ChatPayment::resume(cfg(), Provider::Pesapal, t(0), None, 0, false, t(600));
        assert_eq!(
            step(&mut m, 600, ChatInput::Tick),
            vec![ChatOutput::Send(ChatMessage::Nudge { url: None })]
        );
        assert_eq!(drain(&mut m).1, Some(t(1800)));

        // Already nudged: only the abandon deadline remains.
        let mut m = ChatPayment::resume(cfg(), Provider::Pesapal, t(0), None, 0, true, t(600));
        assert!(step(&mut m, 600, ChatInput::Tick).is_empty());
        assert_eq!(drain(&mut m).1, Some(t(1800)));

        // Restarted after the abandon deadline: the next tick abandons.
        let mut m = ChatPayment::resume(cfg(), Provider::Mpesa, t(0), None, 1, true, t(5000));
        assert_eq!(drain(&mut m).1, Some(t(1800)));
        let got = step(&mut m, 5000, ChatInput::Tick);
        assert!(got.contains(&ChatOutput::CloseThreadAbandoned));
    }

    #[test]
    fn messages_render_in_both_languages() {
        let m = ChatMessage::Nudge {
            url: Some("https://x".into()),
        };
        assert!(m.text(Lang::En).contains("https://x"));
        assert!(m.text(Lang::Sw).contains("https://x"));
        assert_ne!(m.text(Lang::En), m.text(Lang::Sw));
    }
}
