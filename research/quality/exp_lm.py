"""Do causal-LM features help the quality scorer? SmolLM2-135M (bf16 fast mode) losses from
`gleaner score ifd --template chatml --reverse` on the APE pairs, added to the chosen design
(response MiniLM + 19 text statistics). 5-fold CV over train pairs, then valid once.
Inputs: the APE splits as JSONL (the records of data.load_pairs, one per line, in order), scored
with `gleaner score ifd SPLIT.jsonl --template chatml --precision bf16 --reverse -o SPLIT_ifd.jsonl`.
Usage: python exp_lm.py TRAIN_IFD.jsonl VALID_IFD.jsonl

Result (this session): no gain. lm only: CV 0.8233, valid 0.8346; base (response MiniLM + 19
statistics): CV 0.8890, valid 0.8819; base + LM losses: CV 0.8908, valid 0.8819."""
import json, sys
import numpy as np
import data, feats
from exp_feats3 import scalars3, cv
from sklearn.linear_model import LogisticRegression

def lm_feats(path, n):
    rows = sorted((json.loads(l) for l in open(path)), key=lambda r: r['row_index'])
    assert len(rows) == n and [r['row_index'] for r in rows] == list(range(n))
    g = lambda r, k: np.nan if r.get(k) is None else float(r[k])
    out = []
    for r in rows:
        ld, lc, td = g(r, 'loss_direct'), g(r, 'loss_cond'), g(r, 'tokens_direct')
        qd, qc, tq = g(r, 'loss_q_direct'), g(r, 'loss_q_cond'), g(r, 'tokens_q_direct')
        out.append([ld, lc, lc - ld, np.log1p(td), ld * np.log1p(td), lc * np.log1p(td), qd, qc, qc - qd, np.log1p(tq)])
    F = np.array(out)
    print(path, 'rows with a NaN feature:', int(np.isnan(F).any(1).sum()))
    return np.where(np.isnan(F), np.nanmean(F, 0), F)  # skipped passes: the column mean

tr, _ = data.load_pairs('train'); va, _ = data.load_pairs('valid')
Ltr, Lva = lm_feats(sys.argv[1], len(tr)), lm_feats(sys.argv[2], len(va))
base = lambda name, recs: np.hstack([feats.emb('resp', name), feats.scalars2(recs), scalars3(recs)])
Btr, Bva = base('train', tr), base('valid', va)
for name, Ftr, Fva in [('lm only', Ltr, Lva), ('base', Btr, Bva), ('base+lm', np.hstack([Btr, Ltr]), np.hstack([Bva, Lva])),
                       ('stats+lm', np.hstack([Btr[:, 384:], Ltr]), np.hstack([Bva[:, 384:], Lva]))]:
    Cs = [0.001, 0.003, 0.01, 0.03, 0.1]
    r = {C: cv(Ftr, C) for C in Cs}
    C = max(r, key=r.get)
    mu, sd = Ftr.mean(0), Ftr.std(0) + 1e-6
    A = (Ftr - mu) / sd; d = A[1::2] - A[0::2]
    m = LogisticRegression(C=C, fit_intercept=False, max_iter=5000).fit(np.vstack([d, -d]), np.r_[np.ones(len(d)), np.zeros(len(d))])
    print(f'{name:10s} cv {r} -> C={C} valid {data.pair_acc(((Fva - mu) / sd) @ m.coef_[0]):.4f}', flush=True)
