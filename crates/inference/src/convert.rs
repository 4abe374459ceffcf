//! Re-quantizing the GGUF tensors that candle can only multiply with scalar code.
//!
//! candle (under mistral.rs, with the patch in `third_party/candle-core`) has SIMD dot products
//! for Q4_0, Q5_0, Q8_0 and the K-quants, but not for Q4_1, Q5_1 or Q8_1, which some older
//! GGUF files use; the scalar code runs several times slower than the file's size allows (a
//! profile of a Q5_0 file before its kernel existed: 74 % of decode time in `vec_dot_unopt`).
//! Such tensors are converted to Q8_0 — a SIMD type that is also more precise, so nothing is
//! lost but some memory — into a cached copy of the file that mistral.rs then loads. The copy
//! is keyed on the source's path, size and modification time, so it is made once.

use std::hash::{Hash, Hasher};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use candle_core::Device;
use candle_core::quantized::gguf_file::{self, Content};
use candle_core::quantized::{GgmlDType, QTensor};

/// Quantization types without a SIMD dot product in candle.
const SCALAR_ONLY: [GgmlDType; 3] = [GgmlDType::Q4_1, GgmlDType::Q5_1, GgmlDType::Q8_1];

/// What [`prepare`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The file to load: the source, or its converted copy.
    pub path: PathBuf,
    /// Tensors re-quantized to Q8_0 (0: the source is used as it is).
    pub converted: usize,
}

/// The file mistral.rs should load for `source`: the source itself when every tensor has a
/// fast kernel, otherwise a converted copy in `cache_dir` (made now if missing).
pub fn prepare(source: &Path, cache_dir: &Path) -> Result<Prepared, String> {
    let mut file = std::fs::File::open(source)
        .map_err(|e| format!("cannot open {}: {e}", source.display()))?;
    let content = Content::read(&mut file)
        .map_err(|e| format!("{} is not a GGUF file: {e}", source.display()))?;
    let slow = content
        .tensor_infos
        .values()
        .filter(|t| SCALAR_ONLY.contains(&t.ggml_dtype))
        .count();
    if slow == 0 {
        return Ok(Prepared {
            path: source.to_owned(),
            converted: 0,
        });
    }
    let target = cache_dir.join(cached_name(source)?);
    if target.is_file() {
        return Ok(Prepared {
            path: target,
            converted: slow,
        });
    }
    std::fs::create_dir_all(cache_dir)
        .map_err(|e| format!("cannot create {}: {e}", cache_dir.display()))?;
    let mut tensors = Vec::with_capacity(content.tensor_infos.len());
    for (name, info) in &content.tensor_infos {
        let tensor = content
            .tensor(&mut file, name, &Device::Cpu)
            .map_err(|e| format!("cannot read tensor {name}: {e}"))?;
        let tensor = if SCALAR_ONLY.contains(&info.ggml_dtype) {
            let values = tensor
                .dequantize(&Device::Cpu)
                .map_err(|e| format!("cannot dequantize {name}: {e}"))?;
            QTensor::quantize(&values, GgmlDType::Q8_0)
                .map_err(|e| format!("cannot quantize {name} to Q8_0: {e}"))?
        } else {
            tensor
        };
        tensors.push((name.clone(), tensor));
    }
    // Written aside and renamed, so a crash never leaves a half file under the cached name.
    let partial = target.with_extension("partial");
    let out = std::fs::File::create(&partial)
        .map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
    let mut out = BufWriter::new(out);
    let metadata: Vec<(&str, &gguf_file::Value)> = content
        .metadata
        .iter()
        .map(|(k, v)| (k.as_str(), v))
        .collect();
    let refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, t)| (k.as_str(), t)).collect();
    gguf_file::write(&mut out, &metadata, &refs)
        .map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
    out.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
    std::fs::rename(&partial, &target)
        .map_err(|e| format!("cannot move {} into place: {e}", partial.display()))?;
    Ok(Prepared {
        path: target,
        converted: slow,
    })
}

/// `STEM.HASH.q8.gguf`, the hash over the source's absolute path, size and mtime.
fn cached_name(source: &Path) -> Result<String, String> {
    let absolute = std::fs::canonicalize(source)
        .map_err(|e| format!("cannot resolve {}: {e}", source.display()))?;
    let meta = std::fs::metadata(&absolute)
        .map_err(|e| format!("cannot read {}: {e}", source.display()))?;
    let mut h = std::hash::DefaultHasher::new();
    absolute.hash(&mut h);
    meta.len().hash(&mut h);
    meta.modified().ok().hash(&mut h);
    let stem = source
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    Ok(format!("{stem}.{:016x}.q8.gguf", h.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_model::{ModelShape, write_gguf};
    use candle_core::Tensor;

    /// A GGUF file with one tensor of each given type (64 x 256, random values).
    fn write_tensors(path: &Path, dtypes: &[(&str, GgmlDType)]) {
        let tensors: Vec<(&str, QTensor)> = dtypes
            .iter()
            .map(|&(name, dtype)| {
                let values = Tensor::randn(0f32, 1.0, (64, 256), &Device::Cpu).unwrap();
                (name, QTensor::quantize(&values, dtype).unwrap())
            })
            .collect();
        let refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(n, t)| (*n, t)).collect();
        let mut file = std::fs::File::create(path).unwrap();
        gguf_file::write(&mut file, &[], &refs).unwrap();
    }

    #[test]
    fn scalar_only_tensors_become_q8_0_once_and_fast_files_stay_as_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");

        let fast = dir.path().join("q8.gguf");
        write_gguf(&fast, &ModelShape::tiny(), 1).unwrap();
        let same = prepare(&fast, &cache).unwrap();
        assert_eq!(same.path, fast);
        assert_eq!(same.converted, 0);
        assert!(!cache.exists(), "nothing was written");

        // Q5_0 (the rows of Q4_K_M files that are not a multiple of 256) has a kernel now.
        let q5_0 = dir.path().join("q5_0.gguf");
        write_tensors(&q5_0, &[("a", GgmlDType::Q5_0), ("b", GgmlDType::Q4K)]);
        assert_eq!(prepare(&q5_0, &cache).unwrap().path, q5_0);

        let slow = dir.path().join("old.gguf");
        write_tensors(
            &slow,
            &[
                ("a", GgmlDType::Q4_1),
                ("b", GgmlDType::Q5_1),
                ("c", GgmlDType::Q5_0),
                ("d", GgmlDType::Q4K),
            ],
        );
        let converted = prepare(&slow, &cache).unwrap();
        assert_ne!(converted.path, slow);
        assert_eq!(converted.converted, 2);
        let mut file = std::fs::File::open(&converted.path).unwrap();
        let content = Content::read(&mut file).unwrap();
        let dtype = |name: &str| content.tensor_infos[name].ggml_dtype;
        assert_eq!(dtype("a"), GgmlDType::Q8_0);
        assert_eq!(dtype("b"), GgmlDType::Q8_0);
        assert_eq!(
            dtype("c"),
            GgmlDType::Q5_0,
            "fast tensors are copied as they are"
        );
        assert_eq!(
            dtype("d"),
            GgmlDType::Q4K,
            "fast tensors are copied as they are"
        );
        let modified = std::fs::metadata(&converted.path)
            .unwrap()
            .modified()
            .unwrap();
        let again = prepare(&slow, &cache).unwrap();
        assert_eq!(again, converted);
        assert_eq!(
            std::fs::metadata(&again.path).unwrap().modified().unwrap(),
            modified,
            "the cached copy is reused"
        );
    }
}
