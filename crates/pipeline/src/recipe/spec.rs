//! The recipe format: a TOML file with a `name`, a `description` and an ordered list of
//! `[[stage]]` tables. Each table's `stage` key names the stage; the other keys are its
//! parameters. The README's "Recipes" section documents every key; `gleaner recipes show NAME`
//! prints a bundled recipe in this format.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// A recipe: stages run in order over the input rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// A short name (the bundled recipes' names are the `gleaner run` presets).
    pub name: String,
    /// What the recipe does and where its settings come from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The stages, in order.
    #[serde(rename = "stage")]
    pub stages: Vec<Stage>,
}

/// One stage of a recipe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "kebab-case")]
pub enum Stage {
    /// How the input is read (the path comes from the command line).
    Read(Read),
    /// Adds score columns: quality, IFD (optionally reversed), length or random.
    Score(Score),
    /// Embeds the rows still in play (sentence encoder, or a causal LM's prompt states).
    Embed(Embed),
    /// PCA + k-means on the last embeddings: adds `cluster` and `distance`.
    Cluster(Cluster),
    /// Drops rows by a threshold, a range or a rank on a score column.
    Filter(Filter),
    /// Turns several score columns into one (rank average or product of normalised scores).
    Combine(Combine),
    /// LCG's classifier on pseudo-labelled centroid neighbours: adds `confidence`.
    Classify(Classify),
    /// Drops duplicates (exact, MinHash near-duplicates or semantic) and rows whose prompt
    /// matches an evaluation set.
    Dedup(Dedup),
    /// The selection rule: the kept rows and why.
    Select(Select),
    /// How the kept rows are written.
    Write(Write),
}

impl Stage {
    /// The stage's name as written in a recipe.
    pub fn kind(&self) -> &'static str {
        match self {
            Stage::Read(_) => "read",
            Stage::Score(_) => "score",
            Stage::Embed(_) => "embed",
            Stage::Cluster(_) => "cluster",
            Stage::Filter(_) => "filter",
            Stage::Combine(_) => "combine",
            Stage::Classify(_) => "classify",
            Stage::Dedup(_) => "dedup",
            Stage::Select(_) => "select",
            Stage::Write(_) => "write",
        }
    }
}

/// What to do with a bad input record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnBadRecord {
    /// Stop at the first bad record, naming the file and the line or record.
    #[default]
    Fail,
    /// Skip bad records and count them per reason.
    Skip,
}

/// `stage = "read"`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Read {
    /// Input format instead of the extension's (`json`, `jsonl`, `parquet`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Use only the first N accepted rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// What to do with a bad record.
    #[serde(default, skip_serializing_if = "is_default")]
    pub on_error: OnBadRecord,
}

/// Arithmetic of a model's dense layers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PrecisionChoice {
    /// Each model's own default (see [`crate::models::resolve_precision`]).
    #[default]
    Auto,
    /// f32 everywhere: the reference arithmetic.
    F32,
    /// Three-term bf16 on AMX tiles (near-f32).
    Bf16x3,
    /// One-term bf16 on AMX tiles (the fast mode).
    Bf16,
}

impl PrecisionChoice {
    /// All values, as written.
    pub const NAMES: [&'static str; 4] = ["auto", "f32", "bf16x3", "bf16"];

    /// The name as written in recipes and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            PrecisionChoice::Auto => "auto",
            PrecisionChoice::F32 => "f32",
            PrecisionChoice::Bf16x3 => "bf16x3",
            PrecisionChoice::Bf16 => "bf16",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<PrecisionChoice> {
        Some(match s {
            "auto" => PrecisionChoice::Auto,
            "f32" => PrecisionChoice::F32,
            "bf16x3" => PrecisionChoice::Bf16x3,
            "bf16" => PrecisionChoice::Bf16,
            _ => return None,
        })
    }
}

/// Which scorer a score stage runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scorer {
    /// `quality`: gleaner's quality scorer (`model = "default"`), a model file from `gleaner
    /// train quality`, or CaR's IQS checkpoint.
    Quality,
    /// `loss_direct`, `loss_cond`, `ifd_ppl`, `ifd_loss`, `tokens_direct`, `tokens_cond`, … from a
    /// causal LM.
    Ifd,
    /// The IFD columns plus the reversed IFD ones (`rifd_ppl`, `rifd_loss`, …).
    ReversedIfd,
    /// `response_tokens` (the causal LM's tokenizer; every assistant turn counted) or
    /// `response_chars`.
    Length,
    /// `random`: uniform in [0, 1), a hash of the row id and the seed (stable under subsetting).
    Random,
    /// Values computed elsewhere: `source` names a record field (CaR's released `score`) or a
    /// side file `PATH[:COLUMN]`; they become the column `into` (default `quality`).
    Existing,
}

