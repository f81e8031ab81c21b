//! Gemma-3-270M (GGUF Q4_K_M, optional model) against `tests/golden/lm/gemma3_golden.json`
//! (`gen_gemma3.py`): the SentencePiece tokenizer rebuilt from GGUF metadata vs HF
//! transformers' GGUF tokenizer, and per-token NLL vs transformers' fp32 forward on the
//! dequantised weights (one sequence longer than the 512-token sliding window).
//!
//! The model is `<models dir>/gemma-3-270m/gemma-3-270m-q4_k_m.gguf` (`gleaner models fetch
//! gemma-3-270m`; the models dir is `$GLEANER_MODELS`, default `~/.cache/gleaner/models`) or
//! `$GLEANER_GEMMA3_GGUF`. When it is absent the test prints `SKIPPED: …` and passes, except
//! under CI (`CI` set), where it fails.

use gleaner_lm::load;
use gleaner_models::{model_file, require_or_skip};
use serde_json::Value;
use std::path::PathBuf;

fn ids(v: &Value) -> Vec<u32> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect()
}

#[test]
fn gemma3_matches_transformers() {
    const TEST: &str = "gemma3_matches_transformers";
    let p = model_file("GLEANER_GEMMA3_GGUF", "gemma-3-270m", "gemma-3-270m-q4_k_m.gguf");
    let golden = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/lm/gemma3_golden.json");
    if !require_or_skip(TEST, &p, "gleaner models fetch gemma-3-270m")
        || !require_or_skip(TEST, &golden, "tests/golden/lm/gen_gemma3.py")
    {
        return;
    }
    let g: Value = serde_json::from_str(&std::fs::read_to_string(&golden).unwrap()).unwrap();
    let t = std::time::Instant::now();
    let m = load(&p).unwrap();
    eprintln!("loaded {} in {:.1}s", m.model.identity(), t.elapsed().as_secs_f64());
    assert!(m.tokenizer.adds_bos());
    let (mut same_hf, mut same_lc, mut n) = (0, 0, 0);
    for c in g["tokenizer"].as_array().unwrap() {
        let text = c["text"].as_str().unwrap();
        let got = m.tokenizer.encode(text).unwrap();
        n += 1;
        if got == ids(&c["ids_hf"]) {
            same_hf += 1;
        } else {
            eprintln!(
                "  differs from HF: {:?}\n    got  {:?}\n    want {:?}",
                &text[..text.len().min(40)],
                &got[..got.len().min(16)],
                &ids(&c["ids_hf"])[..16.min(c["ids_hf"].as_array().unwrap().len())]
            );
        }
        same_lc += usize::from(got == ids(&c["ids_llamacpp"]));
    }
    eprintln!("Gemma3 tokenizer: {same_hf}/{n} identical to HF's GGUF tokenizer, {same_lc}/{n} to llama.cpp");
    assert_eq!(same_hf, n);

    let seqs: Vec<Vec<u32>> = g["sequences"].as_array().unwrap().iter().map(|s| ids(&s["ids"])).collect();
    let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
    let t = std::time::Instant::now();
    let out = m.model.nll(&refs, &vec![1; refs.len()]);
    let dt = t.elapsed().as_secs_f64();
    let (mut worst, mut worst_long, mut tokens) = (0.0f64, 0.0f64, 0);
    for (s, o) in g["sequences"].as_array().unwrap().iter().zip(&out) {
        let want: Vec<f64> = s["nll_f32"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        assert_eq!(o.len(), want.len());
        for (j, (a, b)) in o.iter().zip(&want).enumerate() {
            let d = (*a as f64 - b).abs();
            worst = worst.max(d);
            if j >= 512 {
                worst_long = worst_long.max(d);
            }
        }
        tokens += o.len() + 1;
    }
    eprintln!(
        "Gemma3 NLL: {} sequences, {tokens} tokens in {dt:.1}s: max |Δ| {worst:.2e} (beyond the 512 window: {worst_long:.2e})",
        out.len()
    );
    assert!(worst <= 5e-4, "per-token NLL differs by {worst}");
}
