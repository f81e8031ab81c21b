//! An input file that changes while a run is under way is refused, whichever stage comes
//! next: the stage that reads the records again (or the final write) fails naming the file,
//! and nothing is written. The run goes through the library's stage runner with an observer
//! that edits the input at an exact point (a stage starting, the clustering finished), so the
//! test has no timing in it.

use crate::util::{data, tmp};
use gleaner_pipeline::recipe::presets::{Car, Cherry, Lcg, Preset};
use gleaner_pipeline::runner::{RunOptions, run};
use gleaner_pipeline::{Observer, WorkDir};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Edits the input (one response changed) the first time a stage starts or a log line comes
/// that `at` matches.
struct ChangeAt {
    at: &'static str,
    input: PathBuf,
    done: AtomicBool,
}

impl ChangeAt {
    fn check(&self, what: &str) {
        if what.contains(self.at) && !self.done.swap(true, Ordering::SeqCst) {
            let text = std::fs::read_to_string(&self.input).unwrap();
            let edited = text.replacen("\"output\": \"", "\"output\": \"(edited) ", 1);
            assert_ne!(text, edited);
            std::fs::write(&self.input, edited).unwrap();
        }
    }
}

impl Observer for ChangeAt {
    fn start(&self, stage: &str, _: u64, _: &str) {
        self.check(&format!("start {stage}"));
    }
    fn progress(&self, _: u64) {}
    fn finish(&self) {}
    fn info(&self, msg: &str) {
        self.check(msg);
    }
}

/// Runs `recipe` on the first `limit` rows of a copy of the sample, editing it at `at`, and
/// returns the error the run (or its final read of the kept records) ended with.
fn run_changing(recipe: gleaner_pipeline::recipe::Recipe, limit: usize, at: &'static str, dir: &Path) -> String {
    let input = dir.join("in.json");
    std::fs::copy(data("sample/alpaca_en_demo.json"), &input).unwrap();
    let mut ds = gleaner_read::read_released(&input, &Default::default()).unwrap();
    ds.truncate(limit);
    let obs = ChangeAt { at, input: input.clone(), done: AtomicBool::new(false) };
    let opts = RunOptions { work: WorkDir { dir: dir.join("work") } };
    let res = run(&recipe, &ds, &opts, &obs).and_then(|o| o.kept_records(&ds).map(|_| ()));
    assert!(obs.done.load(Ordering::SeqCst), "{at}: the run never reached the point of the edit");
    let err = res.err().unwrap_or_else(|| panic!("{at}: a run whose input changed succeeded")).to_string();
    assert!(err.contains(&format!("{} changed since it was read", input.display())), "{at}: {err}");
    err
}

#[test]
fn an_input_changed_before_each_stage_is_refused() {
    let f32 = gleaner_pipeline::recipe::PrecisionChoice::F32;
    let mut cherry = Cherry::default();
    cherry.lm.precision = f32;
    // (stage, recipe, rows, where the edit happens): the stage named is the next reader
    let cases: Vec<(&str, gleaner_pipeline::recipe::Recipe, usize, &'static str)> = vec![
        ("quality", Car::default().recipe(), 40, "start quality"),
        ("embed", Car::default().recipe(), 40, "start embed"),
        ("ifd", cherry.recipe(), 12, "start ifd"),
        // the clustering reads embeddings, not records: the final write is the next reader
        ("cluster", Car::default().recipe(), 40, "k-means: inertia"),
        // LCG's classifier reads the records' text after the clustering
        ("lcg", Lcg::default().recipe(), 160, "k-means: inertia"),
    ];
    for (stage, recipe, rows, at) in cases {
        let dir = tmp();
        let err = run_changing(recipe, rows, at, dir.path());
        assert!(!err.contains("panicked"), "{stage}: {err}");
    }
}
