//! Turns about a booking the customer already has, caught before the
//! step handles the turn: "what time is my appointment?", "can we do my
//! facial on Thursday instead", "same as last time", "make it 12 instead"
//! right after a booking, "MOVE" after a reminder.

use super::*;
use crate::core::dialog::intent::lexicon::is_word;

impl Dialog<'_> {
    /// Whether a turn from no flow speaks of their own bookings: asks
    /// about them, refers to them, or cancels or moves one it names.
    pub(super) fn about_their_bookings(&self, u: &Understood, step: &Step) -> bool {
        let owned = || self.owned_service(u).is_some();
        matches!(step, Step::Idle)
            && !u.intents.contains(Intent::Human)
            && !u.intents.contains(Intent::Abuse)
            && (asks_about_existing(&u.tokens)
                || refers_to_existing(&u.tokens)
                || ((u.intents.contains(Intent::Cancel)
                    || u.intents.contains(Intent::Reschedule)
                    || asks_when_it_is(&u.tokens))
                    && owned()))
    }

    /// Starts what such a turn asks for; false when the turn is not one.
    pub(super) fn existing_shortcut(
        &mut self,
        u: &Understood,
        step: &Step,
        primary: Option<Intent>,
    ) -> bool {
        // A threat or a request for a person wins over anything said of
        // their bookings ("mkinichezea tena kama last time nitakuja hapo
        // nivunje kila kitu").
        if u.intents.contains(Intent::Abuse) || u.intents.contains(Intent::Human) {
            return false;
        }
        // "I booked locs for Saturday but forgot the time": what they have.
        // "hi its about my box braids on saturday": what they have first.
        let about_mine = refers_to_existing(&u.tokens)
            && u.tokens
                .has_any(&["about my", "regarding my", "concerning my", "kuhusu"])
            && (u.service.is_some() || !u.services.is_empty())
            && !u.intents.contains(Intent::Human)
            && !u.intents.contains(Intent::Abuse);
        // "what time is my facial this week?", "relaxer yangu kesho ni saa
        // ngapi?": when their own service is.
        let asks_own = asks_when_it_is(&u.tokens) && self.owned_service(u).is_some();
        // "ile facial yangu ya jumanne", "hiyo relaxer yangu": one of theirs
        // pointed at, with nothing asked for yet.
        let pointed_at = matches!(self.owned_service(u), Some((_, Owned::Possessed)))
            && u.tokens.words().windows(2).any(|w| {
                is_word(&w[0], "ile, hiyo, hio, hii, that")
                    && u.services.len() <= 1
                    && !services_mentioned(
                        &Tokens::from_words(vec![w[1].clone()]),
                        &self.config.catalog.services,
                    )
                    .is_empty()
            })
            && !u.intents.contains(Intent::Book)
            && !u
                .tokens
                .has_any(&["nataka", "want", "need", "book", "weka", "ningependa"]);
        // "when is my wash n set? and can my sister come at the same time":
        // hers is booked with it (which says when theirs is).
        if (asks_about_existing(&u.tokens) || about_mine || asks_own || pointed_at)
            && !in_booking(step)
            && self.someone_else_beside_theirs(u).is_none()
            && !u.intents.contains(Intent::Cancel)
            && !u.intents.contains(Intent::Reschedule)
        {
            self.start_existing(ExistingPurpose::Check, u);
            return true;
        }
        // "can we do my facial on Thursday instead of tomorrow": a change
        // of a booking the customer has, named by its service.
        // While a new booking is under way, "could we make it a manicure
        // instead? my feet were done last week" changes that booking.
        let moves_own_service = (u.service.is_some() || !u.services.is_empty())
            && u.tokens.has_any(&["my", "yangu", "zangu", "wangu"])
            && (!in_booking(step) || refers_to_existing(&u.tokens))
            && (u.tokens.has_any(&["instead", "badala", "move", "change"])
                || (0..u.tokens.len()).any(|i| is_move_verb(u.tokens.words(), i)))
            && !u.intents.contains(Intent::Cancel);
        if moves_own_service && !u.intents.contains(Intent::Reschedule) {
            self.start_existing(ExistingPurpose::Reschedule, u);
            return true;
        }
        // "nataka ile kitu nilifanya last time", "the usual": book again what
        // they had last.
        // "need my retwist again, same time as last time but this
        // saturday": that service, at the time of the last one.
        let time_as_last = u.tokens.has_any(&[
            "same time as last",
            "same time like last",
            "same time as the last",
            "same time as before",
            "same time kama last",
            "saa ile ile kama mara ya mwisho",
            "saa ile ile kama last",
            "saa ileile kama mara ya mwisho",
        ]);
        if matches!(step, Step::Idle | Step::ChooseService(_))
            && (time_as_last || (u.service.is_none() && u.services.is_empty()))
            && (time_as_last
                || u.tokens.has_any(&[
                    "same as last time",
                    "same thing as last time",
                    "same as before",
                    "what i had last time",
                    "what i did last time",
                    "the usual",
                    "my usual",
                    "kama kawaida",
                    "kama last time",
                    "kama mara ya mwisho",
                    "nilifanya last time",
                    "nilifanya mara ya mwisho",
                    "nilifanyiwa last time",
                    "nilifanyiwa mara ya mwisho",
                    "ile kitu nilifanya",
                    "ile ya last time",
                    "ile ya mara ya mwisho",
                    "kama ile ya last time",
                ]))
        {
            self.start_existing(ExistingPurpose::Again, u);
            return true;
        }
        // "sorry can we make it 12 instead", "make it a pedicure instead"
        // right after a booking: a change of the one just booked.
        // "No wait. Friday same time.", "aii sorry, saa nane": a day or
        // time corrected at once is a change too.
        let corrects = u.tokens.words().first().is_some_and(|w| {
            is_word(
                w,
                "no, wait, sorry, actually, oops, aii, ai, hapana, ngoja, pole, samahani, oh",
            )
        }) && !u.when.is_empty()
            && u.service.is_none()
            && u.services.is_empty();
        if let Some(id) = self.state.just_booked
            && matches!(step, Step::Idle)
            && !u.intents.contains(Intent::Cancel)
            && !u.intents.contains(Intent::Human)
            && !u.intents.contains(Intent::Abuse)
            && !refers_to_existing(&u.tokens)
            && (corrects
                || u.tokens.has_any(&[
                    "make it",
                    "instead",
                    "change it",
                    "move it",
                    "rather",
                    "iwe",
                    "badala",
                    "ibadilishe",
                    "tubadilishe",
                    "ihamishe",
                    "isogeze",
                ]))
        {
            let when = if u.when.is_empty() {
                bare_hour_change(&u.tokens).map_or(When::default(), |t| When {
                    time: Some(t),
                    ..When::default()
                })
            } else {
                u.when
            };
            // "badala ya box braids nataka pedicure": the one named after.
            let swap_to = match self.swap_parts(u) {
                (_, Some(new)) => Some(new),
                (old, None) => old,
            };
            let shift = u.shift;
            if !when.is_empty() || swap_to.is_some() || shift.is_some() {
                self.state.reminded = Some(id);
                self.state.cancel_queue.clear();
                self.act(Action::ListUpcoming);
                self.state.step = Step::AwaitUpcoming(AwaitUpcoming {
                    all: false,
                    purpose: ExistingPurpose::Reschedule,
                    when,
                    identify: When::default(),
                    service: None,
                    same_time: same_time(&u.tokens),
                    shift,
                    swap_to,
                    same_staff: false,
                    kind: Vec::new(),
                    add_after: None,
                    add_before: false,
                    add_more: Vec::new(),
                    add_with: false,
                    staff: None,
                });
                return true;
            }
        }
        // "MOVE" answering a reminder ("reply CANCEL or MOVE"): a change of
        // the reminded appointment.
        if self.state.reminded.is_some()
            && !matches!(
                primary,
                Some(Intent::Cancel | Intent::Reschedule | Intent::Human | Intent::Abuse)
            )
            && u.tokens
                .has_any(&["move", "hamisha", "sogeza", "badilisha", "change"])
        {
            self.start_existing(ExistingPurpose::Reschedule, u);
            return true;
        }
        false
    }
}
