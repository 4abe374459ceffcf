//! Switchyard patch: prompt-processing (several activation rows) matmuls on 512-bit vectors
//! for processors with AVX-512 (see `avx512.rs` for how they are picked), for the two types
//! a Q4_K_M file of a model like Qwen2.5-0.5B is made of: Q5_0 and Q4K.
//!
//! The four-row kernels work on 256-bit vectors and unpack each weight block once for four
//! activation rows. Here the activation rows are first repacked, once per matmul, into the
//! order the 512-bit kernels read, and each unpacked weight block serves 16 (Q5_0) or 8 (Q4K)
//! rows. Every 32-bit lane ends up with exactly the integer the 256-bit kernels compute and is
//! scaled and summed in the same order, so results agree bit for bit.
//!
//! Q5_0: a vector holds two consecutive blocks, the even one in its low half and the odd one
//! in its high half — exactly the even and odd accumulators the other Q5_0 kernels keep. A
//! weight pair unpacked once (as stored, 0..=31) is multiplied with a row in four instructions:
//! `vpdpbusd` starting from the row's repacked starting values (−16 × the sum of each lane's
//! four activations, which turns the stored weights' sums into the signed ones), a conversion
//! to f32, the product of the two scales, and a fused multiply-add.
//!
//! Decoding (one activation row) goes through the same kernels, one weight row at a time: the
//! row is quantized and repacked on the calling thread, and the weight rows are shared out in
//! tasks as the decode path of `k_quants::matmul` shares them. There the 256-bit kernels spend
//! about as many instructions unpacking a block as multiplying it, and where memory is fast
//! (AMD Zen 5: 40–50 GB/s) a decode pass is bound by those instructions, not by memory.
//!
//! Q4K: a vector holds two of a block's 32-weight sub-blocks (the nibbles of 64 stored bytes),
//! multiplied with `vpmaddubsw` and scaled with `vpmaddwd` as in AVX2, four vectors a block
//! instead of eight; the two halves' sums are added before the scale, giving AVX2's lanes.

use super::avx::prefetch_ahead;
use super::k_quants::{BlockQ4K, BlockQ5_0, BlockQ8K, BlockQ8_0, GgmlType, QK_K};
use half::f16;
use rayon::prelude::*;
use std::array::from_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::LazyLock;

use core::arch::x86_64::*;

static ON: LazyLock<AtomicBool> =
    LazyLock::new(|| AtomicBool::new(std::env::var("CANDLE_WIDE_GEMM").as_deref() != Ok("0")));

/// Whether several-row Q5_0 and Q4K matmuls use these kernels where AVX-512 is on (the
/// default, unless `CANDLE_WIDE_GEMM=0`) or the four-row ones, for comparisons; returns the
/// previous setting.
pub fn set_enabled(on: bool) -> bool {
    ON.swap(on, Ordering::Relaxed)
}

/// Whether the quantized matmuls use these kernels: on, and the AVX-512 kernels usable.
pub(crate) fn enabled() -> bool {
    ON.load(Ordering::Relaxed) && super::avx512::enabled()
}

/// Activation rows a task multiplies per pass over its weight rows.
const ROW_BLOCK: usize = 16;
/// Decoding: the fewest weight rows a rayon task takes, as in `k_quants::matmul`'s decode
/// path; a matrix of no more runs on the calling thread.
const DECODE_ROWS_PER_TASK: usize = 2 * super::k_quants::DECODE_PAIRS_PER_TASK;
/// Weight rows per rayon task.
const COL_STRIP: usize = 16;

/// A weight type's several-row kernel against its repacked activation rows.
///
/// # Safety
/// Both functions need a processor with AVX-512 F, BW, VL and VNNI.
trait WideKernel {
    /// A weight block.
    type Weight: Sync;
    /// An activation block as quantized for this weight type.
    type Input: GgmlType + Sync;
    /// What activation blocks are repacked into.
    type Packed: Sync + Send + Copy;
    /// Input blocks per packed one.
    const INPUTS_PER_PACKED: usize;
    /// A packed value that adds nothing.
    const ZERO: Self::Packed;

    /// Repacks one quantized activation row into `out`, which starts zeroed.
    unsafe fn pack_row(row: &[Self::Input], out: &mut [Self::Packed]);

