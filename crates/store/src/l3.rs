//! L3: records in object storage, as segments.
//!
//! A segment is many records written together: one JSON line per record (key, version,
//! value in base64, the value's hash, when it was written), zstd-compressed, stored as one
//! object under `segments/`. The SQL index says which segment holds each key
//! (`store_l3_index`) and the BLAKE3 hash of each segment object (`store_segments`), so a
//! damaged object is caught before anything in it is served, and each record is checked
//! again against its own hash after decompression.
//!
//! The object store is anything `object_store` speaks to; Switchyard opens a local
//! directory by default.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};
use switchyard_db::Database;

use crate::record::{Hash, Record};

/// zstd level: a good ratio at a few hundred MB/s.
const ZSTD_LEVEL: i32 = 3;

/// Why an L3 operation failed.
#[derive(Debug, thiserror::Error)]
pub enum L3Error {
    #[error("object store: {0}")]
    Objects(#[from] object_store::Error),
    #[error("the database failed: {0}")]
    Db(#[from] sqlx::Error),
    /// The object store cannot be opened or written at all.
    #[error("cannot use the object store directory {dir}: {reason}")]
    Unusable { dir: String, reason: String },
    /// The segment object does not match its indexed hash, or does not decode.
    #[error("segment {path} is damaged: {reason}")]
    Damaged { path: String, reason: String },
}

/// A segment as the index knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub id: String,
    pub path: String,
    pub records: u64,
    pub bytes: u64,
    pub hash: Hash,
}

/// One line of a segment.
#[derive(serde::Serialize, serde::Deserialize)]
struct Line {
    key: String,
    version: u64,
    hash: String,
    updated_at_ms: i64,
    value: String,
}

fn hex(hash: &Hash) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Hash> {
    let bytes: Option<Vec<u8>> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect();
    bytes?.try_into().ok()
}

/// Encodes `records` as a segment: compressed bytes and their hash.
pub fn encode(records: &[Arc<Record>]) -> Result<(Vec<u8>, Hash), std::io::Error> {
    let mut jsonl = Vec::with_capacity(records.iter().map(|r| r.value.len() * 4 / 3 + 160).sum());
    for record in records {
        let line = Line {
            key: record.key.clone(),
            version: record.version,
            hash: hex(&record.hash),
            updated_at_ms: record.updated_at_ms,
            value: base64::engine::general_purpose::STANDARD.encode(&record.value),
        };
        serde_json::to_writer(&mut jsonl, &line)?;
        jsonl.push(b'\n');
    }
    let compressed = zstd::encode_all(&jsonl[..], ZSTD_LEVEL)?;
    let hash = crate::record::hash(&compressed);
    Ok((compressed, hash))
}

/// Decodes a segment that matched its hash. Records are returned as stored; callers check
/// each against its own hash.
pub fn decode(path: &str, compressed: &[u8]) -> Result<Vec<Record>, L3Error> {
    let damaged = |reason: String| L3Error::Damaged {
        path: path.to_owned(),
        reason,
    };
    let jsonl = zstd::decode_all(compressed).map_err(|e| damaged(format!("zstd: {e}")))?;
    let mut out = Vec::new();
    for (n, line) in jsonl.split(|b| *b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let line: Line =
            serde_json::from_slice(line).map_err(|e| damaged(format!("line {}: {e}", n + 1)))?;
        let value = base64::engine::general_purpose::STANDARD
            .decode(&line.value)
            .map_err(|e| damaged(format!("line {}: {e}", n + 1)))?;
        out.push(Record {
            hash: unhex(&line.hash).unwrap_or([0; 32]),
            key: line.key,
            value: Arc::from(value),
            version: line.version,
            updated_at_ms: line.updated_at_ms,
        });
    }
    Ok(out)
}

/// The object store and where segments live in it.
#[derive(Debug, Clone)]
pub struct Objects {
    inner: Arc<dyn ObjectStore>,
    /// Where it is, for messages (a directory or URL; never credentials).
    name: Arc<str>,
}

impl Objects {
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        Self {
            inner,
            name: Arc::from("object store"),
        }
    }

    /// The same store, called `name` in messages.
    pub fn named(mut self, name: &str) -> Self {
        self.name = Arc::from(name);
        self
    }

