//! The json reader on arbitrary bytes: see the oracles in `gleaner_fuzz`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    gleaner_fuzz::check_reader(data, "json", "json");
});
