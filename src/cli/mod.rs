//! The `ratiba` command line. Each subcommand's arguments and body live in
//! their own module; these command lines are a stable interface.

use clap::{Parser, Subcommand};

pub mod admin;
pub mod analyze;
pub mod call;
pub mod chat;
pub mod db;
pub mod migrate;
pub mod seed;
pub mod serve;
pub mod tenant;

#[derive(Debug, Parser)]
#[command(name = "ratiba", version, about = "Ratiba conversation engine")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the engine (embedded Postgres unless DATABASE_URL is set).
    Serve(serve::Args),
    /// Apply the public chain, then every tenant's chain.
    Migrate(migrate::Args),
    /// Onboard and list tenants.
    Tenant(tenant::Args),
    /// Admin API tokens (`admin token create|list|revoke`).
    Admin(admin::Args),
    /// Load fixtures (`seed demo`).
    Seed(seed::Args),
    /// Database helpers (`db url`).
    Db(db::Args),
    /// Replay a recording through the turn-taking engine.
    Analyze(analyze::Args),
    /// A terminal WhatsApp user against a running server.
    Chat(chat::Args),
    /// A simulated phone call against a running server.
    Call(call::Args),
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Migrate(args) => migrate::run(args),
        Command::Tenant(args) => tenant::run(args),
        Command::Admin(args) => admin::run(args),
        Command::Seed(args) => seed::run(args),
        Command::Db(args) => db::run(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Chat(args) => chat::run(args),
        Command::Call(args) => call::run(args),
    }
}
