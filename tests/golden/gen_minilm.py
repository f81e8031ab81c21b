#!/usr/bin/env python3
"""Golden fixtures for the MiniLM sentence encoder (all-MiniLM-L6-v2).

Regenerate (from the repo root, after `bash scripts/ref-env.sh`):

    .venv-ref/bin/python tests/golden/gen_minilm.py

Writes, next to this file:
  minilm_texts.jsonl      500 lines, each one JSON string (the exact text embedded)
  minilm_embeddings.npy   float32 (500, 384), little-endian, row i = embedding of line i
  minilm_meta.json        selection rule, per-text token counts, reference checks, versions

Reference implementation: sentence-transformers loading the local model directory
(HF_HUB_OFFLINE=1), max_seq_length 256, normalize_embeddings=True, i.e. BERT ->
mean pooling over the attention mask -> L2 normalisation. An independent second path
(plain transformers AutoModel + manual masked mean pooling, each text alone, no padding)
is computed as a cross-check and its max |diff| is recorded in the meta file.

Text selection (deterministic, documented in minilm_meta.json too):
  CaR's embedding string  "Instruction: " + I + " Input: " + X + " Response: " + O
  (exact; with empty X this contains "Input:  Response:" with two spaces). Blocks, in order:
  A  cherry_ifd_top6pct_3111.json: the records whose CaR string has >= 1100 characters,
     in file order; every 2nd of them (positions 0, 2, 4, ... of that filtered list),
     first 200                                              (long: most exceed 256 pieces)
  B  cherry_ifd_top6pct_3111.json: records 7, 19, 31, ... (step 12) not already in A,
     first 100                                              (typical lengths)
  C  car_selected_1013.json: records 0, 8, 16, ..., first 100
  D  lcg_multinomialnb_1k.json: records 1, 9, 17, ..., first 100   (many short ones)
"""
import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("GLEANER_SHARED_DATA", "/work/shared/data")
MODEL_DIR = os.path.expanduser(
    os.environ.get("GLEANER_MINILM_DIR", "~/.cache/gleaner/models/all-MiniLM-L6-v2"))
MAX_SEQ = 256

SELECTION = [
    # (block, file, start, step, count, min_chars)  -- see the module docstring
    ("A", "alpaca-selections/cherry_ifd_top6pct_3111.json", 0, 2, 200, 1100),
    ("B", "alpaca-selections/cherry_ifd_top6pct_3111.json", 7, 12, 100, 0),
    ("C", "alpaca-selections/car_selected_1013.json", 0, 8, 100, 0),
    ("D", "alpaca-selections/lcg_multinomialnb_1k.json", 1, 8, 100, 0),
]

REF_SENTENCES = [
    "How do I bake chocolate chip cookies?",
    "Give me a recipe for chocolate chip cookies.",
    "Explain the theory of general relativity.",
]
ASSETS_EXPECTED = {
    "cos_0_1": 0.813,
    "cos_0_2": 0.101,
    "cos_1_2": 0.146,
    "first5_0": [0.017876, 0.009457, -0.016476, -0.007823, -0.059421],
}


def car_text(r):
    return "Instruction: " + r["instruction"] + " Input: " + r["input"] + " Response: " + r["output"]


def select_texts():
    texts, sources, taken = [], [], set()
    for block, fname, start, step, count, min_chars in SELECTION:
        recs = json.load(open(os.path.join(DATA, fname), encoding="utf-8"))
        if min_chars:
            # filter by length first, then step through the filtered list
            pool = [i for i in range(len(recs)) if len(car_text(recs[i])) >= min_chars]
            idx = pool[start::step]
        else:
            idx = list(range(start, len(recs), step))
        idx = [i for i in idx if (fname, i) not in taken][:count]
        assert len(idx) == count, (fname, len(idx))
        for i in idx:
            taken.add((fname, i))
            texts.append(car_text(recs[i]))
            sources.append([block, os.path.basename(fname), i])
    return texts, sources


