//! Writes random-weight GGUF models of the llama architecture, with an embedded byte-level BPE
//! tokenizer and a ChatML chat template, so tests and benchmarks exercise the real
//! load → generate → stream path of mistral.rs without downloading anything.
//!
//! [`write_safetensors_dir`] writes the same kind of model as a Hugging Face style directory
//! (full-precision safetensors), for in-situ quantization while it loads.
//!
//! Two shapes: [`ModelShape::tiny`] (about 100 k parameters, Q8_0, loads in milliseconds) for
//! tests, and [`ModelShape::qwen05b`] (about 415 M parameters, the shape of Qwen2.5-0.5B) for
//! benchmarks, quantized like llama.cpp's Q4_K_M: Q4_K where a row is a multiple of 256,
//! Q5_0 where it is not (hidden 896), Q6_K for the output head.
//!
//! The tokenizer is GPT-2 style byte-level BPE (256 byte tokens, then merges): mistral.rs's
//! JSON-schema constraint (llguidance) needs a byte-level vocabulary.

use std::io::BufWriter;
use std::path::Path;

use candle_core::quantized::gguf_file::Value;
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};

/// The end-of-turn token of the embedded ChatML template (also the model's EOS).
pub const IM_END: &str = "<|im_end|>";
const IM_START: &str = "<|im_start|>";
const END_OF_TEXT: &str = "<|endoftext|>";

/// ChatML, the template of Qwen and many others.
pub const CHATML_TEMPLATE: &str = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

/// Dimensions of a generated model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelShape {
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub ffn: usize,
    /// Tokens in the vocabulary (at least 259: 256 bytes and three special tokens).
    pub vocab: usize,
    pub context: usize,
    /// How the weights are quantized.
    pub quant: Quant,
}

/// The weight formats a generated model can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quant {
    /// Every matrix in Q8_0 (blocks of 32).
    Q8_0,
    /// llama.cpp's Q4_K_M mix: Q4_K, with Q5_0 where rows are not a multiple of 256, and Q6_K
    /// (or Q8_0) for the output head.
    Q4KM,
}

impl ModelShape {
    /// For tests: 2 layers, hidden 64, 4 heads (2 KV heads), 320 tokens.
    pub fn tiny() -> Self {
        Self {
            hidden: 64,
            layers: 2,
            heads: 4,
            kv_heads: 2,
            ffn: 128,
            vocab: 320,
            context: 4096,
            quant: Quant::Q8_0,
        }
    }

    /// For tests that act while an answer is being written (Stop, a reload that re-attaches):
    /// 12 layers, hidden 512, about 40 M parameters, 8 k tokens of context: a few hundred
    /// tokens per second on a 2-core machine, where [`ModelShape::tiny`] writes thousands.
    pub fn paced() -> Self {
        Self {
            hidden: 512,
            layers: 12,
            heads: 8,
            kv_heads: 4,
            ffn: 1536,
            vocab: 320,
            context: 8192,
            quant: Quant::Q8_0,
        }
    }

    /// For benchmarks: the shape of Qwen2.5-0.5B (hidden 896, 24 layers, 14/2 heads, ffn 4864,
    /// 32 k tokens), about 415 M parameters, Q4_K_M.
    pub fn qwen05b() -> Self {
        Self {
            hidden: 896,
            layers: 24,
            heads: 14,
            kv_heads: 2,
            ffn: 4864,
            vocab: 32_000,
            context: 32_768,
            quant: Quant::Q4KM,
        }
    }

    /// Weights in all (embedding and output head counted separately, as they are stored).
    pub fn parameters(&self) -> usize {
        let head_dim = self.hidden / self.heads;
        let attention = self.hidden * self.hidden * 2 + self.hidden * head_dim * self.kv_heads * 2;
        let mlp = self.hidden * self.ffn * 3;
        let norms = self.hidden * 2;
        self.layers * (attention + mlp + norms) + self.vocab * self.hidden * 2 + self.hidden
    }
}

/// What [`write_gguf`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub parameters: usize,
    pub bytes: u64,
}

