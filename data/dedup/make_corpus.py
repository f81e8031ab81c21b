"""Builds corpus.json: real Alpaca records with injected duplicates of known kind, the truth for
gleaner's dedup tests (crates/pipeline/tests/dedup_corpus.rs) and the README's recall table.

    python3 data/dedup/make_corpus.py     # deterministic: writes data/dedup/corpus.json

Originals come from ../alpaca-selections (CaR, Cherry and both LCG selections; records of at
most 1,200 characters). Exact duplicates among them are removed, and so is every record whose
word 5-gram Jaccard with an earlier kept one is >= 0.3, so distinct originals are far below any
threshold tested. 1,200 originals are kept; 700 of them get one copy each:

- exact (100): the record verbatim;
- case (60): the whole record upper-, lower- or title-cased;
- whitespace (60): spaces turned into runs of spaces, tabs and newlines, padding added;
- reorder (60): the response's sentences shuffled (records with 3+ response sentences);
- edit (6 x 60): each word independently, with probability rate in {0.01, 0.02, 0.05, 0.1,
  0.2, 0.3}, replaced by a random corpus word (60%), deleted (20%) or followed by an inserted one
  (20%);
- paraphrase (60): synonyms swapped from a fixed table, the instruction reworded ("Could you
  ...?"), and the response's sentences reordered.

Each row carries truth fields: truth_family (the original's index), truth_kind (original,
exact, case, whitespace, reorder, edit, paraphrase) and truth_rate (the edit rate, else 0).
Python standard library only.
"""
import json
import random
import re
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "alpaca-selections"
FILES = ["car_selected_1013.json", "cherry_ifd_top6pct_3111.json", "lcg_multinomialnb_1k.json",
         "lcg_distilbert_lr1e-6_1k.json"]
FIELDS = ("instruction", "input", "output")
N_ORIGINALS = 1200
RATES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3)
SYNONYMS = {
    "explain": "describe", "describe": "explain", "write": "compose", "list": "name",
    "give": "provide", "create": "generate", "generate": "create", "good": "great",
    "important": "crucial", "use": "utilize", "help": "assist", "make": "produce",
    "show": "demonstrate", "big": "large", "small": "little", "quickly": "rapidly",
    "many": "numerous", "also": "additionally", "however": "nevertheless", "because": "since",
    "example": "instance", "people": "individuals", "way": "method", "ways": "methods",
    "get": "obtain", "find": "discover", "think": "believe", "start": "begin", "buy": "purchase",
    "need": "require", "try": "attempt", "answer": "response", "question": "query",
    "different": "distinct", "main": "primary", "often": "frequently", "very": "extremely",
    "can": "could", "will": "would", "help": "aid", "improve": "enhance", "important": "vital",
    "simple": "straightforward", "easy": "effortless", "provide": "offer", "include": "contain",
    "includes": "contains", "such": "like", "using": "employing", "used": "employed",
    "new": "novel", "best": "finest", "idea": "notion", "ideas": "notions", "task": "job",
    "sentence": "phrase", "text": "passage", "word": "term", "words": "terms",
}


def norm(text):
    t = unicodedata.normalize("NFKC", text).lower()
    t = "".join(" " if unicodedata.category(c).startswith("P") or c.isspace() else c for c in t)
    return " ".join(t.split())


def shingles(text, n=5):
    w = norm(text).split()
    if not w:
        return set()
    n = min(n, len(w))
    return {" ".join(w[i:i + n]) for i in range(len(w) - n + 1)}


def whole(r):
    return "\n".join(r[f] for f in FIELDS if r[f])


