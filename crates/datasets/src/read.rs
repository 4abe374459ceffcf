//! Rows out of a byte stream: CSV (a header row, then records), a JSON array of objects, or
//! JSONL (an object per line), read one row at a time so that a file of any size is never
//! held in memory. A binary or malformed input is an error that names where it went wrong.

use std::io::{BufRead, BufReader, Read};

use serde::de::{DeserializeSeed, SeqAccess, Visitor};

pub use switchyard_protocol::dataset::Format;

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// An empty CSV field, a JSON `null`, or a key the object lacks.
    Missing,
    /// Text to be read for its kind: every CSV field, a JSON string.
    Text(String),
    /// A JSON number; `true` when it is an integer.
    Number(String, bool),
    Bool(bool),
    /// A JSON object or array, as its JSON text.
    Nested(String),
}

impl Cell {
    /// The value as it is shown (empty for a missing one).
    pub fn shown(&self) -> &str {
        match self {
            Self::Missing => "",
            Self::Text(text) | Self::Number(text, _) | Self::Nested(text) => text,
            Self::Bool(true) => "true",
            Self::Bool(false) => "false",
        }
    }
}

/// Why the input cannot be read as rows. Nothing is written for an input that has one.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReadError {
    #[error("the file is empty")]
    Empty,
    #[error(
        "the file looks binary (a NUL byte within its first {0} bytes), not CSV, JSON or JSONL"
    )]
    Binary(usize),
    #[error("line {line}: not UTF-8 text")]
    NotUtf8 { line: u64 },
    #[error("line {line}: {message}")]
    Malformed { line: u64, message: String },
    #[error("the header names column '{0}' twice")]
    DuplicateColumn(String),
    #[error("could not read the input: {0}")]
    Io(String),
}

/// How many leading bytes are looked at for NUL bytes.
pub const SNIFF_BYTES: usize = 8192;

/// What reading hands on, in order.
#[derive(Debug)]
pub enum Event<'a> {
    /// Every column name known so far, each time they grow (a JSON object may bring a new
    /// key; CSV names them all once, from its header).
    Columns(&'a [String]),
    /// A row: values by column index (shorter than the columns when later keys are absent).
    Row(Vec<Cell>),
}

/// Reads every row of `input` in `format`, handing each [`Event`] to `handle`. Stops at the
/// first error, or when `handle` answers `false`.
pub fn read_rows(
    input: impl Read,
    format: Format,
    mut handle: impl FnMut(Event) -> bool,
) -> Result<(), ReadError> {
    let mut input = BufReader::with_capacity(64 * 1024, input);
    let head = input.fill_buf().map_err(|e| ReadError::Io(e.to_string()))?;
    if head.is_empty() {
        return Err(ReadError::Empty);
    }
    let sniffed = head.len().min(SNIFF_BYTES);
    if head[..sniffed].contains(&0) {
        return Err(ReadError::Binary(SNIFF_BYTES));
    }
    match format {
        Format::Csv => read_csv(input, &mut handle),
        Format::Jsonl => read_jsonl(input, &mut handle),
        Format::Json => read_json(input, &mut handle),
    }
}

type Handler<'a> = dyn FnMut(Event) -> bool + 'a;

fn read_csv(input: impl Read, handle: &mut Handler) -> Result<(), ReadError> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let header = reader.headers().map_err(csv_error)?.clone();
    let columns: Vec<String> = header.iter().map(|name| name.trim().to_owned()).collect();
    if columns.iter().all(String::is_empty) {
        return Err(ReadError::Empty);
    }
    check_unique(&columns)?;
    handle(Event::Columns(&columns));
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(csv_error)? {
        let row = record
            .iter()
            .map(|field| match field.trim() {
                "" => Cell::Missing,
                text => Cell::Text(text.to_owned()),
            })
            .collect();
        if !handle(Event::Row(row)) {
            break;
        }
    }
    Ok(())
}

fn csv_error(e: csv::Error) -> ReadError {
    let line = e.position().map_or(0, csv::Position::line);
    match e.into_kind() {
        csv::ErrorKind::Utf8 { .. } => ReadError::NotUtf8 { line },
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => ReadError::Malformed {
            line,
            message: format!("{len} fields where the header has {expected_len}"),
        },
        csv::ErrorKind::Io(e) => ReadError::Io(e.to_string()),
        other => ReadError::Malformed {
            line,
            message: format!("{other:?}"),
        },
    }
}

