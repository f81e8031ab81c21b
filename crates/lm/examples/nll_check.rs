//! Compares per-token NLL with a JSONL of `{"ids": [...], "nll": [...]}` (NLL of tokens 1..T-1).
//! `nll_check MODEL FILE.jsonl [stride]`; `GLEANER_PRECISION=bf16x3` or `bf16` loads the model
//! in that precision (f32 otherwise).
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let m = gleaner_lm::load_with(std::path::Path::new(&a[1]), precision_from_env()).unwrap();
    let stride: usize = a.get(3).and_then(|v| v.parse().ok()).unwrap_or(1);
    let mut ids = Vec::new();
    let mut want = Vec::new();
    for (i, l) in std::fs::read_to_string(&a[2]).unwrap().lines().enumerate() {
        if i % stride != 0 {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        ids.push(v["ids"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect::<Vec<u32>>());
        want.push(v["nll"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect::<Vec<f64>>());
    }
    let refs: Vec<&[u32]> = ids.iter().map(Vec::as_slice).collect();
    let t = std::time::Instant::now();
    let got = m.model.nll(&refs, &vec![1; refs.len()]);
    let dt = t.elapsed().as_secs_f64();
    let mut diffs: Vec<(f64, usize, usize, usize)> = Vec::new();
    let mut loss_d: f64 = 0.0;
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g.len(), w.len());
        for (j, (x, y)) in g.iter().zip(w).enumerate() {
            diffs.push(((*x as f64 - y).abs(), k, j, ids[k].len()));
        }
        if !w.is_empty() {
            let a: f64 = g.iter().map(|&v| v as f64).sum::<f64>() / g.len() as f64;
            let b: f64 = w.iter().sum::<f64>() / w.len() as f64;
            loss_d = loss_d.max((a - b).abs());
        }
    }
    diffs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let n = diffs.len();
    let mean: f64 = diffs.iter().map(|d| d.0).sum::<f64>() / n as f64;
    println!(
        "{} seqs, {n} tokens in {dt:.1}s: max {:.3e} (seq {} pos {} len {}), p99 {:.3e}, p50 {:.3e}, mean {:.3e}; max |Δ mean loss| {:.3e}",
        ids.len(),
        diffs[0].0,
        diffs[0].1,
        diffs[0].2,
        diffs[0].3,
        diffs[n / 100].0,
        diffs[n / 2].0,
        mean,
        loss_d
    );
}

/// The precision `GLEANER_PRECISION` names: `bf16x3` or `bf16` (AMX tiles where the CPU has
/// them), anything else the exact f32 mode.
fn precision_from_env() -> gleaner_nn::Precision {
    match std::env::var("GLEANER_PRECISION").as_deref() {
        Ok("bf16x3") => gleaner_nn::Precision::Bf16x3,
        Ok("bf16") => gleaner_nn::Precision::Bf16,
        _ => gleaner_nn::Precision::F32,
    }
}
