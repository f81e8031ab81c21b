//! GEMM throughput probe: f32 (`gemm` crate) vs AMX bf16x3 vs AMX bf16 on MiniLM and SmolLM2
//! layer shapes, after the machine's f32 FMA peak (independent AVX-512 FMAs on every core, no
//! memory traffic): the ceiling any f32 GEMM can reach.
//! `cargo run --release -p gleaner-nn --example gemm_probe` (quiet machine only).
use gleaner_nn::amx::{self, PackedWeights, Precision};

/// f32 FLOP/s of 24 independent FMA chains on 16 lanes, `iters` rounds, on this thread.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn fma_peak(iters: usize) -> f64 {
    use std::arch::x86_64::*;
    let t = std::time::Instant::now();
    let mut acc = [_mm512_set1_ps(0.0); 24];
    let (a, b) = (_mm512_set1_ps(1.000_000_1), _mm512_set1_ps(0.999_999_9));
    for _ in 0..iters {
        for v in acc.iter_mut() {
            *v = _mm512_fmadd_ps(a, *v, b);
        }
    }
    let sum = acc.iter().fold(_mm512_set1_ps(0.0), |s, &v| _mm512_add_ps(s, v));
    std::hint::black_box(_mm512_reduce_add_ps(sum));
    (iters * 24 * 32) as f64 / t.elapsed().as_secs_f64()
}

fn main() {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        // SAFETY: avx512f was detected at run time.
        let one = unsafe { fma_peak(100_000_000) };
        let all: f64 = std::thread::scope(|s| {
            let h: Vec<_> = (0..threads).map(|_| s.spawn(|| unsafe { fma_peak(100_000_000) })).collect();
            h.into_iter().map(|h| h.join().unwrap()).sum()
        });
        println!(
            "f32 FMA peak (AVX-512): 1 thread {:.1} GFLOP/s, {threads} threads {:.1} GFLOP/s",
            one / 1e9,
            all / 1e9
        );
    }
    println!("amx available: {}", amx::available());
    let m = 2048;
    for (k, n) in [(384usize, 1152usize), (384, 1536), (1536, 384), (576, 960), (576, 3072), (1536, 576), (576, 49152)]
    {
        let mm = if n > 10000 { 256 } else { m };
        let x: Vec<f32> = (0..mm * k).map(|i| (i % 7) as f32 * 0.1).collect();
        let w: Vec<f32> = (0..n * k).map(|i| (i % 5) as f32 * 0.1).collect();
        let mut y = vec![0.0f32; mm * n];
        let pw = PackedWeights::new(&w, n, k, true);
        let flop = 2.0 * (mm * k * n) as f64;
        let mut line = format!("m {mm} k {k} n {n}:");
        for prec in [Precision::F32, Precision::Bf16x3, Precision::Bf16] {
            if prec != Precision::F32 && !amx::available() {
                continue;
            }
            let run = |y: &mut [f32]| match prec {
                Precision::F32 => gleaner_nn::matmul_t(&x, mm, k, &w, n, y),
                p => amx::matmul_t(&x, mm, &pw, y, p, true),
            };
            run(&mut y);
            let reps = 5;
            let t = std::time::Instant::now();
            for _ in 0..reps {
                run(&mut y);
            }
            let dt = t.elapsed().as_secs_f64() / reps as f64;
            line += &format!("  {prec:?} {:.1} ms {:.0} GFLOP/s", dt * 1e3, flop / dt / 1e9);
        }
        println!("{line}");
    }
}
