//! Parity on SmolLM2-135M-Instruct (GGUF Q4_1, dequantised to f32) against the goldens in
//! `tests/golden/` (see `gen_smollm2_tokens.py`, `gen_smollm2_ifd.py`):
//!
//! - tokenizer built from the GGUF metadata vs HF transformers' GGUF tokenizer with the
//!   smollm pre-tokenizer (and llama.cpp): every text, token for token;
//! - per-token NLL vs transformers' fp32 forward on the dequantised weights (`nll_f32`);
//! - the published reference IFD case (cond 0.815 / uncond 1.598 / IFD 0.510).
//!
//! The model file is not in the repository: it is
//! `<models dir>/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf` (`gleaner models
//! fetch`; the models dir is `$GLEANER_MODELS`, default `~/.cache/gleaner/models`) or
//! `$GLEANER_SMOLLM2_GGUF`. When it is absent the tests print `SKIPPED: …` and pass, except
//! under CI (`CI` set), where they fail. `GLEANER_FULL_PARITY=1` runs every golden pair (about
//! 80k tokens; a few minutes on 2 cores) instead of every 4th.

use gleaner_lm::{LoadedLm, load};
use gleaner_models::{model_file, require_or_skip};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;

/// Per-token tolerance against transformers' fp32 forward (see `nll_matches_transformers_f32`).
const TOKEN_TOL: f64 = 2e-4;

fn golden() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden")
}

fn model_path() -> PathBuf {
    model_file("GLEANER_SMOLLM2_GGUF", "SmolLM2-135M-Instruct", "SmolLM2-135M-Instruct.Q4_1.gguf")
}

/// The model file's path, or `None` after reporting `test` as skipped (a failure under CI).
fn require_model(test: &str) -> Option<PathBuf> {
    let p = model_path();
    require_or_skip(test, &p, "gleaner models fetch").then_some(p)
}

/// The golden file `name`'s text, or `None` after reporting `test` as skipped.
fn require_golden(test: &str, name: &str) -> Option<String> {
    let p = golden().join(name);
    require_or_skip(test, &p, "see tests/golden/gen_smollm2_*.py").then(|| std::fs::read_to_string(&p).unwrap())
}

/// The model, loaded once for all tests, or `None` after reporting `test` as skipped.
fn model(test: &str) -> Option<&'static LoadedLm> {
    static M: OnceLock<LoadedLm> = OnceLock::new();
    let p = require_model(test)?;
    Some(M.get_or_init(|| {
        let t = std::time::Instant::now();
        let m = gleaner_lm::load_with(&p, precision_from_env()).expect("load SmolLM2");
        eprintln!("loaded {} in {:.2}s", m.model.identity(), t.elapsed().as_secs_f64());
        m
    }))
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect()
}

#[test]
fn tokenizer_matches_golden_token_for_token() {
    const TEST: &str = "tokenizer_matches_golden_token_for_token";
    let Some(m) = model(TEST) else { return };
    let Some(text) = require_golden(TEST, "smollm2_tokens.jsonl") else { return };
    let (mut ok, mut bad) = (0, Vec::new());
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let r: Value = serde_json::from_str(line).unwrap();
        let t = r["text"].as_str().unwrap();
        let want = ids(&r["ids"]);
        let got = m.tokenizer.encode(t).unwrap();
        if got == want {
            ok += 1;
        } else {
            bad.push((r["source"].as_str().unwrap().to_string(), t.chars().take(50).collect::<String>(), got, want));
        }
    }
    eprintln!("SmolLM2 tokenizer: {ok} of {} texts identical", ok + bad.len());
    for b in bad.iter().take(5) {
        eprintln!(
            "  mismatch {} {:?}\n    got  {:?}\n    want {:?}",
            b.0,
            b.1,
            &b.2[..b.2.len().min(20)],
            &b.3[..b.3.len().min(20)]
        );
    }
    assert!(bad.is_empty());
    assert!(!m.tokenizer.adds_bos());
    assert_eq!(
        m.tokenizer.decode(&m.tokenizer.encode("Hello  world\n<|im_end|>").unwrap()).unwrap(),
        "Hello  world\n<|im_end|>"
    );
}

