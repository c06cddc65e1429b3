//! Caller turns through a database blip: a turn whose database work fails
//! (or hangs) is tried again with backoff under the same key, so the
//! conversation records it once; the caller hears "one moment" once
//! instead of silence; turns they say meanwhile wait their turn rather than
//! replace it. A turn still failing after [`RETRY_FOR`] gets an apology and
//! is kept through the writer, which holds rows until the database is back.

use super::*;

/// Waits between tries of a turn whose database work failed (the last
/// repeats).
const RETRY_BACKOFF: [Duration; 4] = [
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
];
/// A turn failing for this long is given up: apology, kept for later.
const RETRY_FOR: Duration = Duration::from_secs(10);
/// One try may take this long before it counts as a database failure
/// (the pool waits for a connection far longer while Postgres restarts).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// A turn still unanswered this long after it ended gets "one moment".
const ONE_MOMENT_AFTER: Duration = Duration::from_secs(2);
/// The intent recorded on the "one moment" line.
pub(super) const ONE_MOMENT: &str = "one_moment";

/// The caller turn the conversation is working on.
pub(super) struct TurnInFlight {
    turn: CallerTurn,
    tries: u32,
    first_failure: Option<Instant>,
    moment_said: bool,
    /// Its answer goes after what the bot is saying (a turn that waited
    /// behind a stalled one), not over it.
    after_current: bool,
}

impl TurnInFlight {
    /// The database is in trouble for this turn: later turns wait.
    fn stalled(&self) -> bool {
        self.moment_said || self.first_failure.is_some()
    }
}

impl Call {
    /// The caller's turn goes to the conversation, unless one before it is
    /// stuck on the database: then it waits behind it.
    pub(super) fn ask(&mut self, turn: CallerTurn) -> bool {
        if self.in_flight.as_ref().is_some_and(TurnInFlight::stalled) {
            debug!("turn waits behind one retrying its database work");
            self.waiting_turns.push_back(turn);
            return false;
        }
        self.in_flight = Some(TurnInFlight {
            turn: turn.clone(),
            tries: 0,
            first_failure: None,
            moment_said: false,
            after_current: false,
        });
        self.request_reply(turn, Duration::ZERO);
        true
    }

    fn request_reply(&mut self, turn: CallerTurn, wait: Duration) {
        let conversation = Arc::clone(&self.conversation);
        let ctx = Arc::clone(&self.ctx);
        self.reply = Some(Box::pin(async move {
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            match tokio::time::timeout(ATTEMPT_TIMEOUT, conversation.reply(&ctx, turn)).await {
                Ok(answer) => answer,
                Err(_) => Err(ConversationError::storage(
                    "the turn's database work timed out",
                )),
            }
        }));
        if self.in_flight.as_ref().is_some_and(|t| !t.moment_said) {
            self.moment = Some(Box::pin(tokio::time::sleep(ONE_MOMENT_AFTER)));
        }
    }

    /// The turn is taking long: "one moment", once per turn, when the bot
    /// is not already speaking.
    pub(super) fn on_moment(&mut self) {
        self.moment = None;
        let Some(t) = self.in_flight.as_mut() else {
            return;
        };
        if t.moment_said {
            return;
        }
        t.moment_said = true;
        if self.voice.busy() {
            return;
        }
        let lang = t.turn.language.unwrap_or(self.voice.language());
        let text = CallLine::OneMoment.text(lang);
        info!("turn waiting on the database; caller told to hold on");
        self.say(Line::said(vec![text.to_owned()], lang, ONE_MOMENT), None);
    }

    /// What to say for the conversation's answer, or `None` when the turn
    /// is being tried again. The bool: say it after the current line.
    pub(super) fn settle_reply(
        &mut self,
        answer: Result<BotReply, ConversationError>,
    ) -> Option<(BotReply, bool)> {
        let after = self.in_flight.as_ref().is_some_and(|t| t.after_current);
        let e = match answer {
            Ok(mut reply) => {
                if let (Some(checkpoint), Some(t)) = (reply.unsaved.take(), &self.in_flight) {
                    // Answered from memory: the call writes what the
                    // dialog could not.
                    let turn = t.turn.clone();
                    self.write_answered_offline(&turn, reply.intent.as_deref(), checkpoint);
                }
                self.in_flight = None;
                return Some((reply, after));
            }
            Err(e) => e,
        };
        let lang = self.ctx.tenant.dials.greeting_language;
        let Some(t) = self.in_flight.as_mut().filter(|_| e.retryable) else {
            warn!(error = %e, "conversation failed");
            self.in_flight = None;
            return Some((
                BotReply::said(vec![sorry(lang).to_owned()], lang, "error"),
                after,
            ));
        };
        let failing_since = *t.first_failure.get_or_insert_with(Instant::now);
        t.tries += 1;
        if failing_since.elapsed() < RETRY_FOR {
            let wait = RETRY_BACKOFF[(t.tries as usize - 1).min(RETRY_BACKOFF.len() - 1)];
            warn!(error = %e, tries = t.tries, retry_in_ms = wait.as_millis() as u64, "turn's database work failed; trying again");
            let turn = t.turn.clone();
            if !t.moment_said {
                self.on_moment();
            }
            self.request_reply(turn, wait);
            return None;
        }
        let t = self.in_flight.take()?;
        warn!(error = %e, tries = t.tries, "turn's database work kept failing; kept for later");
        self.keep_turn(&t.turn);
        let lang = t.turn.language.unwrap_or(lang);
        let text = CallLine::TurnKept.text(lang);
        Some((
            BotReply::said(vec![text.to_owned()], lang, "turn_kept"),
            after,
        ))
    }

    /// A turn that waited behind a stalled one goes to the conversation.
    pub(super) fn next_waiting_turn(&mut self) {
        if self.reply.is_some() {
            return;
        }
        if let Some(turn) = self.waiting_turns.pop_front()
            && self.ask(turn)
            && let Some(t) = self.in_flight.as_mut()
        {
            t.after_current = true;
        }
    }

    /// A turn the payment hold left to the conversation: asked now (or
    /// after the turn in flight), answered after what the bot is saying
    /// (the hold's last line is not cut).
    pub(super) fn ask_after_current(&mut self, turn: CallerTurn) {
        if self.reply.is_some() {
            self.waiting_turns.push_back(turn);
            return;
        }
        if self.ask(turn)
            && let Some(t) = self.in_flight.as_mut()
        {
            t.after_current = true;
        }
    }

    /// The call is ending with turns unanswered: kept for later.
    pub(super) fn keep_unanswered_turns(&mut self) {
        self.reply = None;
        if let Some(t) = self.in_flight.take().filter(TurnInFlight::stalled) {
            self.keep_turn(&t.turn);
        }
        for turn in std::mem::take(&mut self.waiting_turns) {
            self.keep_turn(&turn);
        }
    }
}

/// What the call says when the conversation fails.
pub fn sorry(lang: Lang) -> &'static str {
    CallLine::Sorry.text(lang)
}
