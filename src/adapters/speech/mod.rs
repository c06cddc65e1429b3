//! Speech providers behind two small traits: streaming speech-to-text
//! ([`SpeechToText`] / [`SttStream`]) and streaming text-to-speech
//! ([`TextToSpeech`] / [`TtsStream`]).
//!
//! The call task owns one `SttStream` and at most one `TtsStream` at a time
//! and polls them inside its `select!`; providers that talk to the network
//! run a small task of their own behind a channel so that a slow provider
//! never blocks the call's audio. Streams are cancelled by dropping them.
//!
//! Audio crosses these traits as 16-bit PCM: the caller's audio at 16 kHz
//! going in; synthesized audio coming out at whatever rate the provider
//! makes (or µ-law 8 kHz when the provider can produce the call's own
//! format, which skips a resample). The call runtime converts at the edge.
//!
//! Providers are chosen from settings: an adapter without its key (or URL)
//! is simply not offered; the embedded defaults are Whisper tiny.en run
//! locally (English; feature `local-whisper` and its model file), the
//! scripted recognizer (transcript sidecars, for demo calls and tests) and
//! local espeak-ng.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use thiserror::Error;
use tokio::sync::mpsc;

pub mod deepgram;
pub mod elevenlabs;
pub mod espeak;
pub mod local_whisper;
pub mod scripted;
pub mod whisper;

/// Caller audio sample rate given to recognizers unless a stream says
/// otherwise ([`SttOptions::sample_rate_hz`]).
pub const DEFAULT_STT_SAMPLE_RATE: u32 = 16_000;

/// One recognized word, times on the call's audio clock (ms since the
/// stream started).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
}

/// What a recognizer reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SttEvent {
    /// The recognizer heard speech start (a barge-in hint).
    SpeechStarted { at_ms: u64 },
    /// A provisional transcript of the current segment (interim result),
    /// with word timings where the provider gives them; a later partial or
    /// the final of the segment replaces it.
    Partial { text: String, words: Vec<Word> },
    /// A settled segment of the transcript; segments concatenate.
    Final {
        text: String,
        words: Vec<Word>,
        language: Option<String>,
    },
    /// The recognizer thinks the utterance is over.
    UtteranceEnd,
    /// The recognizer failed; no more events will come.
    Failed(SpeechError),
}

/// Why a speech provider failed, and whose fault it was.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SpeechError {
    #[error("speech provider unreachable: {0}")]
    ProviderUnreachable(String),
    #[error("speech provider answered {status}: {body}")]
    ProviderStatus { status: u16, body: String },
    #[error("speech provider broke its protocol: {0}")]
    ProviderProtocol(String),
    #[error("speech provider timed out after {0:?}")]
    ProviderTimeout(Duration),
    #[error("local synthesizer failed: {0}")]
    Local(String),
    #[error("bad transcript script: {0}")]
    BadScript(String),
}

/// Options for one recognition stream (one call).
#[derive(Debug, Clone)]
pub struct SttOptions {
    /// `en`, `sw`, or none to let the provider detect.
    pub language: Option<String>,
    /// Rate of the PCM pushed into the stream (the call's engine rate).
    pub sample_rate_hz: u32,
}

impl Default for SttOptions {
    fn default() -> Self {
        Self {
            language: None,
            sample_rate_hz: DEFAULT_STT_SAMPLE_RATE,
        }
    }
}

/// A recognizer factory, shared by all calls.
pub trait SpeechToText: Send + Sync {
    fn name(&self) -> &'static str;
    /// Opens one stream. Connecting happens in the background; a failure
    /// arrives as [`SttEvent::Failed`].
    fn open(&self, opts: &SttOptions) -> Box<dyn SttStream>;
    /// The languages it understands (the local model: English only).
    fn languages(&self) -> &'static [crate::core::ids::Lang] {
        &[crate::core::ids::Lang::En, crate::core::ids::Lang::Sw]
    }
    /// Whether it runs on this machine (no provider behind it): demo calls
    /// that bring a transcript sidecar may still use the scripted one.
    fn runs_locally(&self) -> bool {
        false
    }
}

