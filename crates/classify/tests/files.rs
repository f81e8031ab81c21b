//! Save → load round trips (identical probabilities) and the error paths of loading, fitting and
//! predicting.

use gleaner_classify::{
    Classifier, Embeddings, Fit, InputKind, Inputs, MultinomialNb, NbOptions, NeuralHead, NeuralOptions, file, load,
};
use gleaner_core::Error;
use std::path::Path;

fn texts() -> (Vec<String>, Vec<u32>) {
    let t = [
        "Café naïve déjà vu, the cat sat",
        "cats and dogs, 3D_printing",
        "½ cup of flour and 2 eggs",
        "bake the flour at 180 degrees",
        "stock prices rose ①",
        "markets and prices fell",
    ];
    (t.iter().map(|s| s.to_string()).collect(), vec![5, 5, 2, 2, 11, 11])
}

/// Two Gaussian-ish blobs per class in 6 dimensions, deterministic.
fn blobs(n_per: usize, k: usize, dim: usize) -> (Vec<f32>, Vec<u32>) {
    let mut x = Vec::new();
    let mut y = Vec::new();
    let mut s = 12345u64;
    let mut r = || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((s >> 40) as f32 / (1u64 << 24) as f32) - 0.5
    };
    for c in 0..k {
        for _ in 0..n_per {
            for j in 0..dim {
                let centre = if j % k == c { 1.0 } else { 0.0 };
                x.push(centre + 0.3 * r());
            }
            y.push(c as u32 * 10);
        }
    }
    (x, y)
}

fn is_format_err(e: &Error) -> bool {
    matches!(e, Error::Format { .. })
}

#[test]
fn nb_round_trip_is_identical() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nb.json");
    let (t, y) = texts();
    let nb = MultinomialNb::fit(Inputs::Texts(&t), &y, &NbOptions::default()).unwrap();
    nb.save(&path).unwrap();
    assert_eq!(file::peek(&path).unwrap(), file::FileInfo { kind: "multinomial-nb".into(), version: 1 });
    let back = MultinomialNb::load(&path).unwrap();
    let probe: Vec<String> = ["the cat", "flour prices", "", "zzz", "½ ① café"]
        .iter()
        .map(|s| s.to_string())
        .chain(t.iter().cloned())
        .collect();
    let a = nb.predict_proba(Inputs::Texts(&probe)).unwrap();
    let b = back.predict_proba(Inputs::Texts(&probe)).unwrap();
    assert_eq!(a, b, "bit-identical probabilities after a round trip");
    assert_eq!(back.vocabulary(), nb.vocabulary());
    // Through the kind-dispatching loader.
    let any = load(&path).unwrap();
    assert_eq!(any.kind(), "multinomial-nb");
    assert_eq!(any.input_kind(), InputKind::Texts);
    assert_eq!(any.classes(), &[2, 5, 11]);
    assert_eq!(any.predict_proba(Inputs::Texts(&probe)).unwrap(), a);
    assert_eq!(any.predict(Inputs::Texts(&probe)).unwrap(), nb.predict(Inputs::Texts(&probe)).unwrap());
}

#[test]
fn neural_round_trip_is_identical() {
    let dir = tempfile::tempdir().unwrap();
    let (x, y) = blobs(20, 3, 6);
    let e = Embeddings::new(&x, 6).unwrap();
    for hidden in [None, Some(5)] {
        let o = NeuralOptions { hidden, lr: 1e-2, dropout: 0.1, validation_fraction: 0.2, ..Default::default() };
        let head = NeuralHead::fit(Inputs::Embeddings(e), &y, &o).unwrap();
        let path = dir.path().join(format!("neural-{hidden:?}.json"));
        head.save(&path).unwrap();
        let back = NeuralHead::load(&path).unwrap();
        let a = head.predict_proba(Inputs::Embeddings(e)).unwrap();
        let b = back.predict_proba(Inputs::Embeddings(e)).unwrap();
        assert_eq!(a, b, "bit-identical probabilities after a round trip");
        assert_eq!(back.options(), head.options());
        assert_eq!(back.history(), head.history());
        assert_eq!(back.hidden(), hidden);
        let any = load(&path).unwrap();
        assert_eq!(any.kind(), "neural-head");
        assert_eq!(any.input_kind(), InputKind::Embeddings { dim: 6 });
        assert_eq!(any.classes(), &[0, 10, 20]);
        assert_eq!(any.predict_proba(Inputs::Embeddings(e)).unwrap(), a);
    }
}

