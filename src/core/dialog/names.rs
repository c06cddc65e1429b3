//! Who the customer is and who the booking is for: the name they give
//! ("my name is Wanjiru", "naitwa Halima", "this is Brayo") and how many
//! people are coming ("me and my daughter", "sisi wawili").

use super::intent::lexicon::{is_word, matches_at, phrases};
use super::text::Tokens;

/// Phrases after which a name follows for sure (unless it is a common word:
/// "my name is on the list").
const STRONG: &str = "my name is, my names are, my name s, my names, name is, names are,
    naitwa, ninaitwa, nnaitwa, mimi naitwa, jina langu ni, jina langu, majina yangu ni,
    jina ni, jina yangu ni, ni mimi, it s me, its me, this is me, i m called, im called,
    i am called, am called, they call me, wananiita, kwa jina la, kwa jina, jina lake ni,
    ni mi, mi naitwa, name s, under the name of, under the names of, under the name,
    under the names, in the name of, in the names of, under name, under names, it under,
    appointment under, booking under, book under, book me under, put me under, register under,
    save it under, kwa majina ya, under my name, under my names, in my name";

/// Phrases after which a name often follows, but so does anything else
/// ("I'm Kevin" / "I'm coming"): the word must also look like a name.
const WEAK_ANYWHERE: &str = "i m, im, i am, iam, mimi ni, mi ni, call me, ni mimi hapa";

/// Like [`WEAK_ANYWHERE`], but only at the start of the message ("hi this
/// is Brayo", not "this is urgent").
const WEAK_AT_START: &str = "this is, it s, its, hii ni, here is, am, jina, name";

/// What may follow a name given after [`WEAK_AT_START`]: the end of the
/// message or the start of the request ("hi this is Brayo, I want …"),
/// not more of a sentence ("hii ni bei gani").
const AFTER_NAME: &str = "i, im, here, hapa, and, na, from, again, tena, nataka, ningependa,
    naomba, nilikuwa, nilitaka, want, would, wanted, can, could, please, pls, kindly, checking,
    just, calling, asking, ni, nime, niko, am, is, your, ur, the, a, booking, about, kutoka,
    uh, um, eeh, btw, by, do, does, nikuje, so";

/// Words that open a message before the part that matters.
const OPENERS: &str = "hi, hello, hey, hallo, helo, hellow, habari, jambo, hujambo, mambo, niaje,
    sasa, vipi, good, morning, afternoon, evening, salaam, salama, shikamoo, uh, um, umm,
    eeh, eh, ee, er, oh, dear, madam, yes, ok, okay, sawa, again, yako, za, asubuhi, mchana,
    jioni, there, team, ratiba, sir, maam, mulembe, mlembe, chamgei, chamge, wakya, bwakire,
    bwakya, oyawore, misawa, amosi, wi, mwega, wimwega";

/// Titles kept in front of a name ("Mama Njeri"), never a name alone.
const TITLES: &str = "mama, baba, mrs, mr, ms, miss, dr, madam, auntie, aunty, mzee, bi, shosh,
    cucu, mwalimu, pastor, rev";

