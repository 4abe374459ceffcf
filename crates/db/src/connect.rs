//! Opening the database: pools, SQLite pragmas, write transactions and the health probe.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection as _, PgConnection, Postgres, Sqlite, Transaction};
use switchyard_protocol::{DatabaseHealth, DatabaseKind};

use crate::{DatabaseUrl, DbError};

/// SQLite's durability setting (`PRAGMA synchronous`).
///
/// `Normal` (the default) is safe against a crash of the process: a committed transaction is in
/// the WAL before `COMMIT` returns. After a power loss or OS crash the last transactions
/// committed since the most recent WAL checkpoint may be rolled back (never corrupted).
/// `Full` syncs the WAL on every commit and closes that window, at several times the cost per
/// write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SqliteSync {
    #[default]
    Normal,
    Full,
}

impl SqliteSync {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Full => "full",
        }
    }
}

impl FromStr for SqliteSync {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "normal" => Ok(Self::Normal),
            "full" => Ok(Self::Full),
            _ => Err(format!("'{s}' is not one of: normal, full")),
        }
    }
}

/// How to open the pool.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub sqlite_sync: SqliteSync,
    /// Upper bound on pooled connections.
    pub max_connections: u32,
    /// How long to wait for a connection (and, for SQLite, for a lock: `busy_timeout`).
    pub timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            sqlite_sync: SqliteSync::Normal,
            max_connections: 8,
            timeout: Duration::from_secs(5),
        }
    }
}

/// A pool on either backend. Cloning is cheap: clones share the pool.
#[derive(Debug, Clone)]
pub enum Database {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Database {
    /// Opens (and for SQLite, creates) the database named by `url`. Does not migrate.
    pub async fn connect(url: &DatabaseUrl, options: &ConnectOptions) -> Result<Self, DbError> {
        match url {
            DatabaseUrl::Sqlite { path } => open_sqlite(path, options).await.map(Self::Sqlite),
            DatabaseUrl::Postgres { url } => open_postgres(url, options).await.map(Self::Postgres),
        }
    }

    pub fn kind(&self) -> DatabaseKind {
        match self {
            Self::Sqlite(_) => DatabaseKind::Sqlite,
            Self::Postgres(_) => DatabaseKind::Postgres,
        }
    }

    /// Round-trips `SELECT 1` within `deadline`.
    pub async fn probe(&self, deadline: Duration) -> DatabaseHealth {
        let query = async {
            match self {
                Self::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
                Self::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
            }
        };
        let ok = matches!(tokio::time::timeout(deadline, query).await, Ok(Ok(())));
        DatabaseHealth {
            kind: self.kind(),
            ok,
        }
    }

    /// Waits for checked-out connections to return, then closes the pool.
    pub async fn close(&self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }
}

/// Starts a SQLite write transaction with `BEGIN IMMEDIATE`.
///
/// A plain `BEGIN` takes the write lock only at the first write, and if another connection
/// wrote in between, SQLite fails the upgrade with `SQLITE_BUSY` without waiting for the busy
/// timeout. Taking the lock up front makes writers queue on `busy_timeout` instead.
pub async fn sqlite_write(pool: &SqlitePool) -> Result<Transaction<'static, Sqlite>, DbError> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

/// Starts a PostgreSQL transaction (read committed, the server default).
pub async fn postgres_write(pool: &PgPool) -> Result<Transaction<'static, Postgres>, DbError> {
    Ok(pool.begin().await?)
}

async fn open_sqlite(path: &Path, options: &ConnectOptions) -> Result<SqlitePool, DbError> {
    let synchronous = match options.sqlite_sync {
        SqliteSync::Normal => SqliteSynchronous::Normal,
        SqliteSync::Full => SqliteSynchronous::Full,
    };
    let connect = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(synchronous)
        .busy_timeout(options.timeout)
        .foreign_keys(true)
        .pragma("temp_store", "memory");
    SqlitePoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.timeout)
        // A connection to a local file does not go stale, and sqlx's check before each
        // acquire is a round trip through the connection's worker thread: about as costly
        // as the statement itself for a point read.
        .test_before_acquire(false)
        .connect_with(connect)
        .await
        .map_err(|source| DbError::SqliteOpen {
            path: path.display().to_string(),
            source,
        })
}

async fn open_postgres(url: &str, options: &ConnectOptions) -> Result<PgPool, DbError> {
    let connect = PgConnectOptions::from_str(url).map_err(|e| DbError::InvalidUrl {
        url: DatabaseUrl::Postgres {
            url: url.to_owned(),
        }
        .display(),
        reason: e.to_string(),
    })?;
    let target = format!(
        "{}:{}/{}",
        connect.get_host(),
        connect.get_port(),
        connect.get_database().unwrap_or("(default database)")
    );
    let fail = |reason| DbError::PostgresConnect {
        target: target.clone(),
        reason,
    };
    // One direct attempt first: the pool retries refused connections until its timeout and
    // then reports only "timed out", which hides the real cause from the operator.
    match tokio::time::timeout(options.timeout, PgConnection::connect_with(&connect)).await {
        Err(_) => {
            return Err(fail(postgres_reason(
                &sqlx::Error::PoolTimedOut,
                options.timeout,
            )));
        }
        Ok(Err(e)) => return Err(fail(postgres_reason(&e, options.timeout))),
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
        }
    }
    PgPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.timeout)
        .connect_with(connect)
        .await
        .map_err(|e| fail(postgres_reason(&e, options.timeout)))
}

fn postgres_reason(error: &sqlx::Error, timeout: Duration) -> String {
    match error {
        sqlx::Error::PoolTimedOut => format!("no answer within {}s", timeout.as_secs()),
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::Database(db) => db.message().to_owned(),
        other => other.to_string(),
    }
}
