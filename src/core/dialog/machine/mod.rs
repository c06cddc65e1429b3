//! The dialogue state machine: one engine for every channel.
//!
//! Contract (the same as every core machine):
//!
//! * [`Dialog::handle_input`] takes a customer [`Turn`] or the result of an
//!   [`Action`] the runtime performed (free slots, a booking written, the
//!   customer's upcoming appointments, knowledge snippets);
//! * [`Dialog::poll_output`] is drained after every input. It yields one
//!   [`Output::Analysis`] per turn (language and intent, for the
//!   interactions row), [`Output::Reply`]s to send or speak, and
//!   [`Output::Action`]s to perform. Each action that asks for data
//!   (`FindSlots`, `Book`, `ListUpcoming`, `Cancel`, `Reschedule`,
//!   `FetchKnowledge`) must be answered with its matching [`Input`] before
//!   the next turn; `HandOff` and `StartPayment` need no answer.
//!
//! The state ([`DialogState`]) is plain serde data so the runtime can
//! checkpoint it per thread after every turn; a WhatsApp chat continues hours
//! later, a call survives a node restart. Each step of a flow holds only its
//! own data (enums of per-step structs); an input a step cannot take is a
//! typed [`DialogError`], never a panic.

use std::collections::VecDeque;

use chrono::{DateTime, Duration, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

use super::catalog::{Catalog, ServiceInfo, clear_service, match_services, match_staff};
use super::catalog::{service_words, services_mentioned, services_of_kind, with_the_rest};
use super::handoff::CallHandoff;
use super::intent::{
    Assent, Intent, Intents, Topic, asks_about_existing, asks_if_bot, asks_of_staff,
    asks_service_on_day, asks_when_in, asks_when_it_is, assent, assent_text, budget, classify,
    is_complaint, is_move_verb, is_payment_problem, refers_to_existing, topics,
};
use super::names::{corrected_name, group_start, party_size, stated_name};
use super::personality::{CancellationTone, Personality, Upsell};
use super::say;
use super::text::{DetectedLang, Lang, Tokens, detect, reply_language};
use super::when::{
    When, done_by, last_correction, local_today, moved_by, only_travel_or_event_date, parse_when,
    same_time, says_next_week, shift_minutes,
};
use crate::core::booking::{ServiceSpec, Slot, SlotQuery};
use crate::core::ids::{Money, PhoneNumber};
use crate::core::messages::Msg;
use crate::core::messages::greeting::{greeting, toned};
use crate::core::messages::handoff::HandoffMsg;

mod budget;
mod cancel;
mod confirm;
mod confirm_change;
mod done_by;
mod existing;
mod idle;
mod move_together;
mod new_booking;
mod new_time;
use new_time::Beside;
mod phone_code;
mod plan;
mod questions;
use questions::current_service;
mod reading;
mod route;
mod schedule;
mod shortcuts;
use reading::{
    Owned, bare_hour_change, last_said_other, move_parts, nearest_named, offered_choice,
    ordinal_choice,
};
mod types;
mod understanding;
mod upcoming;

pub use phone_code::RESEND_CHOICE;
pub use types::*;

#[cfg(test)]
pub(crate) use confirm::phone_in as phone_in_for_tests;

/// The engine for one thread.
pub struct Dialog<'a> {
    config: &'a DialogConfig,
    state: DialogState,
    out: VecDeque<Output>,
    /// Sentences gathered during one input, sent as one reply.
    pending: Vec<String>,
    pending_choices: Vec<Choice>,
    /// The channel (or an earlier COLLECT_PHONE) knows the customer's
    /// number: a booking needs one.
    phone_known: bool,
    /// The turn being handled asks for the first or the last free time
    /// ("earliest u got?", "next available", "whats the latest?").
    extreme_asked: Option<Extreme>,
    /// The answer being given is to the side questions of a turn about
    /// their bookings: the whole turn is handled again after it.
    route_then: bool,
    /// The turn being handled again had its questions answered already.
    questions_answered: bool,
}

/// What one turn said, understood once.
#[derive(Clone)]
struct Understood {
    tokens: Tokens,
    intents: Intents,
    when: When,
    service: Option<Uuid>,
    service_candidates: Vec<Uuid>,
    /// Every service named, in order ("manicure and pedicure").
    services: Vec<Uuid>,
    /// People the booking is for.
    party: u8,
    /// How the turn answers a yes/no question.
    assent: Assent,
    /// The name the customer gave for themselves.
    name: Option<String>,
    /// Words a language model wrote for an unclear turn: never a "yes".
    rewritten: bool,
    /// "30 min later", "isogeze na saa moja": minutes to move a time by.
    shift: Option<i64>,
    /// "will I be done before 12:30?", "nimalize kabla ya saa sita": when
    /// the customer must be finished (not a start).
    done_by: Option<NaiveTime>,
    staff: Option<Uuid>,
    choice: Option<ChoiceRef>,
}

