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
import json
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


#: Every status a row may have.
STATUSES = (*DONE_STATUSES, "skipped")
#: Columns that hold numbers (empty where the job did not get that far).
NUMBER_COLUMNS = ("score", "fit_seconds", "transform_seconds", "peak_memory_mb", "n_train",
                  "n_test", "length", "channels")


def read_results(path: str) -> pd.DataFrame:
    """The results file as a DataFrame with exactly :data:`COLUMNS` (empty if absent).

    A file that is not one, or whose rows were damaged (by hand, or by another program), is a
    ValueError naming the file and the first bad row (1 = the first row under the header)."""
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return pd.DataFrame(columns=COLUMNS)
    try:
        df = pd.read_csv(path, dtype={"dataset": str, "method": str, "error": str},
                         keep_default_na=False, na_values={c: [""] for c in COLUMNS})
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} cannot be read as a tsea results file: "
                         f"{str(exc).strip()}") from None
    if list(df.columns) != COLUMNS:
        raise ValueError(
            f"{path} does not look like a tsea results file: columns {list(df.columns)}, "
            f"expected {COLUMNS}"
        )
    _check_rows(path, df)
    df["seed"] = df["seed"].astype(int)
    return df


def _check_rows(path: str, df: pd.DataFrame) -> None:
    def bad(mask, what: str):
        if mask.any():
            i = int(mask.to_numpy().nonzero()[0][0])
            raise ValueError(f"{path}, row {i + 1}: {what(i)}; the file was changed by hand or "
                             "by another program: mend or remove that row")

    for column in ("dataset", "method", "status"):
        bad(df[column].isna(), lambda i, c=column: f"no {c}")
    bad(~df["status"].isin(STATUSES),
        lambda i: f"status {df['status'].iloc[i]!r} is none of {', '.join(STATUSES)}")
    seeds = pd.to_numeric(df["seed"], errors="coerce")
    bad(seeds.isna() | (seeds != seeds.round()),
        lambda i: f"seed {df['seed'].iloc[i]!r} is not a whole number")
    for column in NUMBER_COLUMNS:
        given = df[column].notna()
        numbers = pd.to_numeric(df[column], errors="coerce")
        bad(given & numbers.isna(), lambda i, c=column: f"{c} {df[c].iloc[i]!r} is not a number")
    ok = df["status"] == "ok"
    bad(ok & (df["metric"].isna() | pd.to_numeric(df["score"], errors="coerce").isna()),
        lambda i: "status ok without a metric and a score")


def done_keys(path: str, retry_failed: bool = False) -> set[tuple[str, str, int]]:
    """The (dataset, method, seed) keys already finished in ``path``."""
    df = read_results(path)
    statuses = ("ok",) if retry_failed else DONE_STATUSES
    df = df[df["status"].isin(statuses)]
    return {(d, m, int(s)) for d, m, s in zip(df["dataset"], df["method"], df["seed"])}


