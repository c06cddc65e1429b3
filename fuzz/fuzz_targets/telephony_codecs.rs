//! Feeds arbitrary frames to every telephony codec. The first byte picks the
//! provider; the rest is split on 0xFF into frames, each sent as text (when it
//! is UTF-8) or binary. Run: `cargo +nightly fuzz run telephony_codecs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ratiba::adapters::telephony::{Inbound, Playback, Provider};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let provider = Provider::ALL[usize::from(pick) % Provider::ALL.len()];
    let mut codec = provider.codec();
    let mut audio = Vec::new();
    let mut out = Vec::new();
    for frame in rest.split(|&b| b == 0xFF) {
        let _ = match std::str::from_utf8(frame) {
            Ok(text) => codec.decode(Inbound::Text(text), &mut audio),
            Err(_) => codec.decode(Inbound::Binary(frame), &mut audio),
        };
        let _ = codec.encode(Playback::Audio(frame), &mut out);
        let _ = codec.encode(Playback::Mark("m"), &mut out);
    }
});
