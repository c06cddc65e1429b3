//! The browser call page: `GET /call/{slug}` serves one self-contained page
//! (inline CSS and JavaScript, nothing fetched from elsewhere) in the
//! tenant's widget colour and display name, with a call button. The call
//! is a media websocket like a provider's (`/media/browser/{token}`, codec
//! `adapters::telephony::browser`), so it runs through the same call task,
//! turn engine and conversation as a phone call.
//!
//! `POST /call/{slug}/session` (JSON `{"phone": "..."}`) starts one: it
//! checks that the tenant takes calls and that the number parses, and
//! answers with a per-call media token minted exactly as a provider's
//! webhook mints one (120 s, one use, bound to the call id, tenant and
//! caller). The caller's number is the one typed in, unverified: like a
//! web chat before its phone check, the M-Pesa prompt to that phone is the
//! proof of it.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use tracing::{info, warn};

use crate::adapters::telephony::Provider;
use crate::core::ids::{CallId, Lang, PhoneNumber, TenantSlug};
use crate::http::media::{Routed, Services, count_rejected, now_unix};
use crate::http::media_auth::MediaClaimsInput;
use crate::runtime::call_setup::{CallServices, WebTenant};

const TEMPLATE: &str = include_str!("call_page.html");

/// `?raw=1` turns the browser's echo cancellation, noise suppression and
/// automatic gain off (tests with a fake microphone; a headset).
#[derive(Debug, Default, Deserialize)]
pub(super) struct PageQuery {
    #[serde(default)]
    raw: Option<String>,
}

/// The tenant of a browser call, or why it is not answered.
pub(super) async fn route_slug(services: &CallServices, slug: &str) -> Routed {
    match web_tenant(services, slug).await {
        Ok(t) => Routed::Tenant(t.voice),
        Err(why) => Routed::Refused(why),
    }
}

async fn web_tenant(services: &CallServices, slug: &str) -> Result<WebTenant, &'static str> {
    let Ok(slug) = TenantSlug::parse(slug) else {
        return Err("no such tenant");
    };
    match services.directory.by_slug(&slug).await {
        Ok(Some(t)) if t.voice.takes_calls(chrono::Utc::now()) => Ok(t),
        Ok(Some(t)) => {
            info!(tenant = %t.voice.slug, "browser call to a tenant that takes no calls; refused");
            Err("tenant not taking calls")
        }
        Ok(None) => Err("no such tenant"),
        Err(e) => {
            warn!(error = %e, "tenant directory failed; browser call refused");
            Err("directory unavailable")
        }
    }
}

pub(super) async fn page(
    State(s): Services,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    if !s.auth.serves(Provider::Browser) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let tenant = match web_tenant(&s, &slug).await {
        Ok(t) => t,
        Err("directory unavailable") => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Html(message_page("Please try again in a minute.")),
            )
                .into_response();
        }
        Err(_) => {
            return (
                StatusCode::NOT_FOUND,
                Html(message_page("This business does not take calls here.")),
            )
                .into_response();
        }
    };
    let raw = q.raw.as_deref().is_some_and(|r| r == "1" || r == "true");
    let notice = match &s.speech.stt {
        None => {
            "This server has no speech recognizer configured: the assistant will talk, \
             but it cannot understand what you say."
        }
        Some(stt) if !stt.languages().contains(&Lang::Sw) => {
            "The assistant understands English on this page. \
             Kwa Kiswahili, tafadhali tuandikie WhatsApp."
        }
        Some(_) => "The assistant understands English and Kiswahili.",
    };
    let color = css_color(&tenant.primary_color);
    let html = TEMPLATE
        .replace("{{NAME}}", &html_escape(&tenant.display_name))
        .replace("{{COLOR}}", color)
        .replace("{{ON_COLOR}}", text_on(color))
        .replace("{{NOTICE}}", &html_escape(notice))
        .replace("{{RAW}}", if raw { "true" } else { "false" });
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            // Everything the page needs is in it: scripts and styles inline,
            // the worklet from a blob, the socket to this host.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'unsafe-inline' blob:; \
                 style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; \
                 base-uri 'none'; form-action 'none'; frame-ancestors 'self'",
            ),
        ],
        Html(html),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
