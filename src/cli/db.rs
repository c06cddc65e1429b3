//! `ratiba db`: database helpers.

use clap::{Args as ClapArgs, Subcommand};

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
}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`ratiba db` is not built yet")
}
