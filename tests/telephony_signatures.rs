//! Provider signatures and per-call media tokens over loopback: real HTTP
//! webhooks and real websocket upgrades against the telephony routes.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine as _;
use futures::{SinkExt, StreamExt};
use ratiba::adapters::speech::SpeechProviders;
use ratiba::adapters::speech::espeak::Espeak;
use ratiba::adapters::telephony::media_token::MediaTokenKey;
use ratiba::adapters::telephony::signature::{
    TelnyxKey, VonagePayload, plivo_v3_signature, sign_vonage,
};
use ratiba::adapters::telephony::{twilio, vonage};
use ratiba::core::ids::{PhoneNumber, TenantSlug};
use ratiba::http::media_auth::TelephonyAuth;
use ratiba::runtime::call_setup::{
    CallServices, EchoConversation, StaticDirectory, VoiceDials, VoiceTenant,
};
use ratiba::runtime::metrics::Metrics;
use ratiba::runtime::shutdown::Shutdown;
use ratiba::runtime::writer::{self, MemorySink};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const TO: &str = "+254711000100";
const FROM: &str = "+254722000111";
const TWILIO_TOKEN: &str = "twilio-test-token";
const PLIVO_TOKEN: &str = "plivo-test-token";
const VONAGE_SECRET: &str = "vonage-test-secret";

struct Server {
    base: String,
    metrics: Arc<Metrics>,
    telnyx: ed25519_dalek::SigningKey,
}

async fn start_server() -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut numbers = HashMap::new();
    numbers.insert(
        PhoneNumber::parse(TO).unwrap(),
        VoiceTenant {
            slug: TenantSlug::parse("demo").unwrap(),
            name: "Nywele Bora Salon".into(),
            status: "active".into(),
            trial_ends_at: None,
            deleted_at: None,
            voice_enabled: true,
            dials: VoiceDials::default(),
        },
    );
    let metrics = Arc::new(Metrics::default());
    let (writer, _task) = writer::spawn(
        Arc::new(MemorySink::default()),
        Arc::clone(&metrics),
        1000,
        Shutdown::new(),
        Duration::from_secs(5),
    );
    let telnyx = ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]);
    let mut auth = TelephonyAuth::new(MediaTokenKey::random());
    auth.telnyx_key = Some(
        TelnyxKey::parse(
            &base64::engine::general_purpose::STANDARD.encode(telnyx.verifying_key().as_bytes()),
        )
        .unwrap(),
    );
    auth.plivo_auth_token = Some(PLIVO_TOKEN.into());
    auth.vonage_signature_secret = Some(VONAGE_SECRET.into());
    let services = CallServices {
        directory: Arc::new(StaticDirectory(numbers)),
        conversation: Arc::new(EchoConversation),
        speech: SpeechProviders {
            stt: None,
            tts: Arc::new(Espeak::new(None)),
        },
        writer,
        metrics: Arc::clone(&metrics),
        public_base_url: base.clone(),
        twilio_auth_token: Some(TWILIO_TOKEN.into()),
        auth: Arc::new(auth),
        allow_scripted_transcripts: true,
        shutdown: Shutdown::new(),
        turn_log: false,
        payments: None,
        payment_links: None,
        control: Default::default(),
    };
    let app = ratiba::http::media::router(services);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        base,
        metrics,
        telnyx,
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn telnyx_headers(key: &ed25519_dalek::SigningKey, ts: i64, body: &str) -> [(String, String); 2] {
    use ed25519_dalek::Signer as _;
    let sig = key.sign(format!("{ts}|{body}").as_bytes());
    [
        (
            "telnyx-signature-ed25519".into(),
            base64::engine::general_purpose::STANDARD.encode(sig.to_bytes()),
        ),
        ("telnyx-timestamp".into(), ts.to_string()),
    ]
}

fn telnyx_form() -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("CallSid", "v3:abc")
        .append_pair("To", TO)
        .append_pair("From", FROM)
        .finish()
}

