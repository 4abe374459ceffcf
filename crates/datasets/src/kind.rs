//! The kind of a column's values, read from the values themselves: CSV fields are text that
//! may read as a boolean, an integer, a number or a date; JSON values carry theirs.

pub use switchyard_protocol::dataset::Kind;

use crate::read::Cell;

/// A set of the kinds of [`Kind::CHECKED`]: bit `i` for `CHECKED[i]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Kinds(u8);

impl Kinds {
    /// Whether it holds `CHECKED[i]`.
    pub fn has(self, i: usize) -> bool {
        self.0 & (1 << i) != 0
    }

    fn push(&mut self, kind: Kind) {
        if let Some(i) = Kind::CHECKED.iter().position(|k| *k == kind) {
            self.0 |= 1 << i;
        }
    }

    fn extend(&mut self, kinds: impl IntoIterator<Item = Kind>) {
        kinds.into_iter().for_each(|k| self.push(k));
    }

    /// The kinds held, in [`Kind::CHECKED`] order.
    pub fn to_vec(self) -> Vec<Kind> {
        (0..Kind::CHECKED.len())
            .filter(|&i| self.has(i))
            .map(|i| Kind::CHECKED[i])
            .collect()
    }
}

/// The kinds of [`Kind::CHECKED`] that `cell` fits.
pub fn kinds_of(cell: &Cell) -> Kinds {
    let mut kinds = Kinds::default();
    match cell {
        Cell::Missing | Cell::Nested(_) => {}
        Cell::Bool(_) => kinds.push(Kind::Boolean),
        Cell::Number(_, true) => kinds.extend([Kind::Integer, Kind::Number]),
        Cell::Number(_, false) => kinds.push(Kind::Number),
        Cell::Text(text) => return text_kinds(text),
    }
    kinds
}

fn text_kinds(text: &str) -> Kinds {
    let mut kinds = Kinds::default();
    if ["true", "false", "yes", "no"]
        .iter()
        .any(|word| text.eq_ignore_ascii_case(word))
    {
        kinds.push(Kind::Boolean);
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        kinds.extend([Kind::Integer, Kind::Number]);
    } else if text.parse::<f64>().is_ok_and(f64::is_finite) && !text.eq_ignore_ascii_case("inf") {
        kinds.push(Kind::Number);
    }
    if is_date(text) {
        kinds.push(Kind::Date);
    }
    kinds
}

/// `YYYY-MM-DD` with a real month and day, optionally followed by a time.
fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() < 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    let number = |range: std::ops::Range<usize>| {
        text.get(range)
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<u32>().ok())
    };
    let (Some(_), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return false;
    };
    let rest = &text[10..];
    (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && (rest.is_empty() || rest.starts_with('T') || rest.starts_with(' '))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(text: &str) -> Vec<Kind> {
        kinds_of(&Cell::Text(text.into())).to_vec()
    }

    #[test]
    fn text_reads_as_the_kinds_it_fits() {
        assert_eq!(of("42"), [Kind::Integer, Kind::Number]);
        assert_eq!(of("-7"), [Kind::Integer, Kind::Number]);
        assert_eq!(of("3.5"), [Kind::Number]);
        assert_eq!(of("1e3"), [Kind::Number]);
        assert_eq!(of("TRUE"), [Kind::Boolean]);
        assert_eq!(of("2026-12-07"), [Kind::Date]);
        assert_eq!(of("2026-12-07T10:00:00Z"), [Kind::Date]);
        assert!(of("2026-13-07").is_empty());
        assert!(of("NaN").is_empty() && of("inf").is_empty() && of("abc").is_empty());
    }
}
