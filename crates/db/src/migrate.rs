//! Schema migrations, one set per backend.
//!
//! `migrations/sqlite` and `migrations/postgres` hold one file each per change, with the same
//! version numbers and names, so both backends always have the same tables and columns. The
//! migrations are compiled into the binary: a deployed `switchyard` needs no files beside it.

use sqlx::migrate::Migrator;

use crate::{Database, DbError};

static SQLITE: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("../../migrations/postgres");

/// Applies every migration the database has not seen yet. Each runs in its own transaction;
/// a failure leaves the schema at the last migration that succeeded.
pub async fn run(db: &Database) -> Result<(), DbError> {
    match db {
        Database::Sqlite(pool) => SQLITE.run(pool).await?,
        Database::Postgres(pool) => POSTGRES.run(pool).await?,
    }
    Ok(())
}

/// Versions and descriptions of the migrations this build has for `db`'s backend, in order.
pub fn known(db: &Database) -> Vec<(i64, String)> {
    let migrator = match db {
        Database::Sqlite(_) => &SQLITE,
        Database::Postgres(_) => &POSTGRES,
    };
    migrator
        .iter()
        .map(|m| (m.version, m.description.to_string()))
        .collect()
}
