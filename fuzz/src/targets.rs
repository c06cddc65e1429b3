//! The fuzz targets. Each takes the fuzzer's bytes, feeds them to the
//! library's real parser (never a copy) and asserts what must hold for any
//! input, beyond "does not panic": encoded audio decodes back to itself,
//! a signature we make verifies and one the input makes does not, a parsed
//! message reads back from its stored form, and so on.
//!
//! Shared with the main crate's tests (`tests/telephony_codecs.rs` includes
//! this file by path), so it names only `ratiba` and crates the main crate
//! depends on.

use base64::Engine as _;
use ratiba::adapters::meta::{self, MetaChannel, MetaEvent, MetaInboundKind};
use ratiba::adapters::payments::callback_ref;
use ratiba::adapters::payments::daraja::StkCallback;
use ratiba::adapters::payments::pesapal::Ipn;
use ratiba::adapters::telephony::media_token::MediaTokenKey;
use ratiba::adapters::telephony::signature::{self, TelnyxKey, VonagePayload};
use ratiba::adapters::telephony::{
    AudioEncoding, AudioFormat, CallEvent, CodecError, Inbound, MAX_AUDIO_PAYLOAD_BYTES,
    MediaCodec, Outbound, Playback, Provider, form_params, twilio, vonage,
};
use ratiba::adapters::whatsapp::{self, InboundKind, WebhookEvent};
use ratiba::core::ids::{Currency, Money};
use ratiba::core::payment::{PaymentOutcome, Provider as PaymentProvider};
use ratiba::runtime::chat_intake::{self, InboxEvent};
use ratiba::storage::inbox::InboxKind;

/// A target's function.
pub type Target = fn(&[u8]);

/// Every target: its name (the binary's and the seed folder's) and function.
pub const ALL: &[(&str, Target)] = &[
    ("twilio_codec", twilio_codec),
    ("telnyx_codec", telnyx_codec),
    ("plivo_codec", plivo_codec),
    ("vonage_codec", vonage_codec),
    ("exotel_codec", exotel_codec),
    ("whatsapp_webhook", whatsapp_webhook),
    ("meta_webhook", meta_webhook),
    ("daraja_callback", daraja_callback),
    ("pesapal_callback", pesapal_callback),
    ("voice_webhooks", voice_webhooks),
];

pub fn twilio_codec(data: &[u8]) {
    media_session(Provider::Twilio, data);
}

pub fn telnyx_codec(data: &[u8]) {
    media_session(Provider::Telnyx, data);
}

pub fn plivo_codec(data: &[u8]) {
    media_session(Provider::Plivo, data);
}

pub fn vonage_codec(data: &[u8]) {
    media_session(Provider::Vonage, data);
}

pub fn exotel_codec(data: &[u8]) {
    media_session(Provider::Exotel, data);
}

// ---------------------------------------------------------------------------
// Media sockets.

/// One media websocket session, in the fixtures' format
/// (`fixtures/telephony/*/call.jsonl`): one inbound frame a line, text, or
/// `b64:<base64>` for a binary frame (a line that is not UTF-8 is sent as
/// binary as it is). Lines starting with `!` are our playback commands:
/// `!play:<bytes>`, `!mark:<name>`, `!clear`. Caller audio is played back
/// as it came (a loopback), so every started session exercises `encode`.
fn media_session(provider: Provider, data: &[u8]) {
    let mut s = Session {
        codec: provider.codec(),
        audio: Vec::new(),
        out: Vec::new(),
        pending: 0,
    };
    assert_eq!(s.codec.provider(), provider);
    for line in data.split(|&b| b == b'\n') {
        match line.strip_prefix(b"!") {
            Some(cmd) => {
                if let Some(bytes) = cmd.strip_prefix(b"play:") {
                    s.play(bytes);
                } else if let Some(name) = cmd.strip_prefix(b"mark:") {
                    s.mark(&String::from_utf8_lossy(name));
                } else if cmd == b"clear" {
                    s.clear();
                }
            }
            None => s.inbound(line),
        }
    }
}

struct Session {
    codec: Box<dyn MediaCodec>,
    audio: Vec<u8>,
    out: Vec<Outbound>,
    /// Audio handed to `encode` and not yet seen in an outbound message
    /// (the re-framing providers hold back part of a frame).
    pending: usize,
}

