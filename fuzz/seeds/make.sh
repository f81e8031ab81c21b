#!/usr/bin/env bash
# Builds the seed corpora of the fuzz targets from the real files in the repository (cut to a
# few records so the fuzzer stays fast), from what gleaner itself writes (Parquet, recipes,
# classifiers) and from the installed SmolLM2 GGUF (its header, arrays cut short).
# usage: fuzz/seeds/make.sh OUT_DIR [GLEANER_BIN]   (run from anywhere; needs python3)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$1"
bin="${2:-$root/target/release/gleaner}"
mkdir -p "$out"/{read_json,read_jsonl,read_csv,read_parquet,record_shape,recipe_toml,gguf,quality_model,classifier}
python3 - "$root" "$out" <<'PY'
import csv, io, json, os, sys
root, out = sys.argv[1], sys.argv[2]
def put(target, name, data):
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
arrays = ["data/sample/alpaca_en_demo.json", "data/sample/glaive_toolcall_en_demo.json",
          "data/sample/mllm_demo.json", "data/alpaca-selections/car_selected_1013.json",
          "data/alpaca-selections/cherry_ifd_top6pct_3111.json", "data/alpaca-selections/lcg_multinomialnb_1k.json"]
for p in arrays:
    recs = json.load(open(os.path.join(root, p)))[:3]
    stem = os.path.basename(p).split(".")[0]
    # the layouts gleaner detects and reproduces
    put("read_json", stem + "-indent2.json", json.dumps(recs, indent=2, ensure_ascii=False))
    put("read_json", stem + "-indent4-ascii.json", json.dumps(recs, indent=4))
    put("read_json", stem + "-compact.json", json.dumps(recs, separators=(",", ":")))
    put("read_jsonl", stem + ".jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs))
    for i, r in enumerate(recs[:2]):
        put("record_shape", f"{stem}-{i}", b"\x00" + json.dumps(r).encode())
        put("record_shape", f"{stem}-{i}-prompt", b"\x04" + json.dumps(r).encode())
# the file's own head, cut mid-record (a truncated file)
put("read_json", "alpaca-head.json", open(os.path.join(root, arrays[0]), "rb").read(700))
# NaN / Infinity literals as Python's json.dump writes them (Superfiltering's ifd files)
nan = [{"instruction": "a", "input": "", "output": "b", "ifd_ppl": float("nan")},
       {"instruction": "c", "input": "", "output": "d", "ifd_ppl": float("inf"), "x": -float("inf")}]
put("read_json", "nonfinite.json", json.dumps(nan, indent=4))
put("read_jsonl", "nonfinite.jsonl", "".join(json.dumps(r) + "\n" for r in nan))
put("record_shape", "nonfinite", b"\x01" + json.dumps(nan[0]).encode())
for p in sorted(os.listdir(os.path.join(root, "data/eval-sets"))):
    lines = open(os.path.join(root, "data/eval-sets", p), "rb").read().split(b"\n")[:3]
    put("read_jsonl", p, b"\n".join(lines) + b"\n")
    put("record_shape", p + "-0", b"\x04" + lines[0])
for p in sorted(os.listdir(os.path.join(root, "data/expert-revised"))):
    rows = list(csv.reader(open(os.path.join(root, "data/expert-revised", p), newline="")))[:4]
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    put("read_csv", p, buf.getvalue())
put("read_csv", "alpaca.csv", "\ufeffinstruction,input,output\r\n\"Add, then explain\",\"2, 3\",\"5.\nBecause \"\"2 + 3\"\" is 5.\"\r\nSay hi,,Hello!\r\n")
for p in sorted(os.listdir(os.path.join(root, "crates/pipeline/recipes"))):
    put("recipe_toml", p, open(os.path.join(root, "crates/pipeline/recipes", p), "rb").read())
put("quality_model", "default.json", open(os.path.join(root, "crates/quality/assets/default.json"), "rb").read())
PY
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Parquet as gleaner writes it (from the JSON seeds) and the presets' recipes as gleaner prints them
for j in "$out"/read_json/*-indent2.json; do
  "$bin" convert "$j" -o "$out/read_parquet/$(basename "${j%.json}").parquet" >/dev/null 2>&1
done
"$bin" convert "$out/read_json/nonfinite.json" -o "$out/read_parquet/nonfinite.parquet" >/dev/null 2>&1
for r in car lcg cherry superfilter superfilter-d pre-experience; do
  "$bin" recipes show "$r" > "$out/recipe_toml/$r.toml"
done
# classifiers gleaner saved: LCG's naive Bayes on 80 rows of the sample
in="$root/data/sample/alpaca_en_demo.json"
"$bin" run lcg "$in" -o "$tmp/lcg.json" --limit 80 --budget 10 --k 4 --save-classifier "$tmp/nb.json" --work-dir "$tmp/w1" >/dev/null 2>&1 \
  && cp "$tmp/nb.json" "$out/classifier/nb.json"
"$bin" run lcg "$in" -o "$tmp/lcg2.json" --limit 80 --budget 10 --k 4 --classifier neural --save-classifier "$tmp/neural.json" --work-dir "$tmp/w2" >/dev/null 2>&1 \
  && cp "$tmp/neural.json" "$out/classifier/neural.json"
# the SmolLM2 GGUF's header, arrays cut to 64 elements, a few tensors kept small
gguf="$(find "${GLEANER_MODELS:-$HOME/.cache/gleaner/models}" -name '*.gguf' -size -200M 2>/dev/null | grep -i smol | head -1 || true)"
if [ -n "$gguf" ]; then python3 "$root/fuzz/seeds/make_gguf_seed.py" "$gguf" "$out/gguf"; fi
for t in "$out"/*; do echo "$(basename "$t"): $(ls "$t" | wc -l) seeds"; done
