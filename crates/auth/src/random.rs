//! Random identifiers and secrets from the operating system's generator.

use base64::Engine as _;

/// `n` random bytes.
pub fn bytes(n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    getrandom::fill(&mut out).expect("the operating system's random generator works");
    out
}

/// `n` random bytes as URL-safe base64 without padding.
pub fn token(n: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes(n))
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_distinct_and_url_safe() {
        let a = super::token(32);
        let b = super::token(32);
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }
}