impl Session {
    fn inbound(&mut self, line: &[u8]) {
        let binary;
        let msg = if let Some(b64) = line.strip_prefix(b"b64:") {
            binary = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap_or_else(|_| b64.to_vec());
            Inbound::Binary(&binary)
        } else {
            match std::str::from_utf8(line) {
                Ok(text) => Inbound::Text(text),
                Err(_) => Inbound::Binary(line),
            }
        };
        let before = self.codec.format();
        match self.codec.decode(msg, &mut self.audio) {
            Ok(CallEvent::Start(start)) => {
                assert!(before.is_none(), "a second start was taken");
                assert_eq!(self.codec.format(), Some(start.format));
                assert_supported(start.format);
            }
            Ok(CallEvent::Audio { .. }) => {
                let format = self.codec.format().expect("audio before the start");
                assert!(self.audio.len().is_multiple_of(format.bytes_per_sample()));
                assert!(self.audio.len() <= MAX_AUDIO_PAYLOAD_BYTES);
                let echo = std::mem::take(&mut self.audio);
                self.play(&echo);
                self.audio = echo;
            }
            Ok(CallEvent::Dtmf { digit }) => {
                assert!(self.codec.format().is_some(), "a digit before the start");
                assert!(
                    digit.is_ascii_digit() || "*#ABCD".contains(digit),
                    "{digit:?}"
                );
            }
            Ok(CallEvent::Mark { .. }) => {
                assert!(self.codec.format().is_some(), "a mark before the start");
            }
            Ok(
                CallEvent::Connected
                | CallEvent::Cleared
                | CallEvent::Stop
                | CallEvent::ProviderError { .. }
                | CallEvent::Ignored,
            ) => assert_eq!(self.codec.format(), before),
            Err(e) => {
                assert_eq!(
                    self.codec.format(),
                    before,
                    "a refused message changed the stream"
                );
                assert_ne!(
                    e,
                    CodecError::NotStarted,
                    "NotStarted is ours, not the peer's"
                );
                let _ = (e.is_fatal(), e.to_string());
            }
        }
    }

    /// Plays `bytes` (cut to whole samples, as the runtime always sends).
    fn play(&mut self, bytes: &[u8]) {
        let whole = match self.codec.format() {
            Some(f) => bytes.len() / f.bytes_per_sample() * f.bytes_per_sample(),
            None => bytes.len(),
        };
        let bytes = &bytes[..whole];
        let emitted = self.encode(Playback::Audio(bytes));
        let Some(format) = self.codec.format() else {
            return;
        };
        match self.codec.provider() {
            // One message per command, nothing held back.
            Provider::Twilio | Provider::Telnyx | Provider::Plivo => {
                assert_eq!(emitted, bytes.len());
            }
            // Re-framed: whole frames go, the rest waits for more or a mark.
            Provider::Vonage | Provider::Exotel | Provider::Browser => {
                self.pending += bytes.len();
                assert!(emitted <= self.pending, "more audio out than in");
                self.pending -= emitted;
                assert!(self.pending < format.frame_bytes() * 5);
            }
        }
    }

    fn mark(&mut self, name: &str) {
        let emitted = self.encode(Playback::Mark(name));
        if let Some(format) = self.codec.format() {
            // Everything before a mark goes out, padded to a whole frame.
            assert!(emitted >= self.pending, "audio held back past a mark");
            assert!(emitted - self.pending < format.frame_bytes().max(1));
            self.pending = 0;
        }
    }

    fn clear(&mut self) {
        let emitted = self.encode(Playback::Clear);
        assert_eq!(emitted, 0, "a clear sent audio");
        self.pending = 0;
    }

    /// Encodes one command and checks every message it became; returns the
    /// audio bytes they carry.
    fn encode(&mut self, cmd: Playback<'_>) -> usize {
        self.out.clear();
        let result = self.codec.encode(cmd, &mut self.out);
        let Some(format) = self.codec.format() else {
            assert_eq!(result, Err(CodecError::NotStarted));
            assert!(self.out.is_empty());
            return 0;
        };
        result.expect("a started stream takes every playback command");
        let out = std::mem::take(&mut self.out);
        let mut emitted = 0;
        for msg in &out {
            emitted += self.check_outbound(msg, cmd, format);
        }
        self.out = out;
        emitted
    }

