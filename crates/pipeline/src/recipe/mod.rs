//! Recipes: method presets and user pipelines as data.
//!
//! A recipe is an ordered list of stages (see [`spec`]); [`crate::runner`] runs one. The six
//! method presets are typed structs whose `Default` is the paper's settings ([`presets`]); each
//! renders to a recipe, so a preset's defaults have exactly one home and `gleaner recipes show
//! car` prints what `gleaner run car` runs. Further recipes (combinations of the methods and
//! the two baselines) are bundled as TOML files in `crates/pipeline/recipes/`.
//!
//! [`parse`] reads a recipe and [`validate`] checks it before any model loads: an unknown stage
//! or key, a missing parameter, a wrong type or an impossible order (a stage needing a column
//! that no earlier stage computes) is an error naming the file, the line and the key.

pub mod presets;
pub mod spec;

use gleaner_core::{Error, Result};
pub use spec::*;
use std::collections::BTreeSet;
use std::path::Path;

/// The recipes bundled as TOML files (combinations and baselines); the presets are rendered
/// from their structs by [`bundled`].
const BUNDLED_FILES: &[(&str, &str)] = &[
    ("random", include_str!("../../recipes/random.toml")),
    ("longest", include_str!("../../recipes/longest.toml")),
    ("ifd-length", include_str!("../../recipes/ifd-length.toml")),
    ("ifd-quality-car", include_str!("../../recipes/ifd-quality-car.toml")),
    ("lcg-quality-floor", include_str!("../../recipes/lcg-quality-floor.toml")),
    ("dedup-then-car", include_str!("../../recipes/dedup-then-car.toml")),
];

/// Every bundled recipe, the six presets first.
pub fn bundled() -> Vec<Recipe> {
    let mut out = presets::all();
    for (name, text) in BUNDLED_FILES {
        out.push(parse(text, Path::new(&format!("bundled:{name}"))).expect("bundled recipes parse"));
    }
    out
}

/// The bundled recipe called `name`.
pub fn find(name: &str) -> Option<Recipe> {
    bundled().into_iter().find(|r| r.name == name)
}

/// A recipe as TOML that [`parse`] reads back to the same value.
pub fn to_toml(r: &Recipe) -> String {
    let mut s = String::new();
    // a TOML comment ends at a line break and may hold no control character: escape them in
    // the name (found by fuzz/recipe_toml; the `name` key below holds the exact value)
    let shown: String =
        r.name.chars().flat_map(|c| if c.is_control() { c.escape_default().collect() } else { vec![c] }).collect();
    s.push_str(&format!("# gleaner recipe `{shown}`: run it with `gleaner run --recipe FILE.toml IN -o OUT`.\n"));
    s.push_str(&toml::to_string_pretty(r).expect("a recipe serialises"));
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// Reads a recipe file.
pub fn load(path: &Path) -> Result<Recipe> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let r = parse(&text, path)?;
    validate(&r, &text, path)?;
    Ok(r)
}

/// Parses recipe text; errors name `path`, the line and the key.
pub fn parse(text: &str, path: &Path) -> Result<Recipe> {
    toml::from_str::<Recipe>(text).map_err(|e| {
        let mut line = e.span().map_or(1, |s| line_of(text, s.start));
        // errors inside a stage point at its `[[stage]]`: move to the line of the named key or value
        if let Some(token) = e.message().split('`').nth(1) {
            let mut after = text
                .lines()
                .enumerate()
                .skip(line - 1)
                .take_while(|(n, l)| *n + 1 == line || !l.trim().starts_with("[["));
            if let Some((n, _)) = after.find(|(_, l)| l.contains(token)) {
                line = n + 1;
            }
        }
        Error::Recipe { path: path.to_path_buf(), line, message: e.message().to_string() }
    })
}

fn line_of(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())].matches('\n').count() + 1
}

/// The line of the `i`-th `[[stage]]` table in `text` and, within it, of `key` if given
/// (1 when the recipe was not read from text).
fn stage_line(text: &str, i: usize, key: Option<&str>) -> usize {
    let mut seen = 0;
    let mut start = None;
    for (n, l) in text.lines().enumerate() {
        let t = l.trim();
        if t.starts_with("[[stage]]") {
            if start.is_some() {
                break;
            }
            if seen == i {
                start = Some(n + 1);
            }
            seen += 1;
        } else if let (Some(_), Some(k)) = (start, key) {
            let name = t.split('=').next().unwrap_or("").trim().trim_matches('"');
            if name == k {
                return n + 1;
            }
        }
    }
    start.unwrap_or(1)
}

/// The columns each IFD scorer adds.
pub const IFD_COLUMNS: &[&str] = &[
    "loss_direct",
    "loss_cond",
    "ifd_ppl",
    "ifd_loss",
    "tokens_direct",
    "tokens_cond",
    "ifd_ppl_min",
    "ifd_loss_min",
    "turns",
];

/// The extra columns of reversed IFD.
pub const RIFD_COLUMNS: &[&str] =
    &["loss_q_direct", "loss_q_cond", "rifd_ppl", "rifd_loss", "tokens_q_direct", "tokens_q_cond"];

