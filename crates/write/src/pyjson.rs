//! A `serde_json` formatter that writes JSON the way Python's `json.dump` does, so a file
//! written back looks like its source: indentation or Python's spaced compact separators,
//! `ensure_ascii` escaping, pandas' `\/`, and the bare `NaN` / `Infinity` literals that
//! [`gleaner_core::nonfinite`] sentinels stand for.

use gleaner_core::nonfinite::literal_for;
use gleaner_read::JsonStyle;
use serde_json::ser::{CharEscape, Formatter};
use std::io::{self, Write};

/// See the module docs.
pub struct PyFormatter {
    style: JsonStyle,
    level: usize,
    has_value: bool,
    /// While inside a string: (raw content, escaped bytes), to catch sentinels.
    pending: Option<(String, Vec<u8>)>,
    track_sentinels: bool,
}

impl PyFormatter {
    /// A formatter for `style`. `track_sentinels` enables the (slower) sentinel check.
    pub fn new(style: JsonStyle, track_sentinels: bool) -> Self {
        PyFormatter { style, level: 0, has_value: false, pending: None, track_sentinels }
    }

    fn newline_indent<W: ?Sized + Write>(&self, w: &mut W) -> io::Result<()> {
        if let Some(n) = self.style.indent {
            w.write_all(b"\n")?;
            for _ in 0..self.level * n {
                w.write_all(b" ")?;
            }
        }
        Ok(())
    }

    fn sep(&self) -> &'static [u8] {
        match (self.style.indent, self.style.spaced) {
            (Some(_), _) => b",",
            (None, true) => b", ",
            (None, false) => b",",
        }
    }

    fn colon(&self) -> &'static [u8] {
        if self.style.indent.is_some() || self.style.spaced { b": " } else { b":" }
    }

    fn out<'a, W: ?Sized + Write>(&'a mut self, w: &'a mut W) -> Sink<'a, W> {
        match &mut self.pending {
            Some((_, buf)) => Sink::Buf(buf),
            None => Sink::W(w),
        }
    }
}

enum Sink<'a, W: ?Sized> {
    W(&'a mut W),
    Buf(&'a mut Vec<u8>),
}

impl<W: ?Sized + Write> Sink<'_, W> {
    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        match self {
            Sink::W(w) => w.write_all(b),
            Sink::Buf(v) => {
                v.extend_from_slice(b);
                Ok(())
            }
        }
    }
}

fn escape_u(cp: u32, out: &mut Vec<u8>) {
    let mut one = |u: u32| out.extend_from_slice(format!("\\u{u:04x}").as_bytes());
    if cp >= 0x10000 {
        let v = cp - 0x10000;
        one(0xD800 | (v >> 10));
        one(0xDC00 | (v & 0x3FF));
    } else {
        one(cp);
    }
}

impl Formatter for PyFormatter {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(b"[")
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.newline_indent(w)?;
        }
        self.has_value = true;
        w.write_all(b"]")
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if !first {
            w.write_all(self.sep())?;
        }
        self.newline_indent(w)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(b"{")
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.newline_indent(w)?;
        }
        self.has_value = true;
        w.write_all(b"}")
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if !first {
            w.write_all(self.sep())?;
        }
        self.newline_indent(w)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(self.colon())
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_string<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        if self.track_sentinels {
            self.pending = Some((String::new(), Vec::new()));
            Ok(())
        } else {
            w.write_all(b"\"")
        }
    }
    fn end_string<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        match self.pending.take() {
            Some((raw, escaped)) => match literal_for(&raw) {
                Some(lit) => w.write_all(lit.as_bytes()),
                None => {
                    w.write_all(b"\"")?;
                    w.write_all(&escaped)?;
                    w.write_all(b"\"")
                }
            },
            None => w.write_all(b"\""),
        }
    }
    fn write_string_fragment<W: ?Sized + Write>(&mut self, w: &mut W, fragment: &str) -> io::Result<()> {
        if let Some((raw, _)) = &mut self.pending {
            raw.push_str(fragment);
        }
        let (ascii, slash) = (self.style.ensure_ascii, self.style.escape_slash);
        let mut sink = self.out(w);
        if !ascii && !slash {
            return sink.put(fragment.as_bytes());
        }
        let mut tmp = Vec::with_capacity(fragment.len() + 8);
        for ch in fragment.chars() {
            if ascii && !(' '..='~').contains(&ch) {
                escape_u(ch as u32, &mut tmp);
            } else if slash && ch == '/' {
                tmp.extend_from_slice(b"\\/");
            } else {
                let mut b = [0u8; 4];
                tmp.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
            }
        }
        sink.put(&tmp)
    }
    fn write_char_escape<W: ?Sized + Write>(&mut self, w: &mut W, esc: CharEscape) -> io::Result<()> {
        let (raw_char, text): (char, Vec<u8>) = match esc {
            CharEscape::Quote => ('"', b"\\\"".to_vec()),
            CharEscape::ReverseSolidus => ('\\', b"\\\\".to_vec()),
            CharEscape::Solidus => ('/', b"\\/".to_vec()),
            CharEscape::Backspace => ('\u{8}', b"\\b".to_vec()),
            CharEscape::FormFeed => ('\u{c}', b"\\f".to_vec()),
            CharEscape::LineFeed => ('\n', b"\\n".to_vec()),
            CharEscape::CarriageReturn => ('\r', b"\\r".to_vec()),
            CharEscape::Tab => ('\t', b"\\t".to_vec()),
            CharEscape::AsciiControl(b) => (b as char, format!("\\u{:04x}", b).into_bytes()),
        };
        if let Some((raw, _)) = &mut self.pending {
            raw.push(raw_char);
        }
        self.out(w).put(&text)
    }
}

/// Serialises one value with the Python-style formatter.
pub fn to_writer<W: Write, T: serde::Serialize + ?Sized>(
    w: W,
    v: &T,
    style: JsonStyle,
    track_sentinels: bool,
) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(w, PyFormatter::new(style, track_sentinels));
    v.serialize(&mut ser).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gleaner_read::Container;
    use serde_json::json;

    fn style(indent: Option<usize>, spaced: bool, ascii: bool) -> JsonStyle {
        JsonStyle { container: Container::Json, indent, spaced, ensure_ascii: ascii, escape_slash: false }
    }

    fn s(v: &serde_json::Value, st: JsonStyle) -> String {
        let mut b = Vec::new();
        to_writer(&mut b, v, st, true).unwrap();
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn matches_python_layouts() {
        let v = json!([{"a": "é/😀", "b": [1, 2], "c": {}, "d": gleaner_core::nonfinite::NAN}]);
        // json.dumps(v) in Python
        assert_eq!(s(&v, style(None, true, true)), r#"[{"a": "\u00e9/\ud83d\ude00", "b": [1, 2], "c": {}, "d": NaN}]"#);
        // json.dumps(v, indent=4, ensure_ascii=False)
        assert_eq!(
            s(&v, style(Some(4), true, false)),
            "[\n    {\n        \"a\": \"é/😀\",\n        \"b\": [\n            1,\n            2\n        ],\n        \"c\": {},\n        \"d\": NaN\n    }\n]"
        );
    }
}