async fn post_form(url: &str, body: &str, headers: &[(String, String)]) -> (u16, String) {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

/// The media URL a Telnyx webhook answers with (signed correctly).
async fn telnyx_media_url(server: &Server) -> String {
    let body = telnyx_form();
    let (status, texml) = post_form(
        &format!("{}/voice/telnyx", server.base),
        &body,
        &telnyx_headers(&server.telnyx, now(), &body),
    )
    .await;
    assert_eq!(status, 200, "{texml}");
    twilio::parse_connect_stream(&texml).expect("stream").0
}

/// The HTTP status of a websocket upgrade (101 when it was accepted).
async fn upgrade_status(url: &str, headers: &[(&'static str, String)]) -> u16 {
    let mut req = url.into_client_request().unwrap();
    for (k, v) in headers {
        req.headers_mut().insert(*k, v.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((_, resp)) => resp.status().as_u16(),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("upgrade failed: {e}"),
    }
}

/// Opens `url`, sends `start`, and tells whether the server kept the
/// stream (a call started) or closed it.
async fn stream_started(server: &Server, url: &str, start: serde_json::Value) -> bool {
    let before = server.metrics.calls_total.load(Ordering::SeqCst);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws.send(Message::text(start.to_string())).await.unwrap();
    let started = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if server.metrics.calls_total.load(Ordering::SeqCst) > before {
                return true;
            }
            if let Ok(Some(Ok(Message::Close(_))) | Some(Err(_)) | None) =
                tokio::time::timeout(Duration::from_millis(50), ws.next()).await
            {
                return false;
            }
        }
    })
    .await
    .unwrap_or(false);
    let _ = ws.close(None).await;
    started
}

fn telnyx_start(call: &str) -> serde_json::Value {
    serde_json::json!({"event":"start","stream_id":"S1","start":{
        "call_control_id":"v3:abc","from":FROM,"to":TO,
        "media_format":{"encoding":"PCMU","sample_rate":8000,"channels":1},
        "custom_parameters":{"call":call}}})
}

fn param_of(url: &str, texml_params: &[(String, String)], name: &str) -> String {
    texml_params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("{name} missing from the answer to {url}"))
}

// ------------------------------------------------------------ Telnyx

#[tokio::test]
async fn telnyx_webhook_signed_is_answered_forged_missing_or_replayed_is_refused() {
    let server = start_server().await;
    let url = format!("{}/voice/telnyx", server.base);
    let body = telnyx_form();

    let (status, texml) =
        post_form(&url, &body, &telnyx_headers(&server.telnyx, now(), &body)).await;
    assert_eq!(status, 200);
    let (ws_url, _) = twilio::parse_connect_stream(&texml).unwrap();
    assert!(ws_url.contains("/media/telnyx/v1."), "{ws_url}");

    let (status, text) = post_form(&url, &body, &[]).await;
    assert_eq!(status, 401, "missing signature: {text}");
    assert!(text.contains("telnyx-signature-ed25519"), "{text}");

    let stranger = ed25519_dalek::SigningKey::from_bytes(&[1u8; 32]);
    let (status, _) = post_form(&url, &body, &telnyx_headers(&stranger, now(), &body)).await;
    assert_eq!(status, 403, "signed by another key");

    let headers = telnyx_headers(&server.telnyx, now(), &body);
    let forged = body.replace("%2B254722000111", "%2B254700000001");
    let (status, _) = post_form(&url, &forged, &headers).await;
    assert_eq!(status, 403, "body changed after signing");

    let old = now() - 600;
    let (status, text) = post_form(&url, &body, &telnyx_headers(&server.telnyx, old, &body)).await;
    assert_eq!(status, 403, "a replayed ten-minute-old request: {text}");
    assert_eq!(server.metrics.calls_total.load(Ordering::SeqCst), 0);
}

/// The attack of the issue: an unsigned Telnyx webhook naming a number of
/// the attacker's choosing, then a media socket. Nothing starts, so no
/// M-Pesa prompt can go anywhere.
#[tokio::test]
async fn an_unsigned_telnyx_call_with_a_key_configured_does_not_start() {
    let server = start_server().await;
    let (status, _) = post_form(
        &format!("{}/voice/telnyx", server.base),
        &telnyx_form(),
        &[],
    )
    .await;
    assert_eq!(status, 401);
    let ws = server.base.replace("http://", "ws://");
    assert_eq!(
        upgrade_status(&format!("{ws}/media/telnyx"), &[]).await,
        401
    );
    assert_eq!(
        upgrade_status(&format!("{ws}/media/telnyx/v1.e30.AAAA"), &[]).await,
        403,
        "a made-up token"
    );
    assert_eq!(server.metrics.calls_total.load(Ordering::SeqCst), 0);
}

