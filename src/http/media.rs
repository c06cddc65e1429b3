//! Telephony routes: each provider's incoming-call webhook (answering with
//! its own markup that connects the call to our media websocket) and the
//! media websockets themselves, one per provider (`/media/twilio`, …).
//!
//! The dialled number picks the tenant. An unknown number, or a tenant that
//! has voice off or is not active/trial, gets a short polite message and a
//! hang-up at the webhook (logged, nothing else); a media socket that
//! reaches us for such a number is closed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use base64::Engine as _;
use futures::{SinkExt, StreamExt};
use tracing::{info, warn};

use crate::adapters::speech::scripted::{Scripted, Transcript};
use crate::adapters::speech::{SpeechToText, SttOptions};
use crate::adapters::telephony::{
    CallEvent, Inbound, MAX_TEXT_MESSAGE_BYTES, Provider, SOCKET_READ_BUFFER_BYTES, StreamStart,
    exotel, plivo, telnyx, twilio, vonage,
};
use crate::core::ids::{CallId, PhoneNumber, ThreadId};
use crate::runtime::call::{CallSetup, SocketIn, SocketOut, run_call};
use crate::runtime::call_setup::{CallContext, CallServices, VoiceTenant};

/// The stream parameter carrying a transcript sidecar (base64 JSON) for the
/// scripted recognizer, sent by the simulated caller.
pub const TRANSCRIPT_PARAM: &str = "x-transcript";
/// How long a provider has to send its start after connecting.
const START_TIMEOUT: Duration = Duration::from_secs(10);

const REFUSAL_EN: &str =
    "Sorry, this number cannot take calls right now. Please try again later. Goodbye.";

/// The telephony routes, with their own state.
pub fn router(services: CallServices) -> Router {
    Router::new()
        .route("/voice/twilio", post(twilio_webhook))
        .route("/voice/telnyx", post(telnyx_webhook))
        .route("/voice/plivo", any(plivo_webhook))
        .route("/voice/vonage", any(vonage_answer))
        .route("/voice/exotel", any(exotel_url))
        .route("/media/{provider}", get(media_socket))
        .with_state(Arc::new(services))
}

type Services = State<Arc<CallServices>>;

// ------------------------------------------------------------ webhooks

/// Why the dialled number is not answered by the bot.
enum Routed {
    Tenant(VoiceTenant),
    Refused(&'static str),
}

async fn route_number(services: &CallServices, to: Option<&str>) -> Routed {
    let Some(to) = to.and_then(|t| PhoneNumber::parse(t).ok()) else {
        warn!("incoming call without a valid dialled number; refused");
        return Routed::Refused("no dialled number");
    };
    match services.directory.by_voice_number(&to).await {
        Ok(Some(t)) if t.takes_calls() => Routed::Tenant(t),
        Ok(Some(t)) => {
            info!(tenant = %t.slug, status = %t.status, voice_enabled = t.voice_enabled, "call to a tenant that takes no calls; refused");
            Routed::Refused("tenant not taking calls")
        }
        Ok(None) => {
            info!(to = %to, "call to an unknown number; refused");
            Routed::Refused("unknown number")
        }
        Err(e) => {
            warn!(error = %e, "tenant directory failed; call refused");
            Routed::Refused("directory unavailable")
        }
    }
}

fn ws_base(services: &CallServices) -> String {
    let base = services.public_base_url.trim_end_matches('/');
    if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_owned()
    }
}

