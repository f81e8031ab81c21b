"""Tiny RankNet MLP vs linear on [resp MiniLM | scal2 | scal3 | cos(inst,resp)], CV over
train pairs. Usage: python exp_mlp3.py"""
import numpy as np, torch
from sklearn.model_selection import KFold
import data, feats
from exp_feats3 import S2, S3, E, cos
torch.set_num_threads(1)
F = np.hstack([E['resp'], S2, S3, cos])
def fit_mlp(A, hidden, wd, epochs=40, seed=0):
    torch.manual_seed(seed)
    X = torch.tensor(A, dtype=torch.float32)
    net = torch.nn.Sequential(torch.nn.Dropout(0.2), torch.nn.Linear(A.shape[1], hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 1))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=wd)
    n = len(A) // 2
    for ep in range(epochs):
        net.train()
        for idx in torch.randperm(n).split(32):
            s = net(X[2 * idx + 1]).squeeze(1) - net(X[2 * idx]).squeeze(1)
            loss = torch.nn.functional.softplus(-s).mean()
            opt.zero_grad(); loss.backward(); opt.step()
    net.eval()
    return lambda G: net(torch.tensor(G, dtype=torch.float32)).squeeze(1).detach().numpy()
for hidden, wd, ep in [(16, 0.1, 20), (32, 0.1, 40), (32, 1.0, 40)]:
    accs = []
    for tri, tei in KFold(5, shuffle=True, random_state=0).split(np.arange(len(F) // 2)):
        rows = lambda p: np.ravel(np.c_[2 * p, 2 * p + 1])
        A, B = F[rows(tri)], F[rows(tei)]
        mu, sd = A.mean(0), A.std(0) + 1e-6
        f = fit_mlp((A - mu) / sd, hidden, wd, ep)
        accs.append(data.pair_acc(f((B - mu) / sd)))
    print('mlp', hidden, wd, ep, round(float(np.mean(accs)), 4), flush=True)
