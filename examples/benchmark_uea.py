"""Run the tsea archive benchmark from Python on UEA datasets.

    python examples/benchmark_uea.py                      # bundled BasicMotions, JapaneseVowels
    python examples/benchmark_uea.py /data/UEA            # every dataset folder in /data/UEA
    python examples/benchmark_uea.py /data/UEA --datasets Epilepsy,NATOPS --methods ea-dc,minirocket

The data directory uses the archive layout ``<dir>/<Name>/<Name>_TRAIN.ts`` (or .arff / .tsv).
Results go to ``--out`` (results.csv, results.md, plots/); rerunning resumes.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # source checkout
from tsea.benchmark.runner import run_benchmark  # noqa: E402

BUNDLED = ["BasicMotions", "JapaneseVowels"]


def datasets_in(data_dir: str) -> list[str]:
    """Names of the folders in ``data_dir`` that hold a ``<Name>_TRAIN`` file."""
    names = []
    for name in sorted(os.listdir(data_dir)):
        folder = os.path.join(data_dir, name)
        if os.path.isdir(folder) and any(f.startswith(f"{name}_TRAIN") for f in os.listdir(folder)):
            names.append(name)
    if not names:
        raise ValueError(f"no <Name>/<Name>_TRAIN.* dataset folders found in {data_dir}")
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", nargs="?", default=None, help="UEA archive folder")
    parser.add_argument("--datasets", default=None, help="comma-separated subset")
    parser.add_argument("--methods", default="ea-dc,minirocket,ts2vec")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--out", default="./tsea-benchmark-uea")
    args = parser.parse_args()

    if args.datasets:
        names = args.datasets  # run_benchmark parses the list (spaces, empty items, repeats)
    else:
        names = datasets_in(args.data_dir) if args.data_dir else BUNDLED
    rows = run_benchmark(datasets=names, methods=[args.methods], seeds=args.seeds,
                         out_dir=args.out, data_dir=args.data_dir, jobs=args.jobs)
    ok = rows[rows["status"] == "ok"]
    print(ok.pivot_table(index="dataset", columns="method", values="score").round(4))
    print(f"full report: {os.path.join(args.out, 'results.md')}")
    failed = rows[rows["status"].isin(["failed", "timeout"])]
    if len(failed):
        print(f"{len(failed)} of {len(rows)} jobs failed; see {os.path.join(args.out, 'results.csv')}")
    return 1 if len(failed) else 0


if __name__ == "__main__":  # required: jobs run in spawned worker processes
    sys.exit(main())
