//! # gleaner-report
//!
//! What a data engineer wants to know about a file before and after selection:
//! [`Stats`] (counts, shapes, turns, length percentiles, empty fields, duplicates) and
//! [`Distribution`] (summary of any score column, used for IQE dataset quality and for the
//! kept-vs-all comparison in run summaries), and [`html`]: the selection report, one
//! self-contained HTML page per run.

pub mod html;

use gleaner_core::{Role, rowid::content_hash};
use gleaner_read::Dataset;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;

/// Average ranks, 0-based (ties share their mean rank).
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        for &k in &idx[i..=j] {
            r[k] = (i + j) as f64 / 2.0;
        }
        i = j + 1;
    }
    r
}

/// Spearman's rank correlation of two equally long samples (Pearson's r of their average
/// ranks; NaN when either is constant).
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "spearman: samples of different lengths");
    let (ra, rb) = (ranks(a), ranks(b));
    let n = a.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma) * (x - ma)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb) * (y - mb)).sum();
    cov / (va * vb).sqrt()
}

/// Summary of a set of numbers (NaN values are counted apart and left out).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Distribution {
    /// Finite values.
    pub n: usize,
    /// NaN or infinite values left out.
    pub missing: usize,
    /// Mean of finite values.
    pub mean: f64,
    /// Standard deviation (population).
    pub std: f64,
    /// Minimum.
    pub min: f64,
    /// 5th, 25th, 50th, 75th and 95th percentiles (linear interpolation, as numpy).
    pub p5: f64,
    /// 25th percentile.
    pub p25: f64,
    /// Median.
    pub p50: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Maximum.
    pub max: f64,
}

/// numpy's default (linear) percentile of sorted values, `q` in 0..=100.
pub fn percentile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = (sorted.len() - 1) as f64 * q / 100.0;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

impl Distribution {
    /// Summarises values.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Distribution {
        let mut v: Vec<f64> = Vec::new();
        let mut missing = 0;
        for x in values {
            if x.is_finite() {
                v.push(x);
            } else {
                missing += 1;
            }
        }
        if v.is_empty() {
            return Distribution { missing, ..Default::default() };
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let mean = v.iter().sum::<f64>() / n as f64;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        Distribution {
            n,
            missing,
            mean,
            std: var.sqrt(),
            min: v[0],
            p5: percentile_sorted(&v, 5.0),
            p25: percentile_sorted(&v, 25.0),
            p50: percentile_sorted(&v, 50.0),
            p75: percentile_sorted(&v, 75.0),
            p95: percentile_sorted(&v, 95.0),
            max: v[n - 1],
        }
    }

    /// One aligned line: `mean … p50 … [min, max]`.
    pub fn line(&self) -> String {
        if self.n == 0 {
            return format!("no values ({} missing)", self.missing);
        }
        let mut s = format!(
            "mean {:>9.3}  std {:>8.3}  min {:>8.3}  p25 {:>8.3}  p50 {:>8.3}  p75 {:>8.3}  max {:>8.3}",
            self.mean, self.std, self.min, self.p25, self.p50, self.p75, self.max
        );
        if self.missing > 0 {
            let _ = write!(s, "  ({} missing)", self.missing);
        }
        s
    }
}

/// Statistics of one dataset.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// The file.
    pub path: String,
    /// Rows read.
    pub read: usize,
    /// Rows accepted.
    pub ok: usize,
    /// Rows skipped, by reason.
    pub skipped: std::collections::BTreeMap<String, usize>,
    /// Records per shape (`alpaca`, `sharegpt`, `messages`).
    pub shapes: std::collections::BTreeMap<String, usize>,
    /// Records with more than one exchange.
    pub multi_turn: usize,
    /// Records with a system prompt.
    pub with_system: usize,
    /// Turns per record.
    pub turns: Distribution,
    /// Characters of the instruction (first user turn).
    pub instruction_chars: Distribution,
    /// Characters of the Alpaca input.
    pub input_chars: Distribution,
    /// Characters of the response (first assistant turn).
    pub output_chars: Distribution,
    /// Records with an empty instruction.
    pub empty_instruction: usize,
    /// Records with a non-empty input.
    pub with_input: usize,
    /// Records with an empty response.
    pub empty_output: usize,
    /// Records with no assistant turn at all.
    pub no_response: usize,
    /// Records whose content exactly repeats an earlier record.
    pub duplicate_records: usize,
    /// Records whose instruction + input repeats an earlier record's.
    pub duplicate_prompts: usize,
    /// Records whose `id` field value repeats an earlier record's.
    pub duplicate_id_field: usize,
}

