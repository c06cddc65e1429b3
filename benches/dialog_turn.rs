//! Engine time of one WhatsApp turn: the pure dialogue (understanding,
//! routing, slot search over a week of four staff calendars) for every
//! customer message of the dialog evaluation (fixtures/dialog_eval), with
//! the runtime's actions answered in memory. Database time is not in it:
//! this is what the engine itself adds to a reply.
//!
//! `cargo bench --bench dialog_turn` prints p50 / p99 / max per turn.
//! Target (issue 10): p99 under 50 ms.

use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, NaiveTime, Utc};
use ratiba::core::booking::{self, StaffAvailability, WeeklyWindow};
use ratiba::core::dialog::catalog::{Catalog, ServiceInfo, StaffInfo};
use ratiba::core::dialog::personality::Personality;
use ratiba::core::dialog::{
    Action, AppointmentSummary, Channel, Customer, Dialog, DialogConfig, DialogState, Input,
    Output, Turn,
};
use ratiba::core::ids::Money;
use serde_json::Value;
use uuid::Uuid;

fn config() -> (DialogConfig, Vec<StaffAvailability>) {
    let raw: Value = serde_json::from_str(include_str!("../fixtures/demo/services.json")).unwrap();
    let services: Vec<ServiceInfo> = raw
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, s)| ServiceInfo {
            id: Uuid::from_u128(i as u128 + 1),
            name: s["name"].as_str().unwrap().into(),
            name_sw: s["name_sw"].as_str().map(Into::into),
            description: None,
            duration_min: s["duration_min"].as_u64().unwrap() as u32,
            buffer_min: s["buffer_min"].as_u64().unwrap() as u32,
            price: Money::kes(
                (s["price"].as_str().unwrap().parse::<f64>().unwrap() * 100.0) as i64,
            ),
        })
        .collect();
    let staff_raw: Value =
        serde_json::from_str(include_str!("../fixtures/demo/staff.json")).unwrap();
    let mut staff = Vec::new();
    let mut avail = Vec::new();
    for (i, m) in staff_raw["staff"].as_array().unwrap().iter().enumerate() {
        let id = Uuid::from_u128(100 + i as u128);
        let does: Vec<Uuid> = m["services"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|n| services.iter().find(|s| s.name == n.as_str().unwrap()))
            .map(|s| s.id)
            .collect();
        let t = |v: &Value| NaiveTime::parse_from_str(v.as_str().unwrap(), "%H:%M").unwrap();
        let weekly: Vec<WeeklyWindow> = m["schedule"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| WeeklyWindow {
                day_of_week: w["day_of_week"].as_u64().unwrap() as u8,
                start: t(&w["start_time"]),
                end: t(&w["end_time"]),
                is_available: true,
            })
            .collect();
        staff.push(StaffInfo {
            id,
            name: m["name"].as_str().unwrap().into(),
            services: does.clone(),
            weekly: weekly.clone(),
        });
        avail.push(StaffAvailability {
            staff_id: id,
            services: does,
            weekly,
            busy: vec![],
        });
    }
    let catalog = Catalog {
        business_name: "Nywele Bora Salon".into(),
        services,
        staff,
        cross_sell: vec![],
    };
    let mut config = DialogConfig::new(
        chrono_tz::Africa::Nairobi,
        catalog,
        Personality::resolve("salon", None),
    );
    config.pay_hint = Some("174379".into());
    (config, avail)
}

/// Every conversation of the evaluation: (start, messages).
fn conversations() -> Vec<(DateTime<Utc>, Vec<String>)> {
    let mut out = Vec::new();
    for raw in [
        include_str!("../fixtures/dialog_eval/set_a.json"),
        include_str!("../fixtures/dialog_eval/set_b.json"),
    ] {
        let v: Value = serde_json::from_str(raw).unwrap();
        for c in v.as_array().unwrap() {
            let now = DateTime::<FixedOffset>::parse_from_rfc3339(c["now"].as_str().unwrap())
                .unwrap()
                .with_timezone(&Utc);
            let msgs = c["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| match m {
                    Value::String(s) => s.clone(),
                    other => other["text"].as_str().unwrap_or("").to_owned(),
                })
                .collect();
            out.push((now, msgs));
        }
    }
    out
}

fn turn(
    config: &DialogConfig,
    avail: &[StaffAvailability],
    state: DialogState,
    text: &str,
    now: DateTime<Utc>,
) -> DialogState {
    let mut dialog = Dialog::new(config, state);
    let mut input = Some(Input::Turn(Turn {
        text: text.to_owned(),
        language_hint: None,
        channel: Channel::WhatsApp,
        customer: Customer::default(),
        dtmf: None,
        choice_id: None,
        force_language: None,
        now,
    }));
    while let Some(i) = input.take() {
        if dialog.handle_input(i).is_err() {
            break;
        }
        while let Some(out) = dialog.poll_output() {
            let Output::Action(a) = out else { continue };
            input = match a {
                Action::FindSlots(q) => {
                    Some(Input::Slots(booking::free_slots(config.tz, avail, &q)))
                }
                Action::Book {
                    service_id,
                    staff_id,
                    start,
                    end,
                    ..
                } => Some(Input::Booked(Ok(AppointmentSummary {
                    id: Uuid::new_v4(),
                    service_id,
                    staff_id,
                    start,
                    end,
                }))),
                Action::ListUpcoming | Action::ListRecent => Some(Input::Upcoming(vec![])),
                Action::FetchKnowledge { .. } => Some(Input::Knowledge(vec![])),
                Action::Cancel { appointment_id } => Some(Input::Cancelled(Ok(appointment_id))),
                Action::Reschedule { .. } => Some(Input::Upcoming(vec![])),
                Action::SendPhoneCode { .. } => Some(Input::CodeSent(Ok(()))),
                Action::CheckPhoneCode { .. } => Some(Input::CodeChecked(
                    ratiba::core::phone_check::CodeCheck::Verified,
                )),
                Action::HandOff { .. }
                | Action::StartPayment { .. }
                | Action::RememberName { .. }
                | Action::RememberPhone { .. } => None,
            }
            .or(input);
        }
    }
    dialog.into_state()
}

fn main() {
    let (config, avail) = config();
    // `cargo test --all-targets` runs this without `--bench`: one pass over
    // a few conversations proves it works; the measurement is `cargo bench`.
    let measuring = std::env::args().any(|a| a == "--bench");
    let mut convs = conversations();
    if !measuring {
        convs.truncate(20);
    }
    let passes = if measuring { 3 } else { 1 };
    let mut times: Vec<Duration> = Vec::new();
    // Three passes: the first warms caches; all are measured.
    for _ in 0..passes {
        for (now, msgs) in &convs {
            let mut state = DialogState::default();
            for (i, m) in msgs.iter().enumerate() {
                let at = *now + chrono::Duration::minutes(i as i64);
                let t0 = Instant::now();
                state = turn(&config, &avail, state, m, at);
                times.push(t0.elapsed());
            }
        }
    }
    times.sort();
    let q = |p: f64| times[((times.len() - 1) as f64 * p) as usize];
    println!(
        "dialog turn engine time over {} turns: p50 {:?}, p99 {:?}, max {:?}",
        times.len(),
        q(0.5),
        q(0.99),
        times[times.len() - 1]
    );
}
