#!/usr/bin/env bash
# Inference throughput on a CUDA machine, with the same figures as bench/throughput.py.
# The first run uses the GPU worker's settings: PyTorch on CUDA, bf16 autocast, nvJPEG
# decoding of JPEGs, one decoding thread per CPU core and batches of 128. The second run
# uses float32 and Pillow decoding, for comparison. Needs the project's requirements with a CUDA build of torch and torchvision,
# and the shared photos (SOFAR_SHARED_DATA, default ../shared/data).
#   bench/gpu.sh [extra arguments of bench/throughput.py]
set -euo pipefail
cd "$(dirname "$0")"

python - <<'PY'
import sys

import torch

if not torch.cuda.is_available():
    sys.exit("CUDA is not available to PyTorch: install a CUDA build of torch or run this on a GPU machine.")
print(f"GPU: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}")
PY

export SOFAR_DEVICE=cuda
export SOFAR_INFERENCE_BACKEND=torch
export SOFAR_GPU_DECODE=true
export SOFAR_DECODE_THREADS="${SOFAR_DECODE_THREADS:-$(nproc)}"
export SOFAR_INFERENCE_BATCH_SIZE="${SOFAR_INFERENCE_BATCH_SIZE:-128}"
export SOFAR_LOG_LEVEL=WARNING

echo "== bf16 autocast, GPU JPEG decoding"
SOFAR_CUDA_BF16=true python throughput.py --repeat 10 --naive-limit 20 --forward-batches 20 "$@"

echo "== float32, Pillow decoding on the CPU"
SOFAR_CUDA_BF16=false SOFAR_GPU_DECODE=false python throughput.py --repeat 10 --naive-limit 20 --forward-batches 20 "$@"
