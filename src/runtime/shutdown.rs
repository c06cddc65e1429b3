//! One shutdown signal for the whole process.
//!
//! `serve` creates a [`Shutdown`], hands clones to every long-lived task
//! (HTTP server, call tasks, writers, the embedded-database supervisor) and
//! triggers it on SIGTERM or Ctrl-C. Tasks `select!` on [`Shutdown::wait`]
//! to stop taking new work and drain; triggering twice is harmless.

use std::sync::Arc;

use tokio::sync::watch;

/// A cloneable, level-triggered shutdown flag.
#[derive(Clone, Debug)]
pub struct Shutdown {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    pub fn new() -> Self {
        let (tx, _rx) = watch::channel(false);
        Self { tx: Arc::new(tx) }
    }

    /// Asks everything to stop.
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once shutdown has been triggered (at once if it already was).
    pub async fn wait(&self) {
        let mut rx = self.tx.subscribe();
        // The sender lives in `self`, so the channel cannot close under us.
        let _ = rx.wait_for(|stop| *stop).await;
    }

    /// Triggers shutdown on SIGTERM or SIGINT (Ctrl-C). Spawns a task on
    /// the current runtime.
    pub fn trigger_on_signals(&self) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let terminate = async {
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(mut sig) => {
                        sig.recv().await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for SIGTERM");
                        std::future::pending::<()>().await;
                    }
                }
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => tracing::info!(signal = "SIGINT", "shutting down"),
                _ = terminate => tracing::info!(signal = "SIGTERM", "shutting down"),
                _ = this.wait() => return,
            }
            this.trigger();
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiters_wake_on_trigger_even_if_late() {
        let shutdown = Shutdown::new();
        assert!(!shutdown.is_triggered());
        let early = tokio::spawn({
            let s = shutdown.clone();
            async move { s.wait().await }
        });
        tokio::task::yield_now().await;
        assert!(!early.is_finished());
        shutdown.trigger();
        early.await.unwrap();
        // A waiter that arrives after the trigger returns at once.
        tokio::time::timeout(std::time::Duration::from_secs(1), shutdown.wait())
            .await
            .unwrap();
        shutdown.trigger();
        assert!(shutdown.is_triggered());
    }
}
