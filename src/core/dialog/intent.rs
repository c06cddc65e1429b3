//! What the customer wants, from keywords in both languages. A turn can
//! carry several intents ("Hi, I want braids tomorrow" is a greeting and a
//! booking); [`Intents::primary`] picks the one the conversation acts on.

use serde::{Deserialize, Serialize};

use super::text::Tokens;

mod abuse;
mod assent;
mod complaint;
pub(crate) mod lexicon;
mod payment_problem;
mod topics;

pub use abuse::is_abuse;
pub use assent::{Assent, assent, assent_text};
pub use complaint::is_complaint;
pub use payment_problem::is_payment_problem;
pub use topics::{Topic, asks_of_staff, asks_service_on_day, asks_when_in, budget, topics};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    Human,
    /// Insults, threats, fraud or theft accusations: a person takes over.
    Abuse,
    Cancel,
    Reschedule,
    Book,
    AskHours,
    AskPrices,
    AskServices,
    AskLocation,
    AskOther,
    Yes,
    No,
    Thanks,
    Greeting,
}

impl Intent {
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Human => "human",
            Intent::Abuse => "abuse",
            Intent::Cancel => "cancel",
            Intent::Reschedule => "reschedule",
            Intent::Book => "book",
            Intent::AskHours => "ask_hours",
            Intent::AskPrices => "ask_prices",
            Intent::AskServices => "ask_services",
            Intent::AskLocation => "ask_location",
            Intent::AskOther => "ask_other",
            Intent::Yes => "yes",
            Intent::No => "no",
            Intent::Thanks => "thanks",
            Intent::Greeting => "greeting",
        }
    }
}

/// The intents found in one turn, in priority order (enum order).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intents(Vec<Intent>);

impl Intents {
    pub fn contains(&self, i: Intent) -> bool {
        self.0.contains(&i)
    }

    pub fn primary(&self) -> Option<Intent> {
        self.0.first().copied()
    }

    pub fn all(&self) -> &[Intent] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The same intents without `i`.
    pub fn without(&self, i: Intent) -> Intents {
        Intents(self.0.iter().copied().filter(|x| *x != i).collect())
    }

    /// The first "ask" intent, if any.
    pub fn question(&self) -> Option<Intent> {
        self.0.iter().copied().find(|i| {
            matches!(
                i,
                Intent::AskHours
                    | Intent::AskPrices
                    | Intent::AskServices
                    | Intent::AskLocation
                    | Intent::AskOther
            )
        })
    }
}

