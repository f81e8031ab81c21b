//! The method presets as typed structs. Each `Default` holds the paper's settings (the one home
//! of those defaults: the CLI and the Python package start from it) and [`Preset::recipe`]
//! renders the stages it runs. Method semantics: docs/methods.md.

use super::spec::*;
use indexmap::IndexMap;

/// The default causal LM for IFD and the LM stages.
pub const DEFAULT_LM: &str = "SmolLM2-135M-Instruct";
/// The default sentence encoder.
pub const DEFAULT_EMBEDDER: &str = "all-MiniLM-L6-v2";
/// The default quality model (gleaner's own scorer).
pub const DEFAULT_QUALITY: &str = "default";
/// The default seed of clustering.
pub const DEFAULT_SEED: u64 = 42;

/// A method preset.
pub trait Preset {
    /// The recipe it runs.
    fn recipe(&self) -> Recipe;
}

/// Where CaR's quality scores come from.
#[derive(Debug, Clone, PartialEq)]
pub enum QualitySource {
    /// Score with a model: `default`, a model file, or an IQS checkpoint (with its encoder).
    Model {
        /// The model.
        model: String,
        /// IQS encoder directory.
        encoder: Option<String>,
    },
    /// Existing values: a record field (CaR's `score`) or a side file `PATH[:COLUMN]`.
    Values(String),
}

/// CaR (docs/methods.md §1): quality score → MiniLM embedding of CaR's text → PCA 0.95 +
/// k-means (k = ⌊√(n/2)⌋) → the top `n1` by quality plus the best `n2` of each cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Car {
    /// Quality scores.
    pub quality: QualitySource,
    /// Sentence encoder.
    pub embedder: String,
    /// Rows taken by score.
    pub n1: usize,
    /// Set n1 to `⌊ratio × rows⌋` instead.
    pub ratio: Option<f64>,
    /// Best rows per cluster added when not already kept.
    pub n2: usize,
    /// PCA before k-means.
    pub pca: PcaSpec,
    /// Number of clusters (`None`: ⌊√(n/2)⌋).
    pub k: Option<usize>,
    /// k-means restarts.
    pub n_init: usize,
    /// Seed.
    pub seed: u64,
    /// Add CaR's `score` and `label` fields to the output (its released format).
    pub annotate: bool,
}

impl Default for Car {
    fn default() -> Car {
        Car {
            quality: QualitySource::Model { model: DEFAULT_QUALITY.into(), encoder: None },
            embedder: DEFAULT_EMBEDDER.into(),
            n1: 1000,
            ratio: None,
            n2: 1,
            pca: PcaSpec::Variance(0.95),
            k: None,
            n_init: 3,
            seed: DEFAULT_SEED,
            annotate: false,
        }
    }
}

fn embed(model: &str, text: &str) -> Stage {
    Stage::Embed(Embed {
        model: model.into(),
        text: text.into(),
        template: None,
        max_length: None,
        batch_tokens: None,
        chunk_rows: None,
        precision: PrecisionChoice::Auto,
    })
}

fn write(annotate: &[(&str, &str)]) -> Stage {
    Stage::Write(Write {
        annotate: annotate.iter().map(|(f, c)| (f.to_string(), c.to_string())).collect::<IndexMap<_, _>>(),
    })
}

impl Preset for Car {
    fn recipe(&self) -> Recipe {
        let score = match &self.quality {
            QualitySource::Model { model, encoder } => {
                Score { model: Some(model.clone()), encoder: encoder.clone(), ..Score::new(Scorer::Quality) }
            }
            QualitySource::Values(src) => Score { source: Some(src.clone()), ..Score::new(Scorer::Existing) },
        };
        Recipe {
            name: "car".into(),
            description: "CaR (Ge et al., 2024): quality score, then MiniLM embeddings of \"Instruction: … Input: … \
                          Response: …\", PCA to 95% of the variance and k-means with k = ⌊√(n/2)⌋; keeps the top \
                          n1 = 1000 by quality plus the best n2 = 1 of each cluster not yet covered."
                .into(),
            stages: vec![
                Stage::Score(score),
                embed(&self.embedder, "car"),
                Stage::Cluster(Cluster {
                    pca: self.pca.clone(),
                    k: self.k.map_or(KSpec::Rule("car".into()), KSpec::Fixed),
                    n_init: self.n_init,
                    seed: self.seed,
                    mini_batch: None,
                }),
                Stage::Select(Select::Car(CarSelect {
                    by: "quality".into(),
                    n1: self.n1,
                    n2: self.n2,
                    ratio: self.ratio,
                })),
                write(if self.annotate { &[("score", "quality"), ("label", "cluster")] } else { &[] }),
            ],
        }
    }
}

