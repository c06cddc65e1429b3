//! Whole conversations against an in-memory "runtime" that answers the
//! machine's actions from plain data, with a fixed clock.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use uuid::Uuid;

use super::catalog::tests::{demo_services, demo_staff, uuid};
use super::catalog::{Catalog, Relation};
use super::machine::*;
use super::personality::Personality;
use super::text::Lang;
use crate::core::booking::{self, Busy, StaffAvailability, WeeklyWindow};
use crate::core::ids::PhoneNumber;

mod answers;
mod changes;
mod compound;
mod everyday;
mod occasions;
mod payment_problems;
mod regulars;

struct World {
    config: DialogConfig,
    state: DialogState,
    staff: Vec<StaffAvailability>,
    appointments: Vec<AppointmentSummary>,
    snippets: Vec<Snippet>,
    now: DateTime<Utc>,
    actions: Vec<Action>,
    analyses: Vec<Analysis>,
    /// Make the next booking fail as if someone took the slot first.
    steal_next: bool,
    /// The name the customer gave (Action::RememberName).
    name: Option<String>,
    /// The channel turns come through.
    send_channel: Channel,
    /// The number the channel knows (none for a web chat until given).
    phone: Option<PhoneNumber>,
}

fn tz() -> chrono_tz::Tz {
    chrono_tz::Africa::Nairobi
}

impl World {
    fn new() -> World {
        let catalog = Catalog {
            business_name: "Nywele Bora Salon".into(),
            services: demo_services(),
            staff: demo_staff(),
            cross_sell: vec![Relation {
                from: uuid(2),
                to: uuid(3),
                confidence: 0.8,
            }],
        };
        let config = DialogConfig::new(tz(), catalog, Personality::resolve("salon", None));
        let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
        let staff = [101u128, 102]
            .iter()
            .map(|n| StaffAvailability {
                staff_id: uuid(*n),
                services: (1..=6).map(uuid).collect(),
                weekly: (0..6)
                    .map(|d| WeeklyWindow {
                        day_of_week: d,
                        start: t(9),
                        end: t(18),
                        is_available: true,
                    })
                    .collect(),
                busy: vec![],
            })
            .collect();
        World {
            config,
            state: DialogState::default(),
            staff,
            appointments: vec![],
            snippets: vec![
                Snippet {
                    category: "hours".into(),
                    title: "Opening hours".into(),
                    body: "We are open Monday to Saturday, 9am to 6pm.".into(),
                    language: "en".into(),
                },
                Snippet {
                    category: "hours".into(),
                    title: "Saa za kazi".into(),
                    body: "Tunafungua Jumatatu hadi Jumamosi, saa tatu asubuhi hadi saa kumi na mbili jioni.".into(),
                    language: "sw".into(),
                },
                Snippet {
                    category: "general".into(),
                    title: "Location".into(),
                    body: "We are on Moi Avenue, Bihi Towers 2nd floor, Nairobi CBD.".into(),
                    language: "en".into(),
                },
                Snippet {
                    category: "other".into(),
                    title: "Payment".into(),
                    body: "We accept M-Pesa and cash.".into(),
                    language: "en".into(),
                },
            ],
            // Wednesday 2026-11-25 08:00 Nairobi.
            now: Utc.with_ymd_and_hms(2026, 11, 25, 5, 0, 0).unwrap(),
            actions: vec![],
            analyses: vec![],
            steal_next: false,
            name: None,
            send_channel: Channel::WhatsApp,
            phone: PhoneNumber::parse("+254712345678").ok(),
        }
    }

    /// Sends one customer message and returns the replies' text.
    fn say(&mut self, text: &str) -> String {
        self.send(text, None)
    }

    fn tap(&mut self, id: &str) -> String {
        self.send("", Some(id))
    }

    fn send(&mut self, text: &str, choice: Option<&str>) -> String {
        let turn = Turn {
            text: text.into(),
            language_hint: None,
            channel: self.send_channel,
            customer: Customer {
                phone: self.phone.clone(),
                name: Some("Wanjiku".into()),
            },
            dtmf: None,
            choice_id: choice.map(str::to_owned),
            force_language: None,
            now: self.now,
        };
        let config = self.config.clone();
        let mut dialog = Dialog::new(&config, std::mem::take(&mut self.state));
        dialog.handle_input(Input::Turn(turn)).unwrap();
        let mut replies = Vec::new();
        while let Some(out) = dialog.poll_output() {
            match out {
                Output::Reply(r) => replies.push(r.text()),
                Output::Analysis(a) => self.analyses.push(a),
                Output::Action(a) => {
                    self.actions.push(a.clone());
                    if let Some(input) = self.perform(a) {
                        dialog.handle_input(input).unwrap();
                    }
                }
            }
        }
        self.state = dialog.into_state();
        // The state survives a checkpoint round trip.
        let json = serde_json::to_string(&self.state).unwrap();
        self.state = serde_json::from_str(&json).unwrap();
        replies.join(" | ")
    }

