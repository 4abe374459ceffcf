//! L4: the archive. Old L3 segments are compacted (records superseded or deleted since are
//! dropped) into one object per archiving pass under `archive/`: zstd JSONL as in L3, sealed
//! with XChaCha20-Poly1305 under the configured key (a fresh random nonce per object, the
//! archive id as associated data). The object is hashed as a whole, like a segment, so
//! damage is caught before decryption is even tried; a wrong key or a tampered object fails
//! authentication and nothing is served.

use std::sync::Arc;

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use object_store::PutPayload;
use object_store::path::Path;
use switchyard_db::Database;

use crate::l3::{self, L3Error, Objects, Segment};
use crate::record::Record;

const NONCE_BYTES: usize = 24;

/// The archive's encryption key: 32 bytes, given as 64 hex digits.
#[derive(Clone)]
pub struct ArchiveKey([u8; 32]);

impl std::fmt::Debug for ArchiveKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ArchiveKey(***)")
    }
}

impl ArchiveKey {
    /// Parses 64 hex digits; the error says what is wrong without echoing the value.
    pub fn from_hex(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.len() != 64 {
            return Err(format!(
                "expected 64 hex digits (32 bytes), got {} characters",
                text.len()
            ));
        }
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[i * 2..i * 2 + 2], 16)
                .map_err(|_| "expected only hex digits (0-9, a-f)".to_owned())?;
        }
        Ok(Self(key))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(Key::from_slice(&self.0))
    }
}

/// Encrypts `plain` for archive `id`: nonce, then ciphertext with its tag.
pub fn seal(key: &ArchiveKey, id: &str, plain: &[u8]) -> Vec<u8> {
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let sealed = key
        .cipher()
        .encrypt(
            &nonce,
            Payload {
                msg: plain,
                aad: id.as_bytes(),
            },
        )
        .expect("encryption into memory cannot fail");
    let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    out
}

/// Decrypts what [`seal`] produced; `None` if the key is wrong or the bytes were changed.
pub fn open(key: &ArchiveKey, id: &str, sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < NONCE_BYTES {
        return None;
    }
    let (nonce, body) = sealed.split_at(NONCE_BYTES);
    key.cipher()
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: id.as_bytes(),
            },
        )
        .ok()
}

/// An archive object as the index knows it (same shape as a segment).
pub type Archive = Segment;

/// L4's index.
pub const ARCHIVES: l3::Index = l3::Index {
    keys: "store_l4_index",
    objects: "store_archives",
    id_column: "archive_id",
};

impl Objects {
    /// Writes `records` as one sealed archive object, reads it back and opens it again
    /// (copy → verify), and returns what the index should record.
    pub async fn write_archive(
        &self,
        key: &ArchiveKey,
        records: &[Arc<Record>],
    ) -> Result<Archive, L3Error> {
        let id = uuid::Uuid::now_v7().simple().to_string();
        let path = format!("archive/{id}.jsonl.zst.sealed");
        let (compressed, _) = l3::encode(records).map_err(|e| L3Error::Damaged {
            path: path.clone(),
            reason: format!("cannot encode: {e}"),
        })?;
        let sealed = seal(key, &id, &compressed);
        let hash = crate::record::hash(&sealed);
        let size = sealed.len() as u64;
        let location = Path::from(path.as_str());
        self.store()
            .put(&location, PutPayload::from(sealed))
            .await?;
        let archive = Archive {
            id,
            path,
            records: records.len() as u64,
            bytes: size,
            hash,
        };
        let back = self.read_archive(key, &archive).await?;
        if back.len() != records.len() {
            return Err(L3Error::Damaged {
                path: archive.path,
                reason: "the archive read back holds a different number of records".into(),
            });
        }
        Ok(archive)
    }

    /// The records of an archive, once its object matches the indexed hash and opens under
    /// `key`.
    pub async fn read_archive(
        &self,
        key: &ArchiveKey,
        archive: &Archive,
    ) -> Result<Vec<Record>, L3Error> {
        let bytes = self.read_indexed(&archive.path).await?;
        if crate::record::hash(&bytes) != archive.hash {
            return Err(L3Error::Damaged {
                path: archive.path.clone(),
                reason: "the object does not match its indexed hash".into(),
            });
        }
        let plain = open(key, &archive.id, &bytes).ok_or_else(|| L3Error::Damaged {
            path: archive.path.clone(),
            reason: "it does not open with the configured archive key".into(),
        })?;
        l3::decode(&archive.path, &plain)
    }

