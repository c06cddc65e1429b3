//! Performs the dialogue's effects: one customer turn in, replies out, every
//! row written. Channel-agnostic: WhatsApp calls it per inbound message, the
//! live-call engine per end of turn.
//!
//! ```ignore
//! let service = ConversationService::new(db.clone());
//! let outcome = service
//!     .handle_turn(&db.tenant(&slug), None, TurnText {
//!         channel: Channel::Voice,
//!         customer: ChannelIdentity::Voice(caller_number),
//!         customer_name: None,
//!         text: transcript,
//!         language_hint: Some(Lang::Sw),    // from the recogniser, if known
//!         dtmf: None,
//!         choice_id: None,
//!         message_id: None,                 // provider id, for deduplication
//!         message_type: "speech".into(),
//!         now: Utc::now(),
//!     })
//!     .await?;
//! for reply in &outcome.replies {
//!     for sentence in &reply.sentences { speak(sentence) }
//! }
//! ```
//!
//! `thread`: pass the call's thread to pin the conversation to it; `None`
//! continues the customer's open thread (or opens one), which is what a chat
//! wants. The whole turn runs in one tenant transaction: the customer's
//! turns are serialised by an advisory lock on their channel identity
//! ([`ChannelIdentity::thread_key`]), a
//! provider message id is handled at most once, and the checkpoint, the
//! interactions rows and any booking commit together. Nothing here calls a
//! network service while holding that transaction except the optional
//! language model, which has its own short timeout.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::core::booking;
use crate::core::dialog::catalog::Catalog;
use crate::core::dialog::handoff::CallHandoff;
use crate::core::dialog::personality::{Personality, PersonalityRow};
use crate::core::dialog::{
    Action, Analysis, Channel, Customer, Dialog, DialogConfig, DialogState, HandoffReason, Input,
    Lang, Output, Reply, Turn, WriteFailure,
};
use crate::core::ids::{ChannelIdentity, Money, PhoneNumber, ThreadId};
use crate::runtime::turn_context::{TurnContext, TurnContextCache};
use crate::runtime::web_identity::{self, CodeToSend};
use crate::storage::booking::{self as repo, BookingError, NewBooking};
use crate::storage::conversation::{self as conv, HandoffLine, InteractionRow};
use crate::storage::{Db, StorageError, TenantHandle, TenantRecord, TenantTx};

/// One customer turn as a channel delivers it.
#[derive(Debug, Clone)]
pub struct TurnText {
    pub channel: Channel,
    /// Who wrote, as the channel knows them (a web chat's number, when it
    /// has one, is looked up from its session).
    pub customer: ChannelIdentity,
    pub customer_name: Option<String>,
    pub text: String,
    pub language_hint: Option<Lang>,
    pub dtmf: Option<String>,
    pub choice_id: Option<String>,
    /// The provider's message id: a repeated id is handled once.
    pub message_id: Option<String>,
    /// interactions.message_type ("text", "interactive", "speech"…).
    pub message_type: String,
    pub now: DateTime<Utc>,
}

/// A reply with the interactions row it was recorded as (so the channel can
/// attach the provider's message id after sending).
#[derive(Debug, Clone)]
pub struct SentReply {
    pub reply: Reply,
    pub interaction_id: Uuid,
}