/// The causal-LM options shared by the IFD presets.
#[derive(Debug, Clone, PartialEq)]
pub struct Lm {
    /// The causal LM.
    pub model: String,
    /// Prompt template (`None`: the method's own).
    pub template: Option<String>,
    /// Token truncation (`None`: the template's default).
    pub max_length: Option<usize>,
    /// Also compute reversed IFD.
    pub reverse: bool,
    /// Rows per resume chunk.
    pub chunk_rows: usize,
    /// Arithmetic.
    pub precision: PrecisionChoice,
}

impl Default for Lm {
    fn default() -> Lm {
        Lm {
            model: DEFAULT_LM.into(),
            template: None,
            max_length: None,
            reverse: false,
            chunk_rows: 128,
            precision: PrecisionChoice::Auto,
        }
    }
}

impl Lm {
    fn score(&self, default_template: &str) -> Stage {
        Stage::Score(Score {
            model: Some(self.model.clone()),
            template: Some(self.template.clone().unwrap_or_else(|| default_template.into())),
            max_length: self.max_length,
            chunk_rows: Some(self.chunk_rows),
            precision: self.precision,
            ..Score::new(if self.reverse { Scorer::ReversedIfd } else { Scorer::Ifd })
        })
    }
}

/// How many rows a preset keeps: a count, or a ratio of the preset's base.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Keep {
    /// This many.
    Count(usize),
    /// `⌊ratio × base⌋`.
    Ratio(f64),
}

impl Keep {
    fn split(self) -> (Option<usize>, Option<f64>) {
        match self {
            Keep::Count(n) => (Some(n), None),
            Keep::Ratio(r) => (None, Some(r)),
        }
    }
}

/// Cherry (docs/methods.md §2.4): IFD = L(A|Q) / L(A) with the alpaca template (max_length
/// 512) → keep IFD ≤ 1 → the top 6% of those rows → original order.
#[derive(Debug, Clone, PartialEq)]
pub struct Cherry {
    /// The causal LM.
    pub lm: Lm,
    /// How many to keep (a ratio of the rows with IFD ≤ 1).
    pub keep: Keep,
    /// Add `ifd_loss` to the output records.
    pub annotate: bool,
}

impl Default for Cherry {
    fn default() -> Cherry {
        Cherry { lm: Lm::default(), keep: Keep::Ratio(0.06), annotate: false }
    }
}

impl Preset for Cherry {
    fn recipe(&self) -> Recipe {
        let (budget, ratio) = self.keep.split();
        Recipe {
            name: "cherry".into(),
            description: "Cherry (Li et al., 2024): IFD = loss of the response given the instruction / loss alone \
                          (alpaca template, 512 tokens); keeps IFD ≤ 1, then the top 6% of those by IFD, in \
                          input order."
                .into(),
            stages: vec![
                self.lm.score("alpaca"),
                Stage::Filter(Filter {
                    column: "ifd_loss".into(),
                    at_most: Some(1.0),
                    reason: Some("IFD > 1 (misaligned)".into()),
                    ..Filter::default()
                }),
                Stage::Select(Select::TopK(TopK {
                    by: "ifd_loss".into(),
                    budget,
                    ratio,
                    ratio_of: RatioOf::Remaining,
                    base: None,
                    ascending: false,
                    order: Order::Input,
                    ties: Ties::Last,
                })),
                write(if self.annotate { &[("ifd_loss", "ifd_loss")] } else { &[] }),
            ],
        }
    }
}

/// Superfiltering (docs/methods.md §3.4): IFD = PPL(A|Q) / PPL(A), template none (max_length
/// 1024) → keep IFD < 1 → the top 10% of all rows, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct Superfilter {
    /// The causal LM.
    pub lm: Lm,
    /// How many to keep (a ratio of all rows, or of `reference_count`).
    pub keep: Keep,
    /// Strict upper bound on the IFD.
    pub threshold: f64,
    /// Base of the ratio instead of the real row count (the reference hard-codes 52,002).
    pub reference_count: Option<usize>,
    /// Add `ifd_ppl` to the output records.
    pub annotate: bool,
}

impl Default for Superfilter {
    fn default() -> Superfilter {
        Superfilter {
            lm: Lm::default(),
            keep: Keep::Ratio(0.1),
            threshold: 1.0,
            reference_count: None,
            annotate: false,
        }
    }
}

