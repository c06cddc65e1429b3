//! The soft "mm-hmm" / "ndiyo" a call plays when the turn engine asks for a
//! listening acknowledgement (tenant dial voice_listening_ack): the caller
//! is in a long turn and paused without finishing it.
//!
//! The clips are synthesized once per call, in the background, as soon as
//! the call starts, and kept in the call's wire format: when the engine asks,
//! the pause is already under way, so there is no time to synthesize then.
//! An acknowledgement is not a reply: it carries no marks and the engine
//! does not count it as the bot speaking (the floor stays the caller's).

use std::sync::Arc;

use tokio::sync::oneshot;
use tracing::warn;

use crate::adapters::speech::{TextToSpeech, TtsRequest};
use crate::adapters::telephony::AudioFormat;
use crate::runtime::call_audio::OutboundAudio;

/// Longest acknowledgement played: a soft sound, not a sentence.
const MAX_ACK_MS: usize = 700;

/// What the acknowledgement says in each language.
const ACK_EN: &str = "Mm-hmm.";
const ACK_SW: &str = "Ndiyo.";

/// The two clips, in the call's wire format.
#[derive(Debug, Clone, Default)]
pub struct AckClips {
    en: Vec<u8>,
    sw: Vec<u8>,
}

impl AckClips {
    /// The clip for a language code (`sw` or anything else for English);
    /// empty if it could not be made.
    pub fn for_language(&self, language: &str) -> &[u8] {
        if language.starts_with("sw") {
            &self.sw
        } else {
            &self.en
        }
    }
}

/// Starts making the clips; they arrive on the receiver (dropped if
/// synthesis fails: the call then plays none).
pub fn prepare(
    tts: Arc<dyn TextToSpeech>,
    format: AudioFormat,
    voice: Option<String>,
) -> oneshot::Receiver<AckClips> {
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let en = clip(&*tts, format, voice.clone(), "en", ACK_EN).await;
        let sw = clip(&*tts, format, voice, "sw", ACK_SW).await;
        if let (Some(en), Some(sw)) = (en, sw) {
            let _ = tx.send(AckClips { en, sw });
        }
    });
    rx
}

async fn clip(
    tts: &dyn TextToSpeech,
    format: AudioFormat,
    voice: Option<String>,
    language: &str,
    text: &str,
) -> Option<Vec<u8>> {
    let mut stream = tts.synthesize(TtsRequest {
        text: text.to_owned(),
        language: language.to_owned(),
        voice,
        speed: 1.0,
        prefer_mulaw_8k: format == AudioFormat::MULAW_8K,
    });
    let mut audio = OutboundAudio::new(format);
    let mut wire = Vec::new();
    while let Some(chunk) = stream.next_chunk().await {
        match chunk {
            Ok(a) => audio.push(&a, &mut wire),
            Err(e) => {
                warn!(error = %e, language, "listening acknowledgement not synthesized");
                return None;
            }
        }
    }
    audio.finish(&mut wire);
    wire.truncate(format.frame_bytes() * MAX_ACK_MS / 20);
    Some(wire)
}
