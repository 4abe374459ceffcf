//! The profile of small files written by hand (every figure checked), the same rows as CSV,
//! JSON and JSONL, and inputs that are refused: empty, binary, not UTF-8, malformed, also a
//! malformed file of over 200 MB read as a stream.

use std::io::Read;

use switchyard_datasets::profile::{Issue, Problem};
use switchyard_datasets::{Format, Kind, Options, ProfileError, ReadError, profile};

/// Ten people; row 3's age is not a number, row 6 has no email (required), row 9 repeats
/// id 4.
const PEOPLE: &str = "id,name,email,age,joined,active
1,Ann,ann@example.com,34,2024-01-05,true
2,Bob,bob@example.com,41,2024-02-11,false
3,Cid,cid@example.com,abc,2024-03-02,true
4,Dee,dee@example.com,29,2024-03-09,true
5,Eve,eve@example.com,52,2024-04-20,false
6,Fay,,38,2024-05-01,true
7,Gus,gus@example.com,45,2024-06-15,true
8,Hal,hal@example.com,23,2024-07-04,false
4,Ivy,ivy@example.com,31,2024-08-30,true
10,Jon,jon@example.com,27,2024-09-12,true
";

fn options() -> Options {
    Options {
        key: Some("id".into()),
        required: vec!["email".into()],
        ..Options::default()
    }
}

#[test]
fn a_csv_with_three_bad_rows_lists_them_with_kinds_and_scores() {
    let p = profile(PEOPLE.as_bytes(), Format::Csv, &options()).unwrap();
    assert_eq!(p.rows, 10);
    let kinds: Vec<(&str, Kind)> = p
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("id", Kind::Integer),
            ("name", Kind::Text),
            ("email", Kind::Text),
            ("age", Kind::Integer),
            ("joined", Kind::Date),
            ("active", Kind::Boolean),
        ]
    );
    assert_eq!(
        p.problems,
        [
            Problem {
                row: 3,
                column: "age".into(),
                issue: Issue::Mismatch {
                    expected: Kind::Integer,
                    value: "abc".into()
                }
            },
            Problem {
                row: 6,
                column: "email".into(),
                issue: Issue::Missing
            },
            Problem {
                row: 9,
                column: "id".into(),
                issue: Issue::DuplicateKey {
                    value: "4".into(),
                    first_row: 4
                }
            },
        ]
    );
    assert_eq!((p.problem_count, p.bad_rows), (3, 3));
    let column = |name: &str| p.columns.iter().find(|c| c.name == name).unwrap();
    let age = column("age");
    assert_eq!((age.present, age.valid, age.missing), (10, 9, 0));
    assert!((age.scores.validity - 0.9).abs() < 1e-9);
    let email = column("email");
    assert!((email.scores.completeness - 0.9).abs() < 1e-9);
    let id = column("id");
    assert_eq!(id.distinct, 9);
    assert!((id.scores.uniqueness - 0.9).abs() < 1e-9);
    // Overall: 59 of 60 cells present, 58 of them valid, 10 distinct rows.
    assert!((p.scores.completeness - 59.0 / 60.0).abs() < 1e-9);
    assert!((p.scores.validity - 58.0 / 59.0).abs() < 1e-9);
    assert!((p.scores.uniqueness - 1.0).abs() < 1e-9);
    assert_eq!(p.preview.len(), 10);
    assert_eq!(p.preview[5], ["6", "Fay", "", "38", "2024-05-01", "true"]);
}

#[test]
fn the_same_rows_as_json_and_jsonl_profile_alike() {
    let mut lines = PEOPLE.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let objects: Vec<serde_json::Value> = lines
        .map(|line| {
            let mut object = serde_json::Map::new();
            for (name, value) in header.iter().zip(line.split(',')) {
                let value = match *name {
                    "id" => serde_json::json!(value.parse::<i64>().unwrap()),
                    "age" => value
                        .parse::<i64>()
                        .map_or_else(|_| serde_json::json!(value), |n| serde_json::json!(n)),
                    "active" => serde_json::json!(value == "true"),
                    _ if value.is_empty() => serde_json::Value::Null,
                    _ => serde_json::json!(value),
                };
                object.insert((*name).to_owned(), value);
            }
            serde_json::Value::Object(object)
        })
        .collect();
    let json = serde_json::to_string(&objects).unwrap();
    let jsonl: String = objects.iter().map(|o| format!("{o}\n")).collect();
    let csv = profile(PEOPLE.as_bytes(), Format::Csv, &options()).unwrap();
    for (text, format) in [(json, Format::Json), (jsonl, Format::Jsonl)] {
        let p = profile(text.as_bytes(), format, &options()).unwrap();
        assert_eq!(p.rows, 10, "{format:?}");
        assert_eq!(p.problems, csv.problems, "{format:?}");
        let kinds: Vec<Kind> = p.columns.iter().map(|c| c.kind).collect();
        let csv_kinds: Vec<Kind> = csv.columns.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, csv_kinds, "{format:?}");
        assert_eq!(p.scores, csv.scores, "{format:?}");
    }
}

