//! Each speech adapter against a local fake server on loopback that speaks
//! the provider's protocol, including its error and timeout paths; espeak-ng
//! for real.
#![allow(clippy::result_large_err)] // tungstenite's handshake callback signature

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use futures::{SinkExt, StreamExt};
use ratiba::adapters::speech::deepgram::Deepgram;
use ratiba::adapters::speech::elevenlabs::ElevenLabs;
use ratiba::adapters::speech::espeak::Espeak;
use ratiba::adapters::speech::whisper::WhisperServer;
use ratiba::adapters::speech::{
    SpeechError, SpeechToText, SttEvent, SttOptions, SttStream, TextToSpeech, TtsAudio, TtsRequest,
    TtsStream,
};
use ratiba::core::ids::Lang;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};

async fn serve(app: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

async fn next_event(stream: &mut Box<dyn SttStream>) -> SttEvent {
    tokio::time::timeout(Duration::from_secs(5), stream.as_mut().next_event())
        .await
        .expect("event in time")
        .expect("stream open")
}

async fn collect(mut stream: TtsStream) -> Result<Vec<TtsAudio>, SpeechError> {
    let mut out = Vec::new();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(10), stream.next_chunk())
        .await
        .expect("chunk in time")
    {
        out.push(chunk?);
    }
    Ok(out)
}

fn request(text: &str, language: Lang, mulaw: bool) -> TtsRequest {
    TtsRequest {
        text: text.into(),
        language,
        voice: Some("voice-1".into()),
        speed: 1.0,
        prefer_mulaw_8k: mulaw,
    }
}

// ---------------------------------------------------------------- espeak-ng

#[tokio::test]
async fn espeak_speaks_swahili_and_english() {
    for (text, lang) in [
        ("Habari, karibu Nywele Bora.", Lang::Sw),
        ("Hello, welcome.", Lang::En),
    ] {
        let chunks = collect(Espeak::new(None).synthesize(request(text, lang, true)))
            .await
            .expect("espeak works");
        let samples: Vec<i16> = chunks
            .into_iter()
            .flat_map(|c| match c {
                TtsAudio::Pcm {
                    sample_rate,
                    samples,
                } => {
                    assert_eq!(sample_rate, 22_050);
                    samples
                }
                TtsAudio::Mulaw8k(_) => panic!("espeak makes PCM"),
            })
            .collect();
        assert!(
            samples.len() > 22_050 / 2,
            "{lang:?}: at least half a second"
        );
        let loud = samples.iter().filter(|s| s.unsigned_abs() > 1000).count();
        assert!(loud > 1000, "{lang:?}: audible speech");
    }
}

#[tokio::test]
async fn espeak_rate_follows_speed() {
    let len = |speed: f32| async move {
        let mut req = request("Ningependa kupanga miadi kesho asubuhi.", Lang::Sw, false);
        req.speed = speed;
        collect(Espeak::new(None).synthesize(req))
            .await
            .unwrap()
            .iter()
            .map(|c| match c {
                TtsAudio::Pcm { samples, .. } => samples.len(),
                TtsAudio::Mulaw8k(b) => b.len(),
            })
            .sum::<usize>()
    };
    let slow = len(0.7).await;
    let fast = len(1.3).await;
    assert!(fast * 10 < slow * 8, "fast {fast} vs slow {slow}");
}

#[tokio::test]
async fn espeak_missing_binary_is_a_local_error() {
    let err = collect(
        Espeak::new(Some("/nonexistent/espeak-ng".into())).synthesize(request(
            "x",
            Lang::En,
            false,
        )),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, SpeechError::Local(_)), "{err:?}");
}

// ---------------------------------------------------------------- Deepgram

