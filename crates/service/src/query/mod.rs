//! The search index behind query mode and the top bar's search: runs (goal, step outputs and
//! errors), datasets (name, file, columns) and agents' log lines, each in its project, found
//! by words and ranked by relevance — SQLite's FTS5 with bm25, or PostgreSQL's `tsvector`
//! with `ts_rank_cd`, in the database Switchyard already has (no second store to keep in step
//! or back up). A caller finds only what their projects hold.
//!
//! - [`index`]: the tables: write, remove, find.
//! - [`documents`]: what each kind of thing puts in.
//! - [`feed`]: runs indexed as their events arrive.

pub mod documents;
pub mod feed;
pub mod index;

use std::time::Instant;

use switchyard_auth::Permission;
use switchyard_protocol::query::{QueryHit, QueryResults, fragments};

use crate::Service;
use crate::error::ServiceError;
use crate::principal::Principal;

/// The longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
/// Words read from a query, at most.
pub const MAX_WORDS: usize = 16;
/// Hits one query returns, at most.
pub const MAX_HITS: u32 = 100;

/// The words of `text` the index can match: letters and digits, lower case, 2 to 64
/// characters (longer ones cut), at most [`MAX_WORDS`].
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2)
        .map(|w| w.to_lowercase().chars().take(64).collect())
        .take(MAX_WORDS)
        .collect()
}

impl Service {
    /// What the caller's projects hold that has every word of `text` (the last as a prefix),
    /// best first, at most `limit`. Needs `ReadRuns`.
    pub async fn query(
        &self,
        who: &Principal,
        text: &str,
        limit: u32,
    ) -> Result<QueryResults, ServiceError> {
        who.require(Permission::ReadRuns).await?;
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(ServiceError::invalid(format!(
                "q: at most {MAX_QUERY_CHARS} characters"
            )));
        }
        if !(1..=MAX_HITS).contains(&limit) {
            return Err(ServiceError::invalid(format!(
                "limit {limit} is outside 1–{MAX_HITS}"
            )));
        }
        let started = Instant::now();
        let words = words(text);
        let found = index::find(self.db(), &words, who.visibility.filter(), i64::from(limit))
            .await
            .map_err(|e| ServiceError::internal(&e))?;
        Ok(QueryResults {
            words,
            hits: found
                .into_iter()
                .map(|f| QueryHit {
                    kind: f.kind,
                    title: f.title,
                    href: f.href,
                    project: f.project,
                    score: f.score,
                    snippet: fragments(&f.snippet),
                })
                .collect(),
            took_ms: started.elapsed().as_secs_f64() * 1e3,
        })
    }

    /// Puts `documents` into the search index; a failure is logged, not passed on (the thing
    /// itself was written; only finding it waits for the next write).
    pub async fn index(&self, documents: &[index::Document]) {
        if let Err(e) = index::put(self.db(), documents).await {
            tracing::warn!(error = %e, count = documents.len(), "could not index documents");
        }
    }

    /// Takes document `key` out of the search index (logged on failure).
    pub async fn unindex(&self, key: &str) {
        if let Err(e) = index::remove(self.db(), key).await {
            tracing::warn!(error = %e, key, "could not remove a document from the index");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_read_as_words() {
        assert_eq!(
            words("Pump-failure, in \"zone 7\"!"),
            ["pump", "failure", "in", "zone"]
        );
        assert!(words("a ! ?").is_empty());
        assert_eq!(words(&"x ".repeat(40)).len(), 0);
        assert_eq!(words(&"ab ".repeat(40)).len(), MAX_WORDS);
    }
}
