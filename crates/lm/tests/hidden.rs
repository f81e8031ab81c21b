//! `prompt_embedding` = mean of HF's `hidden_states[-1]` (after the final norm) over all
//! tokens, against `tests/golden/lm/hidden_mean_golden.json` (`gen_hidden_mean.py`).

use gleaner_lm::load;
use serde_json::Value;
use std::path::PathBuf;

fn check(model_path: PathBuf, cases: &Value, what: &str) {
    if !model_path.exists() {
        eprintln!("SKIP {what}: {} missing", model_path.display());
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
    let Ok(text) = std::fs::read_to_string(root.join("lm/hidden_mean_golden.json")) else {
        eprintln!("SKIP: hidden_mean_golden.json not generated");
        return;
    };
    let g: Value = serde_json::from_str(&text).unwrap();
    check(root.join("tiny/gpt2"), &g["tiny_gpt2"], "tiny gpt2");
    check(root.join("tiny/llama"), &g["tiny_llama"], "tiny llama");
    if g.get("smollm2").is_some() {
        let p = PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
            .join(".cache/gleaner/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf");
        check(p, &g["smollm2"], "SmolLM2");
    }
}
