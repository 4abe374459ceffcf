//! The orchestrator panel's data mode, and `/api/v1/datasets`: a table (CSV, JSON or JSONL)
//! is sent once and checked as it arrives — a kind per column, values that do not fit,
//! missing required values, duplicate keys, quality scores — while it is copied to this
//! process's staging directory ([`staging`]). Nothing is a dataset until the person confirms;
//! then the rows that passed go into the tiered store ([`write`]), 1,000 rows a record, and
//! the `datasets` table ([`table`]) lists the dataset with its progress.
//!
//! Checking and writing need `IngestEvents` (scope `events:ingest`) and stop when an admin
//! switches `event_ingest` off; reading needs `ReadRuns`. A dataset belongs to a project, and
//! callers see only their projects' datasets. A checked upload is its sender's alone, lives in
//! the memory of the process that checked it, and expires after [`staging::STAGING_TTL`].

pub mod staging;
pub mod table;
pub mod write;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use switchyard_auth::Permission;
use switchyard_auth::kill::Capability;
use switchyard_datasets::{Options, ProfileError, ReadError};
use switchyard_protocol::dataset::{
    CheckOptions, DatasetCheck, DatasetColumn, DatasetRows, DatasetStatus, DatasetView, Format,
    ROWS_PER_CHUNK, WriteDataset, check_name, chunk_key,
};
use tokio::io::AsyncRead;

use crate::Service;
use crate::chat::store::now_ms;
use crate::error::{ErrorKind, ServiceError, require_on};
use crate::principal::Principal;
use staging::{Staged, Tee};

/// Where uploads wait to be written, and how large one may be.
#[derive(Debug, Clone)]
pub struct DatasetSettings {
    /// This process's staging directory (emptied at start).
    pub staging_dir: PathBuf,
    /// The largest upload, in bytes (`dataset_upload_limit_bytes`).
    pub max_upload_bytes: u64,
}

/// The default largest upload: 1 GiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 1 << 30;

impl Default for DatasetSettings {
    fn default() -> Self {
        Self {
            staging_dir: std::env::temp_dir()
                .join("switchyard-staging")
                .join(uuid::Uuid::now_v7().simple().to_string()),
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
        }
    }
}

/// What is known of an upload before its bytes.
#[derive(Debug, Clone, Default)]
pub struct Upload {
    /// The file's name (its extension names the format unless `format` does).
    pub file_name: Option<String>,
    pub format: Option<Format>,
    pub options: CheckOptions,
}

/// Most datasets one listing returns.
pub const MAX_LIST: u32 = 200;
/// Most rows one read returns.
pub const MAX_ROWS: u32 = 500;
/// Rows shown as a preview, and problems listed, by a check.
const PREVIEW_ROWS: usize = 20;
const LISTED_PROBLEMS: usize = 200;

/// A filter on the datasets listed.
#[derive(Debug, Clone, Default)]
pub struct ListDatasets {
    pub project: Option<String>,
    /// Part of the name or file name (any case).
    pub text: Option<String>,
    pub limit: Option<u32>,
}

fn options_of(options: &CheckOptions) -> Options {
    Options {
        key: options.key.clone().filter(|k| !k.is_empty()),
        required: options.required.clone(),
        preview_rows: PREVIEW_ROWS,
        max_problems: LISTED_PROBLEMS,
    }
}

fn checked_options(options: &CheckOptions) -> Result<(), ServiceError> {
    let names = options.key.iter().chain(&options.required);
    if let Some(bad) = names.clone().find(|n| n.trim().is_empty() || n.len() > 256) {
        return Err(ServiceError::invalid(format!(
            "column '{bad}': expected a column's name (1 to 256 characters)"
        )));
    }
    Ok(())
}

/// A profile's refusal as the caller sees it: what is wrong, and where.
fn refusal(error: ProfileError, limit: u64, over: bool) -> ServiceError {
    if over {
        return ServiceError::new(
            ErrorKind::TooLarge,
            "too_large",
            format!(
                "the upload is over {limit} bytes (dataset_upload_limit_bytes); nothing was written"
            ),
        );
    }
    ServiceError::new(
        ErrorKind::Invalid,
        "invalid_data",
        format!("{error}; nothing was written"),
    )
}

