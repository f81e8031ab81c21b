"""Per-record feature blocks built from cached MiniLM embeddings and the text."""
import os, re, numpy as np
import data

def emb(view, name):
    return np.load(os.path.join(data.CACHE, f'minilm_{view}_{name}.npy'))

_LIST = re.compile(r'^\s*(?:[-*\u2022]|\d+[.)])\s')
def scalars(recs):
    """Hand features of the response text (same definitions as the Rust crate)."""
    out = []
    for r in recs:
        o = r['output']
        lines = [l for l in o.split('\n') if l.strip()]
        words = o.split()
        out.append([
            np.log1p(len(o)),                                   # log chars
            np.log1p(len(words)),                               # log words
            np.log1p(o.count('\n')),                            # log newlines
            sum(bool(_LIST.match(l)) for l in lines) / max(1, len(lines)),  # list-line fraction
            float(o.rstrip()[-1:] in '.!?"\')]:' if o.strip() else 0.0),  # ends cleanly
            np.mean([len(w) for w in words]) if words else 0.0,  # mean word length
        ])
    return np.array(out, dtype=np.float64)

SCALAR_NAMES = ['log_chars', 'log_words', 'log_newlines', 'list_frac', 'ends_clean', 'mean_word_len']

def block(name, recs, spec):
    """spec: list of block names: car, resp, inst, car_raw, cos_ir, len, scal"""
    cols = []
    for b in spec:
        if b in ('car', 'resp', 'inst'):
            cols.append(emb(b, name))
        elif b == 'car_raw':
            cols.append(emb('car', name + '_raw'))
        elif b == 'cos_ir':
            cols.append((emb('inst', name) * emb('resp', name)).sum(1, keepdims=True))
        elif b == 'len':
            cols.append(scalars(recs)[:, :1])
        elif b == 'scal2':
            cols.append(scalars2(recs))
        elif b == 'scal':
            cols.append(scalars(recs))
        else:
            raise KeyError(b)
    return np.hstack(cols).astype(np.float64)

# Richer text statistics (v2): structure and surface hygiene of the response. Only generic
# counts, no lexical phrase lists. Same definitions in crates/quality/src/features.rs.
_BOLD = re.compile(r'\*\*|__|(?m:^#{1,6} )')
_SENT = re.compile(r'[.!?]+(?:\s|$)')
SCALAR2_NAMES = ['log_chars', 'log_words', 'log_newlines', 'log_blank_lines', 'list_frac',
                 'colon_line_frac', 'markdown', 'starts_upper', 'ends_clean', 'mean_word_len',
                 'log_words_per_sent', 'trailing_space_nl', 'log_prompt_ratio']
def scalars2(recs):
    out = []
    for r in recs:
        o = r['output']
        lines = [l for l in o.split('\n') if l.strip()]
        words = o.split()
        nl = max(1, len(lines))
        nsent = max(1, len(_SENT.findall(o)))
        s = o.strip()
        p = (r['instruction'] + ' ' + r['input']).split()
        out.append([
            np.log1p(len(o)),
            np.log1p(len(words)),
            np.log1p(o.count('\n')),
            np.log1p(o.count('\n\n')),
            sum(bool(_LIST.match(l)) for l in lines) / nl,
            sum(l.rstrip().endswith(':') for l in lines) / nl,
            float(bool(_BOLD.search(o))),
            float(s[:1].isupper()),
            float(s[-1:] in '.!?"\')]:' if s else 0.0),
            np.mean([len(w) for w in words]) if words else 0.0,
            np.log1p(len(words) / nsent),
            float(' \n' in o),
            np.log1p(len(words)) - np.log1p(len(p)),
        ])
    return np.array(out, dtype=np.float64)
