//! The providers' incoming-call webhooks: each checks the provider's
//! signature (`http::media_auth`), routes the dialled number to a tenant
//! and answers with the provider's markup connecting the call to our media
//! websocket, whose URL carries a media token minted for this call.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tracing::warn;

use crate::adapters::telephony::control::exotel::FlowDecision;
use crate::adapters::telephony::signature::{self, SignatureError, VonagePayload};
use crate::adapters::telephony::{Provider, exotel, plivo, telnyx, twilio, vonage};
use crate::core::ids::CallId;
use crate::http::media::{
    REFUSAL_EN, Routed, Services, count_rejected, form_params, header_str, media_url, not_served,
    now_unix, param, public_url, route_number, xml,
};
use crate::http::media_auth::{MediaClaimsInput, refuse_signature};

pub(super) async fn twilio_webhook(
    State(s): Services,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !s.auth.serves(Provider::Twilio) {
        return not_served();
    }
    let params = form_params(&body);
    match &s.twilio_auth_token {
        Some(token) => {
            let url = public_url(&s, "/voice/twilio", None);
            let Some(sig) = header_str(&headers, "x-twilio-signature") else {
                return refuse_signature(
                    Provider::Twilio,
                    "webhook",
                    &SignatureError::Missing("X-Twilio-Signature"),
                );
            };
            if !twilio::verify_signature(token, &url, &params, sig) {
                return refuse_signature(Provider::Twilio, "webhook", &SignatureError::Mismatch);
            }
        }
        None => s.auth.warn_unsigned_once(Provider::Twilio),
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
            count_rejected(&s);
            xml(twilio::say_and_hang_up_twiml(REFUSAL_EN, "en-GB"))
        }
        Routed::Tenant(t) => {
            let call_id = CallId::new().to_string();
            let token = s.auth.mint(
                MediaClaimsInput {
                    provider: Provider::Twilio,
                    call: &call_id,
                    tenant: t.slug.as_str(),
                    to: &call.to,
                    from: call.from.as_deref(),
                    provider_call: Some(&call.call_sid),
                },
                now_unix(),
            );
            let mut p = vec![
                ("tenant", t.slug.as_str()),
                ("call", call_id.as_str()),
                ("to", call.to.as_str()),
                ("provider_call", call.call_sid.as_str()),
            ];
            if let Some(from) = &call.from {
                p.push(("from", from.as_str()));
            }
            let url = media_url(&s, Provider::Twilio, &token);
            xml(twilio::connect_stream_twiml(&url, &p))
        }
    }
}

pub(super) async fn telnyx_webhook(
    State(s): Services,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !s.auth.serves(Provider::Telnyx) {
        return not_served();
    }
    match &s.auth.telnyx_key {
        Some(key) => {
            if let Err(e) = signature::verify_telnyx(
                key,
                header_str(&headers, "telnyx-signature-ed25519"),
                header_str(&headers, "telnyx-timestamp"),
                &body,
                now_unix(),
            ) {
                return refuse_signature(Provider::Telnyx, "webhook", &e);
            }
        }
        None => s.auth.warn_unsigned_once(Provider::Telnyx),
    }
    let params = form_params(&body);
    let to = param(&params, "To");
    match route_number(&s, to).await {
        Routed::Refused(_) => {
            count_rejected(&s);
            xml(twilio::say_and_hang_up_twiml(REFUSAL_EN, "en-GB"))
        }
        Routed::Tenant(t) => {
            let call_id = CallId::new().to_string();
            let token = s.auth.mint(
                MediaClaimsInput {
                    provider: Provider::Telnyx,
                    call: &call_id,
                    tenant: t.slug.as_str(),
                    to: to.unwrap_or_default(),
                    from: param(&params, "From"),
                    provider_call: None,
                },
                now_unix(),
            );
            let url = media_url(&s, Provider::Telnyx, &token);
            xml(telnyx::connect_stream_texml(
                &url,
                &[("tenant", t.slug.as_str()), ("call", call_id.as_str())],
            ))
        }
    }
}

