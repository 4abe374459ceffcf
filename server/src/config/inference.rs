//! The model host's settings, resolved and checked with the rest of the configuration: the
//! models to load (config file `models`, plus `serve --model PATH`), the default one, and the
//! admission limits.
//!
//! ```toml
//! models = [
//!   { id = "qwen", path = "/models/qwen2.5-0.5b-instruct-q4_k_m.gguf" },
//!   { id = "llama", path = "/models/Llama-3.2-1B-Instruct", isq = "q4k", dtype = "bf16" },
//! ]
//! default_model = "qwen"
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use switchyard_inference::{ComputeDType, HostSettings, Isq, Limits, ModelSpec};
use switchyard_planner::{PlanCacheSettings, PlannerSettings};

use crate::config::args::ServeArgs;
use crate::config::{ConfigError, FileConfig};

/// One entry of `models` in the config file.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileModel {
    /// Default: the file or directory name without extension.
    pub id: Option<String>,
    pub path: PathBuf,
    /// `q4k` or `q8_0`: in-situ quantization of a safetensors directory.
    pub isq: Option<String>,
    /// `auto` (f32 on the CPU), `f32`, `bf16` or `f16`: what activations, attention and the
    /// KV cache are computed in.
    pub dtype: Option<String>,
}

fn invalid(key: &'static str, value: impl ToString, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// A model's id from its path: `models/qwen-q4.gguf` → `qwen-q4`.
fn id_from_path(path: &Path) -> String {
    let name = if path.extension().is_some_and(|e| e == "gguf") {
        path.file_stem()
    } else {
        path.file_name()
    };
    name.map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn model_spec(entry: FileModel) -> Result<ModelSpec, ConfigError> {
    let id = entry.id.unwrap_or_else(|| id_from_path(&entry.path));
    let id_ok = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/".contains(&b));
    if !id_ok {
        return Err(invalid(
            "models.id",
            &id,
            "1 to 128 letters, digits, '-', '_', '.', ':' or '/'",
        ));
    }
    let is_gguf = entry.path.is_file();
    if !is_gguf && !entry.path.is_dir() {
        return Err(invalid(
            "models.path",
            entry.path.display(),
            "no such file or directory (a .gguf file or a safetensors model directory)",
        ));
    }
    let isq = match entry.isq {
        None => None,
        Some(text) => {
            let isq = Isq::parse(&text)
                .ok_or_else(|| invalid("models.isq", &text, "expected q4k or q8_0"))?;
            if is_gguf {
                return Err(invalid(
                    "models.isq",
                    &text,
                    "a GGUF file is already quantized; isq applies to safetensors directories",
                ));
            }
            Some(isq)
        }
    };
    let dtype = match entry.dtype {
        None => ComputeDType::Auto,
        Some(text) => ComputeDType::parse(&text)
            .ok_or_else(|| invalid("models.dtype", &text, ComputeDType::EXPECTED))?,
    };
    Ok(ModelSpec {
        id,
        path: entry.path,
        isq,
        dtype,
    })
}

/// `models`, `default_model`, `serve --model` and the `inference_*` limits.
pub fn resolve(
    serve: &ServeArgs,
    file: &FileConfig,
    data_dir: &Path,
) -> Result<HostSettings, ConfigError> {
    let mut models = Vec::new();
    let mut default_model = file.default_model.clone();
    if let Some(path) = &serve.model {
        let spec = model_spec(FileModel {
            id: None,
            path: path.clone(),
            isq: None,
            dtype: None,
        })?;
        default_model = Some(spec.id.clone());
        models.push(spec);
    }
    for entry in file.models.clone().unwrap_or_default() {
        let spec = model_spec(entry)?;
        if models.iter().any(|m: &ModelSpec| m.id == spec.id) {
            return Err(invalid(
                "models.id",
                &spec.id,
                "two models have this id; give one an `id`",
            ));
        }
        models.push(spec);
    }
    if let Some(default) = &default_model
        && !models.iter().any(|m| &m.id == default)
    {
        return Err(invalid(
            "default_model",
            default,
            format!(
                "no model has this id (configured: {})",
                models
                    .iter()
                    .map(|m| m.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }

    let defaults = Limits::default();
    let count = |key: &'static str, value: Option<u64>, default: usize, max: u64| {
        let value = value.unwrap_or(default as u64);
        if (1..=max).contains(&value) {
            Ok(value as usize)
        } else {
            Err(invalid(key, value, format!("must be between 1 and {max}")))
        }
    };
    let limits = Limits {
        max_concurrent: count(
            "inference_max_concurrent",
            file.inference_max_concurrent,
            defaults.max_concurrent,
            1_024,
        )?,
        queue: count(
            "inference_queue",
            file.inference_queue,
            defaults.queue,
            100_000,
        )?,
        max_tokens: count(
            "inference_max_tokens",
            file.inference_max_tokens,
            defaults.max_tokens,
            1_000_000,
        )?,
        max_prompt_tokens: count(
            "inference_max_prompt_tokens",
            file.inference_max_prompt_tokens,
            defaults.max_prompt_tokens,
            10_000_000,
        )?,
        deadline: Duration::from_secs(count(
            "inference_deadline_s",
            file.inference_deadline_s,
            defaults.deadline.as_secs() as usize,
            86_400,
        )? as u64),
    };
    Ok(HostSettings {
        models,
        default_model,
        limits,
        force_cpu: false,
        cache_dir: Some(data_dir.join("models")),
    })
}

/// Tools the planner offers unless `planner_tools` says otherwise: every built-in that does
/// real work (`fail` is for tests, `subrun` takes a whole plan as input).
pub const DEFAULT_PLANNER_TOOLS: [&str; 5] = ["noop", "sleep", "http", "approval", "llm"];

/// `planner_model`, `planner_tools`, `planner_max_attempts`, `planner_max_steps`,
/// `planner_max_tokens`, `plan_cache_threshold`, `plan_cache_ttl_s`, `plan_cache_entries`
/// (0: no cache). Tool names
/// are checked against the catalog when the server starts.
pub fn planner(file: &FileConfig) -> Result<PlannerSettings, ConfigError> {
    let defaults = PlannerSettings::default();
    let max_attempts = file.planner_max_attempts.unwrap_or(defaults.max_attempts);
    if !(1..=10).contains(&max_attempts) {
        return Err(invalid(
            "planner_max_attempts",
            max_attempts,
            "must be between 1 and 10",
        ));
    }
    let max_steps = file.planner_max_steps.unwrap_or(defaults.max_steps);
    if !(1..=64).contains(&max_steps) {
        return Err(invalid(
            "planner_max_steps",
            max_steps,
            "must be between 1 and 64",
        ));
    }
    let max_tokens = file.planner_max_tokens.unwrap_or(defaults.max_tokens);
    if !(1..=1_000_000).contains(&max_tokens) {
        return Err(invalid(
            "planner_max_tokens",
            max_tokens,
            "must be between 1 and 1000000",
        ));
    }
    let cache_defaults = PlanCacheSettings::default();
    let threshold = file
        .plan_cache_threshold
        .map_or(cache_defaults.threshold, |t| t as f32);
    if !(0.0..=1.0).contains(&threshold) {
        return Err(invalid(
            "plan_cache_threshold",
            threshold,
            "must be a similarity between 0 and 1",
        ));
    }
    let ttl_s = file
        .plan_cache_ttl_s
        .unwrap_or(cache_defaults.ttl.as_secs());
    if !(1..=365 * 86_400).contains(&ttl_s) {
        return Err(invalid(
            "plan_cache_ttl_s",
            ttl_s,
            "must be between 1 and 31536000 (a year)",
        ));
    }
    let entries = file.plan_cache_entries.unwrap_or(cache_defaults.capacity);
    if entries > 1_000_000 {
        return Err(invalid(
            "plan_cache_entries",
            entries,
            "must be at most 1000000 (0 turns the cache off)",
        ));
    }
    let cache = (entries > 0).then_some(PlanCacheSettings {
        threshold,
        ttl: Duration::from_secs(ttl_s),
        capacity: entries,
    });
    let tools = file
        .planner_tools
        .clone()
        .unwrap_or_else(|| DEFAULT_PLANNER_TOOLS.map(str::to_owned).to_vec());
    if tools.is_empty() {
        return Err(invalid("planner_tools", "[]", "name at least one tool"));
    }
    Ok(PlannerSettings {
        model: file.planner_model.clone(),
        tools,
        max_steps,
        max_attempts,
        max_tokens,
        cache,
    })
}

/// Fills the models' and planner's keys of the printed config.
pub fn print_into(settings: &HostSettings, planner: &PlannerSettings, file: &mut FileConfig) {
    file.models = Some(
        settings
            .models
            .iter()
            .map(|m| FileModel {
                id: Some(m.id.clone()),
                path: m.path.clone(),
                isq: m.isq.map(|q| q.as_str().to_owned()),
                dtype: (m.dtype != ComputeDType::Auto).then(|| m.dtype.as_str().to_owned()),
            })
            .collect(),
    );
    file.default_model = settings.default_model.clone();
    let l = &settings.limits;
    file.inference_max_concurrent = Some(l.max_concurrent as u64);
    file.inference_queue = Some(l.queue as u64);
    file.inference_max_tokens = Some(l.max_tokens as u64);
    file.inference_max_prompt_tokens = Some(l.max_prompt_tokens as u64);
    file.inference_deadline_s = Some(l.deadline.as_secs());
    file.planner_model = planner.model.clone();
    file.planner_tools = Some(planner.tools.clone());
    file.planner_max_attempts = Some(planner.max_attempts);
    file.planner_max_steps = Some(planner.max_steps);
    file.planner_max_tokens = Some(planner.max_tokens);
    match &planner.cache {
        Some(c) => {
            // f32's shortest text, read as f64: `0.85`, not `0.8500000238418579`.
            file.plan_cache_threshold = c.threshold.to_string().parse().ok();
            file.plan_cache_ttl_s = Some(c.ttl.as_secs());
            file.plan_cache_entries = Some(c.capacity);
        }
        None => file.plan_cache_entries = Some(0),
    }
}
