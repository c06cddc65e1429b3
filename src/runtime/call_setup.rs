//! What a call needs from the rest of the engine, as small traits so that
//! the call task can be driven in tests with in-memory stand-ins: who the
//! dialled number belongs to ([`TenantDirectory`]), what to answer
//! ([`CallConversation`]), and where rows go ([`crate::runtime::writer`]).

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;

use crate::adapters::speech::SpeechProviders;
use crate::adapters::telephony::control::CallControls;
use crate::core::dialog::handoff::CallHandoff;
#[cfg(doc)]
use crate::core::dialog::handoff::plan_call_handoff;
use crate::core::dialog::personality::Personality;
use crate::core::ids::{Lang, PhoneNumber, ThreadId};
use crate::core::tenancy::Standing;
use crate::core::turn::{Expectation, TurnDials};
use crate::runtime::metrics::Metrics;
use crate::runtime::shutdown::Shutdown;
use crate::runtime::writer::WriterHandle;

/// The tenant a call reached and its voice dials (public.tenants).
#[derive(Debug, Clone, PartialEq)]
pub struct VoiceTenant {
    pub slug: crate::core::ids::TenantSlug,
    pub name: String,
    /// `active`, `trial`, `suspended`…
    pub status: String,
    pub trial_ends_at: Option<chrono::DateTime<chrono::Utc>>,
    pub deleted_at: Option<chrono::DateTime<chrono::Utc>>,
    pub voice_enabled: bool,
    pub dials: VoiceDials,
}

impl VoiceTenant {
    /// Where the tenant stands at `now` (the rule every channel applies).
    pub fn standing(&self, now: chrono::DateTime<chrono::Utc>) -> Standing {
        Standing::of(Some(&self.status), self.trial_ends_at, self.deleted_at, now)
    }

    /// Whether calls to this tenant may be answered by the bot at `now`.
    pub fn takes_calls(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.voice_enabled && self.standing(now).serves()
    }
}

/// The tenant's voice dials (public.tenants). The turn engine's own are
/// kept as stored: a NULL number means the core's tuned default
/// ([`crate::core::turn::TurnConfig::from_dials`]), the one table of them.
#[derive(Debug, Clone, PartialEq)]
pub struct VoiceDials {
    pub turn: TurnDials,
    pub streaming: bool,
    pub greeting_language: Lang,
    pub default_speaker: Option<String>,
    /// The personality dials (tenant_personality_config over the vertical's
    /// defaults): the call's greeting follows them.
    pub personality: Personality,
    /// Where a caller who asks for a person is put through
    /// (tenants.voice_transfer_number), if anywhere.
    pub transfer_to: Option<PhoneNumber>,
}

impl Default for VoiceDials {
    /// The column defaults of a new tenant, but full duplex with the
    /// backchannel filter (test and bench stand-ins); numbers NULL.
    fn default() -> Self {
        Self {
            turn: TurnDials {
                voice_full_duplex_enabled: true,
                voice_backchannel_filter: true,
                ..TurnDials::default()
            },
            streaming: true,
            greeting_language: Lang::En,
            default_speaker: None,
            personality: Personality::default(),
            transfer_to: None,
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

    /// The tenant with this slug and its web look, for calls that dial no
    /// number (the browser call page). A directory that knows tenants only
    /// by number finds none.
    fn by_slug<'a>(
        &'a self,
        _slug: &'a crate::core::ids::TenantSlug,
    ) -> BoxFuture<'a, Result<Option<WebTenant>, DirectoryError>> {
        Box::pin(async { Ok(None) })
    }
}

/// A tenant as its web pages show it (public.tenants' widget columns).
#[derive(Debug, Clone, PartialEq)]
pub struct WebTenant {
    pub voice: VoiceTenant,
    /// `widget_display_name`, else the tenant's name.
    pub display_name: String,
    /// `widget_primary_color` (a CSS colour as stored; the page checks it).
    pub primary_color: String,
}

impl WebTenant {
    /// The column default colour (migrations/public/0001_registry.sql).
    pub const DEFAULT_COLOR: &'static str = "#0F766E";
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