/// One call's recognition stream.
pub trait SttStream: Send {
    /// Caller audio, mono PCM at the stream's [`SttOptions::sample_rate_hz`]; `at_ms` is the time of its first
    /// sample on the call's audio clock. Never blocks: a provider that falls
    /// behind loses audio, not the call.
    fn push_audio(&mut self, pcm: &[i16], at_ms: u64);
    /// The caller stopped speaking: settle what was heard (Deepgram
    /// `Finalize`, one request for per-utterance recognizers).
    fn flush(&mut self);
    /// The next event, if any is ready.
    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<SttEvent>>;
    /// Whether finals only come after [`SttStream::flush`] (per-utterance
    /// recognizers), so end of turn must wait for them.
    fn finals_need_flush(&self) -> bool {
        false
    }
}

impl dyn SttStream {
    /// Awaits the next event (`None` when the stream has ended).
    pub async fn next_event(&mut self) -> Option<SttEvent> {
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }
}

/// What to say and how.
#[derive(Debug, Clone, PartialEq)]
pub struct TtsRequest {
    pub text: String,
    pub language: crate::core::ids::Lang,
    /// Provider voice (ElevenLabs voice id; espeak voice override).
    pub voice: Option<String>,
    /// Speaking rate relative to the voice's normal, 0.7..=1.3.
    pub speed: f32,
    /// Whether the call is µ-law 8 kHz (providers that can produce it do).
    pub prefer_mulaw_8k: bool,
}

/// A piece of synthesized audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TtsAudio {
    /// 16-bit mono PCM at `sample_rate`.
    Pcm { sample_rate: u32, samples: Vec<i16> },
    /// G.711 µ-law at 8 kHz, ready for a µ-law call.
    Mulaw8k(Vec<u8>),
}

/// A synthesizer factory, shared by all calls.
pub trait TextToSpeech: Send + Sync {
    fn name(&self) -> &'static str;
    /// Starts synthesizing one sentence. Dropping the stream cancels it.
    fn synthesize(&self, req: TtsRequest) -> TtsStream;
}

/// One sentence being synthesized: audio chunks in order, then `None`.
/// Dropping it cancels the work behind it.
pub struct TtsStream {
    rx: mpsc::Receiver<Result<TtsAudio, SpeechError>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TtsStream {
    /// Runs `work` on its own task, feeding the stream through `tx`.
    pub fn spawn<F, Fut>(work: F) -> Self
    where
        F: FnOnce(mpsc::Sender<Result<TtsAudio, SpeechError>>) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(16);
        let task = tokio::spawn(work(tx));
        Self {
            rx,
            task: Some(task),
        }
    }

    pub fn poll_chunk(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<TtsAudio, SpeechError>>> {
        Pin::new(&mut self.rx).poll_recv(cx)
    }

    pub async fn next_chunk(&mut self) -> Option<Result<TtsAudio, SpeechError>> {
        self.rx.recv().await
    }
}

impl Drop for TtsStream {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Settings for the speech providers (the `speech` section).
#[derive(Debug, Clone, Default)]
pub struct SpeechSettings {
    pub deepgram_api_key: Option<String>,
    pub deepgram_url: Option<String>,
    pub elevenlabs_api_key: Option<String>,
    pub elevenlabs_url: Option<String>,
    pub whisper_url: Option<String>,
    pub whisper_model: Option<String>,
    pub espeak_path: Option<String>,
    pub request_timeout: Option<Duration>,
    /// The local recognizer's model file (feature `local-whisper`), tried
    /// when no cloud recognizer is configured; none: no local recognizer.
    pub local_whisper_model: Option<std::path::PathBuf>,
}

/// The providers on offer for this process.
#[derive(Clone)]
pub struct SpeechProviders {
    /// The configured recognizer, if any (calls that bring a transcript
    /// sidecar use the scripted recognizer instead).
    pub stt: Option<Arc<dyn SpeechToText>>,
    pub tts: Arc<dyn TextToSpeech>,
}

impl std::fmt::Debug for SpeechProviders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpeechProviders")
            .field("stt", &self.stt.as_ref().map(|s| s.name()))
            .field("tts", &self.tts.name())
            .finish()
    }
}

