#!/usr/bin/env python3
"""Golden tokenizer fixtures for SmolLM2-135M-Instruct (tokenizer read from the GGUF).

Regenerate (from the repo root, after `bash scripts/ref-env.sh`):

    .venv-ref/bin/python tests/golden/gen_smollm2_tokens.py

Writes tests/golden/smollm2_tokens.jsonl, one JSON object per line:
  {"text": str, "source": str, "ids": [int], "llama_cpp_agrees": bool,
   "hf_gguf_raw_agrees": bool [, "ids_hf_gguf_raw": [int]] [, "ids_llamacpp": [int]]}

- "ids": HF transformers tokenizer built from the GGUF metadata
  (AutoTokenizer.from_pretrained(dir, gguf_file=...)), add_special_tokens=False, with ONE
  correction: transformers' GGUF converter (5.23.0) ignores `tokenizer.ggml.pre = smollm` and
  builds only ByteLevel(GPT-2 regex); we set the pre-tokenizer to
  Sequence([Digits(individual_digits=True), ByteLevel(add_prefix_space=False, use_regex=True)]),
  which is exactly the pre-tokenizer of SmolLM2's own tokenizer.json and of llama.cpp's
  `smollm` pre-type. Added special tokens written in the text (<|im_start|> ...) are matched.
- "llama_cpp_agrees": llama-cpp-python Llama(vocab_only=True).tokenize(text.encode(),
  add_bos=False, special=True) gives the same list ("ids_llamacpp" is added if not).
- "hf_gguf_raw_agrees": the uncorrected transformers GGUF tokenizer gives the same list; if
  not, "ids_hf_gguf_raw" holds its ids (it differs where whitespace or a \\p{N} character
  such as "½" precedes a digit, e.g. "\\n\\n1." -> ["\\n","\\n","1","."] vs ["\\n\\n","1","."]).
  These lines show what a tokenizer that skips the digit split gets wrong.

Texts (deterministic, deduplicated keeping the first occurrence, order as listed):
  edge/*      hand-written edge cases (whitespace runs, newlines, digits, specials, scripts, emoji)
  alpaca/*    cherry_ifd_top6pct_3111.json records 0, 75, 150, ...: instruction and output;
              car_selected_1013.json records with non-empty input, every 10th of them: input
  nonascii/*  every instruction/input/output field of the four Alpaca-format selections that
              contains a character in U+00B0..U+1FFF or >= U+2070 (accents, ½ ², Greek, CJK,
              emoji, math letters; curly quotes and dashes alone do not qualify); the first
              12 per file
  code/*      cherry outputs that contain a tab or look like indented code (first 12)
  eval/*      eval-set prompts that contain non-ASCII, code or runs of whitespace, plus every
              40th prompt of each set (Vicuna text, Koala prompt, LIMA conversations,
              Self-Instruct instruction and first instance input, WizardLM Instruction)
"""
import glob
import json
import os
import re
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("GLEANER_SHARED_DATA", "/work/shared/data")
GGUF_DIR = os.path.expanduser(
    os.environ.get("GLEANER_SMOLLM2_DIR", "~/.cache/gleaner/models/SmolLM2-135M-Instruct"))
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

