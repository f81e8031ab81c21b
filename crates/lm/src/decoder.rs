//! Llama-family decoders (llama, mistral, qwen2, SmolLM2) and Gemma 3, from GGUF or HF
//! safetensors, as one parameterised pre-norm transformer over packed sequences.
//!
//! Per layer: `h = norm(x)`; fused `[Q|K|V] = h·Wᵀ (+b)`; optional per-head Q/K RMSNorm
//! (Gemma 3); rotary embeddings; causal (optionally sliding-window) GQA attention; output
//! projection; optional post-attention norm (Gemma 3); residual; the same around a gated MLP
//! (`down(act(gate)·up)`, SiLU or tanh-GELU) with an optional post-FFN norm (Gemma 3).

use crate::attn::{Heads, RopeStyle, RopeTable, causal_attention, rope_qkv};
use crate::gguf::GgufFile;
use crate::kernels as k;
use crate::score::Backbone;
use gleaner_core::{Error, Result};
use gleaner_nn::weights::SafeTensorFiles;
use gleaner_nn::{Linear, Packed, Precision};
use std::path::Path;

/// Hyper-parameters of a [`Decoder`].
#[derive(Debug, Clone)]
pub struct DecoderConfig {
    /// Architecture name (`llama`, `gemma3`, …).
    pub arch: String,
    /// Hidden size.
    pub hidden: usize,
    /// Number of blocks.
    pub layers: usize,
    /// Query heads.
    pub heads: usize,
    /// Key/value heads.
    pub kv_heads: usize,
    /// Dimension per head.
    pub head_dim: usize,
    /// MLP inner width.
    pub ffn: usize,
    /// Vocabulary size.
    pub vocab: usize,
    /// Context length the model was trained for (informational; rotary positions have no
    /// hard limit).
    pub context: usize,
    /// RMSNorm epsilon.
    pub eps: f32,
    /// Rotary base of global layers.
    pub rope_base: f32,
    /// Rotary base of sliding-window layers (Gemma 3: 10000).
    pub rope_local_base: f32,
    /// Linear rotary scaling factor of global layers (positions divided by it).
    pub rope_scale: f32,
    /// Rotated dimensions per head.
    pub rope_dims: usize,
    /// Pair layout of the rotation.
    pub rope_style: RopeStyle,
    /// Gemma's `(1 + w)` RMSNorm (HF Gemma checkpoints; GGUF files store `1 + w` already).
    pub norm_add_one: bool,
    /// Multiply embeddings by this (Gemma: `√hidden`).
    pub embed_scale: Option<f32>,
    /// tanh-GELU gate instead of SiLU.
    pub gelu_tanh: bool,
    /// Attention score scale.
    pub attn_scale: f32,
    /// Sliding window of local layers.
    pub window: Option<usize>,
    /// Which layers use the sliding window.
    pub local_layers: Vec<bool>,
    /// Begin-of-sequence id.
    pub bos: Option<u32>,
    /// End-of-sequence id.
    pub eos: Option<u32>,
}

struct Layer {
    attn_norm: Vec<f32>,
    qkv: Linear,
    q_norm: Option<Vec<f32>>,
    k_norm: Option<Vec<f32>>,
    o: Linear,
    post_attn_norm: Option<Vec<f32>>,
    ffn_norm: Vec<f32>,
    gate_up: Linear,
    down: Linear,
    post_ffn_norm: Option<Vec<f32>>,
}

/// A llama-family or Gemma 3 decoder with f32 weights.
pub struct Decoder {
    /// Hyper-parameters.
    pub cfg: DecoderConfig,
    embed: Vec<f32>,
    head: Option<Vec<f32>>,
    head_packs: crate::score::HeadPacks,
    final_norm: Vec<f32>,
    layers: Vec<Layer>,
    precision: Precision,
}

fn model_err(name: &Path, msg: impl Into<String>) -> Error {
    Error::model(name.display().to_string(), msg)
}

impl Decoder {
    /// A decoder from its loaded parts, in f32 until its precision is set.
    fn assemble(
        cfg: DecoderConfig,
        embed: Vec<f32>,
        head: Option<Vec<f32>>,
        final_norm: Vec<f32>,
        layers: Vec<Layer>,
    ) -> Decoder {
        Decoder {
            head_packs: crate::score::HeadPacks::new(cfg.vocab),
            cfg,
            embed,
            head,
            final_norm,
            layers,
            precision: Precision::F32,
        }
    }

