//! `ratiba serve`: Run the engine: HTTP, websockets, webhooks. Without DATABASE_URL it starts and supervises an embedded Postgres under --data-dir.
//!
//! Start-up: settings, the listening socket, database (embedded cluster started if needed),
//! migrations (public, then every tenant), the demo tenant on a first start
//! (empty registry), then HTTP. SIGTERM or Ctrl-C at any point after the
//! database is up leads to the same end: HTTP drains, the pool closes, and
//! the embedded cluster (if any) is stopped, so no postgres process is left.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args as ClapArgs;

use super::db::{Opened, Ownership, load_settings, open, vault};
use crate::config::Settings;
use crate::http::{AppState, router_with_payments};
use crate::runtime::server::{init_tracing, serve_http};
use crate::runtime::shutdown::Shutdown;
use crate::storage::embedded::EmbeddedPostgres;
use crate::storage::{Db, Vault, migrate, seed};

/// Run the engine: HTTP, websockets, webhooks. Without DATABASE_URL it starts and supervises an embedded Postgres under --data-dir.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "RATIBA_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Where the embedded database and other local state live.
    #[arg(long, env = "RATIBA_DATA_DIR", default_value = "./.ratiba")]
    pub data_dir: std::path::PathBuf,
    /// Take payments from the local payment simulator instead of M-Pesa
    /// and PesaPal (overrides PAYMENT_ENVIRONMENT; never on unless asked).
    #[arg(long, value_enum)]
    pub payments: Option<PaymentsFlag>,
}

/// `--payments`: where payments go for this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PaymentsFlag {
    /// The built-in simulator under /sim: pushes are answered locally, the
    /// payer number's last two digits choose the outcome.
    Simulator,
}

/// How often the embedded cluster is checked (and restarted if it died).
const SUPERVISE_EVERY: Duration = Duration::from_secs(5);

pub fn run(args: Args) -> anyhow::Result<()> {
    init_tracing();
    let mut settings = load_settings(&args.data_dir)?;
    settings.set_listen(args.listen);
    if args.payments == Some(PaymentsFlag::Simulator) {
        settings.payments.payment_environment = crate::config::PaymentEnvironment::Simulator;
    }
    let vault = vault(&mut settings)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(serve(settings, vault))
}

async fn serve(settings: Settings, vault: Vault) -> anyhow::Result<()> {
    let shutdown = Shutdown::new();
    let _signals = shutdown.trigger_on_signals();
    // One server per embedded cluster: a second `serve` on the same data
    // directory would stop the first one's database when it exits.
    let _lock = match settings.core.database_url {
        Some(_) => None,
        None => Some(lock_data_dir(&settings.core.data_dir)?),
    };

    // Bound before anything starts, so a taken port fails fast; early
    // connections wait in the backlog until the app is up.
    let listen = settings.core.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;

    // Not cancelled by a signal: a half-started cluster must still be
    // stopped below, which needs `open` to have returned. Until the server
    // is up, only a cluster started here is stopped on the way out.
    let mut opened = open(&settings, Ownership::StopIfStartedHere).await?;
    let result = run_with_database(&mut opened, listener, settings, vault, shutdown.clone()).await;
    shutdown.trigger();
    opened.finish().await?;
    result
}

