//! Loading one model: the weights are read once with progress (a bar on a terminal, per mille
//! for health), which also puts them in the page cache, then mistral.rs builds the engine from
//! them: a GGUF file (tensors without a SIMD kernel re-quantized first, see
//! [`crate::convert`]), or a safetensors directory with in-situ quantization.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use mistralrs::{IsqType, ModelDType, TextModelBuilder, TokenSource};
use mistralrs_core::{
    AutoDeviceMapParams, DefaultSchedulerMethod, DeviceMapSetting, GGUFLoaderBuilder,
    GGUFSpecificConfig, MistralRsBuilder, SchedulerConfig,
};

use crate::settings::{ComputeDType, Isq, ModelSpec};

/// Reading the weights is this share of the progress (per mille); the engine build the rest.
const READ_SHARE: u64 = 900;

pub(crate) async fn load(
    spec: &ModelSpec,
    device: &mistralrs::Device,
    max_seqs: usize,
    cache_dir: &Path,
    progress: &AtomicU32,
) -> Result<mistralrs::Model, String> {
    let files = weight_files(&spec.path)?;
    read_with_progress(&spec.id, &files, progress)?;
    let model = if spec.path.is_file() {
        let source = spec.path.clone();
        let cache = cache_dir.to_owned();
        let prepared =
            tokio::task::spawn_blocking(move || crate::convert::prepare(&source, &cache))
                .await
                .map_err(|e| format!("converting the model stopped: {e}"))??;
        if prepared.converted > 0 {
            tracing::info!(
                model = %spec.id,
                tensors = prepared.converted,
                file = %prepared.path.display(),
                "re-quantized tensors to Q8_0 (candle has no SIMD kernel for their type)"
            );
        }
        let dir = prepared
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let file = prepared
            .path
            .file_name()
            .ok_or_else(|| format!("{} names no file", prepared.path.display()))?;
        gguf_model(dir, file, spec.dtype, device, max_seqs).await
    } else {
        let mut builder = TextModelBuilder::new(spec.path.to_string_lossy())
            .with_token_source(TokenSource::None)
            .with_device(device.clone())
            .with_dtype(model_dtype(spec.dtype, device))
            .with_max_num_seqs(max_seqs);
        if let Some(isq) = spec.isq {
            builder = builder.with_isq(match isq {
                Isq::Q4K => IsqType::Q4K,
                Isq::Q8_0 => IsqType::Q8_0,
            });
        }
        builder.build().await
    };
    let model = model.map_err(|e| format!("{e:#}"))?;
    progress.store(1000, Ordering::Relaxed);
    Ok(model)
}

/// The dtype mistral.rs computes in: `auto` is f32 on the CPU, where candle's kernels are f32
/// and bf16 (mistral.rs's own pick there) is widened element by element in attention.
fn model_dtype(dtype: ComputeDType, device: &mistralrs::Device) -> ModelDType {
    match dtype {
        ComputeDType::Auto if device.is_cpu() => ModelDType::F32,
        ComputeDType::Auto => ModelDType::Auto,
        ComputeDType::F32 => ModelDType::F32,
        ComputeDType::Bf16 => ModelDType::BF16,
        ComputeDType::F16 => ModelDType::F16,
    }
}

/// A GGUF file as mistral.rs's `GgufModelBuilder` loads it (no tokenizer download, the
/// default scheduler), but in the dtype asked for: the builder always passes `auto`.
async fn gguf_model(
    dir: &Path,
    file: &std::ffi::OsStr,
    dtype: ComputeDType,
    device: &mistralrs::Device,
    max_seqs: usize,
) -> anyhow::Result<mistralrs::Model> {
    let loader = GGUFLoaderBuilder::new(
        None,
        None,
        dir.to_string_lossy().into_owned(),
        vec![file.to_string_lossy().into_owned()],
        GGUFSpecificConfig { topology: None },
        false,
        None,
    )
    .build();
    let pipeline = loader.load_model_from_hf(
        None,
        TokenSource::None,
        &model_dtype(dtype, device),
        device,
        true,
        DeviceMapSetting::Auto(AutoDeviceMapParams::default_text()),
        None,
        None,
    )?;
    let scheduler = SchedulerConfig::DefaultScheduler {
        method: DefaultSchedulerMethod::Fixed(max_seqs.try_into()?),
    };
    // As GgufModelBuilder: the KV cache on, a prefix cache of 16 sequences.
    let runner = MistralRsBuilder::new(pipeline, scheduler, false, None)
        .with_no_kv_cache(false)
        .with_no_prefix_cache(false)
        .with_prefix_cache_n(16)
        .build()
        .await;
    Ok(mistralrs::Model::new(runner))
}

/// The files holding the weights: the GGUF file itself, or a directory's `*.safetensors`.
fn weight_files(path: &Path) -> Result<Vec<PathBuf>, String> {
    if path.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    if !path.is_dir() {
        return Err(format!("{} does not exist", path.display()));
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "safetensors"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!(
            "{} holds no .safetensors file (and is not a .gguf file)",
            path.display()
        ));
    }
    Ok(files)
}

fn read_with_progress(id: &str, files: &[PathBuf], progress: &AtomicU32) -> Result<(), String> {
    let total: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    // Drawn on stderr only when it is a terminal.
    let bar = indicatif::ProgressBar::new(total).with_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec})",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_message(format!("loading {id}"));
    let mut done = 0u64;
    let mut buffer = vec![0u8; 8 << 20];
    for file in files {
        let mut f = std::fs::File::open(file)
            .map_err(|e| format!("cannot open {}: {e}", file.display()))?;
        loop {
            let n = f
                .read(&mut buffer)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            if n == 0 {
                break;
            }
            done += n as u64;
            bar.set_position(done);
            let share = (done * READ_SHARE).checked_div(total).unwrap_or(READ_SHARE);
            progress.store(u32::try_from(share).unwrap_or(900), Ordering::Relaxed);
        }
    }
    bar.finish_and_clear();
    Ok(())
}
