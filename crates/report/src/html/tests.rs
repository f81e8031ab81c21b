use super::*;

/// A report over `n` synthetic rows: every 20th kept; text of realistic length (Alpaca
/// instructions ~60 characters, responses ~600); one row holds an HTML payload.
fn synthetic(n: usize) -> Report {
    let mut rows = Vec::with_capacity(n);
    for i in 0..n {
        let instruction = if i == 7 {
            "<script>alert(1)</script> & \"quotes\"".to_string()
        } else {
            format!("Explain the difference between item {i} and its neighbours in plain words.")
        };
        let response = "The answer is long enough to be realistic, with several clauses. ".repeat(10);
        rows.push(Row {
            position: i,
            instruction,
            response,
            kept: i % 20 == 0,
            reason: if i % 20 == 0 { "top-k".into() } else { "outside the budget".into() },
            cluster: Some((i % 37) as i64),
        });
    }
    let kept = n / 20;
    let values: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1000) as f64 / 500.0).collect();
    let map = Map {
        points: (0..n).map(|i| (i, (i as f32).sin(), (i as f32 * 0.37).cos())).collect(),
        embedded: n,
        projection: "test".into(),
        axes: ("x".into(), "y".into()),
    };
    Report {
        recipe: "test".into(),
        recipe_toml: "name = \"test\"".into(),
        input: "in.json".into(),
        version: "0".into(),
        rows,
        drops: vec![DropRule {
            stage: 1,
            stage_kind: "select".into(),
            reason: "outside the budget".into(),
            rows: n - kept,
        }],
        columns: vec![ScoreColumn { name: "ifd_ppl".into(), values, scored: vec![true; n] }],
        main_column: Some("ifd_ppl".into()),
        map: Some(map),
        baselines: vec![Baseline { name: "random".into(), how: "seeded".into(), kept: (0..kept).collect() }],
        ..Default::default()
    }
}

#[test]
fn a_50k_row_report_stays_under_5_mb_and_samples_its_map() {
    let mut r = synthetic(50_000);
    // the caller samples the map to MAP_MAX_POINTS; do as it does
    let m = r.map.as_mut().unwrap();
    m.points.truncate(MAP_MAX_POINTS);
    let html = render(&r);
    assert!(html.len() < 5_000_000, "{} bytes", html.len());
    assert_eq!(html.matches("<circle ").count(), MAP_MAX_POINTS);
    assert!(html.contains("data-sampled=\"true\""));
    assert!(html.contains("seeded random sample of 6,000 of the 50,000 embedded rows"));
}

#[test]
fn record_text_is_escaped_everywhere() {
    let mut r = synthetic(40);
    // the payload row is the highest by the score, so the examples show it
    r.columns[0].values[7] = 1e3;
    let html = render(&r);
    // the only script elements are the page's own (one JSON pair and the code)
    assert_eq!(html.matches("<script").count(), 3, "{html}");
    assert!(!html.contains("<script>alert"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;"));
    assert!(html.contains("\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"));
}

#[test]
fn counts_and_ifd_marker_are_on_the_page() {
    let r = synthetic(200);
    let html = render(&r);
    assert!(html.contains("id=\"rows-in\" data-n=\"200\""));
    assert!(html.contains("id=\"kept\" data-n=\"10\""));
    assert!(html.contains("data-reason=\"outside the budget\" data-rows=\"190\""));
    assert!(html.contains("IFD = 1"));
    assert!(html.contains("IFD ≥ 1</strong> means"));
    assert!(!html.contains("http://") && !html.contains("https://"), "no network references");
}

#[test]
fn collapse_warnings_fire_on_constant_tied_and_nan_columns() {
    let col = |values: Vec<f64>| ScoreColumn { name: "q".into(), scored: vec![true; values.len()], values };
    assert!(collapse_of(&col((0..100).map(|i| i as f64).collect())).is_empty());
    assert!(collapse_of(&col(vec![3.0; 100]))[0].contains("same value"));
    let mut tied: Vec<f64> = (0..100).map(|i| i as f64).collect();
    tied[..30].iter_mut().for_each(|x| *x = 3.0);
    assert!(collapse_of(&col(tied)).iter().any(|w| w.contains("many ties: 30 of 100")));
    let mut nan: Vec<f64> = (0..100).map(|i| i as f64).collect();
    nan[..6].iter_mut().for_each(|x| *x = f64::NAN);
    assert!(collapse_of(&col(nan.clone())).iter().any(|w| w.contains("NaN for 6 of the 100")));
    // NaN on rows the scorer never saw is not a failure
    let mut c = col(nan);
    c.scored[..6].iter_mut().for_each(|s| *s = false);
    assert!(collapse_of(&c).is_empty());
    let narrow: Vec<f64> = (0..100).map(|i| 1000.0 + i as f64 * 0.01).collect();
    assert!(collapse_of(&col(narrow))[0].contains("almost no spread"));
}

fn collapse_of(c: &ScoreColumn) -> Vec<String> {
    collapse(c)
}

#[test]
fn the_dedup_section_appears_with_a_dedup_stage_and_escapes_its_texts() {
    let mut r = synthetic(10);
    assert!(!render(&r).contains("id=\"dedup\""), "no dedup stage, no section");
    r.dedup.push(super::DedupSection {
        settings: "minhash".into(),
        rows_in: 10,
        kept: 8,
        duplicates: 2,
        clusters: 1,
        largest: vec![super::DupCluster {
            size: 3,
            kept: "<b>kept</b>".into(),
            dropped: vec![("<i>gone</i>".into(), 0.9)],
        }],
        ..Default::default()
    });
    let html = render(&r);
    assert!(html.contains("<section id=\"dedup\">") && html.contains("href=\"#dedup\""));
    assert!(html.contains("data-duplicates=\"2\"") && html.contains("data-size=\"3\""));
    assert!(html.contains("&lt;b&gt;kept&lt;/b&gt;") && !html.contains("<b>kept</b>"));
    assert!(html.contains("… and 1 more dropped."));
}
