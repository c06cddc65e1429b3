//! The word lists behind the lexicon: canonical vocabulary, abbreviations,
//! words never to correct, and the shared service synonyms.

use std::collections::HashSet;
use std::sync::LazyLock;

/// Relative days in both languages.
pub const RELATIVE_DAYS: &[&str] = &["today", "tomorrow", "tonight", "leo", "kesho", "keshokutwa"];

/// The day words misspellings are measured against.
pub const DAY_TARGETS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "jumatatu",
    "jumanne",
    "jumatano",
    "alhamisi",
    "ijumaa",
    "jumamosi",
    "jumapili",
    "today",
    "tomorrow",
    "tonight",
    "kesho",
    "keshokutwa",
];

/// Canonical words a misspelling may be corrected to (only those of five
/// letters or more are targets; shorter ones count as known words).
pub const VOCABULARY: &[&str] = &[
    // days
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "jumatatu",
    "jumanne",
    "jumatano",
    "alhamisi",
    "ijumaa",
    "jumamosi",
    "jumapili",
    "today",
    "tomorrow",
    "tonight",
    "kesho",
    "keshokutwa",
    "weekend",
    // months
    "january",
    "february",
    "march",
    "april",
    "august",
    "september",
    "october",
    "november",
    "december",
    "januari",
    "februari",
    "aprili",
    "agosti",
    "septemba",
    "oktoba",
    "novemba",
    "desemba",
    "julai",
    // parts of the day and clock words
    "morning",
    "afternoon",
    "evening",
    "night",
    "asubuhi",
    "mchana",
    "jioni",
    "usiku",
    "alfajiri",
    "lunchtime",
    "midday",
    "quarter",
    "kasorobo",
    "dakika",
    "minutes",
    "oclock",
    // booking words
    "appointment",
    "booking",
    "please",
    "available",
    "cancel",
    "reschedule",
    "tafadhali",
    "nataka",
    "ningependa",
    "nafasi",
    "miadi",
    "thanks",
    "asante",
    "asanteni",
    "hello",
    "habari",
    "price",
    "prices",
    "much",
];

/// Words of service names and their everyday forms: pieces of glued words
/// ("boxbraids", "gelnails") and never corrected into something else.
pub const SERVICE_WORDS: &[&str] = &[
    "box",
    "braids",
    "braid",
    "knotless",
    "cornrows",
    "cornrow",
    "gel",
    "nails",
    "nail",
    "mani",
    "pedi",
    "manicure",
    "pedicure",
    "hair",
    "cut",
    "haircut",
    "wash",
    "set",
    "blow",
    "dry",
    "blowdry",
    "facial",
    "eyebrow",
    "eyebrows",
    "brow",
    "brows",
    "eye",
    "locs",
    "loc",
    "dreads",
    "dreadlocks",
    "retwist",
    "twist",
    "twists",
    "relaxer",
    "silk",
    "press",
    "bridal",
    "wedding",
    "makeup",
    "lashes",
    "wax",
    "waxing",
    "massage",
    "weave",
    "wig",
    "wigs",
    "dye",
    "colour",
    "color",
    "polish",
    "kinky",
    "trim",
    "shave",
    "nywele",
    "kucha",
    "nyusi",
    "kusuka",
    "mabutu",
    "rasta",
    "jeli",
    "uso",
    "usoni",
    "harusi",
    "kuosha",
    "kunyoa",
    "kinyozi",
    "kulainisha",
    "kusokota",
    "dredi",
    "kukata",
    "mikono",
    "miguu",
    "spa",
    "treatment",
    "shaping",
];

/// Pieces joined even though each is a word ("after noon").
pub const JOIN_ALWAYS: &[&str] = &["afternoon", "weekend", "lunchtime", "keshokutwa", "haircut"];

/// Sounds of hesitation in speech and typing.
pub const FILLERS: &[&str] = &[
    "uh", "uhm", "uhh", "um", "umm", "er", "erm", "ehm", "ah", "ahh", "hmm", "hm", "mm", "mmm",
    "emm", "aaah",
];

