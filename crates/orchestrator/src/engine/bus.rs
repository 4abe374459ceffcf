//! The engine's event bus: every recorded event, delivered to this process's subscribers in
//! `seq` order per run (the topic), whichever way it arrived.
//!
//! Events reach the bus from three places — this engine's commits, people's commands it
//! recorded for runs another engine owns, and other engines' commits heard through
//! PostgreSQL — so one run's events can arrive out of order. An event ahead of its turn is
//! held until the ones before it arrive; a gap that does not fill within [`GAP_WAIT`] (a
//! notification lost while the listening connection was down) is skipped rather than
//! holding the run's stream back for good.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::broadcast;

use crate::event::RunEvent;

/// How long events wait for an earlier one before they are delivered without it.
pub const GAP_WAIT: Duration = Duration::from_millis(500);
/// Runs whose order is remembered; past this, the memory of runs not seen ending is dropped.
const REMEMBERED_RUNS: usize = 10_000;

pub(crate) struct Bus {
    sender: broadcast::Sender<(String, RunEvent)>,
    order: Mutex<HashMap<String, Topic>>,
}

/// One run's place in its stream.
struct Topic {
    next_seq: u64,
    held: BTreeMap<u64, RunEvent>,
    holding_since: Option<Instant>,
}

impl Bus {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            sender: broadcast::channel(capacity.max(1)).0,
            order: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<(String, RunEvent)> {
        self.sender.subscribe()
    }

    pub(crate) fn receiver_count(&self) -> usize {
        self.sender.receiver_count()
    }

    /// Delivers `event` in its turn (now, or once the events before it have come).
    pub(crate) fn publish(&self, run_id: &str, event: RunEvent) {
        let mut order = self.order.lock().unwrap_or_else(|e| e.into_inner());
        if order.len() > REMEMBERED_RUNS && !order.contains_key(run_id) {
            order.clear();
        }
        let topic = order.entry(run_id.to_owned()).or_insert_with(|| Topic {
            next_seq: event.seq,
            held: BTreeMap::new(),
            holding_since: None,
        });
        if event.seq < topic.next_seq {
            return; // already delivered
        }
        topic.held.insert(event.seq, event);
        let gap_expired = topic
            .holding_since
            .is_some_and(|since| since.elapsed() >= GAP_WAIT);
        let mut ended = false;
        while let Some(entry) = topic.held.first_entry() {
            if *entry.key() != topic.next_seq && !gap_expired {
                break;
            }
            let event = entry.remove();
            topic.next_seq = event.seq + 1;
            ended |= event.kind.ends_run();
            let _ = self.sender.send((run_id.to_owned(), event));
        }
        topic.holding_since = if topic.held.is_empty() {
            None
        } else {
            topic.holding_since.or(Some(Instant::now()))
        };
        if ended && topic.held.is_empty() {
            order.remove(run_id);
        }
    }

    /// Delivers everything held back: after a reconnection, missing events will not come.
    pub(crate) fn release_held(&self) {
        let mut order = self.order.lock().unwrap_or_else(|e| e.into_inner());
        for (run_id, topic) in order.iter_mut() {
            while let Some((_, event)) = topic.held.pop_first() {
                topic.next_seq = event.seq + 1;
                let _ = self.sender.send((run_id.clone(), event));
            }
            topic.holding_since = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventKind;

    fn event(seq: u64) -> RunEvent {
        RunEvent {
            seq,
            at: chrono::Utc::now(),
            kind: EventKind::RunResumed { by: "t".into() },
        }
    }

    fn drain(rx: &mut broadcast::Receiver<(String, RunEvent)>) -> Vec<u64> {
        std::iter::from_fn(|| rx.try_recv().ok().map(|(_, e)| e.seq)).collect()
    }

    #[test]
    fn out_of_order_events_are_delivered_in_order_once() {
        let bus = Bus::new(64);
        let mut rx = bus.subscribe();
        bus.publish("r", event(3));
        bus.publish("r", event(5));
        assert_eq!(drain(&mut rx), [3]);
        bus.publish("r", event(4));
        assert_eq!(drain(&mut rx), [4, 5]);
        bus.publish("r", event(4));
        assert_eq!(drain(&mut rx), Vec::<u64>::new(), "a repeat is dropped");
    }

    #[test]
    fn a_gap_that_does_not_fill_is_skipped() {
        let bus = Bus::new(64);
        let mut rx = bus.subscribe();
        bus.publish("r", event(1));
        bus.publish("r", event(3));
        assert_eq!(drain(&mut rx), [1]);
        std::thread::sleep(GAP_WAIT);
        bus.publish("r", event(4));
        assert_eq!(drain(&mut rx), [3, 4]);
        bus.publish("r", event(6));
        bus.release_held();
        assert_eq!(drain(&mut rx), [6]);
    }
}
