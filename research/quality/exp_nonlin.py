"""Does a non-linear view of the text statistics help? Adds squares of the standardised
text statistics (scal2+scal3) to [resp | scal2 | scal3]. CV over train pairs only.
Usage: python exp_nonlin.py"""
import numpy as np
import data, feats
from exp_feats3 import scalars3, cv, tr
S = np.hstack([feats.scalars2(tr), scalars3(tr)])
Z = (S - S.mean(0)) / (S.std(0) + 1e-6)
R = feats.emb('resp', 'train')
for name, F in [('base', np.hstack([R, S])), ('+squares', np.hstack([R, S, Z ** 2])),
                ('+squares+cubes', np.hstack([R, S, Z ** 2, np.clip(Z, -3, 3) ** 3]))]:
    print(name, {C: cv(F, C) for C in [0.001, 0.003, 0.01]}, flush=True)
