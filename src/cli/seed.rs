//! `ratiba seed`: load fixtures.

use clap::{Args as ClapArgs, Subcommand};

use super::db::{Ownership, load_settings, open, vault};
use crate::storage::{migrate, seed};

#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    pub command: SeedCommand,
    /// Data directory of the embedded database (used when DATABASE_URL is unset).
    #[arg(
        long,
        env = "RATIBA_DATA_DIR",
        default_value = "./.ratiba",
        global = true
    )]
    pub data_dir: std::path::PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum SeedCommand {
    /// The demo salon tenant from fixtures/demo.
    Demo,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    crate::runtime::server::init_tracing();
    let mut settings = load_settings(&args.data_dir)?;
    let vault = vault(&mut settings)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let opened = open(&settings, Ownership::StopIfStartedHere).await?;
        let result = async {
            match args.command {
                SeedCommand::Demo => {
                    migrate::migrate_all(&opened.db).await?;
                    let report = seed::seed_demo(&opened.db, Some(&vault)).await?;
                    println!(
                        "demo tenant {} ({}): {}",
                        report.tenant.slug,
                        report.tenant.name,
                        if report.seeded_rows {
                            "catalog, staff and knowledge loaded"
                        } else {
                            "already seeded, dials refreshed"
                        }
                    );
                }
            }
            anyhow::Ok(())
        }
        .await;
        opened.finish().await?;
        result
    })
}
