#!/usr/bin/env python3
"""Python `re`'s Unicode `\\w`, as code-point ranges, for gleaner-classify's tokenizer test.

Writes py_word_chars.json with:
  - `word_ranges`: inclusive [start, end] ranges of every code point c for which
    re.match(r"(?u)\\w", c) matches (Python: c.isalnum() or c == "_");
  - `assigned_ranges`: inclusive ranges of every code point whose general category is not Cn
    (unassigned) in this Python's Unicode database, so the Rust test can skip code points that
    newer Unicode versions assigned since;
  - `lower`: [code point, c.lower()] for every assigned code point that str.lower() changes
    (checked against Rust's char-by-char str::to_lowercase on a lone character);
  - the Python and Unicode versions.

Also asserts that `\\w` equals "general category L* or N*, or _" on every code point, which is
what gleaner-classify implements.

Run:  /work/main/.venv-ref/bin/python tests/golden/classify/gen_word_chars.py
"""
import json
import platform
import re
import unicodedata
from pathlib import Path

OUT = Path(__file__).resolve().parent / "py_word_chars.json"


def ranges(pred):
    out = []
    for cp in range(0x110000):
        if pred(cp):
            if out and out[-1][1] == cp - 1:
                out[-1][1] = cp
            else:
                out.append([cp, cp])
    return out


def main():
    w = re.compile(r"(?u)\w")
    is_word = lambda cp: w.match(chr(cp)) is not None
    for cp in range(0x110000):
        c = chr(cp)
        cat = unicodedata.category(c)
        assert is_word(cp) == (cat[0] in "LN" or c == "_"), hex(cp)
    doc = {
        "description": "Python re Unicode \\w as code-point ranges (see gen_word_chars.py)",
        "python": platform.python_version(),
        "unicode": unicodedata.unidata_version,
        "word_ranges": ranges(is_word),
        "assigned_ranges": ranges(lambda cp: unicodedata.category(chr(cp)) != "Cn"),
        "lower": [
            [cp, chr(cp).lower()]
            for cp in range(0x110000)
            if unicodedata.category(chr(cp)) not in ("Cn", "Cs") and chr(cp).lower() != chr(cp)
        ],
    }
    OUT.write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {OUT}: {len(doc['word_ranges'])} word ranges, {len(doc['assigned_ranges'])} assigned ranges, "
          f"{len(doc['lower'])} lowercase mappings")


if __name__ == "__main__":
    main()
