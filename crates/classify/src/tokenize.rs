//! scikit-learn `CountVectorizer()`'s default analyzer: `str.lower()` then
//! `re.findall(r"(?u)\b\w\w+\b", text)` with Python `re`'s Unicode rules.
//!
//! ## Python's `\w` versus Rust's
//!
//! For a `str` pattern, Python's `re` matches `\w` on a character `c` exactly when
//! `c.isalnum() or c == "_"`, and `isalnum()` is "general category `L*` or `N*`" (checked over
//! every code point of Python 3.11 / Unicode 14: the two sets are identical). So `½`, `²`, `①`,
//! `Ⅻ`, `٣` and `१` are word characters, and combining marks (`Mn`/`Mc`/`Me`), emoji,
//! punctuation other than `_`, symbols and all spaces are not.
//!
//! Rust's `regex` crate (and UTS #18) defines `\w` differently: `Alphabetic` + every mark
//! (`M*`) + `Nd` + every connector punctuation (`Pc`, e.g. `‿`) + `Join_Control` (ZWJ/ZWNJ).
//! That would keep `café` (with a combining acute U+0301) as one token where Python splits it
//! into `cafe`, join `👩‍💻`-style ZWJ runs, and drop `½`/`²`/`①` (category `No`). So this module
//! does **not** use `\w`; it uses the class `[\p{L}\p{N}_]` (general categories from
//! `regex-syntax`'s Unicode 16 tables). The only possible difference from a given Python is
//! the Unicode version: code points first assigned after that Python's Unicode database
//! (Python 3.11: 14.0, 3.12: 15.0, 3.13: 15.1) are word characters here and not there.
//!
//! ## Tokens are maximal runs
//!
//! `\b\w\w+\b` can only start where a word run starts (a `\b` inside a run fails) and its greedy
//! `\w+` runs to the end of the run, where the closing `\b` holds. A token is therefore a
//! maximal run of at least two word characters; single-character runs are dropped. That is
//! what [`analyze`] implements, without a regex engine.
//!
//! ## Lowercasing
//!
//! Python's `str.lower()` and Rust's [`str::to_lowercase`] both apply the full (unconditional)
//! Unicode lowercase mappings plus the `Final_Sigma` rule: `İ` → `i` + U+0307 (which is not a
//! word character, so it ends the token), `Σ` at the end of a word → `ς`, `ẞ` → `ß`,
//! `ǅ` → `ǆ`.

use std::sync::OnceLock;

/// The token pattern this analyzer reproduces (scikit-learn's default), as Python spells it.
pub const TOKEN_PATTERN: &str = r"(?u)\b\w\w+\b";

/// The character class used for Python's `\w` (see the module docs).
const WORD_CLASS: &str = r"[\p{L}\p{N}_]";

/// Sorted, non-overlapping inclusive ranges of word characters above ASCII.
fn word_ranges() -> &'static [(u32, u32)] {
    static RANGES: OnceLock<Vec<(u32, u32)>> = OnceLock::new();
    RANGES.get_or_init(|| {
        let hir = regex_syntax::Parser::new().parse(WORD_CLASS).expect("the word class is a valid pattern");
        match hir.kind() {
            regex_syntax::hir::HirKind::Class(regex_syntax::hir::Class::Unicode(cls)) => {
                cls.ranges().iter().map(|r| (r.start() as u32, r.end() as u32)).collect()
            }
            other => unreachable!("word class parsed to {other:?}"),
        }
    })
}

/// Whether `c` matches Python `re`'s Unicode `\w`: general category `L*` or `N*`, or `_`.
#[inline]
pub fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    let cp = c as u32;
    let ranges = word_ranges();
    // Last range starting at or before `cp`.
    let i = ranges.partition_point(|&(start, _)| start <= cp);
    i > 0 && cp <= ranges[i - 1].1
}

/// Calls `f` on every token of an already lowercased text: every maximal run of at least two
/// word characters ([`is_word_char`]), in order.
pub fn for_each_token<'t>(lowered: &'t str, mut f: impl FnMut(&'t str)) {
    let mut start: Option<usize> = None;
    let mut chars_in_run = 0usize;
    for (i, c) in lowered.char_indices() {
        if is_word_char(c) {
            if start.is_none() {
                start = Some(i);
                chars_in_run = 0;
            }
            chars_in_run += 1;
        } else if let Some(s) = start.take()
            && chars_in_run >= 2
        {
            f(&lowered[s..i]);
        }
    }
    if let Some(s) = start
        && chars_in_run >= 2
    {
        f(&lowered[s..]);
    }
}

/// scikit-learn's default `CountVectorizer` analyzer: lowercase `text` like Python's
/// `str.lower()`, then return the tokens of `(?u)\b\w\w+\b` in order (duplicates kept).
///
/// ```
/// use gleaner_classify::tokenize::analyze;
/// assert_eq!(analyze("Don't use 3D_printing, x ½½!"), ["don", "use", "3d_printing", "½½"]);
/// ```
pub fn analyze(text: &str) -> Vec<String> {
    let lowered = text.to_lowercase();
    let mut out = Vec::new();
    for_each_token(&lowered, |t| out.push(t.to_owned()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_chars_follow_python_not_uts18() {
        for c in ['a', 'Z', '0', '_', 'é', 'ß', '½', '²', '①', 'Ⅻ', '٣', '१', '中', 'ǅ'] {
            assert!(is_word_char(c), "{c:?} should be a word character");
        }
        for c in [
            '\u{301}',  // combining acute (Mn)
            '\u{93E}',  // Devanagari vowel sign AA (Mc, Other_Alphabetic)
            '\u{200D}', // ZWJ (Join_Control)
            '‿',        // connector punctuation other than '_'
            'Ⓐ',        // So with Other_Alphabetic
            '😀', ' ', '\u{a0}', '\'', '-',
        ] {
            assert!(!is_word_char(c), "{c:?} should not be a word character");
        }
    }

    #[test]
    fn tokens_are_maximal_runs_of_two_or_more() {
        assert_eq!(analyze(""), Vec::<String>::new());
        assert_eq!(analyze("   "), Vec::<String>::new());
        assert_eq!(analyze("a b c"), Vec::<String>::new());
        assert_eq!(analyze("ab"), ["ab"]);
        assert_eq!(analyze("O'Neil's x_y __init__ İZMİR"), ["neil", "x_y", "__init__", "zmi"]);
        assert_eq!(analyze("cafe\u{301}s"), ["cafe"]);
        // Final sigma: Σ at the end of a word lowercases to ς (U+03C2).
        assert_eq!(analyze("ΟΔΟΣ ΣΑΣ"), ["οδο\u{3c2}", "σα\u{3c2}"]);
    }
}
