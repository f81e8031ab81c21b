//! The page's sections, each a function from the [`Report`] to HTML.

use super::svg::{self, BarRow, BoxRow, Point, Series};
use super::{MAP_TEXT_CHARS, NAN_WARN_SHARE, Report, SPREAD_WARN, TIE_WARN_SHARE, clip, esc, script_json};
use crate::{Distribution, percentile_sorted};
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

/// A count with thousands separators.
pub fn count(n: usize) -> String {
    let s = n.to_string();
    let mut o = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            o.push(',');
        }
        o.push(c);
    }
    o
}

/// A value with 4 significant digits.
fn val(x: f64) -> String {
    if !x.is_finite() {
        return "NaN".into();
    }
    if x != 0.0 && (x.abs() >= 1e6 || x.abs() < 1e-3) {
        return format!("{x:.3e}");
    }
    let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 6) as usize;
    format!("{x:.digits$}")
}

fn pct(a: usize, b: usize) -> String {
    if b == 0 { "–".into() } else { format!("{:.1}%", 100.0 * a as f64 / b as f64) }
}

/// A seeded 64-bit mix (splitmix64), for reproducible samples.
pub fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `n` of `rows`, chosen by a seeded hash (the same rows on every render).
fn sample(rows: &[usize], n: usize, seed: u64) -> Vec<usize> {
    let mut v: Vec<(u64, usize)> = rows.iter().map(|&r| (mix(r as u64 ^ seed), r)).collect();
    v.sort_unstable();
    let mut out: Vec<usize> = v.into_iter().take(n).map(|x| x.1).collect();
    out.sort_unstable();
    out
}

pub fn header(r: &Report) -> String {
    let kept = r.kept();
    let mut s = format!(
        "<header><h1>gleaner report: <code>{}</code></h1><p class=\"lead\"><span id=\"summary-rows-in\">{}</span> rows in, \
<strong>{}</strong> kept ({}) from <code>{}</code>. gleaner {}.</p>\
<nav><a href=\"#funnel\">Funnel</a> · {}<a href=\"#scores\">Scores</a> · <a href=\"#map-section\">Map</a> · \
<a href=\"#coverage\">Cluster coverage</a> · <a href=\"#examples\">Examples</a> · <a href=\"#baselines\">Baselines</a> · \
<a href=\"#run\">The run</a></nav>",
        esc(&r.recipe),
        count(r.rows.len()),
        count(kept),
        pct(kept, r.rows.len()),
        esc(&r.input),
        esc(&r.version),
        if r.dedup.is_empty() { "" } else { "<a href=\"#dedup\">Duplicates</a> · " }
    );
    for n in &r.notes {
        let _ = write!(s, "<p class=\"note\">{}</p>", esc(n));
    }
    let warnings: Vec<String> =
        r.columns.iter().flat_map(|c| collapse(c).into_iter().map(|w| format!("{}: {w}", c.name))).collect();
    if !warnings.is_empty() {
        let _ = write!(s, "<div class=\"warn\" id=\"collapse-summary\"><strong>Scorer warnings</strong><ul>");
        for w in warnings {
            let _ = write!(s, "<li>{}</li>", esc(&w));
        }
        s.push_str("</ul></div>");
    }
    s.push_str("</header>\n");
    s
}

