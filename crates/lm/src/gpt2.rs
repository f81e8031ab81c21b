//! GPT-2 (HF `GPT2LMHeadModel` / `GPT2Model` safetensors) over packed sequences.
//!
//! Learned absolute positions, pre-LayerNorm blocks, fused `c_attn` QKV with bias, `gelu_new`
//! (tanh GELU) MLP, final `ln_f`, LM head tied to `wte`. HF's `Conv1D` stores weights as
//! `[in, out]`; they are transposed to gleaner's `[out, in]` at load.

use crate::attn::{Heads, causal_attention};
use crate::kernels as k;
use crate::score::Backbone;
use gleaner_core::{Error, Result};
use gleaner_nn::weights::SafeTensorFiles;
use gleaner_nn::{Linear, Packed, Precision};
use std::path::Path;

/// Hyper-parameters of a [`Gpt2`].
#[derive(Debug, Clone)]
pub struct Gpt2Config {
    /// Hidden size (`n_embd`).
    pub hidden: usize,
    /// Blocks (`n_layer`).
    pub layers: usize,
    /// Heads (`n_head`).
    pub heads: usize,
    /// MLP width (`n_inner`, default 4·hidden).
    pub inner: usize,
    /// Vocabulary size.
    pub vocab: usize,
    /// Learned positions (`n_positions`): the longest sequence.
    pub positions: usize,
    /// LayerNorm epsilon.
    pub eps: f32,
    /// tanh GELU (`gelu_new`); otherwise exact erf GELU.
    pub gelu_tanh: bool,
    /// Begin-of-sequence id.
    pub bos: Option<u32>,
    /// End-of-sequence id.
    pub eos: Option<u32>,
}

struct Block {
    ln1: (Vec<f32>, Vec<f32>),
    qkv: Linear,
    proj: Linear,
    ln2: (Vec<f32>, Vec<f32>),
    fc: Linear,
    fc_proj: Linear,
}

/// A GPT-2 language model with f32 weights.
pub struct Gpt2 {
    /// Hyper-parameters.
    pub cfg: Gpt2Config,
    wte: Vec<f32>,
    wpe: Vec<f32>,
    blocks: Vec<Block>,
    ln_f: (Vec<f32>, Vec<f32>),
    head: Option<Vec<f32>>,
    head_packs: crate::score::HeadPacks,
    precision: Precision,
}

impl Gpt2 {
    /// Loads an HF GPT-2 directory (`config.json` + safetensors). Tensor names may carry the
    /// `transformer.` prefix (`GPT2LMHeadModel`) or not (`GPT2Model`, the hub's `gpt2`).
    pub fn load(dir: &Path, c: &serde_json::Value) -> Result<Gpt2> {
        let err = |m: String| Error::model(dir.display().to_string(), m);
        let get = |k: &str| {
            c.get(k).and_then(|v| v.as_u64()).map(|v| v as usize).ok_or_else(|| err(format!("config.json lacks `{k}`")))
        };
        let hidden = get("n_embd")?;
        let layers = get("n_layer")?;
        let heads = get("n_head")?;
        if heads == 0 || !hidden.is_multiple_of(heads) {
            return Err(err(format!("n_embd {hidden} not divisible by n_head {heads}")));
        }
        let inner = c.get("n_inner").and_then(|v| v.as_u64()).map_or(4 * hidden, |v| v as usize);
        let vocab = get("vocab_size")?;
        let positions = get("n_positions")?;
        let act = c.get("activation_function").and_then(|v| v.as_str()).unwrap_or("gelu_new");
        let gelu_tanh = match act {
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => true,
            "gelu" => false,
            other => return Err(err(format!("unsupported activation_function `{other}`"))),
        };
        if c.get("scale_attn_by_inverse_layer_idx").and_then(|v| v.as_bool()) == Some(true)
            || c.get("reorder_and_upcast_attn").and_then(|v| v.as_bool()) == Some(true)
        {
            return Err(err("scale_attn_by_inverse_layer_idx / reorder_and_upcast_attn are not supported".into()));
        }
        let id = |k: &str| c.get(k).and_then(|v| v.as_u64()).map(|v| v as u32).filter(|&v| (v as usize) < vocab);
        let cfg = Gpt2Config {
            hidden,
            layers,
            heads,
            inner,
            vocab,
            positions,
            eps: c.get("layer_norm_epsilon").and_then(|v| v.as_f64()).unwrap_or(1e-5) as f32,
            gelu_tanh,
            bos: id("bos_token_id"),
            eos: id("eos_token_id"),
        };
        let st = SafeTensorFiles::open(dir)?;
        let pre: &[&str] = &["transformer.", ""];
        let t = |name: &str, shape: &[usize]| -> Result<Vec<f32>> {
            let (v, s) = st.require(pre, name)?;
            if s != shape {
                return Err(err(format!("tensor `{name}` has shape {s:?}, expected {shape:?}")));
            }
            Ok(v)
        };
        // Conv1D: weight [in, out] → Linear [out, in].
        let conv = |name: &str, inp: usize, out: usize| -> Result<Linear> {
            let w = t(&format!("{name}.weight"), &[inp, out])?;
            let mut wt = vec![0.0f32; inp * out];
            for i in 0..inp {
                for o in 0..out {
                    wt[o * inp + i] = w[i * out + o];
                }
            }
            Ok(Linear::new(wt, Some(t(&format!("{name}.bias"), &[out])?), out, inp))
        };
        let ln = |name: &str| -> Result<(Vec<f32>, Vec<f32>)> {
            Ok((t(&format!("{name}.weight"), &[hidden])?, t(&format!("{name}.bias"), &[hidden])?))
        };
        let mut blocks = Vec::with_capacity(layers);
        for i in 0..layers {
            let p = format!("h.{i}");
            blocks.push(Block {
                ln1: ln(&format!("{p}.ln_1"))?,
                qkv: conv(&format!("{p}.attn.c_attn"), hidden, 3 * hidden)?,
                proj: conv(&format!("{p}.attn.c_proj"), hidden, hidden)?,
                ln2: ln(&format!("{p}.ln_2"))?,
                fc: conv(&format!("{p}.mlp.c_fc"), hidden, inner)?,
                fc_proj: conv(&format!("{p}.mlp.c_proj"), inner, hidden)?,
            });
        }
        let wte = t("wte.weight", &[vocab, hidden])?;
        let wpe = t("wpe.weight", &[positions, hidden])?;
        let ln_f = ln("ln_f")?;
        let tied = c.get("tie_word_embeddings").and_then(|v| v.as_bool()).unwrap_or(true);
        let head = match st.get("lm_head.weight")? {
            Some((w, s)) if !tied => {
                if s != [vocab, hidden] {
                    return Err(err(format!("lm_head.weight has shape {s:?}")));
                }
                Some(w)
            }
            _ => None,
        };
        Ok(Gpt2 {
            head_packs: crate::score::HeadPacks::new(cfg.vocab),
            cfg,
            wte,
            wpe,
            blocks,
            ln_f,
            head,
            precision: Precision::F32,
        })
    }
}

