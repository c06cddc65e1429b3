//! An existing appointment: find it, cancel it or move it.

use super::*;

impl Dialog<'_> {
    // ---- cancel and reschedule -----------------------------------------

    pub(super) fn start_existing(&mut self, purpose: ExistingPurpose, u: &Understood) {
        let (identify, when) = match purpose {
            ExistingPurpose::Cancel | ExistingPurpose::Check => (u.when, When::default()),
            ExistingPurpose::Again => (When::default(), u.when),
            // "push my appointment tmrw by an hour": what is said names the
            // booking; the new time is its own, moved.
            ExistingPurpose::Reschedule if u.shift.is_some() => (u.when, When::default()),
            ExistingPurpose::Reschedule => {
                let now = self.state.now.unwrap_or_default();
                match move_parts(&u.tokens, now, self.config.tz) {
                    Some(parts) => parts,
                    // "move my appointment to …" said without a "to": the
                    // time is the new one; "I have a manicure booked on
                    // Thursday": the time names the booking.
                    None if u.intents.contains(Intent::Reschedule) || wants_it_moved(&u.tokens) => {
                        (When::default(), u.when)
                    }
                    // "niko na appointment leo saa kumi na moja, naeza kuja
                    // mapema saa nane?": two times, the later said is new.
                    None => two_whens(&u.tokens, now, self.config.tz)
                        .unwrap_or((u.when, When::default())),
                }
            }
        };
        self.state.cancel_queue.clear();
        let (service, swap_to) = match purpose {
            ExistingPurpose::Reschedule => self.swap_parts(u),
            // "cancel the cornrows, haircut yangu ibaki": not the one kept.
            ExistingPurpose::Cancel => {
                let kept = kept_services(&u.tokens, &self.config.catalog.services);
                let named = u.services.iter().copied().chain(u.service);
                (
                    named
                        .clone()
                        .find(|s| !kept.contains(s))
                        .or_else(|| u.services.first().copied().or(u.service)),
                    None,
                )
            }
            ExistingPurpose::Check | ExistingPurpose::Again => {
                (u.services.first().copied().or(u.service), None)
            }
        };
        let all = u
            .tokens
            .has_any(&["both", "all", "zote", "yote", "all of them", "both of them"]);
        self.act(match purpose {
            ExistingPurpose::Again => Action::ListRecent,
            ExistingPurpose::Cancel | ExistingPurpose::Reschedule | ExistingPurpose::Check => {
                Action::ListUpcoming
            }
        });
        let kind = services_of_kind(&u.tokens, &self.config.catalog.services);
        self.state.step = Step::AwaitUpcoming(AwaitUpcoming {
            all,
            purpose,
            when,
            identify,
            service,
            kind,
            add_after: None,
            same_time: same_time(&u.tokens),
            shift: u.shift,
            swap_to,
            same_staff: u.tokens.has_any(&[
                "same person",
                "same stylist",
                "same lady",
                "same guy",
                "yule yule",
                "yuleyule",
                "huyo huyo",
            ]),
        });
    }

    /// "ile ya cornrows nataka iwe box braids", "change my wash and set to a
    /// relaxer instead", "box braids badala ya cornrows": the service that
    /// names the appointment and the one it should become. With one service
    /// and a word of replacing, it may be either: `on_upcoming` decides by
    /// whether the customer has one of it.
    pub(super) fn swap_parts(&self, u: &Understood) -> (Option<Uuid>, Option<Uuid>) {
        let mut named: Vec<Uuid> = if u.services.is_empty() {
            u.service.into_iter().collect()
        } else {
            u.services.clone()
        };
        // "move my hair appointment to thursday, same day as my facial":
        // the one named to say when is not the one to move.
        let words = u.tokens.words();
        let beside: Vec<Uuid> = words
            .windows(2)
            .enumerate()
            .filter(|(_, w)| {
                matches!(
                    (w[0].as_str(), w[1].as_str()),
                    ("as", "my") | ("like", "my") | ("kama", "ya") | ("sawa", "na")
                )
            })
            .flat_map(|(k, _)| {
                let to = words.len().min(k + 5);
                services_mentioned(
                    &Tokens::from_words(words[k + 2..to].to_vec()),
                    &self.config.catalog.services,
                )
            })
            .collect();
        if named.iter().any(|s| !beside.contains(s)) {
            named.retain(|s| !beside.contains(s));
        } else if !beside.is_empty() {
            named.clear();
        }
        let replacing = u.tokens.has_any(&[
            "iwe",
            "instead",
            "badala",
            "into",
            "change",
            "badilisha",
            "make it",
            "ibadilishwe",
            "tubadilishe",
            "nifanyiwe",
            "switch",
            "swap",
        ]);
        match named.as_slice() {
            [] => (None, None),
            [one] if replacing => (None, Some(*one)),
            [one] => (Some(*one), None),
            [.., last] => {
                let words = u.tokens.words();
                // "X instead of Y" / "X badala ya Y": Y is the one they have.
                let after_instead = words
                    .windows(2)
                    .position(|w| {
                        matches!(
                            (w[0].as_str(), w[1].as_str()),
                            ("instead", "of") | ("badala", "ya")
                        )
                    })
                    .map(|k| Tokens::from_words(words[k + 2..].to_vec()));
                let old_after = after_instead.and_then(|t| {
                    services_mentioned(&t, &self.config.catalog.services)
                        .first()
                        .copied()
                });
                match old_after {
                    Some(old) => (Some(old), named.iter().copied().find(|s| *s != old)),
                    None => (Some(named[0]), Some(*last).filter(|_| replacing)),
                }
            }
        }
    }

    pub(super) fn on_upcoming(&mut self, a: AwaitUpcoming, list: Vec<AppointmentSummary>) {
        let lang = self.state.lang;
        let tz = self.config.tz;
        if a.purpose == ExistingPurpose::Again {
            self.book_again(a.when, a.same_staff, list.first().copied());
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
            self.book_after(*one, add, a.when.time);
            return;
        }
        if a.purpose == ExistingPurpose::Check {
            self.tell_upcoming(&list);
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
    fn tell_upcoming(&mut self, list: &[AppointmentSummary]) {
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

    pub(super) fn describe(&self, ap: &AppointmentSummary) -> String {
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

    pub(super) fn existing_chosen(
        &mut self,
        purpose: ExistingPurpose,
        when: When,
        same_time: bool,
        shift: Option<i64>,
        swap_to: Option<Uuid>,
        ap: AppointmentSummary,
    ) {
        let lang = self.state.lang;
        let what = self.describe(&ap);
        let local = ap.start.with_timezone(&self.config.tz);
        // "push it by an hour": its own time, moved.
        let when = match shift {
            Some(minutes) if when.time.is_none() => moved_by(local, minutes, when.date),
            Some(_) | None => when,
        };
        // "to Thursday same time": the appointment's own time on the new
        // day; "to 4pm": the new time on its own day.
        let when = When {
            time: when
                .time
                .or(((same_time || when.date.is_some()) && when.part.is_none())
                    .then(|| local.time())),
            date: when
                .date
                .or((when.time.is_some() || same_time).then(|| local.date_naive())),
            part: when.part,
        };

        match purpose {
            ExistingPurpose::Cancel => {
                self.say(match lang {
                    Lang::En => format!("Cancel your {what}?"),
                    Lang::Sw => format!("Nifute {what}?"),
                });
                self.yes_no_choices();
                self.state.step = Step::ConfirmCancel(ap);
            }
            ExistingPurpose::Check => self.tell_upcoming(&[ap]),
            ExistingPurpose::Again => self.book_again(when, false, Some(ap)),
            ExistingPurpose::Reschedule => {
                // Another service in its place: at the time asked for, else
                // at its own time.
                if let Some(service) = swap_to.filter(|s| *s != ap.service_id) {
                    let when = if when.date.is_none() && when.time.is_none() {
                        When {
                            date: Some(local.date_naive()),
                            time: Some(local.time()),
                            part: None,
                        }
                    } else {
                        when
                    };
                    self.search(Purpose::Move(ap), service, None, when, false);
                    return;
                }
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

    pub(super) fn choose_appointment(&mut self, u: &Understood, s: ChooseAppointment) -> bool {
        let tz = self.config.tz;
        // "the face one on friday, can you move it to saturday same time":
        // the day that names it, and the new one.
        let parts = match s.purpose {
            ExistingPurpose::Reschedule => {
                move_parts(&u.tokens, self.state.now.unwrap_or_default(), tz)
                    .filter(|(named, target)| !named.is_empty() && !target.is_empty())
            }
            ExistingPurpose::Cancel | ExistingPurpose::Check | ExistingPurpose::Again => None,
        };
        let kind = services_of_kind(&u.tokens, &self.config.catalog.services);
        let (named_when, target) = match parts {
            Some((named, target)) => (named, Some(target)),
            None => (u.when, None),
        };
        let picked = offered_choice(u.choice.as_ref(), "appt_", &s.offered).or_else(|| {
            // Named by service or by date.
            let hits: Vec<AppointmentSummary> = s
                .offered
                .iter()
                .filter(|a| {
                    u.service.is_some_and(|sv| sv == a.service_id)
                        || (u.service.is_none() && kind.contains(&a.service_id))
                        || named_when
                            .date
                            .is_some_and(|d| a.start.with_timezone(&tz).date_naive() == d)
                })
                .copied()
                .collect();
            (hits.len() == 1).then(|| hits[0])
        });
        if let Some(ap) = picked {
            // "the one on friday, can it be earlier? 10am": the day names
            // it, the rest is the new time.
            let local = ap.start.with_timezone(&tz);
            let fresh = When {
                date: u.when.date.filter(|d| *d != local.date_naive()),
                time: u.when.time.filter(|t| *t != local.time()),
                part: u.when.part,
            };
            let fresh = target.unwrap_or(fresh);
            let when = match s.purpose {
                ExistingPurpose::Reschedule => fresh.or(s.when),
                ExistingPurpose::Cancel | ExistingPurpose::Check | ExistingPurpose::Again => s.when,
            };
            let (_, swap_now) = match s.purpose {
                ExistingPurpose::Reschedule => self.swap_parts(u),
                ExistingPurpose::Cancel | ExistingPurpose::Check | ExistingPurpose::Again => {
                    (None, None)
                }
            };
            let swap_to = swap_now.filter(|sv| *sv != ap.service_id).or(s.swap_to);
            let same = s.same_time || same_time(&u.tokens);
            let shift = s.shift.or(u.shift);
            self.existing_chosen(s.purpose, when, same, shift, swap_to, ap);
            return true;
        }
        // "both" / "zote" when cancelling two or three.
        if s.purpose == ExistingPurpose::Cancel
            && (2..=3).contains(&s.offered.len())
            && u.tokens
                .has_any(&["both", "all", "zote", "yote", "all of them", "both of them"])
        {
            self.confirm_cancel_all(s.offered.clone(), u.assent == Assent::Yes);
            return true;
        }
        if u.intents.contains(Intent::No) {
            self.say(Msg::NothingChanged.text(self.state.lang));
            self.state.step = Step::Idle;
            return true;
        }
        self.say(Msg::WhichAppointment.text(self.state.lang));
        self.state.step = Step::ChooseAppointment(s);
        false
    }

    pub(super) fn confirm_cancel(&mut self, u: &Understood, ap: AppointmentSummary) -> bool {
        // "hapana usifute", "no don't cancel it": a refusal wins; "yes
        // cancel it" is a yes here even though "cancel" refuses elsewhere.
        // "sitaki kufuta", "sijasema nifute", "instead of cancelling can I
        // come Saturday?": the word is there, the wish is not.
        let negated = u.tokens.has_any(&[
            "sitaki kufuta",
            "sitaki ifutwe",
            "sitaki uifute",
            "sijasema",
            "sikusema",
            "instead of cancel",
            "instead of cancelling",
            "rather than cancel",
            "rather than cancelling",
            "badala ya kufuta",
            "badala ya kuifuta",
            "not to cancel",
        ]);
        let says_cancel = u.intents.contains(Intent::Cancel) && !negated;
        // "If I cancel will I be charged?", "nikifuta nitalipa?": a question.
        let first = u.tokens.words().first().map(String::as_str).unwrap_or("");
        let asks = (!says_cancel && u.intents.question().is_some())
            || matches!(
                first,
                "if" | "is" | "does" | "kama" | "je" | "nikifuta" | "nikicancel" | "ikiwa"
            );
        let leading_yes = assent(&Tokens::from_words(vec![first.to_owned()])) == Assent::Yes;
        let keep_it = negated
            || u.tokens.has_any(&[
                "don t cancel",
                "dont cancel",
                "do not cancel",
                "not cancel",
                "no need to cancel",
                "keep it",
                "usifute",
                "msifute",
                "usiifute",
                "usighairi",
                "iache",
                "iache tu",
                "ibaki",
                "wacha ibaki",
                "i ll come",
                "i will come",
                "nitakuja",
            ]);
        // "inawezekana saa kumi na moja?", "tuweke saturday morning",
        // "instead of cancelling can I come Saturday?": another time moves it.
        let local = ap.start.with_timezone(&self.config.tz);
        let other_time = u.when.date.is_some_and(|d| d != local.date_naive())
            || u.when.time.is_some_and(|t| t != local.time())
            || (u.when.part.is_some() && u.when.date.is_none() && u.when.time.is_none());
        if !says_cancel && other_time {
            let when = When {
                date: u.when.date.or(Some(local.date_naive())),
                ..u.when
            };
            self.search(Purpose::Move(ap), ap.service_id, u.staff, when, false);
            return true;
        }
        if asks {
            self.answer_topics(&[Topic::Cancellation], u, Step::ConfirmCancel(ap), None);
            return true;
        }
        // "Ndio ifute, nitawapigia baadaye": a yes with the word of
        // cancelling is a cancel whatever is said of later.
        let refuses = keep_it
            || (u.assent == Assent::Hesitant && !(leading_yes && says_cancel))
            || (Self::is_no(u) && !says_cancel);
        if !refuses && (Self::is_yes(u) || says_cancel) {
            // "ndio. then nataka cornrows badala yake": another service
            // asked for in the same breath is booked after the cancel.
            let other_service = u
                .services
                .iter()
                .copied()
                .chain(u.service)
                .any(|s| s != ap.service_id);
            self.state.after_write = other_service.then(|| u.tokens.words().join(" "));
            self.act(Action::Cancel {
                appointment_id: ap.id,
            });
            self.state.step = Step::AwaitCancel(ap);
            return true;
        }
        if Self::is_no(u) {
            self.state.cancel_queue.clear();
            self.say(Msg::AppointmentKept.text(self.state.lang));
            self.state.step = Step::Idle;
            return true;
        }
        self.say(Msg::ConfirmCancelAgain.text(self.state.lang));
        self.yes_no_choices();
        self.state.step = Step::ConfirmCancel(ap);
        false
    }

    pub(super) fn on_cancelled(
        &mut self,
        ap: AppointmentSummary,
        result: Result<Uuid, WriteFailure>,
    ) {
        let lang = self.state.lang;
        match result {
            Ok(_) => {
                if self.state.just_booked == Some(ap.id) {
                    self.state.just_booked = None;
                }
                let what = self.describe(&ap);
                let mut text = match lang {
                    Lang::En => format!("Your {what} is cancelled."),
                    Lang::Sw => format!("{what} imefutwa."),
                };
                match self.config.personality.cancellation_tone {
                    CancellationTone::Understanding => {
                        text.push_str(&Msg::CancelledUnderstanding.text(lang))
                    }
                    CancellationTone::Neutral => {}
                    CancellationTone::Firm => text.push_str(&Msg::CancelledFirm.text(lang)),
                }
                self.say(text);
            }
            Err(_) => self.say(Msg::CancelFailed.text(lang)),
        }
        if !self.state.cancel_queue.is_empty() {
            let next = self.state.cancel_queue.remove(0);
            self.act(Action::Cancel {
                appointment_id: next.id,
            });
            self.state.step = Step::AwaitCancel(next);
            return;
        }
        self.state.step = Step::Idle;
        self.continue_after_write(result.is_ok(), ap.start);
    }

    /// "Cancel both": one question for all of them, or at once when the
    /// customer has already said yes to it.
    pub(super) fn confirm_cancel_all(&mut self, mut all: Vec<AppointmentSummary>, said_yes: bool) {
        let first = all.remove(0);
        self.state.cancel_queue = all;
        if said_yes {
            self.act(Action::Cancel {
                appointment_id: first.id,
            });
            self.state.step = Step::AwaitCancel(first);
            return;
        }
        let mut list = vec![self.describe(&first)];
        list.extend(self.state.cancel_queue.iter().map(|a| self.describe(a)));
        self.say(match self.state.lang {
            Lang::En => format!("Cancel all of these: {}?", list.join("; ")),
            Lang::Sw => format!("Nifute zote hizi: {}?", list.join("; ")),
        });
        self.yes_no_choices();
        self.state.step = Step::ConfirmCancel(first);
    }

    /// "nina booking ya relaxer jumamosi … nataka kuongeza manicure baada
    /// ya hiyo": `service` booked from the end of `ap`, the same day.
    /// A time the customer gave for it ("can I also do my eyebrows the same
    /// day at 11?") wins when it is after the booking's end.
    pub(super) fn book_after(
        &mut self,
        ap: AppointmentSummary,
        service: Uuid,
        asked: Option<NaiveTime>,
    ) {
        let end = ap.end.with_timezone(&self.config.tz);
        self.state.plan = Plan::default();
        // Right after: the end on the booking grid (a 45-minute manicure
        // from 14:00 is followed at 15:00, leaving its buffer).
        let step = i64::from(self.config.slot_step_min.max(5));
        let minutes = i64::from(chrono::Timelike::num_seconds_from_midnight(&end.time()) / 60);
        let on_grid = NaiveTime::from_num_seconds_from_midnight_opt(
            u32::try_from((minutes + step - 1) / step * step * 60).unwrap_or(0),
            0,
        )
        .filter(|t| *t >= end.time())
        .unwrap_or(end.time());
        let when = When {
            date: Some(end.date_naive()),
            time: Some(asked.filter(|t| *t >= end.time()).unwrap_or(on_grid)),
            part: None,
        };
        self.search(Purpose::New, service, None, when, false);
    }

    pub(super) fn ask_new_time(&mut self, u: &Understood, s: AskNewTime) -> bool {
        // "nataka kuongeza manicure baada ya hiyo": another service after
        // it, the booking itself kept.
        let other = u
            .services
            .iter()
            .copied()
            .chain(u.service)
            .find(|sv| *sv != s.appointment.service_id);
        if let Some(add) = other.filter(|_| adds_after(&u.tokens)) {
            self.book_after(s.appointment, add, u.when.time);
            return true;
        }
        // "badala ya pedicure nifanyiwe manicure saa ile ile": another
        // service in its place.
        let (_, swap_to) = self.swap_parts(u);
        if let Some(service) = swap_to.filter(|sv| *sv != s.appointment.service_id) {
            let local = s.appointment.start.with_timezone(&self.config.tz);
            let when = When {
                date: u.when.date.or(Some(local.date_naive())),
                time: u.when.time.or(Some(local.time())),
                part: None,
            };
            self.search(Purpose::Move(s.appointment), service, u.staff, when, false);
            return true;
        }
        if let Some(minutes) = u.shift {
            let local = s.appointment.start.with_timezone(&self.config.tz);
            let when = moved_by(local, minutes, u.when.date);
            let service = s.appointment.service_id;
            self.search(Purpose::Move(s.appointment), service, u.staff, when, false);
            return true;
        }
        if !u.when.is_empty() || same_time(&u.tokens) {
            let local = s.appointment.start.with_timezone(&self.config.tz);
            let keep_time =
                same_time(&u.tokens) || (u.when.time.is_none() && u.when.part.is_none());
            // "next week, same day": a week after the appointment.
            let next_week =
                says_next_week(&u.tokens).then(|| local.date_naive() + Duration::days(7));
            let when = When {
                date: u.when.date.or(next_week).or(Some(local.date_naive())),
                time: u.when.time.or(keep_time.then(|| local.time())),
                part: u.when.part,
            };
            self.search(
                Purpose::Move(s.appointment),
                s.appointment.service_id,
                u.staff,
                when,
                false,
            );
            return true;
        }
        if u.intents.contains(Intent::No) {
            self.say(Msg::AppointmentKept.text(self.state.lang));
            self.state.step = Step::Idle;
            return true;
        }
        self.say(Msg::AskNewTime.text(self.state.lang));
        self.state.step = Step::AskNewTime(s);
        false
    }

    pub(super) fn on_rescheduled(
        &mut self,
        c: ConfirmSlot,
        result: Result<AppointmentSummary, WriteFailure>,
    ) {
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
                self.say(Msg::MoveFailed.text(lang));
                self.state.step = Step::Idle;
            }
        }
    }
}

impl Dialog<'_> {
    /// "Same as last time": the service of the latest past appointment, at
    /// the day and time asked for (with the same person when asked: "na
    /// yule yule", "same stylist"); without one, which service.
    pub(super) fn book_again(
        &mut self,
        when: When,
        same_staff: bool,
        last: Option<AppointmentSummary>,
    ) {
        let Some(last) = last else {
            let lang = self.state.lang;
            self.say(Msg::WhichService.text(lang));
            let offered: Vec<Uuid> = self.config.catalog.services.iter().map(|s| s.id).collect();
            self.offer_services(&offered);
            self.state.step = Step::ChooseService(ChooseService {
                when,
                staff: None,
                offered,
                together: false,
            });
            return;
        };
        let staff = same_staff.then_some(last.staff_id);
        let party = self.state.plan.party.max(1);
        if let Some(service) = self.plan_services(&[last.service_id], party) {
            self.search(Purpose::New, service, staff, when, false);
        }
    }
}

/// "add eyebrows after the braids", "kuongeza manicure baada ya hiyo",
/// "can I also do": another service next to a booking they have.
pub(super) fn adds_after(tokens: &Tokens) -> bool {
    tokens.has_any(&[
        "add",
        "ongeza",
        "kuongeza",
        "niongezee",
        "tuongeze",
        "also",
        "pia",
        "plus",
        "as well",
    ])
}

/// A turn with two days or two times and no word marking either as the
/// new one: the first names the booking, the last said is the new one.
fn two_whens(tokens: &Tokens, now: DateTime<Utc>, tz: Tz) -> Option<(When, When)> {
    let words = tokens.words();
    let k = (1..words.len()).rev().find(|&k| {
        let w = parse_when(&Tokens::from_words(words[k..].to_vec()), now, tz);
        w.time.is_some() || w.date.is_some()
    })?;
    let first = parse_when(&Tokens::from_words(words[..k].to_vec()), now, tz);
    let last = parse_when(&Tokens::from_words(words[k..].to_vec()), now, tz);
    let two_times = first.time.is_some() && last.time.is_some() && first.time != last.time;
    let two_days = first.date.is_some() && last.date.is_some() && first.date != last.date;
    (two_times || two_days).then_some((first, last))
}

/// Services said to stay ("haircut yangu ibaki", "manicure ibaki", "keep
/// the manicure", "the pedicure stays"): named just before a word of
/// staying, or up to three words after "keep".
fn kept_services(tokens: &Tokens, services: &[ServiceInfo]) -> Vec<Uuid> {
    let words = tokens.words();
    let mut kept = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let span = match w.as_str() {
            "ibaki" | "ibakie" | "zibaki" | "zibakie" | "stays" | "stay" | "remain" | "remains" => {
                // The nearest service before it ("haircut yangu ibaki").
                let one = &words[i.saturating_sub(1)..i];
                if match_services(&Tokens::from_words(one.to_vec()), services).is_empty() {
                    &words[i.saturating_sub(2)..i]
                } else {
                    one
                }
            }
            "keep" => &words[i + 1..words.len().min(i + 4)],
            _ => continue,
        };
        kept.extend(
            match_services(&Tokens::from_words(span.to_vec()), services)
                .into_iter()
                .map(|(id, _)| id),
        );
    }
    kept
}

/// "i need my gel nails earlier, can we do wednesday 6th": words asking for
/// their booking at another time (the time said is the new one).
pub(super) fn wants_it_moved(tokens: &Tokens) -> bool {
    tokens.has_any(&[
        "earlier",
        "later",
        "mapema zaidi",
        "baadaye",
        "can we do",
        "can it be",
    ])
}
