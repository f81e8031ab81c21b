#!/usr/bin/env python3
"""IFD scoring throughput and agreement, SmolLM2-135M-Instruct (Q4_1 GGUF), Superfiltering template
"none": HF transformers reference loop vs llama.cpp (llama-cpp-python) vs `gleaner score ifd`,
same pairs, same run.

    .venv-ref/bin/python bench/ifd/bench_ifd.py [--n 1000] [--ref-limit M] [--threads 2]
        [--out bench/results/ifd.csv] [--machine bench/results/machine.txt] [--force]

Data: the first --n records of --data (default lcg_multinomialnb_1k.json, 1000 real Alpaca pairs).

Passes (SPEC.md section 3.2, Superfiltering code_ifd/data_analysis.py, template none, max_length
ML = 1024): prompt = I+"\\n"+X+"\\n" (X non-empty) or I+"\\n"; L_Q = token count of the prompt
(capped at ML); direct = tokens of O alone truncated at ML - L_Q + 1, loss = mean NLL of tokens
1..T-1; cond = tokens of prompt+O truncated at ML, loss = mean NLL of tokens s..T-1 with
s = token count of the text before the last occurrence of O. ifd_ppl = exp(loss_cond) /
exp(loss_direct). An empty output is skipped (NaN), as data_analysis.py writes {} for it.
Token ids: the HF tokenizer built from the GGUF with the smollm pre-tokenizer restored
(tests/golden/gen_smollm2_tokens.py), add_special_tokens=False (no BOS, as gleaner and GPT-2);
with --check-tokens (default on) every sequence is compared to llama.cpp's own tokenisation
(with --skip-llama only when llama-cpp-python is installed: --skip-llama runs without it).

Tools:
  hf-f32 (reference)  AutoModelForCausalLM.from_pretrained(dir, gguf_file=..., dtype=float32)
                      (weights dequantised to f32), batch 1, two forward passes per pair,
                      loss = model(ids, labels=labels).loss with labels[:s] = -100, exactly as
                      data_analysis.py; --ref-limit M runs it on the first M pairs only.
  llama.cpp           llama-cpp-python Llama(logits_all=True, n_ctx=2048, n_batch=512,
                      n_threads=--threads) evaluating the same ids (reset + eval per pass); NLL
                      from its f32 logits in float64; all --n pairs unless --llama-limit.
  gleaner             `gleaner score ifd IN.json -o OUT.jsonl --template none --model GGUF
                      --precision P` as a subprocess (RAYON_NUM_THREADS=--threads), all --n pairs,
                      once per P in --precisions (default f32,bf16x3,bf16: exact f32;
                      bf16x3 = three-term bf16 AMX tiles where the CPU has them, what `auto`
                      means for IFD there; bf16 = the fast mode).
Timing: seconds = model work only for the Python tools (tokenisation is done once up front and
reported in tokenize_s, pro-rated to the tool's pairs); load_s = model load. For gleaner,
total_s = process wall time, load_s = the "loaded ... in Xs" it logs, seconds = total - load
(reading, its own tokenisation, scoring, writing). tokens_forwarded = sum over scored pairs of
len(direct ids) + len(cond ids) (the same sequences for every tool; gleaner's count is taken
from this script's tokenisation); tokens_per_s = tokens_forwarded / seconds; ratio_vs_reference
= tokens_per_s / the hf-f32 row's tokens_per_s (> 1 = faster than the reference).
Agreement (on the pairs both tools scored): Spearman rho of ifd_ppl vs gleaner's f32 ("exact") run, and
max |delta loss_cond| / |delta loss_direct| vs hf-f32.

Refuses to start when the 1-minute load average is above 1.5 unless --force (then the CSV notes
say loaded=yes and machine.txt carries a warning). Load at start and end go to --machine.
"""
import argparse
import csv
import importlib.util
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "golden"))
DATA = os.environ.get("GLEANER_DATA", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data"))
LOAD_LIMIT = 1.5
ML = 1024


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception as e:  # noqa: BLE001
        return f"({cmd}: {e})"


def check_load(force, tag):
    la = os.getloadavg()[0]
    if la > LOAD_LIMIT:
        bar = "!" * 78
        msg = (f"{bar}\n{tag}: 1-minute load average is {la:.2f} (> {LOAD_LIMIT}) on "
               f"{os.cpu_count()} cores: other jobs are running and timings will not be comparable.\n")
        if not force:
            sys.stderr.write(msg + "Refusing to start; rerun with --force to benchmark anyway.\n" + bar + "\n")
            sys.exit(2)
        sys.stderr.write(msg + "--force given: continuing, results are marked loaded=yes.\n" + bar + "\n")
    return la


def machine_header():
    model = sh("lscpu | sed -n 's/^Model name:[ \\t]*//p'")
    return f"cpu: {model}; cores (nproc): {sh('nproc')}; memory: {sh('free -h | sed -n 2p')}"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def plan_pair(tok, rec):
    """Token ids of the two passes and the cond span start; None when the output is empty."""
    I, X, O = rec["instruction"], rec.get("input", ""), rec["output"]
    if not O:
        return None
    prompt = I + "\n" + X + "\n" if X else I + "\n"
    whole = prompt + O
    lq = min(len(tok(prompt)), ML)
    direct = tok(O)[: ML - lq + 1]
    cond = tok(whole)[:ML]
    s = len(tok(whole[: whole.rfind(O)]))
    return {"direct": direct, "cond": cond, "s": s}


def nll_rows(logits, ids, start):
    """float64 NLL of tokens start..T-1 from float32 logits rows start-1..T-2."""
    import numpy as np
    lg = np.asarray(logits[start - 1: len(ids) - 1], dtype=np.float64)
    m = lg.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(lg - m).sum(axis=1))
    return lse - lg[np.arange(lg.shape[0]), np.asarray(ids[start:])]


