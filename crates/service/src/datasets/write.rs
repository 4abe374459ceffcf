//! Writing a confirmed upload into the tiered store: the rows that passed, 1,000 to a record
//! (JSON lines) under `datasets/{id}/rows/{chunk}`, several records per transaction, the
//! dataset's `rows_written` updated after each. A failure removes what was written and marks
//! the dataset failed with the reason; the staged copy is removed either way.

use std::sync::Arc;

use switchyard_datasets::passing_rows;
use switchyard_protocol::dataset::{DatasetView, ROWS_PER_CHUNK, chunk_key};
use switchyard_store::Store;

use super::staging::{self, Staged};
use super::table;
use crate::Service;
use crate::error::ServiceError;

/// Records per store transaction.
const CHUNKS_PER_BATCH: usize = 8;

/// Writes `staged`'s passing rows as `dataset`, then records how it ended.
pub async fn write_rows(service: Service, dataset: DatasetView, staged: Arc<Staged>) {
    let outcome = write(&service, &dataset, &staged).await;
    staging::remove_file(&staged.path);
    let (written, error) = match outcome {
        Ok(written) if written == dataset.rows => (written, None),
        Ok(written) => (
            written,
            Some(format!(
                "wrote {written} rows where the check counted {}",
                dataset.rows
            )),
        ),
        Err(e) => (0, Some(e)),
    };
    if let Some(error) = &error {
        tracing::warn!(dataset = %dataset.id, %error, "dataset not written");
        if let Err(e) = remove_rows(service.store(), &dataset.id).await {
            tracing::warn!(dataset = %dataset.id, error = %e, "could not remove a failed dataset's rows");
        }
    }
    let written = if error.is_some() { 0 } else { written };
    if let Err(e) = table::finish(service.db(), &dataset.id, written, error.as_deref()).await {
        tracing::error!(dataset = %dataset.id, error = %e, "could not record a dataset's end");
    }
    if error.is_none() {
        let ready = DatasetView {
            rows_written: written,
            ..dataset.clone()
        };
        service
            .index(&[crate::query::documents::dataset(&ready)])
            .await;
    }
}

/// The pass over the staged copy (on a blocking thread) feeding the store (here); the rows
/// written.
async fn write(service: &Service, dataset: &DatasetView, staged: &Staged) -> Result<u64, String> {
    let (chunks, mut incoming) = tokio::sync::mpsc::channel::<Vec<u8>>(CHUNKS_PER_BATCH * 2);
    let (path, format, profile) = (staged.path.clone(), staged.format, staged.profile.clone());
    let options = super::options_of(&staged.options);
    let reader = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path).map_err(|e| e.to_string())?;
        let file = std::io::BufReader::with_capacity(256 * 1024, file);
        passing_rows(
            file,
            format,
            &profile,
            &options,
            ROWS_PER_CHUNK as usize,
            |rows| {
                let mut lines = Vec::with_capacity(rows.len() * 64);
                for row in rows {
                    serde_json::to_writer(&mut lines, &row).expect("a JSON map serializes");
                    lines.push(b'\n');
                }
                chunks.blocking_send(lines).is_ok()
            },
        )
        .map(|passed| passed.rows)
        .map_err(|e| e.to_string())
    });
    let mut next_chunk: u64 = 0;
    let mut written: u64 = 0;
    let mut batch: Vec<Vec<u8>> = Vec::with_capacity(CHUNKS_PER_BATCH);
    loop {
        let more = incoming.recv().await;
        let done = more.is_none();
        if let Some(chunk) = more {
            batch.push(chunk);
            // Take what else is already waiting, up to a batch.
            while batch.len() < CHUNKS_PER_BATCH {
                match incoming.try_recv() {
                    Ok(chunk) => batch.push(chunk),
                    Err(_) => break,
                }
            }
        }
        if !batch.is_empty() {
            let keys: Vec<String> = (0..batch.len() as u64)
                .map(|i| chunk_key(&dataset.id, next_chunk + i))
                .collect();
            let records: Vec<(&str, &[u8])> = keys
                .iter()
                .map(String::as_str)
                .zip(batch.iter().map(Vec::as_slice))
                .collect();
            service
                .store()
                .put_batch(&records)
                .await
                .map_err(|e| format!("the store refused the rows: {e}"))?;
            written += batch
                .iter()
                .map(|c| c.iter().filter(|b| **b == b'\n').count() as u64)
                .sum::<u64>();
            next_chunk += batch.len() as u64;
            batch.clear();
            table::progress(service.db(), &dataset.id, written)
                .await
                .map_err(|e| format!("could not record progress: {e}"))?;
        }
        if done {
            break;
        }
    }
    let passed = reader
        .await
        .map_err(|e| format!("the reader stopped: {e}"))??;
    if passed != written {
        return Err(format!("read {passed} rows but wrote {written}"));
    }
    Ok(written)
}

/// Removes every row record of dataset `id` (its chunks are numbered from 0 without gaps).
pub async fn remove_rows(store: &Store, id: &str) -> Result<(), ServiceError> {
    let mut chunk = 0;
    while store
        .delete(&chunk_key(id, chunk))
        .await
        .map_err(|e| ServiceError::internal(&e))?
    {
        chunk += 1;
    }
    Ok(())
}

/// At start, before the service takes any request: the datasets this node was writing when
/// it stopped are marked failed (their staged copies went with the process); their ids, whose
/// rows [`remove_unfinished`] then removes in the background.
pub async fn fail_unfinished(db: &switchyard_db::Database, node: &str) -> Vec<String> {
    table::fail_unfinished(db, node).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "could not fail unfinished datasets");
        Vec::new()
    })
}

/// Removes the rows of the datasets [`fail_unfinished`] failed.
pub async fn remove_unfinished(store: Store, ids: Vec<String>) {
    for id in ids {
        if let Err(e) = remove_rows(&store, &id).await {
            tracing::warn!(dataset = %id, error = %e, "could not remove an unfinished dataset's rows");
        }
    }
}
