"""Shared helpers for the tiny-model golden generators (gen_tiny_*.py).

Everything here is reference semantics written from docs/methods.md (§2.2, §2.4,
§3.2) and the original scripts (Cherry_LLM cherry_seletion/data_analysis.py and
data_by_IFD.py, Superfiltering code_ifd/data_analysis.py).
"""
import json
import math
import os
import platform
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("GLEANER_SHARED_DATA", "/work/shared/data"))
SEL = DATA / "alpaca-selections"

# docs/methods.md §2.2 (strings exact)
ALPACA_PROMPT_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides further context. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:"
)
ALPACA_PROMPT_NO_INPUT = (
    "Below is an instruction that describes a task. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Response:"
)
CHERRY_DIRECT_PREFIX = "### Response:"
# docs/methods.md §3.2 (template "none")
NONE_PROMPT_INPUT = "{instruction}\n{input}\n"
NONE_PROMPT_NO_INPUT = "{instruction}\n"

# The 20(+1) real Alpaca pairs used by the causal-LM goldens: indices into
# cherry_ifd_top6pct_3111.json (plus one from car_selected_1013.json), picked for
# coverage: shortest texts, one-character outputs, outputs that also occur inside
# the prompt (so rfind != find), non-ASCII (Chinese, box drawing, fractions, ğ, π,
# ᵒ, curly quotes, French accents), code with tabs and indentation, HTML, and the
# longest record (4,142-char output; it is truncated at max_length).
LM_PICKS = [
    ("cherry_ifd_top6pct_3111.json", 694),   # shortest text, output "8"
    ("cherry_ifd_top6pct_3111.json", 1291),
    ("cherry_ifd_top6pct_3111.json", 804),   # output "true" also occurs in the instruction
    ("cherry_ifd_top6pct_3111.json", 1046),  # output "1" also occurs in the instruction ("1)")
    ("cherry_ifd_top6pct_3111.json", 557),   # output "4", long input with blank line
    ("cherry_ifd_top6pct_3111.json", 2666),
    ("cherry_ifd_top6pct_3111.json", 3005),  # Chinese characters
    ("cherry_ifd_top6pct_3111.json", 2585),  # box-drawing flow chart
    ("cherry_ifd_top6pct_3111.json", 1661),  # ° ½ ⅔
    ("cherry_ifd_top6pct_3111.json", 2467),  # ğ
    ("cherry_ifd_top6pct_3111.json", 5),     # ’
    ("cherry_ifd_top6pct_3111.json", 122),   # “ ”
    ("cherry_ifd_top6pct_3111.json", 106),   # Python code
    ("cherry_ifd_top6pct_3111.json", 1052),  # tabs
    ("cherry_ifd_top6pct_3111.json", 83),    # HTML, trailing spaces before newlines
    ("cherry_ifd_top6pct_3111.json", 1444),  # π
    ("cherry_ifd_top6pct_3111.json", 2796),  # ᵒ
    ("cherry_ifd_top6pct_3111.json", 0),
    ("cherry_ifd_top6pct_3111.json", 1910),  # longest output (4,142 chars): truncated
    ("car_selected_1013.json", 2),           # French: À ç é î ô
]

# A few records re-scored with a small max_length so that the truncation rules
# (conditioned pass at ML, direct pass at ML - L_Q + 1 / + 4) actually bind.
SMALL_ML_PICKS = [0, 5, 12, 17, 18]  # positions in LM_PICKS


def load_json(name):
    with open(SEL / name, encoding="utf-8") as f:
        return json.load(f)


def lm_records():
    cache = {}
    out = []
    for fname, idx in LM_PICKS:
        if fname not in cache:
            cache[fname] = load_json(fname)
        r = cache[fname][idx]
        out.append({"source": f"{fname}[{idx}]", "instruction": r["instruction"],
                    "input": r.get("input", ""), "output": r["output"]})
    return out


def all_alpaca_texts():
    """All instruction/input/output strings of the released Alpaca-format files
    (used to train the tiny tokenizers and briefly the tiny LMs)."""
    texts = []
    for name in ["car_selected_1013.json", "cherry_ifd_top6pct_3111.json",
                 "lcg_multinomialnb_1k.json", "lcg_distilbert_lr1e-6_1k.json"]:
        for r in load_json(name):
            for k in ("instruction", "input", "output"):
                if r.get(k):
                    texts.append(r[k])
    return texts


def alpaca_prompt(rec):
    if rec["input"] == "":
        return ALPACA_PROMPT_NO_INPUT.format_map({"instruction": rec["instruction"]})
    return ALPACA_PROMPT_INPUT.format_map({"instruction": rec["instruction"], "input": rec["input"]})


