//! Telephony routes: each provider's incoming-call webhook (in
//! `http::voice`: answering with its own markup that connects the call to
//! our media websocket) and the media websockets themselves, one per
//! provider (`/media/twilio/{token}`, …). Who may open one is
//! `http::media_auth`'s to say: a per-call token minted by the (signed)
//! webhook, in the URL's path.
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
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use base64::Engine as _;
use futures::{SinkExt, StreamExt};
use tracing::{info, warn};

use crate::adapters::speech::scripted::{Scripted, Transcript};
use crate::adapters::speech::{SpeechToText, SttOptions};
use crate::adapters::telephony::control::LiveCall;
use crate::adapters::telephony::media_token::{MediaClaims, MediaTokenError};
use crate::adapters::telephony::signature::{self, SignatureError};
use crate::adapters::telephony::{
    CallEvent, Inbound, MAX_TEXT_MESSAGE_BYTES, Provider, SOCKET_READ_BUFFER_BYTES, StreamStart,
    twilio,
};
use crate::core::dialog::handoff::{HandoffFacts, plan_call_handoff};
use crate::core::ids::{CallId, Lang, PhoneNumber, ThreadId};
use crate::http::media_auth::{refuse_signature, refuse_token};
use crate::http::{call_page, voice};
use crate::runtime::call::{CallSetup, SocketIn, SocketOut, run_call};
use crate::runtime::call_setup::{CallContext, CallServices, EnglishOnlyLine, VoiceTenant};

/// The stream parameter carrying a transcript sidecar (base64 JSON) for the
/// scripted recognizer, sent by the simulated caller.
pub const TRANSCRIPT_PARAM: &str = "x-transcript";
/// How long a provider has to send its start after connecting.
const START_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) const REFUSAL_EN: &str =
    "Sorry, this number cannot take calls right now. Please try again later. Goodbye.";

/// The telephony routes, with their own state.
pub fn router(services: CallServices) -> Router {
    Router::new()
        .route("/voice/twilio", post(voice::twilio_webhook))
        .route("/voice/telnyx", post(voice::telnyx_webhook))
        .route("/voice/plivo", any(voice::plivo_webhook))
        .route("/voice/vonage", any(voice::vonage_answer))
        .route("/voice/exotel", any(voice::exotel_url))
        .route("/voice/plivo/transfer/{token}", any(voice::plivo_transfer))
        .route("/voice/exotel/next", any(voice::exotel_next))
        .route(
            "/voice/exotel/transfer-number",
            any(voice::exotel_transfer_number),
        )
        .route("/call/{slug}", get(call_page::page))
        .route("/call/{slug}/session", post(call_page::session))
        .route("/media/{provider}", get(media_socket_without_token))
        .route("/media/{provider}/{token}", get(media_socket))
        .with_state(Arc::new(services))
}

pub(super) type Services = State<Arc<CallServices>>;

pub(super) fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

// ------------------------------------------------------------ webhooks

