//! Regulars with bookings and burst texters (sets zy, yc, ye): someone
//! else's service at the same time as theirs, another staff member for
//! theirs, a change of mind at the cancel question, a booking told with its
//! time first, a bare "11", "na pedicure pia" at the confirmation.

use super::*;

/// One of their bookings, its staff member (101) busy then.
fn theirs(w: &mut World, id: u128, service: u128, local: (u32, u32, u32), minutes: i64) {
    existing(w, id, service, local, minutes);
    let ap = *w.appointments.last().unwrap();
    w.occupy_own(ap.staff_id, ap.start, ap.end);
}

#[test]
fn someone_elses_service_goes_at_the_start_of_theirs() {
    // Their manicure: Friday 27 November at 10:00, with staff 101.
    for (ask, want) in [
        (
            "can my daughter also get a manicure at the same time as mine on friday?",
            3,
        ),
        (
            "binti yangu anataka pedicure wakati ule ule wa manicure yangu ijumaa",
            4,
        ),
        (
            "my friend is coming with me, can she get a pedicure while im doing my manicure?",
            4,
        ),
        (
            "niko na manicure ijumaa saa nne. can i add my friend a manicure same time?",
            3,
        ),
    ] {
        let mut w = World::new();
        theirs(&mut w, 900, 3, (27, 10, 0), 45);
        w.say(ask);
        assert_eq!(proposed(&w).as_deref(), Some("2026-11-27 10:00"), "{ask}");
        w.say("yes");
        assert_eq!(w.appointments.len(), 2, "{ask}");
        let added = &w.appointments[1];
        assert_eq!(added.service_id, uuid(want), "{ask}");
        assert_eq!(added.start, w.appointments[0].start, "{ask}");
        assert_ne!(added.staff_id, w.appointments[0].staff_id, "{ask}");
    }
}

#[test]
fn with_nothing_booked_both_are_new_side_by_side() {
    let mut w = World::new();
    w.say("can i bring my daughter? she wants a pedicure while i do my manicure, friday 10am");
    w.say("yes");
    assert_eq!(
        w.booked_local(),
        vec!["2026-11-27 10:00".to_owned(), "2026-11-27 10:00".to_owned()]
    );
    let mut services = booked_services(&w);
    services.sort_unstable();
    assert_eq!(services, vec![3, 4]);
}

#[test]
fn another_staff_member_for_theirs_keeps_its_time() {
    let mut w = World::new();
    theirs(&mut w, 900, 3, (27, 10, 0), 45);
    w.say("hey can wanjiru do my manicure on friday instead?");
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-27 10:00"));
    w.say("yes pls");
    assert_eq!(w.appointments.len(), 1);
    assert_eq!(w.appointments[0].staff_id, uuid(102));
    assert_eq!(w.booked_local(), vec!["2026-11-27 10:00".to_owned()]);
}

#[test]
fn dont_cancel_but_move_at_the_cancel_question_moves_it() {
    let mut w = World::new();
    theirs(&mut w, 900, 3, (26, 10, 0), 45);
    w.say("hi i want to cancel my manicure on thursday");
    w.say("actually wait dont cancel. can i move it to friday same time instead?");
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-27 10:00"));
    w.say("yes");
    assert_eq!(w.booked_local(), vec!["2026-11-27 10:00".to_owned()]);
}

#[test]
fn a_yes_to_cancel_with_another_days_booking_kept_cancels() {
    let mut w = World::new();
    theirs(&mut w, 900, 4, (27, 15, 0), 60);
    theirs(&mut w, 901, 3, (28, 10, 0), 45);
    w.say("nataka kucancel ile ya jumamosi ya manicure");
    w.say("ndio icancel. ile ya ijumaa ibaki vile iko");
    assert_eq!(w.booked_local(), vec!["2026-11-27 15:00".to_owned()]);
}

#[test]
fn a_booking_told_with_its_time_first_is_theirs() {
    // Today, Wednesday 25 November: their manicure at 10:00.
    let mut w = World::new();
    theirs(&mut w, 900, 3, (25, 10, 0), 45);
    w.say("hi um this is grace i have a ten oclock manicure today");
    assert!(proposed(&w).is_none(), "{:?}", w.state.step);
    w.say("im running about ten minutes late is that okay");
    w.say("okay thank you");
    assert_eq!(w.appointments.len(), 1);
}