    /// One weight row against `R` repacked activation rows.
    unsafe fn dot<const R: usize>(xs: &[Self::Weight], ys: [&[Self::Packed]; R]) -> [f32; R];
}

/// The output matrix, written by several tasks at once.
struct Dst {
    ptr: *mut f32,
    n: usize,
}

// SAFETY: tasks write disjoint (row, col) cells of `dst`, which outlives the parallel loop.
unsafe impl Sync for Dst {}

impl Dst {
    /// Writes `values` down column `col` from row `row`.
    ///
    /// # Safety
    /// The cells must be in bounds and written by no other task.
    unsafe fn put(&self, row: usize, col: usize, values: &[f32]) {
        for (i, &value) in values.iter().enumerate() {
            *self.ptr.add((row + i) * self.n + col) = value;
        }
    }
}

/// `dst = lhs · rhsᵀ` for `m` f32 activation rows and `n` weight rows of `k` elements: each
/// activation row is quantized (as the tiled path does) and repacked, then each rayon task
/// multiplies a strip of weight rows with every activation row, `ROW_BLOCK` rows at a time,
/// `ROWS` per kernel call (then 4, then 1).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn matmul<K: WideKernel, const ROWS: usize>(
    (m, k, n): (usize, usize, usize),
    lhs: &[f32],
    rhs: &[K::Weight],
    dst: &mut [f32],
) {
    let nb = k / K::Input::BLCK_SIZE;
    assert!(lhs.len() >= m * k && rhs.len() >= n * nb && dst.len() >= m * n);
    let packed_len = nb.div_ceil(K::INPUTS_PER_PACKED);
    let mut packed = vec![K::ZERO; m * packed_len];
    packed
        .par_chunks_mut(packed_len)
        .zip(lhs.par_chunks(k))
        .with_min_len(8)
        .for_each_init(
            || vec![K::Input::zeros(); nb],
            |quantized, (out, row)| {
                K::Input::from_float(row, quantized);
                // SAFETY: the caller vouches for the processor.
                unsafe { K::pack_row(quantized, out) }
            },
        );
    let lhs_row = |row: usize| &packed[row * packed_len..(row + 1) * packed_len];
    let rhs_row = |col: usize| &rhs[col * nb..(col + 1) * nb];

    let out = &Dst {
        ptr: dst.as_mut_ptr(),
        n,
    };
    (0..n.div_ceil(COL_STRIP))
        .into_par_iter()
        .for_each(|strip| {
            let cols = strip * COL_STRIP..((strip + 1) * COL_STRIP).min(n);
            for rows_start in (0..m).step_by(ROW_BLOCK) {
                let rows_end = (rows_start + ROW_BLOCK).min(m);
                for col in cols.clone() {
                    let xs = rhs_row(col);
                    let mut row = rows_start;
                    // SAFETY (all three): the caller vouches for the processor, and each task
                    // writes the (row, col) cells of its own weight rows only.
                    while row + ROWS <= rows_end {
                        let values = unsafe { K::dot::<ROWS>(xs, from_fn(|i| lhs_row(row + i))) };
                        unsafe { out.put(row, col, &values) };
                        row += ROWS;
                    }
                    while row + 4 <= rows_end {
                        let values = unsafe { K::dot::<4>(xs, from_fn(|i| lhs_row(row + i))) };
                        unsafe { out.put(row, col, &values) };
                        row += 4;
                    }
                    for row in row..rows_end {
                        unsafe { out.put(row, col, &K::dot::<1>(xs, [lhs_row(row)])) };
                    }
                }
            }
        });
}

/// `dst = lhs · rhsᵀ` for one f32 activation row and `n` weight rows of `k` elements
/// (decoding): the row is quantized and repacked here, on the calling thread, and each weight
/// row is multiplied by the one-row kernel, which asks for its weights ahead of use.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn matvec<K: WideKernel>(k: usize, lhs: &[f32], rhs: &[K::Weight], dst: &mut [f32]) {
    let nb = k / K::Input::BLCK_SIZE;
    let n = dst.len();
    assert!(lhs.len() >= k && rhs.len() >= n * nb);
    let mut quantized = vec![K::Input::zeros(); nb];
    K::Input::from_float(&lhs[..k], &mut quantized);
    let mut packed = vec![K::ZERO; nb.div_ceil(K::INPUTS_PER_PACKED)];
    K::pack_row(&quantized, &mut packed);
    let packed = &packed[..];
    // SAFETY: the caller vouches for the processor.
    let row = |(col, out): (usize, &mut f32)| {
        *out = unsafe { K::dot::<1>(&rhs[col * nb..(col + 1) * nb], [packed]) }[0]
    };
    if n <= DECODE_ROWS_PER_TASK {
        dst.iter_mut().enumerate().for_each(row);
    } else {
        dst.par_iter_mut()
            .enumerate()
            .with_min_len(DECODE_ROWS_PER_TASK)
            .with_max_len(4 * DECODE_ROWS_PER_TASK)
            .for_each(row);
    }
}