fn ifd_below(threshold: f64) -> Stage {
    Stage::Filter(Filter {
        column: "ifd_ppl".into(),
        below: Some(threshold),
        reason: Some(format!("IFD ≥ {threshold} (misaligned)")),
        ..Filter::default()
    })
}

impl Preset for Superfilter {
    fn recipe(&self) -> Recipe {
        let (budget, ratio) = self.keep.split();
        Recipe {
            name: "superfilter".into(),
            description: "Superfiltering (Li et al., 2024): IFD = perplexity of the response given the instruction / \
                          alone (no template, 1024 tokens); keeps IFD < 1, then the top 10% of all rows by IFD, \
                          best first."
                .into(),
            stages: vec![
                self.lm.score("none"),
                ifd_below(self.threshold),
                Stage::Select(Select::TopK(TopK {
                    by: "ifd_ppl".into(),
                    budget,
                    ratio,
                    ratio_of: RatioOf::Input,
                    base: self.reference_count,
                    ascending: false,
                    order: Order::Score,
                    ties: Ties::First,
                })),
                write(if self.annotate { &[("ifd_ppl", "ifd_ppl")] } else { &[] }),
            ],
        }
    }
}

/// Superfiltering.D (docs/methods.md §3.5): the top 20% by IFD (below 1) → MiniLM embeddings →
/// facility location to 2% of the rows.
#[derive(Debug, Clone, PartialEq)]
pub struct SuperfilterD {
    /// The causal LM.
    pub lm: Lm,
    /// Sentence encoder.
    pub embedder: String,
    /// IFD candidates (a ratio of all rows, or a count).
    pub candidates: Keep,
    /// Strict upper bound on the IFD (0 disables it).
    pub upper: f64,
    /// Facility-location budget (a ratio of all rows, or a count).
    pub keep: Keep,
    /// Text embedded: `fl`, `fl-instruction` or `fl-response`.
    pub text: String,
}

impl Default for SuperfilterD {
    fn default() -> SuperfilterD {
        SuperfilterD {
            lm: Lm::default(),
            embedder: DEFAULT_EMBEDDER.into(),
            candidates: Keep::Ratio(0.2),
            upper: 1.0,
            keep: Keep::Ratio(0.02),
            text: "fl".into(),
        }
    }
}

impl Preset for SuperfilterD {
    fn recipe(&self) -> Recipe {
        let (top, top_ratio) = self.candidates.split();
        let (budget, ratio) = self.keep.split();
        let mut stages = vec![self.lm.score("none")];
        if self.upper != 0.0 {
            stages.push(ifd_below(self.upper));
        }
        stages.extend([
            Stage::Filter(Filter {
                column: "ifd_ppl".into(),
                top,
                top_ratio,
                ratio_of: RatioOf::Input,
                reason: Some("below the IFD candidate cut".into()),
                ..Filter::default()
            }),
            embed(&self.embedder, &self.text),
            Stage::Select(Select::FacilityLocation(FacilitySelect { budget, ratio })),
            write(&[]),
        ]);
        Recipe {
            name: "superfilter-d".into(),
            description: "Superfiltering.D: the top 20% of rows by IFD (below 1), then facility location \
                          (lazy greedy, exp(-‖x-y‖/d)) on their MiniLM embeddings down to 2% of the rows."
                .into(),
            stages,
        }
    }
}

/// Low-Confidence Gold (docs/methods.md §4): MiniLM embedding of `input instruction` → PCA 0.95
/// and k-means (k = 40) → the 40 nearest per cluster are pseudo-labelled → multinomial NB → the
/// 4 nearest per cluster, then the least confident rows, to 1,000 rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Lcg {
    /// Sentence encoder.
    pub embedder: String,
    /// How many to keep (a ratio of all rows, or a count).
    pub keep: Keep,
    /// Number of clusters, or a rule.
    pub k: KSpec,
    /// PCA before k-means.
    pub pca: PcaSpec,
    /// k-means restarts.
    pub n_init: usize,
    /// Seed (clustering and the neural head).
    pub seed: u64,
    /// Pseudo-labelled rows per cluster.
    pub pseudo: usize,
    /// Nearest-to-centroid rows per cluster placed first.
    pub seeds: usize,
    /// Cap on low-confidence picks per cluster.
    pub per_cluster_quota: Option<usize>,
    /// The classifier and its options.
    pub classify: Classify,
}

impl Default for Lcg {
    fn default() -> Lcg {
        Lcg {
            embedder: DEFAULT_EMBEDDER.into(),
            keep: Keep::Count(1000),
            k: KSpec::Fixed(40),
            pca: PcaSpec::Variance(0.95),
            n_init: 3,
            seed: DEFAULT_SEED,
            pseudo: 40,
            seeds: 4,
            per_cluster_quota: None,
            classify: Classify {
                pseudo_per_cluster: 40,
                classifier: ClassifierKind::Nb,
                epochs: None,
                lr: None,
                batch_size: None,
                hidden: None,
                seed: None,
                load: None,
                save: None,
            },
        }
    }
}

