//! The dialog engine (`ConversationService`, the same one WhatsApp turns
//! reach) behind calls. It records turns and replies in interactions and
//! keeps the thread's checkpoint; the call adds playback facts.
//!
//! While the database is away, a turn that needs nothing from it (asking
//! what the business offers, a price) is answered from memory: the
//! tenant's cached catalogue and the state the call's last turn left
//! ([`crate::runtime::offline_turn`]). The call writes that turn, its reply
//! and the new checkpoint through its writer once the database is back,
//! and the call's next turn starts from the state kept here rather than
//! from the (older) checkpoint in the database.

use std::collections::HashMap;
use std::sync::Mutex;

use futures::future::BoxFuture;

use crate::core::dialog::{Channel, DialogState};
use crate::core::ids::ThreadId;
use crate::runtime::call_setup::{
    BotReply, CallContext, CallConversation, CallerTurn, ConversationError,
};
use crate::runtime::conversation::{ConversationService, TurnOutcome, TurnText};

/// The state of one live call's dialog, as its last answered turn left it.
#[derive(Debug, Clone)]
struct Known {
    state: DialogState,
    /// Left by a turn answered from memory: the database's checkpoint is
    /// older until the call's writer lands the new one.
    unsaved: bool,
}

pub struct DialogConversation {
    service: ConversationService,
    calls: Mutex<HashMap<ThreadId, Known>>,
}

impl DialogConversation {
    pub fn new(db: crate::storage::Db) -> Self {
        Self::with_service(ConversationService::new(db))
    }

    /// Calls through `service` (with its language model, if it has one).
    pub fn with_service(service: ConversationService) -> Self {
        Self {
            service,
            calls: Mutex::new(HashMap::new()),
        }
    }

    fn calls(&self) -> std::sync::MutexGuard<'_, HashMap<ThreadId, Known>> {
        // A panic while holding the lock leaves a map that is still whole.
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn remember(&self, thread: &ThreadId, state: DialogState, unsaved: bool) {
        self.calls()
            .insert(thread.clone(), Known { state, unsaved });
    }
}

impl CallConversation for DialogConversation {
    fn reply<'a>(
        &'a self,
        ctx: &'a CallContext,
        turn: CallerTurn,
    ) -> BoxFuture<'a, Result<BotReply, ConversationError>> {
        Box::pin(async move {
            let customer = ctx
                .caller
                .clone()
                .ok_or_else(|| ConversationError::new("caller number withheld"))?;
            let tenant = self.service.db().tenant(&ctx.tenant.slug);
            let text = TurnText {
                channel: Channel::Voice,
                customer: crate::core::ids::ChannelIdentity::Voice(customer),
                customer_name: None,
                text: turn.text,
                language_hint: turn.language,
                dtmf: (!turn.dtmf.is_empty()).then_some(turn.dtmf),
                choice_id: None,
                // A retried turn is claimed once (exactly one inbound row).
                message_id: Some(turn.key),
                message_type: "speech".into(),
                now: chrono::Utc::now(),
            };
            let known = self.calls().get(&ctx.thread).cloned();
            let unsaved = known.as_ref().filter(|k| k.unsaved).map(|k| &k.state);
            let outcome = match self
                .service
                .handle_call_turn(
                    &tenant,
                    Some(&ctx.thread),
                    text.clone(),
                    &ctx.handoff,
                    unsaved,
                )
                .await
            {
                Ok(outcome) => outcome,
                Err(crate::runtime::conversation::ConversationError::Storage(e)) => {
                    // The database is away: answer from memory if the turn
                    // needs nothing from it, else the call tries again.
                    let state = known.map(|k| k.state).unwrap_or_default();
                    let Some(answer) =
                        self.service
                            .answer_offline(&ctx.tenant.slug, &text, &ctx.handoff, state)
                    else {
                        return Err(ConversationError::storage(e.to_string()));
                    };
                    tracing::info!(error = %e, "database away; turn answered from the cached catalogue");
                    self.remember(&ctx.thread, answer.state, true);
                    let mut reply = bot_reply(ctx, answer.outcome);
                    reply.unsaved = Some(answer.checkpoint);
                    return Ok(reply);
                }
                Err(other) => return Err(ConversationError::new(other.to_string())),
            };
            if outcome.duplicate {
                // An earlier try of this turn committed but its answer was
                // lost with the connection: ask again rather than go quiet.
                let lang = ctx.tenant.dials.greeting_language;
                return Ok(BotReply::said(
                    vec![crate::runtime::call::sorry(lang).to_owned()],
                    lang,
                    "error",
                ));
            }
            if let Some(state) = &outcome.state {
                self.remember(&ctx.thread, state.clone(), false);
            }
            Ok(bot_reply(ctx, outcome))
        })
    }

    fn records_turns(&self) -> bool {
        true
    }

    fn call_ended(&self, ctx: &CallContext, _report: &crate::runtime::call::CallReport) {
        self.calls().remove(&ctx.thread);
    }
}

/// What the call says for a turn's outcome.
fn bot_reply(ctx: &CallContext, outcome: TurnOutcome) -> BotReply {
    let language = outcome
        .replies
        .first()
        .map_or(ctx.tenant.dials.greeting_language, |r| r.reply.language);
    let intent = outcome
        .analysis
        .as_ref()
        .and_then(|a| a.intent)
        .map(|i| i.as_str().to_owned());
    // A person takes over: the call ends with this reply (put through, or a
    // promise and a polite hang-up).
    let handoff = outcome
        .handoff_started
        .is_some()
        .then(|| ctx.handoff.clone());
    BotReply {
        sentences: outcome
            .replies
            .iter()
            .flat_map(|r| r.reply.sentences.iter().cloned())
            .collect(),
        language,
        end_call: handoff.is_some(),
        handoff,
        // Rows the dialog wrote (none for a turn answered from memory).
        recorded: outcome
            .replies
            .iter()
            .map(|r| r.interaction_id)
            .filter(|id| !id.is_nil())
            .collect(),
        intent,
        payments: outcome.payment_requests,
        expecting: outcome.expecting,
        unsaved: None,
    }
}
