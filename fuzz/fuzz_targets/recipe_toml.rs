//! Recipe TOML: parsing and validation never panic, errors name the file, and a recipe that
//! parses is written back by `to_toml` to text that parses to the same recipe.
#![no_main]
use gleaner_pipeline::recipe::{parse, to_toml, validate};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = Path::new("fuzz.toml");
    match parse(text, path) {
        Err(e) => assert!(e.to_string().contains("fuzz.toml"), "an error that does not name the file: {e}"),
        Ok(recipe) => {
            if let Err(e) = validate(&recipe, text, path) {
                assert!(e.to_string().contains("fuzz.toml"), "an error that does not name the file: {e}");
            }
            let again = to_toml(&recipe);
            let back =
                parse(&again, path).unwrap_or_else(|e| panic!("to_toml wrote text that does not parse: {e}\n{again}"));
            assert_eq!(back, recipe, "recipe -> TOML -> recipe changed it:\n{again}");
        }
    }
});
