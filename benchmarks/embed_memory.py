"""Peak memory of ``tsea embed`` (or ``tsea predict``) on a wide CSV as the number of series
grows.

    python benchmarks/embed_memory.py                       # 200,000 and 400,000 series
    python benchmarks/embed_memory.py --series 50000,100000 --dir /tmp/embed-mem
    python benchmarks/embed_memory.py --predict             # tsea predict --proba instead

Writes wide CSV files (``id`` + 64 random-walk steps with 4 decimals: 99 MB for 200,000
series), fits the tiny preset on the first 2,000 rows (``tsea fit --config tiny``), then runs
``tsea embed FILE -o FILE.npy --quiet`` once per size, each under its own watcher process
whose ``RUSAGE_CHILDREN`` high-water RSS is the embed's peak. Streaming means the peak must not
grow with the number of series. ``--predict``: the training rows get a label (the sign of the
walk's last step), the model is a classifier (``tsea fit --head logistic``), and each file goes
through ``tsea predict FILE -o FILE.pred.csv --proba --quiet``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_csv(path: str, n: int, steps: int = 64, labels: bool = False) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    with open(path, "w", encoding="utf-8") as f:
        f.write("id," + ("label," if labels else "") + ",".join(f"t{j}" for j in range(steps)) + "\n")
        for start in range(0, n, 20_000):
            k = min(20_000, n - start)
            X = rng.normal(size=(k, steps)).cumsum(1)
            f.write("".join(
                f"s{start + i}," + (("up," if row[-1] > 0 else "down,") if labels else "")
                + ",".join(f"{v:.4f}" for v in row) + "\n"
                for i, row in enumerate(X)))


def tsea(*args) -> list[str]:
    return [sys.executable, "-m", "tsea.cli", *map(str, args)]


def watch(cmd) -> None:
    """Run ``cmd`` and print its peak RSS (MB) and wall time: the watcher's only child."""
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{peak:.0f} {seconds:.1f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", default="200000,400000")
    parser.add_argument("--dir", default="embed-memory")
    parser.add_argument("--predict", action="store_true",
                        help="measure tsea predict with a classifier instead of tsea embed")
    parser.add_argument("--watch", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.watch:
        watch(args.watch)
        return 0
    os.makedirs(args.dir, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    train = os.path.join(args.dir, "train.csv")
    write_csv(train, 2000, labels=args.predict)
    model = os.path.join(args.dir, "tiny-clf.tsea" if args.predict else "tiny.tsea")
    head = ["--head", "logistic"] if args.predict else []
    subprocess.run(tsea("fit", "--data", train, "--config", "tiny", *head, "--out", model,
                        "--quiet"), check=True, env=env)
    print("| series | CSV MB | peak RSS MB | wall s |")
    print("|---|---|---|---|")
    for n in [int(v) for v in args.series.split(",")]:
        path = os.path.join(args.dir, f"wide_{n}.csv")
        if not os.path.exists(path):
            write_csv(path, n)
        out = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--watch",
             *(tsea("predict", "--model", model, path, "-o", path + ".pred.csv", "--proba",
                    "--quiet") if args.predict else
               tsea("embed", "--model", model, path, "-o", path + ".npy", "--quiet"))],
            check=True, env=env, capture_output=True, text=True)
        peak, seconds = out.stdout.split()
        size = os.path.getsize(path) / 1e6
        print(f"| {n:,} | {size:.0f} | {peak} | {seconds} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
