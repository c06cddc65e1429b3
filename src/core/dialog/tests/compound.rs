//! Compound and side questions, names given at the confirmation, and words
//! a service match has taken (set_g / set_h): each behaviour in several
//! phrasings, English and Swahili.

use super::*;

/// The tenant's parking and cancellation snippets, in both languages.
fn with_policies(w: &mut World) {
    w.snippets.retain(|s| s.category != "general");
    let snippet = |category: &str, language: &str, body: &str| Snippet {
        category: category.into(),
        title: category.into(),
        body: body.into(),
        language: language.into(),
    };
    w.snippets.extend([
        snippet(
            "parking",
            "en",
            "Free parking in the basement for up to three hours.",
        ),
        snippet(
            "parking",
            "sw",
            "Maegesho ya bure sehemu ya chini kwa hadi saa tatu.",
        ),
        snippet(
            "payment",
            "en",
            "We take M-Pesa, Visa and Mastercard cards, and cash.",
        ),
        snippet(
            "payment",
            "sw",
            "Tunapokea M-Pesa, kadi za Visa na Mastercard, na pesa taslimu.",
        ),
        snippet(
            "general",
            "en",
            "Please cancel or reschedule at least 3 hours before your appointment.",
        ),
        snippet(
            "general",
            "sw",
            "Tafadhali ghairi au badilisha miadi angalau saa tatu kabla.",
        ),
    ]);
}

/// The demo staff with what each does: Akinyi everything but box braids,
/// Wanjiru box braids and dreadlocks.
fn with_staff_services(w: &mut World) {
    w.config.catalog.staff[0].services = vec![uuid(1), uuid(3), uuid(4), uuid(6)];
    w.config.catalog.staff[1].services = vec![uuid(2), uuid(6)];
}

#[test]
fn parking_payment_and_the_cancellation_notice_in_one_question() {
    for text in [
        "is there parking, do you accept Visa cards, and how much notice do you need if I have to cancel?",
        "Do you have parking? Can I pay by card? And if I need to cancel, how many hours before?",
        "what about parking, visa, and how early must I tell you if I have to cancel",
    ] {
        let mut w = World::new();
        with_policies(&mut w);
        let r = w.say(text);
        assert!(r.contains("basement"), "{text}: {r}");
        assert!(r.contains("Visa"), "{text}: {r}");
        assert!(r.contains("3 hours"), "{text}: {r}");
        assert!(w.appointments.is_empty(), "{text}");
    }
    for text in [
        "kuna parking, mnakubali kadi ya visa, na nikitaka kughairi niwajulishe mapema kiasi gani?",
        "mna maegesho? na nikihitaji kubadilisha, ni lazima niwajulishe mapema kiasi gani?",
    ] {
        let mut w = World::new();
        with_policies(&mut w);
        let r = w.say(text);
        assert!(r.contains("Maegesho"), "{text}: {r}");
        assert!(r.contains("saa tatu kabla"), "{text}: {r}");
    }
}

#[test]
fn the_notice_asked_at_the_confirmation_is_answered_and_the_booking_carries_on() {
    for (ask, yes, want) in [
        (
            "Je, nikihitaji kubadilisha, ni lazima niwajulishe mapema kiasi gani?",
            "Sawa, ndiyo niwekee.",
            "saa tatu",
        ),
        (
            "nikitaka kughairi, niwaarifu saa ngapi kabla?",
            "sawa weka",
            "saa tatu",
        ),
        (
            "and if I need to change it, how much notice do you need?",
            "ok book it",
            "3 hours",
        ),
        (
            "how many hours before must I cancel if something comes up?",
            "yes",
            "3 hours",
        ),
    ] {
        let mut w = World::new();
        with_policies(&mut w);
        let r = w.say("manicure tomorrow at 10am");
        assert!(r.contains("Shall I book it?"), "{r}");
        let r = w.say(ask);
        assert!(r.contains(want), "{ask}: {r}");
        assert!(
            !r.contains("KES"),
            "{ask}: the price is not what was asked: {r}"
        );
        assert!(w.appointments.is_empty(), "{ask}");
        w.say(yes);
        assert_eq!(w.booked_local(), ["2026-11-26 10:00"], "{ask}");
    }
}