    /// Where the store is, as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The underlying `object_store`, for direct use (tools, tests).
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.inner
    }

    /// Stores `records` as a new segment, reads it back and checks it (copy → verify), and
    /// returns what the index should record. The index is not touched: until the caller
    /// commits it, the object is invisible, so a crash leaves at most an unreferenced object.
    pub async fn write_segment(&self, records: &[Arc<Record>]) -> Result<Segment, L3Error> {
        let id = uuid::Uuid::now_v7().simple().to_string();
        let path = format!("segments/{id}.jsonl.zst");
        let (bytes, hash) = encode(records).map_err(|e| L3Error::Damaged {
            path: path.clone(),
            reason: format!("cannot encode: {e}"),
        })?;
        let location = Path::from(path.as_str());
        let size = bytes.len() as u64;
        self.inner.put(&location, PutPayload::from(bytes)).await?;
        let back = self.inner.get(&location).await?.bytes().await?;
        if crate::record::hash(&back) != hash {
            return Err(L3Error::Damaged {
                path,
                reason: "the object read back differs from what was written".into(),
            });
        }
        Ok(Segment {
            id,
            path,
            records: records.len() as u64,
            bytes: size,
            hash,
        })
    }

    /// An indexed object's bytes. A missing object is damage (the index says it is there),
    /// not an outage.
    pub(crate) async fn read_indexed(&self, path: &str) -> Result<bytes::Bytes, L3Error> {
        let location = Path::from(path);
        let fetched = match self.inner.get(&location).await {
            Ok(found) => found.bytes().await,
            Err(e) => Err(e),
        };
        fetched.map_err(|e| match e {
            object_store::Error::NotFound { .. } => L3Error::Damaged {
                path: path.to_owned(),
                reason: "the object is missing".into(),
            },
            other => L3Error::Objects(other),
        })
    }

    /// The records of `segment`, once its object matches the indexed hash.
    pub async fn read_segment(&self, segment: &Segment) -> Result<Vec<Record>, L3Error> {
        let bytes = self.read_indexed(&segment.path).await?;
        if crate::record::hash(&bytes) != segment.hash {
            return Err(L3Error::Damaged {
                path: segment.path.clone(),
                reason: "the object does not match its indexed hash".into(),
            });
        }
        decode(&segment.path, &bytes)
    }

    /// Replaces a damaged segment's object with `records` re-encoded, under the same path;
    /// returns the new hash for the index.
    pub async fn rewrite_segment(
        &self,
        segment: &Segment,
        records: &[Arc<Record>],
    ) -> Result<Hash, L3Error> {
        let (bytes, hash) = encode(records).map_err(|e| L3Error::Damaged {
            path: segment.path.clone(),
            reason: format!("cannot encode: {e}"),
        })?;
        let location = Path::from(segment.path.as_str());
        self.inner.put(&location, PutPayload::from(bytes)).await?;
        Ok(hash)
    }
}

pub(crate) type SegmentRow = (String, String, i64, i64, Vec<u8>);
/// A key, its segment's row, and the version it holds.
pub(crate) type LocatedRow = (String, String, String, i64, i64, Vec<u8>, i64);

pub(crate) fn segment(row: SegmentRow) -> Segment {
    let (id, path, records, bytes, hash) = row;
    Segment {
        id,
        path,
        records: records as u64,
        bytes: bytes as u64,
        hash: hash.try_into().unwrap_or([0; 32]),
    }
}

/// Where one tier indexes its objects: L3's segments and L4's archives share the shape
/// (a key → object index beside a table of objects), so they share the lookups.
#[derive(Debug, Clone, Copy)]
pub struct Index {
    /// `key, <id column>, version, updated_at_ms`.
    pub keys: &'static str,
    /// `id, path, records, bytes, hash, created_at_ms`.
    pub objects: &'static str,
    pub id_column: &'static str,
}

/// L3's index.
pub const SEGMENTS: Index = Index {
    keys: "store_l3_index",
    objects: "store_segments",
    id_column: "segment_id",
};

/// The object that holds `key` in `index`'s tier, and the version it holds.
pub async fn locate(
    db: &Database,
    index: Index,
    key: &str,
) -> Result<Option<(Segment, u64)>, sqlx::Error> {
    let Index {
        keys,
        objects,
        id_column,
    } = index;
    let sql = format!(
        "SELECT o.id, o.path, o.records, o.bytes, o.hash, i.version \
         FROM {keys} i JOIN {objects} o ON o.id = i.{id_column} WHERE i.key = $1"
    );
    let row: Option<(String, String, i64, i64, Vec<u8>, i64)> =
        on_pool!(db, pool => sqlx::query_as(&sql).bind(key).fetch_optional(pool).await?);
    Ok(row.map(|(id, path, records, bytes, hash, version)| {
        (segment((id, path, records, bytes, hash)), version as u64)
    }))
}

