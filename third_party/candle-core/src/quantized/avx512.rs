//! Switchyard patch: kernels for x86-64 processors with AVX-512 VNNI (Intel since Cascade
//! Lake, AMD since Zen 4), picked at run time so that one binary built for AVX2 uses them
//! where they exist. They work on 256-bit vectors: VNNI's `vpdpbusd` multiplies unsigned by
//! signed bytes and sums each group of four into a 32-bit lane in one instruction, where AVX2
//! needs `vpmaddubsw` and `vpmaddwd`; AVX-512BW's byte masks set a Q5_0 block's fifth bits
//! straight from its `qh` word. The one- and two-row (decode) kernels multiply the weights
//! as stored, 0..=31, and subtract 16 × the activations' sums; the four-row (prompt) kernel,
//! where one unpacked block serves four rows, moves the weights' signs onto the activations
//! as AVX2 does. Either way each lane holds exactly the sum the AVX2 kernels compute, and is
//! scaled and accumulated in the same order, so results agree bit for bit.

use super::avx::{bytes_from_nibbles_32, prefetch_ahead, q5_0_add_scaled, q5_0_sum};
use super::k_quants::{BlockQ5_0, BlockQ8_0, QK8_0};
use half::f16;
use std::sync::atomic::{AtomicU8, Ordering};

use core::arch::x86_64::*;

const UNKNOWN: u8 = 0;
const OFF: u8 = 1;
const ON: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(UNKNOWN);

/// Whether the processor has every instruction set these kernels use.
fn supported() -> bool {
    is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vl")
        && is_x86_feature_detected!("avx512vnni")
}

/// Whether the quantized matmuls use these kernels: on wherever the processor has them,
/// unless [`set_enabled`] turned them off.
#[inline]
pub(crate) fn enabled() -> bool {
    match STATE.load(Ordering::Relaxed) {
        ON => true,
        OFF => false,
        _ => set_enabled(true),
    }
}

/// Turns the AVX-512 kernels on (only where the processor has them) or off, for comparisons
/// and tests; returns whether they are on now.
pub fn set_enabled(on: bool) -> bool {
    let on = on && supported();
    STATE.store(if on { ON } else { OFF }, Ordering::Relaxed);
    on
}

/// The 32 weights of a Q5_0 block as unsigned bytes 0..=31, that is weight + 16: the nibble,
/// plus 16 where the block's `qh` has the element's bit set.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn q5_0_weights_plus_16(x: &BlockQ5_0) -> __m256i {
    let nibbles = bytes_from_nibbles_32(x.qs.as_ptr());
    let fifth_bit: __mmask32 = u32::from_le_bytes(x.qh);
    _mm256_mask_add_epi8(nibbles, fifth_bit, nibbles, _mm256_set1_epi8(16))
}

/// Sixteen times the sums of each group of four activations of a block, per 32-bit lane: what
/// the weights' offset of 16 adds to each lane of `vpdpbusd`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn offset_lanes(by: __m256i) -> __m256i {
    _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(16), by)
}

/// Adds block `i`'s product to the accumulator for `i`'s parity, as `avx::q5_0_accumulate`
/// does: `qx` the weights + 16, `by` the activations, `by_offset` their [`offset_lanes`].
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn q5_0_accumulate(
    acc: &mut [__m256; 2],
    i: usize,
    qx: __m256i,
    dx: f32,
    by: __m256i,
    by_offset: __m256i,
    dy: f32,
) {
    let lanes = _mm256_sub_epi32(
        _mm256_dpbusd_epi32(_mm256_setzero_si256(), qx, by),
        by_offset,
    );
    let d = _mm256_set1_ps(dx * dy);
    q5_0_add_scaled(acc, i, d, _mm256_cvtepi32_ps(lanes));
}

#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn load_q8_0(y: &BlockQ8_0) -> (__m256i, f32) {
    (
        _mm256_loadu_si256(y.qs.as_ptr() as *const __m256i),
        f16::to_f32(y.d),
    )
}