    /// Loads a GGUF `llama` (SmolLM2, Llama, Mistral GGUFs) or `gemma3` file, dequantising
    /// every tensor to f32.
    pub fn from_gguf(g: &GgufFile) -> Result<Decoder> {
        Decoder::from_gguf_blocks(g, None)
    }

    /// [`Decoder::from_gguf`] reading only the first `keep` blocks (all when `None`): the
    /// forward ends after them, and the other blocks are never dequantised.
    pub fn from_gguf_blocks(g: &GgufFile, keep: Option<usize>) -> Result<Decoder> {
        let arch = g.architecture()?.to_string();
        let p = g.path();
        if !matches!(arch.as_str(), "llama" | "gemma3") {
            return Err(model_err(p, format!("unsupported GGUF architecture `{arch}` (supported: llama, gemma3)")));
        }
        let k = |s: &str| format!("{arch}.{s}");
        let hidden = g.req_u64(&k("embedding_length"))? as usize;
        let layers = g.req_u64(&k("block_count"))? as usize;
        let heads = g.req_u64(&k("attention.head_count"))? as usize;
        let kv_heads = g.meta_u64(&k("attention.head_count_kv")).map_or(heads, |v| v as usize);
        if heads == 0 || kv_heads == 0 || !heads.is_multiple_of(kv_heads) {
            return Err(model_err(p, format!("bad head counts {heads}/{kv_heads}")));
        }
        let head_dim = g.meta_u64(&k("attention.key_length")).map_or(hidden / heads, |v| v as usize);
        let ffn = g.req_u64(&k("feed_forward_length"))? as usize;
        let (embed, eshape) = g.tensor_f32("token_embd.weight")?;
        if eshape.len() != 2 || eshape[1] != hidden {
            return Err(model_err(p, format!("token_embd.weight has shape {eshape:?}, hidden is {hidden}")));
        }
        let vocab = eshape[0];
        let context = g.meta_u64(&k("context_length")).unwrap_or(2048) as usize;
        let gemma = arch == "gemma3";
        let eps = g.meta_f64(&k("attention.layer_norm_rms_epsilon")).unwrap_or(if gemma { 1e-6 } else { 1e-5 }) as f32;
        let rope_base = g.meta_f64(&k("rope.freq_base")).unwrap_or(10000.0) as f32;
        let rope_scale = match g.meta_str(&k("rope.scaling.type")) {
            Some("linear") => g.meta_f64(&k("rope.scaling.factor")).unwrap_or(1.0) as f32,
            Some("none") | None => 1.0,
            Some(other) => return Err(model_err(p, format!("unsupported rope scaling `{other}`"))),
        };
        let rope_dims = g.meta_u64(&k("rope.dimension_count")).map_or(head_dim, |v| v as usize);
        let window = if gemma { g.meta_u64(&k("attention.sliding_window")).map(|v| v as usize) } else { None };
        // llama.cpp's gemma3 layout: every 6th layer is global, the others use the window.
        let local_layers: Vec<bool> = (0..layers).map(|i| window.is_some() && i % 6 < 5).collect();
        let id = |key: &str| g.meta_u64(key).map(|v| v as u32).filter(|&v| (v as usize) < vocab);
        let cfg = DecoderConfig {
            arch: arch.clone(),
            hidden,
            layers,
            heads,
            kv_heads,
            head_dim,
            ffn,
            vocab,
            context,
            eps,
            rope_base,
            rope_local_base: 10000.0,
            rope_scale,
            rope_dims,
            // GGUF llama Q/K rows are permuted for GGML's adjacent-pair rope; Gemma uses NeoX.
            rope_style: if gemma { RopeStyle::Half } else { RopeStyle::Interleaved },
            norm_add_one: false,
            embed_scale: gemma.then(|| (hidden as f32).sqrt()),
            gelu_tanh: gemma,
            attn_scale: 1.0 / (head_dim as f32).sqrt(),
            window,
            local_layers,
            bos: id("tokenizer.ggml.bos_token_id"),
            eos: id("tokenizer.ggml.eos_token_id"),
        };
        let qd = heads * head_dim;
        let kd = kv_heads * head_dim;
        let kept = match keep {
            None => layers,
            Some(n) if (1..=layers).contains(&n) => n,
            Some(n) => return Err(model_err(p, format!("cannot keep {n} of its {layers} layers"))),
        };
        let mut names = Vec::new();
        for i in 0..kept {
            for t in
                ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"]
            {
                names.push(format!("blk.{i}.{t}.weight"));
            }
            if gemma {
                for t in ["attn_q_norm", "attn_k_norm", "post_attention_norm", "post_ffw_norm"] {
                    names.push(format!("blk.{i}.{t}.weight"));
                }
            }
        }
        let mut tensors = g.tensors_f32(&names)?.into_iter().zip(names.iter());
        let mut next = |shape: &[usize]| -> Result<Vec<f32>> {
            let ((v, s), n) = tensors.next().expect("tensor list");
            if s != shape {
                return Err(model_err(p, format!("tensor `{n}` has shape {s:?}, expected {shape:?}")));
            }
            Ok(v)
        };
        let mut ls = Vec::with_capacity(kept);
        for _ in 0..kept {
            let attn_norm = next(&[hidden])?;
            let q = Linear::new(next(&[qd, hidden])?, None, qd, hidden);
            let kk = Linear::new(next(&[kd, hidden])?, None, kd, hidden);
            let v = Linear::new(next(&[kd, hidden])?, None, kd, hidden);
            let o = Linear::new(next(&[hidden, qd])?, None, hidden, qd);
            let ffn_norm = next(&[hidden])?;
            let gate = Linear::new(next(&[ffn, hidden])?, None, ffn, hidden);
            let up = Linear::new(next(&[ffn, hidden])?, None, ffn, hidden);
            let down = Linear::new(next(&[hidden, ffn])?, None, hidden, ffn);
            let (q_norm, k_norm, post_attn_norm, post_ffn_norm) = if gemma {
                (Some(next(&[head_dim])?), Some(next(&[head_dim])?), Some(next(&[hidden])?), Some(next(&[hidden])?))
            } else {
                (None, None, None, None)
            };
            ls.push(Layer {
                attn_norm,
                qkv: Linear::concat(&[q, kk, v]),
                q_norm,
                k_norm,
                o,
                post_attn_norm,
                ffn_norm,
                gate_up: Linear::concat(&[gate, up]),
                down,
                post_ffn_norm,
            });
        }
        let final_norm = g.expect("output_norm.weight", &[hidden])?;
        let head =
            if g.has_tensor("output.weight") { Some(g.expect("output.weight", &[vocab, hidden])?) } else { None };
        Ok(Decoder::assemble(cfg, embed, head, final_norm, ls))
    }

