//! The answer to "Shall I book it?". Only clear assent books: hesitation,
//! refusal, a question or anything unclear never does.

use serde::{Deserialize, Serialize};

use super::lexicon::{any, is_word, spans};
use crate::core::dialog::text::Tokens;

/// How the customer answered a confirmation question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assent {
    /// Clear agreement: book it.
    Yes,
    /// Refusal: do not book.
    No,
    /// Not decided yet ("hold on", "let me ask my husband", "sawa lakini
    /// ngoja"): keep the booking pending, do not book.
    Hesitant,
    /// Neither (a question, another topic, noise).
    Unclear,
}

/// Sounds and politeness that carry no answer; dropped first.
const FILLERS: &str = "uh, uhh, um, umm, uhm, er, erm, ah, ahh, oh, ooh, well, so, please, pls,
    plz, plis, tafadhali, dear, madam, maam, boss, sis, bro, hi, hey, hello, basi, then,
    just, yaani, ati, sasa";

/// Phrases that contain a "no", "wait" or "later" but are not one.
const NEUTRAL: &str = "no problem, no problems, no worries, no wahala, not a problem, hakuna shida,
    hakuna noma, hakuna tabu, hakuna matata, bila shaka, no doubt, can t wait, cant wait,
    cannot wait, see you later, see you then, see you, talk later, tuonane baadaye,
    tutaonana, later today, later in the day, later that day, hakuna pressure, why not, uh huh,
    mm hmm, mmh hmm, si mbaya, not bad";

/// Assent phrases, allowed at the start of the answer or as a short answer.
const YES: &str = "yes, yess, yesss, yeah, yea, yeh, yah, ya, yap, yep, yup, yas, ye, k, kk, kay,
    ok, okk, okay, okey, okie, oky, okei, okayy, sure, surely, fine, confirm, confirmed,
    correct, alright, alrighty, all right, great, perfect, cool, good, nice, awesome,
    excellent, exactly, absolutely, definitely, certainly, of course, ofcourse, deal, agreed,
    go ahead, go on, proceed, book it, book me, book, do it, please do, that works,
    works for me, sounds good, sounds great, that s fine, thats fine, that s ok, weka,
    niwekee, tuwekee, iweke, niwekelee, wekaa, nibook, nibukie, bookie, bukie, sawa, sawaa, sawasawa,
    haya, hayaa, poa, fiti, fity, freshi, fresh, safi, shwari, ndio, ndiyo, ndiyoo, ndioo,
    ndo, eeh, eh, ee, eee, ehee, ehe, aha, naam, kabisa, bila shaka, hakuna shida,
    hakuna noma, no problem, no worries, endelea, thibitisha, nimekubali, nakubali,
    inafaa, itafaa, iko sawa, ni sawa, ni poa, ni fiti, nimeconfirm, nimekubali, done,
    deal done, sharp, shap, bomba, mzuri, vizuri, nzuri, fit, iko fiti, iko poa, mhm, mhmm,
    mmhmm, nitakuja, nitafika, i ll be there, i will be there, i ll come, i will come, 👍,
    bet, say less, let s go, lets go, for sure, fosho";

/// Assent clear enough anywhere in a longer answer ("please go ahead and
/// book it for me").
const STRONG_YES: &str = "book it, go ahead, i confirm, confirmed, please book, please do,
    that works, sounds good, yes please, weka tu, niwekee, tuwekee, iweke, sawa basi,
    haya basi, weka hiyo, book that, book me in, that s correct, thats correct, that is correct,
    that s right, thats right, that is right, that s perfect, that s great, that s good,
    that s fine, that is fine, that will work, that ll work, yes thank you, ok thank you,
    okay thank you, sawa asante, ndio asante, ndiyo asante, poa asante, sounds perfect,
    all good, it s fine, its fine, it s ok, its ok, ni sawa kabisa";