def check_tokens_vs_llama_cpp(gguf, recs, plans):
    """Number of sequences whose ids differ from llama.cpp's own tokenisation of the same text."""
    import llama_cpp  # only here and in run_llama_cpp: --skip-llama runs without llama-cpp-python

    lt = llama_cpp.Llama(model_path=gguf, vocab_only=True, verbose=False)
    bad = 0
    for r, p in zip(recs, plans):
        if p is None:
            continue
        prompt = r["instruction"] + "\n" + r["input"] + "\n" if r.get("input") else r["instruction"] + "\n"
        for text, ids in ((r["output"], p["direct"]), (prompt + r["output"], p["cond"])):
            lc_ids = list(lt.tokenize(text.encode("utf-8"), add_bos=False, special=True))
            bad += lc_ids[: len(ids)] != ids
    del lt
    return bad


def run_llama_cpp(gguf, plans, m_lc, threads):
    """llama.cpp's losses on the first m_lc plans: (loss_direct list, loss_cond list, load s, scoring s,
    llama-cpp-python version)."""
    import llama_cpp  # only here and in check_tokens_vs_llama_cpp (see there)
    import numpy as np

    t0 = time.perf_counter()
    llm = llama_cpp.Llama(model_path=gguf, n_ctx=2048, n_batch=512, logits_all=True,
                          n_threads=threads, n_threads_batch=threads, seed=0, verbose=False)
    load_s = time.perf_counter() - t0

    def lc_loss(ids, start):
        if len(ids) - start < 1:
            return float("nan")
        llm.reset()
        llm.eval(ids)
        return float(np.mean(nll_rows(llm.scores[: len(ids)], ids, start)))

    lc_loss([1, 2, 3], 1)  # warm-up
    lds, lcs = [], []
    t0 = time.perf_counter()
    for i, p in enumerate(plans[:m_lc]):
        if p is None:
            lds.append(None), lcs.append(None)
            continue
        lds.append(lc_loss(p["direct"], 1))
        lcs.append(lc_loss(p["cond"], max(p["s"], 1)))
        if (i + 1) % 100 == 0:
            log(f"  llama.cpp {i + 1}/{m_lc} ({time.perf_counter() - t0:.0f}s)")
    secs = time.perf_counter() - t0
    return lds, lcs, load_s, secs, llama_cpp.__version__  # the model is freed on return


