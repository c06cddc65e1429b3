//! Which knowledge the customer asks about, chosen by meaning with synonyms
//! in English, Swahili and Sheng, every topic of a compound question in the
//! order asked. A stray keyword is not enough: "close to town" is location,
//! "late afternoon" is a time, "saa saba na nusu je?" asks about a slot.

use serde::{Deserialize, Serialize};

use super::lexicon::spans;
use crate::core::dialog::text::Tokens;

/// A subject of the tenant's knowledge snippets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    Hours,
    Location,
    Parking,
    Prices,
    Payment,
    Deposit,
    Cancellation,
    Lateness,
    Duration,
    Services,
    /// Who does a service, or what a staff member does.
    Staff,
    /// Whether a staff member is in on a day, or when they work.
    StaffDays,
    /// Whether a service is done on a day ("do you do facials on
    /// Sundays?").
    ServiceDay,
}

impl Topic {
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Hours => "hours",
            Topic::Location => "location",
            Topic::Parking => "parking",
            Topic::Prices => "prices",
            Topic::Payment => "payment",
            Topic::Deposit => "deposit",
            Topic::Cancellation => "cancellation",
            Topic::Lateness => "lateness",
            Topic::Duration => "duration",
            Topic::Services => "services",
            Topic::Staff => "staff",
            Topic::StaffDays => "staff_days",
            Topic::ServiceDay => "service_day",
        }
    }
}

/// One topic's phrases, and phrases inside which they do not count.
struct Rule {
    topic: Topic,
    words: &'static str,
    unless: &'static str,
}

const DEPOSIT_WORDS: &str = "deposit, deposits, depo, amana, advance payment, pay in advance,
    pay advance, lipa advance, kulipa advance, pay first, pay before, pay upfront, upfront,
    pay something first, kulipa kwanza, nilipe kwanza, lipa kwanza, tulipe kwanza,
    kulipia kwanza, nilipie kwanza, nitumie kwanza, down payment, booking fee,
    commitment fee, reservation fee, pesa ya kushikilia, kushikilia nafasi, pay to book,
    pay to reserve, pay to secure, pay to confirm, lipa ndio, pay half, half payment,
    lipa nusu, nusu ya pesa, kulipa kabla, nilipe kabla, lipa kabla";

