//! Property tests of the parsers of the files gleaner reads besides datasets (proptest, so
//! they run on stable in CI; the cargo-fuzz targets in `fuzz/` explore them for longer):
//! recipe TOML, the quality model, the classifier files and GGUF headers.
//!
//! - read → write → read is the identity: recipes (`to_toml`), the quality model (`to_json`),
//!   classifiers trained on arbitrary data (`save`/`load` predict the same);
//! - no input panics a parser: valid files with bytes overwritten, inserted or cut off give a
//!   value or an error (naming the file where the format has one).

use crate::props_formats::mutate;
use candle_core::quantized::{GgmlDType, QTensor, gguf_file};
use gleaner_classify::{Classifier, Embeddings, Inputs, MultinomialNb, NbOptions, NeuralHead, NeuralOptions};
use gleaner_pipeline::recipe;
use gleaner_quality::model::Model;
use proptest::prelude::*;
use std::path::Path;

/// Byte edits of a file: bytes set at relative positions, one byte inserted, a cut point.
type Edits = (Vec<(f64, u8)>, Option<(f64, u8)>, Option<f64>);

fn edits() -> impl Strategy<Value = Edits> {
    (
        prop::collection::vec((0.0f64..1.0, any::<u8>()), 0..4),
        prop::option::of((0.0f64..1.0, any::<u8>())),
        prop::option::of(0.0f64..1.0),
    )
}

/// Every bundled recipe as the TOML gleaner prints.
fn recipe_texts() -> Vec<String> {
    recipe::bundled().iter().map(recipe::to_toml).collect()
}

/// A small GGUF file in the layout of SmolLM2's (llama architecture, a byte-level BPE
/// tokenizer in the metadata), with an F32 and a Q8_0 tensor.
fn tiny_gguf() -> Vec<u8> {
    use gguf_file::Value as V;
    let tokens: Vec<V> =
        ["<|endoftext|>", "a", "b", "c", "ab", "Ġ", "Ġa"].iter().map(|t| V::String(t.to_string())).collect();
    let n = tokens.len();
    let meta = [
        ("general.architecture", V::String("llama".into())),
        ("llama.embedding_length", V::U32(32)),
        ("llama.block_count", V::U32(1)),
        ("llama.attention.head_count", V::U32(2)),
        ("tokenizer.ggml.model", V::String("gpt2".into())),
        ("tokenizer.ggml.tokens", V::Array(tokens)),
        ("tokenizer.ggml.token_type", V::Array(vec![V::I32(1); n])),
        ("tokenizer.ggml.merges", V::Array(vec![V::String("a b".into()), V::String("Ġ a".into())])),
        ("tokenizer.ggml.bos_token_id", V::U32(0)),
        ("tokenizer.ggml.eos_token_id", V::U32(0)),
    ];
    let dev = candle_core::Device::Cpu;
    let embd = candle_core::Tensor::arange(0f32, (n * 32) as f32, &dev).unwrap().reshape((n, 32)).unwrap();
    let norm = candle_core::Tensor::ones(32, candle_core::DType::F32, &dev).unwrap();
    let q_embd = QTensor::quantize(&embd, GgmlDType::Q8_0).unwrap();
    let q_norm = QTensor::quantize(&norm, GgmlDType::F32).unwrap();
    let meta_refs: Vec<(&str, &V)> = meta.iter().map(|(k, v)| (*k, v)).collect();
    let mut out = std::io::Cursor::new(Vec::new());
    gguf_file::write(&mut out, &meta_refs, &[("token_embd.weight", &q_embd), ("output_norm.weight", &q_norm)]).unwrap();
    out.into_inner()
}

