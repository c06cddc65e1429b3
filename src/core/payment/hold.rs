//! The STK hold: a caller pays for the booking without hanging up.
//!
//! ```text
//! Start ─> AwaitingConsent ─yes─> Pushing ─accepted─> Holding ─outcome─> Done
//!              │ no                 │ rejected          │ cap reached
//!              v                    v                   v
//!         link later          OfferingRetry <─fail── FinalQuery ─pending─> released
//!
//! Holding ─"send it again"─> Pushing (the next attempt, while attempts remain)
//! Holding ─card / later / another payer─> link later
//! Holding ─a change to the booking─> link later, the words to the dialog
//! Holding ─a payment problem─> the words to the dialog (a person takes it)
//! ```
//!
//! While holding, the turn-taking core is told to enter its holding state, a
//! short reassurance is spoken every [`HoldConfig::reassure_every`], and the
//! caller can still speak, read by [`PendingReply`]: "cancel" ends the hold,
//! "nimelipa" (I have paid) asks the provider at once, "sijapata" (I have not
//! received it) gets help and a query, "tuma tena" (the prompt is gone: a
//! wrong PIN, dismissed, expired) pushes again while attempts remain, a card,
//! a later payment or another payer ends the hold with a WhatsApp link, and
//! "ngoja" is answered and waited for. A change to the booking and a payment
//! problem are not the hold's to settle ([`to_dialog`]): the hold ends and
//! the caller's words go to the dialog. "No", "not yet" and "bado" never end
//! the hold. The hold never outlasts `voice_stk_max_hold_seconds`; then one
//! STK query decides, and if the answer is still unknown the caller is
//! released with the booking pending and a WhatsApp follow-up. Otherwise a
//! push is repeated only after a final failure (a retry is offered) or when
//! the caller asks for it.
//!
//! Contract: `handle_input(input, now)`, then drain `poll_output()` until it
//! returns [`HoldOutput::Timeout`] (the next deadline) or `None` (finished).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::core::ids::Money;

use super::outcome::{FailureReason, PaymentOutcome};
use super::reply::{Consent, PendingReply};

mod to_dialog;

/// The caller's language for prompts (the one language type).
pub use crate::core::ids::Lang;
/// Everything the hold says, in both languages, lives in the message
/// catalogue ([`crate::core::messages`]).
pub use crate::core::messages::hold::{FailureWhy, LinkBecause, Prompt};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldConfig {
    /// `voice_stk_max_hold_seconds`: the longest the caller waits after the
    /// push was accepted.
    pub max_hold: Duration,
    pub reassure_every: Duration,
    /// How long to wait for a yes/no before taking silence as "no".
    pub answer_timeout: Duration,
    /// How long the final STK query may take before the caller is released.
    pub query_wait: Duration,
    /// Pushes allowed in one hold: the first plus one retry.
    pub max_attempts: u8,
}

impl HoldConfig {
    pub fn from_tenant(voice_stk_max_hold_seconds: u32) -> Self {
        Self {
            max_hold: Duration::from_secs(u64::from(voice_stk_max_hold_seconds.max(10))),
            reassure_every: Duration::from_secs(20),
            answer_timeout: Duration::from_secs(12),
            query_wait: Duration::from_secs(8),
            max_attempts: 2,
        }
    }
}

