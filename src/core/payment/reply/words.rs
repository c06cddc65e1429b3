//! The word lists of [`super::PendingReply`]: comma-separated phrases for
//! the dialog's lexicon matcher (a word written `=word` must match exactly),
//! and Swahili roots and prefixes for its verb reader.

/// Words that carry no object: skipped when looking for what a verb
/// applies to.
pub(super) const SKIP: &str =
    "the, my, this, that, these, those, all, hiyo, hii, ile, yangu, yako, yenu,
    pia, tu, bana, boss, please, kindly, basi, about, ya, la, kwa, sasa, now, just, mimi, me";

/// What the prompt is called: a verb applied to one of these is about the
/// prompt, not the booking.
pub(super) const PAYMENT: &str =
    "prompt, prompts, request, ombi, mpesa, m pesa, stk, push, payment, malipo,
    pin, pop, popup, message, notification, transaction, pesa, money, charge, lipa, kulipa,
    paying, paybill, till";

/// What a booking is called, and "it": a cancel of one of these is one.
pub(super) const BOOKING: &str = "booking, bookings, appointment, appointments, miadi, reservation,
    everything, it, nayo, kila kitu, order";

/// Verbs that give up a plan. Swahili forms are exact: their neighbours one
/// letter away are other verbs ("kufuta" to delete, "kufuata" to follow).
pub(super) const CANCEL: &str =
    "cancel, cancell, cancelled, canceled, cancelling, canceling, kucancel,
    ucancel, icancel, nicancelie, tucancel, cancelisha, call off, call it off";

/// Verbs that give up many things ("stop talking", "forget mpesa"): a
/// cancel only with the booking, "it" or nothing after them.
pub(super) const GIVE_UP: &str = "remove, delete, scrap, drop, forget, stop, never mind, nevermind,
    =tuache, =tuwache, =kuacha, =tuachane, =tuwachane, =achana, =wachana, =acha, =wacha,
    =tuachane na, =tuwachane na, =achana na, =wachana na, leave, skip,
    =ondoa, =uondoe, =iondoe";

/// Not coming to the appointment.
pub(super) const NOT_COMING: &str =
    "not coming, won t make it, wont make it, will not make it, can t make it,
    cant make it, won t come, wont come, sitakuja, sitaweza kuja, sitaweza kufika, sitafika,
    not be coming";

/// Before a cancel: only supposing ("what if I cancel", "kama nitaghairi").
pub(super) const SUPPOSE: &str = "if, incase, in case, kama, ikiwa, endapo, suppose, supposing";

/// After a cancel: not now ("can I cancel later if I need to").
pub(super) const NOT_NOW: &str = "later, baadaye, badae, baadae, future";

/// A cancel of one thing to take another is a change.
pub(super) const INSTEAD: &str = "instead, badala, rather";

/// Swahili verbs that give up a plan (delete, remove, cancel), as
/// `sw_verb` roots with their endings.
pub(super) const CANCEL_ROOTS: &[&str] = &[
    "futa", "fute", "futwe", "futie", "futia", "futeni", "futilia", "ghairi",
];

/// Subject, infinitive and perfect prefixes before a Swahili verb; not the
/// negative ones ("usi-", "si-"), and not "-ta-", which also begins other
/// verbs ("tafuta", to look for).
pub(super) const SW_SUBJECT: &[&str] = &[
    "", "u", "i", "m", "tu", "ku", "ni", "wa", "na", "nime", "nme", "tume", "ume",
];

/// Cancel forms that report what happened (to the prompt, usually).
pub(super) const PAST_CANCEL: &str =
    "cancelled, canceled, nilicancel, nimecancel, nlicancel, nmecancel";

/// Not wanting what follows.
pub(super) const DONT_WANT: &str = "dont want, don t want, do not want, sitaki, sihitaji, hatutaki,
    not interested, sina interest, sina haja, no longer want, changed my mind,
    change of mind, nimebadilisha mawazo, nimebadili mawazo, nimebadilisha mind, i ll pass,
    i will pass";

/// Not wanting the booking at all.
pub(super) const DONT_BOOK: &str =
    "dont book, don t book, do not book, usibook, usiweke, msiweke, msibook";

