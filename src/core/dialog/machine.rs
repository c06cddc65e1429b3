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
use super::intent::{Intent, Intents, classify};
use super::personality::{CancellationTone, GreetingMode, Honorific, Personality, Tone, Upsell};
use super::say::{self, t};
use super::text::{DetectedLang, Lang, Tokens, detect, reply_language};
use super::when::{When, local_today, parse_when};
use crate::core::booking::{self, ServiceSpec, Slot, SlotQuery};
use crate::core::ids::{Money, PhoneNumber};

/// Which channel a turn came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    WhatsApp,
    Voice,
}

impl Channel {
    /// The value of interactions.channel / appointments.booking_channel.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::WhatsApp => "whatsapp",
            Channel::Voice => "voice",
        }
    }
}

/// Who is talking.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Customer {
    pub phone: Option<PhoneNumber>,
    pub name: Option<String>,
}

/// One customer turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    pub text: String,
    /// The channel's idea of the language (speech recogniser, WhatsApp
    /// locale), used when the text itself does not tell.
    pub language_hint: Option<Lang>,
    pub channel: Channel,
    pub customer: Customer,
    /// Keypad digits on a call.
    pub dtmf: Option<String>,
    /// The id of a tapped quick reply (WhatsApp button or list row).
    pub choice_id: Option<String>,
    /// Answer in this language whatever the text looks like (a turn
    /// rewritten by the language model is English words for a Swahili
    /// speaker).
    pub force_language: Option<Lang>,
    pub now: DateTime<Utc>,
}

/// An existing appointment, as the conversation shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentSummary {
    pub id: Uuid,
    pub service_id: Uuid,
    pub staff_id: Uuid,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// A knowledge_snippets row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snippet {
    pub category: String,
    pub title: String,
    pub body: String,
    pub language: String,
}

/// Why a write the conversation asked for did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WriteFailure {
    /// Someone else took the time first.
    SlotTaken,
    /// The appointment is gone or not this customer's.
    NotFound,
    /// Anything else; the runtime logged it.
    Failed,
}

/// Inputs: a turn, or the result of an action.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Turn(Turn),
    Slots(Vec<Slot>),
    Booked(Result<AppointmentSummary, WriteFailure>),
    Upcoming(Vec<AppointmentSummary>),
    Cancelled(Result<Uuid, WriteFailure>),
    Rescheduled(Result<AppointmentSummary, WriteFailure>),
    Knowledge(Vec<Snippet>),
    /// A person closed the handoff; the bot answers again.
    HandoffClosed,
}

/// Why the thread passed to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    Requested,
    Misunderstood,
    NoAvailability,
}

/// Effects for the runtime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Action {
    FindSlots(SlotQuery),
    Book {
        service_id: Uuid,
        staff_id: Uuid,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        price: Money,
    },
    ListUpcoming,
    Cancel {
        appointment_id: Uuid,
    },
    Reschedule {
        appointment_id: Uuid,
        staff_id: Uuid,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
    /// Active knowledge snippets of these categories (all when empty).
    FetchKnowledge {
        categories: Vec<String>,
    },
    HandOff {
        reason: HandoffReason,
    },
    StartPayment {
        appointment_id: Uuid,
        amount: Money,
    },
}

/// A quick-reply choice (a WhatsApp button or list row; a digit on a call).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
}

/// What to say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub language: Lang,
    pub sentences: Vec<String>,
    pub choices: Vec<Choice>,
}

impl Reply {
    pub fn text(&self) -> String {
        self.sentences.join(" ")
    }
}

/// What was understood of one turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Analysis {
    pub detected: DetectedLang,
    pub language: Lang,
    pub intent: Option<Intent>,
    /// False when the rules could make nothing of the turn (the place where
    /// an optional language model may help).
    pub understood: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    Analysis(Analysis),
    Reply(Reply),
    Action(Action),
}

/// An input the current step cannot take: the runtime fed results out of
/// order (our bug), never the customer's fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DialogError {
    #[error("unexpected {input} while in step {step}")]
    Unexpected {
        input: &'static str,
        step: &'static str,
    },
}

/// Per-tenant settings of the conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct DialogConfig {
    pub tz: Tz,
    pub catalog: Catalog,
    pub personality: Personality,
    /// Consecutive turns not understood before a person takes over
    /// (handoff_thresholds.misunderstood_turns; default 3).
    pub handoff_after_misunderstood: u32,
    /// Ask for payment after booking (tenant payment_enabled).
    pub payment_on_booking: bool,
    /// Days searched for free times.
    pub search_days: u32,
    /// Start-time grid in minutes.
    pub slot_step_min: u32,
}

impl DialogConfig {
    pub fn new(tz: Tz, catalog: Catalog, personality: Personality) -> Self {
        DialogConfig {
            tz,
            catalog,
            personality,
            handoff_after_misunderstood: 3,
            payment_on_booking: false,
            search_days: 7,
            slot_step_min: 30,
        }
    }
}