const RULES: &[Rule] = &[
    Rule {
        topic: Topic::Hours,
        words: "open, opening, opened, opens, close, closing, closed, closes, hours,
            working hours, business hours, opening hours, mnafungua, mnafunga, mnafungwa,
            kufungua, kufunga, mtafungua, mtafunga, mnafunguliwa, mko wazi, mpo wazi,
            mtakuwa wazi, mnakuwa wazi, huwa wazi, iko wazi, saa za kazi, saa za kufungua,
            what time do you, till what time, until what time, up to what time, upto when,
            until when, till when, mpaka saa ngapi mko, hadi saa ngapi mko, mnaclose,
            mnaopen, mnaclosed, mnafanya kazi, mko kazini, mtakuwa kazini, do you work,
            you work on, are you working, mnaanza saa, mnaanza kazi, mnamaliza saa,
            mnamaliza kazi, you start, you finish, public holiday, holidays, holiday,
            sikukuu, siku gani mko, siku za kazi, which days, what days, mko open, mpo open,
            opening time, closing time, saa ngapi mko, mko mpaka saa ngapi, working hrs,
            opening hrs, mnakaa mpaka, mko mpaka, mpo mpaka, mnakuwa mpaka",
        unless: "still open, slot open, open slot, open slots, openings, an opening,
            any opening, open to, on holiday, my holiday, how many hours, many hours, hours does it,
            hours will it, hours long, hours to do, close to, close by, close na, close kwa, closer to,
            close enough",
    },
    Rule {
        topic: Topic::Location,
        words: "where, wapi, location, located, locate, address, directions, direction,
            find you, map, maps, google maps, location pin, drop a pin, drop pin,
            send pin, share pin, landmark, which building,
            building gani, jengo gani, which floor, floor gani, how do i get, how to get,
            how do i find, how can i find, jinsi ya kufika, nitafikaje, nifike aje,
            nikuje aje, nitafika aje, nitakuja aje, mnapatikana, mtaa gani, which road,
            which street, estate gani, area gani, eneo gani, mahali, close to, near town,
            near the, karibu na nini, opposite what, your place, place yenu, ofisi yenu,
            mko area gani, nitawapata, kuwapata, mtaani gani",
        unless: "where do i pay, where can i pay, where to pay, where do we pay,
            where do i park, where can i park, where to park, where do we park,
            nilipe wapi, nitalipa wapi, tulipe wapi, nipark wapi, niegeshe wapi,
            naegesha wapi, parking iko wapi, where is the parking, where s the parking,
            wapi ya kupark, wapi pa kupark, wapi pa kuegesha",
    },
    Rule {
        topic: Topic::Parking,
        words: "parking, park, parked, maegesho, kuegesha, egesha, niegeshe, naegesha,
            kupark, nipark, kuparki, car, gari, motorbike, pikipiki, parking space,
            parking lot",
        unless: "",
    },
    Rule {
        topic: Topic::Prices,
        words: "price, prices, pricing, priced, cost, costs, costing, how much, hw much,
            hw mch, how mch, how mutch, howmuch, =charge, =charges, charging, rate, rates,
            bei, gharama, pesa ngapi, shilingi ngapi, ni ngapi, ngapi, ksh ngapi,
            bob ngapi, doh ngapi, kiasi gani, kiasi cha pesa, fee, fees, expensive, cheap, cheaper,
            affordable, discount, ofa, total, price list, cheapest, least expensive,
            bei ya chini, bei nafuu, nafuu, rahisi zaidi, nilipe ngapi, nitalipa ngapi,
            tulipe ngapi, pay how much, bei gani, extra charge, extra cost, extra fee, charge extra,
            pay extra, additional charge, additional cost, cost more, costs more, pay more,
            price go up, price goes up, does it go up, inaongezeka, itaongezeka, inapanda,
            itapanda, bei inaongezeka, bei inapanda, lipa zaidi, nilipe zaidi, nitalipa zaidi,
            pesa zaidi, pesa ya ziada, malipo ya ziada, form ni gani, ni form gani, form gani,
            form yake, form ni ngapi, ni form ngapi, inaenda aje, inaenda ngapi, ni doh ngapi,
            ni ngiri ngapi",
        unless: "how much time, in charge, saa ngapi, masaa ngapi, siku ngapi,
            dakika ngapi, watu ngapi, mara ngapi, deposit fee, booking fee,
            cancellation fee, cancel fee, commitment fee, reservation fee, how much notice,
            how much advance notice, how much prior notice, how much warning, mapema kiasi gani,
            kiasi gani mapema, mapema kiasi, muda gani mapema, how much earlier",
    },
    Rule {
        topic: Topic::Payment,
        words: "pay, paying, payment, payments, paid, lipa, kulipa, nilipe, tulipe,
            nitalipa, malipo, kulipia, nikulipe, mnalipwa, mpesa, m pesa, mpeso, nalipa,
            nalipa vipi, nilipe aje, nitalipa aje, nitatuma doh, tuma doh, nitume doh, doh aje,
            nitume pesa, mnapokea kadi, kadi, nitalipaje, tunalipaje, nalipaje, nilipeje, tulipeje,
            mnalipwaje,
            paybill, pay bill, till number, till no, till namba, namba ya till, till yenu,
            the till, your till, till yako, till gani,
            buy goods, card, cards, visa, mastercard, cash, taslimu, credit, airtel money,
            bank, transfer, send money, tuma pesa, lipa na mpesa, account number,
            acc no, account no, namba ya akaunti, akaunti",
        unless: "how much do i pay, how much will i pay, how much to pay, nilipe ngapi,
            nitalipa zaidi, lipa zaidi, nilipe zaidi, pay more, pay extra,
            nitalipa ngapi, tulipe ngapi, pay how much, pay a deposit, pay the deposit,
            pay deposit, pay any deposit, lipa deposit, kulipa deposit, deposit, deposits,
            paid the deposit, paid deposit, paid a deposit, pay half, lipa nusu, depo, amana,
            advance payment, pay in advance, pay advance, lipa advance, kulipa advance,
            pay first, pay before, pay upfront, pay something first, kulipa kwanza,
            nilipe kwanza, lipa kwanza, tulipe kwanza, kulipia kwanza, nilipie kwanza,
            down payment, pay to book, pay to reserve, pay to secure, lipa ndio",
    },
    Rule {
        topic: Topic::Deposit,
        words: DEPOSIT_WORDS,
        unless: "",
    },
    Rule {
        topic: Topic::Cancellation,
        words: "cancellation, cancellation policy, cancel policy, if i cancel,
            can i cancel, what if i cancel, what happens if i cancel, nikicancel,
            nikighairi, nikifuta, refund, refunds, refundable, non refundable,
            rudishiwa pesa, nirudishiwe, mtarudisha pesa, mnarudisha pesa,
            get my money back, money back, cancellation fee, cancel fee, no show,
            if i don t come, if i dont come, nisipokuja, nisipofika, if i can t come,
            if i cant come, if i miss, nikikosa kuja, nikikosa kufika, don t show up,
            dont show up, if i reschedule, nikireschedule, reschedule policy, notice,
            how much notice, how early, how long before, how many hours before, hours before,
            hours notice, hours in advance, in advance do you need, advance notice, prior notice,
            if i have to cancel, if i need to cancel, if i want to cancel, if i must cancel,
            if i have to change, if i need to change, if i want to change, if i must change,
            if i have to reschedule, if i need to reschedule, if i want to reschedule,
            if i have to move, if i need to move, if something comes up, in case i cancel,
            in case i need to change, nikihitaji kubadilisha, nikitaka kubadilisha,
            nikibadilisha, nikihitaji kughairi, nikitaka kughairi, nikitaka kufuta,
            nikihitaji kufuta, nikihitaji kuhamisha, nikitaka kuhamisha, nikitaka kusogeza,
            nikihitaji kusogeza, nikiahirisha, niwajulishe, kuwajulisha, niwaarifu, kuwaarifu,
            niwaambie mapema, mapema kiasi gani, kiasi gani mapema, mapema vipi, muda gani kabla,
            saa ngapi kabla, masaa mangapi kabla, masaa ngapi kabla, kabla ya muda gani,
            muda gani mapema, mapema muda gani, mapema saa ngapi, how early should,
            how early must, how early do",
        unless: "notice board, =noticed, i notice, did you notice, short notice, late notice,
            last minute notice, such short notice",
    },
    Rule {
        topic: Topic::Lateness,
        words: "late, lateness, kuchelewa, nikichelewa, nimechelewa, tukichelewa, nichelewe,
            tuchelewe,
            nitachelewa, nkichelewa, chelewa, delayed, delay, running late, grace period,
            dakika za ziada, minutes late",
        unless: "late afternoon, late morning, late evening, late night, late in the,
            late lunch, late appointment, late slot, too late, is it late, late for",
    },
    Rule {
        topic: Topic::Duration,
        words: "how long, hw long, how lng, muda gani, muda mrefu, muda wa, muda ngapi,
            itachukua, inachukua, kuchukua, masaa mangapi, masaa ngapi, dakika ngapi,
            takes, take long, how much time, duration, long does, long will, does it take,
            will it take, it take, how many hours, how many minutes, how many mins,
            itaisha saa ngapi, nitamaliza, nitamaliza saa ngapi, itaisha, inaisha, tutamaliza saa ngapi,
            itamalizika, finish by, done by, be done, be finished, does it last,
            will it last, lasts",
        unless: "take mpesa, take m pesa, take card, take cards, take cash, takes mpesa,
            takes card, takes cash, take visa, take payment, how many hours before,
            hours before, how many hours notice, how much time before, muda gani kabla,
            muda gani mapema, mapema muda gani,
            masaa mangapi kabla, masaa ngapi kabla",
    },
    Rule {
        topic: Topic::Staff,
        words: "who does, who will do, who would do, who can do, who could do,
            who is doing, who s doing, who does the, who works on, who handles, who will attend,
            who attends, who will serve, who serves, who are your stylists, who are the stylists,
            which stylist, which stylists, which staff, which of your staff, which of your stylists,
            which technician, which beautician, which barber, what stylist, stylist gani,
            msusi gani, fundi gani, mhudumu gani, mfanyakazi gani, nani hufanya, nani anafanya,
            nani atafanya, nani anaweza, nani huweza, nani atanifanyia, nani atanihudumia,
            nani hushughulikia, nani anashughulikia, nani anasuka, nani husuka, nani mwenye,
            ni nani hufanya, ni nani anafanya, who is good at, who s good at, who is best at,
            who s best at, your stylists, wasusi wenu, wafanyakazi wenu, atanifanyia,
            atanihudumia, atanisuka, ama ni nani, au ni nani, who will be doing, who is going to do,
            who s going to do, who will be attending, who will i be with, nitahudumiwa na nani,
            nitafanyiwa na nani",
        unless: "",
    },
    Rule {
        topic: Topic::Services,
        words: "services, huduma, what do you offer, what else, menu, offers, treatments,
            catalogue, what services, which services, service gani, huduma gani,
            mnafanya nini, mnadeal na, mnashughulika na, mnashughulikia, what styles,
            which styles, styles do you, mitindo gani, mna mitindo, mitindo mnayo, aina gani,
            what kind of, what type of, types of, kinds of,
            what do you do",
        unless: "customer service, customer care",
    },
];

