//! The daily briefing card sent to a tenant's admins on WhatsApp at the
//! start of business (`admin_whatsapp_briefing_enabled`). Admins read
//! English, as the hand-off notices.

use chrono::{NaiveDate, NaiveTime};

/// One of today's appointments, as the card lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BriefingLine {
    pub time: NaiveTime,
    pub service: String,
    pub staff: Option<String>,
    pub customer: Option<String>,
    pub unpaid: bool,
}

/// The card's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Briefing {
    pub business: String,
    pub date: NaiveDate,
    pub appointments: Vec<BriefingLine>,
    /// Customers waiting for a person (hand-offs not claimed).
    pub waiting: i64,
    /// The tenant's WhatsApp messages parked after repeated failures.
    pub dead_letters: i64,
}

/// At most this many appointments are listed; the rest are counted.
pub const MAX_LINES: usize = 20;

impl Briefing {
    pub fn text(&self) -> String {
        let unpaid = self.appointments.iter().filter(|a| a.unpaid).count();
        let mut out = format!(
            "Good morning from Ratiba: {} for {}.\nToday: {} appointment{}, {unpaid} unpaid.",
            self.business,
            self.date.format("%a %-d %b"),
            self.appointments.len(),
            if self.appointments.len() == 1 {
                ""
            } else {
                "s"
            },
        );
        for a in self.appointments.iter().take(MAX_LINES) {
            out.push_str(&format!("\n{} {}", a.time.format("%H:%M"), a.service));
            if let Some(staff) = &a.staff {
                out.push_str(&format!(" with {staff}"));
            }
            if let Some(customer) = &a.customer {
                out.push_str(&format!(" ({customer})"));
            }
            if a.unpaid {
                out.push_str(" - unpaid");
            }
        }
        if self.appointments.len() > MAX_LINES {
            out.push_str(&format!(
                "\n…and {} more.",
                self.appointments.len() - MAX_LINES
            ));
        }
        out.push_str(&format!(
            "\nWaiting for a person: {}. Reply CLAIM to take the one waiting longest.",
            self.waiting
        ));
        out.push_str(&format!(
            "\nMessages needing review: {}.",
            self.dead_letters
        ));
        out
    }
}

/// Whether the briefing for local `today` is due at local time `now`:
/// business has started (`opens`, the earliest staff start today; `None`
/// when nobody works today, then no briefing).
pub fn due(now: NaiveTime, opens: Option<NaiveTime>) -> bool {
    opens.is_some_and(|o| now >= o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_card_counts_lists_and_flags_unpaid() {
        let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
        let b = Briefing {
            business: "Demo Salon".into(),
            date: NaiveDate::from_ymd_opt(2030, 1, 7).unwrap(),
            appointments: vec![
                BriefingLine {
                    time: t(9),
                    service: "Braids".into(),
                    staff: Some("Achieng".into()),
                    customer: Some("Wanjiku".into()),
                    unpaid: true,
                },
                BriefingLine {
                    time: t(11),
                    service: "Manicure".into(),
                    staff: None,
                    customer: None,
                    unpaid: false,
                },
            ],
            waiting: 1,
            dead_letters: 3,
        };
        let text = b.text();
        assert!(text.contains("Mon 7 Jan"), "{text}");
        assert!(text.contains("2 appointments, 1 unpaid"), "{text}");
        assert!(
            text.contains("09:00 Braids with Achieng (Wanjiku) - unpaid"),
            "{text}"
        );
        assert!(text.contains("11:00 Manicure\n"), "{text}");
        assert!(text.contains("Waiting for a person: 1"), "{text}");
        assert!(text.contains("review: 3"), "{text}");
        assert!(due(t(9), Some(t(8))));
        assert!(!due(t(7), Some(t(8))));
        assert!(!due(t(12), None));
    }
}
