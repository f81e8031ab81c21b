//! BERT-family encoder over packed sequences.

use gleaner_core::{Error, Result};
use gleaner_nn::weights::{SafeTensorFiles, TensorGetter, read_json};
use gleaner_nn::{AttentionShape, Linear, Packed, attention, ops};
use std::path::Path;

/// How position ids are numbered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionStyle {
    /// BERT: 0, 1, 2, …
    Absolute,
    /// RoBERTa / XLM-R: `pad_token_id + 1 + i`.
    RobertaOffset,
}

/// The fields of a BERT-style `config.json` gleaner uses.
#[derive(Debug, Clone)]
pub struct BertConfig {
    /// Hidden size.
    pub hidden: usize,
    /// Layers.
    pub layers: usize,
    /// Attention heads.
    pub heads: usize,
    /// Feed-forward width.
    pub intermediate: usize,
    /// Longest position.
    pub max_positions: usize,
    /// LayerNorm epsilon.
    pub eps: f32,
    /// Pad token id.
    pub pad_id: u32,
    /// Position numbering.
    pub positions: PositionStyle,
    /// `hidden_act` is the tanh-approximate GELU.
    pub gelu_tanh: bool,
}

impl BertConfig {
    /// Parses a `config.json`.
    pub fn from_json(v: &serde_json::Value, path: &Path) -> Result<BertConfig> {
        let get = |k: &str| {
            v.get(k)
                .and_then(serde_json::Value::as_u64)
                .map(|x| x as usize)
                .ok_or_else(|| Error::model(path.display().to_string(), format!("config.json lacks `{k}`")))
        };
        let model_type = v.get("model_type").and_then(|x| x.as_str()).unwrap_or("bert");
        let positions = if matches!(model_type, "roberta" | "xlm-roberta" | "camembert") {
            PositionStyle::RobertaOffset
        } else {
            PositionStyle::Absolute
        };
        let act = v.get("hidden_act").and_then(|x| x.as_str()).unwrap_or("gelu");
        Ok(BertConfig {
            hidden: get("hidden_size")?,
            layers: get("num_hidden_layers")?,
            heads: get("num_attention_heads")?,
            intermediate: get("intermediate_size")?,
            max_positions: get("max_position_embeddings")?,
            eps: v.get("layer_norm_eps").and_then(|x| x.as_f64()).unwrap_or(1e-12) as f32,
            pad_id: v.get("pad_token_id").and_then(|x| x.as_u64()).unwrap_or(0) as u32,
            positions,
            gelu_tanh: matches!(act, "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast"),
        })
    }
}

struct Layer {
    qkv: Linear,
    out: Linear,
    ln1: (Vec<f32>, Vec<f32>),
    up: Linear,
    down: Linear,
    ln2: (Vec<f32>, Vec<f32>),
}

/// A BERT / RoBERTa / XLM-R encoder.
pub struct BertEncoder {
    /// Configuration.
    pub cfg: BertConfig,
    word: Vec<f32>,
    pos: Vec<f32>,
    token_type: Vec<f32>,
    emb_ln: (Vec<f32>, Vec<f32>),
    layers: Vec<Layer>,
}

impl BertEncoder {
    /// Loads from a directory with `config.json` and safetensors weights. Tensor names may
    /// carry a `bert.` / `roberta.` / `model.` prefix.
    pub fn load(dir: &Path) -> Result<BertEncoder> {
        let cfg = BertConfig::from_json(&read_json(&dir.join("config.json"))?, dir)?;
        let st = SafeTensorFiles::open(dir)?;
        BertEncoder::from_tensors(cfg, &|name| st.require(&["", "bert.", "roberta.", "model."], name))
    }

    /// The encoder with every dense layer in precision `p` (bf16 ones run in f32 where AMX
    /// is missing, see [`gleaner_nn::effective`]); the default is f32.
    pub fn with_precision(mut self, p: gleaner_nn::Precision) -> BertEncoder {
        for l in &mut self.layers {
            for lin in [&mut l.qkv, &mut l.out, &mut l.up, &mut l.down] {
                lin.set_precision(p);
            }
        }
        self
    }

