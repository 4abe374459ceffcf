//! The patched mistral.rs CPU attention (third_party/mistralrs-core/SWITCHYARD.md): its prompt
//! kernel (several query rows, blocks of four rows that may cross from one head into the next)
//! and its decode kernel (one query row) must give what a plain softmax(QKᵀ·scale + mask)·V
//! computed with candle's own tensor operations gives, with grouped-query heads, a causal mask
//! as a 2-D and as a 4-D tensor, and without a mask, from a plain thread (mistral.rs's attention
//! pool) and from a rayon worker (the pool the worker is in).

use candle_core::{D, Device, Tensor};
use mistralrs_core::SdpaParams;
use mistralrs_core::layers::Sdpa;

const HEADS: usize = 6;
const KV_HEADS: usize = 2;
const HEAD_DIM: usize = 64;
const SCALE: f32 = 0.125;

/// softmax(q·kᵀ·scale + mask)·v with each K/V head repeated for its group of query heads.
/// q: (1, heads, q_len, d); k, v: (1, kv_heads, kv_len, d); mask broadcast to (q_len, kv_len).
fn reference(q: &Tensor, k: &Tensor, v: &Tensor, mask: Option<&Tensor>) -> Tensor {
    let groups = HEADS / KV_HEADS;
    let repeat = |t: &Tensor| {
        let (b, kv_heads, len, d) = t.dims4().unwrap();
        t.unsqueeze(2)
            .unwrap()
            .expand((b, kv_heads, groups, len, d))
            .unwrap()
            .reshape((b, kv_heads * groups, len, d))
            .unwrap()
    };
    let (k, v) = (repeat(k), repeat(v));
    let mut scores = (q.matmul(&k.t().unwrap()).unwrap() * SCALE as f64).unwrap();
    if let Some(mask) = mask {
        scores = scores.broadcast_add(mask).unwrap();
    }
    let max = scores.max_keepdim(D::Minus1).unwrap();
    let weights = scores.broadcast_sub(&max).unwrap().exp().unwrap();
    let weights = weights
        .broadcast_div(&weights.sum_keepdim(D::Minus1).unwrap())
        .unwrap();
    weights.matmul(&v).unwrap()
}

/// A causal mask for `q_len` new rows after `past` cached positions: 0 where a row may see a
/// position, -inf where it may not.
fn causal_mask(q_len: usize, past: usize) -> Tensor {
    let kv_len = past + q_len;
    let values: Vec<f32> = (0..q_len * kv_len)
        .map(|i| {
            let (row, position) = (i / kv_len, i % kv_len);
            if position > past + row {
                f32::NEG_INFINITY
            } else {
                0.0
            }
        })
        .collect();
    Tensor::from_vec(values, (q_len, kv_len), &Device::Cpu).unwrap()
}

fn max_difference(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

fn check(q_len: usize, past: usize, mask: Option<Tensor>, what: &str) {
    let cpu = Device::Cpu;
    let kv_len = past + q_len;
    let q = Tensor::randn(0f32, 1.0, (1, HEADS, q_len, HEAD_DIM), &cpu).unwrap();
    let k = Tensor::randn(0f32, 1.0, (1, KV_HEADS, kv_len, HEAD_DIM), &cpu).unwrap();
    let v = Tensor::randn(0f32, 1.0, (1, KV_HEADS, kv_len, HEAD_DIM), &cpu).unwrap();
    let params = SdpaParams {
        n_kv_groups: HEADS / KV_HEADS,
        softcap: None,
        softmax_scale: SCALE,
        sliding_window: None,
        sinks: None,
    };
    let out = Sdpa
        .run_attention(&q, &k, &v, mask.as_ref(), None, &params)
        .unwrap();
    assert_eq!(
        out.dims(),
        &[1, HEADS, q_len, HEAD_DIM],
        "{what}: output shape"
    );
    let expected = reference(&q, &k, &v, mask.as_ref());
    let difference = max_difference(&out, &expected);
    assert!(
        difference < 1e-4,
        "{what}: q_len {q_len} after {past} cached positions differs from softmax(QKᵀ)V by {difference}"
    );
}

#[test]
fn prompt_attention_matches_plain_softmax_attention() {
    // 1 row (the decode kernel); 4 (one block); 7 and 37 (blocks that end early and blocks
    // that cross from one head into the next: 6 heads × 37 rows is not a multiple of 4).
    for q_len in [1, 4, 7, 37] {
        let mask = causal_mask(q_len, 0);
        check(q_len, 0, Some(mask.clone()), "2-D causal mask");
        let mask_4d = mask.reshape((1, 1, q_len, q_len)).unwrap();
        check(q_len, 0, Some(mask_4d), "4-D causal mask");
        check(q_len, 0, None, "no mask");
    }
}

#[test]
fn attention_after_cached_positions_matches_plain_softmax_attention() {
    // A second chunk of a prompt, and one decoded token, after 50 cached positions.
    check(9, 50, Some(causal_mask(9, 50)), "causal mask after a cache");
    check(1, 50, None, "decoding after a cache");
    // Decoding deeper in: many key tiles, the last one partial, scores over a wider range.
    check(1, 300, None, "decoding after a longer cache");
}

#[test]
fn attention_from_a_rayon_worker_runs_in_its_pool_and_matches() {
    // The thread that runs a model is a worker of candle's pool; the attention then runs in
    // that pool instead of mistral.rs's own, with the same results.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    pool.install(|| {
        assert!(rayon::current_thread_index().is_some());
        check(1, 300, None, "decoding on a rayon worker");
        check(
            37,
            0,
            Some(causal_mask(37, 0)),
            "a prompt on a rayon worker",
        );
    });
}
