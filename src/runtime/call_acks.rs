//! The soft "mm-hmm" / "ndiyo" a call plays when the turn engine asks for a
//! listening acknowledgement (tenant dial voice_listening_ack): the caller
//! is in a long turn and paused without finishing it.
//!
//! The clips are synthesized in the background as soon as a call starts,
//! in the call's wire format: when the engine asks, the pause is already
//! under way, so there is no time to synthesize then. They are the same for
//! every call of one synthesizer, voice and format, so the process keeps
//! them (a handful of kilobytes each): only the first such call pays for
//! the synthesis (an espeak-ng run, or a cloud request).
//! An acknowledgement is not a reply: it carries no marks and the engine
//! does not count it as the bot speaking (the floor stays the caller's).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::oneshot;
use tracing::warn;

use crate::adapters::speech::{TextToSpeech, TtsRequest};
use crate::adapters::telephony::AudioFormat;
use crate::core::ids::Lang;
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
    /// The clip for a language; empty if it could not be made.
    pub fn for_language(&self, language: Lang) -> &[u8] {
        match language {
            Lang::Sw => &self.sw,
            Lang::En => &self.en,
        }
    }
}

/// Clips made so far, by synthesizer name, voice and wire format.
type Key = (&'static str, Option<String>, AudioFormat);

fn made() -> &'static Mutex<HashMap<Key, AckClips>> {
    static MADE: OnceLock<Mutex<HashMap<Key, AckClips>>> = OnceLock::new();
    MADE.get_or_init(Mutex::default)
}

/// The clips for a call; they arrive on the receiver, at once when made
/// before (dropped if synthesis fails: the call then plays none).
pub fn prepare(
    tts: Arc<dyn TextToSpeech>,
    format: AudioFormat,
    voice: Option<String>,
) -> oneshot::Receiver<AckClips> {
    let (tx, rx) = oneshot::channel();
    let key: Key = (tts.name(), voice, format);
    if let Some(clips) = made().lock().ok().and_then(|m| m.get(&key).cloned()) {
        let _ = tx.send(clips);
        return rx;
    }
    tokio::spawn(async move {
        let voice = key.1.clone();
        let en = clip(&*tts, format, voice.clone(), Lang::En, ACK_EN).await;
        let sw = clip(&*tts, format, voice, Lang::Sw, ACK_SW).await;
        if let (Some(en), Some(sw)) = (en, sw) {
            let clips = AckClips { en, sw };
            if let Ok(mut m) = made().lock() {
                m.insert(key, clips.clone());
            }
            let _ = tx.send(clips);
        }
    });
    rx
}

async fn clip(
    tts: &dyn TextToSpeech,
    format: AudioFormat,
    voice: Option<String>,
    language: Lang,
    text: &str,
) -> Option<Vec<u8>> {
    let mut stream = tts.synthesize(TtsRequest {
        text: text.to_owned(),
        language,
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
                warn!(error = %e, language = language.code(), "listening acknowledgement not synthesized");
                return None;
            }
        }
    }
    audio.finish(&mut wire);
    wire.truncate(format.frame_bytes() * MAX_ACK_MS / 20);
    Some(wire)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::speech::{TtsAudio, TtsStream};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// One second of µ-law per request, counted.
    struct CountingTts(AtomicUsize);

    impl TextToSpeech for CountingTts {
        fn name(&self) -> &'static str {
            "counting-test"
        }
        fn synthesize(&self, req: TtsRequest) -> TtsStream {
            self.0.fetch_add(1, Ordering::SeqCst);
            let byte = if req.language == Lang::Sw { 0x11 } else { 0x22 };
            TtsStream::spawn(move |tx| async move {
                let _ = tx.send(Ok(TtsAudio::Mulaw8k(vec![byte; 8000]))).await;
            })
        }
    }

    #[tokio::test]
    async fn clips_are_short_per_language_and_made_once_per_voice_and_format() {
        let tts = Arc::new(CountingTts(AtomicUsize::new(0)));
        let clips = prepare(tts.clone(), AudioFormat::MULAW_8K, Some("v1".into()))
            .await
            .unwrap();
        // Cut to 700 ms of 8 kHz µ-law.
        assert_eq!(clips.for_language(Lang::En), &[0x22; 5600][..]);
        assert_eq!(clips.for_language(Lang::Sw), &[0x11; 5600][..]);
        assert_eq!(tts.0.load(Ordering::SeqCst), 2);
        // The next call with the same voice and format gets them at once.
        let again = prepare(tts.clone(), AudioFormat::MULAW_8K, Some("v1".into()))
            .await
            .unwrap();
        assert_eq!(again.for_language(Lang::Sw).len(), 5600);
        assert_eq!(tts.0.load(Ordering::SeqCst), 2);
        // Another voice is made anew.
        prepare(tts.clone(), AudioFormat::MULAW_8K, Some("v2".into()))
            .await
            .unwrap();
        assert_eq!(tts.0.load(Ordering::SeqCst), 4);
    }
}
