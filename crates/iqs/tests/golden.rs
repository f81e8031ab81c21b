//! The tiny IQS checkpoint (made by `tests/golden/tiny/gen_tiny_iqs.py` with the real COMET
//! 2.0.2 modules) must score like the PyTorch reference to 1e-4 (the bar; measured
//! differences are ~1e-7, the f32 accumulation-order noise between two implementations).

use gleaner_iqs::Iqs;
use gleaner_nn::Precision;
use std::path::PathBuf;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/tiny")
}

#[test]
fn tiny_iqs_matches_pytorch_reference() {
    let dir = fixture().join("iqs");
    let enc = Iqs::local_encoder_dir(&dir).unwrap().expect("encoder beside hparams.yaml");
    let iqs = Iqs::load(&dir, &enc, Precision::F32).unwrap();
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture().join("iqs_golden.json")).unwrap()).unwrap();
    let sw: Vec<f64> =
        golden["sparsemax_weights_f64"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    for (a, b) in iqs.layer_weights.iter().zip(&sw) {
        assert!((f64::from(*a) - b).abs() < 1e-6, "layer weights {:?} vs {sw:?}", iqs.layer_weights);
    }
    let cases = golden["cases"].as_array().unwrap();
    let texts: Vec<String> = cases.iter().map(|c| c["src"].as_str().unwrap().to_string()).collect();
    let ids = iqs.tokenize(&texts).unwrap();
    for (c, got) in cases.iter().zip(&ids) {
        let want: Vec<u32> = c["ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
        assert_eq!(got, &want, "token ids of {}", c["source"]);
    }
    let scores = iqs.score(&texts).unwrap();
    let mut worst = 0.0f64;
    for (c, s) in cases.iter().zip(&scores) {
        worst = worst.max((s - c["score_numpy_f64"].as_f64().unwrap()).abs());
    }
    assert!(worst <= 1e-4, "max |Δ| = {worst}");
    eprintln!("tiny IQS: {} cases, max |Δ| vs float64 numpy = {worst:.2e}", cases.len());
    assert!(cases.iter().any(|c| c["truncated"].as_bool() == Some(true)), "fixture exercises truncation");
}

#[test]
fn broken_checkpoints_are_errors_not_panics() {
    let d = std::env::temp_dir().join(format!("gleaner-iqs-bad-{}", std::process::id()));
    std::fs::create_dir_all(d.join("checkpoints")).unwrap();
    std::fs::write(d.join("hparams.yaml"), "pretrained_model: enc\nhidden_sizes: [4]\n").unwrap();
    std::fs::write(d.join("checkpoints/x.ckpt"), b"not a zip").unwrap();
    let enc = fixture().join("iqs/encoder");
    let e = Iqs::load(&d, &enc, Precision::F32).err().expect("must fail");
    assert!(e.to_string().contains("checkpoint"), "{e}");
    std::fs::remove_dir_all(&d).ok();
}
