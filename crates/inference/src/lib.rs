//! Switchyard's model host: models run in-process with mistral.rs, behind admission control,
//! and serve the OpenAI-compatible API, the orchestrator's `llm` tool and the planner.
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
//! - [`generate`]: one chat request: checks, the engine request with its own response
//!   channel, the stream of pieces, usage (queue wait, time to first token, tokens/s);
//!   cancellation when the caller drops it.
//! - [`error`]: why a request got no answer, each naming the setting or field involved.
//! - [`llm_tool`]: the orchestrator's `llm` tool.
//! - [`planner`]: goals into validated plans, under a JSON-schema constraint built from the
//!   catalog, retried with the validation problems; every prompt and answer recorded.
//! - [`plan_cache`]: the semantic plan cache: goals normalised into templates and
//!   parameters, templates embedded and matched by similarity, plans reused with the new
//!   parameters injected.
//! - [`test_model`]: writes random-weight GGUF models with an embedded tokenizer and chat
//!   template, for tests and benchmarks.

pub mod admission;
pub mod convert;
pub mod error;
pub mod generate;
pub mod host;
pub mod llm_tool;
mod loader;
pub mod plan_cache;
pub mod planner;
pub mod settings;
pub mod test_model;

pub use error::InferenceError;
pub use generate::{ChatMessage, ChatRequest, Finished, Generation, Piece, Usage};
pub use host::Host;
pub use llm_tool::LlmTool;
pub use plan_cache::{CacheStats, PlanCacheSettings};
pub use planner::{Planner, PlannerSettings, PlanningError, PlanningRecord};
pub use settings::{ComputeDType, HostSettings, Isq, Limits, ModelSpec};
