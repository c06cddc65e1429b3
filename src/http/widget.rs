//! The web chat widget.
//!
//! * `GET /widget/{slug}`: one self-contained page (inline CSS and
//!   JavaScript, nothing fetched from elsewhere) in the tenant's widget
//!   colour, logo and display name. It sets the session cookie
//!   (`ratiba_web`, scoped to the tenant's widget path) on first visit.
//! * `GET /widget/{slug}/embed.js`: the one-line embed for the business's
//!   own site, `<script src="https://ENGINE/widget/SLUG/embed.js" async>`:
//!   a chat button that opens the page in a frame.
//! * `GET /widget/{slug}/ws`: the conversation's websocket. The session
//!   cookie is the customer ([`ChannelIdentity::WebCookie`]); each JSON
//!   message ([`FromWidget`]) is a turn through the shared chat seam and
//!   the replies come back on the socket ([`ToWidget`]), and so do a
//!   booking's M-Pesa prompt and its outcome when the node takes payments.
//!
//! Handlers never panic on input; an unknown or unserved tenant is a 404.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use futures::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tracing::Instrument;

use super::call_page::{css_color, html_escape, text_on};
use crate::adapters::sms::{DevSms, SmsBackend};
use crate::core::ids::{TenantSlug, WebSessionId};
use crate::runtime::conversation::ConversationService;
use crate::runtime::payments::PaymentService;
use crate::runtime::web_chat::{FromWidget, ToWidget, WebChannel, WebChats};
use crate::storage::{Db, TenantRecord};

const TEMPLATE: &str = include_str!("widget.html");
/// The session cookie's name.
pub const COOKIE: &str = "ratiba_web";
/// Largest websocket message taken from a widget.
const MAX_SOCKET_MESSAGE: usize = 16 * 1024;
/// A socket with nothing said for this long is closed (the page reopens
/// it when the customer writes again).
const IDLE: Duration = Duration::from_secs(15 * 60);

struct Shared {
    chats: WebChats,
    /// Cookies are `Secure; SameSite=None` (so the embedded frame keeps its
    /// session on the business's site) when the engine is served over
    /// https; `SameSite=Lax` on plain http (development).
    secure_cookie: bool,
}

/// The widget's routes. `payments`: the node's payment service (a booking
/// that takes a payment sends the M-Pesa prompt to the customer's number
/// and the outcome comes down the socket); without it, or for a tenant
/// with no M-Pesa gateway, the customer is told how to pay (the paybill).
pub fn router(
    db: Db,
    service: ConversationService,
    secure_cookie: bool,
    sms: Option<SmsBackend>,
    payments: Option<Arc<PaymentService>>,
) -> Router {
    let dev = match &sms {
        Some(SmsBackend::Dev(dev)) => Some(dev.clone()),
        Some(SmsBackend::Provider(_)) | None => None,
    };
    let shared = Arc::new(Shared {
        chats: WebChats::new(db, service, sms.as_ref().map(SmsBackend::sender), payments),
        secure_cookie,
    });
    let router = Router::new()
        .route("/widget/{slug}", get(page))
        .route("/widget/{slug}/embed.js", get(embed))
        .route("/widget/{slug}/ws", get(socket))
        .with_state(shared);
    match dev {
        // The development SMS capture (embedded default, no SMS key).
        Some(dev) => router.merge(
            Router::new()
                .route("/dev/sms", get(dev_sms))
                .with_state(dev),
        ),
        None => router,
    }
}

#[derive(serde::Deserialize)]
struct DevSmsQuery {
    to: Option<String>,
}

/// `GET /dev/sms?to=+2547…`: what the development SMS sender "sent".
async fn dev_sms(
    State(dev): State<DevSms>,
    axum::extract::Query(q): axum::extract::Query<DevSmsQuery>,
) -> Response {
    axum::Json(serde_json::json!({ "messages": dev.captured(q.to.as_deref()) })).into_response()
}

