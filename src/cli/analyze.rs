//! `ratiba analyze`: Replay a recording through the turn-taking engine on a virtual clock.

use clap::Args as ClapArgs;

/// Replay a recording through the turn-taking engine on a virtual clock.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// WAV file: 8 or 16 kHz, 16-bit PCM or mu-law.
    pub file: std::path::PathBuf,
    /// Bot playback intervals, ms from file start: START-END,START-END,...
    #[arg(long)]
    pub bot_speaking: Option<String>,
    /// Transcript sidecar in the corpus format.
    #[arg(long)]
    pub transcript: Option<std::path::PathBuf>,
    /// Tenant dial override, NAME=VALUE (repeatable).
    #[arg(long = "dial")]
    pub dials: Vec<String>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`ratiba analyze` is not built yet")
}
