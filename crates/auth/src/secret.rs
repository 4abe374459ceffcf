//! The token signing secret: from configuration (at least 32 bytes, or start-up stops), or
//! else generated on first start into the data dir (`jwt.secret`, readable by the owner
//! only) and read from there afterwards, so tokens survive restarts and every process on
//! the same data dir agrees.

use std::path::Path;

use crate::token::MIN_SECRET_BYTES;

/// The file inside the data dir.
pub const FILE: &str = "jwt.secret";

/// The configured secret if there is one, else the data dir's, generated if missing. The
/// error is one line naming what is wrong.
pub fn load_or_generate(configured: Option<&str>, data_dir: &Path) -> Result<Vec<u8>, String> {
    if let Some(secret) = configured {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "invalid jwt_secret '***': must be at least {MIN_SECRET_BYTES} bytes, got {}",
                secret.len()
            ));
        }
        return Ok(secret.as_bytes().to_vec());
    }
    let path = data_dir.join(FILE);
    match std::fs::read(&path) {
        Ok(bytes) if bytes.len() >= MIN_SECRET_BYTES => return Ok(bytes),
        Ok(bytes) => {
            return Err(format!(
                "{} holds {} bytes; a signing secret needs at least {MIN_SECRET_BYTES} \
                 (delete it to have a new one generated)",
                path.display(),
                bytes.len()
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    }
    let secret = crate::random::token(48).into_bytes();
    write_private(&path, &secret).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    tracing::info!(path = %path.display(), "generated the token signing secret");
    Ok(secret)
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_generated_once_kept_private_and_a_short_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_generate(None, dir.path()).unwrap();
        assert!(first.len() >= MIN_SECRET_BYTES);
        assert_eq!(load_or_generate(None, dir.path()).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let err = load_or_generate(Some("too short"), dir.path()).unwrap_err();
        assert!(
            err.contains("at least 32 bytes, got 9") && !err.contains("too short"),
            "{err}"
        );
        let configured = "x".repeat(32);
        assert_eq!(
            load_or_generate(Some(&configured), dir.path()).unwrap(),
            configured.as_bytes()
        );
    }
}
