#!/usr/bin/env python3
"""Golden mean last-layer hidden states (Cherry pre-experience `sent_emb`, docs/methods.md §2.3) for
crates/lm's `prompt_embedding`: HF transformers `output_hidden_states=True`,
`hidden_states[-1].mean(dim=1)` over all tokens (BOS included where the tokenizer adds one).
For Llama and GPT-2 `hidden_states[-1]` is taken after the final norm (model.norm / ln_f).

    .venv-ref/bin/python tests/golden/lm/gen_hidden_mean.py

Writes tests/golden/lm/hidden_mean_golden.json with, per model (tiny gpt2, tiny llama from
tests/golden/tiny, and SmolLM2 GGUF when present), a list of {text, ids, mean (first 16 and
all dims), norm}.
"""
import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
TINY = os.path.join(HERE, "..", "tiny")
SMOL = os.path.expanduser("~/.cache/gleaner/models/SmolLM2-135M-Instruct")
TEXTS = [
    "Give three tips for staying healthy.",
    "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nName three primary colors.\n\n### Response:",
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n",
    "x",
]


@torch.no_grad()
def run(model, tok, texts):
    out = []
    for t in texts:
        ids = list(tok(t)["input_ids"])
        hs = model(input_ids=torch.tensor([ids]), output_hidden_states=True).hidden_states[-1][0]
        mean = hs.mean(dim=0).float()
        out.append({"text": t, "ids": ids, "mean": [float(x) for x in mean], "norm": float(mean.norm())})
    return out


def main():
    torch.set_num_threads(os.cpu_count() or 2)
    res = {"description": __doc__.split("\n")[0]}
    for name in ("gpt2", "llama"):
        d = os.path.join(TINY, name)
        m = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation="eager").eval()
        res["tiny_" + name] = run(m, AutoTokenizer.from_pretrained(d), TEXTS)
    f = "SmolLM2-135M-Instruct.Q4_1.gguf"
    if os.path.exists(os.path.join(SMOL, f)):
        from tokenizers import pre_tokenizers as pt
        tok = AutoTokenizer.from_pretrained(SMOL, gguf_file=f)
        tok.backend_tokenizer.pre_tokenizer = pt.Sequence(
            [pt.Digits(individual_digits=True), pt.ByteLevel(add_prefix_space=False, use_regex=True)])
        m = AutoModelForCausalLM.from_pretrained(SMOL, gguf_file=f, dtype=torch.float32, attn_implementation="eager").eval()
        res["smollm2"] = run(m, tok, TEXTS)
    with open(os.path.join(HERE, "hidden_mean_golden.json"), "w", encoding="utf-8") as fh:
        json.dump(res, fh, ensure_ascii=False, indent=0)
        fh.write("\n")


if __name__ == "__main__":
    main()