/// Words that make a following or preceding "n" Swahili "na".
pub const SW_CONTEXT: &[&str] = &[
    "nywele", "nyusi", "kucha", "kesho", "leo", "saa", "nusu", "robo", "mimi", "wewe", "yeye",
    "mtoto", "dada", "mama", "rafiki", "jioni", "asubuhi", "mchana", "bei", "ngapi", "kukata",
    "kusuka", "ni", "pia",
];

/// Abbreviations, Sheng spellings and misspellings beyond the corrector's
/// reach: space-separated forms, then what they mean.
pub const ABBREVIATIONS: &[(&str, &str)] = &[
    (
        "tmrw tmrow tmr tmw tmro tmoro tmorow tomoz tomo tomoro tomorro tommorow tommorrow tomorrw 2moro 2morow 2morro 2morrow 2mrw 2mro 2mrow tmorrow",
        "tomorrow",
    ),
    ("tdy 2day 2dy tody", "today"),
    ("2nite 2nyt 2night tonite tonyt tnight", "tonight"),
    ("pls plz plis pliz plse pse plx pleeze", "please"),
    ("hw", "how"),
    ("wat wht wats whats", "what"),
    ("wen whn", "when"),
    ("nxt nex", "next"),
    ("wk wiik", "week"),
    ("wkend wknd wikend", "weekend"),
    ("u yu", "you"),
    ("ur", "your"),
    ("thx thnx thnks tnx tnks thanx thanku", "thanks"),
    ("mrng mng morn mornin", "morning"),
    ("asbh asb asbuhi asubui", "asubuhi"),
    ("aftn aftanun aftanoon afternun", "afternoon"),
    ("evng evenin", "evening"),
    ("nyt nite", "night"),
    ("appt apt appnt appntmnt apntmnt", "appointment"),
    ("bkng", "booking"),
    ("bk", "book"),
    ("avail avlbl", "available"),
    ("mins min", "minutes"),
    ("hrs hr", "hours"),
    ("mon mondy munday mondei mandei monde mondo", "monday"),
    ("tue tues tuseday tusday tueday tuesdei chusdei", "tuesday"),
    (
        "wed weds wednes wensday wenesday wendsday wednsday wedsday wedensday wenseday wednesdy wenzdei wensdei wensdy wenesdy wednsdy",
        "wednesday",
    ),
    (
        "thu thur thurs thrus thursdy thurday thrusday thurdsay thusday thursdei thazdei",
        "thursday",
    ),
    (
        "fri fry frdy frday fryday fraiday frid frdai fraidei fridei",
        "friday",
    ),
    (
        "sato sartu satday satdy satur saterday satuday satarday sartuday satadei saturdei satdei",
        "saturday",
    ),
    ("sundy sunde sundei sandei", "sunday"),
    ("yh yea yeh yah", "yeah"),
    ("ys yess yesh", "yes"),
    ("bok buk", "book"),
    ("ahed ahd", "ahead"),
    ("afta aftr", "after"),
    ("nid", "need"),
    ("okey oky okie", "okay"),
    ("jmosi jumamos jmos jmamosi jumos", "jumamosi"),
    ("jpili jumapil", "jumapili"),
    ("alhamis alamisi alhamic", "alhamisi"),
    ("jumaa ijuma", "ijumaa"),
    ("jumatat", "jumatatu"),
    ("cjui sijui", "sijui"),
    ("cku", "siku"),
    ("tar trh tareh", "tarehe"),
    ("aight aiight ayt ight aite", "alright"),
    ("opn opne", "open"),
    ("ksho kesh keso", "kesho"),
    ("manipedi", "mani pedi"),
    ("mve muv", "move"),
    // Spelt as said in Swahili: "nilikua nataka pedikyua jumatano".
    ("pedikyua pedikyuwa pedikiua pedikia pedikyuar", "pedicure"),
    ("manikyua manikyuwa manikiua manikia manikyuar", "manicure"),
];

/// Common words of both languages (and names close to a day word) that are
/// never corrected, so "there" stays "there" and "Fridah" a name.
static KNOWN: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    KNOWN_WORDS
        .split_whitespace()
        .chain(VOCABULARY.iter().copied())
        .chain(SERVICE_WORDS.iter().copied())
        .collect()
});

