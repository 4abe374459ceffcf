//! The audit log: every mutation and every refused attempt, appended, never changed.
//!
//! Rows are numbered from 1 without gaps, and each row's hash covers the previous row's
//! hash and its own fields (BLAKE3), so editing a row breaks its hash and every link after
//! it, and removing rows leaves a gap in the numbers. `audit_head` records the newest row's
//! number and hash in the same transaction as each append, so removing the newest rows is
//! caught too. [`verify`] walks the chain and names the first problem.

use switchyard_db::Database;

/// One entry to append.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    /// Who: a user id, `key:<id>` for an API key, or `anonymous`.
    pub actor: String,
    /// What: e.g. `auth.login`, `runs.create`, `users.disable`.
    pub action: String,
    /// On what: an id, or empty.
    pub target: String,
    /// `ok`, `denied`, or `failed: <why>`.
    pub result: String,
    pub ip: String,
    pub user_agent: String,
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Row {
    pub seq: i64,
    pub at_ms: i64,
    #[serde(flatten)]
    pub entry: Entry,
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The whole chain holds: this many rows.
    Intact { rows: u64 },
    /// The first row whose fields or link do not match its hash.
    Edited { seq: i64 },
    /// Rows missing: the chain jumps from `after` to `next` (or ends before the head).
    Gap { after: i64, next: i64 },
}

const GENESIS: [u8; 32] = [0; 32];

fn chain_hash(prev: &[u8], seq: i64, at_ms: i64, entry: &Entry) -> Vec<u8> {
    let mut hasher = blake3::Hasher::new();
    hasher.update(prev);
    hasher.update(&seq.to_le_bytes());
    hasher.update(&at_ms.to_le_bytes());
    for field in [
        &entry.actor,
        &entry.action,
        &entry.target,
        &entry.result,
        &entry.ip,
        &entry.user_agent,
    ] {
        // Length-prefixed, so moving bytes between fields changes the hash.
        hasher.update(&(field.len() as u64).to_le_bytes());
        hasher.update(field.as_bytes());
    }
    hasher.finalize().as_bytes().to_vec()
}

/// Appends `entry`; returns its number. Appends are serialised (SQLite's write lock, a
/// PostgreSQL advisory lock), so the chain never forks.
pub async fn append(db: &Database, entry: &Entry) -> Result<i64, sqlx::Error> {
    let at_ms = crate::now_ms();
    const HEAD: &str = "SELECT seq, hash FROM audit_head WHERE id = 1";
    const INSERT: &str = "INSERT INTO audit_log (seq, at_ms, actor, action, target, result, ip, \
                          user_agent, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
    const SET_HEAD: &str = "INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2) \
                            ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash";
    macro_rules! write {
        ($tx:expr) => {{
            let head: Option<(i64, Vec<u8>)> =
                sqlx::query_as(HEAD).fetch_optional(&mut *$tx).await?;
            let (prev_seq, prev_hash) = head.unwrap_or((0, GENESIS.to_vec()));
            let seq = prev_seq + 1;
            let hash = chain_hash(&prev_hash, seq, at_ms, entry);
            sqlx::query(INSERT)
                .bind(seq)
                .bind(at_ms)
                .bind(&entry.actor)
                .bind(&entry.action)
                .bind(&entry.target)
                .bind(&entry.result)
                .bind(&entry.ip)
                .bind(&entry.user_agent)
                .bind(&prev_hash)
                .bind(&hash)
                .execute(&mut *$tx)
                .await?;
            sqlx::query(SET_HEAD)
                .bind(seq)
                .bind(&hash)
                .execute(&mut *$tx)
                .await?;
            seq
        }};
    }
    let seq = match db {
        Database::Sqlite(pool) => {
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
            let seq = write!(tx);
            tx.commit().await?;
            seq
        }
        Database::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock(7461626)")
                .execute(&mut *tx)
                .await?;
            let seq = write!(tx);
            tx.commit().await?;
            seq
        }
    };
    Ok(seq)
}

type StoredRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    Vec<u8>,
    Vec<u8>,
);

