//! `ratiba serve`: Run the engine: HTTP, websockets, webhooks. Without DATABASE_URL it starts and supervises an embedded Postgres under --data-dir.

use clap::Args as ClapArgs;

/// Run the engine: HTTP, websockets, webhooks. Without DATABASE_URL it starts and supervises an embedded Postgres under --data-dir.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "RATIBA_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Where the embedded database and other local state live.
    #[arg(long, env = "RATIBA_DATA_DIR", default_value = "./.ratiba")]
    pub data_dir: std::path::PathBuf,
}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`ratiba serve` is not built yet")
}
