#!/usr/bin/env python3
"""Crash-and-resume campaign: every model stage and every preset, killed with SIGKILL at
random moments (and right when the final output's temporary file appears), resumed each time,
must end with the same bytes as a run that was never interrupted.

For each case:
  1. a clean run gives the reference output (and side files) and its wall time T;
  2. chains of runs in a fresh directory: each run is SIGKILLed at a moment drawn uniformly
     from [0, T] (or, in "final write" mode, as soon as a `*.tmp` file appears in the output
     directory: the atomic write of a side file or of the output is under way); then the same
     command is started again (it resumes from the journals and side files) until one run
     completes; the chain's output, side files and manifests are compared byte for byte with
     the reference, and no journal or temporary file may be left behind;
     after 8 kills in a chain, its next run is left to finish;
  3. chains repeat until the case has at least --kills kills.

Input: the first rows of data/sample/alpaca_en_demo.json (real Alpaca records, bundled).
Prints a table and writes it to tests/campaign/result.txt (--out). Exit status 1 on any
mismatch.

    nice -n 19 python3 tests/campaign/crash_resume.py            # the full campaign
    python3 tests/campaign/crash_resume.py --kills 3 --only embed  # a quick look
"""

import argparse
import concurrent.futures
import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
INPUT = os.path.join(ROOT, "data", "sample", "alpaca_en_demo.json")

# NAME, ARGS (IN and OUT are replaced), output extension. Small --chunk-rows so that a stage
# journals many chunks. Small inputs keep the campaign's CPU time in bounds: what is tested is
# the stop-anywhere-and-resume path, which does not depend on the row count.
CASES = [
    ("score quality", "score quality IN --limit 64 --chunk-rows 4 -o OUT", "parquet"),
    ("embed", "embed IN --limit 96 --chunk-rows 6 -o OUT", "parquet"),
    ("score ifd", "score ifd IN --limit 6 --chunk-rows 1 -o OUT", "parquet"),
    ("score ifd --reverse", "score ifd IN --limit 6 --chunk-rows 1 --reverse -o OUT", "parquet"),
    ("car", "run car IN -o OUT --quality-model default --limit 60", "json"),
    ("cherry", "run cherry IN -o OUT --limit 6 --chunk-rows 1", "json"),
    ("superfilter", "run superfilter IN -o OUT --limit 6 --chunk-rows 1", "json"),
    ("superfilter-d", "run superfilter-d IN -o OUT --limit 6 --chunk-rows 1 --budget 2 --candidates 4", "json"),
    ("lcg", "run lcg IN -o OUT --limit 120 --budget 12", "json"),
    ("pre-experience", "run pre-experience IN -o OUT --limit 6 --clusters 2 --per-cluster 2", "json"),
]


def argv(binary, args, out):
    return [binary] + [INPUT if a == "IN" else out if a == "OUT" else a for a in args.split()]


# The report's "The run" section: stage wall times and peak RSS, which differ between any two runs.
RUN_SECTION = re.compile(rb'<section id="run">.*?</section>', re.S)


def digests(d):
    """sha256 of every file under d except summary.json (it holds wall times); report.html is
    hashed without its "The run" section (wall times and peak RSS), everything else byte for byte."""
    out = {}
    for root, _, files in os.walk(d):
        for f in files:
            if f == "summary.json":
                continue
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                data = fh.read()
            if f == "report.html":
                data = RUN_SECTION.sub(b"", data)
            out[os.path.relpath(p, d)] = hashlib.sha256(data).hexdigest()
    return out


def leftovers(d):
    return sorted(
        os.path.relpath(os.path.join(r, f), d)
        for r, _, fs in os.walk(d)
        for f in fs
        if f.endswith((".tmp", ".partial", ".lock", ".writecheck"))
    )


def tmp_files(d):
    """(path, inode, mtime) of every *.tmp file under d."""
    out = set()
    for r, _, fs in os.walk(d):
        for f in fs:
            if f.endswith(".tmp"):
                p = os.path.join(r, f)
                try:
                    st = os.stat(p)
                except FileNotFoundError:
                    continue
                out.add((p, st.st_ino, st.st_mtime_ns))
    return out


