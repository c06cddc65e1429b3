//! The tenant directory calls use, kept in memory: a number looked up once
//! is answered from memory from then on and refreshed in the background, so
//! a call connecting while the database restarts still finds its tenant.
//! When a refresh (or a first lookup) fails, what is known is served stale;
//! only a number never seen before needs the database at connect.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use tracing::{Instrument, debug, warn};

use crate::core::ids::PhoneNumber;
use crate::runtime::call_setup::{DirectoryError, TenantDirectory, VoiceTenant};
use crate::runtime::shutdown::Shutdown;

/// How often cached numbers are looked up again.
pub const REFRESH_EVERY: Duration = Duration::from_secs(30);
/// How long a lookup may take before what is cached is used instead.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);

/// Numbers that reached a tenant (an unknown number is asked again each
/// time, so a tenant onboarded a moment ago takes calls at once).
type Entries = HashMap<PhoneNumber, VoiceTenant>;

/// A [`TenantDirectory`] in front of another (the database), answering
/// from memory.
#[derive(Clone)]
pub struct CachedDirectory {
    inner: Arc<dyn TenantDirectory>,
    entries: Arc<Mutex<Entries>>,
}

impl CachedDirectory {
    pub fn new(inner: Arc<dyn TenantDirectory>) -> Self {
        Self {
            inner,
            entries: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Refreshes every cached number each `every` until `shutdown`.
    pub fn spawn_refresh(
        &self,
        every: Duration,
        shutdown: Shutdown,
    ) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        let span = tracing::info_span!("tenant_directory_refresh");
        tokio::spawn(
            async move {
                loop {
                    tokio::select! {
                        _ = shutdown.wait() => return,
                        _ = tokio::time::sleep(every) => {}
                    }
                    me.refresh_all().await;
                }
            }
            .instrument(span),
        )
    }

    /// Looks every cached number up again; a failure keeps the old entry.
    pub async fn refresh_all(&self) {
        let numbers: Vec<PhoneNumber> = self.lock().keys().cloned().collect();
        for number in numbers {
            if let Err(e) = self.lookup(&number).await {
                debug!(error = %e, "tenant directory refresh failed; serving what is cached");
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding the lock leaves a map that is still whole.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn cached(&self, number: &PhoneNumber) -> Option<VoiceTenant> {
        self.lock().get(number).cloned()
    }

    async fn lookup(&self, number: &PhoneNumber) -> Result<Option<VoiceTenant>, DirectoryError> {
        let found = tokio::time::timeout(LOOKUP_TIMEOUT, self.inner.by_voice_number(number))
            .await
            .map_err(|_| DirectoryError("tenant lookup timed out".into()))??;
        let mut entries = self.lock();
        match &found {
            Some(t) => entries.insert(number.clone(), t.clone()),
            None => entries.remove(number),
        };
        Ok(found)
    }
}

impl TenantDirectory for CachedDirectory {
    fn by_voice_number<'a>(
        &'a self,
        number: &'a PhoneNumber,
    ) -> BoxFuture<'a, Result<Option<VoiceTenant>, DirectoryError>> {
        Box::pin(async move {
            if let Some(known) = self.cached(number) {
                return Ok(Some(known));
            }
            match self.lookup(number).await {
                Ok(found) => Ok(found),
                Err(e) => match self.cached(number) {
                    Some(known) => Ok(Some(known)),
                    None => {
                        warn!(error = %e, "tenant directory unavailable and number not cached");
                        Err(e)
                    }
                },
            }
        })
    }

    /// Asked of the database each time (a call page is opened by a person,
    /// not at a provider's connect deadline).
    fn by_slug<'a>(
        &'a self,
        slug: &'a crate::core::ids::TenantSlug,
    ) -> BoxFuture<'a, Result<Option<crate::runtime::call_setup::WebTenant>, DirectoryError>> {
        self.inner.by_slug(slug)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::call_setup::VoiceDials;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    struct Flaky {
        up: AtomicBool,
        name: Mutex<String>,
        asked: AtomicUsize,
    }

    impl TenantDirectory for Flaky {
        fn by_voice_number<'a>(
            &'a self,
            _number: &'a PhoneNumber,
        ) -> BoxFuture<'a, Result<Option<VoiceTenant>, DirectoryError>> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            let up = self.up.load(Ordering::SeqCst);
            let name = self.name.lock().unwrap().clone();
            Box::pin(async move {
                if !up {
                    return Err(DirectoryError("database down".into()));
                }
                Ok(Some(VoiceTenant {
                    slug: crate::core::ids::TenantSlug::parse("demo").unwrap(),
                    name,
                    status: "active".into(),
                    trial_ends_at: None,
                    deleted_at: None,
                    voice_enabled: true,
                    dials: VoiceDials::default(),
                }))
            })
        }
    }

    #[tokio::test]
    async fn a_known_number_is_answered_from_memory_while_the_database_is_down() {
        let flaky = Arc::new(Flaky {
            up: AtomicBool::new(true),
            name: Mutex::new("Salon A".into()),
            asked: AtomicUsize::new(0),
        });
        let dir = CachedDirectory::new(flaky.clone());
        let number = PhoneNumber::parse("+254711000100").unwrap();
        let other = PhoneNumber::parse("+254711000999").unwrap();
        assert_eq!(
            dir.by_voice_number(&number).await.unwrap().unwrap().name,
            "Salon A"
        );
        flaky.up.store(false, Ordering::SeqCst);
        dir.refresh_all().await;
        let stale = dir.by_voice_number(&number).await.unwrap().unwrap();
        assert_eq!(stale.name, "Salon A", "served stale on error");
        assert!(dir.by_voice_number(&other).await.is_err(), "never seen");
        // Back up: the background refresh picks up the change.
        flaky.up.store(true, Ordering::SeqCst);
        *flaky.name.lock().unwrap() = "Salon B".into();
        dir.refresh_all().await;
        assert_eq!(
            dir.by_voice_number(&number).await.unwrap().unwrap().name,
            "Salon B"
        );
    }
}
