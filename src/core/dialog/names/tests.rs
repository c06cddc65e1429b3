use super::*;

fn name(text: &str) -> Option<String> {
    stated_name(&Tokens::new(text), text)
}

#[test]
fn a_name_corrected_after_a_negation() {
    let fix = |text: &str| corrected_name(&Tokens::new(text), "Kevin", text);
    for text in [
        "sorry autocorrect, kelvin* not kevin",
        "its Kelvin not Kevin",
        "not kevin, kelvin",
        "not Kevin but Kelvin pls",
        "si kevin, ni kelvin",
        "*Kelvin lol autocorrect",
        "*kelvin nataka mabutu kesho",
        "Kelvin*",
        "sorry wrong name, it's Kelvin. Kevin is my bro, we share this phone",
        "sory typo, its Kelvin",
    ] {
        assert_eq!(fix(text).as_deref(), Some("Kelvin"), "{text}");
    }
    for text in [
        "not kevin",
        "kevin here",
        "not tomorrow, friday",
        "i said not today",
        "*thursday",
        "*pedicure not manicure",
        "*tomorrow",
        "*Kevin",
        "sorry typo, its thursday not friday",
    ] {
        assert_eq!(fix(text), None, "{text}");
    }
}

#[test]
fn names_the_customer_gives() {
    let cases = [
        ("my name is Wanjiru", "Wanjiru"),
        ("Chamgei, this is Kiprotich", "Kiprotich"),
        ("Wĩ mwega, this is Wanjiru", "Wanjiru"),
        ("Ndiyo, sawa. Asante.\n- Mama Wanjiru", "Mama Wanjiru"),
        ("Thank you, God bless.\n~ Grace Otieno", "Grace Otieno"),
        ("hello uh this is otieno o t i e n o", "Otieno"),
        (
            "Yes. Please write it under my name, Grace Otieno.",
            "Grace Otieno",
        ),
        (
            "My name is wanjiru kamau and I want braids",
            "Wanjiru Kamau",
        ),
        ("I'm Kevin", "Kevin"),
        ("hi im kevin", "Kevin"),
        ("this is Brayo", "Brayo"),
        ("Hi this is Kevin. haircut tmrw 10am?", "Kevin"),
        ("it's Akinyi here", "Akinyi"),
        ("naitwa Halima", "Halima"),
        ("Naitwa halima nataka kusuka kesho", "Halima"),
        ("mimi ni mama Njeri", "Mama Njeri"),
        ("jina langu ni Otieno", "Otieno"),
        ("ni mimi Wambui", "Wambui"),
        ("hi it's Esther", "Esther"),
        ("hi this is wambui i want braids tomorrow", "Wambui"),
        ("uh hello this is eeh wambui i want to book", "Wambui"),
        ("Habari, naitwa Aisha. Nataka pedicure", "Aisha"),
        (
            "Good morning, my name is Mercy Achieng Otieno",
            "Mercy Achieng Otieno",
        ),
        ("Esther here, can I book nails", "Esther"),
        ("hello am Faith", "Faith"),
        ("hey am Shiro btw 😊 do you guys do gel nails", "Shiro"),
        ("Hi this is Moraa. Need cornrows tomorrow 3pm", "Moraa"),
        ("hi am Kevo do you do cornrows", "Kevo"),
        ("I am Brian and I need a haircut", "Brian"),
        ("my names are Jane Muthoni", "Jane Muthoni"),
        ("Sasa, ni Brayo hapa", "Brayo"),
        (
            "voice note: eeh hi, ni Otieno hapa, nilikuwa na appointment ya locs jumamosi",
            "Otieno",
        ),
        ("jina ni mary", "Mary"),
        ("I'm called Jane", "Jane"),
        ("Iam Kevin", "Kevin"),
        ("Mama Njeri hapa, nataka kusuka", "Mama Njeri"),
        ("Name: Jane Doe", "Jane Doe"),
        ("my name is May", "May"),
        ("This is Mrs Otieno", "Mrs Otieno"),
        ("I'm Dr. Achieng", "Dr Achieng"),
        (
            "Yes. Kindly register the appointment under the name Nyambura Kamau.",
            "Nyambura Kamau",
        ),
        ("book it under Nyambura please", "Nyambura"),
        ("put it in the name of Grace Wafula", "Grace Wafula"),
        ("jina ni Nyambura Kamau", "Nyambura Kamau"),
        ("ndio, weka kwa jina la Halima Ali", "Halima Ali"),
        (
            "sawa, iandikwe kwa majina ya Wanjiru Kamau",
            "Wanjiru Kamau",
        ),
        ("save it under Akinyi", "Akinyi"),
        ("Hi, it's me, Wanjiru", "Wanjiru"),
        ("hii ni Wanjiru, nataka kujua bei", "Wanjiru"),
        ("Habari, mimi ni Njeri nataka kujua bei", "Njeri"),
        ("hello this is Ochieng i want a haircut", "Ochieng"),
    ];
    for (text, want) in cases {
        assert_eq!(name(text).as_deref(), Some(want), "{text}");
    }
}

