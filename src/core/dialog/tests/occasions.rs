//! Keyboards, changes of mind, Swahili-first customers and occasions (sets
//! zl-zo): "sat" after a service, "like nine", "no wait, 10 is fine", an
//! event's day beside the booking's, two people said as "mimi … yeye …".
//! Each behaviour in a few phrasings.

use super::*;

#[test]
fn an_events_day_gives_way_to_the_day_said_for_the_booking() {
    // Today is Wednesday 25 November 2026.
    for ask in [
        "hi, my graduation is on saturday i need a manicure friday at 10",
        "graduation yangu ni Saturday. Nataka manicure Friday saa nne",
        "my birthday is saturday, manicure on friday 10am pls",
        "nataka manicure, kwa ajili ya kanisa Jumapili. Ijumaa saa nne",
    ] {
        let mut w = World::new();
        w.say(ask);
        assert_eq!(proposed(&w).as_deref(), Some("2026-11-27 10:00"), "{ask}");
    }
    // The event's day alone is the booking's (bridal hair on the day).
    let mut w = World::new();
    w.say("my graduation is on saturday, i need a manicure at 10");
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-28 10:00"));
}

#[test]
fn an_events_day_is_no_target_for_a_move() {
    let mut w = World::new();
    existing(&mut w, 900, 3, (27, 11, 0), 45);
    w.say("hey cn i chnge my manicure on frdy to pedicure instead? same tym. its b4 my graduation sat");
    let r = w.say("k");
    assert!(r.contains("27"), "{r}");
    assert_eq!(w.booked_local(), vec!["2026-11-27 11:00".to_owned()]);
}

#[test]
fn an_hour_said_to_suit_changes_the_proposal() {
    for (change, want) in [
        ("no wait, 10 is fine. the first time", "2026-11-25 10:00"),
        ("hapana wait, 10 ndio poa", "2026-11-25 10:00"),
        ("11 works better", "2026-11-25 11:00"),
    ] {
        let mut w = World::new();
        w.say("manicure today at 12?");
        assert_eq!(proposed(&w).as_deref(), Some("2026-11-25 12:00"));
        w.say(change);
        assert_eq!(proposed(&w).as_deref(), Some(want), "{change}");
        w.say("yes");
        assert_eq!(w.booked_local(), vec![want.to_owned()], "{change}");
    }
}

#[test]
fn a_hedged_hour_is_an_hour() {
    for (first, then) in [
        ("um hi i need box braids on saturday morning", "like nine"),
        ("box braids saturday pls", "like 9 in the morning"),
    ] {
        let mut w = World::new();
        w.say(first);
        w.say(then);
        assert_eq!(proposed(&w).as_deref(), Some("2026-11-28 09:00"), "{then}");
    }
    // "i'd like 2" is a count.
    let mut w = World::new();
    w.say("i'd like 2 manicures");
    assert!(proposed(&w).is_none(), "{:?}", w.state.step);
}

#[test]
fn sat_after_a_service_is_saturday() {
    for ask in ["msee nataka box braids sat", "pedicure sat, start 9am"] {
        let mut w = World::new();
        let r = w.say(ask);
        assert!(r.contains("Sat") || r.contains("Jumamosi"), "{ask}: {r}");
    }
}

#[test]
fn me_and_them_in_two_clauses_are_two_people_at_once() {
    let mut w = World::new();
    w.say("sasa, mimi na beste tunataka kuja jumamosi");
    w.say("mimi retwist ya dredi, yeye haircut. saa tano tukuje pamoja");
    let r = w.say("poa weka zote");
    assert_eq!(
        w.booked_local(),
        vec!["2026-11-28 11:00".to_owned(), "2026-11-28 11:00".to_owned()],
        "{r}"
    );
}

#[test]
fn a_person_asked_for_beside_a_word_like_a_day_is_handed_off() {
    let mut w = World::new();
    w.say("Habari za asubuhi. Nataka kuweka miadi ya box braids kwa binti yangu mwezi ujao.");
    w.say("Naomba niongee na mtu, msimamizi, kuna mambo mengi ya harusi ningependa kujadili naye moja kwa moja.");
    assert!(
        matches!(w.state.step, Step::HandedOff),
        "{:?}",
        w.state.step
    );
}

#[test]
fn a_service_corrected_right_after_it_is_said_replaces_it() {
    for ask in [
        "morning, braids today, manicure i mean, at 10",
        "morning, box braids today, pedicure i mean, at 10",
        "box braids tmrw, pedicure namaanisha, saa nne",
    ] {
        let mut w = World::new();
        w.say(ask);
        match &w.state.step {
            Step::ConfirmSlot(c) => {
                assert_ne!(c.service, uuid(2), "{ask}");
                assert!(w.state.plan.rest.is_empty(), "{ask}: {:?}", w.state.plan);
            }
            other => panic!("{ask}: {other:?}"),
        }
    }
}

