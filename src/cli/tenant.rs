//! `ratiba tenant`: onboard and list tenants.

use clap::{Args as ClapArgs, Subcommand};

#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    pub command: TenantCommand,
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
pub enum TenantCommand {
    /// Create a tenant: registry row, schema and tenant chain (idempotent).
    Create {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        vertical: String,
        #[arg(long)]
        voice_number: Option<String>,
        #[arg(long)]
        whatsapp_phone_number_id: Option<String>,
    },
    /// List tenants.
    List,
}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`ratiba tenant` is not built yet")
}