    /// One outbound message: well-formed, its audio in whole frames where
    /// the provider needs them, and (for the providers whose outbound and
    /// inbound spell media and marks alike) decoded back to what was sent.
    fn check_outbound(&mut self, msg: &Outbound, cmd: Playback<'_>, format: AudioFormat) -> usize {
        let provider = self.codec.provider();
        let frame = format.frame_bytes();
        let chunk = match msg {
            Outbound::Binary(bytes) => {
                assert_eq!(provider, Provider::Vonage, "binary from {provider}");
                assert_eq!(bytes.len(), frame, "a Vonage frame is exactly 20 ms");
                bytes.clone()
            }
            Outbound::Text(text) => {
                let v: serde_json::Value =
                    serde_json::from_str(text).expect("our messages are JSON");
                if let Playback::Mark(name) = cmd
                    && matches!(
                        provider,
                        Provider::Twilio | Provider::Telnyx | Provider::Exotel
                    )
                    && v["event"] == "mark"
                {
                    match self.codec.decode(Inbound::Text(text), &mut self.audio) {
                        Ok(CallEvent::Mark { name: back }) => assert_eq!(back, name),
                        other => panic!("our mark read back as {other:?}"),
                    }
                }
                let Some(payload) = v["media"]["payload"].as_str() else {
                    return 0;
                };
                let chunk = base64::engine::general_purpose::STANDARD
                    .decode(payload)
                    .expect("our audio is base64");
                if provider == Provider::Exotel {
                    assert!(
                        chunk.len().is_multiple_of(frame),
                        "Exotel chunks are whole frames"
                    );
                    assert!(chunk.len() <= 100_000);
                }
                chunk
            }
        };
        let round_trips = match (provider, msg) {
            (Provider::Twilio | Provider::Telnyx | Provider::Exotel, Outbound::Text(_))
            | (Provider::Vonage, Outbound::Binary(_)) => chunk.len() <= MAX_AUDIO_PAYLOAD_BYTES,
            _ => false,
        };
        if round_trips {
            let inbound = match msg {
                Outbound::Text(t) => Inbound::Text(t),
                Outbound::Binary(b) => Inbound::Binary(b),
            };
            let mut back = Vec::new();
            match self.codec.decode(inbound, &mut back) {
                Ok(CallEvent::Audio { .. }) => assert_eq!(back, chunk, "audio did not round-trip"),
                other => panic!("our audio read back as {other:?}"),
            }
        }
        chunk.len()
    }
}

fn assert_supported(format: AudioFormat) {
    let ok = match format.encoding {
        AudioEncoding::Mulaw | AudioEncoding::Alaw => format.sample_rate == 8000,
        AudioEncoding::L16 => matches!(format.sample_rate, 8000 | 16000),
    };
    assert!(ok, "accepted an unsupported format {format:?}");
}

// ---------------------------------------------------------------------------
// WhatsApp and Meta webhooks.

const APP_SECRET: &str = "fuzz-app-secret";

pub fn whatsapp_webhook(data: &[u8]) {
    check_meta_signature(data);
    let Ok(events) = whatsapp::parse_webhook(data) else {
        return;
    };
    for event in events {
        match event {
            WebhookEvent::Message(m) => {
                match &m.kind {
                    InboundKind::Text(t) => assert_eq!(m.text(), t),
                    InboundKind::Choice { id, title } => {
                        assert_eq!(m.choice_id(), Some(id.as_str()));
                        assert_eq!(m.text(), title);
                    }
                    InboundKind::Unsupported(kind) => {
                        assert_eq!(m.text(), "");
                        assert_eq!(m.message_type(), kind);
                    }
                }
                // The inbox row reads back as the message, NULs removed.
                let stored = stored_form(chat_intake::encode_message(&m));
                let Ok(InboxEvent::Message(back)) =
                    chat_intake::decode(InboxKind::Message, &stored)
                else {
                    panic!("stored message did not read back");
                };
                let clean = chat_intake::without_nul;
                let mut expected = m.clone();
                expected.phone_number_id = clean(&m.phone_number_id);
                expected.from = clean(&m.from);
                expected.profile_name = m.profile_name.as_deref().map(clean);
                expected.id = clean(&m.id);
                expected.kind = match &m.kind {
                    InboundKind::Text(t) => InboundKind::Text(clean(t)),
                    InboundKind::Choice { id, title } => InboundKind::Choice {
                        id: clean(id),
                        title: clean(title),
                    },
                    InboundKind::Unsupported(t) => InboundKind::Unsupported(clean(t)),
                };
                assert_eq!(back, expected);
            }
            WebhookEvent::Status(st) => {
                let stored = stored_form(chat_intake::encode_status(&st));
                let Ok(InboxEvent::Status(back)) = chat_intake::decode(InboxKind::Status, &stored)
                else {
                    panic!("stored status did not read back");
                };
                assert_eq!(back.id, chat_intake::without_nul(&st.id));
                assert_eq!(back.timestamp, st.timestamp);
            }
        }
    }
}