/// Availability-like questions that only mean "services" when nothing else
/// was asked ("mna pedicure?", but "mna parking?" is parking).
const WEAK_SERVICES: &str = "do you have, do you do, do you offer, mna, mnafanya, mnadoo,
    can you do, mnaweza kufanya";

/// Questions that ask about a slot, not a service ("do you have space").
const SLOT_WORDS: &str = "slot, slots, space, nafasi, time, free, available, availability,
    appointment, miadi, opening";

/// Verbs that ask whether a named staff member does a service ("does
/// Achieng do relaxers?", "Brian anafanya locs?").
const STAFF_DOES: &str = "does, anafanya, hufanya, huwa anafanya, anaweza kufanya, anajua kufanya,
    anajua, is she good at, is he good at, can she do, can he do, does she, does he";

/// What a named staff member does, without naming a service.
const STAFF_WHAT: &str = "what does, what can, anafanya nini, hufanya nini, anafanya kazi gani,
    anaweza kufanya nini";

/// Whether a turn that names a staff member asks what they do (with a
/// service named: whether they do it).
pub fn asks_of_staff(tokens: &Tokens, service_named: bool) -> bool {
    if service_named {
        !spans(tokens, STAFF_DOES).is_empty()
    } else {
        !spans(tokens, STAFF_WHAT).is_empty()
    }
}