def none_prompt(rec):
    if rec["input"] == "":
        return NONE_PROMPT_NO_INPUT.format_map({"instruction": rec["instruction"]})
    return NONE_PROMPT_INPUT.format_map({"instruction": rec["instruction"], "input": rec["input"]})


def encode_trunc(tok, text, max_length=None):
    """tokenizers.Tokenizer encode with special tokens, then HF-style right
    truncation.  Callers verify it against transformers' encode(truncation=True)."""
    ids = tok.encode(text, add_special_tokens=True).ids
    if max_length is None:
        return ids
    return truncate_like_hf(tok, ids, text, max_length)


def truncate_like_hf(tok, ids, text, max_length):
    # Only template post-processors with specials at the front (GPT-2: none,
    # Llama: BOS) are used with this helper; XLM-R is handled in gen_tiny_iqs.py.
    return ids[:max_length]


@torch.no_grad()
def token_nlls(model, ids):
    """NLL of token t_i for i = 1..T-1: -log softmax(logits[i-1])[t_i] (float32)."""
    x = torch.tensor([ids], dtype=torch.long)
    logits = model(x).logits[0].float()
    logp = torch.log_softmax(logits, dim=-1)
    tgt = x[0, 1:]
    nll = -logp[:-1].gather(1, tgt[:, None])[:, 0]
    return nll


@torch.no_grad()
def hf_loss(model, ids, start):
    """HF loss with labels = ids and positions < start masked (-100)."""
    x = torch.tensor([ids], dtype=torch.long)
    labels = x.clone()
    labels[0, :start] = -100
    out = model(x, labels=labels)
    return float(out.loss.item())


def span_pass(model, tok, hf_tok, text, span, max_length):
    """docs/methods.md §2.4 span pass.  Returns ids, span start s, per-token NLLs (T-1 entries,
    entry j = NLL of token j+1), the HF loss over tokens s..T-1 and its float64
    mean recomputed from the float32 token NLLs (Cherry's np.mean of the list)."""
    ids = encode_trunc(tok, text, max_length)
    hf_ids = hf_tok.encode(text, truncation=True, max_length=max_length)
    assert list(hf_ids) == ids, ("truncated ids differ from transformers", text[:80])
    start_index = text.rfind(span)
    prefix = text[:start_index]
    prefix_ids = tok.encode(prefix, add_special_tokens=True).ids
    s = len(prefix_ids)
    assert s == len(hf_tok.encode(prefix)), "prefix count differs from transformers"
    T = len(ids)
    nll = token_nlls(model, ids)
    nll_list = [float(v) for v in nll.tolist()]
    assert len(nll_list) == T - 1
    sliced = nll_list[s - 1:T - 1] if s >= 1 else nll_list[0:T - 1]
    n_scored = T - s if s >= 1 else T - 1
    if n_scored > 0:
        loss = hf_loss(model, ids, s)
        mean64 = float(np.mean(np.array(sliced, dtype=np.float64)))
        mean32 = float(torch.tensor(sliced, dtype=torch.float32).mean())
        assert math.isclose(loss, mean64, rel_tol=2e-6, abs_tol=2e-6), (loss, mean64)
        assert math.isclose(loss, mean32, rel_tol=2e-6, abs_tol=2e-6), (loss, mean32)
    else:
        loss, mean64 = None, None  # HF loss is NaN: every label masked
    return {
        "text": text,
        "max_length": max_length,
        "ids": ids,
        "n_tokens": T,
        "span_char_start": start_index,
        "span_start": s,
        "prefix_ids_are_ids_head": ids[:s] == prefix_ids,
        "n_scored": max(n_scored, 0),
        "token_nll": nll_list,
        "hf_loss": loss,
        "loss_mean_f64": mean64,
        "ppl": (math.exp(loss) if loss is not None else None),
    }


def whole_pass(model, tok, hf_tok, text, max_length):
    """Superfiltering direct pass (get_perplexity_and_embedding_whole_text):
    labels = all ids, loss = mean NLL of tokens 1..T-1."""
    ids = encode_trunc(tok, text, max_length)
    hf_ids = hf_tok.encode(text, truncation=True, max_length=max_length)
    assert list(hf_ids) == ids
    T = len(ids)
    nll_list = [float(v) for v in token_nlls(model, ids).tolist()] if T >= 1 else []
    if T >= 2:
        loss = hf_loss(model, ids, 0)
        mean64 = float(np.mean(np.array(nll_list, dtype=np.float64)))
        assert math.isclose(loss, mean64, rel_tol=2e-6, abs_tol=2e-6), (loss, mean64)
    else:
        loss, mean64 = None, None  # one token: nothing to score, HF loss is NaN
    return {
        "text": text,
        "max_length": max_length,
        "ids": ids,
        "n_tokens": T,
        "span_start": 1 if T >= 1 else 0,
        "n_scored": max(T - 1, 0),
        "token_nll": nll_list,
        "hf_loss": loss,
        "loss_mean_f64": mean64,
        "ppl": (math.exp(loss) if loss is not None else None),
    }


