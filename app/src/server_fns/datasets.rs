//! The panel's data mode and the Datasets page: datasets the caller sees, one with its
//! progress and rows, checking a staged upload again with another key, writing and
//! discarding it. (Sending the file itself is a streamed `POST /api/v1/datasets/check`.)

use leptos::prelude::*;
use switchyard_protocol::dataset::{DatasetCheck, DatasetRows, DatasetView};

/// Datasets the caller sees whose name or file name contains `text`, newest first.
#[server(prefix = "/api/fn", endpoint = "datasets")]
pub async fn datasets(text: String) -> Result<Vec<DatasetView>, ServerFnError> {
    use super::access::{refused, service_and_caller};
    use switchyard_service::datasets::ListDatasets;
    let (service, who) = service_and_caller("datasets.list")?;
    let query = ListDatasets {
        text: Some(text),
        limit: Some(100),
        ..ListDatasets::default()
    };
    service.list_datasets(&who, query).await.map_err(refused)
}

/// Dataset `id`, with its writing's progress.
#[server(prefix = "/api/fn", endpoint = "dataset")]
pub async fn dataset(id: String) -> Result<DatasetView, ServerFnError> {
    use super::access::{refused, service_and_caller};
    let (service, who) = service_and_caller("datasets.get")?;
    service.dataset(&who, &id).await.map_err(refused)
}

/// Rows `offset..offset + 50` of dataset `id`, read back from the store.
#[server(prefix = "/api/fn", endpoint = "read_dataset_rows")]
pub async fn read_dataset_rows(id: String, offset: u64) -> Result<DatasetRows, ServerFnError> {
    use super::access::{refused, service_and_caller};
    let (service, who) = service_and_caller("datasets.rows")?;
    service
        .dataset_rows(&who, &id, offset, ROWS_PER_PAGE)
        .await
        .map_err(refused)
}

/// Rows a page of the dataset page shows.
pub const ROWS_PER_PAGE: u32 = 50;

/// Checks the caller's staged upload again with key column `key` (empty: none).
#[server(prefix = "/api/fn", endpoint = "recheck_upload")]
pub async fn recheck_upload(upload: String, key: String) -> Result<DatasetCheck, ServerFnError> {
    use super::access::{refused, service_and_caller};
    use switchyard_protocol::dataset::CheckOptions;
    let (service, who) = service_and_caller("datasets.check")?;
    let options = CheckOptions {
        key: Some(key).filter(|k| !k.is_empty()),
        required: Vec::new(),
    };
    service
        .recheck_upload(&who, &upload, options)
        .await
        .map_err(refused)
}

/// Writes the caller's staged upload as dataset `name`.
#[server(prefix = "/api/fn", endpoint = "write_dataset")]
pub async fn write_dataset(upload: String, name: String) -> Result<DatasetView, ServerFnError> {
    use super::access::{refused, service_and_caller};
    use switchyard_protocol::dataset::WriteDataset;
    let (service, who) = service_and_caller("datasets.write")?;
    let request = WriteDataset {
        upload,
        name: name.trim().to_owned(),
        project: None,
    };
    service.write_dataset(&who, request).await.map_err(refused)
}

/// Drops the caller's staged upload.
#[server(prefix = "/api/fn", endpoint = "discard_upload")]
pub async fn discard_upload(upload: String) -> Result<(), ServerFnError> {
    use super::access::{refused, service_and_caller};
    let (service, who) = service_and_caller("datasets.discard")?;
    service.discard_upload(&who, &upload).await.map_err(refused)
}
