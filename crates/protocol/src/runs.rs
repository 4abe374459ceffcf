//! Runs as the web app shows them.

use serde::{Deserialize, Serialize};

/// One row of the runs table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRow {
    pub id: String,
    /// `queued`, `running`, `paused`, `awaiting_approval`, `compensating`, `succeeded`,
    /// `failed` or `cancelled`.
    pub status: String,
    /// Events recorded so far.
    pub events: u64,
    /// Why the run failed or was cancelled.
    pub reason: Option<String>,
    /// The project it belongs to.
    pub project: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
}
