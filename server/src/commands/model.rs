//! `switchyard model`: files for the inference host.
//!
//! `write-test PATH` writes the tiny random-weight GGUF the tests load (llama architecture,
//! embedded tokenizer and chat template, about 100 k parameters): it loads through the real
//! mistral.rs path in milliseconds and answers, without meaning. For smoke tests and the
//! browser tests of features that need a model, on machines that cannot download weights.
//! `--shape paced` writes a larger one (about 40 M parameters) that answers slowly enough for
//! a test to act while it writes.

use std::path::PathBuf;

use clap::Subcommand;
use switchyard_inference::test_model::{ModelShape, write_gguf};

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Write the tiny random-weight test model (GGUF) to PATH; its answers mean nothing.
    WriteTest {
        path: PathBuf,
        /// Seed of the random weights (the same seed writes the same file).
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// `tiny` (about 100 k parameters, thousands of tokens/s) or `paced` (about 40 M, a
        /// few hundred tokens/s: for tests that act while an answer is being written).
        #[arg(long, value_enum, default_value_t = TestShape::Tiny)]
        shape: TestShape,
    },
}

/// The shapes `write-test` writes.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum TestShape {
    Tiny,
    Paced,
}

pub fn run(command: ModelCommand) -> Result<(), String> {
    match command {
        ModelCommand::WriteTest { path, seed, shape } => {
            let shape = match shape {
                TestShape::Tiny => ModelShape::tiny(),
                TestShape::Paced => ModelShape::paced(),
            };
            let written = write_gguf(&path, &shape, seed)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            println!(
                "wrote {} ({} parameters, {} bytes): a test model, random weights",
                path.display(),
                written.parameters,
                written.bytes
            );
            Ok(())
        }
    }
}
