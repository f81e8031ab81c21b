//! Text handling: CaR's `src` strings, the scoring layout, and the APE escape artefact.

use gleaner_core::Record;

/// Splits CaR's training `src` string `"Instruction: I[ Input: X] Response: O"` (the
/// `Input:` part is omitted in the training CSVs when X is empty, and always present in
/// CaR's inference layout with an empty X) into `(I, X, O)`.
///
/// The first `" Response: "` after the instruction ends the prompt; the first `" Input: "`
/// before it starts X. Returns `None` when the string does not start with `"Instruction: "`
/// or has no `" Response: "`.
pub fn parse_car_src(src: &str) -> Option<(String, String, String)> {
    let rest = src.strip_prefix("Instruction: ")?;
    let r = rest.find(" Response: ")?;
    let (prompt, out) = (&rest[..r], &rest[r + " Response: ".len()..]);
    // CaR's inference layout with an empty input: "… Input:  Response: …" leaves
    // "… Input: " (trailing space swallowed by the split) — handle both forms.
    let (ins, inp) = match prompt.find(" Input: ") {
        Some(p) => (&prompt[..p], &prompt[p + " Input: ".len()..]),
        None => match prompt.strip_suffix(" Input:") {
            Some(i) => (i, ""),
            None => (prompt, ""),
        },
    };
    Some((ins.to_string(), inp.to_string(), out.to_string()))
}

/// Decodes the JSON escape sequences `\n`, `\t`, `\"`, `\\` and `\uXXXX` (surrogate pairs
/// combined; a lone surrogate becomes U+FFFD) that appear *literally* in the original
/// (score 0) rows of CaR's expert-revised data but almost never in the revised rows or in
/// real data. Other backslash sequences (`\frac`, `\s`) are kept verbatim.
///
/// Without this, a scorer learns "contains a literal `\n` ⇒ worse", which separates 34% of
/// the pairs for a reason that has nothing to do with quality (research/quality/RESULTS.md).
/// It is applied to every text the scorer sees, in training and inference alike.
pub fn unescape_artifacts(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut last = 0;
    let hex4 = |at: usize| -> Option<u32> {
        let h = s.get(at..at + 4)?;
        if h.bytes().all(|c| c.is_ascii_hexdigit()) { u32::from_str_radix(h, 16).ok() } else { None }
    };
    while i + 1 < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        let (rep, len): (Option<char>, usize) = match b[i + 1] {
            b'n' => (Some('\n'), 2),
            b't' => (Some('\t'), 2),
            b'"' => (Some('"'), 2),
            b'\\' => (Some('\\'), 2),
            b'u' => match hex4(i + 2) {
                Some(hi) if (0xD800..0xDC00).contains(&hi) => {
                    let lo = (s.get(i + 6..i + 8) == Some("\\u"))
                        .then(|| hex4(i + 8))
                        .flatten()
                        .filter(|lo| (0xDC00..0xE000).contains(lo));
                    match lo {
                        Some(lo) => (char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)), 12),
                        None => (Some('\u{FFFD}'), 6),
                    }
                }
                Some(c) if (0xDC00..0xE000).contains(&c) => (Some('\u{FFFD}'), 6),
                Some(c) => (char::from_u32(c), 6),
                None => (None, 1),
            },
            _ => (None, 1),
        };
        match rep {
            Some(c) => {
                out.push_str(&s[last..i]);
                out.push(c);
                i += len;
                last = i;
            }
            None => i += len,
        }
    }
    out.push_str(&s[last..]);
    out
}

/// The (instruction, input, output) of a record, each passed through
/// [`unescape_artifacts`].
pub fn record_parts(r: &Record) -> (String, String, String) {
    (unescape_artifacts(r.instruction()), unescape_artifacts(&r.input), unescape_artifacts(r.output()))
}

/// CaR's IQS input layout, `"Instruction: " ‖ I ‖ " Input: " ‖ X ‖ " Response: " ‖ O` with
/// `" Input: "` always present (docs/methods.md §1.3), built from already-normalised parts.
pub fn car_layout(instruction: &str, input: &str, output: &str) -> String {
    format!("Instruction: {instruction} Input: {input} Response: {output}")
}

/// Parses a training `src` string into an Alpaca [`Record`] (escapes left as they are;
/// the scorer normalises at feature time).
pub fn record_from_src(src: &str) -> Option<Record> {
    let (i, x, o) = parse_car_src(src)?;
    Some(Record::alpaca(&i, &x, &o))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_layouts() {
        let a = parse_car_src("Instruction: List four. Response: Egypt, Kenya").unwrap();
        assert_eq!(a, ("List four.".into(), "".into(), "Egypt, Kenya".into()));
        let b = parse_car_src("Instruction: Sum Input: 1 2 Response: 3").unwrap();
        assert_eq!(b, ("Sum".into(), "1 2".into(), "3".into()));
        let c = parse_car_src(&car_layout("Do it", "", "Done")).unwrap();
        assert_eq!(c, ("Do it".into(), "".into(), "Done".into()));
        assert!(parse_car_src("Question: x").is_none());
    }

    #[test]
    fn unescapes_only_json_sequences() {
        let s = r#"a\nb \"q\" \u00b0 \ud83d\ude00 \ud83d x \\ \frac \s"#;
        assert_eq!(unescape_artifacts(s), "a\nb \"q\" ° 😀 \u{FFFD} x \\ \\frac \\s");
        assert_eq!(unescape_artifacts("plain"), "plain");
        assert_eq!(unescape_artifacts("end\\"), "end\\");
        assert_eq!(unescape_artifacts("\\u12"), "\\u12");
    }
}
