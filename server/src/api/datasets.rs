//! `/api/v1/datasets`: tables sent, checked and written into the tiered store — the panel's
//! data mode over HTTP. `POST /datasets/check` streams the body (never held whole in memory)
//! through the check while it is staged; `POST /datasets` writes a checked upload. The rules
//! live in [`switchyard_service::datasets`].

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use futures_util::TryStreamExt;
use serde::Deserialize;
use switchyard_protocol::dataset::{
    CheckOptions, DatasetCheck, DatasetList, DatasetRows, DatasetView, Format, WriteDataset,
};
use switchyard_service::Service;
use switchyard_service::datasets::{ListDatasets, Upload};

use crate::api::error::ApiError;
use crate::api::json::ApiJson;
use crate::api::principal::Caller;
use crate::api::query::ApiQuery;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckQuery {
    /// `csv`, `json` (an array of objects) or `jsonl`; default: from `file_name`'s extension.
    #[param(value_type = Option<Format>)]
    pub format: Option<String>,
    /// The file's name, kept with the dataset (1 to 255 characters).
    pub file_name: Option<String>,
    /// A column whose values must be present and unique.
    pub key: Option<String>,
    /// Columns whose values must be present, separated by commas.
    pub required: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only datasets of this project (an empty list for a project the caller does not see).
    pub project: Option<String>,
    /// Only datasets whose name or file name contains this text (any case).
    pub q: Option<String>,
    /// 1–200 (default 50); outside that range is 400.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RowsQuery {
    /// The first row (0-based; default 0).
    #[param(value_type = Option<i64>, minimum = 0)]
    pub offset: Option<u64>,
    /// 1–500 (default 100); outside that range is 400.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

#[utoipa::path(post, path = "/api/v1/datasets/check", tag = "datasets",
    params(CheckQuery),
    request_body(description = "The table: CSV with a header row, a JSON array of objects, or JSON lines. Streamed: it may be far larger than the API's other bodies (`dataset_upload_limit_bytes`, 1 GiB by default)",
        content(("text/csv"), ("application/json"), ("application/x-ndjson"), ("text/plain"), ("application/octet-stream"))),
    responses(
        (status = 200, description = "Checked and staged (not yet a dataset): a preview, a kind per column, the problems and scores; `upload` names it to write", body = DatasetCheck),
        (status = 400, description = "Empty, binary, not UTF-8, malformed (the line is named), an unknown key or required column, or no format", body = crate::api::error::ErrorBody),
        (status = 413, description = "Over `dataset_upload_limit_bytes`; nothing kept", body = crate::api::error::ErrorBody),
        (status = 503, description = "An admin switched event ingest off", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals
    ))]
pub async fn check(
    Caller(who): Caller,
    State(service): State<Service>,
    ApiQuery(query): ApiQuery<CheckQuery>,
    request: Request,
) -> Result<Json<DatasetCheck>, ApiError> {
    let format = query
        .format
        .as_deref()
        .map(Format::parse)
        .transpose()
        .map_err(ApiError::bad_request)?;
    if let Some(name) = &query.file_name
        && (name.is_empty() || name.chars().count() > 255 || name.chars().any(char::is_control))
    {
        return Err(ApiError::bad_request(
            "file_name: expected 1 to 255 characters, no control characters",
        ));
    }
    let required = query
        .required
        .as_deref()
        .map(|r| {
            r.split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let upload = Upload {
        file_name: query.file_name,
        format,
        options: CheckOptions {
            key: query.key.filter(|k| !k.trim().is_empty()),
            required,
        },
    };
    let body = request
        .into_body()
        .into_data_stream()
        .map_err(std::io::Error::other);
    let reader = tokio_util::io::StreamReader::new(body);
    Ok(Json(service.check_upload(&who, upload, reader).await?))
}

#[utoipa::path(post, path = "/api/v1/datasets/check/{upload}", tag = "datasets",
    params(("upload" = String, Path, description = "The `upload` of a check")),
    request_body = CheckOptions,
    responses(
        (status = 200, description = "The same upload checked with these options", body = DatasetCheck),
        (status = 400, description = "An unknown key or required column", body = crate::api::error::ErrorBody),
        (status = 404, description = "No such upload of the caller's (written, discarded or expired)", body = crate::api::error::ErrorBody),
        crate::api::error::BodyRefusals,
        crate::api::error::Refusals
    ))]
