//! The appointment reminder sent `reminder_lead_seconds` before a confirmed
//! appointment, in the customer's language.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::core::dialog::say;
use crate::core::ids::Lang;

/// One reminder's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder<'a> {
    pub business: &'a str,
    /// The service's name in the customer's language (`None`: a service
    /// since removed).
    pub service: Option<&'a str>,
    pub staff: Option<&'a str>,
    pub start: DateTime<Utc>,
    pub tz: Tz,
}

impl Reminder<'_> {
    /// The text, ending with how to cancel or move it.
    pub fn text(&self, lang: Lang) -> String {
        let when = say::when(lang, self.tz, self.start);
        let service = self.service.unwrap_or(match lang {
            Lang::En => "appointment",
            Lang::Sw => "huduma",
        });
        match (lang, self.staff) {
            (Lang::En, Some(staff)) => format!(
                "Reminder from {}: your {} with {staff} is on {when}. Reply CANCEL to cancel it or MOVE to change the time.",
                self.business, service
            ),
            (Lang::En, None) => format!(
                "Reminder from {}: your {} is on {when}. Reply CANCEL to cancel it or MOVE to change the time.",
                self.business, service
            ),
            (Lang::Sw, Some(staff)) => format!(
                "Kikumbusho kutoka {}: miadi yako ya {} na {staff} ni {when}. Jibu CANCEL kuifuta au MOVE kubadilisha muda.",
                self.business, service
            ),
            (Lang::Sw, None) => format!(
                "Kikumbusho kutoka {}: miadi yako ya {} ni {when}. Jibu CANCEL kuifuta au MOVE kubadilisha muda.",
                self.business, service
            ),
        }
    }
}

/// Whether a confirmed appointment starting at `start` is due its reminder
/// at `now` with the tenant's lead: inside the lead, and not yet begun.
pub fn due(start: DateTime<Utc>, now: DateTime<Utc>, lead_seconds: i32) -> bool {
    start > now && start <= due_until(now, lead_seconds)
}

/// The latest start a reminder is due for at `now` (the sweep's bound).
pub fn due_until(now: DateTime<Utc>, lead_seconds: i32) -> DateTime<Utc> {
    now + chrono::Duration::seconds(i64::from(lead_seconds.max(0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn names_service_staff_day_and_time_and_how_to_answer() {
        let r = Reminder {
            business: "Demo Salon",
            service: Some("Braids"),
            staff: Some("Achieng"),
            start: Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap(),
            tz: chrono_tz::Africa::Nairobi,
        };
        let en = r.text(Lang::En);
        assert!(
            en.contains("Braids") && en.contains("Achieng") && en.contains("15:00"),
            "{en}"
        );
        assert!(en.contains("CANCEL") && en.contains("MOVE"), "{en}");
        let sw = r.text(Lang::Sw);
        assert!(
            sw.starts_with("Kikumbusho") && sw.contains("Achieng"),
            "{sw}"
        );
    }

    #[test]
    fn due_inside_the_lead_and_before_the_start() {
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 8, 0, 0).unwrap();
        let h = chrono::Duration::hours(1);
        assert!(due(now + h, now, 3600));
        assert!(!due(now + h * 2, now, 3600));
        assert!(!due(now - h, now, 3600));
        assert!(!due(now + h, now, -5));
    }
}