/// Words after a staff member's name that ask whether they are in, said
/// after "is", "will", "does" ("is Achieng in on Monday?", "will Brian be
/// around tomorrow?", "does Fatuma work on Sunday?").
const PRESENT_EN: &str = "in, around, there, available, working, work, works, come, coming,
    at work, on duty, off";

/// The same in Swahili, a question on their own ("Brian yuko jumamosi?",
/// "Wanjiku atakuwa kazini kesho?").
const PRESENT_SW: &str = "yuko, yupo, ako, atakuwa, atakuwepo, atakuwako, anakuja, atakuja,
    huja, hukuja, kazini, anafanya kazi, hufanya kazi, anaingia, ataingia";

/// Whether the turn asks if `first_name` (a staff member it names) is in
/// on a day, or which days they work.
pub fn asks_when_in(tokens: &Tokens, first_name: &str) -> bool {
    let words = tokens.words();
    let name = first_name.to_lowercase();
    let Some(at) = words.iter().position(|w| *w == name) else {
        return false;
    };
    let mut next = at + 1;
    if words.get(next).is_some_and(|w| w == "be") {
        next += 1;
    }
    let after = Tokens::from_words(words[next.min(words.len())..].to_vec());
    let opens = |list: &'static str| spans(&after, list).iter().any(|&(start, _)| start == 0);
    let asked = at > 0
        && matches!(
            words[at - 1].as_str(),
            "is" | "will" | "does" | "do" | "when" | "if" | "whether" | "days"
        );
    // "with Brian in the evening" asks nothing.
    let article = after
        .words()
        .get(1)
        .is_some_and(|w| matches!(w.as_str(), "the" | "a" | "an" | "my"));
    (asked && opens(PRESENT_EN) && !article)
        || opens(PRESENT_SW)
        || !spans(
            tokens,
            "which days, what days, siku gani, siku zipi, days does, days is",
        )
        .is_empty()
}

