//! Plannings that a browser tab follows while the model writes: one [`tokio::sync::watch`]
//! channel per person and planning id, holding the latest [`PlanningProgress`].
//!
//! The tab picks the id, asks its live socket to follow it, then submits the goal with it;
//! either may reach the server first, so whichever comes first makes the channel. Only the
//! person who submits sees the progress (the key holds who they are). Channels are dropped
//! [`KEPT`] after they were made, and at most [`MAX_WATCHED`] exist at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use switchyard_protocol::api::runs::PlanningProgress;
use tokio::sync::watch;

/// How long a planning can be followed after it was first named.
pub const KEPT: Duration = Duration::from_secs(15 * 60);
/// The most plannings followed at once, over everyone.
pub const MAX_WATCHED: usize = 4_096;
/// The longest planning id.
pub const MAX_ID_CHARS: usize = 64;

type Channel = Arc<watch::Sender<Option<PlanningProgress>>>;

/// Every planning being followed. Cheap to share (`Arc` it).
#[derive(Debug, Default)]
pub struct PlanningWatches {
    channels: Mutex<HashMap<(String, String), (Channel, Instant)>>,
}

/// Why a planning cannot be followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WatchError {
    #[error("a planning id is 1 to {MAX_ID_CHARS} letters, digits, '-' or '_'")]
    BadId,
    #[error("too many plannings are followed at once; try again in a few minutes")]
    Full,
}

impl PlanningWatches {
    /// Where `who`'s planning `id` reports its progress.
    pub fn reporter(&self, who: &str, id: &str) -> Result<Reporter, WatchError> {
        Ok(Reporter(self.channel(who, id)?))
    }

    /// The progress of `who`'s planning `id`: the latest report (marked unseen, so it is
    /// read at once), then each new one.
    pub fn follow(
        &self,
        who: &str,
        id: &str,
    ) -> Result<watch::Receiver<Option<PlanningProgress>>, WatchError> {
        let mut progress = self.channel(who, id)?.subscribe();
        progress.mark_changed();
        Ok(progress)
    }

    fn channel(&self, who: &str, id: &str) -> Result<Channel, WatchError> {
        let well_formed = !id.is_empty()
            && id.chars().count() <= MAX_ID_CHARS
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !well_formed {
            return Err(WatchError::BadId);
        }
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        let key = (who.to_owned(), id.to_owned());
        if let Some((channel, _)) = channels.get(&key) {
            return Ok(channel.clone());
        }
        let now = Instant::now();
        channels.retain(|_, (_, made)| now.duration_since(*made) < KEPT);
        if channels.len() >= MAX_WATCHED {
            return Err(WatchError::Full);
        }
        let channel = Arc::new(watch::Sender::new(None));
        channels.insert(key, (channel.clone(), now));
        Ok(channel)
    }
}

/// Hands one planning's progress to whoever follows it.
#[derive(Debug, Clone)]
pub struct Reporter(Channel);

impl Reporter {
    pub fn report(&self, progress: &PlanningProgress) {
        self.0.send_replace(Some(progress.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_protocol::api::runs::PlanningStage;

    fn at(stage: PlanningStage, tokens: u32) -> PlanningProgress {
        PlanningProgress {
            stage,
            model: "tiny".into(),
            cache_hit: Some(false),
            similarity: None,
            attempt: 1,
            max_attempts: 3,
            tokens,
            answer: String::new(),
            refused: Vec::new(),
            error: None,
        }
    }

    #[tokio::test]
    async fn a_follower_gets_the_latest_progress_whoever_came_first() {
        let watches = PlanningWatches::default();
        // The report comes before the follower: it still reads it at once.
        let reporter = watches.reporter("ann", "p1").unwrap();
        reporter.report(&at(PlanningStage::Writing, 3));
        let mut early = watches.follow("ann", "p1").unwrap();
        early.changed().await.unwrap();
        assert_eq!(early.borrow_and_update().as_ref().unwrap().tokens, 3);
        reporter.report(&at(PlanningStage::Planned, 9));
        early.changed().await.unwrap();
        assert_eq!(
            early.borrow_and_update().as_ref().unwrap().stage,
            PlanningStage::Planned
        );
        // Someone else following the same id sees another channel: nothing.
        let other = watches.follow("bob", "p1").unwrap();
        assert!(other.borrow().is_none());
    }

    #[test]
    fn ids_are_checked_and_the_number_bounded() {
        let watches = PlanningWatches::default();
        for bad in ["", "a b", "x/y", &"a".repeat(65)] {
            assert_eq!(watches.follow("ann", bad).unwrap_err(), WatchError::BadId);
        }
        for i in 0..MAX_WATCHED {
            watches.reporter("ann", &format!("p{i}")).unwrap();
        }
        assert_eq!(
            watches.reporter("ann", "one-more").unwrap_err(),
            WatchError::Full
        );
        // An id already there is still followed.
        assert!(watches.follow("ann", "p0").is_ok());
    }
}