impl Scorer {
    /// The name as written in recipes.
    pub fn name(self) -> &'static str {
        match self {
            Scorer::Quality => "quality",
            Scorer::Ifd => "ifd",
            Scorer::ReversedIfd => "reversed-ifd",
            Scorer::Length => "length",
            Scorer::Random => "random",
            Scorer::Existing => "existing",
        }
    }
}

/// What a length scorer counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LengthUnit {
    /// Tokens of the causal LM's tokenizer (`response_tokens`).
    #[default]
    Tokens,
    /// Unicode scalar values (`response_chars`).
    Chars,
}

/// `stage = "score"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Score {
    /// The scorer.
    pub scorer: Scorer,
    /// The model: a name, a file or a directory (quality: `default`; IFD and length:
    /// `SmolLM2-135M-Instruct`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// IFD prompt template: `none`, `alpaca`, `wiz`, `vicuna`, `chatml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// IFD token truncation length (default: the template's, 1024 for none/chatml, 512 else).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// Rows per resume chunk of the IFD and quality scorers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_rows: Option<usize>,
    /// Arithmetic of the model.
    #[serde(default, skip_serializing_if = "is_default")]
    pub precision: PrecisionChoice,
    /// Random scorer: the seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Length scorer: what to count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<LengthUnit>,
    /// IQS: the encoder directory when not beside the checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoder: Option<String>,
    /// Existing values: the record field or side file `PATH[:COLUMN]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Existing values: the column they become (default `quality`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub into: Option<String>,
}

impl Score {
    /// A score stage with every option at its default.
    pub fn new(scorer: Scorer) -> Score {
        Score {
            scorer,
            model: None,
            template: None,
            max_length: None,
            chunk_rows: None,
            precision: PrecisionChoice::Auto,
            seed: None,
            unit: None,
            encoder: None,
            source: None,
            into: None,
        }
    }
}

/// `stage = "embed"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Embed {
    /// The model: a sentence encoder (`all-MiniLM-L6-v2`), or a causal LM for
    /// `text = "prompt-states"`.
    pub model: String,
    /// What is embedded: `car`, `lcg`, `fl`, `fl-instruction`, `fl-response`, `conversation`,
    /// `prompt` (the template's prompt), a template such as `"{instruction}\n{output}"`, or
    /// `prompt-states` (the causal LM's mean last hidden state of the prompt; also adds
    /// `prompt_ppl`, the prompt's perplexity).
    pub text: String,
    /// Template of `prompt` and `prompt-states`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Token truncation of `prompt-states`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// Tokens per forward batch of a sentence encoder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_tokens: Option<usize>,
    /// Rows per resume chunk (a rerun after an interruption skips finished chunks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_rows: Option<usize>,
    /// Arithmetic of the model.
    #[serde(default, skip_serializing_if = "is_default")]
    pub precision: PrecisionChoice,
}

/// PCA before k-means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PcaSpec {
    /// A component count.
    Components(usize),
    /// A fraction of the variance in (0, 1).
    Variance(f64),
    /// `"none"`.
    Name(String),
}

/// The number of clusters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KSpec {
    /// A fixed count (capped at the row count).
    Fixed(usize),
    /// A rule: `car` = ⌊√(n/2)⌋, `lcg` = ⌊√(n/8)⌋.
    Rule(String),
}

/// `stage = "cluster"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    /// PCA: a variance fraction, a component count, or `"none"`.
    pub pca: PcaSpec,
    /// Number of clusters or a rule.
    pub k: KSpec,
    /// k-means restarts (the lowest inertia wins).
    pub n_init: usize,
    /// Seed.
    pub seed: u64,
    /// Mini-batch k-means with this batch size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mini_batch: Option<usize>,
}

/// What a ratio is a ratio of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RatioOf {
    /// The rows read.
    #[default]
    Input,
    /// The rows still in play when the stage runs.
    Remaining,
}

