//! The documented text normalisation shared by every method.
//!
//! [`normalize`] applies, in order:
//! 1. Unicode NFKC (compatibility forms fold: full-width `Ａ` → `A`, ligatures `ﬁ` → `fi`,
//!    non-breaking spaces → spaces);
//! 2. lower case (Unicode `to_lowercase`);
//! 3. punctuation → space (ASCII punctuation, the General Punctuation block, CJK and
//!    full-width punctuation, `¡¿«»·`);
//! 4. whitespace runs → one space, trimmed at both ends.
//!
//! So `"Hello,   WORLD!"` and `"hello world"` normalise to the same string. Two texts are exact
//! duplicates when their normalised forms are equal.

use unicode_normalization::UnicodeNormalization;

/// True for the characters the normalisation treats as punctuation.
pub fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(c as u32,
            0x00A1 | 0x00A7 | 0x00AB | 0x00B6 | 0x00B7 | 0x00BB | 0x00BF
            | 0x2010..=0x2027 | 0x2030..=0x205E
            | 0x3001..=0x3003 | 0x3008..=0x3011 | 0x3014..=0x301F
            | 0xFE10..=0xFE19 | 0xFE30..=0xFE4F | 0xFF01..=0xFF0F | 0xFF1A..=0xFF20 | 0xFF3B..=0xFF40 | 0xFF5B..=0xFF65)
}

/// The normalised form of `text` (see the module docs).
pub fn normalize(text: &str) -> String {
    if text.is_ascii() { normalize_ascii(text.as_bytes()) } else { normalize_unicode(text) }
}

/// [`normalize`] by the definition: NFKC, lower case, punctuation and whitespace folded.
fn normalize_unicode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfkc().flat_map(char::to_lowercase) {
        if c.is_whitespace() || is_punctuation(c) {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

/// [`normalize`] of ASCII text, byte by byte: NFKC leaves ASCII unchanged, Unicode lower case
/// of an ASCII letter is its ASCII lower case, and the ASCII characters that are
/// `char::is_whitespace` are exactly tab, line feed, vertical tab, form feed, carriage return
/// and space. Most instruction data is ASCII; this path skips the decomposition tables (the
/// unit test checks it against the general path).
fn normalize_ascii(text: &[u8]) -> String {
    let mut out = Vec::with_capacity(text.len());
    let mut pending_space = false;
    for &b in text {
        if matches!(b, b'\t'..=b'\r' | b' ') || b.is_ascii_punctuation() {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(b' ');
                pending_space = false;
            }
            out.push(b.to_ascii_lowercase());
        }
    }
    // only ASCII bytes were pushed
    String::from_utf8(out).unwrap_or_default()
}

/// True for Han, Hiragana, Katakana and Hangul characters.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF
        | 0x1100..=0x11FF | 0xAC00..=0xD7AF | 0x20000..=0x2A6DF)
}

/// True when at least 30% of the non-space characters of `normalized` are CJK: such text has
/// no spaces between words, so word n-grams would see one giant token.
pub fn mostly_cjk(normalized: &str) -> bool {
    if normalized.is_ascii() {
        return false;
    }
    let (mut cjk, mut all) = (0usize, 0usize);
    for c in normalized.chars().filter(|c| *c != ' ') {
        all += 1;
        cjk += usize::from(is_cjk(c));
    }
    all > 0 && cjk * 10 >= all * 3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_width_punctuation_and_space() {
        assert_eq!(normalize("  Hello,\u{a0}  WORLD!\n"), "hello world");
        assert_eq!(normalize("Ｈｅｌｌｏ　ｗｏｒｌｄ！"), "hello world");
        assert_eq!(normalize("ﬁne—really…"), "fine really");
        assert_eq!(normalize("你好，世界。"), "你好 世界");
        assert_eq!(normalize(""), "");
        assert_eq!(normalize("?!"), "");
        assert_ne!(normalize("cat"), normalize("cats"));
    }

    #[test]
    fn the_ascii_path_equals_the_definition() {
        // every ASCII character alone, between letters, and in runs
        for b in 0u8..128 {
            let c = b as char;
            for t in [format!("{c}"), format!("Ab{c}cD"), format!("{c}{c}x{c}{c}y{c}")] {
                assert_eq!(normalize_ascii(t.as_bytes()), normalize_unicode(&t), "{t:?}");
            }
        }
        // pseudo-random ASCII strings
        let mut s = 7u64;
        for _ in 0..2000 {
            let t: String = (0..40)
                .map(|_| {
                    s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ((s >> 33) % 128) as u8 as char
                })
                .collect();
            assert_eq!(normalize_ascii(t.as_bytes()), normalize_unicode(&t), "{t:?}");
        }
    }

    #[test]
    fn detects_cjk() {
        assert!(mostly_cjk("你好 世界"));
        assert!(!mostly_cjk("hello world 你"));
        assert!(!mostly_cjk(""));
    }
}