pub(super) async fn plivo_webhook(
    State(s): Services,
    method: Method,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !s.auth.serves(Provider::Plivo) {
        return not_served();
    }
    let body_params = form_params(&body);
    match &s.auth.plivo_auth_token {
        Some(token) => {
            let url = public_url(&s, "/voice/plivo", q.as_deref());
            let post_params: &[(String, String)] = if method == Method::GET {
                &[]
            } else {
                &body_params
            };
            if let Err(e) = signature::verify_plivo_v3(
                token,
                method.as_str(),
                &url,
                post_params,
                header_str(&headers, "x-plivo-signature-v3-nonce"),
                header_str(&headers, "x-plivo-signature-v3"),
            ) {
                return refuse_signature(Provider::Plivo, "webhook", &e);
            }
        }
        None => s.auth.warn_unsigned_once(Provider::Plivo),
    }
    let mut params = body_params;
    params.extend(form_params(q.unwrap_or_default().as_bytes()));
    let to = param(&params, "To").map(str::to_owned);
    let from = param(&params, "From").map(str::to_owned);
    match route_number(&s, to.as_deref()).await {
        Routed::Refused(_) => {
            count_rejected(&s);
            xml(format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Speak>{}</Speak><Hangup/></Response>",
                crate::adapters::telephony::xml_escape(REFUSAL_EN)
            ))
        }
        Routed::Tenant(t) => {
            let call_id = CallId::new().0.simple().to_string();
            let to = to.unwrap_or_default();
            let from = from.unwrap_or_default();
            let token = s.auth.mint(
                MediaClaimsInput {
                    provider: Provider::Plivo,
                    call: &call_id,
                    tenant: t.slug.as_str(),
                    to: &to,
                    from: Some(&from),
                    provider_call: param(&params, "CallUUID"),
                },
                now_unix(),
            );
            let url = media_url(&s, Provider::Plivo, &token);
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

/// Vonage's answer URL: a GET with query parameters by default, or a POST
/// with a JSON body.
pub(super) async fn vonage_answer(
    State(s): Services,
    method: Method,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !s.auth.serves(Provider::Vonage) {
        return not_served();
    }
    let query = form_params(q.unwrap_or_default().as_bytes());
    match &s.auth.vonage_signature_secret {
        Some(secret) => {
            let payload = if method == Method::GET || body.is_empty() {
                VonagePayload::Query(&query)
            } else {
                VonagePayload::Body(&body)
            };
            if let Err(e) = signature::verify_vonage(
                secret,
                header_str(&headers, "authorization"),
                payload,
                now_unix(),
            ) {
                return refuse_signature(Provider::Vonage, "answer webhook", &e);
            }
        }
        None => s.auth.warn_unsigned_once(Provider::Vonage),
    }
    let q = vonage::answer_params(query, (method != Method::GET).then_some(&body[..]));
    let to = q
        .get("to")
        .map(|t| format!("+{}", t.trim_start_matches('+')));
    match route_number(&s, to.as_deref()).await {
        Routed::Refused(_) => {
            count_rejected(&s);
            axum::Json(serde_json::json!([
                {"action": "talk", "text": REFUSAL_EN}
            ]))
            .into_response()
        }
        Routed::Tenant(t) => {
            let call_id = CallId::new().to_string();
            let to = to.unwrap_or_default();
            let from = q
                .get("from")
                .map(|f| format!("+{}", f.trim_start_matches('+')))
                .unwrap_or_default();
            let uuid = q.get("uuid").cloned().unwrap_or_default();
            let token = s.auth.mint(
                MediaClaimsInput {
                    provider: Provider::Vonage,
                    call: &call_id,
                    tenant: t.slug.as_str(),
                    to: &to,
                    from: Some(&from),
                    provider_call: Some(&uuid),
                },
                now_unix(),
            );
            let url = media_url(&s, Provider::Vonage, &token);
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

/// Exotel's per-call URL request. Exotel signs nothing: the media token is
/// what keeps a stranger from opening a stream, and the caller's number is
/// the one this request named.
pub(super) async fn exotel_url(
    State(s): Services,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    if !s.auth.serves(Provider::Exotel) {
        return not_served();
    }
    s.auth.warn_unsigned_once(Provider::Exotel);
    let to = q.get("To").or(q.get("to")).cloned();
    match route_number(&s, to.as_deref()).await {
        Routed::Refused(_) => {
            count_rejected(&s);
            StatusCode::NOT_FOUND.into_response()
        }
        Routed::Tenant(t) => {
            let call_id = CallId::new().0.simple().to_string();
            let token = s.auth.mint(
                MediaClaimsInput {
                    provider: Provider::Exotel,
                    call: &call_id,
                    tenant: t.slug.as_str(),
                    to: to.as_deref().unwrap_or_default(),
                    from: q.get("From").or(q.get("from")).map(String::as_str),
                    provider_call: q.get("CallSid").map(String::as_str),
                },
                now_unix(),
            );
            let url = format!(
                "{}?tenant={}&call={}",
                media_url(&s, Provider::Exotel, &token),
                t.slug,
                call_id
            );
            axum::Json(exotel::stream_url_answer(&url)).into_response()
        }
    }
}

/// Plivo fetches the XML of a transfer we asked for (`aleg_url`): the URL's
/// token, signed by us for this transfer and short-lived, names the number.
pub(super) async fn plivo_transfer(
    State(s): Services,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Response {
    if !s.auth.serves(Provider::Plivo) {
        return not_served();
    }
    match crate::adapters::telephony::control::plivo::transfer_target(
        s.auth.media_key(),
        &token,
        now_unix(),
    ) {
        Ok(to) => xml(crate::adapters::telephony::control::plivo::dial_xml(&to)),
        Err(e) => crate::http::media_auth::refuse_token(Provider::Plivo, &e),
    }
}

/// Exotel's Passthru after the Voicebot applet: 200 when the bot put the
/// caller through (the flow's branch to a Connect applet), 302 otherwise
/// (the branch that hangs up).
pub(super) async fn exotel_next(
    State(s): Services,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    if !s.auth.serves(Provider::Exotel) {
        return not_served();
    }
    let decision = q
        .get("CallSid")
        .and_then(|sid| s.control.exotel_flow().decision(sid));
    match decision {
        Some(FlowDecision::Transfer(_)) => StatusCode::OK.into_response(),
        Some(FlowDecision::HangUp) | None => StatusCode::FOUND.into_response(),
    }
}

/// The number Exotel's Connect applet dials for a call the bot put
/// through (its dynamic number URL).
pub(super) async fn exotel_transfer_number(
    State(s): Services,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    if !s.auth.serves(Provider::Exotel) {
        return not_served();
    }
    let decision = q
        .get("CallSid")
        .and_then(|sid| s.control.exotel_flow().decision(sid));
    match decision {
        Some(FlowDecision::Transfer(to)) => axum::Json(serde_json::json!({
            "fetch_after_attempt": false,
            "destination": {"numbers": [to.expose()]},
        }))
        .into_response(),
        Some(FlowDecision::HangUp) | None => StatusCode::NOT_FOUND.into_response(),
    }
}