    /// Removes objects that the index no longer names (best effort).
    pub async fn remove(&self, path: &str) {
        if let Err(e) = self.store().delete(&Path::from(path)).await {
            tracing::warn!(%path, error = %e, "could not remove an unreferenced object");
        }
    }
}

type ArchiveRow = (String, String, i64, i64, Vec<u8>, i64);

/// Every archive with the keys the index places in it.
pub async fn archives(db: &Database) -> Result<Vec<(Archive, Vec<(String, u64)>)>, sqlx::Error> {
    const ARCHIVES: &str =
        "SELECT id, path, records, bytes, hash, created_at_ms FROM store_archives ORDER BY id";
    const KEYS: &str = "SELECT key, version FROM store_l4_index WHERE archive_id = $1";
    let rows: Vec<ArchiveRow> =
        on_pool!(db, pool => sqlx::query_as(ARCHIVES).fetch_all(pool).await?);
    let mut out = Vec::with_capacity(rows.len());
    for (id, path, records, bytes, hash, _) in rows {
        let keys: Vec<(String, i64)> =
            on_pool!(db, pool => sqlx::query_as(KEYS).bind(&id).fetch_all(pool).await?);
        out.push((
            Archive {
                id,
                path,
                records: records as u64,
                bytes: bytes as u64,
                hash: hash.try_into().unwrap_or([0; 32]),
            },
            keys.into_iter().map(|(k, v)| (k, v as u64)).collect(),
        ));
    }
    Ok(out)
}

/// Completes archiving in one transaction: the archive and its index rows in, the archived
/// versions' L3 index rows and the emptied segments out. Returns the records moved.
pub async fn commit_archive(
    db: &Database,
    archive: &Archive,
    records: &[Arc<Record>],
    segments: &[Segment],
    now_ms: i64,
) -> Result<u64, sqlx::Error> {
    let mut moved = 0;
    on_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        index_object!(tx, ARCHIVES, archive, records, now_ms);
        // A key rewritten since its segment was read stays in L2 only.
        sqlx::query(&l3::drop_rewritten(ARCHIVES))
            .bind(&archive.id)
            .execute(&mut *tx)
            .await?;
        for segment in segments {
            moved += sqlx::query("DELETE FROM store_l3_index WHERE segment_id = $1")
                .bind(&segment.id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query("DELETE FROM store_segments WHERE id = $1")
                .bind(&segment.id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(moved)
}

/// Takes `key` out of the archive index (after a restore put it back in L2).
pub async fn forget(db: &Database, key: &str) -> Result<bool, sqlx::Error> {
    const SQL: &str = "DELETE FROM store_l4_index WHERE key = $1";
    let done =
        on_pool!(db, pool => sqlx::query(SQL).bind(key).execute(pool).await?.rows_affected());
    Ok(done > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_bytes_open_only_with_the_key_and_id_they_were_sealed_with() {
        let key = ArchiveKey::from_hex(&"ab".repeat(32)).unwrap();
        let other = ArchiveKey::from_hex(&"cd".repeat(32)).unwrap();
        let sealed = seal(&key, "a1", b"secret records");
        assert_eq!(
            open(&key, "a1", &sealed).as_deref(),
            Some(&b"secret records"[..])
        );
        assert_eq!(open(&other, "a1", &sealed), None, "wrong key");
        assert_eq!(open(&key, "a2", &sealed), None, "wrong archive");
        let mut flipped = sealed.clone();
        flipped[30] ^= 1;
        assert_eq!(open(&key, "a1", &flipped), None, "tampered");
        assert!(
            ArchiveKey::from_hex("abc")
                .unwrap_err()
                .contains("64 hex digits")
        );
        assert!(
            ArchiveKey::from_hex(&"zz".repeat(32))
                .unwrap_err()
                .contains("hex digits")
        );
        assert_eq!(format!("{key:?}"), "ArchiveKey(***)");
    }
}
