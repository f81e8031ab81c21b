#!/usr/bin/env python3
"""Tiny Llama checkpoint + Cherry (IFD) golden (docs/methods.md §2.2, §2.4) and template-none golden.

Builds, fully offline:
  tests/golden/tiny/llama/   config.json, model.safetensors (LlamaForCausalLM: 2 layers,
                             hidden 64, 4 heads, 2 KV heads (GQA), intermediate 128,
                             rope_theta 10000, rms eps 1e-6, untied lm_head),
                             tokenizer.model (SentencePiece BPE, byte_fallback, trained on
                             real Alpaca text, Llama-1/2 trainer settings), tokenizer.json
                             (the same BPE in the classic Llama hub layout: normalizer
                             Prepend("▁") + Replace(" ", "▁"), no pre-tokenizer, byte
                             fallback, TemplateProcessing "<s> $A"), tokenizer_config.json
  tests/golden/tiny/llama_golden.json

Golden sections:
  cherry_cases / cherry_small_max_length_cases: Alpaca template (docs/methods.md §2.2), Cherry
      data_analysis.py mode cherry + data_by_IFD.py (docs/methods.md §2.4), max_length 512.
  none_cases / none_small_max_length_cases: template none with Superfiltering
      semantics (docs/methods.md §3.2) but with the Llama tokenizer (BOS added), max_length 1024.

Run: /work/main/.venv-ref/bin/python tests/golden/tiny/gen_tiny_llama.py
"""
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import sentencepiece as spm
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, processors  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast  # noqa: E402

OUT_DIR = C.HERE / "llama"
GOLDEN = C.HERE / "llama_golden.json"
SPM_VOCAB = 1000
CHERRY_MAX_LENGTH = 512     # Cherry scripts/cherry_analysis.sh
NONE_MAX_LENGTH = 1024      # Superfiltering default
SEED = 0
TRAIN_STEPS = int(os.environ.get("TINY_TRAIN_STEPS", "800"))

TOKENIZER_CHECKS = [
    "Hello world", " Hello world", "hello  world", "\n\n", " \n \n", "a\n\nb", "  leading spaces",
    "trailing spaces   ", "don't you'll", "12345 3.14159 1,000,000", "naïve café résumé",
    "中文字符 😀👍🏽", "tab\tsep", "### Response:", "### Response:The answer", "<s>", "x</s>y", "",
]


def train_spm(model_prefix):
    lines = []
    for t in C.all_alpaca_texts():
        lines.extend(ln for ln in t.split("\n") if ln.strip())
    # Llama-1/2 trainer settings (scaled down vocabulary)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_prefix=str(model_prefix), model_type="bpe",
        vocab_size=SPM_VOCAB, byte_fallback=True, split_digits=True, add_dummy_prefix=True,
        normalization_rule_name="identity", remove_extra_whitespaces=False,
        allow_whitespace_only_pieces=True, split_by_unicode_script=True, split_by_whitespace=True,
        character_coverage=0.9995, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        input_sentence_size=0, shuffle_input_sentence=False, num_threads=2, seed_sentencepiece_size=1000000,
        max_sentence_length=16384, minloglevel=2,
    )


def build_fast_from_spm(model_file):
    sp = spm.SentencePieceProcessor(model_file=str(model_file))
    n = sp.get_piece_size()
    vocab = {sp.id_to_piece(i): i for i in range(n)}
    # merges exactly as transformers' SentencePieceExtractor/generate_merges derives them
    scores = {sp.id_to_piece(i): sp.get_score(i) for i in range(n)}
    merges = []
    for piece, score in scores.items():
        local = []
        for k in range(1, len(piece)):
            l, r = piece[:k], piece[k:]
            if l in vocab and r in vocab:
                local.append((l, r, score))
        local.sort(key=lambda x: (vocab[x[0]], vocab[x[1]]))
        merges.extend(local)
    merges.sort(key=lambda v: (v[2], len(v[0]), len(v[1])), reverse=True)
    merges = [(a, b) for a, b, _ in merges]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.pre_tokenizer = None
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(content=" ", left=1, right=0)])
    tok.add_special_tokens([AddedToken("<unk>", special=True, normalized=False),
                            AddedToken("<s>", special=True, normalized=False),
                            AddedToken("</s>", special=True, normalized=False)])
    tok.post_processor = processors.TemplateProcessing(
        single="<s>:0 $A:0", pair="<s>:0 $A:0 <s>:1 $B:1", special_tokens=[("<s>", 1)])
    return tok, sp