/// Q5_0 weights against a Q8_0 activation row.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
pub(crate) unsafe fn vec_dot_q5_0_q8_0(n: usize, xs: &[BlockQ5_0], ys: &[BlockQ8_0]) -> f32 {
    let nb = n / QK8_0;
    assert!(xs.len() >= nb && ys.len() >= nb);
    let mut acc = [_mm256_setzero_ps(); 2];
    for i in 0..nb {
        let x = xs.get_unchecked(i);
        prefetch_ahead(x, 1);
        let (by, dy) = load_q8_0(ys.get_unchecked(i));
        let qx = q5_0_weights_plus_16(x);
        q5_0_accumulate(&mut acc, i, qx, f16::to_f32(x.d), by, offset_lanes(by), dy);
    }
    q5_0_sum(acc)
}

/// Two Q5_0 weight rows against one Q8_0 activation row (decoding).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
pub(crate) unsafe fn vec_dot_q5_0_q8_0_2x(
    n: usize,
    xs: [&[BlockQ5_0]; 2],
    ys: &[BlockQ8_0],
) -> [f32; 2] {
    let nb = n / QK8_0;
    assert!(ys.len() >= nb && xs.iter().all(|xs| xs.len() >= nb));
    let mut acc = [[_mm256_setzero_ps(); 2]; 2];
    for i in 0..nb {
        let (by, dy) = load_q8_0(ys.get_unchecked(i));
        let by_offset = offset_lanes(by);
        for r in 0..2 {
            let x = xs[r].get_unchecked(i);
            prefetch_ahead(x, 1);
            let qx = q5_0_weights_plus_16(x);
            q5_0_accumulate(&mut acc[r], i, qx, f16::to_f32(x.d), by, by_offset, dy);
        }
    }
    [q5_0_sum(acc[0]), q5_0_sum(acc[1])]
}

/// The 32 weights of a Q5_0 block as signed bytes -16..=15: the nibble, less 16 where the
/// block's `qh` has the element's bit clear.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn q5_0_weights(x: &BlockQ5_0) -> __m256i {
    let nibbles = bytes_from_nibbles_32(x.qs.as_ptr());
    let fifth_bit_clear: __mmask32 = !u32::from_le_bytes(x.qh);
    _mm256_mask_sub_epi8(nibbles, fifth_bit_clear, nibbles, _mm256_set1_epi8(16))
}

/// One Q5_0 weight row against four Q8_0 activation rows (prompt processing). Here each
/// unpacked weight block serves four rows, so the weights' signs move onto the activations
/// (`|x| · sign(y, x)`, as in AVX2) rather than subtracting an offset per row, and the four
/// rows' scales are converted and multiplied as one vector.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
pub(crate) unsafe fn vec_dot_q5_0_q8_0_x4(
    n: usize,
    xs: &[BlockQ5_0],
    ys: [&[BlockQ8_0]; 4],
) -> [f32; 4] {
    let nb = n / QK8_0;
    assert!(xs.len() >= nb && ys.iter().all(|ys| ys.len() >= nb));
    let lane = [0, 1, 2, 3].map(|r| _mm256_set1_epi32(r));
    let mut acc = [[_mm256_setzero_ps(); 2]; 4];
    for i in 0..nb {
        let x = xs.get_unchecked(i);
        let y = [0, 1, 2, 3].map(|r| ys[r].get_unchecked(i));
        let bx = q5_0_weights(x);
        let ax = _mm256_abs_epi8(bx);
        // dx · dy for the four rows, each product rounded once as in `dx * dy`.
        let dy = _mm_cvtph_ps(_mm_setr_epi16(
            y[0].d.to_bits() as i16,
            y[1].d.to_bits() as i16,
            y[2].d.to_bits() as i16,
            y[3].d.to_bits() as i16,
            0,
            0,
            0,
            0,
        ));
        let d = _mm256_castps128_ps256(_mm_mul_ps(_mm_set1_ps(f16::to_f32(x.d)), dy));
        for r in 0..4 {
            let by = _mm256_loadu_si256(y[r].qs.as_ptr() as *const __m256i);
            let lanes = _mm256_dpbusd_epi32(_mm256_setzero_si256(), ax, _mm256_sign_epi8(by, bx));
            let dr = _mm256_permutexvar_ps(lane[r], d);
            q5_0_add_scaled(&mut acc[r], i, dr, _mm256_cvtepi32_ps(lanes));
        }
    }
    [
        q5_0_sum(acc[0]),
        q5_0_sum(acc[1]),
        q5_0_sum(acc[2]),
        q5_0_sum(acc[3]),
    ]
}