/// Words that follow "I'm" / "this is" / "mimi ni" and are not names.
const NOT_NAMES: &str = "
    a, an, the, is, are, was, my, your, ur, his, her, their, our, me, him, it, that, this, what, who,
    which, there, here, not, no, yes, so, very, really, just, also, still, too, sorry, new,
    interested, free, available, busy, sick, unwell, pregnant, married, single, in, at, on,
    from, with, for, to, of, about, around, near, nearby, almost, already, done, ready,
    sure, unsure, fine, good, great, ok, okay, alright, well, cool, happy, glad, sad, tired,
    excited, upset, angry, late, early, back, outside, inside, downstairs, upstairs, lost,
    stuck, confused, disappointed, okey, fit, fiti, poa, sawa, salama, mzima, sijambo,
    urgent, important, regarding, ridiculous, nonsense, wrong, right, correct, perfect,
    expensive, cheap, far, possible, impossible, noted, it, been, only, and, or, but, if,
    because, as, when, where, how, why, i, you, we, they, she, he, us, them, mine, yours,
    one, first, last, next, same, other, another, customer, client, regular, student,
    returning, existing, booked, confirmed, cancelled, canceled, able, unable, open, closed,
    off, out, up, down, over, under, going, coming, calling, texting, writing, asking,
    wondering, looking, waiting, trying, planning, thinking, hoping, running, travelling,
    traveling, leaving, arriving, new here, mum, mom, mother, dad, father, wife, husband,
    sister, brother, daughter, son, friend, kenyan, please, pls, thanks, thank, hi, hello,
    hey, now, today, tomorrow, tonight, later, soon, again, ever, never, all, both, number,
    phone, whatsapp, call, back, bot, robot, human, person, lady, man, woman, girl, boy,
    kid, child, baby, mgonjwa, mteja, wateja, mwanafunzi, mkenya, mzee, mgeni, mfanyakazi,
    mwalimu, mpenzi, msichana, mvulana, mtoto, mke, mume, mjamzito, mkristo, mwislamu,
    yule, huyu, wa, ya, la, za, wenu, yenu, wako, yako, wangu, yangu, langu, nani, gani,
    nina, nataka, ningependa, naomba, nilikuwa, niko, nimefika, nimechelewa, nakuja, naenda,
    nitakuja, sitakuja, hapa, huko, pale, sasa, tu, bado, pia, mwenyewe, mpya, kesho, leo,
    jana, juzi, keshokutwa, asubuhi, mchana, jioni, usiku, saa, na, kwa, ni, si, sio, hii,
    hiyo, hizo, kweli, tena, nimekuja, nimeona, mimi, wewe, yeye, sisi, nyinyi, wao, dada,
    kaka, binti, mwanangu, rafiki, shangazi, mjomba, hapo, kama, lakini, halafu, ile,
    nimepotea, sina, sijui, naitwa, jina, hujambo, habari, mambo, vipi, niaje, sema, aje,
    bana, buda, msee, manze, beste, chali, dame, mresh, msupa, ndio, ndiyo, hapana, eeh,
    asante, karibu, samahani, pole, tafadhali, nimefurahi, nimekasirika, nimechoka,
    monday, tuesday, wednesday, thursday, friday, saturday, sunday, weekend, week, month,
    jumatatu, jumanne, jumatano, alhamisi, ijumaa, jumamosi, jumapili, wiki, mwezi,
    january, february, march, april, may, june, july, august, september, october, november,
    december, morning, afternoon, evening, night, noon, midday, am, pm, hrs, two, three,
    four, five, six, seven, eight, nine, ten, eleven, twelve, moja, mbili, tatu, nne, tano,
    sita, saba, nane, tisa, kumi, nusu, robo, braids, braid, cornrows, cornrow, lines,
    twists, locs, dreads, dreadlocks, dredi, rasta, weave, weaves, wig, wigs, manicure,
    pedicure, mani, pedi, nails, nail, gel, acrylic, acrylics, facial, facials, massage,
    haircut, cut, trim, shave, shaving, makeup, lashes, brows, eyebrows, wax, waxing,
    blowdry, retouch, relaxer, treatment, steaming, knotless, sewin, kusuka, kunyoa, kucha,
    nywele, nyusi, kope, salon, appointment, booking, book, slot, price, service, services,
    cornrow, style, hairstyle, also, abit, kidogo, sana, here, there, ok, done,
    crazy, annoying, frustrating, unacceptable, terrible, bad, poor, awful, amazing,
    wonderful, lovely, beautiful, sweet, kind, weird, strange, funny, serious, real, true,
    false, fake, hers, taking, long, short, quick, slow, fast, easy, hard, difficult,
    simple, enough, better, best, worse, worst, big, small, little, huge, pricey, costly,
    reasonable, fair, unfair, boring, mad, insane, cute, fantastic, brilliant, neat, fun,
    ugly, dirty, clean, full, empty, quiet, received, sent, paid, everything, nothing,
    something, anything, kinda, sort, totally, actually, probably, definitely, exactly,
    mzuri, nzuri, mbaya, ghali, rahisi, bei, uongo, ajabu, noma, wazi, kubwa, ndogo, haraka,
    polepole, zamani, safi, chafu, bure, mingi, lini, wapi, ngapi, namba, nambari, simu,
    pesa, huduma, miadi, nafasi, kuuliza, kujua, kuomba, kubook, kuweka, sure, hapo";

