"""Embedding throughput: series/s and peak RSS of tsea, TS2Vec's encode and MiniRocket's
transform, with one thread and with all cores.

    python benchmarks/embed_speed.py                      # L = 128, 512, 4096; 1 and all threads
    python benchmarks/embed_speed.py --lengths 512 --threads 1 --scale 0.5

Every (method, length, threads) runs in a fresh subprocess, so its peak resident memory (the
process's high-water RSS, ``ru_maxrss``) is its own; the three methods run back to back for
each (length, threads), so that a shared machine disturbs them alike, and the table gives the
ratio tsea / TS2Vec. Series/s is the best of ``--repeats`` wall-clock timings of one call on
``n`` series (univariate random walks of length L, float32), after a warm-up call; the ratio
per CPU-second (process CPU time: robust to other load on a shared machine, and with one
thread the same quantity) is given alongside.

- tsea: ``EAEncoder`` with the default parameters (``configs/default.yaml``), fitted for one
  iteration in a separate process (speed does not depend on the weights) and saved; the timed
  process loads it (as ``tsea embed`` does) and runs ``transform(X)`` (max pooling),
  ``n_jobs`` = threads.
- TS2Vec: the reference package ``ts2vec`` (default sizes: depth 10, width 64, output 320),
  untrained, ``encode(X, encoding_window="full_series")`` with its default batch size 16.
- MiniRocket: aeon's ``MiniRocket`` (10,000 kernels), fitted on 64 series, ``transform(X)``,
  ``n_jobs`` = threads (numba threads).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METHODS = ("tsea", "ts2vec", "minirocket")


def _data(n: int, length: int):
    import numpy as np

    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 1, length)).cumsum(-1).astype(np.float32)


def _runner(method: str, length: int, threads: int):
    """A function X -> embeddings, ready (model built, warmed up)."""
    import torch

    torch.set_num_threads(threads)
    if method == "tsea":
        sys.path.insert(0, ROOT)
        from tsea import EAEncoder

        enc = EAEncoder.load(_model_path(length))  # as `tsea embed` does: no fit in this process
        enc.n_jobs = threads
        return enc.transform
    if method == "ts2vec":
        from ts2vec import TS2Vec

        model = TS2Vec(input_dims=1, device="cpu")
        return lambda X: model.encode(X.transpose(0, 2, 1), encoding_window="full_series")
    if method == "minirocket":
        from aeon.transformations.collection.convolution_based import MiniRocket

        mr = MiniRocket(n_kernels=10_000, random_state=0, n_jobs=threads)
        mr.fit(_data(64, length))
        return mr.transform
    raise ValueError(method)


def _model_path(length: int) -> str:
    import tempfile

    return os.path.join(tempfile.gettempdir(), f"tsea_embed_speed_L{length}.tsea")


def prepare(length: int) -> None:
    """Fit (one iteration) and save the default encoder for series of ``length`` steps."""
    sys.path.insert(0, ROOT)
    from tsea import EAEncoder

    enc = EAEncoder(n_iters=1, batch_size=4, random_state=0, verbose=False, device="cpu")
    enc.fit(_data(8, length)).save(_model_path(length))


def worker(method: str, length: int, threads: int, n: int, repeats: int) -> dict:
    X = _data(n, length)
    run = _runner(method, length, threads)
    run(X[: min(n, 16)])  # warm-up (numba compilation, allocator)
    best, best_cpu = float("inf"), float("inf")
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        run(X)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"method": method, "length": length, "threads": threads, "n": n,
            "series_per_s": n / best, "series_per_cpu_s": n / best_cpu, "peak_rss_mb": rss_mb}


def _spawn(method, length, threads, n, repeats, timeout):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               NUMBA_NUM_THREADS=str(threads), PYTHONWARNINGS="ignore")
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", method, str(length),
           str(threads), str(n), str(repeats)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"method": method, "length": length, "threads": threads, "error": "timeout"}
    if out.returncode != 0:
        tail = out.stderr.strip().splitlines()[-1:] or ["?"]
        return {"method": method, "length": length, "threads": threads, "error": tail[0]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(rows) -> str:
    by = {(r["method"], r["length"], r["threads"]): r for r in rows}
    keys = sorted({(r["length"], r["threads"]) for r in rows})
    lines = ["| L | threads | tsea series/s | TS2Vec series/s | tsea / TS2Vec | MiniRocket "
             "series/s | tsea / TS2Vec per CPU-second | peak RSS MB (tsea / TS2Vec / "
             "MiniRocket) |",
             "|---|---|---|---|---|---|---|---|"]
    for length, threads in keys:
        cells = [by.get((m, length, threads), {}) for m in METHODS]
        rate = [f"{c['series_per_s']:.1f}" if "series_per_s" in c else c.get("error", "-")
                for c in cells]
        rss = [f"{c['peak_rss_mb']:.0f}" if "peak_rss_mb" in c else "-" for c in cells]
        ratio = cpu_ratio = "-"
        if "series_per_s" in cells[0] and "series_per_s" in cells[1]:
            ratio = f"{cells[0]['series_per_s'] / cells[1]['series_per_s']:.2f}"
            cpu_ratio = f"{cells[0]['series_per_cpu_s'] / cells[1]['series_per_cpu_s']:.2f}"
        lines.append(f"| {length} | {threads} | {rate[0]} | {rate[1]} | {ratio} | {rate[2]} | "
                     f"{cpu_ratio} | {' / '.join(rss)} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", nargs=5, metavar=("METHOD", "L", "THREADS", "N", "REPEATS"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--prepare", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--lengths", default="128,512,4096")
    parser.add_argument("--threads", default=f"1,{os.cpu_count() or 1}",
                        help="comma-separated thread counts (default: 1 and all cores)")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--scale", type=float, default=1.0,
                        help="series per run: scale x 200,000 / L (at least 32)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=900, help="seconds per run")
    parser.add_argument("--json", help="also write the raw rows to this file")
    args = parser.parse_args(argv)
    if args.prepare:
        prepare(args.prepare)
        return 0
    if args.worker:
        method, length, threads, n, repeats = args.worker
        print(json.dumps(worker(method, int(length), int(threads), int(n), int(repeats))))
        return 0
    rows = []
    for length in [int(v) for v in args.lengths.split(",")]:
        n = max(32, int(args.scale * 200_000 / length))
        if "tsea" in args.methods.split(","):
            subprocess.run([sys.executable, os.path.abspath(__file__), "--prepare", str(length)],
                           check=True, capture_output=True)
        for threads in sorted({int(v) for v in args.threads.split(",")}):
            for method in args.methods.split(","):
                row = _spawn(method, length, threads, n, args.repeats, args.timeout)
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=1)
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
