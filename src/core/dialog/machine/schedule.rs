//! Who works when, from the staff's weekly hours: "Is Achieng in on
//! Monday?", "Brian yuko jumamosi?" (whether a staff member works on the
//! day asked, and which days and hours they work), "what are your hours on
//! Sunday?" (from the first to the last hour anyone works), "do you do
//! facials on Sundays?" (who does it that day).

use chrono::{NaiveDate, Weekday};

use super::*;
use crate::core::booking::WeeklyWindow;
use crate::core::dialog::when::alternative_when;

impl Dialog<'_> {
    pub(super) fn say_staff_days(&mut self, staff: Option<Uuid>, day: Option<NaiveDate>) {
        let lang = self.state.lang;
        let Some(person) = staff.and_then(|id| self.config.catalog.staff_member(id)) else {
            return;
        };
        let who = person.first_name();
        let schedule = week(lang, &person.weekly);
        let line = match day {
            Some(day) => {
                let date = say::date(lang, day);
                match (lang, person.hours_on(day)) {
                    (Lang::En, Some(w)) => format!(
                        "Yes, {who} is in on {date}, {} to {}.",
                        say::time(lang, w.start),
                        say::time(lang, w.end)
                    ),
                    (Lang::Sw, Some(w)) => format!(
                        "Ndiyo, {who} yupo {date}, kuanzia {} hadi {}.",
                        say::time(lang, w.start),
                        say::time(lang, w.end)
                    ),
                    (Lang::En, None) => {
                        format!("{who} is not in on {date}; {who} works {schedule}.")
                    }
                    (Lang::Sw, None) => {
                        format!("{who} hayupo {date}; {who} hufanya kazi {schedule}.")
                    }
                }
            }
            None => match lang {
                Lang::En => format!("{who} works {schedule}."),
                Lang::Sw => format!("{who} hufanya kazi {schedule}."),
            },
        };
        self.say(line);
    }

    /// "what time do you close on thursday?": the hours appointments can
    /// be had on that day (nothing on a public holiday: the booking says
    /// it is closed).
    pub(super) fn say_day_hours(&mut self, day: NaiveDate) {
        if crate::core::booking::holidays::kenyan_holiday(day).is_some() {
            return;
        }
        let lang = self.state.lang;
        let windows = || {
            self.config
                .catalog
                .staff
                .iter()
                .filter_map(|p| p.hours_on(day))
        };
        let from = windows().map(|w| w.start).min();
        let to = windows().map(|w| w.end).max();
        let date = say::date(lang, day);
        let line = match (lang, from.zip(to)) {
            (Lang::En, Some((from, to))) => format!(
                "On {date}, appointments are from {} to {}.",
                say::time(lang, from),
                say::time(lang, to)
            ),
            (Lang::Sw, Some((from, to))) => format!(
                "{date}, miadi ni kuanzia {} hadi {}.",
                say::time(lang, from),
                say::time(lang, to)
            ),
            (Lang::En, None) => format!("There are no appointments on {date}."),
            (Lang::Sw, None) => format!("Hakuna miadi {date}."),
        };
        self.say(line);
    }

    /// "do you do retwists on sundays? if not is saturday 4pm free?": the
    /// second day when nobody does the service on the first.
    pub(super) fn day_someone_works(&self, u: &mut Understood, now: DateTime<Utc>) {
        let Some((first, alt)) = alternative_when(&u.tokens, now, self.config.tz) else {
            return;
        };
        let (Some(service), Some(day)) = (u.services.first().copied().or(u.service), first.date)
        else {
            return;
        };
        let mut doers = self
            .config
            .catalog
            .staff
            .iter()
            .filter(|p| p.services.contains(&service) && !p.weekly.is_empty())
            .peekable();
        if doers.peek().is_some() && doers.all(|p| p.hours_on(day).is_none()) {
            u.when = alt;
        }
    }

    /// "Do you do facials on Sundays?": who does it that day, and when.
    pub(super) fn say_service_day(&mut self, service: Uuid, day: NaiveDate) {
        let lang = self.state.lang;
        let catalog = &self.config.catalog;
        let Some(name) = catalog
            .service(service)
            .map(|s| s.display_name(lang).to_owned())
        else {
            return;
        };
        let date = say::date(lang, day);
        let who: Vec<String> = catalog
            .staff
            .iter()
            .filter(|p| p.services.contains(&service))
            .filter_map(|p| {
                let w = p.hours_on(day)?;
                Some(format!("{} ({})", p.first_name(), hours(Lang::En, w)))
            })
            .collect();
        let closed = crate::core::booking::holidays::kenyan_holiday(day).is_some()
            && !self.config.open_on_holidays;
        let line = match (lang, who.is_empty() || closed) {
            (Lang::En, false) => format!(
                "Yes, {name} is done on {date} by {}.",
                say::list(lang, &who)
            ),
            (Lang::Sw, false) => format!(
                "Ndiyo, {name} hufanywa {date} na {}.",
                say::list(lang, &who)
            ),
            (Lang::En, true) => format!("Sorry, nobody does {name} on {date}."),
            (Lang::Sw, true) => format!("Samahani, hakuna anayefanya {name} {date}."),
        };
        self.say(line);
    }
}

/// "09:00-18:00" / "saa 3:00 asubuhi (09:00) hadi saa 12:00 jioni (18:00)".
fn hours(lang: Lang, w: &WeeklyWindow) -> String {
    let (from, to) = (say::time(lang, w.start), say::time(lang, w.end));
    match lang {
        Lang::En => format!("{from}-{to}"),
        Lang::Sw => format!("{from} hadi {to}"),
    }
}

/// "Tuesday to Saturday 09:00-18:00 and Sunday 10:00-16:00": runs of
/// days with the same hours, Monday first.
fn week(lang: Lang, weekly: &[WeeklyWindow]) -> String {
    let mut runs: Vec<(u8, u8, &WeeklyWindow)> = Vec::new();
    for d in 0..7u8 {
        let Some(w) = weekly.iter().find(|w| w.is_available && w.day_of_week == d) else {
            continue;
        };
        match runs.last_mut() {
            Some((_, last, run)) if *last + 1 == d && run.start == w.start && run.end == w.end => {
                *last = d;
            }
            _ => runs.push((d, d, w)),
        }
    }
    let parts: Vec<String> = runs
        .iter()
        .map(|&(first, last, w)| {
            let days = if first == last {
                day_name(lang, first).to_owned()
            } else {
                let to = match lang {
                    Lang::En => "to",
                    Lang::Sw => "hadi",
                };
                format!("{} {to} {}", day_name(lang, first), day_name(lang, last))
            };
            match lang {
                Lang::En => format!("{days} {}", hours(lang, w)),
                Lang::Sw => format!("{days}, {}", hours(lang, w)),
            }
        })
        .collect();
    say::list(lang, &parts)
}

fn day_name(lang: Lang, d: u8) -> &'static str {
    let w = Weekday::try_from(d).unwrap_or(Weekday::Mon);
    say::weekday_name(lang, w, false)
}
