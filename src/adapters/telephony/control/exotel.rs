//! Exotel has no API to transfer or end a call in progress (its Voicebot
//! applet is driven by the call flow). So the bot ends its stream — the
//! flow then goes on to its next applet — and says what it wanted through
//! the flow itself: the Voicebot applet is followed by a synchronous
//! Passthru applet on `/voice/exotel/next`, which answers `200` (the flow's
//! "success" branch: a Connect applet whose dynamic number URL is
//! `/voice/exotel/transfer-number`) when the bot put the caller through,
//! and `302` (the other branch: Hangup) otherwise. The decisions are kept
//! in memory for [`DECISION_TTL`] on the node that ran the call.
//!
//! Without that flow (`EXOTEL_TRANSFER_FLOW` unset) Exotel callers are
//! promised a call back; ending the stream still ends the bot's part.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

use super::{CallControl, ControlError, LiveCall};
use crate::adapters::telephony::Provider;
use crate::core::ids::PhoneNumber;

/// How long a decision waits for the flow's Passthru.
pub const DECISION_TTL: Duration = Duration::from_secs(600);

/// What the bot decided for an Exotel call whose stream it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowDecision {
    /// Put the caller through to this number (the Connect applet).
    Transfer(PhoneNumber),
    /// Hang up.
    HangUp,
}

/// Decisions by Exotel CallSid, for the flow's Passthru to read.
#[derive(Debug, Default)]
pub struct ExotelFlow {
    decisions: Mutex<HashMap<String, (FlowDecision, Instant)>>,
}

impl ExotelFlow {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (FlowDecision, Instant)>> {
        self.decisions.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn decide(&self, call_sid: &str, decision: FlowDecision) {
        let mut map = self.lock();
        map.retain(|_, (_, at)| at.elapsed() < DECISION_TTL);
        map.insert(call_sid.to_owned(), (decision, Instant::now()));
    }

    /// The decision for `call_sid` (none: hang up).
    pub fn decision(&self, call_sid: &str) -> Option<FlowDecision> {
        self.lock()
            .get(call_sid)
            .filter(|(_, at)| at.elapsed() < DECISION_TTL)
            .map(|(d, _)| d.clone())
    }
}

pub struct ExotelControl {
    flow: Arc<ExotelFlow>,
    transfers: bool,
}

impl ExotelControl {
    /// `transfers`: the tenants' flows have the Passthru and Connect applets.
    pub fn new(flow: Arc<ExotelFlow>, transfers: bool) -> Self {
        Self { flow, transfers }
    }
}

impl CallControl for ExotelControl {
    fn provider(&self) -> Provider {
        Provider::Exotel
    }

    fn can_transfer(&self) -> bool {
        self.transfers
    }

    fn transfer<'a>(
        &'a self,
        call: &'a LiveCall,
        to: &'a PhoneNumber,
    ) -> BoxFuture<'a, Result<(), ControlError>> {
        Box::pin(async move {
            if !self.transfers {
                return Err(ControlError::CannotTransfer {
                    provider: Provider::Exotel,
                });
            }
            let id = call.path_id(Provider::Exotel)?;
            self.flow.decide(id, FlowDecision::Transfer(to.clone()));
            Ok(())
        })
    }

    fn hang_up<'a>(&'a self, call: &'a LiveCall) -> BoxFuture<'a, Result<(), ControlError>> {
        Box::pin(async move {
            let id = call.path_id(Provider::Exotel)?;
            self.flow.decide(id, FlowDecision::HangUp);
            Ok(())
        })
    }
}