impl Preset for Lcg {
    fn recipe(&self) -> Recipe {
        let (budget, ratio) = self.keep.split();
        let mut classify = self.classify.clone();
        classify.pseudo_per_cluster = self.pseudo;
        Recipe {
            name: "lcg".into(),
            description: "Low-Confidence Gold (Cai et al., 2025): MiniLM embeddings of \"input instruction\", PCA to \
                          95% of the variance, k-means with k = 40; the 40 rows nearest each centroid train a \
                          multinomial naive Bayes on their cluster labels; keeps the 4 nearest per cluster, then \
                          the least confident rows, to 1,000 rows."
                .into(),
            stages: vec![
                embed(&self.embedder, "lcg"),
                Stage::Cluster(Cluster {
                    pca: self.pca.clone(),
                    k: self.k.clone(),
                    n_init: self.n_init,
                    seed: self.seed,
                    mini_batch: None,
                }),
                Stage::Classify(classify),
                Stage::Select(Select::Lcg(LcgSelect {
                    budget,
                    ratio,
                    seeds: self.seeds,
                    per_cluster_quota: self.per_cluster_quota,
                })),
                write(&[]),
            ],
        }
    }
}

/// Cherry's pre-experienced samples (docs/methods.md §2.3): k-means (100, no PCA) on the LM's
/// mean last hidden state of the prompt → per cluster, 10 prompts evenly spaced within the
/// 25th–75th prompt-perplexity percentiles.
#[derive(Debug, Clone, PartialEq)]
pub struct PreExperience {
    /// The causal LM (template default alpaca, max_length 512).
    pub lm: Lm,
    /// Number of clusters.
    pub clusters: usize,
    /// Samples per cluster.
    pub per_cluster: usize,
    /// Lower percentile.
    pub low: f64,
    /// Upper percentile.
    pub up: f64,
    /// Cluster this sentence encoder's embeddings of the prompt instead of the LM's states.
    pub sentence_embeddings: Option<String>,
    /// Seed.
    pub seed: u64,
}

impl Default for PreExperience {
    fn default() -> PreExperience {
        PreExperience {
            lm: Lm::default(),
            clusters: 100,
            per_cluster: 10,
            low: 25.0,
            up: 75.0,
            sentence_embeddings: None,
            seed: DEFAULT_SEED,
        }
    }
}

impl Preset for PreExperience {
    fn recipe(&self) -> Recipe {
        let template = self.lm.template.clone().unwrap_or_else(|| "alpaca".into());
        let mut stages = vec![Stage::Embed(Embed {
            model: self.lm.model.clone(),
            text: "prompt-states".into(),
            template: Some(template.clone()),
            max_length: self.lm.max_length,
            batch_tokens: None,
            chunk_rows: None,
            precision: self.lm.precision,
        })];
        if let Some(e) = &self.sentence_embeddings {
            stages.push(Stage::Embed(Embed {
                model: e.clone(),
                text: "prompt".into(),
                template: Some(template),
                max_length: None,
                batch_tokens: None,
                chunk_rows: None,
                precision: PrecisionChoice::Auto,
            }));
        }
        stages.extend([
            Stage::Cluster(Cluster {
                pca: PcaSpec::Name("none".into()),
                k: KSpec::Fixed(self.clusters),
                n_init: 1,
                seed: self.seed,
                mini_batch: None,
            }),
            Stage::Select(Select::PreExperience(PreExperienceSelect {
                by: "prompt_ppl".into(),
                per_cluster: self.per_cluster,
                low: self.low,
                up: self.up,
            })),
            write(&[]),
        ]);
        Recipe {
            name: "pre-experience".into(),
            description: "Cherry's pre-experienced samples: k-means (100 clusters, no PCA) on the causal LM's mean \
                          last hidden state of each prompt; per cluster, 10 prompts evenly spaced within the \
                          25th-75th percentiles of prompt perplexity."
                .into(),
            stages,
        }
    }
}

/// The six presets at their defaults, as recipes.
pub fn all() -> Vec<Recipe> {
    vec![
        Car::default().recipe(),
        Cherry::default().recipe(),
        Superfilter::default().recipe(),
        SuperfilterD::default().recipe(),
        Lcg::default().recipe(),
        PreExperience::default().recipe(),
    ]
}
