//! Test helpers: a minimal `.npy` reader (little-endian `f4`/`f8`, C order) and fixture paths.
#![allow(dead_code)]

use std::path::PathBuf;

/// `tests/golden/cluster` at the workspace root.
pub fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/cluster")
}

/// A 2-D array from a `.npy` file, converted to `f64`, with its shape.
pub fn read_npy(path: &std::path::Path) -> (Vec<f64>, Vec<usize>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[..6], b"\x93NUMPY", "{}: not a .npy file", path.display());
    let (hlen, off) = if bytes[6] == 1 {
        (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10)
    } else {
        (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12)
    };
    let header = std::str::from_utf8(&bytes[off..off + hlen]).unwrap();
    assert!(header.contains("'fortran_order': False"), "{header}");
    let shape_str = header.split("'shape': (").nth(1).unwrap().split(')').next().unwrap();
    let shape: Vec<usize> =
        shape_str.split(',').filter(|s| !s.trim().is_empty()).map(|s| s.trim().parse().unwrap()).collect();
    let data = &bytes[off + hlen..];
    let vals: Vec<f64> = if header.contains("'<f4'") {
        data.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64).collect()
    } else if header.contains("'<f8'") {
        data.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect()
    } else {
        panic!("unsupported dtype in {header}")
    };
    assert_eq!(vals.len(), shape.iter().product::<usize>());
    (vals, shape)
}

/// A `.npy` file of `f32` values, as `f32`.
pub fn read_npy_f32(path: &std::path::Path) -> (Vec<f32>, Vec<usize>) {
    let (v, s) = read_npy(path);
    (v.into_iter().map(|x| x as f32).collect(), s)
}

/// The JSON fixture.
pub fn golden_json() -> serde_json::Value {
    let p = golden_dir().join("cluster_golden.json");
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

/// A JSON array of numbers as `Vec<f64>`.
pub fn f64s(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}
