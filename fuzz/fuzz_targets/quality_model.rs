//! gleaner's quality model file: a document that loads is written back by `to_json` to one
//! that loads to the same model (same identity); anything else is an error, never a panic.
#![no_main]
use gleaner_quality::model::Model;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(m) = Model::from_json("fuzz", text) else { return };
    let again = m.to_json();
    let back =
        Model::from_json("fuzz", &again).unwrap_or_else(|e| panic!("to_json wrote a model that does not load: {e}"));
    assert_eq!(back.identity(), m.identity());
});
