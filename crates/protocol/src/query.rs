//! Query mode and the top bar's search: what the search index found, ranked, each with the
//! part of its text that matched.

use serde::{Deserialize, Serialize};

/// A piece of a snippet: matched words are `hit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Fragment {
    pub text: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hit: bool,
}

/// One thing found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueryHit {
    /// `run`, `dataset` or `log`.
    pub kind: String,
    pub title: String,
    /// The page it links to.
    pub href: String,
    pub project: String,
    /// Relevance: higher is better (comparable within one answer only).
    pub score: f64,
    /// The best matching part of its text, matched words marked.
    pub snippet: Vec<Fragment>,
}

/// `GET /api/v1/search`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueryResults {
    /// The words searched for, as the index read them.
    pub words: Vec<String>,
    pub hits: Vec<QueryHit>,
    pub took_ms: f64,
}

/// The characters that open and close a matched word in a snippet as the database writes it
/// (private-use code points: never in indexed text, never shown).
pub const MARK_OPEN: char = '\u{E000}';
pub const MARK_CLOSE: char = '\u{E001}';

/// A snippet with [`MARK_OPEN`] / [`MARK_CLOSE`] around matched words, as fragments.
pub fn fragments(marked: &str) -> Vec<Fragment> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut hit = false;
    for c in marked.chars() {
        let opens = c == MARK_OPEN;
        if opens || c == MARK_CLOSE {
            if !text.is_empty() {
                out.push(Fragment {
                    text: std::mem::take(&mut text),
                    hit,
                });
            }
            hit = opens;
        } else {
            text.push(c);
        }
    }
    if !text.is_empty() {
        out.push(Fragment { text, hit });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marked_snippets_become_fragments() {
        let marked = format!("the {MARK_OPEN}quarterly{MARK_CLOSE} report{MARK_OPEN}s{MARK_CLOSE}");
        let parts = fragments(&marked);
        assert_eq!(
            parts,
            [
                Fragment {
                    text: "the ".into(),
                    hit: false
                },
                Fragment {
                    text: "quarterly".into(),
                    hit: true
                },
                Fragment {
                    text: " report".into(),
                    hit: false
                },
                Fragment {
                    text: "s".into(),
                    hit: true
                },
            ]
        );
        assert!(fragments("").is_empty());
    }
}
