//! Deepgram live transcription (PROTOCOLS.md 6.1) over a websocket: caller
//! audio as binary linear16 16 kHz frames, `Results` (interim and final, with
//! word timings), `SpeechStarted` and `UtteranceEnd` back; `Finalize` on end
//! of speech, `KeepAlive` while the caller is silent (Deepgram closes after
//! 10 s without either), `CloseStream` at the end.
//!
//! The socket lives on its own task. The call pushes audio with `try_send`
//! so a slow or stuck provider drops audio instead of stalling the call.

use std::task::{Context, Poll};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{self, Message, client::IntoClientRequest};

use super::{SpeechError, SpeechToText, SttEvent, SttOptions, SttStream, Word};

pub const DEFAULT_URL: &str = "wss://api.deepgram.com/v1/listen";
const KEEPALIVE_EVERY: Duration = Duration::from_secs(4);
/// Audio frames buffered towards the socket (~2 s of 20 ms frames).
const AUDIO_QUEUE: usize = 100;

#[derive(Debug, Clone)]
pub struct Deepgram {
    api_key: String,
    url: String,
    connect_timeout: Duration,
}

impl Deepgram {
    pub fn new(api_key: String, url: String, connect_timeout: Duration) -> Self {
        Self {
            api_key,
            url,
            connect_timeout,
        }
    }

    fn listen_url(&self, opts: &SttOptions) -> String {
        let mut url = format!(
            "{}?model=nova-3&encoding=linear16&sample_rate={}&channels=1&interim_results=true&endpointing=300&utterance_end_ms=1000&vad_events=true&smart_format=true",
            self.url, opts.sample_rate_hz
        );
        if let Some(lang) = &opts.language {
            url.push_str("&language=");
            url.push_str(
                &url::form_urlencoded::byte_serialize(lang.as_bytes()).collect::<String>(),
            );
        }
        url
    }
}

enum Command {
    Audio(Vec<u8>),
    Finalize,
}

impl SpeechToText for Deepgram {
    fn name(&self) -> &'static str {
        "deepgram"
    }

    fn open(&self, opts: &SttOptions) -> Box<dyn SttStream> {
        let (cmd_tx, cmd_rx) = mpsc::channel(AUDIO_QUEUE);
        let (ev_tx, ev_rx) = mpsc::channel(64);
        let url = self.listen_url(opts);
        let key = self.api_key.clone();
        let timeout = self.connect_timeout;
        let task = tokio::spawn(async move {
            if let Err(e) = run(url, key, timeout, cmd_rx, &ev_tx).await {
                let _ = ev_tx.send(SttEvent::Failed(e)).await;
            }
        });
        Box::new(DeepgramStream {
            commands: cmd_tx,
            events: ev_rx,
            task,
            dropped_frames: 0,
        })
    }
}

/// One call's Deepgram stream.
pub struct DeepgramStream {
    commands: mpsc::Sender<Command>,
    events: mpsc::Receiver<SttEvent>,
    task: tokio::task::JoinHandle<()>,
    dropped_frames: u64,
}

impl DeepgramStream {
    /// Frames dropped because the provider fell behind.
    pub fn dropped_frames(&self) -> u64 {
        self.dropped_frames
    }
}

impl Drop for DeepgramStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SttStream for DeepgramStream {
    fn push_audio(&mut self, pcm: &[i16], _at_ms: u64) {
        let mut bytes = Vec::with_capacity(pcm.len() * 2);
        for s in pcm {
            bytes.extend_from_slice(&s.to_le_bytes());
        }
        if self.commands.try_send(Command::Audio(bytes)).is_err() {
            self.dropped_frames += 1;
        }
    }

