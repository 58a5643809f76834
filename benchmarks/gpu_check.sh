#!/usr/bin/env bash
# Every GPU figure in one call, for a host with a CUDA device (run from the project root,
# after `make setup`): the embedder's own crops/s through facerec's Embedder in fp32 and fp16
# (channels-last; what `--precision auto` picks on a GPU), then the throughput benchmark on
# the device with the shared photos repeated. Prints everything; writes nothing.
#   DEVICE=cuda:1 REPEAT=20 benchmarks/gpu_check.sh
# DEVICE=cpu REPEAT=1 runs the same steps on the CPU with small batches, to check the script.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
DEVICE=${DEVICE:-cuda}
REPEAT=${REPEAT:-20}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
$PY - "$DEVICE" <<'PY'
import sys
import time

import torch

from facerec.compute.models.embedder import Embedder

device = sys.argv[1]
batches = (1, 64, 256) if device.startswith("cuda") else (1, 8)
for precision in ("fp32", "fp16"):
    embedder = Embedder(None, device, precision=precision)
    for batch in batches:
        crops = torch.randn(batch, 3, 160, 160)  # standardised crops, as EMBED tasks become
        for _ in range(3):
            embedder.embed(crops)
        start, rounds = time.perf_counter(), 0
        while rounds < 3 or time.perf_counter() - start < 2.0:
            embedder.embed(crops)  # host to device, the network, back: what a task costs
            rounds += 1
        rate = rounds * batch / (time.perf_counter() - start)
        print(f"embedder {embedder.runtime} on {device}, batch {batch}: {rate:.0f} crops/s")
PY
$PY benchmarks/throughput.py --device "$DEVICE" --repeat "$REPEAT" --threads 4 -- --workers 4
