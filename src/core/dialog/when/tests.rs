use super::*;
use chrono::TimeZone;

/// Wednesday 2026-11-25 09:00 in Nairobi (06:00 UTC).
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 6, 0, 0).unwrap()
}

fn nairobi() -> Tz {
    chrono_tz::Africa::Nairobi
}

fn d(m: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(2026, m, day)
}

fn t(h: u32, m: u32) -> Option<NaiveTime> {
    NaiveTime::from_hms_opt(h, m, 0)
}

fn when(text: &str) -> When {
    parse_when(&Tokens::new(text), now(), nairobi())
}

#[test]
fn an_events_or_a_trips_time_is_not_the_bookings() {
    for (text, want) in [
        ("Itachukua muda gani? Tunasafiri saa tisa mchana", None),
        (
            "i can come as early as 8 coz i hav to pick my son frm skul at 2",
            t(8, 0),
        ),
        (
            "thursday evening after work? I leave the office at 5 so maybe 5:30?",
            t(17, 30),
        ),
        ("my flight is at 6pm, braids at 9am?", t(9, 0)),
        // The booking's own time after the event.
        ("niko na harusi, nataka kusukwa saa nne", t(10, 0)),
        ("after school at 4", t(16, 0)),
        ("box braids kwa bibi harusi saa nne asubuhi", t(10, 0)),
        ("wedding saturday, can i come at 10", t(10, 0)),
        ("aight basi nataka cut na nyusi leo saa kumi", t(16, 0)),
        (
            "i have 2 bookings this wk rite can i move the thursday one",
            None,
        ),
        ("thursday one", t(13, 0)),
        ("saturday morning for box braids, like 10ish?", t(10, 0)),
        (
            "nina mkutano kanisani asubuhi hiyo. Tufanye saa nane mchana badala yake",
            t(14, 0),
        ),
        (
            "bridal hair for the morning of the wedding, 8am please because the ceremony is at 1",
            t(8, 0),
        ),
    ] {
        assert_eq!(when(text).time, want, "{text}");
    }
}

