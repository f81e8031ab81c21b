//! Loading an IQS checkpoint and scoring texts.

use crate::sparsemax::sparsemax;
use candle_core::pickle::PthTensors;
use gleaner_core::{Error, Result};
use gleaner_embed::{BertConfig, BertEncoder};
use gleaner_nn::weights::{TensorF32, read_json};
use gleaner_nn::{Linear, Packed, Precision};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use tokenizers::{Tokenizer, TruncationParams};

/// The `hparams.yaml` fields inference needs (others are ignored).
#[derive(Debug, Clone, Deserialize)]
pub struct IqsConfig {
    /// COMET class (`instruction_metric` for IQS).
    #[serde(default)]
    pub class_identifier: Option<String>,
    /// Encoder name or directory (`xlm-roberta-large` in CaR).
    pub pretrained_model: String,
    /// Pooling: only `avg` is supported (CaR's setting).
    #[serde(default = "default_pool")]
    pub pool: String,
    /// Layer selection: `mix` (CaR) or a layer index.
    #[serde(default = "default_layer")]
    pub layer: serde_yaml_ng::Value,
    /// `sparsemax` (CaR) or `softmax`.
    #[serde(default = "default_transform")]
    pub layer_transformation: String,
    /// Normalise each layer before mixing (CaR: false; true is not supported).
    #[serde(default)]
    pub layer_norm: bool,
    /// Head hidden sizes.
    pub hidden_sizes: Vec<usize>,
    /// Head activation (`Tanh` in CaR).
    #[serde(default = "default_act")]
    pub activations: String,
    /// Final activation (`null` in CaR).
    #[serde(default)]
    pub final_activation: Option<String>,
}

fn default_pool() -> String {
    "avg".into()
}
fn default_layer() -> serde_yaml_ng::Value {
    serde_yaml_ng::Value::String("mix".into())
}
fn default_transform() -> String {
    "sparsemax".into()
}
fn default_act() -> String {
    "Tanh".into()
}

#[derive(Debug, Clone, Copy)]
enum Act {
    Tanh,
    Relu,
    Sigmoid,
    Identity,
}

impl Act {
    fn parse(s: &str) -> Result<Act> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "tanh" => Act::Tanh,
            "relu" => Act::Relu,
            "sigmoid" => Act::Sigmoid,
            "" | "null" | "none" | "identity" => Act::Identity,
            other => {
                return Err(Error::model("iqs", format!("unsupported activation `{other}`")));
            }
        })
    }

    fn apply(self, x: &mut [f32]) {
        match self {
            Act::Tanh => x.iter_mut().for_each(|v| *v = v.tanh()),
            Act::Relu => x.iter_mut().for_each(|v| *v = v.max(0.0)),
            Act::Sigmoid => x.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-*v).exp())),
            Act::Identity => {}
        }
    }
}

/// A loaded IQS model.
pub struct Iqs {
    tokenizer: Tokenizer,
    encoder: BertEncoder,
    /// Layer weights after the sparsemax (or softmax), one per hidden state.
    pub layer_weights: Vec<f32>,
    /// The mix's γ.
    pub gamma: f32,
    head: Vec<Linear>,
    act: Act,
    final_act: Act,
    /// Token limit including `<s>`/`</s>`.
    pub max_len: usize,
    /// Packed tokens per forward batch.
    pub batch_tokens: usize,
}

fn ckpt_in(dir: &Path) -> Result<PathBuf> {
    let cdir = dir.join("checkpoints");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&cdir)
        .map_err(|e| Error::io(&cdir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "ckpt"))
        .collect();
    found.sort();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Error::model(dir.display().to_string(), "no .ckpt file under checkpoints/")),
        _ => Err(Error::model(
            dir.display().to_string(),
            format!("several .ckpt files under checkpoints/; pass one: {found:?}"),
        )),
    }
}

impl Iqs {
    /// Where `hparams.yaml` says the encoder is, when it is a directory beside it.
    pub fn local_encoder_dir(model_dir: &Path) -> Result<Option<PathBuf>> {
        let cfg = Iqs::read_config(model_dir)?;
        let p = model_dir.join(&cfg.pretrained_model);
        Ok(p.join("config.json").is_file().then_some(p))
    }

