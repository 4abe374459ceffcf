//! The events of a run's log: defined in [`switchyard_protocol::event`] (the API sends them),
//! used here under their old path. A run's state is their fold ([`crate::state`]).

pub use switchyard_protocol::event::*;
