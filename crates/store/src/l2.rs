//! L2: records in the SQL database (`store_records`), on SQLite or PostgreSQL.
//!
//! Rows are returned as they are stored, hash included; checking them is the caller's job
//! ([`crate::Store`] checks every one). Writes come in batches: one transaction, one multi-row
//! upsert per few thousand records, versions bumped by the database.

use std::sync::Arc;

use switchyard_db::Database;

use crate::record::{Hash, Record};

/// Rows per upsert statement: 5 parameters each, under SQLite's 32,766.
const ROWS_PER_STATEMENT: usize = 6_000;

/// One record to write: key, value, the value's hash.
pub type Write<'a> = (&'a str, &'a [u8], Hash);

type Row = (String, Vec<u8>, i64, Vec<u8>, i64);

fn record(row: Row) -> Record {
    let (key, value, version, hash, updated_at_ms) = row;
    // A stored hash of the wrong length can match nothing: keep it all-zero, and the
    // record reads as corrupt.
    let hash: Hash = hash.try_into().unwrap_or([0; 32]);
    Record {
        key,
        value: Arc::from(value),
        version: version as u64,
        hash,
        updated_at_ms,
    }
}

/// Writes `records` in one transaction and returns their new versions, in order. A key named
/// twice is written once, with its last value (as one write after another would leave it).
/// A key that had moved to L3 or L4 is taken out of their index in the same transaction, and
/// its version continues from the one it had there.
pub async fn upsert(
    db: &Database,
    records: &[Write<'_>],
    now_ms: i64,
) -> Result<Vec<u64>, sqlx::Error> {
    let mut last: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, (key, _, _)) in records.iter().enumerate() {
        last.insert(key, i);
    }
    let unique: Vec<&Write<'_>> = records
        .iter()
        .enumerate()
        .filter(|(i, (key, _, _))| last[key] == *i)
        .map(|(_, w)| w)
        .collect();
    let mut versions: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    on_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        for chunk in unique.chunks(ROWS_PER_STATEMENT) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO store_records (key, value, version, hash, updated_at_ms) ",
            );
            insert.push_values(chunk, |mut row, (key, value, hash)| {
                row.push_bind(*key)
                    .push_bind(*value)
                    .push_bind(1_i64)
                    .push_bind(&hash[..])
                    .push_bind(now_ms);
            });
            insert.push(
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
                 version = store_records.version + 1, hash = excluded.hash, \
                 updated_at_ms = excluded.updated_at_ms RETURNING key, version",
            );
            let rows: Vec<(String, i64)> = insert.build_query_as().fetch_all(&mut *tx).await?;
            versions.extend(rows.into_iter().map(|(k, v)| (k, v as u64)));
        }
        // A key lives in one tier at a time. A first write to L2 (version 1) of a key that
        // was moved down takes it back out of L3 and L4 and carries on its version count.
        let fresh: Vec<&str> = versions
            .iter()
            .filter(|(_, v)| **v == 1)
            .map(|(k, _)| k.as_str())
            .collect();
        let mut lower: std::collections::HashMap<String, u64> = Default::default();
        for table in ["store_l3_index", "store_l4_index"] {
            for chunk in fresh.chunks(ROWS_PER_STATEMENT) {
                let mut take = sqlx::QueryBuilder::new(format!("DELETE FROM {table} WHERE key IN ("));
                let mut list = take.separated(", ");
                for key in chunk {
                    list.push_bind(*key);
                }
                take.push(") RETURNING key, version");
                let rows: Vec<(String, i64)> = take.build_query_as().fetch_all(&mut *tx).await?;
                for (key, version) in rows {
                    let slot = lower.entry(key).or_default();
                    *slot = (*slot).max(version as u64);
                }
            }
        }
        for (key, below) in lower {
            sqlx::query("UPDATE store_records SET version = $2 WHERE key = $1")
                .bind(&key)
                .bind((below + 1) as i64)
                .execute(&mut *tx)
                .await?;
            versions.insert(key, below + 1);
        }
        tx.commit().await?;
    });
    Ok(records
        .iter()
        .map(|(key, _, _)| versions.get(*key).copied().unwrap_or(0))
        .collect())
}

/// The stored row for `key`, unchecked.
pub async fn read(db: &Database, key: &str) -> Result<Option<Record>, sqlx::Error> {
    const SQL: &str =
        "SELECT key, value, version, hash, updated_at_ms FROM store_records WHERE key = $1";
    let row: Option<Row> =
        on_pool!(db, pool => sqlx::query_as(SQL).bind(key).fetch_optional(pool).await?);
    Ok(row.map(record))
}

/// Rows whose key starts with `prefix`, in key order, at most `limit`, unchecked.
pub async fn scan(db: &Database, prefix: &str, limit: i64) -> Result<Vec<Record>, sqlx::Error> {
    let rows: Vec<Row> = match db {
        Database::Sqlite(pool) => {
            sqlx::query_as(
                "SELECT key, value, version, hash, updated_at_ms FROM store_records \
                 WHERE key >= $1 AND substr(key, 1, length($1)) = $1 ORDER BY key LIMIT $2",
            )
            .bind(prefix)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }
        Database::Postgres(pool) => {
            sqlx::query_as(
                "SELECT key, value, version, hash, updated_at_ms FROM store_records \
                 WHERE starts_with(key, $1) ORDER BY key COLLATE \"C\" LIMIT $2",
            )
            .bind(prefix)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }
    };
    Ok(rows.into_iter().map(record).collect())
}

