#!/usr/bin/env bash
# Runs every benchmark in bench/ and rewrites its section of docs/BENCHMARKS.md.
# SIPSEC_BENCH_MS sets the time per measured cell (default 600 ms).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
for bench in dist/bench/*.bench.js; do
  echo "bench: $bench" >&2
  # --expose-gc: call-retention.bench forces collections before it reads the heap.
  node --expose-gc "$bench"
done