const HUMAN: &[&str] = &[
    "human",
    "real person",
    "a person",
    "someone",
    "somebody",
    "agent",
    "operator",
    "representative",
    "manager",
    "customer care",
    "customer service",
    "binadamu",
    "mhudumu",
    "meneja",
    "msimamizi",
    "ongea na mtu",
    "kuongea na mtu",
    "zungumza na mtu",
    "kuzungumza na mtu",
    "niunganishe",
    "nataka mtu",
    "mtu halisi",
    "mtu wa ukweli",
    "mtu wa kweli",
    "nipe mtu",
    "nipeni mtu",
    "mwenye salon",
    "mwenye biashara",
    "kuongea na mashine",
    "not a machine",
    "not a robot",
    "not a bot",
    "si bot",
    "kuniunganisha na mtu",
    "mniunganishe na mtu",
    "who do i talk to",
    "your boss",
    "the owner",
    "mtu wa kuongea",
    "mtu wa kuongelesha",
    "niongee na mtu",
    "talk to the owner",
    "speak to the owner",
];
const CANCEL: &[&str] = &[
    "cancel",
    "cancellation",
    "call off",
    "futa",
    "kufuta",
    "ifute",
    "ghairi",
    "kughairi",
    "sitakuja",
    "sitaweza kuja",
    "won't make it",
    "wont make it",
    "can't make it",
    "cant make it",
    "sitafika",
    "sitaweza kufika",
    "siwezi kufika",
    "siwezi kuja",
    "nitashindwa kuja",
    "nitashindwa kufika",
];
const RESCHEDULE: &[&str] = &[
    "reschedule",
    "rebook",
    "move my",
    "move the",
    "move both",
    "move all",
    "move them",
    "move zote",
    "move yote",
    "move zile",
    "move it",
    "move her",
    "move his",
    "move our",
    "change my appointment",
    "change the time",
    "change the date",
    "change my booking",
    "postpone",
    "push it",
    "badilisha",
    "kubadilisha",
    "hamisha",
    "kuhamisha",
    "sogeza",
    "songa",
    "isonge",
    "tusonge",
    "inaeza songa",
    "kusogeza",
    "ahirisha",
    "kuahirisha",
    "different time",
    "another time",
    "another day",
    "push my",
    "push the",
    "move appointment",
    "move booking",
    "change appointment",
    "change booking",
    "ku move",
];
const BOOK: &[&str] = &[
    "book",
    "booking",
    "appointment",
    "reserve",
    "reservation",
    "schedule",
    "miadi",
    "kuweka",
    "weka",
    "nipangie",
    "kupanga",
    "panga",
    "kubook",
    "nibook",
    "ku book",
    "nataka",
    "ningependa",
    "i want",
    "i'd like",
    "id like",
    "i would like",
    "can i get",
    "can i come",
    "can i still",
    "could i still",
    "could i get",
    "is it possible to get",
    "naweza kupata",
    "naeza kupata",
    "naweza pata",
    "naeza pata",
    "come in",
    "slot",
    "nafasi",
    "available",
    "availability",
    "free time",
    "mko free",
];
const HOURS: &[&str] = &[
    "open",
    "opening",
    "opened",
    "close",
    "closing",
    "closed",
    "hours",
    "working hours",
    "mnafungua",
    "mnafunga",
    "kufungua",
    "kufunga",
    "saa ngapi mnafungua",
    "mko wazi",
    "wazi",
    "saa za kazi",
    "what time do you",
];
const PRICES: &[&str] = &[
    "price",
    "prices",
    "pricing",
    "cost",
    "costs",
    "how much",
    "charge",
    "charges",
    "rates",
    "bei",
    "gharama",
    "pesa ngapi",
    "shilingi ngapi",
    "ni ngapi",
    "ngapi",
    "price list",
];
const SERVICES: &[&str] = &[
    "services",
    "service",
    "what do you offer",
    "what do you do",
    "menu",
    "offer",
    "offers",
    "huduma",
    "mnafanya nini",
    "mnafanya",
    "mna huduma gani",
    "treatments",
    "catalogue",
];
const LOCATION: &[&str] = &[
    "where",
    "location",
    "located",
    "address",
    "directions",
    "wapi",
    "mahali",
    "mko wapi",
    "find you",
    "map",
    "landmark",
];
const OTHER_QUESTION: &[&str] = &[
    "do you",
    "can you",
    "is there",
    "are there",
    "mna",
    "mnaweza",
    "je",
    "kuna",
    "policy",
    "payment",
    "pay",
    "mpesa",
    "m pesa",
    "lipa",
    "kulipa",
    "deposit",
    "wifi",
    "kids",
    "watoto",
];
const YES: &[&str] = &[
    "yes",
    "yeah",
    "yep",
    "yup",
    "yea",
    "sure",
    "ok",
    "okay",
    "okey",
    "confirm",
    "confirmed",
    "correct",
    "sawa",
    "ndiyo",
    "ndio",
    "eeh",
    "ee",
    "poa",
    "fine",
    "go ahead",
    "that works",
    "perfect",
    "naam",
    "kabisa",
    "sure thing",
    "alright",
    "great",
    "👍",
];
const NO: &[&str] = &[
    "no",
    "nope",
    "nah",
    "hapana",
    "sitaki",
    "not really",
    "don't",
    "dont",
    "none of",
    "neither",
    "hakuna",
    "siwezi",
];
const THANKS: &[&str] = &[
    "thanks",
    "thank you",
    "thank",
    "asante",
    "asanteni",
    "shukran",
    "thx",
];
const GREETING: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "habari",
    "jambo",
    "hujambo",
    "mambo",
    "niaje",
    "good morning",
    "good afternoon",
    "good evening",
    "salaam",
    "salama",
    "shikamoo",
    "vipi",
    "sasa",
    "hallo",
    "helo",
    // Greetings in other Kenyan languages (Luhya, Kalenjin, Kamba, Kisii,
    // Luo, Gikuyu).
    "mulembe",
    "mlembe",
    "chamgei",
    "chamge",
    "wakya",
    "bwakire",
    "bwakya",
    "oyawore",
    "misawa",
    "amosi",
    "wi mwega",
    "wimwega",
];

