#!/usr/bin/env python3
"""Black-box mutation fuzzing of gleaner's readers through the CLI (no build needed).

usage: cli_fuzz.py GLEANER_BIN FORMAT SECONDS OUT_DIR [SEED]
  FORMAT: json | jsonl | csv | parquet; seeds come from fuzz/corpus/read_FORMAT/.

Each input is a seed mutated (bytes flipped, inserted, deleted, duplicated, truncated, tokens
such as NaN, brackets, quotes, CR/LF, a BOM or invalid UTF-8 spliced in, or two seeds
crossed). It is read by `gleaner stats --json` twice, strict and with `--on-error skip`:

- no panic (exit 101, or "panicked" on stderr), no hang (30 s);
- strict: success, or exit 1 with an error line naming the file;
- skip: success with read = ok + skipped (the counts add up), or the same file-level error;
- strict success implies skip success with the same rows.

Inputs that break a rule are saved to OUT_DIR/finding-*; a summary line goes to stdout:
format, seconds, inputs run, distinct error messages seen (a crude coverage measure),
findings.
"""
import json, os, random, re, subprocess, sys, time

bin_, fmt, secs, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else 1)
root = os.path.dirname(os.path.abspath(__file__))
seeds = []
for d in ("corpus", "regressions"):
    p = os.path.join(root, d, "read_" + fmt)
    if os.path.isdir(p):
        seeds += [open(os.path.join(p, f), "rb").read() for f in sorted(os.listdir(p))]
assert seeds, "no seeds"
os.makedirs(out, exist_ok=True)
TOKENS = [b"NaN", b"Infinity", b"-Infinity", b"[", b"]", b"{", b"}", b'"', b",", b":", b"\n", b"\r\n", b"\\",
          b"\\u00", b"\xef\xbb\xbf", b"\xff", b"\xc3", b"null", b"true", b"1e999", b"-0", b'"instruction"',
          b'"output"', b'"conversations"', b'"messages"', b'"from"', b'"role"', b"PAR1", b"\x00" * 4, b"\xff" * 8]


def mutate(b):
    b = bytearray(b)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(8)
        i = rng.randint(0, len(b))
        if op == 0 and b:
            b[min(i, len(b) - 1)] = rng.randrange(256)
        elif op == 1:
            b[i:i] = rng.choice(TOKENS)
        elif op == 2 and b:
            del b[i:i + rng.randint(1, 16)]
        elif op == 3 and b:
            j = rng.randint(0, len(b))
            b[i:i] = b[j:j + rng.randint(1, 64)]
        elif op == 4:
            del b[rng.randint(0, len(b)):]
        elif op == 5:
            other = rng.choice(seeds)
            b = b[:i] + other[rng.randint(0, len(other)):]
        elif op == 6 and b:
            b[min(i, len(b) - 1)] ^= 1 << rng.randrange(8)
        else:
            b[i:i] = bytes([rng.randrange(256)])
    return bytes(b)


def run(path, skip):
    args = [bin_, "stats", path, "--json"] + (["--on-error", "skip"] if skip else [])
    try:
        p = subprocess.run(args, capture_output=True, timeout=30, env={**os.environ, "NO_COLOR": "1"})
    except subprocess.TimeoutExpired:
        return None, "", ""
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


path = os.path.join(out, "input." + fmt)
start, n, findings, messages = time.time(), 0, 0, set()
while time.time() - start < secs:
    data = mutate(rng.choice(seeds))
    with open(path, "wb") as f:
        f.write(data)
    problems = []
    (c1, o1, e1), (c2, o2, e2) = run(path, False), run(path, True)
    for tag, code, err in (("strict", c1, e1), ("skip", c2, e2)):
        if code is None:
            problems.append(f"{tag}: hang (30 s)")
        elif code == 101 or "panicked" in err:
            problems.append(f"{tag}: panic: {err[-400:]}")
        elif code not in (0, 1):
            problems.append(f"{tag}: exit {code}")
        elif code == 1:
            first = next((l for l in err.splitlines() if l.startswith("error:")), "")
            if "input." + fmt not in first:
                problems.append(f"{tag}: error without the file name: {first}")
            messages.add(re.sub(r"\d+", "N", first.split("input." + fmt, 1)[-1])[:80])
    if c2 == 0:
        s = json.loads(o2)
        skipped = sum(s["skipped"].values()) if isinstance(s["skipped"], dict) else len(s["skipped"])
        if s["read"] != s["ok"] + skipped:
            problems.append(f"skip: counts do not add up: {s['read']} != {s['ok']} + {skipped}")
        if c1 == 0 and (skipped or json.loads(o1)["ok"] != s["ok"]):
            problems.append("strict succeeded but the skipping read differs")
    if c1 == 0 and c2 != 0:
        problems.append("strict succeeded but the skipping read failed")
    n += 1
    if problems:
        findings += 1
        with open(os.path.join(out, f"finding-{findings}.{fmt}"), "wb") as f:
            f.write(data)
        with open(os.path.join(out, f"finding-{findings}.txt"), "w") as f:
            f.write("\n".join(problems) + "\n")
print(f"{fmt}\t{time.time() - start:.0f}\t{n}\t{len(messages)}\t{findings}", flush=True)
