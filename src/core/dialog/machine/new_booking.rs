//! A new booking, first half: the service, the search for free times and
//! the offer (see `confirm` for the confirmation and the write).

use super::*;
use crate::core::booking;
use crate::core::dialog::names::is_person;
use chrono::Datelike;

impl Dialog<'_> {
    // ---- booking -------------------------------------------------------

    pub(super) fn start_booking(&mut self, u: &Understood, when: When, staff: Option<Uuid>) {
        self.state.plan = Plan {
            party: u.party.max(1),
            ..Plan::default()
        };
        let mut named: Vec<Uuid> = if u.services.is_empty() {
            u.service.into_iter().collect()
        } else {
            u.services.clone()
        };
        // "ok then tomorrow at 11" after a side question about a service.
        if named.is_empty() {
            named = self.state.context.services.clone();
        }
        let when = if when.date.is_none() && self.state.context.when.date.is_some() {
            When {
                date: self.state.context.when.date,
                ..when
            }
        } else {
            when
        };
        // "bridal hair for the bride and a wash & set for her maid, wote
        // wakati mmoja": several services at one start, each with its own
        // staff member.
        let at_once = named.len() >= 2
            && u.tokens.has_any(&[
                "at the same time",
                "at once",
                "simultaneously",
                "wakati mmoja",
                "wakati huo huo",
                "wakati huohuo",
                "saa moja wote",
            ])
            // "binti yangu for cornrows na mimi relaxer, same time": two
            // people can only mean side by side.
            || (named.len() >= 2
                && u.party >= 2
                && u.tokens.has_any(&["same time", "together", "pamoja", "wakati sawa"]));
        let party = if at_once {
            u.party.max(u8::try_from(named.len()).unwrap_or(u8::MAX))
        } else {
            u.party
        };
        if let Some(service) = self.plan_services(&named, party) {
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
            self.say(Msg::WhichOne.text(lang));
        } else {
            self.say(Msg::WhichService.text(lang));
        }
        self.offer_services(&offered);
        self.state.step = Step::ChooseService(ChooseService {
            when,
            staff,
            offered,
            together: false,
        });
    }

    pub(super) fn offer_services(&mut self, ids: &[Uuid]) {
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

    pub(super) fn choose_service(&mut self, u: &Understood, s: ChooseService) -> bool {
        let when = u.when.or(s.when);
        let staff = u.staff.or(s.staff);
        let takes_offer =
            u.assent == Assent::Yes || !u.when.is_empty() || u.intents.contains(Intent::Book);
        let picked = match &u.choice {
            Some(ChoiceRef::Id(id)) => id
                .strip_prefix("svc_")
                .and_then(|raw| raw.parse::<Uuid>().ok())
                .filter(|id| s.offered.contains(id)),
            Some(ChoiceRef::Index(i)) => s.offered.get(*i).copied(),
            Some(ChoiceRef::Last) => s.offered.last().copied(),
            None => None,
        }
        .or(u.services.first().copied())
        .or(u.service)
        .or_else(|| {
            // One service on offer: a yes, a day or "do you have space"
            // takes it.
            (s.offered.len() == 1 && takes_offer).then(|| s.offered[0])
        });
        // "both" / "zote" after two or three were offered; a yes or a day
        // to "Would you like to book them?" ("mani pedi ni ngapi?" …
        // "nikuje jumamosi saa nne").
        let several = (2..=3).contains(&s.offered.len());
        let all = several
            && ((s.together && takes_offer)
                || u.tokens.has_any(&[
                    "both",
                    "all",
                    "zote",
                    "vyote",
                    "wote",
                    "all of them",
                    "zote mbili",
                ]));
        if all && picked.is_none() {
            let party = self.state.plan.party.max(u.party);
            if let Some(first) = self.plan_services(&s.offered, party) {
                self.search(Purpose::New, first, staff, when, false);
                return true;
            }
        }
        // "nywele za harusi kwa bibi harusi saa mbili, na mimi kuosha na
        // kuseti saa tatu": each part at its own time.
        if !matches!(&u.choice, Some(ChoiceRef::Id(_) | ChoiceRef::Index(_)))
            && let Some((first, second)) = self.split_by_day(u)
        {
            self.book_clauses(u, first, second);
            return true;
        }
        if let Some(service) = picked {
            let mut named = vec![service];
            named.extend(u.services.iter().copied().filter(|s| *s != service));
            let party = self.state.plan.party.max(u.party);
            self.plan_services(&named, party);
            self.search(Purpose::New, service, staff, when, false);
            return true;
        }
        if u.intents.contains(Intent::No) {
            self.say(Msg::AnythingElse.text(self.state.lang));
            self.state.step = Step::Idle;
            return true;
        }
        if u.service_candidates.len() >= 2 {
            let offered = u.service_candidates.clone();
            self.say(Msg::WhichOne.text(self.state.lang));
            self.offer_services(&offered);
            self.state.step = Step::ChooseService(ChooseService {
                when,
                staff,
                offered,
                together: false,
            });
            return true;
        }
        self.say(Msg::PickService.text(self.state.lang));
        let offered = s.offered.clone();
        self.offer_services(&offered);
        self.state.step = Step::ChooseService(ChooseService {
            when,
            staff,
            offered,
            together: false,
        });
        false
    }

    /// Asks the runtime for free slots.
    pub(super) fn search(
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
            closed_on_holidays: !self.config.open_on_holidays,
            except: match &purpose {
                Purpose::Move(ap) => Some(ap.id),
                Purpose::New => None,
            },
            asked: when
                .date
                .zip(when.time)
                .and_then(|(d, t)| d.and_time(t).and_local_timezone(self.config.tz).earliest())
                .map(|t| t.with_timezone(&Utc)),
        };
        self.act(Action::FindSlots(query));
        self.state.step = Step::AwaitSlots(AwaitSlots {
            purpose,
            service,
            staff,
            when,
            retry,
            // A time said with "the latest" is when they can come from
            // ("whats the latest? i finish class at 4").
            extreme: self
                .extreme_asked
                .filter(|e| when.time.is_none() || *e == Extreme::Latest),
        });
    }

    pub(super) fn on_slots(&mut self, a: AwaitSlots, slots: Vec<Slot>) {
        if let Some(target) = self.state.plan.target.take() {
            self.place_next(a, slots, target);
            return;
        }
        let lang = self.state.lang;
        // Nobody by that name is free for it (or does it): anyone else.
        if slots.is_empty()
            && let Some(staff) = a.staff
        {
            let who = self.staff_first_name(staff);
            self.say(match lang {
                Lang::En => format!("{who} has no free time for that, so here is who does."),
                Lang::Sw => format!("{who} hana nafasi kwa hiyo, kwa hivyo hawa ndio wako huru."),
            });
            self.search(a.purpose, a.service, None, a.when, a.retry);
            return;
        }
        let tz = self.config.tz;
        let Some(service) = self.config.catalog.service(a.service).cloned() else {
            self.state.step = Step::Idle;
            return;
        };
        let name = service.display_name(lang).to_owned();
        if a.retry {
            self.say(Msg::TimeJustTaken.text(lang));
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
        // A public holiday asked for: say so, then the nearest times.
        if let Some(date) = a.when.date
            && !self.config.open_on_holidays
            && let Some(holiday) = booking::holidays::kenyan_holiday(date)
        {
            let day = say::date(lang, date);
            self.say(match lang {
                Lang::En => format!(
                    "Sorry, we're closed on {day} for {} (a public holiday).",
                    holiday.name_en
                ),
                Lang::Sw => format!(
                    "Samahani, tumefunga {day} kwa sababu ya {} (sikukuu).",
                    holiday.name_sw
                ),
            });
            let time = a.when.time.unwrap_or(hm(10));
            let anchor = local_instant(tz, date, time).unwrap_or(now);
            let near = booking::nearest(&slots, anchor, 3);
            self.offer_slots(a, near, true);
            return;
        }
        // "earliest u got?" / "whats the latest?": the first or the last
        // free time (on the day and in the part of the day asked; for the
        // latest, from the time said, on the first day with any), proposed.
        if let Some(extreme) = a.extreme {
            let fits = |s: &&Slot| {
                let l = s.start.with_timezone(&tz);
                a.when.date.is_none_or(|d| l.date_naive() == d)
                    && a.when.part.is_none_or(|part| {
                        let (from, to) = part.window();
                        l.time() >= from && l.time() < to
                    })
                    && a.when.time.is_none_or(|from| l.time() >= from)
            };
            let picked = match extreme {
                Extreme::Earliest => slots.iter().find(fits),
                Extreme::Latest => slots.iter().find(fits).and_then(|first| {
                    let day = first.start.with_timezone(&tz).date_naive();
                    slots
                        .iter()
                        .filter(fits)
                        .rfind(|s| s.start.with_timezone(&tz).date_naive() == day)
                }),
            };
            if let Some(&slot) = picked {
                self.confirm(a.purpose, a.service, a.staff, a.when, slot);
                return;
            }
        }
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
            if let Some(slot) = self.least_needed(&exact) {
                self.confirm(a.purpose, a.service, a.staff, a.when, slot);
                return;
            }
            let near = booking::nearest(&slots, target, 3);
            if target <= now {
                self.say(match lang {
                    Lang::En => {
                        format!("Sorry, {} has already passed.", say::when(lang, tz, target))
                    }
                    Lang::Sw => format!("Samahani, {} imeshapita.", say::when(lang, tz, target)),
                });
                self.offer_slots(a, near, true);
                return;
            }
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
            // The day said back: "on Sunday 17 Feb", not "then".
            let day = say::date(lang, date);
            self.say(match lang {
                Lang::En => format!("Sorry, there's no free time for {name} on {day}."),
                Lang::Sw => format!("Samahani, hakuna nafasi ya {name} {day}."),
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

    pub(super) fn offer_slots(&mut self, a: AwaitSlots, offered: Vec<Slot>, alternatives: bool) {
        let lang = self.state.lang;
        let tz = self.config.tz;
        let name = self.service_name(a.service, lang);
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
        self.say(Msg::WhichSlotSuits.text(lang));
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

    pub(super) fn choose_slot(&mut self, u: &Understood, s: ChooseSlot) -> bool {
        let tz = self.config.tz;
        // "oh ok. then right after mine", when someone else's could not
        // start with theirs: after the one of theirs it was beside.
        // "oh ok, can it be before the manicure then" (theirs): before it.
        let before = super::new_time::adds_before(&u.tokens) || u.tokens.has("before the");
        if self.state.reminded.is_some()
            && s.purpose == Purpose::New
            && u.when.time.is_none()
            && (before
                || u.tokens.has_any(&[
                    "after mine",
                    "after me",
                    "right after",
                    "baada yangu",
                    "baada ya yangu",
                    "baada ya mimi",
                ]))
        {
            let beside = if before {
                Beside::Before
            } else {
                Beside::After
            };
            self.add_after_theirs(None, s.service, None, None, beside);
            return true;
        }
        // "the day after that", "siku inayofuata": the day after the one
        // being discussed (the time asked for before kept).
        let relative;
        let u = match s.when.date {
            Some(d)
                if u.when.date.is_none()
                    && u.tokens.has_any(&[
                        "day after that",
                        "the day after",
                        "the next day",
                        "the following day",
                        "siku inayofuata",
                        "siku ifuatayo",
                        "siku inayofwata",
                    ]) =>
            {
                relative = Understood {
                    when: When {
                        date: Some(d + Duration::days(1)),
                        ..u.when
                    },
                    ..u.clone()
                };
                &relative
            }
            _ => u,
        };
        // "ya but can u do pedicure instead, 10am": another service in
        // place of this one, at the time given (not this one at 10:00).
        let replacing = matches!(s.purpose, Purpose::New)
            && u.tokens.has_any(&[
                "instead",
                "badala",
                "rather",
                "make it",
                "change",
                "badilisha",
                "iwe",
            ]);
        let replaced = u
            .service
            .filter(|id| *id != s.service)
            .filter(|_| replacing);
        // The one offered slot on the day said (if any) whose local time
        // `fits`.
        let only = |fits: &dyn Fn(NaiveTime) -> bool| {
            let mut hits = s.offered.iter().filter(|o| {
                let l = o.start.with_timezone(&tz);
                fits(l.time()) && u.when.date.is_none_or(|d| d == l.date_naive())
            });
            match (hits.next(), hits.next()) {
                (Some(one), None) => Some(*one),
                _ => None,
            }
        };
        let picked = if replaced.is_some() {
            None
        } else {
            offered_choice(u.choice.as_ref(), "slot_", &s.offered)
                // "the 10:00 one" / "saa nne": an offered time named.
                .or_else(|| {
                    let time = u.when.time?;
                    only(&|l| l == time)
                })
                // "the afternoon one", "ya mchana": the one offered then
                // ("the afternoon one" is not 1pm).
                .or_else(|| {
                    use crate::core::dialog::when::DayPart;
                    let named = [
                        ("morning one", DayPart::Morning),
                        ("afternoon one", DayPart::Afternoon),
                        ("evening one", DayPart::Evening),
                    ]
                    .into_iter()
                    .find(|(phrase, _)| u.tokens.has(phrase))
                    .map(|(_, part)| part);
                    let part = named.or(u.when.part.filter(|_| u.when.time.is_none()))?;
                    let (from, to) = part.window();
                    only(&|l| l >= from && l < to)
                })
                // "ten is fine", "nipe ya 1130": an hour in words or digits
                // run together that is one of the offered times.
                // Not when a time was read and is not offered: "four
                // thirty" is not the 16:00 one.
                .or_else(|| {
                    if u.when.time.is_some() {
                        return None;
                    }
                    let time = u
                        .tokens
                        .words()
                        .iter()
                        .find_map(|w| spoken_or_run_time(w))?;
                    only(&|l| l == time || l == time + Duration::hours(12))
                })
                // A yes to the one time offered; not "poa, ijumaa saa tatu",
                // which asks for another.
                .or_else(|| {
                    (s.offered.len() == 1 && u.intents.contains(Intent::Yes) && u.when.is_empty())
                        .then(|| s.offered[0])
                })
        };
        if let Some(slot) = picked {
            self.confirm(s.purpose, s.service, s.staff, s.when, slot);
            return true;
        }
        // Another service comes in (new bookings only): several named, not
        // only this one ("ok wash & set and a manicure then"), planned
        // instead; one added to this one ("na nyusi pia", "and a manicure
        // too", "na mtoto wangu asukwe mabutu"), planned together, for
        // someone they bring at the same time; or a different one named,
        // started over with.
        // "aii make it mabutu instead, rasta inakula time sana": the one
        // replaced is named again only as the reason, not booked too.
        let named: Vec<Uuid> = if replacing && u.services.contains(&s.service) {
            u.services
                .iter()
                .copied()
                .filter(|id| *id != s.service)
                .collect()
        } else {
            u.services.clone()
        };
        let other = u
            .service
            .filter(|id| *id != s.service && matches!(s.purpose, Purpose::New))
            .or_else(|| match named.as_slice() {
                [only] if replacing && *only != s.service => Some(*only),
                _ => None,
            });
        let next = if matches!(s.purpose, Purpose::New)
            && named.len() >= 2
            && named.iter().any(|id| *id != s.service)
        {
            self.plan_services(&named, u.party)
        } else if let Some(service) = other
            && replaced.is_none()
            && adds_another(&u.tokens)
        {
            let brings = u.tokens.words().iter().any(|w| is_person(w));
            let party = self.state.plan.party.max(u.party).max(1 + u8::from(brings));
            self.plan_services(&[s.service, service], party)
        } else {
            other
        };
        if let Some(first) = next {
            self.search(
                Purpose::New,
                first,
                u.staff.or(s.staff),
                u.when.or(s.when),
                false,
            );
            return true;
        }
        // "is 3 ok?", "what about 11": a bare hour while times are on offer
        // is a time of day (business hours: 1-6 is the afternoon); alone,
        // when it is no offered number ("11" of three).
        if u.when.is_empty()
            && let Some(h) = u
                .tokens
                .words()
                .iter()
                .find_map(|w| w.parse::<u32>().ok().filter(|h| (1..=12).contains(h)))
            && (u.tokens.len() > 1 || h as usize > s.offered.len().max(3))
        {
            let hour = if h <= 6 { h + 12 } else { h };
            let day = s.when.date.or_else(|| {
                s.offered
                    .first()
                    .map(|o| o.start.with_timezone(&tz).date_naive())
            });
            let when = When {
                date: day,
                time: NaiveTime::from_hms_opt(hour, 0, 0),
                part: None,
            };
            self.search(s.purpose, s.service, u.staff.or(s.staff), when, false);
            return true;
        }
        if !u.when.is_empty() || u.staff.is_some() {
            // "ok Monday then" after times on Monday 11 were offered means
            // that Monday, not today's.
            let mut said = u.when;
            if let Some(d) = said.date
                && let Some(offered) = s
                    .offered
                    .iter()
                    .map(|o| o.start.with_timezone(&tz).date_naive())
                    .find(|o| o.weekday() == d.weekday() && *o > d && (*o - d).num_days() <= 7)
            {
                said.date = Some(offered);
            }
            let u_when = said;
            let when = if u_when.date.is_some() {
                // "Saturday then" / "tarehe 13, saa hiyo hiyo": the time
                // asked for before, on the new day.
                if u_when.time.is_none() && u_when.part.is_none() {
                    When {
                        time: s.when.time,
                        ..u_when
                    }
                } else {
                    u_when
                }
            } else {
                u_when.or(s.when)
            };
            self.search(s.purpose, s.service, u.staff.or(s.staff), when, false);
            return true;
        }
        if u.intents.contains(Intent::No) {
            self.say(Msg::WhichDayInstead.text(self.state.lang));
            self.state.step = Step::ChooseSlot(ChooseSlot {
                offered: Vec::new(),
                ..s
            });
            return true;
        }
        self.say(Msg::PickSlot.text(self.state.lang));
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
}

/// "ten", "eleven", "1130", "0930": a clock time said as a bare number
/// word or as digits run together (read on a 12-hour face).
fn spoken_or_run_time(w: &str) -> Option<NaiveTime> {
    if (3..=4).contains(&w.len()) && w.chars().all(|c| c.is_ascii_digit()) {
        let (h, m) = w.split_at(w.len() - 2);
        return NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0);
    }
    let hour = crate::core::dialog::numbers::en_small(w).filter(|h| (1..=12).contains(h))?;
    NaiveTime::from_hms_opt(hour % 12, 0, 0)
}

/// Whether a turn adds a service to the one under way rather than naming
/// another in its place: a word of adding ("na nyusi pia", "plus
/// eyebrows", "ongeza pedicure", [`super::new_time::adds_after`]), "too",
/// or an opening "na"/"and" ("na mtoto wangu asukwe mabutu").
pub(super) fn adds_another(tokens: &Tokens) -> bool {
    matches!(tokens.at(0), "na" | "and") || tokens.has("too") || super::new_time::adds_after(tokens)
}
