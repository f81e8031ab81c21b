"""Shared data loading for the quality-scorer experiments (research/quality).

Records are (instruction, input, output) triples. Training CSV rows are parsed back from
CaR's `src` string ("Instruction: I[ Input: X] Response: O", the Input part omitted when
empty) so that every view can be rebuilt in one canonical layout for train and inference.
"""
import csv, json, re, os
import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
DATA = os.path.join(ROOT, 'data')
CACHE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'cache')
MINILM = os.path.expanduser('~/.cache/gleaner/models/all-MiniLM-L6-v2')
SMOL = os.path.expanduser('~/.cache/gleaner/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf')

_SRC = re.compile(r'^Instruction: (.*?)(?: Input: (.*?))? Response: (.*)$', re.S)

def parse_src(s):
    m = _SRC.match(s)
    if not m:
        raise ValueError('unparseable src: ' + s[:80])
    return m.group(1), m.group(2) or '', m.group(3)

# The original (score 0) rows of APE are JSON-escaped text (literal \n, \", \uXXXX), the
# revised ones are not: a pure formatting artefact. `unescape` decodes exactly these
# sequences (not e.g. LaTeX "\frac").
_ESC = re.compile(r'\\(u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[nt"\\])')
def _rep(m):
    g = m.group(1)
    if g[0] == 'u' and len(g) > 5:  # surrogate pair
        hi, lo = int(g[1:5], 16), int(g[7:11], 16)
        return chr(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
    if g[0] == 'u':
        c = int(g[1:], 16)
        return '\ufffd' if 0xD800 <= c < 0xE000 else chr(c)
    return {'n': '\n', 't': '\t', '"': '"', '\\': '\\'}[g]
def unescape(s):
    return _ESC.sub(_rep, s)

def car_layout(i, x, o):
    """CaR's IQS input string (split_IQS.py): ' Input: ' always present."""
    return 'Instruction: ' + i + ' Input: ' + x + ' Response: ' + o

def load_pairs(split, normalize=True):
    """-> list of records (dict instruction/input/output), label array; rows alternate 0/1."""
    rows = list(csv.DictReader(open(os.path.join(DATA, 'expert-revised', f'APE_score_{split}.csv'))))
    recs, y = [], []
    for r in rows:
        i, x, o = parse_src(r['src'])
        if normalize:
            i, x, o = unescape(i), unescape(x), unescape(o)
        recs.append({'instruction': i, 'input': x, 'output': o})
        y.append(int(r['score']))
    y = np.array(y)
    assert (y[0::2] == 0).all() and (y[1::2] == 1).all()
    return recs, y

def load_alpaca(name):
    d = json.load(open(os.path.join(DATA, 'alpaca-selections', name + '.json')))
    return [{'instruction': r['instruction'], 'input': r.get('input', ''), 'output': r['output'],
             **({'score': float(r['score'])} if 'score' in r else {})} for r in d]

def pair_acc(s):
    """Pairwise accuracy of scores over alternating (worse, better) rows; ties count 0.5."""
    s = np.asarray(s, dtype=np.float64)
    d = s[1::2] - s[0::2]
    return float(np.mean((d > 0) + 0.5 * (d == 0)))
