//! A new time for their appointment (asked for, then written), or another
//! service added right after it.

use super::*;

impl Dialog<'_> {
    /// "nina booking ya relaxer jumamosi … nataka kuongeza manicure baada
    /// ya hiyo": `service` booked from the end of `ap`, the same day.
    /// A time the customer gave for it ("can I also do my eyebrows the same
    /// day at 11?") wins when it is after the booking's end.
    pub(super) fn book_after(
        &mut self,
        ap: AppointmentSummary,
        service: Uuid,
        asked: Option<NaiveTime>,
        before: bool,
    ) {
        let end = ap.end.with_timezone(&self.config.tz);
        self.state.plan = Plan::default();
        // "can it be before the manicure then" when that time is not free.
        self.state.reminded = Some(ap.id);
        // Right before: ending by its start, with no turnover between one
        // customer's services ("can i add a haircut before my nails tmrw?
        // like 12?": 12:00 when it fits; "add a wash and set before my
        // haircut on friday, at 10").
        if before {
            let start = ap.start.with_timezone(&self.config.tz);
            let duration = self
                .config
                .catalog
                .service(service)
                .map_or(0, |s| i64::from(s.duration_min));
            let latest = (start - Duration::minutes(duration)).time();
            let when = When {
                date: Some(start.date_naive()),
                time: Some(asked.filter(|t| *t <= latest).unwrap_or(latest)),
                part: None,
            };
            self.search(Purpose::New, service, None, when, false);
            return;
        }
        // Right after: at its end (a 45-minute manicure from 14:00 is
        // followed at 14:45; no turnover between one customer's services).
        let when = When {
            date: Some(end.date_naive()),
            time: Some(asked.filter(|t| *t >= end.time()).unwrap_or(end.time())),
            part: None,
        };
        self.search(Purpose::New, service, None, when, false);
    }

    /// Someone else's `service` at the start of `ap`, with another staff
    /// member ("can my sister come at the same time for a wash n set").
    pub(super) fn book_with(&mut self, ap: AppointmentSummary, service: Uuid) {
        let start = ap.start.with_timezone(&self.config.tz);
        self.state.plan = Plan::default();
        // "then right after mine" when that start is not free.
        self.state.reminded = Some(ap.id);
        let when = When {
            date: Some(start.date_naive()),
            time: Some(start.time()),
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
            self.book_after(s.appointment, add, u.when.time, adds_before(&u.tokens));
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
        // "from friday to saturday same time": the day after "to".
        let now = self.state.now.unwrap_or_default();
        let said = move_parts(&u.tokens, now, self.config.tz)
            .map(|(_, new)| new)
            .filter(|new| !new.is_empty())
            .unwrap_or(u.when);
        let u = &Understood {
            when: said,
            ..u.clone()
        };
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
                if let Purpose::Move(old) = c.purpose
                    && self.move_next_together(old, ap)
                {
                    return;
                }
                let mut moved = std::mem::take(&mut self.state.move_rest).done;
                moved.push(ap);
                let what: Vec<String> = moved.iter().map(|ap| self.describe(ap)).collect();
                let what = what.join("; ");
                self.say(match lang {
                    Lang::En => format!("Done! Your appointment is moved: {what}."),
                    Lang::Sw => format!("Tayari! Miadi yako imehamishwa: {what}."),
                });
                self.state.step = Step::Idle;
                // "… and add a manicure after it": after the one moved.
                if self.state.after_write.is_some() {
                    self.state.reminded = Some(ap.id);
                    self.continue_after_write(true, ap.start);
                }
            }
            Err(WriteFailure::SlotTaken) => self.search_again_near(&c),
            Err(_) => {
                self.state.after_write = None;
                self.say(Msg::MoveFailed.text(lang));
                self.state.step = Step::Idle;
            }
        }
    }
}

/// "add eyebrows after the braids", "kuongeza manicure baada ya hiyo",
/// Where a service added beside one of theirs goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Beside {
    After,
    Before,
    /// Someone else's, at the same start.
    With,
}

impl Beside {
    pub(super) fn after_or_before(tokens: &Tokens) -> Self {
        if adds_before(tokens) {
            Beside::Before
        } else {
            Beside::After
        }
    }
}

/// "can I also do": another service next to a booking they have.
/// "right before it", "before my nails", "kabla ya": the one added goes
/// before theirs.
pub(super) fn adds_before(tokens: &Tokens) -> bool {
    tokens.has_any(&[
        "before it",
        "before my",
        "right before",
        "just before",
        "kabla ya",
    ])
}

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
