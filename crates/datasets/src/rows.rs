//! The second pass, after a person confirms: the rows that passed the check, each value typed
//! by its column's kind, handed on in batches. A row is left out by the same rules the check
//! counted it bad by (a value that does not fit its column's kind, a missing required or key
//! value, a key seen in an earlier row), so the rows written are exactly the rows checked less
//! [`Profile::bad_rows`].

use std::collections::HashMap;
use std::io::Read;

use serde_json::{Map, Value};

use crate::kind::{Kind, kinds_of};
use crate::profile::{Options, Profile, ProfileError, hash_of};
use crate::read::{Cell, Event, Format, read_rows};

/// One row as written: column name → typed value (`null` for a missing one).
pub type Row = Map<String, Value>;

/// What the pass handed on and left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Passed {
    pub rows: u64,
    pub skipped: u64,
}

/// Reads `input` again and hands every row that passes to `take`, `batch` rows at a time
/// (the last batch may be shorter). `take` answering `false` stops the pass early.
pub fn passing_rows(
    input: impl Read,
    format: Format,
    profile: &Profile,
    options: &Options,
    batch: usize,
    mut take: impl FnMut(Vec<Row>) -> bool,
) -> Result<Passed, ProfileError> {
    let kinds: HashMap<&str, Kind> = profile
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.kind))
        .collect();
    let mut columns: Vec<String> = Vec::new();
    // Per column index: its kind's position in `Kind::CHECKED` (None: anything fits).
    let mut checked: Vec<Option<usize>> = Vec::new();
    let mut key: Option<usize> = None;
    let mut required: Vec<usize> = Vec::new();
    let mut keys: HashMap<u64, u64> = HashMap::new();
    let mut passed = Passed::default();
    let mut pending: Vec<Row> = Vec::with_capacity(batch);
    let mut row_number: u64 = 0;
    let mut stopped = false;
    read_rows(input, format, |event| {
        let row = match event {
            Event::Columns(names) => {
                columns = names.to_vec();
                checked = columns
                    .iter()
                    .map(|name| {
                        let kind = kinds.get(name.as_str()).copied().unwrap_or(Kind::Text);
                        Kind::CHECKED.iter().position(|k| *k == kind)
                    })
                    .collect();
                let at = |name: &String| columns.iter().position(|c| c == name);
                key = options.key.as_ref().and_then(at);
                required = options.required.iter().filter_map(at).collect();
                return true;
            }
            Event::Row(row) => row,
        };
        row_number += 1;
        let cell_at = |at: usize| row.get(at).unwrap_or(&Cell::Missing);
        let mut bad = row.iter().enumerate().any(|(at, cell)| {
            !matches!(cell, Cell::Missing) && checked[at].is_some_and(|i| !kinds_of(cell).has(i))
        });
        bad |= required
            .iter()
            .chain(key.iter())
            .any(|&at| matches!(cell_at(at), Cell::Missing));
        if let Some(at) = key
            && !matches!(cell_at(at), Cell::Missing)
        {
            let first = *keys
                .entry(hash_of(&cell_at(at).shown()))
                .or_insert(row_number);
            bad |= first != row_number;
        }
        if bad {
            passed.skipped += 1;
            return true;
        }
        let mut typed = Map::with_capacity(columns.len());
        for (at, name) in columns.iter().enumerate() {
            let kind = checked[at].map_or(Kind::Text, |i| Kind::CHECKED[i]);
            typed.insert(name.clone(), typed_value(cell_at(at), kind));
        }
        pending.push(typed);
        passed.rows += 1;
        if pending.len() >= batch {
            let full = std::mem::replace(&mut pending, Vec::with_capacity(batch));
            if !take(full) {
                stopped = true;
                return false;
            }
        }
        true
    })?;
    if !stopped && !pending.is_empty() {
        take(pending);
    }
    Ok(passed)
}

/// `cell` as JSON, read as `kind` (the check made sure it fits).
fn typed_value(cell: &Cell, kind: Kind) -> Value {
    match (cell, kind) {
        (Cell::Missing, _) => Value::Null,
        (Cell::Bool(b), _) => Value::Bool(*b),
        (Cell::Nested(json), _) => {
            serde_json::from_str(json).unwrap_or_else(|_| json.clone().into())
        }
        (Cell::Text(text), Kind::Boolean) => {
            Value::Bool(text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("yes"))
        }
        (Cell::Text(text) | Cell::Number(text, _), Kind::Integer | Kind::Number) => number(text),
        (Cell::Number(text, _), _) => number(text),
        (Cell::Text(text), _) => Value::String(text.clone()),
    }
}

