#!/usr/bin/env python3
"""Golden IFD fixtures for SmolLM2-135M-Instruct, from two independent implementations.

Regenerate (from the repo root, after `bash scripts/ref-env.sh`; ~10-20 min on 2 cores):

    .venv-ref/bin/python tests/golden/gen_smollm2_ifd.py [--f32-cache /tmp/f32.pkl [--f32-only]]

(--f32-cache lets the slow f32 pass be run once and reused; results are identical either way.)

Writes, next to this file:
  smollm2_ifd.jsonl        one line per Alpaca pair (schema in README.md)
  smollm2_reference.json   the docs/models.md reference case, perplexity sanity sentences and the
                           aggregate f32-vs-llama.cpp differences

Implementations:
  (a) f32  : transformers AutoModelForCausalLM.from_pretrained(dir, gguf_file=..., dtype=float32,
             attn_implementation="eager"): the GGUF weights dequantised to f32, one sequence at
             a time, no padding, no attention mask tricks.
  (b) llama: llama-cpp-python Llama(logits_all=True) evaluating the same ids (Q4_1/Q8_0
             weights, activations quantised to Q8 in the matmuls, f16 KV cache: llama.cpp's
             defaults), n_ctx 2048, n_batch 512, 2 threads.
  NLL of token i (i = 1..T-1) = -log_softmax(logits[i-1])[ids[i]], computed in float64 from the
  float32 logits of each implementation. Floats are rounded to 6 significant digits.

Token ids come from the HF tokenizer built from the GGUF with the smollm pre-tokenizer restored
(see gen_smollm2_tokens.py); every sequence is checked to equal llama.cpp's tokenisation.

Templates (docs/methods.md §0.3, §2.4, §3.2):
  none   (Superfiltering): prompt = I+"\\n"+X+"\\n" (X non-empty) or I+"\\n"; cond = prompt+O,
         ML 1024, span start s = token count of cond[:cond.rfind(O)]; direct = O alone,
         truncated at 1024 - L_Q + 1 (L_Q = token count of the prompt, capped at 1024),
         span start 1 (the first output token is not scored).
  chatml : cond = "<|im_start|>user\\n"+U+"<|im_end|>\\n<|im_start|>assistant\\n"+O,
         U = I or I+"\\n"+X; direct = "<|im_start|>assistant\\n"+O; both truncated at 1024,
         span start = token count of the text before the last occurrence of O.
  loss = mean NLL of tokens span_start..T-1; ifd_loss = loss_cond/loss_direct,
  ifd_ppl = exp(loss_cond - loss_direct), for each implementation.

Pair selection (deterministic, 124 pairs, in this order):
  car_selected_1013.json       records 0, 17, 34, ... (60)
  car_selected_1013.json       records with non-empty input, every 8th of them, not yet taken (30)
  lcg_multinomialnb_1k.json    records 3, 43, 83, ... (24; mostly short)
  cherry_ifd_top6pct_3111.json records whose output has >= 2000 characters, first 10 (long)
"""
import argparse
import json
import math
import pickle
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gen_smollm2_tokens import GGUF_DIR, GGUF_FILE, smollm2_tokenizer  # noqa: E402

DATA = os.environ.get("GLEANER_SHARED_DATA", "/work/shared/data")
MAX_LEN = 1024
SIG = 6
IM_USER = "<|im_start|>user\n"
IM_MID = "<|im_end|>\n<|im_start|>assistant\n"
IM_ASSIST = "<|im_start|>assistant\n"