/// Rows after `after_seq`, oldest first, at most `limit`, optionally only one actor's or
/// action's.
pub async fn list(
    db: &Database,
    after_seq: i64,
    limit: i64,
    actor: Option<&str>,
    action: Option<&str>,
) -> Result<Vec<Row>, sqlx::Error> {
    const SQL: &str = "SELECT seq, at_ms, actor, action, target, result, ip, user_agent, \
                       prev_hash, hash FROM audit_log WHERE seq > $1 \
                       AND ($2 = '' OR actor = $2) AND ($3 = '' OR action = $3) \
                       ORDER BY seq LIMIT $4";
    let rows: Vec<StoredRow> = on_pool!(db, pool => sqlx::query_as(SQL)
        .bind(after_seq)
        .bind(actor.unwrap_or(""))
        .bind(action.unwrap_or(""))
        .bind(limit)
        .fetch_all(pool)
        .await?);
    Ok(rows.into_iter().map(|r| stored(r).0).collect())
}

/// The newest `limit` entries, newest first, whose actor, action, target or result contains
/// `text` (any case; empty matches all), and when `denied_only`, only refusals.
pub async fn recent(
    db: &Database,
    limit: i64,
    text: &str,
    denied_only: bool,
) -> Result<Vec<Row>, sqlx::Error> {
    const SQL: &str = "SELECT seq, at_ms, actor, action, target, result, ip, user_agent, \
                       prev_hash, hash FROM audit_log WHERE ($1 = '' \
                       OR LOWER(actor) LIKE $1 OR LOWER(action) LIKE $1 \
                       OR LOWER(target) LIKE $1 OR LOWER(result) LIKE $1) \
                       AND ($2 = 0 OR result LIKE 'denied%') \
                       ORDER BY seq DESC LIMIT $3";
    let text = text.trim().to_lowercase();
    // `%` and `_` in the text act as wildcards: they can only widen a search.
    let pattern = if text.is_empty() {
        String::new()
    } else {
        format!("%{text}%")
    };
    let rows: Vec<StoredRow> = on_pool!(db, pool => sqlx::query_as(SQL)
        .bind(&pattern)
        .bind(i32::from(denied_only))
        .bind(limit)
        .fetch_all(pool)
        .await?);
    Ok(rows.into_iter().map(|r| stored(r).0).collect())
}

fn stored(row: StoredRow) -> (Row, Vec<u8>, Vec<u8>) {
    let (seq, at_ms, actor, action, target, result, ip, user_agent, prev_hash, hash) = row;
    (
        Row {
            seq,
            at_ms,
            entry: Entry {
                actor,
                action,
                target,
                result,
                ip,
                user_agent,
            },
        },
        prev_hash,
        hash,
    )
}

/// Walks the whole chain, a page at a time.
pub async fn verify(db: &Database) -> Result<Verdict, sqlx::Error> {
    const PAGE: &str = "SELECT seq, at_ms, actor, action, target, result, ip, user_agent, \
                        prev_hash, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1000";
    const HEAD: &str = "SELECT seq, hash FROM audit_head WHERE id = 1";
    let (mut last_seq, mut last_hash) = (0_i64, GENESIS.to_vec());
    loop {
        let page: Vec<StoredRow> =
            on_pool!(db, pool => sqlx::query_as(PAGE).bind(last_seq).fetch_all(pool).await?);
        if page.is_empty() {
            break;
        }
        for raw in page {
            let (row, prev_hash, hash) = stored(raw);
            if row.seq != last_seq + 1 {
                return Ok(Verdict::Gap {
                    after: last_seq,
                    next: row.seq,
                });
            }
            if prev_hash != last_hash
                || chain_hash(&last_hash, row.seq, row.at_ms, &row.entry) != hash
            {
                return Ok(Verdict::Edited { seq: row.seq });
            }
            last_seq = row.seq;
            last_hash = hash;
        }
    }
    let head: Option<(i64, Vec<u8>)> =
        on_pool!(db, pool => sqlx::query_as(HEAD).fetch_optional(pool).await?);
    match head {
        Some((seq, _)) if seq > last_seq => Ok(Verdict::Gap {
            after: last_seq,
            next: seq + 1,
        }),
        Some((seq, hash)) if seq == last_seq && hash != last_hash => Ok(Verdict::Edited { seq }),
        _ => Ok(Verdict::Intact {
            rows: last_seq as u64,
        }),
    }
}
