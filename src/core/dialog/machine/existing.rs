//! An existing appointment: find it, cancel it or move it.

use super::*;
use crate::core::dialog::intent::lexicon::is_word;

impl Dialog<'_> {
    // ---- cancel and reschedule -----------------------------------------

    pub(super) fn start_existing(&mut self, purpose: ExistingPurpose, u: &Understood) {
        let (identify, when) = match purpose {
            // "cancel ile ya kucha jumamosi, ile ya kesho ibaki": the day
            // of the one kept names nothing to cancel.
            ExistingPurpose::Cancel => {
                let rest = super::cancel::without_kept(&u.tokens);
                // "cancel ALL my appointments, the sat ones and the tuesday
                // one": every day said, so no one day narrows them.
                let days: std::collections::BTreeSet<u32> = u
                    .tokens
                    .words()
                    .iter()
                    .filter_map(|w| crate::core::dialog::lexicon::weekday(w))
                    .map(|d| d.num_days_from_monday())
                    .collect();
                let identify =
                    if days.len() >= 2 && u.tokens.has_any(&["all", "both", "zote", "yote"]) {
                        When::default()
                    } else if rest.len() < u.tokens.len() {
                        parse_when(&rest, self.state.now.unwrap_or_default(), self.config.tz)
                    } else {
                        u.when
                    };
                (identify, When::default())
            }
            ExistingPurpose::Check => (u.when, When::default()),
            ExistingPurpose::Again => (When::default(), u.when),
            // "push my appointment tmrw by an hour": what is said names the
            // booking; the new time is its own, moved.
            ExistingPurpose::Reschedule if u.shift.is_some() => (u.when, When::default()),
            ExistingPurpose::Reschedule => {
                let now = self.state.now.unwrap_or_default();
                match move_parts(&u.tokens, now, self.config.tz) {
                    // "from this Sat to next Sat": a new day the same as the
                    // old is the week after it.
                    // "from this saturday to the next one, same time": the
                    // same weekday a week on.
                    Some((old, mut new))
                        if new.date.is_none()
                            && old.date.is_some()
                            && u.tokens.has_any(&[
                                "next one",
                                "following one",
                                "the one after",
                                "inayofuata",
                                "ile ijayo",
                                "next week",
                                "wiki ijayo",
                            ]) =>
                    {
                        new.date = old.date.map(|d| d + Duration::days(7));
                        (old, new)
                    }
                    Some((old, mut new))
                        if new.date.is_some()
                            && new.date == old.date
                            && u.tokens.has_any(&["next", "ijayo", "inayofuata"]) =>
                    {
                        new.date = new.date.map(|d| d + Duration::days(7));
                        (old, new)
                    }
                    Some(parts) => parts,
                    // "move my appointment to …" said without a "to": the
                    // time is the new one; "I have a manicure booked on
                    // Thursday": the time names the booking.
                    // "I can't make my 2pm today, can we do 4pm instead":
                    // of two times, the later said is new.
                    None if u.intents.contains(Intent::Reschedule) || wants_it_moved(&u.tokens) => {
                        two_whens(&u.tokens, now, self.config.tz)
                            .unwrap_or((When::default(), u.when))
                    }
                    // "niko na appointment leo saa kumi na moja, naeza kuja
                    // mapema saa nane?": two times, the later said is new.
                    None => two_whens(&u.tokens, now, self.config.tz)
                        .unwrap_or((u.when, When::default())),
                }
            }
        };
        self.state.cancel_queue.clear();
        self.state.move_rest = MoveRest::default();
        let (service, swap_to) = match purpose {
            ExistingPurpose::Reschedule => self.swap_parts(u),
            // "cancel the cornrows, haircut yangu ibaki": not the one kept.
            ExistingPurpose::Cancel => {
                let kept = super::cancel::kept_services(&u.tokens, &self.config.catalog.services);
                let named = u.services.iter().copied().chain(u.service);
                // Only the kept one named: it names nothing to cancel.
                let only_kept = !kept.is_empty() && named.clone().all(|s| kept.contains(&s));
                (
                    named
                        .clone()
                        .find(|s| !kept.contains(s))
                        .or_else(|| u.services.first().copied().or(u.service))
                        .filter(|_| !only_kept),
                    None,
                )
            }
            ExistingPurpose::Check | ExistingPurpose::Again => {
                (u.services.first().copied().or(u.service), None)
            }
        };
        // "move my wash and set to friday 10am and add a manicure after
        // it": the adding clause, once the move is written.
        if purpose == ExistingPurpose::Reschedule {
            let words = u.tokens.words();
            if let Some(from) = words
                .iter()
                .position(|w| is_word(w, "add, ongeza, kuongeza, niongezee, tuongeze"))
            {
                let rest = Tokens::from_words(words[from..].to_vec());
                let adds = services_mentioned(&rest, &self.config.catalog.services)
                    .into_iter()
                    .any(|s| Some(s) != service);
                if adds {
                    self.state.after_write = Some(rest.words().join(" "));
                }
            }
        }
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
            add_before: false,
            add_more: Vec::new(),
            add_with: false,
            // "can brian do my haircut on friday instead?"
            staff: u.staff.filter(|_| purpose == ExistingPurpose::Reschedule),
            same_time: same_time(&u.tokens),
            // "push my gel nails to the same day next week": a week on.
            shift: u.shift.or((u.tokens.has_any(&[
                "same day next week",
                "same day the following week",
                "same day the week after",
                "siku hiyo hiyo wiki ijayo",
                "siku ile ile wiki ijayo",
            ]) || (u.tokens.has_any(&[
                "same day",
                "siku hiyo hiyo",
                "siku ile ile",
            ]) && crate::core::dialog::when::says_next_week(&u.tokens)))
            .then_some(7 * 24 * 60)),
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
        // "can we make it an hour earlier pls. n the brows after it too":
        // a service added beside it is no swap.
        if named.len() >= 2
            && u.tokens
                .has_any(&["too", "also", "pia", "as well", "after it"])
        {
            named.truncate(1);
        }
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

    pub(super) fn describe(&self, ap: &AppointmentSummary) -> String {
        let lang = self.state.lang;
        let name = self.service_name(ap.service_id, lang);
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

/// "i need my gel nails earlier, can we do wednesday 6th": words asking for
/// their booking at another time (the time said is the new one).
pub(super) fn wants_it_moved(tokens: &Tokens) -> bool {
    tokens.has_any(&[
        "earlier",
        "later",
        "mapema zaidi",
        "kuja mapema",
        "baadaye",
        "can we do",
        "can it be",
    ])
}