pub(super) struct SessionRequest {
    phone: String,
}

/// Starts a browser call: a media token for `/media/browser/{token}`.
pub(super) async fn session(
    State(s): Services,
    Path(slug): Path<String>,
    Json(req): Json<SessionRequest>,
) -> Response {
    if !s.auth.serves(Provider::Browser) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let tenant = match web_tenant(&s, &slug).await {
        Ok(t) => t.voice,
        Err(why) => {
            count_rejected(&s);
            let status = if why == "directory unavailable" {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::NOT_FOUND
            };
            return (
                status,
                Json(serde_json::json!({"error": "This business does not take calls here."})),
            )
                .into_response();
        }
    };
    let Ok(phone) = PhoneNumber::parse(&req.phone) else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(serde_json::json!({
                "error": "Please enter your phone number, for example 0712 345 678."
            })),
        )
            .into_response();
    };
    let call_id = CallId::new().to_string();
    let token = s.auth.mint(
        MediaClaimsInput {
            provider: Provider::Browser,
            call: &call_id,
            tenant: tenant.slug.as_str(),
            // A browser call dials no number; the slug in the token routes it.
            to: "",
            from: Some(phone.expose()),
            provider_call: None,
        },
        now_unix(),
    );
    info!(tenant = %tenant.slug, call_id = %call_id, "browser call session");
    Json(serde_json::json!({
        "call": call_id,
        "media": format!("/media/{}/{token}", Provider::Browser),
    }))
    .into_response()
}

fn message_page(text: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>Call</title></head><body><main><p role=\"status\">{}</p></main></body></html>",
        html_escape(text)
    )
}

/// A stored colour as CSS, if it is a plain hex colour; else the default.
pub(super) fn css_color(stored: &str) -> &str {
    let s = stored.trim();
    let hex = s.strip_prefix('#').unwrap_or("");
    if matches!(hex.len(), 3 | 6) && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        s
    } else {
        WebTenant::DEFAULT_COLOR
    }
}

/// Black or white, whichever reads better on `color` (WCAG relative
/// luminance; `color` is a checked hex colour).
pub(super) fn text_on(color: &str) -> &'static str {
    let hex = color.trim_start_matches('#');
    let full: String = if hex.len() == 3 {
        hex.chars().flat_map(|c| [c, c]).collect()
    } else {
        hex.to_owned()
    };
    let channel = |i: usize| {
        let v = f64::from(u8::from_str_radix(&full[i..i + 2], 16).unwrap_or(0)) / 255.0;
        if v <= 0.039_28 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let lum = 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
    // Contrast with white (1.05 / (lum + 0.05)) against black ((lum + 0.05) / 0.05).
    if 1.05 / (lum + 0.05) >= (lum + 0.05) / 0.05 {
        "#FFFFFF"
    } else {
        "#000000"
    }
}

pub(super) fn html_escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_checked_and_text_reads_on_them() {
        assert_eq!(css_color("#0F766E"), "#0F766E");
        assert_eq!(css_color("#fff"), "#fff");
        assert_eq!(css_color("red;}</style>"), WebTenant::DEFAULT_COLOR);
        assert_eq!(css_color("#12345"), WebTenant::DEFAULT_COLOR);
        assert_eq!(text_on("#0F766E"), "#FFFFFF");
        assert_eq!(text_on("#FFFF00"), "#000000");
        assert_eq!(text_on("#fff"), "#000000");
        assert_eq!(text_on("#000"), "#FFFFFF");
    }

    #[test]
    fn names_are_escaped() {
        assert_eq!(
            html_escape("<Nywele & \"Bora\">"),
            "&lt;Nywele &amp; &quot;Bora&quot;&gt;"
        );
    }
}