    fn perform(&mut self, action: Action) -> Option<Input> {
        match action {
            Action::FindSlots(q) => {
                // The appointment being moved is not busy (as in storage).
                let own = q
                    .except
                    .and_then(|id| self.appointments.iter().find(|a| a.id == id).copied());
                let mut staff = self.staff.clone();
                for s in &mut staff {
                    s.busy.retain(|b| {
                        own.is_none_or(|a| !(a.staff_id == s.staff_id && a.start == b.start))
                    });
                }
                Some(Input::Slots(booking::free_slots(tz(), &staff, &q)))
            }
            Action::Book {
                service_id,
                staff_id,
                start,
                end,
                ..
            } => {
                if self.steal_next {
                    self.steal_next = false;
                    self.occupy(staff_id, start, end);
                    return Some(Input::Booked(Err(WriteFailure::SlotTaken)));
                }
                let ap = AppointmentSummary {
                    id: Uuid::new_v4(),
                    service_id,
                    staff_id,
                    start,
                    end,
                };
                self.occupy_own(staff_id, start, end);
                self.appointments.push(ap);
                Some(Input::Booked(Ok(ap)))
            }
            Action::RememberPhone { phone } => {
                self.phone = Some(phone);
                None
            }
            Action::RememberName { name } => {
                self.name = Some(name);
                None
            }
            Action::ListUpcoming => Some(Input::Upcoming(
                self.appointments
                    .iter()
                    .filter(|a| a.start > self.now)
                    .copied()
                    .collect(),
            )),
            Action::ListRecent => {
                let mut past: Vec<AppointmentSummary> = self
                    .appointments
                    .iter()
                    .filter(|a| a.start <= self.now)
                    .copied()
                    .collect();
                past.sort_by_key(|a| std::cmp::Reverse(a.start));
                Some(Input::Upcoming(past))
            }
            Action::Cancel { appointment_id } => {
                self.appointments.retain(|a| a.id != appointment_id);
                Some(Input::Cancelled(Ok(appointment_id)))
            }
            Action::Reschedule {
                appointment_id,
                service_id,
                staff_id,
                start,
                end,
            } => {
                let ap = self
                    .appointments
                    .iter_mut()
                    .find(|a| a.id == appointment_id)?;
                ap.service_id = service_id;
                ap.staff_id = staff_id;
                ap.start = start;
                ap.end = end;
                Some(Input::Rescheduled(Ok(*ap)))
            }
            Action::FetchKnowledge { categories } => Some(Input::Knowledge(
                self.snippets
                    .iter()
                    .filter(|s| categories.is_empty() || categories.contains(&s.category))
                    .cloned()
                    .collect(),
            )),
            Action::SendPhoneCode { .. } => Some(Input::CodeSent(Ok(()))),
            Action::CheckPhoneCode { code, .. } => {
                Some(Input::CodeChecked(if code.expose() == "123456" {
                    crate::core::phone_check::CodeCheck::Verified
                } else {
                    crate::core::phone_check::CodeCheck::Wrong { left: 4 }
                }))
            }
            Action::HandOff { .. } | Action::StartPayment { .. } => None,
        }
    }

    /// Another customer's booking: busy with its 15-minute buffer.
    fn occupy(&mut self, staff: Uuid, start: DateTime<Utc>, end: DateTime<Utc>) {
        self.busy_with(staff, start, end + Duration::minutes(15), false);
    }

    /// This customer's own booking: no turnover after it (as in storage).
    fn occupy_own(&mut self, staff: Uuid, start: DateTime<Utc>, end: DateTime<Utc>) {
        self.busy_with(staff, start, end, true);
    }

    fn busy_with(&mut self, staff: Uuid, start: DateTime<Utc>, end: DateTime<Utc>, own: bool) {
        for s in &mut self.staff {
            if s.staff_id == staff {
                s.busy.push(Busy { start, end, own });
            }
        }
    }