struct Pass {
    ids: Vec<u32>,
    span: usize,
    nll: Vec<f64>,
    nll_lc: Vec<f64>,
    loss: Option<f64>,
}

fn pass(v: &Value) -> Pass {
    let f = |k: &str| v[k].as_array().unwrap().iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect::<Vec<f64>>();
    Pass {
        ids: ids(&v["ids"]),
        span: v["span_start"].as_u64().unwrap() as usize,
        nll: f("nll_f32"),
        nll_lc: f("nll_llamacpp"),
        loss: v["loss_f32"].as_f64(),
    }
}

fn mean_from(v: &[f32], span: usize) -> f64 {
    let s = span.max(1);
    let t = &v[s - 1..];
    t.iter().map(|&x| x as f64).sum::<f64>() / t.len() as f64
}

/// Per-token NLL vs transformers' fp32 forward. Tolerance: both sides are f32 forwards of
/// the same weights through 30 layers with different summation orders (gemm blocking, fused
/// softmax); the measured maximum is ~6e-5 (p99 ~3e-5) and [`TOKEN_TOL`] leaves 3× margin.
/// llama.cpp (Q8 activations) differs by ~1e-2 typical and up to ~0.5 per token, i.e. three
/// orders of magnitude more, so the tolerance still separates "exact" from "quantised".
#[test]
fn nll_matches_transformers_f32() {
    const TEST: &str = "nll_matches_transformers_f32";
    let Some(m) = model(TEST) else { return };
    let Some(text) = require_golden(TEST, "smollm2_ifd.jsonl") else { return };
    let full = std::env::var_os("GLEANER_FULL_PARITY").is_some();
    let mut passes = Vec::new();
    let mut ifds = Vec::new();
    for (k, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        if !full && k % 4 != 0 {
            continue;
        }
        let r: Value = serde_json::from_str(line).unwrap();
        for t in ["none", "chatml"] {
            let tp = &r["templates"][t];
            let base = passes.len();
            passes.push(pass(&tp["cond"]));
            passes.push(pass(&tp["direct"]));
            ifds.push((base, tp["ifd_loss_f32"].as_f64()));
        }
    }
    let seqs: Vec<&[u32]> = passes.iter().map(|p| p.ids.as_slice()).collect();
    let t = std::time::Instant::now();
    let got = m.model.nll(&seqs, &vec![1; seqs.len()]);
    let dt = t.elapsed().as_secs_f64();
    let (mut worst, mut worst_lc, mut n, mut sum) = (0.0f64, 0.0f64, 0usize, 0.0f64);
    let mut worst_loss = 0.0f64;
    for (p, g) in passes.iter().zip(&got) {
        assert_eq!(g.len(), p.nll.len());
        for ((a, b), c) in g.iter().zip(&p.nll).zip(&p.nll_lc) {
            let d = (*a as f64 - b).abs();
            worst = worst.max(d);
            sum += d;
            worst_lc = worst_lc.max((*a as f64 - c).abs());
            n += 1;
        }
        if let Some(l) = p.loss {
            worst_loss = worst_loss.max((mean_from(g, p.span) - l).abs());
        }
    }
    let mut worst_ifd = 0.0f64;
    for (b, want) in ifds {
        if let Some(want) = want {
            let c = mean_from(&got[b], passes[b].span);
            let d = mean_from(&got[b + 1], passes[b + 1].span);
            worst_ifd = worst_ifd.max((c / d - want).abs());
        }
    }
    eprintln!(
        "SmolLM2 f32 parity: {} passes, {n} tokens in {dt:.1}s ({:.0} tok/s): max |Δ| {worst:.2e}, mean {:.2e}; \
         max |Δ span loss| {worst_loss:.2e}; max |Δ IFD| {worst_ifd:.2e}; (vs llama.cpp: max {worst_lc:.3})",
        passes.len(),
        seqs.iter().map(|s| s.len()).sum::<usize>() as f64 / dt,
        sum / n as f64
    );
    assert!(worst <= TOKEN_TOL, "per-token NLL differs by {worst}");
    // Golden losses are rounded to 6 significant digits (≤ 5e-6 relative).
    assert!(worst_loss <= 5e-5, "span loss differs by {worst_loss}");
    assert!(worst_ifd <= 5e-5, "IFD differs by {worst_ifd}");
}