impl Service {
    /// Reads `body` once: checks it (the preview, kinds, problems, scores) while copying it
    /// into staging, and keeps it for [`Service::write_dataset`]. A malformed, binary or empty
    /// body is 400 naming the line at fault, one over the limit 413; either keeps nothing.
    pub async fn check_upload(
        &self,
        who: &Principal,
        upload: Upload,
        body: impl AsyncRead + Unpin + Send + 'static,
    ) -> Result<DatasetCheck, ServiceError> {
        who.require(Permission::IngestEvents).await?;
        require_on(self.switches(), Capability::EventIngest).await?;
        checked_options(&upload.options)?;
        let format = match (upload.format, upload.file_name.as_deref()) {
            (Some(format), _) => format,
            (None, Some(name)) => Format::from_file_name(name).ok_or_else(|| {
                ServiceError::invalid(format!(
                    "format: the file name '{name}' does not say csv, json or jsonl; give format"
                ))
            })?,
            (None, None) => {
                return Err(ServiceError::invalid(
                    "format: give format (csv, json or jsonl) or a file_name with that extension",
                ));
            }
        };
        let id = uuid::Uuid::now_v7().simple().to_string();
        let staging = self.staging();
        let (path, file) = staging
            .create(&id)
            .map_err(|e| ServiceError::internal(&e))?;
        let limit = self.dataset_settings().max_upload_bytes;
        let options = options_of(&upload.options);
        let started = Instant::now();
        let bridge = tokio_util::io::SyncIoBridge::new(body);
        let checked = tokio::task::spawn_blocking(move || {
            let tee = Tee::new(bridge, std::io::BufWriter::new(file), limit);
            let read = tee.counter();
            let mut tee = tee;
            let profile = switchyard_datasets::profile(&mut tee, format, &options);
            let finished = match profile {
                Ok(profile) => tee
                    .finish()
                    .map(|bytes| (profile, bytes))
                    .map_err(|e| ProfileError::Read(ReadError::Io(e.to_string()))),
                Err(e) => Err(e),
            };
            finished.map_err(|e| (e, read.load(Ordering::Relaxed) > limit))
        })
        .await
        .map_err(|e| ServiceError::internal(&e))?;
        let (profile, bytes) = match checked {
            Ok(found) => found,
            Err((error, over)) => {
                staging::remove_file(&path);
                return Err(refusal(error, limit, over));
            }
        };
        let check = DatasetCheck {
            upload: id.clone(),
            file_name: upload.file_name.clone(),
            bytes,
            options: upload.options.clone(),
            profile: profile.clone(),
            took_ms: started.elapsed().as_millis() as u64,
        };
        staging.keep(Staged {
            id,
            owner: who.name.clone(),
            path,
            file_name: upload.file_name,
            format,
            bytes,
            options: upload.options,
            profile,
            at: Instant::now(),
        });
        Ok(check)
    }

    /// Checks the caller's upload `id` again with other `options` (another key column, other
    /// required columns), from the copy in staging.
    pub async fn recheck_upload(
        &self,
        who: &Principal,
        id: &str,
        options: CheckOptions,
    ) -> Result<DatasetCheck, ServiceError> {
        who.require(Permission::IngestEvents).await?;
        checked_options(&options)?;
        let staged = self
            .staging()
            .get(&who.name, id)
            .ok_or_else(|| upload_not_found(id))?;
        let started = Instant::now();
        let (path, format, profile_options) =
            (staged.path.clone(), staged.format, options_of(&options));
        let profile = tokio::task::spawn_blocking(move || {
            let file = std::fs::File::open(path)
                .map_err(|e| ProfileError::Read(ReadError::Io(e.to_string())))?;
            switchyard_datasets::profile(file, format, &profile_options)
        })
        .await
        .map_err(|e| ServiceError::internal(&e))?
        .map_err(|e| refusal(e, 0, false))?;
        let check = DatasetCheck {
            upload: staged.id.clone(),
            file_name: staged.file_name.clone(),
            bytes: staged.bytes,
            options: options.clone(),
            profile: profile.clone(),
            took_ms: started.elapsed().as_millis() as u64,
        };
        // Replaced only if it is still there (not written meanwhile).
        if self.staging().take(&who.name, id).is_some() {
            self.staging().keep(Staged {
                id: staged.id.clone(),
                owner: staged.owner.clone(),
                path: staged.path.clone(),
                file_name: staged.file_name.clone(),
                format,
                bytes: staged.bytes,
                options,
                profile,
                at: Instant::now(),
            });
        }
        Ok(check)
    }