REF_INSTRUCTION = "Give three tips for staying healthy."
# Candidate 28-token three-item answers for the docs/models.md reference case (checked to be 28
# tokens). The first one is the primary; the others show how much the value moves with wording.
REF_ANSWERS = [
    "1. Eat a balanced diet with plenty of fruits and vegetables.\n2. Exercise regularly.\n3. Get enough sleep every night.",
    "1. Eat a healthy, balanced diet.\n2. Exercise for 30 minutes a day.\n3. Get enough sleep.",
    "1. Eat plenty of fresh fruits and vegetables.\n2. Exercise regularly to stay fit.\n3. Get eight hours of sleep.",
    "1. Eat a balanced diet.\n2. Exercise regularly.\n3. Get enough sleep.\n\nThese habits keep you healthy.",
]
FLUENT = "The capital of France is Paris. It is known for the Eiffel Tower, which was built in 1889 for the World's Fair."
# (name, text, prepend <|im_start|> (id 1) as a BOS?, what docs/models.md says). PPL = exp(mean NLL of
# tokens 1..T-1); with the BOS prepended, every token of the text is scored (the first given BOS).
# docs/models.md does not give its word salad; the two below show how much a salad's PPL varies.
PPL_SENTENCES = [
    ("fluent", FLUENT, False, "PPL ~ 6.1 (llama.cpp)"),
    ("fluent_bos", FLUENT, True, "PPL ~ 6.1 (llama.cpp)"),
    ("word_salad", "Window quickly seventeen purple despite elephant ran carbon if yesterday bicycle the melting spoon verbose underneath", False, "PPL > 40,000"),
    ("word_salad_2", "Purple seventeen gravel whisper trombone if quantum banana sideways elephant noon carpet melting ostrich volcanic seldom paperclip.", False, "PPL > 40,000"),
]


def r6(x):
    if x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x))):
        return None
    return float("%.*g" % (SIG, x))


def select_pairs():
    sel = os.path.join(DATA, "alpaca-selections")
    load = lambda f: json.load(open(os.path.join(sel, f), encoding="utf-8"))
    car, lcg, cherry = load("car_selected_1013.json"), load("lcg_multinomialnb_1k.json"), load("cherry_ifd_top6pct_3111.json")
    pairs, taken = [], set()

    def add(fname, recs, idx):
        for i in idx:
            if (fname, i) in taken:
                continue
            taken.add((fname, i))
            r = recs[i]
            pairs.append({"source": [fname, i], "instruction": r["instruction"], "input": r["input"], "output": r["output"]})

    add("car_selected_1013.json", car, list(range(0, len(car), 17))[:60])
    wi = [i for i, r in enumerate(car) if r["input"]][::8]
    wi = [i for i in wi if ("car_selected_1013.json", i) not in taken][:30]
    add("car_selected_1013.json", car, wi)
    add("lcg_multinomialnb_1k.json", lcg, list(range(3, len(lcg), 40))[:24])
    add("cherry_ifd_top6pct_3111.json", cherry, [i for i, r in enumerate(cherry) if len(r["output"]) >= 2000][:10])
    assert all(p["output"] for p in pairs) and len(pairs) == 124, len(pairs)
    return pairs


class Tok:
    def __init__(self):
        from llama_cpp import Llama
        self.hf, _ = smollm2_tokenizer()
        self.lc = Llama(model_path=os.path.join(GGUF_DIR, GGUF_FILE), vocab_only=True, verbose=False)

    def __call__(self, text):
        ids = list(self.hf(text, add_special_tokens=False)["input_ids"])
        lc = list(self.lc.tokenize(text.encode("utf-8"), add_bos=False, special=True)) if text else []
        assert ids == lc, ("tokenizer mismatch", text[:80])
        return ids


def span_pass(tok, text, span, ml):
    """docs/methods.md §2.4 span pass: (ids truncated at ml, span start, truncated?, boundary_merge?)."""
    full = tok(text)
    ids = full[:ml]
    prefix = text[: text.rfind(span)]
    p_ids = tok(prefix)
    s = len(p_ids)
    merge = full[:s] != p_ids  # the tokenisation of the whole text crosses the prefix boundary
    return ids, s, len(full) > ml, merge


def build_passes(tok, rec):
    I, X, O = rec["instruction"], rec["input"], rec["output"]
    out = {}
    # template none (Superfiltering)
    prompt = I + "\n" + X + "\n" if X else I + "\n"
    lq = min(len(tok(prompt)), MAX_LEN)
    cond_ids, s, tr, mg = span_pass(tok, prompt + O, O, MAX_LEN)
    full_o = tok(O)
    ml_dir = MAX_LEN - lq + 1
    out["none"] = {
        "L_Q": lq,
        "cond": {"text": prompt + O, "ids": cond_ids, "span_start": s, "max_length": MAX_LEN,
                 "truncated": tr, "boundary_merge": mg},
        "direct": {"text": O, "ids": full_o[:ml_dir], "span_start": 1, "max_length": ml_dir,
                   "truncated": len(full_o) > ml_dir, "boundary_merge": False},
    }
    # template chatml
    U = I if not X else I + "\n" + X
    ctext = IM_USER + U + IM_MID + O
    dtext = IM_ASSIST + O
    c_ids, cs, ctr, cmg = span_pass(tok, ctext, O, MAX_LEN)
    d_ids, ds, dtr, dmg = span_pass(tok, dtext, O, MAX_LEN)
    out["chatml"] = {
        "cond": {"text": ctext, "ids": c_ids, "span_start": cs, "max_length": MAX_LEN,
                 "truncated": ctr, "boundary_merge": cmg},
        "direct": {"text": dtext, "ids": d_ids, "span_start": ds, "max_length": MAX_LEN,
                   "truncated": dtr, "boundary_merge": dmg},
    }
    return out