pub fn funnel(r: &Report) -> String {
    let n = r.rows.len();
    let kept = r.kept();
    let mut s = String::from(
        "<section id=\"funnel\"><h2>Funnel</h2><p>Every input row is either kept or dropped by exactly one rule; \
the counts add up to the rows in. Bars: rows still in play after each rule (blue), rows the rule dropped (orange).</p>",
    );
    let mut bars = vec![BarRow {
        label: "rows in".into(),
        segments: vec![(n as f64, "b-in".into(), format!("{} rows in", count(n)))],
        note: count(n),
    }];
    let _ = write!(
        s,
        "<table class=\"funnel\"><thead><tr><th>stage</th><th>rule</th><th class=\"n\">dropped</th><th class=\"n\">remaining</th></tr></thead><tbody>\
<tr><td colspan=\"2\">rows in</td><td></td><td class=\"n\" id=\"rows-in\" data-n=\"{n}\">{}</td></tr>",
        count(n)
    );
    let mut remaining = n;
    for d in &r.drops {
        remaining = remaining.saturating_sub(d.rows);
        let _ = write!(
            s,
            "<tr class=\"drop\" data-reason=\"{}\" data-rows=\"{}\"><td>{}. {}</td><td>{}</td><td class=\"n\">−{}</td><td class=\"n\">{}</td></tr>",
            esc(&d.reason),
            d.rows,
            d.stage + 1,
            esc(&d.stage_kind),
            esc(&d.reason),
            count(d.rows),
            count(remaining)
        );
        bars.push(BarRow {
            label: format!("{}. {}", d.stage + 1, clip(&d.reason, 34)),
            segments: vec![
                (remaining as f64, "b-in".into(), format!("{} remain", count(remaining))),
                (d.rows as f64, "b-gone".into(), format!("{} dropped: {}", count(d.rows), d.reason)),
            ],
            note: format!("−{}", count(d.rows)),
        });
    }
    let _ = write!(
        s,
        "<tr class=\"total\"><td colspan=\"2\"><strong>kept</strong></td><td></td><td class=\"n\" id=\"kept\" data-n=\"{kept}\"><strong>{}</strong></td></tr>",
        count(kept)
    );
    let mut by_reason: BTreeMap<&str, usize> = BTreeMap::new();
    for row in r.rows.iter().filter(|x| x.kept) {
        *by_reason.entry(row.reason.as_str()).or_insert(0) += 1;
    }
    for (why, k) in &by_reason {
        let _ = write!(
            s,
            "<tr class=\"kept-reason\" data-reason=\"{}\" data-rows=\"{k}\"><td></td><td>kept as {}</td><td></td><td class=\"n\">{}</td></tr>",
            esc(why),
            esc(why),
            count(*k)
        );
    }
    s.push_str("</tbody></table>");
    bars.push(BarRow {
        label: "kept".into(),
        segments: vec![(kept as f64, "b-kept".into(), format!("{} kept", count(kept)))],
        note: format!("{} ({})", count(kept), pct(kept, n)),
    });
    s.push_str(&svg::bars(&bars, n as f64, 270.0, "funnel: rows remaining after each rule"));
    for (why, k) in &r.skipped_on_read {
        let _ = write!(
            s,
            "<p class=\"note\">The reader skipped {} record(s) ({}); they are not among the rows in.</p>",
            count(*k),
            esc(why)
        );
    }
    s.push_str("</section>\n");
    s
}

/// The finite values of the scored rows, and the NaN count among them.
fn scored_values(c: &super::ScoreColumn) -> (Vec<f64>, usize, usize) {
    let mut v = Vec::new();
    let (mut nan, mut scored) = (0, 0);
    for (x, &s) in c.values.iter().zip(&c.scored) {
        if s {
            scored += 1;
            if x.is_finite() { v.push(*x) } else { nan += 1 }
        }
    }
    (v, nan, scored)
}

/// The collapse warnings of a column (empty when it looks healthy).
pub fn collapse(c: &super::ScoreColumn) -> Vec<String> {
    let (mut v, nan, scored) = scored_values(c);
    let mut w = Vec::new();
    if scored == 0 {
        return w;
    }
    if nan as f64 > NAN_WARN_SHARE * scored as f64 {
        w.push(format!(
            "NaN for {} of the {} rows it scored ({}; warning above {:.0}%)",
            count(nan),
            count(scored),
            pct(nan, scored),
            NAN_WARN_SHARE * 100.0
        ));
    }
    if v.len() < 2 {
        return w;
    }
    v.sort_by(f64::total_cmp);
    let (p5, p50, p95) = (percentile_sorted(&v, 5.0), percentile_sorted(&v, 50.0), percentile_sorted(&v, 95.0));
    if v[0] == v[v.len() - 1] {
        w.push(format!("every scored row has the same value ({}): the scorer collapsed", val(v[0])));
        return w;
    }
    if p95 - p5 < SPREAD_WARN * p50.abs() {
        w.push(format!(
            "almost no spread: the middle 90% of values ({} to {}) lies within {:.0}% of the median",
            val(p5),
            val(p95),
            SPREAD_WARN * 100.0
        ));
    }
    let (mut best, mut run, mut best_v) = (1, 1, v[0]);
    for i in 1..v.len() {
        run = if v[i] == v[i - 1] { run + 1 } else { 1 };
        if run > best {
            (best, best_v) = (run, v[i]);
        }
    }
    if best as f64 > TIE_WARN_SHARE * v.len() as f64 {
        w.push(format!(
            "many ties: {} of {} rows ({}) have the value {} (warning above {:.0}%)",
            count(best),
            count(v.len()),
            pct(best, v.len()),
            val(best_v),
            TIE_WARN_SHARE * 100.0
        ));
    }
    w
}

