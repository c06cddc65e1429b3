//! Payment provider callbacks.
//!
//! * `POST /payments/daraja/callback/{token}`: Daraja STK results.
//! * `POST|GET /payments/pesapal/ipn/{token}`: PesaPal IPNs.
//! * `GET /payments/pesapal/return`: where the customer's browser lands.
//!
//! Callbacks carry no signature. The `{token}` is the payment's unguessable
//! merchant reference (122 random bits), so only the provider that was given
//! the URL can post to it; an optional IP allow-list adds a second check,
//! made before anything is parsed or stored (failing it is logged and the
//! callback left to the reconciler's status query rather than refused
//! outright, since provider egress IPs change).
//! Providers want a quick answer: the work gets a short budget and then
//! carries on in the background while the acknowledgement goes out.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use serde_json::json;

use crate::adapters::payments::daraja::callback_ack;
use crate::adapters::payments::pesapal::Ipn;
use crate::adapters::payments::simulator::Simulator;
use crate::config::IpNet;
use crate::core::payment::Provider;
use crate::runtime::payments::{CallbackHandled, PaymentService};

/// How long a callback may be worked on before the acknowledgement goes out.
const ANSWER_BUDGET: Duration = Duration::from_secs(3);

#[derive(Clone)]
struct PaymentsHttp {
    service: Arc<PaymentService>,
    allowlist: Arc<Vec<IpNet>>,
}

/// The callback routes, with their own state; merge into the app router.
/// A simulator, when given (payment_environment = simulator only), is
/// served under `/sim`.
pub fn router(
    service: Arc<PaymentService>,
    allowlist: Vec<IpNet>,
    simulator: Option<&Simulator>,
) -> Router {
    let routes = Router::new()
        .route("/payments/daraja/callback/{token}", post(daraja_callback))
        .route(
            "/payments/pesapal/ipn/{token}",
            post(pesapal_ipn).get(pesapal_ipn),
        )
        .route("/payments/pesapal/return", get(pesapal_return))
        .with_state(PaymentsHttp {
            service,
            allowlist: Arc::new(allowlist),
        });
    match simulator {
        Some(sim) => routes.nest("/sim", sim.router()),
        None => routes,
    }
}

/// The sender's address: the peer, or (only when the peer is a local or
/// private proxy) the last hop it recorded in X-Forwarded-For.
fn sender_ip(peer: Option<SocketAddr>, headers: &HeaderMap) -> Option<IpAddr> {
    let peer = peer?.ip();
    let trusted_proxy = match peer {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private(),
        IpAddr::V6(v6) => v6.is_loopback(),
    };
    if !trusted_proxy {
        return Some(peer);
    }
    headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|last| last.trim().parse().ok())
        .or(Some(peer))
}

fn allowed(state: &PaymentsHttp, peer: Option<SocketAddr>, headers: &HeaderMap) -> bool {
    if state.allowlist.is_empty() {
        return true;
    }
    let ip = sender_ip(peer, headers);
    let ok = ip.is_some_and(|ip| state.allowlist.iter().any(|net| net.contains(ip)));
    if !ok {
        tracing::warn!(ip = ?ip, "payment callback from outside the allow-list; left to the reconciler");
    }
    ok
}

async fn daraja_callback(
    State(state): State<PaymentsHttp>,
    Path(token): Path<String>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !allowed(&state, peer.map(|c| c.0.0), &headers) {
        return axum::Json(callback_ack()).into_response();
    }
    let service = state.service.clone();
    let work = tokio::spawn(async move {
        service
            .handle_callback(Provider::Mpesa, &token, &body, Utc::now())
            .await
    });
    match tokio::time::timeout(ANSWER_BUDGET, work).await {
        Ok(Ok(Ok(handled))) => tracing::debug!(?handled, "daraja callback handled"),
        Ok(Ok(Err(e))) => tracing::error!(error = %e, "daraja callback failed"),
        Ok(Err(e)) => tracing::error!(error = %e, "daraja callback task failed"),
        Err(_) => tracing::info!("daraja callback still processing; acknowledged"),
    }
    // Daraja does not act on our answer beyond logging it; always accept.
    axum::Json(callback_ack()).into_response()
}

async fn pesapal_ipn(
    State(state): State<PaymentsHttp>,
    Path(token): Path<String>,
    RawQuery(query): RawQuery,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // The allow-list comes first: a sender outside it stores nothing.
    if !allowed(&state, peer.map(|c| c.0.0), &headers) {
        return match Ipn::parse(query.as_deref(), &body) {
            Ok(ipn) => axum::Json(ipn.ack(true)).into_response(),
            Err(_) => (StatusCode::OK, axum::Json(json!({"status": 200}))).into_response(),
        };
    }
    let ipn = match Ipn::parse(query.as_deref(), &body) {
        Ok(ipn) => ipn,
        Err(e) => {
            // Unreadable: kept for review, and acknowledged (a retry of the
            // same bytes would not read any better).
            tracing::warn!(error = %e, "unreadable pesapal ipn");
            let raw = if body.is_empty() {
                json!({"query": query}).to_string().into_bytes()
            } else {
                body.to_vec()
            };
            let _ = state
                .service
                .dead_letter(Provider::Pesapal, &raw, &token, "malformed")
                .await;
            return (StatusCode::OK, axum::Json(json!({"status": 200}))).into_response();
        }
    };
    let service = state.service.clone();
    // A GET notification carries its fields in the query string.
    let raw = ipn.callback_body(&body);
    let work = tokio::spawn(async move {
        service
            .handle_callback(Provider::Pesapal, &token, &raw, Utc::now())
            .await
    });
    let ok = match tokio::time::timeout(ANSWER_BUDGET, work).await {
        Ok(Ok(Ok(CallbackHandled::NotFinal))) => true,
        Ok(Ok(Ok(handled))) => {
            tracing::debug!(?handled, "pesapal ipn handled");
            true
        }
        Ok(Ok(Err(e))) => {
            // status 500 asks PesaPal to send the IPN again.
            tracing::error!(error = %e, "pesapal ipn failed");
            false
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "pesapal ipn task failed");
            false
        }
        Err(_) => true,
    };
    axum::Json(ipn.ack(ok)).into_response()
}

async fn pesapal_return() -> Response {
    (
        StatusCode::OK,
        "Thank you. Your payment is being confirmed; you will get a WhatsApp message shortly.",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_trusted_only_from_a_local_proxy() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "6.6.6.6, 196.201.214.200".parse().unwrap(),
        );
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let remote: SocketAddr = "8.8.8.8:5000".parse().unwrap();
        assert_eq!(
            sender_ip(Some(local), &h),
            Some("196.201.214.200".parse().unwrap())
        );
        assert_eq!(
            sender_ip(Some(remote), &h),
            Some("8.8.8.8".parse().unwrap())
        );
        assert_eq!(sender_ip(None, &h), None);
    }
}