/// An exclusive lock on `<data_dir>/serve.lock`, held while serving and
/// released by the kernel when the process ends however it ends.
fn lock_data_dir(data_dir: &std::path::Path) -> anyhow::Result<std::fs::File> {
    use std::os::fd::AsRawFd;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let path = data_dir.join("serve.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    // SAFETY: flock on a descriptor we own for the lifetime of `file`.
    let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
    if !locked {
        anyhow::bail!(
            "another `ratiba serve` is already running with --data-dir {}",
            data_dir.display()
        );
    }
    Ok(file)
}

async fn run_with_database(
    opened: &mut Opened,
    listener: tokio::net::TcpListener,
    settings: Settings,
    vault: Vault,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let prepared = tokio::select! {
        r = prepare(&opened.db, &vault) => r,
        _ = shutdown.wait() => return Ok(()),
    };
    prepared?;
    if shutdown.is_triggered() {
        return Ok(());
    }

    let local = listener.local_addr()?;
    // Serving now: this process supervises the cluster and stops it on
    // shutdown, whoever started it.
    opened.ownership = Ownership::Supervise;
    tracing::info!(
        addr = %local,
        database = if opened.cluster.is_some() { "embedded" } else { "DATABASE_URL" },
        "ratiba listening on http://{local}"
    );

    let supervisor = opened
        .cluster
        .clone()
        .map(|cluster| tokio::spawn(supervise(cluster, shutdown.clone())));
    let grace = settings.core.shutdown_grace;
    let mut payments = crate::runtime::payments::PaymentsNode::start(
        &settings,
        local,
        opened.db.clone(),
        Some(vault.clone()),
    )
    .await?;
    tracing::info!(
        environment = settings.payments.payment_environment.as_str(),
        "payments"
    );
    // Payment links promised on calls go out on WhatsApp.
    let (call_links, call_links_rx) = tokio::sync::mpsc::channel(256);
    let calls =
        crate::runtime::call_setup::CallRuntime::start(&opened.db, &settings, local, &shutdown)
            .with_payments(payments.service.clone())
            .with_payment_links(call_links);
    warn_if_calls_cannot_speak(&settings).await;
    let payment_routes = crate::http::payments::router(
        payments.service.clone(),
        settings.payments.callback_ip_allowlist.clone(),
        payments.simulator.as_ref(),
    );
    let state = AppState::new(
        opened.db.clone(),
        Arc::new(settings),
        vault,
        shutdown.clone(),
    );
    let chat_payments = crate::http::whatsapp::ChatPayments {
        service: payments.service.clone(),
        events: payments.take_chat_events(),
        call_links: Some(call_links_rx),
    };
    let app = router_with_payments(state, Some(chat_payments))
        .merge(calls.router())
        .merge(payment_routes);
    let served = serve_http(listener, app, shutdown.clone(), grace).await;
    payments.shutdown();
    shutdown.trigger();
    let _ = calls.writer_task.await; // drains queued call rows
    if let Some(task) = supervisor {
        let _ = task.await;
    }
    served.context("HTTP server failed")
}

/// Migrations, then the demo tenant if the registry is empty.
async fn prepare(db: &Db, vault: &Vault) -> anyhow::Result<()> {
    let report = migrate::migrate_all(db).await.context("migrations")?;
    tracing::info!(
        public_applied = report.public_applied.len(),
        tenants = report.tenants.len(),
        "migrations up to date"
    );
    if db.list_tenants().await?.is_empty() {
        let seeded = seed::seed_demo(db, Some(vault))
            .await
            .context("seeding the demo tenant")?;
        tracing::info!(tenant = %seeded.tenant.slug, "first start: demo tenant seeded");
    } else {
        // A demo seeded by an older version gets what the seed gives now.
        seed::upgrade_demo(db)
            .await
            .context("upgrading the demo tenant")?;
    }
    Ok(())
}

/// Restarts the embedded cluster if it stops underneath us.
async fn supervise(cluster: EmbeddedPostgres, shutdown: Shutdown) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(SUPERVISE_EVERY) => {}
            _ = shutdown.wait() => return,
        }
        let probe = cluster.clone();
        let running = tokio::task::spawn_blocking(move || probe.is_running())
            .await
            .unwrap_or(false);
        if running || shutdown.is_triggered() {
            continue;
        }
        tracing::error!(pgdata = %cluster.pgdata().display(), "embedded Postgres is down; restarting it");
        let restart = cluster.clone();
        match tokio::task::spawn_blocking(move || restart.start()).await {
            Ok(Ok(_)) => tracing::info!("embedded Postgres restarted"),
            Ok(Err(e)) => tracing::error!(error = %e, "embedded Postgres restart failed"),
            Err(e) => tracing::error!(error = %e, "embedded Postgres restart panicked"),
        }
    }
}

/// With no ElevenLabs key the calls speak through the local espeak-ng; a
/// machine without it would answer calls in silence, so say so at start-up
/// with the fix rather than on the first call.
async fn warn_if_calls_cannot_speak(settings: &Settings) {
    if settings.speech.elevenlabs_api_key.is_some() {
        return;
    }
    let path = settings.speech.espeak_path.display().to_string();
    if !crate::adapters::speech::espeak::Espeak::new(Some(path.clone()))
        .available()
        .await
    {
        tracing::warn!(
            espeak = %path,
            "espeak-ng cannot be run: calls will have no voice. Install it \
             (`apt-get install -y espeak-ng`, or start with scripts/serve, which does) \
             or set ELEVENLABS_API_KEY"
        );
    }
}
