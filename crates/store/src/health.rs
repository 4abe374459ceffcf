//! Whether the store's backing services answer, as the store last found them: the
//! database (L2 and every index) and the object store (L3 and L4).
//!
//! Every operation reports what it saw, so health follows reality without a polling loop of
//! its own; the server's maintenance task also probes the object store each round. Reads of
//! the healthy state are lock-free.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// What the store knows of one backing service.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reachability {
    pub ok: bool,
    /// The last failure, while it lasts.
    pub error: Option<String>,
    /// Since when it has failed, milliseconds since the epoch.
    pub since_ms: Option<i64>,
}

/// The store's health, for `/api/v1/health`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoreHealth {
    pub database: Reachability,
    pub objects: Reachability,
    /// Writes accepted while the database was unreachable and not yet written.
    pub queued_writes: u64,
    /// How many may wait before writes are refused.
    pub queue_limit: u64,
}

impl StoreHealth {
    /// Everything answers and nothing waits.
    pub fn is_ok(&self) -> bool {
        self.database.ok && self.objects.ok && self.queued_writes == 0
    }
}

/// One service's state: a flag for the hot path, details behind a lock taken only on change.
#[derive(Debug)]
pub(crate) struct Tracker {
    down: AtomicBool,
    detail: Mutex<(Option<String>, Option<i64>)>,
    name: &'static str,
}

impl Tracker {
    pub fn new(name: &'static str) -> Self {
        Self {
            down: AtomicBool::new(false),
            detail: Mutex::new((None, None)),
            name,
        }
    }

    fn detail(&self) -> std::sync::MutexGuard<'_, (Option<String>, Option<i64>)> {
        self.detail
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn up(&self) {
        // A load first: the hot path (every successful read) must not write the flag.
        if self.down.load(Ordering::Acquire) && self.down.swap(false, Ordering::AcqRel) {
            *self.detail() = (None, None);
            tracing::info!(service = self.name, "reachable again");
        }
    }

    pub fn down(&self, error: &dyn std::fmt::Display) {
        let error = error.to_string();
        let first = !self.down.swap(true, Ordering::AcqRel);
        let mut detail = self.detail();
        if first {
            detail.1 = Some(chrono::Utc::now().timestamp_millis());
            tracing::warn!(service = self.name, %error, "unreachable; the store degrades");
        }
        detail.0 = Some(error);
    }

    pub fn state(&self) -> Reachability {
        let (error, since_ms) = self.detail().clone();
        Reachability {
            ok: !self.down.load(Ordering::Acquire),
            error,
            since_ms,
        }
    }
}

/// Whether a database error means "cannot reach it now" (worth queueing behind and trying
/// again) rather than "this statement is wrong".
pub(crate) fn unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // SQLite's primary result codes: busy, locked, read-only, I/O error, full,
                // cannot open.
                matches!(
                    code.parse::<i32>().map(|c| c & 0xff),
                    Ok(5 | 6 | 8 | 10 | 13 | 14)
                )
            } else {
                // PostgreSQL: connection exceptions (08), operator intervention such as a
                // shutdown (57), insufficient resources (53), a database not accepting
                // connections (55000).
                code.starts_with("08")
                    || code.starts_with("57")
                    || code.starts_with("53")
                    || code == "55000"
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tracker_remembers_the_first_failure_time_and_the_last_error() {
        let tracker = Tracker::new("database");
        assert!(tracker.state().ok);
        tracker.down(&"refused");
        let first = tracker.state();
        assert!(!first.ok);
        tracker.down(&"timed out");
        let second = tracker.state();
        assert_eq!(second.error.as_deref(), Some("timed out"));
        assert_eq!(second.since_ms, first.since_ms);
        tracker.up();
        assert_eq!(
            tracker.state(),
            Reachability {
                ok: true,
                error: None,
                since_ms: None
            }
        );
        assert!(unreachable(&sqlx::Error::PoolTimedOut));
        assert!(!unreachable(&sqlx::Error::RowNotFound));
    }
}
