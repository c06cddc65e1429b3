//! What a call's turn reads that rarely changes — the tenant's record, its
//! catalogue (services, staff, cross-sells) and personality row — kept in
//! memory per tenant. A fresh entry (younger than [`FRESH_FOR`]) is used
//! as it is; an older one is used while a background task reads it again;
//! when that read fails (the database is down) the old entry stays and is
//! served stale. A change made through the admin API (catalogue, staff,
//! schedules, imports, dials) is announced on commit
//! ([`crate::storage::catalog_changes`]) and every node reads that tenant
//! again before its next turn, so the next message sees it.
//! Only a tenant never read before needs the database during a turn.
//!
//! A call's turn then costs no registry or catalogue queries (a chat's
//! turn takes the record its channel looked up: a WhatsApp message's from
//! memory, checked against the registry version its inbox row was claimed
//! with), and
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
use crate::storage::catalog_changes::{Change, ChangeListener};
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
    /// A change was announced since it was read: read it again before use.
    changed: bool,
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
        let cached = {
            let mut entries = self.lock();
            match entries.get_mut(slug) {
                Some(e) if e.changed => Some(Arc::clone(&e.ctx)),
                Some(e) if e.fetched.elapsed() < self.fresh_for => {
                    return Ok(Some(Arc::clone(&e.ctx)));
                }
                Some(e) => {
                    if !e.refreshing {
                        e.refreshing = true;
                        self.refresh_in_background(slug.clone());
                    }
                    return Ok(Some(Arc::clone(&e.ctx)));
                }
                None => None,
            }
        };
        // Never read, or a change was announced: read now (what was cached
        // is served only when that read fails).
        let ctx = match load(&self.db, slug).await {
            Ok(Some(ctx)) => Arc::new(ctx),
            Ok(None) => {
                self.lock().remove(slug);
                return Ok(None);
            }
            Err(e) => return cached.map(Some).ok_or(e),
        };
        self.store(slug, Arc::clone(&ctx));
        Ok(Some(ctx))
    }

    /// A change to `slug`'s catalogue or personality was announced.
    pub fn changed(&self, slug: &TenantSlug) {
        if let Some(e) = self.lock().get_mut(slug) {
            e.changed = true;
        }
    }

    /// Changes may have been missed (the listener reconnected).
    pub fn all_changed(&self) {
        for e in self.lock().values_mut() {
            e.changed = true;
        }
    }

    /// Listens for announced changes on every node for as long as the
    /// runtime runs (reconnecting after a second when the database is away).
    /// Outside a Tokio runtime it does nothing.
    pub fn watch_changes(&self) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let me = self.clone();
        rt.spawn(
            async move {
                loop {
                    match ChangeListener::start(&me.db).await {
                        Ok(mut listener) => {
                            // Anything may have changed while not listening.
                            me.all_changed();
                            loop {
                                match listener.next().await {
                                    Ok(Change::Tenant(slug)) => me.changed(&slug),
                                    Ok(Change::Reconnected) => me.all_changed(),
                                    Err(e) => {
                                        tracing::debug!(error = %e, "catalogue change listener lost");
                                        break;
                                    }
                                }
                            }
                        }
                        Err(e) => {
                            tracing::debug!(error = %e, "catalogue change listener not started")
                        }
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
            .instrument(tracing::debug_span!("turn_context_changes")),
        );
    }

    fn store(&self, slug: &TenantSlug, ctx: Arc<TurnContext>) {
        self.lock().insert(
            slug.clone(),
            Entry {
                ctx,
                fetched: Instant::now(),
                refreshing: false,
                changed: false,
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