#[test]
fn how_long_two_services_take_together() {
    for (text, want) in [
        (
            "How much is a pedicure, how much is a manicure, and how long would the two take together?",
            "1 hour 45 min",
        ),
        (
            "manicure and pedicure, how long will they take in total?",
            "1 hour 45 min",
        ),
        (
            "bei ya manicure na pedicure ni ngapi na zitachukua muda gani?",
            "saa 1 na dakika 45",
        ),
    ] {
        let mut w = World::new();
        let r = w.say(text);
        assert!(r.contains(want), "{text}: {r}");
        assert!(
            r.contains("KES 800") || text.contains("how long will"),
            "{r}"
        );
        // Each duration said once, then the total.
        if want.contains("min") {
            assert_eq!(r.matches("45 min").count(), 2, "{text}: {r}");
        }
    }
}

#[test]
fn both_services_asked_about_are_booked_in_the_order_said() {
    for (text, first) in [
        (
            "Let me book both for Friday at 10 in the morning, manicure first.",
            3,
        ),
        ("ok both on friday 10am, the pedicure first", 4),
        ("nibookie zote ijumaa saa nne asubuhi, manicure kwanza", 3),
    ] {
        let mut w = World::new();
        w.say("How much is a pedicure, and how much is a manicure?");
        let r = w.say(text);
        assert!(
            r.contains("Shall I book them?") || r.contains("Nikuwekee"),
            "{text}: {r}"
        );
        w.say("yes");
        let second = if first == 3 { 4 } else { 3 };
        assert_eq!(booked_services(&w), [first, second], "{text}");
        assert_eq!(w.booked_local()[0], "2026-11-27 10:00", "{text}");
    }
    // "both of us" is two people, not the two services.
    let mut w = World::new();
    w.say("How much is a pedicure, and how much is a manicure?");
    w.say("manicure for both of us on friday at 10am");
    w.say("yes");
    assert_eq!(booked_services(&w), [3, 3]);
}

#[test]
fn who_does_a_service_and_whether_a_named_person_does_it() {
    for (text, wants) in [
        (
            "Who does dreadlocks retwist at your salon, and what is the charge?",
            &["Akinyi and Wanjiru", "KES 1,500"][..],
        ),
        ("which stylist does box braids?", &["Wanjiru"][..]),
        (
            "nani hufanya kusokota rasta na bei ni ngapi?",
            &["Akinyi na Wanjiru", "KES 1,500"][..],
        ),
        (
            "does Akinyi do box braids?",
            &["Akinyi does not do Box Braids", "Wanjiru"][..],
        ),
        ("na Wanjiru anafanya box braids?", &["Wanjiru"][..]),
        ("what does Akinyi do?", &["Akinyi does Haircut"][..]),
    ] {
        let mut w = World::new();
        with_staff_services(&mut w);
        let r = w.say(text);
        for want in wants {
            assert!(r.contains(want), "{text}: {r}");
        }
        assert!(w.appointments.is_empty(), "{text}");
    }
    // Then booking with one of them.
    let mut w = World::new();
    with_staff_services(&mut w);
    w.say("Who does dreadlocks retwist?");
    let r = w.say("Then book me with Wanjiru tomorrow at 2pm.");
    assert!(r.contains("Wanjiru") && r.contains("14:00"), "{r}");
    w.say("yes");
    assert_eq!(w.appointments[0].staff_id, uuid(102));
}

#[test]
fn a_name_given_with_the_yes_is_taken_and_books_without_picking_staff() {
    for (text, name) in [
        (
            "Yes. Kindly register the appointment under the name Nyambura Kamau.",
            "Nyambura Kamau",
        ),
        ("yes, book it under Grace Kamau", "Grace Kamau"),
        ("yes please, in the name of Joyce Kamau", "Joyce Kamau"),
        ("ndio, weka kwa jina la Halima Kamau", "Halima Kamau"),
        ("sawa. jina ni Nekesa Kamau", "Nekesa Kamau"),
    ] {
        let mut w = World::new();
        let r = w.say("manicure tomorrow at 10am");
        assert!(r.contains("with Akinyi"), "{r}");
        w.say(text);
        assert_eq!(w.name.as_deref(), Some(name), "{text}");
        assert_eq!(w.booked_local(), ["2026-11-26 10:00"], "{text}");
        // "Kamau" is the customer's surname, not Wanjiru Kamau.
        assert_eq!(w.appointments[0].staff_id, uuid(101), "{text}");
    }
}

