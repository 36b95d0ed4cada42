#!/bin/sh
# Idempotent set-up of model-ops' Python dependencies on a fresh Debian machine (run as root).
# Everything runs under /usr/bin/python3 with Debian's packages (no PyPI): torch, onnx, numpy, PIL, pytest, tqdm.
set -eu
if /usr/bin/python3 -c 'import torch, onnx, numpy, PIL, pytest, tqdm' 2>/dev/null; then
    echo "model-ops: python deps present ($(/usr/bin/python3 -c 'import torch, onnx; print("torch", torch.__version__, "onnx", onnx.__version__)'))"
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    echo "model-ops/setup.sh: missing Python packages; run as root (or: sudo apt-get install -y python3-torch python3-onnx python3-numpy python3-pil python3-pytest python3-tqdm)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y python3-torch python3-onnx python3-numpy python3-pil python3-pytest python3-tqdm
/usr/bin/python3 -c 'import torch, onnx, numpy, PIL, pytest, tqdm'
echo "model-ops: python deps installed"
