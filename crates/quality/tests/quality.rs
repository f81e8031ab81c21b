//! gleaner-quality without the real embedder: a deterministic fake embedder, synthetic
//! pairs, CSV reading errors, model file round trips and checks, the shipped default.

use gleaner_core::{Error, Record, Result};
use gleaner_embed::Embedder;
use gleaner_quality::{Model, Pair, TrainOptions, View, evaluate, read_pairs_csv, train};
use std::io::Write;

/// A fake 8-wide embedder: dimension 0 is +1 when the text contains "please", the others are
/// hash noise of the text.
struct Fake;

impl Embedder for Fake {
    fn dim(&self) -> usize {
        8
    }
    fn embed(&self, texts: &[String], progress: &(dyn Fn(usize) + Sync)) -> Result<Vec<f32>> {
        let mut out = Vec::new();
        for t in texts {
            let mut h: u64 = 1469598103934665603;
            for b in t.bytes() {
                h = (h ^ u64::from(b)).wrapping_mul(1099511628211);
            }
            out.push(if t.contains("please") { 1.0 } else { 0.0 });
            for k in 1..8 {
                out.push(((h >> (8 * k)) & 0xff) as f32 / 255.0 - 0.5);
            }
        }
        progress(texts.len());
        Ok(out)
    }
    fn identity(&self) -> String {
        "fake:8".into()
    }
}

/// Pairs where the better side says "please" and is *shorter* (so length features alone
/// would get it wrong).
fn pairs(n: usize, offset: usize) -> Vec<Pair> {
    (0..n)
        .map(|i| {
            let i = i + offset;
            let ins = format!("Task number {i}");
            Pair {
                worse: Record::alpaca(&ins, "", &format!("answer {i} with some extra words here {}", i * 7)),
                better: Record::alpaca(&ins, "", &format!("please answer {i}")),
            }
        })
        .collect()
}

fn opts() -> TrainOptions {
    TrainOptions { lambdas: vec![1.0, 10.0], folds: 3, embedder_name: "fake".into(), ..TrainOptions::default() }
}

#[test]
fn learns_and_generalises() {
    let m = train(&pairs(60, 0), &Fake, &opts(), &|_| {}).unwrap();
    assert_eq!(m.weights.len(), 8 + gleaner_quality::features::TEXT_V1.len());
    assert_eq!(m.training.pairs, 60);
    assert_eq!(m.training.cv.len(), 2);
    assert!(m.training.cv.iter().all(|c| c[1] > 0.9), "{:?}", m.training.cv);
    let acc = evaluate(&m, &pairs(40, 1000), &Fake, &|_| {}).unwrap();
    assert!(acc > 0.95, "held-out accuracy {acc}");
    // The "please" dimension carries a positive weight.
    assert!(m.weights[0] > 0.0);
}

#[test]
fn training_is_deterministic() {
    let a = train(&pairs(30, 0), &Fake, &opts(), &|_| {}).unwrap();
    let b = train(&pairs(30, 0), &Fake, &opts(), &|_| {}).unwrap();
    assert_eq!(a.to_json(), b.to_json());
}

#[test]
fn round_trip_and_checks() {
    let m = train(&pairs(20, 0), &Fake, &opts(), &|_| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.json");
    m.save(&p).unwrap();
    let back = Model::load(&p).unwrap();
    assert_eq!(back, m);
    assert_eq!(back.identity(), m.identity());
    let recs = [pairs(1, 5)[0].worse.clone(), pairs(1, 5)[0].better.clone()];
    let s = back.score(&recs, &Fake, &|_| {}).unwrap();
    assert!(s[1] > s[0], "{s:?}");

    // Wrong format, wrong shape, not JSON, missing file.
    let text = m.to_json();
    let e = Model::from_json("x", &text.replace("\"gleaner-quality\"", "\"other\"")).unwrap_err();
    assert!(e.to_string().contains("format"), "{e}");
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["weights"].as_array_mut().unwrap().pop();
    let e = Model::from_json("x", &v.to_string()).unwrap_err();
    assert!(e.to_string().contains("weights has 26 values, the recipe needs 27"), "{e}");
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["version"] = 9.into();
    assert!(Model::from_json("x", &v.to_string()).unwrap_err().to_string().contains("version 9"));
    assert!(matches!(Model::from_json("x", "{"), Err(Error::Model { .. })));
    assert!(!Model::is_model_json("{\"format\": \"x\"}"));
    assert!(Model::is_model_json(&text));
    assert!(matches!(Model::load(&dir.path().join("missing.json")), Err(Error::Io { .. })));

    // An embedder of the wrong width is refused.
    struct Narrow;
    impl Embedder for Narrow {
        fn dim(&self) -> usize {
            4
        }
        fn embed(&self, _: &[String], _: &(dyn Fn(usize) + Sync)) -> Result<Vec<f32>> {
            unreachable!()
        }
        fn identity(&self) -> String {
            "narrow".into()
        }
    }
    assert!(m.score(&recs, &Narrow, &|_| {}).is_err());
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::File::create(&p).unwrap().write_all(text.as_bytes()).unwrap();
    p
}

#[test]
fn csv_layouts_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let ok = write(
        dir.path(),
        "ok.csv",
        "src,score\n\"Instruction: Say hi Response: hi\",0\n\"Instruction: Say hi Response: Hello,\nthere!\",1\n\
         \"Instruction: Add Input: 1 2 Response: The sum is 3.\",1\nInstruction: Add Input: 1 2 Response: 3,0\n",
    );
    let p = read_pairs_csv(&ok).unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!(p[0].worse.output(), "hi");
    assert_eq!(p[0].better.output(), "Hello,\nthere!");
    assert_eq!(p[1].worse.output(), "3");
    assert_eq!(p[1].better.input, "1 2");

    let trip = write(
        dir.path(),
        "trip.csv",
        "src,pos,neg\nInstruction: Add Input: 1 2 ,Response: The sum is 3.,Response: 3\n",
    );
    let p = read_pairs_csv(&trip).unwrap();
    assert_eq!((p[0].better.output(), p[0].worse.output(), p[0].worse.input.as_str()), ("The sum is 3.", "3", "1 2"));

    let err = |text: &str| read_pairs_csv(&write(dir.path(), "bad.csv", text)).unwrap_err().to_string();
    let e = err("src,score\n\"Instruction: a Response: b\",0\n\"Instruction: a\nResponse b\",1\n");
    assert!(e.contains("bad.csv: line 3:") && e.contains("Instruction: … Response: …"), "{e}");
    let e = err("src,score\nInstruction: a Response: b,0\nInstruction: a Response: c,zero\n");
    assert!(e.contains("line 3: score \"zero\" is not a number"), "{e}");
    let e = err("src,score\nInstruction: a Response: b,1\nInstruction: a Response: c,1\n");
    assert!(e.contains("line 3: rows at lines 2 and 3 form a pair but have the same score"), "{e}");
    let e = err("src,score\nInstruction: a Response: b,1\n");
    assert!(e.contains("line 2: odd number of rows"), "{e}");
    let e = err("text,label\nx,1\n");
    assert!(e.contains("line 1: expected the columns src,score"), "{e}");
    let e = err("src,score\nInstruction: a Response: b,1,extra\n");
    assert!(e.contains("line 2: 3 fields, the header has 2"), "{e}");
    // an unclosed quote swallows the rest of the file into one field: the row it starts is named
    let e = err("src,score\n\"Instruction: a Response: b,1\n");
    assert!(e.contains("line 2: 1 fields, the header has 2"), "{e}");
}