def ifd_ppl(lc, ld):
    if lc is None or ld is None or not (math.isfinite(lc) and math.isfinite(ld)):
        return float("nan")
    return math.exp(lc) / math.exp(ld) if math.exp(ld) != 0 else 0.0


def spearman(a, b):
    from scipy.stats import spearmanr
    pts = [(x, y) for x, y in zip(a, b) if x is not None and y is not None and math.isfinite(x) and math.isfinite(y)]
    if len(pts) < 3:
        return float("nan"), len(pts)
    r = spearmanr([p[0] for p in pts], [p[1] for p in pts])
    return float(r.statistic if hasattr(r, "statistic") else r.correlation), len(pts)


def maxdiff(a, b):
    d = [abs(x - y) for x, y in zip(a, b) if x is not None and y is not None and math.isfinite(x) and math.isfinite(y)]
    return (max(d) if d else float("nan")), len(d)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="pairs (default 1000)")
    ap.add_argument("--data", default=os.path.join(DATA, "alpaca-selections", "lcg_multinomialnb_1k.json"))
    ap.add_argument("--ref-limit", type=int, default=None, help="run the HF reference on the first M pairs only")
    ap.add_argument("--llama-limit", type=int, default=None, help="run llama.cpp on the first M pairs only")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--attn", default="sdpa", help="HF attn_implementation (transformers' default sdpa)")
    ap.add_argument("--gleaner", default=os.path.join(ROOT, "target", "release", "gleaner"))
    ap.add_argument("--skip-ref", action="store_true")
    ap.add_argument("--skip-llama", action="store_true")
    ap.add_argument("--precisions", default="f32,bf16x3,bf16",
                    help="comma-separated gleaner --precision runs (f32 = exact reference arithmetic, the default; "
                         "bf16x3 = three-term bf16 AMX tiles where available, bf16 = fast mode)")
    ap.add_argument("--skip-gleaner", action="store_true")
    ap.add_argument("--no-check-tokens", action="store_true", help="skip the llama.cpp tokenizer cross-check")
    ap.add_argument("--pairs-out", help="also write per-pair losses of every tool (JSONL)")
    ap.add_argument("--out", default=os.path.join(HERE, "results.csv"))
    ap.add_argument("--machine", default=os.path.join(HERE, "machine.txt"), help="appended to")
    ap.add_argument("--force", action="store_true", help=f"run even if the 1-min load > {LOAD_LIMIT}")
    args = ap.parse_args()

    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
        os.environ[v] = str(args.threads)
    load_start = check_load(args.force, "bench_ifd")
    up_start = sh("uptime")
    loaded = "yes" if load_start > LOAD_LIMIT else "no"

    import numpy as np
    import torch
    import transformers
    torch.set_num_threads(args.threads)
    from gen_smollm2_tokens import GGUF_DIR, GGUF_FILE, smollm2_tokenizer
    gguf = os.path.join(GGUF_DIR, GGUF_FILE)

    recs = json.load(open(args.data, encoding="utf-8"))[: args.n]
    n = len(recs)
    m_ref = n if args.ref_limit is None else min(args.ref_limit, n)
    m_lc = n if args.llama_limit is None else min(args.llama_limit, n)
    log(f"bench_ifd: {n} pairs from {os.path.basename(args.data)}; reference on {m_ref}, llama.cpp on "
        f"{m_lc}; threads {args.threads}; load {load_start:.2f}")

    # tokenisation, once, shared by the Python tools
    hf_tok, _ = smollm2_tokenizer()
    tok = lambda t: list(hf_tok(t, add_special_tokens=False)["input_ids"])  # noqa: E731
    t0 = time.perf_counter()
    plans = [plan_pair(tok, r) for r in recs]
    tok_s = time.perf_counter() - t0
    tok_note = ""
    if args.no_check_tokens:
        pass
    elif args.skip_llama and importlib.util.find_spec("llama_cpp") is None:
        tok_note = "tokenizer check vs llama.cpp not run: llama-cpp-python is not installed (--skip-llama)"
        log(tok_note)
    else:
        bad = check_tokens_vs_llama_cpp(gguf, recs, plans)
        tok_note = f"tokenizer check vs llama.cpp: {bad} of {2 * sum(p is not None for p in plans)} sequences differ"
        log(tok_note)
    toks_pair = [0 if p is None else len(p["direct"]) + len(p["cond"]) for p in plans]
    log(f"tokenised in {tok_s:.2f}s; tokens per pair (both passes) mean {np.mean(toks_pair):.0f}, "
        f"max {max(toks_pair)}; empty outputs {sum(p is None for p in plans)}")

    res = {}  # tool -> {"ld": [...], "lc": [...], ...}
    rows = []

    def rec_row(tool, pairs, secs, load_s, total_s, note, tokens=None):
        tokens = sum(toks_pair[:pairs]) if tokens is None else tokens
        res[tool]["meta"] = {"pairs": pairs, "tokens": tokens, "seconds": secs, "load_s": load_s,
                             "total_s": total_s, "note": note}

    # (a) HF transformers reference loop
    if not args.skip_ref and m_ref > 0:
        from transformers import AutoModelForCausalLM
        t0 = time.perf_counter()
        model = AutoModelForCausalLM.from_pretrained(GGUF_DIR, gguf_file=GGUF_FILE, dtype=torch.float32,
                                                     attn_implementation=args.attn).eval()
        load_s = time.perf_counter() - t0
        lds, lcs = [], []

        @torch.no_grad()
        def hf_loss(ids, s):
            x = torch.tensor([ids], dtype=torch.long)
            labels = x.clone()
            labels[0, :s] = -100
            return float(model(x, labels=labels).loss)

        model(torch.tensor([[1, 2, 3]]))  # warm-up, not timed
        t0 = time.perf_counter()
        for i, p in enumerate(plans[:m_ref]):
            if p is None:
                lds.append(None), lcs.append(None)
                continue
            lds.append(hf_loss(p["direct"], 0))  # labels = ids: mean NLL of tokens 1..T-1
            lcs.append(hf_loss(p["cond"], p["s"]))
            if (i + 1) % 50 == 0:
                log(f"  hf-f32 {i + 1}/{m_ref} ({time.perf_counter() - t0:.0f}s)")
        secs = time.perf_counter() - t0
        res["hf-f32"] = {"ld": lds, "lc": lcs}
        ts = tok_s * m_ref / n
        rec_row("hf-f32", m_ref, secs + ts, load_s, load_s + secs + ts,
                f"transformers {transformers.__version__}, torch {torch.__version__}, f32, "
                f"attn {args.attn}, batch 1; seconds include pro-rated tokenisation {ts:.2f}s")
        log(f"hf-f32: {m_ref} pairs in {secs:.1f}s (+ load {load_s:.1f}s)")
        del model

    # (b) llama.cpp
    if not args.skip_llama and m_lc > 0:
        lds, lcs, load_s, secs, lc_version = run_llama_cpp(gguf, plans, m_lc, args.threads)
        res["llama.cpp"] = {"ld": lds, "lc": lcs}
        ts = tok_s * m_lc / n
        rec_row("llama.cpp", m_lc, secs + ts, load_s, load_s + secs + ts,
                f"llama-cpp-python {lc_version}, Q4_1 weights, logits_all, n_batch 512, "
                f"{args.threads} threads; seconds include pro-rated tokenisation {ts:.2f}s and the "
                f"float64 log-softmax in numpy")
        log(f"llama.cpp: {m_lc} pairs in {secs:.1f}s (+ load {load_s:.1f}s)")

    # (c) gleaner
    gleaner_issue = ""
    if not args.skip_gleaner:
        if not os.access(args.gleaner, os.X_OK):
            gleaner_issue = f"{args.gleaner} not found (cargo build --release -p gleaner)"
        elif subprocess.run([args.gleaner, "score", "ifd", "--help"], capture_output=True).returncode != 0:
            gleaner_issue = f"{args.gleaner} has no `score ifd` subcommand (stale binary? rebuild)"
        if gleaner_issue:
            log("WARNING: skipping gleaner: " + gleaner_issue)
        else:
            work = tempfile.mkdtemp(prefix="gleaner-bench-ifd-")
            inp = os.path.join(work, "in.json")
            json.dump(recs, open(inp, "w", encoding="utf-8"), ensure_ascii=False)
            amx = "yes" if re.search(r"\bamx_bf16\b", open("/proc/cpuinfo").read()) else "no"
            for prec in args.precisions.split(","):
                out = os.path.join(work, f"ifd-{prec}.jsonl")
                cmd = [args.gleaner, "score", "ifd", inp, "-o", out, "--template", "none", "--model", gguf,
                       "--precision", prec]
                t0 = time.perf_counter()
                pr = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, NO_COLOR="1"))
                total = time.perf_counter() - t0
                if pr.returncode != 0:
                    sys.stderr.write(pr.stderr[-4000:])
                    sys.exit(f"gleaner score ifd failed ({pr.returncode}): {' '.join(cmd)}")
                m = re.search(r"loaded .* in ([0-9.]+)s", pr.stderr)
                load_s = float(m.group(1)) if m else 0.0
                by = {}
                for line in open(out, encoding="utf-8"):
                    if line.strip():
                        o = json.loads(line)
                        by[int(o["row_index"])] = o
                g = lambda i, k: (float(by[i][k]) if by.get(i, {}).get(k) is not None else None)  # noqa: E731
                key = f"gleaner --precision {prec}"
                res[key] = {"ld": [g(i, "loss_direct") for i in range(n)],
                            "lc": [g(i, "loss_cond") for i in range(n)],
                            "ppl": [g(i, "ifd_ppl") for i in range(n)]}
                rec_row(key, n, total - load_s, load_s, total,
                        f"gleaner score ifd --template none --precision {prec} (amx={amx}); seconds = "
                        "process wall - logged load (read, tokenise, score, write)"
                        + ("" if m else "; load line not found, load_s = 0"))
                log(f"{key}: {n} pairs, process {total:.1f}s (load {load_s:.1f}s)")
            for f in os.listdir(work):
                os.remove(os.path.join(work, f))
            os.rmdir(work)

    # agreement
    for t, r in res.items():
        if "ppl" not in r:
            r["ppl"] = [ifd_ppl(c, d) for c, d in zip(r["lc"], r["ld"])]
    ref_rate = None
    if "hf-f32" in res:
        mm = res["hf-f32"]["meta"]
        ref_rate = mm["tokens"] / mm["seconds"]
    header = ["tool", "pairs", "tokens_forwarded", "seconds", "tokens_per_s", "ratio_vs_reference",
              "load_s", "total_s", "threads", "spearman_ifd_ppl_vs_exact", "spearman_pairs",
              "max_abs_dloss_cond_vs_hf", "max_abs_dloss_direct_vs_hf", "compared_pairs", "note"]
    # "exact": gleaner's f32 run (all --n pairs) when there is one, else the first gleaner run
    gl = [t for t in res if t.startswith("gleaner")]
    exact = "gleaner --precision f32" if "gleaner --precision f32" in res else (gl[0] if gl else None)
    for t in ["hf-f32", "llama.cpp"] + gl:
        if t not in res:
            continue
        mm = res[t]["meta"]
        rate = mm["tokens"] / mm["seconds"] if mm["seconds"] > 0 else float("nan")
        rho, rn = ("", "")
        if exact and t != exact:
            rho, rn = spearman(res[t]["ppl"], res[exact]["ppl"])
            rho = f"{rho:.6f}"
        dc = dd = cn = ""
        if t != "hf-f32" and "hf-f32" in res:
            dc, cn = maxdiff(res[t]["lc"], res["hf-f32"]["lc"])
            dd, _ = maxdiff(res[t]["ld"], res["hf-f32"]["ld"])
            dc, dd = f"{dc:.6g}", f"{dd:.6g}"
        rows.append([t + (" (reference)" if t == "hf-f32" else ""), mm["pairs"], mm["tokens"],
                     f"{mm['seconds']:.3f}", f"{rate:.1f}",
                     f"{rate / ref_rate:.3f}" if ref_rate else "", f"{mm['load_s']:.3f}",
                     f"{mm['total_s']:.3f}", args.threads, rho, rn, dc, dd, cn,
                     mm["note"] + f"; loaded={loaded}"])
        log(f"{t}: {mm['pairs']} pairs, {mm['tokens']} tokens, {mm['seconds']:.2f}s, {rate:.0f} tok/s"
            + (f", ratio {rate / ref_rate:.2f}" if ref_rate else "")
            + (f", spearman vs {exact} {rho} on {rn}" if rho else "")
            + (f", max|dloss_cond| vs hf {dc} (direct {dd}) on {cn}" if dc else ""))
    if gleaner_issue:
        rows.append(["gleaner", "", "", "", "", "", "", "", args.threads, "", "", "", "", "",
                     "NOT RUN: " + gleaner_issue])

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    if args.pairs_out:
        with open(args.pairs_out, "w", encoding="utf-8") as f:
            for i in range(n):
                o = {"row_index": i, "tokens": toks_pair[i]}
                for t, r in res.items():
                    if i < len(r["ld"]):
                        o[t] = {"loss_direct": r["ld"][i], "loss_cond": r["lc"][i], "ifd_ppl": r["ppl"][i]}
                f.write(json.dumps(o) + "\n")
    with open(args.machine, "a") as f:
        f.write(f"== bench_ifd ({time.strftime('%Y-%m-%d %H:%M:%S')}) ==\n")
        f.write(f"uptime start: {up_start}\nuptime end:   {sh('uptime')}\n")
        if load_start > LOAD_LIMIT:
            f.write(f"WARNING: 1-min load {load_start:.2f} > {LOAD_LIMIT} at start (--force): timings not comparable\n")
        f.write(machine_header() + "\n")
        # imported only by the functions that use llama.cpp, so it may be absent with --skip-llama
        llama_cpp = sys.modules.get("llama_cpp")
        lc_version = llama_cpp.__version__ if llama_cpp else "not used"
        f.write(f"threads: {args.threads} (torch.set_num_threads, llama.cpp n_threads, RAYON_NUM_THREADS); "
                f"python {sys.version.split()[0]}, numpy {np.__version__}, torch {torch.__version__}, "
                f"transformers {transformers.__version__}, llama-cpp-python {lc_version}\n")
        if llama_cpp:
            f.write(f"llama.cpp system info: {llama_cpp.llama_print_system_info().decode().strip()}\n")
        f.write(f"gleaner: {args.gleaner} ({sh(args.gleaner + ' --version')})"
                + (f"; NOT RUN: {gleaner_issue}" if gleaner_issue else "") + "\n")
        f.write(f"data: first {n} records of {args.data}; template none, max_length {ML}; "
                f"tokenisation {tok_s:.2f}s for all pairs\n")
        if tok_note:
            f.write(tok_note + "\n")
        f.write("\n")
    log(f"wrote {args.out}; appended {args.machine}")


if __name__ == "__main__":
    main()