    fn by_slug<'a>(
        &'a self,
        slug: &'a crate::core::ids::TenantSlug,
    ) -> BoxFuture<'a, Result<Option<WebTenant>, DirectoryError>> {
        let found = self
            .0
            .values()
            .find(|t| &t.slug == slug)
            .map(|t| WebTenant {
                display_name: t.name.clone(),
                primary_color: WebTenant::DEFAULT_COLOR.to_owned(),
                voice: t.clone(),
            });
        Box::pin(async move { Ok(found) })
    }
}

/// One caller turn handed to the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerTurn {
    /// Unique on the call and kept across retries of the turn.
    pub key: String,
    pub text: String,
    pub language: Option<Lang>,
    /// Keypad digits pressed during the turn.
    pub dtmf: String,
}

/// The conversation's answer, sentence by sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotReply {
    pub sentences: Vec<String>,
    pub language: Lang,
    pub intent: Option<String>,
    /// The conversation is over: hang up once this has been heard.
    pub end_call: bool,
    /// interactions rows the conversation already wrote for this reply (the
    /// call then adds what was heard to them instead of writing its own).
    pub recorded: Vec<uuid::Uuid>,
    /// Payments the dialog asked for with this reply (appointment, amount):
    /// the call holds the caller while an M-Pesa prompt is paid.
    pub payments: Vec<(uuid::Uuid, crate::core::ids::Money)>,
    /// What the dialog waits for next (digits, a date, yes or no): the turn
    /// engine's endpointing follows it.
    pub expecting: Expectation,
    /// The dialog handed the call to a person: once this reply has been
    /// heard the call is put through or hung up, as this says.
    pub handoff: Option<CallHandoff>,
    /// Answered without the database (it was away): the dialog's new state,
    /// which the call writes through its writer with the caller's turn.
    pub unsaved: Option<crate::runtime::offline_turn::UnsavedCheckpoint>,
}

impl BotReply {
    /// A reply the call itself composed (not the dialog's).
    pub fn said(sentences: Vec<String>, language: Lang, intent: &str) -> Self {
        Self {
            sentences,
            language,
            intent: Some(intent.to_owned()),
            end_call: false,
            recorded: Vec::new(),
            payments: Vec::new(),
            expecting: Expectation::Anything,
            handoff: None,
            unsaved: None,
        }
    }
}

/// What the call says of a reply (the payments and the expectation are
/// the call's to act on first).
impl From<BotReply> for crate::core::playback::Line {
    fn from(r: BotReply) -> Self {
        Self {
            sentences: r.sentences,
            language: r.language,
            intent: r.intent,
            end_call: r.end_call,
            handoff: r.handoff,
            recorded: r.recorded,
        }
    }
}

/// Who is calling and which thread the call writes to.
#[derive(Debug, Clone)]
pub struct CallContext {
    pub tenant: VoiceTenant,
    pub thread: ThreadId,
    pub caller: Option<PhoneNumber>,
    /// How this call reaches a person if the caller asks for one: decided
    /// when it starts ([`plan_call_handoff`]) from the tenant's transfer
    /// number and what the provider's call control can do.
    pub handoff: CallHandoff,
}

#[derive(Debug, thiserror::Error)]
#[error("conversation failed: {message}")]
pub struct ConversationError {
    pub message: String,
    /// The database failed: the same turn may succeed if tried again.
    pub retryable: bool,
}

impl ConversationError {
    /// A failure that trying again will not mend.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: false,
        }
    }

    /// The database could not do the turn's work (a blip, a restart).
    pub fn storage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: true,
        }
    }
}

