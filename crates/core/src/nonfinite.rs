//! Python's non-standard JSON literals `NaN`, `Infinity` and `-Infinity`.
//!
//! `json.dump` writes them for float NaN and infinities (docs/methods.md §0.2): Superfiltering's
//! `ifd_ppl` files and Cherry's `ifd_score` files contain them. Strict JSON parsers reject
//! them, and `serde_json::Value` cannot hold a non-finite number. gleaner therefore rewrites
//! each literal that appears *outside* a string into a reserved sentinel string before parsing,
//! reads sentinels as the matching float ([`as_f64`]), and the writers turn sentinels back into
//! the bare literal, so a round trip is exact.

use serde_json::Value;
use std::borrow::Cow;

/// Sentinel standing for a bare `NaN` literal. Contains NUL characters, which real text in
/// JSON could only carry as the escape `\u0000`.
pub const NAN: &str = "\u{0}gleaner:NaN\u{0}";
/// Sentinel for `Infinity`.
pub const INF: &str = "\u{0}gleaner:Infinity\u{0}";
/// Sentinel for `-Infinity`.
pub const NEG_INF: &str = "\u{0}gleaner:-Infinity\u{0}";

/// The sentinel string for a float, or `None` for finite values.
pub fn sentinel_for(x: f64) -> Option<&'static str> {
    if x.is_nan() {
        Some(NAN)
    } else if x == f64::INFINITY {
        Some(INF)
    } else if x == f64::NEG_INFINITY {
        Some(NEG_INF)
    } else {
        None
    }
}

/// The bare JSON literal a sentinel stands for.
pub fn literal_for(s: &str) -> Option<&'static str> {
    match s {
        NAN => Some("NaN"),
        INF => Some("Infinity"),
        NEG_INF => Some("-Infinity"),
        _ => None,
    }
}

/// A JSON value for a float: a number when finite, the sentinel otherwise.
pub fn float_value(x: f64) -> Value {
    match sentinel_for(x) {
        Some(s) => Value::String(s.to_string()),
        None => serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number),
    }
}

/// Reads a number, or a non-finite sentinel, as `f64`. Booleans and other strings are `None`.
pub fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            NAN => Some(f64::NAN),
            INF => Some(f64::INFINITY),
            NEG_INF => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

/// True when a value tree contains any sentinel (the writer then needs its slow path).
pub fn contains_sentinel(v: &Value) -> bool {
    match v {
        Value::String(s) => literal_for(s).is_some(),
        Value::Array(a) => a.iter().any(contains_sentinel),
        Value::Object(o) => o.values().any(contains_sentinel),
        _ => false,
    }
}

/// Rewrites bare `NaN`, `Infinity` and `-Infinity` tokens outside strings into quoted
/// sentinels. Returns the input unchanged (borrowed) when no literal occurs, which is the
/// common case and costs one fast substring scan.
pub fn rewrite_literals(bytes: &[u8]) -> Cow<'_, [u8]> {
    if memchr_like(bytes, b"NaN").is_none() && memchr_like(bytes, b"Infinity").is_none() {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() + 64);
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            out.push(b);
            if b == b'\\' && i + 1 < bytes.len() {
                out.push(bytes[i + 1]);
                i += 2;
                continue;
            }
            if b == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        let rest = &bytes[i..];
        let (lit, sentinel) = if rest.starts_with(b"NaN") {
            (3, NAN)
        } else if rest.starts_with(b"Infinity") {
            (8, INF)
        } else if rest.starts_with(b"-Infinity") {
            (9, NEG_INF)
        } else {
            if b == b'"' {
                in_string = true;
            }
            out.push(b);
            i += 1;
            continue;
        };
        out.push(b'"');
        for ch in sentinel.chars() {
            if ch == '\0' {
                out.extend_from_slice(b"\\u0000");
            } else {
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
        }
        out.push(b'"');
        i += lit;
    }
    Cow::Owned(out)
}

fn memchr_like(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_outside_strings_become_sentinels() {
        let src = br#"[{"a": NaN, "b": "NaN and Infinity", "c": -Infinity, "d": [Infinity, 1]}]"#;
        let fixed = rewrite_literals(src);
        let v: Value = serde_json::from_slice(&fixed).unwrap();
        assert!(as_f64(&v[0]["a"]).unwrap().is_nan());
        assert_eq!(v[0]["b"], "NaN and Infinity");
        assert_eq!(as_f64(&v[0]["c"]), Some(f64::NEG_INFINITY));
        assert_eq!(as_f64(&v[0]["d"][0]), Some(f64::INFINITY));
    }

    #[test]
    fn escaped_quotes_do_not_confuse_the_scanner() {
        let src = br#"{"a": "x\"NaN", "b": NaN}"#;
        let v: Value = serde_json::from_slice(&rewrite_literals(src)).unwrap();
        assert_eq!(v["a"], "x\"NaN");
        assert!(as_f64(&v["b"]).unwrap().is_nan());
    }
}