#[tokio::test]
async fn deepgram_streams_audio_and_reports_results() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut seen_query = String::new();
        let mut ws = tokio_tungstenite::accept_hdr_async(tcp, |req: &Request, resp: Response| {
            assert_eq!(req.headers().get("authorization").unwrap(), "Token dg-key");
            seen_query = req.uri().query().unwrap_or_default().to_owned();
            Ok::<_, ErrorResponse>(resp)
        })
        .await
        .unwrap();
        assert!(seen_query.contains("encoding=linear16"));
        // A telephone call streams at its own 8 kHz (no upsampling).
        assert!(seen_query.contains("sample_rate=8000"));
        assert!(seen_query.contains("language=sw"));
        let mut audio_bytes = 0;
        while let Some(Ok(msg)) = ws.next().await {
            match msg {
                Message::Binary(b) => {
                    audio_bytes += b.len();
                    if audio_bytes == 320 * 3 {
                        ws.send(Message::text(
                            r#"{"type":"SpeechStarted","channel":[0,1],"timestamp":0.02}"#,
                        ))
                        .await
                        .unwrap();
                        ws.send(Message::text(r#"{"type":"Results","is_final":false,"channel":{"alternatives":[{"transcript":"nataka","words":[]}]}}"#)).await.unwrap();
                    }
                }
                Message::Text(t) if t.as_str().contains("Finalize") => {
                    ws.send(Message::text(r#"{"type":"Results","is_final":true,"from_finalize":true,"channel":{"alternatives":[{"transcript":"nataka miadi","words":[{"word":"nataka","start":0.02,"end":0.3},{"word":"miadi","start":0.35,"end":0.6}]}]}}"#)).await.unwrap();
                    ws.send(Message::text(
                        r#"{"type":"UtteranceEnd","channel":[0,1],"last_word_end":0.6}"#,
                    ))
                    .await
                    .unwrap();
                }
                Message::Text(t) if t.as_str().contains("CloseStream") => break,
                _ => {}
            }
        }
        audio_bytes
    });

    let dg = Deepgram::new(
        "dg-key".into(),
        format!("ws://{addr}/v1/listen"),
        Duration::from_secs(2),
    );
    let mut stream = dg.open(&SttOptions {
        language: Some("sw".into()),
        sample_rate_hz: 8000,
    });
    for i in 0..3 {
        stream.push_audio(&[100i16; 160], i * 20);
    }
    assert_eq!(
        next_event(&mut stream).await,
        SttEvent::SpeechStarted { at_ms: 20 }
    );
    assert_eq!(
        next_event(&mut stream).await,
        SttEvent::Partial {
            text: "nataka".into(),
            words: Vec::new(),
        }
    );
    stream.flush();
    match next_event(&mut stream).await {
        SttEvent::Final { text, words, .. } => {
            assert_eq!(text, "nataka miadi");
            assert_eq!(words.len(), 2);
            assert_eq!((words[1].start_ms, words[1].end_ms), (350, 600));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(next_event(&mut stream).await, SttEvent::UtteranceEnd);
    drop(stream);
    // The task is aborted on drop; the server sees the socket go away.
    let bytes = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bytes, 320 * 3);
}

#[tokio::test]
async fn deepgram_refused_handshake_is_a_provider_status() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        // Deepgram answers a bad key with a plain HTTP 401 instead of 101.
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 4096];
        let mut got = 0;
        while !buf[..got].windows(4).any(|w| w == b"\r\n\r\n") {
            got += tcp.read(&mut buf[got..]).await.unwrap();
        }
        tcp.write_all(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 7\r\n\r\nbad key")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    let dg = Deepgram::new("x".into(), format!("ws://{addr}"), Duration::from_secs(2));
    let mut stream = dg.open(&SttOptions::default());
    match next_event(&mut stream).await {
        SttEvent::Failed(SpeechError::ProviderStatus { status, .. }) => assert_eq!(status, 401),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn deepgram_silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (_tcp, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    let dg = Deepgram::new(
        "x".into(),
        format!("ws://{addr}"),
        Duration::from_millis(200),
    );
    let mut stream = dg.open(&SttOptions::default());
    assert_eq!(
        next_event(&mut stream).await,
        SttEvent::Failed(SpeechError::ProviderTimeout(Duration::from_millis(200)))
    );
}

// ---------------------------------------------------------------- whisper

#[tokio::test]
async fn whisper_transcribes_one_utterance_on_flush() {
    let app = Router::new().route(
        "/v1/audio/transcriptions",
        post(|headers: HeaderMap, body: Bytes| async move {
            let ct = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            assert!(ct.starts_with("multipart/form-data"));
            let text = String::from_utf8_lossy(&body);
            assert!(text.contains("name=\"model\""));
            assert!(text.contains("verbose_json"));
            assert!(text.contains("name=\"language\"\r\n\r\nsw"));
            assert!(text.contains("RIFF"));
            (
                StatusCode::OK,
                r#"{"language":"swahili","duration":0.6,"text":" Nataka miadi.","segments":[],"words":[{"word":" Nataka","start":0.0,"end":0.3},{"word":" miadi.","start":0.3,"end":0.6}]}"#,
            )
        }),
    );
    let base = serve(app).await;
    let w = WhisperServer::new(base, None, Duration::from_secs(2));
    let mut stream = w.open(&SttOptions {
        language: Some("sw".into()),
        ..SttOptions::default()
    });
    assert!(stream.finals_need_flush());
    for i in 0..30 {
        stream.push_audio(&[50i16; 320], 1000 + i * 20);
    }
    stream.flush();
    match next_event(&mut stream).await {
        SttEvent::Final { text, words, .. } => {
            assert_eq!(text, "Nataka miadi.");
            assert_eq!(words[0].text, "Nataka");
            assert_eq!((words[1].start_ms, words[1].end_ms), (1300, 1600));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn whisper_error_and_timeout_paths() {
    let app = Router::new()
        .route(
            "/bad/v1/audio/transcriptions",
            post(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "model not loaded") }),
        )
        .route(
            "/slow/v1/audio/transcriptions",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "{}"
            }),
        )
        .route(
            "/junk/v1/audio/transcriptions",
            post(|| async { "not json" }),
        );
    let base = serve(app).await;
    for (path, check) in [
        (
            "bad",
            (|e: &SpeechError| matches!(e, SpeechError::ProviderStatus { status: 500, .. }))
                as fn(&SpeechError) -> bool,
        ),
        ("slow", |e| matches!(e, SpeechError::ProviderTimeout(_))),
        ("junk", |e| matches!(e, SpeechError::ProviderProtocol(_))),
    ] {
        let w = WhisperServer::new(format!("{base}/{path}"), None, Duration::from_millis(300));
        let mut stream = w.open(&SttOptions::default());
        stream.push_audio(&[0i16; 320], 0);
        stream.flush();
        match next_event(&mut stream).await {
            SttEvent::Failed(e) => assert!(check(&e), "{path}: {e:?}"),
            other => panic!("{path}: {other:?}"),
        }
    }
}

// ---------------------------------------------------------------- ElevenLabs

#[tokio::test]
async fn elevenlabs_streams_ulaw_for_mulaw_calls_and_pcm_otherwise() {
    let app = Router::new().route(
        "/v1/text-to-speech/{voice}/stream",
        post(
            |axum::extract::Path(voice): axum::extract::Path<String>,
             axum::extract::RawQuery(q): axum::extract::RawQuery,
             headers: HeaderMap,
             body: Bytes| async move {
                if headers.get("xi-api-key").map(|v| v.as_bytes()) != Some(b"el-key") {
                    return (StatusCode::UNAUTHORIZED, Vec::new());
                }
                assert_eq!(voice, "voice-1");
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(v["model_id"], "eleven_v3");
                let q = q.unwrap_or_default();
                if q.contains("output_format=ulaw_8000") {
                    (StatusCode::OK, vec![0x7Fu8; 1600])
                } else {
                    assert!(q.contains("output_format=pcm_16000"));
                    (StatusCode::OK, vec![1u8; 3201])
                }
            },
        ),
    );
    let base = serve(app).await;
    let el = ElevenLabs::new("el-key".into(), base.clone(), Duration::from_secs(2));
    let chunks = collect(el.synthesize(request("Habari", Lang::Sw, true)))
        .await
        .unwrap();
    let total: usize = chunks
        .iter()
        .map(|c| match c {
            TtsAudio::Mulaw8k(b) => b.len(),
            TtsAudio::Pcm { .. } => panic!("asked for µ-law"),
        })
        .sum();
    assert_eq!(total, 1600);
    let chunks = collect(el.synthesize(request("Habari", Lang::Sw, false)))
        .await
        .unwrap();
    let samples: usize = chunks
        .iter()
        .map(|c| match c {
            TtsAudio::Pcm {
                sample_rate: 16_000,
                samples,
            } => samples.len(),
            other => panic!("{other:?}"),
        })
        .sum();
    assert_eq!(samples, 1600, "odd trailing byte is not a sample");

    let wrong_key = ElevenLabs::new("nope".into(), base, Duration::from_secs(2));
    let err = collect(wrong_key.synthesize(request("x", Lang::Sw, true)))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        SpeechError::ProviderStatus { status: 401, .. }
    ));
}

#[tokio::test]
async fn elevenlabs_slow_server_times_out() {
    let app = Router::new().route(
        "/v1/text-to-speech/{voice}/stream",
        post(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late"
        }),
    );
    let base = serve(app).await;
    let el = ElevenLabs::new("k".into(), base, Duration::from_millis(200));
    let err = collect(el.synthesize(request("x", Lang::En, true)))
        .await
        .unwrap_err();
    assert!(matches!(err, SpeechError::ProviderTimeout(_)), "{err:?}");
}