/// The dialog behind a call.
pub trait CallConversation: Send + Sync {
    /// The first thing the bot says: the tenant's greeting as its
    /// personality dials shape it.
    fn greeting(&self, ctx: &CallContext) -> BotReply {
        call_greeting(ctx)
    }
    /// Answers one caller turn. `turn_key` names the turn uniquely on the
    /// call: a turn tried again after a database error comes with the
    /// same key, so a conversation that records turns records it once.
    fn reply<'a>(
        &'a self,
        ctx: &'a CallContext,
        turn: CallerTurn,
    ) -> BoxFuture<'a, Result<BotReply, ConversationError>>;
    /// Whether the conversation records caller turns and its replies in
    /// interactions itself.
    fn records_turns(&self) -> bool {
        false
    }
    /// What to say once a payment hold is over, so the conversation goes on.
    fn after_payment(&self, _ctx: &CallContext, language: Lang) -> BotReply {
        let text = crate::core::messages::call::CallLine::AnythingElse.text(language);
        BotReply::said(vec![text.to_owned()], language, "payment_done")
    }
    /// The call is over; `report` is what happened on it (turn events on
    /// the audio clock, lines, barge-ins).
    fn call_ended(&self, _ctx: &CallContext, _report: &crate::runtime::call::CallReport) {}
}

/// A conversation that greets by the tenant's name and repeats what it
/// heard: enough to exercise a call end to end without the dialog engine.
#[derive(Debug, Default, Clone)]
pub struct EchoConversation;

/// The call's greeting: the tenant's personality dials in its greeting
/// language (the same words a chat greets with, less the list of what the
/// bot can do).
pub fn call_greeting(ctx: &CallContext) -> BotReply {
    let lang = ctx.tenant.dials.greeting_language;
    let text = crate::core::messages::greeting::greeting(
        &ctx.tenant.dials.personality,
        lang,
        &ctx.tenant.name,
        None,
        crate::core::dialog::Channel::Voice,
    );
    BotReply::said(crate::adapters::speech::sentences(&text), lang, "greeting")
}

impl CallConversation for EchoConversation {
    fn reply<'a>(
        &'a self,
        _ctx: &'a CallContext,
        turn: CallerTurn,
    ) -> BoxFuture<'a, Result<BotReply, ConversationError>> {
        Box::pin(async move {
            let lang = turn.language.unwrap_or_default();
            let heard = if turn.text.is_empty() {
                format!("You pressed {}.", turn.dtmf)
            } else {
                format!("You said: {}.", turn.text)
            };
            Ok(BotReply::said(
                vec![heard, "Is there anything else?".into()],
                lang,
                "echo",
            ))
        })
    }
}

/// A conversation whose greeting also says that the call understands
/// English only (its recognizer is the local model): everything else is
/// the inner conversation's.
pub struct EnglishOnlyLine(pub Arc<dyn CallConversation>);

impl CallConversation for EnglishOnlyLine {
    fn greeting(&self, ctx: &CallContext) -> BotReply {
        let mut reply = self.0.greeting(ctx);
        let notice = crate::core::messages::call::CallLine::EnglishOnly;
        let at = reply.sentences.len().saturating_sub(1);
        for (i, s) in crate::adapters::speech::sentences(notice.text(reply.language))
            .into_iter()
            .enumerate()
        {
            reply.sentences.insert(at + i, s);
        }
        reply
    }

    fn reply<'a>(
        &'a self,
        ctx: &'a CallContext,
        turn: CallerTurn,
    ) -> BoxFuture<'a, Result<BotReply, ConversationError>> {
        self.0.reply(ctx, turn)
    }

    fn records_turns(&self) -> bool {
        self.0.records_turns()
    }

    fn after_payment(&self, ctx: &CallContext, language: Lang) -> BotReply {
        self.0.after_payment(ctx, language)
    }

    fn call_ended(&self, ctx: &CallContext, report: &crate::runtime::call::CallReport) {
        self.0.call_ended(ctx, report)
    }
}

pub use crate::runtime::call_dialog::DialogConversation;

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
    /// The other providers' signature secrets and the per-call media
    /// tokens (`http::media_auth`).
    pub auth: Arc<crate::http::media_auth::TelephonyAuth>,
    /// Whether calls may bring a transcript sidecar for the scripted
    /// recognizer (demo and test setups).
    pub allow_scripted_transcripts: bool,
    pub shutdown: Shutdown,
    /// Calls keep a log of their turn engine's events and cues in their
    /// report (tests that replay a call; off in production).
    pub turn_log: bool,
    /// Takes M-Pesa payments while the caller holds; without it a call
    /// books and leaves payment to other channels.
    pub payments: Option<Arc<crate::runtime::payments::PaymentService>>,
    /// Where payment links promised on a call go (the WhatsApp runtime).
    pub payment_links:
        Option<tokio::sync::mpsc::Sender<crate::runtime::call_payment::PaymentLinkRequest>>,
    /// The providers' call control (transfer to a person, hang up).
    pub control: CallControls,
}

