#!/bin/sh
# Idempotent set-up of model-ops on a fresh Debian machine (run as root): Debian's Python packages (no PyPI
# downloads: torch, onnx, numpy, PIL, pytest, tqdm, setuptools, pip), then model-ops itself (pyproject.toml)
# installed editable from THIS checkout, so scripts and tests import mpvss_ref / mpvss_scripts without sys.path edits.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3

if ! $PY -c 'import torch, onnx, numpy, PIL, pytest, tqdm, setuptools, pip' 2>/dev/null; then
    if [ "$(id -u)" != "0" ]; then
        echo "model-ops/setup.sh: missing Python packages; run as root (or: sudo apt-get install -y python3-torch python3-onnx python3-numpy python3-pil python3-pytest python3-tqdm python3-setuptools python3-pip)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y python3-torch python3-onnx python3-numpy python3-pil python3-pytest python3-tqdm \
        python3-setuptools python3-pip
    $PY -c 'import torch, onnx, numpy, PIL, pytest, tqdm, setuptools, pip'
fi
echo "model-ops: python deps present ($($PY -c 'import torch, onnx; print("torch", torch.__version__, "onnx", onnx.__version__)'))"

# model-ops itself, editable from this checkout (reinstalled when another checkout was installed last)
installed=$(cd / && $PY -c 'import os, mpvss_ref; print(os.path.dirname(os.path.dirname(mpvss_ref.__file__)))' 2>/dev/null || true)
if [ "$installed" != "$HERE" ]; then
    if [ "$(id -u)" != "0" ]; then
        echo "model-ops/setup.sh: model-ops is not installed from $HERE; run as root, or: $PY -m pip install --user --no-deps --no-build-isolation -e $HERE" >&2
        exit 1
    fi
    # --break-system-packages: Debian's python is externally managed (PEP 668); --no-deps: Debian provides them
    $PY -m pip install -q --root-user-action=ignore --no-deps --no-build-isolation --break-system-packages -e "$HERE"
fi
echo "model-ops: installed editable from $HERE"
