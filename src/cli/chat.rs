//! `ratiba chat`: A terminal WhatsApp user: posts signed webhooks to a running server and shows the replies.

use clap::Args as ClapArgs;

/// A terminal WhatsApp user: posts signed webhooks to a running server and shows the replies.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Server base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// The business's WhatsApp phone_number_id (default: the demo tenant's).
    #[arg(long)]
    pub to: Option<String>,
    /// The customer's phone number, E.164.
    #[arg(long)]
    pub from: String,
}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`ratiba chat` is not built yet")
}