/// The columns a score stage adds.
pub fn score_columns(s: &Score) -> Vec<String> {
    let v: Vec<&str> = match s.scorer {
        Scorer::Quality => vec!["quality"],
        Scorer::Ifd => IFD_COLUMNS.to_vec(),
        Scorer::ReversedIfd => IFD_COLUMNS.iter().chain(RIFD_COLUMNS).copied().collect(),
        Scorer::Length => match s.unit.unwrap_or_default() {
            LengthUnit::Tokens => vec!["response_tokens"],
            LengthUnit::Chars => vec!["response_chars"],
        },
        Scorer::Random => vec!["random"],
        Scorer::Existing => return vec![s.into.clone().unwrap_or_else(|| "quality".into())],
    };
    v.into_iter().map(String::from).collect()
}

/// Checks a parsed recipe before anything runs: stage order, the parameters each stage needs,
/// and that every column a stage reads is computed by an earlier stage. `text` is the recipe's
/// source (for line numbers; empty for a recipe built in code).
pub fn validate(r: &Recipe, text: &str, path: &Path) -> Result<()> {
    let err = |i: usize, key: Option<&str>, msg: String| Error::Recipe {
        path: path.to_path_buf(),
        line: stage_line(text, i, key),
        message: format!(
            "stage {} (`{}`){}: {msg}",
            i + 1,
            r.stages[i].kind(),
            key.map_or(String::new(), |k| format!(", key `{k}`"))
        ),
    };
    if r.stages.is_empty() {
        return Err(Error::Recipe {
            path: path.to_path_buf(),
            line: 1,
            message: "the recipe has no `[[stage]]`".into(),
        });
    }
    let mut cols: BTreeSet<String> = BTreeSet::new();
    let (mut embedded, mut clustered, mut selected, mut written) = (false, false, false, false);
    for (i, st) in r.stages.iter().enumerate() {
        let need = |cols: &BTreeSet<String>, key: &str, c: &str| -> Result<()> {
            if cols.contains(c) {
                Ok(())
            } else {
                let have: Vec<&str> = cols.iter().map(String::as_str).collect();
                Err(err(
                    i,
                    Some(key),
                    format!(
                        "no earlier stage computes the column `{c}` (computed so far: {})",
                        if have.is_empty() { "none".to_string() } else { have.join(", ") }
                    ),
                ))
            }
        };
        if written {
            return Err(err(i, None, "nothing can follow the `write` stage".into()));
        }
        if selected && !matches!(st, Stage::Write(_)) {
            return Err(err(i, None, "only `write` can follow the `select` stage".into()));
        }
        match st {
            Stage::Read(_) => {
                if i != 0 {
                    return Err(err(i, None, "`read` must be the first stage".into()));
                }
            }
            Stage::Score(s) => {
                if let Some(t) = &s.template
                    && gleaner_core::layout::Template::parse(t).is_none()
                {
                    return Err(err(
                        i,
                        Some("template"),
                        format!("unknown template `{t}` (none, alpaca, wiz, vicuna, chatml)"),
                    ));
                }
                if s.scorer == Scorer::Existing && s.source.is_none() {
                    return Err(err(i, Some("source"), "name a record field or a side file PATH[:COLUMN]".into()));
                }
                if s.max_length.is_some_and(|m| m < 2) {
                    return Err(err(i, Some("max_length"), "must be at least 2".into()));
                }
                cols.extend(score_columns(s));
            }
            Stage::Embed(e) => {
                if e.text != "prompt-states"
                    && e.text != "prompt"
                    && gleaner_core::layout::TextKind::parse(&e.text).is_none()
                {
                    return Err(err(
                        i,
                        Some("text"),
                        format!(
                            "unknown text `{}` (car, lcg, fl, fl-instruction, fl-response, conversation, prompt, prompt-states, or a template with {{instruction}}, {{input}}, {{output}})",
                            e.text
                        ),
                    ));
                }
                if let Some(t) = &e.template
                    && gleaner_core::layout::Template::parse(t).is_none()
                {
                    return Err(err(i, Some("template"), format!("unknown template `{t}`")));
                }
                if e.text == "prompt-states" {
                    cols.insert("prompt_ppl".into());
                }
                embedded = true;
            }
            Stage::Cluster(c) => {
                if !embedded {
                    return Err(err(i, None, "needs embeddings: put an `embed` stage before it".into()));
                }
                match &c.pca {
                    PcaSpec::Name(n) if n != "none" => {
                        return Err(err(
                            i,
                            Some("pca"),
                            format!("`{n}`: give a variance fraction in (0, 1), a component count, or \"none\""),
                        ));
                    }
                    PcaSpec::Variance(v) if !(*v > 0.0 && *v < 1.0) => {
                        return Err(err(i, Some("pca"), format!("{v}: a variance fraction must be in (0, 1)")));
                    }
                    _ => {}
                }
                if let KSpec::Rule(k) = &c.k
                    && !matches!(k.as_str(), "car" | "lcg" | "sqrt-n-8")
                {
                    return Err(err(
                        i,
                        Some("k"),
                        format!("`{k}`: give a count or a rule (car = ⌊√(n/2)⌋, lcg = ⌊√(n/8)⌋)"),
                    ));
                }
                if c.n_init == 0 {
                    return Err(err(i, Some("n_init"), "must be at least 1".into()));
                }
                cols.extend(["cluster".to_string(), "distance".to_string()]);
                clustered = true;
            }
            Stage::Filter(f) => {
                need(&cols, "column", &f.column)?;
                let bounds = [f.below, f.at_most, f.above, f.at_least, f.top.map(|t| t as f64), f.top_ratio];
                if bounds.iter().all(Option::is_none) {
                    return Err(err(
                        i,
                        None,
                        "give a bound (`below`, `at_most`, `above`, `at_least`) or a rank (`top`, `top_ratio`)".into(),
                    ));
                }
                if f.top.is_some() && f.top_ratio.is_some() {
                    return Err(err(i, Some("top_ratio"), "give `top` or `top_ratio`, not both".into()));
                }
            }
            Stage::Combine(c) => {
                if c.columns.is_empty() {
                    return Err(err(i, Some("columns"), "list at least one column".into()));
                }
                for col in c.columns.iter().chain(&c.lower_is_better) {
                    need(&cols, "columns", col)?;
                }
                if let Some(w) = &c.weights
                    && w.len() != c.columns.len()
                {
                    return Err(err(
                        i,
                        Some("weights"),
                        format!("{} weights for {} columns", w.len(), c.columns.len()),
                    ));
                }
                cols.insert(c.into.clone());
            }
            Stage::Dedup(d) => {
                if let Some(k) = &d.keep {
                    match gleaner_dedup::Keep::parse(k) {
                        None => {
                            return Err(err(
                                i,
                                Some("keep"),
                                format!("`{k}`: use `first`, `longest` or `score:COLUMN`"),
                            ));
                        }
                        Some(gleaner_dedup::Keep::Score(c)) => need(&cols, "keep", &c)?,
                        Some(_) => {}
                    }
                }
                let (lo, hi) = if d.method == DedupMethod::Semantic { (-1.0, 1.0) } else { (0.0, 1.0) };
                if let Some(t) = d.threshold
                    && !(t > lo && t <= hi)
                {
                    return Err(err(i, Some("threshold"), format!("{t}: must be in ({lo}, {hi}]")));
                }
                if d.perms.is_some_and(|p| p == 0 || p > 1024) {
                    return Err(err(i, Some("perms"), "must be in 1..=1024".into()));
                }
                if d.ngram == Some(0) {
                    return Err(err(i, Some("ngram"), "must be at least 1".into()));
                }
                if let Some(u) = &d.unit
                    && gleaner_dedup::Unit::parse(u).is_none()
                {
                    return Err(err(i, Some("unit"), format!("`{u}`: use auto, word or char")));
                }
                if d.turns == DedupTurns::User && d.fields != DedupFields::All {
                    return Err(err(
                        i,
                        Some("turns"),
                        "`turns = \"user\"` applies to `fields = \"all\"` (prompt is the user turns already)".into(),
                    ));
                }
            }
            Stage::Classify(_) => {
                if !clustered {
                    return Err(err(i, None, "needs clusters: put `embed` and `cluster` stages before it".into()));
                }
                cols.extend(["confidence".to_string(), "predicted".to_string(), "pseudo_label".to_string()]);
            }
            Stage::Select(s) => {
                selected = true;
                match s {
                    Select::TopK(t) => {
                        need(&cols, "by", &t.by)?;
                        if t.budget.is_some() == t.ratio.is_some() {
                            return Err(err(i, Some("budget"), "give exactly one of `budget` and `ratio`".into()));
                        }
                    }
                    Select::Car(c) => {
                        need(&cols, "by", &c.by)?;
                        need(&cols, "rule", "cluster")?;
                    }
                    Select::FacilityLocation(f) => {
                        if !embedded {
                            return Err(err(i, None, "needs embeddings: put an `embed` stage before it".into()));
                        }
                        if f.budget.is_some() == f.ratio.is_some() {
                            return Err(err(i, Some("budget"), "give exactly one of `budget` and `ratio`".into()));
                        }
                    }
                    Select::Lcg(l) => {
                        need(&cols, "rule", "confidence")?;
                        if l.budget.is_some() == l.ratio.is_some() {
                            return Err(err(i, Some("budget"), "give exactly one of `budget` and `ratio`".into()));
                        }
                    }
                    Select::PreExperience(p) => {
                        need(&cols, "by", &p.by)?;
                        need(&cols, "rule", "cluster")?;
                        if !(0.0..=100.0).contains(&p.low) || !(0.0..=100.0).contains(&p.up) || p.low > p.up {
                            return Err(err(i, Some("low"), "percentiles must satisfy 0 ≤ low ≤ up ≤ 100".into()));
                        }
                    }
                }
            }
            Stage::Write(w) => {
                written = true;
                for c in w.annotate.values() {
                    need(&cols, "annotate", c)?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