#[test]
fn shipped_default_model() {
    let m = Model::default_model().unwrap();
    assert_eq!(m.embedder.name, "SmolLM2-135M-Instruct");
    assert_eq!((m.embedder.dim, m.embedder.lm_layers, m.embedder.max_tokens), (576, Some(4), Some(512)));
    assert_eq!(m.features.views, vec![View::Response]);
    assert!(m.training.pairs >= 2000);
    assert_eq!(Model::load_named("default").unwrap(), m);
}

fn valid_pairs() -> Vec<gleaner_quality::Pair> {
    let valid = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/expert-revised/APE_score_valid.csv");
    read_pairs_csv(&valid).unwrap()
}

/// With the real LM (skipped when SmolLM2-135M-Instruct is not installed; under CI that
/// fails): scoring CaR's 254 validation pairs with the shipped model reproduces the validation
/// accuracy recorded in it at training time (0.9173; the goal is 0.92, see
/// research/quality/README.md), and beats the earlier MiniLM default's 0.8819; scores do not
/// depend on how records are batched.
#[test]
fn default_model_reproduces_its_validation_accuracy() {
    if let Err(e) = gleaner_models::resolve(gleaner_quality::DEFAULT_LM) {
        return gleaner_models::skip(
            "default_model_reproduces_its_validation_accuracy",
            format!("{e} (gleaner models fetch)"),
        );
    }
    let model = Model::default_model().unwrap();
    let recorded = model.training.valid_accuracy.expect("the default records its validation accuracy");
    let scorer = gleaner_quality::Scorer::load(model, gleaner_nn::Precision::F32).unwrap();
    let pairs = valid_pairs();
    let recs: Vec<Record> = pairs.iter().flat_map(|p| [p.worse.clone(), p.better.clone()]).collect();
    let all = scorer.score(&recs, &|_| {}).unwrap();
    let (worse, better): (Vec<f64>, Vec<f64>) = all.chunks(2).map(|c| (c[0], c[1])).unzip();
    let acc = gleaner_quality::pairwise_accuracy(&worse, &better);
    assert_eq!(pairs.len(), 254);
    // one pair of slack: another CPU's f32 kernels (AVX2 instead of AVX-512) sum in another
    // order, and a pair whose two scores are within float noise of each other could flip
    assert!((acc - recorded).abs() <= 1.0 / 254.0 + 1e-12, "scored {acc}, recorded {recorded}");
    assert!(acc > 0.8819, "{acc}");
    let one = scorer.score(&recs[3..4], &|_| {}).unwrap();
    assert!((one[0] - all[3]).abs() < 1e-4, "{} vs {}", one[0], all[3]);
}

/// A model file of the earlier recipe (frozen all-MiniLM-L6-v2 on the response, the default
/// before the LM recipe) still loads and scores (skipped when MiniLM is not installed; under
/// CI that fails).
#[test]
fn sentence_encoder_model_files_still_score() {
    if let Err(e) = gleaner_models::resolve("all-MiniLM-L6-v2") {
        return gleaner_models::skip("sentence_encoder_model_files_still_score", format!("{e} (gleaner models fetch)"));
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/minilm_response_text_v1.json");
    let model = Model::load(&path).unwrap();
    assert_eq!((model.embedder.name.as_str(), model.embedder.lm_layers), ("all-MiniLM-L6-v2", None));
    let scorer = gleaner_quality::Scorer::load(model, gleaner_nn::Precision::F32).unwrap();
    let recs: Vec<Record> = valid_pairs()[..8].iter().flat_map(|p| [p.worse.clone(), p.better.clone()]).collect();
    let all = scorer.score(&recs, &|_| {}).unwrap();
    let wins = (0..8).filter(|&i| all[2 * i + 1] > all[2 * i]).count();
    assert!(wins >= 6, "{wins}/8 pairs: {all:?}");
}
