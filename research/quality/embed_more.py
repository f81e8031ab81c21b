"""Cache MiniLM embeddings for selected (set, view) pairs, like embed.py but restricted.
Usage: python embed_more.py set:view ..."""
import os, sys, time, numpy as np, torch
from sentence_transformers import SentenceTransformer
import data
torch.set_num_threads(1)
m = SentenceTransformer(data.MINILM, device='cpu')
loaders = {'train': lambda: data.load_pairs('train')[0], 'valid': lambda: data.load_pairs('valid')[0],
           'car1013': lambda: data.load_alpaca('car_selected_1013'),
           'cherry3111': lambda: data.load_alpaca('cherry_ifd_top6pct_3111')}
views = {
    'car': lambda r: data.car_layout(r['instruction'], r['input'], r['output']),
    'resp': lambda r: r['output'],
    'inst': lambda r: (r['instruction'] + ' ' + r['input']).strip(),
}
for arg in sys.argv[1:]:
    name, v = arg.split(':')
    path = os.path.join(data.CACHE, f'minilm_{v}_{name}.npy')
    if os.path.exists(path):
        continue
    recs = loaders[name]()
    t = time.time()
    e = m.encode([views[v](r) for r in recs], batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    np.save(path, e.astype(np.float32))
    print(name, v, e.shape, f'{time.time()-t:.0f}s', flush=True)