fn check_unique(columns: &[String]) -> Result<(), ReadError> {
    let mut seen = std::collections::HashSet::new();
    for name in columns {
        if !seen.insert(name.as_str()) {
            return Err(ReadError::DuplicateColumn(name.clone()));
        }
    }
    Ok(())
}

/// The columns met so far in JSON objects, in the order their keys first appeared.
#[derive(Default)]
struct JsonColumns {
    names: Vec<String>,
    index: std::collections::HashMap<String, usize>,
}

impl JsonColumns {
    /// Hands on the object as a row, announcing new columns first; `handle`'s answer.
    fn hand_on(
        &mut self,
        object: serde_json::Map<String, serde_json::Value>,
        handle: &mut Handler,
    ) -> bool {
        let before = self.names.len();
        let mut row = vec![Cell::Missing; before];
        for (key, value) in object {
            let at = *self.index.entry(key.clone()).or_insert_with(|| {
                self.names.push(key);
                self.names.len() - 1
            });
            if at >= row.len() {
                row.resize(at + 1, Cell::Missing);
            }
            row[at] = json_cell(value);
        }
        if self.names.len() > before {
            handle(Event::Columns(&self.names));
        }
        handle(Event::Row(row))
    }
}

fn json_cell(value: serde_json::Value) -> Cell {
    match value {
        serde_json::Value::Null => Cell::Missing,
        serde_json::Value::Bool(b) => Cell::Bool(b),
        serde_json::Value::Number(n) => Cell::Number(n.to_string(), !n.is_f64()),
        serde_json::Value::String(s) if s.trim().is_empty() => Cell::Missing,
        serde_json::Value::String(s) => Cell::Text(s),
        nested => Cell::Nested(nested.to_string()),
    }
}

fn read_jsonl(input: impl BufRead, handle: &mut Handler) -> Result<(), ReadError> {
    let mut columns = JsonColumns::default();
    let mut any = false;
    for (i, line) in input.split(b'\n').enumerate() {
        let line_no = i as u64 + 1;
        let bytes = line.map_err(|e| ReadError::Io(e.to_string()))?;
        let text = std::str::from_utf8(&bytes).map_err(|_| ReadError::NotUtf8 { line: line_no })?;
        if text.trim().is_empty() {
            continue;
        }
        let object = match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(object)) => object,
            Ok(_) => {
                return Err(ReadError::Malformed {
                    line: line_no,
                    message: "each line must be a JSON object".into(),
                });
            }
            Err(e) => {
                return Err(ReadError::Malformed {
                    line: line_no,
                    message: format!("not JSON: {e}"),
                });
            }
        };
        any = true;
        if !columns.hand_on(object, handle) {
            break;
        }
    }
    if !any {
        return Err(ReadError::Empty);
    }
    Ok(())
}

fn read_json(input: impl Read, handle: &mut Handler) -> Result<(), ReadError> {
    let mut deserializer = serde_json::Deserializer::from_reader(input);
    let mut each = EachObject {
        columns: JsonColumns::default(),
        handle,
    };
    let located = |e: serde_json::Error| {
        if e.is_io() {
            return ReadError::Io(e.to_string());
        }
        let message = e.to_string();
        // serde_json says "… at line L column C"; the line is named by the error itself.
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(what, _)| what)
            .to_owned();
        ReadError::Malformed {
            line: e.line() as u64,
            message,
        }
    };
    (&mut each)
        .deserialize(&mut deserializer)
        .map_err(located)?;
    deserializer.end().map_err(located)?;
    Ok(())
}

/// Deserializes a JSON array one object at a time, handing each on as a row.
struct EachObject<'a, 'h> {
    columns: JsonColumns,
    handle: &'a mut Handler<'h>,
}

impl<'de> DeserializeSeed<'de> for &mut EachObject<'_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for &mut EachObject<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array of objects (or use JSONL: one object per line)")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        let mut any = false;
        let mut open = true;
        while let Some(item) = items.next_element::<serde_json::Value>()? {
            let serde_json::Value::Object(object) = item else {
                return Err(serde::de::Error::custom(
                    "each item of the array must be an object",
                ));
            };
            any = true;
            if open {
                open = self.columns.hand_on(object, self.handle);
            }
        }
        if !any {
            return Err(serde::de::Error::custom("the array is empty"));
        }
        Ok(())
    }
}