/// Classifies one turn.
/// Swahili verbs take prefixes and suffixes ("tuisogeze", "isogezwe",
/// "nimeihamisha"): their stems, and English/Sheng verb forms.
const RESCHEDULE_STEMS: &[&str] = &[
    "sogez",
    // "songeza" (push along), the everyday variant: "isongezwe", "tusongeze"
    "songez",
    // "songesha" / "songeshwa", the Sheng spelling: "ile dredi yangu
    // inaeza songeshwa hadi saa nane"
    "songesh",
    "sogesh",
    // "sukuma" (push: "zisukume ijumaa"), "peleka" (take it to: "ipelekwe
    // Ijumaa", "tupeleke kesho")
    "sukum",
    "pelek",
    "hamish",
    // "hamia" (move to): "pedicure yangu ya ijumaa ihamie jumamosi"
    "hamie",
    "hamiwe",
    "ahiris",
    "push",
    "postpon",
    "reschedul",
    "shift",
    "kumove",
    "nimove",
];
const CANCEL_STEMS: &[&str] = &[
    "ghair", "ifute", "tufute", "nifutie", "ifutwe", "futilia", "ufute", "mfute",
    // "iondoe", "tuiondoe", "iondolewe" (take it off)
    "iondo", "uiondo", "tuiondo", "ziondo", // "ondoa pedicure, nibaki na manicure tu"
    "ondoa",  // "uicancel", "ku-cancel", "nicancelie"
    "cancel", // "nataka kukatisha miadi yangu ya ijumaa" (call it off)
    "katish",
];

fn has_stem(tokens: &Tokens, stems: &[&str]) -> bool {
    let words = tokens.words();
    (0..words.len()).any(|i| word_has_stem(words, i, stems))
}

/// Whether the word at `i` is a form of one of `stems`. Swahili negative
/// forms ("usifute", "msiihamishe", "sitaki") do not ask for the thing, and
/// after "night", "my", "the" … the word is a noun ("night shift").
fn word_has_stem(words: &[String], i: usize, stems: &[&str]) -> bool {
    let w = &words[i];
    let noun = i > 0
        && matches!(
            words[i - 1].as_str(),
            "night"
                | "day"
                | "morning"
                | "evening"
                | "late"
                | "early"
                | "work"
                | "my"
                | "a"
                | "the"
        );
    // "ndege yangu imeahirishwa" (my flight has been put off): a perfect
    // passive says what happened, it asks for nothing.
    let happened = (w.starts_with("ime") || w.starts_with("ili")) && w.ends_with("wa");
    !noun
        && !happened
        && !["usi", "msi", "tusi", "asi", "si"]
            .iter()
            .any(|neg| w.starts_with(neg))
        && stems.iter().any(|s| w.contains(s))
}

/// Whether the word at `i` asks to move something ("tuisogeze",
/// "ipelekwe", "reschedule", "push").
pub fn is_move_verb(words: &[String], i: usize) -> bool {
    word_has_stem(words, i, RESCHEDULE_STEMS)
}