/// What a slot search is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Purpose {
    New,
    Move(AppointmentSummary),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChooseService {
    pub when: When,
    pub staff: Option<Uuid>,
    pub offered: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwaitSlots {
    pub purpose: Purpose,
    pub service: Uuid,
    pub staff: Option<Uuid>,
    pub when: When,
    /// Why we are searching again (the chosen time was just taken).
    pub retry: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChooseSlot {
    pub purpose: Purpose,
    pub service: Uuid,
    pub staff: Option<Uuid>,
    pub when: When,
    pub offered: Vec<Slot>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmSlot {
    pub purpose: Purpose,
    pub service: Uuid,
    pub staff: Option<Uuid>,
    pub when: When,
    pub slot: Slot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExistingPurpose {
    Cancel,
    Reschedule,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwaitUpcoming {
    pub purpose: ExistingPurpose,
    pub when: When,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChooseAppointment {
    pub purpose: ExistingPurpose,
    pub when: When,
    pub offered: Vec<AppointmentSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AskNewTime {
    pub appointment: AppointmentSummary,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwaitKnowledge {
    pub question: Intent,
    pub words: Vec<String>,
    pub resume: Box<Step>,
}

/// Where the conversation is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Step {
    #[default]
    Idle,
    ChooseService(ChooseService),
    AwaitSlots(AwaitSlots),
    ChooseSlot(ChooseSlot),
    ConfirmSlot(ConfirmSlot),
    AwaitWrite(ConfirmSlot),
    AwaitUpcoming(AwaitUpcoming),
    ChooseAppointment(ChooseAppointment),
    ConfirmCancel(AppointmentSummary),
    AwaitCancel(AppointmentSummary),
    AskNewTime(AskNewTime),
    AwaitKnowledge(AwaitKnowledge),
    /// A person has the thread; the bot stays silent.
    HandedOff,
}

impl Step {
    pub fn name(&self) -> &'static str {
        match self {
            Step::Idle => "idle",
            Step::ChooseService(_) => "choose_service",
            Step::AwaitSlots(_) => "await_slots",
            Step::ChooseSlot(_) => "choose_slot",
            Step::ConfirmSlot(_) => "confirm_slot",
            Step::AwaitWrite(_) => "await_write",
            Step::AwaitUpcoming(_) => "await_upcoming",
            Step::ChooseAppointment(_) => "choose_appointment",
            Step::ConfirmCancel(_) => "confirm_cancel",
            Step::AwaitCancel(_) => "await_cancel",
            Step::AskNewTime(_) => "ask_new_time",
            Step::AwaitKnowledge(_) => "await_knowledge",
            Step::HandedOff => "handed_off",
        }
    }

    /// Whether this step waits for the runtime rather than the customer.
    pub fn awaits_runtime(&self) -> bool {
        matches!(
            self,
            Step::AwaitSlots(_)
                | Step::AwaitWrite(_)
                | Step::AwaitUpcoming(_)
                | Step::AwaitCancel(_)
                | Step::AwaitKnowledge(_)
        )
    }
}

/// The checkpointed state of one thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DialogState {
    pub lang: Lang,
    pub step: Step,
    pub misunderstood: u32,
    pub greeted: bool,
    /// The time of the latest turn (used to resolve dates in results).
    pub now: Option<DateTime<Utc>>,
    /// What the language model has cost this thread since its last booking,
    /// in millionths of a US dollar (the tenant's cost ceilings are per
    /// booking). Checkpointed with the rest, so a restart or another node
    /// does not forget it.
    #[serde(default)]
    pub llm_spend_micro_usd: u64,
}

impl DialogState {
    pub fn handed_off(&self) -> bool {
        matches!(self.step, Step::HandedOff)
    }
}

/// The engine for one thread.
pub struct Dialog<'a> {
    config: &'a DialogConfig,
    state: DialogState,
    out: VecDeque<Output>,
    /// Sentences gathered during one input, sent as one reply.
    pending: Vec<String>,
    pending_choices: Vec<Choice>,
}

/// What one turn said, understood once.
struct Understood {
    tokens: Tokens,
    intents: Intents,
    when: When,
    service: Option<Uuid>,
    service_candidates: Vec<Uuid>,
    staff: Option<Uuid>,
    choice: Option<ChoiceRef>,
}

/// A reference to an offered choice.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ChoiceRef {
    Index(usize),
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
            self.say(t(
                lang,
                "I can only read text messages here. Please type what you need, for example: \"book a haircut tomorrow at 10\".",
                "Naweza kusoma ujumbe wa maandishi tu. Tafadhali andika unachohitaji, kwa mfano: \"nataka kusuka kesho saa nne\".",
            ));
            return;
        }
        let u = self.understand(&turn, tokens);
        if matches!(step, Step::HandedOff) {
            self.state.step = Step::HandedOff;
            self.analysis(detected, u.intents.primary(), true);
            return;
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

    fn understand(&self, turn: &Turn, tokens: Tokens) -> Understood {
        let intents = classify(&tokens);
        let when = parse_when(&tokens, turn.now, self.config.tz);
        let services = &self.config.catalog.services;
        let service = clear_service(&tokens, services);
        let service_candidates = match_services(&tokens, services)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let staff = match_staff(&tokens, &self.config.catalog.staff);
        let choice = turn
            .choice_id
            .clone()
            .map(ChoiceRef::Id)
            .or_else(|| {
                turn.dtmf
                    .as_deref()
                    .and_then(|d| d.trim().parse::<usize>().ok())
                    .filter(|n| *n >= 1)
                    .map(|n| ChoiceRef::Index(n - 1))
            })
            .or_else(|| ordinal_choice(&tokens).map(ChoiceRef::Index));
        Understood {
            tokens,
            intents,
            when,
            service,
            service_candidates,
            staff,
            choice,
        }
    }

    /// Handles one turn in `step`; returns whether it was understood.
    fn route(&mut self, turn: &Turn, u: &Understood, step: Step) -> bool {
        let primary = u.intents.primary();
        // Requests that win in any step.
        match primary {
            Some(Intent::Human) => {
                self.hand_off(HandoffReason::Requested);
                return true;
            }
            Some(Intent::Cancel) if !matches!(step, Step::ConfirmCancel(_)) => {
                if in_booking(&step) && !u.tokens.has_any(&["appointment", "miadi", "booking"]) {
                    self.say(t(
                        self.state.lang,
                        "OK, I've stopped that booking. Anything else I can help with?",
                        "Sawa, nimesimamisha hiyo. Nikusaidie na nini kingine?",
                    ));
                    self.state.step = Step::Idle;
                    return true;
                }
                self.start_existing(ExistingPurpose::Cancel, u.when);
                return true;
            }
            Some(Intent::Reschedule)
                if !matches!(step, Step::AskNewTime(_) | Step::ChooseAppointment(_)) =>
            {
                self.start_existing(ExistingPurpose::Reschedule, u.when);
                return true;
            }
            _ => {}
        }
        // A question in the middle of a flow is answered, then the flow
        // continues where it was.
        if let Some(q) = u.intents.question() {
            let booking_words = u.intents.contains(Intent::Book) && u.service.is_some();
            if !booking_words {
                self.answer(q, u, step);
                return true;
            }
        }
        match step {
            Step::Idle => self.idle(turn, u),
            Step::ChooseService(s) => self.choose_service(u, s),
            Step::ChooseSlot(s) => self.choose_slot(u, s),
            Step::ConfirmSlot(s) => self.confirm_slot(u, s),
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

    fn idle(&mut self, turn: &Turn, u: &Understood) -> bool {
        let lang = self.state.lang;
        let wants_booking = u.intents.contains(Intent::Book)
            || u.service.is_some()
            || (!u.when.is_empty() && !u.intents.contains(Intent::Thanks));
        if wants_booking {
            if u.intents.contains(Intent::Greeting) && !self.state.greeted {
                self.state.greeted = true;
                self.say(t(lang, "Hello!", "Habari!"));
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
                self.say(t(
                    lang,
                    "You're welcome! Is there anything else I can help with?",
                    "Karibu sana! Kuna kingine ninachoweza kukusaidia?",
                ));
                true
            }
            Some(Intent::Yes | Intent::No) => {
                self.say(t(lang, "How can I help you?", "Nikusaidie vipi?"));
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
        let lang = self.state.lang;
        let p = &self.config.personality;
        let biz = &self.config.catalog.business_name;
        let name = turn
            .customer
            .name
            .as_deref()
            .and_then(|n| n.split_whitespace().next())
            .filter(|_| p.honorific == Honorific::FirstName)
            .map(|n| format!(" {n}"))
            .unwrap_or_default();
        let hello = match (lang, p.honorific) {
            (Lang::En, Honorific::Formal) => "Good day.".to_owned(),
            (Lang::En, _) => format!("Hello{name}!"),
            (Lang::Sw, Honorific::Formal) => "Habari yako, mpendwa mteja.".to_owned(),
            (Lang::Sw, _) => format!("Habari{name}!"),
        };
        let custom = p
            .greeting_custom
            .clone()
            .filter(|_| p.greeting_mode == GreetingMode::Custom);
        let text = match (custom, p.greeting_mode, lang) {
            (Some(custom), _, _) => custom,
            (None, GreetingMode::Short, Lang::En) => format!("{hello} {biz} here. How can I help?"),
            (None, GreetingMode::Short, Lang::Sw) => {
                format!("{hello} Hapa ni {biz}. Nikusaidie vipi?")
            }
            (None, _, Lang::En) => format!(
                "{hello} Welcome to {biz}. I can book, move or cancel an appointment, and answer questions about our services, prices and hours. How can I help?"
            ),
            (None, _, Lang::Sw) => format!(
                "{hello} Karibu {biz}. Naweza kukuwekea, kubadilisha au kufuta miadi, na kujibu maswali kuhusu huduma, bei na saa zetu. Nikusaidie vipi?"
            ),
        };
        self.say(self.toned(text));
    }

    fn not_understood(&mut self) {
        self.say(t(
            self.state.lang,
            "Sorry, I didn't quite get that. I can book, move or cancel an appointment, or tell you about our services, prices, hours and location.",
            "Samahani, sijaelewa vizuri. Naweza kukuwekea, kubadilisha au kufuta miadi, au kukueleza kuhusu huduma, bei, saa za kazi na mahali tulipo.",
        ));
    }

    // ---- booking -------------------------------------------------------

    fn start_booking(&mut self, u: &Understood, when: When, staff: Option<Uuid>) {
        if let Some(service) = u.service {
            self.search(Purpose::New, service, staff, when, false);
            return;
        }
        let offered: Vec<Uuid> = if u.service_candidates.len() >= 2 {
            u.service_candidates.clone()
        } else {
            self.config.catalog.services.iter().map(|s| s.id).collect()
        };
        let lang = self.state.lang;
        if u.service_candidates.len() >= 2 {
            self.say(t(
                lang,
                "Which one would you like?",
                "Ungependa ipi kati ya hizi?",
            ));
        } else {
            self.say(t(
                lang,
                "Sure! Which service would you like?",
                "Sawa! Ungependa huduma gani?",
            ));
        }
        self.offer_services(&offered);
        self.state.step = Step::ChooseService(ChooseService {
            when,
            staff,
            offered,
        });
    }

    fn offer_services(&mut self, ids: &[Uuid]) {
        let lang = self.state.lang;
        let mut lines = Vec::new();
        for (i, id) in ids.iter().take(10).enumerate() {
            let Some(s) = self.config.catalog.service(*id) else {
                continue;
            };
            lines.push(format!(
                "{}. {} ({})",
                i + 1,
                s.display_name(lang),
                say::money(s.price)
            ));
            self.pending_choices.push(Choice {
                id: format!("svc_{}", s.id),
                title: s.display_name(lang).chars().take(24).collect(),
                description: Some(
                    format!(
                        "{}, {}",
                        say::money(s.price),
                        say::duration(lang, s.duration_min)
                    )
                    .chars()
                    .take(72)
                    .collect(),
                ),
            });
        }
        if !lines.is_empty() {
            self.say(lines.join("; ") + ".");
        }
    }

    fn choose_service(&mut self, u: &Understood, s: ChooseService) -> bool {
        let when = u.when.or(s.when);
        let staff = u.staff.or(s.staff);
        let picked = match &u.choice {
            Some(ChoiceRef::Id(id)) => id
                .strip_prefix("svc_")
                .and_then(|raw| raw.parse::<Uuid>().ok())
                .filter(|id| s.offered.contains(id)),
            Some(ChoiceRef::Index(i)) => s.offered.get(*i).copied(),
            None => None,
        }
        .or(u.service)
        .or_else(|| {
            (s.offered.len() == 1 && u.intents.contains(Intent::Yes)).then(|| s.offered[0])
        });
        if let Some(service) = picked {
            self.search(Purpose::New, service, staff, when, false);
            return true;
        }
        if u.intents.contains(Intent::No) {
            self.say(t(
                self.state.lang,
                "No problem. Is there anything else I can help with?",
                "Sawa. Kuna kingine ninachoweza kukusaidia?",
            ));
            self.state.step = Step::Idle;
            return true;
        }
        if u.service_candidates.len() >= 2 {
            let offered = u.service_candidates.clone();
            self.say(t(
                self.state.lang,
                "Which one would you like?",
                "Ungependa ipi kati ya hizi?",
            ));
            self.offer_services(&offered);
            self.state.step = Step::ChooseService(ChooseService {
                when,
                staff,
                offered,
            });
            return true;
        }
        self.say(t(
            self.state.lang,
            "Sorry, I didn't catch which service. Please pick one from the list.",
            "Samahani, sijapata ni huduma gani. Tafadhali chagua moja kwenye orodha.",
        ));
        let offered = s.offered.clone();
        self.offer_services(&offered);
        self.state.step = Step::ChooseService(ChooseService {
            when,
            staff,
            offered,
        });
        false
    }

    /// Asks the runtime for free slots.
    fn search(
        &mut self,
        purpose: Purpose,
        service: Uuid,
        staff: Option<Uuid>,
        when: When,
        retry: bool,
    ) {
        let Some(info) = self.config.catalog.service(service).cloned() else {
            self.not_understood();
            self.state.step = Step::Idle;
            return;
        };
        let now = self.state.now.unwrap_or_default();
        let today = local_today(now, self.config.tz);
        let from = when.date.filter(|d| *d >= today).unwrap_or(today);
        let query = SlotQuery {
            service: spec(&info),
            staff,
            from,
            days: self.config.search_days,
            not_before: now,
            step_min: self.config.slot_step_min,
        };
        self.act(Action::FindSlots(query));
        self.state.step = Step::AwaitSlots(AwaitSlots {
            purpose,
            service,
            staff,
            when,
            retry,
        });
    }

    fn on_slots(&mut self, a: AwaitSlots, slots: Vec<Slot>) {
        let lang = self.state.lang;
        let tz = self.config.tz;
        let Some(service) = self.config.catalog.service(a.service).cloned() else {
            self.state.step = Step::Idle;
            return;
        };
        let name = service.display_name(lang).to_owned();
        if a.retry {
            self.say(t(
                lang,
                "Sorry, that time was just taken by someone else.",
                "Samahani, muda huo umechukuliwa sasa hivi na mtu mwingine.",
            ));
        }
        if slots.is_empty() {
            let days = self.config.search_days;
            self.say(match lang {
                Lang::En => format!(
                    "Sorry, there is no free time for {name} in the next {days} days. Would you like me to ask a member of our team to help?"
                ),
                Lang::Sw => format!(
                    "Samahani, hakuna nafasi ya {name} katika siku {days} zijazo. Ungependa nimwombe mmoja wa wafanyakazi wetu akusaidie?"
                ),
            });
            self.state.step = Step::Idle;
            return;
        }
        let now = self.state.now.unwrap_or_default();
        let today = local_today(now, tz);
        // An exact time asked for.
        if let Some(time) = a.when.time {
            let date = a.when.date.unwrap_or_else(|| {
                let earliest_today = slots.iter().any(|s| {
                    s.start.with_timezone(&tz).date_naive() == today
                        && s.start.with_timezone(&tz).time() >= time
                });
                if earliest_today {
                    today
                } else {
                    today + Duration::days(1)
                }
            });
            let target = local_instant(tz, date, time).unwrap_or(now);
            let exact = slots
                .iter()
                .filter(|s| s.start == target)
                .copied()
                .collect::<Vec<_>>();
            if let Some(slot) = exact.first().copied() {
                self.confirm(a.purpose, a.service, a.staff, a.when, slot);
                return;
            }
            let near = booking::nearest(&slots, target, 3);
            self.say(match lang {
                Lang::En => format!(
                    "Sorry, {} is not free for {name}.",
                    say::when(lang, tz, target)
                ),
                Lang::Sw => format!(
                    "Samahani, {} hakuna nafasi ya {name}.",
                    say::when(lang, tz, target)
                ),
            });
            self.offer_slots(a, near, true);
            return;
        }
        // A date (and maybe a part of the day).
        if let Some(date) = a.when.date {
            let window = a.when.part.map(|p| p.window());
            let on_day = booking::spread_on_date(tz, &slots, date, window, 3);
            if !on_day.is_empty() {
                self.offer_slots(a, on_day, false);
                return;
            }
            let anchor =
                local_instant(tz, date, window.map(|w| w.0).unwrap_or(hm(9))).unwrap_or(now);
            let near = booking::nearest(&slots, anchor, 3);
            self.say(match lang {
                Lang::En => format!("Sorry, there's no free time for {name} then."),
                Lang::Sw => format!("Samahani, hakuna nafasi ya {name} wakati huo."),
            });
            self.offer_slots(a, near, true);
            return;
        }
        // Only a part of the day, or nothing: the earliest matching times.
        let candidates: Vec<Slot> = match a.when.part {
            Some(part) => {
                let (from, to) = part.window();
                slots
                    .iter()
                    .filter(|s| {
                        let l = s.start.with_timezone(&tz).time();
                        l >= from && l < to
                    })
                    .copied()
                    .collect()
            }
            None => slots.clone(),
        };
        let pool = if candidates.is_empty() {
            &slots
        } else {
            &candidates
        };
        let first_date = pool[0].start.with_timezone(&tz).date_naive();
        let on_first = booking::spread_on_date(tz, pool, first_date, None, 3);
        self.offer_slots(a, on_first, false);
    }

    fn offer_slots(&mut self, a: AwaitSlots, offered: Vec<Slot>, alternatives: bool) {
        let lang = self.state.lang;
        let tz = self.config.tz;
        let name = self
            .config
            .catalog
            .service(a.service)
            .map(|s| s.display_name(lang).to_owned())
            .unwrap_or_default();
        let times: Vec<String> = offered
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{}. {}", i + 1, say::when(lang, tz, s.start)))
            .collect();
        let lead = match (lang, alternatives) {
            (Lang::En, true) => "The nearest free times are".to_owned(),
            (Lang::En, false) => format!("Free times for {name}"),
            (Lang::Sw, true) => "Nafasi zilizo karibu zaidi ni".to_owned(),
            (Lang::Sw, false) => format!("Nafasi za {name}"),
        };
        self.say(format!("{lead}: {}.", times.join("; ")));
        self.say(t(
            lang,
            "Which one suits you? You can also tell me another day or time.",
            "Ipi inakufaa? Unaweza pia kuniambia siku au saa nyingine.",
        ));
        for (i, s) in offered.iter().enumerate() {
            self.pending_choices.push(Choice {
                id: format!("slot_{i}"),
                title: say::slot_title(lang, tz, s.start),
                description: None,
            });
        }
        self.state.step = Step::ChooseSlot(ChooseSlot {
            purpose: a.purpose,
            service: a.service,
            staff: a.staff,
            when: a.when,
            offered,
        });
    }

    fn choose_slot(&mut self, u: &Understood, s: ChooseSlot) -> bool {
        let tz = self.config.tz;
        let picked = match &u.choice {
            Some(ChoiceRef::Id(id)) => id
                .strip_prefix("slot_")
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|i| s.offered.get(i).copied()),
            Some(ChoiceRef::Index(i)) => s.offered.get(*i).copied(),
            None => None,
        }
        .or_else(|| {
            // "the 10:00 one" / "saa nne": an offered time named.
            let time = u.when.time?;
            let hits: Vec<Slot> = s
                .offered
                .iter()
                .filter(|o| {
                    let l = o.start.with_timezone(&tz);
                    l.time() == time && u.when.date.is_none_or(|d| d == l.date_naive())
                })
                .copied()
                .collect();
            (hits.len() == 1).then(|| hits[0])
        })
        .or_else(|| {
            (s.offered.len() == 1 && u.intents.contains(Intent::Yes)).then(|| s.offered[0])
        });
        if let Some(slot) = picked {
            self.confirm(s.purpose, s.service, s.staff, s.when, slot);
            return true;
        }
        // A different service named: start over with it.
        if let Some(service) = u.service.filter(|id| *id != s.service)
            && matches!(s.purpose, Purpose::New)
        {
            self.search(
                Purpose::New,
                service,
                u.staff.or(s.staff),
                u.when.or(s.when),
                false,
            );
            return true;
        }
        if !u.when.is_empty() || u.staff.is_some() {
            let when = if u.when.date.is_some() {
                u.when
            } else {
                u.when.or(s.when)
            };
            self.search(s.purpose, s.service, u.staff.or(s.staff), when, false);
            return true;
        }
        if u.intents.contains(Intent::No) {
            self.say(t(
                self.state.lang,
                "No problem. Which day and time would suit you better?",
                "Sawa. Siku na saa gani ingekufaa zaidi?",
            ));
            self.state.step = Step::ChooseSlot(ChooseSlot {
                offered: Vec::new(),
                ..s
            });
            return true;
        }
        self.say(t(
            self.state.lang,
            "Sorry, which time would you like? Reply with its number, or tell me another day or time.",
            "Samahani, ungependa muda upi? Jibu kwa namba yake, au niambie siku au saa nyingine.",
        ));
        let keep = s.offered.clone();
        for (i, slot) in keep.iter().enumerate() {
            self.pending_choices.push(Choice {
                id: format!("slot_{i}"),
                title: say::slot_title(self.state.lang, tz, slot.start),
                description: None,
            });
        }
        self.state.step = Step::ChooseSlot(s);
        false
    }

    fn confirm(
        &mut self,
        purpose: Purpose,
        service: Uuid,
        staff: Option<Uuid>,
        when: When,
        slot: Slot,
    ) {
        let lang = self.state.lang;
        let tz = self.config.tz;
        let svc = self.config.catalog.service(service).cloned();
        let name = svc
            .as_ref()
            .map(|s| s.display_name(lang).to_owned())
            .unwrap_or_default();
        let with = self
            .config
            .catalog
            .staff_member(slot.staff_id)
            .map(|m| m.name.split_whitespace().next().unwrap_or("").to_owned())
            .unwrap_or_default();
        let at = say::when(lang, tz, slot.start);
        let text = match (purpose, lang) {
            (Purpose::New, Lang::En) => format!(
                "{name} with {with} on {at}, {}. Shall I book it?",
                svc.map(|s| say::money(s.price)).unwrap_or_default()
            ),
            (Purpose::New, Lang::Sw) => format!(
                "{name} na {with}, {at}, {}. Nikuwekee?",
                svc.map(|s| say::money(s.price)).unwrap_or_default()
            ),
            (Purpose::Move(_), Lang::En) => {
                format!("Move your {name} to {at} with {with}. Shall I do that?")
            }
            (Purpose::Move(_), Lang::Sw) => {
                format!("Nihamishe {name} yako hadi {at} na {with}. Nifanye hivyo?")
            }
        };
        self.say(text);
        self.yes_no_choices();
        self.state.step = Step::ConfirmSlot(ConfirmSlot {
            purpose,
            service,
            staff,
            when,
            slot,
        });
    }

    fn yes_no_choices(&mut self) {
        let (yes, no) = match self.state.lang {
            Lang::En => ("Yes", "No"),
            Lang::Sw => ("Ndiyo", "Hapana"),
        };
        self.pending_choices.push(Choice {
            id: "yes".into(),
            title: yes.into(),
            description: None,
        });
        self.pending_choices.push(Choice {
            id: "no".into(),
            title: no.into(),
            description: None,
        });
    }

    fn is_yes(u: &Understood) -> bool {
        matches!(&u.choice, Some(ChoiceRef::Id(id)) if id == "yes")
            || matches!(&u.choice, Some(ChoiceRef::Index(0)) if u.tokens.len() <= 1 && u.intents.is_empty())
            || (u.intents.contains(Intent::Yes) && !u.intents.contains(Intent::No))
            || (u.intents.contains(Intent::Book) && u.when.is_empty() && u.service.is_none())
    }

    fn is_no(u: &Understood) -> bool {
        matches!(&u.choice, Some(ChoiceRef::Id(id)) if id == "no")
            || matches!(&u.choice, Some(ChoiceRef::Index(1)) if u.tokens.len() <= 1 && u.intents.is_empty())
            || u.intents.contains(Intent::No)
    }

    fn confirm_slot(&mut self, u: &Understood, c: ConfirmSlot) -> bool {
        if Self::is_yes(u) {
            let action = match c.purpose {
                Purpose::New => {
                    let price = self
                        .config
                        .catalog
                        .service(c.service)
                        .map(|s| s.price)
                        .unwrap_or(Money::kes(0));
                    Action::Book {
                        service_id: c.service,
                        staff_id: c.slot.staff_id,
                        start: c.slot.start,
                        end: c.slot.end,
                        price,
                    }
                }
                Purpose::Move(appt) => Action::Reschedule {
                    appointment_id: appt.id,
                    staff_id: c.slot.staff_id,
                    start: c.slot.start,
                    end: c.slot.end,
                },
            };
            self.act(action);
            self.state.step = Step::AwaitWrite(c);
            return true;
        }
        if !u.when.is_empty() {
            let when = if u.when.date.is_some() {
                u.when
            } else {
                u.when.or(c.when)
            };
            self.search(c.purpose, c.service, u.staff.or(c.staff), when, false);
            return true;
        }
        if Self::is_no(u) {
            self.say(t(
                self.state.lang,
                "OK, I haven't booked anything. Which day and time would suit you better?",
                "Sawa, sijaweka chochote. Siku na saa gani ingekufaa zaidi?",
            ));
            self.state.step = Step::ChooseSlot(ChooseSlot {
                purpose: c.purpose,
                service: c.service,
                staff: c.staff,
                when: c.when,
                offered: Vec::new(),
            });
            return true;
        }
        self.say(t(
            self.state.lang,
            "Sorry, shall I go ahead? Please answer yes or no.",
            "Samahani, niendelee? Tafadhali jibu ndiyo au hapana.",
        ));
        self.yes_no_choices();
        self.state.step = Step::ConfirmSlot(c);
        false
    }

    fn on_booked(&mut self, c: ConfirmSlot, result: Result<AppointmentSummary, WriteFailure>) {
        let lang = self.state.lang;
        let tz = self.config.tz;
        match result {
            Ok(appt) => {
                let svc = self.config.catalog.service(appt.service_id).cloned();
                let name = svc
                    .as_ref()
                    .map(|s| s.display_name(lang).to_owned())
                    .unwrap_or_default();
                let at = say::when(lang, tz, appt.start);
                let text = match lang {
                    Lang::En => format!("Done! Your {name} is booked for {at}. See you then!"),
                    Lang::Sw => format!("Tayari! {name} yako imewekwa {at}. Tutaonana!"),
                };
                self.say(self.toned(text));
                if let Some(s) = &svc {
                    self.cross_sell(s);
                    if self.config.payment_on_booking && s.price.minor > 0 {
                        self.act(Action::StartPayment {
                            appointment_id: appt.id,
                            amount: s.price,
                        });
                    }
                }
                self.state.step = Step::Idle;
            }
            Err(WriteFailure::SlotTaken) => {
                let when = When {
                    date: Some(c.slot.start.with_timezone(&tz).date_naive()),
                    time: Some(c.slot.start.with_timezone(&tz).time()),
                    part: None,
                };
                self.search(c.purpose, c.service, c.staff, when, true);
            }
            Err(_) => {
                self.say(t(
                    lang,
                    "Sorry, something went wrong and I couldn't save that. Please try again in a moment.",
                    "Samahani, kuna hitilafu na sikuweza kuhifadhi. Tafadhali jaribu tena baada ya muda mfupi.",
                ));
                self.state.step = Step::Idle;
            }
        }
    }

    fn cross_sell(&mut self, booked: &ServiceInfo) {
        let p = &self.config.personality;
        if !p.cross_sell || p.upsell == Upsell::Off {
            return;
        }
        let best = self
            .config
            .catalog
            .cross_sell
            .iter()
            .filter(|r| {
                r.from == booked.id && r.confidence >= super::catalog::CROSS_SELL_MIN_CONFIDENCE
            })
            .max_by(|a, b| a.confidence.total_cmp(&b.confidence))
            .and_then(|r| self.config.catalog.service(r.to))
            .cloned();
        let Some(other) = best else { return };
        let lang = self.state.lang;
        let name = other.display_name(lang);
        let price = say::money(other.price);
        self.say(match lang {
            Lang::En => {
                format!("Many clients add {name} ({price}); just ask if you'd like it too.")
            }
            Lang::Sw => format!("Wateja wengi huongeza {name} ({price}); niambie ukipenda."),
        });
    }

    // ---- cancel and reschedule -----------------------------------------

    fn start_existing(&mut self, purpose: ExistingPurpose, when: When) {
        self.act(Action::ListUpcoming);
        self.state.step = Step::AwaitUpcoming(AwaitUpcoming { purpose, when });
    }

    fn on_upcoming(&mut self, a: AwaitUpcoming, list: Vec<AppointmentSummary>) {
        let lang = self.state.lang;
        match list.as_slice() {
            [] => {
                self.say(t(
                    lang,
                    "I can't find any upcoming appointment for this number. Would you like to book one?",
                    "Sijapata miadi yoyote ijayo kwa namba hii. Ungependa kuweka miadi?",
                ));
                self.state.step = Step::Idle;
            }
            [one] => self.existing_chosen(a.purpose, a.when, *one),
            many => {
                let offered: Vec<AppointmentSummary> = many.iter().take(10).copied().collect();
                self.say(
                    match (a.purpose, lang) {
                        (ExistingPurpose::Cancel, Lang::En) => {
                            "Which appointment would you like to cancel?"
                        }
                        (ExistingPurpose::Cancel, Lang::Sw) => "Ungependa kufuta miadi ipi?",
                        (ExistingPurpose::Reschedule, Lang::En) => {
                            "Which appointment would you like to move?"
                        }
                        (ExistingPurpose::Reschedule, Lang::Sw) => "Ungependa kuhamisha miadi ipi?",
                    }
                    .to_owned(),
                );
                let lines: Vec<String> = offered
                    .iter()
                    .enumerate()
                    .map(|(i, ap)| format!("{}. {}", i + 1, self.describe(ap)))
                    .collect();
                self.say(lines.join("; ") + ".");
                for (i, ap) in offered.iter().enumerate() {
                    self.pending_choices.push(Choice {
                        id: format!("appt_{i}"),
                        title: say::slot_title(lang, self.config.tz, ap.start),
                        description: self
                            .config
                            .catalog
                            .service(ap.service_id)
                            .map(|s| s.display_name(lang).chars().take(72).collect()),
                    });
                }
                self.state.step = Step::ChooseAppointment(ChooseAppointment {
                    purpose: a.purpose,
                    when: a.when,
                    offered,
                });
            }
        }
    }

    fn describe(&self, ap: &AppointmentSummary) -> String {
        let lang = self.state.lang;
        let name = self
            .config
            .catalog
            .service(ap.service_id)
            .map(|s| s.display_name(lang).to_owned())
            .unwrap_or_default();
        match lang {
            Lang::En => format!("{name} on {}", say::when(lang, self.config.tz, ap.start)),
            Lang::Sw => format!("{name}, {}", say::when(lang, self.config.tz, ap.start)),
        }
    }

    fn existing_chosen(&mut self, purpose: ExistingPurpose, when: When, ap: AppointmentSummary) {
        let lang = self.state.lang;
        let what = self.describe(&ap);
        match purpose {
            ExistingPurpose::Cancel => {
                self.say(match lang {
                    Lang::En => format!("Cancel your {what}?"),
                    Lang::Sw => format!("Nifute {what}?"),
                });
                self.yes_no_choices();
                self.state.step = Step::ConfirmCancel(ap);
            }
            ExistingPurpose::Reschedule => {
                if !when.is_empty() {
                    self.search(Purpose::Move(ap), ap.service_id, None, when, false);
                    return;
                }
                self.say(match lang {
                    Lang::En => format!("You have {what}. When would you like to move it to?"),
                    Lang::Sw => format!("Una {what}. Ungependa kuihamishia lini?"),
                });
                self.state.step = Step::AskNewTime(AskNewTime { appointment: ap });
            }
        }
    }

    fn choose_appointment(&mut self, u: &Understood, s: ChooseAppointment) -> bool {
        let tz = self.config.tz;
        let picked = match &u.choice {
            Some(ChoiceRef::Id(id)) => id
                .strip_prefix("appt_")
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|i| s.offered.get(i).copied()),
            Some(ChoiceRef::Index(i)) => s.offered.get(*i).copied(),
            None => None,
        }
        .or_else(|| {
            // Named by service or by date.
            let hits: Vec<AppointmentSummary> = s
                .offered
                .iter()
                .filter(|a| {
                    u.service.is_some_and(|sv| sv == a.service_id)
                        || u.when
                            .date
                            .is_some_and(|d| a.start.with_timezone(&tz).date_naive() == d)
                })
                .copied()
                .collect();
            (hits.len() == 1).then(|| hits[0])
        });
        if let Some(ap) = picked {
            self.existing_chosen(s.purpose, s.when, ap);
            return true;
        }
        if u.intents.contains(Intent::No) {
            self.say(t(
                self.state.lang,
                "OK, nothing changed.",
                "Sawa, hakuna kilichobadilika.",
            ));
            self.state.step = Step::Idle;
            return true;
        }
        self.say(t(
            self.state.lang,
            "Sorry, which one? Reply with its number.",
            "Samahani, ipi? Jibu kwa namba yake.",
        ));
        self.state.step = Step::ChooseAppointment(s);
        false
    }

    fn confirm_cancel(&mut self, u: &Understood, ap: AppointmentSummary) -> bool {
        if Self::is_yes(u) || u.intents.contains(Intent::Cancel) {
            self.act(Action::Cancel {
                appointment_id: ap.id,
            });
            self.state.step = Step::AwaitCancel(ap);
            return true;
        }
        if Self::is_no(u) {
            self.say(t(
                self.state.lang,
                "OK, I've kept your appointment as it is.",
                "Sawa, miadi yako imebaki kama ilivyo.",
            ));
            self.state.step = Step::Idle;
            return true;
        }
        self.say(t(
            self.state.lang,
            "Shall I cancel it? Please answer yes or no.",
            "Niifute? Tafadhali jibu ndiyo au hapana.",
        ));
        self.yes_no_choices();
        self.state.step = Step::ConfirmCancel(ap);
        false
    }

    fn on_cancelled(&mut self, ap: AppointmentSummary, result: Result<Uuid, WriteFailure>) {
        let lang = self.state.lang;
        match result {
            Ok(_) => {
                let what = self.describe(&ap);
                let mut text = match lang {
                    Lang::En => format!("Your {what} is cancelled."),
                    Lang::Sw => format!("{what} imefutwa."),
                };
                match self.config.personality.cancellation_tone {
                    CancellationTone::Understanding => text.push_str(&t(
                        lang,
                        " No problem at all, we hope to see you another time.",
                        " Hakuna shida, tunatumaini kukuona wakati mwingine.",
                    )),
                    CancellationTone::Neutral => {}
                    CancellationTone::Firm => text.push_str(&t(
                        lang,
                        " Please give us at least 24 hours' notice of cancellations in future.",
                        " Tafadhali tupe taarifa angalau saa 24 kabla ya kufuta wakati ujao.",
                    )),
                }
                self.say(text);
            }
            Err(_) => self.say(t(
                lang,
                "Sorry, I couldn't cancel that appointment. A member of our team will check it.",
                "Samahani, sikuweza kufuta miadi hiyo. Mfanyakazi wetu ataiangalia.",
            )),
        }
        self.state.step = Step::Idle;
    }

    fn ask_new_time(&mut self, u: &Understood, s: AskNewTime) -> bool {
        if !u.when.is_empty() {
            self.search(
                Purpose::Move(s.appointment),
                s.appointment.service_id,
                u.staff,
                u.when,
                false,
            );
            return true;
        }
        if u.intents.contains(Intent::No) {
            self.say(t(
                self.state.lang,
                "OK, I've kept your appointment as it is.",
                "Sawa, miadi yako imebaki kama ilivyo.",
            ));
            self.state.step = Step::Idle;
            return true;
        }
        self.say(t(
            self.state.lang,
            "Which day and time would you like instead? For example: tomorrow at 2pm.",
            "Ungependa siku na saa gani badala yake? Kwa mfano: kesho saa nane mchana.",
        ));
        self.state.step = Step::AskNewTime(s);
        false
    }

    fn on_rescheduled(&mut self, c: ConfirmSlot, result: Result<AppointmentSummary, WriteFailure>) {
        let lang = self.state.lang;
        match result {
            Ok(ap) => {
                let what = self.describe(&ap);
                self.say(match lang {
                    Lang::En => format!("Done! Your appointment is moved: {what}."),
                    Lang::Sw => format!("Tayari! Miadi yako imehamishwa: {what}."),
                });
                self.state.step = Step::Idle;
            }
            Err(WriteFailure::SlotTaken) => {
                let tz = self.config.tz;
                let when = When {
                    date: Some(c.slot.start.with_timezone(&tz).date_naive()),
                    time: Some(c.slot.start.with_timezone(&tz).time()),
                    part: None,
                };
                self.search(c.purpose, c.service, c.staff, when, true);
            }
            Err(_) => {
                self.say(t(
                    lang,
                    "Sorry, I couldn't move that appointment. A member of our team will check it.",
                    "Samahani, sikuweza kuhamisha miadi hiyo. Mfanyakazi wetu ataiangalia.",
                ));
                self.state.step = Step::Idle;
            }
        }
    }

    // ---- questions -----------------------------------------------------

    fn answer(&mut self, q: Intent, u: &Understood, resume: Step) {
        let lang = self.state.lang;
        match q {
            Intent::AskPrices | Intent::AskServices => {
                if let (Intent::AskPrices, Some(id)) = (q, u.service)
                    && let Some(s) = self.config.catalog.service(id).cloned()
                {
                    let name = s.display_name(lang);
                    self.say(match lang {
                        Lang::En => format!(
                            "{name} is {} and takes about {}.",
                            say::money(s.price),
                            say::duration(lang, s.duration_min)
                        ),
                        Lang::Sw => format!(
                            "{name} ni {}, na huchukua takriban {}.",
                            say::money(s.price),
                            say::duration(lang, s.duration_min)
                        ),
                    });
                    if self.config.personality.upsell == Upsell::Active {
                        self.cross_sell(&s);
                    }
                    if matches!(resume, Step::Idle) {
                        self.say(t(
                            lang,
                            "Would you like to book it?",
                            "Ungependa kuweka miadi?",
                        ));
                        self.yes_no_choices();
                        self.state.step = Step::ChooseService(ChooseService {
                            when: u.when,
                            staff: u.staff,
                            offered: vec![id],
                        });
                        return;
                    }
                    self.resume(resume);
                    return;
                }
                self.say(t(lang, "Here is what we offer:", "Hizi ni huduma zetu:"));
                let ids: Vec<Uuid> = self.config.catalog.services.iter().map(|s| s.id).collect();
                if matches!(resume, Step::Idle) {
                    self.offer_services(&ids);
                    self.say(t(
                        lang,
                        "Would you like to book one of them?",
                        "Ungependa kuweka miadi ya mojawapo?",
                    ));
                    self.state.step = Step::ChooseService(ChooseService {
                        when: u.when,
                        staff: u.staff,
                        offered: ids,
                    });
                } else {
                    let lines: Vec<String> = self
                        .config
                        .catalog
                        .services
                        .iter()
                        .map(|s| format!("{} ({})", s.display_name(lang), say::money(s.price)))
                        .collect();
                    self.say(lines.join("; ") + ".");
                    self.resume(resume);
                }
            }
            Intent::AskHours | Intent::AskLocation | Intent::AskOther => {
                let categories = match q {
                    Intent::AskHours => vec!["hours".to_owned()],
                    Intent::AskLocation => vec![
                        "location".to_owned(),
                        "general".to_owned(),
                        "other".to_owned(),
                    ],
                    // Every active category.
                    _ => Vec::new(),
                };
                self.act(Action::FetchKnowledge { categories });
                self.state.step = Step::AwaitKnowledge(AwaitKnowledge {
                    question: q,
                    words: u.tokens.words().to_vec(),
                    resume: Box::new(resume),
                });
            }
            _ => self.resume(resume),
        }
    }

    fn on_knowledge(&mut self, a: AwaitKnowledge, snippets: Vec<Snippet>) {
        let lang = self.state.lang;
        let chosen = pick_snippets(a.question, &a.words, lang, &snippets);
        if chosen.is_empty() {
            self.say(t(
                lang,
                "Sorry, I don't have that information. I can ask a member of our team to get back to you; just say \"talk to a person\".",
                "Samahani, sina taarifa hiyo. Naweza kumwomba mfanyakazi wetu akujibu; sema tu \"nataka kuongea na mtu\".",
            ));
        } else {
            for s in chosen {
                self.say(s.body.trim().to_owned());
            }
        }
        self.resume(*a.resume);
    }

    /// Goes back to the step a question interrupted, reminding the customer
    /// where we were.
    fn resume(&mut self, step: Step) {
        let lang = self.state.lang;
        match &step {
            Step::ChooseSlot(s) if !s.offered.is_empty() => {
                self.say(t(
                    lang,
                    "Now, which of the times I offered suits you?",
                    "Sasa, muda upi kati ya niliyotaja unakufaa?",
                ));
                for (i, slot) in s.offered.iter().enumerate() {
                    self.pending_choices.push(Choice {
                        id: format!("slot_{i}"),
                        title: say::slot_title(lang, self.config.tz, slot.start),
                        description: None,
                    });
                }
            }
            Step::ConfirmSlot(_) | Step::ConfirmCancel(_) => {
                self.say(t(lang, "Shall I go ahead?", "Niendelee?"));
                self.yes_no_choices();
            }
            Step::ChooseService(_) => self.say(t(
                lang,
                "Which service would you like to book?",
                "Ungependa kuweka miadi ya huduma gani?",
            )),
            _ => {}
        }
        self.state.step = step;
    }

    // ---- handoff -------------------------------------------------------

    fn hand_off(&mut self, reason: HandoffReason) {
        let biz = self.config.catalog.business_name.clone();
        self.say(match self.state.lang {
            Lang::En => format!(
                "I'm passing you to a member of the {biz} team. They will reply to you here shortly."
            ),
            Lang::Sw => format!(
                "Ninakuunganisha na mfanyakazi wa {biz}. Atakujibu hapa hivi punde."
            ),
        });
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
            Input::Turn(_) | Input::HandoffClosed => "turn",
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
        match self.config.personality.tone {
            Tone::Playful => format!("{text} 😊"),
            Tone::Warm | Tone::Professional => text,
        }
    }
}

fn in_booking(step: &Step) -> bool {
    matches!(
        step,
        Step::ChooseService(_) | Step::ChooseSlot(_) | Step::ConfirmSlot(_)
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

/// A choice by position: "1", "2", "the first", "ya pili", "option 3".
fn ordinal_choice(tokens: &Tokens) -> Option<usize> {
    let words = tokens.words();
    let meaningful: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| {
            !matches!(
                *w,
                "the"
                    | "one"
                    | "option"
                    | "number"
                    | "namba"
                    | "ya"
                    | "la"
                    | "please"
                    | "tafadhali"
            )
        })
        .collect();
    let only = match meaningful.as_slice() {
        [one] => *one,
        _ => {
            // "one" alone means the first.
            if words.len() == 1 && words[0] == "one" {
                return Some(0);
            }
            return None;
        }
    };
    let n = match only {
        "1" | "first" | "kwanza" | "moja" | "1st" => 1,
        "2" | "second" | "pili" | "mbili" | "two" | "2nd" => 2,
        "3" | "third" | "tatu" | "three" | "3rd" => 3,
        "4" | "fourth" | "nne" | "four" | "4th" => 4,
        "5" | "fifth" | "tano" | "five" | "5th" => 5,
        "6" | "6th" | "sixth" | "six" => 6,
        "7" | "7th" | "seven" => 7,
        "8" | "8th" | "eight" => 8,
        "9" | "9th" | "nine" => 9,
        "10" | "10th" | "ten" => 10,
        _ => return None,
    };
    Some(n - 1)
}

/// The snippets that answer the question, in the customer's language first
/// (English snippets are fine in a Swahili answer), at most two.
fn pick_snippets<'s>(
    question: Intent,
    words: &[String],
    lang: Lang,
    snippets: &'s [Snippet],
) -> Vec<&'s Snippet> {
    const LOCATION: &[&str] = &[
        "location",
        "located",
        "address",
        "where",
        "directions",
        "find",
        "wapi",
        "mahali",
        "tulipo",
        "anwani",
        "street",
        "road",
        "floor",
        "building",
        "plaza",
        "mtaa",
        "barabara",
    ];
    const STOP: &[&str] = &[
        "the", "a", "an", "you", "do", "does", "is", "are", "your", "what", "how", "can", "i",
        "je", "ni", "na", "ya", "mna", "kuna", "to", "of", "for", "in", "on", "we", "me", "my",
    ];
    let lang_rank = |s: &Snippet| {
        if s.language.eq_ignore_ascii_case(lang.code()) {
            0
        } else {
            1
        }
    };
    let mut scored: Vec<(i32, &Snippet)> = snippets
        .iter()
        .filter_map(|s| {
            let text = Tokens::new(&format!("{} {} {}", s.category, s.title, s.body));
            let score = match question {
                Intent::AskHours => 10,
                Intent::AskLocation if s.category == "location" => 10,
                Intent::AskLocation => LOCATION.iter().filter(|w| text.has(w)).count() as i32,
                _ => words
                    .iter()
                    .filter(|w| w.chars().count() >= 3 && !STOP.contains(&w.as_str()))
                    .filter(|w| text.has(w))
                    .count() as i32,
            };
            (score > 0).then_some((score, s))
        })
        .collect();
    // Prefer the customer's language when it has an answer; English
    // snippets answer Swahili questions otherwise.
    if scored.iter().any(|(_, s)| lang_rank(s) == 0) {
        scored.retain(|(_, s)| lang_rank(s) == 0);
    }
    scored.sort_by_key(|(score, _)| -score);
    let keep = if question == Intent::AskHours { 2 } else { 1 };
    let out: Vec<&Snippet> = scored.into_iter().take(keep).map(|(_, s)| s).collect();
    out
}
