//! Insults, threats and fraud or theft accusations, in English, Swahili and
//! Sheng. These hand the conversation to a person at once; a plain
//! complaint ("not happy", "cancel it") is not abuse.

use super::lexicon::spans;
use crate::core::dialog::text::Tokens;

/// Words and phrases that are abusive wherever they occur.
const ALWAYS: &str = "
    thief, thieves, thiefs, thieving, fraud, frauds, fraudster, fraudsters, fraudulent,
    scam, scams, scammer, scammers, scamming, scammed, scum, conman, conmen, con men,
    con artist, con artists, crook, crooks, swindler, swindlers, liars, cheats, cheaters,
    rip off, ripoff, ripped me off, daylight robbery, robbers, criminals, theft, this is theft,
    you stole, you are stealing, i want my money back, my money back, refund my money,
    double charged, charged me twice, charged twice, overcharged, mmenikata mara mbili,
    nirudishieni pesa, nirudishie pesa yangu, rudisha pesa yangu,
    idiot, idiots, idiotic, stupid, stupidity, useless, moron, morons, dumb, dumbass, fools,
    foolish, nonsense, rubbish, trash, garbage, pathetic, incompetent, clowns, bloody,
    bullshit, shit, shitty, fuck, fucking, fucked, fuk, fck, fucker, motherfucker, bitch,
    bitches, bastard, bastards, asshole, assholes, dickhead, wtf, stfu, shut up, go to hell,
    go to hello, day light robbery, you are use less, you re use less, so use less,
    mko use less, use less bot, are use less, damn you, screw you, piss off, fake salon, fake people, fake business, you are fake,
    report you, reporting you, sue you, sue your, i will sue, ill sue, i ll sue,
    take you to court, see you in court, call the police, report to the police,
    my lawyer, legal action, expose you, i will expose, expose this,
    you will regret, you ll regret, youll regret, kill you, beat you, watch your back,
    deal with you, sort you out, teach you a lesson, you will see, you ll see, burn your,
    nitawashughulikia, nitakushughulikia, mtanikoma, nitakuja huko mtaona,
    wezi, mwizi, wizi, =mnaiba, =mmeiba, =wanaiba, mnatuibia, mnaniibia, mmeniibia,
    mmetuibia, =mnaibia, =mmeibia, mliniibia, mlituibia, mlimwibia, kuiba pesa, matapeli, tapeli, mtapeli, utapeli, walaghai,
    mlaghai, laghai, ulaghai, wadanganyifu, mdanganyifu, mnadanganya, mmenidanganya,
    waongo, mwongo, mjinga, wajinga, ujinga, mpumbavu, wapumbavu, pumbavu, upumbavu,
    takataka, shenzi, mshenzi, washenzi, ushenzi, kumbafu, kumbavu, nyangau, nyang au,
    mavi, kumamako, kumamayo, kuma yako, malaya, umbwa, mbwa wewe, mbwa nyinyi,
    ni mbwa, nguruwe wewe, punda wewe, ni punda, hamna akili, huna akili, hamna maana,
    huna maana, nitawashtaki, nitakushtaki, tutawashtaki, kuwashtaki, nitawaripoti,
    nitakuripoti, nitawapeleka polisi, nitaenda polisi, nitaita polisi, nitaenda kwa polisi,
    nitawapeleka kwa polisi, nitakupeleka polisi, nitawapeleka mahakamani,
    nitakupeleka mahakamani, tutaonana mahakamani, kuwaripoti polisi, nitawaripoti polisi,
    nitakuchapa, =mtaona, =mtajuta, mtanijua, mtanitambua,
    =wakora, mkora, ukora, fala, mafala, ufala, msenge, wasenge, usenge, mnakula pesa,
    mmekula pesa, mnatudanganya, mmetudanganya, ni uongo, mnakula doh, mmekula doh, kula pesa za watu, mnakulanga pesa,
    mnakula pesa zetu, mmenikula,
    mlinikata pesa double, mmenikata double, mlinikata double, mlinikata mara mbili,
    mlinikata pesa mara mbili, kunikata mara mbili, charged me double, deducted twice,
    nitavunja, nivunje, tutavunja, nitaivunja, nitawavunja, nitakuvunja, nitachoma, tutachoma,
    nitakuja niwavunje, i will break, i ll break, ill break, smash your, burn down,
    break your windows, break your salon, break your shop, i m warning you, im warning you,
    i am warning you, on facebook, posting the photos, post the photos, tagging you, tag you everywhere,
    sort her out, sort him out, sort them out, nitawaanika, nitaposti,
    hamtanirudishia, mtanirudishia pesa, nirudishiwe pesa, rudisheni pesa,
    niwaonyeshe kitu, nitawaonyesha kitu, nitakuonyesha kitu, mtaona cha mtema kuni,
    mtanitambua, mtajua hamjui