#[test]
fn common_words_are_not_names() {
    let cases = [
        "I'm fine",
        "I'm good thanks",
        "I'm looking for a salon",
        "I'm coming at 3",
        "I'm late",
        "im on my way",
        "this is urgent",
        "this is for my daughter",
        "mimi ni mgonjwa",
        "mimi ni mteja wenu",
        "mimi ni mama",
        "it's ok",
        "its fine",
        "I'm Kevin's wife",
        "I want braids on Friday",
        "I am available on Friday",
        "I'm interested in braids",
        "it's tomorrow right",
        "this is Friday",
        "mimi ni yule wa jana",
        "naitwa",
        "call me tomorrow",
        "I'm a student",
        "I am not sure",
        "nataka kusuka",
        "hii ni bei gani",
        "ni bei gani",
        "ni sawa",
        "this is crazy",
        "this is kinda expensive",
        "it's Wednesday",
        "its me again",
        "ni mimi tena",
        "I'm from Kitengela",
        "I'm her mum",
        "I'm 25",
        "mimi ni customer wenu",
        "I'm new here",
        "it's braids I want",
        "I'm Ok",
        "book it under my name",
        "put it under the same name",
        "is it under 2000",
        "book it under an hour",
        "see you at 2pm\n- Thanks",
        "Asante sana ~ Blessings",
        "cornrows sat 10am - Wanjiku if possible",
    ];
    for text in cases {
        assert_eq!(name(text), None, "{text}");
    }
}

#[test]
fn party_size_counts_the_people() {
    let cases: &[(&str, u8)] = &[
        ("me and my daughter", 2),
        ("my daughter wants box braids and i want wash n set", 2),
        ("my daughter wants box braids", 1),
        ("bridal hair for the bride and a wash & set for me", 2),
        ("mimi na bestie yangu tunataka kusukwa mabutu", 2),
        ("mi na bro wangu tunataka cornrows", 2),
        (
            "i will be coming with my sister, i want a relaxer and she wants cornrows",
            2,
        ),
        ("for me and my sister", 2),
        ("mimi na binti yangu", 2),
        ("boss, mimi na dogo wangu tunataka cut kesho", 2),
        (
            "nataka kuleta binti yangu for cornrows na mimi nifanye relaxer, same time",
            2,
        ),
        ("can I bring my daughter for cornrows and me a relaxer", 2),
        ("wash and set for me na mama mkwe saturday 10am", 2),
        ("sisi wawili", 2),
        ("wote wawili", 2),
        ("two of us", 2),
        ("for two people", 2),
        ("braids for me and cornrows for my daughter", 2),
        ("nataka kusuka mimi na dada yangu kesho", 2),
        ("uh me and my friend want manicure", 2),
        ("my daughter and I need braids", 2),
        ("three of us", 3),
        ("sisi watatu", 3),
        ("me and my two daughters", 3),
        ("me, my sister and my mum", 3),
        ("tuko watatu", 3),
        ("watu wawili", 2),
        ("I want braids tomorrow at 2", 1),
        ("braids for my daughter", 1),
        ("nataka kusuka saa mbili", 1),
        ("can I come at two", 1),
        ("for 2pm", 1),
        ("manicure and pedicure", 1),
        ("me and a friend", 2),
        ("we are two", 2),
        ("sisi ni watatu", 3),
        ("for my two daughters", 2),
        ("for my daughter and my son", 2),
        ("my sister told me about you", 1),
        ("I'll come with my husband", 1),
        ("can I book braids with my daughter for me too", 2),
        ("mimi na mwanangu", 2),
        ("2 ladies", 2),
        ("kwa watu wawili", 2),
        ("hello uh yes i have two boys uh they both need haircuts", 2),
        ("i have three girls who need cornrows", 3),
        ("we need bridal hair for her and her sister at nine", 2),
        (
            "Niko na twins, wote wanataka cornrows na mimi nataka wash and set",
            3,
        ),
        (
            "I need bridal hair for me, and my two bridesmaids want cornrows",
            3,
        ),
        ("my daughter is 9 and we both want box braids", 2),
        ("can both of them come on saturday at eleven", 2),
        ("nina watoto watatu na nataka kuosha nywele", 1),
        ("hi can my daughter and i both get haircuts sat 11am", 2),
        (
            "boss, niko na bibi. mimi cut, yeye wash n set, sato saa tano",
            2,
        ),
        ("niko na booking ya box braids saturday", 1),
        ("hello uh this is for my wife she wants corn rose", 1),
        (
            "eeh nataka kuleta mabinti wangu wawili jumamosi wote wasukwe mabutu",
            2,
        ),
        (
            "I'm coming with my 2 daughters. I want a relaxer and the girls want cornrows",
            3,
        ),
        (
            "I want pedicure tomorrow at 10am and my sister Njambi wants eyebrows at the same time",
            2,
        ),
        ("nina watoto wawili wote wanataka kusukwa", 2),
        (
            "kesho nataka kuleta watoto wawili wasukwe mabutu, na mimi nifanye manicure. tunaweza kuja saa nne wote?",
            3,
        ),
        ("ok do u have 2 slots tmrw 11am? for me n my roommate", 2),
        ("hi uh me and my roommate want to get our eyebrows done", 2),
        (
            "I want to book my mum for a relaxer and me for box braids this saturday",
            2,
        ),
        ("book my mum for a relaxer on saturday", 1),
        ("sasa, mimi na beste tunataka kuja jumamosi", 2),
        (
            "Mimi na mjukuu wangu tunataka kuja Jumatano. Mimi nataka usafi wa uso, yeye anataka kutengenezwa kucha za mikono.",
            2,
        ),
        (
            "my daughter is getting married on 15th june. i need bridal hair for her and a facial for me, both at 9am",
            2,
        ),
        ("i want to book braids for her on friday", 1),
        (
            "Nataka kuleta wajukuu wawili wasukwe mabutu jumamosi saa tano asubuhi, wakati mmoja",
            2,
        ),
        (
            "Sasa, ma-boys wangu wawili wanataka kukatwa nywele monday",
            2,
        ),
        (
            "nataka kuja Jumamosi hii na watoto wawili. Mimi nataka manicure, msichana mkubwa cornrows na mdogo pia cornrows",
            3,
        ),
    ];
    for (text, want) in cases {
        assert_eq!(party_size(&Tokens::new(text)), *want, "{text}");
    }
}