#[test]
fn instead_of_one_of_a_plan_swaps_that_one_only() {
    for change in [
        "aa ngoja, badala ya haircut nifanyiwe pedicure",
        "actually instead of the haircut, a pedicure",
    ] {
        let mut w = World::new();
        w.say("Habari, nataka manicure na pia haircut kesho saa nne");
        assert!(
            matches!(w.state.step, Step::ConfirmSlot(_)),
            "{:?}",
            w.state.step
        );
        w.say(change);
        w.say("ndio sawa");
        let mut got = booked_services(&w);
        got.sort_unstable();
        assert_eq!(got, vec![3, 4], "{change}");
    }
}

#[test]
fn one_of_theirs_pointed_at_is_theirs_then_moved() {
    let mut w = World::new();
    // Their manicure on Friday 27 November at 15:00.
    existing(&mut w, 900, 3, (27, 15, 0), 45);
    let r = w.say("ile manicure yangu ya ijumaa");
    assert!(r.contains("15:00"), "{r}");
    w.say("naomba tuisogeze hadi jumamosi saa tisa");
    w.say("ndio sawa");
    assert_eq!(w.booked_local(), vec!["2026-11-28 15:00".to_owned()]);
}

#[test]
fn a_service_named_again_for_a_group_is_booked_for_each_of_them() {
    let mut w = World::new();
    w.say("Habari, nataka kuja Jumamosi hii na watoto wawili. Mimi nataka manicure, msichana mkubwa box braids na mdogo pia box braids. Wote saa nne asubuhi.");
    w.say("ndio weka zote");
    let mut got = booked_services(&w);
    got.sort_unstable();
    assert_eq!(got, vec![2, 2, 3], "{:?}", w.booked_local());
}

#[test]
fn the_same_stylist_again_is_no_second_person() {
    let mut w = World::new();
    w.say("Habari za asubuhi. Mimi ni Kemunto, nilikuja mwezi uliopita nikafanyiwa manicure na Akinyi. Ningependa kurudi Jumamosi hii saa nne, na kama inawezekana iwe yeye tena");
    w.say("Ndio");
    assert_eq!(w.booked_local(), vec!["2026-11-28 10:00".to_owned()]);
}

#[test]
fn a_childs_booking_named_as_theirs_is_moved() {
    let mut w = World::new();
    // Their son's haircut on Thursday 26 November at 16:00.
    existing(&mut w, 900, 1, (26, 16, 0), 30);
    w.say("Hi, kijana wangu ako na school trip thursday");
    w.say("tunaeza shift haircut yake to friday 4:30pm?");
    w.say("ndio sawa");
    assert_eq!(w.booked_local(), vec!["2026-11-27 16:30".to_owned()]);
}

#[test]
fn moved_to_the_next_one_is_a_week_later() {
    let mut w = World::new();
    existing(&mut w, 900, 2, (28, 9, 0), 180);
    w.say("Can we move her box braids from this saturday to the next one, same time?");
    w.say("yes");
    assert_eq!(w.booked_local(), vec!["2026-12-05 09:00".to_owned()]);
}

#[test]
fn odd_answers_to_offered_times_pick_one() {
    for (answer, want) in [
        ("option b", "2026-11-26 13:00"),
        ("any", "2026-11-26 09:00"),
        ("whichever", "2026-11-26 09:00"),
    ] {
        let mut w = World::new();
        let r = w.say("manicure tomorrow");
        assert!(r.contains("09:00") && r.contains("13:00"), "{r}");
        w.say(answer);
        assert_eq!(proposed(&w).as_deref(), Some(want), "{answer}");
    }
}

#[test]
fn my_2pm_names_their_booking() {
    let mut w = World::new();
    existing(&mut w, 900, 3, (25, 14, 0), 45);
    w.say("hi I can't make my 2pm today, can we do 4pm instead");
    w.say("yes thanks");
    assert_eq!(w.booked_local(), vec!["2026-11-25 16:00".to_owned()]);
}

#[test]
fn the_proposed_time_said_back_is_asked_again_with_its_time() {
    let mut w = World::new();
    w.say("manicure tomorrow at 10am");
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-26 10:00"));
    let r = w.say("saa nne asubuhi");
    assert!(r.contains("10:00"), "{r}");
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-26 10:00"));
    assert!(w.booked_local().is_empty());
}

#[test]
fn the_one_said_to_stay_is_never_the_one_cancelled() {
    let mut w = World::new();
    existing(&mut w, 900, 3, (28, 14, 0), 45);
    existing(&mut w, 901, 2, (26, 10, 0), 180);
    let r = w.say("naomba kucancel ile ya kucha jumamosi. ile ya kesho ya box braids ibaki tu");
    assert!(r.contains("28"), "{r}");
    w.say("ndio");
    assert_eq!(booked_services(&w), vec![2]);
}