#[test]
fn a_service_heard_as_manager_is_not_a_request_for_a_person() {
    for text in [
        "hello uh i want to book a manage cure for tomorrow at eleven",
        "i want a manage cure tomorrow at 11",
        "nataka manage cure kesho saa tano",
    ] {
        let mut w = World::new();
        w.send_channel = Channel::Voice;
        let r = w.say(text);
        assert!(
            !w.actions
                .iter()
                .any(|a| matches!(a, Action::HandOff { .. })),
            "{text}: {r}"
        );
        assert!(
            r.contains("Manicure") || r.contains("kucha za mikono"),
            "{text}: {r}"
        );
    }
    for text in [
        "I want to speak to the manager about my manicure",
        "manager please",
        "nataka kuongea na meneja kuhusu pedicure",
    ] {
        let mut w = World::new();
        w.say(text);
        assert!(
            w.actions
                .iter()
                .any(|a| matches!(a, Action::HandOff { .. })),
            "{text}"
        );
    }
}

#[test]
fn the_name_given_earlier_picks_no_staff_either() {
    let mut w = World::new();
    w.say("good morning, my name is Nyambura Kamau");
    let r = w.say("Kamau here again, a manicure tomorrow at 10am please");
    assert!(r.contains("with Akinyi"), "{r}");
    w.say("yes");
    assert_eq!(w.appointments[0].staff_id, uuid(101));
    // Asked for as the stylist, the same word is the stylist.
    let mut w = World::new();
    w.say("my name is Nyambura Kamau");
    let r = w.say("a manicure tomorrow at 10am with Kamau");
    assert!(r.contains("with Wanjiru"), "{r}");
}

#[test]
fn the_notice_a_change_needs_is_asked_not_a_move() {
    for (text, want) in [
        ("how much notice do you need to reschedule?", "3 hours"),
        (
            "what's your cancellation policy and do you take cards",
            "Visa",
        ),
        (
            "ukitaka kubadilisha miadi, mnahitaji kujulishwa mapema kiasi gani?",
            "saa tatu",
        ),
    ] {
        let mut w = World::new();
        with_policies(&mut w);
        let r = w.say(text);
        assert!(r.contains(want), "{text}: {r}");
        assert!(
            !w.actions.iter().any(|a| matches!(a, Action::ListUpcoming)),
            "{text}: no move was started"
        );
    }
}

#[test]
fn after_a_side_question_as_i_said_books_what_was_confirmed() {
    for yes in [
        "sawa, basi tuweke kesho kama nilivyosema",
        "sawa, kama tulivyosema",
        "ok, book it as I said",
    ] {
        let mut w = World::new();
        let r = w.say("nataka manicure kesho saa nne asubuhi");
        assert!(r.contains("na Akinyi"), "{r}");
        w.say("Na jumapili mnafungua saa ngapi?");
        w.say(yes);
        assert_eq!(w.booked_local(), ["2026-11-26 10:00"], "{yes}");
        // "kama" (as) is not Wanjiru Kamau.
        assert_eq!(w.appointments[0].staff_id, uuid(101), "{yes}");
    }
}

#[test]
fn whether_the_price_goes_up_is_a_price_question() {
    for text in [
        "ni 500 ama inaongezeka kama nywele ni ndefu?",
        "is there an extra charge if my hair is long?",
        "does it cost more for thick hair?",
    ] {
        let mut w = World::new();
        w.say("haircut tomorrow at 1pm");
        let r = w.say(text);
        assert!(r.contains("KES 500"), "{text}: {r}");
        w.say("sawa weka");
        assert_eq!(w.booked_local(), ["2026-11-26 13:00"], "{text}");
    }
}

#[test]
fn who_will_do_it_at_the_confirmation_is_answered() {
    for (text, want) in [
        ("lakini ni Akinyi atanifanyia ama ni nani?", "Akinyi"),
        ("who will I be with?", "Akinyi"),
        ("nitahudumiwa na nani?", "Akinyi"),
    ] {
        let mut w = World::new();
        with_staff_services(&mut w);
        let r = w.say("manicure tomorrow at 10am");
        assert!(r.contains("with Akinyi"), "{r}");
        let r = w.say(text);
        assert!(r.contains(want), "{text}: {r}");
        assert!(w.appointments.is_empty(), "{text}: a question is no yes");
        w.say("fiti weka");
        assert_eq!(w.booked_local(), ["2026-11-26 10:00"], "{text}");
    }
}