/// `dst = lhs · rhsᵀ` for `m` f32 activation rows (quantized to Q8_0 here) and `n` Q5_0 weight
/// rows of `k` elements.
///
/// # Safety
/// The processor must have AVX-512 F, BW, VL and VNNI.
pub(crate) unsafe fn matmul_q5_0(
    mkn: (usize, usize, usize),
    lhs: &[f32],
    rhs: &[BlockQ5_0],
    dst: &mut [f32],
) {
    // 16 rows a call: one unpacked weight pair serves 16 rows, with 16 accumulators of the 32
    // vector registers. On the Intel Xeon development machine, 167 rows against the Q5_0
    // matrices of four layers: 16 rows a call 1.55–1.65× the four-row kernel's speed, 8 rows
    // 1.40–1.45×, 4 rows 0.88–0.96×: unpacking the weights is the cost to spread.
    match mkn {
        (1, k, _) => matvec::<Q5_0Kernel>(k, lhs, rhs, dst),
        _ => matmul::<Q5_0Kernel, 16>(mkn, lhs, rhs, dst),
    }
}

/// `dst = lhs · rhsᵀ` for `m` f32 activation rows (quantized to Q8K here) and `n` Q4K weight
/// rows of `k` elements.
///
/// # Safety
/// The processor must have AVX-512 F, BW, VL and VNNI.
pub(crate) unsafe fn matmul_q4k(
    mkn: (usize, usize, usize),
    lhs: &[f32],
    rhs: &[BlockQ4K],
    dst: &mut [f32],
) {
    // 8 rows a call: each row keeps two accumulators.
    match mkn {
        (1, k, _) => matvec::<Q4KKernel>(k, lhs, rhs, dst),
        _ => matmul::<Q4KKernel, 8>(mkn, lhs, rhs, dst),
    }
}

struct Q5_0Kernel;

/// Two consecutive Q8_0 activation blocks laid out for the 512-bit Q5_0 kernel.
#[repr(C, align(64))]
#[derive(Clone, Copy)]
struct Q8_0Pair {
    /// The even block's 32 activations, then the odd block's.
    qs: [i8; 64],
    /// Per 32-bit lane: −16 × the sum of its four activations.
    start: [i32; 16],
    /// Per 32-bit lane: its block's scale.
    d: [f32; 16],
}

impl WideKernel for Q5_0Kernel {
    type Weight = BlockQ5_0;
    type Input = BlockQ8_0;
    type Packed = Q8_0Pair;
    const INPUTS_PER_PACKED: usize = 2;
    const ZERO: Q8_0Pair = Q8_0Pair {
        qs: [0; 64],
        start: [0; 16],
        d: [0.0; 16],
    };

