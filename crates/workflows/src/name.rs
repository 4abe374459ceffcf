//! Template names: they appear in URLs (`/api/v1/workflows/{name}/runs`) and in API key
//! scopes (`workflows:run:{name}`), so they are short, lowercase and URL-safe.

/// The longest name.
pub const MAX_LEN: usize = 63;

/// The rule, said the way an error message says it.
pub const RULE: &str =
    "1 to 63 lowercase letters, digits, '-' or '_', starting with a letter or digit";

/// The rule as a regular expression (for the API document).
pub const PATTERN: &str = "^[a-z0-9][a-z0-9_-]{0,62}$";

/// `Ok` when `name` follows [`RULE`]; the error names the name and the rule.
pub fn check(name: &str) -> Result<(), String> {
    let mut bytes = name.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let rest_ok =
        bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if first_ok && rest_ok && name.len() <= MAX_LEN {
        Ok(())
    } else {
        Err(format!("invalid template name '{name}': expected {RULE}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_url_safe() {
        for good in ["onboard", "a", "book-flight_2", &"x".repeat(MAX_LEN)] {
            assert!(check(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "-lead",
            "Upper",
            "has space",
            "a/b",
            "é",
            &"x".repeat(MAX_LEN + 1),
        ] {
            let err = check(bad).unwrap_err();
            assert!(err.contains("expected 1 to 63"), "{err}");
        }
    }
}