def nll_from_logits(logits, ids):
    """logits: (T, V) float32 array-like for positions 0..T-1; returns float64 NLL of tokens 1..T-1."""
    lg = np.asarray(logits[: len(ids) - 1], dtype=np.float64)
    m = lg.max(axis=1, keepdims=True)
    lse = (m[:, 0] + np.log(np.exp(lg - m).sum(axis=1)))
    tgt = lg[np.arange(len(ids) - 1), np.asarray(ids[1:])]
    return lse - tgt


def span_loss(nll, s, T):
    # tokens s..T-1 -> nll entries s-1..T-2
    s = max(s, 1)
    if s > T - 1:
        return float("nan")
    return float(np.mean(nll[s - 1: T - 1]))


class F32Model:
    def __init__(self):
        from transformers import AutoModelForCausalLM
        self.m = AutoModelForCausalLM.from_pretrained(
            GGUF_DIR, gguf_file=GGUF_FILE, dtype=torch.float32, attn_implementation="eager").eval()

    @torch.no_grad()
    def nll(self, ids):
        if len(ids) < 2:
            return np.zeros(0)
        x = torch.tensor([ids], dtype=torch.long)
        logits = self.m(input_ids=x).logits[0].float().numpy()
        return nll_from_logits(logits, ids)


class LlamaCppModel:
    def __init__(self):
        from llama_cpp import Llama
        self.m = Llama(model_path=os.path.join(GGUF_DIR, GGUF_FILE), n_ctx=2048, n_batch=512,
                       logits_all=True, n_threads=os.cpu_count() or 2, seed=0, verbose=False)

    def nll(self, ids):
        if len(ids) < 2:
            return np.zeros(0)
        self.m.reset()
        self.m.eval(ids)
        logits = self.m.scores[: len(ids)]
        return nll_from_logits(logits, ids)


def score_all(model, passes, key):
    for p in passes:
        n = model.nll(p["ids"])
        p["_nll_" + key] = n
        p["_loss_" + key] = span_loss(n, p["span_start"], len(p["ids"]))