pub fn known() -> &'static HashSet<&'static str> {
    &KNOWN
}

const KNOWN_WORDS: &str = "
ride rides uber bolt manage managed managing manages party parties office function anniversary graduation interview school schools exams exam
church trip tuition matatu matatus traffic bus rains lunch dinner
kukaa nikae ukae akae tukae kitu vitu
msichana wasichana achana wachana useless forget forgot forgotten daylight hell helpful
mwanangu binti kijana vijana mtoto watoto hello
manager managers owner boss supervisor speak talk person office package corporate surprise
earliest soonest latest asap
a about above after again against all almost along already also always am among an and
another any anyone anything anytime anyway are around as ask asked at away back bad be
because been before being below best better between big bit both bring but buy by call
called came can cannot cant care case change charge cheap check child children come corner corners
coming cost could couldnt daughter day days did didnt do does doesnt doing done dont
down during each early earlier either else end enough even ever every everyone
everything except fast few find fine first for found free friend friends from full get
gets getting give given go goes going gone good got great had has hasnt have havent
having he her here hers herself him himself his hold home hope hour hours how however
husband i if im in inside instead into is isnt it its itself just keep kids kind know
last late later least leave left less let lets like little long look looking lot lots
made make many may maybe me mean might mine more most mother mum much must my myself
name need needs never new next nice no none nor not nothing now of off often oh ok okay
old on once one only open or other others our ours out over own people place plan
please possible pretty put quick quite rather ready really right said same saw say
says see seen she should show since sister sit sitting so some someone something
sometime sometimes son soon sorry still such sure take taken tell than thank thanks
that thats the their them then there these they thing things think this those though
through till time times to together told too took top toward try trying turn two under
until up upon us use used very wait want wanted wants was way we well went were what
whatever when where whether which while who whole whom whose why will wife with within
without wont work would wouldnt yeah yes yet you your yours yourself
one two three four five six seven eight nine ten eleven twelve thirteen fourteen
fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty hundred thousand
half quarter first second third
monday tuesday wednesday thursday friday saturday sunday week weeks weekday month year
today tomorrow tonight yesterday noon midday morning afternoon evening night lunch
breakfast dinner
book booked booking bookings appointment appointments slot slots cancel cancelled
reschedule move moved change changed confirm confirmed available availability price
prices pay paid payment deposit mpesa till paybill cash card receipt refund location
address located where directions parking near far town road street building floor
salon spa barber shop service services offer staff stylist hi hello hey morning
there where here three their these sunny sunshine money monkey night eight right light
might sight fight tight match catch march cancer thirsty sandy mandy wendy fridah
frida juma sundae tuesdays fridays mondays sundays saturdays weekends nights mornings
evenings afternoons today's birthday holiday holidays sat sun mum dad baby
hair nails face feet hands hand foot body skin
habari jambo hujambo sijambo mambo vipi niaje sasa poa fiti freshi safi shwari
nataka ningependa naomba nipe nipatie miadi kesho leo keshokutwa kutwa saa asubuhi mchana
jioni usiku alfajiri alasiri asante asanteni ndiyo ndio hapana sawa tafadhali bei gani ngapi
nini wapi lini je kuweka weka kubook nibook kupanga panga kufuta futa ghairi kughairi
sitaki badilisha kubadilisha hamisha kuhamisha sogeza kusogeza nywele kusuka kunyoa
kucha huduma mtu watu binadamu ongea kuongea zungumza kuzungumza na ya wa kwa ni mimi
wewe yeye sisi nyinyi wao niko iko mko uko yuko tuko mnafungua mnafunga fungua funga
wiki ijayo iliyopita jumatatu jumanne jumatano alhamisi ijumaa jumamosi jumapili sijui
naweza unaweza mnaweza tunaweza pesa shilingi elfu mia laki moja mbili tatu nne tano
sita saba nane tisa kumi ishirini thelathini arobaini hamsini nusu robo kasorobo kasoro
hiyo hii hizo hizi yangu wangu langu zangu yako wako lako zako yake wake lake zake
shikamoo salama karibu mwisho kwanza pia lakini kama tu bado hakuna kuna mna mnafanya
nafasi tarehe mwezi jina kuja nitakuja sitakuja sitaweza naenda mahali meneja mhudumu
gharama ndugu dada kaka mama baba bwana nisaidie msaada tena ingine nyingine siku muda
baadaye mapema wazi mbona kitu vitu kidogo sana zaidi naam eeh ehe ile ule ule hapo
kupata pata nipate kuosha osha kufanya kufanyiwa kufanywa
hapa huko pale mtoto watoto mwanangu binti rafiki mke mume harusi ngoja subiri kesho
basi ama au halafu kisha pamoja wote yote zote kila bila kabla baada mpaka hadi tangu
leo sasa hivi hivyo vile kweli sio si hakuna haina iwe ikiwa kama nikuje nije kuja
tutaonana uje nitafika nitakuwa nimechelewa chelewa samahani pole ok okay
matatu stage town tao
";