/// Not deciding yet.
const HESITANT: &str = "hold on, hold up, wait, ngoja, ngojea, ngojeni, subiri, subirini,
    let me ask, let me check, let me think, let me see, let me confirm, let me consult,
    let me talk, let me call, let me speak, let me discuss, let me find out, let me look,
    let me verify, let me figure, i ll ask, i will ask, i ll check, i will check, ask my,
    check with, confirm with, consult, nitakuambia, nitakwambia, nitawaambia, nitakujulisha,
    nitawajulisha, nitakueleza, nitaconfirm, nitakuconfirmia, nitarudi, nitakurudia,
    nitakujibu, nitakucheki, nikucheki, nikuchekie, nitakutext, nitakupigia, nitakuja kukuambia,
    sijui, sijaamua, sina uhakika, maybe, labda, perhaps, probably, not sure, unsure, idk,
    dunno, i don t know, i dont know, later, baadaye, badae, bdae, baadae, not yet, hmm,
    hmmm, hmmmm, mmm, mmh, hm, one sec, a sec, a moment, one moment, one minute, a minute,
    dakika moja, give me time, give me a minute, give me a moment, nipe muda, nipe time,
    nipatie muda, think about it, i ll think, i will think, nifikirie, nitafikiria,
    tuone, tutaona, we ll see, we will see, i ll get back, get back to you, revert,
    nimuulize, niulize, nitauliza, tutaongea, we ll talk, tuongee kwanza, nipe dakika,
    nipe sekunde, brb, one min, a min, 1 min, one minutes, a minutes, 1 minutes, gimme a sec, still deciding, still thinking,
    let me get back, let you know, nitakushow, nitakuconfirm, ntakuambia, ntakujulisha,
    ntakuconfirmia, nikuambie baadaye, nitarudi kwako, confirm later, nitakuinform,
    but first, lakini kwanza, ila kwanza, kwanza niambie, first tell me, before that,
    kabla ya hapo, kabla hujaweka, pengine, i ll call, i will call, call you to confirm,
    confirm tomorrow, let me first, i ll confirm, i will confirm, nitakupigia";

/// Refusals that count wherever they are. Some are also listed as the
/// shared normaliser currently rewrites them ("forget" -> "for get",
/// "achana" -> "mchana").
const STRONG_NO: &str = "not now, cancel, cancel it, forget it, forget about it, never mind,
    nevermind, nimebadilisha mawazo, nimebadili mawazo, changed my mind, change of mind,
    i don t want, i dont want, i do not want, not interested, sina haja, no need, sihitaji,
    sitaki, sipendi, no thanks, no thank you, hapana asante, don t book, dont book,
    do not book, usiweke, msiweke, usibook, msibook, leave it, achana nayo, tuachane nayo,
    skip it, not ok, not okay, not fine, not good, si sawa, sio sawa, siyo sawa, haiko sawa,
    haifai, siwezi, sitaweza, i can t, i cant, i cannot, won t make it, wont make it,
    sitakuja, i won t come, i wont come, achana, wachana, i ll pass, i will pass,
    for get it, for get about it, mchana nayo, mchana na hiyo";

/// Plain "no", counted at the start or as a short answer.
const NO: &str = "no, nope, nah, naah, noo, hapana, hapna, la, aah aah, ah ah";

/// Question words: a question with the "yes" is not yet a decision.
const QUESTION: &str = "how, what, when, where, why, which, who, whom, is it, are you, do you,
    does, can i, will it, je, ngapi, gani, wapi, nini, lini, nani, mbona, aje, kweli, niambie,
    tell me, nieleze, nijulishe, sindio, si ndio, ama ni, au ni";

/// A yes followed by one of these is not yet a decision: "yes but with
/// Achieng", "sawa lakini nitakuconfirmia", "Yes if my friend agrees".
const CONDITION: &str = "but, lakini, ila, however, though, although, if, only if, ikiwa,
    provided, as long as, kama nita, kama ni, kama tu, unless, isipokuwa";

