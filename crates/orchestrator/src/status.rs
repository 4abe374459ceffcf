//! Run and step statuses and the state machine between them: defined in
//! [`switchyard_protocol::status`] (the API sends them), used here under their old path.

pub use switchyard_protocol::status::*;