/// Sheng verbs of carving ("kuchongwa", "achongwe", in the haircut
/// synonyms below) name a haircut on their own ("nataka kuchongwa") but
/// shape the brows when those are beside them ("kuchonga nyusi", "nyusi
/// zichongwe").
pub fn carves(phrase: &str) -> bool {
    !phrase.contains(' ') && phrase.contains("chong")
}
pub const BROWS: &[&str] = &["nyusi", "brows", "eyebrows", "eyebrow"];

/// A kind of service salons offer, as customers name it: the phrases they
/// use, and the words that identify that kind in a tenant's service names
/// (English or Swahili), so one list serves every catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceSynonym {
    pub phrases: &'static [&'static str],
    pub targets: &'static [&'static str],
}

/// Kinds of service a customer names a booking by ("the nails one", "ile
/// ya kucha", "my hair appointment"): the word, and the words that mark a
/// service of that kind in a tenant's names (English or Swahili).
pub const SERVICE_KINDS: &[(&[&str], &[&str])] = &[
    (
        &["nails", "nail", "kucha"],
        &[
            "manicure", "pedicure", "nail", "nails", "kucha", "mani", "pedi",
        ],
    ),
    (
        &["hair", "nywele"],
        &[
            "hair",
            "haircut",
            "braids",
            "cornrows",
            "relaxer",
            "wash",
            "dreadlocks",
            "locs",
            "nywele",
            "kusuka",
            "rasta",
            "mabutu",
            "blow",
        ],
    ),
    (
        &["face", "uso"],
        &[
            "facial", "face", "uso", "eyebrow", "eyebrows", "nyusi", "brows",
        ],
    ),
];

