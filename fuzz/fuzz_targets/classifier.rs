//! gleaner's classifier files (naive Bayes, neural head): a file that loads must predict on
//! inputs of the kind it declares without panicking, and save to a file that loads again.
#![no_main]
use gleaner_classify::{Classifier, Embeddings, InputKind, Inputs};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = gleaner_fuzz::scratch_file("in.classifier.json", data);
    let Ok(model) = gleaner_classify::load(&path) else { return };
    let texts: Vec<String> = ["a tiny text", "", "another text, with words"].map(String::from).to_vec();
    let predict = |m: &dyn Classifier| -> gleaner_core::Result<Vec<u32>> {
        match m.input_kind() {
            InputKind::Texts => m.predict(Inputs::Texts(&texts)),
            InputKind::Embeddings { dim } => {
                if dim > 1 << 16 {
                    return Ok(Vec::new());
                }
                let rows: Vec<f32> = (0..2 * dim).map(|i| (i as f32 * 0.37).sin()).collect();
                m.predict(Inputs::Embeddings(Embeddings::new(&rows, dim)?))
            }
        }
    };
    let first = predict(model.as_ref());
    let out = gleaner_fuzz::scratch_dir().join("out.classifier.json");
    model.save(&out).expect("a loaded classifier saves");
    let back = gleaner_classify::load(&out).unwrap_or_else(|e| panic!("a saved classifier does not load: {e}"));
    assert_eq!(back.classes(), model.classes());
    if let (Ok(a), Ok(b)) = (&first, &predict(back.as_ref())) {
        assert_eq!(a, b, "predictions changed after save -> load");
    }
});
