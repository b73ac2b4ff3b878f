"""``GridSearchCV(EAClassifier(...), n_jobs=2)``: how long a search takes with each estimator
``n_jobs``, when joblib's worker processes share the machine's cores.

    python benchmarks/grid_search_threads.py                      # n_jobs None, 1 and -1
    python benchmarks/grid_search_threads.py --iters 20 --settings None,-1

Each setting runs in a fresh subprocess, one after the other: GunPoint's training split, a
grid of two learning rates, ``cv=2`` (4 fits in 2 workers), ``n_iters`` pre-training steps per
fit, ``random_state=0``. ``-1`` asks every core for each fit (what ``None`` gave before it
followed ``OMP_NUM_THREADS``, which joblib sets in its workers). Reported: wall time and the
search's best score (the same for every setting: threads change speed, not results).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def worker(setting: str, iters: int, workers: int) -> dict:
    sys.path.insert(0, ROOT)
    from sklearn.model_selection import GridSearchCV

    import tsea

    X, y = tsea.datasets.load("GunPoint", split="train")
    n_jobs = None if setting == "None" else int(setting)
    search = GridSearchCV(tsea.EAClassifier(n_iters=iters, random_state=0, n_jobs=n_jobs),
                          {"lr": [1e-3, 3e-4]}, cv=2, n_jobs=workers)
    start = time.perf_counter()
    search.fit(X, y)
    return {"setting": setting, "seconds": time.perf_counter() - start,
            "best_score": float(search.best_score_)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--settings", default="None,1,-1", help="estimator n_jobs values")
    parser.add_argument("--iters", type=int, default=40, help="pre-training steps per fit")
    parser.add_argument("--workers", type=int, default=2, help="GridSearchCV's n_jobs")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        print(json.dumps(worker(args.worker, args.iters, args.workers)))
        return
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    print(f"GridSearchCV(n_jobs={args.workers}), 4 fits of {args.iters} steps, "
          f"{os.cpu_count()} CPUs")
    print("| estimator n_jobs | wall s | best score |\n|---|---:|---:|")
    for setting in args.settings.split(","):
        out = subprocess.run(
            [sys.executable, __file__, "--worker", setting, "--iters", str(args.iters),
             "--workers", str(args.workers)],
            check=True, capture_output=True, text=True, env=env,
        ).stdout
        row = json.loads(out.strip().splitlines()[-1])
        print(f"| {row['setting']} | {row['seconds']:.1f} | {row['best_score']:.4f} |", flush=True)


if __name__ == "__main__":
    main()
