//! What the call's loop waits on besides the socket: each future is
//! pending while its part of the call is idle.

use futures::future::BoxFuture;

use crate::adapters::speech::{SpeechError, SttEvent, SttStream, TtsAudio, TtsStream};
use crate::runtime::call_acks::AckClips;
use crate::runtime::call_payment::CallHold;
use crate::runtime::call_setup::{BotReply, ConversationError};
use crate::runtime::payments::CallEffect;

pub(super) async fn next_stt(stt: &mut Option<Box<dyn SttStream>>) -> Option<SttEvent> {
    match stt {
        Some(s) => s.as_mut().next_event().await,
        None => std::future::pending().await,
    }
}

pub(super) async fn next_tts(
    synth: &mut Option<TtsStream>,
) -> Option<Result<TtsAudio, SpeechError>> {
    match synth {
        Some(s) => s.next_chunk().await,
        None => std::future::pending().await,
    }
}

pub(super) async fn next_acks(
    coming: &mut Option<tokio::sync::oneshot::Receiver<AckClips>>,
) -> Option<AckClips> {
    match coming {
        Some(rx) => rx.await.ok(),
        None => std::future::pending().await,
    }
}

pub(super) async fn next_hold_effect(hold: &mut Option<CallHold>) -> Option<CallEffect> {
    match hold {
        Some(h) => h.next_effect().await,
        None => std::future::pending().await,
    }
}

pub(super) async fn next_moment(moment: &mut Option<std::pin::Pin<Box<tokio::time::Sleep>>>) {
    match moment {
        Some(m) => m.as_mut().await,
        None => std::future::pending().await,
    }
}

pub(super) async fn next_reply(
    reply: &mut Option<BoxFuture<'static, Result<BotReply, ConversationError>>>,
) -> Result<BotReply, ConversationError> {
    match reply {
        Some(f) => f.await,
        None => std::future::pending().await,
    }
}
