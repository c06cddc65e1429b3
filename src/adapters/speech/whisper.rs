//! Any OpenAI-compatible `POST /v1/audio/transcriptions` server
//! (PROTOCOLS.md 6.2: whisper.cpp's server, speaches, OpenAI itself), used
//! once per utterance: audio is kept from the first push after a flush, and
//! on [`SttStream::flush`] sent as a 16 kHz WAV with `response_format =
//! verbose_json` and word timestamps. The reply becomes one final segment,
//! word times moved onto the call's clock.

use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use tokio::sync::mpsc;

use super::{SpeechError, SpeechToText, SttEvent, SttOptions, SttStream, Word};

/// Longest utterance kept (60 s); older audio is dropped from the front.
const MAX_UTTERANCE_S: usize = 60;

#[derive(Debug, Clone)]
pub struct WhisperServer {
    base_url: String,
    model: String,
    timeout: Duration,
    http: reqwest::Client,
}

impl WhisperServer {
    /// `base_url` is the server root (`http://127.0.0.1:8080`); the path
    /// `/v1/audio/transcriptions` is appended unless already there.
    pub fn new(base_url: String, model: Option<String>, timeout: Duration) -> Self {
        Self {
            base_url,
            model: model.unwrap_or_else(|| "whisper-1".to_owned()),
            timeout,
            http: reqwest::Client::new(),
        }
    }

    fn endpoint(&self) -> String {
        let base = self.base_url.trim_end_matches('/');
        if base.ends_with("/audio/transcriptions") {
            base.to_owned()
        } else {
            format!("{base}/v1/audio/transcriptions")
        }
    }

    /// Transcribes one utterance of PCM at `sample_rate_hz`; word times
    /// relative to it.
    pub async fn transcribe(
        &self,
        pcm: &[i16],
        sample_rate_hz: u32,
        language: Option<&str>,
    ) -> Result<Transcribed, SpeechError> {
        let wav = crate::core::audio::wav::encode_pcm16(sample_rate_hz, pcm);
        let file = reqwest::multipart::Part::bytes(wav)
            .file_name("utterance.wav")
            .mime_str("audio/wav")
            .map_err(|e| SpeechError::ProviderUnreachable(e.to_string()))?;
        let mut form = reqwest::multipart::Form::new()
            .part("file", file)
            .text("model", self.model.clone())
            .text("response_format", "verbose_json")
            .text("timestamp_granularities[]", "word");
        if let Some(lang) = language {
            form = form.text("language", lang.to_owned());
        }
        let resp = self
            .http
            .post(self.endpoint())
            .multipart(form)
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| self.request_error(e))?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| self.request_error(e))?;
        if !status.is_success() {
            return Err(SpeechError::ProviderStatus {
                status: status.as_u16(),
                body: String::from_utf8_lossy(&body).chars().take(200).collect(),
            });
        }
        let parsed: Transcription = serde_json::from_slice(&body)
            .map_err(|e| SpeechError::ProviderProtocol(format!("bad JSON: {e}")))?;
        let words = parsed
            .words
            .into_iter()
            .map(|w| Word {
                text: w.word.trim().to_owned(),
                start_ms: (w.start.max(0.0) * 1000.0) as u64,
                end_ms: (w.end.max(0.0) * 1000.0) as u64,
            })
            .collect();
        Ok((parsed.text.trim().to_owned(), words, parsed.language))
    }

    fn request_error(&self, e: reqwest::Error) -> SpeechError {
        if e.is_timeout() {
            SpeechError::ProviderTimeout(self.timeout)
        } else {
            SpeechError::ProviderUnreachable(e.to_string())
        }
    }
}

#[derive(Deserialize)]
struct Transcription {
    text: String,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    words: Vec<TimedWord>,
}

#[derive(Deserialize)]
struct TimedWord {
    word: String,
    start: f64,
    end: f64,
}

impl Transcriber for WhisperServer {
    fn transcribe_utterance(
        &self,
        pcm: Vec<i16>,
        sample_rate_hz: u32,
        language: Option<String>,
    ) -> BoxFuture<'static, Result<Transcribed, SpeechError>> {
        let server = self.clone();
        Box::pin(async move {
            server
                .transcribe(&pcm, sample_rate_hz, language.as_deref())
                .await
        })
    }
}

impl SpeechToText for WhisperServer {
    fn name(&self) -> &'static str {
        "whisper"
    }

    fn open(&self, opts: &SttOptions) -> Box<dyn SttStream> {
        Box::new(UtteranceStream::new(self.clone(), opts))
    }
}

/// A transcript of one utterance: text, words (times relative to the
/// utterance's first sample) and the language, if known.
pub type Transcribed = (String, Vec<Word>, Option<String>);

/// What a per-utterance recognizer does: one utterance of PCM in, its
/// transcript out (a server over HTTP, or the local model).
pub trait Transcriber: Clone + Send + Sync + 'static {
    fn transcribe_utterance(
        &self,
        pcm: Vec<i16>,
        sample_rate_hz: u32,
        language: Option<String>,
    ) -> BoxFuture<'static, Result<Transcribed, SpeechError>>;
}

/// One call's per-utterance recognition: audio is kept from the first push
/// after a flush; a flush transcribes it in the background and the
/// transcript comes back as one final, word times on the call's clock.
pub struct UtteranceStream<T> {
    transcriber: T,
    language: Option<String>,
    sample_rate_hz: u32,
    pcm: Vec<i16>,
    started_at_ms: Option<u64>,
    tx: mpsc::Sender<SttEvent>,
    rx: mpsc::Receiver<SttEvent>,
}

/// The whisper server's stream.
pub type WhisperStream = UtteranceStream<WhisperServer>;

impl<T: Transcriber> UtteranceStream<T> {
    pub fn new(transcriber: T, opts: &SttOptions) -> Self {
        let (tx, rx) = mpsc::channel(8);
        Self {
            transcriber,
            language: opts.language.clone(),
            sample_rate_hz: opts.sample_rate_hz.max(1),
            pcm: Vec::new(),
            started_at_ms: None,
            tx,
            rx,
        }
    }
}

impl<T: Transcriber> SttStream for UtteranceStream<T> {
    fn push_audio(&mut self, pcm: &[i16], at_ms: u64) {
        self.started_at_ms.get_or_insert(at_ms);
        self.pcm.extend_from_slice(pcm);
        let max_samples = MAX_UTTERANCE_S * self.sample_rate_hz as usize;
        if self.pcm.len() > max_samples {
            let excess = self.pcm.len() - max_samples;
            self.pcm.drain(..excess);
            self.started_at_ms = self
                .started_at_ms
                .map(|t| t + excess as u64 * 1000 / u64::from(self.sample_rate_hz));
        }
    }

    fn flush(&mut self) {
        let pcm = std::mem::take(&mut self.pcm);
        let offset = self.started_at_ms.take().unwrap_or(0);
        let work =
            self.transcriber
                .transcribe_utterance(pcm, self.sample_rate_hz, self.language.clone());
        let language = self.language.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let event = match work.await {
                Ok((text, words, lang)) => SttEvent::Final {
                    text,
                    words: words
                        .into_iter()
                        .map(|w| Word {
                            text: w.text,
                            start_ms: w.start_ms + offset,
                            end_ms: w.end_ms + offset,
                        })
                        .collect(),
                    language: lang.or(language),
                },
                Err(e) => SttEvent::Failed(e),
            };
            let _ = tx.send(event).await;
        });
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<SttEvent>> {
        self.rx.poll_recv(cx)
    }

    fn finals_need_flush(&self) -> bool {
        true
    }
}
