//! Booking rules over plain data: which start times are free for a service,
//! and the nearest alternatives when the asked time is taken.
//!
//! Inputs mirror the tenant tables: weekly `staff_schedules` (day_of_week 0 =
//! Monday, local times), `staff_blocks` (absolute windows), `staff_services`
//! (who can do what) and existing non-cancelled appointments, each occupying
//! its time plus its service's buffer. All wall-clock reasoning happens in
//! the tenant's time zone; results are absolute (UTC) instants.
//!
//! A new appointment for a service of `duration` and `buffer` occupies
//! `[start, start + duration + buffer)`; it must start and end (without the
//! buffer) inside one schedule window, and its occupied span must not overlap
//! a block or another appointment's occupied span.

pub mod holidays;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One weekly working window of a staff member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyWindow {
    /// 0 = Monday … 6 = Sunday.
    pub day_of_week: u8,
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub is_available: bool,
}

/// A span of time that is not free (a block, or an appointment plus its
/// buffer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Busy {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// An appointment of the customer being booked for: the staff member
    /// needs no turnover between two of one customer's services, so its
    /// span carries no buffer and a new one's buffer may run into it.
    #[serde(default)]
    pub own: bool,
}

impl Busy {
    /// Whether a service occupying [start, start + `duration`) and its
    /// buffer up to `with_buffer` collides with this span.
    fn collides(&self, start: DateTime<Utc>, duration: Duration, with_buffer: Duration) -> bool {
        let end = start + if self.own { duration } else { with_buffer };
        self.start < end && start < self.end
    }
}

/// One staff member's availability data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffAvailability {
    pub staff_id: Uuid,
    pub services: Vec<Uuid>,
    pub weekly: Vec<WeeklyWindow>,
    pub busy: Vec<Busy>,
}

/// What is being booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSpec {
    pub id: Uuid,
    pub duration_min: u32,
    pub buffer_min: u32,
}

/// A free start time with the staff member who would take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Slot {
    pub staff_id: Uuid,
    pub start: DateTime<Utc>,
    /// End of the service itself (without the buffer): appointments.end_at.
    pub end: DateTime<Utc>,
}

/// A search for free start times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotQuery {
    pub service: ServiceSpec,
    /// Only this staff member, when the customer asked for one.
    pub staff: Option<Uuid>,
    pub from: NaiveDate,
    pub days: u32,
    /// Nothing starting before this (now plus a lead time).
    pub not_before: DateTime<Utc>,
    /// Start times are aligned to this grid from each window's start.
    pub step_min: u32,
    /// Closed on Kenyan public holidays ([`holidays::kenyan_holiday`]).
    #[serde(default)]
    pub closed_on_holidays: bool,
    /// The appointment being moved or changed: its own time is not busy.
    #[serde(default)]
    pub except: Option<Uuid>,
    /// A start the customer named, tried as well when it is off the grid
    /// ("saa tatu na robo", 09:15, with a 30-minute grid).
    #[serde(default)]
    pub asked: Option<DateTime<Utc>>,
}

