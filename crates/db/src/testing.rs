//! Throw-away services for tests: a PostgreSQL database (here) and an S3 server ([`s3`]).
//!
//! Tests that need PostgreSQL create a fresh database on the server named by
//! `TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`) and drop it when
//! done. There is no skip: when PostgreSQL is unreachable the test fails and says so, so a
//! missing server can never pass for a green run. The test command (`scripts/test.sh`) starts
//! or installs PostgreSQL before the tests run.

pub mod s3;

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions as _, Connection as _};

/// Where the admin connection goes unless `TEST_POSTGRES_URL` says otherwise.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A database that exists for the lifetime of a test.
#[derive(Debug)]
pub struct TempPostgres {
    admin_url: String,
    name: String,
    /// URL of the fresh database, for handing to `switchyard --database-url`.
    pub url: String,
}

impl TempPostgres {
    /// Creates `switchyard_test_<uuid>`. Panics with a clear message if PostgreSQL is not there.
    pub async fn create() -> Self {
        let admin_url =
            std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned());
        let name = format!("switchyard_test_{}", uuid::Uuid::now_v7().simple());
        let mut admin = connect_admin(&admin_url).await;
        // Identifiers cannot be bound; `name` is built above from a UUID and nothing else.
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name} failed: {e}"));
        let _ = admin.close().await;
        let options = PgConnectOptions::from_str(&admin_url)
            .expect("TEST_POSTGRES_URL is a valid URL")
            .database(&name);
        let url = options.to_url_lossy().to_string();
        Self {
            admin_url,
            name,
            url,
        }
    }

    /// A small pool on the fresh database.
    pub async fn pool(&self) -> PgPool {
        PgPoolOptions::new()
            .max_connections(4)
            .connect(&self.url)
            .await
            .expect("connect to the test database")
    }

    /// The fresh database, migrated, as the rest of Switchyard opens it.
    pub async fn database(&self) -> crate::Database {
        let url = crate::DatabaseUrl::parse(&self.url).expect("a valid test URL");
        let db = crate::Database::connect(&url, &crate::ConnectOptions::default())
            .await
            .expect("connect to the test database");
        crate::migrate::run(&db)
            .await
            .expect("migrate the test database");
        db
    }

    /// Makes the database unreachable, as an outage would: new connections are refused and
    /// every open one is closed.
    pub async fn block_connections(&self) {
        let mut admin = connect_admin(&self.admin_url).await;
        let name = &self.name;
        sqlx::query(&format!(
            "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false"
        ))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("block connections to {name}: {e}"));
        sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
            .bind(name)
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("close connections to {name}: {e}"));
    }

    /// Ends [`TempPostgres::block_connections`].
    pub async fn allow_connections(&self) {
        let mut admin = connect_admin(&self.admin_url).await;
        let name = &self.name;
        sqlx::query(&format!(
            "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true"
        ))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("allow connections to {name}: {e}"));
    }

    /// Drops the database, closing any connection still open to it.
    pub async fn drop_database(self) {
        let mut admin = connect_admin(&self.admin_url).await;
        let name = &self.name;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("DROP DATABASE {name} failed: {e}"));
    }
}

async fn connect_admin(admin_url: &str) -> sqlx::PgConnection {
    sqlx::PgConnection::connect(admin_url)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is required for this test and is not reachable at {admin_url}: {e}. \
             Run scripts/test.sh (it starts or installs PostgreSQL) or set TEST_POSTGRES_URL."
            )
        })
}

/// A migrated SQLite database in `dir`.
pub async fn sqlite_in(dir: &std::path::Path) -> crate::Database {
    let db = crate::Database::connect(
        &crate::DatabaseUrl::sqlite(dir.join("test.db")),
        &crate::ConnectOptions::default(),
    )
    .await
    .expect("open a SQLite database in the test's directory");
    crate::migrate::run(&db)
        .await
        .expect("migrate the test database");
    db
}