/// After a "don't want": the booking, it, or "any more".
pub(super) const WANT_OBJECT: &str =
    "booking, appointment, miadi, it, anymore, any, tena, hiyo, everything,
    kuendelea, to continue, to proceed";

/// The words before a verb that negate it.
pub(super) const NEGATORS: &str =
    "dont, not, never, didnt, havent, wont, usi, sitaki, hatutaki, cannot";

/// Pressing the prompt's own Cancel button.
pub(super) const PRESSED: &str =
    "click, clicked, niliclick, nimeclick, nikaclick, nmeclick, press, pressed,
    nilipress, tap, tapped, hit, bonyeza, nilibonyeza, nimebonyeza, nikabonyeza";

pub(super) const MISTAKE: &str =
    "mistake, mistakenly, accidentally, accident, kimakosa, bahati mbaya";

pub(super) const CARD: &str =
    "card, cards, kadi, visa, mastercard, master card, debit, credit card, amex,
    apple pay, google pay, paypal, pesapal";

pub(super) const LINK: &str = "link, links, kiungo, lnk";

/// A link to these is a map, not a payment.
pub(super) const LOCATION: &str =
    "location, address, map, maps, directions, direction, located, wapi,
    ramani, eneo, building, place";

pub(super) const SEND: &str =
    "send, sending, resend, push, pushia, nipushie, jaribu, try, rudia, repeat";

/// The Swahili "send" with its endings ("tuma", "itume", "nitumie"), after
/// a subject or object prefix; not the perfect ("nimetuma" says it is
/// paid).
pub(super) const SEND_ROOTS: &[&str] = &["tuma", "tume", "tumie", "tumeni"];
pub(super) const SEND_SUBJECT: &[&str] = &["", "u", "i", "ni", "tu", "ku", "m", "li", "ki"];

pub(super) const AGAIN: &str =
    "again, tena, another, ingine, nyingine, lingine, one more, once more,
    new one, afresh, mpya, jipya, upya";

/// Words that alone ask for the prompt again (the chat's "Reply RETRY /
/// TENA").
pub(super) const RESEND_ALONE: &str = "resend, retry, tena, again";

/// Verbs that ask for the prompt again on their own.
pub(super) const RESEND: &str =
    "resend, retry, re send, =rudisha, =irudishe, =rudishe, =nirudishie";

/// Fillers around a one-word answer.
pub(super) const POLITE: &str =
    "please, pls, tafadhali, boss, bana, sir, madam, ok, okay, sawa, poa";

pub(super) const PAID: &str = "paid, i paid, have paid, already paid, payment done, payment made,
    payment sent, done, sent, nimelipa, nmelipa, nimeshalipa, nmeshalipa, nimelipia,
    nmelipia, nimetuma, nmetuma, nimesend, nmesend, entered pin, entered the pin,
    entered my pin, niliweka pin, nimeingiza pin, =yametumwa, =imetumwa, =imekatwa, =imeenda,
    =imepita, successful, successfully, code is, receipt is, complete, completed,
    =yamefanyika, =imefanyika, =nimefanya malipo, =nmefanya malipo, made the payment,
    made payment, deducted, =umepata pesa, =mmepata pesa, =umepokea, =mmepokea,
    did you receive, did you get the money, have you received";

/// Perfect-tense first person ("nime-", "nme-", Sheng "nimeshai-").
pub(super) const PERFECT: &[&str] = &["nimesha", "nmesha", "nime", "nme"];

/// What a perfect-tense first person did that means it is paid.
pub(super) const PAID_STEMS: &[&str] = &["lipa", "lipia", "tuma", "send", "pay", "maliza"];

/// Negative prefixes: not yet (sija-, haija-), did not (siku-, haiku-),
/// does not (si-, hai-).
pub(super) const NOT_YET: &[&str] = &[
    "sija", "haija", "hakija", "hatuja", "hija", "siku", "haiku", "hakiku", "hauku", "si", "hai",
    "hau", "hali",
];

