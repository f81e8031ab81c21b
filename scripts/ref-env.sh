#!/usr/bin/env bash
# Python reference environment for gleaner's golden fixtures (tests/golden/gen_*.py).
#
#   bash scripts/ref-env.sh            # create / complete /work/main/.venv-ref (idempotent)
#   REF_VENV=/some/dir bash scripts/ref-env.sh
#
# Creates .venv-ref (gitignored) with exact pins, builds llama-cpp-python from source for the
# local CPU (no CUDA, no BLAS), checks that everything imports, then writes .venv-ref/READY
# (contents: the pinned versions). A second run with everything in place only re-checks the
# imports and exits quickly. Needs: python3 (>= 3.10) with venv, a C/C++ compiler, network
# access to PyPI only. cmake and ninja come from PyPI into the venv.
# Install times are appended to .venv-ref/install.log.
#
# Measured on the 2-core dev machine: ~2.5 min for the wheels (torch pulls ~3 GB of nvidia
# wheels), ~15-20 min to compile llama.cpp inside llama-cpp-python.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${REF_VENV:-$ROOT/.venv-ref}"
PY="${PYTHON:-python3}"

PINS=(
  numpy==2.4.6
  torch==2.15.0
  transformers==5.23.0
  sentence-transformers==6.2.0
  scikit-learn==1.9.1
  gguf==0.19.0
  sentencepiece==0.2.3
  protobuf==7.36.2
  tokenizers==0.23.3
  accelerate==1.15.0
  entmax==1.3
  pyarrow==26.0.1
)
BUILD_PINS=(cmake==4.4.4 ninja==1.13.2)
LLAMA_PIN=llama-cpp-python==0.3.36

log() { echo "[ref-env $(date -u +%H:%M:%S)] $*"; }

t_start=$(date +%s)
rm -f "$VENV/READY"
if [ ! -x "$VENV/bin/python" ]; then
  log "creating venv $VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi
PIP=("$VENV/bin/python" -m pip)
export PATH="$VENV/bin:$PATH"
export PIP_DISABLE_PIP_VERSION_CHECK=1

# true when every "name==version" given is installed at exactly that version
have_pins() {
  "$VENV/bin/python" - "$@" <<'EOF'
import sys
from importlib.metadata import version, PackageNotFoundError
for spec in sys.argv[1:]:
    name, want = spec.split("==")
    try:
        if version(name) != want:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
EOF
}

if have_pins "${PINS[@]}" "${BUILD_PINS[@]}"; then
  log "python packages already pinned"
else
  log "installing ${PINS[*]} ${BUILD_PINS[*]}"
  t0=$(date +%s)
  "${PIP[@]}" install --quiet "${PINS[@]}" "${BUILD_PINS[@]}"
  echo "$(date -u +%FT%TZ) wheels: $(( $(date +%s) - t0 ))s" >> "$VENV/install.log"
fi

# llama.cpp build configuration. GGML_NATIVE compiles for this CPU (-march=native), with
# everything GPU/BLAS off and no curl. AMX is switched off explicitly: on the dev machines the
# CPU advertises AMX, and ggml's AMX matmul path (used by default for Q4_1 weights)
# segfaults inside llama_decode (seen with llama-cpp-python 0.3.36). GCC lets explicit
# -mno-* flags override what -march=native implies, whatever their order.
LLAMA_CMAKE_ARGS="-DGGML_NATIVE=ON -DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_VULKAN=OFF -DGGML_HIP=OFF -DGGML_SYCL=OFF -DGGML_BLAS=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF"
LLAMA_CFLAGS=""
if [ "$(uname -m)" = x86_64 ]; then
  LLAMA_CFLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
fi
LLAMA_STAMP="$LLAMA_PIN|$LLAMA_CMAKE_ARGS|$LLAMA_CFLAGS"

if have_pins "$LLAMA_PIN" && [ "$(cat "$VENV/llama-build-stamp" 2>/dev/null)" = "$LLAMA_STAMP" ]; then
  log "llama-cpp-python already built with this configuration"
else
  log "building $LLAMA_PIN from source (CPU only; this takes a while on 2 cores)"
  t0=$(date +%s)
  rm -f "$VENV/llama-build-stamp"
  CMAKE_ARGS="$LLAMA_CMAKE_ARGS" CFLAGS="$LLAMA_CFLAGS" CXXFLAGS="$LLAMA_CFLAGS" FORCE_CMAKE=1 \
    CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
    "${PIP[@]}" install --quiet --no-cache-dir --force-reinstall --no-deps \
      --no-binary llama-cpp-python "$LLAMA_PIN"
  # its runtime dependencies (numpy is pinned above; the others are small and unpinned upstream)
  "${PIP[@]}" install --quiet "$LLAMA_PIN"
  printf '%s' "$LLAMA_STAMP" > "$VENV/llama-build-stamp"
  echo "$(date -u +%FT%TZ) llama-cpp-python build: $(( $(date +%s) - t0 ))s" >> "$VENV/install.log"
fi

log "checking imports"
"$VENV/bin/python" - <<'EOF'
import numpy, torch, transformers, sentence_transformers, sklearn, gguf, sentencepiece
import google.protobuf, tokenizers, accelerate, llama_cpp
print("numpy", numpy.__version__, "| torch", torch.__version__, "| transformers", transformers.__version__,
      "| sentence-transformers", sentence_transformers.__version__, "| llama-cpp-python", llama_cpp.__version__)
print(llama_cpp.llama_print_system_info().decode().strip())
EOF

# smoke test: one llama.cpp decode on the SmolLM2 GGUF, if it is there (this is what crashed
# with the AMX kernels)
GGUF="${GLEANER_SMOLLM2_GGUF:-$HOME/.cache/gleaner/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf}"
if [ -f "$GGUF" ]; then
  log "llama.cpp decode smoke test"
  "$VENV/bin/python" - "$GGUF" <<'EOF'
import sys
from llama_cpp import Llama
m = Llama(model_path=sys.argv[1], n_ctx=256, logits_all=True, verbose=False)
ids = m.tokenize(b"The capital of France is Paris.", add_bos=False)
m.eval(ids)
print("decode ok:", len(ids), "tokens")
EOF
fi

printf '%s\n' "${PINS[@]}" "${BUILD_PINS[@]}" "$LLAMA_PIN" > "$VENV/READY"
total=$(( $(date +%s) - t_start ))
echo "$(date -u +%FT%TZ) ref-env.sh run: ${total}s" >> "$VENV/install.log"
log "READY ($VENV/READY) after ${total}s"
