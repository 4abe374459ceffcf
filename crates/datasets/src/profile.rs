//! One pass over the rows: the first rows for a preview, a kind per column, the values that
//! do not fit it, missing required values, duplicate keys, and quality scores per column and
//! overall. Memory grows with the rows only by a hash per row (whole-row and key duplicates)
//! and a bit per cell and checked kind (which rows have a problem), never by the values.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::io::Read;

pub use switchyard_protocol::dataset::{ColumnProfile, Issue, Problem, Profile, Scores};

use crate::kind::{Kind, kinds_of};
use crate::read::{Cell, Event, Format, ReadError, read_rows};

/// What to check besides the kinds.
#[derive(Debug, Clone)]
pub struct Options {
    /// A column whose values must be present and unique.
    pub key: Option<String>,
    /// Columns whose values must be present.
    pub required: Vec<String>,
    /// Rows kept for the preview.
    pub preview_rows: usize,
    /// Problems listed (all are counted).
    pub max_problems: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            key: None,
            required: Vec::new(),
            preview_rows: 20,
            max_problems: 200,
        }
    }
}

/// Distinct values counted exactly per column up to this many; past it, uniqueness is
/// measured on the values seen until then.
pub const DISTINCT_CAP: usize = 1 << 20;

/// Why a profile could not be made.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ProfileError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("no column named '{0}' (the key or a required column)")]
    UnknownColumn(String),
}

/// A set of row numbers, a bit each.
#[derive(Default, Clone)]
struct RowSet(Vec<u64>);