#[test]
fn loading_wrong_kind_version_or_garbage_is_a_format_error() {
    let dir = tempfile::tempdir().unwrap();
    let (t, y) = texts();
    let nb = MultinomialNb::fit_texts(&t, &y, &NbOptions::default()).unwrap();
    let nb_path = dir.path().join("nb.json");
    nb.save(&nb_path).unwrap();
    let (x, ny) = blobs(5, 2, 4);
    let head = NeuralHead::fit_embeddings(Embeddings::new(&x, 4).unwrap(), &ny, &NeuralOptions::default()).unwrap();
    let nn_path = dir.path().join("nn.json");
    head.save(&nn_path).unwrap();

    // Wrong kind, both ways.
    let e = NeuralHead::load(&nb_path).unwrap_err();
    assert!(is_format_err(&e), "{e}");
    assert!(e.to_string().contains("multinomial-nb"), "{e}");
    let e = MultinomialNb::load(&nn_path).unwrap_err();
    assert!(is_format_err(&e) && e.to_string().contains("neural-head"), "{e}");

    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    // Wrong version.
    let text = std::fs::read_to_string(&nb_path).unwrap();
    let v2 = write("v2.json", &text.replacen("\"version\":1", "\"version\":2", 1));
    let e = MultinomialNb::load(&v2).unwrap_err();
    assert!(is_format_err(&e) && e.to_string().contains("version 2"), "{e}");
    let e = load(&v2).unwrap_err();
    assert!(is_format_err(&e), "{e}");
    // Unknown kind.
    let odd = write("odd.json", r#"{"format":"gleaner-classifier","kind":"svm","version":1}"#);
    let e = load(&odd).unwrap_err();
    assert!(is_format_err(&e) && e.to_string().contains("svm"), "{e}");
    // Not a classifier file / not JSON / truncated / missing fields / missing file.
    for (name, body) in [
        ("records.json", r#"[{"instruction":"x"}]"#),
        ("other.json", r#"{"format":"parquet","kind":"multinomial-nb","version":1}"#),
        ("nofmt.json", r#"{"kind":"multinomial-nb","version":1}"#),
        ("nokind.json", r#"{"format":"gleaner-classifier","version":1}"#),
        ("badver.json", r#"{"format":"gleaner-classifier","kind":"multinomial-nb","version":"1"}"#),
        ("garbage.json", "not json at all"),
        ("empty.json", ""),
        ("missing.json", r#"{"format":"gleaner-classifier","kind":"multinomial-nb","version":1}"#),
        ("trunc.json", &text[..text.len() / 2]),
    ] {
        let p = write(name, body);
        let e = MultinomialNb::load(&p).unwrap_err();
        assert!(is_format_err(&e), "{name}: {e}");
        assert!(load(&p).is_err(), "{name}");
    }
    let e = load(Path::new("/nonexistent/classifier.json")).unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");

    // Corrupted content with a valid header.
    let bad_vocab = text.replacen("\"vocabulary\":[\"", "\"vocabulary\":[\"zzzz\",\"", 1);
    let p = write("badvocab.json", &bad_vocab);
    let e = MultinomialNb::load(&p).unwrap_err();
    assert!(is_format_err(&e), "{e}");
    let nn_text = std::fs::read_to_string(&nn_path).unwrap();
    let p = write("baddim.json", &nn_text.replacen("\"dim\":4", "\"dim\":5", 1));
    let e = NeuralHead::load(&p).unwrap_err();
    assert!(is_format_err(&e) && e.to_string().contains("shape"), "{e}");
    let p = write("badb64.json", &nn_text.replacen("\"base64\":\"", "\"base64\":\"!", 1));
    assert!(is_format_err(&NeuralHead::load(&p).unwrap_err()));
}

#[test]
fn fit_and_predict_error_paths() {
    let (t, y) = texts();
    // Label count mismatch, no rows, a single class.
    assert!(matches!(MultinomialNb::fit_texts(&t, &y[..3], &NbOptions::default()), Err(Error::Invalid(_))));
    assert!(MultinomialNb::fit_texts::<String>(&[], &[], &NbOptions::default()).is_err());
    let e = MultinomialNb::fit_texts(&t, &[1; 6], &NbOptions::default()).unwrap_err();
    assert!(e.to_string().contains("two classes"), "{e}");

    // Wrong input kind for each model.
    let x = vec![0.5f32; 12];
    let e4 = Embeddings::new(&x, 4).unwrap();
    assert!(MultinomialNb::fit(Inputs::Embeddings(e4), &[0, 1, 0], &NbOptions::default()).is_err());
    assert!(NeuralHead::fit(Inputs::Texts(&t), &y, &NeuralOptions::default()).is_err());
    let nb = MultinomialNb::fit_texts(&t, &y, &NbOptions::default()).unwrap();
    let e = nb.predict_proba(Inputs::Embeddings(e4)).unwrap_err();
    assert!(e.to_string().contains("takes texts"), "{e}");
    let head = NeuralHead::fit_embeddings(e4, &[0, 1, 0], &NeuralOptions::default()).unwrap();
    assert!(head.predict_proba(Inputs::Texts(&t)).is_err());
    // Wrong embedding width.
    let e3 = Embeddings::new(&x, 3).unwrap();
    let e = head.predict_proba(Inputs::Embeddings(e3)).unwrap_err();
    assert!(e.to_string().contains("4-dimensional"), "{e}");
    // Bad matrix shapes.
    assert!(Embeddings::new(&x, 5).is_err());
    assert!(Embeddings::new(&x, 0).is_err());
    // Empty prediction input is fine.
    let p = head.predict_proba(Inputs::Embeddings(Embeddings::new(&[], 4).unwrap())).unwrap();
    assert_eq!((p.n_rows(), p.n_classes()), (0, 2));
    assert_eq!(nb.predict_proba(Inputs::Texts(&[])).unwrap().n_rows(), 0);
}