/// `stage = "filter"`: keeps the rows whose `column` passes every bound given; rows whose
/// value is NaN are dropped as "not computable". With `top` or `top_ratio`, keeps the highest
/// (or lowest, `ascending = true`) rows instead, in rank order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// The score column.
    pub column: String,
    /// Keep values `< below`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<f64>,
    /// Keep values `≤ at_most`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_most: Option<f64>,
    /// Keep values `> above`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<f64>,
    /// Keep values `≥ at_least`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<f64>,
    /// Keep the `top` best rows (after the bounds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top: Option<usize>,
    /// Keep the best `top_ratio × base` rows (after the bounds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_ratio: Option<f64>,
    /// The base of `top_ratio`.
    #[serde(default, skip_serializing_if = "is_default")]
    pub ratio_of: RatioOf,
    /// Rank ascending (lowest first) for `top` / `top_ratio`.
    #[serde(default, skip_serializing_if = "is_default")]
    pub ascending: bool,
    /// The reason reported for the dropped rows (default: a description of the bound).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// How a combine stage merges its columns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CombineMethod {
    /// Weighted mean of each column's rank among the rows in play, scaled to [0, 1] (ties
    /// share their mean rank).
    #[default]
    RankMean,
    /// Product of each column min-max normalised to [0, 1] among the rows in play, each raised
    /// to its weight (DEITA multiplies complexity by quality).
    Product,
}

/// `stage = "combine"`: a new score column from several; NaN in any input gives NaN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Combine {
    /// The new column's name.
    pub into: String,
    /// The columns merged (higher is better unless listed in `lower_is_better`).
    pub columns: Vec<String>,
    /// One weight per column (default: equal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<Vec<f64>>,
    /// Columns where lower values are better.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lower_is_better: Vec<String>,
    /// How they merge.
    #[serde(default, skip_serializing_if = "is_default")]
    pub method: CombineMethod,
}

/// The classifier LCG trains.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClassifierKind {
    /// Multinomial naive Bayes on word counts of the LCG text (scikit-learn exact).
    #[default]
    Nb,
    /// A softmax (or one-hidden-layer) head on the frozen embeddings.
    Neural,
}

/// `stage = "classify"`: LCG's pseudo-labelled classifier. The rows nearest each centroid are
/// labelled with their cluster, a classifier is trained on them, and every row in play gets
/// `confidence` (the largest class probability) and `predicted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Classify {
    /// Pseudo-labelled rows per cluster.
    pub pseudo_per_cluster: usize,
    /// The classifier.
    pub classifier: ClassifierKind,
    /// Neural head: epochs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<usize>,
    /// Neural head: Adam learning rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr: Option<f32>,
    /// Neural head: batch size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
    /// Neural head: width of one hidden layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<usize>,
    /// Neural head: seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Load a saved classifier instead of training one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<String>,
    /// Save the trained classifier here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save: Option<String>,
}

/// Output order of a top-k selection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Order {
    /// Best first.
    #[default]
    Score,
    /// Input order.
    Input,
}

/// Which of two equal scores ranks first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ties {
    /// The earlier row (a stable sort).
    #[default]
    First,
    /// The later row (Cherry's selection script).
    Last,
}

/// `stage = "select"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
pub enum Select {
    /// The best rows by one column.
    TopK(TopK),
    /// CaR: the top `n1` by score, then the best `n2` of each cluster not yet covered.
    Car(CarSelect),
    /// Facility location (lazy greedy) on the last embeddings.
    FacilityLocation(FacilitySelect),
    /// LCG: the rows nearest each centroid, then the least confident rows.
    Lcg(LcgSelect),
    /// Cherry's pre-experienced samples: per cluster, prompts evenly spaced in a perplexity
    /// band.
    PreExperience(PreExperienceSelect),
}

/// `rule = "top-k"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopK {
    /// The column ranked (higher first unless `ascending`).
    pub by: String,
    /// Keep this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<usize>,
    /// Keep `⌊ratio × base⌋`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    /// The base of `ratio`.
    #[serde(default, skip_serializing_if = "is_default")]
    pub ratio_of: RatioOf,
    /// A fixed base for `ratio` instead (Superfiltering's script hard-codes 52,002).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<usize>,
    /// Lowest first.
    #[serde(default, skip_serializing_if = "is_default")]
    pub ascending: bool,
    /// Output order.
    #[serde(default, skip_serializing_if = "is_default")]
    pub order: Order,
    /// Tie-breaking.
    #[serde(default, skip_serializing_if = "is_default")]
    pub ties: Ties,
}