    /// Builds the encoder from a tensor getter (names without prefix, e.g.
    /// `embeddings.word_embeddings.weight`). Used for safetensors and for PyTorch checkpoints.
    pub fn from_tensors(cfg: BertConfig, get: TensorGetter<'_>) -> Result<BertEncoder> {
        struct G<'a>(TensorGetter<'a>);
        impl G<'_> {
            fn lin(&self, n: &str) -> Result<Linear> {
                let (w, s) = (self.0)(&format!("{n}.weight"))?;
                let b = (self.0)(&format!("{n}.bias"))?.0;
                Ok(Linear::new(w, Some(b), s[0], s[1]))
            }
            fn ln(&self, n: &str) -> Result<(Vec<f32>, Vec<f32>)> {
                let g = (self.0)(&format!("{n}.weight")).or_else(|_| (self.0)(&format!("{n}.gamma")))?.0;
                let b = (self.0)(&format!("{n}.bias")).or_else(|_| (self.0)(&format!("{n}.beta")))?.0;
                Ok((g, b))
            }
        }
        let g = G(get);
        let word = get("embeddings.word_embeddings.weight")?.0;
        let pos = get("embeddings.position_embeddings.weight")?.0;
        let token_type =
            get("embeddings.token_type_embeddings.weight").map(|t| t.0).unwrap_or_else(|_| vec![0.0; cfg.hidden]);
        let emb_ln = g.ln("embeddings.LayerNorm")?;
        let mut layers = Vec::with_capacity(cfg.layers);
        for i in 0..cfg.layers {
            let p = format!("encoder.layer.{i}");
            let q = g.lin(&format!("{p}.attention.self.query"))?;
            let k = g.lin(&format!("{p}.attention.self.key"))?;
            let v = g.lin(&format!("{p}.attention.self.value"))?;
            layers.push(Layer {
                qkv: Linear::concat(&[q, k, v]),
                out: g.lin(&format!("{p}.attention.output.dense"))?,
                ln1: g.ln(&format!("{p}.attention.output.LayerNorm"))?,
                up: g.lin(&format!("{p}.intermediate.dense"))?,
                down: g.lin(&format!("{p}.output.dense"))?,
                ln2: g.ln(&format!("{p}.output.LayerNorm"))?,
            });
        }
        Ok(BertEncoder { cfg, word, pos, token_type, emb_ln, layers })
    }

    /// Runs the encoder. `on_hidden(k, states)` is called with the embedding output (`k = 0`)
    /// and after each layer (`k = 1..=layers`), each `rows × hidden`. Returns the last states.
    pub fn forward_with(&self, ids: &[u32], packed: &Packed, on_hidden: &mut dyn FnMut(usize, &[f32])) -> Vec<f32> {
        let h = self.cfg.hidden;
        let rows = packed.rows();
        assert_eq!(ids.len(), rows);
        let mut x = vec![0.0f32; rows * h];
        for s in 0..packed.len() {
            for (i, row) in packed.range(s).enumerate() {
                let p = match self.cfg.positions {
                    PositionStyle::Absolute => i,
                    PositionStyle::RobertaOffset => self.cfg.pad_id as usize + 1 + i,
                }
                .min(self.cfg.max_positions - 1);
                let id = ids[row] as usize;
                let dst = &mut x[row * h..(row + 1) * h];
                let w = &self.word[id * h..(id + 1) * h];
                let pe = &self.pos[p * h..(p + 1) * h];
                for j in 0..h {
                    dst[j] = w[j] + pe[j] + self.token_type[j];
                }
            }
        }
        ops::layer_norm(&mut x, &self.emb_ln.0, &self.emb_ln.1, self.cfg.eps);
        on_hidden(0, &x);
        let heads = self.cfg.heads;
        let shape = AttentionShape {
            heads,
            kv_heads: heads,
            head_dim: h / heads,
            causal: false,
            scale: 1.0 / ((h / heads) as f32).sqrt(),
        };
        let mut qkv = Vec::new();
        let mut ctx = vec![0.0f32; rows * h];
        let mut tmp = Vec::new();
        let mut up = Vec::new();
        for (k, l) in self.layers.iter().enumerate() {
            l.qkv.forward(&x, rows, &mut qkv);
            attention(&qkv, packed, &shape, &mut ctx);
            l.out.forward(&ctx, rows, &mut tmp);
            ops::add_inplace(&mut x, &tmp);
            ops::layer_norm(&mut x, &l.ln1.0, &l.ln1.1, self.cfg.eps);
            l.up.forward(&x, rows, &mut up);
            if self.cfg.gelu_tanh {
                ops::gelu_tanh(&mut up);
            } else {
                ops::gelu(&mut up);
            }
            l.down.forward(&up, rows, &mut tmp);
            ops::add_inplace(&mut x, &tmp);
            ops::layer_norm(&mut x, &l.ln2.0, &l.ln2.1, self.cfg.eps);
            on_hidden(k + 1, &x);
        }
        x
    }
}

impl crate::Encoder for BertEncoder {
    fn hidden(&self) -> usize {
        self.cfg.hidden
    }

    fn encode(&self, ids: &[u32], packed: &Packed) -> Vec<f32> {
        self.forward_with(ids, packed, &mut |_, _| {})
    }
}