def main():
    t0 = time.time()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    import sentence_transformers
    import tokenizers
    import transformers
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

    texts, sources = select_texts()
    assert len(texts) == 500

    # token counts before truncation, with [CLS]/[SEP]: raw tokenizers library, padding and
    # truncation from tokenizer.json disabled (it ships with fixed pad 128 / trunc 128).
    tok = Tokenizer.from_file(os.path.join(MODEL_DIR, "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    counts = [len(tok.encode(t, add_special_tokens=True).ids) for t in texts]

    model = SentenceTransformer(MODEL_DIR, device="cpu")
    model.max_seq_length = MAX_SEQ
    # cross-check counts with the HF tokenizer sentence-transformers uses
    hf_tok = model.tokenizer
    counts_hf = [len(hf_tok(t, add_special_tokens=True, truncation=False)["input_ids"]) for t in texts]
    assert counts == counts_hf, "tokenizers vs transformers token counts differ"

    emb = model.encode(texts, batch_size=16, normalize_embeddings=True,
                       convert_to_numpy=True, show_progress_bar=False).astype("<f4")
    assert emb.shape == (500, 384)

    # independent path: transformers AutoModel, one text at a time, manual masked mean + L2
    from transformers import AutoModel, AutoTokenizer
    am = AutoModel.from_pretrained(MODEL_DIR).eval()
    at = AutoTokenizer.from_pretrained(MODEL_DIR)
    man = np.zeros_like(emb)
    with torch.no_grad():
        for i, t in enumerate(texts):
            enc = at(t, truncation=True, max_length=MAX_SEQ, padding=False, return_tensors="pt")
            h = am(**enc).last_hidden_state[0]            # (T, 384), no padding
            v = h.mean(0)
            man[i] = (v / v.norm()).numpy()
    manual_maxdiff = float(np.abs(man - emb).max())

    ref = model.encode(REF_SENTENCES, normalize_embeddings=True, convert_to_numpy=True)
    cos = ref @ ref.T
    ref_check = {
        "sentences": REF_SENTENCES,
        "cos_0_1": round(float(cos[0, 1]), 6),
        "cos_0_2": round(float(cos[0, 2]), 6),
        "cos_1_2": round(float(cos[1, 2]), 6),
        "first5_0": [round(float(x), 6) for x in ref[0, :5]],
        "assets_expected": ASSETS_EXPECTED,
    }
    ref_check["matches_assets"] = bool(
        abs(ref_check["cos_0_1"] - 0.813) < 5e-4 and abs(ref_check["cos_0_2"] - 0.101) < 5e-4
        and abs(ref_check["cos_1_2"] - 0.146) < 5e-4
        and np.allclose(ref[0, :5], ASSETS_EXPECTED["first5_0"], atol=2e-6))

    with open(os.path.join(HERE, "minilm_texts.jsonl"), "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps(t, ensure_ascii=False) + "\n")
    np.save(os.path.join(HERE, "minilm_embeddings.npy"), emb)

    c = np.array(counts)
    meta = {
        "description": "Golden MiniLM embeddings; row i of minilm_embeddings.npy embeds line i of minilm_texts.jsonl",
        "model_dir": "~/.cache/gleaner/models/all-MiniLM-L6-v2 (model.safetensors sha256 53aa5117...)",
        "text_format": '"Instruction: " + instruction + " Input: " + input + " Response: " + output (CaR; exact, two spaces when input is empty)',
        "selection": [
            {"block": b, "file": f, "rule": ("records with len(text) >= %d chars, in file order, [%d::%d], "
                                             "first %d" % (mc, s, st, n)) if mc else
             ("records range(%d, len, %d) not already taken, first %d" % (s, st, n))}
            for b, f, s, st, n, mc in SELECTION],
        "selection_note": "blocks A, B, C, D in this order; sources[i] = [block, file, record index] of text i",
        "sources": sources,
        "max_seq_length": MAX_SEQ,
        "pooling": "mean over attention mask (incl. [CLS]/[SEP]), then L2 normalise",
        "embeddings": {"dtype": "float32 little-endian", "shape": list(emb.shape)},
        "token_counts_with_special_untruncated": counts,
        "token_count_stats": {
            "min": int(c.min()), "median": float(np.median(c)), "max": int(c.max()),
            "n_over_256": int((c > 256).sum()), "n_at_most_64": int((c <= 64).sum()),
        },
        "crosscheck_manual_transformers_max_abs_diff": manual_maxdiff,
        "reference_check": ref_check,
        "versions": {
            "python": sys.version.split()[0], "numpy": np.__version__, "torch": torch.__version__,
            "transformers": transformers.__version__,
            "sentence_transformers": sentence_transformers.__version__,
            "tokenizers": tokenizers.__version__,
        },
    }
    with open(os.path.join(HERE, "minilm_meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(json.dumps({k: meta[k] for k in ("token_count_stats", "crosscheck_manual_transformers_max_abs_diff",
                                             "reference_check")}, indent=1))
    print("done in %.1fs" % (time.time() - t0))


if __name__ == "__main__":
    main()
