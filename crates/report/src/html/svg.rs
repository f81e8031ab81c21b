//! A small SVG renderer for the report's four chart kinds: horizontal bars (funnel, coverage,
//! stage times), overlaid histograms, box plots and the scatter map. Every mark carries a class
//! (and, where a script or a test reads it, a `data-` attribute), so the page's CSS colours
//! them and its script finds them.

use super::esc;
use std::fmt::Write as _;

/// The Okabe–Ito palette (Okabe & Ito 2008), distinguishable with the common colour-vision
/// deficiencies; clusters cycle through its first seven colours (black is kept for marks).
pub const PALETTE: [&str; 7] = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"];

/// `a > b` (false when either is NaN): a range is usable only when it is.
pub fn gt<T: PartialOrd>(a: T, b: T) -> bool {
    a > b
}

/// Shortest decimal for an axis label.
pub fn tick_label(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    if !(1e-3..1e5).contains(&a) {
        format!("{x:.1e}")
    } else if a >= 100.0 {
        format!("{x:.0}")
    } else {
        let s = format!("{x:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// About `n` round tick positions covering `[lo, hi]`.
pub fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if !gt(hi, lo) || !lo.is_finite() || !hi.is_finite() {
        return vec![lo];
    }
    let raw = (hi - lo) / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + step * 1e-9 {
        out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
    }
    out
}

/// One horizontal bar row: a label, segments `(value, class, title)` stacked from the left,
/// and a number printed after the bar.
pub struct BarRow {
    /// Label left of the bar.
    pub label: String,
    /// Stacked segments.
    pub segments: Vec<(f64, String, String)>,
    /// Text right of the bar.
    pub note: String,
}

/// Horizontal stacked bars, scaled to `max`.
pub fn bars(rows: &[BarRow], max: f64, label_width: f64, aria: &str) -> String {
    let (w, row_h, bar_w) = (900.0, 22.0, 900.0 - label_width - 150.0);
    let h = row_h * rows.len() as f64 + 8.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart bars" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{}">"#,
        esc(aria)
    );
    for (i, r) in rows.iter().enumerate() {
        let y = 4.0 + i as f64 * row_h;
        let _ = write!(
            s,
            r#"<text class="lbl" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            label_width - 6.0,
            y + 15.0,
            esc(&r.label)
        );
        let mut x = label_width;
        for (v, class, title) in &r.segments {
            let bw = if max > 0.0 { bar_w * v / max } else { 0.0 };
            let _ = write!(
                s,
                r#"<rect class="{}" x="{x:.1}" y="{:.1}" width="{bw:.1}" height="{:.1}"><title>{}</title></rect>"#,
                esc(class),
                y + 2.0,
                row_h - 6.0,
                esc(title)
            );
            x += bw;
        }
        let _ = write!(s, r#"<text class="num" x="{:.1}" y="{:.1}">{}</text>"#, x + 6.0, y + 15.0, esc(&r.note));
    }
    s.push_str("</svg>");
    s
}

/// Bin counts of one group for [`histogram`].
pub struct Series {
    /// Name in the legend.
    pub name: String,
    /// CSS class of its marks.
    pub class: String,
    /// Count per bin.
    pub counts: Vec<usize>,
}

/// Overlaid histograms over `[lo, hi]` (equal bins), each series scaled to its share of rows
/// so that groups of different sizes compare; `marker` draws a labelled vertical line.
pub fn histogram(series: &[Series], lo: f64, hi: f64, marker: Option<(f64, &str)>, x_label: &str) -> String {
    let (w, h, ml, mr, mt, mb) = (440.0, 230.0, 46.0, 12.0, 26.0, 40.0);
    let (pw, ph) = (w - ml - mr, h - mt - mb);
    let bins = series.first().map_or(1, |s| s.counts.len()).max(1);
    let shares: Vec<Vec<f64>> = series
        .iter()
        .map(|s| {
            let total: usize = s.counts.iter().sum();
            s.counts.iter().map(|&c| if total > 0 { c as f64 / total as f64 } else { 0.0 }).collect()
        })
        .collect();
    let ymax = shares.iter().flatten().copied().fold(0.0, f64::max).max(1e-9);
    let xs = |x: f64| ml + pw * (x - lo) / (hi - lo);
    let ys = |y: f64| mt + ph * (1.0 - y / ymax);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart hist" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="histogram of {}">"#,
        esc(x_label)
    );
    for t in ticks(0.0, ymax, 4) {
        let _ = write!(
            s,
            r#"<line class="grid" x1="{ml}" x2="{:.1}" y1="{:.1}" y2="{:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}%</text>"#,
            ml + pw,
            ys(t),
            ys(t),
            ml - 4.0,
            ys(t) + 4.0,
            tick_label(t * 100.0)
        );
    }
    let bw = pw / bins as f64;
    for (sh, se) in shares.iter().zip(series) {
        let mut path = format!("M{:.1},{:.1}", ml, ys(0.0));
        for (b, &v) in sh.iter().enumerate() {
            let x0 = ml + b as f64 * bw;
            let _ = write!(path, " L{:.1},{:.1} L{:.1},{:.1}", x0, ys(v), x0 + bw, ys(v));
        }
        let _ = write!(path, " L{:.1},{:.1} Z", ml + pw, ys(0.0));
        let _ = write!(s, r#"<path class="{}" d="{path}"><title>{}</title></path>"#, esc(&se.class), esc(&se.name));
    }
    let _ = write!(s, r#"<line class="axis" x1="{ml}" x2="{:.1}" y1="{:.1}" y2="{:.1}"/>"#, ml + pw, mt + ph, mt + ph);
    for t in ticks(lo, hi, 5) {
        let _ = write!(
            s,
            r#"<line class="axis" x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            xs(t),
            xs(t),
            mt + ph,
            mt + ph + 4.0,
            xs(t),
            mt + ph + 16.0,
            tick_label(t)
        );
    }
    let _ = write!(
        s,
        r#"<text class="lbl" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        ml + pw / 2.0,
        h - 6.0,
        esc(x_label)
    );
    if let Some((m, label)) = marker
        && m >= lo
        && m <= hi
    {
        let _ = write!(
            s,
            r#"<line class="marker" x1="{:.1}" x2="{:.1}" y1="{mt}" y2="{:.1}"/><text class="marker-lbl" x="{:.1}" y="{:.1}">{}</text>"#,
            xs(m),
            xs(m),
            mt + ph,
            xs(m) + 3.0,
            mt + 10.0,
            esc(label)
        );
    }
    // legend
    let mut lx = ml;
    for se in series {
        let _ = write!(
            s,
            r#"<rect class="{}" x="{lx:.1}" y="4" width="12" height="12"/><text class="lbl" x="{:.1}" y="14">{}</text>"#,
            esc(&se.class),
            lx + 16.0,
            esc(&se.name)
        );
        lx += 24.0 + 7.0 * se.name.chars().count() as f64;
    }
    s.push_str("</svg>");
    s
}

/// One row of a [`boxes`] chart: a label and the 5th, 25th, 50th, 75th and 95th percentiles.
pub struct BoxRow {
    /// Label.
    pub label: String,
    /// CSS class.
    pub class: String,
    /// p5, p25, p50, p75, p95 (`None`: no values).
    pub q: Option<[f64; 5]>,
}

/// Horizontal box plots on one axis (whiskers p5–p95, box p25–p75, median line).
pub fn boxes(rows: &[BoxRow], x_label: &str) -> String {
    let (w, ml, mr, row_h) = (440.0, 110.0, 14.0, 26.0);
    let h = 48.0 + row_h * rows.len() as f64;
    let pw = w - ml - mr;
    let qs: Vec<f64> = rows.iter().filter_map(|r| r.q).flat_map(|q| [q[0], q[4]]).collect();
    let mut lo = qs.iter().copied().fold(f64::INFINITY, f64::min);
    let mut hi = qs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !gt(hi, lo) {
        (lo, hi) = (lo - 0.5, lo + 0.5);
    }
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let xs = |x: f64| ml + pw * (x - lo) / (hi - lo);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart boxes" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="box plots of {}">"#,
        esc(x_label)
    );
    for (i, r) in rows.iter().enumerate() {
        let y = 6.0 + i as f64 * row_h;
        let _ = write!(
            s,
            r#"<text class="lbl" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            ml - 6.0,
            y + 15.0,
            esc(&r.label)
        );
        let Some(q) = r.q else { continue };
        let _ = write!(
            s,
            r#"<g class="{}"><title>p5 {} · p25 {} · median {} · p75 {} · p95 {}</title><line class="whisker" x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}"/><rect x="{:.1}" y="{:.1}" width="{:.1}" height="14"/><line class="median" x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}"/></g>"#,
            esc(&r.class),
            tick_label(q[0]),
            tick_label(q[1]),
            tick_label(q[2]),
            tick_label(q[3]),
            tick_label(q[4]),
            xs(q[0]),
            xs(q[4]),
            y + 11.0,
            y + 11.0,
            xs(q[1]),
            y + 4.0,
            (xs(q[3]) - xs(q[1])).max(1.0),
            xs(q[2]),
            xs(q[2]),
            y + 2.0,
            y + 20.0
        );
    }
    let base = 6.0 + row_h * rows.len() as f64;
    for t in ticks(lo, hi, 5) {
        let _ = write!(
            s,
            r#"<line class="axis" x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            xs(t),
            xs(t),
            base,
            base + 4.0,
            xs(t),
            base + 16.0,
            tick_label(t)
        );
    }
    let _ = write!(
        s,
        r#"<line class="axis" x1="{ml}" x2="{:.1}" y1="{base:.1}" y2="{base:.1}"/><text class="lbl" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text></svg>"#,
        ml + pw,
        ml + pw / 2.0,
        base + 30.0,
        esc(x_label)
    );
    s
}

/// A scatter point: position in data units, CSS class, and the index the page's script uses
/// to look the record up.
pub struct Point {
    /// x.
    pub x: f32,
    /// y.
    pub y: f32,
    /// CSS classes (`pt`, kept or dropped, the cluster colour).
    pub class: &'static str,
    /// Colour class index (cluster), if any.
    pub colour: Option<usize>,
    /// Index into the page's record data.
    pub data: usize,
    /// Drawn on top (kept rows).
    pub top: bool,
}

/// The scatter map: dropped points first, kept points on top, square plot.
pub fn scatter(points: &[Point], x_label: &str, y_label: &str) -> String {
    let (w, h, m) = (640.0, 640.0, 30.0);
    let fin = |v: f32| v.is_finite();
    let (mut x0, mut x1, mut y0, mut y1) = (f32::INFINITY, f32::NEG_INFINITY, f32::INFINITY, f32::NEG_INFINITY);
    for p in points.iter().filter(|p| fin(p.x) && fin(p.y)) {
        (x0, x1, y0, y1) = (x0.min(p.x), x1.max(p.x), y0.min(p.y), y1.max(p.y));
    }
    if !gt(x1, x0) {
        (x0, x1) = (x0 - 1.0, x0 + 1.0);
    }
    if !gt(y1, y0) {
        (y0, y1) = (y0 - 1.0, y0 + 1.0);
    }
    let (pw, ph) = (w - 2.0 * m, h - 2.0 * m);
    let mut s = String::with_capacity(points.len() * 70 + 1000);
    let _ = write!(
        s,
        r#"<svg id="map" class="chart map" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="map of the rows" data-points="{}"><rect class="frame" x="{m}" y="{m}" width="{pw}" height="{ph}"/>"#,
        points.len()
    );
    let _ = write!(
        s,
        r#"<text class="lbl" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text><text class="lbl" x="12" y="{:.1}" text-anchor="middle" transform="rotate(-90 12 {:.1})">{}</text>"#,
        w / 2.0,
        h - 8.0,
        esc(x_label),
        h / 2.0,
        h / 2.0,
        esc(y_label)
    );
    let mut order: Vec<&Point> = points.iter().filter(|p| fin(p.x) && fin(p.y)).collect();
    order.sort_by_key(|p| p.top);
    for p in order {
        let cx = m + pw * (p.x - x0) / (x1 - x0);
        let cy = m + ph * (1.0 - (p.y - y0) / (y1 - y0));
        let colour = p.colour.map_or(String::new(), |c| format!(" c{}", c % PALETTE.len()));
        let r = if p.top { 4.5 } else { 3.0 };
        let _ =
            write!(s, r#"<circle class="{}{colour}" cx="{cx:.1}" cy="{cy:.1}" r="{r}" data-i="{}"/>"#, p.class, p.data);
    }
    s.push_str("</svg>");
    s
}
