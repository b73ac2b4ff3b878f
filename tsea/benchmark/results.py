"""The results file of a benchmark run: one CSV row per (dataset, method, seed).

Rows are added with :func:`append_row`, which rewrites the whole file to a temporary file
and moves it into place with ``os.replace``: a crash (or a kill) at any moment leaves either
the old file or the new one, never a half-written line. The read-modify-replace runs under a
thread lock and, where the platform has ``fcntl``, an exclusive lock on ``<path>.lock``, so
several ``tsea benchmark`` processes may share one results file without losing rows.
"""

from __future__ import annotations

import csv
import io
import math
import os
import threading
from contextlib import contextmanager

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: thread lock only
    fcntl = None

import pandas as pd

from tsea.utils import atomic_write_text

COLUMNS = [
    "dataset",
    "task",
    "method",
    "seed",
    "metric",
    "score",
    "fit_seconds",
    "transform_seconds",
    "peak_memory_mb",
    "n_train",
    "n_test",
    "length",
    "channels",
    "status",
    "error",
]

# Rows with these statuses count as done: a rerun skips them. "skipped" rows (e.g. a
# baseline whose package is not installed) are retried on every run.
DONE_STATUSES = ("ok", "failed", "timeout")

_LOCK = threading.Lock()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return repr(value)
    return str(value)


def format_row(row: dict) -> str:
    """One CSV line (with newline) for ``row``; unknown keys are an error."""
    unknown = set(row) - set(COLUMNS)
    if unknown:
        raise ValueError(f"unknown result columns {sorted(unknown)}; expected {COLUMNS}")
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([_cell(row.get(c)) for c in COLUMNS])
    return buf.getvalue()


@contextmanager
def _file_lock(path: str):
    """Exclusive lock shared by every process appending to ``path`` (no-op without fcntl)."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    with open(f"{path}.lock", "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def append_row(path: str, row: dict) -> None:
    """Add ``row`` to the CSV at ``path`` atomically (header written when the file is new)."""
    line = format_row(row)
    with _LOCK, _file_lock(path):
        old = ""
        if os.path.exists(path):
            with open(path, encoding="utf-8") as fh:
                old = fh.read()
        if not old:
            old = ",".join(COLUMNS) + "\n"
        elif not old.endswith("\n"):
            old += "\n"
        atomic_write_text(path, old + line)


def read_results(path: str) -> pd.DataFrame:
    """The results file as a DataFrame with exactly :data:`COLUMNS` (empty if absent)."""
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return pd.DataFrame(columns=COLUMNS)
    df = pd.read_csv(path, dtype={"dataset": str, "method": str, "error": str})
    if list(df.columns) != COLUMNS:
        raise ValueError(
            f"{path} does not look like a tsea results file: columns {list(df.columns)}, "
            f"expected {COLUMNS}"
        )
    df["seed"] = df["seed"].astype(int)
    return df


def done_keys(path: str, retry_failed: bool = False) -> set[tuple[str, str, int]]:
    """The (dataset, method, seed) keys already finished in ``path``."""
    df = read_results(path)
    statuses = ("ok",) if retry_failed else DONE_STATUSES
    df = df[df["status"].isin(statuses)]
    return {(d, m, int(s)) for d, m, s in zip(df["dataset"], df["method"], df["seed"])}


def latest_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Keep the last row of each (dataset, method, seed): a retried job supersedes its failure."""
    return df.drop_duplicates(subset=["dataset", "method", "seed"], keep="last")
