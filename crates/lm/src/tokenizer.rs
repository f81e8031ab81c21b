//! Tokenizers: HF `tokenizer.json` files, and tokenizers rebuilt from GGUF metadata.
//!
//! A GGUF file carries no `tokenizer.json`; its vocabulary, merges, token types and special
//! ids are metadata under llama.cpp's key names. [`from_gguf`] writes the equivalent HF
//! `tokenizer.json` (as a JSON value) and loads it with the `tokenizers` crate, so the result
//! behaves exactly like a shipped file:
//!
//! - `tokenizer.ggml.model = "gpt2"` (byte-level BPE): vocabulary + merges as stored; the
//!   pre-tokenizer is chosen from `tokenizer.ggml.pre` as llama.cpp does. `smollm` (and
//!   `starcoder`, `refact`) = `Sequence[Digits(individual), ByteLevel(GPT-2 regex)]`, which
//!   is SmolLM2's own `tokenizer.json` (HF transformers' GGUF converter drops the digit split;
//!   candle's adds a prefix space: both differ from llama.cpp). `gpt-2`/`default` = ByteLevel
//!   alone; the llama3 and qwen2 families get their split regexes (as transformers does).
//! - `tokenizer.ggml.model = "llama"` (SentencePiece BPE, Gemma): BPE with byte fallback,
//!   spaces replaced by `▁`, merges rebuilt from the vocabulary in the order transformers'
//!   GGUF converter uses (by score, or for Gemma by file position).
//! - Tokens typed CONTROL become special added tokens and USER_DEFINED ones plain added
//!   tokens (both `normalized: false`), so `<|im_start|>` written in a text is one token, as
//!   llama.cpp's `tokenize(..., special=true)` does.
//! - `tokenizer.ggml.add_bos_token` (default: true for SentencePiece, false for byte-level)
//!   becomes a `TemplateProcessing` post-processor, so [`LmTokenizer::encode`] adds the BOS
//!   exactly when the model's own tokenizer does.

use crate::gguf::{self, GgufFile};
use gleaner_core::{Error, Result};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use tokenizers::Tokenizer;

/// A causal LM's tokenizer: `tokenizers::Tokenizer` with padding and truncation off, and the
/// model's own BOS policy.
pub struct LmTokenizer {
    inner: Tokenizer,
    adds_bos: bool,
}

impl std::fmt::Debug for LmTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LmTokenizer")
            .field("vocab", &self.inner.get_vocab_size(true))
            .field("adds_bos", &self.adds_bos)
            .finish()
    }
}

impl LmTokenizer {
    /// Wraps a tokenizer, switching padding and truncation off (gleaner packs and truncates
    /// itself).
    pub fn new(mut inner: Tokenizer) -> Result<LmTokenizer> {
        inner.with_padding(None);
        inner
            .with_truncation(None)
            .map_err(|e| Error::model("tokenizer", format!("cannot disable truncation: {e}")))?;
        let with = inner.encode("a", true).map_err(|e| Error::model("tokenizer", e.to_string()))?;
        let without = inner.encode("a", false).map_err(|e| Error::model("tokenizer", e.to_string()))?;
        let adds_bos = with.get_ids().len() > without.get_ids().len()
            && with.get_ids().ends_with(without.get_ids())
            && !with.get_ids().starts_with(without.get_ids());
        Ok(LmTokenizer { inner, adds_bos })
    }

    /// Loads a `tokenizer.json`.
    pub fn from_file(path: &Path) -> Result<LmTokenizer> {
        let t = Tokenizer::from_file(path)
            .map_err(|e| Error::model(path.display().to_string(), format!("cannot load tokenizer: {e}")))?;
        LmTokenizer::new(t)
    }