/// "niko na ka budget ya 1k, naeza fanya nini?", "I have 1500, what can I
/// do?": the amount (whole shillings) a customer says they can spend.
pub fn budget(tokens: &Tokens) -> Option<u64> {
    let says_budget = tokens.has_any(&["budget", "bajeti", "bujeti"])
        || (tokens.has_any(&["i have", "i only have", "nina", "niko na", "with only"])
            && tokens.has_any(&[
                "what can i",
                "what can you",
                "fanya nini",
                "nifanye nini",
                "nifanyiwe nini",
                "nipate nini",
                "what do you have",
                "what would",
            ]));
    if !says_budget {
        return None;
    }
    crate::core::dialog::numbers::find_amount(tokens.words()).filter(|&n| n >= 100)
}

/// Whether a turn that names a service and a day asks if the service is
/// done that day ("do you do facials on Sundays?", "je siku hiyo mnafanya
/// facial?").
pub fn asks_service_on_day(tokens: &Tokens) -> bool {
    !spans(tokens, WEAK_SERVICES).is_empty()
        || tokens.has_any(&["do you offer", "is there", "kuna", "mnatoa", "mko na"])
}

/// Every topic the turn asks about, in the order asked, each once.
/// "maybe.. is it 3000?", "ni 1500 sindio?", "so thats 4,500 right?": an
/// amount checked (a price question with no price word), where it starts.
fn checks_a_price(tokens: &Tokens) -> Option<usize> {
    let words = tokens.words();
    let amount = |w: &str| {
        let digits = w.trim_start_matches("ksh").trim_start_matches("kes");
        let digits = digits.trim_end_matches('k');
        !digits.is_empty()
            && digits.chars().all(|c| c.is_ascii_digit())
            && (w.ends_with('k')
                || digits
                    .parse::<u32>()
                    .is_ok_and(|n| (100..=100_000).contains(&n)))
    };
    (1..words.len()).find_map(|i| {
        let prev = words[i - 1].as_str();
        let before = i.checked_sub(2).map_or("", |j| words[j].as_str());
        let asks = matches!(
            (before, prev),
            ("is", "it" | "that" | "this") | ("it", "s") | ("that", "s") | (_, "its" | "thats")
        ) || (prev == "ni" && i == 1)
            || words.get(i + 1).is_some_and(|n| {
                matches!(n.as_str(), "right" | "sindio" | "sio" | "correct" | "ama")
            });
        (amount(&words[i]) && asks).then_some(i - 1)
    })
}

