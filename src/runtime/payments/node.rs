//! Everything payments needs on one node, started together.

use super::*;

/// Everything payments needs on one node, started together by `serve`:
/// the service, the LISTEN task, the reconciler, the durable chat deadlines,
/// the daily reaper, and (in simulator mode only) the simulator.
pub struct PaymentsNode {
    pub service: Arc<PaymentService>,
    /// Mounted under `/sim` by the HTTP layer when present.
    pub simulator: Option<crate::adapters::payments::simulator::Simulator>,
    /// Chat messages due from stored deadlines (nudge, abandon), for the
    /// chat runtime to send.
    pub chat_events: mpsc::Receiver<ChatPaymentEvent>,
    tasks: Vec<JoinHandle<()>>,
}

/// How often open payments are asked about, and how old they must be.
const RECONCILE_EVERY: Duration = Duration::from_secs(30);
const RECONCILE_MIN_AGE_SECS: i64 = 45;
const DEADLINE_SWEEP_EVERY: Duration = Duration::from_secs(15);

impl PaymentsNode {
    /// Starts the node's payment tasks. `listen` is where this node serves
    /// HTTP (used when no public URL is configured, and to reach the
    /// mounted simulator).
    pub async fn start(
        settings: &crate::config::Settings,
        listen: std::net::SocketAddr,
        db: Db,
        vault: Option<crate::storage::Vault>,
    ) -> Result<Self, StorageError> {
        use crate::config::PaymentEnvironment as Configured;
        let p = &settings.payments;
        let environment = match p.payment_environment {
            Configured::Sandbox => PaymentEnvironment::Sandbox,
            Configured::Production => PaymentEnvironment::Production,
            Configured::Simulator => PaymentEnvironment::Simulator,
        };
        let local = match listen.ip() {
            ip if ip.is_unspecified() => format!("http://127.0.0.1:{}", listen.port()),
            _ => format!("http://{listen}"),
        };
        let public = settings
            .core
            .public_base_url
            .as_ref()
            .map(|u| u.as_str().trim_end_matches('/').to_owned())
            .unwrap_or_else(|| local.clone());
        let simulator = (environment == PaymentEnvironment::Simulator).then(|| {
            let sim = crate::adapters::payments::simulator::Simulator::new(Default::default());
            sim.set_base_url(&format!("{local}/sim"));
            sim
        });
        let (daraja, pesapal) = match &simulator {
            Some(_) => (format!("{local}/sim"), format!("{local}/sim")),
            None => (
                p.daraja_base_url.as_str().to_owned(),
                p.pesapal_base_url.as_str().to_owned(),
            ),
        };
        let mut config = PaymentRuntimeConfig::new(environment, &daraja, &pesapal, &public);
        if let (Some(k), Some(s)) = (&p.daraja_consumer_key, &p.daraja_consumer_secret) {
            config.platform_daraja_consumer = Some((k.expose().to_owned(), s.expose().to_owned()));
        }
        config.notices = NoticePolicy {
            node: format!("{local}/{}", std::process::id()),
            lease: p.notice_lease,
            sweep_every: p.notice_sweep_every,
        };
        let waiters = PaymentWaiters::default();
        let decrypter = vault.map(|v| Arc::new(v) as Arc<dyn CredentialDecrypter>);
        let service = Arc::new(PaymentService::new(
            db.clone(),
            config,
            decrypter,
            waiters.clone(),
        ));
        let mut tasks = vec![PaymentListener::start(db.clone(), waiters).await?];

        let reconciler = service.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let min_age = chrono::Duration::seconds(RECONCILE_MIN_AGE_SECS);
                match reconciler.reconcile_open(min_age, Utc::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(resolved = n, "reconciled open payments"),
                    Err(e) => tracing::warn!(error = %e, "reconcile pass failed"),
                }
                tokio::time::sleep(RECONCILE_EVERY).await;
            }
        }));

        let (events_tx, chat_events) = mpsc::channel(256);
        let sweeper = service.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                if let Err(e) = sweep_chat_deadlines(&sweeper, &events_tx, Utc::now()).await {
                    tracing::warn!(error = %e, "chat deadline sweep failed");
                }
                tokio::time::sleep(DEADLINE_SWEEP_EVERY).await;
            }
        }));
        tasks.push(crate::runtime::reaper::spawn_daily(db));
        Ok(Self {
            service,
            simulator,
            chat_events,
            tasks,
        })
    }

    /// Hands the chat deadline messages to their consumer (the WhatsApp
    /// runtime); a second call gets a receiver that never yields.
    pub fn take_chat_events(&mut self) -> mpsc::Receiver<ChatPaymentEvent> {
        std::mem::replace(&mut self.chat_events, mpsc::channel(1).1)
    }

    /// Stops the node's payment tasks.
    pub fn shutdown(&self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}
