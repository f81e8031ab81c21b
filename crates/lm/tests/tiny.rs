//! Parity with HF transformers on the tiny random-weight GPT-2 and Llama checkpoints
//! (`tests/golden/tiny/`, see its README): token ids, per-token NLL (≤ 1e-4 absolute) and span
//! losses (≤ 1e-5 relative).

use gleaner_lm::{LoadedLm, load};
use serde_json::Value;
use std::path::PathBuf;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/tiny")
}

struct Pass {
    text: String,
    ml: usize,
    ids: Vec<u32>,
    span: usize,
    nll: Vec<f64>,
    loss: Option<f64>,
}

fn passes(g: &Value, keys: &[&str]) -> Vec<Pass> {
    let mut out = Vec::new();
    for k in keys {
        for c in g[*k].as_array().unwrap() {
            for p in ["cond", "direct"] {
                let p = &c[p];
                out.push(Pass {
                    text: p["text"].as_str().unwrap().to_string(),
                    ml: p["max_length"].as_u64().unwrap() as usize,
                    ids: p["ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect(),
                    span: p["span_start"].as_u64().unwrap() as usize,
                    nll: p["token_nll"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect(),
                    loss: p["loss_mean_f64"].as_f64(),
                });
            }
        }
    }
    out
}

fn check(m: &LoadedLm, ps: &[Pass], what: &str) {
    // Tokenizer: encode(text)[:ML] == ids.
    let mut tok_ok = 0;
    for p in ps {
        let mut ids = m.tokenizer.encode(&p.text).unwrap();
        ids.truncate(p.ml);
        assert_eq!(ids, p.ids, "{what}: token ids of {:?}", &p.text[..p.text.len().min(60)]);
        tok_ok += 1;
    }
    let seqs: Vec<&[u32]> = ps.iter().map(|p| p.ids.as_slice()).collect();
    let from = vec![1; ps.len()];
    let got = m.model.nll(&seqs, &from);
    let mut worst = 0.0f64;
    let mut worst_loss = 0.0f64;
    let mut n = 0;
    for (p, g) in ps.iter().zip(&got) {
        assert_eq!(g.len(), p.nll.len(), "{what}: NLL count");
        for (a, b) in g.iter().zip(&p.nll) {
            worst = worst.max((*a as f64 - b).abs());
            n += 1;
        }
        if let Some(l) = p.loss {
            let s = p.span.max(1);
            let ours: f64 = g[s - 1..].iter().map(|&v| v as f64).sum::<f64>() / (g.len() + 1 - s) as f64;
            worst_loss = worst_loss.max((ours - l).abs() / l.abs());
        }
    }
    eprintln!(
        "{what}: {tok_ok} tokenisations equal; {n} token NLLs, max |Δ| = {worst:.3e}; max rel Δ loss = {worst_loss:.3e}"
    );
    assert!(worst <= 1e-4, "{what}: max per-token NLL difference {worst}");
    assert!(worst_loss <= 1e-5, "{what}: max relative loss difference {worst_loss}");
}

#[test]
fn tiny_gpt2_matches_transformers() {
    let dir = golden_dir();
    let g: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("gpt2_golden.json")).unwrap()).unwrap();
    let m = load(&dir.join("gpt2")).unwrap();
    assert!(!m.tokenizer.adds_bos());
    for t in g["tokenizer_checks"].as_array().unwrap() {
        let ids: Vec<u32> = t["ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
        assert_eq!(m.tokenizer.encode(t["text"].as_str().unwrap()).unwrap(), ids);
    }
    check(&m, &passes(&g, &["cases", "small_max_length_cases"]), "tiny gpt2");
}

#[test]
fn tiny_llama_matches_transformers() {
    let dir = golden_dir();
    let g: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("llama_golden.json")).unwrap()).unwrap();
    let m = load(&dir.join("llama")).unwrap();
    assert!(m.tokenizer.adds_bos());
    check(
        &m,
        &passes(&g, &["cherry_cases", "cherry_small_max_length_cases", "none_cases", "none_small_max_length_cases"]),
        "tiny llama",
    );
}

#[test]
fn out_of_range_and_edge_inputs_do_not_panic() {
    let m = load(&golden_dir().join("gpt2")).unwrap();
    let v = m.model.vocab() as u32;
    let long = vec![5u32; m.model.max_positions() + 1];
    let bad = [3, v];
    let seqs: Vec<&[u32]> = vec![&[], &[3], &bad, &long, &[3, 4, 5]];
    let out = m.model.nll(&seqs, &[1, 1, 1, 1, 0]);
    assert_eq!(out[0].len(), 0);
    assert_eq!(out[1].len(), 0);
    assert!(out[2][0].is_nan());
    assert!(out[3].iter().all(|x| x.is_nan()));
    assert_eq!(out[4].len(), 3);
    assert!(out[4][0].is_nan() && out[4][1].is_finite() && out[4][2].is_finite());
    let e = m.model.prompt_embedding(&seqs);
    assert!(e[0][0].is_nan() && e[1][0].is_finite());
    assert!(load(&golden_dir().join("nope")).is_err());
    assert!(load(&golden_dir().join("gpt2_golden.json")).is_err());
}

/// Precision is an option of each model, given at load: `load` is f32, `load_with` and
/// `load_blocks` keep what they are given, and models of one file in different precisions
/// live side by side without affecting each other. Where AMX exists one-term bf16 moves the
/// NLLs a little; elsewhere every precision runs the f32 path and gives the f32 numbers.
#[test]
fn precision_is_an_option_of_each_model() {
    use gleaner_nn::Precision;
    for name in ["gpt2", "llama"] {
        let p = golden_dir().join(name);
        let f = load(&p).unwrap();
        let b = gleaner_lm::load_with(&p, Precision::Bf16).unwrap();
        let b3 = gleaner_lm::load_blocks(&p, Some(1), Precision::Bf16x3).unwrap();
        assert_eq!(
            (f.model.precision(), b.model.precision(), b3.model.precision()),
            (Precision::F32, Precision::Bf16, Precision::Bf16x3),
            "{name}"
        );
        // long enough for the tile path (8 rows and more)
        let ids: Vec<u32> = (0..40u32).map(|i| i * 7 % 50 + 3).collect();
        let f1 = f.model.nll(&[&ids], &[1]).remove(0);
        let bf = b.model.nll(&[&ids], &[1]).remove(0);
        let f2 = f.model.nll(&[&ids], &[1]).remove(0);
        assert_eq!(f1, f2, "{name}: the f32 model is untouched by the bf16 one");
        let worst = f1.iter().zip(&bf).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        if gleaner_nn::amx::available() {
            // one-term bf16 keeps about 3 digits per operand: NLLs of ~7 nats move by hundredths
            assert!(worst > 0.0 && worst < 0.25, "{name}: bf16 vs f32 max |Δ| {worst}");
        } else {
            assert_eq!(worst, 0.0, "{name}: without AMX bf16 runs the f32 path");
        }
    }
}