    /// Token ids of `text`, with the special tokens the model's tokenizer adds (a BOS for
    /// Llama-1/2 and Gemma, nothing for GPT-2 and SmolLM2). Special tokens written in the text
    /// (`<|im_start|>`) are matched as single tokens.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        self.encode_with(text, true)
    }

    /// Token ids of `text`, choosing whether the post-processor's special tokens are added.
    pub fn encode_with(&self, text: &str, add_special: bool) -> Result<Vec<u32>> {
        if text.is_empty() && !add_special {
            return Ok(Vec::new());
        }
        let e = self.inner.encode(text, add_special).map_err(|e| Error::model("tokenizer", format!("encode: {e}")))?;
        Ok(e.get_ids().to_vec())
    }

    /// Encodes many texts in parallel (rayon), in input order.
    pub fn encode_batch(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>> {
        use rayon::prelude::*;
        texts.par_iter().map(|t| self.encode(t)).collect()
    }

    /// Text of token ids (special tokens kept).
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner.decode(ids, false).map_err(|e| Error::model("tokenizer", format!("decode: {e}")))
    }

    /// Whether [`encode`](Self::encode) prepends a BOS token.
    pub fn adds_bos(&self) -> bool {
        self.adds_bos
    }

    /// Id of a token string, if in the vocabulary (added tokens included).
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// The wrapped `tokenizers::Tokenizer`.
    pub fn inner(&self) -> &Tokenizer {
        &self.inner
    }
}

/// GPT-2's byte → printable-character map (`bytes_to_unicode`).
fn byte_alphabet() -> [char; 256] {
    let mut map = ['\0'; 256];
    let mut n = 0u32;
    for b in 0..256u32 {
        let printable = (0x21..=0x7e).contains(&b) || (0xa1..=0xac).contains(&b) || (0xae..=0xff).contains(&b);
        map[b as usize] = if printable {
            char::from_u32(b).unwrap()
        } else {
            let c = char::from_u32(256 + n).unwrap();
            n += 1;
            c
        };
    }
    map
}

const LLAMA3_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const QWEN2_SPLIT: &str =
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

fn byte_level(use_regex: bool) -> Value {
    json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": use_regex})
}

/// The pre-tokenizer llama.cpp uses for a byte-level vocabulary's `tokenizer.ggml.pre`.
fn bpe_pre_tokenizer(pre: &str) -> Option<Value> {
    let split = |re: &str| {
        json!({"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": re}, "behavior": "Isolated", "invert": false},
            byte_level(false),
        ]})
    };
    Some(match pre {
        "smollm" | "starcoder" | "refact" => json!({"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": true},
            byte_level(true),
        ]}),
        "gpt-2" | "gpt2" | "default" | "phi-2" | "" => byte_level(true),
        "llama3" | "llama-v3" | "llama-bpe" | "falcon3" | "smaug-bpe" | "dbrx" | "pixtral" => split(LLAMA3_SPLIT),
        "qwen2" | "deepseek-r1-qwen" | "megrez" => split(QWEN2_SPLIT),
        _ => return None,
    })
}

fn template(bos: Option<(&str, u32)>, eos: Option<(&str, u32)>) -> Value {
    let mut single = Vec::new();
    let mut pair = Vec::new();
    let mut specials = serde_json::Map::new();
    if let Some((t, id)) = bos {
        single.push(json!({"SpecialToken": {"id": t, "type_id": 0}}));
        pair.push(json!({"SpecialToken": {"id": t, "type_id": 0}}));
        specials.insert(t.to_string(), json!({"id": t, "ids": [id], "tokens": [t]}));
    }
    single.push(json!({"Sequence": {"id": "A", "type_id": 0}}));
    pair.push(json!({"Sequence": {"id": "A", "type_id": 0}}));
    if let Some((t, _)) = eos {
        single.push(json!({"SpecialToken": {"id": t, "type_id": 0}}));
        pair.push(json!({"SpecialToken": {"id": t, "type_id": 0}}));
    }
    if let Some((t, _)) = bos {
        pair.push(json!({"SpecialToken": {"id": t, "type_id": 1}}));
    }
    pair.push(json!({"Sequence": {"id": "B", "type_id": 1}}));
    if let Some((t, id)) = eos {
        pair.push(json!({"SpecialToken": {"id": t, "type_id": 1}}));
        specials.insert(t.to_string(), json!({"id": t, "ids": [id], "tokens": [t]}));
    }
    json!({"type": "TemplateProcessing", "single": single, "pair": pair, "special_tokens": specials})
}