/// Segments created before `before_ms`, oldest first, at most `limit`: what is due for the
/// archive.
pub async fn segments_created_before(
    db: &Database,
    before_ms: i64,
    limit: i64,
) -> Result<Vec<Segment>, sqlx::Error> {
    const SQL: &str = "SELECT id, path, records, bytes, hash FROM store_segments \
                       WHERE created_at_ms < $1 ORDER BY created_at_ms, id LIMIT $2";
    let rows: Vec<SegmentRow> = on_pool!(db, pool => sqlx::query_as(SQL).bind(before_ms).bind(limit).fetch_all(pool).await?);
    Ok(rows.into_iter().map(segment).collect())
}

/// Every indexed segment, oldest first.
pub async fn segments(db: &Database) -> Result<Vec<Segment>, sqlx::Error> {
    const SQL: &str =
        "SELECT id, path, records, bytes, hash FROM store_segments ORDER BY created_at_ms, id";
    let rows: Vec<SegmentRow> = on_pool!(db, pool => sqlx::query_as(SQL).fetch_all(pool).await?);
    Ok(rows.into_iter().map(segment).collect())
}

/// Keys the index points at `segment` for, with the version it holds.
pub async fn keys_in(db: &Database, segment_id: &str) -> Result<HashMap<String, u64>, sqlx::Error> {
    const SQL: &str = "SELECT key, version FROM store_l3_index WHERE segment_id = $1";
    let rows: Vec<(String, i64)> =
        on_pool!(db, pool => sqlx::query_as(SQL).bind(segment_id).fetch_all(pool).await?);
    Ok(rows.into_iter().map(|(k, v)| (k, v as u64)).collect())
}

/// Records a new hash for a repaired segment.
pub async fn set_hash(db: &Database, segment_id: &str, hash: &Hash) -> Result<(), sqlx::Error> {
    const SQL: &str = "UPDATE store_segments SET hash = $2 WHERE id = $1";
    on_pool!(db, pool => {
        sqlx::query(SQL).bind(segment_id).bind(&hash[..]).execute(pool).await?;
    });
    Ok(())
}

/// The statement (binding the object's id as `$1`) that takes out of `index` the keys an
/// object was just indexed for but that have been written to L2 since: a key lives in one
/// tier at a time, and the L2 copy is the newer.
pub(crate) fn drop_rewritten(index: Index) -> String {
    let Index {
        keys, id_column, ..
    } = index;
    format!(
        "DELETE FROM {keys} WHERE {id_column} = $1 AND EXISTS \
         (SELECT 1 FROM store_records r WHERE r.key = {keys}.key)"
    )
}

/// Completes a move from L2: in one transaction, indexes the segment and its records and
/// deletes from L2 exactly the versions that went into it (a record rewritten meanwhile
/// stays in L2, newer than its L3 copy). Returns how many L2 rows were deleted.
pub async fn commit_move(
    db: &Database,
    segment: &Segment,
    records: &[Arc<Record>],
    now_ms: i64,
) -> Result<u64, sqlx::Error> {
    let mut moved = 0;
    on_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        index_object!(tx, SEGMENTS, segment, records, now_ms);
        for chunk in records.chunks(6_000) {
            let mut delete = sqlx::QueryBuilder::new(
                "DELETE FROM store_records WHERE (key, version) IN (",
            );
            delete.push_values(chunk, |mut row, record| {
                row.push_bind(record.key.as_str()).push_bind(record.version as i64);
            });
            delete.push(")");
            moved += delete.build().execute(&mut *tx).await?.rows_affected();
        }
        // A key rewritten since it was read for this move stays in L2 only.
        sqlx::query(&drop_rewritten(SEGMENTS))
            .bind(&segment.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    });
    Ok(moved)
}

/// Keys with `prefix` in `index`'s tier, in key order, at most `limit`, with the object and
/// version holding each.
pub async fn locate_prefix(
    db: &Database,
    index: Index,
    prefix: &str,
    limit: i64,
) -> Result<Vec<(String, Segment, u64)>, sqlx::Error> {
    let Index {
        keys,
        objects,
        id_column,
    } = index;
    let matches = match db {
        Database::Sqlite(_) => "i.key >= $1 AND substr(i.key, 1, length($1)) = $1 ORDER BY i.key",
        Database::Postgres(_) => "starts_with(i.key, $1) ORDER BY i.key COLLATE \"C\"",
    };
    let sql = format!(
        "SELECT i.key, o.id, o.path, o.records, o.bytes, o.hash, i.version \
         FROM {keys} i JOIN {objects} o ON o.id = i.{id_column} WHERE {matches} LIMIT $2"
    );
    let rows: Vec<LocatedRow> =
        on_pool!(db, pool => sqlx::query_as(&sql).bind(prefix).bind(limit).fetch_all(pool).await?);
    Ok(rows
        .into_iter()
        .map(|(key, id, path, records, bytes, hash, version)| {
            (
                key,
                segment((id, path, records, bytes, hash)),
                version as u64,
            )
        })
        .collect())
}

