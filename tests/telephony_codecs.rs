//! Replays recorded provider messages (fixtures/telephony/<provider>/) through
//! each codec, checks the refusals of bad input, and throws random bytes and
//! mutated messages at every codec to show that none panics. Also replays
//! every fuzz target's seeds and regression inputs (fuzz/seeds/,
//! fuzz/regressions/) through the fuzz targets themselves.

use std::path::PathBuf;

use proptest::prelude::*;
use ratiba::adapters::telephony::{
    AudioFormat, CallEvent, CodecError, Inbound, MediaCodec, Outbound, Playback, Provider,
};

/// The AFL++ targets' functions (fuzz/src/targets.rs), compiled into this
/// test so that `cargo test` replays their inputs without AFL.
#[path = "../fuzz/src/targets.rs"]
mod fuzz_targets;

/// Every seed and every input the fuzzer once failed on, through the same
/// function the fuzzer runs (its invariants are the assertions). The list
/// of targets is checked against the fuzz binaries, so neither drifts.
#[test]
fn fuzz_inputs_replay() {
    let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut binaries: Vec<String> = std::fs::read_dir(fuzz.join("targets"))
        .expect("fuzz/targets")
        .map(|e| {
            let name = e.expect("dir entry").file_name();
            name.to_string_lossy().trim_end_matches(".rs").to_owned()
        })
        .collect();
    binaries.sort();
    let mut listed: Vec<String> = fuzz_targets::ALL
        .iter()
        .map(|(n, _)| (*n).to_owned())
        .collect();
    listed.sort();
    assert_eq!(
        binaries, listed,
        "fuzz/targets/*.rs and targets::ALL differ"
    );
    let mut replayed = 0;
    for (name, target) in fuzz_targets::ALL {
        let mut seeds = 0;
        for dir in ["seeds", "regressions"] {
            let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(name)) else {
                continue;
            };
            for entry in entries {
                let path = entry.expect("dir entry").path();
                let input =
                    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                // Shown with the failure: the input that broke an invariant.
                eprintln!("replaying {}", path.display());
                target(&input);
                seeds += usize::from(dir == "seeds");
                replayed += 1;
            }
        }
        assert!(seeds > 0, "fuzz target {name} has no seeds");
    }
    assert!(replayed >= fuzz_targets::ALL.len());
}

fn fixture_lines(provider: Provider) -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/telephony")
        .join(provider.as_str())
        .join("call.jsonl");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A fixture line is a text frame, or `b64:<bytes>` for a binary frame.
fn decode_line(
    codec: &mut dyn MediaCodec,
    line: &str,
    audio: &mut Vec<u8>,
) -> Result<CallEvent, CodecError> {
    match line.strip_prefix("b64:") {
        Some(b) => {
            let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b)
                .expect("fixture base64");
            codec.decode(Inbound::Binary(&bytes), audio)
        }
        None => codec.decode(Inbound::Text(line), audio),
    }
}

/// Replays a fixture, returning each event with the audio byte count.
fn replay(provider: Provider) -> (Box<dyn MediaCodec>, Vec<(CallEvent, usize)>) {
    let mut codec = provider.codec();
    let mut audio = Vec::new();
    let events = fixture_lines(provider)
        .iter()
        .map(|line| {
            let ev = decode_line(codec.as_mut(), line, &mut audio)
                .unwrap_or_else(|e| panic!("{provider}: {e} on {line}"));
            let n = if matches!(ev, CallEvent::Audio { .. }) {
                audio.len()
            } else {
                0
            };
            (ev, n)
        })
        .collect();
    (codec, events)
}

fn start_of(events: &[(CallEvent, usize)]) -> &ratiba::adapters::telephony::StreamStart {
    events
        .iter()
        .find_map(|(e, _)| match e {
            CallEvent::Start(s) => Some(s),
            _ => None,
        })
        .expect("a start event")
}

fn audio_sizes(events: &[(CallEvent, usize)]) -> Vec<usize> {
    events
        .iter()
        .filter(|(e, _)| matches!(e, CallEvent::Audio { .. }))
        .map(|(_, n)| *n)
        .collect()
}

