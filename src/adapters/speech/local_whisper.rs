//! The embedded default's recognizer: Whisper tiny.en on this machine
//! (whisper.cpp through `whisper-rs`, cargo feature `local-whisper`),
//! English only, once per utterance like the whisper server
//! ([`super::whisper::UtteranceStream`]): the call flushes it at the turn
//! engine's speech end, and the engine meanwhile decides on sound alone
//! (its transcript-less mode; an end of turn waits for the words).
//!
//! Inference runs on the blocking pool, never on the call's task, one
//! utterance at a time per process ([`LocalWhisper::transcribe`] queues
//! the rest), on half the cores (one here): ggml's worker threads spin while
//! they wait for each other, so more threads than free cores make every
//! utterance many times slower and take the cores the calls' audio needs.
//!
//! The model file is made by `scripts/bootstrap` from two pinned PyPI
//! packages (`scripts/whisper_ggml.py`) and kept under the user's cache
//! directory ([`default_model_path`]); `RATIBA_WHISPER_MODEL` points
//! elsewhere. Without the feature or the file, no local recognizer is
//! offered and the engine runs as before.
//!
//! Swahili: no offline model here understands it (multilingual Whisper
//! base scored 97 % WER on real Swahili clips), so [`SpeechToText::languages`]
//! says English only and the call tells Swahili callers so.

use std::path::PathBuf;

/// The recognizer's name in logs and metrics.
pub const NAME: &str = "whisper-local";
/// The model file `scripts/bootstrap` makes.
pub const MODEL_FILE: &str = "ggml-tiny.en.bin";
/// Environment variable naming another model file.
pub const MODEL_ENV: &str = "RATIBA_WHISPER_MODEL";

/// Where `scripts/bootstrap` puts the model: `$XDG_CACHE_HOME/ratiba/` or
/// `~/.cache/ratiba/` (shared by every checkout of the engine).
pub fn default_model_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })?;
    Some(base.join("ratiba").join(MODEL_FILE))
}

/// Whether this build can run the local recognizer.
pub const BUILT: bool = cfg!(feature = "local-whisper");

#[cfg(feature = "local-whisper")]
pub use engine::{LocalTranscript, LocalWhisper};

#[cfg(feature = "local-whisper")]
mod engine {
    use std::path::Path;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use futures::future::BoxFuture;
    use tokio::sync::Semaphore;
    use whisper_rs::{
        FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
    };

    use super::NAME;
    use crate::adapters::speech::whisper::{Transcribed, Transcriber, UtteranceStream};
    use crate::adapters::speech::{SpeechError, SpeechToText, SttOptions, SttStream, Word};
    use crate::core::ids::Lang;

    /// Whisper's rate.
    const RATE: u32 = 16_000;
    /// whisper.cpp transcribes nothing shorter than 1 s: shorter
    /// utterances ("yes") are padded with silence to this.
    const MIN_SAMPLES: usize = RATE as usize * 1200 / 1000;
    /// Whisper's window; older audio of a long turn is dropped.
    const MAX_SAMPLES: usize = RATE as usize * 30;
    /// Quiet kept around the speech when an utterance is trimmed.
    const MARGIN_SAMPLES: usize = RATE as usize * 300 / 1000;
    /// A segment this sure there is no speech is dropped (Whisper writes
    /// "Thank you." over noise).
    const NO_SPEECH_PROB: f32 = 0.6;

    /// The loaded model, shared by every call.
    #[derive(Clone)]
    pub struct LocalWhisper {
        inner: Arc<Inner>,
    }

    struct Inner {
        ctx: WhisperContext,
        threads: i32,
        /// Decoder states kept between utterances (each holds its buffers).
        states: Mutex<Vec<WhisperState>>,
        /// One utterance at a time (async callers queue here)...
        gate: Semaphore,
        /// ...and blocking ones here.
        busy: Mutex<()>,
    }