/// Forgets `key` in L3 (its bytes stay in the segment until the segment is compacted).
pub async fn forget(db: &Database, key: &str) -> Result<bool, sqlx::Error> {
    const SQL: &str = "DELETE FROM store_l3_index WHERE key = $1";
    let done =
        on_pool!(db, pool => sqlx::query(SQL).bind(key).execute(pool).await?.rows_affected());
    Ok(done > 0)
}

/// Retention: takes up to `limit` keys last written before `before_ms` out of `index`'s
/// tier, oldest first; returns them. Their bytes go when their object does
/// ([`drop_empty`]).
pub async fn expire(
    db: &Database,
    index: Index,
    before_ms: i64,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let keys = index.keys;
    let sql = format!(
        "DELETE FROM {keys} WHERE key IN (SELECT key FROM {keys} WHERE updated_at_ms < $1 \
         ORDER BY updated_at_ms LIMIT $2) RETURNING key"
    );
    let expired: Vec<String> = on_pool!(db, pool => sqlx::query_scalar(&sql).bind(before_ms).bind(limit).fetch_all(pool).await?);
    Ok(expired)
}

/// Drops the index rows of `index`'s objects that no key points at any more (every record
/// rewritten, deleted or expired); returns their paths, for the caller to delete.
pub async fn drop_empty(db: &Database, index: Index) -> Result<Vec<String>, sqlx::Error> {
    let Index {
        keys,
        objects,
        id_column,
    } = index;
    let sql = format!(
        "DELETE FROM {objects} WHERE NOT EXISTS \
         (SELECT 1 FROM {keys} i WHERE i.{id_column} = {objects}.id) RETURNING path"
    );
    let paths: Vec<String> = on_pool!(db, pool => sqlx::query_scalar(&sql).fetch_all(pool).await?);
    Ok(paths)
}

/// `index`'s objects, oldest first, with their sizes: what a size policy trims from.
pub async fn objects_by_age(
    db: &Database,
    index: Index,
) -> Result<Vec<(String, u64)>, sqlx::Error> {
    let objects = index.objects;
    let sql = format!("SELECT id, bytes FROM {objects} ORDER BY created_at_ms, id");
    let rows: Vec<(String, i64)> =
        on_pool!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await?);
    Ok(rows
        .into_iter()
        .map(|(id, bytes)| (id, bytes as u64))
        .collect())
}

/// Keys, objects and their bytes in `index`'s tier, and the oldest indexed write.
pub async fn stats(
    db: &Database,
    index: Index,
) -> Result<(u64, u64, u64, Option<i64>), sqlx::Error> {
    let Index { keys, objects, .. } = index;
    let count_keys = format!("SELECT COUNT(*), MIN(updated_at_ms) FROM {keys}");
    let (count, oldest): (i64, Option<i64>) =
        on_pool!(db, pool => sqlx::query_as(&count_keys).fetch_one(pool).await?);
    let (objects, bytes): (i64, i64) = match db {
        Database::Sqlite(pool) => {
            sqlx::query_as(&format!(
                "SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM {objects}"
            ))
            .fetch_one(pool)
            .await?
        }
        Database::Postgres(pool) => {
            sqlx::query_as(&format!(
                "SELECT COUNT(*), COALESCE(SUM(bytes), 0)::BIGINT FROM {objects}"
            ))
            .fetch_one(pool)
            .await?
        }
    };
    Ok((count as u64, objects as u64, bytes as u64, oldest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_round_trip_and_hashes_read_back() {
        let records: Vec<Arc<Record>> = (0..3)
            .map(|i| {
                let value: Arc<[u8]> = Arc::from(vec![i as u8, 0, 255]);
                Arc::new(Record {
                    key: format!("k{i}"),
                    hash: crate::record::hash(&value),
                    value,
                    version: i + 1,
                    updated_at_ms: 42,
                })
            })
            .collect();
        let (bytes, hash) = encode(&records).unwrap();
        assert_eq!(crate::record::hash(&bytes), hash);
        let back = decode("s", &bytes).unwrap();
        assert_eq!(back.len(), 3);
        for (a, b) in back.iter().zip(&records) {
            assert_eq!(a, b.as_ref());
            assert!(a.is_intact());
        }
        assert!(decode("s", &bytes[..bytes.len() / 2]).is_err());
        assert_eq!(unhex(&hex(&hash)), Some(hash));
    }
}
