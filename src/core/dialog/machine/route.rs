//! One turn routed: what wins in any step (a payment problem, a person
//! asked for, abuse, questions and the questions beside their bookings),
//! then the step's own handler.

use super::*;

impl Dialog<'_> {
    /// Handles one turn in `step`; returns whether it was understood.
    pub(super) fn route(&mut self, turn: &Turn, u: &Understood, step: Step) -> bool {
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
        // "your relaxer burnt my scalp", "she laughed at me": a person
        // answers, not a list of times.
        if is_complaint(&turn.text) && !matches!(step, Step::HandedOff) {
            self.hand_off(HandoffReason::Complaint);
            return true;
        }
        // "will I be done before 12:30?" of what is proposed: it is.
        if self.says_done_in_time(u, &step) {
            return true;
        }
        // A word that looked like a day but could not be read as one
        // ("jumat", "wednsdy"): ask, never guess a day.
        // A person or abuse is handled first, whatever else the turn says.
        if u.tokens.uncertain_day()
            && u.when.date.is_none()
            && !matches!(step, Step::HandedOff)
            && !u.intents.contains(Intent::Human)
            && !u.intents.contains(Intent::Abuse)
        {
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
            // Nor "tunaeza shift haircut yake to friday?" there: one of
            // theirs, named as theirs.
            Some(Intent::Reschedule)
                if in_booking(&step)
                    && !refers_to_existing(&u.tokens)
                    && !(matches!(step, Step::ChooseService(_))
                        && ((u.service.is_none() && u.services.is_empty())
                            || self.owned_service(u).is_some())) => {}
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
        if self.asks_staff_days(u) {
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
    pub(super) fn says_more_than_a_question(
        &self,
        u: &Understood,
        step: &Step,
        topics: &[Topic],
    ) -> bool {
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
    pub(super) fn dispatch(&mut self, turn: &Turn, u: &Understood, step: Step) -> bool {
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
}
