//! The HTTP serve loop with graceful shutdown, and process-wide logging.
//!
//! On shutdown the listener stops accepting, in-flight requests finish, and
//! open connections (websockets of live calls included) get `grace` to wind
//! down before the loop returns anyway, so a stuck client cannot hold the
//! process (and the embedded database) up forever.

use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;

use super::shutdown::Shutdown;

/// Serves `app` on `listener` until `shutdown` is triggered and the
/// connections have drained (or `grace` has passed).
pub async fn serve_http(
    listener: TcpListener,
    app: Router,
    shutdown: Shutdown,
    grace: Duration,
) -> std::io::Result<()> {
    let signal = shutdown.clone();
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        signal.wait().await;
    });
    let server = server.into_future();
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => result,
        _ = async {
            shutdown.wait().await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(grace_ms = grace.as_millis() as u64, "connections still open after the grace period; closing them");
            Ok(())
        }
    }
}

/// Installs the global tracing subscriber: `RUST_LOG` filters (default
/// `info`), `RATIBA_LOG_FORMAT=json` switches to JSON lines. Logs go to
/// stderr so command output on stdout stays clean. Safe to call twice.
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if std::env::var("RATIBA_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;

    #[tokio::test]
    async fn serves_until_shutdown_then_returns() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route("/", get(|| async { "hi" }));
        let shutdown = Shutdown::new();
        let task = tokio::spawn(serve_http(
            listener,
            app,
            shutdown.clone(),
            Duration::from_secs(5),
        ));
        let body = reqwest::get(format!("http://{addr}/"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(body, "hi");
        shutdown.trigger();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("server stops after shutdown")
            .unwrap()
            .unwrap();
        assert!(reqwest::get(format!("http://{addr}/")).await.is_err());
    }
}
