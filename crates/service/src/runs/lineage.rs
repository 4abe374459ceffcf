//! Which run is a rerun of which: kept in the tiered store both ways, so a run's page links to
//! the run it repeats and to its reruns.
//!
//! `lineage/NEW/rerun_of` holds the original's id; `lineage/OLD/reruns/NEW` marks each rerun.

use switchyard_store::Store;

use crate::error::ServiceError;

const PREFIX: &str = "lineage/";
/// Most reruns a run's page lists.
pub const MAX_LISTED: u32 = 50;

/// Records that run `new` repeats run `old`.
pub async fn keep(store: &Store, new: &str, old: &str) -> Result<(), ServiceError> {
    let forward = format!("{PREFIX}{new}/rerun_of");
    let back = format!("{PREFIX}{old}/reruns/{new}");
    store
        .put_batch(&[(forward.as_str(), old.as_bytes()), (back.as_str(), b"")])
        .await
        .map_err(|e| ServiceError::internal(&e))?;
    Ok(())
}

/// The run that run `id` repeats, and the runs that repeat it (oldest first).
pub async fn read(store: &Store, id: &str) -> Result<(Option<String>, Vec<String>), ServiceError> {
    let internal = |e: switchyard_store::StoreError| ServiceError::internal(&e);
    let of = store
        .get(&format!("{PREFIX}{id}/rerun_of"))
        .await
        .map_err(internal)?
        .map(|r| String::from_utf8_lossy(&r.value).into_owned());
    let prefix = format!("{PREFIX}{id}/reruns/");
    let reruns = store
        .scan(&prefix, MAX_LISTED)
        .await
        .map_err(internal)?
        .iter()
        .filter_map(|r| r.key.strip_prefix(&prefix).map(str::to_owned))
        .collect();
    Ok((of, reruns))
}
