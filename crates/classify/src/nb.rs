//! Multinomial naive Bayes over bag-of-words counts, equal to scikit-learn's
//! `Pipeline([("vectorizer", CountVectorizer()), ("classifier", MultinomialNB())])` with every
//! default (the pipeline of LCG's `models/MultinomialNB.py`, docs/methods.md §4.3).
//!
//! ## Features (`CountVectorizer()`)
//!
//! Tokens come from [`crate::tokenize::analyze`] (lowercase, `(?u)\b\w\w+\b` with Python's
//! Unicode `\w`). The vocabulary is every distinct training token, `min_df = 1`, no
//! `max_features`; a term's feature index is its position in the sorted vocabulary (Python
//! sorts by code point, which is Rust's byte-wise `str` order). A text's features are its raw
//! token counts; tokens outside the training vocabulary are ignored (`transform`).
//!
//! ## Model (`MultinomialNB(alpha=1.0, fit_prior=True)`)
//!
//! With `N[c, f]` the count of feature `f` over the training texts of class `c`, `F` the
//! vocabulary size and `n_c` the number of training texts of class `c`:
//!
//! - `class_log_prior[c] = ln n_c − ln Σ n_c` (or `−ln k` with `fit_prior = false`);
//! - `feature_log_prob[c, f] = ln(N[c, f] + α) − ln(Σ_f N[c, f] + α·F)`;
//! - `jll[c] = Σ_f x_f · feature_log_prob[c, f] + class_log_prior[c]`, summed over the text's
//!   features in feature-index order (scipy's CSR product), then the prior added;
//! - `predict_proba = exp(jll − lse)` with scikit-learn's `_logsumexp`: with `M` the row
//!   maximum, attained `m` times, and `s` the sum of `exp(jll − M)` over the other entries,
//!   `lse = ln1p(s / m) + ln m + M`;
//! - `predict = classes[argmax jll]`, the first maximum on ties. A text with no in-vocabulary
//!   token gets the prior.
//!
//! All arithmetic is `f64`. Against scikit-learn the probabilities agree to about 1e-12
//! relative (only summation order differs).

use crate::file::{self, FileInfo};
use crate::tokenize::{TOKEN_PATTERN, for_each_token};
use crate::{Classifier, Fit, InputKind, Inputs, Probabilities, argmax, check_classes, index_labels, wrong_input};
use gleaner_core::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// The `kind` of a naive Bayes classifier file.
pub const KIND: &str = "multinomial-nb";
/// The layout version this build writes and reads.
pub const VERSION: u32 = 1;

/// Naive Bayes options (scikit-learn's `MultinomialNB` parameters).
#[derive(Debug, Clone, PartialEq)]
pub struct NbOptions {
    /// Additive (Laplace/Lidstone) smoothing; must be positive and finite. Default 1.0.
    pub alpha: f64,
    /// Learn class priors from the label counts (`true`, the default) or use a uniform prior.
    pub fit_prior: bool,
}

impl Default for NbOptions {
    fn default() -> Self {
        NbOptions { alpha: 1.0, fit_prior: true }
    }
}

/// A fitted multinomial naive Bayes text classifier (see the module docs).
#[derive(Debug, Clone)]
pub struct MultinomialNb {
    alpha: f64,
    fit_prior: bool,
    classes: Vec<u32>,
    class_count: Vec<u64>,
    vocabulary: Vec<String>,
    index: HashMap<String, u32>,
    /// Per class: `(feature index, count)` for every non-zero count, by feature index.
    feature_count: Vec<Vec<(u32, u64)>>,
    class_log_prior: Vec<f64>,
    /// Feature-major: `feature_log_prob[f * k + c]`.
    feature_log_prob: Vec<f64>,
}

