//! Students between lectures and regulars with bookings (sets zd, ze):
//! the last free time, "after 5", a policy asked with "in case", a move
//! or a removal in Swahili verbs, "what do I have", a booking right after
//! theirs. Each behaviour in a few phrasings.

use super::*;

#[test]
fn the_latest_time_asked_for_is_the_last_free_one_that_day() {
    // Staff work 09:00-18:00; a retwist takes 90 minutes.
    for ask in [
        "need a retwist on friday, whats the latest i can come? i finish class at 4",
        "retwist friday. what's the latest slot you have?",
        "nataka retwist ijumaa, nafasi ya mwisho ni saa ngapi?",
    ] {
        let mut w = World::new();
        w.say(ask);
        let at = proposed(&w).unwrap_or_else(|| panic!("{ask}: no proposal"));
        assert!(at.starts_with("2026-11-27 16:"), "{ask}: {at}");
    }
    // "by 5 at the latest" sets a limit, it asks for no last time.
    let mut w = World::new();
    w.say("retwist friday, i need to leave by 5 at the latest");
    assert!(
        proposed(&w).is_none_or(|at| !at.ends_with("16:30")),
        "{:?}",
        w.state.step
    );
}

#[test]
fn after_an_hour_and_a_greeting_part_of_the_day() {
    // "morning!" greets; "after 5" is from 17:00 ("classes end 4:30" is
    // their own day).
    let mut w = World::new();
    let r = w.say("morning! do u have a slot for a haircut tmrw after 5? classes end 4:30");
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-26 17:00"), "{r}");
}

#[test]
fn an_hour_said_in_words_instead_changes_the_proposal() {
    for change in [
        "uh actually can we do eleven instead",
        "make it ten",
        "can we do 3 instead",
    ] {
        let mut w = World::new();
        w.say("box braids on saturday at nine in the morning");
        assert_eq!(proposed(&w).as_deref(), Some("2026-11-28 09:00"));
        w.say(change);
        let at = proposed(&w).unwrap_or_else(|| panic!("{change}: {:?}", w.state.step));
        assert_ne!(at, "2026-11-28 09:00", "{change}");
        w.say("yes thats fine");
        assert_ne!(w.booked_local(), ["2026-11-28 09:00"], "{change}");
    }
    // "the other one instead" names no hour.
    let mut w = World::new();
    w.say("box braids on saturday at nine in the morning");
    w.say("can i have the other one instead");
    assert!(w.appointments.is_empty());
}

#[test]
fn a_policy_asked_with_in_case_cancels_nothing() {
    for ask in [
        "hi, parking ni free? na in case nishindwe kuja kesho, ni muda gani mapema lazima ni-cancel?",
        "in case i have to cancel tomorrow, how early should i tell you?",
    ] {
        let mut w = World::new();
        existing(&mut w, 900, 1, (26, 10, 0), 30);
        let r = w.say(ask);
        assert!(
            !matches!(w.state.step, Step::ConfirmCancel(_)),
            "{ask}: {r}"
        );
        w.say("poa asante");
        assert_eq!(w.appointments.len(), 1, "{ask}");
        assert_eq!(w.booked_local(), ["2026-11-26 10:00"], "{ask}");
    }
}

#[test]
fn swahili_verbs_of_moving_and_removing() {
    // "ihamie" (let it move to): a move of theirs, not a new pedicure.
    let mut w = World::new();
    existing(&mut w, 900, 4, (27, 10, 0), 60);
    let r = w.say("sawa. basi pedicure yangu ya ijumaa ihamie jumamosi saa nne");
    assert!(r.contains("Nihamishe"), "{r}");
    w.say("ndio");
    assert_eq!(w.booked_local(), ["2026-11-28 10:00"]);
    // "ondoa" (take off): one of two removed.
    let mut w = World::new();
    existing(&mut w, 900, 3, (25, 14, 0), 45);
    existing(&mut w, 901, 4, (25, 15, 0), 60);
    w.say("tafadhali ondoa pedicure, nibaki na manicure tu");
    w.say("ndio");
    assert_eq!(w.appointments.len(), 1);
    assert_eq!(w.appointments[0].service_id, uuid(3));
}

