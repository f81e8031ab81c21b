//! The bad-input corpus: every failure names the file and the line or record, skipping
//! keeps the counts balanced, and nothing panics.

use crate::util::*;
use gleaner_read::{OnError, ReadOptions, read, read_released};
use std::path::Path;

fn skip_opts() -> ReadOptions {
    ReadOptions { on_error: OnError::Skip, ..Default::default() }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn corpus_errors_name_file_and_place_and_skips_add_up() {
    let d = tmp();
    let good = r#"{"instruction": "i", "input": "", "output": "o"}"#;
    let cases: Vec<(&str, Vec<u8>, &str, usize, usize)> = vec![
        // (file, bytes, expected message fragment, ok after skip, skipped)
        (
            "trunc.json",
            format!("[{good}, {good}, {{\"instruction\": \"x\", \"out").into_bytes(),
            "record 2: truncated",
            2,
            1,
        ),
        (
            "types.jsonl",
            format!("{good}\n{{\"instruction\": 5, \"output\": \"o\"}}\n{good}\n").into_bytes(),
            "line 2: wrong type: `instruction` must be a string",
            2,
            1,
        ),
        (
            "missing.json",
            format!("[{good}, {{\"instruction\": \"i\", \"input\": \"\"}}]").into_bytes(),
            "record 1: missing `output`",
            1,
            1,
        ),
        (
            "utf8.jsonl",
            [good.as_bytes(), b"\n{\"instruction\": \"\xff\xfe\", \"output\": \"o\"}\n"].concat(),
            "line 2: invalid UTF-8",
            1,
            1,
        ),
        (
            "utf8.json",
            [
                b"[".as_slice(),
                good.as_bytes(),
                b", {\"instruction\": \"\xff\", \"output\": \"o\"}, ",
                good.as_bytes(),
                b"]",
            ]
            .concat(),
            "record 1: invalid JSON",
            2,
            1,
        ),
        (
            "role.json",
            br#"[{"conversations": [{"from": "human", "value": "q"}, {"from": "wizard", "value": "a"}]}]"#.to_vec(),
            "record 0: unknown role `wizard` in conversations[1]",
            0,
            1,
        ),
        ("shape.jsonl", b"{\"foo\": 1}\n[1, 2]\n".to_vec(), "line 1: no prompt field", 0, 2),
        (
            "shape2.json",
            format!("[{good}, {{\"text\": \"no response here\"}}]").into_bytes(),
            "record 1: unknown record shape",
            1,
            1,
        ),
        (
            "syntax.jsonl",
            format!("{good}\n{{\"instruction\": \"i\" \"output\": \"o\"}}\n").into_bytes(),
            "line 2: invalid JSON",
            1,
            1,
        ),
    ];
    for (name, bytes, msg, ok_n, skipped) in cases {
        let p = write(d.path(), name, &bytes);
        let err = fails(&["stats", &p]);
        assert!(err.contains(name) && err.contains(msg), "{name}: expected `{msg}` in:\n{err}");
        assert!(err.contains("hint:"), "{name}: no hint line:\n{err}");
        let ds = read(Path::new(&p), &skip_opts()).unwrap();
        assert_eq!(
            (ds.accounting.ok, ds.accounting.skipped.len()),
            (ok_n, skipped),
            "{name}: {:?}",
            ds.accounting.skipped
        );
        assert!(ds.accounting.balanced());
        // The released read (what pipelines use) accepts and skips the same rows, and parses
        // the same records again on access.
        let lean = read_released(Path::new(&p), &skip_opts()).unwrap();
        assert!(lean.is_released());
        assert_eq!((&lean.ids, &lean.positions), (&ds.ids, &ds.positions), "{name}");
        assert_eq!(lean.accounting.skipped, ds.accounting.skipped, "{name}");
        assert_eq!(lean.into_records().unwrap(), ds.into_records().unwrap(), "{name}");
        let out = gleaner(&["stats", &p, "--on-error", "skip"]);
        assert!(out.status.success(), "{name}: stats --on-error skip failed");
    }
}

#[test]
fn empty_strings_big_records_and_duplicates_are_fine() {
    let d = tmp();
    let big = "x".repeat(10 * 1024 * 1024);
    let body = format!(
        "[{{\"instruction\": \"\", \"input\": \"\", \"output\": \"\"}}, {{\"instruction\": \"big\", \"output\": \"{big}\", \"id\": 1}}, {{\"instruction\": \"big\", \"output\": \"{big}\", \"id\": 1}}]"
    );
    let p = write(d.path(), "edge.json", body.as_bytes());
    let ds = read(Path::new(&p), &ReadOptions::default()).unwrap();
    assert_eq!(ds.len(), 3);
    let ids: std::collections::HashSet<_> = ds.ids.iter().collect();
    assert_eq!(ids.len(), 3, "duplicate records still get distinct row ids");
    let stats = ok(&["stats", &p, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(v["duplicate_records"], 1);
    assert_eq!(v["duplicate_id_field"], 1);
    assert_eq!(v["empty_output"], 1);
    let out = d.path().join("edge.parquet");
    ok(&["convert", &p, "-o", out.to_str().unwrap()]);
    assert_eq!(read(&out, &ReadOptions::default()).unwrap().into_records().unwrap()[1].output().len(), big.len());
}

#[test]
fn missing_and_unknown_files_give_hints() {
    let err = fails(&["stats", "/nonexistent/file.json"]);
    assert!(err.contains("/nonexistent/file.json") && err.contains("hint:"), "{err}");
    // the OS message once: the error's text already holds it, so no chain repeats it
    let os = std::fs::File::open("/nonexistent/file.json").unwrap_err().to_string();
    assert_eq!(err.matches(&os).count(), 1, "{err}");
    let d = tmp();
    let p = write(d.path(), "data.tsv", b"a\tb\n");
    let err = fails(&["stats", &p]);
    assert!(err.contains("cannot tell the format") && err.contains("--format"), "{err}");
}

/// The committed bad-input corpus (`tests/badinput/`), run through every command that reads
/// input, with the outcome `tests/badinput/manifest.tsv` expects for each case, mode and
/// command. Large cases are generated here instead of committed (see [`generate`]).
mod corpus {
    use crate::util::{root, tmp};
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    /// A command's wall-clock limit: a reader that hangs fails the test instead of stalling it.
    const TIMEOUT: Duration = Duration::from_secs(180);

    /// The commands that read input, by manifest name. `IN`, `D` (a scratch directory) are
    /// replaced. Model commands run on the first rows only (`--limit`): the reader still reads
    /// and accounts for the whole file.
    const COMMANDS: &[(&str, &str)] = &[
        ("stats", "stats IN --json"),
        ("convert", "convert IN -o D/out.jsonl"),
        ("score-quality", "score quality IN -o D/quality.parquet --limit 2"),
        ("score-ifd", "score ifd IN -o D/ifd.parquet --limit 2"),
        ("embed", "embed IN -o D/embed.parquet --limit 2"),
        ("run-superfilter", "run superfilter IN -o D/sf.json --limit 3 --work-dir D/w-sf"),
        ("run-longest", "run --recipe longest IN -o D/longest.json --budget 1 --limit 3 --work-dir D/w-longest"),
        ("run-random", "run --recipe random IN -o D/random.json --budget 1 --work-dir D/w-random"),
    ];

    /// The commands run with `--on-error skip`: the cheap ones and one that loads a model.
    const SKIP_COMMANDS: &[&str] = &["stats", "convert", "score-quality", "run-random"];

    /// What a manifest line expects.
    #[derive(Debug, Clone, PartialEq)]
    enum Outcome {
        /// Exit status 1 and an error naming the file, this place and reason, and a `hint:`.
        Error(String),
        /// Success with `kept` rows accepted and `skipped` rows skipped for `reason`.
        Kept { kept: usize, skipped: usize, reason: String },
    }

    fn parse_outcome(s: &str) -> Outcome {
        if let Some(msg) = s.strip_prefix("error: ") {
            return Outcome::Error(msg.to_string());
        }
        let rest = s.strip_prefix("kept ").unwrap_or_else(|| panic!("bad outcome `{s}`"));
        let (kept, skip) = rest.split_once(", skipped ").unwrap_or((rest, "0: "));
        let (skipped, reason) = skip.split_once(": ").unwrap_or((skip, ""));
        Outcome::Kept { kept: kept.parse().unwrap(), skipped: skipped.parse().unwrap(), reason: reason.to_string() }
    }

    /// (file, mode, command, outcome) for every case, mode and command.
    fn manifest() -> Vec<(String, &'static str, &'static str, Outcome)> {
        let text = std::fs::read_to_string(root().join("tests/badinput/manifest.tsv")).unwrap();
        let mut out = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 4, "FILE<TAB>MODE<TAB>COMMANDS<TAB>OUTCOME: {line}");
            let mode = match cols[1] {
                "strict" => "strict",
                "skip" => "skip",
                m => panic!("mode `{m}`: {line}"),
            };
            let all: Vec<&'static str> =
                if mode == "strict" { COMMANDS.iter().map(|c| c.0).collect() } else { SKIP_COMMANDS.to_vec() };
            let commands: Vec<&'static str> = if cols[2] == "all" {
                all
            } else {
                cols[2]
                    .split(',')
                    .map(|c| {
                        *all.iter().find(|a| **a == c).unwrap_or_else(|| panic!("command `{c}` in {mode} mode: {line}"))
                    })
                    .collect()
            };
            for c in commands {
                // a later line for the same case, mode and command overrides an `all` line
                out.retain(|(f, m, k, _): &(String, &str, &str, Outcome)| !(f == cols[0] && *m == mode && *k == c));
                out.push((cols[0].to_string(), mode, c, parse_outcome(cols[3])));
            }
        }
        out
    }

    /// The generated cases: a 10 MB record, a million tiny records, Parquet files whose columns
    /// have unexpected types.
    fn generate(dir: &Path) {
        let big = "x".repeat(10 * 1024 * 1024);
        let body = format!(
            "[{{\"instruction\": \"Repeat x.\", \"input\": \"\", \"output\": \"{big}\"}}, {{\"instruction\": \"Say hi.\", \"input\": \"\", \"output\": \"Hello!\"}}]"
        );
        std::fs::write(dir.join("big-record.json"), body).unwrap();
        let mut tiny = String::with_capacity(40 << 20);
        for i in 0..1_000_000 {
            tiny.push_str(&format!("{{\"instruction\":\"q{i}\",\"output\":\"a\"}}\n"));
        }
        std::fs::write(dir.join("tiny-1m.jsonl"), tiny).unwrap();
        let parquet = |name: &str, rows: serde_json::Value| {
            let records: Vec<gleaner_core::Record> = rows
                .as_array()
                .unwrap()
                .iter()
                .map(|r| gleaner_core::Record {
                    shape: gleaner_core::RecordShape::Alpaca,
                    system: None,
                    input: String::new(),
                    turns: Vec::new(),
                    fields: r.as_object().unwrap().clone(),
                })
                .collect();
            let target = gleaner_write::Target {
                container: gleaner_read::Container::Parquet,
                shape: None,
                style: gleaner_read::JsonStyle::jsonl_default(),
                schema: None,
            };
            gleaner_write::write(Some(&dir.join(name)), &records, &target).unwrap();
        };
        // `instruction` holds integers
        parquet(
            "types-int.parquet",
            serde_json::json!([{"instruction": 1, "output": "a"}, {"instruction": 2, "output": "b"}]),
        );
        // `output` is a nullable string column with a null, `meta` a struct column
        parquet(
            "types-null.parquet",
            serde_json::json!([
                {"instruction": "a", "output": "b", "meta": {"n": 1}},
                {"instruction": "c", "output": null, "meta": {"n": 2}},
                {"instruction": "d", "output": "e", "meta": {"n": 3}}
            ]),
        );
    }

    /// Runs gleaner with a timeout; returns (exit code, stderr).
    fn run(args: &[String]) -> (Option<i32>, String) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gleaner"))
            .args(args)
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut err = child.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut err, &mut s).unwrap();
            s
        });
        let start = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if start.elapsed() > TIMEOUT {
                child.kill().unwrap();
                child.wait().unwrap();
                panic!("gleaner {args:?} did not finish in {TIMEOUT:?} (a hang)");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        (status.code(), reader.join().unwrap())
    }

    fn lines(p: &Path) -> usize {
        std::fs::read_to_string(p).unwrap().lines().count()
    }

    /// Checks one command's run against its expected outcome; returns a mismatch, if any.
    fn check(file: &Path, mode: &str, name: &str, want: &Outcome, scratch: &Path) -> Option<String> {
        let template = COMMANDS.iter().find(|c| c.0 == name).unwrap().1;
        let d = scratch.join(format!("{name}-{mode}"));
        std::fs::create_dir_all(&d).unwrap();
        let mut args: Vec<String> = template
            .split_whitespace()
            // placeholders are whole tokens: a path may itself contain `IN` or `D/` (a temporary
            // directory named `.tmpXYZD` made this test fail once)
            .map(|a| match a.strip_prefix("D/") {
                _ if a == "IN" => file.display().to_string(),
                Some(rest) => d.join(rest).display().to_string(),
                None => a.to_string(),
            })
            .collect();
        if mode == "skip" {
            args.extend(["--on-error".into(), "skip".into()]);
        }
        let base = file.file_name().unwrap().to_str().unwrap();
        let (code, err) = run(&args);
        let label = format!("{base} [{mode}] {name}");
        if err.contains("panicked") {
            return Some(format!("{label}: panicked:\n{err}"));
        }
        match want {
            Outcome::Error(msg) => {
                if code != Some(1) {
                    return Some(format!("{label}: expected an error, got exit {code:?}:\n{err}"));
                }
                let first = err.lines().find(|l| l.starts_with("error:")).unwrap_or("");
                if !(first.contains(base) && first.contains(msg.as_str()) && err.contains("hint:")) {
                    return Some(format!("{label}: expected `error: …{base}…{msg}` and a hint, got:\n{err}"));
                }
            }
            Outcome::Kept { kept, skipped, reason } => {
                if code != Some(0) {
                    return Some(format!("{label}: expected success, got exit {code:?}:\n{err}"));
                }
                let line = format!("skipped {skipped} of {} rows ({kept} kept)", kept + skipped);
                if *skipped > 0 && !(err.contains(&line) && err.contains(reason.as_str())) {
                    return Some(format!("{label}: expected `{line}` and `{reason}` on stderr, got:\n{err}"));
                }
                if *skipped == 0 && err.contains(": skipped ") {
                    return Some(format!("{label}: a skip was reported where none was expected:\n{err}"));
                }
                // the command's own output holds the accepted rows
                let got = match name {
                    "convert" => Some(lines(&d.join("out.jsonl"))),
                    "run-random" => {
                        let s: serde_json::Value =
                            serde_json::from_str(&std::fs::read_to_string(d.join("w-random/summary.json")).unwrap())
                                .unwrap();
                        let on_read: u64 =
                            s["skipped_on_read"].as_array().unwrap().iter().map(|x| x["rows"].as_u64().unwrap()).sum();
                        if on_read != *skipped as u64 {
                            return Some(format!("{label}: summary counts {on_read} rows skipped on reading"));
                        }
                        Some(s["rows_in"].as_u64().unwrap() as usize)
                    }
                    _ => None,
                };
                if let Some(got) = got.filter(|g| g != kept) {
                    return Some(format!("{label}: {got} rows in the output, expected {kept}"));
                }
            }
        }
        None
    }

    #[test]
    fn every_case_has_the_outcome_the_manifest_states_for_every_command() {
        let dir = tmp();
        let gen_dir = dir.path().join("gen");
        std::fs::create_dir_all(&gen_dir).unwrap();
        generate(&gen_dir);
        let cases = manifest();
        let committed: Vec<String> = std::fs::read_dir(root().join("tests/badinput"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| !n.ends_with(".tsv") && !n.ends_with(".md"))
            .collect();
        for f in &committed {
            assert!(cases.iter().any(|c| &c.0 == f), "tests/badinput/{f} has no line in manifest.tsv");
        }
        let mut wrong = Vec::new();
        for (file, mode, command, want) in &cases {
            let path: PathBuf = match file.strip_prefix("gen:") {
                Some(g) => gen_dir.join(g),
                None => root().join("tests/badinput").join(file),
            };
            assert!(path.exists(), "{file}: no such case");
            let scratch = dir.path().join(file.replace(':', "-"));
            wrong.extend(check(&path, mode, command, want, &scratch));
        }
        assert!(wrong.is_empty(), "{} outcome(s) differ from the manifest:\n\n{}", wrong.len(), wrong.join("\n\n"));
    }
}
