//! GEMM throughput probe: f32 (`gemm` crate) vs AMX bf16x3 vs AMX bf16 on MiniLM and SmolLM2
//! layer shapes. `cargo run --release -p gleaner-nn --example gemm_probe` (quiet machine only).
use gleaner_nn::amx::{self, PackedWeights, Precision};

fn main() {
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
