//! `ratiba db`: database helpers, and how every subcommand finds its
//! database: `DATABASE_URL` if set, else the embedded cluster under the data
//! directory (started if needed).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args as ClapArgs, Subcommand};

use crate::config::{Secret, Settings};
use crate::storage::embedded::EmbeddedPostgres;
use crate::storage::{Db, Vault};

#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    pub command: DbCommand,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Print the URL of the database in use (starting the embedded one if needed).
    Url {
        #[arg(long, env = "RATIBA_DATA_DIR", default_value = "./.ratiba")]
        data_dir: std::path::PathBuf,
    },
    /// Stop the embedded database if it is running (no-op with DATABASE_URL).
    Stop {
        #[arg(long, env = "RATIBA_DATA_DIR", default_value = "./.ratiba")]
        data_dir: std::path::PathBuf,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    crate::runtime::server::init_tracing();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match args.command {
        DbCommand::Url { data_dir } => rt.block_on(async {
            let settings = load_settings(&data_dir)?;
            // The cluster is left running so that `psql "$(ratiba db url)"`
            // can reach it; `ratiba db stop` or `serve`'s shutdown stops it.
            let opened = open(&settings, Ownership::LeaveRunning).await?;
            if let (true, Some(cluster)) = (opened.started_here, &opened.cluster) {
                eprintln!(
                    "started the embedded Postgres in {}; stop it with `ratiba db stop`",
                    cluster.pgdata().display()
                );
            }
            println!("{}", opened.url.expose());
            opened.db.close().await;
            Ok(())
        }),
        DbCommand::Stop { data_dir } => {
            let settings = load_settings(&data_dir)?;
            if settings.core.database_url.is_some() {
                eprintln!("DATABASE_URL is set: there is no embedded database to stop");
                return Ok(());
            }
            let cluster = EmbeddedPostgres::new(&settings.core.data_dir)?;
            cluster.stop()?;
            Ok(())
        }
    }
}

/// Settings from the environment, with the data directory from the
/// command line.
pub(crate) fn load_settings(data_dir: &Path) -> anyhow::Result<Settings> {
    let mut settings = Settings::from_env().context("invalid settings")?;
    settings.core.data_dir = data_dir.to_owned();
    Ok(settings)
}

/// Whether a command that started the embedded cluster stops it when done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ownership {
    /// One-shot commands (`migrate`, `tenant`, `seed`): stop what we started.
    StopIfStartedHere,
    /// `db url`: leave it running for the caller.
    LeaveRunning,
    /// `serve`: supervise and stop it on shutdown, whoever started it.
    Supervise,
}

/// The database a command works on.
pub(crate) struct Opened {
    pub db: Db,
    pub url: Secret,
    pub cluster: Option<EmbeddedPostgres>,
    pub started_here: bool,
    pub ownership: Ownership,
}

impl Opened {
    /// Closes the pool and stops the embedded cluster if this command owns it.
    pub async fn finish(self) -> anyhow::Result<()> {
        self.db.close().await;
        let stop = match self.ownership {
            Ownership::StopIfStartedHere => self.started_here,
            Ownership::LeaveRunning => false,
            Ownership::Supervise => true,
        };
        if let (true, Some(cluster)) = (stop, self.cluster) {
            tokio::task::spawn_blocking(move || cluster.stop())
                .await
                .context("stopping the embedded database")??;
            tracing::info!("embedded Postgres stopped");
        }
        Ok(())
    }
}

/// Connects to `DATABASE_URL`, or starts (if needed) and connects to the
/// embedded cluster under the data directory.
pub(crate) async fn open(settings: &Settings, ownership: Ownership) -> anyhow::Result<Opened> {
    let max = settings.core.db_max_connections;
    if let Some(url) = &settings.core.database_url {
        let db = Db::connect_with(url.expose(), max)
            .await
            .context("cannot connect to DATABASE_URL")?;
        return Ok(Opened {
            db,
            url: url.clone(),
            cluster: None,
            started_here: false,
            ownership,
        });
    }
    let data_dir = settings.core.data_dir.clone();
    let cluster = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let cluster = EmbeddedPostgres::new(&data_dir)?;
        let started = cluster.start()?;
        Ok((cluster, started))
    })
    .await??;
    let (cluster, started_here) = cluster;
    if started_here {
        tracing::info!(pgdata = %cluster.pgdata().display(), "embedded Postgres started");
    }
    let connected = async {
        cluster
            .ensure_database()
            .await
            .context("creating the ratiba database")?;
        Db::connect_with(&cluster.url(), max)
            .await
            .context("connecting to the embedded database")
    }
    .await;
    match connected {
        Ok(db) => Ok(Opened {
            db,
            url: Secret::new(cluster.url()),
            cluster: Some(cluster),
            started_here,
            ownership,
        }),
        Err(e) => {
            if started_here && ownership != Ownership::LeaveRunning {
                let _ = tokio::task::spawn_blocking(move || cluster.stop()).await;
            }
            Err(e)
        }
    }
}

/// The Fernet key: `RATIBA_FERNET_KEY`, else a dev key kept in
/// `<data_dir>/fernet.key` (created on first use).
pub(crate) fn vault(settings: &mut Settings) -> anyhow::Result<Vault> {
    let key = match &settings.core.fernet_key {
        Some(key) => key.clone(),
        None => {
            let path: PathBuf = settings.core.data_dir.join("fernet.key");
            if settings.core.database_url.is_some() {
                tracing::warn!(
                    path = %path.display(),
                    "RATIBA_FERNET_KEY is unset: using a local dev key; set it for shared databases"
                );
            }
            let key = Vault::load_or_create_key_file(&path)?;
            settings.core.fernet_key = Some(key.clone());
            key
        }
    };
    Ok(Vault::new(&key)?)
}