// ------------------------------------------------------------ production wiring

impl From<crate::storage::TenantRecord> for VoiceTenant {
    fn from(r: crate::storage::TenantRecord) -> Self {
        Self {
            slug: r.slug,
            name: r.name,
            status: r.status.unwrap_or_else(|| "active".to_owned()),
            trial_ends_at: r.trial_ends_at,
            deleted_at: r.deleted_at,
            voice_enabled: r.voice_enabled,
            dials: VoiceDials {
                turn: TurnDials {
                    voice_full_duplex_enabled: r.voice_full_duplex_enabled,
                    voice_backchannel_filter: r.voice_backchannel_filter,
                    voice_hard_interrupt: r.voice_hard_interrupt,
                    voice_listening_ack: r.voice_listening_ack,
                    voice_adaptive_speed: r.voice_adaptive_speed,
                    voice_eot_silence_ms: r.voice_eot_silence_ms,
                    voice_endpointing_min_delay_ms: r.voice_endpointing_min_delay_ms,
                    voice_endpointing_max_delay_ms: r.voice_endpointing_max_delay_ms,
                },
                streaming: r.voice_streaming,
                greeting_language: r
                    .voice_greeting_language
                    .as_deref()
                    .and_then(Lang::from_code)
                    .unwrap_or_default(),
                default_speaker: r.voice_default_speaker,
                // The vertical's defaults; the directory adds the tenant's
                // own row where it can read it.
                personality: Personality::resolve(&r.vertical, None),
                transfer_to: r
                    .voice_transfer_number
                    .as_deref()
                    .and_then(|n| PhoneNumber::parse(n).ok()),
            },
        }
    }
}

impl TenantDirectory for crate::storage::Db {
    fn by_voice_number<'a>(
        &'a self,
        number: &'a PhoneNumber,
    ) -> BoxFuture<'a, Result<Option<VoiceTenant>, DirectoryError>> {
        Box::pin(async move {
            let Some(record) = self
                .tenant_by_voice_number(number)
                .await
                .map_err(|e| DirectoryError(e.to_string()))?
            else {
                return Ok(None);
            };
            Ok(Some(voice_tenant(self, record).await))
        })
    }

    fn by_slug<'a>(
        &'a self,
        slug: &'a crate::core::ids::TenantSlug,
    ) -> BoxFuture<'a, Result<Option<WebTenant>, DirectoryError>> {
        Box::pin(async move {
            let found = self
                .tenant_by_slug(slug)
                .await
                .map_err(|e| DirectoryError(e.to_string()))?;
            let Some(r) = found else {
                return Ok(None);
            };
            Ok(Some(WebTenant {
                display_name: r
                    .widget_display_name
                    .clone()
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| r.name.clone()),
                primary_color: r.widget_primary_color.clone(),
                voice: voice_tenant(self, r).await,
            }))
        })
    }
}

/// A tenant's voice settings with its own personality dials; the
/// vertical's stand if they cannot be read (the call must not wait on them).
async fn voice_tenant(
    db: &crate::storage::Db,
    record: crate::storage::TenantRecord,
) -> VoiceTenant {
    let vertical = record.vertical.clone();
    let slug = record.slug.clone();
    let mut tenant = VoiceTenant::from(record);
    match crate::storage::booking::personality_of(&db.tenant(&slug)).await {
        Ok(row) => {
            tenant.dials.personality = Personality::resolve(&vertical, row.as_ref());
        }
        Err(e) => {
            tracing::warn!(tenant = %slug, error = %e, "personality dials unreadable; the vertical's defaults greet");
        }
    }
    tenant
}

/// The call machinery of a running server: the services the media routes
/// use and the writer task to await at shutdown (it drains its queue).
pub struct CallRuntime {
    pub services: CallServices,
    pub writer_task: tokio::task::JoinHandle<()>,
}