    /// Loads an HF safetensors directory of `model_type` llama, mistral, qwen2 or gemma3_text
    /// (`config.json` + `*.safetensors`; rotate-half rotary as in transformers).
    pub fn from_safetensors(dir: &Path, cfg_json: &serde_json::Value) -> Result<Decoder> {
        let st = SafeTensorFiles::open(dir)?;
        let mt = cfg_json.get("model_type").and_then(|v| v.as_str()).unwrap_or("llama");
        let gemma = matches!(mt, "gemma3_text" | "gemma3");
        let c = if gemma && cfg_json.get("text_config").is_some() { &cfg_json["text_config"] } else { cfg_json };
        let get = |key: &str| {
            c.get(key)
                .and_then(|v| v.as_u64())
                .map(|v| v as usize)
                .ok_or_else(|| model_err(dir, format!("config.json lacks `{key}`")))
        };
        let getf = |key: &str, d: f64| c.get(key).and_then(|v| v.as_f64()).unwrap_or(d);
        let hidden = get("hidden_size")?;
        let layers = get("num_hidden_layers")?;
        let heads = get("num_attention_heads")?;
        let kv_heads = c.get("num_key_value_heads").and_then(|v| v.as_u64()).map_or(heads, |v| v as usize);
        if heads == 0 || kv_heads == 0 || !heads.is_multiple_of(kv_heads) {
            return Err(model_err(dir, format!("bad head counts {heads}/{kv_heads}")));
        }
        let head_dim = c.get("head_dim").and_then(|v| v.as_u64()).map_or(hidden / heads, |v| v as usize);
        let ffn = get("intermediate_size")?;
        let vocab = get("vocab_size")?;
        let act = c.get("hidden_act").or_else(|| c.get("hidden_activation")).and_then(|v| v.as_str()).unwrap_or("silu");
        let gelu_tanh = match act {
            "silu" | "swish" => false,
            "gelu_pytorch_tanh" | "gelu_new" | "gelu_fast" => true,
            other => return Err(model_err(dir, format!("unsupported hidden_act `{other}`"))),
        };
        let rope_scale = match c.get("rope_scaling").filter(|v| !v.is_null()) {
            None => 1.0,
            Some(r) => match r.get("rope_type").or_else(|| r.get("type")).and_then(|v| v.as_str()) {
                Some("linear") => r.get("factor").and_then(|v| v.as_f64()).unwrap_or(1.0) as f32,
                Some("default") | None => 1.0,
                Some(other) => {
                    return Err(model_err(dir, format!("unsupported rope_scaling `{other}`")));
                }
            },
        };
        let window = if gemma || mt == "mistral" {
            c.get("sliding_window").and_then(|v| v.as_u64()).map(|v| v as usize)
        } else {
            None
        };
        let local_layers: Vec<bool> = if gemma {
            match c.get("layer_types").and_then(|v| v.as_array()) {
                Some(t) => t.iter().map(|x| x.as_str() == Some("sliding_attention")).collect(),
                None => {
                    let pat = c.get("sliding_window_pattern").and_then(|v| v.as_u64()).unwrap_or(6) as usize;
                    (0..layers).map(|i| (i + 1) % pat != 0).collect()
                }
            }
        } else {
            vec![window.is_some(); layers]
        };
        if local_layers.len() != layers {
            return Err(model_err(dir, "layer_types length differs from num_hidden_layers"));
        }
        let attn_scale = if gemma {
            1.0 / (getf("query_pre_attn_scalar", head_dim as f64) as f32).sqrt()
        } else {
            1.0 / (head_dim as f32).sqrt()
        };
        let id = |key: &str| {
            cfg_json
                .get(key)
                .or_else(|| c.get(key))
                .and_then(|v| v.as_u64())
                .map(|v| v as u32)
                .filter(|&v| (v as usize) < vocab)
        };
        let cfg = DecoderConfig {
            arch: mt.to_string(),
            hidden,
            layers,
            heads,
            kv_heads,
            head_dim,
            ffn,
            vocab,
            context: c.get("max_position_embeddings").and_then(|v| v.as_u64()).unwrap_or(2048) as usize,
            eps: getf("rms_norm_eps", 1e-6) as f32,
            rope_base: getf("rope_theta", 10000.0) as f32,
            rope_local_base: getf("rope_local_base_freq", 10000.0) as f32,
            rope_scale,
            rope_dims: head_dim,
            rope_style: RopeStyle::Half,
            norm_add_one: gemma,
            embed_scale: gemma.then(|| (hidden as f32).sqrt()),
            gelu_tanh,
            attn_scale,
            window,
            local_layers,
            bos: id("bos_token_id"),
            eos: id("eos_token_id"),
        };
        let prefixes: &[&str] = &["model.", "", "model.language_model.", "language_model.model."];
        let t = |name: &str, shape: &[usize]| -> Result<Vec<f32>> {
            let (v, s) = st.require(prefixes, name)?;
            if s != shape {
                return Err(model_err(dir, format!("tensor `{name}` has shape {s:?}, expected {shape:?}")));
            }
            Ok(v)
        };
        let opt_bias = |name: &str, n: usize| -> Result<Option<Vec<f32>>> {
            for p in prefixes {
                if let Some((v, s)) = st.get(&format!("{p}{name}"))? {
                    if s != [n] {
                        return Err(model_err(dir, format!("tensor `{name}` has shape {s:?}, expected [{n}]")));
                    }
                    return Ok(Some(v));
                }
            }
            Ok(None)
        };
        let qd = heads * head_dim;
        let kd = kv_heads * head_dim;
        let mut ls = Vec::with_capacity(layers);
        for i in 0..layers {
            let p = format!("layers.{i}");
            let lin = |n: &str, out: usize, inp: usize| -> Result<Linear> {
                let w = t(&format!("{p}.{n}.weight"), &[out, inp])?;
                let b = opt_bias(&format!("{p}.{n}.bias"), out)?;
                Ok(Linear::new(w, b, out, inp))
            };
            let q = lin("self_attn.q_proj", qd, hidden)?;
            let k = lin("self_attn.k_proj", kd, hidden)?;
            let v = lin("self_attn.v_proj", kd, hidden)?;
            let mut qkv = Linear::concat(&[q.clone(), k.clone(), v.clone()]);
            if qkv.b.is_none() && (q.b.is_some() || k.b.is_some() || v.b.is_some()) {
                let z = |l: &Linear| l.b.clone().unwrap_or_else(|| vec![0.0; l.out]);
                qkv.b = Some([z(&q), z(&k), z(&v)].concat());
            }
            let gate = lin("mlp.gate_proj", ffn, hidden)?;
            let up = lin("mlp.up_proj", ffn, hidden)?;
            let (q_norm, k_norm, post_attn_norm, ffn_norm, post_ffn_norm) = if gemma {
                (
                    Some(t(&format!("{p}.self_attn.q_norm.weight"), &[head_dim])?),
                    Some(t(&format!("{p}.self_attn.k_norm.weight"), &[head_dim])?),
                    Some(t(&format!("{p}.post_attention_layernorm.weight"), &[hidden])?),
                    t(&format!("{p}.pre_feedforward_layernorm.weight"), &[hidden])?,
                    Some(t(&format!("{p}.post_feedforward_layernorm.weight"), &[hidden])?),
                )
            } else {
                (None, None, None, t(&format!("{p}.post_attention_layernorm.weight"), &[hidden])?, None)
            };
            ls.push(Layer {
                attn_norm: t(&format!("{p}.input_layernorm.weight"), &[hidden])?,
                qkv,
                q_norm,
                k_norm,
                o: lin("self_attn.o_proj", hidden, qd)?,
                post_attn_norm,
                ffn_norm,
                gate_up: Linear::concat(&[gate, up]),
                down: lin("mlp.down_proj", hidden, ffn)?,
                post_ffn_norm,
            });
        }
        let embed = t("embed_tokens.weight", &[vocab, hidden])?;
        let final_norm = t("norm.weight", &[hidden])?;
        let tied =
            c.get("tie_word_embeddings").or_else(|| cfg_json.get("tie_word_embeddings")).and_then(|v| v.as_bool());
        let head = match st.get("lm_head.weight")? {
            Some((w, s)) if tied != Some(true) => {
                if s != [vocab, hidden] {
                    return Err(model_err(dir, format!("lm_head.weight has shape {s:?}")));
                }
                Some(w)
            }
            Some(_) => None,
            None if tied == Some(false) => {
                return Err(model_err(dir, "tie_word_embeddings is false but lm_head.weight is missing"));
            }
            None => None,
        };
        Ok(Decoder::assemble(cfg, embed, head, final_norm, ls))
    }

