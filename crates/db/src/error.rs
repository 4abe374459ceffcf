//! Errors from opening, migrating and using the database.

/// Everything that can go wrong in this crate. `Display` is written for an operator: one line
/// that names the URL or path and what failed, with no secrets (passwords are never printed).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("invalid database URL '{url}': {reason}")]
    InvalidUrl { url: String, reason: String },

    #[error("cannot open SQLite database '{path}': {source}")]
    SqliteOpen {
        path: String,
        #[source]
        source: sqlx::Error,
    },

    #[error("cannot connect to PostgreSQL at {target}: {reason}")]
    PostgresConnect { target: String, reason: String },

    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),

    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
}