/// Published reference: cond 0.815, uncond 1.598, IFD 0.510 on the f32 path (3 decimals), for the
/// primary 28-token answer of `smollm2_reference.json`; and the perplexity sanity sentences.
#[test]
fn assets_reference_values() {
    const TEST: &str = "assets_reference_values";
    let Some(m) = model(TEST) else { return };
    let Some(text) = require_golden(TEST, "smollm2_reference.json") else { return };
    let r: Value = serde_json::from_str(&text).unwrap();
    let case = &r["ifd_reference_case"]["candidates"][0];
    // Build the ids with our own tokenizer from the texts, then check them against the golden.
    let enc = |v: &Value| {
        let mut got = m.tokenizer.encode(v["text"].as_str().unwrap()).unwrap();
        // The perplexity cases marked `bos` prepend <|im_start|> (id 1) as a BOS.
        if v["bos_im_start_prepended"].as_bool() == Some(true) {
            got.insert(0, 1);
        }
        assert_eq!(got, ids(&v["ids"]));
        got
    };
    let (c, d) = (enc(&case["cond"]), enc(&case["direct"]));
    let (cs, ds) = (
        case["cond"]["span_start"].as_u64().unwrap() as usize,
        case["direct"]["span_start"].as_u64().unwrap() as usize,
    );
    let out = m.model.nll(&[&c, &d], &[cs, ds]);
    let mean = |v: &[f32]| v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
    let (lc, ld) = (mean(&out[0]), mean(&out[1]));
    eprintln!("reference case: cond {lc:.5} uncond {ld:.5} IFD {:.5} (ASSETS: 0.815 / 1.598 / 0.510)", lc / ld);
    assert!((lc - 0.815).abs() < 5e-4 && (ld - 1.598).abs() < 5e-4 && (lc / ld - 0.510).abs() < 5e-4);
    assert!((lc - case["cond"]["loss_f32"].as_f64().unwrap()).abs() < 2e-5);
    assert!((ld - case["direct"]["loss_f32"].as_f64().unwrap()).abs() < 2e-5);
    for p in r["perplexity_sanity"].as_array().unwrap() {
        let ids = enc(p);
        let ppl = mean(&m.model.nll(&[&ids], &[1])[0]).exp();
        let want = p["ppl_f32"].as_f64().unwrap();
        eprintln!("perplexity {}: {ppl:.3} (transformers f32 {want}, llama.cpp {})", p["name"], p["ppl_llamacpp"]);
        assert!((ppl - want).abs() / want < 1e-4);
    }
}

