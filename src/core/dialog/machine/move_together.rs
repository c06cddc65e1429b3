//! Several of the customer's bookings moved together ("zile zangu za
//! ijumaa zote tushift next wk ijumaa same time", "move both my thursday
//! appointments to friday"): one confirmation names them all, the first
//! moves as asked and the others by as much, one write after another,
//! without asking again where they land as agreed ([`MoveRest`]).

use super::*;

impl Dialog<'_> {
    /// Starts moving `list` (two or three) as `a` asks: the earliest first.
    pub(super) fn move_together(&mut self, a: &AwaitUpcoming, mut list: Vec<AppointmentSummary>) {
        list.sort_by_key(|ap| ap.start);
        let first = list.remove(0);
        self.state.move_rest = MoveRest {
            queue: list,
            first: Some(first.id),
            ..MoveRest::default()
        };
        self.existing_chosen(a.purpose, a.when, a.same_time, a.shift, None, first);
    }

    /// `old` was moved to `moved`: the next of those moved together, by as
    /// much. False when `old` carried none.
    pub(super) fn move_next_together(
        &mut self,
        old: AppointmentSummary,
        moved: AppointmentSummary,
    ) -> bool {
        if !self.state.move_rest.leads(old.id) {
            return false;
        }
        let rest = &mut self.state.move_rest;
        if rest.done.is_empty() {
            rest.by_min = (moved.start - old.start).num_minutes();
        }
        rest.done.push(moved);
        let next = rest.queue.remove(0);
        rest.agreed = Some(next.id);
        let to = next.start.with_timezone(&self.config.tz) + Duration::minutes(rest.by_min);
        let when = When {
            date: Some(to.date_naive()),
            time: Some(to.time()),
            part: None,
        };
        self.search(Purpose::Move(next), next.service_id, None, when, false);
        true
    }

    /// "aah ngoja, facial pekee. haircut ibaki alhamisi" while several are
    /// to move together: only those, moved by as much as proposed.
    pub(super) fn narrow_moved_together(
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
    pub(super) fn moved_with_it(&self, first: &AppointmentSummary, to: DateTime<Utc>) -> String {
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
                let name = self.service_name(ap.service_id, lang);
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
}