/// Words that open a question after the yes ("sawa naweza lipa na
/// mpesa", "ok kuna discount", "poa mna wifi").
const QUESTION_OPENERS: &str = "naweza, mnaweza, unaweza, inawezekana, kuna, mna, mnadeal,
    mnafanya, mko, je, is, are, can, could, do, does, will, would, should, any";

/// Classifies an answer to a confirmation question. A "yes" with a
/// condition or a question after it ("yes but make it 4pm", "yes but with
/// Achieng", "sawa naweza lipa na mpesa") is `Hesitant`: the caller applies
/// a change it finds first, and nothing else books.
pub fn assent(tokens: &Tokens) -> Assent {
    let mut words = tokens.words().join(" ");
    for phrase in super::lexicon::phrases(NEUTRAL) {
        let yes_like = !phrase.starts_with("see") && !phrase.starts_with("later");
        words = replace_phrase(&words, phrase, if yes_like { "sawa" } else { "" });
    }
    let words: Vec<&str> = words
        .split(' ')
        .filter(|w| !w.is_empty() && !is_word(w, FILLERS))
        .collect();
    let words = words.join(" ");
    let t = Tokens::new(&words);
    if t.is_empty() {
        // "umm" alone is thinking aloud.
        let thinking = tokens
            .words()
            .iter()
            .any(|w| is_word(w, "um, umm, uhm, er, erm"));
        return if thinking {
            Assent::Hesitant
        } else {
            Assent::Unclear
        };
    }
    // "wacha/acha" + a first-person verb ("wacha niulize") is "let me …".
    let let_me = t
        .words()
        .windows(2)
        .any(|w| matches!(w[0].as_str(), "wacha" | "acha") && w[1].starts_with("ni"))
        || any(&t, "wacha kwanza, acha kwanza, bado, bado sijaamua");
    if any(&t, HESITANT) || let_me {
        return Assent::Hesitant;
    }
    let first = t.at(0);
    let short = t.len() <= 3;
    let strong_no =
        any(&t, STRONG_NO) || (!let_me && t.words().iter().any(|w| w == "acha" || w == "wacha"));
    let plain_no = spans(&t, NO).iter().any(|&(start, _)| start == 0 || short);
    let yes_spans = spans(&t, YES);
    let negated = |start: usize| {
        start > 0
            && (is_word(t.at(start - 1), "not, dont, si, sio, siyo, haiko, sidhani")
                || (start > 1 && t.at(start - 2) == "don" && t.at(start - 1) == "t"))
    };
    let leading_yes = yes_spans.iter().any(|&(start, _)| start == 0);
    let any_yes = yes_spans
        .iter()
        .any(|&(start, _)| !negated(start) && (short || start == 0));
    let starts_with_question = is_word(
        first,
        "is, are, can, could, should, would, did, does, do, have, has, what, how, when, where,
        why, who, which, will, je, naweza, mnaweza, unaweza, inawezekana, kuna",
    );
    let strong_yes = any(&t, STRONG_YES);
    let yes = leading_yes || (!starts_with_question && (any_yes || strong_yes));
    if strong_no {
        return Assent::No;
    }
    if plain_no {
        return if yes { Assent::Unclear } else { Assent::No };
    }
    if yes {
        // "ok but how much is it?": answer the question before booking.
        let asks = spans(&t, QUESTION)
            .iter()
            .any(|&(start, _)| start > 0 || !leading_yes);
        // "yes but …", "sawa lakini …", "yes if …": a condition.
        let conditional = spans(&t, CONDITION).iter().any(|&(start, _)| start > 0);
        // "sawa naweza lipa na mpesa", "poa mna wifi": a question after it.
        let opens_question = leading_yes
            && yes_spans
                .iter()
                .filter(|&&(start, _)| start == 0)
                .any(|&(_, len)| len < t.len() && is_word(t.at(len), QUESTION_OPENERS));
        return if asks || conditional || opens_question {
            Assent::Hesitant
        } else {
            Assent::Yes
        };
    }
    Assent::Unclear
}

