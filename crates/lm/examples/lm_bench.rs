//! IFD workload benchmark: Alpaca pairs → conditioned + direct passes → per-token NLL.
//!
//! `cargo run --release -p gleaner-lm --example lm_bench -- MODEL DATA.json [N] [batch_tokens]`
//!
//! Uses Cherry's Alpaca template (docs/methods.md §2.2): cond = prompt ‖ output scored over the
//! output span, direct = "### Response:" ‖ output; both truncated at 512 tokens. Prints forwarded
//! tokens per second (all tokens of both passes, as a batch-1 HF loop would forward them).
//! `GLEANER_PRECISION=bf16x3` or `bf16` loads the model in that precision (f32 otherwise).

use gleaner_lm::load_with;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: lm_bench MODEL DATA.json [N] [batch_tokens]");
        std::process::exit(2);
    }
    if let Some(b) = args.get(4) {
        // SAFETY: single-threaded at this point, before any rayon pool exists.
        unsafe { std::env::set_var("GLEANER_LM_BATCH_TOKENS", b) };
    }
    let n: usize = args.get(3).and_then(|v| v.parse().ok()).unwrap_or(200);
    let t0 = Instant::now();
    let m = load_with(std::path::Path::new(&args[1]), precision_from_env()).expect("load model");
    eprintln!("load: {:.2}s ({})", t0.elapsed().as_secs_f64(), m.model.identity());
    let data: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&args[2]).unwrap()).unwrap();
    let recs = data.as_array().unwrap();
    let mut seqs: Vec<Vec<u32>> = Vec::new();
    let mut from: Vec<usize> = Vec::new();
    let t1 = Instant::now();
    for r in recs.iter().take(n) {
        let (i, x, o) =
            (r["instruction"].as_str().unwrap(), r["input"].as_str().unwrap_or(""), r["output"].as_str().unwrap());
        let prompt = if x.is_empty() {
            format!(
                "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\n{i}\n\n### Response:"
            )
        } else {
            format!(
                "Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\n{i}\n\n### Input:\n{x}\n\n### Response:"
            )
        };
        for (p, text) in
            [(&prompt, format!("{prompt}{o}")), (&"### Response:".to_string(), format!("### Response:{o}"))]
        {
            let mut ids = m.tokenizer.encode(&text).unwrap();
            ids.truncate(512);
            let s = m.tokenizer.encode(p).unwrap().len().max(1);
            seqs.push(ids);
            from.push(s);
        }
    }
    let tok_time = t1.elapsed().as_secs_f64();
    let total: usize = seqs.iter().map(Vec::len).sum();
    let scored: usize = seqs.iter().zip(&from).map(|(s, &f)| s.len().saturating_sub(f)).sum();
    let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
    let t2 = Instant::now();
    let out = m.model.nll(&refs, &from);
    let dt = t2.elapsed().as_secs_f64();
    let mean: f64 = out.iter().flatten().map(|&v| v as f64).sum::<f64>() / scored.max(1) as f64;
    println!(
        "pairs {} passes {} tokens {} scored {} ({:.0}%) | tokenize {:.2}s | nll {:.2}s = {:.0} tok/s | mean NLL {:.4}",
        n.min(recs.len()),
        seqs.len(),
        total,
        scored,
        100.0 * scored as f64 / total as f64,
        tok_time,
        dt,
        total as f64 / dt,
        mean
    );
    let prof = gleaner_lm::profile_report();
    let total_p: f64 = prof.iter().map(|p| p.1).sum();
    if total_p > 0.0 {
        for (name, secs) in prof {
            println!("  {name:<18} {secs:8.2}s {:5.1}%", 100.0 * secs / total_p);
        }
    }
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
