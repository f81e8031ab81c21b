//! Timing harness for `bench/cluster/bench_cluster.py`: PCA(0.95) + k-means (+ optionally
//! facility location) on an `n × d` float32 `.npy` matrix, one JSON object per line on stdout.
//!
//! ```text
//! cargo run --release -p gleaner-cluster --example bench_cluster -- DATA.npy K [--fl N BUDGET]
//! ```

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use gleaner_cluster::{FacilityParams, KMeansParams, Pca, PcaTarget, facility_location, kmeans};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: bench_cluster DATA.npy K [--fl N BUDGET]");
        std::process::exit(2);
    }
    let (x, shape) = common::read_npy_f32(std::path::Path::new(&args[1]));
    let (n, d) = (shape[0], shape[1]);
    let k: usize = args[2].parse().expect("K");
    let threads = rayon::current_num_threads();
    let emit = |step: &str, secs: f64, inertia: Option<f64>, nc: Option<usize>, extra: &str| {
        println!(
            "{{\"tool\":\"gleaner\",\"step\":\"{step}\",\"seconds\":{secs:.4},\"inertia\":{},\
             \"n_components\":{},\"threads\":{threads}{extra}}}",
            inertia.map_or("null".into(), |v| format!("{v:.6}")),
            nc.map_or("null".into(), |v| v.to_string()),
        );
    };

    let t = Instant::now();
    let (pca, y) = Pca::fit_transform(&x, n, d, PcaTarget::Variance(0.95)).expect("pca");
    let nc = pca.n_components();
    emit("pca_0.95", t.elapsed().as_secs_f64(), None, Some(nc), "");

    for n_init in [1usize, KMeansParams::new(k).n_init] {
        let mut p = KMeansParams::new(k);
        p.n_init = n_init;
        let t = Instant::now();
        let r = kmeans(&y, n, nc, &p).expect("kmeans");
        emit(
            &format!("kmeans_lloyd_n_init{n_init}"),
            t.elapsed().as_secs_f64(),
            Some(r.inertia),
            Some(nc),
            &format!(",\"iterations\":{}", r.iterations),
        );
    }

    let t = Instant::now();
    let r = kmeans(&y, n, nc, &KMeansParams::mini_batch(k, 1024)).expect("mini-batch");
    emit(
        "kmeans_minibatch1024_n_init3",
        t.elapsed().as_secs_f64(),
        Some(r.inertia),
        Some(nc),
        &format!(",\"iterations\":{}", r.iterations),
    );

    if let Some(pos) = args.iter().position(|a| a == "--fl") {
        let m: usize = args[pos + 1].parse().expect("N");
        let budget: usize = args[pos + 2].parse().expect("BUDGET");
        let m = m.min(n);
        let t = Instant::now();
        let r = facility_location(&x[..m * d], m, d, &FacilityParams::new(budget)).expect("fl");
        emit(
            &format!("facility_n{m}_b{budget}"),
            t.elapsed().as_secs_f64(),
            None,
            None,
            &format!(",\"evaluations\":{}", r.evaluations),
        );
    }
}
