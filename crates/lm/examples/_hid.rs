//! throwaway: mean last hidden state of chatml-rendered records -> raw f32 file
use std::io::Write;
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let m = gleaner_lm::load(std::path::Path::new(&a[1])).unwrap();
    let mut seqs = Vec::new();
    for l in std::fs::read_to_string(&a[2]).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let (i, x, o) =
            (v["instruction"].as_str().unwrap(), v["input"].as_str().unwrap(), v["output"].as_str().unwrap());
        let u = if x.is_empty() { i.to_string() } else { format!("{i}\n{x}") };
        let t = format!("<|im_start|>user\n{u}<|im_end|>\n<|im_start|>assistant\n{o}<|im_end|>\n");
        let mut ids = m.tokenizer.encode(&t).unwrap();
        ids.truncate(512);
        seqs.push(ids);
    }
    let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
    let e = m.model.prompt_embedding(&refs);
    let mut f = std::fs::File::create(&a[3]).unwrap();
    for r in e {
        for v in r {
            f.write_all(&v.to_le_bytes()).unwrap();
        }
    }
}
