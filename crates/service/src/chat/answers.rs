//! Answers being written in this process: the latest state of each (a `watch` channel a tab
//! follows over its live socket) and the token that stops it. At most one answer per
//! conversation at a time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use switchyard_protocol::conversation::{AnswerProgress, AnswerStatus};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

type Key = (String, u32);

struct Entry {
    owner: String,
    progress: Arc<watch::Sender<AnswerProgress>>,
    stop: CancellationToken,
}

/// Every answer being written here. Shared (`Arc`).
#[derive(Default)]
pub struct Answers {
    writing: Mutex<HashMap<Key, Entry>>,
}

impl std::fmt::Debug for Answers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answers")
            .field("writing", &self.lock().len())
            .finish()
    }
}

/// The writer's side of one answer; dropping it ends the answer's entry.
pub struct Writer {
    answers: Arc<Answers>,
    key: Key,
    progress: Arc<watch::Sender<AnswerProgress>>,
    /// Cancelled when someone presses Stop.
    pub stop: CancellationToken,
}

impl Answers {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
        self.writing.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether an answer of `conversation` is being written.
    pub fn busy(&self, conversation: &str) -> bool {
        self.lock().keys().any(|(c, _)| c == conversation)
    }

    /// Whether answer `seq` of `conversation` is being written here.
    pub fn writing(&self, conversation: &str, seq: u32) -> bool {
        self.lock().contains_key(&(conversation.to_owned(), seq))
    }

    /// Registers answer `seq` of `owner`'s `conversation`.
    pub fn start(self: &Arc<Self>, owner: &str, conversation: &str, seq: u32) -> Writer {
        let key = (conversation.to_owned(), seq);
        let progress = Arc::new(watch::Sender::new(AnswerProgress {
            conversation: conversation.to_owned(),
            seq,
            content: String::new(),
            status: AnswerStatus::Generating,
            figures: None,
            error: None,
        }));
        let stop = CancellationToken::new();
        self.lock().insert(
            key.clone(),
            Entry {
                owner: owner.to_owned(),
                progress: progress.clone(),
                stop: stop.clone(),
            },
        );
        Writer {
            answers: self.clone(),
            key,
            progress,
            stop,
        }
    }

    /// Follows `owner`'s answer `seq` of `conversation`: the latest state at once, then each
    /// change; `None` when no such answer is being written here.
    pub fn follow(
        &self,
        owner: &str,
        conversation: &str,
        seq: u32,
    ) -> Option<watch::Receiver<AnswerProgress>> {
        let writing = self.lock();
        let entry = writing.get(&(conversation.to_owned(), seq))?;
        if entry.owner != owner {
            return None;
        }
        let mut progress = entry.progress.subscribe();
        progress.mark_changed();
        Some(progress)
    }

    /// Stops `owner`'s answer `seq` of `conversation`; `false` when none is being written here.
    pub fn stop(&self, owner: &str, conversation: &str, seq: u32) -> bool {
        match self.lock().get(&(conversation.to_owned(), seq)) {
            Some(entry) if entry.owner == owner => {
                entry.stop.cancel();
                true
            }
            _ => false,
        }
    }

    /// Stops every answer of `owner`'s `conversation` being written here; answers how many.
    pub fn stop_all(&self, owner: &str, conversation: &str) -> usize {
        let writing = self.lock();
        let mut stopped = 0;
        for ((c, _), entry) in writing.iter() {
            if c == conversation && entry.owner == owner {
                entry.stop.cancel();
                stopped += 1;
            }
        }
        stopped
    }
}

impl Writer {
    /// Hands the answer's latest state to its followers.
    pub fn report(&self, change: impl FnOnce(&mut AnswerProgress)) {
        self.progress.send_modify(change);
    }
}

impl Writer {
    /// Ends the answer: no longer written here (a Stop or a new message sees that at once),
    /// then its last state to the followers.
    pub fn finish(self, change: impl FnOnce(&mut AnswerProgress)) {
        self.answers.lock().remove(&self.key);
        self.progress.send_modify(change);
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.answers.lock().remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn followers_see_the_text_grow_and_only_the_owner_may_stop_or_follow() {
        let answers = Arc::new(Answers::default());
        let writer = answers.start("ann", "c1", 2);
        assert!(answers.busy("c1") && answers.writing("c1", 2));
        assert!(answers.follow("bob", "c1", 2).is_none());
        let mut follower = answers.follow("ann", "c1", 2).unwrap();
        follower.changed().await.unwrap();
        writer.report(|p| p.content.push_str("Hel"));
        writer.report(|p| p.content.push_str("lo"));
        follower.changed().await.unwrap();
        assert_eq!(follower.borrow_and_update().content, "Hello");
        assert!(!answers.stop("bob", "c1", 2));
        assert!(!writer.stop.is_cancelled());
        assert_eq!(answers.stop_all("bob", "c1"), 0);
        assert!(answers.stop("ann", "c1", 2));
        assert!(writer.stop.is_cancelled());
        let other = answers.start("ann", "c2", 4);
        assert_eq!(answers.stop_all("ann", "c2"), 1);
        assert!(other.stop.is_cancelled());
        drop(writer);
        assert!(!answers.busy("c1"));
        assert!(
            follower.changed().await.is_err(),
            "the channel ends with the answer"
        );
    }
}
