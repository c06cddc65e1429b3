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

mod compound;

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
                self.occupy(staff_id, start, end);
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

    fn occupy(&mut self, staff: Uuid, start: DateTime<Utc>, end: DateTime<Utc>) {
        for s in &mut self.staff {
            if s.staff_id == staff {
                s.busy.push(Busy {
                    start,
                    end: end + Duration::minutes(15),
                });
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
    // The 45 min manicure ends 10:45; the next start on the 30 min grid.
    assert_eq!(w.booked_local(), ["2026-11-26 10:00", "2026-11-26 11:00"]);
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

#[test]
fn that_one_of_a_day_moved_in_sheng_is_a_move_not_a_new_booking() {
    let mut w = World::new();
    w.say("box braids tomorrow at 10am");
    w.say("yes");
    assert_eq!(w.booked_local(), ["2026-11-26 10:00"]);
    let r = w.say("niaje, ile ya alhamisi iende ijumaa saa hiyo hiyo");
    assert!(r.contains("Nihamishe"), "{r}");
    let r = w.say("poa");
    assert!(r.contains("imehamishwa"), "{r}");
    assert_eq!(w.booked_local(), ["2026-11-27 10:00"]);
}

#[test]
fn another_service_instead_while_times_are_offered_replaces_the_service() {
    let mut w = World::new();
    w.say("do you have box braids tomorrow morning");
    assert!(matches!(w.state.step, Step::ChooseSlot(_)));
    let r = w.say("ya but can you do a pedicure instead, 11am");
    assert!(r.contains("Pedicure") && r.contains("11:00"), "{r}");
    assert!(!r.contains("Box Braids"), "{r}");
}

#[test]
fn yes_but_first_a_question_does_not_book() {
    for answer in [
        "sawa lakini kwanza niambie bei",
        "ok but first tell me where you are",
    ] {
        let mut w = World::new();
        w.say("box braids tomorrow at 10am");
        w.say(answer);
        assert!(w.appointments.is_empty(), "{answer}");
        assert!(matches!(w.state.step, Step::ConfirmSlot(_)), "{answer}");
    }
}

#[test]
fn the_offered_time_turned_down_and_another_given_is_the_change() {
    let mut w = World::new();
    w.say("nataka kusuka kesho saa nne asubuhi");
    let r = w.say("samahani, saa nne nitakuwa bado kazini. rudisha saa nane mchana");
    assert!(r.contains("(14:00)"), "{r}");
    w.say("ndiyo");
    assert_eq!(w.booked_local(), ["2026-11-26 14:00"]);
}

#[test]
fn another_service_in_place_of_a_booking_keeps_its_time() {
    for (ask, answer) in [
        (
            "please change my box braids to a pedicure instead, same time",
            "yes",
        ),
        (
            "ile ya alhamisi nataka ibadilishwe iwe pedicure, time ni ile ile",
            "sawa",
        ),
        (
            "badala ya box braids nataka pedicure saa ile ile",
            "ndio badilisha",
        ),
    ] {
        let mut w = World::new();
        w.say("box braids tomorrow at 10am");
        w.say("yes");
        let braids = w.appointments[0];
        let r = w.say(ask);
        assert!(r.contains("Pedicure") || r.contains("miguu"), "{ask}: {r}");
        assert!(r.contains("10:00"), "{ask}: {r}");
        w.say(answer);
        assert_eq!(w.booked_local(), ["2026-11-26 10:00"], "{ask}");
        assert_eq!(w.appointments[0].id, braids.id, "{ask}: changed in place");
        assert_ne!(w.appointments[0].service_id, braids.service_id, "{ask}");
    }
}

#[test]
fn a_move_by_half_an_hour_is_not_blocked_by_its_own_time() {
    let mut w = World::new();
    w.say("pedicure tomorrow at 10am");
    w.say("yes");
    let staff = w.appointments[0].staff_id;
    let r = w.say("can you move my pedicure to 10:30 please");
    assert!(r.contains("10:30"), "{r}");
    w.say("yes");
    assert_eq!(w.booked_local(), ["2026-11-26 10:30"]);
    // Its own time left out, the same person is free half an hour later.
    assert_eq!(w.appointments[0].staff_id, staff);
}

#[test]
fn make_it_another_hour_right_after_booking_moves_that_booking() {
    for (change, want) in [
        ("sorry can we make it 12 instead", "2026-11-26 12:00"),
        ("aii make it 3pm badala", "2026-11-26 15:00"),
    ] {
        let mut w = World::new();
        w.say("wash and blow dry tomorrow at 10am");
        w.say("yes");
        assert_eq!(w.booked_local(), ["2026-11-26 10:00"]);
        let r = w.say(change);
        assert!(
            r.contains("Move your") || r.contains("Nihamishe"),
            "{change}: {r}"
        );
        w.say("yes");
        assert_eq!(w.booked_local(), [want], "{change}");
    }
}

#[test]
fn dropping_an_item_of_a_plan_keeps_its_start() {
    let mut w = World::new();
    let r = w.say("I want a manicure, a pedicure and a haircut tomorrow from 10");
    assert!(r.contains("10:00"), "{r}");
    let r = w.say("actually drop the pedicure, just manicure and haircut");
    assert!(!r.to_lowercase().contains("pedicure"), "{r}");
    w.say("yes");
    let booked = w.booked_local();
    assert_eq!(booked.len(), 2, "{booked:?}");
    assert_eq!(booked[0], "2026-11-26 10:00", "{booked:?}");
}

#[test]
fn two_people_and_one_person_free_are_done_one_after_the_other() {
    let mut w = World::new();
    // Only staff 101 works tomorrow.
    let start = tz()
        .with_ymd_and_hms(2026, 11, 26, 0, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    w.occupy(uuid(102), start, start + Duration::days(1));
    let r = w.say("me and my daughter both want pedicures tomorrow at 2pm");
    assert!(r.contains("one after the other"), "{r}");
    assert!(r.contains("14:00") && r.contains("15:30"), "{r}");
    w.say("yes");
    assert_eq!(w.booked_local(), ["2026-11-26 14:00", "2026-11-26 15:30"]);
}

/// Answers to "Shall I book it?" written by someone who had not read the
/// rules (fixtures/dialog_eval/answers.json: yes / no / not_yet / question /
/// change). Dangerous: a booking of what was proposed after anything but a
/// yes. Every 5th answer is held out of tuning (reported, not read).
#[test]
fn blind_answers_to_the_confirmation() {
    #[derive(serde::Deserialize)]
    struct Answer {
        id: String,
        text: String,
        label: String,
        lang: String,
    }
    let answers: Vec<Answer> =
        serde_json::from_str(include_str!("../../../fixtures/dialog_eval/answers.json")).unwrap();
    let verbose = std::env::var("ANSWERS_VERBOSE").is_ok_and(|v| v == "1");
    let mut tally: std::collections::BTreeMap<(bool, String), (u32, u32)> = Default::default();
    let (mut dangerous, mut dangerous_held) = (0u32, 0u32);
    for a in &answers {
        let held = a.id.trim_start_matches('q').parse::<u32>().unwrap_or(0) % 5 == 0;
        // As the author pictured it: Manicure with Fatuma on Wednesday at
        // 15:00, asked on the Monday; Achieng works there too.
        let mut w = World::new();
        w.now = Utc.with_ymd_and_hms(2026, 11, 23, 6, 0, 0).unwrap();
        w.config.catalog.staff[0].name = "Fatuma Hassan".into();
        w.config.catalog.staff[1].name = "Achieng Otieno".into();
        let sw = matches!(a.lang.as_str(), "sw" | "sheng");
        w.say(if sw {
            "nataka manicure na Fatuma jumatano saa tisa mchana"
        } else {
            "book me a manicure with Fatuma on wednesday at 3pm"
        });
        assert!(matches!(w.state.step, Step::ConfirmSlot(_)));
        let reply = w.say(&a.text);
        let as_proposed = w.booked_local() == ["2026-11-25 15:00"]
            && w.appointments[0].service_id == uuid(3)
            && w.appointments[0].staff_id == uuid(101);
        // A change that adds ("and a pedicure too") may book this one and
        // go on with the rest: dangerous only if nothing else follows.
        let ok = match a.label.as_str() {
            "yes" => as_proposed,
            "change" => !(as_proposed && matches!(w.state.step, Step::Idle)),
            _ => !as_proposed,
        };
        if !ok && a.label != "yes" {
            if held {
                dangerous_held += 1;
            } else {
                dangerous += 1;
            }
        }
        if !ok && !held && verbose {
            println!("{} [{}] {:?} -> {}", a.id, a.label, a.text, reply);
        }
        let t = tally.entry((held, a.label.clone())).or_default();
        t.0 += u32::from(ok);
        t.1 += 1;
    }
    for ((held, label), (ok, n)) in &tally {
        println!(
            "{} {label}: {ok}/{n}",
            if *held { "held-out" } else { "tune" }
        );
    }
    println!(
        "booked as proposed after anything but a yes: tune {dangerous}, held-out {dangerous_held}"
    );
    let yes_tune = tally.get(&(false, "yes".to_owned())).map_or(0, |t| t.0);
    // Measured 2026-12-07: before the conditions and question openers,
    // 20 / 3 dangerous and 102 yeses; after, 0 / 0 and 102 (of 104).
    assert_eq!((dangerous, dangerous_held), (0, 0), "dangerous bookings");
    assert!(yes_tune >= 102, "clear yeses missed: {yes_tune}");
}

#[test]
fn a_time_offered_instead_of_cancelling_moves_the_booking() {
    let mut w = World::new();
    w.say("pedicure tomorrow at 10am");
    w.say("yes");
    let r = w.say("samahani, nitashindwa kuja kesho");
    assert!(r.contains("Nifute"), "{r}");
    // Said late, it is still a "cannot come", not a question on lateness.
    let mut late = World::new();
    late.say("pedicure tomorrow at 10am");
    late.say("yes");
    let r = late.say("nimechelewa kuwaambia, kesho siwezi kuja saa nne");
    assert!(r.contains("Nifute"), "{r}");
    let r = w.say("inawezekana saa kumi jioni?");
    assert!(r.contains("Nihamishe") && r.contains("(16:00)"), "{r}");
    w.say("sawa");
    assert_eq!(w.booked_local(), ["2026-11-26 16:00"]);
}

#[test]
fn the_day_that_picks_a_booking_and_a_new_time_in_one_answer() {
    let mut w = World::new();
    w.say("pedicure tomorrow at 2pm");
    w.say("yes");
    w.say("manicure on friday at 11am");
    w.say("yes");
    let r = w.say("I need to move one of my bookings");
    assert!(r.contains("Which appointment"), "{r}");
    let r = w.say("the one on friday, can it be earlier? 9am");
    assert!(
        r.contains("Move your Manicure") && r.contains("09:00"),
        "{r}"
    );
    w.say("yes");
    assert_eq!(w.booked_local(), ["2026-11-26 14:00", "2026-11-27 09:00"]);
}

#[test]
fn same_as_last_time_books_the_last_service_again() {
    for (ask, answer) in [
        (
            "nataka ile kitu nilifanya last time, jumamosi saa tatu asubuhi",
            "sawa",
        ),
        ("Hi, the usual please, saturday at 9am", "yes"),
    ] {
        let mut w = World::new();
        let last = w.now - Duration::days(20);
        w.appointments.push(AppointmentSummary {
            id: uuid(900),
            service_id: uuid(2),
            staff_id: uuid(102),
            start: last,
            end: last + Duration::hours(3),
        });
        let r = w.say(ask);
        assert!(
            r.contains("Box Braids") || r.contains("Kusuka mabutu"),
            "{ask}: {r}"
        );
        assert!(r.contains("09:00"), "{ask}: {r}");
        w.say(answer);
        assert_eq!(w.appointments.len(), 2, "{ask}");
        assert_eq!(w.appointments[1].service_id, uuid(2), "{ask}");
        assert_eq!(w.booked_local()[1], "2026-11-28 09:00", "{ask}");
    }
}

/// A blind set of labelled answers (fixtures/dialog_eval/*.json); every
/// 5th is held out of tuning.
#[derive(serde::Deserialize)]
struct BlindAnswer {
    id: String,
    text: String,
    label: String,
    lang: String,
}

fn blind_answers(raw: &str) -> Vec<(bool, BlindAnswer)> {
    let answers: Vec<BlindAnswer> = serde_json::from_str(raw).unwrap();
    answers
        .into_iter()
        .map(|a| {
            let n: u32 =
                a.id.trim_start_matches(|c: char| c.is_ascii_alphabetic())
                    .parse()
                    .unwrap_or(0);
            (n % 5 == 0, a)
        })
        .collect()
}

/// Answers to "Cancel your Pedicure on Thursday at 11:00?" (cancel / keep /
/// move / not_yet / question). Dangerous: cancelled after anything but a
/// cancel.
#[test]
fn blind_answers_to_cancel_it() {
    let verbose = std::env::var("ANSWERS_VERBOSE").is_ok_and(|v| v == "1");
    let mut tally: std::collections::BTreeMap<(bool, String), (u32, u32)> = Default::default();
    let mut dangerous = [0u32; 2];
    for (held, a) in blind_answers(include_str!(
        "../../../fixtures/dialog_eval/cancel_answers.json"
    )) {
        let mut w = World::new();
        w.now = Utc.with_ymd_and_hms(2026, 11, 23, 6, 0, 0).unwrap();
        w.config.catalog.staff[0].name = "Fatuma Hassan".into();
        w.config.catalog.staff[1].name = "Achieng Otieno".into();
        let at = tz()
            .with_ymd_and_hms(2026, 11, 26, 11, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        w.appointments.push(AppointmentSummary {
            id: uuid(901),
            service_id: uuid(4),
            staff_id: uuid(101),
            start: at,
            end: at + Duration::hours(1),
        });
        let sw = matches!(a.lang.as_str(), "sw" | "sheng");
        let r = w.say(if sw {
            "naomba kufuta pedicure yangu"
        } else {
            "please cancel my pedicure"
        });
        assert!(matches!(w.state.step, Step::ConfirmCancel(_)), "{r}");
        let reply = w.say(&a.text);
        let cancelled = w.appointments.is_empty();
        let ok = match a.label.as_str() {
            "cancel" => cancelled,
            _ => !cancelled,
        };
        if !ok && a.label != "cancel" {
            dangerous[usize::from(held)] += 1;
        }
        if !ok && !held && verbose {
            println!("{} [{}] {:?} -> {}", a.id, a.label, a.text, reply);
        }
        let t = tally.entry((held, a.label.clone())).or_default();
        t.0 += u32::from(ok);
        t.1 += 1;
    }
    for ((held, label), (ok, n)) in &tally {
        println!(
            "{} {label}: {ok}/{n}",
            if *held { "held-out" } else { "tune" }
        );
    }
    println!(
        "cancelled after anything but a cancel: tune {}, held-out {}",
        dangerous[0], dangerous[1]
    );
    let cancel_tune = tally.get(&(false, "cancel".to_owned())).map_or(0, |t| t.0);
    // Measured 2026-12-07: before, 7 / 1 dangerous and 60 / 16 cancels
    // kept; after the negated and questioning forms, 0 / 1 and 62 / 16.
    assert!(
        dangerous[0] == 0 && dangerous[1] <= 1,
        "dangerous cancellations {dangerous:?}"
    );
    assert!(cancel_tune >= 62, "clear cancels missed: {cancel_tune}");
}

/// Answers to "Free times for Manicure: 1. Wednesday 10:00; 2. 11:30; 3.
/// 15:00. Which one suits you?" (pick1-3 / other / not_yet / no /
/// question). Wrong: the confirmation names an offered time the customer did
/// not pick.
#[test]
fn blind_answers_to_the_offered_times() {
    let verbose = std::env::var("ANSWERS_VERBOSE").is_ok_and(|v| v == "1");
    let mut tally: std::collections::BTreeMap<(bool, String), (u32, u32)> = Default::default();
    let mut wrong = [0u32; 2];
    for (held, a) in blind_answers(include_str!(
        "../../../fixtures/dialog_eval/offer_answers.json"
    )) {
        let mut w = World::new();
        w.now = Utc.with_ymd_and_hms(2026, 11, 23, 6, 0, 0).unwrap();
        let sw = matches!(a.lang.as_str(), "sw" | "sheng");
        w.say(if sw {
            "nataka manicure jumatano"
        } else {
            "i want a manicure on wednesday"
        });
        let slot = |h: u32, m: u32| {
            let start = tz()
                .with_ymd_and_hms(2026, 11, 25, h, m, 0)
                .unwrap()
                .with_timezone(&Utc);
            booking::Slot {
                staff_id: uuid(101),
                start,
                end: start + Duration::minutes(45),
            }
        };
        let offered = vec![slot(10, 0), slot(11, 30), slot(15, 0)];
        w.state.step = Step::ChooseSlot(ChooseSlot {
            purpose: Purpose::New,
            service: uuid(3),
            staff: None,
            when: super::when::When {
                date: chrono::NaiveDate::from_ymd_opt(2026, 11, 25),
                time: None,
                part: None,
            },
            offered: offered.clone(),
        });
        let reply = w.say(&a.text);
        let confirmed = match &w.state.step {
            Step::ConfirmSlot(c) => offered.iter().position(|s| s.start == c.slot.start),
            _ => None,
        };
        let ok = match a.label.as_str() {
            "pick1" => confirmed == Some(0),
            "pick2" => confirmed == Some(1),
            "pick3" => confirmed == Some(2),
            _ => confirmed.is_none(),
        };
        // Wrong, not just missed: an offered time proposed that was not picked.
        if !ok && confirmed.is_some() {
            wrong[usize::from(held)] += 1;
        }
        if !ok && !held && verbose {
            println!("{} [{}] {:?} -> {}", a.id, a.label, a.text, reply);
        }
        let t = tally.entry((held, a.label.clone())).or_default();
        t.0 += u32::from(ok);
        t.1 += 1;
    }
    for ((held, label), (ok, n)) in &tally {
        println!(
            "{} {label}: {ok}/{n}",
            if *held { "held-out" } else { "tune" }
        );
    }
    println!(
        "an offered time proposed that was not picked: tune {}, held-out {}",
        wrong[0], wrong[1]
    );
    // Measured 2026-12-07: before, 1 / 0 wrong and picks 102/120, 22/30;
    // after, 0 / 0 and 115/120, 24/30.
    assert_eq!(wrong, [0, 0], "wrong picks");
    let picked_tune: u32 = ["pick1", "pick2", "pick3"]
        .iter()
        .map(|l| tally.get(&(false, (*l).to_owned())).map_or(0, |t| t.0))
        .sum();
    assert!(picked_tune >= 115, "picks missed: {picked_tune}");
}

#[test]
fn a_service_taken_back_in_one_breath_is_not_booked() {
    let mut w = World::new();
    let r = w.say("hi i want a uh pedicure no sorry a manicure tomorrow at 12");
    assert!(r.contains("Manicure") && !r.contains("Pedicure"), "{r}");
    w.say("yes");
    assert_eq!(w.appointments.len(), 1);
    assert_eq!(w.appointments[0].service_id, uuid(3));
}

#[test]
fn one_of_two_peoples_services_replaced_keeps_the_other() {
    let mut w = World::new();
    let r = w.say("booking for me and my son tomorrow 4pm. me - pedicure, him - manicure");
    assert!(r.contains("Pedicure") && r.contains("Manicure"), "{r}");
    let r = w.say("actually make his wash and blow dry not manicure");
    assert!(r.contains("Pedicure") && r.contains("Wash"), "{r}");
    assert!(!r.contains("Manicure"), "{r}");
}