/// Puts records back in L2 exactly as given (version, hash and time included) and takes
/// their keys out of L3 and L4, in one transaction: an archive restore, or a repair from
/// another tier. An L2 row is replaced only by a newer version, or when it is the damaged
/// copy (`damaged_version`) that `records` repairs.
pub async fn reinstate(
    db: &Database,
    records: &[Arc<Record>],
    damaged_version: Option<u64>,
) -> Result<(), sqlx::Error> {
    let damaged = damaged_version.map_or(-1, |v| v as i64);
    on_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        for chunk in records.chunks(ROWS_PER_STATEMENT) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO store_records (key, value, version, hash, updated_at_ms) ",
            );
            insert.push_values(chunk, |mut row, record| {
                row.push_bind(record.key.as_str())
                    .push_bind(&record.value[..])
                    .push_bind(record.version as i64)
                    .push_bind(&record.hash[..])
                    .push_bind(record.updated_at_ms);
            });
            insert.push(
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
                 version = excluded.version, hash = excluded.hash, \
                 updated_at_ms = excluded.updated_at_ms \
                 WHERE store_records.version < excluded.version OR store_records.version = ",
            );
            insert.push_bind(damaged);
            insert.build().execute(&mut *tx).await?;
            for table in ["store_l3_index", "store_l4_index"] {
                let mut forget =
                    sqlx::QueryBuilder::new(format!("DELETE FROM {table} WHERE key IN ("));
                let mut list = forget.separated(", ");
                for record in chunk {
                    list.push_bind(record.key.as_str());
                }
                forget.push(")");
                forget.build().execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
    });
    Ok(())
}

/// Removes `key`; whether it was there.
pub async fn delete(db: &Database, key: &str) -> Result<bool, sqlx::Error> {
    const SQL: &str = "DELETE FROM store_records WHERE key = $1";
    let done =
        on_pool!(db, pool => sqlx::query(SQL).bind(key).execute(pool).await?.rows_affected());
    Ok(done > 0)
}

/// One page of every row, in key order, after `after` (a cursor): for verification.
pub async fn page(db: &Database, after: &str, limit: i64) -> Result<Vec<Record>, sqlx::Error> {
    let sql = match db {
        Database::Sqlite(_) => {
            "SELECT key, value, version, hash, updated_at_ms FROM store_records \
             WHERE key > $1 ORDER BY key LIMIT $2"
        }
        Database::Postgres(_) => {
            "SELECT key, value, version, hash, updated_at_ms FROM store_records \
             WHERE key COLLATE \"C\" > $1 ORDER BY key COLLATE \"C\" LIMIT $2"
        }
    };
    let rows: Vec<Row> =
        on_pool!(db, pool => sqlx::query_as(sql).bind(after).bind(limit).fetch_all(pool).await?);
    Ok(rows.into_iter().map(record).collect())
}

/// Intact-or-not rows last written before `before_ms`, oldest first, at most `limit`: what
/// is due to move to L3.
pub async fn older_than(
    db: &Database,
    before_ms: i64,
    limit: i64,
) -> Result<Vec<Record>, sqlx::Error> {
    const SQL: &str = "SELECT key, value, version, hash, updated_at_ms FROM store_records \
                       WHERE updated_at_ms < $1 ORDER BY updated_at_ms, key LIMIT $2";
    let rows: Vec<Row> = on_pool!(db, pool => sqlx::query_as(SQL).bind(before_ms).bind(limit).fetch_all(pool).await?);
    Ok(rows.into_iter().map(record).collect())
}

/// Count, value bytes, oldest and newest write (ms since the epoch) in L2.
pub async fn stats(db: &Database) -> Result<(u64, u64, Option<i64>, Option<i64>), sqlx::Error> {
    let sql = match db {
        Database::Sqlite(_) => {
            "SELECT COUNT(*), COALESCE(SUM(length(value)), 0), MIN(updated_at_ms), \
             MAX(updated_at_ms) FROM store_records"
        }
        Database::Postgres(_) => {
            "SELECT COUNT(*), COALESCE(SUM(octet_length(value)), 0)::BIGINT, MIN(updated_at_ms), \
             MAX(updated_at_ms) FROM store_records"
        }
    };
    let (count, bytes, oldest, newest): (i64, i64, Option<i64>, Option<i64>) =
        on_pool!(db, pool => sqlx::query_as(sql).fetch_one(pool).await?);
    Ok((count as u64, bytes as u64, oldest, newest))
}

/// Retention: deletes up to `limit` rows last written before `before_ms`, oldest first;
/// returns their keys.
pub async fn expire(db: &Database, before_ms: i64, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    const SQL: &str = "DELETE FROM store_records WHERE key IN (SELECT key FROM store_records \
                       WHERE updated_at_ms < $1 ORDER BY updated_at_ms LIMIT $2) RETURNING key";
    let keys: Vec<String> = on_pool!(db, pool => sqlx::query_scalar(SQL).bind(before_ms).bind(limit).fetch_all(pool).await?);
    Ok(keys)
}