fn is_ifd(name: &str) -> bool {
    name.starts_with("ifd_") || name.starts_with("rifd_")
}

const BINS: usize = 30;

pub fn scores(r: &Report) -> String {
    let mut s = String::from(
        "<section id=\"scores\"><h2>Score distributions</h2><p>One histogram per score column: all scored rows (grey) \
against the kept rows (blue). Each group is drawn as its share of rows per bin, so a small kept set compares with the \
whole pool. The x range covers the 0.5th to 99.5th percentile of all values; values beyond it are counted in the end bins.</p>\
<div class=\"grid\">",
    );
    for c in &r.columns {
        let (mut all, nan, scored) = scored_values(c);
        let kept: Vec<f64> =
            r.rows.iter().zip(&c.values).filter(|(row, x)| row.kept && x.is_finite()).map(|(_, &x)| x).collect();
        let _ = write!(
            s,
            "<figure class=\"score\" id=\"score-{}\"><figcaption><code>{}</code>",
            esc(&c.name),
            esc(&c.name)
        );
        if r.main_column.as_deref() == Some(c.name.as_str()) {
            s.push_str(" (the selection ranked by this column)");
        }
        s.push_str("</figcaption>");
        if all.is_empty() {
            let _ = write!(s, "<p>No finite values ({} NaN).</p></figure>", count(nan));
            continue;
        }
        all.sort_by(f64::total_cmp);
        let (mut lo, mut hi) = (percentile_sorted(&all, 0.5), percentile_sorted(&all, 99.5));
        if is_ifd(&c.name) && all[0] <= 1.0 && all[all.len() - 1] >= 1.0 {
            (lo, hi) = (lo.min(1.0), hi.max(1.0));
        }
        if !svg::gt(hi, lo) {
            (lo, hi) = (lo - 0.5, lo + 0.5);
        }
        let bin = |x: f64| (((x - lo) / (hi - lo) * BINS as f64).floor().max(0.0) as usize).min(BINS - 1);
        let mut ca = vec![0usize; BINS];
        let mut ck = vec![0usize; BINS];
        all.iter().for_each(|&x| ca[bin(x)] += 1);
        kept.iter().for_each(|&x| ck[bin(x)] += 1);
        let series = [
            Series { name: format!("all ({})", count(all.len())), class: "h-all".into(), counts: ca },
            Series { name: format!("kept ({})", count(kept.len())), class: "h-kept".into(), counts: ck },
        ];
        let marker = is_ifd(&c.name).then_some((1.0, "IFD = 1"));
        s.push_str(&svg::histogram(&series, lo, hi, marker, &c.name));
        let da = Distribution::of(all.iter().copied());
        let dk = Distribution::of(kept.iter().copied());
        let _ = write!(
            s,
            "<table class=\"dist\"><tr><th></th><th class=\"n\">rows</th><th class=\"n\">NaN</th><th class=\"n\">mean</th><th class=\"n\">p5</th><th class=\"n\">median</th><th class=\"n\">p95</th></tr>\
<tr><td>all scored</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\
<tr><td>kept</td><td class=\"n\">{}</td><td class=\"n\"></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr></table>",
            count(scored),
            count(nan),
            val(da.mean),
            val(da.p5),
            val(da.p50),
            val(da.p95),
            count(dk.n),
            if dk.n > 0 { val(dk.mean) } else { "–".into() },
            if dk.n > 0 { val(dk.p5) } else { "–".into() },
            if dk.n > 0 { val(dk.p50) } else { "–".into() },
            if dk.n > 0 { val(dk.p95) } else { "–".into() },
        );
        if is_ifd(&c.name) {
            let above = all.iter().filter(|&&x| x >= 1.0).count();
            let _ = write!(
                s,
                "<p class=\"ifd\">IFD is the model's loss (or perplexity) on the response given the instruction, divided by \
its loss on the response alone. <strong>IFD ≥ 1</strong> means the instruction does not help the model predict the \
response (it even hurts): the pair is likely misaligned, and Cherry and Superfiltering drop it. {} of {} rows ({}) \
have IFD ≥ 1 here.</p>",
                count(above),
                count(all.len()),
                pct(above, all.len())
            );
        }
        for w in collapse(c) {
            let _ = write!(s, "<p class=\"warn collapse\" data-column=\"{}\">⚠ {}</p>", esc(&c.name), esc(&w));
        }
        s.push_str("</figure>");
    }
    if r.columns.is_empty() {
        s.push_str("<p>This recipe computed no score columns.</p>");
    }
    s.push_str("</div></section>\n");
    s
}