/// Month names that are also given names ("my name is May").
const NAME_MONTHS: &str = "may, april, june, july, august, january";

/// English word endings that are not Kenyan given names ("coming",
/// "available", "happiness").
const NOT_NAME_ENDINGS: &[&str] = &["ing", "ful", "ous", "able", "ible", "ness", "ment", "tion"];

/// The name the customer gives for themself, capitalised, 1-3 words
/// (a title such as "Mama" included), or `None`.
pub fn stated_name(tokens: &Tokens, original_text: &str) -> Option<String> {
    if let Some(name) = signature(original_text) {
        return Some(name);
    }
    let words = tokens.words();
    let start = words.iter().take_while(|w| is_word(w, OPENERS)).count();
    let mut triggers: Vec<(usize, Trigger)> = Vec::new();
    for (list, kind) in [
        (STRONG, Trigger::Strong),
        (WEAK_ANYWHERE, Trigger::Weak),
        (WEAK_AT_START, Trigger::Start),
    ] {
        for phrase in phrases(list) {
            let len = phrase.split_whitespace().count();
            for at in 0..words.len() {
                let placed = kind != Trigger::Start || at == start;
                if placed && matches_at(words, at, phrase) {
                    triggers.push((at + len, kind));
                }
            }
        }
    }
    // "Esther here", "ni Brayo hapa", "Mama Njeri hapa" near the start.
    // Further on after "ni" ("voice note: eeh hi, ni Otieno hapa").
    for at in start..(start + 8).min(words.len()) {
        let near = at < start + 4 || (at > 0 && is_word(tokens.at(at - 1), "ni, its"));
        if near && is_word(tokens.at(at + 1), "here, hapa") && !is_word(tokens.at(at), TITLES) {
            let titled = at > 0 && is_word(tokens.at(at - 1), TITLES);
            triggers.push((if titled { at - 1 } else { at }, Trigger::Weak));
        }
    }
    // Strong triggers first, then in order of appearance.
    triggers.sort_by_key(|&(at, kind)| (kind != Trigger::Strong, at));
    triggers
        .into_iter()
        .find_map(|(at, kind)| name_at(words, at, kind, original_text))
}

/// A name signed on a line of its own at the end ("Ndiyo, sawa.\n- Mama
/// Wanjiru", "Thank you. ~ Grace Otieno"): one to three capitalised words
/// after a dash or a tilde.
fn signature(text: &str) -> Option<String> {
    let last = text.trim_end().rsplit('\n').next()?.trim();
    let (_, signed) = last.rsplit_once(['-', '\u{2013}', '\u{2014}', '~'])?;
    let parts: Vec<&str> = signed.split_whitespace().collect();
    let capitalised = |w: &&str| {
        let mut chars = w.chars();
        let lower = w.to_lowercase();
        chars.next().is_some_and(char::is_uppercase)
            && chars.all(char::is_alphabetic)
            // "- Thanks", "~ Asante sana" sign no name.
            && (is_word(&lower, TITLES) || looks_like_name(&lower, true, text))
            && !is_word(&lower, "thanks, thank, asante, regards, blessings, sent, cheers, bye")
    };
    let own_line = last.starts_with(['-', '\u{2013}', '\u{2014}', '~']);
    ((1..=3).contains(&parts.len()) && parts.iter().all(capitalised) && own_line)
        .then(|| parts.join(" "))
}