#[test]
fn a_key_that_appears_only_in_later_objects_counts_as_missing_before() {
    let jsonl = "{\"a\": 1}\n{\"a\": 2, \"b\": \"x\"}\n";
    let p = profile(jsonl.as_bytes(), Format::Jsonl, &Options::default()).unwrap();
    let b = &p.columns[1];
    assert_eq!((b.name.as_str(), b.present, b.missing), ("b", 1, 1));
    assert_eq!(p.preview, [vec!["1", ""], vec!["2", "x"]]);
}

#[test]
fn empty_binary_non_utf8_and_malformed_inputs_are_refused_naming_why() {
    let refused = |bytes: &[u8], format| profile(bytes, format, &Options::default()).unwrap_err();
    assert_eq!(
        refused(b"", Format::Csv),
        ProfileError::Read(ReadError::Empty)
    );
    assert_eq!(
        refused(b"[]", Format::Json).to_string(),
        "line 1: the array is empty"
    );
    assert_eq!(
        refused(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", Format::Csv),
        ProfileError::Read(ReadError::Binary(8192))
    );
    assert_eq!(
        refused(b"a,b\n1,\xff\xfe\n", Format::Csv),
        ProfileError::Read(ReadError::NotUtf8 { line: 2 })
    );
    assert_eq!(
        refused(b"a,b\n1,2\n3\n", Format::Csv).to_string(),
        "line 3: 1 fields where the header has 2"
    );
    assert_eq!(
        refused(b"{\"a\": 1}\n{\"a\": \n", Format::Jsonl).to_string(),
        "line 2: not JSON: EOF while parsing a value at line 1 column 6"
    );
    assert_eq!(
        refused(b"[{\"a\": 1}, 2]", Format::Json).to_string(),
        "line 1: each item of the array must be an object"
    );
    assert_eq!(
        refused(b"a,a\n1,2\n", Format::Csv),
        ProfileError::Read(ReadError::DuplicateColumn("a".into()))
    );
    assert_eq!(
        profile(
            PEOPLE.as_bytes(),
            Format::Csv,
            &Options {
                key: Some("nope".into()),
                ..Options::default()
            }
        )
        .unwrap_err(),
        ProfileError::UnknownColumn("nope".into())
    );
}

/// A CSV of `rows` wide rows, generated as it is read, whose last line has one field.
struct Generated {
    rows: u64,
    next: u64,
    pending: Vec<u8>,
}

impl Read for Generated {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pending.is_empty() {
            self.pending = match self.next {
                0 => b"id,payload\n".to_vec(),
                n if n <= self.rows => format!("{n},{}\n", "x".repeat(200)).into_bytes(),
                n if n == self.rows + 1 => b"broken\n".to_vec(),
                _ => return Ok(0),
            };
            self.next += 1;
        }
        let n = out.len().min(self.pending.len());
        out[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

#[test]
fn a_malformed_file_of_over_200_mb_is_read_as_a_stream_and_refused_at_its_bad_line() {
    let rows = 1_050_000; // about 212 MB
    let input = Generated {
        rows,
        next: 0,
        pending: Vec::new(),
    };
    let refused = profile(input, Format::Csv, &Options::default()).unwrap_err();
    assert_eq!(
        refused.to_string(),
        format!("line {}: 1 fields where the header has 2", rows + 2)
    );
}

#[test]
fn problems_past_the_listing_are_still_counted_with_their_rows() {
    let csv = "n\n1\nx\n2\ny\n3\n4\n5\n6\n7\n8\n9\nz\n";
    let p = profile(
        csv.as_bytes(),
        Format::Csv,
        &Options {
            max_problems: 1,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(
        p.columns[0].kind,
        Kind::Text,
        "3 of 12 do not fit: under 90 %"
    );
    let csv = format!(
        "n\n{}x\n",
        (1..=20).map(|n| format!("{n}\n")).collect::<String>()
    );
    let p = profile(
        csv.as_bytes(),
        Format::Csv,
        &Options {
            max_problems: 0,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(p.columns[0].kind, Kind::Integer);
    assert_eq!((p.problems.len(), p.problem_count, p.bad_rows), (0, 1, 1));
}
