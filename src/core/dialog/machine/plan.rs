//! Several services in one request: "manicure and pedicure" (one person,
//! back to back), "braids for me and cornrows for my daughter" or "facial
//! for me and my friend" (several people at the same time, different
//! staff). The first service goes through the ordinary flow (the customer
//! may pick its time); each further one is placed without asking, right
//! after the previous one or at the same time, and one confirmation lists
//! every item with one total. On "yes" the items are written one by one.

use super::reading::Clause;
use super::*;

impl Dialog<'_> {
    /// Starts a plan for a request that named `named` (in order) for
    /// `party` people; returns the first service to search for.
    /// A request split into two parts each with its own day or time
    /// ([`Self::split_by_day`]): one plan, the second part's services at
    /// its own day and time.
    pub(super) fn book_clauses(&mut self, u: &Understood, first: Clause, second: Clause) {
        self.start_booking(
            &Understood {
                services: [first.services.clone(), second.services.clone()].concat(),
                ..u.clone()
            },
            first.when,
            first.staff.or(u.staff),
        );
        let own = |s: &Uuid| {
            if second.services.contains(s) {
                second.when
            } else {
                When::default()
            }
        };
        self.state.plan.rest_when = self.state.plan.rest.iter().map(own).collect();
    }

    pub(super) fn plan_services(&mut self, named: &[Uuid], party: u8) -> Option<Uuid> {
        let first = *named.first()?;
        let party = party.max(1);
        let mut rest: Vec<Uuid> = named[1..].to_vec();
        let together = party >= 2;
        if together && rest.is_empty() {
            rest = vec![first; usize::from(party - 1)];
        }
        self.state.plan = Plan {
            rest,
            together,
            party,
            ..Plan::default()
        };
        Some(first)
    }

    /// For a new booking whose plan has services left: keeps `slot` for
    /// `service` and searches for the next one. False when nothing is left
    /// to place (the caller confirms).
    pub(super) fn place_and_continue(
        &mut self,
        service: Uuid,
        staff: Option<Uuid>,
        slot: Slot,
    ) -> bool {
        if self.state.plan.rest.is_empty() {
            return false;
        }
        let tz = self.config.tz;
        self.state.plan.placed.push(Item { service, slot });
        let next = self.state.plan.rest.remove(0);
        let own = if self.state.plan.rest_when.is_empty() {
            When::default()
        } else {
            self.state.plan.rest_when.remove(0)
        };
        // Its own day (and time) when the customer gave one: the first
        // free start from then on that day.
        // A time of its own without a day is on the day of the one before.
        let own_date = own
            .date
            .or_else(|| own.time.map(|_| slot.start.with_timezone(&tz).date_naive()));
        let own_start =
            own_date.and_then(|d| local_instant(tz, d, own.time.unwrap_or(NaiveTime::MIN)));
        let target = match own_start {
            Some(start) => start,
            None if self.state.plan.together => slot.start,
            None => slot.end,
        };
        self.state.plan.target = Some(target);
        let date = target.with_timezone(&tz).date_naive();
        // "can Brian do my cut and then brows": one person's services with
        // the one asked for, when they do it and are free (else anyone).
        let staff = staff.filter(|_| !self.state.plan.together);
        // One person's next service may start right at the end of the last
        // (off the booking grid): no turnover between them.
        let at_end = (!self.state.plan.together && own_start.is_none())
            .then(|| target.with_timezone(&tz).time());
        self.search(
            Purpose::New,
            next,
            staff,
            When {
                date: Some(date),
                time: own.time.or(at_end),
                part: None,
            },
            false,
        );
        true
    }

    /// Of several people free at the same start, the one the rest of a
    /// plan for several people needs least ("bridal hair for me and
    /// cornrows for my two bridesmaids": the bride's stylist should be one
    /// who does no cornrows, so both cornrows fit at the same time).
    pub(super) fn least_needed(&self, candidates: &[Slot]) -> Option<Slot> {
        let plan = &self.state.plan;
        let needed = |s: &Slot| {
            if !plan.together {
                return 0;
            }
            self.config.catalog.staff_member(s.staff_id).map_or(0, |p| {
                plan.rest
                    .iter()
                    .filter(|r| p.services.is_empty() || p.services.contains(r))
                    .count()
            })
        };
        candidates.iter().copied().min_by_key(needed)
    }

    /// Free times for a further service of the plan: take the one that fits
    /// (same start with another staff member, or the first start after the
    /// previous service on the same day).
    pub(super) fn place_next(&mut self, a: AwaitSlots, slots: Vec<Slot>, target: DateTime<Utc>) {
        let tz = self.config.tz;
        let catalog = &self.config.catalog;
        let buffer = |service: Uuid| {
            Duration::minutes(i64::from(
                catalog.service(service).map_or(0, |s| s.buffer_min),
            ))
        };
        let placed = &self.state.plan.placed;
        // One person's services follow each other with no turnover; several
        // people's keep it.
        let together = self.state.plan.together;
        let turnover = |service: Uuid| {
            if together {
                buffer(service)
            } else {
                Duration::zero()
            }
        };
        let busy = |s: &Slot| {
            placed.iter().any(|p| {
                p.slot.staff_id == s.staff_id
                    && s.start < p.slot.end + turnover(p.service)
                    && p.slot.start < s.end + turnover(a.service)
            })
        };
        let day = target.with_timezone(&tz).date_naive();
        let after = |from: DateTime<Utc>| {
            slots
                .iter()
                .filter(|s| {
                    s.start >= from && s.start.with_timezone(&tz).date_naive() == day && !busy(s)
                })
                .min_by_key(|s| s.start)
                .copied()
        };
        let pick = if self.state.plan.together {
            let free: Vec<Slot> = slots
                .iter()
                .filter(|s| s.start == target && !busy(s))
                .copied()
                .collect();
            self.least_needed(&free)
        } else {
            after(target)
        };
        if let Some(slot) = pick {
            self.confirm(a.purpose, a.service, a.staff, a.when, slot);
            return;
        }
        // Two people, one person who does it: one after the other, said.
        let previous_end = placed.last().map(|p| p.slot.end);
        if self.state.plan.together
            && let Some(slot) = previous_end.and_then(after)
        {
            let lang = self.state.lang;
            let name = self.service_name(a.service, lang);
            self.say(match lang {
                Lang::En => {
                    format!("Nobody else is free for {name} at that same time, so one after the other:")
                }
                Lang::Sw => format!(
                    "Hakuna mwingine aliye huru kwa {name} wakati huo huo, kwa hivyo mmoja baada ya mwingine:"
                ),
            });
            self.confirm(a.purpose, a.service, a.staff, a.when, slot);
            return;
        }
        if a.staff.is_some() {
            // The one asked for does not do it or is not free then: anyone.
            self.state.plan.target = Some(target);
            self.search(a.purpose, a.service, None, a.when, a.retry);
            return;
        }
        let lang = self.state.lang;
        let name = self.service_name(a.service, lang);
        self.say(match (lang, self.state.plan.together) {
            (Lang::En, true) => format!("Sorry, nobody else is free for {name} at that same time."),
            (Lang::En, false) => format!("Sorry, {name} doesn't fit after that on the same day."),
            (Lang::Sw, true) => {
                format!("Samahani, hakuna mwingine aliye huru kwa {name} wakati huo huo.")
            }
            (Lang::Sw, false) => format!("Samahani, {name} haitoshi baada ya hapo siku hiyo."),
        });
        let mut dropped = vec![a.service];
        dropped.append(&mut self.state.plan.rest);
        self.state.plan.dropped = dropped;
        self.state.plan.rest_when.clear();
        match self.state.plan.placed.pop() {
            Some(item) => {
                let when = When {
                    date: Some(item.slot.start.with_timezone(&tz).date_naive()),
                    time: Some(item.slot.start.with_timezone(&tz).time()),
                    part: None,
                };
                self.confirm(Purpose::New, item.service, None, when, item.slot);
            }
            None => self.state.step = Step::Idle,
        }
    }

    /// Every item of the plan with `current` last.
    pub(super) fn plan_items(&self, service: Uuid, slot: Slot) -> Vec<Item> {
        let mut items = self.state.plan.placed.clone();
        items.push(Item { service, slot });
        items
    }

    /// "Shall I book them?" for several items.
    pub(super) fn confirm_plan_text(&self, items: &[Item]) -> String {
        let lang = self.state.lang;
        let tz = self.config.tz;
        let mut total = 0i64;
        let lines: Vec<String> = items
            .iter()
            .enumerate()
            .map(|(i, it)| {
                let svc = self.config.catalog.service(it.service);
                total += svc.map_or(0, |s| s.price.minor);
                let name = svc.map(|s| s.display_name(lang)).unwrap_or_default();
                let with = self.staff_first_name(it.slot.staff_id);
                let at = say::when(lang, tz, it.slot.start);
                match lang {
                    Lang::En => format!("{}. {name} with {with}, {at}", i + 1),
                    Lang::Sw => format!("{}. {name} na {with}, {at}", i + 1),
                }
            })
            .collect();
        let total = say::money(Money::kes(total));
        match lang {
            Lang::En => format!("{}. Total {total}. Shall I book them?", lines.join("; ")),
            Lang::Sw => format!("{}. Jumla {total}. Nikuwekee zote?", lines.join("; ")),
        }
    }

    /// A service's name in `lang` (empty when it is not in the catalogue).
    pub(super) fn service_name(&self, id: Uuid, lang: Lang) -> String {
        self.config
            .catalog
            .service(id)
            .map(|s| s.display_name(lang).to_owned())
            .unwrap_or_default()
    }

    pub(super) fn staff_first_name(&self, id: Uuid) -> String {
        self.config
            .catalog
            .staff_member(id)
            .map(|m| m.name.split_whitespace().next().unwrap_or("").to_owned())
            .unwrap_or_default()
    }

    /// After "yes" to several items: write the first, queue the rest.
    pub(super) fn book_plan(&mut self, c: ConfirmSlot) {
        let mut items = self.plan_items(c.service, c.slot);
        self.state.plan.placed.clear();
        let first = items.remove(0);
        self.state.plan.queue = items;
        self.book_item(&first);
        self.state.step = Step::AwaitWrite(c);
    }

    pub(super) fn book_item(&mut self, item: &Item) {
        let price = self
            .config
            .catalog
            .service(item.service)
            .map_or(Money::kes(0), |s| s.price);
        self.act(Action::Book {
            service_id: item.service,
            staff_id: item.slot.staff_id,
            start: item.slot.start,
            end: item.slot.end,
            price,
        });
    }

    /// A write of a plan's item came back: write the next, or sum up.
    pub(super) fn on_plan_booked(
        &mut self,
        c: ConfirmSlot,
        result: Result<AppointmentSummary, WriteFailure>,
    ) {
        let lang = self.state.lang;
        match result {
            Ok(appt) => self.state.plan.done.push(appt),
            Err(_) => self.say(Msg::PlanItemTaken.text(lang)),
        }
        if !self.state.plan.queue.is_empty() {
            let next = self.state.plan.queue.remove(0);
            self.book_item(&next);
            self.state.step = Step::AwaitWrite(c);
            return;
        }
        let done = std::mem::take(&mut self.state.plan.done);
        self.state.plan = Plan::default();
        self.state.context = Context::default();
        self.state.step = Step::Idle;
        if done.is_empty() {
            self.state.after_write = None;
            return;
        }
        let tz = self.config.tz;
        let mut total = 0i64;
        let lines: Vec<String> = done
            .iter()
            .map(|a| {
                let svc = self.config.catalog.service(a.service_id);
                total += svc.map_or(0, |s| s.price.minor);
                format!(
                    "{} {}",
                    svc.map(|s| s.display_name(lang)).unwrap_or_default(),
                    say::when(lang, tz, a.start)
                )
            })
            .collect();
        let total_money = Money::kes(total);
        let text = match lang {
            Lang::En => format!(
                "Done! Booked: {}. Total {}. See you then!",
                lines.join("; "),
                say::money(total_money)
            ),
            Lang::Sw => format!(
                "Tayari! Nimeweka: {}. Jumla {}. Tutaonana!",
                lines.join("; "),
                say::money(total_money)
            ),
        };
        self.say(self.toned(text));
        self.after_booking(done[0].id, total_money);
        self.continue_after_write(true, done[0].start);
    }
}
