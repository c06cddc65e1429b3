//! What a call's turn reads that rarely changes — the tenant's record, its
//! catalogue (services, staff, cross-sells) and personality row — kept in
//! memory per tenant. A fresh entry (younger than [`FRESH_FOR`]) is used
//! as it is; an older one is used while a background task reads it again,
//! so an admin's change reaches calls within a few seconds; when that read
//! fails (the database is down) the old entry stays and is served stale.
//! Only a tenant never read before needs the database during a turn.
//!
//! A call's turn then costs no registry or catalogue queries (a chat's
//! turn reads only the record afresh, its channel having just looked the
//! tenant up), and
//! [`TurnContextCache::cached`] lets a call answer what needs no database
//! (listing services, prices) while the database is away.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing::Instrument;

use crate::core::dialog::catalog::Catalog;
use crate::core::dialog::personality::PersonalityRow;
use crate::core::ids::TenantSlug;
use crate::storage::booking as repo;
use crate::storage::{Db, StorageError, TenantRecord};

/// How long an entry is used without reading it again.
pub const FRESH_FOR: Duration = Duration::from_secs(5);

/// One tenant's slowly changing turn inputs.
#[derive(Debug, Clone)]
pub struct TurnContext {
    pub record: TenantRecord,
    pub catalog: Catalog,
    pub personality: Option<PersonalityRow>,
}

struct Entry {
    ctx: Arc<TurnContext>,
    fetched: Instant,
    refreshing: bool,
}

/// The per-tenant cache (cheap to clone; clones share it).
#[derive(Clone)]
pub struct TurnContextCache {
    db: Db,
    fresh_for: Duration,
    entries: Arc<Mutex<HashMap<TenantSlug, Entry>>>,
}

impl TurnContextCache {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            fresh_for: FRESH_FOR,
            entries: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Entries older than `fresh_for` are read again (tests shorten it).
    pub fn with_fresh_for(mut self, fresh_for: Duration) -> Self {
        self.fresh_for = fresh_for;
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TenantSlug, Entry>> {
        // A panic while holding the lock leaves a map that is still whole.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What is cached for `slug`, however old (no database).
    pub fn cached(&self, slug: &TenantSlug) -> Option<Arc<TurnContext>> {
        self.lock().get(slug).map(|e| Arc::clone(&e.ctx))
    }

    /// The tenant's context: from memory when cached (refreshed in the
    /// background once older than `fresh_for`), else read now. `None`:
    /// no such tenant.
    pub async fn get(&self, slug: &TenantSlug) -> Result<Option<Arc<TurnContext>>, StorageError> {
        let stale = {
            let mut entries = self.lock();
            match entries.get_mut(slug) {
                Some(e) if e.fetched.elapsed() < self.fresh_for => {
                    return Ok(Some(Arc::clone(&e.ctx)));
                }
                Some(e) => {
                    if !e.refreshing {
                        e.refreshing = true;
                        self.refresh_in_background(slug.clone());
                    }
                    Some(Arc::clone(&e.ctx))
                }
                None => None,
            }
        };
        if stale.is_some() {
            return Ok(stale);
        }
        let Some(ctx) = load(&self.db, slug).await? else {
            return Ok(None);
        };
        let ctx = Arc::new(ctx);
        self.store(slug, Arc::clone(&ctx));
        Ok(Some(ctx))
    }

    fn store(&self, slug: &TenantSlug, ctx: Arc<TurnContext>) {
        self.lock().insert(
            slug.clone(),
            Entry {
                ctx,
                fetched: Instant::now(),
                refreshing: false,
            },
        );
    }

    fn refresh_in_background(&self, slug: TenantSlug) {
        let me = self.clone();
        let span = tracing::debug_span!("turn_context_refresh", tenant = %slug);
        tokio::spawn(
            async move {
                match load(&me.db, &slug).await {
                    Ok(Some(ctx)) => me.store(&slug, Arc::new(ctx)),
                    Ok(None) => {
                        me.lock().remove(&slug);
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "turn context refresh failed; serving what is cached");
                        if let Some(entry) = me.lock().get_mut(&slug) {
                            entry.refreshing = false;
                        }
                    }
                }
            }
            .instrument(span),
        );
    }
}

/// Reads a tenant's context from the database.
async fn load(db: &Db, slug: &TenantSlug) -> Result<Option<TurnContext>, StorageError> {
    let Some(record) = db.tenant_by_slug(slug).await? else {
        return Ok(None);
    };
    let mut tx = db.tenant(slug).begin().await?;
    let catalog = repo::load_catalog(&mut tx, &record.name).await?;
    let personality = repo::load_personality(&mut tx).await?;
    tx.commit().await?;
    Ok(Some(TurnContext {
        record,
        catalog,
        personality,
    }))
}
