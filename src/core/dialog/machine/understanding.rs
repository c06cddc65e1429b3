//! What one turn says: intents, day and time, services, staff, the people
//! it is for, a name, a choice among offered items ([`Understood`]), read
//! once before any step handles it.

use super::*;

impl Dialog<'_> {
    pub(super) fn understand(&self, turn: &Turn, tokens: Tokens) -> Understood {
        let mut intents = classify(&tokens);
        let mut when = parse_when(&tokens, turn.now, self.config.tz);
        // "isogeze na saa moja": an amount to move by, not 07:00.
        let shift = shift_minutes(&tokens);
        if shift.is_some() {
            when.time = None;
        }
        // "done before 12:30": an end, not a start.
        let done_by = done_by(&tokens, turn.now, self.config.tz);
        if done_by.is_some() {
            when.time = None;
        }
        let services = &self.config.catalog.services;
        // A word a service match has taken asks for no person: "a manage
        // cure" (Manicure, as a recogniser splits it) is not "the manager".
        if intents.contains(Intent::Human) {
            let taken = service_words(&tokens, services);
            let rest: Vec<String> = (0..tokens.len())
                .filter(|i| !taken.contains(i))
                .map(|i| tokens.at(i).to_owned())
                .collect();
            if !taken.is_empty() && !classify(&Tokens::from_words(rest)).contains(Intent::Human) {
                intents = intents.without(Intent::Human);
            }
        }
        let for_services = without_events(&tokens);
        let service = clear_service(&for_services, services);
        let service_candidates = match_services(&for_services, services)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let name = stated_name(&tokens, &turn.text).or_else(|| {
            let old = self.state.name.as_deref()?;
            corrected_name(&tokens, old, &turn.text)
        });
        // The customer's own name is not a staff member ("my name is
        // Wanjiru" is not "with Wanjiku").
        // The name given earlier neither ("yes, Nyambura Kamau here" is not
        // Wanjiku Kamau), unless asked for as the stylist ("with Kamau").
        let said: Vec<String> = name
            .iter()
            .flat_map(|n| n.split_whitespace())
            .map(str::to_lowercase)
            .collect();
        let earlier: Vec<String> = self
            .state
            .name
            .iter()
            .flat_map(|n| n.split_whitespace())
            .map(str::to_lowercase)
            .collect();
        let words = tokens.words();
        let rest: Vec<String> = (0..words.len())
            .filter(|&i| {
                let asked_for = i > 0 && matches!(words[i - 1].as_str(), "with" | "na" | "by");
                !said.contains(&words[i]) && (asked_for || !earlier.contains(&words[i]))
            })
            .map(|i| words[i].clone())
            .collect();
        let staff = match_staff(&Tokens::from_words(rest), &self.config.catalog.staff);
        let party = match party_size(&tokens) {
            1 if each_their_own(tokens.words(), services) => 2,
            n => n,
        };
        let mut services_named = services_mentioned(&for_services, services);
        // "a gel no sorry a normal manicure": the service after the
        // correction replaces the one before it.
        let mut service = service;
        if let Some((start, end)) = last_correction(tokens.words()) {
            let words = tokens.words();
            let after = Tokens::from_words(words[end..].to_vec());
            let named_after = services_mentioned(&after, services);
            // "braids today, cornrows i mean, at 10": with none after it,
            // the one right before the correction replaces those before.
            let right_before = nearest_named(words, start, true, services);
            if !named_after.is_empty() {
                service = clear_service(&after, services).or(named_after.first().copied());
                services_named = named_after;
            } else if services_named.len() >= 2 && right_before.len() == 1 {
                service = right_before.first().copied();
                services_named = right_before;
            }
        }
        if party == 1 {
            services_named = with_the_rest(&tokens, services_named, &self.state.context.services);
        }
        // "my two bridesmaids want cornrows", "twins wote cornrows na mimi
        // wash": more people than services, so the group's service (the
        // first named after the group) once for each of them.
        if usize::from(party) > services_named.len()
            && services_named.len() >= 2
            && let Some(group) = group_start(&tokens)
        {
            let after = Tokens::from_words(tokens.words()[group..].to_vec());
            // "… na watoto wawili. Mimi manicure, msichana mkubwa cornrows
            // na mdogo pia cornrows": the one named again after the group
            // is theirs.
            let named_again = services_named
                .iter()
                .copied()
                .find(|id| mention_count(after.words(), *id, services) >= 2);
            if let Some(shared) =
                named_again.or_else(|| services_mentioned(&after, services).first().copied())
                && let Some(at) = services_named.iter().position(|s| *s == shared)
            {
                while services_named.len() < usize::from(party) {
                    services_named.insert(at, shared);
                }
            }
        }
        // Emoji answers (👍, 👎) too: the tokens drop them.
        let assent = assent_text(&turn.text);
        let choice = turn
            .choice_id
            .clone()
            .map(ChoiceRef::Id)
            .or_else(|| {
                turn.dtmf
                    .as_deref()
                    .and_then(|d| d.trim().parse::<usize>().ok())
                    .filter(|n| *n >= 1)
                    .map(|n| ChoiceRef::Index(n - 1))
            })
            .or_else(|| {
                // "the twenty third at ten" is a date, not the third offer;
                // "2nd" or "3rd" alone is an offer.
                let alone = tokens.len() <= 2
                    && tokens.words().iter().any(|w| {
                        matches!(
                            w.as_str(),
                            "1st" | "2nd" | "3rd" | "first" | "second" | "third"
                        )
                    });
                ((when.date.is_none() && when.time.is_none()) || alone)
                    .then(|| ordinal_choice(&tokens))
                    .flatten()
            });
        Understood {
            tokens,
            intents,
            when,
            service,
            service_candidates,
            services: services_named,
            party,
            assent,
            name,
            rewritten: turn.force_language.is_some(),
            shift,
            done_by,
            staff,
            choice,
        }
    }

    /// "the tuesday after (that)", "jumanne inayofuata": that weekday
    /// after the date the step is about.
    pub(super) fn day_after_the_one_discussed(
        &self,
        step: &Step,
        tokens: &Tokens,
    ) -> Option<chrono::NaiveDate> {
        use chrono::Datelike;
        let tz = self.config.tz;
        let discussed = match step {
            // The day asked for (a closed one too), else the offered one.
            Step::ChooseSlot(s) => s.when.date.or_else(|| {
                s.offered
                    .first()
                    .map(|o| o.start.with_timezone(&tz).date_naive())
            }),
            Step::ConfirmSlot(c) => Some(c.slot.start.with_timezone(&tz).date_naive()),
            _ => None,
        }?;
        let words = tokens.words();
        let at = (0..words.len()).find(|&i| {
            let next = words.get(i + 1).map_or("", String::as_str);
            let prev = if i > 0 { words[i - 1].as_str() } else { "" };
            crate::core::dialog::lexicon::weekday(&words[i]).is_some()
                && (matches!(next, "after" | "inayofuata" | "baadaye") || prev == "following")
        })?;
        let want = crate::core::dialog::lexicon::weekday(&words[at])?;
        (1..=7)
            .map(|n| discussed + Duration::days(n))
            .find(|d| d.weekday() == want)
    }
}