/// A correction of the name already given ("kelvin* not kevin", "not
/// Kevin, Kelvin", "it's Kelvin not Kevin", "si Kevin, ni Kelvin"): the new
/// name, when the old one is named after a negation.
pub fn corrected_name(tokens: &Tokens, old: &str, original_text: &str) -> Option<String> {
    let words = tokens.words();
    let old = old.split_whitespace().next()?.to_lowercase();
    // "*Achieng lol autocorrect", "*Njeri nataka mabutu": a starred word
    // first corrects a word of the message before; a name-like one that
    // is no word of ours, the name.
    let first = original_text.split_whitespace().next().unwrap_or("");
    if let Some(starred) = first
        .strip_prefix('*')
        .or_else(|| first.strip_suffix('*'))
        .map(|w| w.trim_end_matches([',', '.', '!']).to_lowercase())
        && starred != old
        && !crate::core::dialog::lexicon::is_vocabulary(&starred)
        && crate::core::dialog::lexicon::weekday(&starred).is_none()
        && looks_like_name(&starred, false, original_text)
    {
        return Some(capitalise(&starred));
    }
    let candidate = |w: &String| {
        *w != old
            && !is_word(w, "but, ni, its, it's, is, i, meant, sorry, ok")
            && looks_like_name(w, false, original_text)
    };
    // "sorry wrong name, it's Nyambura", "sory typo, its Atieno": the
    // name after "it's" once a mistake is owned.
    if tokens.has_any(&[
        "wrong name",
        "typo",
        "misspelt",
        "misspelled",
        "jina si",
        "nimekosea jina",
    ]) {
        let after = (1..words.len()).find_map(|i| {
            let says = is_word(&words[i - 1], "its, is, ni, im")
                || (words[i - 1] == "s" && i >= 2 && words[i - 2] == "it");
            (says && candidate(&words[i])).then(|| capitalise(&words[i]))
        });
        if after.is_some() {
            return after;
        }
    }
    for (i, pair) in words.windows(2).enumerate() {
        if !is_word(&pair[0], "not, si, sio, siyo") || pair[1] != old {
            continue;
        }
        // "Kelvin not Kevin": the word before; "not Kevin, Kelvin" / "not
        // Kevin but Kelvin" / "si Kevin ni Kelvin": the first name-like
        // word after.
        let before = i.checked_sub(1).map(|j| &words[j]).filter(|w| candidate(w));
        let after = || words[i + 2..].iter().take(3).find(|w| candidate(w));
        if let Some(name) = before.or_else(after) {
            return Some(capitalise(name));
        }
    }
    None
}

/// How sure a phrase is to introduce a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// "my name is", "naitwa".
    Strong,
    /// "I'm", "mimi ni": the word must look like a name.
    Weak,
    /// "this is", "hii ni" at the start: also only before the end of the
    /// message or the request.
    Start,
}