    fn heads(&self, local: bool) -> Heads {
        Heads {
            heads: self.cfg.heads,
            kv_heads: self.cfg.kv_heads,
            head_dim: self.cfg.head_dim,
            scale: self.cfg.attn_scale,
            window: if local { self.cfg.window } else { None },
        }
    }

    /// Number of parameters held (f32 values).
    pub fn parameters(&self) -> usize {
        let l: usize = self
            .layers
            .iter()
            .map(|l| {
                l.attn_norm.len()
                    + l.qkv.parameters()
                    + l.o.parameters()
                    + l.ffn_norm.len()
                    + l.gate_up.parameters()
                    + l.down.parameters()
                    + l.q_norm.as_ref().map_or(0, Vec::len)
                    + l.k_norm.as_ref().map_or(0, Vec::len)
                    + l.post_attn_norm.as_ref().map_or(0, Vec::len)
                    + l.post_ffn_norm.as_ref().map_or(0, Vec::len)
            })
            .sum();
        l + self.embed.len() + self.head.as_ref().map_or(0, Vec::len) + self.final_norm.len()
    }
}

impl Backbone for Decoder {
    fn vocab(&self) -> usize {
        self.cfg.vocab
    }

    fn layers(&self) -> usize {
        self.layers.len()
    }

    fn declared_layers(&self) -> usize {
        self.cfg.layers
    }

