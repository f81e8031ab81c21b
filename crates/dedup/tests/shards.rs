//! Signature files of separate shards, merged, find the duplicates across shards that one
//! unsharded run finds.

use gleaner_dedup::{MinHasher, NearOptions, Shingler, SignatureSet, merge, near_clusters};

fn texts() -> Vec<String> {
    let base = [
        "Give three tips for staying healthy and explain why each one matters for a busy student",
        "Describe the water cycle in a few sentences suitable for a ten year old child at school",
        "Write a short poem about the autumn leaves falling in the old city park at dusk",
        "Explain the difference between a list and a tuple in Python with a small example each",
    ];
    let mut v: Vec<String> = base.iter().map(|s| s.to_string()).collect();
    // shard 2: an exact copy of row 0 (other case), a near copy of row 1, a new row, a copy of row 3 with punctuation
    v.push(base[0].to_uppercase());
    v.push(base[1].replace("child", "kid"));
    v.push("List five prime numbers greater than one hundred and show how to check one".into());
    v.push(format!("{}!!", base[3]));
    v
}

#[test]
fn merged_shards_equal_one_run() {
    let t = texts();
    let sh = Shingler::default();
    let h = MinHasher::new(128, 1);
    let a = SignatureSet::compute(&t[..4], (0..4).collect(), sh, &h, "fields=all");
    let b = SignatureSet::compute(&t[4..], (4..8).collect(), sh, &h, "fields=all");
    let dir = tempfile::tempdir().unwrap();
    let (pa, pb) = (dir.path().join("a.gsig"), dir.path().join("b.gsig"));
    a.write(&pa).unwrap();
    b.write(&pb).unwrap();
    let (ra, rb) = (SignatureSet::read(&pa).unwrap(), SignatureSet::read(&pb).unwrap());
    assert_eq!(ra, a);
    let merged = merge(&[ra, rb], &[pa.clone(), pb.clone()], 0.5).unwrap();
    // one run over all rows
    let sets: Vec<Vec<u32>> = t.iter().map(|x| sh.shingles(x)).collect();
    let whole = near_clusters(&h.signatures(&sets), 128, &sets, &NearOptions::new(0.5, 128));
    assert_eq!(merged.clusters.root, whole.root);
    assert_eq!(merged.clusters.root, vec![0, 1, 2, 3, 0, 1, 6, 3]);
    assert_eq!((merged.origin[5].shard, merged.origin[5].row), (1, 1));
    // a shard made with other settings is refused, naming the file
    let c = SignatureSet::compute(&t[..2], vec![0, 1], sh, &MinHasher::new(64, 1), "fields=all");
    let e = merge(&[a, c], &[pa, pb.clone()], 0.5).unwrap_err().to_string();
    assert!(e.contains("b.gsig") && e.contains("other settings"), "{e}");
    // a damaged file is an error naming it
    std::fs::write(&pb, b"GLNSIG01\x01").unwrap();
    assert!(SignatureSet::read(&pb).unwrap_err().to_string().contains("truncated"));
}
