//! What the customer has, listed: the booking a request names among them
//! (by service, day, time, kind, the one just told), then what is done with
//! it: told, cancelled, moved (one, or several together), something added
//! beside it, booked again.

use super::*;

impl Dialog<'_> {
    pub(super) fn on_upcoming(&mut self, a: AwaitUpcoming, list: Vec<AppointmentSummary>) {
        let lang = self.state.lang;
        let tz = self.config.tz;
        if a.purpose == ExistingPurpose::Again {
            let last = list.first().copied();
            // "same time as last time": the last one's time on the day said.
            let when = match last {
                Some(l) if a.same_time && a.when.time.is_none() => When {
                    time: Some(l.start.with_timezone(&tz).time()),
                    part: None,
                    ..a.when
                },
                _ => a.when,
            };
            // The service named, else the last one's.
            match (last, a.service) {
                (None, Some(service)) => {
                    self.state.plan = Plan::default();
                    self.search(Purpose::New, service, None, when, false);
                }
                (last, named) => {
                    let last = last.map(|l| AppointmentSummary {
                        service_id: named.unwrap_or(l.service_id),
                        ..l
                    });
                    self.book_again(when, a.same_staff, last);
                }
            }
            return;
        }
        // "change my manicure to 4pm instead": the one service named is one
        // they have, so it names the appointment, not what it becomes.
        let a = match a.swap_to {
            Some(s) if a.service.is_none() && list.iter().any(|ap| ap.service_id == s) => {
                AwaitUpcoming {
                    service: Some(s),
                    swap_to: None,
                    ..a
                }
            }
            _ => a,
        };
        // Right after a reminder, an unqualified "cancel" / "move" means
        // the reminded appointment.
        let reminded = self.state.reminded.take();
        let unnamed = a.service.is_none() && a.identify.date.is_none() && a.identify.time.is_none();
        let list = match reminded.and_then(|id| list.iter().find(|ap| ap.id == id)) {
            Some(ap) if unnamed && !a.all => vec![*ap],
            _ => list,
        };
        // Narrowed by what named it ("my Wednesday manicure"), when that
        // leaves any.
        let named: Vec<AppointmentSummary> = list
            .iter()
            .filter(|ap| {
                let l = ap.start.with_timezone(&tz);
                a.service.is_none_or(|s| s == ap.service_id)
                    && a.identify.date.is_none_or(|d| d == l.date_naive())
                    && a.identify.time.is_none_or(|t| t == l.time())
            })
            .copied()
            .collect();
        // "cancel the facial on tuesday but the haircut stays at 2": the
        // time was the other one's; the service alone names it.
        let by_service: Vec<AppointmentSummary> = list
            .iter()
            .filter(|ap| a.service.is_some_and(|s| s == ap.service_id))
            .copied()
            .collect();
        let list = if !named.is_empty() {
            named
        } else if !by_service.is_empty() {
            by_service
        } else {
            list
        };
        // "the nails one": of the kind named, when that leaves any.
        let of_kind: Vec<AppointmentSummary> = list
            .iter()
            .filter(|ap| a.kind.contains(&ap.service_id))
            .copied()
            .collect();
        let list = if of_kind.is_empty() { list } else { of_kind };
        // "jumatano naweza kuja mapema kidogo? kama saa tatu": nothing
        // names it but the one that day is moved within the day.
        let that_day: Vec<AppointmentSummary> = list
            .iter()
            .filter(|ap| {
                a.purpose == ExistingPurpose::Reschedule
                    && unnamed
                    && a.when.time.is_some()
                    && a.when.date == Some(ap.start.with_timezone(&tz).date_naive())
            })
            .copied()
            .collect();
        let list = if that_day.len() == 1 { that_day } else { list };
        // Two alike ("cancel one of the cornrows on saturday", booked for
        // two girls at once): either is the one.
        let alike = |ap: &AppointmentSummary| {
            ap.service_id == list[0].service_id && ap.start == list[0].start
        };
        let list = if !a.all && list.len() > 1 && list.iter().all(alike) {
            vec![list[0]]
        } else {
            list
        };
        if let (Some(add), [one]) = (a.add_after, list.as_slice()) {
            if a.add_with {
                self.book_with(*one, add);
            } else {
                self.book_after(*one, add, a.when.time, a.add_before);
                // A plan of them all, each after the one before.
                if !a.add_more.is_empty() {
                    let named: Vec<Uuid> = std::iter::once(add).chain(a.add_more).collect();
                    self.plan_services(&named, 1);
                }
            }
            return;
        }
        // "wants cornrows while i do my wash and set, saturday 10am" with
        // nothing booked: both new, side by side.
        if let (Some(add), true, []) = (a.add_after, a.add_with, list.as_slice()) {
            let named: Vec<Uuid> = a.service.into_iter().chain([add]).collect();
            let when = When {
                date: a.identify.date,
                ..a.when
            };
            self.state.plan = Plan::default();
            let party = if a.service.is_some() { 2 } else { 1 };
            if let Some(first) = self.plan_services(&named, party) {
                self.search(Purpose::New, first, None, when, false);
            }
            return;
        }
        // "can brian do my haircut on friday instead?": the same time with
        // them.
        if let ([one], Some(staff), ExistingPurpose::Reschedule) =
            (list.as_slice(), a.staff, a.purpose)
        {
            let local = one.start.with_timezone(&tz);
            let same_day = a.when.date.is_none_or(|d| d == local.date_naive());
            if staff != one.staff_id
                && same_day
                && a.when.time.is_none()
                && a.shift.is_none()
                && a.swap_to.is_none()
            {
                let when = When {
                    date: Some(local.date_naive()),
                    time: Some(local.time()),
                    part: None,
                };
                self.search(
                    Purpose::Move(*one),
                    one.service_id,
                    Some(staff),
                    when,
                    false,
                );
                return;
            }
        }
        if a.purpose == ExistingPurpose::Check {
            self.tell_upcoming(&list);
            return;
        }
        // "zile za kucha alhamisi … move both to friday same time".
        if a.all
            && a.purpose == ExistingPurpose::Reschedule
            && (2..=3).contains(&list.len())
            && a.swap_to.is_none()
            && (!a.when.is_empty() || a.shift.is_some())
        {
            self.move_together(&a, list);
            return;
        }
        if a.all && a.purpose == ExistingPurpose::Cancel && (2..=3).contains(&list.len()) {
            self.confirm_cancel_all(list, false);
            return;
        }
        match list.as_slice() {
            // "niko na relaxer kesho saa tano" with nothing booked: that
            // service then, at the time said.
            [] if a.purpose == ExistingPurpose::Reschedule && a.service.is_some() => {
                self.say(Msg::NoneBookedFindingTimes.text(lang));
                let when = if a.when.is_empty() {
                    a.identify
                } else {
                    a.when
                };
                if let Some(service) = a.service {
                    self.state.plan = Plan::default();
                    self.search(Purpose::New, service, None, when, false);
                }
            }
            [] => {
                self.say(Msg::NoUpcoming.text(lang));
                self.state.step = Step::Idle;
            }
            [one] => self.existing_chosen(a.purpose, a.when, a.same_time, a.shift, a.swap_to, *one),
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
                        (ExistingPurpose::Check | ExistingPurpose::Again, Lang::En) => {
                            "Which appointment do you mean?"
                        }
                        (ExistingPurpose::Check | ExistingPurpose::Again, Lang::Sw) => {
                            "Unamaanisha miadi ipi?"
                        }
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
                    same_time: a.same_time,
                    shift: a.shift,
                    swap_to: a.swap_to,
                    offered,
                });
            }
        }
    }

    /// "When is my appointment?": the customer's upcoming appointments, with
    /// whom.
    pub(super) fn tell_upcoming(&mut self, list: &[AppointmentSummary]) {
        let lang = self.state.lang;
        // One told: a bare "change it" / "cancel it" next means that one.
        if let [one] = list {
            self.state.reminded = Some(one.id);
        }
        if list.is_empty() {
            self.say(Msg::NoUpcoming.text(lang));
            self.state.step = Step::Idle;
            return;
        }
        let lines: Vec<String> = list
            .iter()
            .take(5)
            .map(|ap| {
                let with = self.staff_first_name(ap.staff_id);
                match lang {
                    _ if with.is_empty() => self.describe(ap),
                    Lang::En => format!("{} with {with}", self.describe(ap)),
                    Lang::Sw => format!("{} na {with}", self.describe(ap)),
                }
            })
            .collect();
        self.say(match lang {
            Lang::En => format!("You have: {}.", lines.join("; ")),
            Lang::Sw => format!("Una miadi: {}.", lines.join("; ")),
        });
        self.state.step = Step::Idle;
    }
}
