//! "Will I be done before 12:30? I have a meeting", "I need to be out by
//! 1pm", "nimalize kabla ya saa sita": a time the booking must end by.
//! What is proposed and ends in time is said to; otherwise the latest start
//! on the booking grid that ends in time is asked for instead.

use super::*;

impl Dialog<'_> {
    /// The service a turn that says when the customer must be done is
    /// about: the one it names, else the one under discussion.
    fn done_by_service(&self, u: &Understood, step: &Step) -> Option<Uuid> {
        u.services
            .first()
            .copied()
            .or(u.service)
            .or_else(|| current_service(step))
            .or_else(|| self.state.context.services.first().copied())
    }

    /// The local end of what the confirmation proposes (the last of a
    /// plan's items).
    fn proposed_end(&self, c: &ConfirmSlot) -> DateTime<Tz> {
        self.plan_items(c.service, c.slot)
            .iter()
            .map(|i| i.slot.end)
            .max()
            .unwrap_or(c.slot.end)
            .with_timezone(&self.config.tz)
    }

    /// A start that ends by `u.done_by` put in the turn's time, unless what
    /// is proposed already ends by then or the turn names a start itself.
    pub(super) fn fit_to_done_by(&self, u: &mut Understood, step: &Step) {
        let Some(by) = u.done_by else { return };
        if u.when.time.is_some() {
            return;
        }
        if let Step::ConfirmSlot(c) = step
            && u.when.date.is_none()
            && self.proposed_end(c).time() <= by
        {
            return;
        }
        let Some(service) = self
            .done_by_service(u, step)
            .and_then(|id| self.config.catalog.service(id))
        else {
            return;
        };
        let latest = by - Duration::minutes(i64::from(service.duration_min));
        // On the booking grid, never later than it must be.
        u.when.time = Some(self.config.on_grid(latest));
    }

    /// "Will I be done before 12:30?" at a confirmation that ends by then:
    /// yes, said with the end, and the question asked again.
    pub(super) fn says_done_in_time(&mut self, u: &Understood, step: &Step) -> bool {
        let (Some(by), Step::ConfirmSlot(c)) = (u.done_by, step) else {
            return false;
        };
        if u.when.time.is_some() || u.when.date.is_some() {
            return false;
        }
        let end = self.proposed_end(c);
        if end.time() > by {
            return false;
        }
        let lang = self.state.lang;
        let end = say::time(lang, end.time());
        self.say(match lang {
            Lang::En => format!("Yes, you would be done by {end}. Shall I book it?"),
            Lang::Sw => format!("Ndiyo, utakuwa umemaliza kufikia {end}. Nikuwekee?"),
        });
        self.yes_no_choices();
        self.state.step = step.clone();
        true
    }
}