/// Why the dialled number is not answered by the bot.
// One per webhook, moved straight into the call: boxing buys nothing.
#[allow(clippy::large_enum_variant)]
pub(super) enum Routed {
    Tenant(VoiceTenant),
    Refused(&'static str),
}

pub(super) async fn route_number(services: &CallServices, to: Option<&str>) -> Routed {
    let Some(to) = to.and_then(|t| PhoneNumber::parse(t).ok()) else {
        warn!("incoming call without a valid dialled number; refused");
        return Routed::Refused("no dialled number");
    };
    match services.directory.by_voice_number(&to).await {
        Ok(Some(t)) if t.takes_calls(chrono::Utc::now()) => Routed::Tenant(t),
        Ok(Some(t)) => {
            info!(tenant = %t.slug, status = %t.status, standing = t.standing(chrono::Utc::now()).as_str(), voice_enabled = t.voice_enabled, "call to a tenant that takes no calls; refused");
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

pub(super) fn ws_base(services: &CallServices) -> String {
    let base = services.public_base_url.trim_end_matches('/');
    if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_owned()
    }
}

/// The public URL a provider called (what it signed).
pub(super) fn public_url(services: &CallServices, path: &str, query: Option<&str>) -> String {
    let mut url = format!("{}{path}", services.public_base_url.trim_end_matches('/'));
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        url.push('?');
        url.push_str(q);
    }
    url
}

/// The media socket URL of one call: the token is a path segment, so the
/// provider's own signature of the upgrade (Twilio) covers it too.
pub(super) fn media_url(services: &CallServices, provider: Provider, token: &str) -> String {
    format!("{}/media/{provider}/{token}", ws_base(services))
}

pub(super) fn xml(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

pub(super) use crate::adapters::telephony::form_params;

pub(super) fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

pub(super) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub(super) fn not_served() -> Response {
    StatusCode::NOT_FOUND.into_response()
}

pub(super) fn count_rejected(s: &CallServices) {
    s.metrics
        .calls_rejected
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

// ------------------------------------------------------------ media sockets

async fn media_socket_without_token(State(s): Services, Path(provider): Path<String>) -> Response {
    match provider.parse::<Provider>() {
        Ok(p) if s.auth.serves(p) => refuse_token(p, &MediaTokenError::Missing),
        _ => not_served(),
    }
}

async fn media_socket(
    State(s): Services,
    Path((provider, token)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let Ok(provider) = provider.parse::<Provider>() else {
        return not_served();
    };
    if !s.auth.serves(provider) {
        return not_served();
    }
    let claims = match s.auth.verify(Some(&token), provider, now_unix()) {
        Ok(c) => c,
        Err(e) => return refuse_token(provider, &e),
    };
    let mut url = media_url(&s, provider, &token);
    if let Some(q) = query.as_deref().filter(|q| !q.is_empty()) {
        url.push('?');
        url.push_str(q);
    }
    // Providers that sign the upgrade itself.
    match provider {
        Provider::Twilio => {
            if let Some(secret) = &s.twilio_auth_token {
                let Some(sig) = header_str(&headers, "x-twilio-signature") else {
                    return refuse_signature(
                        provider,
                        "media upgrade",
                        &SignatureError::Missing("X-Twilio-Signature"),
                    );
                };
                if !twilio::verify_signature(secret, &url, &[], sig) {
                    return refuse_signature(provider, "media upgrade", &SignatureError::Mismatch);
                }
            }
        }
        Provider::Plivo => {
            // Checked when Plivo sends it; the token decides otherwise.
            if let (Some(secret), Some(sig)) = (
                &s.auth.plivo_auth_token,
                header_str(&headers, "x-plivo-signature-v3"),
            ) {
                let http_url = url
                    .replacen("wss://", "https://", 1)
                    .replacen("ws://", "http://", 1);
                if let Err(e) = signature::verify_plivo_v3(
                    secret,
                    "GET",
                    &http_url,
                    &[],
                    header_str(&headers, "x-plivo-signature-v3-nonce"),
                    Some(sig),
                ) {
                    return refuse_signature(provider, "media upgrade", &e);
                }
            }
        }
        Provider::Telnyx | Provider::Vonage | Provider::Exotel | Provider::Browser => {}
    }
    let url_params: BTreeMap<String, String> = form_params(query.unwrap_or_default().as_bytes())
        .into_iter()
        .collect();
    ws.max_message_size(MAX_TEXT_MESSAGE_BYTES * 2)
        .read_buffer_size(SOCKET_READ_BUFFER_BYTES)
        .on_upgrade(move |socket| handle_media(s, provider, socket, url_params, claims))
}

async fn handle_media(
    services: Arc<CallServices>,
    provider: Provider,
    socket: WebSocket,
    url_params: BTreeMap<String, String>,
    claims: MediaClaims,
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
    // The token, not the start message, says whose call this is.
    let accepted = claims
        .check_start(&start, provider)
        .and_then(|()| services.auth.consume(&claims, now_unix()));
    if let Err(e) = accepted {
        count_rejected(&services);
        warn!(provider = %provider, error = %e, "media stream refused");
        let _ = tx.send(SocketOut::Close).await;
        return;
    }
    bind_to_claims(&mut start, &claims);
    let routed = match provider {
        // A browser call dials no number: the token names the tenant.
        Provider::Browser => call_page::route_slug(&services, &claims.tenant).await,
        Provider::Twilio
        | Provider::Telnyx
        | Provider::Plivo
        | Provider::Vonage
        | Provider::Exotel => route_number(&services, Some(&claims.to)).await,
    };
    let tenant = match routed {
        Routed::Tenant(t) if t.slug.as_str() == claims.tenant => t,
        Routed::Tenant(t) => {
            count_rejected(&services);
            warn!(provider = %provider, tenant = %t.slug, "media token minted for another tenant of this number; closed");
            let _ = tx.send(SocketOut::Close).await;
            return;
        }
        Routed::Refused(why) => {
            count_rejected(&services);
            warn!(provider = %provider, reason = why, "media socket for a number we do not answer; closed");
            let _ = tx.send(SocketOut::Close).await;
            return;
        }
    };
    let setup = call_setup(&services, provider, tenant, start);
    run_call(rx, tx, codec, setup).await;
}

/// Makes the token's call parameters the stream's: call id, tenant and
/// numbers come from the signed webhook.
fn bind_to_claims(start: &mut StreamStart, claims: &MediaClaims) {
    start.to = Some(claims.to.clone());
    start.from = claims.from.clone();
    let p = &mut start.parameters;
    p.insert("call".to_owned(), claims.call.clone());
    p.insert("tenant".to_owned(), claims.tenant.clone());
    p.insert("to".to_owned(), claims.to.clone());
    match &claims.from {
        Some(from) => p.insert("from".to_owned(), from.clone()),
        None => p.remove("from"),
    };
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
    let mut conversation = Arc::clone(&services.conversation);
    let stt = match scripted {
        Some(t) => Some(Scripted::new(t).open(&stt_opts)),
        None => services.speech.stt.as_ref().map(|s| {
            if !s.languages().contains(&Lang::Sw) {
                conversation = Arc::new(EnglishOnlyLine(conversation.clone()));
            }
            s.open(&stt_opts)
        }),
    };
    // The provider's REST control of this call, when it has one and the
    // stream named the call.
    let dialled = start.to.as_deref().and_then(|t| PhoneNumber::parse(t).ok());
    let control = services.control.get(provider).and_then(|control| {
        let id = start.provider_call_id.clone().filter(|id| !id.is_empty())?;
        Some((
            control,
            LiveCall {
                id,
                dialled: dialled.clone(),
            },
        ))
    });
    let handoff = plan_call_handoff(HandoffFacts {
        transfer_number: tenant.dials.transfer_to.as_ref(),
        provider_transfers: control.as_ref().is_some_and(|(c, _)| c.can_transfer()),
        dialled: dialled.as_ref(),
        caller: caller.as_ref(),
    });
    CallSetup {
        call_id,
        ctx: CallContext {
            tenant,
            thread: ThreadId::new(),
            caller,
            handoff,
        },
        control,
        provider,
        start,
        stt,
        tts: Arc::clone(&services.speech.tts),
        conversation,
        writer: services.writer.clone(),
        metrics: Arc::clone(&services.metrics),
        shutdown: services.shutdown.clone(),
        turn_log: services.turn_log,
        payments: services.payments.clone(),
        payment_links: services.payment_links.clone(),
    }
}
