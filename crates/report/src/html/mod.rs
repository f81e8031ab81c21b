//! The selection report: one self-contained HTML page per run (inline CSS, inline SVG charts,
//! a few hundred lines of inline script for the map's hover and the error trap; no network
//! requests). Everything but the map's hover reads without JavaScript.
//!
//! [`Report`] holds what a run produced (the library that ran it fills it in); [`render`]
//! draws it. Record text is always HTML-escaped, and the JSON the script reads is escaped so
//! that no record can close its `<script>` element.

mod dedup;
mod sections;
pub mod svg;

pub use dedup::{DedupSection, DupCluster, EvalSetMatches};

pub use sections::{collapse, count, mix};

use serde::Serialize;

/// The most points the map draws; above it, a seeded uniform sample of the embedded rows (the
/// page says so). With record text for each point this keeps a 50,000-row report under 5 MB.
pub const MAP_MAX_POINTS: usize = 6_000;

/// Characters of the instruction and of the response shown for a map point.
pub const MAP_TEXT_CHARS: usize = 140;

/// A column's missing (NaN) values above this share of its scored rows get a warning.
pub const NAN_WARN_SHARE: f64 = 0.05;

/// One value shared by more than this share of a column's rows gets a warning (ties).
pub const TIE_WARN_SHARE: f64 = 0.2;

/// A middle 90% (p5 to p95) narrower than this share of the median's size gets a warning.
pub const SPREAD_WARN: f64 = 0.01;

/// One input row.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// 0-based position in the input file.
    pub position: usize,
    /// The instruction (and the Alpaca input, if any).
    pub instruction: String,
    /// The first response.
    pub response: String,
    /// Kept by the selection.
    pub kept: bool,
    /// Why it was kept, or the rule that dropped it.
    pub reason: String,
    /// Its cluster, if the run clustered it.
    pub cluster: Option<i64>,
}

/// Rows dropped by one rule.
#[derive(Debug, Clone)]
pub struct DropRule {
    /// 0-based stage index in the recipe.
    pub stage: usize,
    /// The stage's kind (`filter`, `select`, …).
    pub stage_kind: String,
    /// The rule's reason.
    pub reason: String,
    /// Rows dropped.
    pub rows: usize,
}

/// A score column: one value per row, and whether the row was in play when it was scored.
#[derive(Debug, Clone)]
pub struct ScoreColumn {
    /// Column name.
    pub name: String,
    /// One value per row (NaN where not computed).
    pub values: Vec<f64>,
    /// Rows the scorer ran on (a NaN there is a scorer failure, elsewhere just "not scored").
    pub scored: Vec<bool>,
}

/// The 2-D map of the embedded rows.
#[derive(Debug, Clone)]
pub struct Map {
    /// `(row, x, y)` for the rows drawn (all embedded rows, or a sample).
    pub points: Vec<(usize, f32, f32)>,
    /// Rows that have embeddings.
    pub embedded: usize,
    /// How the 2-D coordinates were made (shown under the map).
    pub projection: String,
    /// Axis labels.
    pub axes: (String, String),
}

/// Another selection of the same rows at the same budget, for comparison.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Name (`random`, `longest`).
    pub name: String,
    /// How it was computed (one sentence).
    pub how: String,
    /// Rows it keeps.
    pub kept: Vec<usize>,
}

/// A model as a stage ran it.
#[derive(Debug, Clone, Serialize)]
pub struct ModelUse {
    /// Stage.
    pub stage: String,
    /// Model identity.
    pub model: String,
    /// Precision.
    pub precision: String,
}

/// A stage's wall time and the process's peak RSS when it ended.
#[derive(Debug, Clone)]
pub struct StageTime {
    /// Stage kind.
    pub stage: String,
    /// Seconds.
    pub wall_s: f64,
    /// Peak RSS so far, MiB.
    pub peak_rss_mib: f64,
}

/// Everything the page shows.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Recipe name.
    pub recipe: String,
    /// The recipe as TOML.
    pub recipe_toml: String,
    /// The input file.
    pub input: String,
    /// gleaner's version.
    pub version: String,
    /// Every input row, in input order.
    pub rows: Vec<Row>,
    /// Records the reader skipped, per reason (not among the rows).
    pub skipped_on_read: Vec<(String, usize)>,
    /// Drop rules in the order they ran.
    pub drops: Vec<DropRule>,
    /// The score columns shown (the ranked one first).
    pub columns: Vec<ScoreColumn>,
    /// The column the selection ranked by.
    pub main_column: Option<String>,
    /// The map, if the run computed embeddings.
    pub map: Option<Map>,
    /// Why there is no map (when `map` is `None`).
    pub no_map: String,
    /// Baseline selections.
    pub baselines: Vec<Baseline>,
    /// Models.
    pub models: Vec<ModelUse>,
    /// Stage times.
    pub stages: Vec<StageTime>,
    /// Notes shown at the top (e.g. what could not be computed).
    pub notes: Vec<String>,
    /// The dedup stages, in recipe order (none: no section).
    pub dedup: Vec<DedupSection>,
}

impl Report {
    /// Rows kept.
    pub fn kept(&self) -> usize {
        self.rows.iter().filter(|r| r.kept).count()
    }
}

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// JSON safe to embed in a `<script>` element: `<`, `>` and `&` (which occur only inside JSON
/// strings) become `\u` escapes, so no record text can end the element.
pub fn script_json(v: &impl Serialize) -> String {
    let s = serde_json::to_string(v).unwrap_or_else(|_| "null".into());
    s.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// The first `n` characters of `s` (whitespace runs folded), with `…` when cut.
pub fn clip(s: &str, n: usize) -> String {
    let folded: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.chars().count() <= n {
        folded
    } else {
        let mut t: String = folded.chars().take(n).collect();
        t.push('…');
        t
    }
}

const CSS: &str = include_str!("page.css");
const JS: &str = include_str!("page.js");

/// The whole page.
pub fn render(r: &Report) -> String {
    let mut body = String::new();
    body.push_str(&sections::header(r));
    body.push_str(&sections::funnel(r));
    body.push_str(&sections::dedup(r));
    body.push_str(&sections::scores(r));
    body.push_str(&sections::map(r));
    body.push_str(&sections::coverage(r));
    body.push_str(&sections::examples(r));
    body.push_str(&sections::baselines(r));
    body.push_str(&sections::run(r));
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\
<title>gleaner report: {}</title><style>{CSS}</style></head>\n<body>\n{body}\
<pre id=\"js-errors\" hidden></pre>\n<script>{JS}</script>\n</body></html>\n",
        esc(&r.recipe)
    )
}

#[cfg(test)]
mod tests;
