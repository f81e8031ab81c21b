"""Which depth(s) of SmolLM2-135M-Instruct make the best frozen response features?

Computes, for every response text of the APE splits,
the mean over its tokens (<= 512, no special tokens) of the final-normed hidden state after
each of the first 8 blocks (transformers f32 on the dequantised GGUF: the same features as
gleaner's `LmEmbedder`, which applies the model's final RMSNorm after block N). Cached in
cache/depth_<name>.npy (n x 8 x 576, float32).

Then compares, by 5-fold CV over the training pairs only (the same folds as the other exp_*
scripts), single depths with concatenations and averages of several depths, each with the 19
text statistics, and three of them also with the MiniLM response embedding (cached by
embed.py); valid accuracy is printed for information, not used for the choice.

Usage: python exp_depth.py   (output of the last run: exp_depth.txt)
"""
import os, sys
import numpy as np
import torch
import data, feats
from exp_feats3 import scalars3, cv

sys.path.insert(0, os.path.join(data.ROOT, 'tests', 'golden'))
DEPTHS = 8
torch.set_num_threads(2)


def depth_feats(name, texts):
    path = os.path.join(data.CACHE, f'depth_{name}.npy')
    if os.path.exists(path):
        return np.load(path)
    from transformers import AutoModelForCausalLM
    from gen_smollm2_tokens import GGUF_DIR, GGUF_FILE, smollm2_tokenizer
    tok, _ = smollm2_tokenizer()
    m = AutoModelForCausalLM.from_pretrained(GGUF_DIR, gguf_file=GGUF_FILE, dtype=torch.float32).eval()
    m.model.layers = m.model.layers[:DEPTHS]
    out = np.zeros((len(texts), DEPTHS, m.config.hidden_size), np.float32)
    with torch.inference_mode():
        for i, t in enumerate(texts):
            ids = tok(t, add_special_tokens=False)['input_ids'][:512]
            if not ids:
                out[i] = np.nan
                continue
            hs = m.model(torch.tensor([ids]), output_hidden_states=True).hidden_states
            for d in range(DEPTHS):
                h = hs[d + 1] if d + 1 < DEPTHS else hs[DEPTHS]  # last entry is already normed
                if d + 1 < DEPTHS:
                    h = m.model.norm(h)
                out[i, d] = h[0].mean(0).numpy()
            if i % 500 == 0:
                print(name, i, len(texts), flush=True)
    np.save(path, out)
    return out


def stats(recs):
    return np.hstack([feats.scalars2(recs), scalars3(recs)])


def fit(F, C):
    from sklearn.linear_model import LogisticRegression
    mu, sd = F.mean(0), F.std(0) + 1e-6
    A = (F - mu) / sd
    d = A[1::2] - A[0::2]
    m = LogisticRegression(C=C, fit_intercept=False, max_iter=5000).fit(
        np.vstack([d, -d]), np.r_[np.ones(len(d)), np.zeros(len(d))])
    return lambda G: ((G - mu) / sd) @ m.coef_[0]


if __name__ == '__main__':
    tr, _ = data.load_pairs('train')
    va, _ = data.load_pairs('valid')
    Htr = depth_feats('train', [r['output'] for r in tr])
    Hva = depth_feats('valid', [r['output'] for r in va])
    Str, Sva = stats(tr), stats(va)
    Mtr, Mva = feats.emb('resp', 'train'), feats.emb('resp', 'valid')  # MiniLM of the response
    Cs = [0.001, 0.003, 0.01, 0.03]
    combos = [[d] for d in range(1, DEPTHS + 1)] + [[2, 4], [3, 6], [2, 4, 6], [4, 8], [2, 4, 6, 8], [1, 2, 3, 4],
                                                   [4, 6], [3, 4, 5]]
    for ds in combos:
        for how in (['concat', 'mean'] if len(ds) > 1 else ['single']):
            pick = lambda H: (H[:, [d - 1 for d in ds]].reshape(len(H), -1) if how != 'mean'
                              else H[:, [d - 1 for d in ds]].mean(1))
            for minilm in ([False, True] if ds in ([4], [6], [3, 6]) else [False]):
                Ftr = np.hstack([pick(Htr), Str] + ([Mtr] if minilm else []))
                Fva = np.hstack([pick(Hva), Sva] + ([Mva] if minilm else []))
                r = {C: cv(Ftr, C) for C in Cs}
                C = max(r, key=r.get)
                print(f'depths {ds} {how:6s}{" +MiniLM" if minilm else ""} cv {r} -> C={C} cv {r[C]:.4f} '
                      f'valid {data.pair_acc(fit(Ftr, C)(Fva)):.4f}', flush=True)
