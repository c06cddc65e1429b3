//! Cancelling their appointments: the confirmation, one or several at once,
//! and what follows the write; which of the services named is kept.

use super::*;

impl Dialog<'_> {
    pub(super) fn confirm_cancel(&mut self, u: &Understood, ap: AppointmentSummary) -> bool {
        // "hapana usifute", "no don't cancel it": a refusal wins; "yes
        // cancel it" is a yes here even though "cancel" refuses elsewhere.
        // "sitaki kufuta", "sijasema nifute", "instead of cancelling can I
        // come Saturday?": the word is there, the wish is not.
        let negated = u.tokens.has_any(&[
            "sitaki kufuta",
            "sitaki ifutwe",
            "sitaki uifute",
            "sijasema",
            "sikusema",
            "instead of cancel",
            "instead of cancelling",
            "rather than cancel",
            "rather than cancelling",
            "badala ya kufuta",
            "badala ya kuifuta",
            "not to cancel",
            "don t cancel",
            "dont cancel",
            "do not cancel",
            "usicancel",
            "usi cancel",
            "msicancel",
            "usifute",
            "msifute",
        ]);
        let says_cancel = u.intents.contains(Intent::Cancel) && !negated;
        // "If I cancel will I be charged?", "nikifuta nitalipa?": a question.
        let first = u.tokens.words().first().map(String::as_str).unwrap_or("");
        let asks = (!says_cancel && u.intents.question().is_some())
            || matches!(
                first,
                "if" | "is" | "does" | "kama" | "je" | "nikifuta" | "nikicancel" | "ikiwa"
            );
        let leading_yes = assent(&Tokens::from_words(vec![first.to_owned()])) == Assent::Yes;
        // "ndio cancel, ile facial ibaki": another booking stays, this one
        // goes.
        let kept = kept_services(&u.tokens, &self.config.catalog.services);
        let local = ap.start.with_timezone(&self.config.tz);
        // "ndio icancel. ile ya ijumaa ibaki": another day's stays.
        let now = self.state.now.unwrap_or_default();
        let kept_day = parse_when(&kept_part(&u.tokens), now, self.config.tz).date;
        let other_kept = (!kept.is_empty() && !kept.contains(&ap.service_id))
            || kept_day.is_some_and(|d| d != local.date_naive());
        let keep_it = !other_kept
            && (negated
                || u.tokens.has_any(&[
                    "don t cancel",
                    "dont cancel",
                    "do not cancel",
                    "not cancel",
                    "no need to cancel",
                    "keep it",
                    "usifute",
                    "msifute",
                    "usiifute",
                    "usighairi",
                    "iache",
                    "iache tu",
                    "ibaki",
                    "wacha ibaki",
                    "i ll come",
                    "i will come",
                    "nitakuja",
                ]));
        // "inawezekana saa kumi na moja?", "tuweke saturday morning",
        // "instead of cancelling can I come Saturday?": another time moves it.
        let other_time = u.when.date.is_some_and(|d| d != local.date_naive())
            || u.when.time.is_some_and(|t| t != local.time())
            || (u.when.part.is_some() && u.when.date.is_none() && u.when.time.is_none());
        if !says_cancel && other_time {
            // "can i move it to friday same time instead?"
            let when = When {
                date: u.when.date.or(Some(local.date_naive())),
                time: u
                    .when
                    .time
                    .or((same_time(&u.tokens) && u.when.part.is_none()).then(|| local.time())),
                ..u.when
            };
            self.search(Purpose::Move(ap), ap.service_id, u.staff, when, false);
            return true;
        }
        if asks {
            self.answer_topics(&[Topic::Cancellation], u, Step::ConfirmCancel(ap), None);
            return true;
        }
        // "Ndio ifute, nitawapigia baadaye": a yes with the word of
        // cancelling is a cancel whatever is said of later.
        let refuses = keep_it
            || (u.assent == Assent::Hesitant && !(leading_yes && says_cancel))
            || (Self::is_no(u) && !says_cancel);
        if !refuses && (Self::is_yes(u) || says_cancel) {
            // "ndio. then nataka cornrows badala yake": another service
            // asked for in the same breath is booked after the cancel.
            let other_service = u
                .services
                .iter()
                .copied()
                .chain(u.service)
                .any(|s| s != ap.service_id);
            self.state.after_write = other_service.then(|| u.tokens.words().join(" "));
            self.act(Action::Cancel {
                appointment_id: ap.id,
            });
            self.state.step = Step::AwaitCancel(ap);
            return true;
        }
        if Self::is_no(u) {
            self.state.cancel_queue.clear();
            self.say(Msg::AppointmentKept.text(self.state.lang));
            self.state.step = Step::Idle;
            return true;
        }
        self.say(Msg::ConfirmCancelAgain.text(self.state.lang));
        self.yes_no_choices();
        self.state.step = Step::ConfirmCancel(ap);
        false
    }

    pub(super) fn on_cancelled(
        &mut self,
        ap: AppointmentSummary,
        result: Result<Uuid, WriteFailure>,
    ) {
        let lang = self.state.lang;
        match result {
            Ok(_) => {
                if self.state.just_booked == Some(ap.id) {
                    self.state.just_booked = None;
                }
                let what = self.describe(&ap);
                let mut text = match lang {
                    Lang::En => format!("Your {what} is cancelled."),
                    Lang::Sw => format!("{what} imefutwa."),
                };
                match self.config.personality.cancellation_tone {
                    CancellationTone::Understanding => {
                        text.push_str(&Msg::CancelledUnderstanding.text(lang))
                    }
                    CancellationTone::Neutral => {}
                    CancellationTone::Firm => text.push_str(&Msg::CancelledFirm.text(lang)),
                }
                self.say(text);
            }
            Err(_) => self.say(Msg::CancelFailed.text(lang)),
        }
        if !self.state.cancel_queue.is_empty() {
            let next = self.state.cancel_queue.remove(0);
            self.act(Action::Cancel {
                appointment_id: next.id,
            });
            self.state.step = Step::AwaitCancel(next);
            return;
        }
        self.state.step = Step::Idle;
        self.continue_after_write(result.is_ok(), ap.start);
    }

    /// "Cancel both": one question for all of them, or at once when the
    /// customer has already said yes to it.
    pub(super) fn confirm_cancel_all(&mut self, mut all: Vec<AppointmentSummary>, said_yes: bool) {
        let first = all.remove(0);
        self.state.cancel_queue = all;
        if said_yes {
            self.act(Action::Cancel {
                appointment_id: first.id,
            });
            self.state.step = Step::AwaitCancel(first);
            return;
        }
        let mut list = vec![self.describe(&first)];
        list.extend(self.state.cancel_queue.iter().map(|a| self.describe(a)));
        self.say(match self.state.lang {
            Lang::En => format!("Cancel all of these: {}?", list.join("; ")),
            Lang::Sw => format!("Nifute zote hizi: {}?", list.join("; ")),
        });
        self.yes_no_choices();
        self.state.step = Step::ConfirmCancel(first);
    }
}

