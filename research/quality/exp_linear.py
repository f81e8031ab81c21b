"""Frozen-MiniLM feature designs: pairwise logistic (on differences) vs pointwise, views,
scalar features, small RankNet MLP. Model selection by 5-fold CV over train *pairs*;
valid reported for the table only. Usage: python exp_linear.py [design ...]"""
import sys, time, json, numpy as np
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold
import data, feats

tr, _ = data.load_pairs('train'); va, _ = data.load_pairs('valid')
car = data.load_alpaca('car_selected_1013'); che = data.load_alpaca('cherry_ifd_top6pct_3111')

def standardize(F, mu=None, sd=None):
    if mu is None:
        mu, sd = F.mean(0), F.std(0) + 1e-6
    return (F - mu) / sd, mu, sd

def fit_pairwise(F, C):
    d = F[1::2] - F[0::2]
    X = np.vstack([d, -d]); y = np.r_[np.ones(len(d)), np.zeros(len(d))]
    m = LogisticRegression(C=C, fit_intercept=False, max_iter=3000).fit(X, y)
    return lambda G: G @ m.coef_[0]

def fit_pointwise_mse(F, C):
    y = np.tile([0.0, 1.0], len(F) // 2)
    m = Ridge(alpha=1.0 / C).fit(F, y)
    return lambda G: m.predict(G)

def fit_ranknet_mlp(F, C, hidden=64, epochs=60, seed=0):
    import torch
    torch.manual_seed(seed); torch.set_num_threads(2)
    X = torch.tensor(F, dtype=torch.float32)
    net = torch.nn.Sequential(torch.nn.Dropout(0.1), torch.nn.Linear(F.shape[1], hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 1))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=C)
    n = len(F) // 2
    for ep in range(epochs):
        net.train()
        for idx in torch.randperm(n).split(64):
            s = net(X[2 * idx + 1]).squeeze(1) - net(X[2 * idx]).squeeze(1)
            loss = torch.nn.functional.softplus(-s).mean()
            opt.zero_grad(); loss.backward(); opt.step()
    net.eval()
    return lambda G: net(torch.tensor(G, dtype=torch.float32)).squeeze(1).detach().numpy()

FITS = {'pair': fit_pairwise, 'mse': fit_pointwise_mse, 'mlp': fit_ranknet_mlp}

DESIGNS = {
    # name: (feature blocks, fit, C grid)
    'len-only': (['len'], 'pair', [1.0]),
    'car_raw/pair (baseline, unnormalised text)': (['car_raw'], 'pair', [0.001, 0.003, 0.01, 0.1]),
    'scal/pair': (['scal'], 'pair', [0.001, 0.003, 0.01, 0.1]),
    'car/pair': (['car'], 'pair', [0.001, 0.003, 0.01, 0.1]),
    'car/mse': (['car'], 'mse', [0.001, 0.003, 0.01, 0.1]),
    'resp/pair': (['resp'], 'pair', [0.001, 0.003, 0.01, 0.1]),
    'car+resp/pair': (['car', 'resp'], 'pair', [0.001, 0.003, 0.01, 0.1]),
    'car+resp+inst/pair': (['car', 'resp', 'inst'], 'pair', [0.001, 0.003, 0.01, 0.1]),
    'car+resp+scal/pair': (['car', 'resp', 'scal', 'cos_ir'], 'pair', [0.001, 0.003, 0.01, 0.1]),
    'car+resp+scal/mse': (['car', 'resp', 'scal', 'cos_ir'], 'mse', [0.001, 0.003, 0.01, 0.1]),
    'scal2/pair': (['scal2'], 'pair', [0.01, 0.1]),
    'car+scal2/pair': (['car', 'scal2'], 'pair', [0.001, 0.003, 0.01, 0.03]),
    'car+resp+scal2/pair': (['car', 'resp', 'scal2'], 'pair', [0.001, 0.003, 0.01, 0.03]),
    'car+resp+inst+scal2/pair': (['car', 'resp', 'inst', 'scal2', 'cos_ir'], 'pair', [0.001, 0.003, 0.01, 0.03]),
    'car+resp+scal2/mse': (['car', 'resp', 'scal2'], 'mse', [0.001, 0.003, 0.01, 0.03]),
    'car+resp+scal2/mlp': (['car', 'resp', 'scal2'], 'mlp', [0.01, 0.1]),
    'car+resp+scal/mlp': (['car', 'resp', 'scal', 'cos_ir'], 'mlp', [0.01, 0.1]),
}

def cv(F, fit, C, k=5, seed=0):
    n = len(F) // 2; accs = []
    for tri, tei in KFold(k, shuffle=True, random_state=seed).split(np.arange(n)):
        rows = lambda p: np.ravel(np.c_[2 * p, 2 * p + 1])
        Ftr, mu, sd = standardize(F[rows(tri)])
        f = fit(Ftr, C)
        accs.append(data.pair_acc(f((F[rows(tei)] - mu) / sd)))
    return np.mean(accs), np.std(accs)

def run(name):
    spec, fitname, grid = DESIGNS[name]; fit = FITS[fitname]
    t0 = time.time()
    Ftr = feats.block('train', tr, spec)
    res = {C: cv(Ftr, fit, C) for C in grid}
    C = max(res, key=lambda c: res[c][0])
    out = dict(design=name, C=C, cv=res[C], cv_grid={str(k): v for k, v in res.items()})
    try:
        out.update(final(spec, fitname, fit, C, Ftr))
    except FileNotFoundError as e:
        out['missing'] = str(e).split('/')[-1]
    print(json.dumps(out), flush=True)
    return out

def final(spec, fitname, fit, C, Ftr):
    Fs, mu, sd = standardize(Ftr)
    t1 = time.time(); f = fit(Fs, C); ttrain = time.time() - t1
    vspec = [b if b != 'car_raw' else 'car_raw' for b in spec]
    sv = f((feats.block('valid', va, vspec) - mu) / sd)
    aspec = [b if b != 'car_raw' else 'car' for b in spec]
    sc = f((feats.block('car1013', car, aspec) - mu) / sd)
    sh = f((feats.block('cherry3111', che, aspec) - mu) / sd)
    return dict(valid=data.pair_acc(sv), params=int(Ftr.shape[1] + 1) if fitname != 'mlp' else None,
               fit_s=ttrain,
               rho_iqs=spearmanr(sc, [r['score'] for r in car])[0],
               rho_len_car=spearmanr(sc, [len(r['output']) for r in car])[0],
               rho_len_cherry=spearmanr(sh, [len(r['output']) for r in che])[0])

if __name__ == '__main__':
    for n in (sys.argv[1:] or DESIGNS):
        run(n)
