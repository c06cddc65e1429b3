//! Blind sets of labelled answers to the dialog's three decision questions
//! (fixtures/dialog_eval/answers.json, cancel_answers.json,
//! offer_answers.json), each written by someone who had not read the
//! rules, replayed against the very question they answer. Every 5th answer
//! is held out of tuning (reported, never read). `ANSWERS_VERBOSE=1`
//! prints the tuning part's misses.

use super::*;

/// Answers to "Shall I book it?" written by someone who had not read the
/// rules (fixtures/dialog_eval/answers.json: yes / no / not_yet / question /
/// change). Dangerous: a booking of what was proposed after anything but a
/// yes. Every 5th answer is held out of tuning (reported, not read).
#[test]
fn blind_answers_to_the_confirmation() {
    let mut tally = Tally::default();
    let (mut dangerous, mut dangerous_held) = (0u32, 0u32);
    for (held, a) in blind_answers(include_str!(
        "../../../../fixtures/dialog_eval/answers.json"
    )) {
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
        tally.record(held, &a, ok, &reply);
    }
    tally.print();
    println!(
        "booked as proposed after anything but a yes: tune {dangerous}, held-out {dangerous_held}"
    );
    let yes_tune = tally.passed_tune("yes");
    // Measured 2026-12-07: before the conditions and question openers,
    // 20 / 3 dangerous and 102 yeses; after, 0 / 0 and 102 (of 104).
    assert_eq!((dangerous, dangerous_held), (0, 0), "dangerous bookings");
    assert!(yes_tune >= 102, "clear yeses missed: {yes_tune}");
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

/// Passed / total per (held out, label); the tuning part's misses printed
/// with `ANSWERS_VERBOSE=1`.
#[derive(Default)]
struct Tally(std::collections::BTreeMap<(bool, String), (u32, u32)>);

impl Tally {
    fn record(&mut self, held: bool, a: &BlindAnswer, ok: bool, reply: &str) {
        if !ok && !held && std::env::var("ANSWERS_VERBOSE").is_ok_and(|v| v == "1") {
            println!("{} [{}] {:?} -> {}", a.id, a.label, a.text, reply);
        }
        let t = self.0.entry((held, a.label.clone())).or_default();
        t.0 += u32::from(ok);
        t.1 += 1;
    }

    fn print(&self) {
        for ((held, label), (ok, n)) in &self.0 {
            let part = if *held { "held-out" } else { "tune" };
            println!("{part} {label}: {ok}/{n}");
        }
    }

    fn passed_tune(&self, label: &str) -> u32 {
        self.0.get(&(false, label.to_owned())).map_or(0, |t| t.0)
    }
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
            (n.is_multiple_of(5), a)
        })
        .collect()
}

/// Answers to "Cancel your Pedicure on Thursday at 11:00?" (cancel / keep /
/// move / not_yet / question). Dangerous: cancelled after anything but a
/// cancel.
#[test]
fn blind_answers_to_cancel_it() {
    let mut tally = Tally::default();
    let mut dangerous = [0u32; 2];
    for (held, a) in blind_answers(include_str!(
        "../../../../fixtures/dialog_eval/cancel_answers.json"
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
        tally.record(held, &a, ok, &reply);
    }
    tally.print();
    println!(
        "cancelled after anything but a cancel: tune {}, held-out {}",
        dangerous[0], dangerous[1]
    );
    let cancel_tune = tally.passed_tune("cancel");
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
    let mut tally = Tally::default();
    let mut wrong = [0u32; 2];
    for (held, a) in blind_answers(include_str!(
        "../../../../fixtures/dialog_eval/offer_answers.json"
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
            when: crate::core::dialog::when::When {
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
        tally.record(held, &a, ok, &reply);
    }
    tally.print();
    println!(
        "an offered time proposed that was not picked: tune {}, held-out {}",
        wrong[0], wrong[1]
    );
    // Measured 2026-12-07: before, 1 / 0 wrong and picks 102/120, 22/30;
    // after, 0 / 0 and 117/120, 25/30.
    assert_eq!(wrong, [0, 0], "wrong picks");
    let picked_tune: u32 = ["pick1", "pick2", "pick3"]
        .iter()
        .map(|l| tally.passed_tune(l))
        .sum();
    assert!(picked_tune >= 115, "picks missed: {picked_tune}");
}