/// A payload as Postgres jsonb keeps it: text that holds no NUL.
fn stored_form(payload: serde_json::Value) -> serde_json::Value {
    let text = payload.to_string();
    assert!(!text.contains("\\u0000"), "a NUL reached the inbox: {text}");
    serde_json::from_str(&text).expect("stored JSON reads back")
}

/// A body signed with the app secret verifies; the body itself, taken as
/// a header, does not verify another body.
fn check_meta_signature(data: &[u8]) {
    let header = whatsapp::sign(APP_SECRET, data);
    assert_eq!(
        whatsapp::verify_signature(APP_SECRET, data, Some(&header)),
        Ok(())
    );
    if let Ok(forged) = std::str::from_utf8(data) {
        assert!(whatsapp::verify_signature(APP_SECRET, b"{}", Some(forged)).is_err());
    }
}

/// The first byte picks the inbox (Instagram or Messenger); the rest is the
/// body.
pub fn meta_webhook(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let channel = if pick & 1 == 0 {
        MetaChannel::Instagram
    } else {
        MetaChannel::Messenger
    };
    check_meta_signature(body);
    let Ok(events) = meta::parse_webhook(channel, body) else {
        return;
    };
    // The other inbox refuses the same body: routing never mixes them.
    let other = match channel {
        MetaChannel::Instagram => MetaChannel::Messenger,
        MetaChannel::Messenger => MetaChannel::Instagram,
    };
    assert!(meta::parse_webhook(other, body).is_err());
    for event in events {
        match event {
            MetaEvent::Message(m) => {
                assert_eq!(m.channel, channel);
                match &m.kind {
                    MetaInboundKind::Text(t) => assert_eq!(m.text(), t),
                    MetaInboundKind::Choice { payload, title } => {
                        assert_eq!(m.choice_id(), Some(payload.as_str()));
                        assert_eq!(m.text(), title);
                    }
                    MetaInboundKind::Unsupported(_) => assert_eq!(m.text(), ""),
                }
            }
            MetaEvent::Echo { .. } | MetaEvent::Read { .. } => {}
        }
    }
}

// ---------------------------------------------------------------------------
// Payment callbacks.

pub fn daraja_callback(data: &[u8]) {
    check_callback_ref(PaymentProvider::Mpesa, data);
    let Ok(cb) = StkCallback::parse(data) else {
        return;
    };
    match cb.outcome() {
        PaymentOutcome::Completed { receipt } => {
            assert_eq!(cb.result_code, 0);
            assert!(
                receipt.is_some_and(|r| !r.is_empty()),
                "success without a receipt"
            );
        }
        PaymentOutcome::CancelledByCustomer
        | PaymentOutcome::Timeout
        | PaymentOutcome::Failed(_) => assert_ne!(cb.result_code, 0),
    }
    if let Some(amount) = cb.amount {
        assert!(amount.minor >= 0, "a negative amount: {amount:?}");
        let text = format!("{}.{:02}", amount.minor / 100, amount.minor % 100);
        assert_eq!(Money::parse_decimal(&text, Currency::KES), Ok(amount));
    }
}