#[test]
fn what_do_i_have_tells_their_bookings() {
    for (ask, said) in [
        ("morning, what do i have this week?", "You have"),
        ("niko na nini wiki hii?", "Una miadi"),
    ] {
        let mut w = World::new();
        existing(&mut w, 900, 3, (27, 11, 0), 45);
        let r = w.say(ask);
        assert!(r.contains(said) && r.contains("11:00"), "{ask}: {r}");
    }
    // "what do I have to pay?" asks no such thing.
    let mut w = World::new();
    existing(&mut w, 900, 3, (27, 11, 0), 45);
    let r = w.say("what do i have to pay for a manicure?");
    assert!(!r.contains("You have"), "{r}");
}

#[test]
fn a_booking_right_after_theirs() {
    for ask in [
        "hi i want to book a pedicure on friday right after my manicure",
        "nataka pia pedicure ijumaa baada ya manicure yangu",
    ] {
        let mut w = World::new();
        existing(&mut w, 900, 3, (27, 10, 0), 45);
        w.say(ask);
        let at = proposed(&w).unwrap_or_else(|| panic!("{ask}: {:?}", w.state.step));
        assert!(
            at.starts_with("2026-11-27 10:") || at == "2026-11-27 11:00",
            "{ask}: {at}"
        );
    }
}

#[test]
fn are_you_a_robot_is_answered_not_handed_off() {
    for ask in ["wewe ni robot?", "are you a robot?", "is this a bot"] {
        let mut w = World::new();
        let r = w.say(ask);
        assert!(!matches!(w.state.step, Step::HandedOff), "{ask}: {r}");
        assert!(
            r.contains("assistant") || r.contains("msaidizi"),
            "{ask}: {r}"
        );
    }
    // Asking for a person still hands off.
    let mut w = World::new();
    w.say("is this a bot? i want to talk to a real person");
    assert!(matches!(w.state.step, Step::HandedOff));
}

#[test]
fn the_service_replaced_is_not_booked_too() {
    let mut w = World::new();
    w.say("nataka kusukwa box braids jumamosi");
    assert!(matches!(w.state.step, Step::ChooseSlot(_)));
    w.say("aii make it a pedicure instead, box braids inakula time sana");
    w.say("saa tano");
    w.say("poa weka");
    assert_eq!(w.appointments.len(), 1, "{:?}", w.booked_local());
    assert_eq!(w.appointments[0].service_id, uuid(4));
}

#[test]
fn another_booking_said_to_stay_at_a_cancel_confirmation() {
    let mut w = World::new();
    existing(&mut w, 900, 3, (27, 16, 0), 45);
    existing(&mut w, 901, 4, (28, 11, 0), 60);
    let r = w.say("hi, cancel ile manicure ya friday, nimeitwa training Nakuru");
    assert!(matches!(w.state.step, Step::ConfirmCancel(_)), "{r}");
    w.say("ndio cancel, ile pedicure ibaki");
    assert_eq!(w.appointments.len(), 1);
    assert_eq!(w.appointments[0].service_id, uuid(4));
}

#[test]
fn a_service_added_right_after_the_one_just_booked() {
    let mut w = World::new();
    w.say("hi, manicure tomorrow at 10am?");
    w.say("yes");
    w.say("oh wait can i also add a pedicure right after?");
    // The manicure ends at 10:45 (and its 15 minutes of clearing after).
    let at = proposed(&w).unwrap_or_else(|| panic!("{:?}", w.state.step));
    assert!(at == "2026-11-26 10:45" || at == "2026-11-26 11:00", "{at}");
    let mut w = World::new();
    w.say("Hi, book me manicure kesho saa nne");
    w.say("yes");
    w.say("oh na pedicure pia baada ya hapo");
    let at = proposed(&w).unwrap_or_else(|| panic!("{:?}", w.state.step));
    assert!(at == "2026-11-26 10:45" || at == "2026-11-26 11:00", "{at}");
}