/// [`assent`] on raw text, also reading emoji answers (👍, 👌, ✅, 👎),
/// which tokenisation drops.
pub fn assent_text(text: &str) -> Assent {
    let tokens = Tokens::new(text);
    let a = assent(&tokens);
    // "ndio, hiyo ni 3pm sindio?", "Fatuma ni mzuri?": a question mark
    // after more than a word or two asks before deciding (unless the yes
    // comes after it: "can we continue in English? yes book it please").
    let after_question = text.rsplit('?').next().unwrap_or("");
    if a == Assent::Yes
        && text.contains('?')
        && tokens.len() >= 3
        && assent(&Tokens::new(after_question)) != Assent::Yes
    {
        return Assent::Hesitant;
    }
    // "Yes thanks. Please don't mention it if she calls": a clear yes, then
    // a sentence about something else (no question, no condition on it).
    if a == Assent::Hesitant
        && let Some((first, rest)) = text.split_once(['.', '!', '\n'])
        && !rest.contains('?')
        && assent(&Tokens::new(first)) == Assent::Yes
    {
        let rest = Tokens::new(rest);
        let opens_condition = spans(&rest, CONDITION).iter().any(|&(start, _)| start == 0);
        if !rest.is_empty()
            && !opens_condition
            && !matches!(assent(&rest), Assent::Hesitant | Assent::No)
        {
            return Assent::Yes;
        }
    }
    if a != Assent::Unclear {
        return a;
    }
    // "Naitwa Juma. Ndio weka", "Sorry for the delay! yes go ahead": a
    // sentence of something else, then the answer.
    if let Some((before, last)) = text
        .trim_end_matches(['.', '!', ' '])
        .rsplit_once(['.', '!', '\n'])
        && !before.contains('?')
        && assent(&Tokens::new(before)) == Assent::Unclear
        && assent(&Tokens::new(last)) == Assent::Yes
    {
        return Assent::Yes;
    }
    let has = |set: &[char]| text.chars().any(|c| set.contains(&c));
    match (has(&['👍', '👌', '✅', '🙆']), has(&['👎', '❌', '🙅'])) {
        (true, false) => Assent::Yes,
        (false, true) => Assent::No,
        _ if has(&['🤔']) => Assent::Hesitant,
        _ => Assent::Unclear,
    }
}

