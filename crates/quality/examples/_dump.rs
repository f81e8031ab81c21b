//! throwaway: LM-4 chat-view features of an Alpaca JSON -> raw f32
use gleaner_embed::Embedder;
use std::io::Write;
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let e = gleaner_quality::LmEmbedder::load("SmolLM2-135M-Instruct", a[3].parse().unwrap(), 512, a[5] == "1").unwrap();
    let txt = std::fs::read_to_string(&a[1]).unwrap();
    let v: Vec<serde_json::Value> = if a[1].ends_with(".jsonl") {
        txt.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    } else {
        serde_json::from_str(&txt).unwrap()
    };
    let view = gleaner_quality::View::parse(&a[4]).unwrap();
    let texts: Vec<String> = v
        .iter()
        .map(|r| {
            let rec = gleaner_core::Record::alpaca(
                r["instruction"].as_str().unwrap(),
                r["input"].as_str().unwrap_or(""),
                r["output"].as_str().unwrap(),
            );
            view.render(&gleaner_quality::text::record_parts(&rec))
        })
        .collect();
    let out = e.embed(&texts, &|_| {}).unwrap();
    let mut f = std::fs::File::create(&a[2]).unwrap();
    for x in out {
        f.write_all(&x.to_le_bytes()).unwrap();
    }
}
