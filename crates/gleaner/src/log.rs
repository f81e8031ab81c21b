//! Logs on stderr (data goes to stdout or `-o`), colours unless `NO_COLOR` or not a terminal,
//! and progress bars that hide themselves when stderr is not a terminal.

use console::style;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Sets colour output from `NO_COLOR` and the terminal.
pub fn init() {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    if no_color || !console::Term::stderr().is_term() {
        console::set_colors_enabled_stderr(false);
        console::set_colors_enabled(false);
    }
}

/// An informational line.
pub fn info(msg: impl AsRef<str>) {
    eprintln!("{} {}", style("gleaner").green().bold(), msg.as_ref());
}

/// A warning line.
pub fn warn(msg: impl AsRef<str>) {
    eprintln!("{} {}", style("warning:").yellow().bold(), msg.as_ref());
}

/// An error line followed by an optional `hint:` line.
pub fn error(msg: &str, hint: Option<&str>) {
    eprintln!("{} {msg}", style("error:").red().bold());
    if let Some(h) = hint {
        eprintln!("{} {h}", style("hint:").cyan().bold());
    }
}

/// A one-line suggestion shown after a library error as `hint: …`, in the CLI's words.
pub fn hint(e: &gleaner_core::Error) -> Option<String> {
    use gleaner_core::Error;
    match e {
        Error::Input { .. } => {
            Some("pass `--on-error skip` to skip bad records and count them, or fix the record".into())
        }
        Error::Format { .. } => {
            Some("name the format with `--format alpaca|alpaca-jsonl|sharegpt|sharegpt-jsonl|parquet|csv`".into())
        }
        Error::Model { .. } => {
            Some("run `gleaner models fetch` to install the default models, or pass a directory or .gguf path".into())
        }
        Error::SideFile { .. } => Some("delete the side file (or the work directory) to recompute it".into()),
        Error::Recipe { .. } => Some(
            "`gleaner recipes show car` prints a valid recipe to start from; the README documents every key".into(),
        ),
        Error::Busy { .. } => Some(
            "wait for that run to finish, or give this one its own directory with `--work-dir DIR` (or another -o)"
                .into(),
        ),
        Error::Io { error, .. } if error.kind() == std::io::ErrorKind::StorageFull => Some(no_space_hint()),
        Error::Io { error, .. }
            if matches!(
                error.kind(),
                std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied
            ) =>
        {
            Some("choose a writable output path (-o) and work directory (--work-dir); nothing was computed".into())
        }
        Error::Other(m) if m.contains("(os error 28)") => Some(no_space_hint()),
        Error::Invalid(m) if m.starts_with("dedup ") => {
            Some("`gleaner dedup --help` lists every option and its values".into())
        }
        Error::Io { error, .. } if error.kind() == std::io::ErrorKind::NotFound => {
            Some("check the path; relative paths are resolved from the current directory".into())
        }
        _ => None,
    }
}

fn no_space_hint() -> String {
    "free space on that disk (or write elsewhere), then rerun the same command: finished chunks are kept and the run resumes; no partial output was left".into()
}

/// A progress bar with rate and ETA; hidden when stderr is not a terminal.
pub fn progress(len: u64, what: &str, unit: &str) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let tmpl = format!("{{prefix:>10}} [{{bar:30}}] {{pos}}/{{len}} {unit} {{per_sec}} ETA {{eta}} {{msg}}");
    pb.set_style(
        ProgressStyle::with_template(&tmpl).unwrap_or_else(|_| ProgressStyle::default_bar()).progress_chars("=> "),
    );
    pb.set_prefix(what.to_string());
    if !console::Term::stderr().is_term() {
        pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    pb
}

/// A pipeline observer that draws one progress bar per stage on stderr.
#[derive(Default)]
pub struct BarObserver {
    bar: std::sync::Mutex<Option<ProgressBar>>,
}

impl gleaner_pipeline::Observer for BarObserver {
    fn start(&self, stage: &str, total: u64, unit: &str) {
        *self.bar.lock().unwrap() = Some(progress(total, stage, unit));
    }
    fn progress(&self, done: u64) {
        if let Some(b) = self.bar.lock().unwrap().as_ref() {
            b.set_position(done);
        }
    }
    fn finish(&self) {
        if let Some(b) = self.bar.lock().unwrap().take() {
            b.finish_and_clear();
        }
    }
    fn info(&self, msg: &str) {
        info(msg);
    }
    fn detail(&self, msg: &str) {
        if let Some(b) = self.bar.lock().unwrap().as_ref() {
            b.set_message(msg.to_string());
        }
    }
}