/// The name starting at word `at`, if the words there look like one.
fn name_at(words: &[String], at: usize, kind: Trigger, original: &str) -> Option<String> {
    let strong = kind == Trigger::Strong;
    let mut i = at;
    while i < words.len() && is_word(&words[i], "uh, um, umm, eeh, er, ni") {
        i += 1;
    }
    let mut parts: Vec<&str> = Vec::new();
    if i < words.len() && is_word(&words[i], TITLES) {
        parts.push(&words[i]);
        i += 1;
    }
    let titles = parts.len();
    while i < words.len()
        && parts.len() < 3
        && !is_word(&words[i], AFTER_NAME)
        && words[i].chars().count() > 1
        && looks_like_name(&words[i], strong, original)
    {
        parts.push(&words[i]);
        i += 1;
        // "this is Moraa. Need cornrows": the full stop ends it.
        if ends_a_sentence(original, &words[i - 1]) {
            break;
        }
    }
    // "this is otieno o t i e n o": the name spelled out after it.
    // (A lone "n" was read as "and"/"na" by then.)
    if let Some(last) = parts.last() {
        let mut spelled = String::new();
        let mut j = i;
        while let Some(w) = words.get(j) {
            let letter = match w.as_str() {
                "and" | "na" => "n",
                one if one.chars().count() == 1 && one.chars().all(char::is_alphabetic) => one,
                _ => break,
            };
            if !last.starts_with(&format!("{spelled}{letter}")) {
                break;
            }
            spelled.push_str(letter);
            j += 1;
        }
        if spelled.len() >= 3 {
            i = j;
        }
    }
    // "I'm Kevin's wife" names someone else.
    if words.get(i).is_some_and(|w| w == "s") {
        return None;
    }
    if parts.len() == titles {
        return None;
    }
    // "Hi this is Kevin. haircut tmrw": a full stop after it ends it too.
    let ends_sentence = parts
        .last()
        .is_some_and(|last| ends_a_sentence(original, last));
    if kind == Trigger::Start
        && i < words.len()
        && !is_word(&words[i], AFTER_NAME)
        && !ends_sentence
    {
        return None;
    }
    Some(
        parts
            .iter()
            .map(|w| capitalise(w))
            .collect::<Vec<_>>()
            .join(" "),
    )
}

fn looks_like_name(word: &str, strong: bool, original: &str) -> bool {
    if strong && is_word(word, NAME_MONTHS) {
        return true;
    }
    if word.chars().count() < 2
        || !word.chars().all(char::is_alphabetic)
        || is_word(word, NOT_NAMES)
        || is_word(word, TITLES)
    {
        return false;
    }
    if strong || written_capitalised(original, word) {
        return true;
    }
    !NOT_NAME_ENDINGS.iter().any(|e| word.ends_with(e))
}

/// Whether `original` spells `word` with a capital first letter somewhere
/// other than at the start of a sentence.
fn written_capitalised(original: &str, word: &str) -> bool {
    let mut after_stop = true;
    for raw in original.split_whitespace() {
        let clean: String = raw.chars().filter(|c| c.is_alphabetic()).collect();
        let capital = clean.chars().next().is_some_and(char::is_uppercase);
        if capital && !after_stop && clean.to_lowercase() == word {
            return true;
        }
        after_stop = raw.ends_with(['.', '!', '?']);
    }
    false
}

/// Whether `word` is written followed by a full stop, comma or the like.
fn ends_a_sentence(original: &str, word: &str) -> bool {
    original.split_whitespace().any(|raw| {
        let lower = raw.to_lowercase();
        lower.strip_prefix(word).is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .chars()
                    .all(|c| matches!(c, '.' | ',' | '!' | ';' | ':'))
        })
    })
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// People the customer brings ("my daughter", "dada yangu").
const COMPANIONS: &str = "daughter, son, sister, brother, friend, mum, mom, mother, dad, husband,
    wife, bestie, bff, cousin, niece, nephew, kid, child, baby, girl, boy, colleague, aunt,
    auntie, aunty, grandma, grandmother, partner, fiance, fiancee, boyfriend, girlfriend,
    sis, bro, neighbour, neighbor, mother in law, sister in law, daughters, sons, sisters,
    brothers, friends, kids, children, girls, boys, cousins, colleagues, bride, groom,
    bridesmaid, bridesmaids, maid of honour, twins, ladies, guys, roommate, roommates, roomate,
    roomates, roomie, roomies, flatmate, flatmates, housemate, housemates, classmate, classmates,
    workmate, workmates, coworker, coworkers, campomate, campmate";