pub async fn recheck(
    Caller(who): Caller,
    State(service): State<Service>,
    Path(upload): Path<String>,
    ApiJson(options): ApiJson<CheckOptions>,
) -> Result<Json<DatasetCheck>, ApiError> {
    Ok(Json(service.recheck_upload(&who, &upload, options).await?))
}

#[utoipa::path(delete, path = "/api/v1/datasets/check/{upload}", tag = "datasets",
    params(("upload" = String, Path, description = "The `upload` of a check")),
    responses(
        (status = 204, description = "Discarded: the staged copy is gone"),
        (status = 404, description = "No such upload of the caller's", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals
    ))]
pub async fn discard(
    Caller(who): Caller,
    State(service): State<Service>,
    Path(upload): Path<String>,
) -> Result<StatusCode, ApiError> {
    service.discard_upload(&who, &upload).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/datasets", tag = "datasets",
    request_body = WriteDataset,
    responses(
        (status = 202, description = "Recorded and being written: follow `rows_written` with `GET /api/v1/datasets/{id}`; the rows with problems are left out", body = DatasetView),
        (status = 400, description = "A bad name", body = crate::api::error::ErrorBody),
        (status = 404, description = "No such upload of the caller's, or a project the caller is not a member of", body = crate::api::error::ErrorBody),
        (status = 409, description = "The project has a dataset of that name (the upload is kept)", body = crate::api::error::ErrorBody),
        (status = 503, description = "An admin switched event ingest off", body = crate::api::error::ErrorBody),
        crate::api::error::BodyRefusals,
        crate::api::error::Refusals
    ))]
pub async fn write(
    Caller(who): Caller,
    State(service): State<Service>,
    ApiJson(request): ApiJson<WriteDataset>,
) -> Result<(StatusCode, Json<DatasetView>), ApiError> {
    let dataset = service.write_dataset(&who, request).await?;
    Ok((StatusCode::ACCEPTED, Json(dataset)))
}

#[utoipa::path(get, path = "/api/v1/datasets", tag = "datasets",
    params(ListQuery),
    responses(
        (status = 200, description = "Datasets the caller sees, newest first", body = DatasetList),
        (status = 400, description = "A limit outside 1–200", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals
    ))]
pub async fn list(
    Caller(who): Caller,
    State(service): State<Service>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<DatasetList>, ApiError> {
    let datasets = service
        .list_datasets(
            &who,
            ListDatasets {
                project: query.project,
                text: query.q,
                limit: query.limit,
            },
        )
        .await?;
    Ok(Json(DatasetList { datasets }))
}

#[utoipa::path(get, path = "/api/v1/datasets/{id}", tag = "datasets",
    params(("id" = String, Path, description = "Dataset id")),
    responses(
        (status = 200, description = "The dataset, with its writing's progress", body = DatasetView),
        (status = 404, description = "No such dataset", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals
    ))]
pub async fn get(
    Caller(who): Caller,
    State(service): State<Service>,
    Path(id): Path<String>,
) -> Result<Json<DatasetView>, ApiError> {
    Ok(Json(service.dataset(&who, &id).await?))
}

#[utoipa::path(get, path = "/api/v1/datasets/{id}/rows", tag = "datasets",
    params(("id" = String, Path, description = "Dataset id"), RowsQuery),
    responses(
        (status = 200, description = "Rows read back from the store, each value typed by its column's kind", body = DatasetRows),
        (status = 400, description = "A limit outside 1–500", body = crate::api::error::ErrorBody),
        (status = 404, description = "No such dataset", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals
    ))]
pub async fn rows(
    Caller(who): Caller,
    State(service): State<Service>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<RowsQuery>,
) -> Result<Json<DatasetRows>, ApiError> {
    let rows = service
        .dataset_rows(
            &who,
            &id,
            query.offset.unwrap_or(0),
            query.limit.unwrap_or(100),
        )
        .await?;
    Ok(Json(rows))
}

#[utoipa::path(delete, path = "/api/v1/datasets/{id}", tag = "datasets",
    params(("id" = String, Path, description = "Dataset id")),
    responses(
        (status = 204, description = "Deleted: its rows are gone from every tier"),
        (status = 404, description = "No such dataset", body = crate::api::error::ErrorBody),
        (status = 409, description = "Still being written", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals
    ))]
pub async fn delete(
    Caller(who): Caller,
    State(service): State<Service>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    service.delete_dataset(&who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
