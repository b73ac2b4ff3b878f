"""Read a file of time series into the internal form: ``read_file(path) -> (Collection, y)``.

Formats (by suffix unless ``format`` is given): ``.ts`` (UEA/UCR, aeon's reader), ``.arff``
(aeon's reader), ``.tsv`` (UCR 2018: label first, one univariate series per row, NaN or empty
cells after shorter series), ``.csv`` and ``.parquet`` (wide or long, see `tsea.data.csv_io`).
Files without ids get their row numbers (0, 1, ...) as ids.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from .checks import TASKS, check_y
from .collection import Collection
from .convert import from_padded, to_collection
from .csv_io import (
    csv_header,
    is_long_header,
    long_frame_to_series,
    long_layout,
    read_csv_long,
    read_csv_wide,
    wide_frame_to_series,
    wide_layout,
)

FORMATS = ("ts", "tsv", "arff", "csv", "csv_wide", "csv_long", "parquet")


def _with_row_ids(coll: Collection) -> Collection:
    return replace(coll, ids=np.arange(coll.n_series).astype(object))


def _targets(path, y, task):
    if y is None or len(y) == 0:
        return None
    if task == "regression":
        return check_y(np.asarray(y, dtype=object), len(y), "regression", what=f"{path} targets")
    y = np.asarray(y)
    if y.dtype == object and all(isinstance(v, str) for v in y):
        y = y.astype(str)
    return y


def _aeon_call(path, fn, **kwargs):
    try:
        return fn(str(path), **kwargs)
    except (OSError, ValueError, TypeError, IndexError, KeyError) as e:
        raise ValueError(f"{path}: could not be read ({type(e).__name__}: {e})") from None


def read_ts(path, *, task=None):
    """A .ts file (UEA/UCR), read by aeon; the file's metadata decides the default task."""
    from aeon.datasets import load_from_ts_file

    X, y, meta = _aeon_call(path, load_from_ts_file, return_meta_data=True)
    if len(X) == 0:
        raise ValueError(f"{path}: could not be read (no series found; is it a .ts file?)")
    if task is None and meta.get("targetlabel"):
        task = "regression"
    if not (meta.get("classlabel") or meta.get("targetlabel")):
        y = None
    if task == "regression" and y is not None:
        y = np.asarray(y, dtype=object)
    coll = _with_row_ids(to_collection(X, what=str(path)))
    return coll, _targets(path, y, task)


def read_arff(path, *, task=None):
    """An .arff file (UEA/UCR, Weka layout), read by aeon."""
    from aeon.datasets import load_from_arff_file

    X, y = _aeon_call(path, load_from_arff_file)
    return _with_row_ids(to_collection(X, what=str(path))), _targets(path, y, task)


def tsv_frame_to_series(path, df, *, task=None, first=0):
    """Rows of a UCR .tsv table (label first) -> (Collection, y); shared with the streaming
    reader (``first``: index of the first row's series in the file)."""
    if df.shape[1] < 2:
        raise ValueError(f"{path}: a UCR .tsv row needs a label and at least one value")
    df = df.copy()
    labels = df.pop(df.columns[0]).to_numpy(dtype=object)
    missing = pd.isna(labels)
    if missing.any():
        raise ValueError(f"{path}: the label of series {int(np.argmax(missing)) + first} is missing")
    values = df.to_numpy()
    ids = np.arange(first, first + len(df)).astype(object)
    coll = replace(from_padded(values[:, None, :], what=str(path)), ids=ids)
    return coll, _targets(path, labels, task)


def read_tsv(path, *, task=None):
    """A UCR 2018 .tsv file: no header, label in the first column, then the steps."""
    try:
        df = pd.read_csv(path, sep="\t", header=None, dtype={0: str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as e:
        raise ValueError(f"{path}: could not be read as a UCR .tsv file ({e})") from None
    return tsv_frame_to_series(path, df, task=task)


def read_parquet(path, *, label_column=None, id_column=None, task=None):
    """A Parquet file, wide or long with the CSV layouts and column options (csv_io)."""
    from .stream import _parquet_file

    pf = _parquet_file(path)
    columns = list(pf.schema_arrow.names)
    df = pf.read().to_pandas()
    if len(df) == 0:
        raise ValueError(f"{path}: the file has no rows")
    if is_long_header(columns, id_column):
        layout = long_layout(path, columns, label_column=label_column, id_column=id_column)
        return long_frame_to_series(path, df, layout, task=task)
    layout = wide_layout(path, columns, label_column=label_column, id_column=id_column)
    return wide_frame_to_series(path, df, layout, task=task)


def read_file(path, *, format=None, label_column=None, id_column=None, task=None):
    """Read ``path`` into ``(Collection, y or None)``; the collection's ``ids`` are series ids.

    format: one of FORMATS, or None to pick by suffix (``.csv``: long if the header has ``id``
    and ``time`` columns, wide otherwise). label_column / id_column: CSV only (defaults:
    ``label`` or ``target``; ``id``). task: None, "classification" (labels keep their original
    values) or "regression" (targets cast to float).
    """
    path = Path(path)
    if task is not None and task not in TASKS:
        raise ValueError(f"task must be None or one of {TASKS}, got {task!r}")
    fmt = format if format is not None else path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(
            f"{path}: unknown format {fmt!r}; supported: {FORMATS} (suffix .ts, .tsv, .arff, .csv, .parquet)"
        )
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    if fmt in ("ts", "tsv", "arff"):
        if label_column is not None or id_column is not None:
            raise ValueError(f"label_column/id_column apply to CSV files only, not .{fmt}")
        return {"ts": read_ts, "tsv": read_tsv, "arff": read_arff}[fmt](path, task=task)
    if fmt == "parquet":
        return read_parquet(path, label_column=label_column, id_column=id_column, task=task)
    if fmt == "csv":
        fmt = "csv_long" if is_long_header(csv_header(path), id_column) else "csv_wide"
    reader = read_csv_long if fmt == "csv_long" else read_csv_wide
    return reader(path, label_column=label_column, id_column=id_column, task=task)
