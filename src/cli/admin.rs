//! `ratiba admin token`: bearer tokens for the admin API (`/api/v1`).
//!
//! ```text
//! ratiba admin token create --tenant SLUG --phone +2547…   # one admin of one tenant
//! ratiba admin token create --platform                     # onboarding, every review queue
//! ratiba admin token list [--tenant SLUG]
//! ratiba admin token revoke ID
//! ```
//! The token is printed once on stdout; only its SHA-256 is stored.

use anyhow::Context;
use chrono::{Duration, Utc};
use clap::{Args as ClapArgs, Subcommand};
use uuid::Uuid;

use super::db::{Ownership, load_settings, open};
use crate::core::ids::{PhoneNumber, TenantSlug};
use crate::storage::admin::tokens::{self, Scope};
use crate::storage::migrate;

#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    pub command: AdminCommand,
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
pub enum AdminCommand {
    /// Admin API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token and print it (once).
    Create {
        /// The tenant whose admin the token acts for.
        #[arg(
            long,
            required_unless_present = "platform",
            conflicts_with = "platform"
        )]
        tenant: Option<String>,
        /// The admin's phone (added as the tenant's owner if not an admin yet).
        #[arg(
            long,
            required_unless_present = "platform",
            conflicts_with = "platform"
        )]
        phone: Option<String>,
        /// A platform token: onboarding and every tenant's review queues.
        #[arg(long)]
        platform: bool,
        /// Days until it expires (1 to 365).
        #[arg(long, default_value_t = 30)]
        days: i64,
        /// A note on what it is for.
        #[arg(long)]
        label: Option<String>,
    },
    /// List tokens (never the tokens themselves).
    List {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Revoke a token by its id.
    Revoke { id: Uuid },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    crate::runtime::server::init_tracing();
    let AdminCommand::Token(command) = args.command;
    // Refuse bad input before touching (or starting) any database.
    if let TokenCommand::Create {
        tenant,
        phone,
        days,
        ..
    } = &command
    {
        if !(1..=365).contains(days) {
            anyhow::bail!("--days must be 1 to 365");
        }
        if let Some(t) = tenant {
            TenantSlug::parse(t)?;
        }
        if let Some(p) = phone {
            PhoneNumber::parse(p).map_err(|e| anyhow::anyhow!("--phone: {e}"))?;
        }
    }
    let settings = load_settings(&args.data_dir)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let opened = open(&settings, Ownership::StopIfStartedHere).await?;
        let result = async {
            migrate::migrate_public(&opened.db).await?;
            let db = &opened.db;
            match command {
                TokenCommand::Create {
                    tenant,
                    phone,
                    platform,
                    days,
                    label,
                } => {
                    let expires = Utc::now() + Duration::days(days);
                    let scope = if platform {
                        Scope::Platform
                    } else {
                        let slug = TenantSlug::parse(tenant.as_deref().unwrap_or_default())?;
                        let phone = PhoneNumber::parse(phone.as_deref().unwrap_or_default())
                            .map_err(|e| anyhow::anyhow!("--phone: {e}"))?;
                        let rec = db
                            .tenant_by_slug(&slug)
                            .await?
                            .with_context(|| format!("no tenant {slug}"))?;
                        let (admin, added) = tokens::admin_for_phone(db, rec.id, &phone, true)
                            .await?
                            .context("admin could not be added")?;
                        if added {
                            eprintln!("added {phone} as an admin (owner) of {slug}");
                        }
                        Scope::Tenant {
                            tenant: rec.id,
                            admin,
                        }
                    };
                    let issued = tokens::create(db, scope, label.as_deref(), expires).await?;
                    eprintln!(
                        "token {} expires {}; it is shown only now",
                        issued.id,
                        issued.expires_at.format("%Y-%m-%d %H:%M UTC")
                    );
                    println!("{}", issued.token);
                }
                TokenCommand::List { tenant } => {
                    let tenant = match tenant {
                        Some(t) => {
                            let slug = TenantSlug::parse(&t)?;
                            Some(
                                db.tenant_by_slug(&slug)
                                    .await?
                                    .with_context(|| format!("no tenant {slug}"))?
                                    .id,
                            )
                        }
                        None => None,
                    };
                    println!(
                        "{:<36} {:<16} {:<10} {:<17} {:<17} LABEL",
                        "ID", "TENANT", "STATE", "EXPIRES", "LAST USED"
                    );
                    let now = Utc::now();
                    for t in tokens::list(db, tenant).await? {
                        let state = if t.revoked_at.is_some() {
                            "revoked"
                        } else if t.expires_at <= now {
                            "expired"
                        } else {
                            "live"
                        };
                        let who = if t.platform {
                            "(platform)".to_owned()
                        } else {
                            t.tenant_slug.unwrap_or_default()
                        };
                        println!(
                            "{:<36} {:<16} {:<10} {:<17} {:<17} {}",
                            t.id,
                            who,
                            state,
                            t.expires_at.format("%Y-%m-%d %H:%M"),
                            t.last_used_at
                                .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
                                .unwrap_or_else(|| "-".into()),
                            t.label.unwrap_or_default()
                        );
                    }
                }
                TokenCommand::Revoke { id } => {
                    if tokens::revoke(db, id, Utc::now()).await? {
                        println!("revoked {id}");
                    } else {
                        anyhow::bail!("no live token {id}");
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
