//! Preparing the data dir and database, undoing what was created if a later step fails.
//!
//! A failed start must leave the disk as it found it: an operator who mistyped a Postgres URL
//! should not find an empty `./data` behind them. [`Created`] records each path this process
//! made, and [`Created::undo`] removes them, newest first.

use std::path::{Path, PathBuf};

use switchyard_db::{ConnectOptions, Database, DatabaseUrl, migrate};

use crate::config::Config;

/// Paths this start-up created, in creation order.
#[derive(Debug, Default)]
#[must_use = "call keep() on success or undo() on failure"]
pub struct Created {
    paths: Vec<PathBuf>,
}

impl Created {
    /// Removes everything recorded, newest first. Best effort: the error being reported is the
    /// one that matters.
    pub fn undo(self) {
        for path in self.paths.into_iter().rev() {
            let result = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            if let Err(e) = result
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(path = %path.display(), error = %e, "could not clean up");
            }
        }
    }

    /// Start-up succeeded: the paths stay.
    pub fn keep(self) {}
}

/// Creates the data dir if needed and proves it is writable.
pub fn prepare_data_dir(dir: &Path, created: &mut Created) -> Result<(), String> {
    let shown = dir.display();
    if dir.exists() && !dir.is_dir() {
        return Err(format!("data dir '{shown}' exists and is not a directory"));
    }
    if !dir.exists() {
        // Record the topmost missing ancestor, so undo removes every level it made.
        let mut topmost = dir.to_path_buf();
        while let Some(parent) = topmost.parent() {
            if parent.as_os_str().is_empty() || parent.exists() {
                break;
            }
            topmost = parent.to_path_buf();
        }
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create data dir '{shown}': {e}"))?;
        created.paths.push(topmost);
    }
    let probe = dir.join(".write-probe");
    std::fs::write(&probe, b"").map_err(|e| format!("data dir '{shown}' is not writable: {e}"))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Opens and migrates the database named in `config`.
pub async fn open_database(config: &Config, created: &mut Created) -> Result<Database, String> {
    if let DatabaseUrl::Sqlite { path } = &config.database
        && !path.exists()
    {
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
            && !parent.exists()
        {
            return Err(format!(
                "cannot open SQLite database '{}': directory '{}' does not exist",
                path.display(),
                parent.display()
            ));
        }
        // SQLite creates these three; a failed first start must remove all of them.
        for suffix in ["", "-wal", "-shm"] {
            let mut name = path.clone().into_os_string();
            name.push(suffix);
            created.paths.push(PathBuf::from(name));
        }
    }
    let options = ConnectOptions {
        sqlite_sync: config.sqlite_sync,
        ..ConnectOptions::default()
    };
    let db = Database::connect(&config.database, &options)
        .await
        .map_err(|e| e.to_string())?;
    if let Err(e) = migrate::run(&db).await {
        db.close().await;
        return Err(e.to_string());
    }
    Ok(db)
}

/// Data dir, then database; on failure everything created is removed again.
pub async fn prepare(config: &Config) -> Result<(Database, Created), String> {
    let mut created = Created::default();
    let result = async {
        prepare_data_dir(&config.data_dir, &mut created)?;
        open_database(config, &mut created).await
    }
    .await;
    match result {
        Ok(db) => Ok((db, created)),
        Err(e) => {
            created.undo();
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undo_removes_every_level_it_created() {
        let root = tempfile::tempdir().unwrap();
        let deep = root.path().join("a/b/c");
        let mut created = Created::default();
        prepare_data_dir(&deep, &mut created).unwrap();
        assert!(deep.is_dir());
        created.undo();
        assert!(!root.path().join("a").exists());
        assert!(root.path().exists(), "pre-existing directories stay");
    }

    #[test]
    fn a_file_in_the_way_is_named() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("plain-file");
        std::fs::write(&file, b"x").unwrap();
        let mut created = Created::default();
        let err = prepare_data_dir(&file.join("sub"), &mut created).unwrap_err();
        assert!(err.starts_with("cannot create data dir"), "{err}");
        let err = prepare_data_dir(&file, &mut created).unwrap_err();
        assert!(err.contains("is not a directory"), "{err}");
        created.undo();
        assert!(file.is_file());
    }
}
