#!/usr/bin/env bash
# Every GPU figure in one call, for a host with a CUDA device (run from the project root,
# after `make setup`): the throughput benchmark on cuda with the shared photos repeated, and
# the embedder's own crops/s on cuda in fp32 and fp16. Prints everything; writes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
REPEAT=${REPEAT:-20}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
$PY - <<'PY'
import time, torch
from facerec.compute.models.embedder import Embedder
e = Embedder(None, "cuda")
for dtype in (torch.float32, torch.float16):
    model = e.model.to(dtype=dtype, memory_format=torch.channels_last)
    for batch in (64, 256):
        x = torch.randn(batch, 3, 160, 160, device="cuda", dtype=dtype)
        x = x.to(memory_format=torch.channels_last)
        with torch.inference_mode():
            for _ in range(3):
                model(x)
            torch.cuda.synchronize()
            start = time.perf_counter()
            for _ in range(20):
                model(x)
            torch.cuda.synchronize()
        rate = 20 * batch / (time.perf_counter() - start)
        print(f"embedder {str(dtype).removeprefix('torch.')} batch {batch}: {rate:.0f} crops/s")
PY
$PY benchmarks/throughput.py --device cuda --repeat "$REPEAT" --threads 4 -- --workers 4
