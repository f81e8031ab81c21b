//! The GGUF header and metadata reader: opening a file, reading its architecture and the
//! tokenizer described by its metadata, and dequantising its (small) tensors never panic.
#![no_main]
use gleaner_lm::gguf::GgufFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = gleaner_fuzz::scratch_file("in.gguf", data);
    let Ok(g) = GgufFile::open(&path) else { return };
    let _ = g.architecture();
    let _ = gleaner_lm::tokenizer::from_gguf(&g);
    // Every tensor the file names, up to 64 Ki elements each (a real loader would take them
    // all; the bound keeps one input's memory small).
    for name in ["token_embd.weight", "output_norm.weight", "blk.0.attn_q.weight", "output.weight"] {
        if g.shape(name)
            .is_some_and(|s| s.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).is_some_and(|n| n <= 1 << 16))
        {
            let _ = g.tensor_f32(name);
        }
    }
});