/// Swahili / Sheng companions, followed by a possessive.
const SW_COMPANIONS: &str = "binti, mtoto, watoto, dada, kaka, rafiki, marafiki, mama, baba, mume,
    mke, bibi, shangazi, mpenzi, msichana, kijana, mtoi, manzi, dem, beste, besti, beshte,
    bestii, msupa, sista, mabeste, madada, mathe, buda, msee, chali, mapacha, mabinti, wasichana,
    wavulana, vijana, dogo, dogi, shemeji, wifi, cucu, shosho, mdogo, siz, sizzo, sistee,
    mjukuu, wajukuu, mpwa, binamu, mjomba, nyanya, mkwe";

/// The number of people the booking is for: 2 for "me and my daughter",
/// "sisi wawili", "braids for me and cornrows for my daughter", 3 for
/// "three of us", otherwise 1. Capped at 6.
pub fn party_size(tokens: &Tokens) -> u8 {
    let words = tokens.words();
    let has = |list: &'static str| {
        phrases(list).any(|p| (0..words.len()).any(|at| matches_at(words, at, p)))
    };
    let me = has(
        "me and, me my, and me, and i, i and, for me, for myself, myself and, mimi na, na mimi,
        mimi pamoja na, pamoja nami, nami, both of us, us both, sisi wote, mi na, na mi, sote,
        sote pamoja, sisi sote",
    );
    let me_said = me;
    match stated_count(words) {
        Some(Count::Everyone(n)) => return n,
        // "watoto wawili wasukwe mabutu, na mimi nifanye manicure": the
        // two and the customer.
        // "… na watoto wawili. Mimi nataka manicure, …": the customer
        // wants one of their own too.
        Some(Count::Others(n)) => {
            let mine_too = me
                || has(
                    "mimi nataka, mimi ninataka, mimi ningependa, mimi pia, i also want, and i want",
                );
            return if mine_too { (n + 1).min(6) } else { n };
        }
        None => {}
    }
    // "I'm coming with my sister … she wants cornrows": someone else's
    // service said, so the customer and the one they come with.
    // Not "this is for my wife, she wants cornrows": only her.
    let only_them = has("this is for my, its for my, it s for my, booking for my, book for my")
        && !has("and me, me too, and i, for me, i want, i need, nataka");
    let me = me
        || (!only_them
            && has("she wants, he wants, she needs, he needs, for her, for him, yeye anataka"));
    // "I would like a pedicure and also my daughter needs cornrows": the
    // customer wants something and so does the one they name.
    // "my sister Njambi wants eyebrows": with her name between.
    let wants = "wants, needs, want, need, would, will, also, too";
    let they_want = words.windows(3).any(|w| {
        is_word(&w[0], "my, our, the") && is_word(&w[1], COMPANIONS) && is_word(&w[2], wants)
    }) || words
        .windows(4)
        .any(|w| is_word(&w[0], "my, our") && is_word(&w[1], COMPANIONS) && is_word(&w[3], wants));
    let i_want =
        has("i would like, i d like, id like, i want, i need, nataka, ningependa, napenda");
    // "mimi cut, yeye wash n set": me and them, each their own.
    let me = me || (they_want && i_want) || (has("mimi") && has("yeye"));
    // With the customer, anyone joined by "and", "with", "for" or a list;
    // without, only people the booking is said to be for.
    let joiners = if me {
        "and, for, na, with, plus, me, mimi, n, pamoja, also, bring, bringing, book, booking"
    } else {
        "and, for, na, plus, n"
    };
    // The group is said to want the service ("they both need", "wote").
    let group_needs = has(
        "they both, both of them, both need, both want, they all, all of them, they need,
        they want, wote wanataka, wote wawili, wote watatu, wote",
    );
    let at = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    let before = |i: usize, back: usize| if i >= back { at(i - back) } else { "" };
    let mut others = 0u8;
    for (i, w) in words.iter().enumerate() {
        let plural = is_plural(w);
        let count = if plural { 2 } else { 1 };
        // "I have two boys", "my three daughters", "na watoto watatu": a
        // counted group of companions is that many people.
        let companion = is_person(w);
        // "my two daughters", "watoto wawili", "mabinti wangu wawili".
        let counted = count_word(before(i, 1))
            .or_else(|| count_word(at(i + 1)))
            .or_else(|| {
                is_word(at(i + 1), "wangu, zangu, yangu, wetu")
                    .then(|| count_word(at(i + 2)))
                    .flatten()
            });
        // Counted ("my two bridesmaids") or brought ("niko na twins"),
        // when the booking is said to be for them.
        // "nataka kuleta wajukuu wawili", "ma-boys wangu wawili".
        let introduced = is_word(
            before(i, 1),
            "my, our, for, with, and, kuleta, nilete, nitaleta, naleta, bring, bringing",
        ) || is_word(before(i, 2), "my, our, for, with, and")
            || (is_word(at(i + 1), "wangu, zangu, yangu, wetu") && count_word(at(i + 2)).is_some())
            || (is_word(before(i, 1), "na, have")
                && is_word(before(i, 2), "niko, nina, nko, tuko, i, we"));
        if companion && plural && (introduced || group_needs) {
            if let Some(n) = counted {
                others = others.saturating_add(n);
                continue;
            }
            if group_needs && !is_word(before(i, 1), "my, our, a, the, her, his, their") {
                others = others.saturating_add(2);
                continue;
            }
        }
        // "… my 2 daughters. I want a relaxer and the girls want cornrows":
        // "the girls" are the ones already counted.
        if others > 0 && is_word(before(i, 1), "the, hao, hawa") {
            continue;
        }
        let en = is_word(w, COMPANIONS)
            && (is_word(before(i, 1), "my, our, a, the, her, his, their")
                && (is_word(before(i, 2), joiners)
                    || (i == 1 && is_word(at(i + 1), "and, na, n"))
                    // "my daughter wants braids and I want a wash"
                    || (i == 1 && me)
                    // "can my daughter and i both get haircuts"
                    || (is_word(at(i + 1), "and, na, n") && is_word(at(i + 2), "i, me, mimi"))))
            || (is_word(before(i, 1), "two, 2")
                && is_word(before(i, 2), "my, our")
                && is_word(before(i, 3), joiners));
        // "dada yangu", and in Sheng the English word: "bestie yangu", "bro wangu".
        let sw = (is_word(w, SW_COMPANIONS) || is_word(w, COMPANIONS))
            && ((is_word(at(i + 1), "yangu, wangu, zangu, wetu, yetu, mkwe")
                && is_word(
                    before(i, 1),
                    "na, pamoja, mimi, kwa, ya, and, for, wa, kuleta, nilete, nitaleta, naleta",
                ))
                // "niko na bibi, mimi cut, yeye wash n set"
                || (before(i, 1) == "na"
                    && is_word(before(i, 2), "niko, nko, nakuja, nimekuja, nitakuja")
                    && has("mimi, yeye"))
                // "mimi na beste tunataka kuja jumamosi"
                || (before(i, 1) == "na" && is_word(before(i, 2), "mimi, mi")));
        let sw_own = is_word(
            w,
            "mwanangu, wanangu, mamangu, babangu, dadangu, kakangu, bwanangu, mumewangu, mkewangu",
        ) && is_word(before(i, 1), "na, pamoja, mimi, kwa, ya, and, for, wa");
        if en || sw || sw_own {
            others = others.saturating_add(count);
        }
    }
    // "bridal hair for her and a facial for me": the customer and one
    // more, whoever she is ("mimi retwist, yeye cut": `each_their_own`).
    if me_said && has("for her, for him") {
        others = others.max(1);
    }
    if me {
        let both = has("both of us, us both, sisi wote, wote wawili");
        (1 + others.max(u8::from(both))).clamp(1, 6)
    } else {
        // "they both need haircuts", "both of them", "wote wawili".
        let both = has("they both, both of them, both need, both want, wote wawili");
        others.max(if both { 2 } else { 1 }).clamp(1, 6)
    }
}