impl Backbone for Gpt2 {
    fn vocab(&self) -> usize {
        self.cfg.vocab
    }

    fn layers(&self) -> usize {
        self.blocks.len()
    }

    fn declared_layers(&self) -> usize {
        self.cfg.layers
    }

    fn keep_layers(&mut self, n: usize) {
        self.blocks.truncate(n);
    }

    fn parameters(&self) -> usize {
        let blocks: usize = self
            .blocks
            .iter()
            .map(|b| {
                b.ln1.0.len()
                    + b.ln1.1.len()
                    + b.qkv.parameters()
                    + b.proj.parameters()
                    + b.ln2.0.len()
                    + b.ln2.1.len()
                    + b.fc.parameters()
                    + b.fc_proj.parameters()
            })
            .sum();
        let head = self.head.as_ref().map_or(0, Vec::len);
        blocks + self.wte.len() + self.wpe.len() + self.ln_f.0.len() + self.ln_f.1.len() + head
    }

    fn hidden(&self) -> usize {
        self.cfg.hidden
    }

    fn position_limit(&self) -> Option<usize> {
        Some(self.cfg.positions)
    }

    fn forward(&self, ids: &[u32], packed: &Packed, par: bool) -> Vec<f32> {
        let c = &self.cfg;
        let d = c.hidden;
        let rows = packed.rows();
        let mut x = vec![0.0f32; rows * d];
        for s in 0..packed.len() {
            for (pos, r) in packed.range(s).enumerate() {
                let id = ids[r] as usize;
                let w = &self.wte[id * d..(id + 1) * d];
                let p = &self.wpe[pos * d..(pos + 1) * d];
                for ((o, a), b) in x[r * d..(r + 1) * d].iter_mut().zip(w).zip(p) {
                    *o = a + b;
                }
            }
        }
        let hd = d / c.heads;
        let shape =
            Heads { heads: c.heads, kv_heads: c.heads, head_dim: hd, scale: 1.0 / (hd as f32).sqrt(), window: None };
        let mut h = vec![0.0f32; rows * d];
        let mut qkv = Vec::new();
        let mut ctx = vec![0.0f32; rows * d];
        let mut tmp = Vec::new();
        let mut up = Vec::new();
        for b in &self.blocks {
            h.copy_from_slice(&x);
            k::layer_norm(&mut h, &b.ln1.0, &b.ln1.1, c.eps, par);
            k::linear(&b.qkv, &h, rows, &mut qkv, par);
            causal_attention(&qkv, packed, &shape, &mut ctx, par);
            k::linear(&b.proj, &ctx, rows, &mut tmp, par);
            k::add(&mut x, &tmp, par);
            h.copy_from_slice(&x);
            k::layer_norm(&mut h, &b.ln2.0, &b.ln2.1, c.eps, par);
            k::linear(&b.fc, &h, rows, &mut up, par);
            if c.gelu_tanh {
                k::gelu_tanh(&mut up, par);
            } else {
                gleaner_nn::ops::gelu(&mut up);
            }
            k::linear(&b.fc_proj, &up, rows, &mut tmp, par);
            k::add(&mut x, &tmp, par);
        }
        x
    }

    fn final_norm(&self, x: &mut [f32], par: bool) {
        k::layer_norm(x, &self.ln_f.0, &self.ln_f.1, self.cfg.eps, par);
    }

    fn head(&self) -> &[f32] {
        self.head.as_deref().unwrap_or(&self.wte)
    }

    fn head_packs(&self) -> &crate::score::HeadPacks {
        &self.head_packs
    }

    fn precision(&self) -> Precision {
        self.precision
    }

    fn set_precision(&mut self, p: Precision) {
        self.precision = p;
        for b in &mut self.blocks {
            for lin in [&mut b.qkv, &mut b.proj, &mut b.fc, &mut b.fc_proj] {
                lin.set_precision(p);
            }
        }
        self.head_packs = crate::score::HeadPacks::new(self.cfg.vocab);
    }
}