/// Whether the customer speaks of a booking they already have ("my
/// Saturday appointment", "miadi yangu", "I have a manicure booked",
/// "nilikuwa nimepanga").
pub fn refers_to_existing(tokens: &Tokens) -> bool {
    tokens.has_any(&[
        "my appointment",
        "my booking",
        "my appt",
        "appointment yangu",
        "miadi yangu",
        "booking yangu",
        "appt yangu",
        "already booked",
        "booked for",
        "have a booking",
        "have an appointment",
        "have appointments",
        "have two appointments",
        "have 2 appointments",
        "appointments with you",
        "nina appointments",
        "nina miadi miwili",
        "nina booking mbili",
        "nimebook",
        "nilibook",
        "nime book",
        "nili book",
        "nilikuwa nime book",
        "nilikua nime book",
        "niliweka",
        "nilipanga",
        "nimepanga",
        "nimeweka",
        "nimeshaweka",
        "nilikuwa nimeweka",
        "nilikuwa nimebook",
        "nilikuwa nimepanga",
        "nina miadi",
        "nina booking",
        // Coastal "nnayo" (I have it): "Nnayo miadi ya dredi juma mosi".
        "ninayo miadi",
        "nnayo miadi",
        "ninayo booking",
        "nnayo booking",
        "ninayo appointment",
        "nnayo appointment",
        "about my",
        "regarding my",
        "nilikuwa na booking",
        "nilikuwa na appointment",
        "nilikuwa na miadi",
        "nilikua na booking",
        "ile booking",
        "ile appointment",
        "ile miadi",
        "booking zangu",
        "bookings zangu",
        "appointment zangu",
        "miadi zangu",
        "zile booking",
        "nina appointment",
        "nina appt",
        "niko na booking",
        "niko na appointment",
        "niko na miadi",
        "i booked",
        "tulibook",
        "tumebook",
        "tuli book",
        "tume book",
        "nishabook",
        "tushabook",
        "tuliweka",
        "tumeweka",
        "tulipanga",
        "tumepanga",
        "we booked",
        "we have booked",
        "we ve booked",
        "i made a booking",
        "i made an appointment",
    ]) || (tokens.has("booked") && tokens.has_any(&["i have", "i've", "ive", "i had"]))
        || tokens
            .words()
            .windows(3)
            .any(|w| w[0] == "my" && matches!(w[2].as_str(), "appointment" | "booking" | "appt"))
        // "I can't make my 2pm today", "can we move my 10am?"
        || tokens.words().windows(2).any(|w| {
            w[0] == "my"
                && w[1].starts_with(|c: char| c.is_ascii_digit())
                && (w[1].ends_with("am") || w[1].ends_with("pm") || w[1].contains(':'))
        })
}

/// Whether a booking is named as "that one of <day>": "ile ya jumamosi",
/// "ile appointment ya jumamosi", "ile facial ya thursday", "ile ya
/// cornrows jumamosi" (not "ile ile", the same, nor "ile ya kwanza", an
/// offered choice, nor "ile ya saa nne").
pub fn names_booking_by_day(tokens: &Tokens) -> bool {
    let words = tokens.words();
    words.iter().enumerate().any(|(i, w)| {
        w == "ile"
            && words.get(i + 1).is_some_and(|n| n != "ile")
            && words[i + 1..]
                .iter()
                .take(4)
                .take_while(|w| !matches!(w.as_str(), "saa" | "at" | "kwanza" | "pili" | "mwisho"))
                .any(|w| crate::core::dialog::lexicon::is_day_word(w))
    })
}

