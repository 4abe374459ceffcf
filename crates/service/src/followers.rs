//! The fan-out of run events to the live sockets that follow them: one reader of the engine's
//! bus per process, each event serialized once, handed only to the sockets following its run.
//!
//! Without it every socket held its own bus receiver, so each event woke (and was cloned
//! into) every socket of the process, though few followed its run. A socket registers the runs
//! it follows ([`Followers::follow`]) and reads one channel ([`Follower`]); when its channel
//! is full, or this reader fell behind the bus, it gets [`Delivery::Refill`] and reads what it
//! missed from the store, by `seq`, as after a reconnect.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use switchyard_orchestrator::RunEvent;
use switchyard_protocol::api::live::ServerMessage;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Deliveries a socket may have waiting before it is told to refill from the store.
const QUEUE: usize = 1_024;

/// One event of a followed run, serialized once for every follower.
#[derive(Debug)]
pub struct Published {
    pub run: String,
    pub seq: u64,
    /// `{"run": …, "event": …}`, the live socket's message.
    pub json: String,
}

/// What a follower receives.
#[derive(Debug, Clone)]
pub enum Delivery {
    Event(Arc<Published>),
    /// Something may have been missed: read the followed runs' events after the last `seq`
    /// sent from the store.
    Refill,
}

type Senders = HashMap<String, Vec<(u64, mpsc::Sender<Delivery>)>>;

/// Who follows which run. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Followers {
    runs: Arc<Mutex<Senders>>,
    next_id: Arc<AtomicU64>,
}

/// One socket's side: its id and the channel its deliveries arrive on.
#[derive(Debug)]
pub struct Follower {
    pub id: u64,
    pub deliveries: mpsc::Receiver<Delivery>,
    sender: mpsc::Sender<Delivery>,
    followers: Followers,
}

impl Followers {
    /// A new socket's follower, following nothing yet.
    pub fn join(&self) -> Follower {
        let (sender, deliveries) = mpsc::channel(QUEUE);
        Follower {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            deliveries,
            sender,
            followers: self.clone(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Senders> {
        self.runs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands one event to the followers of its run.
    fn publish(&self, run: &str, event: &RunEvent) {
        let mut runs = self.lock();
        let Some(senders) = runs.get_mut(run) else {
            return;
        };
        let message = ServerMessage::Event {
            run: run.to_owned(),
            event: event.clone(),
        };
        let published = Arc::new(Published {
            run: run.to_owned(),
            seq: event.seq,
            json: serde_json::to_string(&message).unwrap_or_default(),
        });
        senders.retain(
            |(_, sender)| match sender.try_send(Delivery::Event(published.clone())) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    // It will drain what it has, then refill from the store.
                    let sender = sender.clone();
                    tokio::spawn(async move {
                        let _ = sender.send(Delivery::Refill).await;
                    });
                    true
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            },
        );
        if senders.is_empty() {
            runs.remove(run);
        }
    }

    /// Tells every follower that something may have been missed.
    fn refill_all(&self) {
        for senders in self.lock().values() {
            for (_, sender) in senders {
                let _ = sender.try_send(Delivery::Refill);
            }
        }
    }
}

impl Follower {
    /// Follows `run` from now on (register before reading the run's stored events, so that
    /// nothing falls between the two).
    pub fn follow(&self, run: &str) {
        let mut runs = self.followers.lock();
        let senders = runs.entry(run.to_owned()).or_default();
        if !senders.iter().any(|(id, _)| *id == self.id) {
            senders.push((self.id, self.sender.clone()));
        }
    }

    /// Stops following `run`.
    pub fn unfollow(&self, run: &str) {
        let mut runs = self.followers.lock();
        if let Some(senders) = runs.get_mut(run) {
            senders.retain(|(id, _)| *id != self.id);
            if senders.is_empty() {
                runs.remove(run);
            }
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let mut runs = self.followers.lock();
        runs.retain(|_, senders| {
            senders.retain(|(id, _)| *id != self.id);
            !senders.is_empty()
        });
    }
}

/// Reads the engine's bus for the followers until `stop`.
pub async fn fan_out(
    followers: Followers,
    mut bus: tokio::sync::broadcast::Receiver<(String, RunEvent)>,
    stop: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            received = bus.recv() => match received {
                Ok((run, event)) => followers.publish(&run, &event),
                Err(RecvError::Lagged(_)) => followers.refill_all(),
                Err(RecvError::Closed) => return,
            },
        }
    }
}

/// The next of the engine's events on `bus` for a feed that keeps something in step with them
/// (`what`: the search index, the notifications); `None` once `stop` fires or the bus closes.
/// Events missed because the feed fell behind are logged, not retried.
pub(crate) async fn next_event(
    bus: &mut tokio::sync::broadcast::Receiver<(String, RunEvent)>,
    stop: &CancellationToken,
    what: &str,
) -> Option<(String, RunEvent)> {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return None,
            received = bus.recv() => match received {
                Ok(pair) => return Some(pair),
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "{what} fell behind the event bus");
                }
                Err(RecvError::Closed) => return None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use switchyard_orchestrator::EventKind;

    use super::*;

    fn event(seq: u64) -> RunEvent {
        RunEvent {
            seq,
            at: chrono::Utc::now(),
            kind: EventKind::RunStarted,
        }
    }

    async fn next(follower: &mut Follower) -> Option<Delivery> {
        tokio::time::timeout(Duration::from_millis(200), follower.deliveries.recv())
            .await
            .ok()
            .flatten()
    }

    #[tokio::test]
    async fn only_the_followers_of_a_run_get_its_events_serialized_once() {
        let (bus, _) = tokio::sync::broadcast::channel(16);
        let followers = Followers::default();
        let stop = CancellationToken::new();
        tokio::spawn(fan_out(followers.clone(), bus.subscribe(), stop.clone()));
        let mut a = followers.join();
        let mut b = followers.join();
        a.follow("r1");
        b.follow("r2");
        bus.send(("r1".to_owned(), event(3))).unwrap();
        let Some(Delivery::Event(got)) = next(&mut a).await else {
            panic!("a follows r1");
        };
        assert_eq!((got.run.as_str(), got.seq), ("r1", 3));
        assert!(
            got.json.starts_with(r#"{"run":"r1","event":{"seq":3"#),
            "{}",
            got.json
        );
        assert!(next(&mut b).await.is_none(), "b follows r2 only");
        a.unfollow("r1");
        bus.send(("r1".to_owned(), event(4))).unwrap();
        assert!(next(&mut a).await.is_none(), "unfollowed");
        drop(b);
        assert!(
            followers.lock().is_empty(),
            "a dropped follower is forgotten"
        );
        stop.cancel();
    }

    #[tokio::test]
    async fn a_follower_that_falls_behind_is_told_to_refill() {
        let (bus, _) = tokio::sync::broadcast::channel(4 * QUEUE);
        let followers = Followers::default();
        let stop = CancellationToken::new();
        tokio::spawn(fan_out(followers.clone(), bus.subscribe(), stop.clone()));
        let mut slow = followers.join();
        slow.follow("r1");
        for seq in 1..=(QUEUE as u64 + 10) {
            bus.send(("r1".to_owned(), event(seq))).unwrap();
        }
        // Not reading while they are published: the queue fills.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (mut events, mut refill) = (0, false);
        while let Some(delivery) = next(&mut slow).await {
            match delivery {
                Delivery::Event(_) => events += 1,
                Delivery::Refill => refill = true,
            }
        }
        assert!(
            refill,
            "a full queue ends in a refill ({events} events came)"
        );
        stop.cancel();
    }
}
