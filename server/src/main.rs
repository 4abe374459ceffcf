//! The `switchyard` binary. Everything lives in the `switchyard_server` library so tests can
//! build the same router; this file only hands over the process.

fn main() -> std::process::ExitCode {
    switchyard_server::cli::main()
}
