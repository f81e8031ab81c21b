"""Regenerates datasketch_lsh.json: datasketch's LSH parameters and S-curve, the reference for
gleaner-dedup's `LshParams` (tests/lsh_golden.rs).

    python="$(bash bench/dedup_env.sh | tail -1)"
    "$python" crates/dedup/tests/golden/gen_datasketch_lsh.py > crates/dedup/tests/golden/datasketch_lsh.json

For each (threshold, num_perm, weights): the (b, r) datasketch's MinHashLSH picks (its
`_optimal_param`), datasketch's false-positive and false-negative areas for that (b, r), and
P(candidate) = 1 - (1 - s^r)^b at Jaccard 0.50..1.00.
"""
import json

import datasketch
from datasketch.lsh import (MinHashLSH, _false_negative_probability,
                            _false_positive_probability, _optimal_param)

cases = []
for num_perm in (64, 128, 256):
    for threshold in (0.5, 0.6, 0.7, 0.8, 0.9, 0.95):
        for w in ((0.5, 0.5), (0.1, 0.9), (0.9, 0.1)):
            b, r = _optimal_param(threshold, num_perm, w[0], w[1])
            if w == (0.5, 0.5):
                lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
                assert (lsh.b, lsh.r) == (b, r)
            cases.append({
                "threshold": threshold,
                "num_perm": num_perm,
                "fp_weight": w[0],
                "fn_weight": w[1],
                "b": b,
                "r": r,
                "fp_area": _false_positive_probability(threshold, b, r),
                "fn_area": _false_negative_probability(threshold, b, r),
                "s_curve": [[round(0.5 + 0.05 * i, 2), 1 - (1 - (0.5 + 0.05 * i) ** r) ** b] for i in range(11)],
            })
print(json.dumps({"datasketch": datasketch.__version__, "cases": cases}, indent=1))
