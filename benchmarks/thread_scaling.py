"""A lone fit and a lone embed with 1 thread and with more: what the default ``n_jobs``
should be for a user alone on a machine.

    python benchmarks/thread_scaling.py                   # threads 1 and all cores
    python benchmarks/thread_scaling.py --threads 1,2,4,8 --fit-iters 20

Each (job, threads) runs in a fresh subprocess, one after the other, alternating thread counts
twice (a shared machine disturbs them alike); reported: best wall time, speed-up over one
thread, and the efficiency (speed-up / threads).

- fit: ``EAEncoder`` defaults (batch 8), ``n_iters`` iterations on 200 univariate
  series of length L (random walks), ``n_jobs`` = threads.
- embed: ``transform`` of n series of length L with a saved model, ``n_jobs`` = threads.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _data(n, length):
    import numpy as np

    return np.random.default_rng(0).standard_normal((n, 1, length)).cumsum(-1).astype(np.float32)


def worker(job: str, threads: int, length: int, n: int, iters: int, model: str) -> dict:
    sys.path.insert(0, ROOT)
    from tsea import EAEncoder

    if job == "fit":
        X = _data(200, length)
        enc = EAEncoder(n_iters=iters, random_state=0, verbose=False, device="cpu",
                        n_jobs=threads)
        start = time.perf_counter()
        enc.fit(X)
        seconds = time.perf_counter() - start
        if model:
            enc.save(model)
    else:
        enc = EAEncoder.load(model)
        enc.n_jobs = threads
        X = _data(n, length)
        enc.transform(X[:16])
        start = time.perf_counter()
        enc.transform(X)
        seconds = time.perf_counter() - start
    return {"job": job, "threads": threads, "seconds": seconds}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", nargs=6, help=argparse.SUPPRESS)
    parser.add_argument("--threads", default=f"1,{os.cpu_count() or 1}")
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--n", type=int, default=600, help="series embedded")
    parser.add_argument("--fit-iters", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--omp-wait-policy", choices=("PASSIVE", "ACTIVE"),
                        help="OMP_WAIT_POLICY of the runs (default: the runtime's, spinning)")
    args = parser.parse_args(argv)
    if args.worker:
        job, threads, length, n, iters, model = args.worker
        print(json.dumps(worker(job, int(threads), int(length), int(n), int(iters), model)))
        return 0
    model = os.path.join(tempfile.gettempdir(), "tsea_thread_scaling.tsea")
    threads = [int(t) for t in args.threads.split(",")]
    best: dict = {}
    for _ in range(args.rounds):
        for job in ("fit", "embed"):
            for t in threads:
                env = dict(os.environ, OMP_NUM_THREADS=str(t), PYTHONWARNINGS="ignore")
                if args.omp_wait_policy:
                    env["OMP_WAIT_POLICY"] = args.omp_wait_policy
                out = subprocess.run(
                    [sys.executable, os.path.abspath(__file__), "--worker", job, str(t),
                     str(args.length), str(args.n), str(args.fit_iters), model],
                    capture_output=True, text=True, env=env, check=True)
                row = json.loads(out.stdout.strip().splitlines()[-1])
                print(json.dumps(row), file=sys.stderr, flush=True)
                key = (job, t)
                best[key] = min(best.get(key, float("inf")), row["seconds"])
    print("| job | threads | best wall s | speed-up | efficiency |")
    print("|---|---|---|---|---|")
    for job in ("fit", "embed"):
        base = best[(job, threads[0])]
        for t in threads:
            s = best[(job, t)]
            print(f"| {job} | {t} | {s:.1f} | {base / s:.2f} | {base / s / t * threads[0]:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
