"""One benchmark job — (dataset, method, seed) — run in a fresh worker process.

Peak memory is measured honestly by giving every job its own freshly *spawned* Python
process (``multiprocessing`` spawn context: nothing is inherited from the parent) and reading
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` in it when the job ends: the peak resident set
of that process, i.e. the interpreter and imported libraries (torch, ...) plus the data,
the model and everything the job allocated. A job that runs past its time limit is killed and
recorded with status ``timeout``; a worker that dies (e.g. killed for memory) is recorded as
``failed`` with its exit code.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
import threading
import traceback

import numpy as np

from tsea.benchmark.methods import MethodSpec, fit_predict
from tsea.benchmark.scores import score, unseen_labels_note
from tsea.datasets import infer_task
from tsea.utils import thread_limit

#: The start of the error of a job whose worker process ended without a result.
DIED = "worker process died with exit code"


def default_loader(name: str, split: str, data_dir=None):
    from tsea.datasets import load

    return load(name, split=split, data_dir=data_dir)


def _shape_info(X) -> tuple[int, int, int]:
    """(n, channels, longest length) of an aeon-convention collection."""
    if isinstance(X, np.ndarray):
        if X.ndim == 2:
            return X.shape[0], 1, X.shape[1]
        return X.shape[0], X.shape[1], X.shape[2]
    shapes = [np.shape(s) for s in X]
    channels = {1 if len(s) == 1 else s[0] for s in shapes}
    return len(shapes), max(channels), max(s[-1] for s in shapes)


def peak_memory_mb() -> float:
    import resource

    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 if sys.platform != "darwin" else kb / 2**20


def run_job(dataset: str, spec: MethodSpec, seed: int, *, data_dir=None, loader=None,
            threads=None) -> dict:
    """Load ``dataset``, fit and score ``spec`` with ``seed`` in this process; returns a
    results row (``status`` ``ok`` or ``failed`` with the error); never raises for job errors."""
    row = {"dataset": dataset, "method": spec.name, "seed": seed, "status": "failed"}
    try:
        # ``threads`` torch threads and BLAS/OpenMP threads (numpy, scikit-learn) per job
        with thread_limit(int(threads) if threads else None, blas=True):
            load = loader or default_loader
            X_train, y_train = load(dataset, "train", data_dir)
            X_test, y_test = load(dataset, "test", data_dir)
            n_train, channels, l_train = _shape_info(X_train)
            n_test, _, l_test = _shape_info(X_test)
            task = infer_task(y_train, dataset)
            row.update(task=task, n_train=n_train, n_test=n_test, channels=channels,
                       length=max(l_train, l_test))
            if task == "classification":
                row["note"] = unseen_labels_note(y_train, y_test)  # said, not recorded
            y_pred, fit_s, transform_s = fit_predict(spec, X_train, y_train, X_test, task, seed,
                                                     threads=threads)
        metric, value = score(task, y_test, y_pred)
        row.update(metric=metric, score=value, fit_seconds=round(fit_s, 3),
                   transform_seconds=round(transform_s, 3), status="ok", error="")
    except Exception as exc:  # recorded, the run goes on
        last = traceback.extract_tb(exc.__traceback__)[-1:] or None
        where = f" ({os.path.basename(last[0].filename)}:{last[0].lineno})" if last else ""
        row["error"] = f"{type(exc).__name__}: {exc}{where}".replace("\n", " ")[:2000]
    return row


def _exit_with(parent: int) -> None:
    """End this worker when the runner that started it (process ``parent``) is gone: killed
    with SIGKILL, it cannot kill its workers, which would run on past any time limit."""
    import time

    def watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="tsea-parent-watch").start()


def _child(conn, dataset, spec, seed, data_dir, loader, threads, parent=None):
    if parent is not None:
        _exit_with(parent)
    try:
        row = run_job(dataset, spec, seed, data_dir=data_dir, loader=loader, threads=threads)
        row["peak_memory_mb"] = round(peak_memory_mb(), 1)
        conn.send(row)
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: no result, not a failure
        conn.send({"dataset": dataset, "method": spec.name, "seed": seed,
                   "status": "interrupted"})
    finally:
        conn.close()


def run_isolated(dataset: str, spec: MethodSpec, seed: int, *, data_dir=None, loader=None,
                 threads=None, timeout=None) -> dict:
    """:func:`run_job` in a fresh spawned process (see the module docstring)."""
    ctx = multiprocessing.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, daemon=True,
                       args=(send, dataset, spec, seed, data_dir, loader, threads, os.getpid()))
    proc.start()
    with _LIVE_LOCK:
        _LIVE.add(proc)
    send.close()
    row = None
    if recv.poll(timeout):
        try:
            row = recv.recv()
        except EOFError:
            row = None
    proc.join(5 if row is not None else 0.1)
    status, error = "failed", None
    if proc.is_alive():
        proc.kill()
        proc.join()
        if row is None:
            status, error = "timeout", f"killed after the {timeout} s time limit"
    if row is None:
        if error is None:
            error = f"{DIED} {proc.exitcode}"
        row = {"dataset": dataset, "method": spec.name, "seed": seed, "status": status,
               "error": error, "peak_memory_mb": math.nan}
    recv.close()
    with _LIVE_LOCK:
        _LIVE.discard(proc)
    return row


_LIVE: set = set()  # the workers of this process's running jobs
_LIVE_LOCK = threading.Lock()


def stop_workers() -> None:
    """Kill the workers of the running jobs, for an interrupted run. A terminal's Ctrl-C
    reaches the workers of the moment; one started an instant after it would not hear of it,
    and its job would hold the run until it ended."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for proc in live:
        if proc.is_alive():
            proc.kill()
