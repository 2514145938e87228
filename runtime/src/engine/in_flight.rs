//! Requests that change something, carried to their answer even when their caller goes.
//!
//! A run can end (its deadline, a signal) while a create or a removal is on its way: the daemon acts on
//! a request it has read whether or not anyone waits for the answer. Dropping the request then would
//! leave the run's cleanup listing before the daemon made the object (or while it is still removing a
//! container whose network and volumes come next). A client given an [`InFlight`] sends every request
//! that is not a `GET` or `HEAD` in a task of its own that lives until the answer's head arrives, and
//! counts it; the run's cleanup waits until none is left ([`InFlight::idle`]) before it lists what the
//! run owns.

use std::{
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use tokio::sync::Notify;

/// The changing requests of one run still on their way: cheap to clone, clones share the count.
#[derive(Clone, Default)]
pub struct InFlight {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    now: AtomicUsize,
    ever: AtomicU64,
    idle: Notify,
}

/// One request counted as in flight until it is dropped.
pub(crate) struct Ticket(Arc<Inner>);

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.0.now.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl InFlight {
    /// A new, empty count.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one request until the ticket is dropped.
    pub(crate) fn ticket(&self) -> Ticket {
        self.inner.now.fetch_add(1, Ordering::AcqRel);
        self.inner.ever.fetch_add(1, Ordering::AcqRel);
        Ticket(self.inner.clone())
    }

    /// How many changing requests are on their way now.
    pub fn now(&self) -> usize {
        self.inner.now.load(Ordering::Acquire)
    }

    /// How many changing requests were ever sent (a run that sent none made nothing to clean up).
    pub fn ever(&self) -> u64 {
        self.inner.ever.load(Ordering::Acquire)
    }

    /// Waits until no changing request is on its way, or `limit` passes; says whether none is left.
    pub async fn idle(&self, limit: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.inner.idle.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if self.now() == 0 {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(limit, wait).await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn idle_waits_for_every_ticket() {
        let f = InFlight::new();
        assert!(f.idle(Duration::ZERO).await);
        let a = f.ticket();
        let b = f.ticket();
        assert_eq!((f.now(), f.ever()), (2, 2));
        assert!(!f.idle(Duration::from_millis(20)).await);
        let waiter = tokio::spawn({
            let f = f.clone();
            async move { f.idle(Duration::from_secs(10)).await }
        });
        drop(a);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        drop(b);
        assert!(waiter.await.unwrap());
        assert_eq!((f.now(), f.ever()), (0, 2));
    }
}
