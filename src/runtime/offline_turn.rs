//! A call's turn answered while the database is away: the dialog runs in
//! memory on the tenant's cached catalogue ([`TurnContextCache`]) from the
//! state the call's last turn left, for turns that need nothing from the
//! database — asking what the business offers, prices, a service's length.
//! A turn whose answer needs the database (slots, a booking, knowledge, a
//! hand-off) is not answered here: the call keeps retrying it as before.
//!
//! Nothing is written here. The caller's turn, the reply and the new
//! checkpoint are handed back so the call queues them on its writer, which
//! holds them until the database is back; the checkpoint's id is taken now
//! (time-ordered), so a later turn's checkpoint still sorts after it.
//!
//! [`TurnContextCache`]: crate::runtime::turn_context::TurnContextCache

use serde_json::json;
use uuid::Uuid;

use super::conversation::{
    ConversationService, SentReply, TurnOutcome, TurnText, core_turn, drain,
};
use crate::core::dialog::handoff::CallHandoff;
use crate::core::dialog::{Dialog, DialogState, Input, Output};
use crate::core::ids::TenantSlug;

/// A turn answered without the database, and what to write once it is back.
#[derive(Debug, Clone)]
pub struct OfflineAnswer {
    pub outcome: TurnOutcome,
    pub state: DialogState,
    pub checkpoint: UnsavedCheckpoint,
}

/// A checkpoint to write later, under the id it was given when it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsavedCheckpoint {
    pub id: String,
    pub body: serde_json::Value,
    pub metadata: serde_json::Value,
}

impl UnsavedCheckpoint {
    /// The state as the dialog checkpoints it, id taken now.
    pub fn of(state: &DialogState) -> Option<Self> {
        let mut metadata = crate::storage::conversation::checkpoint_metadata(state);
        metadata["offline"] = json!(true);
        Some(Self {
            id: Uuid::now_v7().to_string(),
            body: serde_json::to_value(state).ok()?,
            metadata,
        })
    }
}

impl ConversationService {
    /// Answers `turn` from memory when the tenant's catalogue is cached and
    /// the answer needs no database (see the module docs); `None` otherwise.
    /// `state` is the state the call's previous turn left (a fresh one for
    /// the call's first turn).
    pub fn answer_offline(
        &self,
        slug: &TenantSlug,
        turn: &TurnText,
        handoff: &CallHandoff,
        state: DialogState,
    ) -> Option<OfflineAnswer> {
        if state.handed_off() {
            return None; // every message of a hand-off goes to handoff_log
        }
        let ctx = self.context().cached(slug)?;
        let config = self.dialog_config(
            &ctx.record,
            ctx.catalog.clone(),
            ctx.personality.as_ref(),
            handoff,
        );
        let mut dialog = Dialog::new(&config, state);
        let first = core_turn(
            turn,
            turn.customer.phone().cloned(),
            turn.text.clone(),
            turn.language_hint,
        );
        dialog.handle_input(Input::Turn(first)).ok()?;
        let mut outcome = TurnOutcome::default();
        for out in drain(&mut dialog) {
            match out {
                Output::Analysis(a) => {
                    if outcome.analysis.is_none() {
                        outcome.analysis = Some(a);
                    }
                }
                Output::Reply(reply) => outcome.replies.push(SentReply {
                    reply,
                    interaction_id: Uuid::nil(),
                }),
                // Slots, bookings, knowledge, names, hand-offs, payments:
                // the database's work.
                Output::Action(_) => return None,
            }
        }
        if outcome.replies.is_empty() {
            return None;
        }
        let state = dialog.into_state();
        outcome.expecting = crate::core::dialog::expect::expecting(&state);
        outcome.state = Some(state.clone());
        Some(OfflineAnswer {
            checkpoint: UnsavedCheckpoint::of(&state)?,
            outcome,
            state,
        })
    }
}