    /// A missing odd block at the end of a row stays zero: it adds zero.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
    unsafe fn pack_row(row: &[BlockQ8_0], out: &mut [Q8_0Pair]) {
        for (pair, blocks) in out.iter_mut().zip(row.chunks(2)) {
            for (half, y) in blocks.iter().enumerate() {
                let qs = _mm256_loadu_si256(y.qs.as_ptr() as *const __m256i);
                _mm256_storeu_si256(pair.qs.as_mut_ptr().add(32 * half) as *mut __m256i, qs);
                // vpdpbusd multiplies unsigned by signed bytes: 16 × the sums, then negated.
                let sums = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(16), qs);
                let start = _mm256_sub_epi32(_mm256_setzero_si256(), sums);
                _mm256_storeu_si256(pair.start.as_mut_ptr().add(8 * half) as *mut __m256i, start);
                let d = _mm256_set1_ps(f16::to_f32(y.d));
                _mm256_storeu_ps(pair.d.as_mut_ptr().add(8 * half), d);
            }
        }
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
    unsafe fn dot<const R: usize>(xs: &[BlockQ5_0], ys: [&[Q8_0Pair]; R]) -> [f32; R] {
        let pairs = xs.len().div_ceil(2);
        assert!(ys.iter().all(|ys| ys.len() >= pairs));
        let mut acc = [_mm512_setzero_ps(); R];
        for p in 0..pairs {
            if R == 1 {
                // Decoding streams the weights from memory once; the prompt path reads them
                // from cache, once per block of rows.
                prefetch_ahead(xs.as_ptr().add(2 * p), 1);
            }
            let (weights, dx) = q5_0_weight_pair(xs.get_unchecked(2 * p), xs.get(2 * p + 1));
            for r in 0..R {
                let y = ys[r].get_unchecked(p);
                let start = _mm512_load_si512(y.start.as_ptr() as *const _);
                let by = _mm512_load_si512(y.qs.as_ptr() as *const _);
                let lanes = _mm512_dpbusd_epi32(start, weights, by);
                let d = _mm512_mul_ps(dx, _mm512_load_ps(y.d.as_ptr()));
                acc[r] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(lanes), acc[r]);
            }
        }
        acc.map(|acc| {
            let even = _mm512_castps512_ps256(acc);
            let odd = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(acc)));
            super::avx::q5_0_sum([even, odd])
        })
    }
}

/// A pair of Q5_0 weight blocks as unsigned bytes 0..=31 (weight + 16), the even block low,
/// and each lane's weight scale. `x1` is `None` past the end of an odd-length row.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn q5_0_weight_pair(x0: &BlockQ5_0, x1: Option<&BlockQ5_0>) -> (__m512i, __m512) {
    let q0 = _mm_loadu_si128(x0.qs.as_ptr() as *const __m128i);
    let (q1, qh1, d1) = match x1 {
        Some(x1) => (
            _mm_loadu_si128(x1.qs.as_ptr() as *const __m128i),
            u32::from_le_bytes(x1.qh),
            f16::to_f32(x1.d),
        ),
        None => (_mm_setzero_si128(), 0, 0.0),
    };
    // [q0, q0, q1, q1]: low nibbles are a block's first 16 weights, high nibbles its last 16.
    let both = _mm512_castsi256_si512(_mm256_set_m128i(q1, q0));
    let spread = _mm512_shuffle_i64x2::<0b0101_0000>(both, both);
    let shifted = _mm512_srlv_epi64(spread, _mm512_setr_epi64(0, 0, 4, 4, 0, 0, 4, 4));
    let nibbles = _mm512_and_si512(shifted, _mm512_set1_epi8(0x0F));
    let fifth_bit: __mmask64 = u32::from_le_bytes(x0.qh) as u64 | (qh1 as u64) << 32;
    let weights = _mm512_mask_add_epi8(nibbles, fifth_bit, nibbles, _mm512_set1_epi8(16));
    let d0 = _mm512_castps_pd(_mm512_set1_ps(f16::to_f32(x0.d)));
    let d1 = _mm256_castps_pd(_mm256_set1_ps(d1));
    (weights, _mm512_castpd_ps(_mm512_insertf64x4::<1>(d0, d1)))
}

struct Q4KKernel;

/// A Q8K activation block laid out for the 512-bit Q4K kernel.
#[repr(C, align(64))]
#[derive(Clone, Copy)]
struct Q8KWide {
    /// The 32-activation sub-blocks in the order 0 2 1 3 4 6 5 7, so that each 64 bytes match
    /// the nibbles of 64 stored weight bytes (low nibbles: sub-blocks 0 and 2; high: 1 and 3).
    qs: [i8; QK_K],
    /// Each sub-block's sum, as AVX2's kernel adds the block's 16-element sums in pairs.
    sums: [i16; 8],
    d: f32,
}

