//! Uploads checked but not yet written: each is a file in this process's staging directory
//! (`<data_dir>/staging/<node>/`), kept with its check until the person writes it, discards
//! it, or it expires ([`STAGING_TTL`]). Nothing here is a dataset; a staged file is never
//! read by anyone but the caller who sent it.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use switchyard_protocol::dataset::{CheckOptions, Format, Profile};

/// How long a checked upload waits for its write.
pub const STAGING_TTL: Duration = Duration::from_secs(3600);

/// One checked upload.
#[derive(Debug, Clone)]
pub struct Staged {
    pub id: String,
    /// The caller who sent it ([`crate::Principal::name`]); nobody else may use it.
    pub owner: String,
    pub path: PathBuf,
    pub file_name: Option<String>,
    pub format: Format,
    pub bytes: u64,
    pub options: CheckOptions,
    pub profile: Profile,
    pub at: Instant,
}

/// This process's staged uploads.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    uploads: Mutex<HashMap<String, Arc<Staged>>>,
}

impl Staging {
    /// Staging under `dir`, emptied first: uploads an earlier process checked cannot be written
    /// by this one (their checks lived in its memory).
    pub fn new(dir: PathBuf) -> Self {
        if dir.exists()
            && let Err(e) = std::fs::remove_dir_all(&dir)
        {
            tracing::warn!(dir = %dir.display(), error = %e, "could not empty the staging directory");
        }
        Self {
            dir,
            uploads: Mutex::new(HashMap::new()),
        }
    }

    /// A new file for upload `id`.
    pub fn create(&self, id: &str) -> std::io::Result<(PathBuf, std::fs::File)> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.dir.join(id);
        let file = std::fs::File::create(&path)?;
        Ok((path, file))
    }

    /// Keeps `staged`, and drops what expired.
    pub fn keep(&self, staged: Staged) {
        let expired: Vec<Arc<Staged>> = {
            let mut uploads = self.uploads.lock().expect("staging lock");
            let old: Vec<String> = uploads
                .iter()
                .filter(|(_, s)| s.at.elapsed() > STAGING_TTL)
                .map(|(id, _)| id.clone())
                .collect();
            let expired = old.iter().filter_map(|id| uploads.remove(id)).collect();
            uploads.insert(staged.id.clone(), Arc::new(staged));
            expired
        };
        for staged in expired {
            remove_file(&staged.path);
        }
    }

    /// `owner`'s upload `id`, if it is still kept.
    pub fn get(&self, owner: &str, id: &str) -> Option<Arc<Staged>> {
        let uploads = self.uploads.lock().expect("staging lock");
        uploads
            .get(id)
            .filter(|s| s.owner == owner && s.at.elapsed() <= STAGING_TTL)
            .cloned()
    }

    /// Takes `owner`'s upload `id` out (to write it, or to replace its check); the file stays.
    pub fn take(&self, owner: &str, id: &str) -> Option<Arc<Staged>> {
        let mut uploads = self.uploads.lock().expect("staging lock");
        let mine = uploads
            .get(id)
            .is_some_and(|s| s.owner == owner && s.at.elapsed() <= STAGING_TTL);
        mine.then(|| uploads.remove(id)).flatten()
    }

    /// How many uploads are kept (for tests and health).
    pub fn len(&self) -> usize {
        self.uploads.lock().expect("staging lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Files in the staging directory (for tests: a refused upload leaves none).
    pub fn files(&self) -> usize {
        std::fs::read_dir(&self.dir).map_or(0, |entries| entries.count())
    }
}

/// Removes a staged file; a failure is logged (the next start empties the directory).
pub fn remove_file(path: &Path) {
    if let Err(e) = std::fs::remove_file(path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), error = %e, "could not remove a staged upload");
    }
}

/// Reads `inner` and copies every byte read into `copy`, counting them; past `limit` bytes
/// reading fails (and [`Tee::over_limit`] says why).
pub struct Tee<R, W> {
    inner: R,
    copy: W,
    limit: u64,
    read: Arc<AtomicU64>,
}

impl<R: Read, W: Write> Tee<R, W> {
    pub fn new(inner: R, copy: W, limit: u64) -> Self {
        Self {
            inner,
            copy,
            limit,
            read: Arc::default(),
        }
    }

    /// Bytes read so far (shared: it can be read after the reader moved).
    pub fn counter(&self) -> Arc<AtomicU64> {
        self.read.clone()
    }

    /// Reads what is left, copying it; the count, or the error that stopped it.
    pub fn finish(mut self) -> std::io::Result<u64> {
        std::io::copy(&mut self, &mut std::io::sink())?;
        self.copy.flush()?;
        Ok(self.read.load(Ordering::Relaxed))
    }
}

/// The error a read past the limit fails with.
pub const OVER_LIMIT: &str = "the upload is over the limit";

impl<R: Read, W: Write> Read for Tee<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let total = self.read.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if total > self.limit {
            return Err(std::io::Error::other(OVER_LIMIT));
        }
        self.copy.write_all(&buf[..n])?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tee_copies_what_it_reads_and_stops_past_its_limit() {
        let mut copy = Vec::new();
        let tee = Tee::new(&b"hello world"[..], &mut copy, 100);
        assert_eq!(tee.finish().unwrap(), 11);
        assert_eq!(copy, b"hello world");

        let mut over = Tee::new(&b"hello world"[..], std::io::sink(), 5);
        let mut out = Vec::new();
        let error = over.read_to_end(&mut out).unwrap_err();
        assert_eq!(error.to_string(), OVER_LIMIT);
    }

    #[test]
    fn uploads_are_only_their_owners() {
        let dir = tempfile::tempdir().unwrap();
        let staging = Staging::new(dir.path().join("staging"));
        let (path, _) = staging.create("u1").unwrap();
        staging.keep(Staged {
            id: "u1".into(),
            owner: "ann".into(),
            path,
            file_name: None,
            format: Format::Csv,
            bytes: 0,
            options: CheckOptions::default(),
            profile: Profile {
                format: Format::Csv,
                rows: 0,
                columns: vec![],
                preview: vec![],
                problems: vec![],
                problem_count: 0,
                bad_rows: 0,
                scores: switchyard_protocol::dataset::Scores {
                    completeness: 1.0,
                    validity: 1.0,
                    uniqueness: 1.0,
                },
            },
            at: Instant::now(),
        });
        assert!(staging.get("bob", "u1").is_none());
        assert!(staging.take("bob", "u1").is_none());
        assert!(staging.get("ann", "u1").is_some());
        assert!(staging.take("ann", "u1").is_some());
        assert!(staging.is_empty());
        assert_eq!(
            staging.files(),
            1,
            "the file stays until it is written or discarded"
        );
    }
}
