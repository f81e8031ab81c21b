//! User recipes: `gleaner recipes show` prints a recipe that runs as it is and follows an edit;
//! the combined recipes and the baselines run; every run's counts add up.

use crate::util::{data, fails, gleaner, ok, tmp};
use std::path::Path;

fn summary(work: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(work.join("summary.json")).unwrap()).unwrap()
}

fn dropped(s: &serde_json::Value) -> Vec<(String, u64)> {
    s["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["reason"].as_str().unwrap().to_string(), d["rows"].as_u64().unwrap()))
        .collect()
}

fn counts_add_up(s: &serde_json::Value) {
    let d: u64 = dropped(s).iter().map(|x| x.1).sum();
    assert_eq!(s["kept"].as_u64().unwrap() + d, s["rows_in"].as_u64().unwrap(), "{s:#}");
}

fn records(path: &Path) -> Vec<serde_json::Value> {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Runs a recipe on the sample's first `limit` rows; returns the work dir's summary.
fn run_recipe(recipe: &str, limit: &str, out: &Path, work: &Path, extra: &[&str]) -> serde_json::Value {
    let input = data("sample/alpaca_en_demo.json");
    let mut args = vec!["run", "--recipe", recipe, input.to_str().unwrap(), "--limit", limit, "-o"];
    args.push(out.to_str().unwrap());
    args.extend(["--work-dir", work.to_str().unwrap()]);
    args.extend(extra);
    let res = gleaner(&args);
    assert!(res.status.success(), "{recipe}: {}", String::from_utf8_lossy(&res.stderr));
    let s = summary(work);
    counts_add_up(&s);
    s
}

#[test]
fn an_edited_car_recipe_follows_the_edit() {
    let dir = tmp();
    let work = dir.path().join("work");
    let text = ok(&["recipes", "show", "car"]);
    assert!(text.contains("n1 = 1000"), "{text}");
    let edited = dir.path().join("car-n1.toml");
    std::fs::write(&edited, text.replace("n1 = 1000", "n1 = 40")).unwrap();
    let bundled = dir.path().join("bundled.json");
    let mine = dir.path().join("mine.json");
    let s = run_recipe(edited.to_str().unwrap(), "150", &mine, &work, &[]);
    assert_eq!(s["kept_by_reason"]["top-n1 by score"], 40, "{s:#}");
    let clusters = s["kept_by_reason"]["cluster pick"].as_u64().unwrap_or(0);
    assert_eq!(records(&mine).len() as u64, 40 + clusters);
    // the bundled recipe on the same work dir reuses the scores and keeps all 150 rows
    let s = run_recipe("car", "150", &bundled, &work, &[]);
    assert_eq!(s["kept"], 150, "{s:#}");
    // the first 40 of the bundled output (by quality) are the edited run's top-n1 picks
    let (a, b) = (records(&mine), records(&bundled));
    assert_eq!(a[..40], b[..40]);
    // command-line flags override the recipe
    let s = run_recipe(edited.to_str().unwrap(), "150", &mine, &work, &["--budget", "10"]);
    assert_eq!(s["kept_by_reason"]["top-n1 by score"], 10, "{s:#}");
}

#[test]
fn combined_recipes_run_and_account_for_every_row() {
    let dir = tmp();
    for (name, limit) in [("ifd-length", "48"), ("ifd-quality-car", "48"), ("lcg-quality-floor", "120")] {
        let out = dir.path().join(format!("{name}.json"));
        let work = dir.path().join(name);
        let s = run_recipe(name, limit, &out, &work, &[]);
        assert!(s["kept"].as_u64().unwrap() > 0, "{name}: {s:#}");
        assert_eq!(records(&out).len() as u64, s["kept"].as_u64().unwrap());
        let reasons: Vec<String> = dropped(&s).into_iter().map(|d| d.0).collect();
        let filter_reason = match name {
            "ifd-length" => "IFD > 1 (misaligned)",
            "ifd-quality-car" => "IFD >= 1 (misaligned)",
            _ => "quality in the lowest quarter",
        };
        assert!(reasons.iter().any(|r| r == filter_reason), "{name}: {reasons:?}");
    }
}

#[test]
fn baselines_run() {
    let dir = tmp();
    let out = dir.path().join("random.json");
    let s = run_recipe("random", "200", &out, &dir.path().join("r"), &["--budget", "20"]);
    assert_eq!(s["kept"], 20);
    // seeded: the same rows again, other rows with another seed
    let again = dir.path().join("random2.json");
    run_recipe("random", "200", &again, &dir.path().join("r2"), &["--budget", "20"]);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&again).unwrap());
    run_recipe("random", "200", &again, &dir.path().join("r3"), &["--budget", "20", "--seed", "7"]);
    assert_ne!(std::fs::read(&out).unwrap(), std::fs::read(&again).unwrap());
    let out = dir.path().join("longest.json");
    let s = run_recipe("longest", "200", &out, &dir.path().join("l"), &["--budget", "5"]);
    assert_eq!(s["kept"], 5);
    let kept = s["scores"]["response_tokens"]["kept"]["min"].as_f64().unwrap();
    let all = s["scores"]["response_tokens"]["all"]["p95"].as_f64().unwrap();
    assert!(kept >= all, "the 5 longest of 200 are not above the 95th percentile: {kept} < {all}");
}

#[test]
fn a_bad_recipe_is_refused_before_any_model_loads() {
    let dir = tmp();
    let r = dir.path().join("r.toml");
    std::fs::write(&r, "name = \"x\"\n\n[[stage]]\nstage = \"score\"\nscorer = \"quality\"\nmodel = \"no-such-model\"\n\n[[stage]]\nstage = \"select\"\nrule = \"top-k\"\nby = \"ifd_ppl\"\nbudget = 3\n").unwrap();
    let input = data("sample/alpaca_en_demo.json");
    let err = fails(&[
        "run",
        "--recipe",
        r.to_str().unwrap(),
        input.to_str().unwrap(),
        "-o",
        dir.path().join("o.json").to_str().unwrap(),
    ]);
    // the order error, not the missing model: nothing was loaded
    assert!(
        err.contains("r.toml:11: stage 2 (`select`), key `by`: no earlier stage computes the column `ifd_ppl`"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
    let err = fails(&["run", "--recipe", "no-such-recipe", input.to_str().unwrap()]);
    assert!(err.contains("gleaner recipes"), "{err}");
}