def main():
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    if OUT_DIR.exists():
        shutil.rmtree(OUT_DIR)
    OUT_DIR.mkdir(parents=True)

    print("training SentencePiece BPE ...", file=sys.stderr)
    with tempfile.TemporaryDirectory() as td:
        train_spm(Path(td) / "tok")
        shutil.copy(Path(td) / "tok.model", OUT_DIR / "tokenizer.model")
    tok, sp = build_fast_from_spm(OUT_DIR / "tokenizer.model")
    V = tok.get_vocab_size(with_added_tokens=True)
    assert V == SPM_VOCAB
    tok.save(str(OUT_DIR / "tokenizer.json"))
    hf_tok = PreTrainedTokenizerFast(tokenizer_file=str(OUT_DIR / "tokenizer.json"), bos_token="<s>",
                                     eos_token="</s>", unk_token="<unk>", model_max_length=4096)
    hf_tok.save_pretrained(str(OUT_DIR))
    tok.save(str(OUT_DIR / "tokenizer.json"))  # canonical file

    cfg = LlamaConfig(vocab_size=V, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                      rope_theta=10000.0, rms_norm_eps=1e-6, tie_word_embeddings=False, hidden_act="silu",
                      bos_token_id=1, eos_token_id=2, pad_token_id=None, attention_bias=False,
                      initializer_range=0.02)
    torch.manual_seed(SEED)
    model = LlamaForCausalLM(cfg)
    if TRAIN_STEPS > 0:
        print(f"brief training ({TRAIN_STEPS} steps) ...", file=sys.stderr)
        recs = []
        for name in ["car_selected_1013.json", "cherry_ifd_top6pct_3111.json", "lcg_multinomialnb_1k.json"]:
            recs += C.load_json(name)
        texts = []
        for r in recs:
            rr = {"instruction": r["instruction"], "input": r.get("input", ""), "output": r["output"]}
            texts.append(C.alpaca_prompt(rr) + r["output"])
            texts.append(C.none_prompt(rr) + r["output"])
        C.brief_train(model, C.packed_training_batches(tok, texts, 128, 16, TRAIN_STEPS, SEED, eos_id=2, bos_id=1))
    model.save_pretrained(str(OUT_DIR), safe_serialization=True)
    C.add_legacy_config_keys(OUT_DIR, {"rope_theta": 10000.0})

    # ---------------------------------------------------------------- golden
    tok = Tokenizer.from_file(str(OUT_DIR / "tokenizer.json"))
    hf_tok = PreTrainedTokenizerFast.from_pretrained(str(OUT_DIR))
    model = LlamaForCausalLM.from_pretrained(str(OUT_DIR), attn_implementation="eager").float().eval()
    rp = getattr(model.config, "rope_parameters", None) or {}
    assert float(rp.get("rope_theta", getattr(model.config, "rope_theta", 0.0))) == 10000.0

    spm_mismatch = []

    def check_tok(text):
        a = tok.encode(text).ids
        b = [1] + sp.encode(text)  # LlamaTokenizer (slow, legacy) = BOS + sp.encode
        assert hf_tok.encode(text) == a
        if a != b:
            spm_mismatch.append({"text": text, "tokenizer_json": a, "sentencepiece": b})
        return a

    tok_checks = []
    for t in TOKENIZER_CHECKS:
        ids = check_tok(t)
        tok_checks.append({"text": t, "ids": ids, "tokens": [tok.id_to_token(i) for i in ids]})

    recs = C.lm_records()
    cherry_cases, cherry_small, none_cases, none_small = [], [], [], []
    for k, rec in enumerate(recs):
        out = rec["output"]
        # ------------------------------------------------ Cherry (alpaca template)
        prompt = C.alpaca_prompt(rec)
        whole = prompt + out
        direct_text = C.CHERRY_DIRECT_PREFIX + out
        for t in (prompt, whole, direct_text, whole[: whole.rfind(out)], direct_text[: direct_text.rfind(out)]):
            check_tok(t)
        mls = [CHERRY_MAX_LENGTH] + ([None] if k in C.SMALL_ML_PICKS else [])
        for ml in mls:
            if ml is None:
                ml = len(tok.encode(prompt).ids) + 8
            L_Q = len(C.encode_trunc(tok, prompt, ml))
            direct_ml = ml - L_Q + 4
            direct = C.span_pass(model, tok, hf_tok, direct_text, out, direct_ml)
            cond = C.span_pass(model, tok, hf_tok, whole, out, ml)
            len1 = direct["n_tokens"] - direct["span_start"]
            len2 = cond["n_tokens"] - cond["span_start"]
            case = {
                "source": rec["source"], "instruction": rec["instruction"], "input": rec["input"], "output": out,
                "template": "alpaca", "prompt": prompt, "max_length": ml, "L_Q": L_Q,
                "direct_max_length": direct_ml, "cond": cond, "direct": direct,
                "len_direct": len1, "len_cond": len2,
                "cond_truncated": cond["n_tokens"] < len(tok.encode(whole).ids),
                "direct_truncated": direct["n_tokens"] < len(tok.encode(direct_text).ids),
            }
            case.update(C.ratio_fields(cond, direct))
            # data_by_IFD.py filters (docs/methods.md §2.4 steps 2, 5, 6, 8)
            if ml - L_Q <= 0:
                reason = "max_length - L_Q <= 0"
            elif len1 <= 0 or len2 <= 0:
                reason = "len <= 0"
            elif L_Q + len1 > ml:
                reason = "L_Q + len_direct > max_length"
            elif case["ifd_loss"] is not None and case["ifd_loss"] > 1:
                reason = "ifd > 1"
            else:
                reason = None
            case["cherry_kept"] = reason is None
            case["cherry_skip_reason"] = reason
            (cherry_cases if ml == CHERRY_MAX_LENGTH else cherry_small).append(case)
            print(f"  cherry {rec['source']:40s} ml={ml:4d} L_Q={L_Q:4d} Tc={cond['n_tokens']:4d} sc={cond['span_start']:4d} "
                  f"Td={direct['n_tokens']:4d} sd={direct['span_start']:3d} ifd_loss={case['ifd_loss']} kept={case['cherry_kept']}",
                  file=sys.stderr)

        # ------------------------------------------------ template none (Superfiltering semantics)
        prompt = C.none_prompt(rec)
        whole = prompt + out
        for t in (prompt, whole, out, whole[: whole.rfind(out)]):
            check_tok(t)
        mls = [NONE_MAX_LENGTH] + ([None] if k in C.SMALL_ML_PICKS else [])
        for ml in mls:
            if ml is None:
                ml = len(tok.encode(prompt).ids) + 8
            L_Q = len(C.encode_trunc(tok, prompt, ml))
            direct_ml = ml - L_Q + 1
            direct = C.whole_pass(model, tok, hf_tok, out, direct_ml)
            cond = C.span_pass(model, tok, hf_tok, whole, out, ml)
            case = {
                "source": rec["source"], "instruction": rec["instruction"], "input": rec["input"], "output": out,
                "template": "none", "prompt": prompt, "max_length": ml, "L_Q": L_Q,
                "direct_max_length": direct_ml, "cond": cond, "direct": direct,
                "cond_truncated": cond["n_tokens"] < len(tok.encode(whole).ids),
                "direct_truncated": direct["n_tokens"] < len(tok.encode(out).ids),
            }
            case.update(C.ratio_fields(cond, direct))
            (none_cases if ml == NONE_MAX_LENGTH else none_small).append(case)

    golden = {
        "description": "Tiny Llama goldens. cherry_*: Cherry_LLM IFD (SPEC 2.2/2.4) with the Alpaca template: cond = span pass on prompt+output (ML = max_length), direct = span pass on '### Response:'+output (ML = max_length - L_Q + 4), span start s = token count (with BOS) of the text before the last occurrence of output, ifd_loss = mean(cond NLL[s..T-1]) / mean(direct NLL[s..T-1]). none_*: template none with Superfiltering semantics (SPEC 3.2) using this BOS-adding tokenizer: direct = output alone, labels = all ids (BOS is ids[0], so every output token is scored), ML = max_length - L_Q + 1. null means NaN.",
        "versions": C.versions(),
        "model_dir": "llama",
        "model": {"class": "LlamaForCausalLM", "num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 4,
                  "num_key_value_heads": 2, "head_dim": 16, "intermediate_size": 128, "rope_theta": 10000.0,
                  "rms_norm_eps": 1e-6, "tie_word_embeddings": False, "vocab_size": V, "hidden_act": "silu",
                  "max_position_embeddings": 2048, "dtype": "float32", "seed": SEED, "train_steps": TRAIN_STEPS,
                  "safetensors_note": "HF layout: model.embed_tokens.weight, model.layers.{i}.self_attn.{q,k,v,o}_proj.weight, model.layers.{i}.mlp.{gate,up,down}_proj.weight, model.layers.{i}.{input,post_attention}_layernorm.weight, model.norm.weight, lm_head.weight; q/k use the HF rotate_half RoPE convention (not GGUF's interleaved one)"},
        "tokenizer": {"type": "SentencePiece BPE with byte_fallback (tokenizer.model) and its tokenizers conversion (tokenizer.json, legacy Llama layout)",
                      "vocab_size": V, "unk_token_id": 0, "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": None,
                      "adds_bos": True, "adds_eos": False,
                      "sentencepiece_trainer": "model_type bpe, byte_fallback, split_digits, add_dummy_prefix, identity normalization, remove_extra_whitespaces false, character_coverage 0.9995",
                      "tokenizer_json_vs_sentencepiece_mismatches": spm_mismatch},
        "semantics": {
            "cherry_max_length": CHERRY_MAX_LENGTH, "none_max_length": NONE_MAX_LENGTH,
            "alpaca_prompt_input": C.ALPACA_PROMPT_INPUT, "alpaca_prompt_no_input": C.ALPACA_PROMPT_NO_INPUT,
            "cherry_direct_prefix": C.CHERRY_DIRECT_PREFIX,
            "truncation": "encode(text)[:ML] (BOS counts; transformers encode(truncation=True, max_length=ML) gives the same ids)",
            "token_nll": "entry j = -log_softmax(logits[j])[ids[j+1]], j = 0..T-2, float32; prompt positions included (Cherry's loss list)",
            "loss_mean_f64": "float64 mean of token_nll[s-1 .. T-2] (numpy mean of Cherry's sliced list)",
            "hf_loss": "transformers loss with labels[:s] = -100",
            "ifd_loss": "loss_mean_f64(cond) / loss_mean_f64(direct)",
            "ifd_ppl": "exp(hf_loss cond)/exp(hf_loss direct) (exp in float32)",
            "cherry_filters": "skip if max_length - L_Q <= 0; if len_direct <= 0 or len_cond <= 0; if L_Q + len_direct > max_length; if ifd_loss > 1",
        },
        "tokenizer_checks": tok_checks,
        "cherry_cases": cherry_cases,
        "cherry_small_max_length_cases": cherry_small,
        "none_cases": none_cases,
        "none_small_max_length_cases": none_small,
    }
    if spm_mismatch:
        print(f"WARNING: {len(spm_mismatch)} tokenizer.json vs sentencepiece mismatches", file=sys.stderr)
    C.write_json(GOLDEN, golden)


if __name__ == "__main__":
    main()
