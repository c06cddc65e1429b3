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
    is_move_verb, is_payment_problem, refers_to_existing, topics,
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
mod done_by;
mod existing;
mod new_booking;
mod new_time;
mod phone_code;
mod plan;
mod questions;
use questions::current_service;
mod reading;
mod schedule;
mod shortcuts;
use reading::{
    Owned, bare_hour_change, last_said_other, move_parts, offered_choice, ordinal_choice,
};
mod types;
mod understanding;

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

    /// Handles one turn in `step`; returns whether it was understood.
    fn route(&mut self, turn: &Turn, u: &Understood, step: Step) -> bool {
        let primary = u.intents.primary();
        if let Some(name) = &u.name
            && self.state.name.as_deref() != Some(name.as_str())
        {
            self.state.name = Some(name.clone());
            self.act(Action::RememberName { name: name.clone() });
        }
        // Money taken with no confirmation, paid twice: only a person can
        // look into it, whatever the conversation was about.
        if is_payment_problem(&turn.text) {
            self.hand_off(HandoffReason::PaymentProblem);
            return true;
        }
        // "will I be done before 12:30?" of what is proposed: it is.
        if self.says_done_in_time(u, &step) {
            return true;
        }
        // A word that looked like a day but could not be read as one
        // ("jumat", "wednsdy"): ask, never guess a day.
        if u.tokens.uncertain_day() && u.when.date.is_none() && !matches!(step, Step::HandedOff) {
            self.say(Msg::WhichDay.text(self.state.lang));
            let service = u.services.first().copied().or(u.service);
            self.state.step = match (step, service) {
                (Step::Idle | Step::ChooseService(_), Some(service)) => {
                    self.state.plan = Plan::default();
                    self.plan_services(
                        &if u.services.is_empty() {
                            vec![service]
                        } else {
                            u.services.clone()
                        },
                        u.party,
                    );
                    Step::ChooseSlot(ChooseSlot {
                        purpose: Purpose::New,
                        service,
                        staff: u.staff,
                        when: u.when,
                        offered: Vec::new(),
                    })
                }
                (other, _) => other,
            };
            return true;
        }
        // "Bei ya box braids na cornrows ni ngapi?" … "Na relaxer je?",
        // "and gel nails?": the price of the one named next.
        let after_prices = std::mem::take(&mut self.state.context.priced);
        if after_prices
            && (u.service.is_some() || !u.services.is_empty())
            && u.when.is_empty()
            && u.tokens.len() <= 5
            && u.tokens
                .has_any(&["je", "and", "na", "what about", "how about", "vipi", "nayo"])
            && !u.intents.contains(Intent::Book)
        {
            self.answer_topics(&[Topic::Prices], u, step, None);
            return true;
        }
        // Their bookings and a question beside ("Gel yangu ni saa ngapi
        // ijumaa, na mnapokea mpesa?"): the question first, then the turn
        // again without it.
        if !self.questions_answered && self.about_their_bookings(u, &step) {
            let side = self.side_questions(u);
            if !side.is_empty() {
                self.route_then = true;
                self.answer_topics(&side, u, step, Some(turn.text.clone()));
                return true;
            }
        }
        if self.existing_shortcut(u, &step, primary) {
            return true;
        }
        // "wewe ni robot?": said plainly, and the way to a person; the flow
        // goes on ("is this a bot? i want a person" hands off below).
        if asks_if_bot(&u.tokens) && !u.intents.contains(Intent::Human) {
            self.say(Msg::AmAnAssistant.text(self.state.lang));
            if u.service.is_none() && u.services.is_empty() && u.when.is_empty() {
                self.resume(step);
                return true;
            }
        }
        // Requests that win in any step.
        match primary {
            Some(Intent::Human) => {
                self.hand_off(HandoffReason::Requested);
                return true;
            }
            Some(Intent::Abuse) => {
                self.hand_off(HandoffReason::Abuse);
                return true;
            }
            // "if I cancel, until when?" asks about the policy ("nimechelewa
            // kuwaambia, kesho siwezi kuja" says they cannot come).
            Some(Intent::Cancel)
                if topics(&u.tokens)
                    .iter()
                    .any(|t| matches!(t, Topic::Cancellation | Topic::Lateness))
                    && !u.tokens.has_any(&[
                        "siwezi kuja",
                        "sitaweza kuja",
                        "siwezi kufika",
                        "sitaweza kufika",
                        "nitashindwa kuja",
                        "sitakuja",
                        "can t make it",
                        "cant make it",
                        "won t make it",
                        "wont make it",
                        "can t come",
                        "cant come",
                    ]) => {}
            // "na nikitaka ku-cancel, mwisho ni lini?", "what if I cancel?"
            Some(Intent::Cancel)
                if u.tokens.has_any(&[
                    "nikitaka",
                    "ikiwa",
                    "kama nita",
                    "if i",
                    "what if",
                    // "in case nishindwe kuja kesho, ni muda gani mapema
                    // lazima ni-cancel?"
                    "in case",
                    "incase",
                    "ikitokea",
                    "policy",
                    "lini",
                    "until when",
                    "how long before",
                    "deadline",
                    "mwisho",
                    "can i cancel later",
                ]) =>
            {
                // Every other part of the question too ("is there parking,
                // and what if I cancel?").
                let mut asked = topics(&u.tokens);
                let named = u.service.is_some() || !u.services.is_empty();
                asked.retain(|t| *t != Topic::Services && (named || *t != Topic::Prices));
                if !asked.contains(&Topic::Cancellation) {
                    asked.push(Topic::Cancellation);
                }
                self.answer_topics(&asked, u, step, None);
                return true;
            }
            // "nikihitaji kubadilisha, niwajulishe mapema kiasi gani?", "if I
            // need to reschedule, how much notice?": the policy, not a move.
            Some(Intent::Reschedule)
                if u.when.is_empty() && topics(&u.tokens).contains(&Topic::Cancellation) => {}
            // "I can't make it tomorrow, put me on Thursday": a move.
            // "cancel my Saturday one and book me instead on Tuesday the
            // 16th": a move too.
            Some(Intent::Cancel)
                if !matches!(step, Step::ConfirmCancel(_))
                    && (!u.tokens.has_any(&["cancel", "futa", "ghairi"])
                        || u.tokens.has_any(&["instead", "badala", "rather"]))
                    && move_parts(
                        &u.tokens,
                        self.state.now.unwrap_or_default(),
                        self.config.tz,
                    )
                    .is_some_and(|(_, target)| target.date.is_some() || target.time.is_some()) =>
            {
                self.start_existing(ExistingPurpose::Reschedule, u);
                return true;
            }
            // "aii basi iondoe tu hiyo ya sato" while times for moving it
            // are offered: that appointment is cancelled instead.
            Some(Intent::Cancel)
                if matches!(&step, Step::ChooseSlot(c) if matches!(c.purpose, Purpose::Move(_)))
                    && u.service.is_none()
                    && u.services.is_empty() =>
            {
                if let Step::ChooseSlot(c) = &step
                    && let Purpose::Move(ap) = c.purpose
                {
                    self.state.reminded = Some(ap.id);
                }
                self.start_existing(ExistingPurpose::Cancel, u);
                return true;
            }
            Some(Intent::Cancel) if !matches!(step, Step::ConfirmCancel(_)) => {
                // "lakini cancel manicure ya wednesday" while a cornrows
                // move is under way: another booking of theirs.
                let plan = &self.state.plan;
                let another = u.services.first().copied().or(u.service).is_some_and(|s| {
                    current_service(&step) != Some(s)
                        && !plan.rest.contains(&s)
                        && !plan.placed.iter().any(|p| p.service == s)
                });
                if in_booking(&step)
                    && !another
                    && !u.tokens.has_any(&["appointment", "miadi", "booking"])
                {
                    self.say(Msg::BookingStopped.text(self.state.lang));
                    self.state.step = Step::Idle;
                    return true;
                }
                self.start_existing(ExistingPurpose::Cancel, u);
                return true;
            }
            // "badala yake iwe alhamisi", "make it Thursday instead" in the
            // middle of a booking changes that booking, not an older one.
            // (Not while only a service is asked for and none named: "can
            // you move it to saturday" there is about one they have.)
            Some(Intent::Reschedule)
                if in_booking(&step)
                    && !refers_to_existing(&u.tokens)
                    && !(matches!(step, Step::ChooseService(_))
                        && u.service.is_none()
                        && u.services.is_empty()) => {}
            // "ndio badilisha", "yes move it" to "Move your … / Change your
            // …?": the yes to that change, not a new one.
            Some(Intent::Reschedule)
                if matches!(&step, Step::ConfirmSlot(c) if matches!(c.purpose, Purpose::Move(_)))
                    && u.when.is_empty()
                    && u.services.is_empty()
                    && u.service.is_none()
                    && u.tokens.words().first().is_some_and(|w| {
                        assent(&Tokens::from_words(vec![w.clone()])) == Assent::Yes
                    }) => {}
            Some(Intent::Reschedule)
                if !matches!(step, Step::AskNewTime(_) | Step::ChooseAppointment(_)) =>
            {
                self.start_existing(ExistingPurpose::Reschedule, u);
                return true;
            }
            // Cancel / reschedule in the steps that take them themselves, and
            // everything else: the step (or a question) handles the turn.
            Some(Intent::Cancel | Intent::Reschedule)
            | Some(
                Intent::Book
                | Intent::AskHours
                | Intent::AskPrices
                | Intent::AskServices
                | Intent::AskLocation
                | Intent::AskOther
                | Intent::Yes
                | Intent::No
                | Intent::Thanks
                | Intent::Greeting,
            )
            | None => {}
        }
        // A question in the middle of anything is answered (every part of
        // it), then the flow continues where it was, with whatever else the
        // message said ("how much is it, and book me for 2pm").
        let mut topics = topics(&u.tokens);
        if self.questions_answered {
            topics.clear();
        }
        // "a relaxer treatment for Saturday": a service named is not a
        // question about the menu.
        let service_named = u.service.is_some() || !u.services.is_empty();
        if service_named {
            topics.retain(|t| *t != Topic::Services);
        }
        // "na Achieng anafanya relaxer?": whether that person does it.
        if u.staff.is_some()
            && !topics.contains(&Topic::Staff)
            && asks_of_staff(&u.tokens, service_named)
        {
            topics.push(Topic::Staff);
        }
        // "do you do facials on Sundays?": who does it that day.
        if service_named
            && u.when.date.is_some()
            && u.when.time.is_none()
            && asks_service_on_day(&u.tokens)
            && !matches!(step, Step::ConfirmSlot(_))
        {
            topics.retain(|t| *t != Topic::Services);
            topics.insert(0, Topic::ServiceDay);
        }
        // "niko na budget ya 1k, naeza fanya nini?": what fits in it.
        if budget(&u.tokens).is_some() && !topics.contains(&Topic::Prices) {
            topics.push(Topic::Prices);
        }
        // "is Achieng in on Monday?", "Brian yuko jumamosi?": first.
        if let Some(person) = u.staff.and_then(|id| self.config.catalog.staff_member(id))
            && !person.weekly.is_empty()
            && asks_when_in(&u.tokens, person.first_name())
        {
            topics.retain(|t| *t != Topic::Staff);
            topics.insert(0, Topic::StaffDays);
        }
        let more = self.says_more_than_a_question(u, &step, &topics);
        if !topics.is_empty() {
            let then = more.then(|| turn.text.clone());
            self.answer_topics(&topics, u, step, then);
            return true;
        }
        if let Some(q) = u.intents.question()
            && !more
        {
            self.answer(q, u, step);
            return true;
        }
        self.dispatch(turn, u, step)
    }

    /// Whether a turn that asks something also moves the conversation on.
    fn says_more_than_a_question(&self, u: &Understood, step: &Step, topics: &[Topic]) -> bool {
        // "are you open on Thursday?": the day is what is asked about.
        let day_is_asked = topics.contains(&Topic::Hours) && u.when.time.is_none();
        let flow_answer = match step {
            // "how many hours before must I cancel?" asks about the
            // policy: its "cancel" is no refusal.
            Step::ConfirmSlot(_) | Step::ConfirmCancel(_) => {
                u.assent == Assent::Yes
                    || (u.assent == Assent::No && !topics.contains(&Topic::Cancellation))
            }
            Step::ChooseService(_) => u.service.is_some() || !u.services.is_empty(),
            // "can u add eyebrows right after": a service added to theirs.
            Step::AskNewTime(_) => {
                new_time::adds_after(&u.tokens) && (u.service.is_some() || !u.services.is_empty())
            }
            _ => false,
        };
        // "make it cornrows instead, rasta is too expensive": another
        // service named while one is being booked is a change, whatever
        // else the turn remarks on.
        let current = match step {
            Step::ConfirmSlot(c) => Some(c.service),
            Step::ChooseSlot(c) => Some(c.service),
            _ => None,
        };
        let other_service = current.is_some_and(|cur| {
            u.service.is_some_and(|s| s != cur) || u.services.iter().any(|s| *s != cur)
        });
        // "who will do it, is Brian there?" at a confirmation with Wanjiku:
        // answered, then Brian (who does it) is put in her place.
        let does = |staff: Uuid, service: Uuid| {
            self.config
                .catalog
                .staff_member(staff)
                .is_some_and(|p| p.services.is_empty() || p.services.contains(&service))
        };
        let other_staff = match (step, u.staff) {
            (Step::ConfirmSlot(c), Some(s)) => s != c.slot.staff_id && does(s, c.service),
            _ => false,
        };
        flow_answer
            || other_service
            || other_staff
            || u.choice.is_some()
            || u.when.time.is_some()
            || (u.when.date.is_some() && !day_is_asked)
            || (u.intents.contains(Intent::Book) && (u.service.is_some() || !u.services.is_empty()))
    }

    /// The step's own handling of a turn.
    fn dispatch(&mut self, turn: &Turn, u: &Understood, step: Step) -> bool {
        match step {
            Step::Idle => self.idle(turn, u),
            Step::ChooseService(s) => self.choose_service(u, s),
            Step::ChooseSlot(s) => self.choose_slot(u, s),
            Step::ConfirmSlot(s) | Step::CollectPhone(s) => self.confirm_slot(u, s),
            Step::EnterCode(p) => self.confirm_slot(u, p.slot),
            Step::ChooseAppointment(s) => self.choose_appointment(u, s),
            Step::ConfirmCancel(a) => self.confirm_cancel(u, a),
            Step::AskNewTime(s) => self.ask_new_time(u, s),
            Step::HandedOff => true,
            // A turn arriving while a result is awaited means the previous
            // turn's effects were lost (a crash between them): start over.
            awaiting => {
                debug_assert!(awaiting.awaits_runtime());
                self.idle(turn, u)
            }
        }
    }

    /// `add` booked after one of theirs (`theirs`, or the one just told),
    /// at `time` if said.
    fn add_after_theirs(
        &mut self,
        theirs: Option<Uuid>,
        add: Uuid,
        time: Option<NaiveTime>,
        day: Option<chrono::NaiveDate>,
    ) {
        self.act(Action::ListUpcoming);
        self.state.step = Step::AwaitUpcoming(AwaitUpcoming {
            all: false,
            purpose: ExistingPurpose::Check,
            when: When {
                time,
                ..When::default()
            },
            identify: When {
                date: day,
                ..When::default()
            },
            service: theirs,
            same_time: false,
            shift: None,
            swap_to: None,
            same_staff: false,
            kind: Vec::new(),
            add_after: Some(add),
        });
    }

    fn idle(&mut self, turn: &Turn, u: &Understood) -> bool {
        let lang = self.state.lang;
        // A continuation left by an earlier turn whose booking was dropped
        // does not outlive it.
        self.state.after_write = None;
        let wants_booking = u.intents.contains(Intent::Book)
            || u.service.is_some()
            // "I wud like a pedicur and manicur on thurday at 10am pls. Thanx"
            || !u.services.is_empty()
            || (!u.when.is_empty() && !u.intents.contains(Intent::Thanks));
        // "I have a manicure booked on Thursday", "i have a haircut on
        // wednesday", "niko na relaxer kesho saa tano": about that booking.
        // "niko na booking ya box braids saturday, can you add eyebrow
        // shaping after the braids?": the first named is theirs, the other
        // is booked right after it.
        // "can i add a pedicure at 1pm after my braids on saturday?": the
        // one after "after my" is theirs too.
        // "i want to book a pedicure on thursday right after my facial",
        // "nataka pia nyusi jumamosi baada ya relaxer yangu": after theirs.
        let right_after_mine = u.tokens.has_any(&["after my", "baada ya"]);
        let after_mine = right_after_mine || u.tokens.has_any(&["before my", "with my"]);
        let owned = self
            .owned_service(u)
            .filter(|(_, how)| *how == Owned::Stated || after_mine)
            .map(|(id, _)| id);
        if (refers_to_existing(&u.tokens) || owned.is_some())
            && (new_time::adds_after(&u.tokens) || (owned.is_some() && right_after_mine))
        {
            let theirs = owned.or(u.services.first().copied());
            if let Some(theirs) = theirs
                && let Some(add) = u.services.iter().copied().find(|s| *s != theirs)
            {
                // The time said after the adding word is the new one's.
                let words = u.tokens.words();
                let from = (0..words.len())
                    .find(|&i| new_time::adds_after(&Tokens::from_words(vec![words[i].clone()])))
                    .unwrap_or(words.len());
                let now = self.state.now.unwrap_or_default();
                let asked = parse_when(
                    &Tokens::from_words(words[from..].to_vec()),
                    now,
                    self.config.tz,
                );
                self.add_after_theirs(Some(theirs), add, asked.time, u.when.date);
                return true;
            }
        }
        // "You have: Manicure on Wednesday at 14:00." — "ok can I add a
        // pedicure right after it?": after the one just told (or just
        // booked: "oh wait can i also add a pedicure right after?").
        let told = self.state.reminded.or(self.state.just_booked);
        if told.is_some()
            && new_time::adds_after(&u.tokens)
            && u.tokens.has_any(&[
                "after it",
                "after that",
                "right after",
                "straight after",
                "baada yake",
                "baada ya hiyo",
                "baada ya hio",
            ])
            && let Some(add) = u.services.first().copied().or(u.service)
        {
            self.state.reminded = told;
            self.add_after_theirs(None, add, u.when.time, None);
            return true;
        }
        let stated = !u.when.is_empty()
            && !u.intents.contains(Intent::Book)
            && !u
                .tokens
                .has_any(&["also", "pia", "too", "another", "ingine", "nyingine"])
            && matches!(self.owned_service(u), Some((_, Owned::Stated)));
        // "i need my gel nails earlier, can we do wednesday": theirs, moved.
        let moves_theirs = matches!(self.owned_service(u), Some((_, Owned::Possessed)))
            && existing::wants_it_moved(&u.tokens);
        if refers_to_existing(&u.tokens) || stated || moves_theirs {
            self.start_existing(ExistingPurpose::Reschedule, u);
            return true;
        }
        if wants_booking {
            if u.intents.contains(Intent::Greeting) && !self.state.greeted {
                self.state.greeted = true;
                self.say(Msg::Hello.text(lang));
            }
            // "pedicure Wednesday 11am, and a haircut Friday 4pm": one plan,
            // each service at its own day and time.
            if let Some((first, second)) = self.split_by_day(u) {
                self.book_clauses(u, first, second);
                return true;
            }
            self.start_booking(u, u.when, u.staff);
            return true;
        }
        match u.intents.primary() {
            Some(Intent::Greeting) => {
                self.greet(turn);
                true
            }
            Some(Intent::Thanks) => {
                self.say(Msg::YoureWelcome.text(lang));
                true
            }
            Some(Intent::Yes | Intent::No) => {
                self.say(Msg::HowCanIHelp.text(lang));
                true
            }
            _ if u.name.is_some() => {
                let name = u.name.clone().unwrap_or_default();
                self.state.greeted = true;
                self.say(match lang {
                    Lang::En => format!("Nice to meet you, {name}! How can I help you today?"),
                    Lang::Sw => format!("Karibu sana, {name}! Nikusaidie vipi leo?"),
                });
                true
            }
            _ => {
                if !self.state.greeted && u.tokens.is_empty() {
                    self.greet(turn);
                    return true;
                }
                self.not_understood();
                false
            }
        }
    }

    fn greet(&mut self, turn: &Turn) {
        self.state.greeted = true;
        // The name said in the conversation first; the channel's profile
        // name only as a fallback.
        let name = self.state.name.as_deref().or(turn.customer.name.as_deref());
        let text = greeting(
            &self.config.personality,
            self.state.lang,
            &self.config.catalog.business_name,
            name,
            self.state.channel,
        );
        self.say(text);
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