pub const SERVICE_SYNONYMS: &[ServiceSynonym] = &[
    ServiceSynonym {
        phrases: &[
            "cut",
            "cuts",
            "haircut",
            "hair cut",
            "haircuts",
            "kinyozi",
            // Men's cuts: "need a fade tomorrow 3pm", "chiskop kesho".
            "fade",
            "chiskop",
            "chiscop",
            "kunyoa",
            "nyoa",
            "trim",
            "kukata nywele",
            "kata nywele",
            "kunyolewa",
            "chonga nywele",
            "kuchonga nywele",
            "kuchongwa nywele",
            // Sheng: "nataka kuchongwa", "msee wangu achongwe" (but
            // "kuchonga nyusi" shapes eyebrows: see `carves`).
            "kuchongwa",
            "chongwa",
            "nichongwe",
            "achongwe",
            "tuchongwe",
            "wachongwe",
            "cut nywele",
            // "vijana wawili wakatwe nywele", "nikatwe nywele", "akatwe"
            "kukatwa nywele",
            "wakatwe nywele",
            "nikatwe nywele",
            "akatwe nywele",
            "tukatwe nywele",
            // "nataka kuja na mtoi sato saa tano akatwe": a child's cut
            // ("pesa nikatwe" is a charge, so only the third person).
            "akatwe",
            "anyolewe",
        ],
        targets: &[
            "haircut", "haircuts", "cut", "kinyozi", "barber", "trim", "kunyoa",
        ],
    },
    ServiceSynonym {
        phrases: &[
            "locs",
            "loc",
            "dreads",
            "dreadlocks",
            "dreadlock",
            "dredi",
            "dreadi",
            "dredlocks",
            "retwist",
            "re twist",
            "kusokota",
            "sokota",
        ],
        targets: &[
            "dreadlocks",
            "dreadlock",
            "locs",
            "loc",
            "dreads",
            "retwist",
        ],
    },
    ServiceSynonym {
        phrases: &[
            "mani",
            "manicure",
            "manicures",
            "mani pedi",
            "kucha za mikono",
            "kucha za mkono",
            "kucha mikono",
        ],
        targets: &["manicure"],
    },
    ServiceSynonym {
        phrases: &[
            "pedi",
            "pedicure",
            "pedicures",
            "mani pedi",
            "kucha za miguu",
            "kucha za mguu",
            "kucha miguu",
        ],
        targets: &["pedicure"],
    },
    ServiceSynonym {
        phrases: &[
            "brows",
            "brow",
            "eyebrow",
            "eyebrows",
            "eye brows",
            "eye brow",
            "nyusi",
        ],
        targets: &["eyebrow", "eyebrows", "brow", "brows", "nyusi"],
    },
    ServiceSynonym {
        phrases: &[
            "box braids",
            "braids",
            "knotless",
            "knotless braids",
            "kusuka rasta",
            "rasta braids",
        ],
        targets: &["braids", "braid"],
    },
    ServiceSynonym {
        phrases: &[
            "cornrows",
            "cornrow",
            "conrows",
            "conrow",
            "cornrolls",
            "cornroll",
            "corn rows",
            "mabutu",
        ],
        targets: &["cornrows", "cornrow", "mabutu"],
    },
    ServiceSynonym {
        phrases: &["gel", "jeli", "gel nails", "gel polish", "kucha za jeli"],
        targets: &["gel", "jeli"],
    },
    ServiceSynonym {
        phrases: &[
            "facial",
            "facials",
            "usoni",
            "uso",
            "usafi wa uso",
            // as a recogniser hears it
            "face shall",
            "face show",
            "fay shall",
            "facia",
            "face shal",
            "face hole",
            "face hall",
            "face ial",
            "fay shal",
        ],
        targets: &["facial", "facials", "uso", "usoni"],
    },
    ServiceSynonym {
        phrases: &[
            "relaxer",
            "relax",
            "relaxing",
            "dawa ya nywele",
            "kulainisha",
            "kulainisha nywele",
        ],
        targets: &["relaxer", "kulainisha"],
    },
    ServiceSynonym {
        phrases: &[
            "wash and set",
            "wash",
            "kuosha",
            "kuosha nywele",
            "silk press",
        ],
        targets: &["wash", "kuosha", "kuseti"],
    },
    ServiceSynonym {
        phrases: &["harusi", "bridal", "wedding", "bride", "wedding hair"],
        targets: &["bridal", "harusi", "bride", "wedding"],
    },
    ServiceSynonym {
        phrases: &["massage", "masaji", "kukandwa"],
        targets: &["massage", "masaji"],
    },
    ServiceSynonym {
        phrases: &["wax", "waxing", "nta"],
        targets: &["wax", "waxing"],
    },
    ServiceSynonym {
        phrases: &["makeup", "make up", "mekap", "urembo wa uso"],
        targets: &["makeup"],
    },
    ServiceSynonym {
        phrases: &["lashes", "eyelashes", "eye lashes", "kope"],
        targets: &["lashes", "eyelashes", "lash", "kope"],
    },
    ServiceSynonym {
        phrases: &["weave", "weaving", "weave install"],
        targets: &["weave", "weaving"],
    },
    ServiceSynonym {
        phrases: &[
            "dye",
            "colour",
            "color",
            "hair colour",
            "hair color",
            "rangi ya nywele",
        ],
        targets: &["dye", "colour", "color", "colouring", "coloring", "rangi"],
    },
];