/// The words without the part that says what stays ("naomba kucancel ile
/// ya kucha jumamosi. ile ya kesho ya mabutu ibaki tu": "kesho" names the
/// one kept, not the one to cancel): from a word that starts a clause
/// ("ile", "but", "lakini", …) up to six words before the word of staying,
/// through it; after "keep", three words.
pub(super) fn without_kept(tokens: &Tokens) -> Tokens {
    kept_or_not(tokens, false)
}

/// The part that says what stays ("ile ya ijumaa ibaki"): what
/// [`without_kept`] leaves out.
pub(super) fn kept_part(tokens: &Tokens) -> Tokens {
    kept_or_not(tokens, true)
}

fn kept_or_not(tokens: &Tokens, kept: bool) -> Tokens {
    let words = tokens.words();
    let mut drop = vec![false; words.len()];
    for (i, w) in words.iter().enumerate() {
        let (from, to) = match w.as_str() {
            _ if said_fine(words, i) => (i.saturating_sub(2), i + 2),
            w if stays(w) => {
                let from = (i.saturating_sub(6)..i)
                    .rev()
                    .find(|&j| {
                        matches!(
                            words[j].as_str(),
                            "ile" | "hiyo" | "hio" | "but" | "lakini" | "and" | "na" | "the"
                        )
                    })
                    .unwrap_or(i.saturating_sub(2));
                (from, i + 1)
            }
            "keep" => (i, words.len().min(i + 4)),
            _ => continue,
        };
        drop[from..to].iter_mut().for_each(|d| *d = true);
    }
    Tokens::from_words(
        (0..words.len())
            .filter(|&i| drop[i] == kept)
            .map(|i| words[i].clone())
            .collect(),
    )
}

/// "locs ziko sawa", "the haircut is fine": said to be fine as it is.
fn said_fine(words: &[String], i: usize) -> bool {
    matches!(words[i].as_str(), "iko" | "ziko" | "is" | "are")
        && words.get(i + 1).is_some_and(|n| {
            matches!(
                n.as_str(),
                "sawa" | "fiti" | "poa" | "fine" | "ok" | "okay" | "fresh"
            )
        })
}

/// A word of staying ("haircut yangu ibaki", "the pedicure stays").
fn stays(w: &str) -> bool {
    matches!(
        w,
        "ibaki" | "ibakie" | "zibaki" | "zibakie" | "stays" | "stay" | "remain" | "remains"
    )
}

/// Services said to stay ("haircut yangu ibaki", "manicure ibaki", "keep
/// the manicure", "the pedicure stays", "locs ziko sawa"): named just
/// before a word of staying, or up to three words after "keep".
pub(super) fn kept_services(tokens: &Tokens, services: &[ServiceInfo]) -> Vec<Uuid> {
    let words = tokens.words();
    let mut kept = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let span = match w.as_str() {
            _ if said_fine(words, i) => {
                let one = &words[i.saturating_sub(1)..i];
                if match_services(&Tokens::from_words(one.to_vec()), services).is_empty() {
                    &words[i.saturating_sub(2)..i]
                } else {
                    one
                }
            }
            w if stays(w) => {
                // The nearest service before it ("haircut yangu ibaki").
                let one = &words[i.saturating_sub(1)..i];
                if match_services(&Tokens::from_words(one.to_vec()), services).is_empty() {
                    &words[i.saturating_sub(2)..i]
                } else {
                    one
                }
            }
            "keep" => &words[i + 1..words.len().min(i + 4)],
            _ => continue,
        };
        kept.extend(
            match_services(&Tokens::from_words(span.to_vec()), services)
                .into_iter()
                .map(|(id, _)| id),
        );
    }
    kept
}
