//! Datasets (the orchestrator panel's data mode and `/api/v1/datasets`): what a check of an
//! uploaded file finds (a kind per column, the values that do not fit, missing required
//! values, duplicate keys, quality scores), and the datasets written into the tiered store.

use serde::{Deserialize, Serialize};

/// How the rows are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    pub const ALL: [Format; 3] = [Self::Csv, Self::Json, Self::Jsonl];

    /// The format a file name's extension names (`.csv`, `.json`, `.jsonl` / `.ndjson`).
    pub fn from_file_name(name: &str) -> Option<Self> {
        let extension = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match extension.as_str() {
            "csv" => Some(Self::Csv),
            "json" => Some(Self::Json),
            "jsonl" | "ndjson" => Some(Self::Jsonl),
            _ => None,
        }
    }

    /// The format pasted text is most likely in: a JSON array, JSON lines, else CSV.
    pub fn guess(text: &str) -> Self {
        match text.trim_start().as_bytes().first() {
            Some(b'[') => Self::Json,
            Some(b'{') => Self::Jsonl,
            _ => Self::Csv,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Json => "json",
            Self::Jsonl => "jsonl",
        }
    }

    /// Parses `csv`, `json` or `jsonl` (`ndjson` too); the error names the choices.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "csv" => Ok(Self::Csv),
            "json" => Ok(Self::Json),
            "jsonl" | "ndjson" => Ok(Self::Jsonl),
            other => Err(format!(
                "unknown format '{other}': expected csv, json or jsonl"
            )),
        }
    }
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `true` / `false` (any case), and for CSV `yes` / `no`.
    Boolean,
    Integer,
    /// Any number, integers included.
    Number,
    /// `YYYY-MM-DD`, with an optional time (`T` or a space) as RFC 3339 writes it.
    Date,
    /// Anything: every value fits.
    Text,
    /// No value at all.
    Empty,
}

impl Kind {
    /// The kinds a column is checked for, most specific first; a column is the first that
    /// nearly all its values fit, else [`Kind::Text`].
    pub const CHECKED: [Kind; 4] = [Self::Boolean, Self::Integer, Self::Number, Self::Date];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Boolean => "boolean",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Date => "date",
            Self::Text => "text",
            Self::Empty => "empty",
        }
    }
}

/// Completeness, validity and uniqueness, each 0 to 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Scores {
    /// Values present over rows.
    pub completeness: f64,
    /// Present values that fit the column's kind over values present.
    pub validity: f64,
    /// Distinct values over values present (for the whole dataset: distinct rows over rows).
    pub uniqueness: f64,
}

/// One column as the check found it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ColumnProfile {
    pub name: String,
    pub kind: Kind,
    pub present: u64,
    pub missing: u64,
    /// Present values that fit `kind`.
    pub valid: u64,
    pub distinct: u64,
    /// False when the column had too many distinct values to count them all.
    pub distinct_exact: bool,
    pub scores: Scores,
}

/// What is wrong with one value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Issue {
    /// The value does not fit the column's kind.
    Mismatch { expected: Kind, value: String },
    /// A required (or key) column has no value.
    Missing,
    /// The key column repeats the value of an earlier row.
    DuplicateKey { value: String, first_row: u64 },
}

impl Issue {
    /// One line for a person: `'abc' is not an integer`.
    pub fn describe(&self) -> String {
        match self {
            Self::Mismatch { expected, value } => {
                format!("'{value}' is not {}", with_article(expected.as_str()))
            }
            Self::Missing => "missing (required)".to_owned(),
            Self::DuplicateKey { value, first_row } => {
                format!("duplicate key '{value}' (first in row {first_row})")
            }
        }
    }
}

fn with_article(word: &str) -> String {
    match word.as_bytes().first() {
        Some(b'a' | b'e' | b'i' | b'o' | b'u') => format!("an {word}"),
        _ => format!("a {word}"),
    }
}

/// A problem at a row (1 for the first row after a CSV header, or the first object).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    pub row: u64,
    pub column: String,
    #[serde(flatten)]
    pub issue: Issue,
}

/// A whole check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Profile {
    pub format: Format,
    pub rows: u64,
    pub columns: Vec<ColumnProfile>,
    /// The first rows, values as shown, by column.
    pub preview: Vec<Vec<String>>,
    /// The first problems, by row.
    pub problems: Vec<Problem>,
    /// Every problem, listed or not.
    pub problem_count: u64,
    /// Rows with at least one problem (left out when the dataset is written).
    pub bad_rows: u64,
    pub scores: Scores,
}

/// What else a check looks for, besides each column's kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CheckOptions {
    /// A column whose values must be present and unique.
    #[serde(default)]
    pub key: Option<String>,
    /// Columns whose values must be present.
    #[serde(default)]
    pub required: Vec<String>,
}