#[test]
fn dates_in_both_languages() {
    let cases = [
        ("leo", d(11, 25)),
        ("today please", d(11, 25)),
        ("kesho", d(11, 26)),
        ("tomorrow", d(11, 26)),
        ("tommorow", d(11, 26)),
        ("keshokutwa", d(11, 27)),
        ("kesho kutwa", d(11, 27)),
        ("day after tomorrow", d(11, 27)),
        ("after 2 days at 11am", d(11, 27)),
        ("in three days", d(11, 28)),
        ("baada ya siku mbili", d(11, 27)),
        ("sorry not tomorrow, friday same time", d(11, 27)),
        ("si kesho, ijumaa", d(11, 27)),
        ("on friday no sorry saturday at ten", d(11, 28)),
        ("ijumaa, hapana samahani jumamosi", d(11, 28)),
        ("thursday i mean friday", d(11, 27)),
        (
            "I land on 27th november. Can I get braids on Saturday 28th in the morning?",
            d(11, 28),
        ),
        (
            "I'm in Nairobi till the 30th. I'd like braids on Friday morning",
            d(11, 27),
        ),
        ("I land on the 27th, can I come that day?", d(11, 27)),
        (
            "box braids for easter monday at eight",
            NaiveDate::from_ymd_opt(2027, 3, 29),
        ),
        (
            "Sorry, my Swahili is not very good. Friday at 2pm please.",
            d(11, 27),
        ),
        ("cornrows on mon uh on friday", d(11, 27)),
        ("box braids on thursday uh no friday saa mbili", d(11, 27)),
        ("alhamisi eeh hapana ijumaa", d(11, 27)),
        ("on thursday uh at ten", d(11, 26)),
        (
            "she closes school on friday so saturday morning is best",
            d(11, 28),
        ),
        ("friday or saturday, saturday would be better", d(11, 28)),
        ("jumamosi ni bora kuliko ijumaa", d(11, 28)),
        ("friday, or saturday", d(11, 27)),
        (
            "aii kwani sunday hamfanyi? ok make it monday 10am",
            d(11, 30),
        ),
        ("not open on sunday? monday then", d(11, 30)),
        (
            "niko na wedding saturday, nataka wash and set friday",
            d(11, 27),
        ),
        (
            "I have an interview on friday so thursday please",
            d(11, 26),
        ),
        (
            "hi, my graduation is on saturday i need cornrows friday morning",
            d(11, 27),
        ),
        (
            "graduation yangu ni Thursday. Nataka haircut Wednesday saa tisa",
            d(11, 25),
        ),
        (
            "nataka kuosha, pia manicure, kwa ajili ya kanisa Jumapili. Jumamosi saa nane",
            d(11, 28),
        ),
        ("party on saturday", d(11, 28)),
        (
            "my sister is coming from Kitale on Friday and we have a church function on Sunday, so I was thinking Saturday morning for box braids, like 10ish?",
            d(11, 28),
        ),
        (
            "harusi yangu ni tarehe 6 Disemba. Nataka nywele za harusi siku hiyo saa mbili",
            d(12, 6),
        ),
        (
            "we are celebrating our 10th anniversary on Saturday evening, could we come on Saturday at 10?",
            d(11, 28),
        ),
        (
            "nataka relaxer saturday 10am. Schools open next week",
            d(11, 28),
        ),
        (
            "I've got a job interview next week, can I do a wash on Thursday evening?",
            d(11, 26),
        ),
        ("relaxer month end, the last Saturday", d(11, 28)),
        (
            "I'm flying back to London on Sunday so I'd love braids on Saturday before I go",
            d(11, 28),
        ),
        ("the last friday of the month", d(11, 27)),
        (
            "jumanne ya mwisho wa mwezi",
            NaiveDate::from_ymd_opt(2026, 12, 29),
        ),
        ("Friday", d(11, 27)),
        ("Ijumaa", d(11, 27)),
        ("next Friday", d(11, 27)),
        ("Wednesday", d(11, 25)),
        ("next wednesday", d(12, 2)),
        ("Jumatano ijayo", d(12, 2)),
        ("Jumatatu", d(11, 30)),
        ("Jumapili", d(11, 29)),
        ("monday next week", d(11, 30)),
        ("Ijumaa wiki ijayo", d(12, 4)),
        ("12 December", d(12, 12)),
        ("December 12th", d(12, 12)),
        ("tarehe 28", d(11, 28)),
        ("the 3rd", d(12, 3)),
        ("12/12", d(12, 12)),
        ("1 Jan", NaiveDate::from_ymd_opt(2027, 1, 1)),
        ("tarehe tatu", d(12, 3)),
        ("kusuka rasta tar 7 mwezi ujao saa mbili", d(12, 7)),
        ("tarehe 28 mwezi ujao", d(12, 28)),
        ("the 3rd next month", d(12, 3)),
        ("ok then the day after Jamhuri, 9am", d(12, 13)),
        // The 28th of November is a Saturday; of December, a Monday.
        ("monday 28th at 9am", d(12, 28)),
        (
            "I'm getting married on Saturday 28th, I want a facial on Friday 27th",
            d(11, 27),
        ),
        (
            "need bridal hair for my wedding on sat 28th at 8am",
            d(11, 28),
        ),
        (
            "niko na interview friday 27th saa nne so nataka wash n set thursday jioni",
            d(11, 26),
        ),
        (
            "Are you open on the 26th of december, and if not, can I book on the 28th at 2pm?",
            d(12, 28),
        ),
        ("open on the 3rd? if not the 4th", d(12, 3)),
        ("saturday 28th", d(11, 28)),
        ("monday 28th november", d(11, 28)),
        (
            "hi flying in from qatar on 24th. can i do gel nails on 25th or 26th?",
            d(11, 25),
        ),
        ("siku baada ya jamhuri", d(12, 13)),
        ("the friday before jamhuri", d(12, 11)),
        (
            "what about the saturday before easter monday then? 11am",
            NaiveDate::from_ymd_opt(2027, 3, 27),
        ),
        (
            "jumamosi kabla ya pasaka",
            NaiveDate::from_ymd_opt(2027, 3, 27),
        ),
        ("hello", None),
    ];
    for (text, want) in cases {
        assert_eq!(when(text).date, want, "{text}");
    }
}