impl MultinomialNb {
    /// Fits the model on texts and their class labels.
    pub fn fit_texts<S: AsRef<str> + Sync>(texts: &[S], labels: &[u32], options: &NbOptions) -> Result<MultinomialNb> {
        if !(options.alpha.is_finite() && options.alpha > 0.0) {
            return Err(Error::Invalid(format!(
                "naive Bayes alpha must be positive and finite, got {}",
                options.alpha
            )));
        }
        let (classes, y) = index_labels(labels, texts.len())?;
        let k = classes.len();
        let lowered: Vec<String> = texts.par_iter().map(|t| t.as_ref().to_lowercase()).collect();
        let mut terms = BTreeSet::new();
        for t in &lowered {
            for_each_token(t, |tok| {
                if !terms.contains(tok) {
                    terms.insert(tok.to_owned());
                }
            });
        }
        let vocabulary: Vec<String> = terms.into_iter().collect();
        let index: HashMap<String, u32> = vocabulary.iter().enumerate().map(|(i, t)| (t.clone(), i as u32)).collect();
        let n_features = vocabulary.len();
        let mut dense = vec![0u64; k * n_features];
        let mut class_count = vec![0u64; k];
        for (text, &c) in lowered.iter().zip(&y) {
            class_count[c] += 1;
            for_each_token(text, |tok| dense[c * n_features + index[tok] as usize] += 1);
        }
        let feature_count = (0..k)
            .map(|c| {
                dense[c * n_features..(c + 1) * n_features]
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| **n > 0)
                    .map(|(f, &n)| (f as u32, n))
                    .collect()
            })
            .collect();
        Ok(Self::from_counts(options.alpha, options.fit_prior, classes, class_count, vocabulary, index, feature_count))
    }

    /// Builds the derived log-probabilities from validated counts.
    fn from_counts(
        alpha: f64,
        fit_prior: bool,
        classes: Vec<u32>,
        class_count: Vec<u64>,
        vocabulary: Vec<String>,
        index: HashMap<String, u32>,
        feature_count: Vec<Vec<(u32, u64)>>,
    ) -> MultinomialNb {
        let k = classes.len();
        let n_features = vocabulary.len();
        let class_log_prior = if fit_prior {
            let total = class_count.iter().sum::<u64>() as f64;
            class_count.iter().map(|&n| (n as f64).ln() - total.ln()).collect()
        } else {
            vec![-(k as f64).ln(); k]
        };
        let mut feature_log_prob = vec![0.0f64; n_features * k];
        for (c, row) in feature_count.iter().enumerate() {
            let total = row.iter().map(|&(_, n)| n).sum::<u64>() as f64;
            let log_den = (total + alpha * n_features as f64).ln();
            let log_zero = alpha.ln() - log_den;
            for f in 0..n_features {
                feature_log_prob[f * k + c] = log_zero;
            }
            for &(f, n) in row {
                feature_log_prob[f as usize * k + c] = (n as f64 + alpha).ln() - log_den;
            }
        }
        MultinomialNb {
            alpha,
            fit_prior,
            classes,
            class_count,
            vocabulary,
            index,
            feature_count,
            class_log_prior,
            feature_log_prob,
        }
    }

    /// The vocabulary in feature-index order (sorted).
    pub fn vocabulary(&self) -> &[String] {
        &self.vocabulary
    }

    /// The feature index of a term, if it is in the vocabulary.
    pub fn feature_index(&self, term: &str) -> Option<usize> {
        self.index.get(term).map(|&i| i as usize)
    }

    /// The smoothing parameter.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// Whether the class priors were learned from the label counts.
    pub fn fit_prior(&self) -> bool {
        self.fit_prior
    }

    /// Number of training texts of every class (in [`Classifier::classes`] order).
    pub fn class_count(&self) -> &[u64] {
        &self.class_count
    }

    /// `ln P(class)` for every class.
    pub fn class_log_prior(&self) -> &[f64] {
        &self.class_log_prior
    }

    /// `ln P(feature | class)` for class column `class` and feature index `feature`.
    pub fn feature_log_prob(&self, class: usize, feature: usize) -> f64 {
        self.feature_log_prob[feature * self.classes.len() + class]
    }

    /// The training count of feature `feature` in class column `class`.
    pub fn feature_count(&self, class: usize, feature: usize) -> u64 {
        let row = &self.feature_count[class];
        row.binary_search_by_key(&(feature as u32), |&(f, _)| f).map(|i| row[i].1).unwrap_or(0)
    }

    /// `CountVectorizer.transform` of one text: `(feature index, count)` of its in-vocabulary
    /// tokens, by feature index.
    pub fn transform(&self, text: &str) -> Vec<(usize, u64)> {
        let lowered = text.to_lowercase();
        let mut ids = Vec::new();
        for_each_token(&lowered, |tok| {
            if let Some(&i) = self.index.get(tok) {
                ids.push(i as usize);
            }
        });
        ids.sort_unstable();
        let mut out: Vec<(usize, u64)> = Vec::new();
        for i in ids {
            match out.last_mut() {
                Some((j, n)) if *j == i => *n += 1,
                _ => out.push((i, 1)),
            }
        }
        out
    }

    /// The joint log-likelihood `ln P(class) + ln P(text | class)` of one text, one value per
    /// class (scikit-learn's `predict_joint_log_proba`).
    pub fn joint_log_likelihood(&self, text: &str) -> Vec<f64> {
        let k = self.classes.len();
        let mut jll = vec![0.0f64; k];
        for (f, x) in self.transform(text) {
            let x = x as f64;
            let flp = &self.feature_log_prob[f * k..(f + 1) * k];
            for (j, l) in jll.iter_mut().zip(flp) {
                *j += x * l;
            }
        }
        for (j, p) in jll.iter_mut().zip(&self.class_log_prior) {
            *j += p;
        }
        jll
    }

    /// Class probabilities of one text (one value per class).
    pub fn proba_one(&self, text: &str) -> Vec<f64> {
        let mut jll = self.joint_log_likelihood(text);
        let lse = sklearn_logsumexp(&jll);
        for v in &mut jll {
            *v = (*v - lse).exp();
        }
        jll
    }

    /// Class probabilities of many texts (rows in input order; parallel over texts).
    pub fn predict_proba_texts<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Probabilities {
        let k = self.classes.len();
        let rows: Vec<Vec<f64>> = texts.par_iter().map(|t| self.proba_one(t.as_ref())).collect();
        let mut data = Vec::with_capacity(rows.len() * k);
        for r in rows {
            data.extend_from_slice(&r);
        }
        Probabilities { data, n_classes: k }
    }

    /// The predicted class label of one text (argmax of the joint log-likelihood).
    pub fn predict_one(&self, text: &str) -> u32 {
        self.classes[argmax(&self.joint_log_likelihood(text))]
    }
}

