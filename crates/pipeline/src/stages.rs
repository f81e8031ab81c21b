//! Stage timing and memory, for run summaries.

use std::fmt::Write as _;
use std::time::Instant;

/// Peak resident set size of this process so far, in MiB (Linux `VmHWM`; 0 elsewhere).
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Wall time and peak RSS after each stage of a run.
#[derive(Debug, Default, Clone)]
pub struct StageLog {
    rows: Vec<(String, f64, f64)>,
    started: Option<(String, Instant)>,
}

impl StageLog {
    /// Starts timing a stage (ending the previous one).
    pub fn begin(&mut self, name: &str) {
        self.end();
        self.started = Some((name.to_string(), Instant::now()));
    }

    /// Ends the current stage.
    pub fn end(&mut self) {
        if let Some((name, t0)) = self.started.take() {
            self.rows.push((name, t0.elapsed().as_secs_f64(), peak_rss_mib()));
        }
    }

    /// `(stage, seconds, peak RSS MiB)` rows.
    pub fn rows(&self) -> &[(String, f64, f64)] {
        &self.rows
    }

    /// A small table.
    pub fn render(&self) -> String {
        let mut s = String::from("  stage          wall s   peak RSS MiB\n");
        for (n, t, m) in &self.rows {
            let _ = writeln!(s, "  {n:<14} {t:>7.2}   {m:>10.0}");
        }
        let total: f64 = self.rows.iter().map(|r| r.1).sum();
        let _ = writeln!(s, "  {:<14} {total:>7.2}", "total");
        s
    }
}
