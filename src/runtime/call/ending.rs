//! How the bot ends a call: once its last line has been heard, through the
//! provider's REST call control when the deployment has it — put the caller
//! through to a person (a hand-off with a transfer) or hang up — and by
//! closing the media socket otherwise (and after the request). A transfer
//! the provider refuses becomes the promise of a call back, said, then a
//! hang-up.

use super::*;
use crate::adapters::telephony::control::ControlError;
use crate::core::ids::PhoneNumber;
use crate::core::messages::HandoffMsg;

/// The intent recorded on the line said when a transfer failed.
const TRANSFER_FAILED: &str = "handoff_transfer_failed";

/// What was asked of the provider.
#[derive(Debug, Clone)]
enum Request {
    Transfer(PhoneNumber),
    HangUp,
}

type Pending = BoxFuture<'static, Result<(), ControlError>>;

pub(super) struct Ending {
    control: Option<(Arc<dyn CallControl>, LiveCall)>,
    /// A hand-off line has started: the caller's turns are recorded but no
    /// longer answered (the call is about to be put through or end).
    closing: bool,
    request: Option<(Request, Pending)>,
}

impl Ending {
    pub(super) fn new(control: Option<(Arc<dyn CallControl>, LiveCall)>) -> Self {
        Self {
            control,
            closing: false,
            request: None,
        }
    }

    pub(super) fn closing(&self) -> bool {
        self.closing
    }

    pub(super) fn handing_off(&mut self) {
        self.closing = true;
    }

    /// The answer to the request in flight (pending while there is none).
    pub(super) async fn next_result(&mut self) -> Result<(), ControlError> {
        match &mut self.request {
            Some((_, pending)) => pending.await,
            None => std::future::pending().await,
        }
    }
}

impl Call {
    /// The bot is done with the call: put the caller through (a hand-off
    /// with a transfer) or hang up.
    pub(super) fn end_call(&mut self, handoff: Option<CallHandoff>) {
        if self.ending.request.is_some() || self.hang_up {
            return; // already ending
        }
        if let Some(h) = &handoff {
            self.ending.closing = true;
            self.report.handoff = Some((h.clone(), false));
        }
        let Some((control, call)) = self.ending.control.clone() else {
            // No REST control: closing the socket ends the bot's part (the
            // provider then runs whatever follows the stream: nothing).
            self.hang_up = true;
            return;
        };
        let request = match handoff {
            Some(CallHandoff::Transfer { to }) => Request::Transfer(to),
            Some(CallHandoff::Promise) | None => Request::HangUp,
        };
        info!(
            provider = %control.provider(),
            request = match &request {
                Request::Transfer(_) => "transfer",
                Request::HangUp => "hang_up",
            },
            "asking the provider to end the call"
        );
        let asked = request.clone();
        let pending: Pending = Box::pin(async move {
            match &asked {
                Request::Transfer(to) => control.transfer(&call, to).await,
                Request::HangUp => control.hang_up(&call).await,
            }
        });
        self.ending.request = Some((request, pending));
    }

    pub(super) fn on_control(&mut self, result: Result<(), ControlError>) {
        let Some((request, _)) = self.ending.request.take() else {
            return;
        };
        match (request, result) {
            (_, Ok(())) => {
                if let Some((_, done)) = self.report.handoff.as_mut() {
                    *done = true;
                }
                // The provider has the call now; our stream is over.
                self.hang_up = true;
            }
            (Request::Transfer(to), Err(e)) => {
                warn!(error = %e, "the provider did not put the caller through; promising a call back");
                self.report.handoff = Some((CallHandoff::Promise, false));
                // The hand-off line said "transfer": the team must now call
                // back, and their notice has to say so.
                let mut call = serde_json::json!(CallHandoff::Promise);
                call["transfer_failed"] = serde_json::json!({"to": to, "error": e.kind()});
                self.writer.send(CallRow::HandoffRoute {
                    tenant: self.ctx.tenant.slug.clone(),
                    thread: self.ctx.thread.clone(),
                    call,
                });
                let lang = self.voice.language();
                let text = HandoffMsg::TransferFailed.text(lang);
                let mut reply = Line::said(
                    crate::adapters::speech::sentences(&text),
                    lang,
                    TRANSFER_FAILED,
                );
                reply.end_call = true;
                reply.handoff = Some(CallHandoff::Promise);
                self.say(reply, None);
            }
            (Request::HangUp, Err(e)) => {
                warn!(error = %e, "the provider did not hang up; closing the media socket");
                self.hang_up = true;
            }
        }
    }
}
