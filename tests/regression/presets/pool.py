#!/usr/bin/env python3
"""Writes the 5,795 distinct real Alpaca records of data/alpaca-selections as one JSON array
(CaR 1013, Cherry 3111, LCG-NB 1k, LCG-DistilBERT 1k; deduplicated on instruction + input +
output; output-less rows left out), the pool of research/scale/scale.py --rows 0.

    python3 tests/regression/presets/pool.py OUT.json
"""
import json
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SEL = os.path.join(ROOT, "data", "alpaca-selections")
FILES = ["car_selected_1013.json", "cherry_ifd_top6pct_3111.json", "lcg_multinomialnb_1k.json",
         "lcg_distilbert_lr1e-6_1k.json"]



def pool():
    """The distinct real records, in file order (the pool of research/scale/scale.py)."""
    seen, out = set(), []
    for f in FILES:
        for r in json.load(open(os.path.join(SEL, f), encoding="utf-8")):
            k = (r.get("instruction", ""), r.get("input", ""), r.get("output", ""))
            if not r.get("output") or k in seen:
                continue
            seen.add(k)
            out.append({"instruction": k[0], "input": k[1], "output": k[2]})
    return out


if __name__ == "__main__":
    records = pool()
    json.dump(records, open(sys.argv[1], "w", encoding="utf-8"), ensure_ascii=False, indent=1)
    print(f"{len(records)} records -> {sys.argv[1]}", file=sys.stderr)