// ------------------------------------------------------------ media tokens

#[tokio::test]
async fn a_media_token_opens_its_own_call_once_and_no_other() {
    let server = start_server().await;
    let url_a = telnyx_media_url(&server).await;
    let url_b = telnyx_media_url(&server).await;
    assert_ne!(url_a, url_b);
    let call_of = |url: &str| -> String {
        let token = url.rsplit('/').next().unwrap();
        let claims = token.split('.').nth(1).unwrap();
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .unwrap();
        serde_json::from_slice::<serde_json::Value>(&json).unwrap()["c"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (call_a, call_b) = (call_of(&url_a), call_of(&url_b));

    // A's token with B's stream parameters: refused, nothing started.
    assert!(!stream_started(&server, &url_a, telnyx_start(&call_b)).await);
    assert_eq!(server.metrics.calls_total.load(Ordering::SeqCst), 0);
    assert!(server.metrics.calls_rejected.load(Ordering::SeqCst) >= 1);

    // A's token for A: the call starts; a second stream with it is refused.
    assert!(stream_started(&server, &url_a, telnyx_start(&call_a)).await);
    assert!(!stream_started(&server, &url_a, telnyx_start(&call_a)).await);
    assert_eq!(server.metrics.calls_total.load(Ordering::SeqCst), 1);

    // A Telnyx token does not open another provider's socket.
    let token = url_b.rsplit('/').next().unwrap();
    let ws = server.base.replace("http://", "ws://");
    assert_eq!(
        upgrade_status(&format!("{ws}/media/exotel/{token}"), &[]).await,
        403
    );
}

#[tokio::test]
async fn exotel_streams_need_the_token_of_their_url() {
    let server = start_server().await;
    let answer: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/voice/exotel", server.base))
        .query(&[("CallSid", "CA9"), ("From", FROM), ("To", TO)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = answer["url"].as_str().unwrap().to_owned();
    assert!(url.contains("/media/exotel/v1."), "{url}");
    let query: HashMap<String, String> = url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let start = |from: &str| {
        serde_json::json!({"event":"start","stream_sid":"S","start":{"stream_sid":"S","call_sid":"CA9",
            "from":from,"to":TO,"custom_parameters":query,
            "media_format":{"encoding":"audio/x-raw","sample_rate":"8000","bit_rate":"16"}}})
    };
    // The stream says another caller than the webhook did: refused.
    assert!(!stream_started(&server, &url, start("+254700000001")).await);
    assert!(stream_started(&server, &url, start(FROM)).await);
    let ws = server.base.replace("http://", "ws://");
    assert_eq!(
        upgrade_status(&format!("{ws}/media/exotel"), &[]).await,
        401
    );
}

// ------------------------------------------------------------ Twilio

/// Twilio signs the upgrade URL, which now carries the call's token: a
/// signature captured for one call opens no other.
#[tokio::test]
async fn a_twilio_upgrade_signature_covers_its_own_call_only() {
    let server = start_server().await;
    let mut urls = Vec::new();
    for sid in ["CA1", "CA2"] {
        let form = vec![
            ("CallSid".to_owned(), sid.to_owned()),
            ("From".to_owned(), FROM.to_owned()),
            ("To".to_owned(), TO.to_owned()),
        ];
        let url = format!("{}/voice/twilio", server.base);
        let sig = twilio::signature(TWILIO_TOKEN, &url, &form);
        let twiml = reqwest::Client::new()
            .post(&url)
            .header("X-Twilio-Signature", sig)
            .form(&form)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let (ws_url, params) = twilio::parse_connect_stream(&twiml).unwrap();
        assert_eq!(param_of(&ws_url, &params, "provider_call"), sid);
        urls.push(ws_url);
    }
    let sig_a = twilio::signature(TWILIO_TOKEN, &urls[0], &[]);
    assert_eq!(
        upgrade_status(&urls[1], &[("X-Twilio-Signature", sig_a.clone())]).await,
        403
    );
    assert_eq!(upgrade_status(&urls[0], &[]).await, 401);
    assert_eq!(
        upgrade_status(&urls[0], &[("X-Twilio-Signature", sig_a)]).await,
        101
    );
}

// ------------------------------------------------------------ Plivo

#[tokio::test]
async fn plivo_webhook_needs_its_v3_signature() {
    let server = start_server().await;
    let url = format!("{}/voice/plivo", server.base);
    let params = vec![
        ("CallUUID".to_owned(), "c0ffee".to_owned()),
        ("From".to_owned(), FROM.to_owned()),
        ("To".to_owned(), TO.to_owned()),
    ];
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish();
    let sig = plivo_v3_signature(PLIVO_TOKEN, "POST", &url, &params, "31337");
    // Two auth tokens active: Plivo sends both signatures.
    let headers = vec![
        (
            "X-Plivo-Signature-V3".to_owned(),
            format!(
                "{},{sig}",
                plivo_v3_signature("old-token", "POST", &url, &params, "31337")
            ),
        ),
        ("X-Plivo-Signature-V3-Nonce".to_owned(), "31337".to_owned()),
    ];
    let (status, xml) = post_form(&url, &body, &headers).await;
    assert_eq!(status, 200, "{xml}");
    assert!(xml.contains("/media/plivo/v1."), "{xml}");

    let (status, _) = post_form(&url, &body, &[]).await;
    assert_eq!(status, 401);
    let forged = body.replace("%2B254722000111", "%2B254700000001");
    let (status, _) = post_form(&url, &forged, &headers).await;
    assert_eq!(status, 403);
    let mut other_nonce = headers.clone();
    other_nonce[1].1 = "31338".into();
    let (status, _) = post_form(&url, &body, &other_nonce).await;
    assert_eq!(status, 403);
}

// ------------------------------------------------------------ Vonage

#[tokio::test]
async fn vonage_answer_needs_its_signed_jwt() {
    let server = start_server().await;
    let url = format!("{}/voice/vonage", server.base);
    let query = vec![
        ("to".to_owned(), "254711000100".to_owned()),
        ("from".to_owned(), "254722000111".to_owned()),
        ("uuid".to_owned(), "u-1".to_owned()),
    ];
    let http = reqwest::Client::new();
    let jwt = sign_vonage(VONAGE_SECRET, VonagePayload::Query(&query), now());
    let resp = http
        .get(&url)
        .query(&query)
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let ncco: serde_json::Value = resp.json().await.unwrap();
    let (ws_url, _) = vonage::parse_connect_ncco(&ncco).unwrap();
    assert!(ws_url.contains("/media/vonage/v1."), "{ws_url}");

    // A POST answer URL: the hash is of the JSON body.
    let body = r#"{"to":"254711000100","from":"254722000111","uuid":"u-2"}"#;
    let jwt_post = sign_vonage(VONAGE_SECRET, VonagePayload::Body(body.as_bytes()), now());
    let status = http
        .post(&url)
        .header("content-type", "application/json")
        .bearer_auth(&jwt_post)
        .body(body)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);

    let status = http.get(&url).query(&query).send().await.unwrap().status();
    assert_eq!(status, 401, "missing");
    let forged = sign_vonage("not-the-secret", VonagePayload::Query(&query), now());
    let status = http
        .get(&url)
        .query(&query)
        .bearer_auth(&forged)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 403, "signed with another secret");
    let mut other = query.clone();
    other[1].1 = "254700000001".into();
    let status = http
        .get(&url)
        .query(&other)
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(
        status, 403,
        "a genuine token on another caller's parameters"
    );
    let stale = sign_vonage(VONAGE_SECRET, VonagePayload::Query(&query), now() - 3600);
    let status = http
        .get(&url)
        .query(&query)
        .bearer_auth(&stale)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 403, "an hour-old token");
}