/// The tenant of a widget, if it is served now.
async fn tenant(db: &Db, slug: &str) -> Result<TenantRecord, StatusCode> {
    let Ok(slug) = TenantSlug::parse(slug) else {
        return Err(StatusCode::NOT_FOUND);
    };
    match db.tenant_by_slug(&slug).await {
        Ok(Some(t)) if t.standing(chrono::Utc::now()).serves() => Ok(t),
        Ok(_) => Err(StatusCode::NOT_FOUND),
        Err(e) => {
            tracing::warn!(error = %e, "tenant lookup failed; widget not served");
            Err(StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}

/// The session id in the request's cookie, if it holds a well-formed one.
fn session_cookie(headers: &HeaderMap) -> Option<WebSessionId> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .and_then(|(_, value)| WebSessionId::parse(value.trim()).ok())
}

fn set_cookie(slug: &TenantSlug, id: &WebSessionId, secure: bool) -> Option<HeaderValue> {
    let same_site = if secure {
        "SameSite=None; Secure"
    } else {
        "SameSite=Lax"
    };
    HeaderValue::from_str(&format!(
        "{COOKIE}={}; Path=/widget/{slug}; Max-Age=2592000; HttpOnly; {same_site}",
        id.expose()
    ))
    .ok()
}

/// The header's logo: the stored URL when it is on this server (a path)
/// or inline (`data:image/…`), so the page fetches nothing from elsewhere;
/// otherwise the name's first letter.
fn logo(tenant: &TenantRecord, name: &str) -> String {
    match tenant.widget_logo_url.as_deref().map(str::trim) {
        Some(url)
            if (url.starts_with('/') && !url.starts_with("//"))
                || url.starts_with("data:image/") =>
        {
            format!(
                "<img class=\"logo\" src=\"{}\" alt=\"\" data-testid=\"widget-logo\">",
                html_escape(url)
            )
        }
        _ => format!(
            "<span class=\"logo\" aria-hidden=\"true\">{}</span>",
            html_escape(
                &name
                    .chars()
                    .next()
                    .unwrap_or('?')
                    .to_uppercase()
                    .to_string()
            )
        ),
    }
}

async fn page(
    State(s): State<Arc<Shared>>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Response {
    let tenant = match tenant(s.chats.db(), &slug).await {
        Ok(t) => t,
        Err(status) => return (status, Html(unavailable())).into_response(),
    };
    let name = tenant
        .widget_display_name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| tenant.name.clone());
    let color = css_color(&tenant.widget_primary_color);
    let socket = format!("/widget/{}/ws", tenant.slug);
    let html = TEMPLATE
        .replace("{{LOGO}}", &logo(&tenant, &name))
        .replace("{{NAME}}", &html_escape(&name))
        .replace("{{COLOR}}", color)
        .replace("{{ON_COLOR}}", text_on(color))
        .replace(
            "{{SOCKET}}",
            &serde_json::to_string(&socket).unwrap_or_else(|_| "\"\"".into()),
        );
    let mut response = (
        [
            (header::CACHE_CONTROL, "no-store"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                 connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'",
            ),
        ],
        Html(html),
    )
        .into_response();
    if session_cookie(&headers).is_none()
        && let Some(cookie) = set_cookie(&tenant.slug, &WebSessionId::new(), s.secure_cookie)
    {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

fn unavailable() -> String {
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
     <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
     <title>Chat</title></head><body><main><p role=\"status\">This chat is not available.</p>\
     </main></body></html>"
        .to_owned()
}

/// The embed script: a round chat button at the bottom right of the
/// business's page that opens (and closes) the widget in a frame.
async fn embed(State(s): State<Arc<Shared>>, Path(slug): Path<String>) -> Response {
    let tenant = match tenant(s.chats.db(), &slug).await {
        Ok(t) => t,
        Err(status) => return status.into_response(),
    };
    let color = css_color(&tenant.widget_primary_color);
    let script = EMBED
        .replace("{{SLUG}}", tenant.slug.as_str())
        .replace("{{COLOR}}", color)
        .replace("{{ON_COLOR}}", text_on(color));
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        script,
    )
        .into_response()
}

const EMBED: &str = r#"(() => {
  "use strict";
  const me = document.currentScript;
  const base = new URL(me.src).origin;
  const btn = document.createElement("button");
  btn.type = "button";
  btn.setAttribute("aria-label", "Chat with us");
  btn.setAttribute("aria-expanded", "false");
  btn.textContent = "\u{1F4AC}";
  btn.style.cssText = "position:fixed;right:16px;bottom:16px;width:56px;height:56px;border-radius:50%;border:0;font-size:26px;cursor:pointer;z-index:2147483646;box-shadow:0 2px 8px rgba(0,0,0,.3);background:{{COLOR}};color:{{ON_COLOR}}";
  let frame = null;
  btn.addEventListener("click", () => {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.src = base + "/widget/{{SLUG}}";
      frame.title = "Chat";
      frame.style.cssText = "position:fixed;right:16px;bottom:84px;width:min(380px,calc(100vw - 32px));height:min(600px,calc(100vh - 100px));border:0;border-radius:12px;box-shadow:0 4px 24px rgba(0,0,0,.25);z-index:2147483647;background:#fff";
      document.body.appendChild(frame);
    } else {
      frame.hidden = !frame.hidden;
    }
    btn.setAttribute("aria-expanded", String(!frame.hidden));
  });
  document.body.appendChild(btn);
})();
"#;

