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

pub mod kind;
pub mod profile;
pub mod read;

pub use kind::Kind;
pub use profile::{Options, Profile, ProfileError, profile};
pub use read::{Cell, Format, ReadError};