/// SentencePiece merges recovered from the vocabulary, as transformers' `generate_merges`:
/// every split of every token into two vocabulary tokens, ordered by the token's score
/// (descending), then by the left part's length (descending).
fn merges_from_vocab(tokens: &[String], scores: &[f32], vocab: &HashMap<&str, u32>) -> Vec<(String, String)> {
    let mut order: Vec<usize> = (0..tokens.len()).collect();
    // Stable sort by score descending (ties keep file order, as Python's sorted()).
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut merges: Vec<(usize, usize, String, String)> = Vec::new();
    for (rank, &i) in order.iter().enumerate() {
        let t = &tokens[i];
        let bounds: Vec<usize> = t.char_indices().map(|(b, _)| b).skip(1).collect();
        let mut local: Vec<(usize, usize, String, String)> = Vec::new();
        for &b in &bounds {
            let (l, r) = t.split_at(b);
            if vocab.contains_key(l) && vocab.contains_key(r) {
                local.push((rank, l.chars().count(), l.to_string(), r.to_string()));
            }
        }
        // Within one token: longer left part first (the (score, len_l, len_r) descending key).
        local.sort_by_key(|m| std::cmp::Reverse(m.1));
        merges.extend(local);
    }
    merges.sort_by_key(|m| m.0);
    merges.into_iter().map(|m| (m.2, m.3)).collect()
}

