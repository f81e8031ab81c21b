#!/usr/bin/env python3
"""Golden fixtures for Gemma-3-270M (GGUF Q4_K_M) used by crates/lm/tests/gemma3.rs.

Regenerate from the repo root (needs the assembled GGUF, see docs/models.md; ~5-10 min on 2 cores):

    .venv-ref/bin/python tests/golden/lm/gen_gemma3.py

Writes tests/golden/lm/gemma3_golden.json:
  tokenizer: [{text, ids_hf, ids_llamacpp}] -- HF transformers' GGUF tokenizer
             (AutoTokenizer.from_pretrained(dir, gguf_file=...), add_special_tokens=True, so
             with <bos>) and llama-cpp-python Llama(vocab_only=True).tokenize(add_bos=True,
             special=True).
  sequences: [{text, ids, nll_f32}] -- ids from the HF tokenizer; nll_f32[j] = NLL of token
             j+1 from transformers' fp32 forward on the dequantised GGUF weights
             (attn_implementation="eager", one sequence at a time, no padding), computed in
             float64 from the float32 logits. One sequence is longer than the 512-token
             sliding window so that the local/global layer split is exercised.
"""
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DIR = os.path.expanduser(os.environ.get("GLEANER_GEMMA3_DIR", "~/.cache/gleaner/models/gemma-3-270m"))
FILE = "gemma-3-270m-q4_k_m.gguf"
DATA = os.environ.get("GLEANER_SHARED_DATA", "/work/shared/data")

TOK_TEXTS = [
    "", " ", "  ", "\n", "\n\n", " \n", "\t", "a  b   c", "  leading", "trailing  ", "1234567", "3.14159",
    "Hello, world!", "don't DON'T I'm", "Größe, Straße", "你好，世界！", "日本語のテキスト", "😀😃 family",
    "<start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n", "<bos>text<eos>", "<unk>",
    "def f(x):\n    return x * 2\n", "https://example.com/path?q=1", "e\u0301 combining", "non\u00a0breaking",
    "The capital of France is Paris. It is known for the Eiffel Tower, which was built in 1889 for the World's Fair.",
]


def main():
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from llama_cpp import Llama

    tok = AutoTokenizer.from_pretrained(DIR, gguf_file=FILE)
    lc = Llama(model_path=os.path.join(DIR, FILE), vocab_only=True, verbose=False)
    sel = os.path.join(DATA, "alpaca-selections")
    cherry = json.load(open(os.path.join(sel, "cherry_ifd_top6pct_3111.json"), encoding="utf-8"))
    texts = list(TOK_TEXTS)
    for i in range(0, 3111, 300):
        r = cherry[i]
        texts.append(r["instruction"] + "\n" + (r["input"] + "\n" if r["input"] else "") + r["output"])
    longest = max(cherry, key=lambda r: len(r["output"]))
    texts.append(longest["instruction"] + "\n" + longest["output"])
    out_tok = []
    for t in texts:
        ids = list(tok(t)["input_ids"])
        lci = list(lc.tokenize(t.encode("utf-8"), add_bos=True, special=True))
        out_tok.append({"text": t, "ids_hf": ids, "ids_llamacpp": lci})
    print("tokenizer: %d texts, hf==llama.cpp for %d" % (len(out_tok), sum(o["ids_hf"] == o["ids_llamacpp"] for o in out_tok)))

    model = AutoModelForCausalLM.from_pretrained(DIR, gguf_file=FILE, dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    torch.set_num_threads(os.cpu_count() or 2)
    seq_texts = [o for o in out_tok if len(o["ids_hf"]) >= 8]
    seqs = []
    with torch.no_grad():
        for o in seq_texts:
            ids = o["ids_hf"][:1100]
            logits = model(input_ids=torch.tensor([ids])).logits[0].float().numpy().astype(np.float64)
            lg = logits[: len(ids) - 1]
            m = lg.max(axis=1, keepdims=True)
            lse = m[:, 0] + np.log(np.exp(lg - m).sum(axis=1))
            nll = lse - lg[np.arange(len(ids) - 1), np.asarray(ids[1:])]
            seqs.append({"text": o["text"], "ids": ids, "nll_f32": [float("%.7g" % x) for x in nll]})
            print(len(ids), float(nll.mean()), flush=True)
    import transformers
    res = {
        "description": __doc__.split("\n")[0],
        "model": FILE,
        "sliding_window": model.config.sliding_window,
        "versions": {"transformers": transformers.__version__, "torch": torch.__version__,
                     "llama_cpp_python": __import__("llama_cpp").__version__},
        "tokenizer": out_tok,
        "sequences": seqs,
    }
    with open(os.path.join(HERE, "gemma3_golden.json"), "w", encoding="utf-8") as f:
        json.dump(res, f, ensure_ascii=False, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
