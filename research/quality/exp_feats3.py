"""Extra cheap text statistics (v3): how the response relates to the prompt (word recall of
the instruction in the response, restatement at the start) and sentence structure. CV over
train pairs only. Usage: python exp_feats3.py"""
import re, json, numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
import data, feats

_W = re.compile(r'\w+')
def words(s):
    return [w.lower() for w in _W.findall(s)]

def scalars3(recs):
    out = []
    for r in recs:
        o = r['output']
        ow = words(o); iw = words(r['instruction'] + ' ' + r['input'])
        oset, iset = set(ow), set(iw)
        first = words(re.split(r'(?<=[.!?:])\s', o.strip(), maxsplit=1)[0]) if o.strip() else []
        nsent = max(1, len(re.findall(r'[.!?]+(?:\s|$)', o)))
        out.append([
            len(iset & oset) / max(1, len(iset)),           # instruction word recall
            len(iset & oset) / max(1, len(oset)),           # response words from the prompt
            len(iset & set(first)) / max(1, len(iset)),     # restated in the first sentence
            np.log1p(nsent),
            float(len(ow) > 0 and len(first) == len(ow)),   # a single sentence
            np.log1p(len(ow)) - np.log1p(len(words(r['input']))) if r['input'] else 0.0,
        ])
    return np.array(out)

tr, _ = data.load_pairs('train')
S2 = feats.scalars2(tr); S3 = scalars3(tr)
E = {v: feats.emb(v, 'train') for v in ['car', 'resp', 'inst']}
cos = (E['inst'] * E['resp']).sum(1, keepdims=True)

def cv(F, C, k=5):
    n = len(F) // 2; accs = []
    for tri, tei in KFold(k, shuffle=True, random_state=0).split(np.arange(n)):
        rows = lambda p: np.ravel(np.c_[2 * p, 2 * p + 1])
        A, B = F[rows(tri)], F[rows(tei)]
        mu, sd = A.mean(0), A.std(0) + 1e-6; A = (A - mu) / sd; B = (B - mu) / sd
        d = A[1::2] - A[0::2]
        m = LogisticRegression(C=C, fit_intercept=False, max_iter=3000).fit(np.vstack([d, -d]), np.r_[np.ones(len(d)), np.zeros(len(d))])
        accs.append(data.pair_acc(B @ m.coef_[0]))
    return round(float(np.mean(accs)), 4)

if __name__ == "__main__":
  for name, F, Cs in [
    ('scal2+scal3', np.hstack([S2, S3]), [0.01, 0.1]),
    ('scal2+scal3+cos', np.hstack([S2, S3, cos]), [0.01, 0.1]),
    ('car+scal2+scal3', np.hstack([E['car'], S2, S3, cos]), [0.003, 0.01]),
    ('resp+scal2+scal3', np.hstack([E['resp'], S2, S3, cos]), [0.003, 0.01]),
    ('car+resp+scal2+scal3', np.hstack([E['car'], E['resp'], S2, S3, cos]), [0.003, 0.01]),
]:
      print(name, {C: cv(F, C) for C in Cs}, flush=True)