#[test]
fn twilio_call_replays() {
    let (codec, events) = replay(Provider::Twilio);
    assert_eq!(events[0].0, CallEvent::Connected);
    let start = start_of(&events);
    assert_eq!(start.stream_id, "MZ18ad3ab5a668481ce02b83e7395059f0");
    assert_eq!(
        start.provider_call_id.as_deref(),
        Some("CA5b7e5a1a3c0ee4b3f6a1bcd1e2f3a4b5")
    );
    assert_eq!(
        start.parameters.get("tenant").map(String::as_str),
        Some("demo")
    );
    assert_eq!(start.to.as_deref(), Some("+254711000100"));
    assert_eq!(start.format, AudioFormat::MULAW_8K);
    assert_eq!(audio_sizes(&events), vec![160; 5]);
    assert!(events.contains(&(CallEvent::Dtmf { digit: '1' }, 0)));
    assert!(events.contains(&(
        CallEvent::Mark {
            name: "utt-1-0".into()
        },
        0
    )));
    assert_eq!(events.last().map(|e| &e.0), Some(&CallEvent::Stop));
    assert_eq!(codec.format(), Some(AudioFormat::MULAW_8K));
}

#[test]
fn twilio_media_timestamps_are_read() {
    let (_, events) = replay(Provider::Twilio);
    let stamps: Vec<Option<u64>> = events
        .iter()
        .filter_map(|(e, _)| match e {
            CallEvent::Audio { timestamp_ms } => Some(*timestamp_ms),
            _ => None,
        })
        .collect();
    assert_eq!(
        stamps,
        vec![Some(5), Some(25), Some(45), Some(65), Some(85)]
    );
}

#[test]
fn telnyx_call_replays() {
    let (_, events) = replay(Provider::Telnyx);
    let start = start_of(&events);
    assert_eq!(start.stream_id, "32DE0DEA-53CB-4B21-89A4-9E1819C043BC");
    assert_eq!(start.from.as_deref(), Some("+254722000111"));
    assert_eq!(start.format, AudioFormat::MULAW_8K);
    assert_eq!(audio_sizes(&events), vec![160; 5]);
    assert!(events.contains(&(CallEvent::Dtmf { digit: '#' }, 0)));
    assert!(events.iter().any(|(e, _)| matches!(
        e,
        CallEvent::ProviderError { code, .. } if code == "100005"
    )));
    assert_eq!(events.last().map(|e| &e.0), Some(&CallEvent::Stop));
}