/// The first line is the query string of a GET notification, the rest the
/// body of a POST one.
pub fn pesapal_callback(data: &[u8]) {
    let (query, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    check_callback_ref(PaymentProvider::Pesapal, body);
    let query = std::str::from_utf8(query).ok();
    let Ok(ipn) = Ipn::parse(query, body) else {
        return;
    };
    assert!(!ipn.order_tracking_id.is_empty());
    assert!(!ipn.merchant_reference.is_empty());
    let ack = ipn.ack(true);
    assert_eq!(ack["orderTrackingId"], ipn.order_tracking_id.as_str());
    assert_eq!(
        ack["orderMerchantReference"],
        ipn.merchant_reference.as_str()
    );
    // What the endpoint hands on reads back as the same notification.
    let handed_on = ipn.callback_body(body);
    assert_eq!(Ipn::parse(None, &handed_on), Ok(ipn.clone()));
    // The same fields as a query string read back alike.
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("OrderTrackingId", &ipn.order_tracking_id)
        .append_pair("OrderMerchantReference", &ipn.merchant_reference)
        .append_pair("OrderNotificationType", &ipn.notification_type)
        .finish();
    assert_eq!(Ipn::parse(Some(&encoded), b""), Ok(ipn));
}

/// A review row's id: the provider's id when the body names it, else the
/// body's hash; bounded, and the same for the same bytes.
fn check_callback_ref(provider: PaymentProvider, body: &[u8]) {
    let id = callback_ref(provider, body);
    assert!(!id.is_empty());
    match id.strip_prefix("sha256:") {
        Some(hash) if id.chars().count() == 71 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {}
        _ => assert!(id.chars().count() <= 200, "{id}"),
    }
}

// ---------------------------------------------------------------------------
// Voice webhooks and their signatures.

const NOW: i64 = 1_765_000_000;
const TOKEN: &str = "fuzz-auth-token";
const VOICE_URL: &str = "https://ratiba.example/voice/twilio";

/// The body as a form (Twilio, Telnyx and Plivo post forms; Vonage sends a
/// query or JSON): parsed, signed and verified the way each webhook does,
/// and used as a forged signature header, which must never pass.
pub fn voice_webhooks(data: &[u8]) {
    let params = form_params(data);
    let first = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    if let Ok(call) = twilio::IncomingCall::from_params(&params) {
        assert_eq!(Some(&call.call_sid), first("CallSid"));
        assert_eq!(Some(&call.to), first("To"));
    }
    // Twilio: our signature of the request verifies.
    let sig = twilio::signature(TOKEN, VOICE_URL, &params);
    assert!(twilio::verify_signature(TOKEN, VOICE_URL, &params, &sig));
    // Plivo V3, a POST with these parameters.
    let nonce = "12345";
    let sig = signature::plivo_v3_signature(TOKEN, "POST", VOICE_URL, &params, nonce);
    assert_eq!(
        signature::verify_plivo_v3(TOKEN, "POST", VOICE_URL, &params, Some(nonce), Some(&sig)),
        Ok(())
    );
    // Vonage: the body as JSON, the query as the form.
    let answer = vonage::answer_params(params.clone(), Some(data));
    for (k, v) in &params {
        if let Some(kept) = answer.get(k) {
            assert!(
                params.iter().any(|(k2, v2)| k2 == k && v2 == kept),
                "{k}: {v}"
            );
        }
    }
    let jwt = signature::sign_vonage(TOKEN, VonagePayload::Body(data), NOW);
    let claims = signature::verify_vonage(
        TOKEN,
        Some(&format!("Bearer {jwt}")),
        VonagePayload::Body(data),
        NOW,
    )
    .expect("our Vonage JWT verifies");
    assert_eq!(claims.iat, Some(NOW));

    // Whatever the input says as a header, it forges nothing.
    let Ok(forged) = std::str::from_utf8(data) else {
        return;
    };
    let other_params = vec![("To".to_owned(), "+254711000100".to_owned())];
    assert!(!twilio::verify_signature(
        TOKEN,
        VOICE_URL,
        &other_params,
        forged
    ));
    assert!(
        signature::verify_plivo_v3(
            TOKEN,
            "POST",
            VOICE_URL,
            &other_params,
            Some(nonce),
            Some(forged)
        )
        .is_err()
    );
    assert!(
        signature::verify_vonage(
            TOKEN,
            Some(forged),
            VonagePayload::Query(&other_params),
            NOW
        )
        .is_err()
    );
    let key = telnyx_key();
    let (sig, ts) = forged.split_once('|').unwrap_or((forged, "1765000000"));
    assert!(signature::verify_telnyx(&key, Some(sig), Some(ts), b"{}", NOW).is_err());
    let _ = TelnyxKey::parse(forged);
    let media_key = MediaTokenKey::derive(TOKEN.as_bytes());
    for provider in Provider::ALL {
        assert!(media_key.verify(forged, provider, NOW).is_err());
    }
}

/// The Telnyx public key of the signature tests' signing key (`[42; 32]`).
fn telnyx_key() -> TelnyxKey {
    let public = ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]).verifying_key();
    let b64 = base64::engine::general_purpose::STANDARD.encode(public.as_bytes());
    TelnyxKey::parse(&b64).expect("a valid key")
}