    fn keep_layers(&mut self, n: usize) {
        self.layers.truncate(n);
    }

    fn parameters(&self) -> usize {
        Decoder::parameters(self)
    }

    fn hidden(&self) -> usize {
        self.cfg.hidden
    }

    fn position_limit(&self) -> Option<usize> {
        None
    }

    fn forward(&self, ids: &[u32], packed: &Packed, par: bool) -> Vec<f32> {
        let c = &self.cfg;
        let d = c.hidden;
        let rows = packed.rows();
        assert_eq!(ids.len(), rows);
        let mut tm = crate::prof::Timer::start();
        let mut x = vec![0.0f32; rows * d];
        for (r, &id) in ids.iter().enumerate() {
            let src = &self.embed[id as usize * d..(id as usize + 1) * d];
            let dst = &mut x[r * d..(r + 1) * d];
            match c.embed_scale {
                Some(s) => dst.iter_mut().zip(src).for_each(|(o, v)| *o = v * s),
                None => dst.copy_from_slice(src),
            }
        }
        let max_len = (0..packed.len()).map(|i| packed.range(i).len()).max().unwrap_or(0);
        let global_rope = RopeTable::new(c.rope_base, c.rope_dims, max_len, c.rope_scale);
        let local_rope =
            c.local_layers.iter().any(|&l| l).then(|| RopeTable::new(c.rope_local_base, c.rope_dims, max_len, 1.0));
        let mut h = vec![0.0f32; rows * d];
        let mut qkv = Vec::new();
        let mut ctx = vec![0.0f32; rows * c.heads * c.head_dim];
        let mut tmp = Vec::new();
        let mut gu = Vec::new();
        let mut act = vec![0.0f32; rows * c.ffn];
        let hd = c.head_dim;
        tm.mark(0);
        for (li, l) in self.layers.iter().enumerate() {
            let local = c.local_layers[li];
            let shape = self.heads(local);
            h.copy_from_slice(&x);
            k::rms_norm(&mut h, &l.attn_norm, c.eps, c.norm_add_one, par);
            tm.mark(1);
            k::linear(&l.qkv, &h, rows, &mut qkv, par);
            tm.mark(2);
            if let (Some(qn), Some(kn)) = (&l.q_norm, &l.k_norm) {
                let qw = c.heads * hd;
                for row in qkv.chunks_mut(shape.qkv_width()) {
                    let (qs, rest) = row.split_at_mut(qw);
                    k::rms_norm(qs, qn, c.eps, c.norm_add_one, false);
                    k::rms_norm(&mut rest[..c.kv_heads * hd], kn, c.eps, c.norm_add_one, false);
                }
            }
            let table = if local { local_rope.as_ref().unwrap_or(&global_rope) } else { &global_rope };
            rope_qkv(&mut qkv, packed, &shape, table, c.rope_style, par);
            tm.mark(3);
            causal_attention(&qkv, packed, &shape, &mut ctx, par);
            tm.mark(4);
            k::linear(&l.o, &ctx, rows, &mut tmp, par);
            tm.mark(5);
            if let Some(pn) = &l.post_attn_norm {
                k::rms_norm(&mut tmp, pn, c.eps, c.norm_add_one, par);
            }
            k::add(&mut x, &tmp, par);
            h.copy_from_slice(&x);
            k::rms_norm(&mut h, &l.ffn_norm, c.eps, c.norm_add_one, par);
            tm.mark(1);
            k::linear(&l.gate_up, &h, rows, &mut gu, par);
            tm.mark(6);
            k::gated(&gu, c.ffn, &mut act, c.gelu_tanh, par);
            tm.mark(7);
            k::linear(&l.down, &act, rows, &mut tmp, par);
            tm.mark(8);
            if let Some(pn) = &l.post_ffn_norm {
                k::rms_norm(&mut tmp, pn, c.eps, c.norm_add_one, par);
            }
            k::add(&mut x, &tmp, par);
            tm.mark(1);
        }
        x
    }

    fn final_norm(&self, x: &mut [f32], par: bool) {
        k::rms_norm(x, &self.final_norm, self.cfg.eps, self.cfg.norm_add_one, par);
    }

    fn head(&self) -> &[f32] {
        self.head.as_deref().unwrap_or(&self.embed)
    }

    fn head_packs(&self) -> &crate::score::HeadPacks {
        &self.head_packs
    }

    fn precision(&self) -> Precision {
        self.precision
    }

    fn set_precision(&mut self, p: Precision) {
        self.precision = p;
        for l in &mut self.layers {
            for lin in [&mut l.qkv, &mut l.o, &mut l.gate_up, &mut l.down] {
                lin.set_precision(p);
            }
        }
        self.head_packs = crate::score::HeadPacks::new(self.cfg.vocab);
    }
}
