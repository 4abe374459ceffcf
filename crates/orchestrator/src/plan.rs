//! The plan a run executes: defined in [`switchyard_protocol::plan`] (clients send it), used
//! here under its old path.

pub use switchyard_protocol::plan::*;