/// Every free slot, sorted by start then staff, at most one entry per
/// (staff, start).
pub fn free_slots(tz: Tz, staff: &[StaffAvailability], q: &SlotQuery) -> Vec<Slot> {
    let duration = Duration::minutes(i64::from(q.service.duration_min));
    let occupied = Duration::minutes(i64::from(q.service.duration_min + q.service.buffer_min));
    let step = Duration::minutes(i64::from(q.step_min.max(5)));
    let mut out = Vec::new();
    for member in staff {
        if q.staff.is_some_and(|s| s != member.staff_id) {
            continue;
        }
        if !member.services.contains(&q.service.id) {
            continue;
        }
        for offset in 0..q.days {
            let Some(date) = q.from.checked_add_signed(Duration::days(i64::from(offset))) else {
                continue;
            };
            if q.closed_on_holidays && holidays::kenyan_holiday(date).is_some() {
                continue;
            }
            let dow = date.weekday_from_monday();
            for w in member
                .weekly
                .iter()
                .filter(|w| w.is_available && w.day_of_week == dow)
            {
                let (Some(win_start), Some(win_end)) =
                    (local(tz, date, w.start), local(tz, date, w.end))
                else {
                    continue;
                };
                let free = |start: DateTime<Utc>| {
                    start >= q.not_before
                        && start >= win_start
                        && start + duration <= win_end
                        && !member
                            .busy
                            .iter()
                            .any(|b| b.collides(start, duration, occupied))
                };
                let slot = |start| Slot {
                    staff_id: member.staff_id,
                    start,
                    end: start + duration,
                };
                let mut start = win_start;
                while start + duration <= win_end {
                    if free(start) {
                        out.push(slot(start));
                    }
                    start += step;
                }
                if let Some(asked) = q.asked.filter(|a| free(*a)) {
                    out.push(slot(asked));
                }
            }
        }
    }
    // Of several free at one start, the first in the order given (the
    // storage lists staff by name), never by the ids' random order.
    let rank = |id: Uuid| staff.iter().position(|m| m.staff_id == id);
    out.sort_by_key(|s| (s.start, rank(s.staff_id)));
    out.dedup();
    out
}

/// Whether `slot` is still free (used right before writing a booking).
pub fn is_free(staff: &StaffAvailability, service: ServiceSpec, start: DateTime<Utc>) -> bool {
    let duration = Duration::minutes(i64::from(service.duration_min));
    let occupied = Duration::minutes(i64::from(service.duration_min + service.buffer_min));
    staff.services.contains(&service.id)
        && !staff
            .busy
            .iter()
            .any(|b| b.collides(start, duration, occupied))
}

/// One slot per distinct start time (the first staff member listed for it),
/// which is what a customer chooses between.
pub fn distinct_times(slots: &[Slot]) -> Vec<Slot> {
    let mut out: Vec<Slot> = Vec::new();
    for s in slots {
        if out.last().is_none_or(|l| l.start != s.start) {
            out.push(*s);
        }
    }
    out
}

/// The `n` free times nearest to `target`, earliest first; ties between an
/// earlier and a later time go to the later one (people asking for 10:00
/// more often accept 10:30 than 09:30).
pub fn nearest(slots: &[Slot], target: DateTime<Utc>, n: usize) -> Vec<Slot> {
    let mut times = distinct_times(slots);
    times.sort_by_key(|s| {
        let d = (s.start - target).num_minutes();
        (d.abs(), if d >= 0 { 0 } else { 1 })
    });
    times.truncate(n);
    times.sort_by_key(|s| s.start);
    times
}

/// Free times on one local date, optionally inside a local window, spread
/// over the day rather than the first `n` back to back.
pub fn spread_on_date(
    tz: Tz,
    slots: &[Slot],
    date: NaiveDate,
    window: Option<(NaiveTime, NaiveTime)>,
    n: usize,
) -> Vec<Slot> {
    let day: Vec<Slot> = distinct_times(slots)
        .into_iter()
        .filter(|s| {
            let local = s.start.with_timezone(&tz);
            local.date_naive() == date
                && window.is_none_or(|(a, b)| local.time() >= a && local.time() < b)
        })
        .collect();
    spread(&day, n)
}

/// `n` items evenly picked from `items` (first and last included).
pub fn spread(items: &[Slot], n: usize) -> Vec<Slot> {
    if items.len() <= n || n == 0 {
        return items.iter().take(n).copied().collect();
    }
    if n == 1 {
        return vec![items[0]];
    }
    (0..n)
        .map(|k| items[k * (items.len() - 1) / (n - 1)])
        .collect()
}

fn local(tz: Tz, date: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    tz.from_local_datetime(&date.and_time(time))
        .earliest()
        .map(|d| d.with_timezone(&Utc))
}

trait WeekdayFromMonday {
    fn weekday_from_monday(&self) -> u8;
}

