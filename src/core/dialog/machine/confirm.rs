//! A new booking, second half: the confirmation (yes, no, or a change of
//! service, day or time), the phone number when the channel has none, the
//! write and what follows it (payment, cross-sell).

use super::new_booking::adds_another;
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

    /// "aah ngoja, facial pekee. haircut ibaki alhamisi" while several are
    /// to move together: only those, moved by as much as proposed.
    fn narrow_moved_together(
        &mut self,
        u: &Understood,
        c: &ConfirmSlot,
        first: AppointmentSummary,
    ) -> bool {
        let services = &self.config.catalog.services;
        let stay = super::cancel::kept_services(&u.tokens, services);
        let named: Vec<Uuid> = u
            .services
            .iter()
            .copied()
            .chain(u.service)
            .filter(|s| !stay.contains(s))
            .collect();
        let only = !named.is_empty()
            && u.tokens
                .has_any(&["just", "only", "tu", "pekee", "peke yake"]);
        if stay.is_empty() && !only {
            return false;
        }
        let all: Vec<AppointmentSummary> = std::iter::once(first)
            .chain(self.state.move_rest.queue.iter().copied())
            .collect();
        let mut group: Vec<AppointmentSummary> = all
            .iter()
            .copied()
            .filter(|ap| !stay.contains(&ap.service_id))
            .filter(|ap| !only || named.contains(&ap.service_id))
            .collect();
        if group.is_empty() || group.len() == all.len() {
            return false;
        }
        let lead = group.remove(0);
        let to = (lead.start + (c.slot.start - first.start)).with_timezone(&self.config.tz);
        self.state.move_rest = MoveRest {
            queue: group,
            first: Some(lead.id),
            ..MoveRest::default()
        };
        let when = When {
            date: Some(to.date_naive()),
            time: Some(to.time()),
            part: None,
        };
        self.search(Purpose::Move(lead), lead.service_id, None, when, false);
        true
    }

    /// " (and your Pedicure to Friday 5 Apr at 15:45)": the others moved
    /// together with `first` when it goes to `to`.
    fn moved_with_it(&self, first: &AppointmentSummary, to: DateTime<Utc>) -> String {
        let lang = self.state.lang;
        if !self.state.move_rest.leads(first.id) {
            return String::new();
        }
        let by = to - first.start;
        let others: Vec<String> = self
            .state
            .move_rest
            .queue
            .iter()
            .map(|ap| {
                let name = self
                    .config
                    .catalog
                    .service(ap.service_id)
                    .map(|s| s.display_name(lang).to_owned())
                    .unwrap_or_default();
                let at = say::when(lang, self.config.tz, ap.start + by);
                match lang {
                    Lang::En => format!("your {name} to {at}"),
                    Lang::Sw => format!("{name} hadi {at}"),
                }
            })
            .collect();
        if others.is_empty() {
            return String::new();
        }
        match lang {
            Lang::En => format!(" (and {})", others.join(", ")),
            Lang::Sw => format!(" (na {})", others.join(", ")),
        }
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

    /// "saa nne asubuhi" when 10:00 is proposed: the proposal said back,
    /// neither a yes nor a change.
    fn names_the_proposal(&self, u: &Understood, c: &ConfirmSlot) -> bool {
        let local = c.slot.start.with_timezone(&self.config.tz);
        u.assent == Assent::Unclear
            && u.when.time == Some(local.time())
            && u.when.date.is_none_or(|d| d == local.date_naive())
            && u.service.is_none()
            && u.services.is_empty()
    }

    /// What day and time a turn at the confirmation asks for, the proposal
    /// starting at `local`: "weka next week" (a week later), "actually make
    /// it 12" (a bare hour), and a proposed day or time turned down with
    /// another after it ("friday nitakuwa safari. saturday same time?",
    /// "saa tisa nitakuwa darasani. Rudisha saa kumi na moja").
    fn when_at_confirm(&self, u: &Understood, local: DateTime<Tz>) -> When {
        let now = self.state.now.unwrap_or_default();
        let tz = self.config.tz;
        // "ok but can it be 30 min later", "an hour earlier": the proposal
        // moved by that much (on the day said, if one was).
        if let Some(minutes) = u.shift {
            return moved_by(local, minutes, u.when.date);
        }
        if u.when.is_empty() {
            if says_next_week(&u.tokens) {
                return When {
                    date: Some(local.date_naive() + Duration::days(7)),
                    time: Some(local.time()),
                    part: None,
                };
            }
            return bare_hour_change(&u.tokens).map_or(u.when, |t| When {
                time: Some(t),
                ..When::default()
            });
        }
        let mut when = u.when;
        if when.date == Some(local.date_naive())
            && let Some(later) = last_said_other(&u.tokens, now, tz, |w| {
                w.date.is_some() && w.date != when.date
            })
        {
            when = When {
                date: later.date,
                time: later.time.or(when.time),
                part: later.part.or(when.part),
            };
        }
        if when.time == Some(local.time())
            && let Some(later) = last_said_other(&u.tokens, now, tz, |w| {
                w.time.is_some() && w.time != Some(local.time())
            })
        {
            when = later;
        }
        when
    }

    /// A different service, day, time or staff member given at the
    /// confirmation: search again with it (the rest of the request kept).
    fn change_at_confirm(&mut self, u: &Understood, c: &ConfirmSlot) -> Option<bool> {
        let tz = self.config.tz;
        if let Purpose::Move(first) = c.purpose
            && self.state.move_rest.leads(first.id)
            && self.narrow_moved_together(u, c, first)
        {
            return Some(true);
        }
        // A plan of several items starts where its first item does ("drop
        // the wash and set" keeps 10:00, not the last item's time).
        let plan_start = match c.purpose {
            Purpose::New => self
                .state
                .plan
                .placed
                .first()
                .map_or(c.slot.start, |i| i.slot.start),
            Purpose::Move(_) => c.slot.start,
        };
        let local = plan_start.with_timezone(&tz);
        let said = self.when_at_confirm(u, local);
        let adjusted;
        let u = if said == u.when {
            u
        } else {
            adjusted = Understood {
                when: said,
                ..u.clone()
            };
            &adjusted
        };
        let current = When {
            date: Some(local.date_naive()),
            time: Some(local.time()),
            part: None,
        };
        let mut items = self.plan_items(c.service, c.slot);
        if let Purpose::Move(_) = c.purpose {
            items.truncate(0);
        }
        let in_plan = |id: Uuid| items.iter().any(|i| i.service == id) || id == c.service;
        // "drop the wash and set, just haircut and eyebrows": services
        // named after a word that removes them leave the plan.
        let removed = removed_services(&u.tokens, &self.config.catalog.services);
        let named_now: Vec<Uuid> = if u.services.is_empty() {
            u.service.into_iter().collect()
        } else {
            u.services.clone()
        };
        let kept: Vec<Uuid> = named_now
            .into_iter()
            .filter(|s| !removed.contains(s))
            .collect();
        // "ok but just the manicure", "manicure tu": of a plan, only those.
        // (A clear "yes, just the manicure" books it at once: `said_yes`.)
        let only_these = c.purpose == Purpose::New
            && u.assent != Assent::Yes
            && u.tokens
                .has_any(&["just", "only", "tu", "peke yake", "pekee"])
            && !kept.is_empty()
            && kept.iter().all(|s| in_plan(*s));
        let removed: Vec<Uuid> = if only_these {
            items
                .iter()
                .map(|i| i.service)
                .chain([c.service])
                .filter(|s| !kept.contains(s))
                .collect()
        } else {
            removed
        };
        // "badilisha iwe cornrows badala, rasta ni ghali": with a word of
        // replacing, the service already planned is only mentioned.
        let replacing = u.tokens.has_any(&[
            "instead",
            "badala",
            "iwe",
            "make it",
            "change",
            "badilisha",
            "rather",
            // "scrap that, nataka tu manicure simple. gel ni expensive"
            "scrap that",
            "scratch that",
            "forget that",
        ]);
        // "make his cornrows not haircut": the new one in the place of the
        // one it replaces, the rest of the plan kept.
        let fresh: Vec<Uuid> = kept.iter().copied().filter(|s| !in_plan(*s)).collect();
        let swapped_in_place = !removed.is_empty()
            && !fresh.is_empty()
            && removed.iter().any(|s| in_plan(*s))
            && c.purpose == Purpose::New;
        let new_services: Vec<Uuid> = if swapped_in_place {
            let mut fresh = fresh.iter().copied();
            let mut out: Vec<Uuid> = items
                .iter()
                .map(|i| {
                    if removed.contains(&i.service) {
                        fresh.next().unwrap_or(i.service)
                    } else {
                        i.service
                    }
                })
                .collect();
            out.extend(fresh);
            out
        } else if !removed.is_empty() && kept.is_empty() {
            items
                .iter()
                .map(|i| i.service)
                .filter(|s| !removed.contains(s))
                .collect()
        } else if replacing && kept.iter().any(|s| !in_plan(*s)) {
            kept.iter().copied().filter(|s| !in_plan(*s)).collect()
        } else if c.purpose == Purpose::New
            && removed.is_empty()
            && !fresh.is_empty()
            && (adds_another(&u.tokens) || u.tokens.has_any(&["pia", "also", "as well", "plus"]))
        {
            // "oh na nyusi pia", "and eyebrows too": added to the plan.
            items
                .iter()
                .map(|i| i.service)
                .chain(fresh.iter().copied())
                .collect()
        } else {
            kept
        };
        let service_changed = c.purpose == Purpose::New
            && !new_services.is_empty()
            && (new_services.iter().any(|s| !in_plan(*s)) || removed.iter().any(|s| in_plan(*s)));
        let when_changed = !u.when.is_empty()
            && (u.when.date.is_some_and(|d| Some(d) != current.date)
                || u.when.time.is_some_and(|t| Some(t) != current.time)
                || (u.when.part.is_some() && u.when.time.is_none() && u.when.date.is_none()));
        let staff_changed = u.staff.is_some_and(|s| s != c.slot.staff_id);
        if !service_changed && !when_changed && !staff_changed {
            return None;
        }
        let when = if u.when.date.is_some() {
            // "make it Wednesday instead": the same time on the new day.
            if u.when.time.is_none() && u.when.part.is_none() {
                When {
                    time: current.time,
                    ..u.when
                }
            } else {
                u.when
            }
        } else if u.when.time.is_some() || u.when.part.is_some() {
            When {
                date: current.date,
                ..u.when
            }
        } else {
            current
        };
        let staff = u.staff.or(c.staff);
        match c.purpose {
            Purpose::New => {
                // "basi tuanze saa saba, pedicure kwanza": another start
                // tries again what did not fit after the first.
                let named: Vec<Uuid> = if service_changed {
                    new_services
                } else {
                    let dropped = std::mem::take(&mut self.state.plan.dropped);
                    items.iter().map(|i| i.service).chain(dropped).collect()
                };
                let party = self.state.plan.party;
                let together = self.state.plan.together;
                let one_service = named.windows(2).all(|w| w[0] == w[1]);
                let named = if together && !service_changed && one_service {
                    // The plan repeats the service per person: start again
                    // from one. ("his retwist and my gel nails" keeps both.)
                    named.into_iter().take(1).collect::<Vec<_>>()
                } else {
                    named
                };
                if let Some(first) = self.plan_services(&named, party) {
                    self.search(Purpose::New, first, staff, when, false);
                }
            }
            Purpose::Move(_) => self.search(c.purpose, c.service, staff, when, false),
        }
        Some(true)
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

/// The phone number in a message ("it's 0712 345 678", "+254 712 345678"):
/// its digits (and a leading +) read as one number.
/// Services named right after a word that takes them out of a request
/// ("drop the wash and set", "without the facial", "toa nyusi", "bila
/// pedicure"), up to a word that starts what is kept ("just", "only"); the
/// first named after "instead of" / "badala ya".
fn removed_services(tokens: &Tokens, services: &[ServiceInfo]) -> Vec<Uuid> {
    const REMOVE: &[&str] = &[
        "drop", "remove", "without", "minus", "skip", "except", "toa", "ondoa", "bila", "not",
        "sio", "siyo",
    ];
    const KEEP: &[&str] = &["just", "only", "tu", "but", "lakini", "keep", "acha"];
    let words = tokens.words();
    let mut removed = Vec::new();
    // "badala ya nyusi nifanyiwe manicure", "instead of the eyebrows, a
    // pedicure": the one named right after (the new one follows it).
    for (i, pair) in words.windows(2).enumerate() {
        if !matches!(
            (pair[0].as_str(), pair[1].as_str()),
            ("instead", "of") | ("badala", "ya") | ("rather", "than") | ("in", "place")
        ) {
            continue;
        }
        let from = i + 2 + usize::from(words.get(i + 2).is_some_and(|w| w == "of"));
        for id in nearest_named(words, from, false, services) {
            if !removed.contains(&id) {
                removed.push(id);
            }
        }
    }
    for (i, w) in words.iter().enumerate() {
        if !REMOVE.contains(&w.as_str()) {
            continue;
        }
        let window: Vec<String> = words[i + 1..]
            .iter()
            .take_while(|w| !KEEP.contains(&w.as_str()))
            .take(5)
            .cloned()
            .collect();
        for id in services_mentioned(&Tokens::from_words(window), services) {
            if !removed.contains(&id) {
                removed.push(id);
            }
        }
    }
    removed
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