impl WideKernel for Q4KKernel {
    type Weight = BlockQ4K;
    type Input = BlockQ8K;
    type Packed = Q8KWide;
    const INPUTS_PER_PACKED: usize = 1;
    const ZERO: Q8KWide = Q8KWide {
        qs: [0; QK_K],
        sums: [0; 8],
        d: 0.0,
    };

    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
    unsafe fn pack_row(row: &[BlockQ8K], out: &mut [Q8KWide]) {
        const ORDER: [usize; 8] = [0, 2, 1, 3, 4, 6, 5, 7];
        for (packed, y) in out.iter_mut().zip(row) {
            for (to, from) in ORDER.into_iter().enumerate() {
                let qs = _mm256_loadu_si256(y.qs.as_ptr().add(32 * from) as *const __m256i);
                _mm256_storeu_si256(packed.qs.as_mut_ptr().add(32 * to) as *mut __m256i, qs);
            }
            let bsums = y.bsums.as_ptr() as *const __m128i;
            let sums = _mm_hadd_epi16(_mm_loadu_si128(bsums), _mm_loadu_si128(bsums.add(1)));
            _mm_storeu_si128(packed.sums.as_mut_ptr() as *mut __m128i, sums);
            packed.d = y.d;
        }
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
    unsafe fn dot<const R: usize>(xs: &[BlockQ4K], ys: [&[Q8KWide]; R]) -> [f32; R] {
        assert!(ys.iter().all(|ys| ys.len() >= xs.len()));
        // Which 16-bit scale each half of the four vectors takes: sub-blocks (0, 2), (1, 3),
        // (4, 6), (5, 7).
        let scale_index = [(0, 2), (1, 3), (4, 6), (5, 7)]
            .map(|(lo, hi)| _mm512_inserti64x4::<1>(_mm512_set1_epi16(lo), _mm256_set1_epi16(hi)));
        let low_nibbles = _mm512_set1_epi8(0x0F);
        let mut acc = [_mm256_setzero_ps(); R];
        let mut acc_m = [_mm_setzero_ps(); R];
        for (i, x) in xs.iter().enumerate() {
            if R == 1 {
                // As in the Q5_0 kernel: a Q4K block is 144 bytes, three lines at most.
                prefetch_ahead(x, 3);
            }
            let scales_and_mins = super::avx::q4k_scales_and_mins(x);
            let mins = _mm256_extracti128_si256::<1>(scales_and_mins);
            let scales = _mm512_castsi256_si512(scales_and_mins);
            let scales = scale_index.map(|index| _mm512_permutexvar_epi16(index, scales));
            let stored = [0, 1].map(|h| _mm512_loadu_si512(x.qs.as_ptr().add(64 * h) as *const _));
            let weights = [
                _mm512_and_si512(stored[0], low_nibbles),
                _mm512_and_si512(_mm512_srli_epi16::<4>(stored[0]), low_nibbles),
                _mm512_and_si512(stored[1], low_nibbles),
                _mm512_and_si512(_mm512_srli_epi16::<4>(stored[1]), low_nibbles),
            ];
            let xd = x.d.to_f32();
            let xdmin = x.dmin.to_f32();
            for r in 0..R {
                let y = ys[r].get_unchecked(i);
                let mut sums = _mm512_setzero_si512();
                for v in 0..4 {
                    let by = _mm512_load_si512(y.qs.as_ptr().add(64 * v) as *const _);
                    let products = _mm512_maddubs_epi16(weights[v], by);
                    sums = _mm512_add_epi32(sums, _mm512_madd_epi16(scales[v], products));
                }
                let sums = _mm256_add_epi32(
                    _mm512_castsi512_si256(sums),
                    _mm512_extracti64x4_epi64::<1>(sums),
                );
                let y_sums = _mm_loadu_si128(y.sums.as_ptr() as *const __m128i);
                let prod = _mm_madd_epi16(mins, y_sums);
                acc_m[r] = _mm_fmadd_ps(_mm_set1_ps(-y.d * xdmin), _mm_cvtepi32_ps(prod), acc_m[r]);
                acc[r] =
                    _mm256_fmadd_ps(_mm256_set1_ps(y.d * xd), _mm256_cvtepi32_ps(sums), acc[r]);
            }
        }
        from_fn(|r| {
            let m = _mm_add_ps(acc_m[r], _mm_movehl_ps(acc_m[r], acc_m[r]));
            let m = _mm_add_ss(m, _mm_movehdup_ps(m));
            super::avx::hsum_float_8(acc[r]) + _mm_cvtss_f32(m)
        })
    }
}