impl WeekdayFromMonday for NaiveDate {
    fn weekday_from_monday(&self) -> u8 {
        use chrono::Datelike;
        self.weekday().num_days_from_monday() as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz() -> Tz {
        chrono_tz::Africa::Nairobi
    }
    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }
    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }
    /// Local Nairobi time on 2026-11-<day> as UTC.
    fn at(day: u32, h: u32, m: u32) -> DateTime<Utc> {
        local(
            tz(),
            NaiveDate::from_ymd_opt(2026, 11, day).unwrap(),
            t(h, m),
        )
        .unwrap()
    }
    fn date(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, day).unwrap()
    }
    const CUT: ServiceSpec = ServiceSpec {
        id: Uuid::from_u128(1),
        duration_min: 60,
        buffer_min: 15,
    };

    fn staff(n: u128, busy: Vec<Busy>) -> StaffAvailability {
        StaffAvailability {
            staff_id: id(n),
            services: vec![id(1)],
            // Mon-Sat 09:00-13:00; Sunday off. 2026-11-25 is a Wednesday.
            weekly: (0..6)
                .map(|d| WeeklyWindow {
                    day_of_week: d,
                    start: t(9, 0),
                    end: t(13, 0),
                    is_available: true,
                })
                .collect(),
            busy,
        }
    }

    fn query(day: u32, days: u32) -> SlotQuery {
        SlotQuery {
            service: CUT,
            staff: None,
            from: date(day),
            days,
            not_before: at(1, 0, 0),
            step_min: 30,
            closed_on_holidays: false,
            except: None,
            asked: None,
        }
    }

    #[test]
    fn a_start_asked_off_the_grid_is_free_when_it_fits() {
        let member = [staff(10, vec![])];
        let quarter_past = at(25, 9, 15);
        let on_grid = free_slots(tz(), &member, &query(25, 1));
        assert!(on_grid.iter().all(|s| s.start != quarter_past));
        let asked = SlotQuery {
            asked: Some(quarter_past),
            ..query(25, 1)
        };
        let slots = free_slots(tz(), &member, &asked);
        assert_eq!(slots.len(), on_grid.len() + 1);
        assert!(slots.iter().any(|s| s.start == quarter_past));
        // Not when it would run past the window's end (13:00) or clash.
        let late = SlotQuery {
            asked: Some(at(25, 12, 45)),
            ..query(25, 1)
        };
        assert_eq!(free_slots(tz(), &member, &late).len(), on_grid.len());
        let busy = [staff(
            10,
            vec![Busy {
                start: at(25, 9, 0),
                end: at(25, 10, 0),
                own: false,
            }],
        )];
        let clash = SlotQuery {
            asked: Some(quarter_past),
            ..query(25, 1)
        };
        assert!(
            free_slots(tz(), &busy, &clash)
                .iter()
                .all(|s| s.start != quarter_past)
        );
    }

    #[test]
    fn a_business_closed_on_public_holidays_offers_nothing_on_jamhuri_day() {
        let jamhuri = NaiveDate::from_ymd_opt(2026, 12, 12).unwrap();
        let q = SlotQuery {
            from: jamhuri,
            closed_on_holidays: true,
            except: None,
            ..query(25, 2)
        };
        let member = [staff(10, vec![])];
        let slots = free_slots(tz(), &member, &q);
        assert!(
            slots
                .iter()
                .all(|s| s.start.with_timezone(&tz()).date_naive() != jamhuri),
            "{slots:?}"
        );
        let open = free_slots(
            tz(),
            &member,
            &SlotQuery {
                closed_on_holidays: false,
                except: None,
                ..q.clone()
            },
        );
        assert!(
            open.iter()
                .any(|s| s.start.with_timezone(&tz()).date_naive() == jamhuri),
            "a tenant open on holidays gets slots: {open:?}"
        );
    }

    fn starts(slots: &[Slot]) -> Vec<(u32, u32)> {
        use chrono::Timelike;
        slots
            .iter()
            .map(|s| {
                let l = s.start.with_timezone(&tz());
                (l.hour(), l.minute())
            })
            .collect()
    }

    #[test]
    fn empty_day_offers_every_step_that_fits() {
        let slots = free_slots(tz(), &[staff(10, vec![])], &query(25, 1));
        // 60 min service inside 09:00-13:00 on a 30 min grid: last start 12:00.
        assert_eq!(
            starts(&slots),
            [
                (9, 0),
                (9, 30),
                (10, 0),
                (10, 30),
                (11, 0),
                (11, 30),
                (12, 0)
            ]
        );
        // Times are in Nairobi: 09:00 local is 06:00 UTC.
        assert_eq!(
            slots[0].start,
            Utc.with_ymd_and_hms(2026, 11, 25, 6, 0, 0).unwrap()
        );
        assert_eq!(slots[0].end - slots[0].start, Duration::minutes(60));
    }

    #[test]
    fn appointments_and_buffers_and_blocks_remove_slots() {
        let busy = vec![
            // An appointment 10:00-11:00 plus its 15 min buffer.
            Busy {
                start: at(25, 10, 0),
                end: at(25, 11, 15),
                own: false,
            },
        ];
        let slots = free_slots(tz(), &[staff(10, busy)], &query(25, 1));
        // 09:00 would occupy until 10:15 (with our buffer): clashes. 11:30 is
        // the first start after 11:15 on the grid.
        assert_eq!(starts(&slots), [(11, 30), (12, 0)]);
        let blocked = vec![Busy {
            start: at(25, 0, 0),
            end: at(26, 0, 0),
            own: false,
        }];
        assert!(free_slots(tz(), &[staff(10, blocked)], &query(25, 1)).is_empty());
    }

    #[test]
    fn sunday_schedule_and_unavailable_windows_and_services() {
        // 2026-11-29 is a Sunday.
        assert!(free_slots(tz(), &[staff(10, vec![])], &query(29, 1)).is_empty());
        let mut s = staff(10, vec![]);
        for w in &mut s.weekly {
            w.is_available = false;
        }
        assert!(free_slots(tz(), &[s], &query(25, 1)).is_empty());
        let mut other = staff(10, vec![]);
        other.services = vec![id(2)];
        assert!(free_slots(tz(), &[other], &query(25, 1)).is_empty());
    }

    #[test]
    fn past_times_and_staff_filter() {
        let mut q = query(25, 1);
        q.not_before = at(25, 11, 10);
        assert_eq!(
            starts(&free_slots(tz(), &[staff(10, vec![])], &q)),
            [(11, 30), (12, 0)]
        );
        let mut q = query(25, 1);
        q.staff = Some(id(11));
        let both = [
            staff(10, vec![]),
            staff(
                11,
                vec![Busy {
                    start: at(25, 9, 0),
                    end: at(25, 12, 0),
                    own: false,
                }],
            ),
        ];
        let slots = free_slots(tz(), &both, &q);
        assert!(slots.iter().all(|s| s.staff_id == id(11)));
        assert_eq!(starts(&slots), [(12, 0)]);
    }

    #[test]
    fn nearest_alternatives_around_a_taken_time() {
        let busy = vec![Busy {
            start: at(25, 10, 0),
            end: at(25, 11, 15),
            own: false,
        }];
        let slots = free_slots(tz(), &[staff(10, busy)], &query(25, 2));
        let near = nearest(&slots, at(25, 10, 0), 3);
        assert_eq!(starts(&near), [(11, 30), (12, 0), (9, 0)]);
        assert_eq!(near[2].start.with_timezone(&tz()).date_naive(), date(26));
    }

    #[test]
    fn two_staff_give_one_choice_per_time() {
        let slots = free_slots(tz(), &[staff(10, vec![]), staff(11, vec![])], &query(25, 1));
        assert_eq!(slots.len(), 14);
        assert_eq!(distinct_times(&slots).len(), 7);
        let spread = spread_on_date(tz(), &slots, date(25), Some((t(9, 0), t(12, 0))), 3);
        assert_eq!(starts(&spread), [(9, 0), (10, 0), (11, 30)]);
    }

    #[test]
    fn is_free_checks_the_occupied_span() {
        let s = staff(
            10,
            vec![Busy {
                start: at(25, 10, 0),
                end: at(25, 11, 15),
                own: false,
            }],
        );
        assert!(!is_free(&s, CUT, at(25, 9, 0)));
        assert!(is_free(&s, CUT, at(25, 11, 15)));
    }
}
