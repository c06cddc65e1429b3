//! Readings of single messages, written for the rules (the blind set is
//! replayed in `core::payment::tests`).

use super::*;

#[test]
fn negation_and_not_yet_never_cancel() {
    for text in [
        "no not yet",
        "hapana bado",
        "sijalipa bado",
        "no dont cancel",
        "don't cancel, I'm getting my phone",
        "usiifute, ngoja kidogo",
        "acha nione",
        "i cancelled the prompt by mistake send again",
        "niliclick cancel kwa mistake, resend",
        "forget mpesa, nitalipa na card",
        "no",
        "hapana",
        "usifute booking yangu tafadhali",
        "msifute, nitalipa sasa hivi",
        // Stopping or forgetting something else.
        "stop asking me",
        "stop talking",
        "never mind, it has come",
        "stop, it's coming now",
        // Asking about cancelling, or cancelling one service for another.
        "what if I cancel, will I get a refund?",
        "can I cancel later if I need to?",
        "kama nikighairi nitarudishiwa pesa?",
        "is there a cancellation fee?",
        "can I cancel the braids and do nails instead",
        // The prompt, not the booking.
        "stop the prompt, i'll pay cash",
        "cancel the mpesa request and send me a card link",
        "the prompt got cancelled, send another",
        "I canceled it by mistake",
    ] {
        assert_ne!(PendingReply::read(text), PendingReply::Cancel, "{text}");
    }
}

#[test]
fn readings_in_english_swahili_and_sheng() {
    use PendingReply::*;
    let cases = [
        ("cancel it", Cancel),
        ("stop, I'll come another day", Cancel),
        ("acha tu, nitarudi", Cancel),
        ("forget about it, i'm not coming", Cancel),
        ("if it's fine, cancel it", Cancel),
        ("tafadhali futa miadi yangu", Cancel),
        ("i've changed my mind", Cancel),
        ("please cancel my appointment", Cancel),
        ("futa hiyo booking", Cancel),
        ("nimeghairi", Cancel),
        ("wacha tu", Cancel),
        ("cancle the booking", Cancel),
        ("i don't want it anymore", Cancel),
        ("send it again", Resend),
        ("tuma tena", Resend),
        ("nilikosea pin tuma tena", Resend),
        ("i cancelled the prompt by mistake send again", Resend),
        ("RETRY", Resend),
        ("I canceled it by mistake", Resend),
        ("ilipotea, rudisha", Resend),
        ("tuma upya", Resend),
        ("resedn pls", Resend),
        ("haijafika tuma tena", Resend),
        ("sijapata", NotReceived),
        ("sioni kitu", NotReceived),
        ("sikupata kitu", NotReceived),
        ("haijanifikia", NotReceived),
        ("no I haven't", NotReceived),
        ("hakuna", NotReceived),
        ("sijapta", NotReceived),
        ("no not yet", NotReceived),
        ("hapana bado", NotReceived),
        ("nothing has come yet", NotReceived),
        ("hakuna kitu", NotReceived),
        ("nimelipa", Paid),
        ("fuliza imekataa", Other),
        ("malipo yamefanyika", Paid),
        ("nimelpa", Paid),
        ("done", Paid),
        ("I have entered the PIN", Paid),
        ("i have not paid", Other),
        ("can i pay by card", Card),
        ("send me the payment link", Card),
        ("what's the link to your location", Other),
        ("sim card yangu imeharibika", Other),
        ("nitalipa cash nikifika", CashLater),
        ("i'll pay at the salon", CashLater),
        ("baadaye", CashLater),
        ("sina pesa saa hii nitalipa nikifika", CashLater),
        ("nko kwa mat nitalipa nikifika", Wait),
        ("is the booking confirmed only after i pay?", Other),
        ("send it to my other number", OtherNumber(None)),
        ("ngoja kidogo", Wait),
        ("acha nifikirie", Wait),
        ("hold on", Wait),
        ("where are you located", Other),
    ];
    for (text, want) in cases {
        assert_eq!(PendingReply::read(text), want, "{text}");
    }
}

#[test]
fn another_number_is_read_in_digits_or_words() {
    let want = PhoneNumber::parse("0722000555").ok();
    for text in [
        "tuma kwa 0722 000 555",
        "send it to zero seven two two zero zero zero five five five",
        "push to +254722000555",
    ] {
        assert_eq!(
            PendingReply::read(text),
            PendingReply::OtherNumber(want.clone()),
            "{text}"
        );
    }
    // An amount or a paybill is not a phone.
    assert_eq!(PendingReply::read("nimejust pay 1200"), PendingReply::Paid);
    assert_eq!(
        PendingReply::read("paid through paybill 174379"),
        PendingReply::Paid
    );
}

#[test]
fn consent_answers() {
    let cases = [
        ("yes please", Consent::Yes),
        ("Ndiyo, tuma", Consent::Yes),
        ("sawa", Consent::Yes),
        ("yes try again", Consent::Yes),
        ("tuma tena", Consent::Yes),
        ("hapana asante", Consent::No),
        ("not now", Consent::No),
        ("sitaki", Consent::No),
        ("hapana, baadaye", Consent::No),
        ("i'll pay by card", Consent::No),
        ("eh?", Consent::Unclear),
        ("what is the weather", Consent::Unclear),
    ];
    for (text, want) in cases {
        assert_eq!(Consent::read(text), want, "{text}");
    }
}

#[test]
fn a_change_to_the_booking_is_read_as_one() {
    for text in [
        "wait, can it be 5pm instead? then i'll pay",
        "hmm make that tuesday",
        "sorry, i meant saturday not sunday",
        "can i do knotless braids instead",
        "can we resceduel to next week",
        "ngoja kwanza, tubadilishe iwe kesho saa tatu",
        "nataka Wanjiku anishughulikie badala ya Mercy",
        "actually ongeza pedicure",
        "chenji iwe saa kumi",
        "change to cornrows pls",
    ] {
        assert_eq!(PendingReply::read(text), PendingReply::Change, "{text}");
    }
}

#[test]
fn a_payment_gone_wrong_is_a_problem() {
    for text in [
        "money has left my account and still no message",
        "it took the money but no confirmation came",
        "deductd but no sms yet",
        "my account was debited twice",
        "paid twice by mistake, pls refund one",
        "i was charged 3000 but the price is 2500",
        "pesa imeenda lakini hakuna sms",
        "mpesa imenikata lakini booking haijaconfirm",
        "nimekatwa mara mbili bana",
        // Before a resend: a third prompt would be paid too.
        "nmelipa mara mbili, usitume tena",
        "nimetuma pesa kwa wrong number",
    ] {
        assert_eq!(PendingReply::read(text), PendingReply::Problem, "{text}");
    }
}

#[test]
fn neither_a_change_nor_a_problem() {
    use PendingReply::*;
    for (text, want) in [
        ("nitalipa saa nane", CashLater),
        ("i'll pay at 3pm", CashLater),
        ("give me 2 mins", Wait),
        ("is 2pm still ok?", Other),
        ("what time is my appointment?", Other),
        ("push it", Other),
        ("imekatwa, asante", Paid),
        ("i paid but haven't seen your message yet", Paid),
        ("it failed twice, try again", Resend),
        ("stop, i'll come another day", Cancel),
        ("can i use airtel money instead", Other),
    ] {
        assert_eq!(PendingReply::read(text), want, "{text}");
    }
}
