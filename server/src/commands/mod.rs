//! The top floor: one module per command, each with its clap subcommand beside the code
//! that runs it. Commands use everything below them (config, start-up, the router, the
//! service); nothing below imports a command or [`crate::cli`].
//!
//! - [`serve`]: `switchyard serve` (the default) and `switchyard migrate`.
//! - [`run`]: `switchyard run submit | list | watch`, a client of the REST API.
//! - [`store`]: `switchyard store verify | stats | tier | archive | restore | maintain`.
//! - [`admin`]: `switchyard user | key | audit | switch …` on the configured database.
//! - [`bench`]: `switchyard bench …`, measurements printed beside a baseline.
//! - [`model`]: `switchyard model write-test PATH`, the tiny random-weight test model.

pub mod admin;
pub mod bench;
pub mod model;
pub mod run;
pub mod serve;
pub mod store;