def run_clean(binary, args, d, ext):
    out = os.path.join(d, "out." + ext)
    t0 = time.monotonic()
    r = subprocess.run(argv(binary, args, out), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.exit(f"clean run failed: {args}\n{r.stderr.decode(errors='replace')}")
    return time.monotonic() - t0


def attempt(binary, args, d, ext, mode, at):
    """One run; returns 'killed', 'killed-in-write', 'done' or 'failed:<stderr>'."""
    out = os.path.join(d, "out." + ext)
    stale = tmp_files(d)  # left by an earlier kill: only a write of this run counts
    p = subprocess.Popen(argv(binary, args, out), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t0 = time.monotonic()
    while True:
        if p.poll() is not None:
            err = p.stderr.read().decode(errors="replace")
            return "done" if p.returncode == 0 else "failed:" + err
        if mode == "write" and tmp_files(d) - stale:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
            return "killed-in-write"
        if mode == "time" and time.monotonic() - t0 >= at:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
            return "killed"
        # busy-poll in write mode: the temporary file lives for milliseconds
        if mode != "write":
            time.sleep(0.005)


ENV = dict(os.environ, NO_COLOR="1")
# Kills per chain before its run is let finish.
MAX_CHAIN_KILLS = 8
COMMIT = subprocess.run(
    ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
).stdout.strip()


def campaign(binary, name, args, ext, kills_wanted, rng, work):
    ref = os.path.join(work, "ref")
    os.makedirs(ref)
    t_full = run_clean(binary, args, ref, ext)
    want = digests(ref)
    kills = in_write = chains = runs = 0
    mismatches = []
    while kills < kills_wanted:
        chains += 1
        d = os.path.join(work, f"chain{chains}")
        os.makedirs(d)
        for step in range(200):
            # every fourth run of a chain waits for a temporary file (a write under way); after
            # MAX_CHAIN_KILLS kills the chain's next run is left to finish: a case whose work
            # is short and not journaled (a run that must redo it all) would otherwise be
            # killed forever whenever the machine is slower than during the clean run
            mode = "write" if (runs % 4 == 3) else "time"
            if step >= MAX_CHAIN_KILLS:
                mode = "finish"
            res = attempt(binary, args, d, ext, mode, rng.uniform(0.0, t_full))
            runs += 1
            if res == "done":
                break
            if res.startswith("failed:"):
                mismatches.append(f"chain {chains}: a resumed run failed: {res[7:].strip()[-400:]}")
                break
            kills += 1
            in_write += res == "killed-in-write"
        else:
            mismatches.append(f"chain {chains}: no run completed in 200 attempts")
        got = digests(d)
        left = leftovers(d)
        if left:
            mismatches.append(f"chain {chains}: left behind {left}")
        if got != want:
            diff = sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))
            mismatches.append(f"chain {chains}: differs from the clean run in {diff}")
        shutil.rmtree(d)
    return dict(
        name=name,
        t_full=t_full,
        kills=kills,
        in_write=in_write,
        chains=chains,
        runs=runs,
        files=len(want),
        mismatches=mismatches,
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "gleaner"))
    ap.add_argument("--kills", type=int, default=20, help="kills per case (at least)")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--only", action="append", help="run only these case names")
    ap.add_argument("--jobs", type=int, default=1, help="cases run side by side")
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "campaign", "result.txt"))
    a = ap.parse_args()
    t0 = time.monotonic()
    cpu0 = os.times()
    todo = [(k, c) for k, c in enumerate(CASES) if not a.only or c[0] in a.only]

    def one(item):
        k, (name, args, ext) = item
        rng = random.Random(a.seed * 1000 + k)  # per case: the same draws whatever --jobs is
        with tempfile.TemporaryDirectory(prefix="gleaner-campaign-") as work:
            r = campaign(a.bin, name, args, ext, a.kills, rng, work)
        status = "ok" if not r["mismatches"] else "MISMATCH"
        print(f"{name:22} {r['kills']:3} kills ({r['in_write']} in a write), {r['chains']} chains, {status}", flush=True)
        for m in r["mismatches"]:
            print("    " + m, flush=True)
        return (args, r)

    done = []
    lock = threading.Lock()

    def record(item):
        res = one(item)
        with lock:
            done.append(res)
            write_result(a, done, len(todo), t0, cpu0)
        return res

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        list(pool.map(record, todo))
    bad = sum(len(r["mismatches"]) for _, r in done)
    print(open(a.out).read())
    sys.exit(1 if bad else 0)


def write_result(a, rows, total_cases, t0, cpu0):
    """Writes the table of the cases finished so far (the file says when some are missing)."""
    order = {c[0]: k for k, c in enumerate(CASES)}
    rows = sorted(rows, key=lambda x: order[x[1]["name"]])
    cpu = os.times()
    child_cpu = (cpu.children_user - cpu0.children_user) + (cpu.children_system - cpu0.children_system)
    lines = [
        "# Crash-and-resume campaign (tests/campaign/crash_resume.py)",
        "# command: python3 " + " ".join(sys.argv),
        f"# commit: {COMMIT}",
        f"# input: first rows of data/sample/alpaca_en_demo.json",
        f"# wall {time.monotonic() - t0:.0f} s, gleaner CPU {child_cpu:.0f} s; cases finished: {len(rows)} of {total_cases}",
        "# kills: SIGKILLs at uniform random moments in [0, clean-run wall time], plus 'in write': as soon as",
        "#   a new *.tmp file appeared (an atomic write of a side file or the output under way); at most",
        f"#   {MAX_CHAIN_KILLS} kills per chain, then its run is left to finish",
        "# chains: kill → resume → … → a completed run, compared byte for byte (output, side files,",
        "#   manifests, report.html without its wall-time section) with a clean run; files = files",
        "#   compared per chain (summary.json excluded: it holds wall times); a mismatch is also any",
        "#   journal, temporary or lock file left behind",
        "",
        f"| {'case':22} | clean s | kills | in write | chains | runs | files | mismatches |",
        f"|{'-' * 24}|--------:|------:|---------:|-------:|-----:|------:|-----------:|",
    ]
    bad = 0
    for args, r in rows:
        bad += len(r["mismatches"])
        lines.append(
            f"| {r['name']:22} | {r['t_full']:7.1f} | {r['kills']:5} | {r['in_write']:8} | {r['chains']:6} "
            f"| {r['runs']:4} | {r['files']:5} | {len(r['mismatches']):10} |"
        )
    lines.append("")
    lines.append("cases (IN = the input, OUT = out.EXT in the case's directory):")
    for args, r in rows:
        lines.append(f"  {r['name']}: gleaner {args}")
    for args, r in rows:
        for m in r["mismatches"]:
            lines.append(f"MISMATCH {r['name']}: {m}")
    lines.append(f"total: {sum(r['kills'] for _, r in rows)} kills, {bad} mismatches")
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
