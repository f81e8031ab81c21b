"""Bag-of-n-grams views (hashed, tf-idf/sublinear) trained pairwise, alone and stacked with
MiniLM + text statistics. CV over train pairs. Usage: python exp_ngram.py"""
import sys, json, numpy as np, scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
import data, feats

tr, _ = data.load_pairs('train')
def text(r, view):
    if view == 'resp': return r['output']
    return data.car_layout(r['instruction'], r['input'], r['output'])

def ngram_matrix(recs, kind, view):
    if kind == 'word12':
        hv = HashingVectorizer(n_features=2**18, ngram_range=(1, 2), alternate_sign=False, norm=None, lowercase=True, token_pattern=r'(?u)\b\w+\b|[^\w\s]')
    elif kind == 'char':
        hv = HashingVectorizer(n_features=2**18, analyzer='char', ngram_range=(2, 4), alternate_sign=False, norm=None, lowercase=False)
    return hv.transform([text(r, view) for r in recs])

def cv_sparse(X, C, k=5, seed=0, tfidf=True):
    n = X.shape[0] // 2; accs = []
    for tri, tei in KFold(k, shuffle=True, random_state=seed).split(np.arange(n)):
        rows = lambda p: np.ravel(np.c_[2 * p, 2 * p + 1])
        Xtr, Xte = X[rows(tri)], X[rows(tei)]
        if tfidf:
            t = TfidfTransformer(sublinear_tf=True).fit(Xtr); Xtr, Xte = t.transform(Xtr), t.transform(Xte)
        d = Xtr[1::2] - Xtr[0::2]
        m = LogisticRegression(C=C, fit_intercept=False, max_iter=3000).fit(sp.vstack([d, -d]), np.r_[np.ones(d.shape[0]), np.zeros(d.shape[0])])
        accs.append(data.pair_acc(Xte @ m.coef_[0]))
    return float(np.mean(accs)), float(np.std(accs))

if __name__ == '__main__':
    for kind in ['word12', 'char']:
        for view in ['resp', 'car']:
            X = ngram_matrix(tr, kind, view).tocsr()
            for C in [1, 10, 100]:
                print(json.dumps(dict(kind=kind, view=view, C=C, cv=cv_sparse(X, C))), flush=True)
