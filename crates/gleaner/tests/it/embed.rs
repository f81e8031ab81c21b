//! Sentence embeddings against sentence-transformers (golden file made by
//! `tests/golden/gen_minilm.py`): cosine ≥ 0.9999 for each of 500 real texts.

use crate::util::*;
use gleaner_embed::{Embedder, SentenceEncoder};

fn golden_matrix() -> (Vec<String>, Vec<f32>) {
    let g = root().join("tests/golden");
    let texts: Vec<String> = std::fs::read_to_string(g.join("minilm_texts.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let bytes = std::fs::read(g.join("minilm_embeddings.npy")).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let data: Vec<f32> = npy.into_vec().unwrap();
    assert_eq!(data.len(), texts.len() * 384);
    (texts, data)
}

fn encoder() -> SentenceEncoder {
    let p = gleaner_models::resolve("all-MiniLM-L6-v2").expect("run `gleaner models fetch` first");
    SentenceEncoder::load(p.path()).unwrap()
}

fn cos(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

#[test]
fn minilm_matches_sentence_transformers_on_500_real_texts() {
    let (texts, want) = golden_matrix();
    let enc = encoder();
    let got = enc.embed(&texts, &|_| {}).unwrap();
    let mut worst = 1.0f64;
    for i in 0..texts.len() {
        let c = cos(&got[i * 384..(i + 1) * 384], &want[i * 384..(i + 1) * 384]);
        worst = worst.min(c);
    }
    // 0.9999 is the bar; f32 accumulation-order differences give ~1e-7 in practice.
    assert!(worst >= 0.9999, "worst cosine {worst}");
    eprintln!("minilm: worst cosine over {} texts = {worst:.8}", texts.len());
}

#[test]
fn minilm_reference_sentences_from_assets() {
    // docs/models.md's values carry 6 decimals: the f32 reference arithmetic (bf16 tiles differ by
    // ~1e-4 per component; their agreement is checked by the 500-text cosine golden below).
    let p = gleaner_models::resolve("all-MiniLM-L6-v2").expect("run `gleaner models fetch` first");
    let enc = SentenceEncoder::load_with(p.path(), gleaner_nn::Precision::F32).unwrap();
    let s: Vec<String> = [
        "How do I bake chocolate chip cookies?",
        "Give me a recipe for chocolate chip cookies.",
        "Explain the theory of general relativity.",
    ]
    .iter()
    .map(|x| x.to_string())
    .collect();
    let e = enc.embed(&s, &|_| {}).unwrap();
    let (a, b, c) = (&e[..384], &e[384..768], &e[768..]);
    assert!((cos(a, b) - 0.813).abs() < 5e-4);
    assert!((cos(a, c) - 0.101).abs() < 5e-4);
    assert!((cos(b, c) - 0.146).abs() < 5e-4);
    for (x, y) in a[..5].iter().zip([0.017876, 0.009457, -0.016476, -0.007823, -0.059421]) {
        assert!((x - y).abs() < 2e-6, "{x} vs {y}");
    }
}

#[test]
fn embed_command_writes_a_reusable_side_file() {
    let d = tmp();
    let out = d.path().join("emb.parquet");
    let src = data("sample/alpaca_en_demo.json");
    ok(&["embed", src.to_str().unwrap(), "-o", out.to_str().unwrap(), "--text", "lcg"]);
    let m = gleaner_cache::Matrix::read(&out).unwrap();
    assert_eq!((m.rows(), m.dim), (999, 384));
    // Each row is unit-length (all-MiniLM-L6-v2 has a Normalize module).
    let n: f32 = m.row(0).iter().map(|v| v * v).sum();
    assert!((n - 1.0).abs() < 1e-4);
    // A rerun reuses the side file.
    let out2 = gleaner(&["embed", src.to_str().unwrap(), "-o", out.to_str().unwrap(), "--text", "lcg"]);
    assert!(String::from_utf8_lossy(&out2.stderr).contains("reusing embeddings"));
}

#[test]
fn embed_refuses_an_output_name_that_is_not_parquet() {
    let d = tmp();
    let out = d.path().join("emb.npy");
    let src = data("sample/alpaca_en_demo.json");
    let err = fails(&["embed", src.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(err.contains("emb.npy") && err.contains("Parquet"), "{err}");
    assert!(!out.exists(), "nothing may be written under the refused name");
}