    /// Drops the caller's upload `id` and its copy.
    pub async fn discard_upload(&self, who: &Principal, id: &str) -> Result<(), ServiceError> {
        let staged = self
            .staging()
            .take(&who.name, id)
            .ok_or_else(|| upload_not_found(id))?;
        staging::remove_file(&staged.path);
        Ok(())
    }

    /// Writes the caller's checked upload as dataset `name` of a project: recorded at once
    /// (status `writing`), its rows written in the background with progress
    /// (`rows_written`); the rows that had a problem are left out. 409 when the project has a
    /// dataset of that name (the upload stays, to write under another name).
    pub async fn write_dataset(
        &self,
        who: &Principal,
        request: WriteDataset,
    ) -> Result<DatasetView, ServiceError> {
        who.require(Permission::IngestEvents).await?;
        require_on(self.switches(), Capability::EventIngest).await?;
        check_name(&request.name).map_err(ServiceError::invalid)?;
        let project = who.project_for_new(request.project.as_deref()).await?;
        let staged = self
            .staging()
            .take(&who.name, &request.upload)
            .ok_or_else(|| upload_not_found(&request.upload))?;
        let profile = &staged.profile;
        let now = now_ms();
        let dataset = DatasetView {
            id: uuid::Uuid::now_v7().simple().to_string(),
            project,
            name: request.name.clone(),
            status: DatasetStatus::Writing,
            format: staged.format,
            file_name: staged.file_name.clone(),
            bytes: staged.bytes,
            rows: profile.rows - profile.bad_rows,
            rows_written: 0,
            rows_skipped: profile.bad_rows,
            columns: profile
                .columns
                .iter()
                .map(|c| DatasetColumn {
                    name: c.name.clone(),
                    kind: c.kind,
                    scores: c.scores,
                })
                .collect(),
            scores: profile.scores,
            key: staged.options.key.clone().filter(|k| !k.is_empty()),
            created_by: who.name.clone(),
            created_at_ms: now,
            updated_at_ms: now,
            error: None,
        };
        let target = format!("{}/{}", dataset.project, dataset.name);
        let inserted = table::insert(self.db(), &dataset, self.node_id())
            .await
            .map_err(|e| ServiceError::internal(&e));
        match inserted {
            Ok(true) => {}
            Ok(false) => {
                // Back for another name.
                let staged = Arc::unwrap_or_clone(staged);
                self.staging().keep(staged);
                let refused = ServiceError::conflict(format!(
                    "project {} already has a dataset named '{}'",
                    dataset.project, dataset.name
                ));
                return who
                    .audited(("datasets.write", &target), "", Err(refused))
                    .await;
            }
            Err(e) => {
                self.staging().keep(Arc::unwrap_or_clone(staged));
                return Err(e);
            }
        }
        who.record(
            "datasets.write",
            &target,
            &format!(
                "ok: {} rows ({} left out with problems)",
                dataset.rows, dataset.rows_skipped
            ),
        )
        .await;
        tokio::spawn(write::write_rows(self.clone(), dataset.clone(), staged));
        Ok(dataset)
    }

