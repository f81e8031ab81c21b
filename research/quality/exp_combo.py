"""Joint pairwise logistic over [char 2-4-gram tf-idf (hashed) | standardised dense block
(MiniLM views and/or text statistics) x scale]. CV over train pairs; final fit -> valid,
Spearman vs IQS (CaR-1013) and vs response length (CaR-1013, Cherry-3111).
Usage: python exp_combo.py NAME ..."""
import sys, json, time, numpy as np, scipy.sparse as sp
from scipy.stats import spearmanr
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
import data, feats

tr, _ = data.load_pairs('train'); va, _ = data.load_pairs('valid')
car = data.load_alpaca('car_selected_1013'); che = data.load_alpaca('cherry_ifd_top6pct_3111')
SETS = {'train': tr, 'valid': va, 'car1013': car, 'cherry3111': che}

def chars(recs, n=(2, 4), view='car'):
    hv = HashingVectorizer(n_features=2**18, analyzer='char', ngram_range=n, alternate_sign=False, norm=None, lowercase=False)
    t = (lambda r: data.car_layout(r['instruction'], r['input'], r['output'])) if view == 'car' else (lambda r: r['output'])
    return hv.transform([t(r) for r in recs]).tocsr()

class Model:
    def __init__(self, use_char, dense, C, scale):
        self.use_char, self.dense, self.C, self.scale = use_char, dense, C, scale
    def feats(self, name, recs, fit=False):
        blocks = []
        if self.use_char:
            X = chars(recs)
            if fit: self.tf = TfidfTransformer(sublinear_tf=True).fit(X)
            blocks.append(self.tf.transform(X))
        if self.dense:
            D = feats.block(name, recs, self.dense)
            if fit: self.mu, self.sd = D.mean(0), D.std(0) + 1e-6
            blocks.append(sp.csr_matrix((D - self.mu) / self.sd * self.scale))
        return sp.hstack(blocks).tocsr()
    def fit(self, X):
        d = X[1::2] - X[0::2]
        self.m = LogisticRegression(C=self.C, fit_intercept=False, max_iter=5000).fit(sp.vstack([d, -d]), np.r_[np.ones(d.shape[0]), np.zeros(d.shape[0])])
        return self
    def score(self, X):
        return X @ self.m.coef_[0]

def cv(mk, k=5, seed=0):
    n = len(tr) // 2; accs = []
    for tri, tei in KFold(k, shuffle=True, random_state=seed).split(np.arange(n)):
        rows = lambda p: np.ravel(np.c_[2 * p, 2 * p + 1])
        m = mk()
        # feature blocks for a subset: slice the cached dense rows through a proxy name
        Xtr = m.feats_rows(rows(tri), fit=True); Xte = m.feats_rows(rows(tei))
        m.fit(Xtr); accs.append(data.pair_acc(m.score(Xte)))
    return float(np.mean(accs)), float(np.std(accs))

# row-subset feature building for CV (train set only)
def _feats_rows(self, idx, fit=False):
    blocks = []
    if self.use_char:
        X = _CH[idx]
        if fit: self.tf = TfidfTransformer(sublinear_tf=True).fit(X)
        blocks.append(self.tf.transform(X))
    if self.dense:
        D = _DN[tuple(self.dense)][idx]
        if fit: self.mu, self.sd = D.mean(0), D.std(0) + 1e-6
        blocks.append(sp.csr_matrix((D - self.mu) / self.sd * self.scale))
    return sp.hstack(blocks).tocsr()
Model.feats_rows = _feats_rows
_CH = chars(tr); _DN = {}

DESIGNS = {
    'char': (True, [], [10, 30, 100], [1.0]),
    'char+scal2': (True, ['scal2'], [10, 30], [0.1, 0.3, 1.0]),
    'char+car+scal2': (True, ['car', 'scal2'], [10, 30], [0.03, 0.1, 0.3]),
}

def run(name, do_final=True):
    use_char, dense, Cs, scales = DESIGNS[name]
    if dense: _DN[tuple(dense)] = feats.block('train', tr, dense)
    res = {}
    for C in Cs:
        for s in scales:
            res[(C, s)] = cv(lambda: Model(use_char, dense, C, s))
    (C, s) = max(res, key=lambda k: res[k][0])
    out = dict(design=name, C=C, scale=s, cv=res[(C, s)], grid={f'{k[0]}/{k[1]}': v for k, v in res.items()})
    if do_final:
        try:
            m = Model(use_char, dense, C, s); t = time.time()
            m.fit(m.feats('train', tr, fit=True)); out['fit_s'] = time.time() - t
            sc = {k: m.score(m.feats(k, v)) for k, v in SETS.items() if k != 'train'}
            out.update(valid=data.pair_acc(sc['valid']),
                       nnz_weights=int((m.m.coef_[0] != 0).sum()),
                       rho_iqs=spearmanr(sc['car1013'], [r['score'] for r in car])[0],
                       rho_len_car=spearmanr(sc['car1013'], [len(r['output']) for r in car])[0],
                       rho_len_cherry=spearmanr(sc['cherry3111'], [len(r['output']) for r in che])[0])
        except FileNotFoundError as e:
            out['missing'] = str(e).split('/')[-1]
    print(json.dumps(out), flush=True)

if __name__ == '__main__':
    for n in sys.argv[1:]:
        run(n)