#[test]
fn a_time_asked_before_theirs_is_kept_when_it_ends_in_time() {
    // Their Haircut & Blow-dry (45 min) on Friday at 11:00; a pedicure
    // (60 min) at 10 ends at 11 with the other staff member.
    let mut w = World::new();
    theirs(&mut w, 900, 7, (27, 11, 0), 45);
    w.say("hi can i add a pedicure before my haircut on friday, at 10?");
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-27 10:00"));
}

#[test]
fn a_bare_hour_that_is_no_offered_number_is_an_hour() {
    let mut w = World::new();
    w.say("manicure tomorrow");
    w.say("11");
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-26 11:00"));
    // "2" of three offered is the second.
    let mut w = World::new();
    w.say("manicure tomorrow");
    let offered = match &w.state.step {
        Step::ChooseSlot(c) => c.offered[1].start,
        other => panic!("{other:?}"),
    };
    w.say("2");
    match &w.state.step {
        Step::ConfirmSlot(c) => assert_eq!(c.slot.start, offered),
        other => panic!("{other:?}"),
    }
}

#[test]
fn another_service_with_a_word_of_adding_at_the_confirmation_joins_the_plan() {
    for add in ["oh na pedicure pia", "and a pedicure too", "also pedicure"] {
        let mut w = World::new();
        w.say("manicure tomorrow at 10");
        assert_eq!(proposed(&w).as_deref(), Some("2026-11-26 10:00"));
        w.say(add);
        w.say("sawa");
        let mut services = booked_services(&w);
        services.sort_unstable();
        assert_eq!(services, vec![3, 4], "{add}");
    }
}

#[test]
fn several_moved_together_move_by_as_much_after_one_yes() {
    for (ask, want) in [
        (
            "hi, zile za kucha alhamisi naweza move both to friday same time?",
            ["2026-11-27 10:00", "2026-11-27 11:00"],
        ),
        (
            "can you move both my thursday appointments to friday",
            ["2026-11-27 10:00", "2026-11-27 11:00"],
        ),
        (
            "tuhamishe zote mbili za alhamisi hadi ijumaa saa nane",
            ["2026-11-27 14:00", "2026-11-27 15:00"],
        ),
    ] {
        let mut w = World::new();
        theirs(&mut w, 900, 3, (26, 10, 0), 45);
        theirs(&mut w, 901, 4, (26, 11, 0), 60);
        let r = w.say(ask);
        assert_eq!(proposed(&w).as_deref(), Some(want[0]), "{ask}: {r}");
        assert!(r.contains(&want[1][11..]), "{ask}: {r}");
        w.say("ndio sawa");
        assert_eq!(w.booked_local(), want.to_vec(), "{ask}");
    }
}

#[test]
fn one_of_several_moved_together_can_stay() {
    for narrow in [
        "aah ngoja, pedicure pekee. manicure ibaki alhamisi",
        "wait, only the pedicure",
    ] {
        let mut w = World::new();
        theirs(&mut w, 900, 3, (26, 10, 0), 45);
        theirs(&mut w, 901, 4, (26, 11, 0), 60);
        w.say("can you move both my thursday appointments to friday");
        w.say(narrow);
        assert_eq!(
            proposed(&w).as_deref(),
            Some("2026-11-27 11:00"),
            "{narrow}"
        );
        w.say("yes");
        assert_eq!(
            w.booked_local(),
            vec!["2026-11-26 10:00".to_owned(), "2026-11-27 11:00".to_owned()],
            "{narrow}"
        );
    }
}

#[test]
fn the_same_day_next_week_is_a_week_on() {
    let mut w = World::new();
    theirs(&mut w, 900, 3, (26, 13, 0), 45);
    w.say("hey can u push my manicure to the same day next week, same time");
    assert_eq!(proposed(&w).as_deref(), Some("2026-12-03 13:00"));
}