/// The record data the map's script reads, one entry per drawn point.
#[derive(serde::Serialize)]
struct PointData<'a> {
    /// Input position.
    p: usize,
    /// Kept (1) or dropped (0).
    k: u8,
    /// Cluster.
    c: Option<i64>,
    /// Reason.
    r: &'a str,
    /// Instruction start.
    q: String,
    /// Response start.
    a: String,
    /// Scores, column order of `cols`.
    s: Vec<Option<f64>>,
}

fn round4(x: f64) -> Option<f64> {
    if !x.is_finite() {
        return None;
    }
    if x == 0.0 {
        return Some(0.0);
    }
    let m = 10f64.powi(3 - x.abs().log10().floor() as i32);
    Some((x * m).round() / m)
}

pub fn map(r: &Report) -> String {
    let mut s = String::from("<section id=\"map-section\"><h2>Map of the rows</h2>");
    let Some(m) = &r.map else {
        let _ = writeln!(s, "<p id=\"map-note\" data-points=\"0\">{}</p></section>", esc(&r.no_map));
        return s;
    };
    let sampled = m.points.len() < m.embedded;
    let _ = write!(
        s,
        "<p id=\"map-note\" data-sampled=\"{sampled}\" data-points=\"{}\">{} {}</p>",
        m.points.len(),
        esc(&m.projection),
        if sampled {
            format!(
                "The map shows a seeded random sample of {} of the {} embedded rows (it draws at most {} points, so the page stays small).",
                count(m.points.len()),
                count(m.embedded),
                count(super::MAP_MAX_POINTS)
            )
        } else {
            format!("All {} embedded rows are drawn.", count(m.embedded))
        }
    );
    s.push_str(
        "<p>Kept rows are the larger points with a dark outline; dropped rows are small and faded. \
Colours are clusters (the colour-blind-safe Okabe–Ito palette, repeating every 7 clusters; hovering a point names its cluster). \
Hover a point to read its record; click to pin it beside the map (<code>report.html#row-N</code> opens on input row N).</p>",
    );
    let points: Vec<Point> = m
        .points
        .iter()
        .enumerate()
        .map(|(i, &(row, x, y))| {
            let rw = &r.rows[row];
            Point {
                x,
                y,
                class: if rw.kept { "pt kept" } else { "pt gone" },
                colour: rw.cluster.map(|c| c.rem_euclid(svg::PALETTE.len() as i64) as usize),
                data: i,
                top: rw.kept,
            }
        })
        .collect();
    s.push_str("<div class=\"map-wrap\">");
    s.push_str(&svg::scatter(&points, &m.axes.0, &m.axes.1));
    s.push_str(
        "<div id=\"pick\" class=\"pick\"><p class=\"muted\">Hover or click a point to see its record here \
(this needs JavaScript; everything else on the page reads without it).</p></div></div><div id=\"tip\" class=\"tip\" hidden></div>",
    );
    let cols: Vec<&str> = r.columns.iter().map(|c| c.name.as_str()).collect();
    let data: Vec<PointData<'_>> = m
        .points
        .iter()
        .map(|&(row, _, _)| {
            let rw = &r.rows[row];
            PointData {
                p: rw.position,
                k: u8::from(rw.kept),
                c: rw.cluster,
                r: &rw.reason,
                q: clip(&rw.instruction, MAP_TEXT_CHARS),
                a: clip(&rw.response, MAP_TEXT_CHARS),
                s: r.columns.iter().map(|c| round4(c.values[row])).collect(),
            }
        })
        .collect();
    let _ = writeln!(
        s,
        "<script type=\"application/json\" id=\"map-cols\">{}</script><script type=\"application/json\" id=\"map-data\">{}</script></section>",
        script_json(&cols),
        script_json(&data)
    );
    s
}