impl FailureWhy {
    fn of(outcome: &PaymentOutcome) -> Self {
        match outcome {
            PaymentOutcome::Completed { .. } => Self::Other,
            PaymentOutcome::CancelledByCustomer => Self::Cancelled,
            PaymentOutcome::Timeout => Self::Unreachable,
            PaymentOutcome::Failed(FailureReason::WrongPin) => Self::WrongPin,
            PaymentOutcome::Failed(FailureReason::InsufficientFunds) => Self::InsufficientFunds,
            PaymentOutcome::Failed(FailureReason::Other(_)) => Self::Other,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldInput {
    /// The conversation reached payment.
    Start,
    /// A final transcript of the caller.
    CallerSaid(String),
    /// The provider accepted push number `attempt`.
    PushAccepted,
    /// The provider refused the push before prompting the phone.
    PushRejected,
    /// The push may or may not have reached the provider (timeout). Hold and
    /// let the callback or the final query decide.
    PushUncertain,
    /// A final result, from a callback (via notify) or an STK query.
    Outcome(PaymentOutcome),
    /// An STK query answered "still being processed".
    QueryPending,
    /// The caller has heard everything the hold said so far. A question's
    /// answer time runs from here, not from when it was asked: speaking it
    /// takes a good part of that time on a call.
    PromptsHeard,
    /// Deadlines up to `now` have passed.
    Tick,
}

/// How the hold ended, for the dialog and the booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldResult {
    Paid {
        receipt: Option<String>,
    },
    /// The result is not known yet; the booking stays pending and WhatsApp
    /// follows up.
    Pending,
    /// The caller chose (or was left with) paying later by link.
    PayLater,
    /// The caller asked to stop waiting.
    CallerCancelled,
    /// The caller reported a payment gone wrong (money taken with no
    /// confirmation, paid twice): no link, and the dialog hands the call
    /// to a person ([`HoldOutput::ForDialog`]).
    PaymentProblem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldOutput {
    Say(Prompt),
    /// Push attempt number `attempt` (1-based) to the caller's phone.
    PushStk {
        attempt: u8,
    },
    /// Ask the provider about the current push.
    QueryStk,
    /// The turn-taking core should enter its holding state.
    EnterHold,
    LeaveHold,
    /// Send a payment link on WhatsApp after the call.
    SendPaymentLink,
    /// What the caller said is the dialog's, once the hold has finished
    /// (just before [`HoldOutput::Finished`]): answer it as a turn instead
    /// of going on from the payment.
    ForDialog(String),
    Finished(HoldResult),
    /// Nothing more until this deadline (or the next input).
    Timeout(Instant),
}

/// The named timers of the hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HoldTimer {
    /// The caller has not answered a yes/no question.
    Answer,
    /// Time to say something so the caller knows we are still here.
    Reassure,
    /// `voice_stk_max_hold_seconds` since the push was accepted.
    HoldCap,
    /// The final STK query took too long.
    QueryWait,
}

impl HoldTimer {
    const ALL: [HoldTimer; 4] = [Self::Answer, Self::Reassure, Self::HoldCap, Self::QueryWait];
    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Idle,
    AwaitingConsent { reasked: bool },
    Pushing { attempt: u8 },
    Holding { attempt: u8 },
    FinalQuery { attempt: u8 },
    OfferingRetry { attempt: u8 },
    Done,
}

/// One STK hold on one call.
#[derive(Debug)]
pub struct StkHold {
    config: HoldConfig,
    amount: Money,
    step: Step,
    timers: [Option<Instant>; 4],
    out: VecDeque<HoldOutput>,
    now: Option<Instant>,
}

impl StkHold {
    pub fn new(config: HoldConfig, amount: Money) -> Self {
        Self {
            config,
            amount,
            step: Step::Idle,
            timers: [None; 4],
            out: VecDeque::new(),
            now: None,
        }
    }

    pub fn is_done(&self) -> bool {
        self.step == Step::Done
    }

    /// Whether the caller is currently on hold waiting for the phone prompt.
    pub fn is_holding(&self) -> bool {
        matches!(self.step, Step::Holding { .. } | Step::FinalQuery { .. })
    }

    pub fn handle_input(&mut self, input: HoldInput, now: Instant) {
        // Time never runs backwards inside the core.
        let now = match self.now {
            Some(prev) if now < prev => prev,
            _ => now,
        };
        self.now = Some(now);
        match input {
            HoldInput::Tick => self.fire_timers(now),
            other => self.on_event(other, now),
        }
    }

    pub fn poll_output(&mut self) -> Option<HoldOutput> {
        if let Some(o) = self.out.pop_front() {
            return Some(o);
        }
        self.timers
            .iter()
            .flatten()
            .min()
            .copied()
            .map(HoldOutput::Timeout)
    }

    fn fire_timers(&mut self, now: Instant) {
        // Fire in deadline order; a handler may re-arm or clear others.
        loop {
            let due = HoldTimer::ALL
                .iter()
                .copied()
                .filter_map(|t| self.timers[t.index()].map(|at| (at, t)))
                .filter(|(at, _)| *at <= now)
                .min();
            let Some((_, timer)) = due else { break };
            self.timers[timer.index()] = None;
            self.on_timer(timer, now);
        }
    }

    fn on_timer(&mut self, timer: HoldTimer, now: Instant) {
        match (timer, self.step.clone()) {
            (HoldTimer::Answer, Step::AwaitingConsent { .. }) => self.pay_later(),
            (HoldTimer::Answer, Step::OfferingRetry { .. }) => self.pay_later(),
            (HoldTimer::Reassure, Step::Holding { .. }) => {
                self.say(Prompt::Reassure);
                self.arm(HoldTimer::Reassure, now + self.config.reassure_every);
            }
            (HoldTimer::HoldCap, Step::Holding { attempt }) => {
                self.clear(HoldTimer::Reassure);
                self.step = Step::FinalQuery { attempt };
                self.out.push_back(HoldOutput::QueryStk);
                self.arm(HoldTimer::QueryWait, now + self.config.query_wait);
            }
            (HoldTimer::QueryWait, Step::FinalQuery { .. }) => self.release_pending(),
            // A stale timer of an earlier step is a harmless no-op.
            _ => {}
        }
    }

    fn on_event(&mut self, input: HoldInput, now: Instant) {
        match (self.step.clone(), input) {
            (Step::Idle, HoldInput::Start) => {
                self.say(Prompt::AskConsent {
                    amount: self.amount,
                });
                self.step = Step::AwaitingConsent { reasked: false };
                self.arm(HoldTimer::Answer, now + self.config.answer_timeout);
            }
            (Step::AwaitingConsent { reasked }, HoldInput::CallerSaid(text)) => {
                match Consent::read(&text) {
                    Consent::Yes => self.push(1),
                    Consent::No => self.pay_later(),
                    Consent::Unclear if !reasked => {
                        self.say(Prompt::AskConsent {
                            amount: self.amount,
                        });
                        self.step = Step::AwaitingConsent { reasked: true };
                        self.arm(HoldTimer::Answer, now + self.config.answer_timeout);
                    }
                    Consent::Unclear => self.pay_later(),
                }
            }
            (Step::Pushing { attempt }, HoldInput::PushAccepted | HoldInput::PushUncertain) => {
                self.say(Prompt::EnterPin);
                self.out.push_back(HoldOutput::EnterHold);
                self.step = Step::Holding { attempt };
                self.arm(HoldTimer::Reassure, now + self.config.reassure_every);
                self.arm(HoldTimer::HoldCap, now + self.config.max_hold);
            }
            (Step::Pushing { attempt }, HoldInput::PushRejected) => {
                self.failed(attempt, FailureWhy::PushRefused, now);
            }
            (Step::Holding { attempt }, HoldInput::CallerSaid(text)) => {
                let reply = PendingReply::read(&text);
                self.while_holding(attempt, reply, text);
            }
            (Step::Holding { attempt } | Step::FinalQuery { attempt }, HoldInput::Outcome(o)) => {
                self.clear_all();
                self.out.push_back(HoldOutput::LeaveHold);
                match o {
                    PaymentOutcome::Completed { receipt } => {
                        self.say(Prompt::Confirmed {
                            receipt: receipt.clone(),
                        });
                        self.finish(HoldResult::Paid { receipt });
                    }
                    failure => self.failed(attempt, FailureWhy::of(&failure), now),
                }
            }
            (Step::FinalQuery { .. }, HoldInput::QueryPending) => self.release_pending(),
            (
                Step::AwaitingConsent { .. } | Step::OfferingRetry { .. },
                HoldInput::PromptsHeard,
            ) => {
                self.arm(HoldTimer::Answer, now + self.config.answer_timeout);
            }
            (Step::OfferingRetry { attempt }, HoldInput::CallerSaid(text)) => {
                match Consent::read(&text) {
                    Consent::Yes => {
                        self.say(Prompt::Retrying);
                        self.push(attempt + 1);
                    }
                    Consent::No | Consent::Unclear => self.pay_later(),
                }
            }
            // Anything else (a late result after the hold ended, a query
            // answer while still holding, a stray utterance) changes nothing.
            _ => {}
        }
    }

    /// What the caller said while waiting for the PIN prompt.
    fn while_holding(&mut self, attempt: u8, reply: PendingReply, text: String) {
        match reply {
            PendingReply::Cancel => {
                self.clear_all();
                self.out.push_back(HoldOutput::LeaveHold);
                self.say(Prompt::CallerCancelled);
                self.finish(HoldResult::CallerCancelled);
            }
            // The caller says the prompt is gone (dismissed, expired, a
            // wrong PIN): a new one, while attempts remain; otherwise the
            // outcome of this one decides, and a link follows a failure.
            PendingReply::Resend if attempt < self.config.max_attempts => {
                self.clear_all();
                self.out.push_back(HoldOutput::LeaveHold);
                self.say(Prompt::Retrying);
                self.push(attempt + 1);
            }
            PendingReply::Resend => self.say(Prompt::CannotResend),
            PendingReply::Paid => {
                self.say(Prompt::CheckingNow);
                self.out.push_back(HoldOutput::QueryStk);
            }
            PendingReply::NotReceived => {
                self.say(Prompt::NotReceivedHelp);
                self.out.push_back(HoldOutput::QueryStk);
            }
            PendingReply::Card => self.link_instead(LinkBecause::Card),
            PendingReply::CashLater => self.link_instead(LinkBecause::Later),
            PendingReply::OtherNumber(_) => self.link_instead(LinkBecause::OtherPayer),
            PendingReply::Wait => self.say(Prompt::TakeYourTime),
            PendingReply::Change => self.change_instead(text),
            PendingReply::Problem => self.problem_for_a_person(text),
            PendingReply::Other => {}
        }
    }

    /// Stops waiting and leaves the booking pending with a WhatsApp link,
    /// saying why. A prompt already on the phone may still be paid: its
    /// callback settles the booking as usual.
    fn link_instead(&mut self, because: LinkBecause) {
        self.clear_all();
        self.out.push_back(HoldOutput::LeaveHold);
        self.say(Prompt::LinkInstead { because });
        self.out.push_back(HoldOutput::SendPaymentLink);
        self.finish(HoldResult::PayLater);
    }

    fn push(&mut self, attempt: u8) {
        self.clear(HoldTimer::Answer);
        self.step = Step::Pushing { attempt };
        self.out.push_back(HoldOutput::PushStk { attempt });
    }

    fn failed(&mut self, attempt: u8, why: FailureWhy, now: Instant) {
        let offer_retry = attempt < self.config.max_attempts;
        self.say(Prompt::Failed { why, offer_retry });
        if offer_retry {
            self.step = Step::OfferingRetry { attempt };
            self.arm(HoldTimer::Answer, now + self.config.answer_timeout);
        } else {
            self.out.push_back(HoldOutput::SendPaymentLink);
            self.finish(HoldResult::PayLater);
        }
    }

    fn pay_later(&mut self) {
        self.clear_all();
        self.say(Prompt::LinkComing);
        self.out.push_back(HoldOutput::SendPaymentLink);
        self.finish(HoldResult::PayLater);
    }

    fn release_pending(&mut self) {
        self.clear_all();
        self.out.push_back(HoldOutput::LeaveHold);
        self.say(Prompt::ReleasedPending);
        self.finish(HoldResult::Pending);
    }

    fn finish(&mut self, result: HoldResult) {
        self.step = Step::Done;
        self.out.push_back(HoldOutput::Finished(result));
    }

    fn say(&mut self, p: Prompt) {
        self.out.push_back(HoldOutput::Say(p));
    }

    fn arm(&mut self, t: HoldTimer, at: Instant) {
        self.timers[t.index()] = Some(at);
    }

    fn clear(&mut self, t: HoldTimer) {
        self.timers[t.index()] = None;
    }

    fn clear_all(&mut self) {
        self.timers = [None; 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> HoldConfig {
        HoldConfig::from_tenant(90)
    }

    /// Drives the machine: feeds inputs at offsets from t0 and collects every
    /// output except timeouts.
    struct Rig {
        hold: StkHold,
        t0: Instant,
        log: Vec<HoldOutput>,
    }

    impl Rig {
        fn new() -> Self {
            Self {
                hold: StkHold::new(cfg(), Money::kes(50_000)),
                t0: Instant::now(),
                log: Vec::new(),
            }
        }
        fn at(&mut self, secs: u64, input: HoldInput) -> Vec<HoldOutput> {
            self.hold
                .handle_input(input, self.t0 + Duration::from_secs(secs));
            let mut got = Vec::new();
            while let Some(o) = self.hold.poll_output() {
                if matches!(o, HoldOutput::Timeout(_)) {
                    break;
                }
                got.push(o);
            }
            self.log.extend(got.clone());
            got
        }
        fn next_deadline(&mut self) -> Option<u64> {
            match self.hold.poll_output() {
                Some(HoldOutput::Timeout(at)) => Some((at - self.t0).as_secs()),
                _ => None,
            }
        }
        fn said(&self) -> Vec<Prompt> {
            self.log
                .iter()
                .filter_map(|o| match o {
                    HoldOutput::Say(p) => Some(p.clone()),
                    _ => None,
                })
                .collect()
        }
    }

    fn started_and_holding() -> Rig {
        let mut r = Rig::new();
        r.at(0, HoldInput::Start);
        assert_eq!(
            r.at(2, HoldInput::CallerSaid("Ndiyo, tuma".into())),
            vec![HoldOutput::PushStk { attempt: 1 }]
        );
        let got = r.at(3, HoldInput::PushAccepted);
        assert_eq!(
            got,
            vec![HoldOutput::Say(Prompt::EnterPin), HoldOutput::EnterHold]
        );
        r
    }

    #[test]
    fn the_answer_time_runs_from_when_the_question_was_heard() {
        let mut r = Rig::new();
        r.at(0, HoldInput::Start);
        assert_eq!(r.next_deadline(), Some(12));
        // The question took 9 s to say.
        assert!(r.at(9, HoldInput::PromptsHeard).is_empty());
        assert_eq!(r.next_deadline(), Some(21));
        assert!(r.at(20, HoldInput::Tick).is_empty());
        let got = r.at(21, HoldInput::Tick);
        assert_eq!(
            got.last(),
            Some(&HoldOutput::Finished(HoldResult::PayLater))
        );
    }

    #[test]
    fn prompts_heard_while_holding_changes_nothing() {
        let mut r = started_and_holding();
        assert!(r.at(5, HoldInput::PromptsHeard).is_empty());
        assert_eq!(r.next_deadline(), Some(23));
    }

    #[test]
    fn what_the_caller_says_while_holding() {
        // "Not yet" asks whether it came; it never ends the hold.
        let mut r = started_and_holding();
        assert_eq!(
            r.at(10, HoldInput::CallerSaid("hapana bado".into())),
            vec![
                HoldOutput::Say(Prompt::NotReceivedHelp),
                HoldOutput::QueryStk
            ]
        );
        assert_eq!(
            r.at(11, HoldInput::CallerSaid("ngoja kidogo".into())),
            vec![HoldOutput::Say(Prompt::TakeYourTime)]
        );
        assert!(r.hold.is_holding());

        // A second push when asked, then no third.
        let got = r.at(12, HoldInput::CallerSaid("nilikosea pin tuma tena".into()));
        assert_eq!(
            got,
            vec![
                HoldOutput::LeaveHold,
                HoldOutput::Say(Prompt::Retrying),
                HoldOutput::PushStk { attempt: 2 }
            ]
        );
        r.at(13, HoldInput::PushAccepted);
        assert!(r.hold.is_holding());
        assert_eq!(r.next_deadline(), Some(33));
        assert_eq!(
            r.at(14, HoldInput::CallerSaid("send it again".into())),
            vec![HoldOutput::Say(Prompt::CannotResend)]
        );
        assert!(r.hold.is_holding());

        // Card, later or another payer: the link instead, said as such.
        for (text, because) in [
            ("can I pay by card instead", LinkBecause::Card),
            ("nitalipa cash nikifika", LinkBecause::Later),
            ("send it to my other number", LinkBecause::OtherPayer),
        ] {
            let mut r = started_and_holding();
            assert_eq!(
                r.at(10, HoldInput::CallerSaid(text.into())),
                vec![
                    HoldOutput::LeaveHold,
                    HoldOutput::Say(Prompt::LinkInstead { because }),
                    HoldOutput::SendPaymentLink,
                    HoldOutput::Finished(HoldResult::PayLater)
                ],
                "{text}"
            );
            assert_eq!(r.next_deadline(), None);
        }
    }

    #[test]
    fn success_confirms_and_reads_receipt() {
        let mut r = started_and_holding();
        let got = r.at(
            20,
            HoldInput::Outcome(PaymentOutcome::Completed {
                receipt: Some("NLJ7RT61SV".into()),
            }),
        );
        assert_eq!(got[0], HoldOutput::LeaveHold);
        assert_eq!(
            got.last(),
            Some(&HoldOutput::Finished(HoldResult::Paid {
                receipt: Some("NLJ7RT61SV".into())
            }))
        );
        let text = Prompt::Confirmed {
            receipt: Some("NLJ7RT61SV".into()),
        }
        .text(Lang::En);
        assert!(text.contains("N L J 7 R T 6 1 S V"), "{text}");
        assert!(r.hold.is_done());
        assert_eq!(r.next_deadline(), None);
    }

    #[test]
    fn reassures_every_twenty_seconds_until_cap_then_queries_once() {
        let mut r = started_and_holding();
        // Accepted at t=3: reassure at 23, 43, 63, 83; cap at 93.
        assert_eq!(r.next_deadline(), Some(23));
        assert!(r.at(22, HoldInput::Tick).is_empty());
        assert_eq!(
            r.at(23, HoldInput::Tick),
            vec![HoldOutput::Say(Prompt::Reassure)]
        );
        r.at(43, HoldInput::Tick);
        r.at(63, HoldInput::Tick);
        r.at(83, HoldInput::Tick);
        let reassured = r.said().iter().filter(|p| **p == Prompt::Reassure).count();
        assert_eq!(reassured, 4);
        assert_eq!(r.next_deadline(), Some(93));
        assert!(r.at(92, HoldInput::Tick).is_empty());
        assert_eq!(r.at(93, HoldInput::Tick), vec![HoldOutput::QueryStk]);
        // Still pending: release with the booking pending.
        let got = r.at(95, HoldInput::QueryPending);
        assert_eq!(
            got,
            vec![
                HoldOutput::LeaveHold,
                HoldOutput::Say(Prompt::ReleasedPending),
                HoldOutput::Finished(HoldResult::Pending)
            ]
        );
    }

    #[test]
    fn final_query_that_never_answers_releases_the_caller() {
        let mut r = started_and_holding();
        r.at(93, HoldInput::Tick);
        assert_eq!(r.next_deadline(), Some(101));
        let got = r.at(101, HoldInput::Tick);
        assert_eq!(got.last(), Some(&HoldOutput::Finished(HoldResult::Pending)));
    }

    #[test]
    fn final_query_with_a_result_decides() {
        let mut r = started_and_holding();
        r.at(93, HoldInput::Tick);
        let got = r.at(
            94,
            HoldInput::Outcome(PaymentOutcome::Completed {
                receipt: Some("QAB12".into()),
            }),
        );
        assert!(matches!(
            got.last(),
            Some(HoldOutput::Finished(HoldResult::Paid { .. }))
        ));
    }

    #[test]
    fn each_failure_is_explained_and_one_retry_offered() {
        let cases = [
            (
                PaymentOutcome::Failed(FailureReason::WrongPin),
                FailureWhy::WrongPin,
            ),
            (
                PaymentOutcome::Failed(FailureReason::InsufficientFunds),
                FailureWhy::InsufficientFunds,
            ),
            (PaymentOutcome::CancelledByCustomer, FailureWhy::Cancelled),
            (PaymentOutcome::Timeout, FailureWhy::Unreachable),
        ];
        for (outcome, why) in cases {
            let mut r = started_and_holding();
            let got = r.at(30, HoldInput::Outcome(outcome.clone()));
            assert_eq!(
                got,
                vec![
                    HoldOutput::LeaveHold,
                    HoldOutput::Say(Prompt::Failed {
                        why,
                        offer_retry: true
                    })
                ],
                "{outcome:?}"
            );
            // Retry accepted: second push.
            let got = r.at(33, HoldInput::CallerSaid("yes try again".into()));
            assert_eq!(
                got,
                vec![
                    HoldOutput::Say(Prompt::Retrying),
                    HoldOutput::PushStk { attempt: 2 }
                ]
            );
            r.at(34, HoldInput::PushAccepted);
            // Second failure: no more retries, link instead.
            let got = r.at(50, HoldInput::Outcome(outcome));
            assert_eq!(
                &got[1..],
                &[
                    HoldOutput::Say(Prompt::Failed {
                        why,
                        offer_retry: false
                    }),
                    HoldOutput::SendPaymentLink,
                    HoldOutput::Finished(HoldResult::PayLater)
                ]
            );
        }
    }

    #[test]
    fn failure_texts_exist_in_both_languages() {
        let p = Prompt::Failed {
            why: FailureWhy::WrongPin,
            offer_retry: true,
        };
        assert!(p.text(Lang::En).contains("PIN"));
        assert!(p.text(Lang::Sw).contains("WhatsApp"));
        assert_ne!(p.text(Lang::En), p.text(Lang::Sw));
    }

    #[test]
    fn declining_retry_or_silence_sends_a_link() {
        let mut r = started_and_holding();
        r.at(30, HoldInput::Outcome(PaymentOutcome::CancelledByCustomer));
        let got = r.at(31, HoldInput::CallerSaid("hapana, baadaye".into()));
        assert_eq!(
            got,
            vec![
                HoldOutput::Say(Prompt::LinkComing),
                HoldOutput::SendPaymentLink,
                HoldOutput::Finished(HoldResult::PayLater)
            ]
        );

        let mut r = started_and_holding();
        r.at(30, HoldInput::Outcome(PaymentOutcome::CancelledByCustomer));
        assert_eq!(r.next_deadline(), Some(42));
        assert!(r.at(41, HoldInput::Tick).is_empty());
        let got = r.at(42, HoldInput::Tick);
        assert_eq!(
            got.last(),
            Some(&HoldOutput::Finished(HoldResult::PayLater))
        );
    }

    #[test]
    fn caller_utterances_while_holding() {
        let mut r = started_and_holding();
        assert_eq!(
            r.at(10, HoldInput::CallerSaid("nimelipa".into())),
            vec![HoldOutput::Say(Prompt::CheckingNow), HoldOutput::QueryStk]
        );
        // A pending query answer keeps holding.
        assert!(r.at(11, HoldInput::QueryPending).is_empty());
        assert!(r.hold.is_holding());
        assert_eq!(
            r.at(12, HoldInput::CallerSaid("sijapata".into())),
            vec![
                HoldOutput::Say(Prompt::NotReceivedHelp),
                HoldOutput::QueryStk
            ]
        );
        assert!(r.at(13, HoldInput::CallerSaid("hmm".into())).is_empty());
        let got = r.at(14, HoldInput::CallerSaid("cancel".into()));
        assert_eq!(
            got,
            vec![
                HoldOutput::LeaveHold,
                HoldOutput::Say(Prompt::CallerCancelled),
                HoldOutput::Finished(HoldResult::CallerCancelled)
            ]
        );
        // A late success after the hold ended changes nothing here.
        assert!(
            r.at(
                40,
                HoldInput::Outcome(PaymentOutcome::Completed {
                    receipt: Some("X1".into())
                })
            )
            .is_empty()
        );
    }

    #[test]
    fn consent_refused_or_unclear_twice() {
        let mut r = Rig::new();
        r.at(0, HoldInput::Start);
        assert_eq!(
            r.at(1, HoldInput::CallerSaid("sitaki".into())).last(),
            Some(&HoldOutput::Finished(HoldResult::PayLater))
        );

        let mut r = Rig::new();
        r.at(0, HoldInput::Start);
        let again = r.at(1, HoldInput::CallerSaid("eh?".into()));
        assert!(matches!(
            again[0],
            HoldOutput::Say(Prompt::AskConsent { .. })
        ));
        let got = r.at(2, HoldInput::CallerSaid("mmm".into()));
        assert_eq!(
            got.last(),
            Some(&HoldOutput::Finished(HoldResult::PayLater))
        );
    }

    #[test]
    fn rejected_push_offers_retry_and_uncertain_push_holds() {
        let mut r = Rig::new();
        r.at(0, HoldInput::Start);
        r.at(1, HoldInput::CallerSaid("yes".into()));
        let got = r.at(2, HoldInput::PushRejected);
        assert_eq!(
            got,
            vec![HoldOutput::Say(Prompt::Failed {
                why: FailureWhy::PushRefused,
                offer_retry: true
            })]
        );

        let mut r = Rig::new();
        r.at(0, HoldInput::Start);
        r.at(1, HoldInput::CallerSaid("yes".into()));
        r.at(5, HoldInput::PushUncertain);
        assert!(r.hold.is_holding());
        assert_eq!(r.next_deadline(), Some(25));
    }

    #[test]
    fn time_never_runs_backwards() {
        let mut r = started_and_holding();
        r.at(50, HoldInput::Tick);
        // An older tick is treated as t=50: nothing new fires.
        assert!(r.at(10, HoldInput::Tick).is_empty());
        // Reassurance re-arms from the tick that fired it.
        assert_eq!(r.next_deadline(), Some(70));
    }
}
