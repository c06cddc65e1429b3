//! A new booking, second half: the confirmation (yes, no, or a change of
//! service, day or time), the phone number when the channel has none, the
//! write and what follows it (payment, cross-sell).

use super::*;

impl Dialog<'_> {
    pub(super) fn confirm(
        &mut self,
        purpose: Purpose,
        service: Uuid,
        staff: Option<Uuid>,
        when: When,
        slot: Slot,
    ) {
        if purpose == Purpose::New && self.place_and_continue(service, staff, slot) {
            return;
        }
        if purpose == Purpose::New && !self.state.plan.placed.is_empty() {
            let items = self.plan_items(service, slot);
            let text = self.confirm_plan_text(&items);
            self.say(text);
            self.yes_no_choices();
            self.state.step = Step::ConfirmSlot(ConfirmSlot {
                purpose,
                service,
                staff,
                when,
                slot,
            });
            return;
        }
        let lang = self.state.lang;
        let tz = self.config.tz;
        let svc = self.config.catalog.service(service).cloned();
        let name = svc
            .as_ref()
            .map(|s| s.display_name(lang).to_owned())
            .unwrap_or_default();
        let with = self.staff_first_name(slot.staff_id);
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
            (Purpose::Move(ap), lang) if ap.service_id != service => {
                let old = self.describe(&ap);
                let price = svc.map(|s| say::money(s.price)).unwrap_or_default();
                match lang {
                    Lang::En => format!(
                        "Change your {old} to {name} on {at} with {with}, {price}. Shall I do that?"
                    ),
                    Lang::Sw => format!(
                        "Nibadilishe {old} iwe {name}, {at} na {with}, {price}. Nifanye hivyo?"
                    ),
                }
            }
            (Purpose::Move(ap), Lang::En) => {
                let rest = self.moved_with_it(&ap, slot.start);
                format!("Move your {name}{rest} to {at} with {with}. Shall I do that?")
            }
            (Purpose::Move(ap), Lang::Sw) => {
                let rest = self.moved_with_it(&ap, slot.start);
                format!("Nihamishe {name} yako{rest} hadi {at} na {with}. Nifanye hivyo?")
            }
        };
        // One of several agreed together, where it was agreed: no second
        // question.
        if let Purpose::Move(ap) = purpose
            && self.state.move_rest.agreed == Some(ap.id)
            && slot.start == ap.start + Duration::minutes(self.state.move_rest.by_min)
        {
            let c = ConfirmSlot {
                purpose,
                service,
                staff,
                when,
                slot,
            };
            self.write_move(ap, c);
            return;
        }
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

    pub(super) fn yes_no_choices(&mut self) {
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

    /// A clear "yes": a tapped Yes, the first choice's digit alone, or words
    /// of assent with nothing that hesitates or refuses.
    pub(super) fn is_yes(u: &Understood) -> bool {
        // The model's rewrite of an unclear turn cannot book: only the
        // customer's own words can.
        if u.rewritten {
            return false;
        }
        match &u.choice {
            Some(ChoiceRef::Id(id)) => id == "yes",
            Some(ChoiceRef::Index(0)) if u.tokens.len() <= 1 => true,
            _ => u.assent == Assent::Yes,
        }
    }

    pub(super) fn is_no(u: &Understood) -> bool {
        match &u.choice {
            Some(ChoiceRef::Id(id)) => id == "no",
            Some(ChoiceRef::Index(1)) if u.tokens.len() <= 1 => true,
            _ => u.assent == Assent::No,
        }
    }

    /// A reply to "Shall I book it?". Only clear assent books; a change
    /// (service, day, time, staff) is applied and confirmed again;
    /// hesitation keeps the offer open without booking.
    pub(super) fn confirm_slot(&mut self, u: &Understood, c: ConfirmSlot) -> bool {
        let tapped = matches!(&u.choice, Some(ChoiceRef::Id(_)));
        // "yes, also a facial the day before": this booking, then the rest.
        if !tapped && let Some(rest) = self.yes_and_more(u, &c) {
            self.state.after_write = Some(rest);
            let this_one = Understood {
                services: Vec::new(),
                service: None,
                ..u.clone()
            };
            self.said_yes(&this_one, c);
            return true;
        }
        if !tapped && let Some(understood) = self.change_at_confirm(u, &c) {
            return understood;
        }
        // "wait which date is that", "ni tarehe gani?": the day and time
        // again, still asking.
        if u.tokens.has_any(&[
            "which date",
            "what date",
            "which day",
            "what day",
            "when is that",
            "tarehe gani",
            "siku gani",
            "date gani",
            "ni lini",
        ]) || (u.when.is_empty()
            && u.assent != Assent::Yes
            && u.tokens
                .has_any(&["same time", "saa hiyo hiyo", "saa ile ile"]))
            || self.names_the_proposal(u, &c)
        {
            let lang = self.state.lang;
            let at = say::when(lang, self.config.tz, c.slot.start);
            self.say(match lang {
                Lang::En => format!("That is {at}. Shall I book it?"),
                Lang::Sw => format!("Ni {at}. Nikuwekee?"),
            });
            self.yes_no_choices();
            self.state.step = Step::ConfirmSlot(c);
            return true;
        }
        if Self::is_yes(u) {
            self.said_yes(u, c);
            return true;
        }
        if Self::is_no(u) {
            self.state.plan = Plan::default();
            self.say(Msg::NotBooked.text(self.state.lang));
            self.state.step = Step::ChooseSlot(ChooseSlot {
                purpose: c.purpose,
                service: c.service,
                staff: c.staff,
                when: c.when,
                offered: Vec::new(),
            });
            return true;
        }
        if u.assent == Assent::Hesitant {
            self.say(Msg::TakeYourTime.text(self.state.lang));
            self.state.step = Step::ConfirmSlot(c);
            return true;
        }
        self.say(Msg::ConfirmAgain.text(self.state.lang));
        self.yes_no_choices();
        self.state.step = Step::ConfirmSlot(c);
        false
    }

    /// A yes at the confirmation: the phone number first when the channel
    /// does not know it, else the write.
    fn said_yes(&mut self, u: &Understood, c: ConfirmSlot) {
        if c.purpose == Purpose::New && !self.phone_known {
            self.say(Msg::AskPhone.text(self.state.lang));
            self.state.step = Step::CollectPhone(c);
            return;
        }
        self.book_confirmed(u, c);
    }

    /// "yes, also a facial", "sawa, pia nataka manicure": a yes that opens
    /// the answer and a further service asked for with a word of adding.
    /// Returns the rest of the turn, to act on once this booking is written.
    fn yes_and_more(&self, u: &Understood, c: &ConfirmSlot) -> Option<String> {
        let words = u.tokens.words();
        let first = words.first()?;
        if u.rewritten || assent(&Tokens::from_words(vec![first.clone()])) != Assent::Yes {
            return None;
        }
        let adds = u.tokens.has_any(&[
            "also",
            "pia",
            "plus",
            "as well",
            "too",
            "another",
            "and a",
            "na pia",
            "pamoja na",
        ]);
        let items = self.plan_items(c.service, c.slot);
        let in_plan = |id: Uuid| id == c.service || items.iter().any(|i| i.service == id);
        let new_service = u
            .services
            .iter()
            .copied()
            .chain(u.service)
            .any(|s| !in_plan(s));
        let rest = Tokens::from_words(words[1..].to_vec());
        // "okay and how much is the pedicure also" asks, it does not add.
        let asks = classify(&rest).question().is_some();
        if adds && new_service && !asks && c.purpose == Purpose::New {
            return Some(words[1..].join(" "));
        }
        // "ndio. nitalipa aje?", "yes, where exactly are you?": agreed, and
        // a question about how to pay or find the place, answered after.
        let found = topics(&rest);
        let logistics = !found.is_empty()
            && found.iter().all(|t| {
                matches!(
                    t,
                    Topic::Payment | Topic::Location | Topic::Parking | Topic::Hours
                )
            });
        let changes = !u.when.is_empty() || new_service || u.staff.is_some();
        let conditional = rest.has_any(&["but", "lakini", "ila", "if", "ikiwa", "kama"]);
        (logistics && !changes && !conditional).then(|| words[1..].join(" "))
    }

    /// A clear "yes" at the confirmation (and the phone number known):
    /// write what was confirmed.
    pub(super) fn book_confirmed(&mut self, u: &Understood, c: ConfirmSlot) {
        // "yes, book the manicure" to several items: only what was named.
        if c.purpose == Purpose::New && !self.state.plan.placed.is_empty() && !u.services.is_empty()
        {
            let mut items = self.plan_items(c.service, c.slot);
            items.retain(|i| u.services.contains(&i.service));
            if let Some(last) = items.pop() {
                self.state.plan.placed = items;
                let c = ConfirmSlot {
                    service: last.service,
                    slot: last.slot,
                    ..c
                };
                if self.state.plan.placed.is_empty() {
                    self.state.plan = Plan::default();
                    self.book_item(&last);
                    self.state.step = Step::AwaitWrite(c);
                } else {
                    self.book_plan(c);
                }
                return;
            }
        }
        match c.purpose {
            Purpose::New if !self.state.plan.placed.is_empty() => self.book_plan(c),
            Purpose::New => {
                let item = Item {
                    service: c.service,
                    slot: c.slot,
                };
                self.book_item(&item);
                self.state.step = Step::AwaitWrite(c);
            }
            Purpose::Move(appt) => self.write_move(appt, c),
        }
    }

    fn write_move(&mut self, appt: AppointmentSummary, c: ConfirmSlot) {
        self.act(Action::Reschedule {
            appointment_id: appt.id,
            service_id: c.service,
            staff_id: c.slot.staff_id,
            start: c.slot.start,
            end: c.slot.end,
        });
        self.state.step = Step::AwaitWrite(c);
    }

    /// A turn while the customer's phone number is asked for: a number
    /// goes on to the booking; something with digits that is not a number
    /// is asked again; anything else is handled as at the confirmation
    /// (returned as the step to handle it in).
    pub(super) fn collect_phone(
        &mut self,
        turn: &Turn,
        c: ConfirmSlot,
        detected: DetectedLang,
    ) -> Option<Step> {
        let digits = turn.text.chars().filter(char::is_ascii_digit).count();
        if digits == 0 {
            return Some(Step::ConfirmSlot(c));
        }
        self.analysis(detected, None, true);
        match phone_in(&turn.text) {
            Some(phone) => self.phone_given(turn, c, phone),
            None => {
                self.say(Msg::PhoneAgain.text(self.state.lang));
                self.state.step = Step::CollectPhone(c);
            }
        }
        None
    }

    pub(super) fn on_booked(
        &mut self,
        c: ConfirmSlot,
        result: Result<AppointmentSummary, WriteFailure>,
    ) {
        if self.state.plan.is_multi() {
            self.on_plan_booked(c, result);
            return;
        }
        let lang = self.state.lang;
        let tz = self.config.tz;
        if result.is_err() {
            self.state.after_write = None;
        }
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
                self.state.plan = Plan::default();
                self.state.context = Context::default();
                self.state.just_booked = Some(appt.id);
                // "right after?" next means this one, not the booking it was
                // placed beside.
                self.state.reminded = None;
                if let Some(s) = &svc {
                    self.cross_sell(s);
                    self.after_booking(appt.id, s.price);
                }
                self.state.step = Step::Idle;
                self.continue_after_write(true, appt.start);
            }
            Err(WriteFailure::SlotTaken) => self.search_again_near(&c),
            Err(_) => {
                self.say(Msg::SaveFailed.text(lang));
                self.state.step = Step::Idle;
            }
        }
    }

    /// Payment after a booking: the M-Pesa prompt when the tenant can send
    /// one, else how to pay (the tenant's paybill), never a prompt that
    /// cannot start.
    /// The time confirmed was taken before it could be written: free
    /// times near it, saying so.
    pub(super) fn search_again_near(&mut self, c: &ConfirmSlot) {
        let local = c.slot.start.with_timezone(&self.config.tz);
        let when = When {
            date: Some(local.date_naive()),
            time: Some(local.time()),
            part: None,
        };
        self.search(c.purpose, c.service, c.staff, when, true);
    }

    pub(super) fn after_booking(&mut self, appointment_id: Uuid, amount: Money) {
        if amount.minor <= 0 {
            return;
        }
        if self.config.payment_on_booking {
            self.act(Action::StartPayment {
                appointment_id,
                amount,
            });
        } else if let Some(paybill) = self.config.pay_hint.clone() {
            let money = say::money(amount);
            self.say(match self.state.lang {
                Lang::En => format!(
                    "You can pay {money} by M-Pesa to Paybill {paybill} (account: your name), or at the salon."
                ),
                Lang::Sw => format!(
                    "Unaweza kulipa {money} kwa M-Pesa, Paybill {paybill} (akaunti: jina lako), au ukifika."
                ),
            });
        }
    }

    pub(super) fn cross_sell(&mut self, booked: &ServiceInfo) {
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
                r.from == booked.id
                    && r.confidence >= crate::core::dialog::catalog::CROSS_SELL_MIN_CONFIDENCE
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
}

pub(crate) fn phone_in(text: &str) -> Option<PhoneNumber> {
    let start = text.find(|c: char| c == '+' || c.is_ascii_digit())?;
    let kept: String = text[start..]
        .chars()
        .enumerate()
        .filter(|(i, c)| c.is_ascii_digit() || (*i == 0 && *c == '+'))
        .map(|(_, c)| c)
        .collect();
    PhoneNumber::parse(&kept).ok()
}
