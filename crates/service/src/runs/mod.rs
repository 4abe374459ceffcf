//! Runs: submit one (a plan, or a goal the model plans), read them, steer them, decide the
//! steps that wait for a person.
//!
//! - [`submit`]: goal or plan → a run, with the kill switch, the project, planning and the
//!   audit entry; a rerun of a run's plan, linked both ways ([`lineage`]).
//! - [`check`]: a hand-written plan's problems, placed at their steps, before submitting.
//! - [`read`]: listing, one run's state and log, how its goal was planned, the pages' views.
//! - [`steer`]: cancel, pause, resume, approve, reject; the approvals inbox.
//! - [`graph`], [`timeline`], [`history`]: what a run's page draws and lists (the plan as a
//!   graph, the steps over time, the events), made on the server.

pub mod check;
pub mod graph;
pub mod history;
pub mod lineage;
pub mod read;
pub mod steer;
pub mod submit;
pub mod timeline;

use crate::Service;
use crate::error::ServiceError;
use crate::principal::Principal;

/// Most runs one listing page returns.
pub const MAX_PAGE: u32 = 500;
/// Runs in a listing page when the caller names no size.
pub const DEFAULT_PAGE: u32 = 50;

impl Service {
    /// `Ok` if run `id` exists in a project `who` sees; the same 404 otherwise.
    pub async fn visible_run(&self, who: &Principal, id: &str) -> Result<(), ServiceError> {
        let project = self
            .runs()
            .project_of(id)
            .await
            .map_err(|e| ServiceError::internal(&e))?;
        who.see(project.as_deref(), &format!("run {id}")).await
    }
}
