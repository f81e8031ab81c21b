#!/usr/bin/env python3
"""Embedding throughput: sentence-transformers (all-MiniLM-L6-v2) vs `gleaner embed`, same texts,
same run.

    .venv-ref/bin/python bench/embed/bench_embed.py [--n 2000] [--threads 2] [--no-sweep]
        [--out bench/results/embed.csv] [--machine bench/results/machine.txt] [--force]

Data: the first --n records of /work/shared/data/alpaca-selections (car_selected_1013.json, then
cherry_ifd_top6pct_3111.json, ... until --n real records are collected; no synthetic text),
rendered as CaR's text "Instruction: {instruction} Input: {input} Response: {output}" (the same
string as `gleaner embed --text car`; every record is single-turn Alpaca).

Tools, each timed end to end in this run:
  sentence-transformers  SentenceTransformer(DIR, device="cpu"), max_seq_length 256,
                         encode(batch_size=B, normalize_embeddings=True); model load timed
                         separately (load_s); seconds = encode only; total_s = load + encode.
                         B = 32 (the default), and also the best B of a quick sweep over
                         {8, 16, 64, 128} on the first 256 texts when that is not 32 (--no-sweep
                         to skip; the sweep itself is not reported as a result).
  gleaner                `gleaner embed IN.json -o OUT.parquet --text car --model DIR --precision P`
                         for each P of --precisions (default auto,f32: auto = one-term bf16 AMX
                         tiles where the CPU has them, f32 = the reference arithmetic), as a
                         subprocess: total_s = wall time of the process (read JSON, load model,
                         embed, write Parquet); load_s = total_s - the "embedded N records in Xs"
                         time gleaner logs; seconds = that logged embedding time.
texts_per_s = n_texts / seconds; ratio_vs_reference = texts_per_s / texts_per_s of the
sentence-transformers batch-32 row (> 1 means faster than the reference).

Agreement: gleaner's Parquet is read with pyarrow (from the venv, or from bench/work/pydeps where
run_all.sh installs it when the venv lacks it); rows are matched by row_index and the cosine to
the sentence-transformers vector must be >= 0.9999 for every row (min / mean reported, exit
status 1 if not).

Threads: torch.set_num_threads(--threads); gleaner gets RAYON_NUM_THREADS=--threads (and
OMP/OPENBLAS). The machine has 2 cores; refuses to start when the 1-minute load average is
above 1.5 (other jobs running) unless --force, and records the load at start and end.
"""
import argparse
import csv
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DATA = os.environ.get("GLEANER_DATA", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data"))
MODELS = os.path.expanduser(os.environ.get("GLEANER_MODEL_DIR", "~/.cache/gleaner/models"))
LOAD_LIMIT = 1.5
SOURCES = ["car_selected_1013.json", "cherry_ifd_top6pct_3111.json", "lcg_multinomialnb_1k.json",
           "lcg_distilbert_lr1e-6_1k.json", "lcg_centroid_train_1600.json"]


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception as e:  # noqa: BLE001
        return f"({cmd}: {e})"


def load1():
    return os.getloadavg()[0]


def check_load(force, tag):
    la = load1()
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


def collect(n):
    recs = []
    for f in SOURCES:
        p = os.path.join(DATA, "alpaca-selections", f)
        if not os.path.exists(p):
            continue
        for i, r in enumerate(json.load(open(p, encoding="utf-8"))):
            recs.append({"instruction": r["instruction"], "input": r.get("input", ""), "output": r["output"]})
            if len(recs) == n:
                return recs
    sys.exit(f"only {len(recs)} records available in {DATA}/alpaca-selections, asked for {n}")


def car_text(r):
    return f"Instruction: {r['instruction']} Input: {r['input']} Response: {r['output']}"


def import_pyarrow():
    try:
        import pyarrow.parquet as pq  # noqa: F401
        return pq
    except ImportError:
        pass
    extra = os.path.join(ROOT, "bench", "work", "pydeps")
    if os.path.isdir(extra):
        sys.path.append(extra)
        try:
            import pyarrow.parquet as pq
            return pq
        except ImportError:
            pass
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2000, help="number of real texts (default 2000)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--model-dir", default=os.path.join(MODELS, "all-MiniLM-L6-v2"))
    ap.add_argument("--gleaner", default=os.path.join(ROOT, "target", "release", "gleaner"))
    ap.add_argument("--batch-tokens", type=int, default=None,
                    help="pass --batch-tokens to gleaner (default: gleaner's own default)")
    ap.add_argument("--no-sweep", action="store_true", help="only batch 32 for sentence-transformers")
    ap.add_argument("--skip-gleaner", action="store_true")
    ap.add_argument("--precisions", default="auto,f32",
                    help="comma-separated gleaner --precision values to run (auto = bf16 AMX tiles for "
                         "MiniLM where the CPU has them)")
    ap.add_argument("--out", default=os.path.join(HERE, "results.csv"))
    ap.add_argument("--machine", default=os.path.join(HERE, "machine.txt"),
                    help="machine description file (appended to)")
    ap.add_argument("--force", action="store_true", help=f"run even if the 1-min load > {LOAD_LIMIT}")
    args = ap.parse_args()

    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
        os.environ[v] = str(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    load_start = check_load(args.force, "bench_embed")
    up_start = sh("uptime")

    import numpy as np
    import torch
    torch.set_num_threads(args.threads)

    recs = collect(args.n)
    texts = [car_text(r) for r in recs]
    n = len(texts)
    loaded = "yes" if load_start > LOAD_LIMIT else "no"
    print(f"bench_embed: {n} texts, threads {args.threads}, load {load_start:.2f}", file=sys.stderr)
    rows = []  # tool, n_texts, seconds, texts_per_s, ratio_vs_reference, load_s, total_s, threads, note

    # sentence-transformers
    import sentence_transformers
    from sentence_transformers import SentenceTransformer
    t0 = time.perf_counter()
    st = SentenceTransformer(args.model_dir, device="cpu")
    st.max_seq_length = 256
    st_load = time.perf_counter() - t0

    def st_encode(ts, bs):
        t = time.perf_counter()
        e = st.encode(ts, batch_size=bs, normalize_embeddings=True, convert_to_numpy=True,
                      show_progress_bar=False)
        return e, time.perf_counter() - t

    st_encode(texts[:8], 8)  # warm-up (first-call allocations), not timed
    batches = [32]
    if not args.no_sweep:
        sub = texts[: min(256, n)]
        sweep = {}
        for bs in (8, 16, 32, 64, 128):
            _, s = st_encode(sub, bs)
            sweep[bs] = s
        best = min(sweep, key=sweep.get)
        print("sweep (first %d texts): %s; best %d" % (len(sub), ", ".join(
            f"b{b} {s:.2f}s" for b, s in sweep.items()), best), file=sys.stderr)
        if best != 32:
            batches.append(best)
    ref_emb, ref_rate = None, None
    for bs in batches:
        emb, secs = st_encode(texts, bs)
        if ref_emb is None:
            ref_emb, ref_rate = emb.astype(np.float64), n / secs
        rate = n / secs
        tag = "" if bs == 32 else " (best of the sweep)"
        rows.append([f"sentence-transformers {sentence_transformers.__version__} batch {bs}{tag}", n,
                     f"{secs:.3f}", f"{rate:.2f}", f"{rate / ref_rate:.3f}", f"{st_load:.3f}",
                     f"{st_load + secs:.3f}", args.threads,
                     f"torch {torch.__version__} f32, max_seq_length 256, normalize; loaded={loaded}"])
        print(f"sentence-transformers b{bs}: {secs:.2f}s ({rate:.1f}/s), load {st_load:.2f}s", file=sys.stderr)
    del st

    ok = True
    agree = ""
    if not args.skip_gleaner:
        if not os.access(args.gleaner, os.X_OK):
            sys.exit(f"{args.gleaner} not found or not executable (build with cargo build --release "
                     "-p gleaner, or pass --skip-gleaner)")
        amx = "yes" if re.search(r"\bamx_bf16\b", open("/proc/cpuinfo").read()) else "no"
        work = tempfile.mkdtemp(prefix="gleaner-bench-embed-")
        inp = os.path.join(work, "in.json")
        json.dump(recs, open(inp, "w", encoding="utf-8"), ensure_ascii=False)
        agrees = []
        for prec in args.precisions.split(","):
            out = os.path.join(work, f"emb-{prec}.parquet")
            cmd = [args.gleaner, "embed", inp, "-o", out, "--text", "car", "--model", args.model_dir,
                   "--precision", prec]
            if args.batch_tokens:
                cmd += ["--batch-tokens", str(args.batch_tokens)]
            env = dict(os.environ, NO_COLOR="1")
            t0 = time.perf_counter()
            p = subprocess.run(cmd, capture_output=True, text=True, env=env)
            total = time.perf_counter() - t0
            if p.returncode != 0:
                sys.stderr.write(p.stderr)
                sys.exit(f"gleaner embed failed ({p.returncode}): {' '.join(cmd)}")
            m = re.search(r"embedded (\d+) records .* in ([0-9.]+)s", p.stderr)
            secs = float(m.group(2)) if m else total
            if not m:
                print("warning: gleaner's 'embedded N records in Xs' line not found; seconds = total",
                      file=sys.stderr)
            if secs <= 0:  # gleaner logs 0.1 s resolution; a tiny run can log 0.0s
                secs = total
            rate = n / secs
            bt = args.batch_tokens or "default"
            rows.append([f"gleaner embed --precision {prec}", n, f"{secs:.3f}", f"{rate:.2f}",
                         f"{rate / ref_rate:.3f}", f"{max(total - secs, 0):.3f}", f"{total:.3f}", args.threads,
                         f"--text car, --batch-tokens {bt}; amx={amx}; load_s = process wall - logged embed "
                         f"time (read JSON, load model, write Parquet); loaded={loaded}"])
            print(f"gleaner --precision {prec}: {secs:.2f}s ({rate:.1f}/s), process total {total:.2f}s",
                  file=sys.stderr)

            pq = import_pyarrow()
            if pq is None:
                agree = "not checked: pyarrow is not importable (run_all.sh installs it in bench/work/pydeps)"
                print("WARNING: " + agree, file=sys.stderr)
                continue
            t = pq.read_table(out)
            idx = np.asarray(t.column("row_index").to_pylist(), dtype=np.int64)
            g = np.asarray(t.column("embedding").to_pylist(), dtype=np.float64)
            order = np.argsort(idx)
            idx, g = idx[order], g[order]
            assert idx.tolist() == list(range(n)), "gleaner rows do not cover 0..n-1"
            cos = (g * ref_emb).sum(1) / (np.linalg.norm(g, axis=1) * np.linalg.norm(ref_emb, axis=1))
            bad = int((cos < 0.9999).sum())
            ok = ok and bad == 0
            a = (f"--precision {prec}: cosine gleaner vs sentence-transformers over {n} rows: min "
                 f"{cos.min():.7f}, mean {cos.mean():.7f}, rows < 0.9999: {bad} -> {'OK' if bad == 0 else 'FAIL'}")
            agrees.append(a)
            print(a, file=sys.stderr)
            if bad:
                worst = np.argsort(cos)[:5]
                print("worst rows: " + ", ".join(f"{i} ({cos[i]:.6f})" for i in worst), file=sys.stderr)
        agree = agree or "; ".join(agrees)
        for f in glob.glob(os.path.join(work, "*")):
            os.remove(f)
        os.rmdir(work)

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["tool", "n_texts", "seconds", "texts_per_s", "ratio_vs_reference", "load_s",
                    "total_s", "threads", "note"])
        w.writerows(rows)
        if agree:
            w.writerow(["agreement", n, "", "", "", "", "", "", agree])
    with open(args.machine, "a") as f:
        f.write(f"== bench_embed ({time.strftime('%Y-%m-%d %H:%M:%S')}) ==\n")
        f.write(f"uptime start: {up_start}\nuptime end:   {sh('uptime')}\n")
        if load_start > LOAD_LIMIT:
            f.write(f"WARNING: 1-min load {load_start:.2f} > {LOAD_LIMIT} at start (--force): timings not comparable\n")
        f.write(machine_header() + "\n")
        f.write(f"threads: {args.threads}; python {sys.version.split()[0]}, numpy {np.__version__}, "
                f"torch {torch.__version__}, sentence-transformers {sentence_transformers.__version__}\n")
        f.write(f"gleaner: {args.gleaner} ({sh(args.gleaner + ' --version')})\n")
        f.write(f"data: first {n} records of {', '.join(SOURCES)} (in that order), CaR text\n")
        if agree:
            f.write(agree + "\n")
        f.write("\n")
    print(f"wrote {args.out}; appended {args.machine}", file=sys.stderr)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