fn xml(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

fn form_params(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

async fn twilio_webhook(State(s): Services, headers: HeaderMap, body: Bytes) -> Response {
    let params = form_params(&body);
    if let Some(token) = &s.twilio_auth_token {
        let url = format!("{}/voice/twilio", s.public_base_url.trim_end_matches('/'));
        let sig = headers
            .get("x-twilio-signature")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !twilio::verify_signature(token, &url, &params, sig) {
            warn!("twilio webhook with a bad signature; refused");
            return StatusCode::FORBIDDEN.into_response();
        }
    }
    let call = match twilio::IncomingCall::from_params(&params) {
        Ok(c) => c,
        Err(e) => {
            warn!(error = %e, "malformed twilio webhook");
            return StatusCode::BAD_REQUEST.into_response();
        }
    };
    match route_number(&s, Some(&call.to)).await {
        Routed::Refused(_) => {
            s.metrics
                .calls_rejected
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            xml(twilio::say_and_hang_up_twiml(REFUSAL_EN, "en-GB"))
        }
        Routed::Tenant(t) => {
            let call_id = CallId::new().to_string();
            let mut p = vec![
                ("tenant", t.slug.as_str()),
                ("call", call_id.as_str()),
                ("to", call.to.as_str()),
                ("provider_call", call.call_sid.as_str()),
            ];
            if let Some(from) = &call.from {
                p.push(("from", from.as_str()));
            }
            let url = format!("{}/media/twilio", ws_base(&s));
            xml(twilio::connect_stream_twiml(&url, &p))
        }
    }
}

async fn telnyx_webhook(State(s): Services, body: Bytes) -> Response {
    let params = form_params(&body);
    let to = param(&params, "To");
    match route_number(&s, to).await {
        Routed::Refused(_) => xml(twilio::say_and_hang_up_twiml(REFUSAL_EN, "en-GB")),
        Routed::Tenant(t) => {
            let call_id = CallId::new().to_string();
            let url = format!("{}/media/telnyx", ws_base(&s));
            xml(telnyx::connect_stream_texml(
                &url,
                &[("tenant", t.slug.as_str()), ("call", call_id.as_str())],
            ))
        }
    }
}

async fn plivo_webhook(State(s): Services, RawQuery(q): RawQuery, body: Bytes) -> Response {
    let mut params = form_params(&body);
    params.extend(form_params(q.unwrap_or_default().as_bytes()));
    let to = param(&params, "To").map(str::to_owned);
    let from = param(&params, "From").map(str::to_owned);
    match route_number(&s, to.as_deref()).await {
        Routed::Refused(_) => xml(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Speak>{}</Speak><Hangup/></Response>",
            crate::adapters::telephony::xml_escape(REFUSAL_EN)
        )),
        Routed::Tenant(t) => {
            let call_id = CallId::new().0.simple().to_string();
            let url = format!("{}/media/plivo", ws_base(&s));
            let to = to.unwrap_or_default();
            let from = from.unwrap_or_default();
            xml(plivo::stream_xml(
                &url,
                &[
                    ("tenant", t.slug.as_str()),
                    ("call", call_id.as_str()),
                    ("to", to.as_str()),
                    ("from", from.as_str()),
                ],
            ))
        }
    }
}

async fn vonage_answer(State(s): Services, Query(q): Query<BTreeMap<String, String>>) -> Response {
    let to = q
        .get("to")
        .map(|t| format!("+{}", t.trim_start_matches('+')));
    match route_number(&s, to.as_deref()).await {
        Routed::Refused(_) => axum::Json(serde_json::json!([
            {"action": "talk", "text": REFUSAL_EN}
        ]))
        .into_response(),
        Routed::Tenant(t) => {
            let call_id = CallId::new().to_string();
            let url = format!("{}/media/vonage", ws_base(&s));
            let to = to.unwrap_or_default();
            let from = q
                .get("from")
                .map(|f| format!("+{}", f.trim_start_matches('+')))
                .unwrap_or_default();
            let uuid = q.get("uuid").cloned().unwrap_or_default();
            axum::Json(vonage::connect_ncco(
                &url,
                &[
                    ("tenant", t.slug.as_str()),
                    ("call", call_id.as_str()),
                    ("to", to.as_str()),
                    ("from", from.as_str()),
                    ("uuid", uuid.as_str()),
                ],
            ))
            .into_response()
        }
    }
}

async fn exotel_url(State(s): Services, Query(q): Query<BTreeMap<String, String>>) -> Response {
    let to = q.get("To").or(q.get("to")).cloned();
    match route_number(&s, to.as_deref()).await {
        Routed::Refused(_) => StatusCode::NOT_FOUND.into_response(),
        Routed::Tenant(t) => {
            let call_id = CallId::new().0.simple().to_string();
            let url = format!(
                "{}/media/exotel?tenant={}&call={}",
                ws_base(&s),
                t.slug,
                call_id
            );
            axum::Json(exotel::stream_url_answer(&url)).into_response()
        }
    }
}

// ------------------------------------------------------------ media sockets

async fn media_socket(
    State(s): Services,
    Path(provider): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let Ok(provider) = provider.parse::<Provider>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if provider == Provider::Twilio
        && let Some(token) = &s.twilio_auth_token
    {
        let mut url = format!("{}/media/twilio", ws_base(&s));
        if let Some(q) = &query {
            url.push('?');
            url.push_str(q);
        }
        let sig = headers
            .get("x-twilio-signature")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !twilio::verify_signature(token, &url, &[], sig) {
            warn!("twilio media upgrade with a bad signature; refused");
            return StatusCode::FORBIDDEN.into_response();
        }
    }
    let url_params: BTreeMap<String, String> = form_params(query.unwrap_or_default().as_bytes())
        .into_iter()
        .collect();
    ws.max_message_size(MAX_TEXT_MESSAGE_BYTES * 2)
        .read_buffer_size(SOCKET_READ_BUFFER_BYTES)
        .on_upgrade(move |socket| handle_media(s, provider, socket, url_params))
}

async fn handle_media(
    services: Arc<CallServices>,
    provider: Provider,
    socket: WebSocket,
    url_params: BTreeMap<String, String>,
) {
    let (tx, rx) = socket.split();
    let mut rx = rx.filter_map(|m| {
        futures::future::ready(match m {
            Ok(Message::Text(t)) => Some(Ok(SocketIn::Text(Bytes::from(t)))),
            Ok(Message::Binary(b)) => Some(Ok(SocketIn::Binary(b))),
            Ok(Message::Close(_)) => None,
            Ok(Message::Ping(_) | Message::Pong(_)) => None,
            Err(e) => Some(Err(e)),
        })
    });
    let mut tx = tx.with(|m: SocketOut| {
        futures::future::ready(Ok::<_, axum::Error>(match m {
            SocketOut::Text(t) => Message::Text(t.into()),
            SocketOut::Binary(b) => Message::Binary(b.into()),
            SocketOut::Close => Message::Close(None),
        }))
    });

    let mut codec = provider.codec();
    let mut audio = Vec::new();
    let start = tokio::time::timeout(START_TIMEOUT, async {
        while let Some(Ok(msg)) = rx.next().await {
            let decoded = match &msg {
                SocketIn::Text(b) => match std::str::from_utf8(b) {
                    Ok(t) => codec.decode(Inbound::Text(t), &mut audio),
                    Err(_) => continue,
                },
                SocketIn::Binary(b) => codec.decode(Inbound::Binary(b), &mut audio),
            };
            match decoded {
                Ok(CallEvent::Start(start)) => return Some(start),
                Ok(_) => {}
                Err(e) if e.is_fatal() => {
                    warn!(provider = %provider, error = %e, "media socket broke the protocol before start");
                    return None;
                }
                Err(_) => {}
            }
        }
        None
    })
    .await;
    let Ok(Some(mut start)) = start else {
        let _ = tx.send(SocketOut::Close).await;
        return;
    };
    for (k, v) in url_params {
        start.parameters.entry(k).or_insert(v);
    }
    let to = start
        .to
        .clone()
        .or_else(|| start.parameters.get("to").cloned());
    let tenant = match route_number(&services, to.as_deref()).await {
        Routed::Tenant(t) => t,
        Routed::Refused(why) => {
            services
                .metrics
                .calls_rejected
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            warn!(provider = %provider, reason = why, "media socket for a number we do not answer; closed");
            let _ = tx.send(SocketOut::Close).await;
            return;
        }
    };
    let setup = call_setup(&services, provider, tenant, start);
    run_call(rx, tx, codec, setup).await;
}

fn call_setup(
    services: &CallServices,
    provider: Provider,
    tenant: VoiceTenant,
    start: StreamStart,
) -> CallSetup {
    let call_id = start
        .parameters
        .get("call")
        .and_then(|c| uuid::Uuid::parse_str(c).ok())
        .map(CallId)
        .unwrap_or_default();
    let caller = start
        .from
        .as_deref()
        .or(start.parameters.get("from").map(String::as_str))
        .and_then(|f| PhoneNumber::parse(f).ok());
    let stt_opts = SttOptions {
        language: None,
        sample_rate_hz: crate::runtime::call_audio::engine_rate(start.format.sample_rate),
    };
    let scripted = start
        .parameters
        .get(TRANSCRIPT_PARAM)
        .filter(|_| services.allow_scripted_transcripts)
        .and_then(|b64| {
            let json = base64::engine::general_purpose::STANDARD
                .decode(b64.as_bytes())
                .ok()?;
            match Transcript::parse(&json) {
                Ok(t) => Some(t),
                Err(e) => {
                    warn!(error = %e, "transcript sidecar refused");
                    None
                }
            }
        });
    let stt = match scripted {
        Some(t) => Some(Scripted::new(t).open(&stt_opts)),
        None => services.speech.stt.as_ref().map(|s| s.open(&stt_opts)),
    };
    CallSetup {
        call_id,
        ctx: CallContext {
            tenant,
            thread: ThreadId::new(),
            caller,
        },
        provider,
        start,
        stt,
        tts: Arc::clone(&services.speech.tts),
        conversation: Arc::clone(&services.conversation),
        writer: services.writer.clone(),
        metrics: Arc::clone(&services.metrics),
        shutdown: services.shutdown.clone(),
        turn_log: services.turn_log,
        payments: services.payments.clone(),
        payment_links: services.payment_links.clone(),
    }
}
