//! Temporary: GEMM throughput probe for the SmolLM2 shapes.
fn main() {
    let m = 2048;
    for (k, n) in [(576usize, 960usize), (576, 3072), (1536, 576), (576, 576), (576, 49152)] {
        let mm = if n > 10000 { 256 } else { m };
        let x: Vec<f32> = (0..mm * k).map(|i| (i % 7) as f32 * 0.1).collect();
        let w: Vec<f32> = (0..n * k).map(|i| (i % 5) as f32 * 0.1).collect();
        let mut y = vec![0.0f32; mm * n];
        gleaner_nn::matmul_t(&x, mm, k, &w, n, &mut y);
        let t = std::time::Instant::now();
        let reps = 5;
        for _ in 0..reps {
            gleaner_nn::matmul_t(&x, mm, k, &w, n, &mut y);
        }
        let dt = t.elapsed().as_secs_f64() / reps as f64;
        println!("m {mm} k {k} n {n}: {:.1} ms, {:.1} GFLOP/s", dt * 1e3, 2.0 * (mm * k * n) as f64 / dt / 1e9);
    }
}
