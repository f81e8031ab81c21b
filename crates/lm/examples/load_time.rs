//! Times the parts of loading a GGUF model: header, tokenizer, weights.
//! `load_time FILE.gguf`
fn main() {
    let p = std::path::PathBuf::from(std::env::args().nth(1).expect("FILE.gguf"));
    let t = std::time::Instant::now();
    let g = gleaner_lm::gguf::GgufFile::open(&p).unwrap();
    let t1 = t.elapsed().as_secs_f64();
    let tok = gleaner_lm::tokenizer::from_gguf(&g).unwrap();
    let t2 = t.elapsed().as_secs_f64();
    let d = gleaner_lm::Decoder::from_gguf(&g).unwrap();
    let t3 = t.elapsed().as_secs_f64();
    println!(
        "header {:.2}s tokenizer {:.2}s weights {:.2}s ({} params, vocab {})",
        t1,
        t2 - t1,
        t3 - t2,
        d.parameters(),
        tok.inner().get_vocab_size(true)
    );
}