impl CallRuntime {
    /// Starts the writer on `db` and chooses speech providers from
    /// settings. Without a public URL, stream URLs point at `listen`.
    pub fn start(
        db: &crate::storage::Db,
        settings: &crate::config::Settings,
        listen: std::net::SocketAddr,
        shutdown: &Shutdown,
    ) -> Self {
        let metrics = Arc::new(Metrics::default());
        let (writer, writer_task) = crate::runtime::writer::spawn(
            Arc::new(crate::runtime::writer::DbSink::new(db.clone())),
            Arc::clone(&metrics),
            crate::runtime::writer::DEFAULT_QUEUE,
            shutdown.clone(),
            std::time::Duration::from_secs(10),
        );
        let s = &settings.speech;
        let speech = SpeechProviders::from_settings(&crate::adapters::speech::SpeechSettings {
            deepgram_api_key: s.deepgram_api_key.as_ref().map(|k| k.expose().to_owned()),
            deepgram_url: Some(s.deepgram_url.to_string()),
            elevenlabs_api_key: s.elevenlabs_api_key.as_ref().map(|k| k.expose().to_owned()),
            elevenlabs_url: Some(s.elevenlabs_url.to_string()),
            whisper_url: s.whisper_url.as_ref().map(|u| u.to_string()),
            whisper_model: None,
            espeak_path: Some(s.espeak_path.display().to_string()),
            request_timeout: None,
            local_whisper_model: s.whisper_model.clone(),
        });
        let public_base_url = settings
            .core
            .public_base_url
            .as_ref()
            .map(|u| u.to_string().trim_end_matches('/').to_owned())
            .unwrap_or_else(|| format!("http://{listen}"));
        tracing::info!(stt = ?speech.stt.as_ref().map(|s| s.name()), tts = speech.tts.name(), "speech providers");
        let directory = crate::runtime::call_directory::CachedDirectory::new(Arc::new(db.clone()));
        // Ends with the server (shutdown); nothing to await.
        let _refresh = directory.spawn_refresh(
            crate::runtime::call_directory::REFRESH_EVERY,
            shutdown.clone(),
        );
        let auth = Arc::new(crate::http::media_auth::TelephonyAuth::from_settings(
            settings,
        ));
        let control = CallControls::from_settings(
            &settings.telephony,
            &public_base_url,
            auth.media_key().clone(),
        );
        tracing::info!(control = ?control, "telephony call control");
        let mut service = crate::runtime::conversation::ConversationService::new(db.clone())
            .with_call_llm_budget(settings.llm.llm_call_budget);
        if let Some(llm) = crate::adapters::llm::LlmInterpreter::from_settings(&settings.llm) {
            service = service.with_interpreter(Arc::new(llm));
        }
        Self {
            services: CallServices {
                directory: Arc::new(directory),
                conversation: Arc::new(DialogConversation::with_service(service)),
                // Without a cloud recognizer, calls that bring a
                // transcript sidecar (demo calls) are understood through it.
                allow_scripted_transcripts: speech.stt.as_ref().is_none_or(|s| s.runs_locally()),
                speech,
                writer,
                metrics,
                public_base_url,
                twilio_auth_token: settings
                    .telephony
                    .twilio_auth_token
                    .as_ref()
                    .map(|t| t.expose().to_owned()),
                auth,
                shutdown: shutdown.clone(),
                turn_log: false,
                payments: None,
                payment_links: None,
                control,
            },
            writer_task,
        }
    }

    /// Payment links promised on calls are sent through `links`.
    pub fn with_payment_links(
        mut self,
        links: tokio::sync::mpsc::Sender<crate::runtime::call_payment::PaymentLinkRequest>,
    ) -> Self {
        self.services.payment_links = Some(links);
        self
    }

    /// Calls take payments through `service` (the node's payment service).
    pub fn with_payments(mut self, service: Arc<crate::runtime::payments::PaymentService>) -> Self {
        self.services.payments = Some(service);
        self
    }

    /// The media, webhook and metrics routes.
    pub fn router(&self) -> axum::Router {
        crate::http::media::router(self.services.clone()).merge(crate::http::metrics::router(
            Arc::clone(&self.services.metrics),
        ))
    }
}