    /// Blocks every staff member for the whole local day.
    fn block_day(&mut self, y: i32, m: u32, d: u32) {
        let start = tz()
            .with_ymd_and_hms(y, m, d, 0, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        for s in &mut self.staff {
            s.busy.push(Busy {
                start,
                end: start + Duration::days(1),
                own: false,
            });
        }
    }

    fn booked_local(&self) -> Vec<String> {
        self.appointments
            .iter()
            .map(|a| {
                a.start
                    .with_timezone(&tz())
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .collect()
    }
}

#[test]
fn english_booking_with_exact_time() {
    let mut w = World::new();
    let r = w.say("Hi, I'd like to book box braids tomorrow at 10am");
    assert!(
        r.contains("Box Braids") && r.contains("Thursday 26 Nov at 10:00"),
        "{r}"
    );
    assert!(r.contains("Shall I book it?"), "{r}");
    let r = w.say("yes please");
    assert!(r.contains("Done!") && r.contains("booked"), "{r}");
    // Cross-sell from the relation braids -> manicure (0.8).
    assert!(r.contains("Manicure"), "{r}");
    assert_eq!(w.booked_local(), ["2026-11-26 10:00"]);
    assert!(matches!(w.state.step, Step::Idle));
}

#[test]
fn swahili_booking_on_swahili_clock() {
    let mut w = World::new();
    let r = w.say("Habari, nataka kusuka kesho saa nne asubuhi");
    assert!(r.contains("Kusuka mabutu"), "{r}");
    assert!(r.contains("saa 4:00 asubuhi"), "{r}");
    assert!(r.contains("Nikuwekee?"), "{r}");
    let r = w.say("Ndiyo");
    assert!(r.contains("Tayari!"), "{r}");
    assert_eq!(w.booked_local(), ["2026-11-26 10:00"]);
    assert_eq!(w.analyses[0].language, Lang::Sw);
}

#[test]
fn choosing_service_then_slot_by_button() {
    let mut w = World::new();
    let r = w.say("I want to book an appointment");
    assert!(r.contains("Which service"), "{r}");
    let r = w.say("manicure");
    assert!(r.contains("Free times for Manicure"), "{r}");
    let r = w.tap("slot_1");
    assert!(r.contains("Shall I book it?"), "{r}");
    let r = w.tap("yes");
    assert!(r.contains("Done!"), "{r}");
    assert_eq!(w.appointments.len(), 1);
}

#[test]
fn taken_time_offers_nearest_alternatives() {
    let mut w = World::new();
    // Both staff busy 10:00-11:00 on Thursday.
    for s in [101u128, 102] {
        let start = tz()
            .with_ymd_and_hms(2026, 11, 26, 10, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        w.occupy(uuid(s), start, start + Duration::minutes(60));
    }
    let r = w.say("haircut tomorrow at 10am");
    assert!(r.contains("not free"), "{r}");
    assert!(r.contains("The nearest free times are"), "{r}");
    assert!(r.contains("09:00") || r.contains("11:30"), "{r}");
    assert!(!r.contains("at 10:00;"), "{r}");
    let r = w.say("2");
    assert!(r.contains("Shall I book it?"), "{r}");
    w.say("yes");
    assert_eq!(w.appointments.len(), 1);
    assert_ne!(w.booked_local()[0], "2026-11-26 10:00");
}

#[test]
fn fully_booked_day_suggests_other_days() {
    let mut w = World::new();
    w.block_day(2026, 11, 27);
    let r = w.say("Nataka kukata nywele Ijumaa");
    assert!(r.contains("hakuna nafasi"), "{r}");
    assert!(r.contains("Nafasi zilizo karibu zaidi"), "{r}");
}

#[test]
fn slot_stolen_between_confirm_and_write() {
    let mut w = World::new();
    w.say("haircut tomorrow at 2pm");
    w.steal_next = true;
    let r = w.say("yes");
    assert!(r.contains("just taken"), "{r}");
    assert!(
        r.contains("Shall I book it?") || r.contains("nearest"),
        "{r}"
    );
}

#[test]
fn cancel_flow_and_tone() {
    let mut w = World::new();
    w.say("book pedicure on friday at 3pm");
    w.say("yes");
    assert_eq!(w.appointments.len(), 1);
    let r = w.say("I need to cancel my appointment");
    assert!(
        r.contains("Cancel your Pedicure on Friday 27 Nov at 15:00?"),
        "{r}"
    );
    let r = w.say("yes");
    assert!(
        r.contains("is cancelled") && r.contains("No problem at all"),
        "{r}"
    );
    assert!(w.appointments.is_empty());
    let r = w.say("cancel my booking");
    assert!(r.contains("can't find any upcoming appointment"), "{r}");
}

#[test]
fn reschedule_flow_in_swahili() {
    let mut w = World::new();
    w.say("nataka kusuka kesho saa tatu asubuhi");
    w.say("ndiyo");
    assert_eq!(w.booked_local(), ["2026-11-26 09:00"]);
    let r = w.say("Nataka kubadilisha miadi yangu");
    assert!(r.contains("Ungependa kuihamishia lini?"), "{r}");
    let r = w.say("Jumamosi saa tano asubuhi");
    assert!(r.contains("Nihamishe"), "{r}");
    let r = w.say("sawa");
    assert!(r.contains("imehamishwa"), "{r}");
    assert_eq!(w.booked_local(), ["2026-11-28 11:00"]);
}

#[test]
fn knowledge_questions_in_both_languages() {
    let mut w = World::new();
    let r = w.say("What time do you open?");
    assert!(r.contains("Monday to Saturday"), "{r}");
    assert!(!r.contains("Tunafungua"), "{r}");
    let r = w.say("Mnafungua saa ngapi?");
    assert!(r.contains("Tunafungua"), "{r}");
    let r = w.say("Where are you located?");
    assert!(r.contains("Moi Avenue"), "{r}");
    // English snippet answers a Swahili question when no Swahili one exists.
    let r = w.say("Mko wapi?");
    assert!(r.contains("Moi Avenue"), "{r}");
    let r = w.say("Do you accept M-Pesa?");
    assert!(r.contains("M-Pesa and cash"), "{r}");
    let r = w.say("How much is a pedicure?");
    assert!(r.contains("KES 1,000"), "{r}");
    let r = w.say("yes");
    assert!(r.contains("Free times for Pedicure"), "{r}");
}

#[test]
fn question_mid_flow_resumes_the_flow() {
    let mut w = World::new();
    w.say("manicure tomorrow");
    assert!(matches!(w.state.step, Step::ChooseSlot(_)));
    let r = w.say("where are you located?");
    assert!(
        r.contains("Moi Avenue") && r.contains("which of the times"),
        "{r}"
    );
    assert!(matches!(w.state.step, Step::ChooseSlot(_)));
    let r = w.say("1");
    assert!(r.contains("Shall I book it?"), "{r}");
}

#[test]
fn handoff_on_request_then_silence_until_closed() {
    let mut w = World::new();
    let r = w.say("I want to talk to a real person");
    assert!(r.contains("passing you to a member"), "{r}");
    assert!(w.actions.contains(&Action::HandOff {
        reason: HandoffReason::Requested
    }));
    assert_eq!(w.say("hello? anyone?"), "");
    assert!(w.state.handed_off());
    let config = w.config.clone();
    let mut d = Dialog::new(&config, std::mem::take(&mut w.state));
    d.handle_input(Input::HandoffClosed).unwrap();
    w.state = d.into_state();
    assert!(w.say("hello").contains("Welcome to Nywele Bora Salon"));
}

#[test]
fn repeated_nonsense_hands_off() {
    let mut w = World::new();
    let r = w.say("asdf qwer");
    assert!(r.contains("didn't quite get that"), "{r}");
    w.say("zzzz");
    let r = w.say("blorp");
    assert!(r.contains("passing you"), "{r}");
    assert!(w.actions.contains(&Action::HandOff {
        reason: HandoffReason::Misunderstood
    }));
    assert!(!w.analyses.last().unwrap().understood);
}

#[test]
fn mixed_language_turn_answers_in_majority_language() {
    let mut w = World::new();
    let r = w.say("Sasa, nataka ku book manicure kesho mchana please");
    assert!(r.contains("Nafasi za"), "{r}");
    assert_eq!(w.state.lang, Lang::Sw);
}

#[test]
fn unexpected_result_is_a_typed_error() {
    let w = World::new();
    let mut d = Dialog::new(&w.config, DialogState::default());
    let err = d.handle_input(Input::Slots(vec![])).unwrap_err();
    assert_eq!(
        err,
        DialogError::Unexpected {
            input: "slots",
            step: "idle"
        }
    );
}

#[test]
fn greeting_uses_personality() {
    let mut w = World::new();
    w.config.personality.greeting_mode = super::personality::GreetingMode::Custom;
    w.config.personality.greeting_custom = Some("Karibu Nywele Bora! Tukusaidie aje?".into());
    assert_eq!(w.say("habari"), "Karibu Nywele Bora! Tukusaidie aje?");
    let mut w = World::new();
    assert!(
        w.say("Habari")
            .starts_with("Habari Wanjiku! Karibu Nywele Bora Salon.")
    );
}

#[test]
fn a_message_with_nothing_to_read_asks_for_text_and_keeps_the_place() {
    let mut w = World::new();
    let r = w.say("Hi, I'd like to book box braids tomorrow at 10am");
    assert!(r.contains("Shall I book it?"), "{r}");
    let step = w.state.step.clone();
    // Photos / voice notes arrive as empty text, more than the hand-off
    // threshold of them in a row.
    for _ in 0..5 {
        let r = w.say("");
        assert!(r.contains("only read text"), "{r}");
    }
    assert_eq!(w.state.step, step, "the pending offer is kept");
    assert_eq!(w.state.misunderstood, 0);
    let r = w.say("yes please");
    assert!(r.contains("Done!"), "{r}");
}

// ---- issue 10: behaviours customers showed us ------------------------------

/// The start the pending confirmation proposes, local "YYYY-MM-DD HH:MM".
fn proposed(w: &World) -> Option<String> {
    match &w.state.step {
        Step::ConfirmSlot(c) => Some(
            c.slot
                .start
                .with_timezone(&tz())
                .format("%Y-%m-%d %H:%M")
                .to_string(),
        ),
        _ => None,
    }
}

/// One of the customer's bookings, on a day of November 2026 (local).
fn existing(w: &mut World, id: u128, service: u128, local: (u32, u32, u32), minutes: i64) {
    let (d, h, m) = local;
    let start = tz()
        .with_ymd_and_hms(2026, 11, d, h, m, 0)
        .unwrap()
        .with_timezone(&Utc);
    w.appointments.push(AppointmentSummary {
        id: uuid(id),
        service_id: uuid(service),
        staff_id: uuid(101),
        start,
        end: start + Duration::minutes(minutes),
    });
}

fn booked_services(w: &World) -> Vec<u128> {
    w.appointments
        .iter()
        .map(|a| a.service_id.as_u128())
        .collect()
}

#[test]
fn hesitation_at_the_confirmation_never_books() {
    for hesitation in [
        "hold on, I need to ask my husband",
        "ngoja kwanza",
        "sijui bado, nitakuambia",
        "let me check my schedule first",
        "hmm maybe",
    ] {
        let mut w = World::new();
        let r = w.say("manicure tomorrow at 10am");
        assert!(r.contains("Shall I book it?"), "{r}");
        let r = w.say(hesitation);
        assert!(w.appointments.is_empty(), "{hesitation}: {r}");
        assert!(matches!(w.state.step, Step::ConfirmSlot(_)), "{hesitation}");
    }
    let mut w = World::new();
    w.say("manicure tomorrow at 10am");
    w.say("ngoja kwanza");
    w.say("sawa, niwekee");
    assert_eq!(w.booked_local(), ["2026-11-26 10:00"]);
}

#[test]
fn everyday_assent_books() {
    for yes in [
        "k",
        "ya",
        "sawa basi",
        "poa",
        "fiti",
        "yes pls",
        "ndio",
        "eeh",
        "weka",
        "book it",
    ] {
        let mut w = World::new();
        w.say("manicure tomorrow at 10am");
        let r = w.say(yes);
        assert_eq!(w.booked_local(), ["2026-11-26 10:00"], "{yes}: {r}");
    }
}

#[test]
fn a_change_at_the_confirmation_is_applied_and_confirmed_again() {
    let mut w = World::new();
    w.say("manicure tomorrow at 10am");
    let r = w.say("make it pedicure instead");
    assert!(
        r.contains("Pedicure") && r.contains("Shall I book it?"),
        "{r}"
    );
    assert!(w.appointments.is_empty());
    w.say("yes");
    assert_eq!(booked_services(&w), [4]);
    assert_eq!(w.booked_local(), ["2026-11-26 10:00"]);

    // A new day keeps the time; a new time keeps the day.
    let mut w = World::new();
    w.say("manicure tomorrow at 10am");
    let r = w.say("aii make it friday");
    assert!(r.contains("27 Nov at 10:00"), "{r}");
    w.say("make it 2pm");
    w.say("yes");
    assert_eq!(w.booked_local(), ["2026-11-27 14:00"]);
}

#[test]
fn two_services_for_one_person_are_back_to_back_with_one_confirmation() {
    let mut w = World::new();
    let r = w.say("manicure and pedicure tomorrow at 10am");
    assert!(
        r.contains("Shall I book them?") && r.contains("Total KES 1,800"),
        "{r}"
    );
    assert!(w.appointments.is_empty());
    let r = w.say("yes");
    assert!(r.contains("Total KES 1,800"), "{r}");
    assert_eq!(booked_services(&w), [3, 4]);
    // The 45 min manicure ends 10:45 and the pedicure starts then, off the
    // 30 min grid: one person's services need no turnover between them.
    assert_eq!(w.booked_local(), ["2026-11-26 10:00", "2026-11-26 10:45"]);
}

#[test]
fn two_people_are_booked_at_the_same_time_with_two_staff() {
    let mut w = World::new();
    let r = w.say("haircut for me and my daughter tomorrow at 11am");
    assert!(r.contains("Shall I book them?"), "{r}");
    w.say("yes");
    assert_eq!(w.booked_local(), ["2026-11-26 11:00", "2026-11-26 11:00"]);
    assert_ne!(w.appointments[0].staff_id, w.appointments[1].staff_id);
}

#[test]
fn yes_naming_one_of_several_items_books_only_that_one() {
    let mut w = World::new();
    w.say("manicure and pedicure tomorrow at 10am");
    w.say("yes, just the manicure");
    assert_eq!(booked_services(&w), [3]);
}

#[test]
fn a_move_named_by_service_and_day_keeps_the_time() {
    let mut w = World::new();
    w.say("manicure on thursday at 10am");
    w.say("yes");
    assert_eq!(w.booked_local(), ["2026-11-26 10:00"]);
    let r = w.say("can I move my thursday manicure to friday same time");
    assert!(r.contains("27 Nov at 10:00"), "{r}");
    w.say("yes");
    assert_eq!(w.booked_local(), ["2026-11-27 10:00"]);
}

#[test]
fn a_change_mid_booking_changes_that_booking() {
    let mut w = World::new();
    w.say("nataka pedicure kesho saa nne asubuhi");
    let r = w.say("badala yake iwe ijumaa");
    assert!(r.contains("Ijumaa 27"), "{r}");
    w.say("sawa");
    assert_eq!(w.booked_local(), ["2026-11-27 10:00"]);
}

#[test]
fn the_name_a_customer_gives_is_remembered_and_is_not_a_staff_member() {
    let mut w = World::new();
    let r = w.say("hi, my name is Wanjiru. manicure tomorrow at 10am");
    assert!(r.contains("Shall I book it?"), "{r}");
    assert!(
        w.actions
            .iter()
            .any(|a| matches!(a, Action::RememberName { name } if name == "Wanjiru")),
        "{:?}",
        w.actions
    );
    assert_eq!(w.state.name.as_deref(), Some("Wanjiru"));
    // "Wanjiru" is also a staff member's name: the search was not limited to her.
    assert!(
        w.actions
            .iter()
            .any(|a| matches!(a, Action::FindSlots(q) if q.staff.is_none()))
    );
}

#[test]
fn a_public_holiday_is_closed_and_said_so() {
    let mut w = World::new();
    w.now = Utc.with_ymd_and_hms(2026, 12, 9, 5, 0, 0).unwrap();
    let r = w.say("manicure on 12th december at 10am");
    assert!(r.contains("Jamhuri"), "{r}");
    assert!(!r.contains("Saturday 12 Dec at"), "{r}");
    w.say("the first one");
    w.say("yes");
    assert!(
        !w.booked_local()[0].starts_with("2026-12-12"),
        "{:?}",
        w.booked_local()
    );
}

#[test]
fn every_part_of_a_compound_question_is_answered() {
    let mut w = World::new();
    let r = w.say("what time do you open and where are you located?");
    assert!(
        r.contains("Monday to Saturday") && r.contains("Moi Avenue"),
        "{r}"
    );
    let r = w.say("how much is a pedicure and how long does it take?");
    assert!(r.contains("KES 1,000") && r.contains("1 hour"), "{r}");
}

#[test]
fn a_side_question_keeps_what_was_already_said() {
    let mut w = World::new();
    w.say("i need a manicure");
    w.say("what time do you open?");
    let r = w.say("ok then friday at 11am");
    assert!(
        r.contains("Manicure") && r.contains("27 Nov at 11:00"),
        "{r}"
    );
}

#[test]
fn abuse_and_fraud_accusations_go_to_a_person_at_once() {
    for text in [
        "you people stole my money",
        "mnatuibia pesa",
        "wezi nyinyi",
        "this is a scam",
    ] {
        let mut w = World::new();
        w.say(text);
        assert!(w.state.handed_off(), "{text}");
        assert!(
            w.actions.iter().any(|a| matches!(
                a,
                Action::HandOff {
                    reason: HandoffReason::Abuse
                }
            )),
            "{text}: {:?}",
            w.actions
        );
    }
}

#[test]
fn no_payment_prompt_the_tenant_cannot_send() {
    let mut w = World::new();
    w.config.payment_on_booking = false;
    w.config.pay_hint = Some("174379".into());
    w.say("manicure tomorrow at 10am");
    let r = w.say("yes");
    assert!(r.contains("Paybill 174379"), "{r}");
    assert!(
        !w.actions
            .iter()
            .any(|a| matches!(a, Action::StartPayment { .. }))
    );
}

#[test]
fn recogniser_text_books_like_typed_text() {
    let mut w = World::new();
    w.send_channel = Channel::Voice;
    let r = w.say("uh hi i want a manicure tomorrow at ten thirty");
    assert!(r.contains("26 Nov at 10:30"), "{r}");
    w.say("eeh yes please");
    assert_eq!(w.booked_local(), ["2026-11-26 10:30"]);
}

#[test]
fn a_caller_asking_for_a_person_is_promised_a_call_back_not_a_reply_here() {
    let mut w = World::new();
    w.send_channel = Channel::Voice;
    let r = w.say("i want to talk to a real person");
    assert!(r.contains("call you back on this number"), "{r}");
    assert!(w.state.handed_off());
    let mut w = World::new();
    let r = w.say("i want to talk to a real person");
    assert!(r.contains("reply to you here"), "{r}");
}

#[test]
fn a_caller_is_told_they_are_put_through_when_the_call_can_transfer() {
    let to = crate::core::ids::PhoneNumber::parse("+254700123456").unwrap();
    let mut w = World::new();
    w.send_channel = Channel::Voice;
    w.config.call_handoff = super::handoff::CallHandoff::Transfer { to: to.clone() };
    let r = w.say("nataka kuongea na mtu");
    assert!(r.starts_with("Nakuunganisha na mfanyakazi wa"), "{r}");
    assert!(!r.contains("Atakupigia tena"), "{r}");
    assert!(w.state.handed_off());
    // A chat never is: a person answers in the chat.
    let mut w = World::new();
    w.config.call_handoff = super::handoff::CallHandoff::Transfer { to };
    let r = w.say("i want to talk to a real person");
    assert!(r.contains("reply to you here"), "{r}");
}

#[test]
fn a_day_that_cannot_be_read_is_asked_for_never_guessed() {
    let mut w = World::new();
    let r = w.say("nataka manicure jumat saa nne asubuhi");
    assert!(r.contains("siku gani"), "{r}");
    assert!(
        !w.actions.iter().any(|a| matches!(a, Action::FindSlots(_))),
        "{:?}",
        w.actions
    );
    let r = w.say("jumatatu");
    assert!(r.contains("Jumatatu 30"), "{r}");
    w.say("sawa");
    assert_eq!(w.booked_local(), ["2026-11-30 10:00"]);
}

#[test]
fn a_refusal_at_the_cancel_question_keeps_the_appointment() {
    for refusal in [
        "hapana usifute, nimebadilisha mawazo",
        "no don't cancel it",
        "ngoja kwanza",
    ] {
        let mut w = World::new();
        w.say("manicure tomorrow at 10am");
        w.say("yes");
        let r = w.say("nataka kufuta miadi yangu");
        assert!(r.contains("Nifute"), "{r}");
        w.say(refusal);
        assert_eq!(w.booked_local(), ["2026-11-26 10:00"], "{refusal}");
    }
}

#[test]
fn a_short_shared_answer_keeps_the_conversations_language() {
    let mut w = World::new();
    w.say("can i get a manicure tomorrow at 10am");
    let r = w.say("ya");
    assert!(r.contains("Done!"), "{r}");
}

#[test]
fn cant_come_put_me_on_another_day_moves_but_cancel_for_a_day_cancels() {
    let mut w = World::new();
    w.say("manicure tomorrow at 10am");
    w.say("yes");
    let r = w.say("sitaweza kufika kesho, tuweke ijumaa");
    assert!(r.contains("Ijumaa 27"), "{r}");
    w.say("sawa");
    assert_eq!(w.booked_local(), ["2026-11-27 10:00"]);

    let mut w = World::new();
    w.say("manicure tomorrow at 10am");
    w.say("yes");
    let r = w.say("please cancel my appointment for tomorrow");
    assert!(r.contains("Cancel your"), "{r}");
    w.say("yes");
    assert!(w.booked_local().is_empty());
}

#[test]
fn cancel_both_cancels_each_after_one_confirmation() {
    let mut w = World::new();
    w.say("manicure tomorrow at 10am");
    w.say("yes");
    w.say("pedicure tomorrow at 2pm");
    w.say("yes");
    assert_eq!(w.booked_local().len(), 2);
    let r = w.say("please cancel both my appointments tomorrow");
    assert!(r.contains("Cancel all of these"), "{r}");
    assert_eq!(w.booked_local().len(), 2);
    w.say("yes");
    assert!(w.booked_local().is_empty(), "{:?}", w.booked_local());
}

#[test]
fn a_web_customer_is_asked_for_their_number_before_booking() {
    let mut w = World::new();
    w.send_channel = Channel::Web;
    w.phone = None;
    let r = w.say("Hi, I'd like to book box braids tomorrow at 10am");
    assert!(r.contains("Shall I book it?"), "{r}");
    let r = w.tap("yes");
    assert!(r.contains("phone number"), "{r}");
    assert!(matches!(w.state.step, Step::CollectPhone(_)));
    assert!(w.appointments.is_empty(), "nothing booked without a number");
    let r = w.say("it is 12 34");
    assert!(r.contains("doesn't look like a phone number"), "{r}");
    assert!(matches!(w.state.step, Step::CollectPhone(_)));
    let r = w.say("my number is 0722 000 111");
    assert!(r.contains("Done!"), "{r}");
    assert_eq!(w.booked_local(), ["2026-11-26 10:00"]);
    assert_eq!(w.phone, PhoneNumber::parse("+254722000111").ok());
    assert!(w.actions.iter().any(
        |a| matches!(a, Action::RememberPhone { phone } if phone.expose() == "+254722000111")
    ));
    // Known now: the next booking asks nothing.
    w.say("and a manicure on Friday at 2pm");
    let r = w.say("yes");
    assert!(r.contains("Done!") && !r.contains("phone number"), "{r}");
}

#[test]
fn with_the_phone_check_a_code_is_asked_for_before_booking() {
    let mut w = World::new();
    w.config.phone_otp_required = true;
    w.send_channel = Channel::Web;
    w.phone = None;
    w.say("Hi, I'd like to book box braids tomorrow at 10am");
    w.tap("yes");
    let r = w.say("0722 000 111");
    assert!(r.contains("ending 111"), "{r}");
    assert!(matches!(w.state.step, Step::EnterCode(_)));
    assert!(w.phone.is_none(), "not remembered before the code");
    let r = w.say("654321");
    assert!(r.contains("isn't right") && r.contains("4 tries"), "{r}");
    assert!(w.appointments.is_empty());
    let r = w.say("please, it's my number");
    assert!(
        !r.contains("Done!") && w.appointments.is_empty(),
        "words do not pass the check: {r}"
    );
    w.tap("yes");
    w.say("0722 000 111");
    let r = w.say("123456");
    assert!(r.contains("Done!"), "{r}");
    assert_eq!(w.phone, PhoneNumber::parse("+254722000111").ok());
    assert_eq!(w.booked_local(), ["2026-11-26 10:00"]);
}

#[test]
fn a_message_without_digits_while_the_number_is_asked_is_taken_as_at_the_confirmation() {
    let mut w = World::new();
    w.send_channel = Channel::Web;
    w.phone = None;
    w.say("Hi, I'd like to book box braids tomorrow at 10am");
    w.say("yes");
    let r = w.say("no, not now");
    assert!(r.contains("haven't booked anything"), "{r}");
    assert!(w.appointments.is_empty());
}

#[test]
fn phone_numbers_are_read_out_of_messages() {
    use super::machine::phone_in_for_tests as phone_in;
    for (text, want) in [
        ("0712 345 678", Some("+254712345678")),
        ("my number is +254 712 345 678", Some("+254712345678")),
        ("namba yangu ni 0712-345-678", Some("+254712345678")),
        ("it's 12 34", None),
        ("call me", None),
    ] {
        assert_eq!(
            phone_in(text).map(|p| p.expose().to_owned()).as_deref(),
            want,
            "{text}"
        );
    }
}

#[test]
fn yes_with_another_service_books_this_one_then_the_other() {
    let mut w = World::new();
    w.say("box braids tomorrow at 10am");
    assert!(matches!(w.state.step, Step::ConfirmSlot(_)));
    let r = w.say("yes, also a pedicure the day after at 2pm");
    assert!(r.contains("Done!"), "{r}");
    assert!(
        r.contains("Pedicure") && r.contains("Friday 27 Nov at 14:00"),
        "{r}"
    );
    assert_eq!(w.booked_local(), ["2026-11-26 10:00"]);
    let r = w.say("yes");
    assert!(r.contains("Done!"), "{r}");
    assert_eq!(w.booked_local(), ["2026-11-26 10:00", "2026-11-27 14:00"]);
}

#[test]
fn two_services_on_two_days_in_one_message_are_one_plan() {
    let mut w = World::new();
    let r = w.say("manicure friday at 10am and a pedicure saturday at 2pm");
    assert!(
        r.contains("Friday 27 Nov at 10:00") && r.contains("Saturday 28 Nov at 14:00"),
        "{r}"
    );
    w.say("yes");
    assert_eq!(w.booked_local(), ["2026-11-27 10:00", "2026-11-28 14:00"]);
}

#[test]
fn a_cancellation_with_a_new_request_books_it_after() {
    let mut w = World::new();
    w.say("box braids tomorrow at 10am");
    w.say("yes");
    assert_eq!(w.booked_local(), ["2026-11-26 10:00"]);
    let r = w.say("please cancel my box braids");
    assert!(r.contains("Cancel your Box Braids"), "{r}");
    let r = w.say("yes. then i want a pedicure instead, same time");
    assert!(r.contains("cancelled"), "{r}");
    assert!(
        r.contains("Pedicure") && r.contains("Thursday 26 Nov at 10:00"),
        "{r}"
    );
}
