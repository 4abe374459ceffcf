//! Switchyard's model host: models run in-process with mistral.rs, behind admission control,
//! and serve the OpenAI-compatible API, the orchestrator's `llm` tool and the planner (both
//! in `switchyard-planner`: this crate knows models, not plans).
//!
//! # Layout
//!
//! - [`settings`]: which models to load (GGUF files, or safetensors directories with in-situ
//!   quantization) and the admission limits.
//! - [`host`]: the [`Host`]: models by id (loading, ready or failed), the device, the shared
//!   admission control, the usage channel; health's inference section
//!   (`switchyard_protocol::InferenceHealth`).
//! - `loader`: reading weights with progress, then building the mistral.rs engine.
//! - [`convert`]: GGUF tensors candle multiplies without SIMD (Q4_1, Q5_1, Q8_1) re-quantized
//!   to Q8_0 into a cached copy.
//! - [`admission`]: bounded queue in front of a fixed number of slots; a full queue is refused
//!   at once with a retry hint.
//! - [`types`]: the request/response types: [`ChatRequest`], [`ChatMessage`], [`Piece`],
//!   [`Finished`], [`Usage`].
//! - [`generate`]: one chat request: checks, the engine request with its own response
//!   channel, the stream of pieces, usage (queue wait, time to first token, tokens/s);
//!   cancellation when the caller drops it.
//! - [`error`]: why a request got no answer, each naming the setting or field involved.
//! - [`test_model`]: writes random-weight GGUF models with an embedded tokenizer and chat
//!   template, for tests and benchmarks.

pub mod admission;
pub mod convert;
pub mod error;
pub mod generate;
pub mod host;
mod loader;
pub mod settings;
pub mod test_model;
pub mod types;

pub use error::InferenceError;
pub use generate::Generation;
pub use host::Host;
pub use settings::{ComputeDType, HostSettings, Isq, Limits, ModelSpec};
pub use types::{ChatMessage, ChatRequest, Finished, Piece, Usage};
