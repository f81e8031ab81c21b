"""The design chosen by train-CV (exp_feats3.py): [resp MiniLM | scal2 | scal3], pairwise
logistic. Prints CV, then valid once, and Spearman vs IQS / length on CaR-1013.
Usage: python exp_final.py"""
import numpy as np
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression
import data, feats
from exp_feats3 import scalars3, cv
tr, _ = data.load_pairs('train'); va, _ = data.load_pairs('valid'); car = data.load_alpaca('car_selected_1013')
F = lambda name, recs: np.hstack([feats.emb('resp', name), feats.scalars2(recs), scalars3(recs)])
Ftr = F('train', tr)
print('cv', {C: cv(Ftr, C) for C in [0.0005, 0.001, 0.003, 0.01, 0.03]})
mu, sd = Ftr.mean(0), Ftr.std(0) + 1e-6
A = (Ftr - mu) / sd; d = A[1::2] - A[0::2]
m = LogisticRegression(C=0.003, fit_intercept=False, max_iter=3000).fit(np.vstack([d, -d]), np.r_[np.ones(len(d)), np.zeros(len(d))])
f = lambda G: ((G - mu) / sd) @ m.coef_[0]
print('valid', data.pair_acc(f(F('valid', va))))
sc = f(F('car1013', car))
print('car1013 rho iqs', spearmanr(sc, [r['score'] for r in car])[0], 'rho len', spearmanr(sc, [len(r['output']) for r in car])[0])