/// A reference to an offered choice.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ChoiceRef {
    Index(usize),
    /// "the last one", "ya mwisho".
    Last,
    Id(String),
}

impl<'a> Dialog<'a> {
    pub fn new(config: &'a DialogConfig, state: DialogState) -> Self {
        Dialog {
            config,
            state,
            out: VecDeque::new(),
            pending: Vec::new(),
            pending_choices: Vec::new(),
            phone_known: true,
            extreme_asked: None,
            route_then: false,
            questions_answered: false,
        }
    }

    pub fn state(&self) -> &DialogState {
        &self.state
    }

    pub fn into_state(self) -> DialogState {
        self.state
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    pub fn handle_input(&mut self, input: Input) -> Result<(), DialogError> {
        let step = std::mem::take(&mut self.state.step);
        let result = match input {
            Input::Turn(turn) => {
                self.on_turn(turn, step);
                Ok(())
            }
            Input::HandoffClosed => {
                self.state.step = Step::Idle;
                self.state.misunderstood = 0;
                Ok(())
            }
            Input::Resumed {
                channel,
                phone_known,
                now,
            } => {
                self.resumed(channel, phone_known, now, step);
                Ok(())
            }
            other => self.on_result(other, step),
        };
        // While a result is awaited the reply is still being composed: the
        // greeting and the slots it leads to go out as one message.
        if !self.state.step.awaits_runtime() {
            self.flush();
        }
        result
    }

    // ---- turns ---------------------------------------------------------

    fn on_turn(&mut self, turn: Turn, step: Step) {
        self.state.now = Some(turn.now);
        self.state.channel = turn.channel;
        let tokens = Tokens::new(&turn.text);
        let detected = detect(&tokens);
        let lang = turn.force_language.unwrap_or_else(|| {
            reply_language(&tokens, detected, turn.language_hint, self.state.lang)
        });
        self.state.lang = lang;
        // A message with nothing to read (a photo, voice note or sticker on
        // WhatsApp): say what we can read, keep the conversation where it
        // was, and do not count it towards a hand-off for misunderstanding.
        let nothing_to_read = turn.text.trim().is_empty()
            && turn.choice_id.is_none()
            && turn.dtmf.as_deref().is_none_or(|d| d.trim().is_empty());
        if nothing_to_read && !matches!(step, Step::HandedOff) {
            self.state.step = step;
            self.analysis(detected, None, false);
            self.say(Msg::TextOnly.text(lang));
            return;
        }
        self.phone_known = turn.customer.phone.is_some();
        let step = match step {
            Step::CollectPhone(c) => match self.collect_phone(&turn, c, detected) {
                Some(back) => back,
                None => return,
            },
            Step::EnterCode(p) => match self.enter_code(&turn, p, detected) {
                Some(back) => back,
                None => return,
            },
            other => other,
        };
        let mut u = self.understand(&turn, tokens);
        self.extreme_asked = understanding::asks_extreme(&u.tokens);
        // "the tuesday after", "jumanne inayofuata": after the day being
        // talked about, not this week's.
        if let Some(day) = self.day_after_the_one_discussed(&step, &u.tokens) {
            u.when.date = Some(day);
        }
        self.fit_to_done_by(&mut u, &step);
        self.day_someone_works(&mut u, turn.now);
        if matches!(step, Step::HandedOff) {
            self.state.step = Step::HandedOff;
            self.analysis(detected, u.intents.primary(), true);
            return;
        }
        if !u.services.is_empty() {
            self.state.context.services = u.services.clone();
        } else if let Some(s) = u.service {
            self.state.context.services = vec![s];
        }
        if u.when.date.is_some() {
            self.state.context.when = u.when;
        }
        let understood = self.route(&turn, &u, step);
        if understood {
            self.state.misunderstood = 0;
        } else {
            self.state.misunderstood += 1;
        }
        self.analysis(detected, u.intents.primary(), understood);
        if !understood && self.state.misunderstood >= self.config.handoff_after_misunderstood {
            self.pending.clear();
            self.pending_choices.clear();
            self.hand_off(HandoffReason::Misunderstood);
        }
    }

    fn analysis(&mut self, detected: DetectedLang, intent: Option<Intent>, understood: bool) {
        self.out.push_front(Output::Analysis(Analysis {
            detected,
            language: self.state.lang,
            intent,
            understood,
        }));
    }

    fn not_understood(&mut self) {
        self.say(Msg::NotUnderstood.text(self.state.lang));
    }

    // ---- handoff -------------------------------------------------------

    fn hand_off(&mut self, reason: HandoffReason) {
        let biz = self.config.catalog.business_name.as_str();
        // On a call nobody can answer "here": the caller is put through to
        // the business, or promised a call back (the hand-off notice tells
        // the team); the call ends either way.
        let msg = match (self.state.channel, &self.config.call_handoff) {
            (Channel::Voice, CallHandoff::Transfer { .. }) => HandoffMsg::PutThrough { biz },
            (Channel::Voice, CallHandoff::Promise) => HandoffMsg::CallBack { biz },
            (Channel::WhatsApp | Channel::Web | Channel::Instagram | Channel::Messenger, _) => {
                HandoffMsg::ReplyHere { biz }
            }
        };
        self.say(msg.text(self.state.lang));
        self.act(Action::HandOff { reason });
        self.state.step = Step::HandedOff;
    }

    // ---- results -------------------------------------------------------

    fn on_result(&mut self, input: Input, step: Step) -> Result<(), DialogError> {
        let input_name = match &input {
            Input::Slots(_) => "slots",
            Input::Booked(_) => "booked",
            Input::Upcoming(_) => "upcoming",
            Input::Cancelled(_) => "cancelled",
            Input::Rescheduled(_) => "rescheduled",
            Input::Knowledge(_) => "knowledge",
            Input::CodeSent(_) => "code_sent",
            Input::CodeChecked(_) => "code_checked",
            Input::Turn(_) | Input::HandoffClosed | Input::Resumed { .. } => "turn",
        };
        match (input, step) {
            (Input::Slots(slots), Step::AwaitSlots(a)) => self.on_slots(a, slots),
            (Input::Booked(r), Step::AwaitWrite(c)) if c.purpose == Purpose::New => {
                self.on_booked(c, r)
            }
            (Input::Rescheduled(r), Step::AwaitWrite(c)) => self.on_rescheduled(c, r),
            (Input::Upcoming(list), Step::AwaitUpcoming(a)) => self.on_upcoming(a, list),
            (Input::Cancelled(r), Step::AwaitCancel(ap)) => self.on_cancelled(ap, r),
            (Input::Knowledge(k), Step::AwaitKnowledge(a)) => self.on_knowledge(a, k),
            (Input::CodeSent(r), Step::AwaitCode(p)) => self.on_code_sent(p, r),
            (Input::CodeChecked(v), Step::AwaitCode(p)) => self.on_code_checked(p, v),
            (_, step) => {
                let name = step.name();
                self.state.step = step;
                return Err(DialogError::Unexpected {
                    input: input_name,
                    step: name,
                });
            }
        }
        Ok(())
    }

    // ---- output helpers ------------------------------------------------

    fn say(&mut self, text: String) {
        self.pending.push(text);
    }

    fn act(&mut self, action: Action) {
        self.out.push_back(Output::Action(action));
    }

    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let sentences = self
            .pending
            .drain(..)
            .flat_map(|p| say::sentences(&p))
            .collect();
        let choices = std::mem::take(&mut self.pending_choices);
        self.out.push_back(Output::Reply(Reply {
            language: self.state.lang,
            sentences,
            choices,
        }));
    }

    fn toned(&self, text: String) -> String {
        toned(self.config.personality.tone, text, self.state.channel)
    }
}

fn in_booking(step: &Step) -> bool {
    matches!(
        step,
        Step::ChooseService(_)
            | Step::ChooseSlot(_)
            | Step::ConfirmSlot(_)
            | Step::CollectPhone(_)
            | Step::EnterCode(_)
    ) && !matches!(step, Step::ConfirmSlot(c) if matches!(c.purpose, Purpose::Move(_)))
}

fn spec(s: &ServiceInfo) -> ServiceSpec {
    ServiceSpec {
        id: s.id,
        duration_min: s.duration_min,
        buffer_min: s.buffer_min,
    }
}

fn hm(h: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN)
}

fn local_instant(tz: Tz, date: chrono::NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    use chrono::TimeZone;
    tz.from_local_datetime(&date.and_time(time))
        .earliest()
        .map(|d| d.with_timezone(&Utc))
}
