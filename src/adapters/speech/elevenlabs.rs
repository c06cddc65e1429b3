//! ElevenLabs streaming synthesis over HTTP (PROTOCOLS.md 5.1):
//! `POST /v1/text-to-speech/{voice_id}/stream?output_format=…`, the body
//! streamed back as raw audio. We ask for `ulaw_8000` when the call is µ-law
//! (no resample, no transcode) and `pcm_16000` otherwise. Swahili needs a v3
//! model; English uses the low-latency flash model. One request per
//! sentence; dropping the stream aborts the request (barge-in).

use std::time::Duration;

use futures::StreamExt;
use tokio::sync::mpsc;

use super::{SpeechError, TextToSpeech, TtsAudio, TtsRequest, TtsStream};
use crate::core::ids::Lang;

pub const DEFAULT_URL: &str = "https://api.elevenlabs.io";
/// A default voice when the tenant has no `voice_default_speaker`.
pub const DEFAULT_VOICE: &str = "21m00Tcm4TlvDq8ikWAM";

#[derive(Debug, Clone)]
pub struct ElevenLabs {
    api_key: String,
    base_url: String,
    first_byte_timeout: Duration,
    http: reqwest::Client,
}

impl ElevenLabs {
    pub fn new(api_key: String, base_url: String, first_byte_timeout: Duration) -> Self {
        Self {
            api_key,
            base_url,
            first_byte_timeout,
            http: reqwest::Client::new(),
        }
    }
}

/// The model for a language: flash for English, v3 (the only family that
/// speaks Swahili) for Swahili.
pub fn model_for(language: Lang) -> &'static str {
    match language {
        Lang::En => "eleven_flash_v2_5",
        Lang::Sw => "eleven_v3",
    }
}

impl TextToSpeech for ElevenLabs {
    fn name(&self) -> &'static str {
        "elevenlabs"
    }

    fn synthesize(&self, req: TtsRequest) -> TtsStream {
        let this = self.clone();
        TtsStream::spawn(move |tx| async move {
            if let Err(e) = this.run(&req, &tx).await {
                let _ = tx.send(Err(e)).await;
            }
        })
    }
}

impl ElevenLabs {
    async fn run(
        &self,
        req: &TtsRequest,
        tx: &mpsc::Sender<Result<TtsAudio, SpeechError>>,
    ) -> Result<(), SpeechError> {
        let voice = req.voice.as_deref().unwrap_or(DEFAULT_VOICE);
        let voice: String = url::form_urlencoded::byte_serialize(voice.as_bytes()).collect();
        let format = if req.prefer_mulaw_8k {
            "ulaw_8000"
        } else {
            "pcm_16000"
        };
        let url = format!(
            "{}/v1/text-to-speech/{voice}/stream?output_format={format}",
            self.base_url.trim_end_matches('/')
        );
        let body = serde_json::json!({
            "text": req.text,
            "model_id": model_for(req.language),
            "language_code": req.language.code(),
            "voice_settings": {
                "stability": 0.5,
                "similarity_boost": 0.8,
                "speed": req.speed.clamp(0.7, 1.2),
            },
        });
        let timeout = self.first_byte_timeout;
        let send = self
            .http
            .post(url)
            .header("xi-api-key", &self.api_key)
            .json(&body)
            .send();
        let resp = tokio::time::timeout(timeout, send)
            .await
            .map_err(|_| SpeechError::ProviderTimeout(timeout))?
            .map_err(|e| SpeechError::ProviderUnreachable(e.to_string()))?;
        let status = resp.status();
        if !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            return Err(SpeechError::ProviderStatus {
                status: status.as_u16(),
                body: text.chars().take(200).collect(),
            });
        }
        let mut body = resp.bytes_stream();
        let mut carry: Option<u8> = None;
        loop {
            let next = tokio::time::timeout(timeout, body.next())
                .await
                .map_err(|_| SpeechError::ProviderTimeout(timeout))?;
            let Some(chunk) = next else {
                return Ok(());
            };
            let chunk = chunk.map_err(|e| SpeechError::ProviderUnreachable(e.to_string()))?;
            let audio = if req.prefer_mulaw_8k {
                TtsAudio::Mulaw8k(chunk.to_vec())
            } else {
                // PCM samples may straddle chunk boundaries.
                let mut bytes = Vec::with_capacity(chunk.len() + 1);
                bytes.extend(carry.take());
                bytes.extend_from_slice(&chunk);
                if bytes.len() % 2 == 1 {
                    carry = bytes.pop();
                }
                TtsAudio::Pcm {
                    sample_rate: 16_000,
                    samples: bytes
                        .chunks_exact(2)
                        .map(|c| i16::from_le_bytes([c[0], c[1]]))
                        .collect(),
                }
            };
            if tx.send(Ok(audio)).await.is_err() {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swahili_gets_a_v3_model() {
        assert_eq!(model_for(Lang::Sw), "eleven_v3");
        assert_eq!(model_for(Lang::En), "eleven_flash_v2_5");
    }
}