/// scikit-learn's `sklearn.utils._array_api._logsumexp` for one row (see the module docs).
fn sklearn_logsumexp(a: &[f64]) -> f64 {
    let max = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return max;
    }
    let mut m = 0.0f64;
    let mut s = 0.0f64;
    for &v in a {
        if v == max {
            m += 1.0;
        } else {
            s += (v - max).exp();
        }
    }
    (s / m).ln_1p() + m.ln() + max
}

impl Classifier for MultinomialNb {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn input_kind(&self) -> InputKind {
        InputKind::Texts
    }

    fn classes(&self) -> &[u32] {
        &self.classes
    }

    fn predict_proba(&self, inputs: Inputs<'_>) -> Result<Probabilities> {
        match inputs {
            Inputs::Texts(t) => Ok(self.predict_proba_texts(t)),
            other => Err(wrong_input(KIND, self.input_kind(), &other)),
        }
    }

    fn save(&self, path: &Path) -> Result<()> {
        let f = NbFile {
            format: file::FORMAT.into(),
            kind: KIND.into(),
            version: VERSION,
            analyzer: AnalyzerSpec::sklearn_default(),
            alpha: self.alpha,
            fit_prior: self.fit_prior,
            classes: self.classes.clone(),
            class_count: self.class_count.clone(),
            vocabulary: self.vocabulary.clone(),
            feature_count: self
                .feature_count
                .iter()
                .map(|row| SparseCounts {
                    indices: row.iter().map(|&(f, _)| f).collect(),
                    counts: row.iter().map(|&(_, n)| n).collect(),
                })
                .collect(),
        };
        file::write_json(path, &f)
    }

    fn load(path: &Path) -> Result<MultinomialNb> {
        let f: NbFile = file::read_kind(path, KIND, VERSION)?;
        f.into_model(path)
    }
}

impl Fit for MultinomialNb {
    type Options = NbOptions;

    fn fit(inputs: Inputs<'_>, labels: &[u32], options: &NbOptions) -> Result<MultinomialNb> {
        match inputs {
            Inputs::Texts(t) => MultinomialNb::fit_texts(t, labels, options),
            other => Err(wrong_input(KIND, InputKind::Texts, &other)),
        }
    }
}

/// The analyzer settings, stored so a file records exactly how its features were made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct AnalyzerSpec {
    lowercase: bool,
    token_pattern: String,
    ngram_range: [u32; 2],
}