/// Loading only the first blocks (what the quality scorer's LM embedder does) gives the same
/// model as loading everything and truncating: same identity, layer and parameter counts,
/// and bit-identical mean hidden states; out-of-range counts are errors.
#[test]
fn loading_the_first_blocks_equals_truncating_after_loading() {
    let Some(p) = require_model("loading_the_first_blocks_equals_truncating_after_loading") else { return };
    let a = gleaner_lm::load_blocks(&p, Some(4), gleaner_nn::Precision::F32).unwrap();
    let mut b = load(&p).unwrap();
    let full = b.model.parameters();
    b.model.keep_layers(4).unwrap();
    assert_eq!(a.model.identity(), b.model.identity());
    assert!(a.model.identity().ends_with(":layers=4"), "{}", a.model.identity());
    assert_eq!((a.model.layers(), b.model.layers()), (4, 4));
    assert_eq!(a.model.parameters(), b.model.parameters());
    // SmolLM2-135M: 28.3M embedding values + 3.54M per block + the final norm
    assert_eq!(a.model.parameters(), 49_152 * 576 + 4 * 3_540_096 + 576);
    assert!(full > 130_000_000, "{full}");
    let texts =
        ["Hello there.", "<|im_start|>user\nName a colour.<|im_end|>\n<|im_start|>assistant\nBlue.<|im_end|>\n"];
    let ids: Vec<Vec<u32>> = texts.iter().map(|t| a.tokenizer.encode(t).unwrap()).collect();
    let refs: Vec<&[u32]> = ids.iter().map(Vec::as_slice).collect();
    let (ea, eb) = (a.model.prompt_embedding(&refs), b.model.prompt_embedding(&refs));
    assert_eq!(ea, eb);
    assert!(ea.iter().flatten().all(|v| v.is_finite()));
    for bad in [0, 31] {
        let e = gleaner_lm::load_blocks(&p, Some(bad), gleaner_nn::Precision::F32).unwrap_err().to_string();
        assert!(e.contains(&format!("cannot keep {bad} of its 30 layers")), "{e}");
    }
}

/// A pass whose tokens are a prefix of another pass in the same call is scored inside the
/// longer one's forward (multi-turn conditioned passes are such chains). Its NLLs must be the
/// ones a forward of its own gives: the same weights and positions, only other batch sizes in
/// the products, so agreement is to f32 rounding (1e-5 leaves a wide margin over the ~1e-6
/// seen).
#[test]
fn a_prefix_scored_inside_a_longer_pass_equals_its_own_forward() {
    let Some(m) = model("a_prefix_scored_inside_a_longer_pass_equals_its_own_forward") else { return };
    let text = "<|im_start|>user\nName three primary colours.<|im_end|>\n<|im_start|>assistant\nRed, yellow and blue.\
                <|im_end|>\n<|im_start|>user\nAnd the secondary ones?<|im_end|>\n<|im_start|>assistant\nOrange, green and purple.";
    let full = m.tokenizer.encode(text).unwrap();
    let cut = full.len() * 2 / 3;
    let (short, other) = (full[..cut].to_vec(), full[..cut / 2].to_vec());
    let together = m.model.nll(&[&full, &short, &other, &short], &[1, 5, 3, 5]);
    let alone: Vec<Vec<f32>> = [(&full, 1), (&short, 5), (&other, 3)]
        .iter()
        .map(|(s, f)| m.model.nll(&[s.as_slice()], &[*f]).remove(0))
        .collect();
    for (got, want) in together.iter().zip([&alone[0], &alone[1], &alone[2], &alone[1]]) {
        assert_eq!(got.len(), want.len());
        for (a, b) in got.iter().zip(want.iter()) {
            assert!(a.is_finite() && (a - b).abs() <= 1e-5, "{a} vs {b}");
        }
    }
}

/// The precision `GLEANER_PRECISION` names: `bf16x3` or `bf16` (AMX tiles where the CPU has
/// them), anything else the exact f32 mode. The shared model is loaded in it, so e.g.
/// `GLEANER_PRECISION=bf16x3 GLEANER_FULL_PARITY=1 cargo test --release -p gleaner-lm --test
/// smollm2 nll_matches -- --nocapture` measures the three-term bf16 path.
fn precision_from_env() -> gleaner_nn::Precision {
    match std::env::var("GLEANER_PRECISION").as_deref() {
        Ok("bf16x3") => gleaner_nn::Precision::Bf16x3,
        Ok("bf16") => gleaner_nn::Precision::Bf16,
        _ => gleaner_nn::Precision::F32,
    }
}
