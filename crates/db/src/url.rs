//! Database URLs: which backend, and a form safe to print.
//!
//! Parsing happens before any file is created or socket opened, so a malformed URL stops
//! start-up without side effects.

use std::path::PathBuf;
use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use switchyard_protocol::DatabaseKind;

use crate::DbError;

/// A checked database URL. Its `Debug` is [`DatabaseUrl::display`]: a password never
/// reaches a log line.
#[derive(Clone)]
pub enum DatabaseUrl {
    /// `sqlite://PATH` or `sqlite:PATH`; the file is created if missing.
    Sqlite { path: PathBuf },
    /// `postgres://…` or `postgresql://…`, as libpq-style URLs.
    Postgres { url: String },
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("DatabaseUrl").field(&self.display()).finish()
    }
}

impl DatabaseUrl {
    /// Parses `raw`, naming what is wrong when it can't be used.
    pub fn parse(raw: &str) -> Result<Self, DbError> {
        let invalid = |reason: &str| DbError::InvalidUrl {
            url: redact(raw),
            reason: reason.to_owned(),
        };
        if let Some(rest) = raw.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(invalid("expected sqlite://PATH with a file path"));
            }
            if path == ":memory:" {
                return Err(invalid(
                    "in-memory SQLite would lose every run on restart; give a file path",
                ));
            }
            return Ok(Self::Sqlite {
                path: PathBuf::from(path),
            });
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            PgConnectOptions::from_str(raw).map_err(|e| invalid(&e.to_string()))?;
            return Ok(Self::Postgres {
                url: raw.to_owned(),
            });
        }
        Err(invalid(
            "expected sqlite://PATH or postgres://USER@HOST:PORT/DATABASE",
        ))
    }

    /// A SQLite URL for a file path.
    pub fn sqlite(path: impl Into<PathBuf>) -> Self {
        Self::Sqlite { path: path.into() }
    }

    pub fn kind(&self) -> DatabaseKind {
        match self {
            Self::Sqlite { .. } => DatabaseKind::Sqlite,
            Self::Postgres { .. } => DatabaseKind::Postgres,
        }
    }

    /// The URL with any password replaced by `***`, for logs and error lines.
    pub fn display(&self) -> String {
        match self {
            Self::Sqlite { path } => format!("sqlite://{}", path.display()),
            Self::Postgres { url } => redact(url),
        }
    }
}

/// Replaces the password in `user:password@host` with `***`.
fn redact(raw: &str) -> String {
    let Some((scheme, rest)) = raw.split_once("://") else {
        return raw.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => raw.to_owned(),
        },
        None => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_both_sqlite_spellings() {
        for raw in [
            "sqlite://data/x.db",
            "sqlite:data/x.db",
            "sqlite://data/x.db?mode=rwc",
        ] {
            match DatabaseUrl::parse(raw).unwrap() {
                DatabaseUrl::Sqlite { path } => assert_eq!(path, PathBuf::from("data/x.db")),
                other => panic!("{raw} parsed as {other:?}"),
            }
        }
    }

    #[test]
    fn rejects_what_it_cannot_use_and_says_why() {
        let cases = [
            (
                "mysql://localhost/db",
                "expected sqlite://PATH or postgres://",
            ),
            ("sqlite://", "with a file path"),
            ("sqlite::memory:", "in-memory"),
            ("postgres://u@h:notaport/db", "invalid database URL"),
            ("", "expected sqlite://PATH"),
        ];
        for (raw, needle) in cases {
            let err = DatabaseUrl::parse(raw).unwrap_err().to_string();
            assert!(err.contains(needle), "{raw:?} gave {err:?}");
            assert!(
                !err.contains('\n'),
                "error for {raw:?} spans lines: {err:?}"
            );
        }
    }

    #[test]
    fn passwords_never_reach_error_lines() {
        let err = DatabaseUrl::parse("postgres://alice:s3cret@h:notaport/db")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("s3cret"), "{err}");
        assert!(err.contains("alice:***@h"), "{err}");
        let url = DatabaseUrl::parse("postgres://alice:s3cret@localhost/db").unwrap();
        assert_eq!(url.display(), "postgres://alice:***@localhost/db");
        assert_eq!(url.kind(), DatabaseKind::Postgres);
    }
}
