//! Runs indexed as they change: the engine's events (a run created, a step's output or error,
//! the run's end) rewrite the run's document from its state.

use tokio_util::sync::CancellationToken;

use switchyard_orchestrator::EventKind;

use crate::Service;

/// Runs and datasets recorded before the index existed (or while it could not be written),
/// indexed once at start, oldest first, a batch at a time.
pub async fn backfill(service: Service) {
    const RUNS: &str = "SELECT id FROM runs WHERE NOT EXISTS (SELECT 1 FROM search_documents s \
                        WHERE s.key = 'run:' || runs.id) ORDER BY id LIMIT 500";
    const DATASETS: &str = "SELECT id FROM datasets WHERE status = 'ready' AND NOT EXISTS \
                            (SELECT 1 FROM search_documents s WHERE s.key = 'dataset:' || \
                            datasets.id) LIMIT 500";
    let db = service.db();
    let mut indexed = 0usize;
    loop {
        let ids: Result<Vec<(String,)>, sqlx::Error> = switchyard_db::on_pool!(db, pool => {
            sqlx::query_as(RUNS).fetch_all(pool).await
        });
        let ids = match ids {
            Ok(ids) if !ids.is_empty() => ids,
            Ok(_) => break,
            Err(e) => {
                tracing::warn!(error = %e, "could not list the runs to index");
                return;
            }
        };
        let mut documents = Vec::with_capacity(ids.len());
        for (id,) in &ids {
            match service.engine().state(id).await {
                Ok(state) => documents.push(super::documents::run(id, &state)),
                Err(e) => {
                    tracing::warn!(run = %id, error = %e, "could not read a run to index it");
                    return;
                }
            }
        }
        if let Err(e) = super::index::put(db, &documents).await {
            tracing::warn!(error = %e, "could not index runs");
            return;
        }
        indexed += documents.len();
    }
    let datasets: Result<Vec<(String,)>, sqlx::Error> = switchyard_db::on_pool!(db, pool => {
        sqlx::query_as(DATASETS).fetch_all(pool).await
    });
    for (id,) in datasets.unwrap_or_default() {
        if let Ok(Some(dataset)) = crate::datasets::table::get(db, &id).await {
            service.index(&[super::documents::dataset(&dataset)]).await;
            indexed += 1;
        }
    }
    if indexed > 0 {
        tracing::info!(
            indexed,
            "indexed runs and datasets recorded before the search index"
        );
    }
}

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