#[test]
fn the_same_time_as_last_time_is_the_last_ones_time() {
    for ask in [
        "hey, need my manicure again, same time as last time but this saturday",
        "Habari, nataka manicure tena, saa ile ile kama mara ya mwisho, jumamosi hii",
    ] {
        let mut w = World::new();
        // Last time: Friday 20 November at 11:00.
        theirs(&mut w, 900, 3, (20, 11, 0), 45);
        w.say(ask);
        assert_eq!(proposed(&w).as_deref(), Some("2026-11-28 11:00"), "{ask}");
    }
}

#[test]
fn one_customers_services_follow_each_other_with_no_turnover() {
    // Their manicure (45 min) on Thursday at 14:00 with staff 101; the
    // other staff member is away, so the pedicure is with 101 too.
    let mut w = World::new();
    theirs(&mut w, 900, 3, (26, 14, 0), 45);
    let away = tz()
        .with_ymd_and_hms(2026, 11, 26, 0, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    w.occupy(uuid(102), away, away + Duration::days(1));
    w.say("hi i have a manicure on thursday, can u add a pedicure right after it");
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-26 14:45"));
    // Another customer's booking keeps its 15 minutes of turnover.
    let mut w = World::new();
    existing(&mut w, 900, 3, (26, 14, 0), 45);
    let ap = w.appointments.remove(0);
    w.occupy(ap.staff_id, ap.start, ap.end);
    w.occupy(uuid(102), away, away + Duration::days(1));
    w.say("pedicure on thursday at 14:45");
    assert_ne!(proposed(&w).as_deref(), Some("2026-11-26 14:45"));
}

#[test]
fn scrap_that_at_the_confirmation_replaces_the_service() {
    let mut w = World::new();
    w.say("pedicure tomorrow at 10am");
    w.say("scrap that, nataka tu manicure simple. pedicure ni expensive");
    w.say("yes");
    assert_eq!(booked_services(&w), vec![3]);
}

#[test]
fn a_coastal_nnayo_miadi_is_their_booking_moved() {
    let mut w = World::new();
    theirs(&mut w, 900, 6, (28, 9, 0), 90);
    w.say("Salaam aleikum. Nnayo miadi ya dredi juma mosi saa tatu asubuhi. Ntaweza kuja saa kumi alasiri badala yake?");
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-28 16:00"));
    w.say("Naam, sawa.");
    assert_eq!(w.booked_local(), vec!["2026-11-28 16:00".to_owned()]);
}

#[test]
fn a_service_spelt_as_said_in_swahili_is_known() {
    let mut w = World::new();
    w.say("Habri. nilikua nataka pedikyua jumatano sa nane mchana");
    // Today is Wednesday 25 November.
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-25 14:00"));
}

#[test]
fn theirs_stated_then_another_time_instead_is_a_move() {
    let mut w = World::new();
    theirs(&mut w, 900, 2, (28, 9, 0), 180);
    w.say("hi this is Njeri, i have box braids on saturday at 9. can i come at 11 instead?");
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-28 11:00"));
    w.say("yes");
    assert_eq!(w.booked_local(), vec!["2026-11-28 11:00".to_owned()]);
}

#[test]
fn coming_earlier_on_a_day_moves_that_days_booking() {
    let mut w = World::new();
    theirs(&mut w, 900, 6, (25, 15, 0), 90);
    theirs(&mut w, 901, 3, (27, 10, 0), 45);
    w.say("habari, jumatano naweza kuja mapema kidogo? kama saa tatu asubuhi");
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-25 09:00"));
}

#[test]
fn cant_come_earlier_is_no_move() {
    let mut w = World::new();
    let r = w.say("manicure tmrw at 4pm? im a teacher so cant come earlier");
    assert!(!r.contains("can't find"), "{r}");
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-26 16:00"));
}

#[test]
fn right_after_mine_when_the_same_start_is_not_free() {
    // Only staff 101 does manicures that day (102 is away).
    let mut w = World::new();
    theirs(&mut w, 900, 3, (25, 10, 0), 45);
    let away = tz()
        .with_ymd_and_hms(2026, 11, 25, 0, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    w.occupy(uuid(102), away, away + Duration::days(1));
    w.say("hello, my friend wants a manicure too. can she come at the same time as me today?");
    assert!(proposed(&w).is_none());
    w.say("oh ok. then right after mine");
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-25 10:45"));
}

#[test]
fn when_is_mine_and_can_she_come_then_books_hers_with_it() {
    let mut w = World::new();
    theirs(&mut w, 900, 3, (28, 10, 0), 45);
    let r =
        w.say("hi when is my manicure? and can my sister come at the same time for a manicure too");
    assert!(r.contains("10:00"), "{r}");
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-28 10:00"));
}

#[test]
fn two_added_after_theirs_follow_it_in_one_plan() {
    let mut w = World::new();
    theirs(&mut w, 900, 2, (28, 9, 0), 180);
    w.say("hi after my braids on sat can i also get a mani pedi?");
    w.say("yes go ahead");
    assert_eq!(
        w.booked_local(),
        vec![
            "2026-11-28 09:00".to_owned(),
            "2026-11-28 12:00".to_owned(),
            "2026-11-28 12:45".to_owned()
        ]
    );
    assert_eq!(booked_services(&w), vec![2, 3, 4]);
}

#[test]
fn a_move_with_a_service_added_after_it_does_both() {
    let mut w = World::new();
    theirs(&mut w, 900, 5, (26, 14, 0), 45);
    w.say("hi can i move my wash and blow dry to friday 10am and add a manicure after it");
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-27 10:00"));
    w.say("yes both");
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-27 10:45"));
    w.say("ok yes");
    assert_eq!(
        w.booked_local(),
        vec!["2026-11-27 10:00".to_owned(), "2026-11-27 10:45".to_owned()]
    );
}

#[test]
fn before_theirs_instead_when_right_after_is_not_free() {
    // Their manicure (45 min) on Saturday at 14:30 with 101; 102 away;
    // 101 busy with another customer from 15:15.
    let mut w = World::new();
    theirs(&mut w, 900, 3, (28, 14, 30), 45);
    let day = tz()
        .with_ymd_and_hms(2026, 11, 28, 0, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    w.occupy(uuid(102), day, day + Duration::days(1));
    let later = tz()
        .with_ymd_and_hms(2026, 11, 28, 15, 15, 0)
        .unwrap()
        .with_timezone(&Utc);
    w.occupy(uuid(101), later, later + Duration::hours(2));
    w.say("can i add a pedicure right after my manicure on saturday?");
    assert!(proposed(&w).is_none());
    w.say("oh ok, can it be before the manicure then");
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-28 13:30"));
    w.say("yes");
    assert_eq!(booked_services(&w), vec![3, 4]);
}

#[test]
fn moved_from_one_day_to_another_or_a_week_on() {
    let mut w = World::new();
    theirs(&mut w, 900, 3, (27, 15, 0), 45);
    w.say("hi uh i want to move my manicure");
    w.say("from friday to saturday same time");
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-28 15:00"));
    let mut w = World::new();
    theirs(&mut w, 900, 3, (27, 14, 0), 45);
    w.say("can we push my manicure to next week? same day same time");
    assert_eq!(proposed(&w).as_deref(), Some("2026-12-04 14:00"));
}

#[test]
fn theirs_called_off_or_moved_in_swahili() {
    let mut w = World::new();
    theirs(&mut w, 900, 3, (27, 11, 0), 45);
    let r = w.say("eeh habari nataka kukatisha miadi yangu ya ijumaa ya manicure");
    assert!(matches!(w.state.step, Step::ConfirmCancel(_)), "{r}");
    // "ziwe jumatano saa nne": the day after "ziwe" is the new one.
    let mut w = World::new();
    theirs(&mut w, 900, 3, (26, 10, 0), 45);
    w.say("Naomba kuhamisha manicure zangu za alhamisi ziwe ijumaa saa nne");
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-27 10:00"));
}

#[test]
fn right_after_once_one_is_booked_beside_theirs_means_the_new_one() {
    let mut w = World::new();
    theirs(&mut w, 900, 3, (26, 10, 0), 45);
    w.say("can i add a pedicure right after my manicure tomorrow");
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-26 10:45"));
    w.say("yes");
    w.say("oh wait can i also add a haircut right after?");
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-26 11:45"));
}