/// Writes a random-weight model of `shape` to `path` (seeded, so the same seed gives the same
/// file).
pub fn write_gguf(path: &Path, shape: &ModelShape, seed: u64) -> candle_core::Result<Written> {
    if !shape.hidden.is_multiple_of(shape.heads) || !shape.heads.is_multiple_of(shape.kv_heads) {
        candle_core::bail!("hidden must divide into heads, and heads into KV heads");
    }
    let vocab = Vocabulary::new(shape.vocab)?;
    let mut rng = fastrand::Rng::with_seed(seed);
    let head_dim = shape.hidden / shape.heads;
    let kv_dim = head_dim * shape.kv_heads;

    let mut tensors: Vec<(String, QTensor)> = Vec::new();
    let mut matrix = |name: String, rows: usize, cols: usize, role: Role| {
        let t = random(&mut rng, &[rows, cols], 0.02)?;
        let q = QTensor::quantize(&t, dtype_for(shape.quant, cols, role))?;
        tensors.push((name, q));
        candle_core::Result::Ok(())
    };
    matrix(
        "token_embd.weight".into(),
        shape.vocab,
        shape.hidden,
        Role::Matrix,
    )?;
    matrix(
        "output.weight".into(),
        shape.vocab,
        shape.hidden,
        Role::Head,
    )?;
    for l in 0..shape.layers {
        let p = format!("blk.{l}");
        matrix(
            format!("{p}.attn_q.weight"),
            shape.hidden,
            shape.hidden,
            Role::Matrix,
        )?;
        matrix(
            format!("{p}.attn_k.weight"),
            kv_dim,
            shape.hidden,
            Role::Matrix,
        )?;
        matrix(
            format!("{p}.attn_v.weight"),
            kv_dim,
            shape.hidden,
            Role::Matrix,
        )?;
        matrix(
            format!("{p}.attn_output.weight"),
            shape.hidden,
            shape.hidden,
            Role::Matrix,
        )?;
        matrix(
            format!("{p}.ffn_gate.weight"),
            shape.ffn,
            shape.hidden,
            Role::Matrix,
        )?;
        matrix(
            format!("{p}.ffn_up.weight"),
            shape.ffn,
            shape.hidden,
            Role::Matrix,
        )?;
        matrix(
            format!("{p}.ffn_down.weight"),
            shape.hidden,
            shape.ffn,
            Role::Matrix,
        )?;
    }
    let ones = Tensor::ones(shape.hidden, candle_core::DType::F32, &Device::Cpu)?;
    tensors.push((
        "output_norm.weight".into(),
        QTensor::quantize(&ones, GgmlDType::F32)?,
    ));
    for l in 0..shape.layers {
        for norm in ["attn_norm", "ffn_norm"] {
            tensors.push((
                format!("blk.{l}.{norm}.weight"),
                QTensor::quantize(&ones, GgmlDType::F32)?,
            ));
        }
    }

    let u32v = |v: usize| Value::U32(v as u32);
    let metadata: Vec<(&str, Value)> = vec![
        ("general.architecture", Value::String("llama".into())),
        (
            "general.name",
            Value::String("switchyard-test-model".into()),
        ),
        ("llama.context_length", u32v(shape.context)),
        ("llama.embedding_length", u32v(shape.hidden)),
        ("llama.block_count", u32v(shape.layers)),
        ("llama.feed_forward_length", u32v(shape.ffn)),
        ("llama.attention.head_count", u32v(shape.heads)),
        ("llama.attention.head_count_kv", u32v(shape.kv_heads)),
        ("llama.rope.dimension_count", u32v(head_dim)),
        ("llama.attention.layer_norm_rms_epsilon", Value::F32(1e-6)),
        ("llama.rope.freq_base", Value::F32(10_000.0)),
        ("llama.vocab_size", u32v(shape.vocab)),
        ("tokenizer.ggml.model", Value::String("gpt2".into())),
        (
            "tokenizer.ggml.tokens",
            Value::Array(vocab.tokens.iter().cloned().map(Value::String).collect()),
        ),
        (
            "tokenizer.ggml.token_type",
            Value::Array(vocab.types.iter().map(|&t| Value::I32(t)).collect()),
        ),
        (
            "tokenizer.ggml.merges",
            Value::Array(vocab.merges.iter().cloned().map(Value::String).collect()),
        ),
        ("tokenizer.ggml.bos_token_id", u32v(vocab.id(END_OF_TEXT))),
        ("tokenizer.ggml.eos_token_id", u32v(vocab.id(IM_END))),
        (
            "tokenizer.ggml.padding_token_id",
            u32v(vocab.id(END_OF_TEXT)),
        ),
        (
            "tokenizer.chat_template",
            Value::String(CHATML_TEMPLATE.into()),
        ),
    ];

    let file = std::fs::File::create(path)?;
    let mut out = BufWriter::new(file);
    let metadata_refs: Vec<(&str, &Value)> = metadata.iter().map(|(k, v)| (*k, v)).collect();
    let tensor_refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
    candle_core::quantized::gguf_file::write(&mut out, &metadata_refs, &tensor_refs)?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(Written {
        parameters: shape.parameters(),
        bytes: file.metadata()?.len(),
    })
}