/// `words` with every whole-word occurrence of `phrase` replaced.
fn replace_phrase(words: &str, phrase: &str, with: &str) -> String {
    let hay: Vec<&str> = words.split(' ').filter(|w| !w.is_empty()).collect();
    let needle: Vec<&str> = phrase.split_whitespace().collect();
    let mut out: Vec<&str> = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if !needle.is_empty() && hay[i..].starts_with(&needle) {
            if !with.is_empty() {
                out.push(with);
            }
            i += needle.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(want: Assent, cases: &[&str]) {
        let wrong: Vec<String> = cases
            .iter()
            .map(|t| (t, assent_text(t)))
            .filter(|(_, got)| *got != want)
            .map(|(t, got)| format!("{t:?} -> {got:?}"))
            .collect();
        assert!(wrong.is_empty(), "want {want:?}: {wrong:#?}");
    }

    #[test]
    fn clear_assent_books() {
        check(
            Assent::Yes,
            &[
                "yes",
                "Yes!",
                "uh huh",
                "mm hmm",
                "Naitwa Juma. Ndio weka",
                "Yes thanks. Please don't mention it if she calls 😄",
                "Sawa. Nitalipa cash nikifika",
                "Sorry I was driving. yes go ahead",
                "yeah",
                "ya",
                "yah",
                "yep",
                "yup",
                "k",
                "kk",
                "ok",
                "Okay",
                "okey",
                "sure",
                "fine",
                "confirm",
                "go ahead",
                "book it",
                "do it",
                "weka",
                "niwekee",
                "tuwekee",
                "sawa",
                "sawa basi",
                "haya",
                "poa",
                "fiti",
                "freshi",
                "safi",
                "ndio",
                "ndiyo",
                "eeh",
                "eh",
                "ee",
                "naam",
                "kabisa",
                "perfect",
                "great",
                "alright",
                "bet",
                "say less",
                "👍",
                "👍🏽",
                "yes please",
                "sorry, can we continue in English? yes book it please",
                "yes pls",
                "ok thanks",
                "sawa asante",
                "Sawa sawa",
                "poa sana",
                "ok sawa",
                "uh yes",
                "eeh sawa",
                "yes book it",
                "ndio niwekee",
                "please go ahead and book it",
                "that works for me",
                "sounds good",
                "ok no problem",
                "sawa hakuna shida",
                "yes can't wait",
                "ndiyo tafadhali",
                "haya basi",
                "ok see you then",
                "yes see you tomorrow",
                "sure thing",
                "absolutely",
                "iko sawa",
                "ni sawa",
                "Yes, confirm",
                "yeah that's fine",
                "ok cool",
                "alright then",
                "sawa, weka tu",
                "fiti kabisa",
            ],
        );
    }

    #[test]
    fn hesitation_never_books() {
        check(
            Assent::Hesitant,
            &[
                "Yes. But make it 4pm",
                "Sawa. Lakini nitakuconfirmia kesho",
                "Yes. Wait, let me ask my husband first",
                "hold on",
                "wait",
                "ngoja",
                "ngoja kwanza",
                "subiri",
                "let me ask my husband",
                "let me check",
                "hold on, I need to ask my husband",
                "nitakuambia",
                "nitakujulisha",
                "sijui",
                "sijui bado",
                "maybe",
                "labda",
                "not sure",
                "later",
                "baadaye",
                "I'll get back to you",
                "nikucheki",
                "let me think",
                "hmm",
                "yes but let me ask my husband",
                "sawa lakini ngoja",
                "ok wait",
                "no wait",
                "wacha niulize",
                "acha kwanza",
                "ngoja nimuulize bibi",
                "uh ngoja kidogo",
                "eeh nitakuambia baadaye",
                "let me confirm with my boss",
                "ok but how much is it",
                "sawa lakini ni pesa ngapi",
                "sawa lakini kwanza niambie bei",
                "yes but make it 4pm",
                "yes but with achieng please",
                "Yes if my friend agrees to come too",
                "sawa naweza lipa na mpesa",
                "poa, mna wifi?",
                "pengine ndio",
                "ok but first tell me where you are",
                "poa ila kwanza nieleze kama kuna parking",
                "yes what time will it finish",
                "umm",
                "bado",
                "🤔",
                "perhaps tomorrow",
                "I will think about it",
                "nitafikiria",
                "one sec",
                "nipe dakika",
                "let me get back to you",
                "I'll let you know",
                "brb",
            ],
        );
    }

    #[test]
    fn refusal_never_books() {
        check(
            Assent::No,
            &[
                "no",
                "No.",
                "nope",
                "nah",
                "hapana",
                "sitaki",
                "not now",
                "cancel",
                "acha",
                "wacha",
                "forget it",
                "nimebadilisha mawazo",
                "changed my mind",
                "I changed my mind",
                "no thanks",
                "hapana asante",
                "don't book it",
                "si sawa",
                "not ok",
                "no, make it cornrows instead",
                "I don't want it anymore",
                "never mind",
                "👎",
                "sina haja",
                "siwezi kesho",
                "achana na hiyo",
                "sitakuja",
                "I'll pass",
                "acha tu",
            ],
        );
    }

    #[test]
    fn anything_else_is_unclear() {
        check(
            Assent::Unclear,
            &[
                "",
                "asdf",
                "huh?",
                "what time do you close",
                "is it ok if I bring my kid",
                "can I pay first before you book it",
                "thanks",
                "asante",
                "saa saba na nusu je",
                "make it cornrows instead",
                "Friday",
                "kesho saa nne",
                "yes no",
                "who is this",
                "can you confirm the price",
                "are you sure",
                "is it ok",
                "should I book it",
                "do you do braids",
            ],
        );
    }
}