async fn socket(
    State(s): State<Arc<Shared>>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let tenant = match tenant(s.chats.db(), &slug).await {
        Ok(t) => t,
        Err(status) => return status.into_response(),
    };
    let Some(session) = session_cookie(&headers) else {
        // The page sets the cookie; a socket without one did not come from it.
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let span = tracing::info_span!("web_chat", tenant = %tenant.slug, session = %session);
    ws.max_message_size(MAX_SOCKET_MESSAGE)
        .on_upgrade(move |socket| run_socket(s, tenant, session, socket).instrument(span))
}

/// One open widget: its messages in order, each a turn; replies go down
/// the same socket.
async fn run_socket(
    s: Arc<Shared>,
    tenant: TenantRecord,
    session: WebSessionId,
    socket: WebSocket,
) {
    let (mut sink, mut stream) = socket.split();
    let (out, mut outgoing) = mpsc::channel::<ToWidget>(32);
    let writer = tokio::spawn(
        async move {
            while let Some(msg) = outgoing.recv().await {
                let Ok(text) = serde_json::to_string(&msg) else {
                    continue;
                };
                if sink.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        }
        .in_current_span(),
    );
    let channel = WebChannel::new(out.clone());
    // Payment outcomes heard on this node come down this socket too.
    let open = s.chats.open_socket(&session, out.clone());
    // A returning session sees its earlier messages.
    match s.chats.history(&tenant, &session).await {
        Ok(messages) if !messages.is_empty() => {
            let _ = out.send(ToWidget::History { messages }).await;
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "web chat history not read"),
    }
    let mut steered = false;
    loop {
        let next = match tokio::time::timeout(IDLE, stream.next()).await {
            Ok(Some(Ok(m))) => m,
            Ok(Some(Err(e))) => {
                tracing::debug!(error = %e, "widget socket error");
                break;
            }
            Ok(None) | Err(_) => break,
        };
        let text = match next {
            Message::Text(t) => t,
            Message::Close(_) => break,
            Message::Binary(_) | Message::Ping(_) | Message::Pong(_) => continue,
        };
        let inbound: FromWidget = match serde_json::from_str(text.as_str()) {
            Ok(m) => m,
            Err(_) => {
                let _ = out
                    .send(ToWidget::Error {
                        text: "That message could not be read.".into(),
                    })
                    .await;
                continue;
            }
        };
        if let Err(e) = s.chats.message(&tenant, &session, &channel, inbound).await {
            tracing::warn!(error = %e, "web chat turn failed");
            let _ = out
                .send(ToWidget::Error {
                    text: "Sorry, something went wrong on our side. Please send that again.".into(),
                })
                .await;
        } else if !steered {
            // Offered once per socket, after the first message (the
            // session's row exists then).
            steered = true;
            match s.chats.steer(&tenant, &session).await {
                Ok(Some(link)) => {
                    let _ = out.send(link).await;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "steering link not made"),
            }
        }
    }
    drop(open);
    drop(channel);
    drop(out);
    let _ = writer.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others_and_checked() {
        let id = WebSessionId::new();
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("a=1; {COOKIE}={}; b=2", id.expose())).unwrap(),
        );
        assert_eq!(session_cookie(&h), Some(id));
        let mut bad = HeaderMap::new();
        bad.insert(
            header::COOKIE,
            HeaderValue::from_static("ratiba_web=../../etc; x=y"),
        );
        assert_eq!(session_cookie(&bad), None);
        assert_eq!(session_cookie(&HeaderMap::new()), None);
    }
}
