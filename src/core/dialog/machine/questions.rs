//! Questions in the middle of anything: prices, services, knowledge snippets; then resume.

use super::*;

impl Dialog<'_> {
    // ---- questions -----------------------------------------------------

    pub(super) fn answer(&mut self, q: Intent, u: &Understood, resume: Step) {
        let lang = self.state.lang;
        match q {
            Intent::AskPrices | Intent::AskServices => {
                if let (Intent::AskPrices, Some(id)) = (q, u.service)
                    && let Some(s) = self.config.catalog.service(id).cloned()
                {
                    let name = s.display_name(lang);
                    self.say(match lang {
                        Lang::En => format!(
                            "{name} is {} and takes about {}.",
                            say::money(s.price),
                            say::duration(lang, s.duration_min)
                        ),
                        Lang::Sw => format!(
                            "{name} ni {}, na huchukua takriban {}.",
                            say::money(s.price),
                            say::duration(lang, s.duration_min)
                        ),
                    });
                    if self.config.personality.upsell == Upsell::Active {
                        self.cross_sell(&s);
                    }
                    if matches!(resume, Step::Idle) {
                        self.say(t(
                            lang,
                            "Would you like to book it?",
                            "Ungependa kuweka miadi?",
                        ));
                        self.yes_no_choices();
                        self.state.step = Step::ChooseService(ChooseService {
                            when: u.when,
                            staff: u.staff,
                            offered: vec![id],
                        });
                        return;
                    }
                    self.resume(resume);
                    return;
                }
                self.say(t(lang, "Here is what we offer:", "Hizi ni huduma zetu:"));
                let ids: Vec<Uuid> = self.config.catalog.services.iter().map(|s| s.id).collect();
                if matches!(resume, Step::Idle) {
                    self.offer_services(&ids);
                    self.say(t(
                        lang,
                        "Would you like to book one of them?",
                        "Ungependa kuweka miadi ya mojawapo?",
                    ));
                    self.state.step = Step::ChooseService(ChooseService {
                        when: u.when,
                        staff: u.staff,
                        offered: ids,
                    });
                } else {
                    let lines: Vec<String> = self
                        .config
                        .catalog
                        .services
                        .iter()
                        .map(|s| format!("{} ({})", s.display_name(lang), say::money(s.price)))
                        .collect();
                    self.say(lines.join("; ") + ".");
                    self.resume(resume);
                }
            }
            Intent::AskHours | Intent::AskLocation | Intent::AskOther => {
                let categories = match q {
                    Intent::AskHours => vec!["hours".to_owned()],
                    Intent::AskLocation => vec![
                        "location".to_owned(),
                        "general".to_owned(),
                        "other".to_owned(),
                    ],
                    // Every active category.
                    _ => Vec::new(),
                };
                self.act(Action::FetchKnowledge { categories });
                self.state.step = Step::AwaitKnowledge(AwaitKnowledge {
                    question: q,
                    words: u.tokens.words().to_vec(),
                    resume: Box::new(resume),
                });
            }
            _ => self.resume(resume),
        }
    }

    pub(super) fn on_knowledge(&mut self, a: AwaitKnowledge, snippets: Vec<Snippet>) {
        let lang = self.state.lang;
        let chosen = pick_snippets(a.question, &a.words, lang, &snippets);
        if chosen.is_empty() {
            self.say(t(
                lang,
                "Sorry, I don't have that information. I can ask a member of our team to get back to you; just say \"talk to a person\".",
                "Samahani, sina taarifa hiyo. Naweza kumwomba mfanyakazi wetu akujibu; sema tu \"nataka kuongea na mtu\".",
            ));
        } else {
            for s in chosen {
                self.say(s.body.trim().to_owned());
            }
        }
        self.resume(*a.resume);
    }

    /// Goes back to the step a question interrupted, reminding the customer
    /// where we were.
    pub(super) fn resume(&mut self, step: Step) {
        let lang = self.state.lang;
        match &step {
            Step::ChooseSlot(s) if !s.offered.is_empty() => {
                self.say(t(
                    lang,
                    "Now, which of the times I offered suits you?",
                    "Sasa, muda upi kati ya niliyotaja unakufaa?",
                ));
                for (i, slot) in s.offered.iter().enumerate() {
                    self.pending_choices.push(Choice {
                        id: format!("slot_{i}"),
                        title: say::slot_title(lang, self.config.tz, slot.start),
                        description: None,
                    });
                }
            }
            Step::ConfirmSlot(_) | Step::ConfirmCancel(_) => {
                self.say(t(lang, "Shall I go ahead?", "Niendelee?"));
                self.yes_no_choices();
            }
            Step::ChooseService(_) => self.say(t(
                lang,
                "Which service would you like to book?",
                "Ungependa kuweka miadi ya huduma gani?",
            )),
            _ => {}
        }
        self.state.step = step;
    }
}

/// The snippets that answer the question, in the customer's language first
/// (English snippets are fine in a Swahili answer), at most two.
pub(super) fn pick_snippets<'s>(
    question: Intent,
    words: &[String],
    lang: Lang,
    snippets: &'s [Snippet],
) -> Vec<&'s Snippet> {
    const LOCATION: &[&str] = &[
        "location",
        "located",
        "address",
        "where",
        "directions",
        "find",
        "wapi",
        "mahali",
        "tulipo",
        "anwani",
        "street",
        "road",
        "floor",
        "building",
        "plaza",
        "mtaa",
        "barabara",
    ];
    const STOP: &[&str] = &[
        "the", "a", "an", "you", "do", "does", "is", "are", "your", "what", "how", "can", "i",
        "je", "ni", "na", "ya", "mna", "kuna", "to", "of", "for", "in", "on", "we", "me", "my",
    ];
    let lang_rank = |s: &Snippet| {
        if s.language.eq_ignore_ascii_case(lang.code()) {
            0
        } else {
            1
        }
    };
    let mut scored: Vec<(i32, &Snippet)> = snippets
        .iter()
        .filter_map(|s| {
            let text = Tokens::new(&format!("{} {} {}", s.category, s.title, s.body));
            let score = match question {
                Intent::AskHours => 10,
                Intent::AskLocation if s.category == "location" => 10,
                Intent::AskLocation => LOCATION.iter().filter(|w| text.has(w)).count() as i32,
                _ => words
                    .iter()
                    .filter(|w| w.chars().count() >= 3 && !STOP.contains(&w.as_str()))
                    .filter(|w| text.has(w))
                    .count() as i32,
            };
            (score > 0).then_some((score, s))
        })
        .collect();
    // Prefer the customer's language when it has an answer; English
    // snippets answer Swahili questions otherwise.
    if scored.iter().any(|(_, s)| lang_rank(s) == 0) {
        scored.retain(|(_, s)| lang_rank(s) == 0);
    }
    scored.sort_by_key(|(score, _)| -score);
    let keep = if question == Intent::AskHours { 2 } else { 1 };
    let out: Vec<&Snippet> = scored.into_iter().take(keep).map(|(_, s)| s).collect();
    out
}
