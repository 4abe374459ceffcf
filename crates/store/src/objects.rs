//! Opening the object store that holds L3 and L4: a local directory (the default) or any
//! S3-compatible service, and probing that it can really be written and read.

use std::sync::Arc;
use std::time::Duration;

use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};

use crate::l3::{L3Error, Objects};

/// How long one request to a remote object store may take, and how long to keep retrying it:
/// short enough that a dead service degrades the store in seconds rather than hanging reads.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const RETRY_FOR: Duration = Duration::from_secs(5);

impl Objects {
    /// A local directory (created if missing), checked by writing a file into it.
    pub fn local(dir: &std::path::Path) -> Result<Self, L3Error> {
        let unusable = |reason: String| L3Error::Unusable {
            dir: dir.display().to_string(),
            reason,
        };
        std::fs::create_dir_all(dir).map_err(|e| unusable(e.to_string()))?;
        // Creating a directory can succeed where writing in it cannot (read-only mounts,
        // /proc): probe with a real file.
        let probe = dir.join(".switchyard-write-check");
        std::fs::write(&probe, b"ok").map_err(|e| unusable(format!("not writable: {e}")))?;
        let _ = std::fs::remove_file(&probe);
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| unusable(e.to_string()))?;
        Ok(Self::new(Arc::new(fs)).named(&dir.display().to_string()))
    }

    /// The store a URL names: `s3://bucket[/prefix]` (credentials, region and endpoint from
    /// the standard `AWS_*` variables, e.g. `AWS_ENDPOINT` for MinIO or another
    /// S3-compatible service), or `file:///absolute/dir`. Nothing is contacted yet: call
    /// [`Objects::probe`].
    pub fn open(url: &str) -> Result<Self, L3Error> {
        Self::open_with(url, &[])
    }

    /// [`Objects::open`] with S3 settings given here rather than in the environment, as
    /// `object_store` names them (`aws_endpoint`, `aws_access_key_id`, `aws_region`,
    /// `aws_allow_http`, …); they win over the environment.
    pub fn open_with(url: &str, settings: &[(&str, &str)]) -> Result<Self, L3Error> {
        let unusable = |reason: String| L3Error::Unusable {
            dir: url.to_owned(),
            reason,
        };
        let parsed = url::Url::parse(url).map_err(|e| unusable(format!("not a URL: {e}")))?;
        match parsed.scheme() {
            "file" => {
                let dir = parsed
                    .to_file_path()
                    .map_err(|()| unusable("expected file:///absolute/path".into()))?;
                Self::local(&dir)
            }
            "s3" | "s3a" => {
                let bucket = parsed.host_str().unwrap_or_default();
                if bucket.is_empty() {
                    return Err(unusable("expected s3://bucket[/prefix]".into()));
                }
                // Client options first: setting them replaces all of them, including
                // `allow_http` given as a setting.
                let mut builder = object_store::aws::AmazonS3Builder::new()
                    .with_client_options(
                        object_store::ClientOptions::new()
                            .with_connect_timeout(CONNECT_TIMEOUT)
                            .with_timeout(REQUEST_TIMEOUT),
                    )
                    .with_retry(object_store::RetryConfig {
                        backoff: object_store::BackoffConfig::default(),
                        max_retries: 3,
                        retry_timeout: RETRY_FOR,
                    });
                // The environment's AWS_* variables (other tools' ones are passed over), then
                // the explicit settings (a misspelt one is an error).
                let from_env = std::env::vars()
                    .filter(|(name, _)| name.starts_with("AWS_"))
                    .map(|(name, value)| (name.to_ascii_lowercase(), value, false));
                let given = settings
                    .iter()
                    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned(), true));
                let mut plain_http = false;
                for (name, value, explicit) in from_env.chain(given) {
                    let key = match name.parse::<object_store::aws::AmazonS3ConfigKey>() {
                        Ok(key) => key,
                        Err(_) if !explicit => continue,
                        Err(e) => return Err(unusable(e.to_string())),
                    };
                    plain_http |= name.starts_with("aws_endpoint") && value.starts_with("http://");
                    builder = builder.with_config(key, value);
                }
                builder = builder.with_url(url);
                if plain_http {
                    builder = builder.with_allow_http(true);
                }
                let s3 = builder.build().map_err(|e| unusable(e.to_string()))?;
                let prefix = parsed.path().trim_matches('/');
                let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
                    Arc::new(s3)
                } else {
                    Arc::new(object_store::prefix::PrefixStore::new(s3, prefix))
                };
                Ok(Self::new(store).named(url))
            }
            other => Err(unusable(format!(
                "unsupported scheme '{other}': expected s3:// or file://"
            ))),
        }
    }

    /// Writes, reads back and deletes a small object: whether the store works now.
    pub async fn probe(&self) -> Result<(), L3Error> {
        let location = Path::from(format!(
            ".switchyard-probe/{}",
            uuid::Uuid::now_v7().simple()
        ));
        let payload = b"switchyard probe";
        self.store()
            .put(&location, PutPayload::from_static(payload))
            .await?;
        let back = self.store().get(&location).await?.bytes().await?;
        self.store().delete(&location).await?;
        if back.as_ref() != payload {
            return Err(L3Error::Unusable {
                dir: self.name().to_owned(),
                reason: "an object read back differs from what was written".into(),
            });
        }
        Ok(())
    }
}