#[test]
fn asking_for_another_stylist_at_the_confirmation_answers_and_changes() {
    for (ask, yes) in [
        (
            "yes but uh who will do it, is wanjiru there",
            "okay with wanjiru then yes",
        ),
        ("lakini je Wanjiru anafanya dreadlocks?", "sawa weka"),
    ] {
        let mut w = World::new();
        with_staff_services(&mut w);
        let r = w.say("dreadlocks retwist tomorrow at 2pm");
        assert!(r.contains("with Akinyi"), "{r}");
        let r = w.say(ask);
        assert!(
            r.contains("Wanjiru does") || r.contains("Wanjiru hufanya"),
            "{ask}: {r}"
        );
        assert!(
            r.contains("with Wanjiru") || r.contains("na Wanjiru"),
            "{ask}: {r}"
        );
        assert!(w.appointments.is_empty(), "{ask}");
        w.say(yes);
        assert_eq!(w.booked_local(), ["2026-11-26 14:00"], "{ask}");
        assert_eq!(w.appointments[0].staff_id, uuid(102), "{ask}");
    }
    // Someone who does not do it: answered, the booking stays as it was.
    let mut w = World::new();
    with_staff_services(&mut w);
    w.say("manicure tomorrow at 10am");
    let r = w.say("does Wanjiru do manicures?");
    assert!(r.contains("Wanjiru does not do Manicure"), "{r}");
    w.say("ok book it");
    assert_eq!(w.appointments[0].staff_id, uuid(101));
}

#[test]
fn how_much_for_all_of_a_plan_gives_each_and_the_total() {
    for ask in ["how much total?", "zote ni pesa ngapi?"] {
        let mut w = World::new();
        w.say("manicure and pedicure tomorrow");
        let r = w.say(ask);
        let total =
            w.config.catalog.services[2].price.minor + w.config.catalog.services[3].price.minor;
        let total = crate::core::dialog::say::money(crate::core::ids::Money::kes(total));
        assert!(r.contains(&total), "{ask}: {r} (wanted {total})");
    }
}

#[test]
fn a_day_after_the_price_of_two_books_both() {
    for (ask, day, yes) in [
        (
            "oya mnafanya mani pedi? ni ngapi hio",
            "nikuje kesho saa nne",
            "iko sawa",
        ),
        (
            "how much is a manicure and a pedicure",
            "ok tomorrow at 10",
            "yes",
        ),
    ] {
        let mut w = World::new();
        w.say(ask);
        assert!(w.appointments.is_empty(), "{ask}");
        let r = w.say(day);
        assert!(r.contains("10:00"), "{ask}: {r}");
        w.say(yes);
        assert_eq!(w.appointments.len(), 2, "{ask}");
    }
    // One of the two named after the price books that one.
    let mut w = World::new();
    w.say("how much is a manicure and a pedicure");
    w.say("just the pedicure tomorrow at 10");
    w.say("yes");
    assert_eq!(w.appointments.len(), 1);
}

#[test]
fn whether_a_stylist_is_in_on_a_day() {
    use crate::core::booking::WeeklyWindow;
    let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
    let achieng = |w: &mut World| {
        w.config.catalog.staff[0].name = "Achieng Otieno".into();
        w.config.catalog.staff[0].weekly = (1..=6)
            .map(|d| WeeklyWindow {
                day_of_week: d,
                start: if d == 6 { t(10) } else { t(9) },
                end: if d == 6 { t(16) } else { t(18) },
                is_available: true,
            })
            .collect();
    };
    // Wednesday 25 Nov 2026: Monday is the 30th.
    let mut w = World::new();
    achieng(&mut w);
    let r = w.say("Hi, is Achieng in on monday?");
    assert!(r.contains("Achieng is not in on Monday 30 Nov"), "{r}");
    assert!(
        r.contains("Tuesday to Saturday 09:00-18:00 and Sunday 10:00-16:00"),
        "{r}"
    );
    let mut w = World::new();
    achieng(&mut w);
    let r = w.say("Achieng yuko jumamosi?");
    assert!(r.contains("Ndiyo, Achieng yupo Jumamosi 28 Novemba"), "{r}");
    let mut w = World::new();
    achieng(&mut w);
    let r = w.say("which days does achieng work");
    assert!(r.starts_with("Achieng works Tuesday to Saturday"), "{r}");
    // The day's hours, from everyone's.
    let mut w = World::new();
    achieng(&mut w);
    let r = w.say("what time do you close on saturday?");
    assert!(
        r.contains("On Saturday 28 Nov, appointments are from 09:00 to 18:00"),
        "{r}"
    );
    let r = w.say("na jumatatu mnafungua saa ngapi?");
    assert!(r.contains("Hakuna miadi Jumatatu 30 Novemba"), "{r}");
    // Asked for as the stylist, not asked about.
    let mut w = World::new();
    achieng(&mut w);
    let r = w.say("book me a haircut with Achieng in the evening on friday");
    assert!(!r.contains("works") && !r.contains("is in on"), "{r}");
}

