//! Cheap text statistics of a response and of how it relates to its prompt.
//!
//! Recipe `text-v1` is 19 numbers: 13 about the response's length, layout and surface
//! hygiene, 6 about how the response takes up the prompt. They are generic counts (no phrase
//! lists) and are computed on the already-normalised texts ([`crate::text::unescape_artifacts`]).
//! `research/quality/feats.py` (`scalars2`) and `research/quality/exp_feats3.py` (`scalars3`)
//! hold the Python definitions the feature set was selected with.

/// Names of the `text-v1` statistics, in feature order.
pub const TEXT_V1: [&str; 19] = [
    "log_chars",
    "log_words",
    "log_newlines",
    "log_blank_lines",
    "list_line_frac",
    "colon_line_frac",
    "markdown",
    "starts_upper",
    "ends_clean",
    "mean_word_len",
    "log_words_per_sentence",
    "space_before_newline",
    "log_words_vs_prompt",
    "prompt_word_recall",
    "response_words_from_prompt",
    "prompt_recall_first_sentence",
    "log_sentences",
    "single_sentence",
    "log_words_vs_input",
];

/// `^\s*(?:[-*•]|\d+[.)])\s`: a bullet or numbered list line.
fn is_list_line(line: &str) -> bool {
    let t = line.trim_start();
    let mut cs = t.chars();
    match cs.next() {
        Some('-' | '*' | '\u{2022}') => cs.next().is_some_and(char::is_whitespace),
        Some(c) if c.is_ascii_digit() => {
            let rest = t.trim_start_matches(|c: char| c.is_ascii_digit());
            let mut r = rest.chars();
            matches!(r.next(), Some('.' | ')')) && r.next().is_some_and(char::is_whitespace)
        }
        _ => false,
    }
}

/// `\*\*|__|(?m:^#{1,6} )`: bold/underline markers or a Markdown heading line.
fn has_markdown(s: &str) -> bool {
    s.contains("**")
        || s.contains("__")
        || s.split('\n').any(|l| {
            let hashes = l.len() - l.trim_start_matches('#').len();
            (1..=6).contains(&hashes) && l[hashes..].starts_with(' ')
        })
}

/// Number of `[.!?]+(?:\s|$)` matches: runs of sentence punctuation followed by whitespace
/// or the end of the text.
fn sentence_ends(s: &str) -> usize {
    let mut n = 0;
    let mut cs = s.chars().peekable();
    while let Some(c) = cs.next() {
        if matches!(c, '.' | '!' | '?') {
            while cs.peek().is_some_and(|c| matches!(c, '.' | '!' | '?')) {
                cs.next();
            }
            if cs.peek().is_none_or(|c| c.is_whitespace()) {
                n += 1;
            }
        }
    }
    n
}

/// Lower-cased `\w+` tokens (alphanumeric or `_` runs).
fn word_tokens(s: &str) -> Vec<String> {
    s.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// The text up to the first whitespace that follows `.`, `!`, `?` or `:`.
fn first_sentence(s: &str) -> &str {
    let mut prev = None;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() && matches!(prev, Some('.' | '!' | '?' | ':')) {
            return &s[..i];
        }
        prev = Some(c);
    }
    s
}

fn ln1p(x: usize) -> f64 {
    (x as f64).ln_1p()
}

/// The `text-v1` statistics of a (normalised) instruction, input and output, in
/// [`TEXT_V1`] order.
pub fn text_v1(instruction: &str, input: &str, output: &str) -> Vec<f64> {
    let o = output;
    let lines: Vec<&str> = o.split('\n').filter(|l| !l.trim().is_empty()).collect();
    let nl = lines.len().max(1) as f64;
    let words: Vec<&str> = o.split_whitespace().collect();
    let nsent = sentence_ends(o).max(1);
    let s = o.trim();
    let prompt_words = instruction.split_whitespace().count() + input.split_whitespace().count();
    let mean_word_len = if words.is_empty() {
        0.0
    } else {
        words.iter().map(|w| w.chars().count()).sum::<usize>() as f64 / words.len() as f64
    };

    let ow = word_tokens(o);
    let iw = word_tokens(&format!("{instruction} {input}"));
    let oset: std::collections::HashSet<&str> = ow.iter().map(String::as_str).collect();
    let iset: std::collections::HashSet<&str> = iw.iter().map(String::as_str).collect();
    let first = word_tokens(first_sentence(s));
    let fset: std::collections::HashSet<&str> = first.iter().map(String::as_str).collect();
    let common = iset.intersection(&oset).count() as f64;
    let in_first = iset.intersection(&fset).count() as f64;
    let bool01 = |b: bool| if b { 1.0 } else { 0.0 };

    vec![
        ln1p(o.chars().count()),
        ln1p(words.len()),
        ln1p(o.matches('\n').count()),
        ln1p(o.matches("\n\n").count()),
        lines.iter().filter(|l| is_list_line(l)).count() as f64 / nl,
        lines.iter().filter(|l| l.trim_end().ends_with(':')).count() as f64 / nl,
        bool01(has_markdown(o)),
        bool01(s.chars().next().is_some_and(char::is_uppercase)),
        bool01(s.chars().last().is_some_and(|c| ".!?\"')]:".contains(c))),
        mean_word_len,
        (words.len() as f64 / nsent as f64).ln_1p(),
        bool01(o.contains(" \n")),
        ln1p(words.len()) - ln1p(prompt_words),
        common / iset.len().max(1) as f64,
        common / oset.len().max(1) as f64,
        in_first / iset.len().max(1) as f64,
        ln1p(nsent),
        bool01(!ow.is_empty() && first.len() == ow.len()),
        if input.is_empty() { 0.0 } else { ln1p(ow.len()) - ln1p(word_tokens(input).len()) },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces() {
        assert!(is_list_line("  - item"));
        assert!(is_list_line("12) item"));
        assert!(is_list_line("3. item"));
        assert!(!is_list_line("3.5 apples"));
        assert!(!is_list_line("-item"));
        assert!(has_markdown("a **b**"));
        assert!(has_markdown("x\n## Title"));
        assert!(!has_markdown("#hashtag"));
        assert!(!has_markdown("####### seven"));
        assert_eq!(sentence_ends("One. Two?! Three... 3.5 x"), 3);
        assert_eq!(sentence_ends("End."), 1);
        assert_eq!(first_sentence("Here: a list. More"), "Here:");
        assert_eq!(word_tokens("It's A_b, 42!"), vec!["it", "s", "a_b", "42"]);
    }

    #[test]
    fn vector_values() {
        let f = text_v1("List four countries in Africa", "", "Here are four countries in Africa: Egypt, Kenya.");
        assert_eq!(f.len(), TEXT_V1.len());
        let get = |name: &str| f[TEXT_V1.iter().position(|n| *n == name).unwrap()];
        assert!((get("log_words") - 8f64.ln_1p()).abs() < 1e-12);
        // "four countries in africa" of {list, four, countries, in, africa}.
        assert!((get("prompt_word_recall") - 0.8).abs() < 1e-12);
        assert!((get("prompt_recall_first_sentence") - 0.8).abs() < 1e-12);
        assert_eq!(get("starts_upper"), 1.0);
        assert_eq!(get("ends_clean"), 1.0);
        assert_eq!(get("single_sentence"), 0.0);
        assert_eq!(get("log_words_vs_input"), 0.0);
        assert!(f.iter().all(|v| v.is_finite()));
        assert!(text_v1("", "", "").iter().all(|v| v.is_finite()));
    }
}