    /// Reads `hparams.yaml`.
    pub fn read_config(model_dir: &Path) -> Result<IqsConfig> {
        let p = model_dir.join("hparams.yaml");
        let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
        serde_yaml_ng::from_str(&text)
            .map_err(|e| Error::model(p.display().to_string(), format!("bad hparams.yaml: {e}")))
    }

    /// Loads from a model directory (`hparams.yaml` + `checkpoints/*.ckpt`, or a `.ckpt` path
    /// whose grandparent holds `hparams.yaml`, as COMET does) and an encoder directory with
    /// `config.json` and `tokenizer.json`. Every dense layer (encoder and head) runs in
    /// `precision`: [`Precision::F32`] is the reference arithmetic; bf16 ones run in f32 where
    /// AMX is missing ([`gleaner_nn::effective`]).
    pub fn load(model: &Path, encoder_dir: &Path, precision: Precision) -> Result<Iqs> {
        let (model_dir, ckpt) = if model.is_file() {
            let dir = model.parent().and_then(Path::parent).unwrap_or(Path::new(".")).to_path_buf();
            (dir, model.to_path_buf())
        } else {
            (model.to_path_buf(), ckpt_in(model)?)
        };
        let cfg = Iqs::read_config(&model_dir)?;
        let name = model_dir.display().to_string();
        if cfg.pool != "avg" {
            return Err(Error::model(&name, format!("pool `{}` is not supported (IQS uses avg)", cfg.pool)));
        }
        if cfg.layer.as_str() != Some("mix") {
            return Err(Error::model(&name, "only the layer `mix` is supported (IQS's setting)"));
        }
        if cfg.layer_norm {
            return Err(Error::model(&name, "layer_norm: true is not supported (IQS uses false)"));
        }
        let pth = PthTensors::new(&ckpt, Some("state_dict"))
            .map_err(|e| Error::model(ckpt.display().to_string(), format!("cannot read checkpoint: {e}")))?;
        let get = |n: &str| -> Result<TensorF32> {
            let t = pth
                .get(n)
                .map_err(|e| Error::model(ckpt.display().to_string(), format!("{n}: {e}")))?
                .ok_or_else(|| Error::model(ckpt.display().to_string(), format!("missing tensor `{n}`")))?;
            let dims = t.dims().to_vec();
            let v = t
                .to_dtype(candle_core::DType::F32)
                .and_then(|t| t.flatten_all())
                .and_then(|t| t.to_vec1::<f32>())
                .map_err(|e| Error::model(ckpt.display().to_string(), format!("{n}: {e}")))?;
            Ok((v, dims))
        };
        let enc_cfg = BertConfig::from_json(&read_json(&encoder_dir.join("config.json"))?, encoder_dir)?;
        let n_layers = enc_cfg.layers;
        let max_positions = enc_cfg.max_positions;
        let encoder =
            BertEncoder::from_tensors(enc_cfg, &|n| get(&format!("encoder.model.{n}")))?.with_precision(precision);
        let raw: Vec<f64> = (0..=n_layers)
            .map(|k| get(&format!("layerwise_attention.scalar_parameters.{k}")).map(|t| f64::from(t.0[0])))
            .collect::<Result<_>>()?;
        let weights = match cfg.layer_transformation.as_str() {
            "sparsemax" => sparsemax(&raw),
            "softmax" => {
                let m = raw.iter().copied().fold(f64::MIN, f64::max);
                let e: Vec<f64> = raw.iter().map(|v| (v - m).exp()).collect();
                let z: f64 = e.iter().sum();
                e.iter().map(|v| v / z).collect()
            }
            other => {
                return Err(Error::model(&name, format!("layer_transformation `{other}` is not supported")));
            }
        };
        let gamma = get("layerwise_attention.gamma")?.0[0];
        let mut head = Vec::new();
        for k in 0..=cfg.hidden_sizes.len() {
            let idx = 3 * k; // Linear, activation, dropout per hidden layer
            let (w, s) = get(&format!("estimator.ff.{idx}.weight"))?;
            let b = get(&format!("estimator.ff.{idx}.bias"))?.0;
            head.push(Linear::new(w, Some(b), s[0], s[1]).with_precision(precision));
        }
        let tok_path = encoder_dir.join("tokenizer.json");
        let mut tokenizer = Tokenizer::from_file(&tok_path)
            .map_err(|e| Error::model(tok_path.display().to_string(), format!("cannot load tokenizer: {e}")))?;
        // COMET: max_positions = max_position_embeddings − 2, truncation at max_positions − 2.
        let max_len = max_positions.saturating_sub(4).max(2);
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: max_len, ..Default::default() }))
            .map_err(|e| Error::model(tok_path.display().to_string(), e.to_string()))?;
        Ok(Iqs {
            tokenizer,
            encoder,
            layer_weights: weights.iter().map(|&w| w as f32).collect(),
            gamma,
            head,
            act: Act::parse(&cfg.activations)?,
            final_act: Act::parse(cfg.final_activation.as_deref().unwrap_or(""))?,
            max_len,
            batch_tokens: 8192,
        })
    }

    /// Token ids of each text (with `<s>`/`</s>`, truncated).
    pub fn tokenize(&self, texts: &[String]) -> Result<Vec<Vec<u32>>> {
        let enc =
            self.tokenizer.encode_batch(texts.to_vec(), true).map_err(|e| Error::Other(format!("tokenizer: {e}")))?;
        Ok(enc.into_iter().map(|e| e.get_ids().to_vec()).collect())
    }

    /// Pooled sentence embeddings (the mix, averaged over each text's tokens), `n × hidden`.
    pub fn embed_ids(&self, ids: &[Vec<u32>]) -> Vec<f32> {
        let h = self.encoder.cfg.hidden;
        let mut out = vec![0.0f32; ids.len() * h];
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(ids[i].len()));
        let mut start = 0;
        while start < order.len() {
            let mut end = start;
            let mut tokens = 0;
            while end < order.len() && (end == start || tokens + ids[order[end]].len() <= self.batch_tokens) {
                tokens += ids[order[end]].len();
                end += 1;
            }
            let batch = &order[start..end];
            let packed = Packed::from_lengths(batch.iter().map(|&i| ids[i].len()));
            let flat: Vec<u32> = batch.iter().flat_map(|&i| ids[i].iter().copied()).collect();
            let mut mixed = vec![0.0f32; flat.len() * h];
            self.encoder.forward_with(&flat, &packed, &mut |k, states| {
                let w = self.layer_weights[k] * self.gamma;
                if w != 0.0 {
                    for (m, s) in mixed.iter_mut().zip(states) {
                        *m += w * s;
                    }
                }
            });
            for (b, &i) in batch.iter().enumerate() {
                let r = packed.range(b);
                let dst = &mut out[i * h..(i + 1) * h];
                for row in mixed[r.start * h..r.end * h].chunks(h) {
                    for (d, v) in dst.iter_mut().zip(row) {
                        *d += v;
                    }
                }
                let inv = 1.0 / r.len() as f32;
                dst.iter_mut().for_each(|v| *v *= inv);
            }
            start = end;
        }
        out
    }

    /// Scores texts (CaR's IQS input strings), one unbounded value each, in input order.
    pub fn score(&self, texts: &[String]) -> Result<Vec<f64>> {
        let ids = self.tokenize(texts)?;
        let emb = self.embed_ids(&ids);
        let mut x = emb;
        let n = texts.len();
        let last = self.head.len() - 1;
        for (k, layer) in self.head.iter().enumerate() {
            let mut y = Vec::new();
            layer.forward(&x, n, &mut y);
            if k < last {
                self.act.apply(&mut y);
            } else {
                self.final_act.apply(&mut y);
            }
            x = y;
        }
        Ok(x.into_iter().map(f64::from).collect())
    }
}