#[test]
fn of_two_days_the_one_said_to_suit() {
    // now() is Wednesday 25 November; Friday 27, Saturday 28.
    let cases = [
        (
            "she closes school on friday so saturday morning is best, 8am",
            d(11, 28),
        ),
        ("I work on friday, saturday would be better", d(11, 28)),
        ("friday is busy, I'd prefer saturday", d(11, 28)),
        ("ijumaa niko kazini, jumamosi ni bora", d(11, 28)),
        ("friday or saturday", d(11, 27)),
        ("friday works best, or saturday", d(11, 27)),
    ];
    for (text, want) in cases {
        assert_eq!(when(text).date, want, "{text}");
    }
}

#[test]
fn weekdays_as_customers_write_them() {
    // now() is Wednesday 25 November, 09:00.
    let cases = [
        ("this friday", d(11, 27)),
        ("frdy", d(11, 27)),
        ("fri 2pm", d(11, 27)),
        ("Friday!!", d(11, 27)),
        ("thurday", d(11, 26)),
        ("thur", d(11, 26)),
        ("thurs", d(11, 26)),
        ("thu rs", d(11, 26)),
        ("alhamis", d(11, 26)),
        ("wedensday", d(11, 25)),
        ("wed", d(11, 25)),
        ("jumamos", d(11, 28)),
        ("juma mosi", d(11, 28)),
        ("on sat", d(11, 28)),
        ("sat 10am", d(11, 28)),
        ("sun morning", d(11, 29)),
        ("sato saa nne", d(11, 28)),
        ("sat 5th december", d(12, 5)),
        ("friday 4th", d(12, 4)),
        ("okay then the twenty third at ten", d(12, 23)),
        ("the twelfth of december", d(12, 12)),
        ("12th of december", d(12, 12)),
        ("december the first", d(12, 1)),
        ("on the second", d(12, 2)),
        ("the first one is fine", None),
        ("my second visit", None),
        ("Ijumaa tarehe 4", d(12, 4)),
        ("next wk tue", d(12, 1)),
        ("tue next week", d(12, 1)),
        ("jumanne wiki ijayo", d(12, 1)),
        ("tmrw", d(11, 26)),
        ("2moro", d(11, 26)),
        ("tmoro pls", d(11, 26)),
        ("tomoz", d(11, 26)),
        ("to morrow", d(11, 26)),
        ("ksho asbh", d(11, 26)),
        ("i sat down", None),
        ("where are you", None),
        ("there", None),
    ];
    for (text, want) in cases {
        assert_eq!(when(text).date, want, "{text}");
    }
}

#[test]
fn a_misspelt_day_never_becomes_another_day() {
    // Equally close to Wednesday (jumatano) and Monday (jumatatu), or
    // the start of both: no day, and the turn says a day was unclear.
    for text in ["jumatanu", "jumat saa nne"] {
        let tokens = Tokens::new(text);
        assert_eq!(parse_when(&tokens, now(), nairobi()).date, None, "{text}");
        assert!(tokens.uncertain_day(), "{text}");
    }
    // Two edits from one weekday only, its 'd' and final 'y' kept: that
    // day (the confirmation names it before anything is booked).
    let tokens = Tokens::new("wednsdy at 3");
    assert_eq!(
        parse_when(&tokens, now(), nairobi())
            .date
            .map(|d| d.weekday()),
        Some(chrono::Weekday::Wed)
    );
    assert!(!tokens.uncertain_day());
    for text in ["friday", "kesho", "saa nne", "my name is Fridah"] {
        assert!(!Tokens::new(text).uncertain_day(), "{text}");
    }
    assert_eq!(when("my name is Fridah").date, None);
}

#[test]
fn a_weekday_never_means_a_day_already_past() {
    // Sunday 29 November in Nairobi.
    let sunday = |h: u32| Utc.with_ymd_and_hms(2026, 11, 29, h - 3, 0, 0).unwrap();
    let on = |text: &str, h| parse_when(&Tokens::new(text), sunday(h), nairobi()).date;
    assert_eq!(on("sunday", 10), d(11, 29));
    assert_eq!(on("Jumapili", 16), d(11, 29));
    assert_eq!(on("sunday", 17), d(12, 6));
    assert_eq!(on("jumapili saa nne", 19), d(12, 6));
    assert_eq!(on("monday", 19), d(11, 30));
    assert_eq!(on("saturday", 10), d(12, 5));
    assert_eq!(on("next sunday", 10), d(12, 6));
}