pub fn topics(tokens: &Tokens) -> Vec<Topic> {
    let mut found: Vec<(usize, Topic)> = Vec::new();
    for rule in RULES {
        let blocked = if rule.unless.is_empty() {
            Vec::new()
        } else {
            spans(tokens, rule.unless)
        };
        let first = spans(tokens, rule.words)
            .into_iter()
            .filter(|&(s, l)| !blocked.iter().any(|&(bs, bl)| s < bs + bl && bs < s + l))
            .map(|(s, _)| s)
            .next();
        if let Some(at) = first {
            found.push((at, rule.topic));
        }
    }
    if found.is_empty()
        && spans(tokens, SLOT_WORDS).is_empty()
        && let Some(&(at, _)) = spans(tokens, WEAK_SERVICES).first()
    {
        found.push((at, Topic::Services));
    }
    if !found.iter().any(|(_, t)| *t == Topic::Prices)
        && let Some(at) = checks_a_price(tokens)
    {
        found.push((at, Topic::Prices));
    }
    found.sort();
    found.into_iter().map(|(_, t)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::Topic::*;
    use super::*;

    #[test]
    fn topics_table() {
        let cases: &[(&str, &[Topic])] = &[
            ("what time do you open", &[Hours]),
            ("maybe.. is it 3000?", &[Prices]),
            ("kucha za jeli ni form gani?", &[Prices]),
            ("box braids form ni gani", &[Prices]),
            ("so thats 4,500 right?", &[Prices]),
            ("ni 1500 sindio", &[Prices]),
            ("is it at 1000", &[]),
            ("is it 2pm", &[]),
            ("Mnafungua saa ngapi?", &[Hours]),
            ("mnafunga saa ngapi", &[Hours]),
            ("siku gani mko wazi", &[Hours]),
            ("mko open jumapili", &[Hours]),
            ("are you open on sunday", &[Hours]),
            ("do you work on public holidays", &[Hours]),
            ("till what time are you there", &[Hours]),
            ("where are you located", &[Location]),
            ("mko wapi", &[Location]),
            ("uh location yenu ni wapi", &[Location]),
            ("send me directions", &[Location]),
            ("what's your address", &[Location]),
            ("are you close to sarit centre", &[Location]),
            ("nitafikaje huko", &[Location]),
            ("is there parking", &[Parking]),
            ("where do I park", &[Parking]),
            ("kuna maegesho", &[Parking]),
            ("naweza kuegesha gari", &[Parking]),
            ("how much is a facial", &[Prices]),
            ("hw much", &[Prices]),
            ("bei ya kusuka ni ngapi", &[Prices]),
            ("pesa ngapi", &[Prices]),
            ("braids ni ngapi", &[Prices]),
            ("what do you charge for gel nails", &[Prices]),
            ("how much do I pay for pedicure", &[Prices]),
            ("how long does it take", &[Duration]),
            ("itachukua muda gani", &[Duration]),
            ("masaa mangapi", &[Duration]),
            ("knotless braids takes how many hours", &[Duration]),
            ("do you take mpesa", &[Payment]),
            ("naweza kulipa na m-pesa", &[Payment]),
            ("what's your paybill", &[Payment]),
            ("till number?", &[Payment]),
            ("do you accept card or cash", &[Payment]),
            ("nilipe taslimu", &[Payment]),
            ("do I need to pay a deposit", &[Deposit]),
            ("do I pay first", &[Deposit]),
            ("lazima kulipa kwanza?", &[Deposit]),
            ("is there a booking fee", &[Deposit]),
            ("amana ni ngapi", &[Deposit, Prices]),
            ("what is your cancellation policy", &[Cancellation]),
            ("can I get a refund", &[Cancellation]),
            ("what if I cancel", &[Cancellation]),
            ("what if I'm late", &[Lateness]),
            ("nikichelewa kidogo je", &[Lateness]),
            (
                "what if nichelewe kidogo? traffic ni mob asubuhi",
                &[Lateness],
            ),
            ("what services do you offer", &[Services]),
            ("mna huduma gani", &[Services]),
            ("mnafanya nini", &[Services]),
            ("mna pedicure", &[Services]),
            (
                "how much is a facial and do you need a deposit",
                &[Prices, Deposit],
            ),
            ("hw much … n do u take mpesa", &[Prices, Payment]),
            ("mko wapi na kuna parking", &[Location, Parking]),
            ("bei gani na itachukua muda gani", &[Prices, Duration]),
            (
                "what time do you close and where are you",
                &[Hours, Location],
            ),
            ("saa saba na nusu je", &[]),
            ("saa ngapi", &[]),
            ("can I come at saa ngapi kesho", &[]),
            ("late afternoon tomorrow", &[]),
            ("any openings tomorrow", &[]),
            ("do you have a slot on friday", &[]),
            ("mna nafasi kesho", &[]),
            ("I want braids", &[]),
            ("cancel my appointment", &[]),
            ("nataka kusuka kesho saa nne", &[]),
            ("yes", &[]),
            ("does it take mpesa", &[Payment]),
            ("inakaa how much", &[Prices]),
            ("nimechelewa kiasi", &[Lateness]),
            ("is 6pm too late", &[]),
            ("I already paid the deposit", &[Deposit]),
            ("can I pay half", &[Deposit]),
            ("what happens if I don't show up", &[Cancellation]),
            ("send me the till", &[Payment]),
            ("enter your mpesa pin", &[Payment]),
            ("nitamaliza saa ngapi", &[Duration]),
            ("mnakaa mpaka saa ngapi", &[Hours]),
            ("nitawapata aje", &[Location]),
            (
                "uh how much is uh braids and eeh do you need a deposit",
                &[Prices, Deposit],
            ),
            ("eeh mko wapi na mnafunga saa ngapi", &[Location, Hours]),
            ("um is there parking uh for my car", &[Parking]),
            (
                "bei ya kucha ni ngapi na mnakubali mpesa",
                &[Prices, Payment],
            ),
            // The notice a change or cancellation needs is not a price.
            (
                "is there parking, do you accept Visa cards, and how much notice do you need if I have to cancel?",
                &[Parking, Payment, Cancellation],
            ),
            (
                "Je, nikihitaji kubadilisha, ni lazima niwajulishe mapema kiasi gani?",
                &[Cancellation],
            ),
            (
                "and if I need to change it, how much notice do you need?",
                &[Cancellation],
            ),
            ("how many hours before must I cancel", &[Cancellation]),
            (
                "how much notice do you need to reschedule?",
                &[Cancellation],
            ),
            ("I noticed you have a new stylist", &[]),
            (
                "how much notice do you need to reschedule?",
                &[Cancellation],
            ),
            (
                "nikitaka kughairi, niwaarifu saa ngapi kabla?",
                &[Cancellation],
            ),
            ("sorry for the short notice, can I come today", &[]),
            // Who does what.
            (
                "Who does dreadlocks retwist at your salon, and what is the charge?",
                &[Staff, Prices],
            ),
            ("nani hufanya rasta na bei ni ngapi", &[Staff, Prices]),
            ("which stylist does cornrows", &[Staff]),
            ("stylist gani anasuka vizuri", &[Staff]),
            ("eeh lakini ni brian atanifanyia ama ni nani?", &[Staff]),
            ("who will I be with?", &[Staff]),
            ("nitahudumiwa na nani kesho?", &[Staff]),
            // Whether the price changes.
            ("ni 1500 ama inaongezeka kama nywele ni ndefu?", &[Prices]),
            ("is there an extra charge for long hair", &[Prices]),
            ("does it cost more if my hair is thick", &[Prices]),
            ("nitalipa zaidi kama ni ndefu?", &[Prices]),
            // "change" is not "charge".
            ("can I change the time", &[]),
            ("what do you charge for a facial", &[Prices]),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .map(|(t, want)| (t, want, topics(&Tokens::new(t))))
            .filter(|(_, want, got)| got.as_slice() != **want)
            .map(|(t, want, got)| format!("{t:?}: want {want:?} got {got:?}"))
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }
}
