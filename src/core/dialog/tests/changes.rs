//! Changes of a booking under way or already made, plans, corrections and
//! "same as last time" (sets g-k): each behaviour in a few phrasings.

use super::*;

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

#[test]
fn a_booking_stated_by_its_service_is_theirs_and_a_want_is_new() {
    // Booked on the Wednesday; said later in a new chat.
    for (said, then, want) in [
        (
            "hi uh i have box braids tomorrow",
            "can we push it to two pm",
            "2026-11-26 14:00",
        ),
        (
            "niko na box braids kesho saa nne",
            "naeza songesha iwe saa nane?",
            "2026-11-26 14:00",
        ),
    ] {
        let mut w = World::new();
        w.say("box braids tomorrow at 10am");
        w.say("yes");
        let braids = w.appointments[0].id;
        w.state = DialogState::default();
        w.say(said);
        w.say(then);
        w.say("yes");
        assert_eq!(w.booked_local(), [want], "{said} / {then}");
        assert_eq!(
            w.appointments[0].id, braids,
            "{said}: moved, not booked again"
        );
    }
    // Hair they have is not a booking they have.
    let mut w = World::new();
    let r = w.say("mathe niko na dredi zimekua mbaya, nataka retwist kesho saa tano");
    assert!(!r.contains("Sijapata miadi"), "{r}");
    // Asked when their own service is: what they have, not free times.
    let mut w = World::new();
    w.say("box braids tomorrow at 10am");
    w.say("yes");
    w.state = DialogState::default();
    let r = w.say("nimesahau, box braids yangu kesho ni saa ngapi?");
    assert!(r.contains("(10:00)") && !r.contains("Ipi inakufaa"), "{r}");
}

#[test]
fn a_booking_named_by_its_kind_is_the_one_of_that_kind() {
    for (said, yes) in [
        ("hi i need to cancel the nails one", "yes cancel it"),
        ("nataka kufuta ile ya kucha", "ndio"),
    ] {
        let mut w = World::new();
        w.say("box braids tomorrow at 10am");
        w.say("yes");
        w.say("manicure on friday at 2pm");
        w.say("yes");
        assert_eq!(w.appointments.len(), 2);
        w.state = DialogState::default();
        let r = w.say(said);
        assert!(
            r.contains("Manicure") || r.contains("mikono"),
            "{said}: {r}"
        );
        assert!(
            !r.contains("Box Braids") && !r.contains("Rasta"),
            "{said}: {r}"
        );
        w.say(yes);
        assert_eq!(w.booked_local(), ["2026-11-26 10:00"], "{said}");
    }
}

#[test]
fn cancelling_another_service_in_the_middle_of_a_booking_cancels_that_one() {
    for (said, yes) in [
        ("aii sawa. lakini cancel manicure ya friday", "ndio"),
        ("cancel the manicure but keep going with this", "yes"),
    ] {
        let mut w = World::new();
        w.say("manicure on friday at 2pm");
        w.say("yes");
        w.state = DialogState::default();
        w.say("box braids tomorrow");
        assert!(matches!(w.state.step, Step::ChooseSlot(_)));
        let r = w.say(said);
        assert!(
            r.contains("Manicure") || r.contains("mikono"),
            "{said}: {r}"
        );
        w.say(yes);
        assert!(
            w.appointments.is_empty(),
            "{said}: the manicure is cancelled"
        );
    }
    // The service under way itself: that booking stops, nothing cancelled.
    let mut w = World::new();
    w.say("manicure on friday at 2pm");
    w.say("yes");
    w.state = DialogState::default();
    w.say("box braids tomorrow");
    w.say("cancel the box braids");
    assert_eq!(w.booked_local(), ["2026-11-27 14:00"]);
}

#[test]
fn a_day_corrected_right_after_booking_moves_it() {
    for (fix, want) in [
        ("No wait. Friday same time.", "2026-11-27 10:00"),
        ("aii sorry, ijumaa saa nne", "2026-11-27 10:00"),
    ] {
        let mut w = World::new();
        w.say("box braids tomorrow at 10am");
        w.say("yes");
        let id = w.appointments[0].id;
        w.say(fix);
        w.say("yes");
        assert_eq!(w.booked_local(), [want], "{fix}");
        assert_eq!(w.appointments[0].id, id, "{fix}: moved, not booked again");
    }
}