/// What a turn produced.
#[derive(Debug, Clone, Default)]
pub struct TurnOutcome {
    pub thread: Option<ThreadId>,
    pub replies: Vec<SentReply>,
    /// The message id was seen before: nothing was done.
    pub duplicate: bool,
    /// A person has (now or already) taken the thread.
    pub handed_off: bool,
    /// The hand-off started on this turn (notify the team).
    pub handoff_started: Option<HandoffReason>,
    /// Payments the dialogue asked for (performed by the payment runtime).
    pub payment_requests: Vec<(Uuid, Money)>,
    /// The number those payments are asked of: the channel's, or the one
    /// a web customer gave (claimed or proven).
    pub payer: Option<PhoneNumber>,
    pub analysis: Option<Analysis>,
    /// What the dialog's step now waits for (a call's endpointing follows it).
    pub expecting: crate::core::turn::Expectation,
    /// The dialogue state the turn left (as checkpointed); `None` for a
    /// duplicate.
    pub state: Option<DialogState>,
    /// A web customer gave their number on this turn (the session is
    /// promoted to that customer).
    pub promoted: bool,
    /// SMS codes to send once the turn has committed (the web phone check).
    pub codes: Vec<CodeToSend>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConversationError {
    #[error("tenant {0} is not registered")]
    UnknownTenant(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A boxed future, for the object-safe [`Interpreter`].
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Asks a language model what an unclear turn means (see
/// `adapters::llm`); returns a rewritten turn the rules understand, or
/// `None` on any failure (the rules' answer then stands).
pub trait Interpreter: Send + Sync {
    /// `spent_micro_usd` is what the thread has cost since its last
    /// booking; the interpreter decides from it (and the tenant's ceilings)
    /// whether and which model to call.
    fn interpret<'a>(
        &'a self,
        tenant: &'a TenantRecord,
        thread: &'a ThreadId,
        text: &'a str,
        lang: Lang,
        now: DateTime<Utc>,
        spent_micro_usd: u64,
    ) -> BoxFuture<'a, Interpretation>;
}

/// What the model made of a turn, and what asking it cost.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interpretation {
    /// The turn rewritten plainly for the rules, if the model could.
    pub rewrite: Option<String>,
    pub cost_micro_usd: u64,
}

/// Whether a tenant's payment prompt can start now (credentials for the
/// environment); supplied by the payment runtime.
pub type PaymentsReady = Arc<dyn Fn(&TenantRecord) -> bool + Send + Sync>;

#[derive(Clone)]
pub struct ConversationService {
    db: Db,
    interpreter: Option<Arc<dyn Interpreter>>,
    payments_ready: Option<PaymentsReady>,
    call_llm_budget: Option<std::time::Duration>,
    /// The shell can send SMS codes (the web phone check).
    phone_codes: bool,
    /// Calls' tenant record, catalogue and personality, kept in memory.
    context: TurnContextCache,
}

impl ConversationService {
    pub fn new(db: Db) -> Self {
        let context = TurnContextCache::new(db.clone());
        context.watch_changes();
        ConversationService {
            context,
            db,
            interpreter: None,
            payments_ready: None,
            call_llm_budget: None,
            phone_codes: false,
        }
    }

    /// The shell sends the SMS codes of the web phone check (an SMS
    /// provider is configured); without it a code cannot be asked for.
    pub fn with_phone_codes(mut self, can_send: bool) -> Self {
        self.phone_codes = can_send;
        self
    }

    /// The cache calls read their tenant's catalogue from.
    pub fn context(&self) -> &TurnContextCache {
        &self.context
    }

    /// Calls' cached catalogue is read again after `fresh_for` (tests).
    pub fn with_context_fresh_for(mut self, fresh_for: std::time::Duration) -> Self {
        self.context = self.context.with_fresh_for(fresh_for);
        self
    }

    /// Tells the dialog whether a payment prompt can be sent for a tenant;
    /// where it cannot, the customer is told how to pay instead. Without
    /// it, a tenant with payments enabled is assumed able to take them.
    pub fn with_payments_ready(mut self, ready: PaymentsReady) -> Self {
        self.payments_ready = Some(ready);
        self
    }

    /// Adds a model for turns the rules cannot handle.
    pub fn with_interpreter(mut self, interpreter: Arc<dyn Interpreter>) -> Self {
        self.interpreter = Some(interpreter);
        self
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Unclear turns on a call wait for the language model at most this
    /// long, then the rules' answer stands (a caller waits in silence; a
    /// chat has the client's own timeout, `LLM_TIMEOUT_MS`).
    pub fn with_call_llm_budget(mut self, budget: std::time::Duration) -> Self {
        self.call_llm_budget = Some(budget);
        self
    }

    /// Handles one customer turn (see the module docs).
    pub async fn handle_turn(
        &self,
        tenant: &TenantHandle,
        thread: Option<&ThreadId>,
        turn: TurnText,
    ) -> Result<TurnOutcome, ConversationError> {
        self.handle_call_turn(tenant, thread, turn, &CallHandoff::default(), None)
            .await
    }

    /// Handles one turn of a call: as [`Self::handle_turn`], and a hand-off
    /// is carried out as `handoff` says (put through, or a promise), which
    /// the dialog says and handoff_log records. `unsaved`: the state a turn
    /// answered without the database left ([`Self::answer_offline`]), which
    /// the thread's checkpoints do not have yet; the turn starts from it.
    pub async fn handle_call_turn(
        &self,
        tenant: &TenantHandle,
        thread: Option<&ThreadId>,
        turn: TurnText,
        handoff: &CallHandoff,
        unsaved: Option<&DialogState>,
    ) -> Result<TurnOutcome, ConversationError> {
        // A call reads its tenant from memory (refreshed in the
        // background); a chat reads it afresh here (WhatsApp's runtime
        // passes its own, see `handle_chat_turn`).
        let cached = match turn.channel {
            Channel::Voice => Some(
                self.context
                    .get(tenant.slug())
                    .await?
                    .ok_or_else(|| ConversationError::UnknownTenant(tenant.slug().to_string()))?,
            ),
            Channel::WhatsApp | Channel::Web | Channel::Instagram | Channel::Messenger => None,
        };
        let record = match &cached {
            Some(ctx) => ctx.record.clone(),
            None => self
                .db
                .tenant_by_slug(tenant.slug())
                .await?
                .ok_or_else(|| ConversationError::UnknownTenant(tenant.slug().to_string()))?,
        };
        self.run_turn(tenant, record, cached, thread, turn, handoff, unsaved)
            .await
    }

    /// Handles one chat message (as [`Self::handle_turn`] with no thread)
    /// for a tenant whose record the channel has just read: it is not read
    /// again.
    pub async fn handle_chat_turn(
        &self,
        tenant: &TenantHandle,
        record: &TenantRecord,
        turn: TurnText,
    ) -> Result<TurnOutcome, ConversationError> {
        self.run_turn(
            tenant,
            record.clone(),
            None,
            None,
            turn,
            &CallHandoff::default(),
            None,
        )
        .await
    }

    /// One turn in one tenant transaction (see the module docs); `cached`:
    /// a call's catalogue and personality from memory.
    #[allow(clippy::too_many_arguments)]
    #[tracing::instrument(skip_all, fields(tenant = %tenant.slug(), channel = turn.channel.as_str(), customer = %turn.customer))]
    async fn run_turn(
        &self,
        tenant: &TenantHandle,
        record: TenantRecord,
        cached: Option<Arc<TurnContext>>,
        thread: Option<&ThreadId>,
        turn: TurnText,
        handoff: &CallHandoff,
        unsaved: Option<&DialogState>,
    ) -> Result<TurnOutcome, ConversationError> {
        // The catalogue and personality come from memory (refreshed in the
        // background, see `turn_context`; a chat's record is its channel's),
        // before the turn holds a connection: a tenant not cached yet is
        // read on a connection of its own.
        let context = match cached {
            Some(ctx) => ctx,
            None => self
                .context
                .get(tenant.slug())
                .await?
                .ok_or_else(|| ConversationError::UnknownTenant(tenant.slug().to_string()))?,
        };
        // One turn at a time per customer, and a provider message id
        // handled once (checked under the locks): the transaction begins
        // holding them.
        let key = turn.customer.thread_key();
        let message_id = turn.message_id.as_deref();
        let mut tx = conv::begin_turn(tenant, &key, message_id).await?;
        let duplicate = || -> Result<TurnOutcome, ConversationError> {
            tracing::debug!("duplicate delivery ignored");
            Ok(TurnOutcome {
                duplicate: true,
                ..TurnOutcome::default()
            })
        };
        let pinned = thread.is_some() || unsaved.is_some();
        if pinned
            && let Some(id) = message_id
            && conv::message_seen(&mut tx, id).await?
        {
            return duplicate();
        }
        // A web chat continued on WhatsApp by its hand-off token: the
        // session's thread becomes this customer's (undone with the rest
        // of the transaction if the message turns out to be a duplicate).
        let resumed = turn.channel == Channel::WhatsApp
            && record.channel_steering_enabled
            && web_identity::join_by_token(&mut tx, &turn.text, &turn.customer, turn.now)
                .await?
                .is_some();
        let (thread, state) = if pinned {
            let thread = match thread {
                Some(t) => {
                    conv::ensure_thread(&mut tx, &key, t, turn.channel).await?;
                    t.clone()
                }
                None => conv::open_thread(&mut tx, &key, turn.channel).await?,
            };
            let state = match unsaved {
                Some(state) => state.clone(),
                None => conv::load_checkpoint(&mut tx, &thread).await?,
            };
            (thread, state)
        } else {
            // A chat: the duplicate check, its thread and state in one
            // statement.
            let start = conv::start_turn(&mut tx, &key, turn.channel, message_id).await?;
            if start.seen {
                return duplicate();
            }
            (start.thread, start.state)
        };
        let lang_guess = turn.language_hint.unwrap_or(state.lang);
        // A web chat knows the number once its session was promoted.
        let phone = match turn.customer.phone() {
            Some(p) => Some(p.clone()),
            None => {
                conv::identity_phone(
                    &mut tx,
                    turn.customer.provider(),
                    turn.customer.external_id(),
                )
                .await?
            }
        };
        let (contact, _customer) = conv::ensure_contact_and_customer(
            &mut tx,
            turn.customer.provider(),
            turn.customer.external_id(),
            phone.as_ref(),
            turn.customer_name.as_deref(),
            lang_guess.code(),
        )
        .await?;

        let config = self.dialog_config(
            &record,
            context.catalog.clone(),
            context.personality.as_ref(),
            handoff,
        );

        let was_handed_off = state.handed_off();
        let mut run = Run {
            tx: &mut tx,
            turn: &turn,
            contact,
            phone,
            thread: &thread,
            outcome: TurnOutcome::default(),
            llm_cost_micro_usd: 0,
            booked: false,
            resumed,
            phone_codes: self.phone_codes,
        };
        let model = self.interpreter.as_deref().map(|interpreter| Model {
            interpreter,
            budget: self
                .call_llm_budget
                .filter(|_| turn.channel == Channel::Voice),
        });
        let state = run.drive(&config, state, &record, model).await?;
        let contact = run.contact;
        let phone = run.phone.clone();
        let mut outcome = run.outcome;
        outcome.thread = Some(thread.clone());
        outcome.handed_off = state.handed_off();
        outcome.expecting = crate::core::dialog::expect::expecting(&state);
        outcome.state = Some(state.clone());

        let analysis = outcome.analysis.clone();
        if was_handed_off || outcome.handoff_started.is_some() {
            // Every customer message during a hand-off is kept verbatim.
            let mut meta = json!({"wamid": turn.message_id});
            if let Some(reason) = outcome.handoff_started {
                let at = |s: i32| turn.now + Duration::seconds(i64::from(s.max(0)));
                meta = json!({
                    "kind": "handoff_started",
                    "reason": reason,
                    "channel": turn.channel.as_str(),
                    "notice_due_at": at(record.handoff_admin_notice_seconds),
                    "reminder_due_at": at(record.handoff_admin_reminder_seconds),
                    "escalation_due_at": at(record.handoff_escalation_seconds),
                    "wamid": turn.message_id,
                });
                if turn.channel == Channel::Voice {
                    // How the call reaches the person: put through to the
                    // business's number, or a promise and a hang-up.
                    meta["call"] = json!(handoff);
                }
            }
            conv::append_handoff(
                &mut tx,
                &HandoffLine {
                    thread: &thread,
                    from_admin: false,
                    actor_phone: phone.as_ref().map_or(key.as_str(), PhoneNumber::expose),
                    content: &turn.text,
                    language: analysis.as_ref().map(|a| a.language.code()),
                    metadata: meta,
                },
            )
            .await?;
        }
        // The customer's message and the replies.
        let texts: Vec<String> = outcome.replies.iter().map(|r| r.reply.text()).collect();
        let mut rows = Vec::with_capacity(1 + outcome.replies.len());
        rows.push(InteractionRow {
            contact_id: contact,
            channel: turn.channel,
            inbound: true,
            message_type: &turn.message_type,
            content: &turn.text,
            intent: analysis.as_ref().and_then(|a| a.intent).map(|i| i.as_str()),
            language: analysis.as_ref().map(|a| a.language.code()),
            metadata: json!({"thread_id": thread.as_str(), "wamid": turn.message_id, "choice_id": turn.choice_id}),
        });
        for (sent, text) in outcome.replies.iter().zip(&texts) {
            rows.push(InteractionRow {
                contact_id: contact,
                channel: turn.channel,
                inbound: false,
                message_type: if sent.reply.choices.is_empty() {
                    "text"
                } else {
                    "interactive"
                },
                content: text,
                intent: None,
                language: Some(sent.reply.language.code()),
                metadata: json!({"thread_id": thread.as_str(), "choices": sent.reply.choices}),
            });
        }
        // The rows and the checkpoint, in one statement.
        let ids = conv::record_turn(&mut tx, &rows, &thread, &state).await?;
        drop(rows);
        for (sent, id) in outcome.replies.iter_mut().zip(ids.into_iter().skip(1)) {
            sent.interaction_id = id;
        }
        tx.commit().await?;
        Ok(outcome)
    }

    /// The dialog's configuration for a tenant (one copy for turns with
    /// and without the database).
    pub(crate) fn dialog_config(
        &self,
        record: &TenantRecord,
        catalog: Catalog,
        personality: Option<&PersonalityRow>,
        handoff: &CallHandoff,
    ) -> DialogConfig {
        let tz: chrono_tz::Tz = record
            .timezone
            .parse()
            .unwrap_or(chrono_tz::Africa::Nairobi);
        let mut config = DialogConfig::new(
            tz,
            catalog,
            Personality::resolve(&record.vertical, personality),
        );
        // Both channels take payment after a booking: a call holds the caller
        // while the M-Pesa prompt is paid, a chat sends the prompt or a link.
        let can_prompt = self
            .payments_ready
            .as_ref()
            .is_none_or(|ready| ready(record));
        config.payment_on_booking = record.payment_enabled && can_prompt;
        config.pay_hint = record
            .payment_enabled
            .then(|| record.mpesa_shortcode.clone())
            .flatten();
        if let Some(n) = record
            .handoff_thresholds
            .get("misunderstood_turns")
            .and_then(|v| v.as_u64())
        {
            config.handoff_after_misunderstood = u32::try_from(n).unwrap_or(3).max(1);
        }
        config.call_handoff = handoff.clone();
        config.phone_otp_required = record.phone_otp_required;
        config
    }
}

/// The language model for unclear turns, and how long a turn may wait
/// for it (calls).
#[derive(Clone, Copy)]
struct Model<'a> {
    interpreter: &'a dyn Interpreter,
    budget: Option<std::time::Duration>,
}

/// One turn's effect loop.
struct Run<'t, 'c> {
    tx: &'t mut TenantTx,
    turn: &'c TurnText,
    /// The contacts row, once the number is known.
    contact: Option<Uuid>,
    /// The customer's number: the channel's, or the one a web customer gave.
    phone: Option<PhoneNumber>,
    thread: &'c ThreadId,
    outcome: TurnOutcome,
    /// The language model's cost during this turn.
    llm_cost_micro_usd: u64,
    /// A booking was made during this turn.
    booked: bool,
    /// The customer came over from a web chat (its thread is theirs now).
    resumed: bool,
    /// SMS codes can be sent.
    phone_codes: bool,
}

impl Run<'_, '_> {
    async fn drive(
        &mut self,
        config: &DialogConfig,
        state: DialogState,
        record: &TenantRecord,
        model: Option<Model<'_>>,
    ) -> Result<DialogState, ConversationError> {
        let core_turn =
            |text: String, hint: Option<Lang>| core_turn(self.turn, self.phone.clone(), text, hint);
        let first = if self.resumed {
            Input::Resumed {
                channel: self.turn.channel,
                phone_known: self.phone.is_some(),
                now: self.turn.now,
            }
        } else {
            Input::Turn(core_turn(self.turn.text.clone(), self.turn.language_hint))
        };
        let mut dialog = Dialog::new(config, state.clone());
        dialog
            .handle_input(first)
            .map_err(|e| StorageError::Corrupt(e.to_string()))?;
        let mut outputs = drain(&mut dialog);
        // The rules could not make sense of it: ask the model (if any) for a
        // plain rewrite and run the turn again from the same state.
        let misunderstood = outputs
            .iter()
            .any(|o| matches!(o, Output::Analysis(a) if !a.understood));
        if misunderstood
            && !state.handed_off()
            && let Some(model) = model
        {
            let lang = dialog.state().lang;
            let asking = model.interpreter.interpret(
                record,
                self.thread,
                &self.turn.text,
                lang,
                self.turn.now,
                state.llm_spend_micro_usd,
            );
            let asked = match model.budget {
                None => asking.await,
                Some(budget) => match tokio::time::timeout(budget, asking).await {
                    Ok(asked) => asked,
                    Err(_) => {
                        // Dropped: the request is cancelled and its tokens
                        // (if any were billed) are not known.
                        tracing::info!(
                            budget_ms = budget.as_millis() as u64,
                            "language model slower than the call's budget; rules answer"
                        );
                        Interpretation::default()
                    }
                },
            };
            self.llm_cost_micro_usd += asked.cost_micro_usd;
            if let Some(rewritten) = asked.rewrite {
                tracing::debug!("turn rewritten by the language model");
                let mut retry = Dialog::new(config, state.clone());
                let mut t = core_turn(rewritten, Some(lang));
                t.force_language = Some(lang);
                if retry.handle_input(Input::Turn(t)).is_ok() {
                    let again = drain(&mut retry);
                    let understood = again
                        .iter()
                        .any(|o| matches!(o, Output::Analysis(a) if a.understood));
                    if understood {
                        dialog = retry;
                        outputs = again;
                    }
                }
            }
        }
        loop {
            let mut next_input = None;
            for out in outputs {
                match out {
                    Output::Analysis(a) => {
                        if self.outcome.analysis.is_none() {
                            self.outcome.analysis = Some(a);
                        }
                    }
                    Output::Reply(r) => self.outcome.replies.push(SentReply {
                        reply: r,
                        interaction_id: Uuid::nil(),
                    }),
                    Output::Action(action) => {
                        if let Some(input) = self.perform(action, config).await? {
                            next_input = Some(input);
                        }
                    }
                }
            }
            let Some(input) = next_input else { break };
            dialog
                .handle_input(input)
                .map_err(|e| StorageError::Corrupt(e.to_string()))?;
            outputs = drain(&mut dialog);
        }
        let mut state = dialog.into_state();
        // The ceilings are per booking: a booking starts the count afresh.
        state.llm_spend_micro_usd = if self.booked {
            0
        } else {
            state.llm_spend_micro_usd + self.llm_cost_micro_usd
        };
        Ok(state)
    }

    async fn perform(
        &mut self,
        action: Action,
        config: &DialogConfig,
    ) -> Result<Option<Input>, ConversationError> {
        Ok(match action {
            Action::FindSlots(q) => {
                let (from, to) = repo::search_window(q.from, q.days);
                let staff =
                    repo::load_availability(self.tx, q.staff, from, to, q.except, self.contact)
                        .await?;
                Some(Input::Slots(booking::free_slots(config.tz, &staff, &q)))
            }
            Action::Book {
                service_id,
                staff_id,
                start,
                ..
            } => {
                let (Some(phone), Some(contact_id)) = (self.phone.clone(), self.contact) else {
                    // The dialog asks a web customer for their number first.
                    tracing::error!("booking asked for with no phone number; refused");
                    return Ok(Some(Input::Booked(Err(WriteFailure::Failed))));
                };
                self.tx.savepoint().await?;
                let result = repo::book(
                    self.tx,
                    &NewBooking {
                        contact_id,
                        service_id,
                        staff_id,
                        start,
                        channel: self.turn.channel,
                        customer: &phone,
                    },
                )
                .await;
                self.tx.end_savepoint(result.is_ok()).await?;
                if let Ok(a) = &result {
                    tracing::info!(appointment = %a.id, "appointment booked");
                    self.booked = true;
                }
                Some(Input::Booked(result.map_err(write_failure)))
            }
            Action::ListUpcoming => Some(Input::Upcoming(match &self.phone {
                Some(phone) => repo::upcoming_for(self.tx, phone, self.turn.now).await?,
                // A web chat that has not given a number has no bookings.
                None => Vec::new(),
            })),
            Action::ListRecent => Some(Input::Upcoming(match &self.phone {
                Some(phone) => repo::recent_for(self.tx, phone, self.turn.now).await?,
                // A web chat that has not given a number has no bookings.
                None => Vec::new(),
            })),
            Action::Cancel { appointment_id } => {
                let Some(phone) = self.phone.clone() else {
                    return Ok(Some(Input::Cancelled(Err(WriteFailure::NotFound))));
                };
                self.tx.savepoint().await?;
                let r = repo::cancel(self.tx, &phone, appointment_id).await;
                self.tx.end_savepoint(r.is_ok()).await?;
                Some(Input::Cancelled(
                    r.map(|_| appointment_id).map_err(write_failure),
                ))
            }
            Action::Reschedule {
                appointment_id,
                service_id,
                staff_id,
                start,
                ..
            } => {
                let Some(phone) = self.phone.clone() else {
                    return Ok(Some(Input::Rescheduled(Err(WriteFailure::NotFound))));
                };
                self.tx.savepoint().await?;
                let r =
                    repo::reschedule(self.tx, &phone, appointment_id, service_id, staff_id, start)
                        .await;
                self.tx.end_savepoint(r.is_ok()).await?;
                Some(Input::Rescheduled(r.map_err(write_failure)))
            }
            Action::FetchKnowledge { categories } => Some(Input::Knowledge(
                conv::knowledge(self.tx, &categories).await?,
            )),
            Action::HandOff { reason } => {
                tracing::info!(thread = %self.thread, ?reason, "thread handed to a person");
                self.outcome.handoff_started = Some(reason);
                None
            }
            Action::StartPayment {
                appointment_id,
                amount,
            } => {
                if let Some(session) = web_identity::web_session(&self.turn.customer) {
                    // STK as oracle: paid, the claimed number is proven.
                    crate::storage::web::set_proof_appointment(self.tx, session, appointment_id)
                        .await?;
                }
                self.outcome.payment_requests.push((appointment_id, amount));
                self.outcome.payer.clone_from(&self.phone);
                None
            }
            Action::SendPhoneCode { phone } => {
                let (input, code) = web_identity::send_code(
                    self.tx,
                    &self.turn.customer,
                    &phone,
                    self.phone_codes,
                    self.turn.now,
                )
                .await?;
                self.outcome.codes.extend(code);
                Some(input)
            }
            Action::CheckPhoneCode { phone, code } => Some(
                web_identity::check_code(
                    self.tx,
                    &self.turn.customer,
                    &phone,
                    code.expose(),
                    self.turn.now,
                )
                .await?,
            ),
            Action::RememberName { name } => {
                if let Some(phone) = &self.phone {
                    repo::set_stated_name(self.tx, phone, &name).await?;
                }
                None
            }
            Action::RememberPhone { phone } => {
                let lang = self.turn.language_hint.unwrap_or_default();
                let contact = repo::ensure_contact(
                    self.tx,
                    &phone,
                    self.turn.customer_name.as_deref(),
                    lang.code(),
                )
                .await?;
                self.outcome.promoted = web_identity::remember_phone(
                    self.tx,
                    &self.turn.customer,
                    &phone,
                    config.phone_otp_required,
                    self.turn.now,
                )
                .await?;
                self.contact = Some(contact);
                self.phone = Some(phone);
                None
            }
        })
    }
}

/// The dialog's view of a channel's turn, with `text` (the turn's own, or
/// a model's rewrite of it).
/// The core's turn for `turn`; `phone`: the customer's number if known (a
/// web chat's only once its session was promoted).
pub(crate) fn core_turn(
    turn: &TurnText,
    phone: Option<PhoneNumber>,
    text: String,
    hint: Option<Lang>,
) -> Turn {
    Turn {
        text,
        language_hint: hint,
        channel: turn.channel,
        customer: Customer {
            phone,
            name: turn.customer_name.clone(),
        },
        dtmf: turn.dtmf.clone(),
        choice_id: turn.choice_id.clone(),
        force_language: None,
        now: turn.now,
    }
}

pub(crate) fn drain(dialog: &mut Dialog<'_>) -> Vec<Output> {
    std::iter::from_fn(|| dialog.poll_output()).collect()
}

fn write_failure(e: BookingError) -> WriteFailure {
    match e {
        BookingError::SlotTaken => WriteFailure::SlotTaken,
        BookingError::NotFound => WriteFailure::NotFound,
        BookingError::Storage(err) => {
            tracing::error!(error = %err, "booking write failed");
            WriteFailure::Failed
        }
    }
}
