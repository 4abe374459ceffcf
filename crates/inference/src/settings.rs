//! What the host is told at start-up: which models to load and the admission limits.

use std::path::PathBuf;
use std::time::Duration;

/// One model to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpec {
    /// The name clients use (`"model"` in OpenAI requests, `model` in the `llm` tool).
    pub id: String,
    /// A `.gguf` file, or a directory holding a safetensors model (`config.json`,
    /// `tokenizer.json`, `*.safetensors`).
    pub path: PathBuf,
    /// In-situ quantization for a safetensors model; `None` keeps its own weights' type.
    pub isq: Option<Isq>,
    /// The type activations, attention and the KV cache are computed in.
    pub dtype: ComputeDType,
}

/// The type a model computes in besides its (quantized) weights.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ComputeDType {
    /// f32 on the CPU (candle's CPU kernels are f32; mistral.rs's own pick there, bf16, is
    /// widened element by element in attention: measured 10 % slower to read prompts and to
    /// decode), mistral.rs's pick on a GPU (bf16 or f16).
    #[default]
    Auto,
    F32,
    Bf16,
    F16,
}

impl ComputeDType {
    /// The accepted values, for error messages.
    pub const EXPECTED: &'static str = "expected auto, f32, bf16 or f16";

    /// Parses the config value (`auto`, `f32`, `bf16`, `f16`).
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "auto" => Some(Self::Auto),
            "f32" => Some(Self::F32),
            "bf16" => Some(Self::Bf16),
            "f16" => Some(Self::F16),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::F32 => "f32",
            Self::Bf16 => "bf16",
            Self::F16 => "f16",
        }
    }
}

/// In-situ quantization applied while a safetensors model loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isq {
    Q4K,
    Q8_0,
}

impl Isq {
    /// Parses the config value (`q4k`, `q8_0`).
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "q4k" | "q4_k" => Some(Self::Q4K),
            "q8_0" | "q80" => Some(Self::Q8_0),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Q4K => "q4k",
            Self::Q8_0 => "q8_0",
        }
    }
}

/// Admission control: how much work the host takes on before it refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Requests generating at once, across models (also each engine's `max_num_seqs`).
    pub max_concurrent: usize,
    /// Requests waiting for a slot; one more is refused with a retry hint instead of queued.
    pub queue: usize,
    /// The largest `max_tokens` a request may ask for (and the default when it asks none).
    pub max_tokens: usize,
    /// The longest prompt, in tokens after the chat template.
    pub max_prompt_tokens: usize,
    /// How long a request may take in all, waiting included.
    pub deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_concurrent: 4,
            queue: 32,
            max_tokens: 2048,
            max_prompt_tokens: 8192,
            deadline: Duration::from_secs(300),
        }
    }
}

/// Everything the host needs.
#[derive(Debug, Clone, Default)]
pub struct HostSettings {
    /// Loaded in order; none is a normal state (LLM features then say how to configure one).
    pub models: Vec<ModelSpec>,
    /// The model used when a request names none; defaults to the first.
    pub default_model: Option<String>,
    pub limits: Limits,
    /// Use the CPU even where a GPU is present.
    pub force_cpu: bool,
    /// Where GGUF files with tensors candle multiplies without SIMD get their converted copy
    /// (see `convert`); `None`: the system's temporary directory.
    pub cache_dir: Option<std::path::PathBuf>,
}

impl HostSettings {
    /// The id of the default model, if any model is configured.
    pub fn default_id(&self) -> Option<&str> {
        self.default_model
            .as_deref()
            .or_else(|| self.models.first().map(|m| m.id.as_str()))
    }
}