";

/// Phrases with an abusive word that are not abuse, removed first.
const EXCEPT: &str = "stupid question, dumb question, silly question, stupid me, i m so stupid,
    im so stupid, i feel stupid, i m stupid, sorry for the stupid, fake nails, fake lashes,
    fake eyelashes";

/// Theft and cheating verbs: abusive when "you" did it.
const ACCUSE: &str = "
    stole, steal, stealing, stolen, steals, robbed, rob, robbing, cheated, cheating,
    conned, swindled, fleeced, overcharged, lied, lying, tricked
";

/// A second person just before an accusing verb ("you stole", "you people
/// have stolen", "u guys robbed").
const YOU: &str = "you, u, yall, salon, nyinyi, ninyi, wewe";

/// Whether the turn insults, threatens or accuses the business.
pub fn is_abuse(tokens: &Tokens) -> bool {
    let blocked = spans(tokens, EXCEPT);
    let inside = |s: usize, l: usize| blocked.iter().any(|&(b, bl)| s < b + bl && b < s + l);
    // "useless" on its own, as the shared normaliser splits it.
    let useless = tokens.words() == ["use", "less"];
    if useless || spans(tokens, ALWAYS).iter().any(|&(s, l)| !inside(s, l)) {
        return true;
    }
    let you = spans(tokens, YOU);
    spans(tokens, ACCUSE)
        .iter()
        .any(|&(verb, _)| you.iter().any(|&(y, _)| y < verb && verb - y <= 3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abuse_table() {
        let abusive = [
            "you stole my money",
            "mkinichezea tena kama last time nitakuja hapo nivunje kila kitu. mnajua mimi ni nani?",
            "if my hair gets burnt again I'm coming there with my brothers, you'll see",
            "You people stole my money!!",
            "u guys have stolen my 500 bob",
            "you robbed me",
            "thieves",
            "this is a fraud",
            "Scam!",
            "you are scammers",
            "conmen nyinyi",
            "I'll report you",
            "i will report you to the police",
            "I will sue you",
            "mnatuibia pesa",
            "wezi nyinyi",
            "matapeli wakubwa",
            "wewe ni mjinga",
            "takataka",
            "nitawashtaki",
            "nitawapeleka polisi",
            "Nitawapeleka mahakamani na kuwaripoti polisi.",
            "mtaona",
            "mnakula pesa za watu",
            "wakora hawa",
            "fala wewe",
            "msenge",
            "stupid bot",
            "idiot",
            "useless",
            "this is nonsense",
            "what the fuck",
            "uh you people are thieves eeh",
            "mmeniibia pesa yangu",
            "nyinyi ni wezi",
            "hamna akili",
            "mpumbavu",
            "mmekula pesa yangu na hamjanipa huduma",
            "you are cheating us",
            "mnatudanganya",
            "you guys are useless",
            "mlinikata pesa double kwa mpesa",
            "nitakuja hapo nivunje hiyo salon yenu kama hamtanirudishia pesa yangu",
            "wasee mliharibu nywele yangu last time, nitakuja hapo niwaonyeshe kitu",
            "if my braids are done badly again I will come there and break your windows",
        ];
        for text in abusive {
            assert!(is_abuse(&Tokens::new(text)), "should be abuse: {text}");
        }
        let fine = [
            "cancel",
            "I want to cancel",
            "not happy with the service",
            "sifurahii huduma",
            "someone stole my phone so I couldn't call you",
            "I was robbed of my time?",
            "my phone was stolen",
            "can I get fake nails",
            "are you near the police station",
            "mko karibu na kituo cha polisi",
            "nataka kusuka kesho",
            "I'm disappointed",
            "nimekasirika kidogo",
            "mchizi wangu anataka kunyoa",
            "hapana asante",
            "how much is a facial",
            "ni bure?",
            "I am late",
            "sorry for the stupid question, how much is a facial",
            "I want fake nails",
            "someone robbed me on the way so I'm late",
            "nataka kuvunja nywele zangu",
            "i broke a nail, can you fix it",
        ];
        for text in fine {
            assert!(!is_abuse(&Tokens::new(text)), "not abuse: {text}");
        }
    }
}