fn write_tmp(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn bundled_recipes_and_the_default_model_round_trip() {
    for r in recipe::bundled() {
        let text = recipe::to_toml(&r);
        let back = recipe::parse(&text, Path::new("r.toml")).unwrap();
        assert_eq!(back, r, "{}", r.name);
        recipe::validate(&back, &text, Path::new("r.toml")).unwrap();
    }
    let m = Model::default_model().unwrap();
    let back = Model::from_json("again", &m.to_json()).unwrap();
    assert_eq!(back.identity(), m.identity());
    assert_eq!(back.to_json(), m.to_json());
    // the tiny GGUF is a valid file: the mutations below start from something that loads
    let dir = tempfile::tempdir().unwrap();
    let g = gleaner_lm::gguf::GgufFile::open(&write_tmp(dir.path(), "t.gguf", &tiny_gguf())).unwrap();
    assert_eq!(g.architecture().unwrap(), "llama");
    assert_eq!(g.tensor_f32("output_norm.weight").unwrap().0, vec![1.0; 32]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn damaged_recipes_never_panic_and_parsed_ones_round_trip(which in 0usize..11, (e, i, c) in edits()) {
        let texts = recipe_texts();
        let bytes = mutate(texts[which % texts.len()].clone().into_bytes(), &e, i, c);
        let Ok(text) = String::from_utf8(bytes) else { return Ok(()) };
        let path = Path::new("damaged.toml");
        match recipe::parse(&text, path) {
            Err(e) => prop_assert!(e.to_string().contains("damaged.toml"), "{}", e),
            Ok(r) => {
                if let Err(e) = recipe::validate(&r, &text, path) {
                    prop_assert!(e.to_string().contains("damaged.toml"), "{}", e);
                }
                let back = recipe::parse(&recipe::to_toml(&r), path).unwrap();
                prop_assert_eq!(back, r);
            }
        }
    }

    #[test]
    fn damaged_quality_models_never_panic(( e, i, c) in edits()) {
        let text = Model::default_model().unwrap().to_json();
        let bytes = mutate(text.into_bytes(), &e, i, c);
        let Ok(text) = String::from_utf8(bytes) else { return Ok(()) };
        if let Ok(m) = Model::from_json("damaged", &text) {
            let back = Model::from_json("again", &m.to_json()).unwrap();
            prop_assert_eq!(back.identity(), m.identity());
        }
    }

    #[test]
    fn classifiers_round_trip_and_damaged_files_never_panic(
        texts in prop::collection::vec("[a-e]{2,4}[a-e ]{0,16}", 4..12),
        rows in prop::collection::vec(-4.0f32..4.0, 4 * 3..=12 * 3),
        (e, i, c) in edits(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let labels: Vec<u32> = (0..texts.len() as u32).map(|k| k % 3).collect();
        let nb = MultinomialNb::fit_texts(&texts, &labels, &NbOptions::default()).unwrap();
        let dim = 3;
        let n = rows.len() / dim;
        let emb = Embeddings::new(&rows[..n * dim], dim).unwrap();
        let y: Vec<u32> = (0..n as u32).map(|k| k % 2).collect();
        let opts = NeuralOptions { epochs: 2, ..NeuralOptions::default() };
        let head = NeuralHead::fit_embeddings(emb, &y, &opts).unwrap();
        let models: [(&str, Box<dyn Classifier>, Inputs<'_>); 2] = [
            ("nb.json", Box::new(nb), Inputs::Texts(&texts)),
            ("neural.json", Box::new(head), Inputs::Embeddings(emb)),
        ];
        for (name, model, inputs) in models {
            let p = dir.path().join(name);
            model.save(&p).unwrap();
            let back = gleaner_classify::load(&p).unwrap();
            let (a, b) = (model.predict_proba(inputs).unwrap(), back.predict_proba(inputs).unwrap());
            prop_assert_eq!(a.as_slice(), b.as_slice(), "{} predicts differently after save -> load", name);
            let damaged = write_tmp(dir.path(), &format!("damaged-{name}"), &mutate(std::fs::read(&p).unwrap(), &e, i, c));
            match gleaner_classify::load(&damaged) {
                Ok(m) => { let _ = m.predict_proba(inputs); }
                Err(err) => prop_assert!(err.to_string().contains("damaged-"), "{}", err),
            }
        }
    }

    #[test]
    fn damaged_gguf_headers_never_panic((e, i, c) in edits()) {
        let dir = tempfile::tempdir().unwrap();
        let p = write_tmp(dir.path(), "damaged.gguf", &mutate(tiny_gguf(), &e, i, c));
        if let Ok(g) = gleaner_lm::gguf::GgufFile::open(&p) {
            let _ = g.architecture();
            let _ = gleaner_lm::tokenizer::from_gguf(&g);
            for name in ["token_embd.weight", "output_norm.weight"] {
                if g.shape(name).is_some_and(|s| s.iter().product::<usize>() <= 1 << 16) {
                    let _ = g.tensor_f32(name);
                }
            }
        }
    }
}

/// Every file in the fuzz corpora and crash inputs of these parsers' targets
/// (`fuzz/corpus/TARGET`, `fuzz/regressions/TARGET`), replayed on stable: no panic, and a
/// file that loads round-trips.
#[test]
fn fuzz_corpora_and_regressions_hold() {
    let root = crate::util::root().join("fuzz");
    let dir = tempfile::tempdir().unwrap();
    let files = |target: &str| -> Vec<std::path::PathBuf> {
        ["corpus", "regressions"]
            .iter()
            .filter_map(|d| std::fs::read_dir(root.join(d).join(target)).ok())
            .flat_map(|e| e.map(|e| e.unwrap().path()))
            .collect()
    };
    let mut n = 0;
    for p in files("recipe_toml") {
        let Ok(text) = std::fs::read_to_string(&p) else { continue };
        if let Ok(r) = recipe::parse(&text, &p) {
            let _ = recipe::validate(&r, &text, &p);
            assert_eq!(recipe::parse(&recipe::to_toml(&r), &p).unwrap(), r, "{}", p.display());
        }
        n += 1;
    }
    for p in files("quality_model") {
        let Ok(text) = std::fs::read_to_string(&p) else { continue };
        if let Ok(m) = Model::from_json("corpus", &text) {
            assert_eq!(Model::from_json("again", &m.to_json()).unwrap().identity(), m.identity(), "{}", p.display());
        }
        n += 1;
    }
    let texts: Vec<String> = ["a tiny text", "", "another text, with words"].map(String::from).to_vec();
    for p in files("classifier") {
        if let Ok(m) = gleaner_classify::load(&p) {
            let _ = match m.input_kind() {
                gleaner_classify::InputKind::Texts => m.predict(Inputs::Texts(&texts)),
                gleaner_classify::InputKind::Embeddings { dim } if dim <= 1 << 16 => {
                    let rows: Vec<f32> = (0..2 * dim).map(|i| (i as f32 * 0.37).sin()).collect();
                    m.predict(Inputs::Embeddings(Embeddings::new(&rows, dim).unwrap()))
                }
                _ => Ok(Vec::new()),
            };
            let out = dir.path().join("saved.json");
            m.save(&out).unwrap();
            gleaner_classify::load(&out).unwrap_or_else(|e| panic!("{}: saved copy does not load: {e}", p.display()));
        }
        n += 1;
    }
    for p in files("gguf") {
        if let Ok(g) = gleaner_lm::gguf::GgufFile::open(&p) {
            let _ = g.architecture();
            let _ = gleaner_lm::tokenizer::from_gguf(&g);
            // the tensors the fuzz target reads; one with no elements is refused (the first
            // crash of fuzz/gguf: candle made a typed slice over its empty buffer)
            for name in ["token_embd.weight", "output_norm.weight", "blk.0.attn_q.weight", "output.weight"] {
                let Some(shape) = g.shape(name) else { continue };
                match shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) {
                    Some(0) | None => assert!(g.tensor_f32(name).is_err(), "{}: `{name}` {shape:?} read", p.display()),
                    Some(k) if k <= 1 << 16 => {
                        let _ = g.tensor_f32(name);
                    }
                    Some(_) => {}
                }
            }
        }
        n += 1;
    }
    assert!(n > 0, "no fuzz corpus found under {}", root.display());
}