#[test]
fn cancel_and_book_instead_on_another_day_is_a_move() {
    let mut w = World::new();
    w.say("box braids tomorrow at 10am");
    w.say("yes");
    let id = w.appointments[0].id;
    w.state = DialogState::default();
    let r = w.say(
        "Kindly cancel my appointment for tomorrow and book me instead on Friday at the same time.",
    );
    assert!(!r.contains("Cancel your"), "{r}");
    w.say("yes");
    assert_eq!(w.booked_local(), ["2026-11-27 10:00"]);
    assert_eq!(w.appointments[0].id, id);
}

#[test]
fn one_of_two_alike_bookings_is_either() {
    let mut w = World::new();
    w.say("box braids for me and my daughter tomorrow at 10am");
    w.say("yes");
    assert_eq!(w.appointments.len(), 2);
    w.state = DialogState::default();
    let r = w.say("one of my girls is sick, please cancel one of the box braids tomorrow");
    assert!(!r.contains("Which appointment"), "{r}");
    w.say("yes");
    assert_eq!(w.appointments.len(), 1);
}

#[test]
fn a_time_with_minutes_not_offered_is_not_the_offered_hour() {
    let mut w = World::new();
    w.say("box braids tomorrow afternoon");
    let Step::ChooseSlot(s) = &w.state.step else {
        panic!("times offered");
    };
    let offered: Vec<_> = s.offered.iter().map(|o| o.start).collect();
    let at = |h: u32| {
        tz().with_ymd_and_hms(2026, 11, 26, h, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    };
    assert!(offered.contains(&at(15)), "the 15:00 offered: {offered:?}");
    let r = w.say("uh is there anything at three forty five");
    let confirms_15 = matches!(&w.state.step, Step::ConfirmSlot(c) if c.slot.start == at(15));
    assert!(!confirms_15, "{r}");
}

#[test]
fn taking_it_off_while_moving_it_cancels_it() {
    let mut w = World::new();
    w.say("box braids on friday at 10am");
    w.say("yes");
    w.state = DialogState::default();
    w.say("can i move my box braids from friday to sunday?");
    w.say("aii sawa basi iondoe tu hiyo ya friday, nitakuja mwezi ujao");
    w.say("ndio iondoe");
    assert!(w.appointments.is_empty(), "{:?}", w.booked_local());
}

#[test]
fn the_weekday_after_is_after_the_day_talked_about() {
    let mut w = World::new();
    // Closed on Jamhuri Day (Saturday 12 Dec 2026): the Tuesday after is
    // the 15th, not this week's.
    let first = w.say("box braids on saturday 12th december at 10am");
    let r = w.say("oh okay the tuesday after then same time");
    assert!(r.contains("15 Dec"), "{first} / {r}");
}

#[test]
fn another_service_added_after_a_booking_they_have_starts_at_its_end() {
    for ask in [
        "hi, niko na booking ya box braids friday. can you add a manicure after the braids?",
        "nina booking ya box braids ijumaa, nataka kuongeza manicure baada ya hiyo",
    ] {
        let mut w = World::new();
        w.say("box braids on friday at 9am");
        w.say("yes");
        let braids = w.appointments[0];
        w.state = DialogState::default();
        let r = w.say(ask);
        let end = braids.end.with_timezone(&tz()).format("%H:%M").to_string();
        assert!(r.contains(&end), "{ask}: {r} (the braids end at {end})");
        w.say("yes");
        assert_eq!(w.appointments.len(), 2, "{ask}");
        assert_eq!(w.appointments[0], braids, "{ask}: the braids stay");
    }
}

#[test]
fn another_service_added_at_its_own_time_after_a_booking_takes_that_time() {
    let mut w = World::new();
    w.say("box braids on friday at 9am");
    w.say("yes");
    w.state = DialogState::default();
    let r =
        w.say("I have box braids on Friday at 9. Can I also do a manicure the same day at 3pm?");
    assert!(r.contains("15:00"), "{r}");
    w.say("yes");
    assert_eq!(w.booked_local(), ["2026-11-27 09:00", "2026-11-27 15:00"]);
    // "after my braids": theirs, not a second braids.
    let mut w = World::new();
    w.say("box braids on friday at 9am");
    w.say("yes");
    w.state = DialogState::default();
    let r = w.say("hi can i add a manicure at 3pm after my braids on friday?");
    assert!(r.contains("15:00") && !r.contains("Box Braids with"), "{r}");
    w.say("yes");
    assert_eq!(w.booked_local(), ["2026-11-27 09:00", "2026-11-27 15:00"]);
}

#[test]
fn a_booking_named_by_its_time_and_a_new_time_in_one_breath_moves() {
    let mut w = World::new();
    w.say("box braids on friday at 2pm");
    w.say("yes");
    w.state = DialogState::default();
    w.say("niko na appointment ya box braids ijumaa saa nane mchana, naeza kuja mapema saa nne asubuhi?");
    w.say("ndio");
    assert_eq!(w.booked_local(), ["2026-11-27 10:00"]);
    // One day and one time name the booking: nothing moved yet.
    let mut w = World::new();
    w.say("box braids on friday at 2pm");
    w.say("yes");
    w.state = DialogState::default();
    let r = w.say("I have a box braids booking on Friday at 2");
    assert!(!r.contains("Move your"), "{r}");
}

#[test]
fn a_time_moved_by_an_amount_moves_the_proposal_or_the_booking() {
    // At the confirmation: the proposed time, moved.
    for (answer, want) in [
        ("ok but can it be 30 min later", "2026-11-26 10:30"),
        ("an hour earlier pls", "2026-11-26 09:00"),
        ("sawa lakini nusu saa baadaye", "2026-11-26 10:30"),
    ] {
        let mut w = World::new();
        w.say("pedicure tomorrow at 10am");
        let r = w.say(answer);
        assert!(w.appointments.is_empty(), "{answer}: {r}");
        w.say("yes");
        assert_eq!(w.booked_local(), [want], "{answer}");
    }
    // A booking they have: its own time, moved.
    for (ask, want) in [
        (
            "can u push my appointment tmrw by an hour",
            "2026-11-26 11:00",
        ),
        ("isogeze na saa moja tafadhali", "2026-11-26 11:00"),
        (
            "can i come half an hour earlier tomorrow",
            "2026-11-26 09:30",
        ),
    ] {
        let mut w = World::new();
        w.say("pedicure tomorrow at 10am");
        w.say("yes");
        let r = w.say(ask);
        assert!(
            r.contains("Move your") || r.contains("Nihamishe"),
            "{ask}: {r}"
        );
        w.say("yes");
        assert_eq!(w.booked_local(), [want], "{ask}");
    }
}

#[test]
fn a_free_time_off_the_half_hour_grid_is_booked_as_asked() {
    for ask in [
        "pedicure tomorrow at 10:15",
        "nataka pedicure kesho saa nne na robo",
    ] {
        let mut w = World::new();
        let r = w.say(ask);
        assert!(r.contains("10:15"), "{ask}: {r}");
        w.say("yes");
        assert_eq!(w.booked_local(), ["2026-11-26 10:15"], "{ask}");
    }
}

#[test]
fn a_travel_day_is_no_booking_day_and_starting_gives_the_hour() {
    for ask in [
        "landing on 27th. want box braids and gel nails on saturday 28th, braids first at 8am then the nails after",
        "I'm flying back home on Sunday so box braids and gel nails on Saturday before I go, start at 8am",
        "box braids and gel nails on saturday, can she do both starting 8",
    ] {
        let mut w = World::new();
        let r = w.say(ask);
        assert!(r.contains("28 Nov") && r.contains("08:00"), "{ask}: {r}");
    }
}

#[test]
fn a_service_added_while_times_are_offered_is_planned_with_the_first() {
    let mut w = World::new();
    w.say("box braids tomorrow");
    assert!(matches!(w.state.step, Step::ChooseSlot(_)));
    w.say("and a manicure too");
    w.say("10am");
    w.say("yes");
    assert_eq!(w.appointments.len(), 2);
    // Someone they bring gets the one added, at the same time.
    let mut w = World::new();
    w.say("nataka box braids kesho");
    w.say("na mtoto wangu afanyiwe pedicure wakati huo huo");
    w.say("saa nne asubuhi");
    w.say("ndio");
    assert_eq!(w.booked_local(), ["2026-11-26 10:00", "2026-11-26 10:00"]);
    // A service in place of the first is no addition.
    let mut w = World::new();
    w.say("box braids tomorrow");
    w.say("actually a pedicure instead, 11am");
    w.say("yes");
    assert_eq!(w.appointments.len(), 1);
}

#[test]
fn two_services_each_at_its_own_time_of_one_day() {
    for ask in [
        "kesho nataka box braids kwa binti yangu saa nne asubuhi, na mimi nataka pedicure saa tano asubuhi",
        "tomorrow box braids at 10am and a pedicure at 11am",
    ] {
        let mut w = World::new();
        let r = w.say(ask);
        assert!(r.contains("10:00") && r.contains("11:00"), "{ask}: {r}");
        let y = w.say("yes");
        assert_eq!(
            w.booked_local(),
            ["2026-11-26 10:00", "2026-11-26 11:00"],
            "{ask}: {r} / {y}"
        );
    }
}

#[test]
fn own_times_given_once_the_service_is_asked_keep_the_day_said_before() {
    let mut w = World::new();
    w.say("Binti yangu anaolewa kesho");
    let r = w.say(
        "Tunataka box braids kwa bibi harusi saa nne asubuhi, na mimi mama yake nataka pedicure saa tano asubuhi siku hiyo hiyo.",
    );
    assert!(r.contains("(10:00)") && r.contains("(11:00)"), "{r}");
    w.say("ndio");
    assert_eq!(w.booked_local(), ["2026-11-26 10:00", "2026-11-26 11:00"]);
}

#[test]
fn just_one_of_a_plan_at_the_confirmation_drops_the_rest() {
    for answer in ["ok but just the manicure", "manicure tu"] {
        let mut w = World::new();
        let r = w.say("manicure and pedicure tomorrow at 10am");
        assert!(r.contains("Pedicure") || r.contains("miguu"), "{r}");
        let r = w.say(answer);
        assert!(w.appointments.is_empty(), "{answer}: {r}");
        w.say("yes");
        assert_eq!(w.booked_local(), ["2026-11-26 10:00"], "{answer}");
    }
}

#[test]
fn two_services_asked_at_the_same_time_start_together() {
    for ask in [
        "manicure and pedicure tomorrow at 10am at the same time",
        "nataka box braids kwa binti yangu na pedicure kwa mama yake kesho saa nne, wote wakati mmoja",
    ] {
        let mut w = World::new();
        w.say(ask);
        w.say("yes");
        assert_eq!(
            w.booked_local(),
            ["2026-11-26 10:00", "2026-11-26 10:00"],
            "{ask}"
        );
    }
}

#[test]
fn which_date_at_the_confirmation_is_told_and_still_asked() {
    for (ask, want) in [
        ("wait which date is that", "26 Nov"),
        ("ni tarehe gani?", "26 Novemba"),
    ] {
        let mut w = World::new();
        w.say("pedicure tomorrow at 10am");
        let r = w.say(ask);
        assert!(r.contains(want), "{ask}: {r}");
        assert!(w.appointments.is_empty(), "{ask}");
        w.say("yes");
        assert_eq!(w.booked_local(), ["2026-11-26 10:00"], "{ask}");
    }
}

#[test]
fn what_did_not_fit_after_the_first_is_tried_again_from_a_new_start() {
    let mut w = World::new();
    let r = w.say("manicure na pedicure kesho saa kumi na moja jioni");
    // 17:00 manicure, and the pedicure does not fit before 18:00.
    assert!(r.contains("(17:00)"), "{r}");
    assert!(!r.contains("Jumla"), "{r}");
    let r = w.say("basi tuanze saa saba mchana");
    assert!(r.contains("(13:00)") && r.contains("Jumla"), "{r}");
    w.say("ndio");
    assert_eq!(w.appointments.len(), 2);
}

#[test]
fn the_one_kept_or_named_beside_is_not_the_one_changed() {
    // "manicure ibaki": the other one is cancelled.
    let mut w = World::new();
    w.say("pedicure tomorrow at 10am");
    w.say("yes");
    w.say("manicure tomorrow at 2pm");
    w.say("yes");
    w.state = DialogState::default();
    let r = w.say("niko na manicure na pedicure kesho. Cancel tu pedicure, manicure ibaki.");
    assert!(r.contains("miguu"), "{r}");
    w.say("ndio");
    assert_eq!(w.booked_local(), ["2026-11-26 14:00"]);
    // "same day as my manicure": the other one moves.
    let mut w = World::new();
    w.say("pedicure tomorrow at 10am");
    w.say("yes");
    w.say("manicure on friday at 2pm");
    w.say("yes");
    w.state = DialogState::default();
    let r = w.say("can you move my pedicure to friday at 10am? same day as my manicure");
    assert!(r.contains("Pedicure") && !r.contains("Manicure"), "{r}");
    // "i need my pedicure earlier": theirs, moved.
    let mut w = World::new();
    w.say("pedicure on friday at 2pm");
    w.say("yes");
    w.state = DialogState::default();
    w.say("i need my pedicure earlier. can we do thursday 9am?");
    w.say("yes");
    assert_eq!(w.booked_local(), ["2026-11-26 09:00"]);
}
