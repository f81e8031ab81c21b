#!/usr/bin/env python3
"""Tiny GPT-2 checkpoint + Superfiltering golden (docs/methods.md §3.2, span pass of §2.4).

Builds, fully offline:
  tests/golden/tiny/gpt2/            config.json, model.safetensors (GPT2LMHeadModel,
                                     2 layers, d=64, 4 heads, n_positions 1024),
                                     tokenizer.json (byte-level BPE, vocab 2000,
                                     trained with `tokenizers` on real Alpaca text),
                                     vocab.json + merges.txt (same BPE), tokenizer_config.json
  tests/golden/tiny/gpt2_golden.json per-token NLLs, span starts, losses, IFD for
                                     20 real Alpaca pairs (template "none").

The model is randomly initialised (torch seed 0) and then trained for a few
hundred AdamW steps on Alpaca text so that its NLLs are far from uniform; the
golden is computed by HF transformers (float32, eager attention) from the
*saved* files, reloaded from disk.

Run: /work/main/.venv-ref/bin/python tests/golden/tiny/gen_tiny_gpt2.py
"""
import json
import math
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import regex
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors, trainers  # noqa: E402
from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast  # noqa: E402

OUT_DIR = C.HERE / "gpt2"
GOLDEN = C.HERE / "gpt2_golden.json"
VOCAB_SIZE = 2000          # including <|endoftext|>
MAX_LENGTH = 1024          # Superfiltering default
SEED = 0
TRAIN_STEPS = int(os.environ.get("TINY_TRAIN_STEPS", "300"))

TOKENIZER_CHECKS = [
    "Hello world", " Hello world", "hello  world", "\n\n", " \n \n", "a\n\nb", "  leading spaces",
    "trailing spaces   ", "don't you'll we've I'm it's THEY'RE", "12345 3.14159 1,000,000",
    "naïve café résumé", "中文字符 😀👍🏽", "tab\tsep\tvalues", "<|endoftext|>", "x<|endoftext|>y",
    "def f(x):\n    return x**2\n",
]


# --- independent reference: OpenAI's original GPT-2 BPE encoder (encoder.py), ---
# --- re-typed here, driven by the vocab.json / merges.txt written below.      ---
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2 ** 8):
        if b not in bs:
            bs.append(b)
            cs.append(2 ** 8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


class OpenAIBPE:
    PAT = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")

    def __init__(self, vocab, merges, specials):
        self.encoder = vocab
        self.bpe_ranks = {tuple(m): i for i, m in enumerate(merges)}
        self.byte_encoder = bytes_to_unicode()
        self.cache = {}
        self.specials = specials  # content -> id, matched before pre-tokenization

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token)
        pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
        if not pairs:
            return [token]
        while True:
            bigram = min(pairs, key=lambda p: self.bpe_ranks.get(p, float("inf")))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word, i = [], 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                except ValueError:
                    new_word.extend(word[i:])
                    break
                new_word.extend(word[i:j])
                i = j
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
        self.cache[token] = list(word)
        return list(word)

    def encode_plain(self, text):
        ids = []
        for tok in regex.findall(self.PAT, text):
            tok = "".join(self.byte_encoder[b] for b in tok.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self.bpe(tok))
        return ids

    def encode(self, text):
        # split on special tokens first (as tokenizers' AddedVocabulary does)
        if not self.specials:
            return self.encode_plain(text)
        pat = "(" + "|".join(regex.escape(s) for s in self.specials) + ")"
        ids = []
        for part in regex.split(pat, text):
            if part in self.specials:
                ids.append(self.specials[part])
            elif part:
                ids.extend(self.encode_plain(part))
        return ids


