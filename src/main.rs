use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = ratiba::cli::Cli::parse();
    ratiba::cli::run(cli)
}