impl AnalyzerSpec {
    fn sklearn_default() -> AnalyzerSpec {
        AnalyzerSpec { lowercase: true, token_pattern: TOKEN_PATTERN.into(), ngram_range: [1, 1] }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct SparseCounts {
    indices: Vec<u32>,
    counts: Vec<u64>,
}

/// Version 1 of the naive Bayes file: header, analyzer, options, classes with their counts,
/// the sorted vocabulary and, per class, the non-zero feature counts.
#[derive(Debug, Serialize, Deserialize)]
struct NbFile {
    format: String,
    kind: String,
    version: u32,
    analyzer: AnalyzerSpec,
    alpha: f64,
    fit_prior: bool,
    classes: Vec<u32>,
    class_count: Vec<u64>,
    vocabulary: Vec<String>,
    feature_count: Vec<SparseCounts>,
}

impl NbFile {
    fn into_model(self, path: &Path) -> Result<MultinomialNb> {
        let bad = |message: String| Error::Format { path: path.to_path_buf(), message };
        let info = FileInfo { kind: self.kind.clone(), version: self.version };
        file::check_version(path, &info, VERSION)?;
        if self.analyzer != AnalyzerSpec::sklearn_default() {
            return Err(bad(format!(
                "unsupported analyzer {:?} (this build supports lowercase, {TOKEN_PATTERN:?}, unigrams)",
                self.analyzer
            )));
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return Err(bad(format!("alpha must be positive, got {}", self.alpha)));
        }
        check_classes(path, &self.classes)?;
        let k = self.classes.len();
        if self.class_count.len() != k || self.feature_count.len() != k {
            return Err(bad(format!(
                "{k} classes but {} class counts and {} feature-count rows",
                self.class_count.len(),
                self.feature_count.len()
            )));
        }
        if self.class_count.contains(&0) {
            return Err(bad("a class has a zero training count".into()));
        }
        if self.vocabulary.windows(2).any(|w| w[0] >= w[1]) {
            return Err(bad("the vocabulary must be sorted and free of duplicates".into()));
        }
        let n_features = self.vocabulary.len();
        let mut rows = Vec::with_capacity(k);
        for (c, sc) in self.feature_count.into_iter().enumerate() {
            if sc.indices.len() != sc.counts.len()
                || sc.indices.windows(2).any(|w| w[0] >= w[1])
                || sc.indices.last().is_some_and(|&f| f as usize >= n_features)
            {
                return Err(bad(format!(
                    "feature counts of class {}: indices must be increasing, below {n_features}, and match the counts",
                    self.classes[c]
                )));
            }
            rows.push(sc.indices.into_iter().zip(sc.counts).collect());
        }
        let index = self.vocabulary.iter().enumerate().map(|(i, t)| (t.clone(), i as u32)).collect();
        Ok(MultinomialNb::from_counts(
            self.alpha,
            self.fit_prior,
            self.classes,
            self.class_count,
            self.vocabulary,
            index,
            rows,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> (Vec<String>, Vec<u32>) {
        let texts = [
            "the cat sat on the mat",
            "a cat and another cat",
            "dogs bark at night",
            "the dog chased the cat",
            "stock prices rose today",
            "markets and prices fell",
        ];
        (texts.iter().map(|s| s.to_string()).collect(), vec![7, 7, 3, 3, 9, 9])
    }

    #[test]
    fn classes_sorted_and_proba_normalised() {
        let (t, y) = toy();
        let nb = MultinomialNb::fit_texts(&t, &y, &NbOptions::default()).unwrap();
        assert_eq!(nb.classes(), &[3, 7, 9]);
        let p = nb.predict_proba_texts(&["cat", "prices", "", "zzz unknown"]);
        for r in p.rows() {
            assert!((r.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
        assert_eq!(nb.classes()[p.argmax(0)], 7);
        assert_eq!(nb.classes()[p.argmax(1)], 9);
        // Empty and all-unknown texts get the prior (uniform here) and the first class.
        for i in [2, 3] {
            for v in p.row(i) {
                assert!((v - 1.0 / 3.0).abs() < 1e-15);
            }
            assert_eq!(p.argmax(i), 0);
        }
        assert_eq!(nb.predict_one("the dog"), 3);
    }

    #[test]
    fn hand_computed_parameters() {
        let t = ["aa bb aa".to_string(), "bb cc".to_string()];
        let nb = MultinomialNb::fit_texts(&t, &[0, 1], &NbOptions::default()).unwrap();
        assert_eq!(nb.vocabulary(), ["aa", "bb", "cc"]);
        // class 0: counts aa=2 bb=1 cc=0, total 3; (n + 1) / (3 + 3)
        assert!((nb.feature_log_prob(0, 0) - (3.0f64 / 6.0).ln()).abs() < 1e-15);
        assert!((nb.feature_log_prob(0, 2) - (1.0f64 / 6.0).ln()).abs() < 1e-15);
        // class 1: bb=1 cc=1, total 2; (n + 1) / (2 + 3)
        assert!((nb.feature_log_prob(1, 1) - (2.0f64 / 5.0).ln()).abs() < 1e-15);
        assert_eq!(nb.feature_count(0, 0), 2);
        assert_eq!(nb.feature_count(1, 0), 0);
        assert!((nb.class_log_prior()[0] - 0.5f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn uniform_prior_and_alpha() {
        let t = ["aa".to_string(), "aa".to_string(), "bb".to_string()];
        let nb = MultinomialNb::fit_texts(&t, &[0, 0, 1], &NbOptions { alpha: 0.5, fit_prior: false }).unwrap();
        assert_eq!(nb.class_log_prior(), &[-(2f64.ln()), -(2f64.ln())]);
        assert!((nb.feature_log_prob(0, 0) - (2.5f64 / 3.0).ln()).abs() < 1e-15, "(2 + .5) / (2 + .5 * 2)");
        for alpha in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let o = NbOptions { alpha, fit_prior: true };
            assert!(MultinomialNb::fit_texts(&t, &[0, 0, 1], &o).is_err());
        }
    }
}
