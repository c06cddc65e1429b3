//! `ratiba call`: A simulated caller: dials into a running server exactly as a telephony provider would.

use clap::Args as ClapArgs;

/// A simulated caller: dials into a running server exactly as a telephony provider would.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Server base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// Which provider to impersonate: twilio, telnyx, plivo, vonage, exotel.
    #[arg(long)]
    pub provider: String,
    /// The dialled number (default: the demo tenant's voice number).
    #[arg(long)]
    pub to: Option<String>,
    /// The caller's number.
    #[arg(long)]
    pub from: Option<String>,
    /// The caller's audio.
    pub file: std::path::PathBuf,
    /// Transcript sidecar in the corpus format.
    #[arg(long)]
    pub transcript: Option<std::path::PathBuf>,
    /// Where to write what the bot said.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
    /// Stream as fast as possible instead of in real time.
    #[arg(long)]
    pub fast: bool,
}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`ratiba call` is not built yet")
}
