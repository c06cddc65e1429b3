//! Who awaits a payment on this node, and the LISTEN task that wakes them.

use super::*;
use crate::storage::payments::{Heard, OutcomeListener};

/// The tenant and thread of an awaited payment, and who awaits it.
type Awaited = (TenantSlug, ThreadId, Vec<oneshot::Sender<PaymentNotice>>);

/// Waiters on this node, keyed by payment id, plus a broadcast of every
/// notice for the chat runtime. Cheap to clone.
#[derive(Clone)]
pub struct PaymentWaiters {
    inner: Arc<Mutex<HashMap<Uuid, Awaited>>>,
    all: broadcast::Sender<PaymentNotice>,
}

impl Default for PaymentWaiters {
    fn default() -> Self {
        Self {
            inner: Arc::default(),
            all: broadcast::channel(256).0,
        }
    }
}

impl PaymentWaiters {
    /// Every notice this node hears (chat threads filter by thread id).
    pub fn subscribe_all(&self) -> broadcast::Receiver<PaymentNotice> {
        self.all.subscribe()
    }

    /// Waits for the final outcome of one payment. Registers first, then
    /// reads the row, so an outcome recorded before the registration is
    /// not missed.
    pub async fn wait_for(
        &self,
        db: &Db,
        tenant: &TenantSlug,
        payment_id: Uuid,
        thread_id: &ThreadId,
    ) -> Result<oneshot::Receiver<PaymentNotice>, StorageError> {
        let (tx, rx) = oneshot::channel();
        lock(&self.inner)
            .entry(payment_id)
            .or_insert_with(|| (tenant.clone(), thread_id.clone(), Vec::new()))
            .2
            .push(tx);
        self.recheck_one(db, tenant, payment_id, thread_id).await?;
        Ok(rx)
    }

    /// How many payments this node is waiting on.
    pub fn waiting(&self) -> usize {
        lock(&self.inner).len()
    }

    /// Hands a notice to its waiters (and the broadcast).
    pub fn deliver(&self, notice: PaymentNotice) {
        let _ = self.all.send(notice.clone());
        if !notice.status().is_some_and(PaymentStatus::is_final) {
            return;
        }
        let senders = lock(&self.inner).remove(&notice.payment_id);
        for tx in senders.map(|(_, _, v)| v).unwrap_or_default() {
            let _ = tx.send(notice.clone());
        }
    }

    async fn recheck_one(
        &self,
        db: &Db,
        tenant: &TenantSlug,
        payment_id: Uuid,
        thread_id: &ThreadId,
    ) -> Result<(), StorageError> {
        let Some(row) = store::find_payment(&db.tenant(tenant), payment_id).await? else {
            return Ok(());
        };
        if row.status.is_final() {
            let outcome = stored_outcome(
                row.status,
                row.mpesa_receipt.clone(),
                row.callback_payload.as_ref(),
            );
            self.deliver(PaymentNotice {
                tenant: tenant.clone(),
                payment_id,
                thread_id: thread_id.clone(),
                status: row.status.as_str().to_owned(),
                receipt: row.mpesa_receipt,
                result_code: outcome.result_code(),
            });
        }
        Ok(())
    }

    /// Re-reads every awaited payment (after the listener lost its
    /// connection, notices sent meanwhile are gone).
    pub async fn recheck_all(&self, db: &Db) {
        let awaited: Vec<(Uuid, TenantSlug, ThreadId)> = lock(&self.inner)
            .iter()
            .map(|(id, (slug, thread, _))| (*id, slug.clone(), thread.clone()))
            .collect();
        for (id, slug, thread) in awaited {
            if let Err(e) = self.recheck_one(db, &slug, id, &thread).await {
                tracing::warn!(tenant = %slug, error = %e, "payment recheck failed");
            }
        }
    }
}

/// The node's LISTEN task.
pub struct PaymentListener;

impl PaymentListener {
    /// Starts listening (LISTEN is in place when this returns) and hands
    /// every notice to `waiters` until the task is aborted.
    pub async fn start(db: Db, waiters: PaymentWaiters) -> Result<JoinHandle<()>, StorageError> {
        let mut listener = OutcomeListener::start(&db).await?;
        Ok(tokio::spawn(async move {
            loop {
                match listener.next().await {
                    Ok(Heard::Notice(notice)) => waiters.deliver(notice),
                    Ok(Heard::Unreadable(e)) => {
                        tracing::warn!(error = %e, "unreadable payment notice");
                    }
                    Ok(Heard::Reconnected) => {
                        tracing::warn!("payment listener reconnecting; rechecking waiters");
                        waiters.recheck_all(&db).await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "payment listener error");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        waiters.recheck_all(&db).await;
                    }
                }
            }
        }))
    }
}
