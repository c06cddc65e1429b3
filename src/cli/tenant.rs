//! `ratiba tenant`: onboard and list tenants.

use clap::{Args as ClapArgs, Subcommand};

use super::db::{Ownership, load_settings, open};
use crate::core::ids::{PhoneNumber, TenantSlug};
use crate::storage::{NewTenant, Vertical, migrate};

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

pub fn run(args: Args) -> anyhow::Result<()> {
    crate::runtime::server::init_tracing();
    // Refuse bad input before touching (or starting) any database.
    let new = match &args.command {
        TenantCommand::Create {
            slug,
            name,
            vertical,
            voice_number,
            whatsapp_phone_number_id,
        } => {
            let slug = TenantSlug::parse(slug)?;
            let vertical: Vertical = vertical.parse()?;
            let mut new = NewTenant::new(slug, name.clone(), vertical);
            new.voice_number = voice_number
                .as_deref()
                .map(PhoneNumber::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--voice-number: {e}"))?;
            if let Some(id) = whatsapp_phone_number_id {
                if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) || id.len() > 50 {
                    anyhow::bail!("--whatsapp-phone-number-id must be the numeric Cloud API id");
                }
                new.whatsapp_phone_number_id = Some(id.clone());
            }
            Some(new)
        }
        TenantCommand::List => None,
    };
    let settings = load_settings(&args.data_dir)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let opened = open(&settings, Ownership::StopIfStartedHere).await?;
        let result = async {
            migrate::migrate_public(&opened.db).await?;
            match &new {
                Some(new) => {
                    let outcome = opened.db.onboard_tenant(new).await?;
                    let rec = outcome.record();
                    let verb = if outcome.created() {
                        "created"
                    } else {
                        "already exists:"
                    };
                    println!(
                        "{verb} tenant {} ({}, schema {})",
                        rec.slug,
                        rec.name,
                        rec.schema_name.as_deref().unwrap_or("-")
                    );
                }
                None => {
                    println!(
                        "{:<20} {:<30} {:<11} {:<10} {:<15} WHATSAPP_ID",
                        "SLUG", "NAME", "VERTICAL", "STATUS", "VOICE"
                    );
                    for t in opened.db.list_tenants().await? {
                        println!(
                            "{:<20} {:<30} {:<11} {:<10} {:<15} {}",
                            t.slug.as_str(),
                            t.name,
                            t.vertical,
                            t.status.as_deref().unwrap_or("-"),
                            t.voice_number.as_deref().unwrap_or("-"),
                            t.whatsapp_phone_number_id.as_deref().unwrap_or("-")
                        );
                    }
                }
            }
            anyhow::Ok(())
        }
        .await;
        opened.finish().await?;
        result
    })
}
