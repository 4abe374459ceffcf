//! Admission control: at most `max_concurrent` requests generate at once, at most `queue` wait
//! for a slot, and the next one is refused at once with a retry hint — memory never grows with
//! load.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::error::InferenceError;

/// Slots and the queue in front of them. Shared by every model of a host: they share the CPU
/// (or GPU) too.
#[derive(Debug)]
pub struct Admission {
    slots: Arc<Semaphore>,
    max_concurrent: usize,
    queue: usize,
    waiting: AtomicUsize,
    /// Exponentially weighted mean time a request holds its slot, for `Retry-After`.
    mean_service_ms: AtomicU64,
}

/// A slot, held while a request generates; released on drop.
#[derive(Debug)]
pub struct Ticket {
    _permit: OwnedSemaphorePermit,
    admission: Arc<Admission>,
    /// How long the request waited for its slot.
    pub waited: Duration,
    entered: Instant,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.admission.record_service(self.entered.elapsed());
    }
}

/// Takes a place in the queue back when a waiting request gives up (or its client leaves).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Admission {
    pub fn new(max_concurrent: usize, queue: usize) -> Arc<Self> {
        let max_concurrent = max_concurrent.max(1);
        Arc::new(Self {
            slots: Arc::new(Semaphore::new(max_concurrent)),
            max_concurrent,
            queue,
            waiting: AtomicUsize::new(0),
            mean_service_ms: AtomicU64::new(1_000),
        })
    }

    /// A slot now, or after waiting in the queue until `deadline`; refused at once when the
    /// queue is full.
    pub async fn enter(self: &Arc<Self>, deadline: Instant) -> Result<Ticket, InferenceError> {
        let asked = Instant::now();
        let ticket = |permit| Ticket {
            _permit: permit,
            admission: self.clone(),
            waited: asked.elapsed(),
            entered: Instant::now(),
        };
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return Ok(ticket(permit));
        }
        let ahead = self.waiting.fetch_add(1, Ordering::SeqCst);
        let _place = Waiting(&self.waiting);
        if ahead >= self.queue {
            return Err(InferenceError::QueueFull {
                queue: ahead,
                retry_after: self.retry_after(ahead),
            });
        }
        match tokio::time::timeout_at(deadline, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(ticket(permit)),
            Ok(Err(_closed)) => Err(InferenceError::Engine("the host has stopped".into())),
            Err(_elapsed) => Err(InferenceError::Deadline(deadline - asked)),
        }
    }

    /// Requests waiting for a slot now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// Requests holding a slot now.
    pub fn running(&self) -> usize {
        self.max_concurrent - self.slots.available_permits()
    }

    pub fn max_concurrent(&self) -> usize {
        self.max_concurrent
    }

    pub fn queue_limit(&self) -> usize {
        self.queue
    }

    /// When the queue should have room: the requests ahead, served `max_concurrent` at a
    /// time at the mean service time; at least a second.
    fn retry_after(&self, ahead: usize) -> Duration {
        let mean = self.mean_service_ms.load(Ordering::Relaxed);
        let rounds = (ahead as u64 + 1).div_ceil(self.max_concurrent as u64);
        Duration::from_secs((mean * rounds).div_ceil(1_000).max(1))
    }

    fn record_service(&self, took: Duration) {
        let took = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
        // mean += (took - mean) / 8, without a lock; a lost update only skews the hint.
        let old = self.mean_service_ms.load(Ordering::Relaxed);
        let new = (old * 7 + took) / 8;
        self.mean_service_ms.store(new.max(1), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_at_once_with_a_retry_hint() {
        let admission = Admission::new(1, 2);
        let first = admission.enter(far()).await.unwrap();
        let a = tokio::spawn({
            let admission = admission.clone();
            async move { admission.enter(far()).await.map(|_| ()) }
        });
        let b = tokio::spawn({
            let admission = admission.clone();
            async move { admission.enter(far()).await.map(|_| ()) }
        });
        while admission.waiting() < 2 {
            tokio::task::yield_now().await;
        }
        let refused = admission.enter(far()).await.unwrap_err();
        let InferenceError::QueueFull { retry_after, .. } = refused else {
            panic!("expected QueueFull, got {refused:?}");
        };
        assert!(retry_after >= Duration::from_secs(1));
        assert_eq!(admission.running(), 1);
        drop(first);
        a.await.unwrap().unwrap();
        b.await.unwrap().unwrap();
        assert_eq!(admission.waiting(), 0);
        assert_eq!(admission.running(), 0);
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_frees_its_place() {
        let admission = Admission::new(1, 1);
        let _held = admission.enter(far()).await.unwrap();
        let waiter = tokio::spawn({
            let admission = admission.clone();
            async move { admission.enter(far()).await.map(|_| ()) }
        });
        while admission.waiting() < 1 {
            tokio::task::yield_now().await;
        }
        waiter.abort();
        let _ = waiter.await;
        assert_eq!(admission.waiting(), 0, "the aborted waiter left the queue");
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_past_the_deadline_is_an_error() {
        let admission = Admission::new(1, 4);
        let _held = admission.enter(far()).await.unwrap();
        let err = admission
            .enter(Instant::now() + Duration::from_secs(2))
            .await
            .unwrap_err();
        assert!(matches!(err, InferenceError::Deadline(_)), "{err:?}");
    }

    #[tokio::test]
    async fn many_requests_never_exceed_the_slots() {
        let admission = Admission::new(3, 100);
        let peak = Arc::new(AtomicUsize::new(0));
        let now = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (admission, peak, now) = (admission.clone(), peak.clone(), now.clone());
                tokio::spawn(async move {
                    let _t = admission.enter(far()).await.unwrap();
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 3);
    }
}