    fn flush(&mut self) {
        let _ = self.commands.try_send(Command::Finalize);
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<SttEvent>> {
        self.events.poll_recv(cx)
    }
}

async fn run(
    url: String,
    key: String,
    connect_timeout: Duration,
    mut commands: mpsc::Receiver<Command>,
    events: &mpsc::Sender<SttEvent>,
) -> Result<(), SpeechError> {
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| SpeechError::ProviderUnreachable(e.to_string()))?;
    let auth = format!("Token {key}")
        .parse()
        .map_err(|_| SpeechError::ProviderUnreachable("API key is not a valid header".into()))?;
    request.headers_mut().insert("Authorization", auth);
    let (ws, _) = tokio::time::timeout(connect_timeout, tokio_tungstenite::connect_async(request))
        .await
        .map_err(|_| SpeechError::ProviderTimeout(connect_timeout))?
        .map_err(|e| match e {
            tungstenite::Error::Http(resp) => SpeechError::ProviderStatus {
                status: resp.status().as_u16(),
                body: resp
                    .body()
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).chars().take(200).collect())
                    .unwrap_or_default(),
            },
            other => SpeechError::ProviderUnreachable(other.to_string()),
        })?;
    let (mut sink, mut stream) = ws.split();
    let mut keepalive = tokio::time::interval(KEEPALIVE_EVERY);
    keepalive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut audio_since_tick = false;
    loop {
        tokio::select! {
            cmd = commands.recv() => match cmd {
                Some(Command::Audio(bytes)) => {
                    audio_since_tick = true;
                    sink.send(Message::Binary(bytes.into())).await.map_err(ws_err)?;
                }
                Some(Command::Finalize) => {
                    sink.send(Message::text(r#"{"type":"Finalize"}"#)).await.map_err(ws_err)?;
                }
                None => {
                    let _ = sink.send(Message::text(r#"{"type":"CloseStream"}"#)).await;
                    return Ok(());
                }
            },
            _ = keepalive.tick() => {
                if !audio_since_tick {
                    sink.send(Message::text(r#"{"type":"KeepAlive"}"#)).await.map_err(ws_err)?;
                }
                audio_since_tick = false;
            }
            msg = stream.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    for ev in parse_server_message(text.as_str())? {
                        if events.send(ev).await.is_err() {
                            return Ok(());
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | None => return Ok(()),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(ws_err(e)),
            }
        }
    }
}

fn ws_err(e: tungstenite::Error) -> SpeechError {
    SpeechError::ProviderUnreachable(e.to_string())
}

#[derive(Deserialize)]
struct ServerMessage {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    is_final: bool,
    #[serde(default)]
    channel: Option<serde_json::Value>,
    #[serde(default)]
    timestamp: Option<f64>,
}

#[derive(Deserialize)]
struct Alternative {
    #[serde(default)]
    transcript: String,
    #[serde(default)]
    words: Vec<DgWord>,
}

#[derive(Deserialize)]
struct DgWord {
    word: String,
    #[serde(default)]
    punctuated_word: Option<String>,
    start: f64,
    end: f64,
}

fn seconds_to_ms(s: f64) -> u64 {
    if s.is_finite() && s > 0.0 {
        (s * 1000.0).round() as u64
    } else {
        0
    }
}

/// Turns one server message into events (none for metadata).
pub fn parse_server_message(text: &str) -> Result<Vec<SttEvent>, SpeechError> {
    let m: ServerMessage = serde_json::from_str(text)
        .map_err(|e| SpeechError::ProviderProtocol(format!("bad JSON: {e}")))?;
    Ok(match m.kind.as_str() {
        "Results" => {
            let alt: Option<Alternative> = m
                .channel
                .as_ref()
                .and_then(|c| c.get("alternatives"))
                .and_then(|a| a.get(0))
                .and_then(|a| serde_json::from_value(a.clone()).ok());
            let Some(alt) = alt else {
                return Ok(Vec::new());
            };
            if alt.transcript.trim().is_empty() {
                return Ok(Vec::new());
            }
            let words = alt
                .words
                .into_iter()
                .map(|w| Word {
                    text: w.punctuated_word.unwrap_or(w.word),
                    start_ms: seconds_to_ms(w.start),
                    end_ms: seconds_to_ms(w.end),
                })
                .collect();
            if m.is_final {
                vec![SttEvent::Final {
                    text: alt.transcript,
                    words,
                    language: None,
                }]
            } else {
                vec![SttEvent::Partial {
                    text: alt.transcript,
                    words,
                }]
            }
        }
        "SpeechStarted" => vec![SttEvent::SpeechStarted {
            at_ms: seconds_to_ms(m.timestamp.unwrap_or(0.0)),
        }],
        "UtteranceEnd" => vec![SttEvent::UtteranceEnd],
        "Error" => {
            return Err(SpeechError::ProviderProtocol(
                text.chars().take(200).collect(),
            ));
        }
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_become_partials_and_finals_with_word_times() {
        let fin = r#"{"type":"Results","channel_index":[0,1],"duration":1.02,"start":3.5,"is_final":true,"speech_final":true,"channel":{"alternatives":[{"transcript":"nataka miadi kesho","confidence":0.91,"words":[{"word":"nataka","start":3.6,"end":3.9,"confidence":0.93,"punctuated_word":"Nataka"}]}]}}"#;
        assert_eq!(
            parse_server_message(fin).unwrap(),
            vec![SttEvent::Final {
                text: "nataka miadi kesho".into(),
                words: vec![Word {
                    text: "Nataka".into(),
                    start_ms: 3600,
                    end_ms: 3900
                }],
                language: None
            }]
        );
        // Interim results keep their word timings (the engine confirms a
        // barge-in on them before the final arrives).
        let part = fin.replace("\"is_final\":true", "\"is_final\":false");
        assert!(matches!(
            &parse_server_message(&part).unwrap()[..],
            [SttEvent::Partial { words, .. }] if words.len() == 1 && words[0].start_ms == 3600
        ));
        assert_eq!(
            parse_server_message(r#"{"type":"SpeechStarted","channel":[0,1],"timestamp":3.41}"#)
                .unwrap(),
            vec![SttEvent::SpeechStarted { at_ms: 3410 }]
        );
        assert!(
            parse_server_message(r#"{"type":"Metadata"}"#)
                .unwrap()
                .is_empty()
        );
        assert!(parse_server_message("nope").is_err());
    }
}