/// `rule = "car"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarSelect {
    /// The score column.
    pub by: String,
    /// Rows taken by score.
    pub n1: usize,
    /// Best rows per cluster added when not already kept.
    pub n2: usize,
    /// Set n1 to `⌊ratio × input rows⌋` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
}

/// `rule = "facility-location"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FacilitySelect {
    /// Keep this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<usize>,
    /// Keep `⌊ratio × input rows⌋`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
}

/// `rule = "lcg"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LcgSelect {
    /// Keep this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<usize>,
    /// Keep `⌊ratio × input rows⌋`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    /// Nearest-to-centroid rows per cluster placed first.
    pub seeds: usize,
    /// Cap on low-confidence picks per cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_cluster_quota: Option<usize>,
}

/// `rule = "pre-experience"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreExperienceSelect {
    /// The perplexity column.
    pub by: String,
    /// Samples per cluster.
    pub per_cluster: usize,
    /// Lower percentile of the band.
    pub low: f64,
    /// Upper percentile of the band.
    pub up: f64,
}

/// `stage = "write"`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Write {
    /// Fields added to each written record, in this order: field name → score column
    /// (`cluster` is written as a decimal string, as CaR's released file has it).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub annotate: IndexMap<String, String>,
}

/// How a dedup stage compares rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DedupMethod {
    /// Equal after normalisation (NFKC, case, punctuation, whitespace).
    Exact,
    /// Word 5-gram Jaccard ≥ threshold (default 0.8), MinHash-LSH candidates verified exactly.
    #[default]
    Minhash,
    /// Cosine of sentence embeddings ≥ threshold (default 0.95), k-means blocking.
    Semantic,
}

impl DedupMethod {
    /// The name as written.
    pub fn name(self) -> &'static str {
        match self {
            DedupMethod::Exact => "exact",
            DedupMethod::Minhash => "minhash",
            DedupMethod::Semantic => "semantic",
        }
    }
}

/// Which text of a record a dedup stage compares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DedupFields {
    /// The prompt: the instruction and input (every user turn of a multi-turn record).
    Prompt,
    /// The response (every assistant turn).
    Response,
    /// The whole record: system prompt, input and the turns `turns` names.
    #[default]
    All,
}

impl DedupFields {
    /// The name as written.
    pub fn name(self) -> &'static str {
        match self {
            DedupFields::Prompt => "prompt",
            DedupFields::Response => "response",
            DedupFields::All => "all",
        }
    }
}

/// Which turns of a multi-turn record `fields = "all"` covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DedupTurns {
    /// Every turn.
    #[default]
    All,
    /// The user turns only (with the system prompt and input).
    User,
}

/// `stage = "dedup"`: drops rows whose prompt matches an evaluation set (`against`), then
/// every duplicate but one per cluster (`keep`). Each row gets `dup_cluster`, `dup_of` and
/// `similarity` in the side file `dedup-METHOD-FIELDS.parquet`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dedup {
    /// `exact`, `minhash` or `semantic`.
    #[serde(default, skip_serializing_if = "is_default")]
    pub method: DedupMethod,
    /// `prompt`, `response` or `all`.
    #[serde(default, skip_serializing_if = "is_default")]
    pub fields: DedupFields,
    /// Multi-turn records: `all` turns or `user` turns only.
    #[serde(default, skip_serializing_if = "is_default")]
    pub turns: DedupTurns,
    /// Which row of a cluster stays: `first` (default), `longest` or `score:COLUMN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep: Option<String>,
    /// Jaccard (minhash, default 0.8) or cosine (semantic, default 0.95) threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// MinHash permutations (default 128).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub perms: Option<usize>,
    /// Shingle size in units (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ngram: Option<usize>,
    /// Shingle unit: `auto` (words; characters for CJK text), `word` or `char`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Semantic: the sentence encoder when no earlier `embed` stage's embeddings are reused
    /// (default all-MiniLM-L6-v2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Semantic: arithmetic of the sentence encoder when it runs here (`auto`: bf16 on AMX
    /// machines, else f32).
    #[serde(default, skip_serializing_if = "is_default")]
    pub precision: PrecisionChoice,
    /// Evaluation sets (files of prompts): pool rows whose prompt matches one exactly, as a
    /// near-duplicate (MinHash) or, with `method = "semantic"`, semantically, are dropped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub against: Vec<String>,
}

fn is_default<T: Default + PartialEq>(t: &T) -> bool {
    *t == T::default()
}
