//! `ratiba migrate`: Apply the public migration chain, then every tenant's chain.

use clap::Args as ClapArgs;

use super::db::{Ownership, load_settings, open};
use crate::storage::migrate;

/// Apply the public migration chain, then every tenant's chain.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Data directory of the embedded database (used when DATABASE_URL is unset).
    #[arg(long, env = "RATIBA_DATA_DIR", default_value = "./.ratiba")]
    pub data_dir: std::path::PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    crate::runtime::server::init_tracing();
    let settings = load_settings(&args.data_dir)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let opened = open(&settings, Ownership::StopIfStartedHere).await?;
        let result = migrate::migrate_all(&opened.db).await;
        opened.finish().await?;
        let report = result?;
        println!(
            "public: {} applied ({} in chain)",
            report.public_applied.len(),
            migrate::public_chain_versions().len()
        );
        for (slug, applied) in &report.tenants {
            println!("tenant_{slug}: {} applied", applied.len());
        }
        Ok(())
    })
}
