//! Runs indexed as they change: the engine's events (a run created, a step's output or error,
//! the run's end) rewrite the run's document from its state.

use tokio_util::sync::CancellationToken;

use switchyard_orchestrator::EventKind;

use crate::Service;

/// Follows the engine's events until `stop`.
pub async fn feed(service: Service, stop: CancellationToken) {
    let mut bus = service.engine().subscribe();
    while let Some((run_id, event)) =
        crate::followers::next_event(&mut bus, &stop, "the search index").await
    {
        let changes_text = matches!(
            event.kind,
            EventKind::RunCreated { .. }
                | EventKind::StepSucceeded { .. }
                | EventKind::StepFailed { .. }
                | EventKind::RunSucceeded
                | EventKind::RunFailed { .. }
                | EventKind::RunCancelled { .. }
        );
        if changes_text {
            index_run(&service, &run_id).await;
        }
    }
}

/// Rewrites run `run_id`'s document from its current state.
pub async fn index_run(service: &Service, run_id: &str) {
    match service.engine().state(run_id).await {
        Ok(state) => {
            service
                .index(&[super::documents::run(run_id, &state)])
                .await
        }
        Err(e) => tracing::warn!(run = %run_id, error = %e, "could not read a run to index it"),
    }
}