#[test]
fn a_service_added_before_theirs_ends_by_its_start() {
    // Their pedicure tomorrow 14:00; a 30-minute haircut ends by then (no
    // turnover between one customer's services).
    for (ask, want) in [
        (
            "can i add a haircut before my pedicure tmrw? like 12?",
            "2026-11-26 12:00",
        ),
        (
            "i want to add a haircut right before my pedicure tomorrow",
            "2026-11-26 13:30",
        ),
    ] {
        let mut w = World::new();
        existing(&mut w, 1538, 4, (26, 14, 0), 60);
        let ap = *w.appointments.last().unwrap();
        w.occupy_own(ap.staff_id, ap.start, ap.end);
        w.say(ask);
        assert_eq!(proposed(&w).as_deref(), Some(want), "{ask}");
    }
}

#[test]
fn a_service_after_one_of_theirs_named_without_my() {
    let mut w = World::new();
    existing(&mut w, 1558, 2, (27, 10, 0), 180);
    w.say("Naomba manicure baada ya box braids ijumaa");
    let at = proposed(&w).unwrap_or_else(|| panic!("{:?}", w.state.step));
    assert!(at.as_str() >= "2026-11-27 13:00", "{at}");
}

#[test]
fn a_service_added_too_is_no_swap() {
    let mut w = World::new();
    existing(&mut w, 1535, 2, (26, 11, 0), 180);
    w.say("hey, tmrw's box braids can we make it an hour earlier pls. n the manicure after it too");
    w.say("yep");
    assert!(
        booked_services(&w).contains(&2),
        "{:?}",
        booked_services(&w)
    );
}

#[test]
fn the_one_said_to_be_fine_is_never_the_one_cancelled() {
    let mut w = World::new();
    existing(&mut w, 1583, 3, (28, 11, 0), 45);
    existing(&mut w, 1586, 6, (28, 14, 0), 90);
    let r = w.say("bro ile ya kucha sato icancel, retwist iko sawa");
    assert!(r.contains("11:00"), "{r}");
    w.say("ee");
    assert_eq!(booked_services(&w), vec![6]);
}

#[test]
fn the_thursday_one_is_the_booking_on_thursday() {
    let mut w = World::new();
    existing(&mut w, 1535, 3, (26, 11, 0), 45);
    existing(&mut w, 1582, 4, (28, 10, 0), 60);
    let r =
        w.say("i have 2 bookings this wk rite? can i move the thursday one to friday same time");
    assert!(r.contains("Fri") && r.contains("11:00"), "{r}");
}

#[test]
fn a_complaint_about_harm_or_treatment_goes_to_a_person() {
    for (first, then) in [
        (
            "Your relaxer burnt my scalp last week. I have wounds on my head",
            None,
        ),
        (
            "the lady who did my box braids yesterday pulled my hair so tight i have bumps all over",
            None,
        ),
        (
            "Habari",
            Some("Hii ni dharau kabisa. Nataka kuongea na mwenye salon"),
        ),
        (
            "Salaam",
            Some("Naomba namba ya mwenye salon tafadhali. Sitaki kuongea na mashine"),
        ),
    ] {
        let mut w = World::new();
        w.say(first);
        if let Some(then) = then {
            w.say(then);
        }
        assert!(
            matches!(w.state.step, Step::HandedOff),
            "{first}: {:?}",
            w.state.step
        );
    }
    // A wish about the next visit books.
    let mut w = World::new();
    w.say("last time I waited, can I get an early slot this time? manicure tomorrow at 9am");
    assert!(
        !matches!(w.state.step, Step::HandedOff),
        "{:?}",
        w.state.step
    );
}

#[test]
fn young_peoples_yeses_book() {
    for yes in ["bet", "say less"] {
        let mut w = World::new();
        w.say("hi can i book manicure thurs 10am");
        w.say(yes);
        assert_eq!(
            w.booked_local(),
            vec!["2026-11-26 10:00".to_owned()],
            "{yes}"
        );
    }
}

#[test]
fn a_bot_refused_asks_for_a_person() {
    let mut w = World::new();
    w.say("hi, mnaweza kuniunganisha na mtu, si bot pls");
    assert!(
        matches!(w.state.step, Step::HandedOff),
        "{:?}",
        w.state.step
    );
}

#[test]
fn a_meetings_time_is_no_new_time_for_the_booking() {
    for aside in [
        "wait how long does it take? nina meeting saa nane",
        "how long is it, i have a meeting at 2pm",
    ] {
        let mut w = World::new();
        w.say("manicure today at 11");
        assert_eq!(proposed(&w).as_deref(), Some("2026-11-25 11:00"));
        w.say(aside);
        assert_eq!(proposed(&w).as_deref(), Some("2026-11-25 11:00"), "{aside}");
    }
}