def ratio_fields(cond, direct):
    """Both IFD forms.  ifd_loss = L_cond / L_direct (Cherry), ifd_ppl =
    PPL_cond / PPL_direct (Superfiltering, computed from the float32 HF losses the
    way put_analysis_to_data.py divides the stored perplexities).  None = NaN."""
    lc, ld = cond["hf_loss"], direct["hf_loss"]
    mc, md = cond["loss_mean_f64"], direct["loss_mean_f64"]
    out = {}
    out["ifd_loss"] = (mc / md) if (mc is not None and md not in (None, 0.0)) else None
    if lc is not None and ld is not None:
        pc = float(torch.exp(torch.tensor(lc, dtype=torch.float32)))
        pd = float(torch.exp(torch.tensor(ld, dtype=torch.float32)))
        out["ppl_cond_f32"] = pc
        out["ppl_direct_f32"] = pd
        out["ifd_ppl"] = pc / pd if pd != 0 else 0.0
        out["ifd_ppl_f64"] = math.exp(mc - md)
    else:
        out["ppl_cond_f32"] = float(torch.exp(torch.tensor(lc))) if lc is not None else None
        out["ppl_direct_f32"] = float(torch.exp(torch.tensor(ld))) if ld is not None else None
        out["ifd_ppl"] = None
        out["ifd_ppl_f64"] = None
    return out


def versions():
    import tokenizers
    import transformers
    import safetensors
    v = {"python": platform.python_version(), "torch": torch.__version__,
         "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
         "safetensors": safetensors.__version__, "numpy": np.__version__}
    try:
        import sentencepiece
        v["sentencepiece"] = sentencepiece.__version__
    except Exception:
        pass
    return v


def add_legacy_config_keys(model_dir, extra):
    """transformers 5 writes "dtype" (and, for Llama, "rope_parameters"); the
    checkpoints found in the wild were written by 4.x with "torch_dtype" and a
    top-level "rope_theta".  Add the legacy keys next to the new ones so a
    loader can be tested against either spelling (transformers 5 reads the file
    back unchanged; the goldens are computed after this reload)."""
    p = Path(model_dir) / "config.json"
    cfg = json.load(open(p, encoding="utf-8"))
    cfg.setdefault("torch_dtype", cfg.get("dtype", "float32"))
    for k, v in extra.items():
        cfg.setdefault(k, v)
    with open(p, "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")


def dumps_compact(obj, indent=1, level=0):
    """JSON with nested objects indented but lists of scalars on one line
    (keeps the fixtures small and diff-friendly).  Floats use Python's
    shortest round-trip repr; NaN/Infinity are rejected."""
    pad = " " * (indent * (level + 1))
    end = " " * (indent * level)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [pad + json.dumps(str(k), ensure_ascii=False) + ": " + dumps_compact(v, indent, level + 1)
                 for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    if isinstance(obj, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) for v in obj):
            return json.dumps(list(obj), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return "[\n" + ",\n".join(pad + dumps_compact(v, indent, level + 1) for v in obj) + "\n" + end + "]"
    return json.dumps(obj, ensure_ascii=False, allow_nan=False)


def write_json(path, obj):
    text = dumps_compact(obj)
    assert json.loads(text) == json.loads(json.dumps(obj, allow_nan=False))
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    print(f"wrote {path} ({Path(path).stat().st_size} bytes)", file=sys.stderr)


def packed_training_batches(tok, texts, seq_len, batch_size, steps, seed, eos_id=None, bos_id=None):
    """Deterministic stream of (batch_size, seq_len) id tensors packed from texts."""
    g = np.random.default_rng(seed)
    order = g.permutation(len(texts))
    stream = []
    for i in order:
        ids = tok.encode(texts[i], add_special_tokens=False).ids
        if bos_id is not None:
            stream.append(bos_id)
        stream.extend(ids)
        if eos_id is not None:
            stream.append(eos_id)
    stream = np.array(stream, dtype=np.int64)
    n = len(stream) // seq_len
    blocks = stream[: n * seq_len].reshape(n, seq_len)
    for step in range(steps):
        sel = g.integers(0, n, size=batch_size)
        yield torch.from_numpy(blocks[sel])


def brief_train(model, batches, lr=3e-3, log_every=50):
    """A short AdamW run so that the tiny LM's predictions are far from uniform
    (random-init logits would give NLL ~ log V for every token and make the
    golden insensitive to bugs).  The saved weights are what the golden uses."""
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    for step, x in enumerate(batches):
        out = model(x, labels=x)
        opt.zero_grad()
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % log_every == 0:
            print(f"  step {step}: loss {out.loss.item():.4f}", file=sys.stderr)
    model.eval()
    return model