impl Stats {
    /// Computes the statistics of a dataset (in one pass over its records, which a released
    /// dataset parses again from its file).
    pub fn of(ds: &Dataset) -> gleaner_core::Result<Stats> {
        let mut shapes = std::collections::BTreeMap::new();
        let mut seen = HashMap::new();
        let mut seen_prompt = HashMap::new();
        let mut seen_id = HashMap::new();
        let (mut dup, mut dup_prompt, mut dup_id) = (0, 0, 0);
        let (mut multi_turn, mut with_system, mut empty_instruction, mut with_input, mut empty_output, mut no_response) =
            (0, 0, 0, 0, 0, 0);
        let (mut turns, mut instruction, mut input, mut output) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        ds.for_each_chunk(4096, &mut |_, chunk| {
            for r in chunk {
                let name = match r.shape {
                    gleaner_core::RecordShape::Alpaca => "alpaca",
                    gleaner_core::RecordShape::ShareGpt => "sharegpt",
                    gleaner_core::RecordShape::Messages => "messages",
                    gleaner_core::RecordShape::Prompt(_) => "prompt-only",
                };
                *shapes.entry(name.to_string()).or_insert(0usize) += 1;
                if seen.insert(content_hash(r), ()).is_some() {
                    dup += 1;
                }
                if seen_prompt.insert((r.instruction().to_string(), r.input.clone()), ()).is_some() {
                    dup_prompt += 1;
                }
                if let Some(id) = r.fields.get("id").filter(|v| !v.is_null())
                    && seen_id.insert(id.to_string(), ()).is_some()
                {
                    dup_id += 1;
                }
                multi_turn += usize::from(r.turns.iter().filter(|t| t.role == Role::User).count() > 1);
                with_system += usize::from(r.system.is_some());
                empty_instruction += usize::from(r.instruction().trim().is_empty());
                with_input += usize::from(!r.input.is_empty());
                empty_output += usize::from(r.model_turns() > 0 && r.output().trim().is_empty());
                no_response += usize::from(r.model_turns() == 0);
                turns.push(r.turns.len() as f64);
                instruction.push(r.instruction().chars().count() as f64);
                input.push(r.input.chars().count() as f64);
                output.push(r.output().chars().count() as f64);
            }
            Ok(())
        })?;
        Ok(Stats {
            path: ds.path.display().to_string(),
            read: ds.accounting.read,
            ok: ds.accounting.ok,
            skipped: ds.accounting.reasons(),
            shapes,
            multi_turn,
            with_system,
            turns: Distribution::of(turns),
            instruction_chars: Distribution::of(instruction),
            input_chars: Distribution::of(input),
            output_chars: Distribution::of(output),
            empty_instruction,
            with_input,
            empty_output,
            no_response,
            duplicate_records: dup,
            duplicate_prompts: dup_prompt,
            duplicate_id_field: dup_id,
        })
    }

    /// A human-readable report.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{}", self.path);
        let _ = writeln!(s, "  rows            read {}  ok {}  skipped {}", self.read, self.ok, self.read - self.ok);
        for (reason, n) in &self.skipped {
            let _ = writeln!(s, "    skipped       {n:>6}  {reason}");
        }
        let shapes: Vec<String> = self.shapes.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(s, "  shapes          {}", shapes.join(", "));
        let _ = writeln!(s, "  multi-turn      {}   with system prompt {}", self.multi_turn, self.with_system);
        let _ = writeln!(s, "  turns           {}", self.turns.line());
        let _ = writeln!(s, "  instruction     {}  (chars)", self.instruction_chars.line());
        let _ = writeln!(s, "  input           {}  (chars)", self.input_chars.line());
        let _ = writeln!(s, "  output          {}  (chars)", self.output_chars.line());
        let _ = writeln!(
            s,
            "  empty           instruction {}  output {}  no response turn {}   (non-empty input {})",
            self.empty_instruction, self.empty_output, self.no_response, self.with_input
        );
        let _ = writeln!(
            s,
            "  duplicates      records {}  prompts {}  `id` field {}",
            self.duplicate_records, self.duplicate_prompts, self.duplicate_id_field
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_matches_scipy() {
        // scipy.stats.spearmanr([1, 2, 2, 5, 9], [3, 1, 4, 4, 10]).statistic = 0.7631578947368421 (scipy 1.x)
        let r = spearman(&[1.0, 2.0, 2.0, 5.0, 9.0], &[3.0, 1.0, 4.0, 4.0, 10.0]);
        assert!((r - 0.763_157_894_736_842_1).abs() < 1e-12, "{r}");
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[30.0, 20.0, 10.0]), -1.0);
    }

    #[test]
    fn percentiles_match_numpy() {
        // numpy.percentile([1, 2, 3, 4], [25, 50, 90]) == [1.75, 2.5, 3.7]
        let v = [1.0, 2.0, 3.0, 4.0];
        assert!((percentile_sorted(&v, 25.0) - 1.75).abs() < 1e-12);
        assert!((percentile_sorted(&v, 50.0) - 2.5).abs() < 1e-12);
        assert!((percentile_sorted(&v, 90.0) - 3.7).abs() < 1e-12);
    }
}
