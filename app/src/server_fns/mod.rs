//! Server functions, one domain per module. Each body runs on the server and reads
//! [`crate::context::ServerContext`]; the browser half is a typed HTTP call.

pub mod account;
pub mod runs;
pub mod system;