#[test]
fn plivo_call_replays_with_both_ack_spellings() {
    let (_, events) = replay(Provider::Plivo);
    let start = start_of(&events);
    assert_eq!(
        start.parameters.get("tenant").map(String::as_str),
        Some("demo")
    );
    assert_eq!(start.to.as_deref(), Some("+254711000100"));
    assert_eq!(audio_sizes(&events), vec![160; 5]);
    let marks: Vec<&str> = events
        .iter()
        .filter_map(|(e, _)| match e {
            CallEvent::Mark { name } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(marks, vec!["utt-1-0", "utt-1-1"]);
    assert_eq!(events.last().map(|e| &e.0), Some(&CallEvent::Cleared));
}

#[test]
fn vonage_call_replays_binary_audio() {
    let (_, events) = replay(Provider::Vonage);
    let start = start_of(&events);
    assert_eq!(start.format, AudioFormat::L16_16K);
    assert_eq!(
        start.parameters.get("tenant").map(String::as_str),
        Some("demo")
    );
    assert_eq!(
        start.provider_call_id.as_deref(),
        Some("63f61863-4a51-4f6b-86e1-46edebcf9356")
    );
    assert_eq!(audio_sizes(&events), vec![640; 5]);
    assert!(events.contains(&(CallEvent::Dtmf { digit: '9' }, 0)));
    assert!(events.contains(&(
        CallEvent::Mark {
            name: "utt-1-0".into()
        },
        0
    )));
    assert!(events.contains(&(CallEvent::Cleared, 0)));
}

#[test]
fn browser_call_replays_binary_audio() {
    let (codec, events) = replay(Provider::Browser);
    let start = start_of(&events);
    assert_eq!(start.format, AudioFormat::L16_16K);
    assert_eq!(start.stream_id, "0193a5c2-7d4e-7b1a-9f3c-2e5d6a7b8c9d");
    assert_eq!(
        start.parameters.get("call").map(String::as_str),
        Some("0193a5c2-7d4e-7b1a-9f3c-2e5d6a7b8c9d")
    );
    assert_eq!(
        start.from, None,
        "the token, not the page, names the caller"
    );
    assert_eq!(audio_sizes(&events), vec![640; 5]);
    assert!(events.contains(&(
        CallEvent::Mark {
            name: "utt-1-0".into()
        },
        0
    )));
    assert!(events.contains(&(CallEvent::Dtmf { digit: '4' }, 0)));
    assert!(events.contains(&(CallEvent::Cleared, 0)));
    assert_eq!(events.last().map(|e| &e.0), Some(&CallEvent::Stop));
    assert_eq!(codec.format(), Some(AudioFormat::L16_16K));
}

#[test]
fn exotel_call_replays_slin() {
    let (_, events) = replay(Provider::Exotel);
    let start = start_of(&events);
    assert_eq!(start.format, AudioFormat::L16_8K);
    assert_eq!(
        start.parameters.get("tenant").map(String::as_str),
        Some("demo")
    );
    assert_eq!(audio_sizes(&events), vec![1600; 3]);
    assert!(events.contains(&(CallEvent::Dtmf { digit: '2' }, 0)));
    assert_eq!(events.last().map(|e| &e.0), Some(&CallEvent::Stop));
}

/// Every codec refuses the same kinds of bad input with the same typed error.
#[test]
fn bad_input_gives_typed_errors() {
    for provider in Provider::ALL {
        let lines = fixture_lines(provider);
        let start_line = lines
            .iter()
            .find(|l| l.contains("\"start\"") || l.contains("websocket:connected"))
            .expect("start line")
            .clone();
        let media_line = lines
            .iter()
            .find(|l| l.starts_with("b64:") || l.contains("\"event\":\"media\""))
            .expect("media line")
            .clone();
        let mut audio = Vec::new();

        // Media before start.
        let mut c = provider.codec();
        let err = decode_line(c.as_mut(), &media_line, &mut audio).unwrap_err();
        assert!(
            matches!(err, CodecError::PeerBeforeStart(_)),
            "{provider}: {err:?}"
        );

        // Malformed JSON, unknown event, oversized.
        let mut c = provider.codec();
        assert!(matches!(
            c.decode(Inbound::Text("{\"event\":"), &mut audio),
            Err(CodecError::PeerMalformed(_))
        ));
        assert!(matches!(
            c.decode(Inbound::Text(r#"{"event":"teleport"}"#), &mut audio),
            Err(CodecError::PeerUnknownEvent(_))
        ));
        let huge = format!(r#"{{"event":"media","pad":"{}"}}"#, "x".repeat(70_000));
        assert!(matches!(
            c.decode(Inbound::Text(&huge), &mut audio),
            Err(CodecError::PeerOversized { .. })
        ));

        // Second start.
        decode_line(c.as_mut(), &start_line, &mut audio).expect("first start");
        assert_eq!(
            decode_line(c.as_mut(), &start_line, &mut audio),
            Err(CodecError::PeerSecondStart),
            "{provider}"
        );

        // Bad base64 (JSON providers) is dropped, not fatal.
        if !matches!(provider, Provider::Vonage | Provider::Browser) {
            let bad = media_line.replacen("\"payload\":\"", "\"payload\":\"!!!", 1);
            let err = c.decode(Inbound::Text(&bad), &mut audio).unwrap_err();
            assert_eq!(err, CodecError::PeerBadBase64, "{provider}");
            assert!(!err.is_fatal());
        } else {
            let err = c
                .decode(Inbound::Binary(&[0u8; 3]), &mut audio)
                .unwrap_err();
            assert_eq!(err, CodecError::PeerPartialSample(3));
        }
    }
}

#[test]
fn wrong_codec_or_rate_is_refused() {
    let mut audio = Vec::new();
    let cases: [(Provider, &str); 6] = [
        (
            Provider::Twilio,
            r#"{"event":"start","start":{"streamSid":"MZ","mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":16000,"channels":1}}}"#,
        ),
        (
            Provider::Telnyx,
            r#"{"event":"start","stream_id":"x","start":{"media_format":{"encoding":"OPUS","sample_rate":48000,"channels":1}}}"#,
        ),
        (
            Provider::Plivo,
            r#"{"event":"start","start":{"streamId":"s","mediaFormat":{"encoding":"audio/x-l16","sampleRate":44100}}}"#,
        ),
        (
            Provider::Vonage,
            r#"{"event":"websocket:connected","content-type":"audio/l16;rate=24000"}"#,
        ),
        (
            Provider::Exotel,
            r#"{"event":"start","stream_sid":"s","start":{"stream_sid":"s","media_format":{"encoding":"audio/x-raw","sample_rate":"8000","bit_rate":"24"}}}"#,
        ),
        (
            Provider::Browser,
            r#"{"event":"start","call":"c","format":{"encoding":"L16","sampleRate":48000}}"#,
        ),
    ];
    for (provider, msg) in cases {
        let mut c = provider.codec();
        let err = c.decode(Inbound::Text(msg), &mut audio).unwrap_err();
        assert!(
            matches!(err, CodecError::PeerUnsupportedFormat(_)),
            "{provider}: {err:?}"
        );
        assert!(err.is_fatal());
    }
}

/// Our playback commands become messages the provider's own codec shape
/// reads back (audio length preserved, marker names intact).
#[test]
fn playback_round_trips_in_each_providers_format() {
    for provider in Provider::ALL {
        let (mut codec, _) = replay(provider);
        let format = codec.format().expect("started");
        let mut out = Vec::new();
        let bot_audio = vec![format.silence_byte(); format.frame_bytes() * 10];
        codec.encode(Playback::Audio(&bot_audio), &mut out).unwrap();
        codec.encode(Playback::Mark("utt-7-2"), &mut out).unwrap();
        codec.encode(Playback::Clear, &mut out).unwrap();
        let mut audio_bytes = 0;
        let mut saw_mark = false;
        let mut saw_clear = false;
        for msg in &out {
            match msg {
                Outbound::Binary(b) => {
                    if provider == Provider::Vonage {
                        assert_eq!(b.len(), format.frame_bytes(), "{provider}");
                    } else {
                        // The page takes whole 20 ms frames in any number.
                        assert_eq!(b.len() % format.frame_bytes(), 0, "{provider}");
                    }
                    audio_bytes += b.len();
                }
                Outbound::Text(t) => {
                    let v: serde_json::Value = serde_json::from_str(t).unwrap();
                    let payload = v
                        .pointer("/media/payload")
                        .and_then(|p| p.as_str())
                        .map(|p| {
                            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, p)
                                .unwrap()
                                .len()
                        });
                    if let Some(n) = payload {
                        audio_bytes += n;
                    } else if t.contains("utt-7-2") {
                        assert!(audio_bytes > 0, "{provider}: mark before its audio");
                        saw_mark = true;
                    } else if t.to_ascii_lowercase().contains("clear") {
                        saw_clear = true;
                    }
                }
            }
        }
        assert_eq!(audio_bytes, bot_audio.len(), "{provider}");
        assert!(saw_mark && saw_clear, "{provider}");
    }
}

fn any_provider() -> impl Strategy<Value = Provider> {
    prop::sample::select(Provider::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Random bytes as text or binary frames never panic any codec.
    #[test]
    fn random_frames_never_panic(provider in any_provider(), frames in prop::collection::vec((any::<bool>(), prop::collection::vec(any::<u8>(), 0..600)), 1..20)) {
        let mut codec = provider.codec();
        let mut audio = Vec::new();
        let mut out = Vec::new();
        for (binary, bytes) in &frames {
            let _ = if *binary {
                codec.decode(Inbound::Binary(bytes), &mut audio)
            } else {
                codec.decode(Inbound::Text(&String::from_utf8_lossy(bytes)), &mut audio)
            };
            let _ = codec.encode(Playback::Audio(bytes), &mut out);
        }
    }

    /// Recorded sessions with one byte changed, a line dropped or duplicated
    /// never panic, and audio out is always whole samples of the format.
    #[test]
    fn mutated_sessions_never_panic(provider in any_provider(), edits in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8)) {
        let mut lines = fixture_lines(provider);
        for (line_ix, byte_ix, byte, op) in &edits {
            let i = line_ix.index(lines.len());
            match op {
                0 => {
                    let mut b = lines[i].clone().into_bytes();
                    let j = byte_ix.index(b.len().max(1)).min(b.len().saturating_sub(1));
                    if let Some(x) = b.get_mut(j) { *x = *byte; }
                    lines[i] = String::from_utf8_lossy(&b).into_owned();
                }
                1 => { lines.remove(i); if lines.is_empty() { break; } }
                _ => { let l = lines[i].clone(); lines.insert(i, l); }
            }
        }
        let mut codec = provider.codec();
        let mut audio = Vec::new();
        for line in &lines {
            let bytes;
            let msg = match line.strip_prefix("b64:") {
                Some(b) => match base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b) {
                    Ok(v) => { bytes = v; Inbound::Binary(&bytes) }
                    Err(_) => continue,
                },
                None => Inbound::Text(line),
            };
            if let Ok(CallEvent::Audio { .. }) = codec.decode(msg, &mut audio) {
                let format = codec.format().expect("audio only after start");
                prop_assert!(audio.len().is_multiple_of(format.bytes_per_sample()));
            }
        }
    }
}