/// Builds the tokenizer described by a GGUF file's metadata.
pub fn from_gguf(g: &GgufFile) -> Result<LmTokenizer> {
    let name = g.path().display().to_string();
    let err = |m: String| Error::model(name.clone(), m);
    let model = g.meta_str("tokenizer.ggml.model").ok_or_else(|| err("GGUF has no `tokenizer.ggml.model`".into()))?;
    let arch = g.meta_str("general.architecture").unwrap_or("");
    let tokens: Vec<String> = g
        .meta_array("tokenizer.ggml.tokens")
        .and_then(gguf::strings)
        .ok_or_else(|| err("GGUF has no `tokenizer.ggml.tokens` string array".into()))?
        .into_iter()
        .map(String::from)
        .collect();
    let n = tokens.len();
    let types: Vec<i64> = match g.meta_array("tokenizer.ggml.token_type") {
        Some(a) => {
            gguf::ints(a).filter(|v| v.len() == n).ok_or_else(|| err("bad `tokenizer.ggml.token_type`".into()))?
        }
        None => vec![1; n],
    };
    let id_of = |key: &str| g.meta_u64(key).map(|v| v as u32).filter(|&v| (v as usize) < n);
    let bos = id_of("tokenizer.ggml.bos_token_id");
    let eos = id_of("tokenizer.ggml.eos_token_id");
    let unk = id_of("tokenizer.ggml.unknown_token_id");

    let (vocab_tokens, model_json, normalizer, pre_tokenizer, decoder, default_bos, byte_level_vocab) = match model {
        "gpt2" => {
            let alphabet = byte_alphabet();
            let in_alpha: std::collections::HashSet<char> = alphabet.iter().copied().collect();
            // Tokens spelled outside the byte alphabet are respelled byte by byte (as
            // transformers does); regular byte-level tokens are unchanged.
            let vt: Vec<String> = tokens
                .iter()
                .map(|t| {
                    if t.chars().all(|c| in_alpha.contains(&c)) {
                        t.clone()
                    } else {
                        t.bytes().map(|b| alphabet[b as usize]).collect()
                    }
                })
                .collect();
            let merges: Vec<Value> = g
                .meta_array("tokenizer.ggml.merges")
                .and_then(gguf::strings)
                .ok_or_else(|| err("byte-level GGUF has no `tokenizer.ggml.merges`".into()))?
                .into_iter()
                .map(|m| {
                    let (a, b) = m.split_once(' ').unwrap_or((m, ""));
                    json!([a, b])
                })
                .collect();
            let pre = g.meta_str("tokenizer.ggml.pre").unwrap_or("default");
            let pre_json = bpe_pre_tokenizer(pre).ok_or_else(|| {
                err(format!(
                    "unsupported byte-level pre-tokenizer `tokenizer.ggml.pre = {pre}` (supported: smollm, starcoder, refact, gpt-2, default, llama3 family, qwen2 family)"
                ))
            })?;
            let vocab: serde_json::Map<String, Value> =
                vt.iter().enumerate().map(|(i, t)| (t.clone(), json!(i))).collect();
            let model_json = json!({
                "type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
                "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                "vocab": vocab, "merges": merges,
            });
            let decoder =
                json!({"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true});
            (vt, model_json, Value::Null, pre_json, decoder, false, true)
        }
        "llama" => {
            let gemma = arch.starts_with("gemma");
            // Gemma files store whitespace-run tokens with real spaces; the tokenizer looks
            // them up as "▁▁…" after its space → ▁ normalizer.
            let vt: Vec<String> = tokens
                .iter()
                .map(|t| {
                    if gemma && t.contains(' ') && t.trim().is_empty() {
                        "\u{2581}".repeat(t.chars().count())
                    } else {
                        t.clone()
                    }
                })
                .collect();
            let scores: Vec<f32> = if gemma {
                // Gemma's scores do not follow its merge order; file position does.
                (0..n).map(|i| -(i as f32)).collect()
            } else {
                g.meta_array("tokenizer.ggml.scores")
                    .and_then(gguf::floats)
                    .filter(|s| s.len() == n)
                    .ok_or_else(|| err("SentencePiece GGUF lacks `tokenizer.ggml.scores`".into()))?
            };
            let mut lookup: HashMap<&str, u32> = HashMap::with_capacity(n);
            for (i, t) in vt.iter().enumerate() {
                lookup.entry(t.as_str()).or_insert(i as u32);
            }
            let merges: Vec<Value> = match g.meta_array("tokenizer.ggml.merges").and_then(gguf::strings) {
                Some(m) => m
                    .into_iter()
                    .map(|m| {
                        let (a, b) = m.split_once(' ').unwrap_or((m, ""));
                        json!([a, b])
                    })
                    .collect(),
                None => merges_from_vocab(&vt, &scores, &lookup).into_iter().map(|(a, b)| json!([a, b])).collect(),
            };
            let unk_tok = unk.map(|u| vt[u as usize].clone()).unwrap_or_else(|| "<unk>".into());
            let vocab: serde_json::Map<String, Value> =
                vt.iter().enumerate().rev().map(|(i, t)| (t.clone(), json!(i))).collect();
            let model_json = json!({
                "type": "BPE", "dropout": null, "unk_token": unk_tok, "continuing_subword_prefix": null,
                "end_of_word_suffix": null, "fuse_unk": true, "byte_fallback": true, "ignore_merges": false,
                "vocab": vocab, "merges": merges,
            });
            let add_space = g.meta_bool("tokenizer.ggml.add_space_prefix").unwrap_or(!gemma);
            let (normalizer, pre, decoder) = if gemma {
                (
                    json!({"type": "Replace", "pattern": {"String": " "}, "content": "\u{2581}"}),
                    json!({"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithPrevious", "invert": false}),
                    json!({"type": "Sequence", "decoders": [
                        {"type": "Replace", "pattern": {"String": "\u{2581}"}, "content": " "},
                        {"type": "ByteFallback"}, {"type": "Fuse"}]}),
                )
            } else {
                let mut norm = Vec::new();
                if add_space {
                    norm.push(json!({"type": "Prepend", "prepend": "\u{2581}"}));
                }
                norm.push(json!({"type": "Replace", "pattern": {"String": " "}, "content": "\u{2581}"}));
                let mut dec = vec![
                    json!({"type": "Replace", "pattern": {"String": "\u{2581}"}, "content": " "}),
                    json!({"type": "ByteFallback"}),
                    json!({"type": "Fuse"}),
                ];
                if add_space {
                    dec.push(json!({"type": "Strip", "content": " ", "start": 1, "stop": 0}));
                }
                (
                    json!({"type": "Sequence", "normalizers": norm}),
                    Value::Null,
                    json!({"type": "Sequence", "decoders": dec}),
                )
            };
            (vt, model_json, normalizer, pre, decoder, true, false)
        }
        other => {
            return Err(err(format!(
                "unsupported GGUF tokenizer model `{other}` (supported: gpt2 byte-level BPE, llama SentencePiece BPE)"
            )));
        }
    };

    // Added tokens: CONTROL (3) special, USER_DEFINED (4) plain; UNKNOWN (2) special too, so
    // that `<unk>` in a text stays one token as in llama.cpp.
    let alphabet: std::collections::HashSet<char> = byte_alphabet().iter().copied().collect();
    let mut added = Vec::new();
    for (i, (t, &ty)) in vocab_tokens.iter().zip(&types).enumerate() {
        let special = match ty {
            2 | 3 => true,
            4 => false,
            _ => continue,
        };
        if byte_level_vocab && special && !tokens[i].chars().all(|c| alphabet.contains(&c)) {
            continue; // a mislabelled control token outside the byte alphabet (transformers skips it)
        }
        added.push(json!({"id": i, "content": t, "single_word": false, "lstrip": false, "rstrip": false,
                          "normalized": false, "special": special}));
    }
    let add_bos = g.meta_bool("tokenizer.ggml.add_bos_token").unwrap_or(default_bos);
    let add_eos = g.meta_bool("tokenizer.ggml.add_eos_token").unwrap_or(false);
    let bos_pair = bos.filter(|_| add_bos).map(|b| (vocab_tokens[b as usize].as_str(), b));
    let eos_pair = eos.filter(|_| add_eos).map(|e| (vocab_tokens[e as usize].as_str(), e));
    let post = if bos_pair.is_some() || eos_pair.is_some() {
        template(bos_pair, eos_pair)
    } else if byte_level_vocab {
        json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": true})
    } else {
        Value::Null
    };
    let tj = json!({
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": added,
        "normalizer": normalizer, "pre_tokenizer": pre_tokenizer, "post_processor": post,
        "decoder": decoder, "model": model_json,
    });
    let s = serde_json::to_string(&tj).map_err(|e| err(format!("tokenizer JSON: {e}")))?;
    let t: Tokenizer = s.parse().map_err(|e| err(format!("cannot build tokenizer from GGUF metadata: {e}")))?;
    LmTokenizer::new(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_alphabet_matches_gpt2() {
        let a = byte_alphabet();
        assert_eq!(a[b' ' as usize], 'Ġ');
        assert_eq!(a[b'\n' as usize], 'Ċ');
        assert_eq!(a[b'a' as usize], 'a');
        let set: std::collections::HashSet<char> = a.iter().copied().collect();
        assert_eq!(set.len(), 256);
    }

    #[test]
    fn merges_follow_score_then_left_length() {
        let toks: Vec<String> = ["a", "b", "c", "ab", "bc", "abc"].iter().map(|s| s.to_string()).collect();
        let scores = [0.0, 0.0, 0.0, -1.0, -2.0, -0.5];
        let lookup: HashMap<&str, u32> = toks.iter().enumerate().map(|(i, t)| (t.as_str(), i as u32)).collect();
        let m = merges_from_vocab(&toks, &scores, &lookup);
        let want = [("ab", "c"), ("a", "bc"), ("a", "b"), ("b", "c")];
        let got: Vec<(&str, &str)> = m.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(got, want);
    }
}
