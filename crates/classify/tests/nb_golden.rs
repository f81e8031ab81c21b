//! Multinomial naive Bayes against scikit-learn (`tests/golden/nb/nb_golden.json`, made by
//! `tests/golden/nb/gen_nb.py`): the same vocabulary, tokens, fitted parameters, predicted
//! class and probabilities within 1e-9 relative on every case. Plus Python's `\w` and
//! `str.lower()` over every code point (`tests/golden/classify/py_word_chars.json`).

use gleaner_classify::tokenize::{analyze, is_word_char};
use gleaner_classify::{Classifier, MultinomialNb, NbOptions};
use serde_json::Value;
use std::path::PathBuf;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden")
}

fn data_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/alpaca-selections").join(name)
}

fn read_json(p: PathBuf) -> Value {
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap()
}

/// LCG's text rule: input, a space, instruction.
fn lcg_train() -> (Vec<String>, Vec<u32>) {
    let v = read_json(data_file("lcg_centroid_train_1600.json"));
    let rows = v.as_array().unwrap();
    let texts = rows
        .iter()
        .map(|r| format!("{} {}", r["input"].as_str().unwrap(), r["instruction"].as_str().unwrap()))
        .collect();
    let labels = rows.iter().map(|r| r["cluster"].as_u64().unwrap() as u32).collect();
    (texts, labels)
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn rel_err(a: f64, b: f64) -> f64 {
    if a == b { 0.0 } else { (a - b).abs() / a.abs().max(b.abs()) }
}

#[test]
fn nb_matches_sklearn_golden() {
    let g = read_json(golden_dir().join("nb/nb_golden.json"));
    let (texts, labels) = lcg_train();
    assert_eq!(texts.len(), g["n_train"].as_u64().unwrap() as usize);
    let nb = MultinomialNb::fit_texts(&texts, &labels, &NbOptions::default()).unwrap();

    // Fitted parameters.
    let vocab: Vec<&str> = g["vocabulary"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(nb.vocabulary().len(), vocab.len());
    assert!(nb.vocabulary().iter().zip(&vocab).all(|(a, b)| a == b));
    let classes: Vec<u32> = g["classes"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
    assert_eq!(nb.classes(), classes.as_slice());
    let cc: Vec<u64> = g["class_count"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as u64).collect();
    assert_eq!(nb.class_count(), cc.as_slice());
    for (a, b) in nb.class_log_prior().iter().zip(f64s(&g["class_log_prior"])) {
        assert!(rel_err(*a, b) < 1e-12, "{a} vs {b}");
    }
    let mut worst_flp = 0.0f64;
    for chk in g["feature_log_prob_checks"].as_array().unwrap() {
        let c = chk["class_index"].as_u64().unwrap() as usize;
        let f = chk["feature_index"].as_u64().unwrap() as usize;
        assert_eq!(nb.vocabulary()[f], chk["term"].as_str().unwrap());
        assert_eq!(nb.feature_count(c, f), chk["feature_count"].as_f64().unwrap() as u64);
        worst_flp = worst_flp.max(rel_err(nb.feature_log_prob(c, f), chk["feature_log_prob"].as_f64().unwrap()));
    }
    assert!(worst_flp < 1e-12, "feature_log_prob rel err {worst_flp:e}");

    // Every case: tokens, in-vocabulary counts, jll, proba, predicted class.
    let cases = g["cases"].as_array().unwrap();
    assert_eq!(cases.len(), g["n_cases"].as_u64().unwrap() as usize);
    let case_texts: Vec<String> = cases.iter().map(|c| c["text"].as_str().unwrap().to_owned()).collect();
    let proba = nb.predict_proba_texts(&case_texts);
    let (mut worst_p, mut worst_jll, mut worst_max) = (0.0f64, 0.0f64, 0.0f64);
    for (i, c) in cases.iter().enumerate() {
        let src = c["source"].as_str().unwrap();
        let text = &case_texts[i];
        let want_tokens: Vec<&str> = c["tokens"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
        assert_eq!(analyze(text), want_tokens, "{src}: tokens of {text:?}");
        let counts: Vec<(String, u64)> =
            nb.transform(text).into_iter().map(|(f, n)| (nb.vocabulary()[f].clone(), n)).collect();
        let want_counts = c["in_vocab_counts"].as_object().unwrap();
        assert_eq!(counts.len(), want_counts.len(), "{src}: in-vocab terms");
        for (t, n) in &counts {
            assert_eq!(want_counts[t].as_u64().unwrap(), *n, "{src}: count of {t}");
        }
        for (a, b) in nb.joint_log_likelihood(text).iter().zip(f64s(&c["joint_log_likelihood"])) {
            worst_jll = worst_jll.max(rel_err(*a, b));
        }
        let want_p = f64s(&c["proba"]);
        for (a, b) in proba.row(i).iter().zip(&want_p) {
            let e = rel_err(*a, *b);
            assert!(e < 1e-9, "{src}: proba {a:e} vs {b:e} (rel {e:e})");
            worst_p = worst_p.max(e);
        }
        let pred = nb.classes()[proba.argmax(i)];
        assert_eq!(pred as u64, c["predicted_class"].as_u64().unwrap(), "{src}");
        assert_eq!(nb.predict_one(text), pred, "{src}: jll argmax = proba argmax");
        let mp = c["max_proba"].as_f64().unwrap();
        worst_max = worst_max.max(rel_err(proba.row(i)[proba.argmax(i)], mp));
    }
    assert!(worst_jll < 1e-12, "jll rel err {worst_jll:e}");
    eprintln!(
        "NB golden: {} cases, max rel err proba {worst_p:e}, max_proba {worst_max:e}, jll {worst_jll:e}",
        cases.len()
    );
}

fn ranges(v: &Value) -> Vec<(u32, u32)> {
    v.as_array().unwrap().iter().map(|r| (r[0].as_u64().unwrap() as u32, r[1].as_u64().unwrap() as u32)).collect()
}

fn in_ranges(r: &[(u32, u32)], cp: u32) -> bool {
    let i = r.partition_point(|&(s, _)| s <= cp);
    i > 0 && cp <= r[i - 1].1
}

#[test]
fn word_chars_and_lowercase_match_python_on_every_code_point() {
    let g = read_json(golden_dir().join("classify/py_word_chars.json"));
    let word = ranges(&g["word_ranges"]);
    let assigned = ranges(&g["assigned_ranges"]);
    let mut checked = 0usize;
    for cp in 0..0x110000u32 {
        let Some(c) = char::from_u32(cp) else {
            continue;
        };
        // Code points assigned after the golden's Unicode version may differ by design.
        if !in_ranges(&assigned, cp) {
            continue;
        }
        assert_eq!(is_word_char(c), in_ranges(&word, cp), "U+{cp:04X} {c:?}: word character?");
        checked += 1;
    }
    assert!(checked > 280_000, "{checked}");
    for m in g["lower"].as_array().unwrap() {
        let c = char::from_u32(m[0].as_u64().unwrap() as u32).unwrap();
        assert_eq!(c.to_string().to_lowercase(), m[1].as_str().unwrap(), "{c:?}");
    }
}