def latest_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Keep the last row of each (dataset, method, seed): a retried job supersedes its failure."""
    return df.drop_duplicates(subset=["dataset", "method", "seed"], keep="last")


#: The file beside results.csv that records each method's kind and parameters.
METHODS_FILE = "methods.json"


def _read_methods(path: str) -> dict:
    if not os.path.exists(path):
        return {}
    try:
        with open(path, encoding="utf-8") as fh:
            known = json.load(fh)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} cannot be read ({exc}); it records the methods of the "
                         "results.csv beside it") from None
    if not isinstance(known, dict):
        raise ValueError(f"{path} is not a tsea methods file (not a JSON object)")
    return known


def _entries(specs) -> dict:
    return {s.name: json.loads(json.dumps({"kind": s.kind, "params": s.params})) for s in specs}


def check_methods(out_dir: str, specs) -> None:
    """ValueError when a method of ``specs`` is recorded in ``<out_dir>/methods.json`` with
    another kind or other parameters: a method is known in results.csv by its name alone, so
    the recorded rows would stand for (and be skipped for) the new ones."""
    known = _read_methods(os.path.join(out_dir, METHODS_FILE))
    for name, entry in _entries(specs).items():
        old = known.get(name)
        if old is not None and _settled(old) != _settled(entry):
            raise ValueError(
                f"method {name!r} was run into {out_dir} with other settings "
                f"({_difference(_settled(old), _settled(entry))}): its rows in results.csv "
                "would stand for this one. Give the config file another name, or use another "
                "--out")


#: Parameters of a method's config that the runner replaces (--seeds, --threads, quiet fits): a
#: change of them changes no result.
RUNNER_SET = ("random_state", "n_jobs", "verbose")


def _settled(entry):
    """A methods.json entry without the parameters of :data:`RUNNER_SET`."""
    if not isinstance(entry, dict) or not isinstance(entry.get("params"), dict):
        return entry
    return {**entry, "params": {k: v for k, v in entry["params"].items() if k not in RUNNER_SET}}


def record_methods(out_dir: str, specs) -> None:
    """:func:`check_methods`, then add ``specs`` to ``<out_dir>/methods.json``."""
    path = os.path.join(out_dir, METHODS_FILE)
    with _LOCK, _file_lock(path):
        check_methods(out_dir, specs)
        known = {**_read_methods(path), **_entries(specs)}
        atomic_write_text(path, json.dumps(known, indent=1, sort_keys=True) + "\n")


#: The file beside results.csv that records the folder the datasets were read from.
DATA_FILE = "data.json"


def _data_source(data_dir) -> dict:
    """The user's data folder of a run (``--data-dir``, else ``TSEA_DATA``), absolute, or None
    when only the bundled and downloaded copies are read."""
    user = data_dir if data_dir is not None else os.environ.get("TSEA_DATA") or None
    return {"data_dir": None if user is None else os.path.abspath(user)}


def check_data_source(out_dir: str, data_dir) -> None:
    """ValueError when ``<out_dir>/data.json`` records another data folder: a job is known in
    results.csv by (dataset, method, seed) alone, so rows of other files of the same names
    would stand for (and be skipped for) this run's."""
    path = os.path.join(out_dir, DATA_FILE)
    if not os.path.exists(path):
        return
    try:
        with open(path, encoding="utf-8") as fh:
            old = json.load(fh)["data_dir"]
    except (ValueError, UnicodeDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} cannot be read ({exc!r}); it records the data folder of the "
                         "results.csv beside it") from None
    new = _data_source(data_dir)["data_dir"]
    if old != new:
        def name(folder):
            return "no data folder (the bundled and downloaded copies)" if folder is None \
                else folder
        raise ValueError(f"{out_dir} holds results of datasets read from {name(old)}, and this "
                         f"run reads them from {name(new)}: its rows would stand for this run's. "
                         "Use another --out, or the same --data-dir")


def record_data_source(out_dir: str, data_dir) -> None:
    """:func:`check_data_source`, then write ``<out_dir>/data.json``."""
    path = os.path.join(out_dir, DATA_FILE)
    with _LOCK, _file_lock(path):
        check_data_source(out_dir, data_dir)
        atomic_write_text(path, json.dumps(_data_source(data_dir), indent=1) + "\n")


def _difference(old, new) -> str:
    """'key: then X, now Y' for each setting that differs."""
    flat = [{"kind": e.get("kind"), **(e.get("params") or {})} if isinstance(e, dict) else
            {"entry": e} for e in (old, new)]
    keys = sorted(set(flat[0]) | set(flat[1]))
    gone = object()
    return "; ".join(
        f"{k}: then {'unset' if flat[0].get(k, gone) is gone else repr(flat[0][k])}, now "
        f"{'unset' if flat[1].get(k, gone) is gone else repr(flat[1][k])}"
        for k in keys if flat[0].get(k, gone) != flat[1].get(k, gone))