/// The words a service is looked for in: a wedding the customer goes to
/// ("coming for a wedding", "niko na harusi ya cuzo") is an occasion, not
/// Bridal Hair; "bridal hair", "nywele za harusi", "bibi harusi" stay.
fn without_events(tokens: &Tokens) -> Tokens {
    let words = tokens.words();
    if tokens.has_any(&[
        "bridal",
        "bride",
        "bibi harusi",
        "za harusi",
        "ya harusi nywele",
    ]) {
        return tokens.clone();
    }
    let occasion = |i: usize| {
        let prev = if i > 0 { words[i - 1].as_str() } else { "" };
        let next = words.get(i + 1).map_or("", String::as_str);
        matches!(words[i].as_str(), "wedding" | "weddings" | "harusi")
            && (matches!(
                prev,
                "a" | "the"
                    | "my"
                    | "our"
                    | "ya"
                    | "kwa"
                    | "na"
                    | "to"
                    | "for"
                    | "cousin"
                    | "cuzo"
                    | "sister"
                    | "friend"
                    | "friends"
                    | "brother"
                    // "my sister's wedding"
                    | "s"
            ) || matches!(next, "ya" | "of" | "on" | "party" | "jumapili" | "jumamosi"))
    };
    Tokens::from_words(
        (0..words.len())
            .filter(|&i| !occasion(i))
            .map(|i| words[i].clone())
            .collect(),
    )
}

/// "earliest u got?", "next available", "nafasi ya kwanza": the first free
/// time asked for; "whats the latest i can come?", "nafasi ya mwisho": the
/// last ("at the latest" and "by 5 latest" set a limit instead).
pub(super) fn asks_extreme(tokens: &Tokens) -> Option<Extreme> {
    if tokens.has_any(&[
        "latest",
        "last slot",
        "last appointment",
        "last time you have",
        "last time u have",
        "as late as possible",
        "late as possible",
        "nafasi ya mwisho",
        "saa ya mwisho",
        "mwisho mwisho",
    ]) && !tokens.has_any(&["at the latest", "at latest", "the latest by"])
        && !tokens.words().iter().enumerate().any(|(i, w)| {
            w == "latest" && i > 0 && tokens.words()[i - 1].chars().any(|c| c.is_ascii_digit())
        })
    {
        return Some(Extreme::Latest);
    }
    tokens
        .has_any(&[
            "earliest",
            "soonest",
            "first available",
            "next available",
            "as early as possible",
            "as soon as possible",
            "asap",
            "mapema zaidi",
            "mapema kabisa",
            "nafasi ya kwanza",
            "ya mapema zaidi",
        ])
        .then_some(Extreme::Earliest)
}

/// How many times the words name `id`: runs of words each of which names
/// it alone ("cornrows … na mdogo pia cornrows" twice).
fn mention_count(words: &[String], id: Uuid, services: &[ServiceInfo]) -> usize {
    let names = |w: &String| {
        services_mentioned(&Tokens::from_words(vec![w.clone()]), services).contains(&id)
    };
    let mut runs = 0;
    let mut inside = false;
    for w in words {
        let hit = names(w);
        if hit && !inside {
            runs += 1;
        }
        inside = hit;
    }
    runs
}

/// "mimi retwist ya dredi, yeye cut", "Mimi nataka usafi wa uso, yeye
/// anataka kucha": a service right after "mimi" and another right after
/// "yeye" (not "iwe yeye tena", the same stylist again).
fn each_their_own(words: &[String], services: &[ServiceInfo]) -> bool {
    let names_after = |pronoun: &str| {
        words.iter().enumerate().any(|(i, w)| {
            w == pronoun
                && !services_mentioned(
                    &Tokens::from_words(words[i + 1..words.len().min(i + 5)].to_vec()),
                    services,
                )
                .is_empty()
        })
    };
    names_after("mimi") && names_after("yeye")
}