    /// Datasets the caller sees, newest first.
    pub async fn list_datasets(
        &self,
        who: &Principal,
        query: ListDatasets,
    ) -> Result<Vec<DatasetView>, ServiceError> {
        who.require(Permission::ReadRuns).await?;
        let limit = query.limit.unwrap_or(50);
        if !(1..=MAX_LIST).contains(&limit) {
            return Err(ServiceError::invalid(format!(
                "limit {limit} is outside 1–{MAX_LIST}"
            )));
        }
        let projects: Option<Vec<String>> = match (&query.project, who.visibility.filter()) {
            (Some(one), Some(seen)) => Some(seen.iter().filter(|p| *p == one).cloned().collect()),
            (Some(one), None) => Some(vec![one.clone()]),
            (None, seen) => seen.map(<[String]>::to_vec),
        };
        let text = query
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_lowercase);
        table::list(
            self.db(),
            projects.as_deref(),
            text.as_deref(),
            limit as i64,
        )
        .await
        .map_err(|e| ServiceError::internal(&e))
    }

    /// Dataset `id`, if the caller sees its project (else the same 404 as no such dataset).
    pub async fn dataset(&self, who: &Principal, id: &str) -> Result<DatasetView, ServiceError> {
        who.require(Permission::ReadRuns).await?;
        let found = table::get(self.db(), id)
            .await
            .map_err(|e| ServiceError::internal(&e))?;
        let what = format!("dataset {id}");
        who.see(found.as_ref().map(|d| d.project.as_str()), &what)
            .await?;
        found.ok_or_else(|| ServiceError::not_found(format!("{what} not found")))
    }

    /// Rows `offset..offset + limit` of dataset `id`, read back from the store.
    pub async fn dataset_rows(
        &self,
        who: &Principal,
        id: &str,
        offset: u64,
        limit: u32,
    ) -> Result<DatasetRows, ServiceError> {
        if !(1..=MAX_ROWS).contains(&limit) {
            return Err(ServiceError::invalid(format!(
                "limit {limit} is outside 1–{MAX_ROWS}"
            )));
        }
        let dataset = self.dataset(who, id).await?;
        let total = dataset.rows_written;
        let mut rows = Vec::new();
        let mut at = offset;
        while at < total && rows.len() < limit as usize {
            let chunk = at / ROWS_PER_CHUNK;
            let record = self
                .store()
                .get(&chunk_key(id, chunk))
                .await
                .map_err(|e| ServiceError::internal(&e))?
                .ok_or_else(|| {
                    ServiceError::internal(&format!("dataset {id}: chunk {chunk} is missing"))
                })?;
            let skip = (at % ROWS_PER_CHUNK) as usize;
            for line in record
                .value
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .skip(skip)
            {
                if rows.len() == limit as usize || at >= total {
                    break;
                }
                rows.push(serde_json::from_slice(line).map_err(|e| ServiceError::internal(&e))?);
                at += 1;
            }
            // A chunk shorter than it should be cannot loop forever.
            if at < (chunk + 1) * ROWS_PER_CHUNK && rows.len() < limit as usize && at < total {
                return Err(ServiceError::internal(&format!(
                    "dataset {id}: chunk {chunk} is short"
                )));
            }
        }
        Ok(DatasetRows {
            offset,
            total,
            rows,
        })
    }

    /// Deletes dataset `id`: its rows from the store, then its listing. A dataset still
    /// being written is 409.
    pub async fn delete_dataset(&self, who: &Principal, id: &str) -> Result<(), ServiceError> {
        who.require(Permission::IngestEvents).await?;
        let dataset = self.dataset(who, id).await?;
        let target = format!("{}/{}", dataset.project, dataset.name);
        if dataset.status == DatasetStatus::Writing {
            let refused =
                ServiceError::conflict(format!("dataset {target} is still being written"));
            return who
                .audited(("datasets.delete", &target), "", Err(refused))
                .await;
        }
        let outcome = async {
            self.unindex(&format!("dataset:{id}")).await;
            write::remove_rows(self.store(), id).await?;
            table::delete(self.db(), id)
                .await
                .map_err(|e| ServiceError::internal(&e))
        }
        .await;
        who.audited(("datasets.delete", &target), "ok", outcome)
            .await
    }
}

fn upload_not_found(id: &str) -> ServiceError {
    ServiceError::not_found(format!(
        "upload {id} not found (written, discarded, expired after an hour, or checked by another server)"
    ))
}