#[test]
fn a_request_ending_in_thanks_is_still_a_request() {
    let mut w = World::new();
    w.say("Gud mornin. I wud like a pedicur and manicur on thurday at 10am pls. Thanx");
    assert!(
        matches!(w.state.step, Step::ConfirmSlot(_)),
        "{:?}",
        w.state.step
    );
}

#[test]
fn a_question_beside_their_booking_is_answered_then_the_booking_handled() {
    // How to pay, asked with when theirs is: both said.
    let mut w = World::new();
    w.snippets.push(Snippet {
        category: "payment".into(),
        title: "Malipo".into(),
        body: "Tunapokea M-Pesa na pesa taslimu.".into(),
        language: "sw".into(),
    });
    existing(&mut w, 900, 3, (27, 11, 0), 45);
    let r = w.say("Habari. Manicure yangu ni saa ngapi ijumaa, na mnapokea mpesa?");
    assert!(r.contains("M-Pesa"), "{r}");
    assert!(r.contains("11:00"), "{r}");
    // A price asked with a move: the price said, the move proposed.
    let mut w = World::new();
    existing(&mut w, 900, 4, (26, 14, 0), 60);
    let r = w.say("hi, two things: can I move my pedicure from thursday to friday same time, and how much is a haircut?");
    assert!(r.contains("500"), "{r}");
    assert!(r.contains("Move your Pedicure"), "{r}");
    w.say("yes move it");
    assert_eq!(w.booked_local(), ["2026-11-27 14:00"]);
}

#[test]
fn holiday_visitors_dates_and_moves() {
    // A flight's date six words after the travel word is the flight's.
    let mut w = World::new();
    w.say("hi im flying in from london on the 28th nov. want to book box braids on the 30th of november at 9am");
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-30 09:00"));
    // "sat hii inakuja": this coming Saturday.
    let mut w = World::new();
    w.say("niaje, nataka dreadlocks retwist sat hii inakuja saa nne");
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-28 10:00"));
    // "ndege yangu imeahirishwa" (the flight was put off): the booking is
    // cancelled as asked, not moved.
    let mut w = World::new();
    existing(&mut w, 900, 1, (28, 10, 0), 30);
    let r = w.say("Habari, ndege yangu imeahirishwa, sitafika Jumamosi. Naomba mfute booking yangu ya haircut");
    assert!(r.contains("Nifute"), "{r}");
    // "from this Sat to next Sat": the week after.
    let mut w = World::new();
    existing(&mut w, 900, 2, (28, 9, 0), 180);
    let r = w.say("Hi, naweza move box braids zangu from this Sat to next Sat, same time?");
    assert!(r.contains("5 Dec"), "{r}");
}

#[test]
fn a_price_asked_after_prices_is_a_price() {
    for (first, next, price) in [
        (
            "Bei ya box braids na manicure ni ngapi?",
            "Na pedicure je?",
            "1,000",
        ),
        ("how much is a haircut?", "and a pedicure?", "1,000"),
    ] {
        let mut w = World::new();
        w.say(first);
        let r = w.say(next);
        assert!(r.contains(price), "{next}: {r}");
        assert!(w.appointments.is_empty());
    }
    // "and a pedicure tomorrow at 10" is a booking.
    let mut w = World::new();
    w.say("how much is a haircut?");
    w.say("and a pedicure tomorrow at 10");
    assert_eq!(proposed(&w).as_deref(), Some("2026-11-26 10:00"));
}

#[test]
fn a_move_to_an_hour_in_words() {
    let mut w = World::new();
    existing(&mut w, 900, 4, (27, 14, 0), 60);
    let r = w.say("hello uh niko na appointment ya pedicure friday at two can we push it to three");
    assert!(r.contains("15:00"), "{r}");
}