#[test]
fn what_fits_in_a_budget() {
    let mut w = World::new();
    let r = w.say("sasa, niko na ka budget ya 1k, naeza fanya nini kwenu?");
    assert!(r.contains("KES 1,000"), "{r}");
    assert!(r.contains("(KES 800)") && r.contains("(KES 500)"), "{r}");
    assert!(!r.contains("3,500"), "{r}");
    let mut w = World::new();
    let r = w.say("I only have 300 what can I do");
    assert!(r.contains("Nothing we do is within KES 300"), "{r}");
    // A price is no budget.
    let mut w = World::new();
    let r = w.say("how much is a manicure");
    assert!(!r.contains("Within"), "{r}");
}

#[test]
fn a_time_to_be_done_by_is_an_end() {
    let mut w = World::new();
    w.say("pedicure tomorrow at 11am");
    let r = w.say("will i be done before 12:30? i have a meeting");
    assert!(r.contains("done by 12:00"), "{r}");
    assert!(w.appointments.is_empty());
    // Too late: the latest half hour that ends in time instead.
    let r = w.say("sorry i need to be out by 11:30");
    assert!(r.contains("10:30"), "{r}");
    w.say("yes");
    assert_eq!(w.booked_local(), ["2026-11-26 10:30"]);
    // Said with the request: a start that ends in time.
    let mut w = World::new();
    let r = w.say("nataka pedicure kesho, nimalize kabla ya saa sita");
    assert!(r.contains("(11:00)"), "{r}");
}

#[test]
fn the_earliest_free_time_is_proposed() {
    let mut w = World::new();
    let r = w.say("boxbraids on friday pls. earliest u got?");
    assert!(
        r.contains("Friday 27 Nov at 09:00") && r.contains("Shall I book"),
        "{r}"
    );
    w.say("kk that works");
    assert_eq!(w.booked_local(), ["2026-11-27 09:00"]);
    // Within the part of the day asked.
    let mut w = World::new();
    let r = w.say("nataka manicure kesho jioni, nafasi ya kwanza");
    assert!(r.contains("Nikuwekee") && r.contains("jioni"), "{r}");
}

#[test]
fn whether_a_service_is_done_on_a_day() {
    use crate::core::booking::WeeklyWindow;
    let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
    let mut w = World::new();
    w.config.catalog.staff[0].name = "Achieng Otieno".into();
    w.config.catalog.staff[0].services = vec![uuid(3)];
    w.config.catalog.staff[0].weekly = vec![WeeklyWindow {
        day_of_week: 6,
        start: t(10),
        end: t(16),
        is_available: true,
    }];
    let r = w.say("Do you do manicures on Sundays? And do you take mpesa?");
    assert!(
        r.contains("Yes, Manicure is done on Sunday 29 Nov by Achieng (10:00-16:00)"),
        "{r}"
    );
    assert!(r.contains("M-Pesa"), "{r}");
    let r = w.say("na jumamosi mnafanya manicure?");
    assert!(r.contains("hakuna anayefanya"), "{r}");
    // The second day when nobody does it on the first.
    let mut w = World::new();
    w.config.catalog.staff[0].services = vec![uuid(3)];
    w.config.catalog.staff[0].weekly = (0..6)
        .map(|d| WeeklyWindow {
            day_of_week: d,
            start: t(9),
            end: t(18),
            is_available: true,
        })
        .collect();
    let r = w.say("do you do manicures on sundays? if not is saturday 4pm free?");
    assert!(r.contains("Saturday 28 Nov at 16:00"), "{r}");
}