/// At most this many clusters are drawn in the coverage chart (all are in the table).
const COVERAGE_BARS: usize = 60;

pub fn coverage(r: &Report) -> String {
    let mut s = String::from("<section id=\"coverage\"><h2>Cluster coverage</h2>");
    let mut per: BTreeMap<i64, (usize, usize)> = BTreeMap::new();
    for row in &r.rows {
        if let Some(c) = row.cluster {
            let e = per.entry(c).or_insert((0, 0));
            e.0 += 1;
            e.1 += usize::from(row.kept);
        }
    }
    if per.is_empty() {
        s.push_str("<p>This run did not cluster its rows.</p></section>\n");
        return s;
    }
    let covered = per.values().filter(|v| v.1 > 0).count();
    let clustered: usize = per.values().map(|v| v.0).sum();
    let _ = write!(
        s,
        "<p id=\"coverage-note\" data-clusters=\"{}\" data-covered=\"{covered}\">{} clusters over {} clustered rows; the kept rows cover \
<strong>{covered}</strong> of them. Bars: rows per cluster (grey), kept rows (blue), largest clusters first.</p>",
        per.len(),
        per.len(),
        count(clustered)
    );
    let mut order: Vec<(i64, (usize, usize))> = per.iter().map(|(&c, &v)| (c, v)).collect();
    order.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
    let max = order.first().map_or(1, |x| x.1.0) as f64;
    let bars: Vec<BarRow> = order
        .iter()
        .take(COVERAGE_BARS)
        .map(|&(c, (n, k))| BarRow {
            label: format!("cluster {c}"),
            segments: vec![
                (k as f64, "b-kept".into(), format!("{} kept", count(k))),
                ((n - k) as f64, "b-rest".into(), format!("{} not kept", count(n - k))),
            ],
            note: format!("{} of {}", count(k), count(n)),
        })
        .collect();
    s.push_str(&svg::bars(&bars, max, 110.0, "rows and kept rows per cluster"));
    if order.len() > COVERAGE_BARS {
        let _ = write!(
            s,
            "<p class=\"muted\">The chart shows the {COVERAGE_BARS} largest clusters; the table lists all {}.</p>",
            order.len()
        );
    }
    s.push_str("<details><summary>Every cluster</summary><table class=\"coverage\"><tr><th>cluster</th><th class=\"n\">rows</th><th class=\"n\">kept</th></tr>");
    for (c, (n, k)) in &per {
        let _ = write!(s, "<tr><td>{c}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>", count(*n), count(*k));
    }
    s.push_str("</table></details></section>\n");
    s
}

/// Characters of text shown per example.
const EXAMPLE_CHARS: usize = 400;