/// Writes a random-weight llama model as a Hugging Face style directory — `config.json`,
/// `tokenizer.json` (the same byte-level BPE), `tokenizer_config.json` (the ChatML template),
/// `generation_config.json`, `model.safetensors` (f32) — for loading with in-situ
/// quantization. `shape.quant` is ignored: the weights are full precision.
pub fn write_safetensors_dir(dir: &Path, shape: &ModelShape, seed: u64) -> candle_core::Result<()> {
    if !shape.hidden.is_multiple_of(shape.heads) || !shape.heads.is_multiple_of(shape.kv_heads) {
        candle_core::bail!("hidden must divide into heads, and heads into KV heads");
    }
    std::fs::create_dir_all(dir)?;
    let vocab = Vocabulary::new(shape.vocab)?;
    let mut rng = fastrand::Rng::with_seed(seed);
    let kv_dim = shape.hidden / shape.heads * shape.kv_heads;
    let mut tensors = std::collections::HashMap::new();
    let mut put = |name: String, dims: &[usize]| -> candle_core::Result<()> {
        tensors.insert(name, random(&mut rng, dims, 0.02)?);
        Ok(())
    };
    put(
        "model.embed_tokens.weight".into(),
        &[shape.vocab, shape.hidden],
    )?;
    put("lm_head.weight".into(), &[shape.vocab, shape.hidden])?;
    for l in 0..shape.layers {
        let p = format!("model.layers.{l}");
        put(
            format!("{p}.self_attn.q_proj.weight"),
            &[shape.hidden, shape.hidden],
        )?;
        put(
            format!("{p}.self_attn.k_proj.weight"),
            &[kv_dim, shape.hidden],
        )?;
        put(
            format!("{p}.self_attn.v_proj.weight"),
            &[kv_dim, shape.hidden],
        )?;
        put(
            format!("{p}.self_attn.o_proj.weight"),
            &[shape.hidden, shape.hidden],
        )?;
        put(
            format!("{p}.mlp.gate_proj.weight"),
            &[shape.ffn, shape.hidden],
        )?;
        put(
            format!("{p}.mlp.up_proj.weight"),
            &[shape.ffn, shape.hidden],
        )?;
        put(
            format!("{p}.mlp.down_proj.weight"),
            &[shape.hidden, shape.ffn],
        )?;
    }
    let ones = Tensor::ones(shape.hidden, candle_core::DType::F32, &Device::Cpu)?;
    tensors.insert("model.norm.weight".into(), ones.clone());
    for l in 0..shape.layers {
        for norm in ["input_layernorm", "post_attention_layernorm"] {
            tensors.insert(format!("model.layers.{l}.{norm}.weight"), ones.clone());
        }
    }
    candle_core::safetensors::save(&tensors, dir.join("model.safetensors"))?;

    let (bos, eos) = (vocab.id(END_OF_TEXT), vocab.id(IM_END));
    let json = |name: &str, value: serde_json::Value| -> candle_core::Result<()> {
        let text = serde_json::to_string_pretty(&value).map_err(candle_core::Error::wrap)?;
        std::fs::write(dir.join(name), text)?;
        Ok(())
    };
    json(
        "config.json",
        serde_json::json!({
            "architectures": ["LlamaForCausalLM"],
            "model_type": "llama",
            "hidden_act": "silu",
            "hidden_size": shape.hidden,
            "intermediate_size": shape.ffn,
            "vocab_size": shape.vocab,
            "num_hidden_layers": shape.layers,
            "num_attention_heads": shape.heads,
            "num_key_value_heads": shape.kv_heads,
            "rms_norm_eps": 1e-6,
            "rope_theta": 10000.0,
            "max_position_embeddings": shape.context,
            "tie_word_embeddings": false,
            "bos_token_id": bos,
            "eos_token_id": eos,
            "torch_dtype": "float32"
        }),
    )?;
    json(
        "generation_config.json",
        serde_json::json!({"bos_token_id": bos, "eos_token_id": eos}),
    )?;
    json(
        "tokenizer_config.json",
        serde_json::json!({
            "chat_template": CHATML_TEMPLATE,
            "bos_token": END_OF_TEXT,
            "eos_token": IM_END,
            "add_bos_token": false,
            "model_max_length": shape.context
        }),
    )?;
    let normal: serde_json::Map<String, serde_json::Value> = vocab
        .tokens
        .iter()
        .enumerate()
        .map(|(id, token)| (token.clone(), serde_json::json!(id)))
        .collect();
    let added: Vec<serde_json::Value> = Vocabulary::SPECIALS
        .iter()
        .map(|s| {
            serde_json::json!({"id": vocab.id(s), "content": s, "single_word": false,
                "lstrip": false, "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    json(
        "tokenizer.json",
        serde_json::json!({
            "version": "1.0",
            "truncation": null,
            "padding": null,
            "added_tokens": added,
            "normalizer": null,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false,
                              "trim_offsets": true, "use_regex": true},
            "post_processor": null,
            "decoder": {"type": "ByteLevel", "add_prefix_space": false,
                        "trim_offsets": true, "use_regex": true},
            "model": {"type": "BPE", "dropout": null, "unk_token": null,
                      "continuing_subword_prefix": null, "end_of_word_suffix": null,
                      "fuse_unk": false, "byte_fallback": false,
                      "vocab": normal, "merges": vocab.merges}
        }),
    )?;
    Ok(())
}

#[derive(Clone, Copy)]
enum Role {
    Matrix,
    Head,
}

fn dtype_for(quant: Quant, cols: usize, role: Role) -> GgmlDType {
    match quant {
        Quant::Q8_0 => GgmlDType::Q8_0,
        Quant::Q4KM if !cols.is_multiple_of(256) => match role {
            Role::Matrix => GgmlDType::Q5_0,
            Role::Head => GgmlDType::Q8_0,
        },
        Quant::Q4KM => match role {
            Role::Matrix => GgmlDType::Q4K,
            Role::Head => GgmlDType::Q6K,
        },
    }
}

/// Uniform noise in ±`scale`·√3 (standard deviation `scale`), from a seeded generator.
fn random(rng: &mut fastrand::Rng, dims: &[usize], scale: f32) -> candle_core::Result<Tensor> {
    let n: usize = dims.iter().product();
    let spread = scale * 3f32.sqrt();
    let values: Vec<f32> = (0..n).map(|_| (rng.f32() * 2.0 - 1.0) * spread).collect();
    Tensor::from_vec(values, dims, &Device::Cpu)
}

/// A GPT-2 style byte-level BPE vocabulary: the 256 byte tokens, merges of printable
/// characters into longer tokens, then the special tokens.
struct Vocabulary {
    tokens: Vec<String>,
    types: Vec<i32>,
    merges: Vec<String>,
}

impl Vocabulary {
    const NORMAL: i32 = 1;
    const CONTROL: i32 = 3;
    const SPECIALS: [&'static str; 3] = [END_OF_TEXT, IM_START, IM_END];

    fn new(size: usize) -> candle_core::Result<Self> {
        let specials = Self::SPECIALS.len();
        if size < 256 + specials {
            candle_core::bail!("a vocabulary needs at least {} tokens", 256 + specials);
        }
        let map = byte_to_unicode();
        let mut tokens: Vec<String> = map.iter().map(|c| c.to_string()).collect();
        let mut merges = Vec::new();
        // Printable ASCII, most frequent in English and JSON first, so small vocabularies
        // merge useful pairs.
        let alphabet: Vec<String> = " etaoinsrhldcumfpgwybvkxjqz\"{}:,[]_0123456789.-ETAOINSRHLDCUMFPGWYBVKXJQZ!#$%&'()*+/;<=>?@\\^`|~"
            .bytes()
            .map(|b| map[usize::from(b)].to_string())
            .collect();
        let wanted = size - specials;
        let mut pairs = Vec::new();
        'pairs: for a in &alphabet {
            for b in &alphabet {
                if tokens.len() == wanted {
                    break 'pairs;
                }
                merges.push(format!("{a} {b}"));
                tokens.push(format!("{a}{b}"));
                pairs.push(format!("{a}{b}"));
            }
        }
        'triples: for ab in &pairs {
            for c in &alphabet {
                if tokens.len() == wanted {
                    break 'triples;
                }
                merges.push(format!("{ab} {c}"));
                tokens.push(format!("{ab}{c}"));
            }
        }
        if tokens.len() != wanted {
            candle_core::bail!("cannot make a vocabulary of {size} tokens");
        }
        let mut types = vec![Self::NORMAL; tokens.len()];
        for special in Self::SPECIALS {
            tokens.push(special.to_owned());
            types.push(Self::CONTROL);
        }
        Ok(Self {
            tokens,
            types,
            merges,
        })
    }

    fn id(&self, token: &str) -> usize {
        self.tokens
            .iter()
            .position(|t| t == token)
            .expect("special tokens are always in the vocabulary")
    }
}

/// GPT-2's reversible map from bytes to printable characters: printable bytes stand for
/// themselves, the others move to U+0100 and up.
fn byte_to_unicode() -> Vec<char> {
    let printable = |b: u32| (33..=126).contains(&b) || (161..=172).contains(&b) || b >= 174;
    let mut next = 256u32;
    (0u32..256)
        .map(|b| {
            if printable(b) {
                char::from_u32(b).expect("a byte is a char")
            } else {
                let c = char::from_u32(next).expect("below U+0200");
                next += 1;
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_have_the_size_asked_for_with_specials_last() {
        for size in [259, 320, 32_000] {
            let v = Vocabulary::new(size).unwrap();
            assert_eq!(v.tokens.len(), size);
            assert_eq!(v.types.len(), size);
            assert_eq!(v.tokens[size - 1], IM_END);
            assert_eq!(v.merges.len(), size - 259);
            let distinct: std::collections::HashSet<_> = v.tokens.iter().collect();
            assert_eq!(distinct.len(), size, "tokens are unique");
        }
        assert!(Vocabulary::new(100).is_err());
    }

    #[test]
    fn space_maps_like_gpt2() {
        let map = byte_to_unicode();
        assert_eq!(map[usize::from(b' ')], 'Ġ');
        assert_eq!(map[usize::from(b'a')], 'a');
        assert_eq!(map[usize::from(b'\n')], 'Ċ');
    }

    #[test]
    fn the_bench_shape_has_about_415m_parameters() {
        let p = ModelShape::qwen05b().parameters();
        assert!((400_000_000..430_000_000).contains(&p), "{p}");
    }

    #[test]
    fn a_written_file_reads_back_as_gguf_with_every_tensor() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tiny.gguf");
        let shape = ModelShape::tiny();
        let written = write_gguf(&path, &shape, 7).unwrap();
        assert!(written.bytes > 50_000, "{written:?}");
        let mut file = std::fs::File::open(&path).unwrap();
        let content = candle_core::quantized::gguf_file::Content::read(&mut file).unwrap();
        assert_eq!(content.tensor_infos.len(), 2 + 1 + shape.layers * 9);
        assert_eq!(
            content.metadata["tokenizer.ggml.model"]
                .to_string()
                .unwrap(),
            "gpt2"
        );
        assert_eq!(
            content.tensor_infos["blk.1.attn_k.weight"].ggml_dtype,
            GgmlDType::Q8_0
        );
    }
}