/// Whether the customer asks what they have booked ("I booked locs for
/// Saturday but forgot the time", "my appointment ni saa ngapi?", "when is
/// my booking").
/// "are you a robot?", "wewe ni bot?", "is this a machine": whether a
/// person answers (answered; "talk to a person" hands off).
pub fn asks_if_bot(tokens: &Tokens) -> bool {
    tokens.has_any(&[
        "are you a bot",
        "are you a robot",
        "are you a machine",
        "are you human",
        "are you a human",
        "are you a real person",
        "is this a bot",
        "is this a robot",
        "is this a machine",
        "is this automated",
        "am i talking to a bot",
        "am i talking to a robot",
        "am i talking to a machine",
        "wewe ni robot",
        "wewe ni bot",
        "wewe ni mashine",
        "wewe ni machine",
        "wewe ni mtu",
        "ni robot",
        "ni bot",
    ])
}

pub fn asks_about_existing(tokens: &Tokens) -> bool {
    // "ile yangu ya kucha ni saa ngapi": theirs, by its kind.
    let mine = refers_to_existing(tokens)
        || tokens.has_any(&[
            "my appointment",
            "my booking",
            "ile yangu",
            "zile zangu",
            "yangu ya",
            "zangu za",
        ]);
    // "what do i have this week?", "nimebook nini?": what they have, asked
    // on its own ("what do I have to pay" asks something else).
    let what_i_have = tokens.has_any(&[
        "what do i have",
        "what have i booked",
        "what did i book",
        "what am i booked for",
        "do i have anything",
        "do i have any appointment",
        "do i have any appointments",
        "do i have any booking",
        "do i have any bookings",
        "am i booked",
        // "bado niko booked jumamosi?", "just confirming me n my son are
        // still booked tomorrow 10am?"
        "still booked",
        "still on for",
        "niko booked",
        "tuko booked",
        "just confirming",
        "just to confirm",
        "nina nini",
        "niko na nini",
        "nimebook nini",
        "nimeweka nini",
        "nina miadi gani",
        "nina appointment gani",
        "nina appointment ngapi",
        "nina booking gani",
        // "sasa nimebaki na zipi?" after a cancellation.
        "nimebaki na",
        "zimebaki",
        "zilizobaki",
        "what do i have left",
        "what s left",
        "whats left",
    ]) && !tokens.has_any(&["what do i have to", "do i have to"]);
    (mine && asks_when_it_is(tokens)) || what_i_have
}

/// "what time is", "nimesahau", "saa ngapi": asks when something is.
pub fn asks_when_it_is(tokens: &Tokens) -> bool {
    tokens.has_any(&[
        "forgot",
        "forget",
        "forgotten",
        "nimesahau",
        "nilisahau",
        "what time is",
        "which time",
        "when is",
        "is it at",
        "saa ngapi",
        "ni lini",
        "remind me",
        "do i have",
        "check my",
        "confirm my",
        // "nataka kujua kama manicure yangu ni monday ama tuesday"
        "kujua kama",
        "want to know if",
        "want to know when",
        "wanted to know if",
        "is it on",
    ])
}

