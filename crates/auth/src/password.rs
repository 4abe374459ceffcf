//! Password hashes: argon2id with the crate's default (OWASP-recommended) cost, stored as
//! PHC strings so the parameters travel with the hash.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// The shortest password accepted.
pub const MIN_LENGTH: usize = 12;
/// The longest password accepted, in characters.
pub const MAX_LENGTH: usize = 1024;

/// Why a password was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("the password must be at least {MIN_LENGTH} characters long")]
    TooShort,
    #[error("the password must not be longer than {MAX_LENGTH} characters")]
    TooLong,
}

/// Checks a new password's length.
pub fn acceptable(password: &str) -> Result<(), PasswordError> {
    if password.chars().count() < MIN_LENGTH {
        return Err(PasswordError::TooShort);
    }
    if password.chars().count() > MAX_LENGTH {
        return Err(PasswordError::TooLong);
    }
    Ok(())
}

/// The argon2id hash of `password`, with a fresh salt.
pub fn hash(password: &str) -> String {
    let salt = SaltString::encode_b64(&crate::random::bytes(16)).expect("16 bytes is a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes any input")
        .to_string()
}

/// Whether `password` matches `stored` (false for a malformed stored hash).
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify_only_the_right_password() {
        let a = hash("correct horse battery");
        let b = hash("correct horse battery");
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "a fresh salt each time");
        assert!(verify("correct horse battery", &a));
        assert!(!verify("correct horse batterY", &a));
        assert!(!verify("anything", "not a hash"));
        assert_eq!(acceptable("short"), Err(PasswordError::TooShort));
        assert_eq!(acceptable("long enough now"), Ok(()));
    }
}