/// Whether a word is plural ("daughters", "watoto", "mabinti").
fn is_plural(w: &str) -> bool {
    (w.ends_with('s') && !is_word(w, "sis, boss"))
        || is_word(
            w,
            "watoto, marafiki, mabeste, madada, wanangu, mapacha, mabinti, wasichana, wavulana, vijana,
            wajukuu, watoi",
        )
}

/// Whether a word names a person someone comes with ("bibi", "sister").
pub fn is_person(word: &str) -> bool {
    is_word(word, COMPANIONS) || is_word(word, SW_COMPANIONS)
}

/// Where a group of other people is named ("twins", "my two bridesmaids",
/// "watoto"): the service named after it is the one they all want.
pub fn group_start(tokens: &Tokens) -> Option<usize> {
    // The last mention: "with my 2 daughters. I want a relaxer and the
    // girls want cornrows".
    tokens
        .words()
        .iter()
        .rposition(|w| is_person(w) && is_plural(w))
}

/// "two" / "2" / "wawili" as a count of people (2 to 6).
fn count_word(w: &str) -> Option<u8> {
    match w {
        "two" | "2" | "wawili" | "wawiili" => Some(2),
        "three" | "3" | "watatu" => Some(3),
        "four" | "4" | "wanne" => Some(4),
        "five" | "5" | "watano" => Some(5),
        "six" | "6" => Some(6),
        _ => None,
    }
}

