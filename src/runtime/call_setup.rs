//! What a call needs from the rest of the engine, as small traits so that
//! the call task can be driven in tests with in-memory stand-ins: who the
//! dialled number belongs to ([`TenantDirectory`]), what to answer
//! ([`CallConversation`]), and where rows go ([`crate::runtime::writer`]).

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;

use crate::adapters::speech::SpeechProviders;
use crate::core::ids::{PhoneNumber, ThreadId};
use crate::runtime::metrics::Metrics;
use crate::runtime::writer::WriterHandle;

/// The tenant a call reached and its voice dials (public.tenants).
#[derive(Debug, Clone, PartialEq)]
pub struct VoiceTenant {
    pub slug: crate::core::ids::TenantSlug,
    pub name: String,
    /// `active`, `trial`, `suspended`…
    pub status: String,
    pub voice_enabled: bool,
    pub dials: VoiceDials,
}

impl VoiceTenant {
    /// Whether calls to this tenant may be answered by the bot.
    pub fn takes_calls(&self) -> bool {
        self.voice_enabled && matches!(self.status.as_str(), "active" | "trial")
    }
}

/// The tenant's voice dials, with project defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct VoiceDials {
    pub full_duplex: bool,
    pub backchannel_filter: bool,
    pub hard_interrupt: bool,
    pub streaming: bool,
    pub listening_ack: bool,
    pub adaptive_speed: bool,
    pub eot_silence_ms: u64,
    pub endpointing_min_delay_ms: u64,
    pub endpointing_max_delay_ms: u64,
    /// `en` or `sw`.
    pub greeting_language: String,
    pub default_speaker: Option<String>,
}

impl Default for VoiceDials {
    fn default() -> Self {
        Self {
            full_duplex: true,
            backchannel_filter: true,
            hard_interrupt: false,
            streaming: true,
            listening_ack: false,
            adaptive_speed: false,
            eot_silence_ms: 700,
            endpointing_min_delay_ms: 300,
            endpointing_max_delay_ms: 2000,
            greeting_language: "en".into(),
            default_speaker: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("tenant directory unavailable: {0}")]
pub struct DirectoryError(pub String);

/// Finds the tenant behind a dialled number.
pub trait TenantDirectory: Send + Sync {
    fn by_voice_number<'a>(
        &'a self,
        number: &'a PhoneNumber,
    ) -> BoxFuture<'a, Result<Option<VoiceTenant>, DirectoryError>>;
}

/// A fixed directory (tests, benches).
#[derive(Debug, Default, Clone)]
pub struct StaticDirectory(pub HashMap<PhoneNumber, VoiceTenant>);

impl TenantDirectory for StaticDirectory {
    fn by_voice_number<'a>(
        &'a self,
        number: &'a PhoneNumber,
    ) -> BoxFuture<'a, Result<Option<VoiceTenant>, DirectoryError>> {
        let found = self.0.get(number).cloned();
        Box::pin(async move { Ok(found) })
    }
}

/// One caller turn handed to the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerTurn {
    pub text: String,
    pub language: Option<String>,
    /// Keypad digits pressed during the turn.
    pub dtmf: String,
}

/// The conversation's answer, sentence by sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotReply {
    pub sentences: Vec<String>,
    /// `en` or `sw`.
    pub language: String,
    pub intent: Option<String>,
    /// The conversation is over: hang up once this has been heard.
    pub end_call: bool,
}

/// Who is calling and which thread the call writes to.
#[derive(Debug, Clone)]
pub struct CallContext {
    pub tenant: VoiceTenant,
    pub thread: ThreadId,
    pub caller: Option<PhoneNumber>,
}

#[derive(Debug, thiserror::Error)]
#[error("conversation failed: {0}")]
pub struct ConversationError(pub String);

/// The dialog behind a call.
pub trait CallConversation: Send + Sync {
    /// The first thing the bot says.
    fn greeting(&self, ctx: &CallContext) -> BotReply;
    fn reply<'a>(
        &'a self,
        ctx: &'a CallContext,
        turn: CallerTurn,
    ) -> BoxFuture<'a, Result<BotReply, ConversationError>>;
}

/// A conversation that greets by the tenant's name and repeats what it
/// heard: enough to exercise a call end to end without the dialog engine.
#[derive(Debug, Default, Clone)]
pub struct EchoConversation;

impl CallConversation for EchoConversation {
    fn greeting(&self, ctx: &CallContext) -> BotReply {
        let lang = ctx.tenant.dials.greeting_language.clone();
        let text = if lang == "sw" {
            format!("Habari, karibu {}. Nikusaidie vipi?", ctx.tenant.name)
        } else {
            format!("Hello, welcome to {}. How can I help?", ctx.tenant.name)
        };
        BotReply {
            sentences: crate::adapters::speech::sentences(&text),
            language: lang,
            intent: Some("greeting".into()),
            end_call: false,
        }
    }

    fn reply<'a>(
        &'a self,
        _ctx: &'a CallContext,
        turn: CallerTurn,
    ) -> BoxFuture<'a, Result<BotReply, ConversationError>> {
        Box::pin(async move {
            let lang = turn.language.clone().unwrap_or_else(|| "en".into());
            let heard = if turn.text.is_empty() {
                format!("You pressed {}.", turn.dtmf)
            } else {
                format!("You said: {}.", turn.text)
            };
            Ok(BotReply {
                sentences: vec![heard, "Is there anything else?".into()],
                language: lang,
                intent: Some("echo".into()),
                end_call: false,
            })
        })
    }
}

/// Everything the media routes need to run calls.
#[derive(Clone)]
pub struct CallServices {
    pub directory: Arc<dyn TenantDirectory>,
    pub conversation: Arc<dyn CallConversation>,
    pub speech: SpeechProviders,
    pub writer: WriterHandle,
    pub metrics: Arc<Metrics>,
    /// Base URL providers reach us at (for stream URLs and signatures).
    pub public_base_url: String,
    /// Twilio auth token; when set, webhooks must carry a valid signature.
    pub twilio_auth_token: Option<String>,
    /// Whether calls may bring a transcript sidecar for the scripted
    /// recognizer (demo and test setups).
    pub allow_scripted_transcripts: bool,
    pub shutdown: tokio_util_shutdown::Shutdown,
}

/// A cloneable shutdown signal (a watch channel underneath).
pub mod tokio_util_shutdown {
    use tokio::sync::watch;

    #[derive(Debug, Clone)]
    pub struct Shutdown {
        rx: watch::Receiver<bool>,
    }

    #[derive(Debug)]
    pub struct ShutdownTrigger {
        tx: watch::Sender<bool>,
    }

    pub fn channel() -> (ShutdownTrigger, Shutdown) {
        let (tx, rx) = watch::channel(false);
        (ShutdownTrigger { tx }, Shutdown { rx })
    }

    impl ShutdownTrigger {
        pub fn trigger(&self) {
            let _ = self.tx.send(true);
        }
    }

    impl Shutdown {
        /// Never shuts down (tests).
        pub fn never() -> Self {
            let (tx, rx) = watch::channel(false);
            std::mem::forget(tx);
            Self { rx }
        }

        pub fn is_triggered(&self) -> bool {
            *self.rx.borrow()
        }

        /// Resolves once shutdown is triggered (or the trigger is gone).
        pub async fn wait(&mut self) {
            let _ = self.rx.wait_for(|v| *v).await;
        }
    }
}