fn example(r: &Report, row: usize, score: Option<(&str, f64)>) -> String {
    let rw = &r.rows[row];
    let fate = if rw.kept { format!("kept ({})", rw.reason) } else { format!("dropped: {}", rw.reason) };
    let score = score.map_or(String::new(), |(n, v)| format!(" · {n} = {}", val(v)));
    let cluster = rw.cluster.map_or(String::new(), |c| format!(" · cluster {c}"));
    format!(
        "<div class=\"ex {}\"><div class=\"meta\">row {}{score}{cluster} · {}</div><div class=\"q\"><b>Instruction</b> {}</div><div class=\"a\"><b>Response</b> {}</div></div>",
        if rw.kept { "kept" } else { "gone" },
        rw.position,
        esc(&fate),
        esc(&clip(&rw.instruction, EXAMPLE_CHARS)),
        esc(&clip(&rw.response, EXAMPLE_CHARS))
    )
}

/// Examples per end of each score, and per random group.
const EXAMPLES: usize = 3;

pub fn examples(r: &Report) -> String {
    let mut s = String::from(
        "<section id=\"examples\"><h2>Examples</h2><p>The highest and lowest rows by each score, then a random sample of kept \
and dropped rows (text shortened to 400 characters).</p>",
    );
    for c in &r.columns {
        let mut idx: Vec<usize> = (0..r.rows.len()).filter(|&i| c.scored[i] && c.values[i].is_finite()).collect();
        if idx.is_empty() {
            continue;
        }
        idx.sort_by(|&a, &b| c.values[b].total_cmp(&c.values[a]).then(a.cmp(&b)));
        let _ = write!(s, "<h3>By <code>{}</code></h3><div class=\"pair\"><div><h4>highest</h4>", esc(&c.name));
        for &i in idx.iter().take(EXAMPLES) {
            s.push_str(&example(r, i, Some((&c.name, c.values[i]))));
        }
        s.push_str("</div><div><h4>lowest</h4>");
        for &i in idx.iter().rev().take(EXAMPLES) {
            s.push_str(&example(r, i, Some((&c.name, c.values[i]))));
        }
        s.push_str("</div></div>");
    }
    let kept: Vec<usize> = (0..r.rows.len()).filter(|&i| r.rows[i].kept).collect();
    let gone: Vec<usize> = (0..r.rows.len()).filter(|&i| !r.rows[i].kept).collect();
    s.push_str("<h3>Random rows</h3><div class=\"pair\"><div><h4>kept</h4>");
    for i in sample(&kept, 5, 1) {
        s.push_str(&example(r, i, None));
    }
    s.push_str("</div><div><h4>dropped</h4>");
    for i in sample(&gone, 5, 2) {
        s.push_str(&example(r, i, None));
    }
    s.push_str("</div></div></section>\n");
    s
}

fn quartiles(mut v: Vec<f64>) -> Option<[f64; 5]> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some([5.0, 25.0, 50.0, 75.0, 95.0].map(|q| percentile_sorted(&v, q)))
}

pub fn baselines(r: &Report) -> String {
    let mut s = String::from("<section id=\"baselines\"><h2>Baselines</h2>");
    if r.baselines.is_empty() {
        s.push_str("<p>No baselines were computed for this report.</p></section>\n");
        return s;
    }
    let n = r.rows.len();
    let mine: HashSet<usize> = (0..n).filter(|&i| r.rows[i].kept).collect();
    let k = mine.len();
    let _ = write!(
        s,
        "<p>The two baselines every selection should beat, computed on the same {} rows at the same budget ({} rows). \
If the rows were independent of each other's choice, two selections of these sizes would share about <i>k·b/n</i> rows by chance.</p>\
<table class=\"baselines\"><tr><th>baseline</th><th>how</th><th class=\"n\">rows</th><th class=\"n\">shared with this selection</th>\
<th class=\"n\">share of the selection</th><th class=\"n\">expected by chance</th><th class=\"n\">Jaccard</th></tr>",
        count(n),
        count(k)
    );
    for b in &r.baselines {
        let shared = b.kept.iter().filter(|i| mine.contains(i)).count();
        let union = k + b.kept.len() - shared;
        let chance = if n > 0 { k as f64 * b.kept.len() as f64 / n as f64 } else { 0.0 };
        let _ = write!(
            s,
            "<tr class=\"baseline\" data-name=\"{}\" data-shared=\"{shared}\"><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.1}</td><td class=\"n\">{:.3}</td></tr>",
            esc(&b.name),
            esc(&b.name),
            esc(&b.how),
            count(b.kept.len()),
            count(shared),
            pct(shared, k),
            chance,
            if union > 0 { shared as f64 / union as f64 } else { 0.0 }
        );
    }
    s.push_str(
        "</table><p>Score distributions of each selection (box: 25th–75th percentile, line: median, whiskers: 5th–95th).</p><div class=\"grid\">",
    );
    for c in &r.columns {
        let pick = |rows: &mut dyn Iterator<Item = usize>| quartiles(rows.map(|i| c.values[i]).collect());
        let mut rows = vec![
            BoxRow { label: "all rows".into(), class: "bx-all".into(), q: pick(&mut (0..n)) },
            BoxRow { label: "this selection".into(), class: "bx-kept".into(), q: pick(&mut mine.iter().copied()) },
        ];
        for (j, b) in r.baselines.iter().enumerate() {
            rows.push(BoxRow {
                label: b.name.clone(),
                class: format!("bx-base{j}"),
                q: pick(&mut b.kept.iter().copied()),
            });
        }
        let _ = write!(s, "<figure class=\"score\"><figcaption><code>{}</code></figcaption>", esc(&c.name));
        s.push_str(&svg::boxes(&rows, &c.name));
        s.push_str("</figure>");
    }
    s.push_str("</div></section>\n");
    s
}