/// What has not happened, for the prompt to count as not received: get,
/// see, receive, come in, arrive, come, show, with their endings.
pub(super) const ARRIVE_ROOTS: &[&str] = &[
    "pata", "pati", "ona", "oni", "onekani", "onekana", "pokea", "pokei", "receive", "ingia",
    "ingii", "ingilia", "fika", "fiki", "fikia", "kuja", "ja", "kam", "tokea", "tokei", "pop",
    "get",
];

/// Swahili object markers between the prefix and the root.
/// Not "ki", which after a subject is also "if" ("nikighairi", if I
/// cancel).
pub(super) const SW_OBJECT: &[&str] = &["", "i", "ni", "li", "ku", "m", "u", "wa", "tu"];

pub(super) const NOT_RECEIVED: &str =
    "not received, not receive, havent received, haven t received,
    have not received, didnt get, didn t get, did not get, didnt receive, didn t receive,
    did not receive, haven t got, havent got, not got, nothing, no prompt, no request,
    no message, no notification, no pop, no popup, no stk, hasn t popped, hasnt popped,
    has not popped, not popped, hasn t come, has not come, not come, not arrived,
    hasn t arrived, hasnt come, hasnt arrived, not showing, cant see, can t see, dont see,
    don t see, havent seen, haven t seen, not seen, where is the prompt, still waiting,
    bado sijapata";

/// After "hakuna" (there is no …): what did not come.
pub(super) const NOTHING_CAME: &str =
    "kitu, chochote, prompt, message, pop, popup, stk, ombi, request,
    notification, any, mpesa, sms, push";

/// "Not yet" answers, only when short: "sijalipa bado, nitalipa nikifika"
/// says something else.
pub(super) const YET: &str = "not yet, bado, yet, no";

pub(super) const PAY: &str = "pay, settle, nitakuletea, paying";

/// The Swahili "pay" with its endings ("nitalipa", "nitakulipa", "nilipe").
pub(super) const PAY_ROOTS: &[&str] = &["lipa", "lipe", "lipia", "lipie"];

/// Future and subjunctive prefixes before "lipa": will pay, may I pay.
pub(super) const PAY_SUBJECT: &[&str] = &[
    "", "ni", "tu", "ku", "na", "nita", "tuta", "nitaku", "naweza",
];

/// No money for the prompt now: a payment promised is for later.
pub(super) const NO_MONEY: &str = "sina pesa, no money, hakuna pesa, haina pesa, iko low, is low,
    don t have money, dont have money";

/// After a pay verb: when or where that is not now.
pub(super) const LATER: &str =
    "there, huko, later, baadaye, badae, baadae, salon, arrival, arrive, in person,
    when i come, when i get there, on the day, siku hiyo, after, mkishamaliza, mkimaliza,
    kesho, tomorrow, hapo hapo, next week, wiki ijayo, nikija, shop, venue, reception";

pub(super) const WAIT: &str =
    "wait, ngoja, ngojea, subiri, hold on, hold, one sec, sec, second, seconds,
    moment, minute, minutes, min, mins, dakika, brb, give me, nipe, nipatie, let me, nakuja,
    i m coming, loading, opening, driving, busy, nitaweka, when i park, in a bit, shortly,
    dont cancel, don t cancel, usicancel, sijalipa, getting, niko kwa, nko kwa, i m in,
    im in, am in, looking for, entering, naweka, nakam, doing it, do it now, sasa hivi,
    it s coming, its coming, it is coming, i m coming, am coming,
    it has come, it s come, it came, it s here, its here, =imekuja, =imefika, =imeingia,
    i got it, i see it, =nimeiona, =nimeipata, =nimeona";

pub(super) const REFUSE: &str =
    "not now, no thanks, no thank you, sitaki, si sasa, later, baadaye, badae,
    hapana asante, sihitaji";

pub(super) const NO: &str = "no, nope, nah, hapana, hapna, la";

pub(super) const YES: &str =
    "yes, yeah, yea, yep, yup, ya, ok, okay, sure, fine, alright, ndio, ndiyo,
    sawa, poa, haya, fiti, endelea, proceed, send, tuma, go";

pub(super) const GO_AHEAD: &str = "go ahead, send it, tuma tu, please do, try again, jaribu tena";