/// `POST /api/v1/datasets/check`: the uploaded file, checked and kept (not yet a dataset)
/// until it is written or discarded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DatasetCheck {
    /// Names the upload to write (`POST /api/v1/datasets`) or check again.
    pub upload: String,
    /// The file's name as sent (`file_name`), if any.
    pub file_name: Option<String>,
    pub bytes: u64,
    pub options: CheckOptions,
    pub profile: Profile,
    /// Milliseconds the check took (reading the upload included).
    pub took_ms: u64,
}

/// `POST /api/v1/datasets`: write a checked upload as a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WriteDataset {
    /// The `upload` of the check.
    pub upload: String,
    /// 1 to 64 characters: letters, digits, `-`, `_` and `.`, starting with a letter or digit;
    /// unique in its project.
    pub name: String,
    /// The project (default: the caller's only project, else `default`).
    #[serde(default)]
    pub project: Option<String>,
}

/// Where a dataset's writing stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DatasetStatus {
    /// Rows are going into the store (`rows_written` of `rows` so far).
    Writing,
    Ready,
    /// Writing stopped (`error` says why); no rows are kept.
    Failed,
}

impl DatasetStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Writing => "writing",
            Self::Ready => "ready",
            Self::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "writing" => Some(Self::Writing),
            "ready" => Some(Self::Ready),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// One column of a written dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DatasetColumn {
    pub name: String,
    pub kind: Kind,
    pub scores: Scores,
}

/// A dataset: its rows live in the tiered store under `datasets/{id}/rows/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DatasetView {
    pub id: String,
    pub project: String,
    pub name: String,
    pub status: DatasetStatus,
    pub format: Format,
    pub file_name: Option<String>,
    pub bytes: u64,
    /// Rows to write (the checked rows less the bad ones).
    pub rows: u64,
    pub rows_written: u64,
    /// Rows left out because they had a problem.
    pub rows_skipped: u64,
    pub columns: Vec<DatasetColumn>,
    /// Scores of the file as checked (bad rows included).
    pub scores: Scores,
    /// The key column, if one was chosen.
    pub key: Option<String>,
    pub created_by: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub error: Option<String>,
}

/// `GET /api/v1/datasets`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DatasetList {
    pub datasets: Vec<DatasetView>,
}

/// `GET /api/v1/datasets/{id}/rows`: rows as written (typed by their column's kind).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DatasetRows {
    pub offset: u64,
    pub total: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// Rows per record in the store.
pub const ROWS_PER_CHUNK: u64 = 1_000;

/// The store key of chunk `index` of dataset `id`.
pub fn chunk_key(id: &str, index: u64) -> String {
    format!("datasets/{id}/rows/{index:08}")
}

/// Checks a dataset name: 1 to 64 of letters, digits, `-`, `_`, `.`, starting with a letter
/// or digit. The error says what is wrong.
pub fn check_name(name: &str) -> Result<(), String> {
    let starts_well = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let fits = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if name.is_empty() || name.len() > 64 {
        Err("name: expected 1 to 64 characters".to_owned())
    } else if !starts_well || !fits {
        Err(format!(
            "name '{name}': use letters, digits, '-', '_' and '.', starting with a letter or digit"
        ))
    } else {
        Ok(())
    }
}

/// A dataset name from a file name: `sales 2026.csv` → `sales-2026`.
pub fn name_from_file(file_name: &str) -> String {
    let stem = file_name
        .rsplit_once('.')
        .map_or(file_name, |(stem, _)| stem);
    let mut name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    name = name
        .trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned();
    name.truncate(64);
    if name.is_empty() {
        "dataset".to_owned()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_made_from_file_names() {
        assert!(check_name("sales-2026.v1").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("-x").is_err());
        assert!(check_name("a/b").is_err());
        assert!(check_name(&"a".repeat(65)).is_err());
        assert_eq!(name_from_file("sales 2026.csv"), "sales-2026");
        assert_eq!(name_from_file("...csv"), "dataset");
        assert!(check_name(&name_from_file(&"é".repeat(100))).is_ok());
    }

    #[test]
    fn formats_are_guessed_from_names_and_text() {
        assert_eq!(Format::from_file_name("a.NDJSON"), Some(Format::Jsonl));
        assert_eq!(Format::from_file_name("a.txt"), None);
        assert_eq!(Format::guess("  [{\"a\":1}]"), Format::Json);
        assert_eq!(Format::guess("{\"a\":1}\n"), Format::Jsonl);
        assert_eq!(Format::guess("a,b\n1,2"), Format::Csv);
        assert_eq!(
            Issue::Mismatch {
                expected: Kind::Integer,
                value: "x".into()
            }
            .describe(),
            "'x' is not an integer"
        );
    }
}
