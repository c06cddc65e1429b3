//! A change said at the confirmation instead of a yes: another day, time,
//! staff member or service, a service dropped or added, "only these".

use super::new_booking::adds_another;
use super::*;

impl Dialog<'_> {
    /// "saa nne asubuhi" when 10:00 is proposed: the proposal said back,
    /// neither a yes nor a change.
    pub(super) fn names_the_proposal(&self, u: &Understood, c: &ConfirmSlot) -> bool {
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
    pub(super) fn when_at_confirm(&self, u: &Understood, local: DateTime<Tz>) -> When {
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
    pub(super) fn change_at_confirm(&mut self, u: &Understood, c: &ConfirmSlot) -> Option<bool> {
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