#[test]
fn same_time_in_both_languages() {
    for text in [
        "same time",
        "thursday same time",
        "Can I move it to Thursday same time?",
        "same hour pls",
        "muda ule ule",
        "saa ile ile",
        "alhamisi saa hiyo hiyo",
    ] {
        assert!(same_time(&Tokens::new(text)), "{text}");
    }
    for text in ["saa nne", "any time", "same day different time"] {
        assert!(!same_time(&Tokens::new(text)), "{text}");
    }
}

#[test]
fn greetings_are_not_a_part_of_the_day() {
    let w = when("good morning, braids tomorrow at 3");
    assert_eq!((w.date, w.time), (d(11, 26), t(15, 0)));
    assert_eq!(when("habari za asubuhi").part, None);
    assert_eq!(when("before lunch").part, Some(DayPart::Morning));
    assert_eq!(when("after lunch").part, Some(DayPart::Afternoon));
}

#[test]
fn parts_of_day_without_exact_time() {
    assert_eq!(when("kesho mchana").part, Some(DayPart::Afternoon));
    assert_eq!(when("kesho mchana").date, d(11, 26));
    assert_eq!(when("jioni").part, Some(DayPart::Evening));
    assert_eq!(when("asubuhi").part, Some(DayPart::Morning));
    assert_eq!(when("tomorrow morning").part, Some(DayPart::Morning));
    // An exact time makes the part redundant.
    assert_eq!(when("saa nne asubuhi").part, None);
}

#[test]
fn today_is_the_tenant_local_date() {
    // 22:30 UTC on the 25th is already the 26th in Nairobi (UTC+3).
    let late = Utc.with_ymd_and_hms(2026, 11, 25, 22, 30, 0).unwrap();
    let w = parse_when(&Tokens::new("kesho"), late, nairobi());
    assert_eq!(w.date, d(11, 27));
}

#[test]
fn combined_turns() {
    let w = when("Nataka miadi Ijumaa saa tatu asubuhi");
    assert_eq!((w.date, w.time), (d(11, 27), t(9, 0)));
    let w = when("book me tomorrow at 2:30pm");
    assert_eq!((w.date, w.time), (d(11, 26), t(14, 30)));
    let earlier = when("kesho");
    let later = when("saa nane mchana");
    assert_eq!(later.or(earlier).date, d(11, 26));
    assert_eq!(later.or(earlier).time, t(14, 0));
}

#[test]
fn spoken_hedges_and_take_backs_leave_the_time_meant() {
    for (text, time) in [
        ("gel nails ijumaa saa nane aah hapana saa tisa", t(15, 0)),
        ("can i get a haircut like today at like four", t(16, 0)),
        (
            "nataka kusukwa box braids sato saa mbili, niko na graduation party jioni",
            t(8, 0),
        ),
        ("friday at two um no at three", t(15, 0)),
        (
            "ah kumbe ni saa tisa unusu already 😅 basi saa kumi na moja",
            t(17, 0),
        ),
        // A "no" that answers something else is no correction.
        ("uh no problem, friday at two", t(14, 0)),
    ] {
        assert_eq!(when(text).time, time, "{text}");
    }
    // The trip's part of the day is not the booking's.
    let w = when("make it cornrows instead. box braids ni masaa mob na ana safari jioni");
    assert_eq!((w.time, w.part), (None, None));
}

#[test]
fn an_events_part_of_the_day_is_not_the_bookings() {
    let now = chrono::Utc.with_ymd_and_hms(2026, 11, 25, 5, 0, 0).unwrap();
    let w = parse_when(
        &Tokens::new(
            "I'd like a wash and set on saturday morning at 10 if possible, I have a wedding in the afternoon lol",
        ),
        now,
        chrono_tz::Africa::Nairobi,
    );
    assert_eq!(w.time, NaiveTime::from_hms_opt(10, 0, 0));
}
