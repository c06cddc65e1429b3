//! `ratiba seed`: load fixtures.

use clap::{Args as ClapArgs, Subcommand};

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

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`ratiba seed` is not built yet")
}