def ifd(c, d):
    if not (c == c and d == d) or d == 0:
        return float("nan"), float("nan")
    return c / d, math.exp(c - d)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--f32-cache", help="pickle of f32 NLL arrays keyed by token ids (read if present, then written)")
    ap.add_argument("--f32-only", action="store_true", help="stop after the f32 pass (use with --f32-cache)")
    args = ap.parse_args()
    t0 = time.time()
    import transformers
    import llama_cpp
    torch.set_num_threads(os.cpu_count() or 2)

    tok = Tok()
    pairs = select_pairs()
    for p in pairs:
        p["templates"] = build_passes(tok, p)
    all_passes = [p["templates"][t][k] for p in pairs for t in ("none", "chatml") for k in ("cond", "direct")]

    # reference case and perplexity sentences
    ref_cases = []
    for ans in REF_ANSWERS:
        c = {"text": IM_USER + REF_INSTRUCTION + IM_MID + ans}
        d = {"text": IM_ASSIST + ans}
        c["ids"], c["span_start"], _, _ = span_pass(tok, c["text"], ans, MAX_LEN)
        d["ids"], d["span_start"], _, _ = span_pass(tok, d["text"], ans, MAX_LEN)
        assert len(tok(ans)) == 28, (ans, len(tok(ans)))
        ref_cases.append({"answer": ans, "answer_tokens": len(tok(ans)), "cond": c, "direct": d})
    ppl_cases = []
    for name, text, bos, expect in PPL_SENTENCES:
        ppl_cases.append({"name": name, "expected_assets": expect, "text": text, "bos": bos,
                          "ids": ([1] if bos else []) + tok(text), "span_start": 1})
    extra = [r[k] for r in ref_cases for k in ("cond", "direct")] + ppl_cases
    print("pairs: %d, passes: %d, tokens: %d" % (len(pairs), len(all_passes), sum(len(p["ids"]) for p in all_passes)), flush=True)

    t1 = time.time()
    cache = {}
    if args.f32_cache and os.path.exists(args.f32_cache):
        with open(args.f32_cache, "rb") as f:
            cache = pickle.load(f)
    todo = [p for p in all_passes + extra if tuple(p["ids"]) not in cache]
    if todo:
        f32 = F32Model()
        for p in todo:
            cache[tuple(p["ids"])] = f32.nll(p["ids"])
        del f32
        if args.f32_cache:
            with open(args.f32_cache, "wb") as f:
                pickle.dump(cache, f)
    for p in all_passes + extra:
        p["_nll_f32"] = cache[tuple(p["ids"])]
        p["_loss_f32"] = span_loss(p["_nll_f32"], p["span_start"], len(p["ids"]))
    t_f32 = time.time() - t1
    print("f32 done in %.0fs (%d sequences computed, %d from cache)" % (
        t_f32, len(todo), len(all_passes + extra) - len(todo)), flush=True)
    if args.f32_only:
        return
    t1 = time.time()
    lc = LlamaCppModel()
    score_all(lc, all_passes + extra, "llamacpp")
    del lc
    t_lc = time.time() - t1
    print("llama.cpp done in %.0fs" % t_lc, flush=True)

    # aggregate differences
    tok_d, loss_d, tok_d_span = [], [], []
    for p in all_passes + extra:
        a, b = p["_nll_f32"], p["_nll_llamacpp"]
        if len(a):
            tok_d.append(np.abs(a - b))
            s = max(p["span_start"], 1)
            tok_d_span.append(np.abs(a - b)[s - 1:])
        if p["_loss_f32"] == p["_loss_f32"]:
            loss_d.append(abs(p["_loss_f32"] - p["_loss_llamacpp"]))
    tok_d = np.concatenate(tok_d)
    tok_d_span = np.concatenate(tok_d_span)
    loss_d = np.array(loss_d)
    ifd_d = {"ifd_loss": [], "ifd_ppl": []}

    def finish(p):
        out = {k: p[k] for k in ("text", "ids", "span_start") if k in p}
        for k in ("max_length", "truncated", "boundary_merge"):
            if k in p:
                out[k] = p[k]
        for impl in ("f32", "llamacpp"):
            out["nll_" + impl] = [r6(x) for x in p["_nll_" + impl]]
            out["loss_" + impl] = r6(p["_loss_" + impl])
        return out

    path = os.path.join(HERE, "smollm2_ifd.jsonl")
    n_trunc = n_merge = 0
    with open(path, "w", encoding="utf-8") as f:
        for k, p in enumerate(pairs):
            line = {"pair": k, "source": p["source"], "instruction": p["instruction"], "input": p["input"],
                    "output": p["output"], "templates": {}}
            for t in ("none", "chatml"):
                tp = p["templates"][t]
                o = {}
                if "L_Q" in tp:
                    o["L_Q"] = tp["L_Q"]
                o["cond"], o["direct"] = finish(tp["cond"]), finish(tp["direct"])
                for impl in ("f32", "llamacpp"):
                    a, b = ifd(tp["cond"]["_loss_" + impl], tp["direct"]["_loss_" + impl])
                    o["ifd_loss_" + impl], o["ifd_ppl_" + impl] = r6(a), r6(b)
                ifd_d["ifd_loss"].append(abs(o["ifd_loss_f32"] - o["ifd_loss_llamacpp"]))
                ifd_d["ifd_ppl"].append(abs(o["ifd_ppl_f32"] - o["ifd_ppl_llamacpp"]))
                n_trunc += tp["cond"]["truncated"] + tp["direct"]["truncated"]
                n_merge += tp["cond"]["boundary_merge"] + tp["direct"]["boundary_merge"]
                line["templates"][t] = o
            f.write(json.dumps(line, ensure_ascii=False) + "\n")

    ref_out = []
    for r in ref_cases:
        o = {"answer": r["answer"], "answer_tokens": r["answer_tokens"],
             "cond": finish(r["cond"]), "direct": finish(r["direct"])}
        for impl in ("f32", "llamacpp"):
            a, b = ifd(r["cond"]["_loss_" + impl], r["direct"]["_loss_" + impl])
            o["ifd_loss_" + impl], o["ifd_ppl_" + impl] = r6(a), r6(b)
        ref_out.append(o)
    ppl_out = []
    for p in ppl_cases:
        o = finish(p)
        o["name"], o["expected_assets"], o["bos_im_start_prepended"] = p["name"], p["expected_assets"], p["bos"]
        o["ppl_f32"] = r6(math.exp(p["_loss_f32"]))
        o["ppl_llamacpp"] = r6(math.exp(p["_loss_llamacpp"]))
        ppl_out.append(o)

    q = lambda a, x: r6(float(np.quantile(a, x)))
    diffs = {
        "n_passes": len(all_passes) + len(extra),
        "n_tokens_scored": int(tok_d.size),
        "per_token_nll_abs_diff": {"max": r6(float(tok_d.max())), "p99": q(tok_d, 0.99), "p50": q(tok_d, 0.5),
                                   "mean": r6(float(tok_d.mean()))},
        "per_token_nll_abs_diff_response_span_only": {"max": r6(float(tok_d_span.max())), "p99": q(tok_d_span, 0.99),
                                                      "mean": r6(float(tok_d_span.mean()))},
        "mean_loss_abs_diff": {"max": r6(float(loss_d.max())), "p99": q(loss_d, 0.99), "p50": q(loss_d, 0.5),
                               "mean": r6(float(loss_d.mean()))},
        "ifd_loss_abs_diff": {"max": r6(max(ifd_d["ifd_loss"])), "mean": r6(float(np.mean(ifd_d["ifd_loss"])))},
        "ifd_ppl_abs_diff": {"max": r6(max(ifd_d["ifd_ppl"])), "mean": r6(float(np.mean(ifd_d["ifd_ppl"])))},
        "n_truncated_passes": int(n_trunc),
        "n_boundary_merge_passes": int(n_merge),
    }
    ref = {
        "description": "ASSETS.md reference checks for SmolLM2-135M-Instruct Q4_1, computed by gen_smollm2_ifd.py",
        "assets_expected": {"f32": {"cond": 0.815, "uncond": 1.598, "ifd": 0.510},
                            "llamacpp": {"cond": 0.794, "uncond": 1.597, "ifd": 0.497}},
        "ifd_reference_case": {"instruction": REF_INSTRUCTION, "template": "chatml",
                               "note": "ASSETS does not give the 28-token answer; these are constructed candidates, the first is primary",
                               "candidates": ref_out},
        "perplexity_sanity": ppl_out,
        "f32_vs_llamacpp": diffs,
        "rounding": "all floats rounded to %d significant digits" % SIG,
        "timing_s": {"f32": round(t_f32, 1), "llamacpp": round(t_lc, 1), "total": round(time.time() - t0, 1)},
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__, "torch": torch.__version__,
                     "transformers": transformers.__version__, "llama_cpp_python": llama_cpp.__version__},
        "llama_cpp_system_info": llama_cpp.llama_print_system_info().decode().strip(),
    }
    with open(os.path.join(HERE, "smollm2_reference.json"), "w", encoding="utf-8") as f:
        json.dump(ref, f, indent=1, ensure_ascii=False)
        f.write("\n")

    print(json.dumps(diffs, indent=1))
    for o in ref_out:
        print("ref answer (%d tok): f32 cond %.4f direct %.4f ifd %.4f | llama.cpp cond %.4f direct %.4f ifd %.4f" % (
            o["answer_tokens"], o["cond"]["loss_f32"], o["direct"]["loss_f32"], o["ifd_loss_f32"],
            o["cond"]["loss_llamacpp"], o["direct"]["loss_llamacpp"], o["ifd_loss_llamacpp"]))
    for o in ppl_out:
        print("ppl %s: f32 %.3f llama.cpp %.3f" % (o["name"], o["ppl_f32"], o["ppl_llamacpp"]))
    print("done in %.0fs" % (time.time() - t0))


if __name__ == "__main__":
    main()