/// An explicit head count ("two of us", "sisi watatu", "for 2 people").
fn stated_count(words: &[String]) -> Option<Count> {
    let number = |w: &str| -> Option<u8> {
        match w {
            "two" | "2" | "wawili" | "wawiili" | "mbili" => Some(2),
            "three" | "3" | "watatu" | "tatu" => Some(3),
            "four" | "4" | "wanne" | "nne" => Some(4),
            "five" | "5" | "watano" | "tano" => Some(5),
            "six" | "6" | "sita" => Some(6),
            _ => None,
        }
    };
    for (i, w) in words.iter().enumerate() {
        let Some(n) = number(w) else { continue };
        let prev = if i > 0 { words[i - 1].as_str() } else { "" };
        let next = words.get(i + 1).map(String::as_str).unwrap_or("");
        let after = words.get(i + 2).map(String::as_str).unwrap_or("");
        let en = matches!(next, "of" if after == "us")
            || is_word(
                next,
                "people, persons, pax, ladies, of, pple, ppl, girls, women",
            )
            || (is_word(prev, "are, re") && i > 1 && is_word(&words[i - 2], "we, tu"))
            || (prev == "us" && !w.chars().all(|c| c.is_ascii_digit()));
        let sw = w.starts_with("wa")
            && is_word(
                prev,
                "sisi, wote, tuko, watu, tutakuwa, tupo, tutakuja, kwa, ni",
            );
        // "watoto wawili", "vijana wawili", "my two kids" counted after.
        let sw_people = prev == "watu"
            || is_word(
                prev,
                "watoto, vijana, wasichana, wavulana, mabinti, madada, marafiki",
            );
        // "nina watoto watatu": the children are had, not booked.
        let had = i >= 2 && is_word(&words[i - 2], "nina, tuna, niko");
        if en || sw {
            return Some(Count::Everyone(n));
        }
        if sw_people && !had {
            return Some(Count::Others(n));
        }
    }
    None
}

/// A head count said: of everyone ("sisi wawili", "two of us") or of the
/// people the customer brings ("watoto wawili").
enum Count {
    Everyone(u8),
    Others(u8),
}

#[cfg(test)]
mod tests;