impl SpeechProviders {
    /// Chooses providers from settings: Deepgram, then a whisper server, for
    /// recognition; ElevenLabs, then espeak-ng, for synthesis. An adapter
    /// whose key or URL is missing is not offered.
    pub fn from_settings(s: &SpeechSettings) -> Self {
        let timeout = s.request_timeout.unwrap_or(Duration::from_secs(10));
        let stt: Option<Arc<dyn SpeechToText>> = if let Some(key) = &s.deepgram_api_key {
            Some(Arc::new(deepgram::Deepgram::new(
                key.clone(),
                s.deepgram_url
                    .clone()
                    .unwrap_or_else(|| deepgram::DEFAULT_URL.to_owned()),
                timeout,
            )))
        } else if let Some(url) = &s.whisper_url {
            Some(Arc::new(whisper::WhisperServer::new(
                url.clone(),
                s.whisper_model.clone(),
                timeout,
            )))
        } else {
            local_recognizer(s.local_whisper_model.as_deref())
        };
        let tts: Arc<dyn TextToSpeech> = match &s.elevenlabs_api_key {
            Some(key) => Arc::new(elevenlabs::ElevenLabs::new(
                key.clone(),
                s.elevenlabs_url
                    .clone()
                    .unwrap_or_else(|| elevenlabs::DEFAULT_URL.to_owned()),
                timeout,
            )),
            None => Arc::new(espeak::Espeak::new(s.espeak_path.clone())),
        };
        Self { stt, tts }
    }
}

/// The local recognizer, when this build has it and its model loads.
fn local_recognizer(model: Option<&std::path::Path>) -> Option<Arc<dyn SpeechToText>> {
    let path = model?;
    #[cfg(feature = "local-whisper")]
    {
        match local_whisper::LocalWhisper::load(path) {
            Ok(w) => Some(Arc::new(w)),
            Err(e) => {
                tracing::warn!(error = %e, "no local speech recognizer");
                None
            }
        }
    }
    #[cfg(not(feature = "local-whisper"))]
    {
        if path.is_file() {
            tracing::warn!(
                model = %path.display(),
                "a local recognizer model is installed but this build lacks it \
                 (cargo feature local-whisper; scripts/serve builds with it)"
            );
        }
        None
    }
}

/// Splits reply text into sentences for sentence-by-sentence synthesis, so
/// the first one plays while the rest is made.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        current.push(c);
        let ends =
            matches!(c, '.' | '!' | '?' | '\n') && chars.peek().is_none_or(|n| n.is_whitespace());
        if ends {
            let s = current.trim();
            if !s.is_empty() {
                out.push(s.to_owned());
            }
            current.clear();
        }
    }
    let s = current.trim();
    if !s.is_empty() {
        out.push(s.to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_at_ends_but_not_inside_numbers() {
        assert_eq!(
            sentences("Habari! Bei ni KES 1.500 tu. Karibu?\nAsante"),
            vec!["Habari!", "Bei ni KES 1.500 tu.", "Karibu?", "Asante"]
        );
        assert!(sentences("   ").is_empty());
    }

    #[test]
    fn no_keys_means_only_local_providers() {
        let p = SpeechProviders::from_settings(&SpeechSettings::default());
        assert!(p.stt.is_none());
        assert_eq!(p.tts.name(), "espeak-ng");
        let p = SpeechProviders::from_settings(&SpeechSettings {
            deepgram_api_key: Some("k".into()),
            elevenlabs_api_key: Some("k".into()),
            ..SpeechSettings::default()
        });
        assert_eq!(p.stt.map(|s| s.name()), Some("deepgram"));
        assert_eq!(p.tts.name(), "elevenlabs");
    }
}
