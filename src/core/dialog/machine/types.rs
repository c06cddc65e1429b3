//! The dialogue's data: inputs, outputs, actions, steps and the checkpointed state.

use super::*;
use crate::core::ids::Pii;
use crate::core::phone_check::{CodeCheck, CodeRefused};

/// Which channel a turn came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    #[default]
    WhatsApp,
    Voice,
    /// The web chat widget.
    Web,
    /// Instagram direct messages.
    Instagram,
    /// Facebook Messenger.
    Messenger,
}

impl Channel {
    /// The value of interactions.channel / appointments.booking_channel.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::WhatsApp => "whatsapp",
            Channel::Voice => "voice",
            Channel::Web => "web",
            Channel::Instagram => "instagram",
            Channel::Messenger => "messenger",
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
    /// The answer to [`Action::SendPhoneCode`].
    CodeSent(Result<(), CodeRefused>),
    /// The answer to [`Action::CheckPhoneCode`].
    CodeChecked(CodeCheck),
    /// The customer came over from another channel (a web chat continued
    /// on WhatsApp by its hand-off token): remind them where we were.
    Resumed {
        channel: Channel,
        /// The number the new channel proves.
        phone_known: bool,
        now: DateTime<Utc>,
    },
}

/// Why the thread passed to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    Requested,
    Misunderstood,
    NoAvailability,
    /// Abuse, a threat or an accusation of fraud: a person at once.
    Abuse,
    /// Money taken with no confirmation, paid twice, a wrong amount or
    /// payee ([`crate::core::dialog::intent::is_payment_problem`]).
    PaymentProblem,
    /// Harm done, a rude stylist, hours of waiting, a refund
    /// ([`crate::core::dialog::intent::is_complaint`]).
    Complaint,
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
    /// The customer's past appointments, newest first (answered with
    /// [`Input::Upcoming`]): "same as last time".
    ListRecent,
    Cancel {
        appointment_id: Uuid,
    },
    Reschedule {
        appointment_id: Uuid,
        /// The service after the change: the appointment's own for a move,
        /// another for "change my cornrows to box braids, same time".
        service_id: Uuid,
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
    /// The customer said their name: store it on the contact and customer.
    RememberName {
        name: String,
    },
    /// A web customer gave their phone number before booking: the session
    /// is promoted to that customer (customer_sessions.customer_id and
    /// promoted_at back-filled), and what follows is booked for that number.
    RememberPhone {
        phone: PhoneNumber,
    },
    StartPayment {
        appointment_id: Uuid,
        amount: Money,
    },
    /// Send a new 6-digit code by SMS to this number (phone_otp_required);
    /// answered with [`Input::CodeSent`].
    SendPhoneCode {
        phone: PhoneNumber,
    },
    /// Judge the code the customer typed; answered with
    /// [`Input::CodeChecked`].
    CheckPhoneCode {
        phone: PhoneNumber,
        code: Pii<String>,
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
    /// Ask for payment after booking (tenant payment_enabled, and a prompt
    /// can be sent: credentials for the environment).
    pub payment_on_booking: bool,
    /// Where a prompt cannot be sent: the paybill or till to tell the
    /// customer instead (tenant mpesa_shortcode).
    pub pay_hint: Option<String>,
    /// Open on Kenyan public holidays (the default is closed, as the
    /// demo's hours snippet says).
    pub open_on_holidays: bool,
    /// Days searched for free times.
    pub search_days: u32,
    /// Start-time grid in minutes.
    pub slot_step_min: u32,
    /// What a call does when it is handed to a person (put through, or a
    /// promise and a hang-up): the runtime decides per call
    /// ([`super::super::handoff::plan_call_handoff`]), the dialog says it.
    pub call_handoff: super::super::handoff::CallHandoff,
    /// A number a web customer types is proven by an SMS code before it
    /// books (tenants.phone_otp_required); else the M-Pesa prompt to it
    /// is the proof.
    pub phone_otp_required: bool,
}

impl DialogConfig {
    pub fn new(tz: Tz, catalog: Catalog, personality: Personality) -> Self {
        DialogConfig {
            tz,
            catalog,
            personality,
            handoff_after_misunderstood: 3,
            payment_on_booking: false,
            pay_hint: None,
            open_on_holidays: false,
            search_days: 7,
            slot_step_min: 30,
            call_handoff: Default::default(),
            phone_otp_required: false,
        }
    }

    /// `t` on the booking grid (every `slot_step_min` minutes from
    /// midnight): the grid time at or before it.
    pub fn on_grid(&self, t: NaiveTime) -> NaiveTime {
        use chrono::Timelike;
        let step = self.slot_step_min.max(5);
        let grid = (t.hour() * 60 + t.minute()) / step * step;
        NaiveTime::from_hms_opt(grid / 60, grid % 60, 0).unwrap_or(t)
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
    /// "Would you like to book them?" was asked of all of `offered` (a
    /// price asked for "mani pedi"): a yes or a day books them all.
    #[serde(default)]
    pub together: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwaitSlots {
    pub purpose: Purpose,
    pub service: Uuid,
    pub staff: Option<Uuid>,
    pub when: When,
    /// Why we are searching again (the chosen time was just taken).
    pub retry: bool,
    /// "earliest u got?", "whats the latest i can come?": the first or
    /// the last free time is proposed rather than a list.
    #[serde(default)]
    pub extreme: Option<Extreme>,
}

/// The first or the last free time asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Extreme {
    /// "earliest u got?", "next available", "nafasi ya kwanza".
    Earliest,
    /// "whats the latest i can come?", "nafasi ya mwisho ni saa ngapi?".
    Latest,
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

/// A booking waiting for the customer's number to be proven by a code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneCode {
    pub slot: ConfirmSlot,
    pub phone: PhoneNumber,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExistingPurpose {
    Cancel,
    Reschedule,
    /// "I forgot the time of my appointment": say what they have.
    Check,
    /// "nataka ile kitu nilifanya last time", "the usual": book again what
    /// the customer had last (answered from [`Action::ListRecent`]).
    Again,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwaitUpcoming {
    pub purpose: ExistingPurpose,
    /// Moving: the new day and time asked for.
    pub when: When,
    /// The day or time that names the existing appointment ("my
    /// Wednesday manicure"); for a cancellation, everything said.
    #[serde(default)]
    pub identify: When,
    /// The service that names the existing appointment.
    #[serde(default)]
    pub service: Option<Uuid>,
    /// "same time": keep the appointment's time on the new day.
    #[serde(default)]
    pub same_time: bool,
    /// "push it by an hour": minutes to move the appointment by.
    #[serde(default)]
    pub shift: Option<i64>,
    /// "change it to a relaxer instead": the service it should become.
    #[serde(default)]
    pub swap_to: Option<Uuid>,
    /// "same as last time, with the same person": booking again, with the
    /// staff member of that appointment.
    #[serde(default)]
    pub same_staff: bool,
    /// "cancel both" / "futa zote": every one named.
    #[serde(default)]
    pub all: bool,
    /// "the nails one": the services of the kind named.
    #[serde(default)]
    pub kind: Vec<Uuid>,
    /// "can you add eyebrows after the braids": a service to book right
    /// after the one named.
    #[serde(default)]
    pub add_after: Option<Uuid>,
    /// "add a pedicure right before it": the one added goes before.
    #[serde(default)]
    pub add_before: bool,
    /// "after my braids on sat can i also get a mani pedi?": more added
    /// after the first one added.
    #[serde(default)]
    pub add_more: Vec<Uuid>,
    /// "can my daughter get a haircut at the same time as mine": the one
    /// added is someone else's, at the same start, with another staff
    /// member.
    #[serde(default)]
    pub add_with: bool,
    /// "can Brian do my haircut instead": the staff member it should be
    /// with.
    #[serde(default)]
    pub staff: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChooseAppointment {
    pub purpose: ExistingPurpose,
    pub when: When,
    #[serde(default)]
    pub same_time: bool,
    #[serde(default)]
    pub shift: Option<i64>,
    #[serde(default)]
    pub swap_to: Option<Uuid>,
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
    /// Knowledge categories asked about, in order (one answer each).
    #[serde(default)]
    pub categories: Vec<String>,
    /// The rest of the turn to act on once answered ("… and book me at 2").
    #[serde(default)]
    pub then: Option<String>,
    /// `then` is the whole turn, handled again from the start with its
    /// questions already answered ("gel yangu ni saa ngapi ijumaa, na
    /// mnapokea mpesa?").
    #[serde(default)]
    pub routed: bool,
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
    /// "Yes" to a new booking from a customer whose number the channel
    /// does not know (a web chat): their phone number first (COLLECT_PHONE).
    CollectPhone(ConfirmSlot),
    /// The number was given and a code sent to it by SMS: the code next.
    EnterCode(PhoneCode),
    /// A code being sent or checked.
    AwaitCode(PhoneCode),
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
            Step::CollectPhone(_) => "collect_phone",
            Step::EnterCode(_) => "enter_code",
            Step::AwaitCode(_) => "await_code",
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
                | Step::AwaitCode(_)
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
    /// A booking of several services or for several people, while it is
    /// being put together and written.
    #[serde(default)]
    pub plan: Plan,
    /// The name the customer gave in the conversation.
    #[serde(default)]
    pub name: Option<String>,
    /// What the customer has mentioned and not yet booked: a later "ok
    /// then tomorrow at 11" after a side question means that service.
    #[serde(default)]
    pub context: Context,
    /// The channel of the latest turn.
    #[serde(default)]
    pub channel: Channel,
    /// Further appointments to cancel after the one being confirmed or
    /// cancelled ("cancel both").
    #[serde(default)]
    pub cancel_queue: Vec<AppointmentSummary>,
    /// The appointment the latest reminder was about: a bare "cancel" or
    /// "move" after it means that one. Cleared when it is used.
    #[serde(default)]
    pub reminded: Option<Uuid>,
    /// The rest of a turn that also answered a confirmation ("yes cancel
    /// it, then I want cornrows instead, same time"; "yes, also a facial
    /// the day before"): acted on once that write lands, with "same time"
    /// and "the day before" meaning that appointment's.
    #[serde(default)]
    pub after_write: Option<String>,
    /// The appointment this chat booked last: "make it 12 instead" right
    /// after means that one.
    #[serde(default)]
    pub just_booked: Option<Uuid>,
    /// "move both to friday same time": the others, moved by as much as
    /// the first once the customer agrees to it.
    #[serde(default)]
    pub move_rest: MoveRest,
}

/// Appointments moved together, one write after another.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MoveRest {
    /// Still to move.
    pub queue: Vec<AppointmentSummary>,
    /// Agreed and moved so far (said together at the end).
    pub done: Vec<AppointmentSummary>,
    /// By how much the first one moved, minutes.
    pub by_min: i64,
    /// The one being moved without asking again (it lands where agreed).
    pub agreed: Option<Uuid>,
    /// The first, whose confirmation names them all.
    pub first: Option<Uuid>,
}

impl MoveRest {
    /// Whether the move of `id` carries the others with it.
    pub fn leads(&self, id: Uuid) -> bool {
        !self.queue.is_empty() && (self.first == Some(id) || self.agreed == Some(id))
    }
}

/// Services and a day mentioned in the conversation, until booked.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Context {
    pub services: Vec<Uuid>,
    pub when: When,
    /// The last answer gave prices: "na relaxer je?" next asks its price.
    #[serde(default)]
    pub priced: bool,
}

/// One service at one time, placed in a [`Plan`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub service: Uuid,
    pub slot: Slot,
}

/// Several services in one request: for one person back to back, or for
/// several people at the same time with different staff. The first service
/// goes through the ordinary flow; each further one is placed after it
/// without asking, and one confirmation lists them all.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Plan {
    /// Services still to place, in the order asked.
    pub rest: Vec<Uuid>,
    /// The day and time asked for each of `rest`, when the customer gave
    /// one of its own ("… and a haircut Friday at 4"); empty or a default
    /// `When` = placed after (or with) the previous one.
    #[serde(default)]
    pub rest_when: Vec<When>,
    /// Services placed so far (the one being confirmed is not among them).
    pub placed: Vec<Item>,
    /// Several people at the same time (else one person, back to back).
    pub together: bool,
    /// People in the booking (1 unless the customer said otherwise).
    pub party: u8,
    /// The start the next service must take (same time) or follow (back to back).
    pub target: Option<DateTime<Utc>>,
    /// Confirmed items still to write, after the one being written.
    pub queue: Vec<Item>,
    /// Appointments written so far for this plan.
    pub done: Vec<AppointmentSummary>,
    /// Services asked for that did not fit after the others that day: tried
    /// again when the customer gives another day or start.
    #[serde(default)]
    pub dropped: Vec<Uuid>,
}

impl Plan {
    pub fn is_multi(&self) -> bool {
        !self.rest.is_empty()
            || !self.placed.is_empty()
            || !self.queue.is_empty()
            || !self.done.is_empty()
    }
}

impl DialogState {
    pub fn handed_off(&self) -> bool {
        matches!(self.step, Step::HandedOff)
    }
}
