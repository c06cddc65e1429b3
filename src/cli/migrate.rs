//! `ratiba migrate`: Apply the public migration chain, then every tenant's chain.

use clap::Args as ClapArgs;

/// Apply the public migration chain, then every tenant's chain.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Data directory of the embedded database (used when DATABASE_URL is unset).
    #[arg(long, env = "RATIBA_DATA_DIR", default_value = "./.ratiba")]
    pub data_dir: std::path::PathBuf,
}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`ratiba migrate` is not built yet")
}
