//! Tabular data for the orchestrator panel's data mode: CSV, JSON (an array of objects) and
//! JSONL read as a stream, and profiled in one pass before anything is written.
//!
//! # Layout
//!
//! - [`read`]: bytes into rows, one at a time; binary, non-UTF-8 and malformed input refused
//!   with the line at fault.
//! - [`kind`]: what a value reads as (boolean, integer, number, date, text).
//! - [`profile`]: the pass: a preview, a kind per column, values that do not fit, missing
//!   required values, duplicate keys, and completeness / validity / uniqueness per column and
//!   overall.
//! - [`rows`]: the second pass, once a person confirms: the rows that passed, typed by their
//!   column's kind, in batches.
//!
//! The types a check answers with are the wire types of [`switchyard_protocol::dataset`].

pub mod kind;
pub mod profile;
pub mod read;
pub mod rows;

pub use kind::Kind;
pub use profile::{Options, Profile, ProfileError, profile};
pub use read::{Cell, Format, ReadError};
pub use rows::{Passed, Row, passing_rows};