def sentences(text):
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def main():
    rng = random.Random(20261202)
    pool, seen = [], set()
    for f in FILES:
        for r in json.loads((SRC / f).read_text()):
            rec = {k: r.get(k, "") or "" for k in FIELDS}
            if not rec["instruction"] or not rec["output"] or len(whole(rec)) > 1200:
                continue
            key = norm(whole(rec))
            if key in seen:
                continue
            seen.add(key)
            pool.append(rec)
    rng.shuffle(pool)
    # drop near-duplicate originals (Jaccard >= 0.3 with a kept one), via an inverted index
    kept, sets, index = [], [], {}
    for rec in pool:
        s = shingles(whole(rec))
        counts = {}
        for g in s:
            for j in index.get(g, ()):
                counts[j] = counts.get(j, 0) + 1
        if any(c / len(s | sets[j]) >= 0.3 for j, c in counts.items()):
            continue
        j = len(kept)
        kept.append(rec)
        sets.append(s)
        for g in s:
            index.setdefault(g, []).append(j)
        if len(kept) == N_ORIGINALS:
            break
    assert len(kept) == N_ORIGINALS, len(kept)
    vocab = sorted({w for r in kept for w in whole(r).split() if w.isalpha()})

    def each_field(rec, fn):
        return {k: fn(v) if v else v for k, v in rec.items()}

    def case(rec):
        how = rng.choice(["upper", "lower", "title"])
        return each_field(rec, lambda v: getattr(v, how)())

    def whitespace(rec):
        def ws(v):
            out = re.sub(" ", lambda _: rng.choice([" ", " ", "  ", "\t", "\n", "   "]), v)
            return rng.choice(["", " ", "\n"]) + out + rng.choice(["", " ", "\n\n"])
        return each_field(rec, ws)

    def reorder(rec):
        s = sentences(rec["output"])
        order = list(range(len(s)))
        while order == sorted(order):
            rng.shuffle(order)
        return dict(rec, output=" ".join(s[i] for i in order))

    def edit(rate):
        def go(rec):
            def ed(v):
                out = []
                for w in v.split(" "):
                    if rng.random() < rate:
                        op = rng.random()
                        if op < 0.6:
                            out.append(rng.choice(vocab))
                        elif op < 0.8:
                            continue
                        else:
                            out += [w, rng.choice(vocab)]
                    else:
                        out.append(w)
                return " ".join(out)
            return each_field(rec, ed)
        return go

    def paraphrase(rec):
        def syn(v):
            return re.sub(r"[A-Za-z]+", lambda m: (SYNONYMS.get(m.group(0).lower(), m.group(0)).capitalize()
                          if m.group(0)[0].isupper() else SYNONYMS.get(m.group(0), m.group(0))), v)
        out = each_field(rec, syn)
        ins = out["instruction"].rstrip(".?! ")
        out["instruction"] = "Could you " + ins[0].lower() + ins[1:] + "?" if ins else ins
        s = sentences(out["output"])
        if len(s) > 1:
            s = s[1:] + s[:1]
        out["output"] = " ".join(s)
        return out

    plan = [("exact", 0.0, lambda r: dict(r), 100), ("case", 0.0, case, 60),
            ("whitespace", 0.0, whitespace, 60), ("reorder", 0.0, reorder, 60)]
    plan += [("edit", rate, edit(rate), 60) for rate in RATES]
    plan += [("paraphrase", 0.0, paraphrase, 60)]
    families = list(range(N_ORIGINALS))
    rng.shuffle(families)
    multi = [i for i in families if len(sentences(kept[i]["output"])) >= 3]
    rows = [dict(r, truth_family=i, truth_kind="original", truth_rate=0.0) for i, r in enumerate(kept)]
    used = set()
    for kind, rate, fn, count in plan:
        source = multi if kind == "reorder" else families
        picks = [i for i in source if i not in used][:count]
        assert len(picks) == count, kind
        used.update(picks)
        for i in picks:
            rows.append(dict(fn(kept[i]), truth_family=i, truth_kind=kind, truth_rate=rate))
    rng.shuffle(rows)
    (HERE / "corpus.json").write_text(json.dumps(rows, ensure_ascii=False, indent=0) + "\n")
    print(f"{len(rows)} rows: {N_ORIGINALS} originals, {len(rows) - N_ORIGINALS} copies")


if __name__ == "__main__":
    main()