pub fn classify(tokens: &Tokens) -> Intents {
    let mut found = Vec::new();
    let has = |list: &[&str]| tokens.has_any(list);
    if has(HUMAN) {
        found.push(Intent::Human);
    }
    if is_abuse(tokens) {
        found.push(Intent::Abuse);
    }
    let own_booking = refers_to_existing(tokens) || names_booking_by_day(tokens);
    // "ile appointment yangu ya locs monday ikatwe tu": cut = called off,
    // said of a booking (of hair, "nywele zikatwe" is a haircut).
    let cut_off = own_booking && tokens.has_any(&["ikatwe", "ikate", "tuikate", "ikatishwe"]);
    if has(CANCEL) || has_stem(tokens, CANCEL_STEMS) || cut_off {
        found.push(Intent::Cancel);
    }
    // "ile ya jumamosi iende sunday", "ile facial ya thursday iwe saa
    // tatu", "nina booking ya gel nails … tubadilishe iwe manicure".
    let changes_existing = own_booking
        && (tokens.has_any(&[
            "change",
            "badilisha",
            "tubadilishe",
            "ibadilishwe",
            "ibadilishe",
            "instead",
            "badala",
            "another day",
            "different",
            "iende",
            "ziende",
            "iwe",
            "ziwe",
            "ziweke",
            "ikue",
        ]) || has_stem(tokens, &["badilish"]));
    // "naeza kuja saa nane badala ya saa sita?", "can I come at 4 instead
    // of 2": a time given in place of another is a move.
    let words = tokens.words();
    let instead_of_time = words.windows(2).enumerate().any(|(k, w)| {
        matches!(
            (w[0].as_str(), w[1].as_str()),
            ("instead", "of") | ("badala", "ya")
        ) && words[k + 2..].iter().take(3).any(|w| {
            w == "saa"
                || crate::core::dialog::lexicon::is_day_word(w)
                || w.starts_with(|c: char| c.is_ascii_digit())
        })
    });
    // "can i come half an hour earlier tomorrow": a time moved by an amount.
    let shifted = crate::core::dialog::when::shift_minutes(tokens).is_some();
    // Only a booking can be come to earlier: "jumatano naweza kuja mapema
    // kidogo? kama saa tatu"; not "im a teacher so cant come earlier".
    let earlier = tokens.has_any(&[
        "come earlier",
        "come in earlier",
        "come a bit earlier",
        "kuja mapema",
        "nije mapema",
    ]) && !tokens.has_any(&[
        "cant come",
        "can t come",
        "cannot come",
        "couldn t come",
        "siwezi kuja",
        "sitaweza kuja",
        "sitaweza",
    ]);
    if has(RESCHEDULE)
        || has_stem(tokens, RESCHEDULE_STEMS)
        || changes_existing
        || instead_of_time
        || shifted
        || earlier
    {
        found.push(Intent::Reschedule);
    }
    if has(BOOK) {
        found.push(Intent::Book);
    }
    // "saa ngapi" is "what time", not "how much".
    let asks_time = tokens.has("saa ngapi");
    if has(HOURS) || (asks_time && !has(BOOK)) {
        found.push(Intent::AskHours);
    }
    let price_words = if asks_time {
        tokens.has_any(&[
            "bei",
            "gharama",
            "pesa ngapi",
            "shilingi ngapi",
            "price",
            "cost",
            "how much",
        ])
    } else {
        has(PRICES)
    };
    if price_words {
        found.push(Intent::AskPrices);
    }
    if has(SERVICES) && !price_words {
        found.push(Intent::AskServices);
    }
    if has(LOCATION) {
        found.push(Intent::AskLocation);
    }
    let question_mark_like = tokens.has_any(OTHER_QUESTION);
    let asked_something = found.iter().any(|i| {
        matches!(
            i,
            Intent::AskHours | Intent::AskPrices | Intent::AskServices | Intent::AskLocation
        )
    });
    if question_mark_like && !asked_something && found.is_empty() {
        found.push(Intent::AskOther);
    }
    // Yes/no only count in short answers: "no" inside a long sentence is
    // rarely an answer to our question.
    if tokens.len() <= 6 {
        if has(YES) && !has(NO) {
            found.push(Intent::Yes);
        }
        if has(NO) {
            found.push(Intent::No);
        }
    }
    if has(THANKS) {
        found.push(Intent::Thanks);
    }
    if has(GREETING) {
        found.push(Intent::Greeting);
    }
    found.sort();
    found.dedup();
    // A cancel/reschedule request also mentions the appointment; it is not
    // a new booking.
    if found.contains(&Intent::Cancel) || found.contains(&Intent::Reschedule) {
        found.retain(|i| *i != Intent::Book);
    }
    if found.contains(&Intent::Reschedule) {
        found.retain(|i| *i != Intent::Cancel || tokens.has_any(&["cancel", "futa", "ghairi"]));
    }
    Intents(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn primary(text: &str) -> Option<Intent> {
        classify(&Tokens::new(text)).primary()
    }

    #[test]
    fn intent_table() {
        use Intent::*;
        let cases: &[(&str, Option<Intent>)] = &[
            ("I want to book braids tomorrow", Some(Book)),
            ("Nataka kuweka miadi kesho", Some(Book)),
            ("Can I get an appointment on Friday?", Some(Book)),
            ("nibook kesho saa nne", Some(Book)),
            ("I need to reschedule my appointment", Some(Reschedule)),
            ("Nataka kubadilisha miadi yangu", Some(Reschedule)),
            ("can we move it to Friday", Some(Reschedule)),
            ("Please cancel my appointment", Some(Cancel)),
            ("Nataka kufuta miadi", Some(Cancel)),
            ("sitaweza kuja kesho", Some(Cancel)),
            ("What time do you open?", Some(AskHours)),
            ("Mnafungua saa ngapi?", Some(AskHours)),
            ("How much is a haircut?", Some(AskPrices)),
            ("Bei ya kusuka ni ngapi?", Some(AskPrices)),
            ("What services do you offer?", Some(AskServices)),
            ("Mna huduma gani?", Some(AskServices)),
            ("Where are you located?", Some(AskLocation)),
            ("Mko wapi?", Some(AskLocation)),
            ("Do you accept M-Pesa?", Some(AskOther)),
            ("I want to talk to a real person", Some(Human)),
            ("Nataka kuongea na mtu", Some(Human)),
            ("yes", Some(Yes)),
            ("Ndiyo", Some(Yes)),
            ("sawa sawa", Some(Yes)),
            ("no thanks", Some(No)),
            ("Hapana", Some(No)),
            ("Asante sana", Some(Thanks)),
            ("thank you", Some(Thanks)),
            ("Habari", Some(Greeting)),
            ("Hello there", Some(Greeting)),
            ("asdfgh qwerty", None),
        ];
        for (text, want) in cases {
            assert_eq!(primary(text), *want, "{text}");
        }
    }

    #[test]
    fn asking_what_is_booked() {
        for text in [
            "hi, i booked locs retwist for saturday but i forgot the time",
            "miadi yangu ni saa ngapi",
            "when is my appointment",
            "habari, bado niko booked jumamosi?",
            "ile yangu ya kucha ni saa ngapi wedensday? nimesahau",
            "just confirming me n my son are still booked tomorrow 10am?",
        ] {
            assert!(asks_about_existing(&Tokens::new(text)), "{text}");
        }
        for text in [
            "what time do you open",
            "book my appointment for friday",
            "nataka kusuka kesho, bado niko free saa nne",
        ] {
            assert!(!asks_about_existing(&Tokens::new(text)), "{text}");
        }
    }

    #[test]
    fn greeting_with_a_request_keeps_both() {
        let i = classify(&Tokens::new("Hi, I want to book a haircut"));
        assert_eq!(i.primary(), Some(Intent::Book));
        assert!(i.contains(Intent::Greeting));
    }

    #[test]
    fn abuse_comes_right_after_human() {
        let i = classify(&Tokens::new("you people stole my money, cancel my booking"));
        assert_eq!(i.primary(), Some(Intent::Abuse));
        let i = classify(&Tokens::new("nataka kuongea na mtu, mnatuibia pesa"));
        assert_eq!(i.all()[..2], [Intent::Human, Intent::Abuse]);
        assert_eq!(
            classify(&Tokens::new("I want to cancel, not happy")).primary(),
            Some(Intent::Cancel)
        );
    }

    #[test]
    fn no_inside_a_long_sentence_is_not_an_answer() {
        let i = classify(&Tokens::new(
            "there is no way I can come in on Friday at all",
        ));
        assert!(!i.contains(Intent::No));
    }
}