EDGE = [
    "", " ", "  ", "\n", "\n\n", " \n", "\t", "\r\n", "  leading spaces", "trailing spaces   ",
    "a\n\n\nb", "a  b   c    d", "line1\nline2\r\nline3", "\n\n\nstarts with newlines",
    "ends with newlines\n\n", "   \n   \n", "tab\tseparated\tvalues", "\t\tdouble tab",
    "1234567", " 1234567", "2023", " 2023", "x=2023", "abc123def", "3.14159", "-42", "1,000,000",
    "$1,234.56", "100%", "1st 2nd 3rd 4th", "0x1F", "v1.2.3", "١٢٣ ٤٥٦", "２０２３", "½ ¾ ² Ⅻ",
    "<|im_start|>user\nhi<|im_end|>\n",
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "<|endoftext|>", "<|im_start|", "text<|im_end|>text", "<|im_start|><|im_end|>",
    "don't DON'T I'm you'll we've she'd they're it's", "'s 're 've 'm 'll 'd 't",
    "Hello, world!", "HELLO WORLD", "hello    world", "e-mail: someone@example.com",
    "https://example.com/path?q=1&r=2#frag",
    "Привет, как дела?", "Bonjour, ça va ? Très bien.", "Größe, Straße, Ärger",
    "你好，世界！", "日本語のテキストです。", "안녕하세요", "مرحبا بالعالم", "नमस्ते दुनिया",
    "Ελληνικά γράμματα", "😀😃😄", "👩‍👩‍👧‍👦 family", "🇮🇪🇫🇷", "e\u0301 combining", "zero\u200bwidth",
    "non\u00a0breaking", "def f(x):\n    return x * 2\n", "for (int i = 0; i < n; i++) {\n\tsum += a[i];\n}",
    "```python\nprint('hi')\n```", "{\"key\": [1, 2, 3]}", "a" * 64, "!!!???...", "----====____",
]


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def collect():
    out = []  # (source, text)
    for t in EDGE:
        out.append(("edge", t))

    sel = os.path.join(DATA, "alpaca-selections")
    cherry = json.load(open(os.path.join(sel, "cherry_ifd_top6pct_3111.json"), encoding="utf-8"))
    for i in range(0, len(cherry), 75):
        out.append(("alpaca/cherry/%d/instruction" % i, cherry[i]["instruction"]))
        out.append(("alpaca/cherry/%d/output" % i, cherry[i]["output"]))
    car = json.load(open(os.path.join(sel, "car_selected_1013.json"), encoding="utf-8"))
    with_input = [i for i, r in enumerate(car) if r["input"]]
    for i in with_input[::10]:
        out.append(("alpaca/car/%d/input" % i, car[i]["input"]))

    nonascii = re.compile("[\u00b0-\u1fff\u2070-\U0010ffff]")
    for fname in ("cherry_ifd_top6pct_3111.json", "car_selected_1013.json",
                  "lcg_multinomialnb_1k.json", "lcg_distilbert_lr1e-6_1k.json"):
        recs = json.load(open(os.path.join(sel, fname), encoding="utf-8"))
        hits = [(i, k) for i, r in enumerate(recs) for k in ("instruction", "input", "output")
                if nonascii.search(r.get(k, ""))]
        for i, k in hits[:12]:
            out.append(("nonascii/%s/%d/%s" % (fname.split("_")[0], i, k), recs[i][k]))

    code = [i for i, r in enumerate(cherry)
            if "\t" in r["output"] or ("    " in r["output"] and ("def " in r["output"] or "{" in r["output"]))]
    for i in code[:12]:
        out.append(("code/cherry/%d/output" % i, cherry[i]["output"]))

    ev = os.path.join(DATA, "eval-sets")
    prompts = []
    for r in load_jsonl(os.path.join(ev, "vicuna_test_set.jsonl")):
        prompts.append(("vicuna", r["text"]))
    for r in load_jsonl(os.path.join(ev, "koala_test_set.jsonl")):
        prompts.append(("koala", r["prompt"]))
    for r in load_jsonl(os.path.join(ev, "lima_test_set.jsonl")):
        c = r["conversations"]
        prompts.append(("lima", c if isinstance(c, str) else c[0]))
    for r in load_jsonl(os.path.join(ev, "sinstruct_test_set.jsonl")):
        prompts.append(("sinstruct", r["instruction"]))
        if r["instances"] and r["instances"][0]["input"]:
            prompts.append(("sinstruct-input", r["instances"][0]["input"]))
    for r in load_jsonl(os.path.join(ev, "wizardlm_test_set.jsonl")):
        prompts.append(("wizardlm", r["Instruction"]))
    special = re.compile("[\u00b0-\u1fff\u2070-\U0010ffff]|```|def |\\{|   |\t|\n\n\n")
    per_set = {}
    for name, t in prompts:
        j = per_set.get(name, 0)
        per_set[name] = j + 1
        if special.search(t) or j % 40 == 0:
            out.append(("eval/%s/%d" % (name, j), t))

    seen, uniq = set(), []
    for src, t in out:
        if t in seen:
            continue
        seen.add(t)
        uniq.append((src, t))
    return uniq


def smollm2_tokenizer():
    """HF tokenizer from the GGUF, with the smollm pre-tokenizer restored (see docstring).

    Returns (fixed, raw): raw is the tokenizer exactly as transformers builds it."""
    from transformers import AutoTokenizer
    from tokenizers import pre_tokenizers as pt
    raw = AutoTokenizer.from_pretrained(GGUF_DIR, gguf_file=GGUF_FILE)
    fixed = AutoTokenizer.from_pretrained(GGUF_DIR, gguf_file=GGUF_FILE)
    fixed.backend_tokenizer.pre_tokenizer = pt.Sequence(
        [pt.Digits(individual_digits=True), pt.ByteLevel(add_prefix_space=False, use_regex=True)])
    return fixed, raw


def main():
    t0 = time.time()
    import transformers
    import tokenizers
    import llama_cpp
    from llama_cpp import Llama

    texts = collect()
    tok, raw = smollm2_tokenizer()
    llm = Llama(model_path=os.path.join(GGUF_DIR, GGUF_FILE), vocab_only=True, verbose=False)

    dis_lc, dis_raw = [], []
    path = os.path.join(HERE, "smollm2_tokens.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for src, t in texts:
            ids = list(tok(t, add_special_tokens=False)["input_ids"])
            ids_raw = list(raw(t, add_special_tokens=False)["input_ids"])
            lc = list(llm.tokenize(t.encode("utf-8"), add_bos=False, special=True)) if t else []
            rec = {"text": t, "source": src, "ids": ids, "llama_cpp_agrees": ids == lc,
                   "hf_gguf_raw_agrees": ids_raw == ids}
            if ids != lc:
                rec["ids_llamacpp"] = lc
                dis_lc.append((src, t[:60]))
            if ids_raw != ids:
                rec["ids_hf_gguf_raw"] = ids_raw
                dis_raw.append((src, t[:60]))
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    by = {}
    for src, _ in texts:
        by[src.split("/")[0]] = by.get(src.split("/")[0], 0) + 1
    print("texts:", len(texts), by)
    print("disagreements HF(fixed) vs llama.cpp:", len(dis_lc))
    for d in dis_lc:
        print("  ", d)
    print("disagreements HF(raw GGUF converter) vs HF(fixed):", len(dis_raw))
    print("transformers", transformers.__version__, "tokenizers", tokenizers.__version__,
          "llama-cpp-python", llama_cpp.__version__)
    print("done in %.1fs" % (time.time() - t0))


if __name__ == "__main__":
    main()