def build_tokenizer():
    texts = C.all_alpaca_texts()
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE - 1, min_frequency=2, show_progress=False, special_tokens=[],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(texts, trainer=trainer)
    # like GPT-2: <|endoftext|> is the last id, added after the BPE vocabulary
    tok.add_special_tokens([AddedToken("<|endoftext|>", special=True, normalized=False)])
    assert tok.get_vocab_size(with_added_tokens=True) == VOCAB_SIZE, tok.get_vocab_size()
    return tok


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    if OUT_DIR.exists():
        shutil.rmtree(OUT_DIR)
    OUT_DIR.mkdir(parents=True)

    print("training byte-level BPE ...", file=sys.stderr)
    tok = build_tokenizer()
    eos_id = tok.token_to_id("<|endoftext|>")
    tok.model.save(str(OUT_DIR))  # vocab.json + merges.txt
    hf_tok = GPT2TokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                               unk_token="<|endoftext|>", add_prefix_space=False)
    hf_tok.model_max_length = MAX_LENGTH
    hf_tok.save_pretrained(str(OUT_DIR))
    tok.save(str(OUT_DIR / "tokenizer.json"))  # the canonical file (overwrites the HF copy)

    cfg = GPT2Config(vocab_size=VOCAB_SIZE, n_positions=MAX_LENGTH, n_embd=64, n_layer=2, n_head=4,
                     bos_token_id=eos_id, eos_token_id=eos_id, initializer_range=0.02)
    torch.manual_seed(SEED)
    model = GPT2LMHeadModel(cfg)
    if TRAIN_STEPS > 0:
        print(f"brief training ({TRAIN_STEPS} steps) ...", file=sys.stderr)
        recs = []
        for name in ["car_selected_1013.json", "cherry_ifd_top6pct_3111.json", "lcg_multinomialnb_1k.json"]:
            recs += C.load_json(name)
        texts = [C.none_prompt({"instruction": r["instruction"], "input": r.get("input", "")}) + r["output"] for r in recs]
        C.brief_train(model, C.packed_training_batches(tok, texts, 128, 16, TRAIN_STEPS, SEED, eos_id=eos_id))
    model.save_pretrained(str(OUT_DIR), safe_serialization=True)
    C.add_legacy_config_keys(OUT_DIR, {})

    # ---------------------------------------------------------------- golden
    tok = Tokenizer.from_file(str(OUT_DIR / "tokenizer.json"))
    hf_tok = GPT2TokenizerFast.from_pretrained(str(OUT_DIR))
    vocab = json.load(open(OUT_DIR / "vocab.json", encoding="utf-8"))
    merges = [ln.split(" ") for ln in open(OUT_DIR / "merges.txt", encoding="utf-8").read().split("\n")
              if ln and not ln.startswith("#version")]
    ref = OpenAIBPE(vocab, merges, {"<|endoftext|>": eos_id})
    model = GPT2LMHeadModel.from_pretrained(str(OUT_DIR), attn_implementation="eager")
    model = model.float().eval()

    def check_tok(text):
        a = tok.encode(text).ids
        b = ref.encode(text)
        assert a == b, ("tokenizer.json vs OpenAI-style BPE mismatch", text[:60], a[:20], b[:20])
        assert hf_tok.encode(text) == a
        assert tok.decode(a, skip_special_tokens=False) == text
        return a

    tok_checks = []
    for t in TOKENIZER_CHECKS:
        ids = check_tok(t)
        tok_checks.append({"text": t, "ids": ids, "tokens": [tok.id_to_token(i) for i in ids]})

    cases, small_cases = [], []
    recs = C.lm_records()
    for k, rec in enumerate(recs):
        prompt = C.none_prompt(rec)
        whole = prompt + rec["output"]
        for t in (prompt, whole, rec["output"], whole[: whole.rfind(rec["output"])]):
            check_tok(t)
        mls = [MAX_LENGTH]
        if k in C.SMALL_ML_PICKS:
            mls.append(None)  # decided below from L_Q
        for ml in mls:
            L_Q_full = len(tok.encode(prompt).ids)
            if ml is None:
                ml = L_Q_full + 8  # conditioned pass keeps <= 8 response tokens
            L_Q = len(C.encode_trunc(tok, prompt, ml))
            direct_ml = ml - L_Q + 1
            direct = C.whole_pass(model, tok, hf_tok, rec["output"], direct_ml)
            cond = C.span_pass(model, tok, hf_tok, whole, rec["output"], ml)
            case = {
                "source": rec["source"], "instruction": rec["instruction"], "input": rec["input"],
                "output": rec["output"], "template": "none", "prompt": prompt, "max_length": ml,
                "L_Q": L_Q, "direct_max_length": direct_ml,
                "cond": cond, "direct": direct,
                "cond_truncated": cond["n_tokens"] < len(tok.encode(whole).ids),
                "direct_truncated": direct["n_tokens"] < len(tok.encode(rec["output"]).ids),
            }
            case.update(C.ratio_fields(cond, direct))
            (cases if ml == MAX_LENGTH else small_cases).append(case)
            print(f"  {rec['source']:40s} ml={ml:5d} T_cond={cond['n_tokens']:5d} s={cond['span_start']:4d} "
                  f"Lc={cond['hf_loss']} Ld={direct['hf_loss']} ifd_ppl={case['ifd_ppl']}", file=sys.stderr)

    golden = {
        "description": "Superfiltering (SPEC 3.2) on a tiny GPT-2: template none, conditioned = span pass on prompt+output scored from s = token count of the text before the last occurrence of output; direct = output alone, labels = all ids, scored over tokens 1..T-1, truncated at max_length - L_Q + 1. GPT-2 adds no BOS. null means NaN (nothing scored).",
        "versions": C.versions(),
        "model_dir": "gpt2",
        "model": {"class": "GPT2LMHeadModel", "n_layer": 2, "n_embd": 64, "n_head": 4, "n_positions": MAX_LENGTH,
                  "vocab_size": VOCAB_SIZE, "tie_word_embeddings": True, "layer_norm_epsilon": cfg.layer_norm_epsilon,
                  "activation_function": cfg.activation_function, "dtype": "float32", "seed": SEED,
                  "train_steps": TRAIN_STEPS,
                  "safetensors_note": "saved from GPT2LMHeadModel: keys are prefixed 'transformer.' and there is no lm_head.weight (tied to transformer.wte.weight); Conv1D weights are [in, out]"},
        "tokenizer": {"type": "byte-level BPE (tokenizers)", "pre_tokenizer": "ByteLevel(add_prefix_space=False, use_regex=True)",
                      "decoder": "ByteLevel", "post_processor": "ByteLevel(trim_offsets=False) (adds nothing)",
                      "vocab_size": VOCAB_SIZE, "eos_token": "<|endoftext|>", "eos_token_id": eos_id,
                      "bos_token_id": eos_id, "adds_bos": False, "pad_token_id": None},
        "semantics": {
            "max_length": MAX_LENGTH,
            "prompt": "instruction + '\\n' + input + '\\n' if input else instruction + '\\n'",
            "L_Q": "len(encode(prompt)[:max_length])",
            "cond": "ids = encode(prompt + output)[:max_length]; s = len(encode(text[:text.rfind(output)])) (no truncation); loss = mean NLL of tokens s..T-1",
            "direct": "ids = encode(output)[:max_length - L_Q + 1]; loss = mean NLL of tokens 1..T-1",
            "token_nll": "entry j = -log_softmax(logits[j])[ids[j+1]], j = 0..T-2, float32",
            "hf_loss": "transformers model(ids, labels) loss (float32)",
            "loss_mean_f64": "float64 mean of the float32 token_nll entries that are scored",
            "ifd_ppl": "exp(hf_loss_cond) / exp(hf_loss_direct), exps in float32, ratio in float64 (put_analysis_to_data.py)",
            "ifd_ppl_f64": "exp(loss_mean_f64 cond - loss_mean_f64 direct)",
            "ifd_loss": "loss_mean_f64 cond / loss_mean_f64 direct",
        },
        "tokenizer_checks": tok_checks,
        "cases": cases,
        "small_max_length_cases": small_cases,
    }
    C.write_json(GOLDEN, golden)


if __name__ == "__main__":
    main()
