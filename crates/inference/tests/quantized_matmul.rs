//! The patched candle-core's CPU quantized matmul (third_party/candle-core/SWITCHYARD.md):
//! several activation rows at once (the tiled prompt path, with its four-row Q8_0, Q5_0 and
//! Q4_K kernels, the 16- and 8-row AVX-512 ones, and the rows left over) must give exactly
//! what one row at a time gives, and both must match a plain f32 matmul over the dequantized
//! weights within the activations' 8-bit quantization. Where the processor has AVX-512 VNNI,
//! the kernels that use it (decoding included) must give exactly what the AVX2 ones give. A
//! thread outside rayon that multiplies becomes worker 0 of a pool of its own, with the same
//! results.

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{Device, Module, Tensor};

fn max_abs(t: &Tensor) -> f32 {
    t.abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

fn check(dtype: GgmlDType, n: usize, k: usize, rows: usize) {
    let cpu = Device::Cpu;
    let weights = Tensor::randn(0f32, 1.0, (n, k), &cpu).unwrap();
    let quantized = QTensor::quantize(&weights, dtype).unwrap();
    let dequantized = quantized.dequantize(&cpu).unwrap();
    let matmul = QMatMul::from_qtensor(quantized).unwrap();
    let input = Tensor::randn(0f32, 1.0, (rows, k), &cpu).unwrap();

    let batched = matmul.forward(&input).unwrap();
    assert_eq!(batched.dims(), &[rows, n]);
    let one_by_one: Vec<Tensor> = (0..rows)
        .map(|row| matmul.forward(&input.narrow(0, row, 1).unwrap()).unwrap())
        .collect();
    let one_by_one = Tensor::cat(&one_by_one, 0).unwrap();
    let batched_values = batched.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let row_values = one_by_one.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(
        batched_values, row_values,
        "{dtype:?} {rows}x{k} @ {k}x{n}: the batched path differs from row-at-a-time"
    );

    let reference = input.matmul(&dequantized.t().unwrap()).unwrap();
    let error = max_abs(&(batched - &reference).unwrap());
    let scale = max_abs(&reference);
    assert!(
        error < 0.03 * scale,
        "{dtype:?} {rows}x{k} @ {k}x{n}: max error {error} against {scale} from the f32 matmul"
    );
}

#[test]
fn q8_0_batched_rows_match_row_at_a_time_and_f32() {
    // 1 (the decode path), 4 (one four-row step), 7 (a step and three left over), 37 (more than
    // one row block, and a strip of columns that ends early with n = 50).
    for rows in [1, 4, 7, 37] {
        check(GgmlDType::Q8_0, 50, 512, rows);
    }
    // One row against 301 weight rows: more than one task's worth, so the decode path goes
    // through the pool (50 rows stay on the calling thread), with an odd row left over.
    check(GgmlDType::Q8_0, 301, 512, 1);
}

#[test]
fn k_quants_batched_rows_match_row_at_a_time_and_f32() {
    for dtype in [GgmlDType::Q4K, GgmlDType::Q6K] {
        for rows in [1, 5, 33] {
            check(dtype, 40, 512, rows);
        }
    }
}

#[test]
fn q5_0_batched_rows_match_row_at_a_time_and_f32() {
    // k = 96: three blocks a row, an odd count (the published kernel asserted an even one).
    // 21 and 37 rows: 16-row steps of the AVX-512 kernel, then a four-row one and one left.
    for (k, rows) in [(512, 1), (512, 6), (96, 1), (96, 9), (512, 21), (96, 37)] {
        check(GgmlDType::Q5_0, 42, k, rows);
    }
    check(GgmlDType::Q5_0, 301, 96, 1);
}

/// The Q5_0 and Q4K kernels for AVX-512, which the patch picks at run time, against the AVX2
/// ones, bit for bit: Q5_0 in all its forms — one weight row (n odd leaves one over), two
/// (decoding), four activation rows and the 16-row kernel (prompts) — and Q4K's 8-row and
/// one-row 512-bit kernels, each also against the AVX-512 four-row kernels (`avx512_gemm`
/// off). With `avx512_gemm` on, one activation row goes through the 512-bit kernels too. Tests running alongside
/// may meanwhile get either set; as they agree exactly, their results cannot change.
#[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
#[test]
fn avx512_kernels_match_avx2_bit_for_bit() {
    use candle_core::quantized::{avx512, avx512_gemm};
    let has_vnni = is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vl")
        && is_x86_feature_detected!("avx512vnni");
    assert_eq!(
        avx512::set_enabled(true),
        has_vnni,
        "the AVX-512 kernels must be on exactly where the processor has them"
    );
    if !has_vnni {
        eprintln!("no AVX-512 VNNI on this processor: only its dispatch was checked");
        return;
    }
    let cpu = Device::Cpu;
    let cases = [
        (GgmlDType::Q5_0, 43, 512, 1),
        (GgmlDType::Q5_0, 301, 96, 1),
        (GgmlDType::Q5_0, 43, 512, 6),
        (GgmlDType::Q5_0, 43, 96, 9),
        (GgmlDType::Q5_0, 43, 96, 37),
        // One row against Q4K: on the calling thread (40 weight rows) and through the pool.
        (GgmlDType::Q4K, 40, 512, 1),
        (GgmlDType::Q4K, 301, 256, 1),
        (GgmlDType::Q4K, 40, 512, 5),
        (GgmlDType::Q4K, 40, 512, 33),
    ];
    for (dtype, n, k, rows) in cases {
        let weights = Tensor::randn(0f32, 1.0, (n, k), &cpu).unwrap();
        let matmul = QMatMul::from_qtensor(QTensor::quantize(&weights, dtype).unwrap()).unwrap();
        let input = Tensor::randn(0f32, 1.0, (rows, k), &cpu).unwrap();
        let [wide, four_rows, avx2] =
            [(true, true), (true, false), (false, false)].map(|(avx512_on, wide_on)| {
                avx512::set_enabled(avx512_on);
                avx512_gemm::set_enabled(wide_on);
                let out = matmul.forward(&input).unwrap();
                out.flatten_all().unwrap().to_vec1::<f32>().unwrap()
            });
        avx512::set_enabled(true);
        avx512_gemm::set_enabled(true);
        let case = format!("{dtype:?} {rows}x{k} @ {k}x{n}");
        assert_eq!(four_rows, avx2, "{case}: AVX-512 and AVX2 kernels differ");
        assert_eq!(
            wide, avx2,
            "{case}: the wide AVX-512 kernel and AVX2 differ"
        );
    }
}

#[test]
fn a_thread_outside_rayon_multiplies_in_a_pool_of_its_own() {
    // mistral.rs's engine thread is such a thread: after its first quantized matmul it is
    // worker 0 of its own pool, its results are the pool's results, and handing work to
    // another pool from it (mistral.rs's attention pool) still comes back.
    let cpu = Device::Cpu;
    let (n, k) = (1024, 512);
    let weights = Tensor::randn(0f32, 1.0, (n, k), &cpu).unwrap();
    let matmul =
        QMatMul::from_qtensor(QTensor::quantize(&weights, GgmlDType::Q4_0).unwrap()).unwrap();
    let inputs: Vec<Tensor> = [1, 20]
        .map(|rows| Tensor::randn(0f32, 1.0, (rows, k), &cpu).unwrap())
        .into();
    let forward_all = |matmul: &QMatMul, inputs: &[Tensor]| -> Vec<Vec<f32>> {
        inputs
            .iter()
            .map(|input| {
                let out = matmul.forward(input).unwrap();
                out.flatten_all().unwrap().to_vec1::<f32>().unwrap()
            })
            .collect()
    };

    let global_style = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let expected = global_style.install(|| forward_all(&matmul, &inputs));

    let (index_before, got, index_after, via_other_pool) = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let before = rayon::current_thread_index();
                let got = forward_all(&matmul, &inputs);
                let after = rayon::current_thread_index();
                let other = rayon::ThreadPoolBuilder::new()
                    .num_threads(2)
                    .build()
                    .unwrap();
                let via_other = other.install(|| forward_all(&matmul, &inputs));
                (before, got, after, via_other)
            })
            .join()
            .unwrap()
    });

    assert_eq!(index_before, None, "a plain thread starts outside rayon");
    let threads = candle_core::utils::get_num_threads();
    let expected_index = (threads >= 2).then_some(0);
    assert_eq!(
        index_after, expected_index,
        "with {threads} threads the calling thread must become worker 0 of its own pool"
    );
    assert_eq!(got, expected, "the own pool changed a matmul's result");
    assert_eq!(
        via_other_pool, expected,
        "a matmul through another pool changed"
    );
}