/// A number from its text: an `i64` or `u64` when it is one, else an `f64`; text that is
/// neither stays text.
fn number(text: &str) -> Value {
    let digits = text.strip_prefix('+').unwrap_or(text);
    if let Ok(n) = digits.parse::<i64>() {
        return n.into();
    }
    if let Ok(n) = digits.parse::<u64>() {
        return n.into();
    }
    text.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or_else(|| Value::String(text.to_owned()), Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::profile;

    fn pass(input: &str, format: Format, options: &Options) -> (Profile, Vec<Row>, Passed) {
        let checked = profile(input.as_bytes(), format, options).unwrap();
        let mut rows = Vec::new();
        let passed = passing_rows(input.as_bytes(), format, &checked, options, 2, |batch| {
            assert!(batch.len() <= 2);
            rows.extend(batch);
            true
        })
        .unwrap();
        (checked, rows, passed)
    }

    #[test]
    fn the_rows_written_are_the_rows_checked_less_the_bad_ones() {
        // Row 3: not an integer; row 5: missing required name; row 6: duplicate key 1.
        let csv = "id,name,score,ok,day\n\
                   1,ann,3.5,yes,2026-12-01\n\
                   2,bob,4,no,2026-12-02\n\
                   x,cid,1,true,2026-12-03\n\
                   4,dee,,false,2026-12-04\n\
                   5,,2,true,2026-12-05\n\
                   1,eve,2,true,2026-12-06\n\
                   7,fay,2,TRUE,2026-12-07\n\
                   8,gus,2,true,2026-12-08\n\
                   9,hal,2,true,2026-12-09\n\
                   10,ivy,2,true,2026-12-10\n\
                   11,jon,2,true,2026-12-11\n";
        let options = Options {
            key: Some("id".into()),
            required: vec!["name".into()],
            ..Options::default()
        };
        let (checked, rows, passed) = pass(csv, Format::Csv, &options);
        assert_eq!(checked.bad_rows, 3, "{:?}", checked.problems);
        assert_eq!(passed.rows, checked.rows - checked.bad_rows);
        assert_eq!(passed.skipped, 3);
        assert_eq!(rows.len(), 8);
        let ids: Vec<&Value> = rows.iter().map(|r| &r["id"]).collect();
        assert_eq!(
            ids[..3],
            [&Value::from(1), &Value::from(2), &Value::from(4)]
        );
        assert_eq!(rows[0]["score"], Value::from(3.5));
        assert_eq!(rows[0]["ok"], Value::Bool(true));
        assert_eq!(rows[1]["ok"], Value::Bool(false));
        assert_eq!(rows[2]["score"], Value::Null);
        assert_eq!(rows[0]["day"], Value::from("2026-12-01"));
        assert_eq!(rows[0]["name"], Value::from("ann"));
    }

    #[test]
    fn json_values_keep_their_own_types_and_late_columns() {
        let jsonl = "{\"a\":1,\"b\":{\"x\":[1,2]}}\n{\"a\":2,\"c\":\"new\"}\n";
        let (_, rows, passed) = pass(jsonl, Format::Jsonl, &Options::default());
        assert_eq!(
            passed,
            Passed {
                rows: 2,
                skipped: 0
            }
        );
        assert_eq!(rows[0]["b"], serde_json::json!({"x": [1, 2]}));
        assert_eq!(rows[1]["c"], Value::from("new"));
        assert_eq!(rows[1]["b"], Value::Null);
    }

    #[test]
    fn a_false_answer_stops_the_pass() {
        let csv = "a\n1\n2\n3\n4\n5\n";
        let checked = profile(csv.as_bytes(), Format::Csv, &Options::default()).unwrap();
        let mut batches = 0;
        passing_rows(
            csv.as_bytes(),
            Format::Csv,
            &checked,
            &Options::default(),
            2,
            |_| {
                batches += 1;
                false
            },
        )
        .unwrap();
        assert_eq!(batches, 1);
    }
}
