"""Cache MiniLM (all-MiniLM-L6-v2, 256 tokens, mean-pooled, L2-normalised) embeddings of
several views for train/valid and the real-Alpaca sets. Usage: python embed.py"""
import os, time, numpy as np, torch
from sentence_transformers import SentenceTransformer
import data
torch.set_num_threads(2)
m = SentenceTransformer(data.MINILM, device='cpu')
sets = {}
for sp in ['train', 'valid']:
    sets[sp] = data.load_pairs(sp)[0]
    sets[sp + '_raw'] = data.load_pairs(sp, normalize=False)[0]
sets['car1013'] = data.load_alpaca('car_selected_1013')
sets['cherry3111'] = data.load_alpaca('cherry_ifd_top6pct_3111')
views = {
    'car': lambda r: data.car_layout(r['instruction'], r['input'], r['output']),
    'resp': lambda r: r['output'],
    'inst': lambda r: (r['instruction'] + ' ' + r['input']).strip(),
}
for name, recs in sets.items():
    for v, f in views.items():
        if name.endswith('_raw') and v == 'inst':
            continue
        path = os.path.join(data.CACHE, f'minilm_{v}_{name}.npy')
        if os.path.exists(path):
            continue
        t = time.time()
        e = m.encode([f(r) for r in recs], batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
        np.save(path, e.astype(np.float32))
        print(name, v, e.shape, f'{time.time()-t:.0f}s', flush=True)
