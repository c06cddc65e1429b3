//! `ratiba tenant`: onboard and list tenants, set their dials.

use clap::{Args as ClapArgs, Subcommand};

use super::db::{Ownership, load_settings, open, vault};
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
    /// Set dials: `ratiba tenant set SLUG voice_enabled=true tone=warm …`
    /// (the admin API's dials and checks; each change in dial_audits).
    /// Channel tokens (`instagram_access_token=…`,
    /// `facebook_page_access_token=…`, `whatsapp_access_token=…`) are
    /// stored encrypted with the server's key.
    Set {
        slug: String,
        /// KEY=VALUE pairs (an empty VALUE clears a text dial).
        #[arg(required = true)]
        pairs: Vec<String>,
    },
}

/// `KEY=VALUE` pairs as the admin API's dials (typed by the dial's column).
fn parse_dials(pairs: &[String]) -> anyhow::Result<crate::http::admin::dials::Dials> {
    use crate::storage::admin::dials::{PERSONALITY_DIALS, SECRET_DIALS, TENANT_DIALS};
    let mut map = serde_json::Map::new();
    for pair in pairs {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("{pair:?} is not KEY=VALUE"))?;
        let ty = TENANT_DIALS
            .iter()
            .find(|(d, _)| *d == key)
            .map(|(_, t)| *t)
            .or_else(|| PERSONALITY_DIALS.contains(&key).then_some("text"))
            .or_else(|| SECRET_DIALS.contains(&key).then_some("text"))
            .ok_or_else(|| {
                let all: Vec<&str> = TENANT_DIALS
                    .iter()
                    .map(|(d, _)| *d)
                    .chain(PERSONALITY_DIALS.iter().copied())
                    .chain(SECRET_DIALS.iter().copied())
                    .collect();
                anyhow::anyhow!("unknown dial {key}; dials: {}", all.join(", "))
            })?;
        let v = match ty {
            "boolean" => serde_json::Value::Bool(
                value
                    .parse()
                    .map_err(|_| anyhow::anyhow!("{key} is true or false"))?,
            ),
            "integer" => serde_json::Value::from(
                value
                    .parse::<i32>()
                    .map_err(|_| anyhow::anyhow!("{key} is a whole number"))?,
            ),
            _ => serde_json::Value::String(value.to_owned()),
        };
        map.insert(key.to_owned(), v);
    }
    Ok(serde_json::from_value(serde_json::Value::Object(map))?)
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
        TenantCommand::Set { slug, pairs } => {
            TenantSlug::parse(slug)?;
            let dials = parse_dials(pairs)?;
            dials.changes().map_err(|e| anyhow::anyhow!("{e}"))?;
            dials.secrets().map_err(|e| anyhow::anyhow!("{e}"))?;
            None
        }
    };
    let mut settings = load_settings(&args.data_dir)?;
    // Channel tokens are encrypted with the server's key.
    let vault = matches!(args.command, TenantCommand::Set { .. })
        .then(|| vault(&mut settings))
        .transpose()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let opened = open(&settings, Ownership::StopIfStartedHere).await?;
        let result = async {
            migrate::migrate_public(&opened.db).await?;
            if let TenantCommand::Set { slug, pairs } = &args.command {
                let slug = TenantSlug::parse(slug)?;
                let dials = parse_dials(pairs)?;
                let changes = dials.changes().map_err(|e| anyhow::anyhow!("{e}"))?;
                let secrets = dials.secrets().map_err(|e| anyhow::anyhow!("{e}"))?;
                let rec = opened
                    .db
                    .tenant_by_slug(&slug)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("no tenant {slug}"))?;
                let actor = crate::storage::admin::Actor { admin_id: None };
                let handle = opened.db.tenant(&slug);
                let mut changed =
                    crate::storage::admin::dials::set(&opened.db, &handle, rec.id, &changes, actor)
                        .await?;
                changed.extend(
                    crate::http::admin::dials::set_secrets(
                        &opened.db,
                        vault.as_ref(),
                        &handle,
                        rec.id,
                        secrets,
                        actor,
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                );
                if changed.is_empty() {
                    println!("{slug}: nothing changed");
                } else {
                    println!("{slug}: set {}", changed.join(", "));
                }
                return anyhow::Ok(());
            }
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
