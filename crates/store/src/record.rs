//! Records and their content hashes.

use std::sync::Arc;

/// A BLAKE3 hash of a record's value.
pub type Hash = [u8; 32];

/// One key-value record as stored: the value, its version (1 for the first write, +1 for each
/// overwrite) and the hash of the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub key: String,
    pub value: Arc<[u8]>,
    pub version: u64,
    pub hash: Hash,
    /// Milliseconds since the epoch.
    pub updated_at_ms: i64,
}

impl Record {
    /// Whether the value still matches its hash.
    pub fn is_intact(&self) -> bool {
        hash(&self.value) == self.hash
    }
}

/// The content hash of `value`.
pub fn hash(value: &[u8]) -> Hash {
    *blake3::hash(value).as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flipped_bit_breaks_the_hash() {
        let value: Arc<[u8]> = Arc::from(&b"hello"[..]);
        let mut record = Record {
            key: "k".into(),
            hash: hash(&value),
            value,
            version: 1,
            updated_at_ms: 0,
        };
        assert!(record.is_intact());
        let mut bytes = record.value.to_vec();
        bytes[0] ^= 1;
        record.value = bytes.into();
        assert!(!record.is_intact());
    }
}
