//! A turn from no flow: their own bookings named or added to, a new
//! booking, a greeting, a question, thanks.

use super::*;
use crate::core::dialog::names::is_person;

impl Dialog<'_> {
    /// `add` booked beside one of theirs (`theirs`, or the one just told):
    /// after it, before it or, for someone else, with it; at `time` if
    /// said.
    pub(super) fn add_after_theirs(
        &mut self,
        theirs: Option<Uuid>,
        add: Uuid,
        time: Option<NaiveTime>,
        day: Option<chrono::NaiveDate>,
        beside: Beside,
    ) {
        self.act(Action::ListUpcoming);
        self.state.step = Step::AwaitUpcoming(AwaitUpcoming {
            all: false,
            purpose: ExistingPurpose::Check,
            when: When {
                time,
                ..When::default()
            },
            identify: When {
                date: day,
                ..When::default()
            },
            service: theirs,
            same_time: false,
            shift: None,
            swap_to: None,
            same_staff: false,
            kind: Vec::new(),
            add_after: Some(add),
            add_before: beside == Beside::Before,
            add_more: Vec::new(),
            add_with: beside == Beside::With,
            staff: None,
        });
    }

    pub(super) fn idle(&mut self, turn: &Turn, u: &Understood) -> bool {
        let lang = self.state.lang;
        // A continuation left by an earlier turn whose booking was dropped
        // does not outlive it.
        self.state.after_write = None;
        let wants_booking = u.intents.contains(Intent::Book)
            || u.service.is_some()
            // "I wud like a pedicur and manicur on thurday at 10am pls. Thanx"
            || !u.services.is_empty()
            || (!u.when.is_empty() && !u.intents.contains(Intent::Thanks));
        // "I have a manicure booked on Thursday", "i have a haircut on
        // wednesday", "niko na relaxer kesho saa tano": about that booking.
        // "niko na booking ya box braids saturday, can you add eyebrow
        // shaping after the braids?": the first named is theirs, the other
        // is booked right after it.
        // "can i add a pedicure at 1pm after my braids on saturday?": the
        // one after "after my" is theirs too.
        // "i want to book a pedicure on thursday right after my facial",
        // "nataka pia nyusi jumamosi baada ya relaxer yangu": after theirs.
        // "can my daughter also get a haircut at the same time as mine on
        // sat?", "binti yangu anataka kusukwa mabutu wakati ule ule wa
        // dreadlocks zangu", "can she get a facial while im doing my
        // pedicure?", "niko na facial wednesday saa nane. can i add my
        // friend a facial same time?": someone else's, beside theirs.
        if let Some((theirs, add)) = self.someone_else_beside_theirs(u) {
            self.add_after_theirs(theirs, add, u.when.time, u.when.date, Beside::With);
            return true;
        }
        let right_after_mine =
            u.tokens
                .has_any(&["after my", "baada ya", "after ma", "kabla ya", "nikimaliza"]);
        let after_mine = right_after_mine || u.tokens.has_any(&["before my", "with my"]);
        let owned = self
            .owned_service(u)
            .filter(|(_, how)| *how == Owned::Stated || after_mine)
            .map(|(id, _)| id);
        if (refers_to_existing(&u.tokens) || owned.is_some())
            && (new_time::adds_after(&u.tokens) || (owned.is_some() && right_after_mine))
        {
            let theirs = owned.or(u.services.first().copied());
            if let Some(theirs) = theirs
                && let Some(add) = u.services.iter().copied().find(|s| *s != theirs)
            {
                // The time said after the adding word is the new one's.
                let words = u.tokens.words();
                let from = (0..words.len())
                    .find(|&i| new_time::adds_after(&Tokens::from_words(vec![words[i].clone()])))
                    .unwrap_or(words.len());
                let now = self.state.now.unwrap_or_default();
                let asked = parse_when(
                    &Tokens::from_words(words[from..].to_vec()),
                    now,
                    self.config.tz,
                );
                let beside = Beside::after_or_before(&u.tokens);
                self.add_after_theirs(Some(theirs), add, asked.time, u.when.date, beside);
                // "can i also get a mani pedi?": the others after it.
                if let Step::AwaitUpcoming(a) = &mut self.state.step {
                    a.add_more = u
                        .services
                        .iter()
                        .copied()
                        .filter(|s| *s != theirs && *s != add)
                        .collect();
                }
                return true;
            }
        }
        // "You have: Manicure on Wednesday at 14:00." — "ok can I add a
        // pedicure right after it?": after the one just told (or just
        // booked: "oh wait can i also add a pedicure right after?").
        let told = self.state.reminded.or(self.state.just_booked);
        if told.is_some()
            && new_time::adds_after(&u.tokens)
            && u.tokens.has_any(&[
                "after it",
                "after that",
                "right after",
                "straight after",
                "baada yake",
                "baada ya hiyo",
                "baada ya hio",
                "baada ya hapo",
                "baadae",
                "baadaye",
                "before it",
                "right before",
            ])
            && let Some(add) = u.services.first().copied().or(u.service)
        {
            self.state.reminded = told;
            self.add_after_theirs(
                None,
                add,
                u.when.time,
                None,
                Beside::after_or_before(&u.tokens),
            );
            return true;
        }
        let stated = !u.when.is_empty()
            && !u.intents.contains(Intent::Book)
            && !u
                .tokens
                .has_any(&["also", "pia", "too", "another", "ingine", "nyingine"])
            && matches!(self.owned_service(u), Some((_, Owned::Stated)));
        // "i need my gel nails earlier, can we do wednesday": theirs, moved.
        // "i have box braids on saturday at 8. can i come at 10 instead?",
        // "jumatano naweza kuja mapema kidogo? kama saa tatu" with theirs
        // named: theirs, moved.
        let moves_theirs = match self.owned_service(u) {
            Some((_, Owned::Possessed)) => existing::wants_it_moved(&u.tokens),
            Some((_, Owned::Stated)) => {
                existing::wants_it_moved(&u.tokens)
                    || u.tokens
                        .has_any(&["instead", "badala", "come at", "kuja saa"])
            }
            None => false,
        };
        if refers_to_existing(&u.tokens) || stated || moves_theirs {
            self.start_existing(ExistingPurpose::Reschedule, u);
            return true;
        }
        if wants_booking {
            if u.intents.contains(Intent::Greeting) && !self.state.greeted {
                self.state.greeted = true;
                self.say(Msg::Hello.text(lang));
            }
            // "pedicure Wednesday 11am, and a haircut Friday 4pm": one plan,
            // each service at its own day and time.
            if let Some((first, second)) = self.split_by_day(u) {
                self.book_clauses(u, first, second);
                return true;
            }
            self.start_booking(u, u.when, u.staff);
            return true;
        }
        match u.intents.primary() {
            Some(Intent::Greeting) => {
                self.greet(turn);
                true
            }
            Some(Intent::Thanks) => {
                self.say(Msg::YoureWelcome.text(lang));
                true
            }
            Some(Intent::Yes | Intent::No) => {
                self.say(Msg::HowCanIHelp.text(lang));
                true
            }
            _ if u.name.is_some() => {
                let name = u.name.clone().unwrap_or_default();
                self.state.greeted = true;
                self.say(match lang {
                    Lang::En => format!("Nice to meet you, {name}! How can I help you today?"),
                    Lang::Sw => format!("Karibu sana, {name}! Nikusaidie vipi leo?"),
                });
                true
            }
            _ => {
                if !self.state.greeted && u.tokens.is_empty() {
                    self.greet(turn);
                    return true;
                }
                self.not_understood();
                false
            }
        }
    }

    /// Someone else's service at the same start as one of the customer's
    /// own: theirs (when named) and the one to add.
    pub(super) fn someone_else_beside_theirs(
        &self,
        u: &Understood,
    ) -> Option<(Option<Uuid>, Uuid)> {
        let t = &u.tokens;
        if u.intents.contains(Intent::Reschedule) || u.intents.contains(Intent::Cancel) {
            return None;
        }
        let alongside = t.has_any(&[
            "same time",
            "while i",
            "while im",
            "wakati ule ule",
            "wakati uleule",
            "wakati huo huo",
            "wakati huohuo",
            "saa ile ile",
        ]);
        if !alongside || !t.words().iter().any(|w| is_person(w)) {
            return None;
        }
        let owned = self.owned_service(u).map(|(id, _)| id);
        let mine = owned.is_some()
            || t.has_any(&[
                "as mine",
                "as me",
                "as my",
                "with mine",
                "while i",
                "while im",
                "kama yangu",
                "kama zangu",
                "kama mimi",
            ]);
        if !mine {
            return None;
        }
        // The one named that is not theirs; one service named for both.
        let named: Vec<Uuid> = u.services.iter().copied().chain(u.service).collect();
        let add = named
            .iter()
            .copied()
            .find(|s| Some(*s) != owned)
            .or(named.first().copied())?;
        Some((owned, add))
    }

    pub(super) fn greet(&mut self, turn: &Turn) {
        self.state.greeted = true;
        // The name said in the conversation first; the channel's profile
        // name only as a fallback.
        let name = self.state.name.as_deref().or(turn.customer.name.as_deref());
        let text = greeting(
            &self.config.personality,
            self.state.lang,
            &self.config.catalog.business_name,
            name,
            self.state.channel,
        );
        self.say(text);
    }
}
