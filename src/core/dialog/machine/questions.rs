//! Questions in the middle of anything: prices, services, knowledge snippets; then resume.

use super::*;

impl Dialog<'_> {
    // ---- questions -----------------------------------------------------

    pub(super) fn answer(&mut self, q: Intent, u: &Understood, resume: Step) {
        let lang = self.state.lang;
        match q {
            Intent::AskPrices | Intent::AskServices => {
                if let Some(id) = u.service.or(u.services.first().copied())
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
                        self.say(Msg::BookIt.text(lang));
                        self.yes_no_choices();
                        self.state.step = Step::ChooseService(ChooseService {
                            when: u.when,
                            staff: u.staff,
                            offered: vec![id],
                            together: false,
                        });
                        return;
                    }
                    self.resume(resume);
                    return;
                }
                self.say(Msg::WhatWeOffer.text(lang));
                let ids: Vec<Uuid> = self.config.catalog.services.iter().map(|s| s.id).collect();
                if matches!(resume, Step::Idle) {
                    self.offer_services(&ids);
                    self.say(Msg::BookOneOfThem.text(lang));
                    self.state.step = Step::ChooseService(ChooseService {
                        when: u.when,
                        staff: u.staff,
                        offered: ids,
                        together: false,
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
            // "do you do dreadlocks retwist?": yes, with its price.
            Intent::AskOther if u.service.is_some() || !u.services.is_empty() => {
                self.answer_topics(&[Topic::Prices], u, resume, None);
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
                    categories: Vec::new(),
                    then: None,
                    routed: false,
                });
            }
            _ => self.resume(resume),
        }
    }

    /// Answers every topic of a question: prices and durations of the
    /// services named from the catalogue, the rest from the tenant's
    /// knowledge snippets (one per topic, in the customer's language).
    pub(super) fn answer_topics(
        &mut self,
        topics: &[Topic],
        u: &Understood,
        resume: Step,
        then: Option<String>,
    ) {
        let lang = self.state.lang;
        let mut named: Vec<Uuid> = u.services.clone();
        if named.is_empty() {
            named.extend(u.service);
        }
        // Nothing named in the middle of a plan ("how much total?",
        // "zote ni pesa ngapi?"): every service of it, each once.
        if named.is_empty()
            && let Some(s) = current_service(&resume)
        {
            let plan = &self.state.plan;
            named.extend(plan.placed.iter().map(|p| p.service));
            named.push(s);
            named.extend(plan.rest.iter().copied());
        }
        let mut seen = Vec::with_capacity(named.len());
        named.retain(|id| {
            let first = !seen.contains(id);
            seen.push(*id);
            first
        });
        if named.is_empty() {
            named = self.state.context.services.clone();
        }
        let mut categories: Vec<String> = Vec::new();
        let mut add = |c: &str| {
            if !categories.iter().any(|x| x == c) {
                categories.push(c.to_owned());
            }
        };
        // A price said for a service says its duration too.
        let priced = topics.contains(&Topic::Prices);
        self.state.context.priced = priced;
        for topic in topics {
            match topic {
                Topic::Duration if priced && !named.is_empty() => {}
                Topic::Prices | Topic::Duration if !named.is_empty() => {
                    for id in &named {
                        let Some(s) = self.config.catalog.service(*id).cloned() else {
                            continue;
                        };
                        let name = s.display_name(lang).to_owned();
                        let money = say::money(s.price);
                        let took = say::duration(lang, s.duration_min);
                        self.say(match (lang, topic) {
                            (Lang::En, Topic::Duration) => format!("{name} takes about {took}."),
                            (Lang::Sw, Topic::Duration) => {
                                format!("{name} huchukua takriban {took}.")
                            }
                            (Lang::En, _) => format!("{name} is {money} and takes about {took}."),
                            (Lang::Sw, _) => {
                                format!("{name} ni {money}, na huchukua takriban {took}.")
                            }
                        });
                    }
                }
                Topic::Prices if budget(&u.tokens).is_some() => {
                    let most = budget(&u.tokens).unwrap_or(0) as i64 * 100;
                    self.say_within(most);
                }
                Topic::Prices | Topic::Services => {
                    let lines: Vec<String> = self
                        .config
                        .catalog
                        .services
                        .iter()
                        .map(|s| format!("{} ({})", s.display_name(lang), say::money(s.price)))
                        .collect();
                    self.say(Msg::WhatWeOffer.text(lang));
                    self.say(lines.join("; ") + ".");
                }
                Topic::Duration => {}
                Topic::Staff => self.say_who_does(u.staff, &named),
                Topic::StaffDays => self.say_staff_days(u.staff, u.when.date),
                Topic::ServiceDay => {
                    if let (Some(day), Some(&service)) = (u.when.date, named.first()) {
                        self.say_service_day(service, day);
                    }
                }
                Topic::Hours => {
                    // "hours on sunday?", "what time do you close today?"
                    let staffed = self
                        .config
                        .catalog
                        .staff
                        .iter()
                        .any(|p| !p.weekly.is_empty());
                    if let Some(day) = u.when.date.filter(|_| staffed) {
                        self.say_day_hours(day);
                    }
                    add("hours");
                }
                Topic::Location => add("location"),
                Topic::Parking => add("parking"),
                Topic::Payment | Topic::Deposit => add("payment"),
                Topic::Cancellation | Topic::Lateness => add("general"),
            }
        }
        // "how much for both?": the total too.
        if priced && named.len() > 1 {
            let total: i64 = named
                .iter()
                .filter_map(|id| self.config.catalog.service(*id))
                .map(|s| s.price.minor)
                .sum();
            let total = say::money(Money::kes(total));
            self.say(match lang {
                Lang::En => format!("Together {total}."),
                Lang::Sw => format!("Jumla {total}."),
            });
        }
        // "how long would the two take together?": the sum, back to back.
        if topics.contains(&Topic::Duration) && named.len() > 1 {
            let total: u32 = named
                .iter()
                .filter_map(|id| self.config.catalog.service(*id))
                .map(|s| s.duration_min)
                .sum();
            let took = say::duration(lang, total);
            self.say(match lang {
                Lang::En => format!("Together, one after the other, they take about {took}."),
                Lang::Sw => {
                    format!("Kwa pamoja, moja baada ya nyingine, huchukua takriban {took}.")
                }
            });
        }
        if categories.is_empty() {
            let about_named = !named.is_empty()
                && topics.iter().all(|t| {
                    matches!(
                        t,
                        Topic::Prices | Topic::Duration | Topic::Staff | Topic::StaffDays
                    )
                });
            if then.is_none() && matches!(resume, Step::Idle) && about_named {
                // "How much is a pedicure?" invites a booking.
                self.say(if named.len() > 1 {
                    Msg::BookThem.text(lang)
                } else {
                    Msg::BookIt.text(lang)
                });
                self.yes_no_choices();
                self.state.step = Step::ChooseService(ChooseService {
                    when: u.when,
                    staff: u.staff,
                    together: named.len() > 1,
                    offered: named,
                });
                return;
            }
            self.after_answer(resume, then);
            return;
        }
        // Every snippet: a tenant may file a topic under another category.
        self.act(Action::FetchKnowledge {
            categories: Vec::new(),
        });
        self.state.step = Step::AwaitKnowledge(AwaitKnowledge {
            question: Intent::AskOther,
            words: u.tokens.words().to_vec(),
            resume: Box::new(resume),
            categories,
            then,
            routed: std::mem::take(&mut self.route_then),
        });
    }

    /// Who does the services named ("Dreadlocks Retwist is done by Wanjiku
    /// and Brian"), whether the staff member named does them ("does Achieng
    /// do relaxers?"), or what that person does; with nothing named, who
    /// does what.
    fn say_who_does(&mut self, staff: Option<Uuid>, named: &[Uuid]) {
        let lang = self.state.lang;
        let catalog = &self.config.catalog;
        let service_name = |id: &Uuid| {
            catalog
                .service(*id)
                .map(|s| s.display_name(lang).to_owned())
        };
        let doers = |id: &Uuid| -> Vec<String> {
            catalog
                .staff
                .iter()
                .filter(|p| p.services.contains(id))
                .map(|p| p.first_name().to_owned())
                .collect()
        };
        let mut lines: Vec<String> = Vec::new();
        match staff.and_then(|id| catalog.staff_member(id)) {
            Some(person) if !named.is_empty() => {
                let who = person.first_name();
                for id in named {
                    let Some(service) = service_name(id) else {
                        continue;
                    };
                    let others = say::list(lang, &doers(id));
                    lines.push(match (lang, person.services.contains(id)) {
                        (Lang::En, true) => format!("Yes, {who} does {service}."),
                        (Lang::Sw, true) => format!("Ndiyo, {who} hufanya {service}."),
                        (Lang::En, false) if !others.is_empty() => {
                            format!("{who} does not do {service}; {others} can.")
                        }
                        (Lang::Sw, false) if !others.is_empty() => {
                            format!("{who} hafanyi {service}; {others} hufanya.")
                        }
                        (Lang::En, false) => format!("{who} does not do {service}."),
                        (Lang::Sw, false) => format!("{who} hafanyi {service}."),
                    });
                }
            }
            Some(person) => {
                let does: Vec<String> = person.services.iter().filter_map(service_name).collect();
                if !does.is_empty() {
                    let who = person.first_name();
                    let does = say::list(lang, &does);
                    lines.push(match lang {
                        Lang::En => format!("{who} does {does}."),
                        Lang::Sw => format!("{who} hufanya {does}."),
                    });
                }
            }
            None if !named.is_empty() => {
                for id in named {
                    let (Some(service), who) = (service_name(id), doers(id)) else {
                        continue;
                    };
                    if who.is_empty() {
                        continue;
                    }
                    let who = say::list(lang, &who);
                    lines.push(match lang {
                        Lang::En => format!("{service} is done by {who}."),
                        Lang::Sw => format!("{service} hufanywa na {who}."),
                    });
                }
            }
            None => {
                for person in &catalog.staff {
                    let does: Vec<String> =
                        person.services.iter().filter_map(service_name).collect();
                    if does.is_empty() {
                        continue;
                    }
                    lines.push(format!("{}: {}.", person.first_name(), does.join(", ")));
                }
            }
        }
        for line in lines {
            self.say(line);
        }
    }

    /// After an answer: act on the rest of the turn, or remind the customer
    /// where we were.
    pub(super) fn after_answer(&mut self, resume: Step, then: Option<String>) {
        let routed = std::mem::take(&mut self.route_then);
        let Some(text) = then else {
            self.resume(resume);
            return;
        };
        if routed {
            self.route_answered(text, resume);
            return;
        }
        self.continue_with(text, resume, None);
    }

    /// Handles a turn whose questions were just answered from the start,
    /// as if it had no questions ("cancel my manicure on monday, and is
    /// Brian in on saturday?": Brian's days said, then the cancel).
    fn route_answered(&mut self, text: String, resume: Step) {
        let (turn, u) = self.inner_turn(text);
        self.questions_answered = true;
        self.route(&turn, &u, resume);
        self.questions_answered = false;
    }

    /// Questions asked beside something about their own bookings that the
    /// booking flow would not answer: how to pay, where, parking, a price,
    /// a staff member's days ("Gel yangu ni saa ngapi ijumaa, na mnapokea
    /// mpesa?", "move my pedicure to wed, and how much is a facial?").
    pub(super) fn side_questions(&self, u: &Understood) -> Vec<Topic> {
        let mut asked: Vec<Topic> = topics(&u.tokens)
            .into_iter()
            .filter(|t| {
                matches!(
                    t,
                    Topic::Payment
                        | Topic::Deposit
                        | Topic::Location
                        | Topic::Parking
                        | Topic::Prices
                )
            })
            .collect();
        if self.asks_staff_days(u) {
            asked.insert(0, Topic::StaffDays);
        }
        asked
    }

    /// "is Achieng in on Monday?", "Brian yuko jumamosi?": whether the
    /// staff member named (with a weekly schedule) is in, or when.
    pub(super) fn asks_staff_days(&self, u: &Understood) -> bool {
        u.staff
            .and_then(|id| self.config.catalog.staff_member(id))
            .is_some_and(|person| {
                !person.weekly.is_empty() && asks_when_in(&u.tokens, person.first_name())
            })
    }

    /// Part of an earlier turn as a turn of its own, understood.
    fn inner_turn(&self, text: String) -> (Turn, Understood) {
        let turn = Turn {
            text,
            language_hint: None,
            channel: Channel::WhatsApp,
            customer: Customer::default(),
            dtmf: None,
            choice_id: None,
            force_language: None,
            now: self.state.now.unwrap_or_default(),
        };
        let tokens = Tokens::new(&turn.text);
        let u = self.understand(&turn, tokens);
        (turn, u)
    }

    /// Acts on the rest of an earlier turn from `resume`; "same time" there
    /// means `same_as` when given (the appointment just cancelled).
    pub(super) fn continue_with(&mut self, text: String, resume: Step, same_as: Option<When>) {
        let (turn, mut u) = self.inner_turn(text);
        if let Some(was) = same_as {
            if same_time(&u.tokens) {
                u.when = u.when.or(was);
            }
            // "also a facial the day before": a day from that appointment's.
            let shift = if u.tokens.has_any(&[
                "day before",
                "night before",
                "siku moja kabla",
                "siku iliyotangulia",
                "siku kabla",
            ]) {
                Some(-1)
            } else if u.tokens.has_any(&[
                "day after",
                "next day",
                "following day",
                "siku moja baadaye",
                "siku inayofuata",
                "siku baada",
            ]) {
                Some(1)
            } else {
                None
            };
            if let (Some(days), Some(date)) = (shift, was.date) {
                u.when.date = Some(date + Duration::days(days));
            }
        }
        self.dispatch(&turn, &u, resume);
    }

    /// After a write of a booking or a cancellation: the rest of the turn
    /// that confirmed it, if any (dropped when the write failed).
    pub(super) fn continue_after_write(&mut self, written: bool, at: DateTime<Utc>) {
        let Some(text) = self.state.after_write.take() else {
            return;
        };
        if !written {
            return;
        }
        let local = at.with_timezone(&self.config.tz);
        let was = When {
            date: Some(local.date_naive()),
            time: Some(local.time()),
            part: None,
        };
        self.continue_with(text, Step::Idle, Some(was));
    }

    pub(super) fn on_knowledge(&mut self, a: AwaitKnowledge, snippets: Vec<Snippet>) {
        let lang = self.state.lang;
        if !a.categories.is_empty() {
            let mut said: Vec<&str> = Vec::new();
            for c in &a.categories {
                let of: Vec<&Snippet> = snippets.iter().filter(|s| &s.category == c).collect();
                let best = of
                    .iter()
                    .find(|s| s.language.eq_ignore_ascii_case(lang.code()))
                    .or(of.first())
                    .copied()
                    .or_else(|| {
                        // Filed elsewhere: the snippet that reads most like
                        // the topic.
                        let (question, words) = match c.as_str() {
                            "hours" => (Intent::AskHours, Vec::new()),
                            "location" => (Intent::AskLocation, Vec::new()),
                            other => (Intent::AskOther, vec![other.to_owned()]),
                        };
                        let mut words = words;
                        words.extend(a.words.iter().cloned());
                        pick_snippets(question, &words, lang, &snippets)
                            .first()
                            .copied()
                    });
                if let Some(s) = best
                    && !said.contains(&s.body.as_str())
                {
                    said.push(&s.body);
                }
            }
            let said: Vec<String> = said.iter().map(|b| b.trim().to_owned()).collect();
            for body in &said {
                self.say(body.clone());
            }
            let said = !said.is_empty();
            if !said {
                self.say(Msg::NoInformation.text(lang));
            }
            self.route_then = a.routed;
            self.after_answer(*a.resume, a.then);
            return;
        }
        let chosen = pick_snippets(a.question, &a.words, lang, &snippets);
        if chosen.is_empty() {
            self.say(Msg::NoInformation.text(lang));
        } else {
            for s in chosen {
                self.say(s.body.trim().to_owned());
            }
        }
        self.resume(*a.resume);
    }

    /// Goes back to the step a question interrupted, reminding the customer
    /// where we were.
    pub(super) fn resume(&mut self, step: Step) {
        let lang = self.state.lang;
        match &step {
            Step::ChooseSlot(s) if !s.offered.is_empty() => {
                self.say(Msg::ResumeSlots.text(lang));
                for (i, slot) in s.offered.iter().enumerate() {
                    self.pending_choices.push(Choice {
                        id: format!("slot_{i}"),
                        title: say::slot_title(lang, self.config.tz, slot.start),
                        description: None,
                    });
                }
            }
            Step::CollectPhone(_) => self.say(Msg::AskPhone.text(lang)),
            Step::EnterCode(_) => self.say(Msg::CodeAgain.text(lang)),
            Step::ConfirmSlot(_) | Step::ConfirmCancel(_) => {
                self.say(Msg::GoAhead.text(lang));
                self.yes_no_choices();
            }
            Step::ChooseService(_) => self.say(Msg::ResumeService.text(lang)),
            // Nothing to remind: no choice on offer, or the step waits for
            // the runtime or a person.
            Step::ChooseSlot(_)
            | Step::Idle
            | Step::AwaitSlots(_)
            | Step::AwaitWrite(_)
            | Step::AwaitUpcoming(_)
            | Step::ChooseAppointment(_)
            | Step::AwaitCancel(_)
            | Step::AskNewTime(_)
            | Step::AwaitKnowledge(_)
            | Step::AwaitCode(_)
            | Step::HandedOff => {}
        }
        self.state.step = step;
    }
}

/// The snippets that answer the question, in the customer's language first
/// (English snippets are fine in a Swahili answer), at most two.
pub(super) fn pick_snippets<'s>(
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

/// The service a flow is about, for "how much is it?" in the middle of it.
pub(super) fn current_service(step: &Step) -> Option<Uuid> {
    match step {
        Step::ChooseSlot(s) => Some(s.service),
        Step::ConfirmSlot(s) | Step::AwaitWrite(s) | Step::CollectPhone(s) => Some(s.service),
        Step::EnterCode(p) | Step::AwaitCode(p) => Some(p.slot.service),
        Step::AwaitSlots(s) => Some(s.service),
        Step::ChooseService(s) if s.offered.len() == 1 => s.offered.first().copied(),
        Step::AskNewTime(s) => Some(s.appointment.service_id),
        Step::ConfirmCancel(a) | Step::AwaitCancel(a) => Some(a.service_id),
        Step::Idle
        | Step::ChooseService(_)
        | Step::AwaitUpcoming(_)
        | Step::ChooseAppointment(_)
        | Step::AwaitKnowledge(_)
        | Step::HandedOff => None,
    }
}