pub fn run(r: &Report) -> String {
    let mut s = format!(
        "<section id=\"run\"><h2>The run</h2><p>Recipe <code>{}</code> on <code>{}</code>, gleaner {}.</p>",
        esc(&r.recipe),
        esc(&r.input),
        esc(&r.version)
    );
    if !r.models.is_empty() {
        s.push_str("<h3>Models</h3><table><tr><th>stage</th><th>model and identity</th><th>precision</th></tr>");
        for m in &r.models {
            let _ = write!(
                s,
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                esc(&m.stage),
                esc(&m.model),
                esc(&m.precision)
            );
        }
        s.push_str("</table>");
    }
    s.push_str(
        "<h3>Time and memory per stage</h3><p>Wall time of each stage, and the process's peak resident memory (RSS) when it ended.</p>\
<table class=\"stages\"><tr><th>stage</th><th class=\"n\">wall s</th><th class=\"n\">peak RSS MiB</th></tr>",
    );
    let total: f64 = r.stages.iter().map(|t| t.wall_s).sum();
    for (i, t) in r.stages.iter().enumerate() {
        let _ = write!(
            s,
            "<tr><td>{}. {}</td><td class=\"n\">{:.2}</td><td class=\"n\">{:.0}</td></tr>",
            i + 1,
            esc(&t.stage),
            t.wall_s,
            t.peak_rss_mib
        );
    }
    let _ = write!(s, "<tr class=\"total\"><td>total</td><td class=\"n\">{total:.2}</td><td></td></tr></table>");
    let bars: Vec<BarRow> = r
        .stages
        .iter()
        .enumerate()
        .map(|(i, t)| BarRow {
            label: format!("{}. {}", i + 1, t.stage),
            segments: vec![(t.wall_s, "b-time".into(), format!("{:.2} s", t.wall_s))],
            note: format!("{:.2} s · {:.0} MiB", t.wall_s, t.peak_rss_mib),
        })
        .collect();
    s.push_str(&svg::bars(&bars, r.stages.iter().map(|t| t.wall_s).fold(0.0, f64::max), 130.0, "wall time per stage"));
    let _ = writeln!(s, "<h3>Recipe</h3><pre class=\"recipe\">{}</pre></section>", esc(&r.recipe_toml));
    s
}

