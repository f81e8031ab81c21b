//! `prompt_embedding` = mean of HF's `hidden_states[-1]` (after the final norm) over all
//! tokens, against `tests/golden/lm/hidden_mean_golden.json` (`gen_hidden_mean.py`).

use gleaner_lm::load;
use gleaner_models::{model_file, require_or_skip};
use serde_json::Value;
use std::path::PathBuf;

const TEST: &str = "prompt_embedding_is_mean_of_hf_last_hidden_state";

fn check(model_path: PathBuf, cases: &Value, what: &str) {
    if !require_or_skip(&format!("{TEST} ({what})"), &model_path, "gleaner models fetch") {
        return;
    }
    let m = load(&model_path).unwrap();
    let mut worst = 0.0f64;
    for c in cases.as_array().unwrap() {
        let want_ids: Vec<u32> = c["ids"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect();
        let ids = m.tokenizer.encode(c["text"].as_str().unwrap()).unwrap();
        assert_eq!(ids, want_ids, "{what}: ids");
        let e = &m.model.prompt_embedding(&[&ids])[0];
        let want: Vec<f64> = c["mean"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        assert_eq!(e.len(), want.len());
        let scale = want.iter().map(|v| v.abs()).fold(0.0, f64::max);
        for (a, b) in e.iter().zip(&want) {
            worst = worst.max((*a as f64 - b).abs() / scale);
        }
    }
    eprintln!("{what}: max |Δ| / max|mean| = {worst:.2e}");
    assert!(worst < 1e-4, "{what}: {worst}");
}

#[test]
fn prompt_embedding_is_mean_of_hf_last_hidden_state() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden");
    let golden = root.join("lm/hidden_mean_golden.json");
    if !require_or_skip(TEST, &golden, "tests/golden/lm/gen_hidden_mean.py") {
        return;
    }
    let text = std::fs::read_to_string(&golden).unwrap();
    let g: Value = serde_json::from_str(&text).unwrap();
    check(root.join("tiny/gpt2"), &g["tiny_gpt2"], "tiny gpt2");
    check(root.join("tiny/llama"), &g["tiny_llama"], "tiny llama");
    if g.get("smollm2").is_some() {
        let p = model_file("GLEANER_SMOLLM2_GGUF", "SmolLM2-135M-Instruct", "SmolLM2-135M-Instruct.Q4_1.gguf");
        check(p, &g["smollm2"], "SmolLM2");
    }
}