    impl std::fmt::Debug for LocalWhisper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("LocalWhisper")
                .field("threads", &self.inner.threads)
                .finish()
        }
    }

    /// One utterance's transcript and what it cost.
    #[derive(Debug, Clone)]
    pub struct LocalTranscript {
        pub text: String,
        /// Times relative to the utterance's first sample.
        pub words: Vec<Word>,
        /// Inference time (not the wait for the model).
        pub elapsed: Duration,
    }

    impl LocalWhisper {
        /// Loads a ggml model file (Whisper tiny.en: ~80 ms, 78 MB).
        pub fn load(path: &Path) -> Result<Self, SpeechError> {
            whisper_rs::install_logging_hooks();
            let p = path.to_str().ok_or_else(|| {
                SpeechError::Local(format!("model path {} is not UTF-8", path.display()))
            })?;
            if !path.is_file() {
                return Err(SpeechError::Local(format!(
                    "no model file at {} (scripts/bootstrap makes it)",
                    path.display()
                )));
            }
            let ctx = WhisperContext::new_with_params(p, WhisperContextParameters::default())
                .map_err(|e| SpeechError::Local(format!("cannot load {}: {e}", path.display())))?;
            let threads = (std::thread::available_parallelism().map_or(2, |n| n.get()) / 2)
                .clamp(1, 4) as i32;
            Ok(Self {
                inner: Arc::new(Inner {
                    ctx,
                    threads,
                    states: Mutex::new(Vec::new()),
                    gate: Semaphore::new(1),
                    busy: Mutex::new(()),
                }),
            })
        }

        /// Transcribes one utterance of mono PCM at `rate` on the blocking
        /// pool, after the utterances before it.
        pub async fn transcribe(
            &self,
            pcm: Vec<i16>,
            rate: u32,
        ) -> Result<LocalTranscript, SpeechError> {
            let _turn = self
                .inner
                .gate
                .acquire()
                .await
                .map_err(|_| SpeechError::Local("recognizer closed".into()))?;
            let me = self.clone();
            tokio::task::spawn_blocking(move || me.transcribe_blocking(&pcm, rate))
                .await
                .map_err(|e| SpeechError::Local(format!("recognizer task failed: {e}")))?
        }

        /// The same, on this thread (tests, tools).
        pub fn transcribe_blocking(
            &self,
            pcm: &[i16],
            rate: u32,
        ) -> Result<LocalTranscript, SpeechError> {
            let _busy = self.inner.busy.lock().unwrap_or_else(|p| p.into_inner());
            let started = Instant::now();
            let input_ms = pcm.len() as u64 * 1000 / u64::from(rate.max(1));
            let pcm16 = crate::core::audio::resample_all(pcm, rate, RATE)
                .map_err(|e| SpeechError::Local(e.to_string()))?;
            let (speech, offset) = trim(&pcm16);
            if speech.is_empty() {
                return Ok(LocalTranscript {
                    text: String::new(),
                    words: Vec::new(),
                    elapsed: started.elapsed(),
                });
            }
            let mut audio: Vec<f32> = speech.iter().map(|&s| f32::from(s) / 32768.0).collect();
            if audio.len() < MIN_SAMPLES {
                audio.resize(MIN_SAMPLES, 0.0);
            }
            let mut state = self.take_state()?;
            // whisper.cpp's own defaults (beam of 5, temperature fallback):
            // greedy decoding heard "go forward ten meters" as "go forward
            // and eat it".
            let mut params = FullParams::new(SamplingStrategy::BeamSearch {
                beam_size: 5,
                patience: -1.0,
            });
            params.set_n_threads(self.inner.threads);
            params.set_language(Some("en"));
            params.set_no_context(true);
            params.set_single_segment(true);
            params.set_suppress_blank(true);
            params.set_suppress_nst(true);
            params.set_print_special(false);
            params.set_print_progress(false);
            params.set_print_realtime(false);
            params.set_print_timestamps(false);
            params.set_token_timestamps(true);
            state
                .full(params, &audio)
                .map_err(|e| SpeechError::Local(format!("whisper failed: {e}")))?;
            let offset_ms = offset as u64 * 1000 / u64::from(RATE);
            // The speech, and no further than the input (the resampler pads
            // its last chunk).
            let speech_ms = (speech.len() as u64 * 1000 / u64::from(RATE))
                .min(input_ms.saturating_sub(offset as u64 * 1000 / u64::from(RATE)));
            let mut text = String::new();
            let mut words = Vec::new();
            for segment in state.as_iter() {
                if segment.no_speech_probability() > NO_SPEECH_PROB {
                    continue;
                }
                let Ok(seg_text) = segment.to_str_lossy() else {
                    continue;
                };
                let seg_text = seg_text.trim();
                if seg_text.is_empty() {
                    continue;
                }
                // Words from the tokens' times (centiseconds; the padding
                // is not speech): a token starting with a space starts a
                // word, special tokens (end of text, timestamps) are none.
                let eot = self.inner.ctx.token_eot();
                let mut word: Option<Word> = None;
                for i in 0..segment.n_tokens() {
                    let Some(token) = segment.get_token(i) else {
                        continue;
                    };
                    if token.token_id() >= eot {
                        continue;
                    }
                    let Ok(piece) = token.to_str_lossy() else {
                        continue;
                    };
                    let data = token.token_data();
                    let t0 = (data.t0.max(0) as u64 * 10).min(speech_ms);
                    let t1 = (data.t1.max(0) as u64 * 10).clamp(t0, speech_ms);
                    if let Some(w) = word.as_mut().filter(|_| !piece.starts_with(' ')) {
                        w.text.push_str(&piece);
                        w.end_ms = offset_ms + t1;
                    } else {
                        words.extend(word.take().filter(|w| !w.text.is_empty()));
                        word = Some(Word {
                            text: piece.trim().to_owned(),
                            start_ms: offset_ms + t0,
                            end_ms: offset_ms + t1,
                        });
                    }
                }
                words.extend(word.take().filter(|w| !w.text.is_empty()));
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(seg_text);
            }
            self.put_state(state);
            Ok(LocalTranscript {
                text,
                words,
                elapsed: started.elapsed(),
            })
        }

        fn take_state(&self) -> Result<WhisperState, SpeechError> {
            let kept = self
                .inner
                .states
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pop();
            match kept {
                Some(s) => Ok(s),
                None => self
                    .inner
                    .ctx
                    .create_state()
                    .map_err(|e| SpeechError::Local(format!("whisper state: {e}"))),
            }
        }

        fn put_state(&self, state: WhisperState) {
            self.inner
                .states
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(state);
        }
    }

    /// The utterance without the quiet before and after its speech (a
    /// per-utterance stream keeps everything since its last flush, the
    /// bot's turn included), at most Whisper's 30 s window; and where it
    /// starts in the input.
    fn trim(pcm: &[i16]) -> (&[i16], usize) {
        const WIN: usize = 320; // 20 ms
        let rms = |w: &[i16]| {
            (w.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / w.len().max(1) as f64).sqrt()
        };
        let levels: Vec<f64> = pcm.chunks(WIN).map(rms).collect();
        let peak = levels.iter().copied().fold(0.0, f64::max);
        // 30 dB under the loudest 20 ms, and above the noise of silence.
        let floor = (peak / 31.6).max(30.0);
        let first = levels.iter().position(|&l| l >= floor);
        let last = levels.iter().rposition(|&l| l >= floor);
        let (Some(first), Some(last)) = (first, last) else {
            return (&pcm[..0], 0);
        };
        let start = (first * WIN).saturating_sub(MARGIN_SAMPLES);
        let end = ((last + 1) * WIN + MARGIN_SAMPLES).min(pcm.len());
        let start = start.max(end.saturating_sub(MAX_SAMPLES));
        (&pcm[start..end], start)
    }

    impl Transcriber for LocalWhisper {
        fn transcribe_utterance(
            &self,
            pcm: Vec<i16>,
            sample_rate_hz: u32,
            _language: Option<String>,
        ) -> BoxFuture<'static, Result<Transcribed, SpeechError>> {
            let me = self.clone();
            Box::pin(async move {
                let t = me.transcribe(pcm, sample_rate_hz).await?;
                tracing::debug!(
                    elapsed_ms = t.elapsed.as_millis() as u64,
                    words = t.words.len(),
                    "local transcription"
                );
                Ok((t.text, t.words, Some("en".to_owned())))
            })
        }
    }

    impl SpeechToText for LocalWhisper {
        fn name(&self) -> &'static str {
            NAME
        }

        fn open(&self, opts: &SttOptions) -> Box<dyn SttStream> {
            Box::new(UtteranceStream::new(self.clone(), opts))
        }

        fn languages(&self) -> &'static [Lang] {
            &[Lang::En]
        }

        fn runs_locally(&self) -> bool {
            true
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn trimming_keeps_the_speech_and_a_margin() {
            let mut pcm = vec![0i16; RATE as usize * 5];
            for s in &mut pcm[RATE as usize * 2..RATE as usize * 3] {
                *s = 8000;
            }
            let (speech, start) = trim(&pcm);
            assert_eq!(start, RATE as usize * 2 - MARGIN_SAMPLES);
            assert_eq!(speech.len(), RATE as usize + 2 * MARGIN_SAMPLES);
            let silent = vec![0i16; 16_000];
            assert!(trim(&silent).0.is_empty());
        }
    }
}