/// The dedup stages: counts, the largest duplicate clusters with their texts, and the
/// evaluation-set matches. Empty when the recipe had no dedup stage.
pub fn dedup(r: &Report) -> String {
    if r.dedup.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "<section id=\"dedup\"><h2>Duplicates and contamination</h2><p>What each dedup stage found among the rows that reached it. \
A cluster is a set of rows the method calls duplicates of each other (near-duplicates only after their exact Jaccard is verified); \
one row per cluster stays, the others are dropped. Similarity is the verified Jaccard (minhash), cosine (semantic) or 1 (exact).</p>",
    );
    for (k, d) in r.dedup.iter().enumerate() {
        let _ = write!(
            s,
            "<div class=\"dedup\" data-stage=\"{k}\" data-duplicates=\"{}\" data-contaminated=\"{}\" data-clusters=\"{}\">\
<h3>Stage {}: {}</h3><table><tr><th class=\"n\">rows in</th><th class=\"n\">kept</th><th class=\"n\">duplicates dropped</th>\
<th class=\"n\">contaminated dropped</th><th class=\"n\">clusters (≥ 2 rows)</th><th class=\"n\">candidate pairs</th>\
<th class=\"n\">verified</th><th class=\"n\">accepted</th></tr><tr><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr></table>",
            d.duplicates,
            d.contaminated,
            d.clusters,
            k + 1,
            esc(&d.settings),
            count(d.rows_in),
            count(d.kept),
            count(d.duplicates),
            count(d.contaminated),
            count(d.clusters),
            count(d.pairs.0 as usize),
            count(d.pairs.1 as usize),
            count(d.pairs.2 as usize),
        );
        if d.largest.is_empty() {
            s.push_str("<p class=\"muted\">No duplicate clusters.</p>");
        } else {
            let _ = write!(s, "<h4>The {} largest clusters</h4>", d.largest.len());
            for c in &d.largest {
                let _ = write!(
                    s,
                    "<div class=\"dup-cluster\" data-size=\"{}\"><div class=\"ex kept\"><div class=\"meta\">cluster of {} rows · kept</div>{}</div>",
                    c.size,
                    count(c.size),
                    esc(&clip(&c.kept, EXAMPLE_CHARS))
                );
                for (text, sim) in &c.dropped {
                    let _ = write!(
                        s,
                        "<div class=\"ex gone\"><div class=\"meta\">dropped · similarity {}</div>{}</div>",
                        val(*sim),
                        esc(&clip(text, EXAMPLE_CHARS))
                    );
                }
                if c.size > c.dropped.len() + 1 {
                    let _ =
                        write!(s, "<p class=\"muted\">… and {} more dropped.</p>", count(c.size - c.dropped.len() - 1));
                }
                s.push_str("</div>");
            }
        }
        if !d.against.is_empty() {
            s.push_str(
                "<h4>Evaluation sets (decontamination)</h4><table class=\"against\"><tr><th>set</th><th class=\"n\">its prompts</th>\
<th class=\"n\">pool rows matched</th><th class=\"n\">exact</th><th class=\"n\">near</th><th class=\"n\">semantic</th></tr>",
            );
            for a in &d.against {
                let _ = write!(
                    s,
                    "<tr data-set=\"{}\" data-matched=\"{}\"><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                    esc(&a.set),
                    a.matched,
                    esc(&a.set),
                    count(a.eval_rows),
                    count(a.matched),
                    count(a.exact),
                    count(a.near),
                    count(a.semantic)
                );
            }
            s.push_str("</table>");
            for a in &d.against {
                for (pool, eval, kind, sim) in &a.examples {
                    let _ = write!(
                        s,
                        "<div class=\"pair\"><div class=\"ex gone\"><div class=\"meta\">pool prompt · dropped · {} match with {}, similarity {}</div>{}</div>\
<div class=\"ex\"><div class=\"meta\">{} prompt</div>{}</div></div>",
                        esc(kind),
                        esc(&a.set),
                        val(*sim),
                        esc(&clip(pool, EXAMPLE_CHARS)),
                        esc(&a.set),
                        esc(&clip(eval, EXAMPLE_CHARS))
                    );
                }
            }
        }
        let _ = write!(
            s,
            "<p class=\"muted\">Each row's <code>dup_cluster</code>, <code>dup_of</code> and <code>similarity</code>: <code>{}</code> in the work directory.</p></div>",
            esc(&d.side_file)
        );
    }
    s.push_str("</section>\n");
    s
}
