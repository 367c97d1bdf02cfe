#!/usr/bin/env bash
# The CUDA path, checked and measured in one run on a lent GPU machine (the device tool), which
# has torch but not streamlit or this project's venv. Prepare here, once:
#   mkdir -p .mnist/MNIST/raw && for f in ../shared/data/MNIST/raw/*-ubyte; do
#     gzip -c "$f" > .mnist/MNIST/raw/$(basename "$f").gz; done && echo /.mnist/ >> .git/info/exclude
# then run there: `bash scripts/gpu_check.sh` with carry [".mnist"]; results land in $OUT.
set -uo pipefail
out=${OUT:-/tmp/gpu-check}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 PLAYGROUND_DATA_DIR="$PWD/.mnist"
gunzip -kf .mnist/MNIST/raw/*.gz
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
python3 -c "import torch, torchvision; print(torch.__version__, torchvision.__version__)" | tee -a "$out/gpu.txt"
# Unit tests of the CUDA branches (skipped on CPU-only CI): graph capture vs eager, GPU timings.
python3 -m pytest -q -p no:cacheprovider tests/test_engine.py tests/test_gpu_ops.py tests/test_dtypes.py \
  tests/test_checkpoint.py tests/test_config.py tests/test_precision.py 2>&1 | tee "$out/pytest.txt"
# The benchmark: the tutorial's loop vs the engine (CUDA graph), same process, same GPU.
python3 -m playground bench --device cuda --epochs 3 --precision fp32 bf16 fp16 --json \
  > "$out/bench.json" 2> "$out/bench.log"
tail -n 8 "$out/bench.log"; cat "$out/bench.json"
# Mixed precision at a large batch (issue 14: bf16 not slower at 64, faster at >= 1024).
python3 -m playground bench --device cuda --epochs 3 --precision fp32 bf16 fp16 --batch-size 1024 \
  > "$out/bench-1024.txt" 2>&1; tail -n 8 "$out/bench-1024.txt"
# The whole tutorial recipe (15 epochs) and the fast preset, as a visitor would run them.
python3 -m playground train --device cuda --json > "$out/tutorial.json" 2> "$out/tutorial.log"; cat "$out/tutorial.json"
python3 -m playground train --device cuda --preset fast --json > "$out/fast.json" 2> "$out/fast.log"; cat "$out/fast.json"