impl RowSet {
    fn insert(&mut self, row: u64) {
        let (word, bit) = ((row / 64) as usize, row % 64);
        if word >= self.0.len() {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << bit;
    }

    fn union(&mut self, other: &RowSet) {
        if other.0.len() > self.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (mine, theirs) in self.0.iter_mut().zip(&other.0) {
            *mine |= theirs;
        }
    }

    fn len(&self) -> u64 {
        self.0.iter().map(|w| u64::from(w.count_ones())).sum()
    }
}

/// A column's running counts.
#[derive(Default)]
struct Tally {
    present: u64,
    /// Values that fit each kind, by [`Kind::CHECKED`] position.
    fits: [u64; Kind::CHECKED.len()],
    /// The first values that did not fit each kind: (row, value).
    misfits: [Vec<(u64, String)>; Kind::CHECKED.len()],
    /// Every row whose value did not fit each kind.
    misfit_rows: [RowSet; Kind::CHECKED.len()],
    distinct: HashSet<u64>,
    capped: bool,
}

pub(crate) fn hash_of(value: &impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Profiles every row of `input`.
pub fn profile(
    input: impl Read,
    format: Format,
    options: &Options,
) -> Result<Profile, ProfileError> {
    let mut columns: Vec<String> = Vec::new();
    let mut tallies: Vec<Tally> = Vec::new();
    let mut rows: u64 = 0;
    let mut preview = Vec::new();
    // Missing required values and duplicate keys, found as they come: (row, column index, issue).
    let mut found: Vec<(u64, usize, Issue)> = Vec::new();
    let mut found_count: u64 = 0;
    let mut found_rows = RowSet::default();
    let mut keys: HashMap<u64, u64> = HashMap::new();
    let mut row_hashes: HashSet<u64> = HashSet::new();
    let mut checks: Option<(Option<usize>, Vec<usize>)> = None;
    let mut unknown: Option<String> = None;
    read_rows(input, format, |event| {
        let row = match event {
            Event::Columns(names) => {
                columns = names.to_vec();
                tallies.resize_with(columns.len(), Tally::default);
                return true;
            }
            Event::Row(row) => row,
        };
        rows += 1;
        // Key and required columns are looked up once the columns are known (for JSON a
        // column may first appear in a later object; checked against the first row's).
        let (key, required) = checks.get_or_insert_with(|| {
            let mut find = |name: &String| {
                let at = columns.iter().position(|c| c == name);
                if at.is_none() {
                    unknown.get_or_insert_with(|| name.clone());
                }
                at
            };
            let key = options.key.as_ref().and_then(&mut find);
            let required = options.required.iter().filter_map(&mut find).collect();
            (key, required)
        });
        if unknown.is_some() {
            return false;
        }
        if preview.len() < options.preview_rows {
            let mut shown: Vec<String> = row.iter().map(|c| c.shown().to_owned()).collect();
            shown.resize(columns.len(), String::new());
            preview.push(shown);
        }
        let mut row_hasher = DefaultHasher::new();
        for (at, cell) in row.iter().enumerate() {
            cell.shown().hash(&mut row_hasher);
            if matches!(cell, Cell::Missing) {
                continue;
            }
            let tally = &mut tallies[at];
            tally.present += 1;
            let fits = kinds_of(cell);
            for i in 0..Kind::CHECKED.len() {
                if fits.has(i) {
                    tally.fits[i] += 1;
                    continue;
                }
                tally.misfit_rows[i].insert(rows);
                if tally.misfits[i].len() < options.max_problems {
                    tally.misfits[i].push((rows, cell.shown().to_owned()));
                }
            }
            if !tally.capped {
                tally.distinct.insert(hash_of(&cell.shown()));
                tally.capped = tally.distinct.len() >= DISTINCT_CAP;
            }
        }
        row_hashes.insert(row_hasher.finish());
        let mut record = |at: usize, issue: Issue| {
            found_count += 1;
            found_rows.insert(rows);
            if found.len() < options.max_problems {
                found.push((rows, at, issue));
            }
        };
        let cell_at = |at: usize| row.get(at).unwrap_or(&Cell::Missing);
        for &at in required.iter().chain(key.iter()) {
            if matches!(cell_at(at), Cell::Missing) {
                record(at, Issue::Missing);
            }
        }
        if let Some(at) = *key
            && !matches!(cell_at(at), Cell::Missing)
        {
            let value = cell_at(at).shown();
            let first = *keys.entry(hash_of(&value)).or_insert(rows);
            if first != rows {
                record(
                    at,
                    Issue::DuplicateKey {
                        value: value.to_owned(),
                        first_row: first,
                    },
                );
            }
        }
        true
    })?;
    if let Some(name) = unknown {
        return Err(ProfileError::UnknownColumn(name));
    }
    // Rows read before a later object brought a new key lack its column.
    for shown in &mut preview {
        shown.resize(columns.len(), String::new());
    }
    let mut profiles = Vec::with_capacity(columns.len());
    let mut problems: Vec<Problem> = Vec::new();
    let mut problem_count = found_count;
    let mut bad_rows = found_rows;
    let (mut cells, mut present_cells, mut valid_cells) = (0u64, 0u64, 0u64);
    for (name, tally) in columns.iter().zip(&tallies) {
        let chosen = choose_kind(tally);
        let valid = match chosen {
            Some(i) => tally.fits[i],
            None => tally.present,
        };
        if let Some(i) = chosen {
            problem_count += tally.present - valid;
            bad_rows.union(&tally.misfit_rows[i]);
            for (row, value) in &tally.misfits[i] {
                problems.push(Problem {
                    row: *row,
                    column: name.clone(),
                    issue: Issue::Mismatch {
                        expected: Kind::CHECKED[i],
                        value: value.clone(),
                    },
                });
            }
        }
        let kind = match (chosen, tally.present) {
            (_, 0) => Kind::Empty,
            (Some(i), _) => Kind::CHECKED[i],
            (None, _) => Kind::Text,
        };
        let ratio = |part: u64, whole: u64| {
            if whole == 0 {
                1.0
            } else {
                part as f64 / whole as f64
            }
        };
        let distinct = tally.distinct.len() as u64;
        let seen = if tally.capped {
            distinct.max(1)
        } else {
            tally.present
        };
        profiles.push(ColumnProfile {
            name: name.clone(),
            kind,
            present: tally.present,
            missing: rows - tally.present,
            valid,
            distinct,
            distinct_exact: !tally.capped,
            scores: Scores {
                completeness: ratio(tally.present, rows),
                validity: ratio(valid, tally.present),
                uniqueness: ratio(distinct, seen),
            },
        });
        cells += rows;
        present_cells += tally.present;
        valid_cells += valid;
    }
    problems.extend(found.into_iter().map(|(row, at, issue)| Problem {
        row,
        column: columns[at].clone(),
        issue,
    }));
    problems.sort_by_key(|p| p.row);
    problems.truncate(options.max_problems);
    let ratio = |part: u64, whole: u64| {
        if whole == 0 {
            1.0
        } else {
            part as f64 / whole as f64
        }
    };
    Ok(Profile {
        format,
        rows,
        scores: Scores {
            completeness: ratio(present_cells, cells),
            validity: ratio(valid_cells, present_cells),
            uniqueness: ratio(row_hashes.len() as u64, rows),
        },
        columns: profiles,
        preview,
        problems,
        problem_count,
        bad_rows: bad_rows.len(),
    })
}

/// Of the kinds that at least [`FIT_SHARE`] of the column's values fit, the one most values
/// fit, the most specific on a tie (a column of integers with one `3.5` is a number column,
/// not an integer column with a mismatch); `None`: text (everything fits it).
fn choose_kind(tally: &Tally) -> Option<usize> {
    if tally.present == 0 {
        return None;
    }
    (0..Kind::CHECKED.len())
        .filter(|&i| tally.fits[i] as f64 >= FIT_SHARE * tally.present as f64)
        .max_by(|&a, &b| tally.fits[a].cmp(&tally.fits[b]).then(b.cmp(&a)))
}

/// The share of values that must fit a kind for the column to be of it.
pub const FIT_SHARE: f64 = 0.9;
