"""Read a file of time series into the internal form: ``read_file(path) -> (Collection, y)``.

Formats (by suffix unless ``format`` is given): ``.ts`` (UEA/UCR, aeon's reader), ``.arff``
(aeon's reader), ``.tsv`` (UCR 2018: label first, one univariate series per row, NaN or empty
cells after shorter series), ``.csv`` and ``.parquet`` (wide or long, see `tsea.data.csv_io`;
Parquet cells: `tsea.data.parquet.arrow_frame`).
Files without ids get their row numbers (0, 1, ...) as ids.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from .checks import TASKS, check_y
from .collection import Collection
from .convert import from_padded, to_collection
from .csv_io import (
    _labels,
    is_long_header,
    long_frame_to_series,
    long_layout,
    parse_values,
    read_csv_long,
    read_csv_wide,
    renumber_series,
    wide_frame_to_series,
    wide_layout,
)
from .csv_text import csv_header, iter_records

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


def tsv_records_to_series(path, records, *, task=None, labels=True, first=0):
    """Records (field lists) of a UCR .tsv file -> (Collection with ids, y or None): the step
    shared by :func:`read_tsv` (the whole file) and :mod:`tsea.data.stream` (chunks; ``first``:
    the number of the first record's series in the file, for ids and messages)."""
    width = max(len(r) for r in records)
    if width < 2:
        comma = next((k for k, r in enumerate(records) if "," in r[0]), None)
        if comma is not None:
            raise ValueError(
                f"{path}: row {comma + first + 1} ({records[comma][0]!r}) has commas but no tab: "
                "the file seems comma-separated, and a .tsv file must be tab-separated (convert "
                "it, e.g. pandas.read_csv(path, header=None).to_csv(new_path, sep='\\t', "
                "header=False, index=False))"
            )
        spaced = next((k for k, r in enumerate(records) if len(r[0].split()) > 1), None)
        if spaced is not None:
            raise ValueError(
                f"{path}: row {spaced + first + 1} ({records[spaced][0][:40]!r}) has spaces but "
                "no tab: a .tsv file must be tab-separated (convert it, e.g. "
                "pandas.read_csv(path, header=None, sep=r'\\s+').to_csv(new_path, sep='\\t', "
                "header=False, index=False))")
        raise ValueError(f"{path}: a UCR .tsv row needs a label and at least one value")
    cells = np.array([r + [""] * (width - len(r)) for r in records], dtype=object)
    y = cells[:, 0]
    missing = y == ""
    if labels and missing.any():
        raise ValueError(
            f"{path}: the label of series {int(np.argmax(missing)) + first} is missing"
        )
    values = np.empty((len(cells), width - 1), dtype=np.float64)
    for j in range(values.shape[1]):
        values[:, j], bad = parse_values(cells[:, j + 1])
        if bad is not None:
            raise ValueError(
                f"{path}: series {bad + first} (row {bad + first + 1}), step {j} (column {j + 2} "
                f"of the file, after the label) has non-numeric value {cells[bad, j + 1]!r}"
            )
    try:
        coll = from_padded(values[:, None, :], what=str(path))
    except ValueError as exc:
        raise renumber_series(exc, path, first) from None
    coll = replace(coll, ids=np.arange(first, first + coll.n_series).astype(object))
    return coll, (_labels(path, y, task, first) if labels else None)


def read_tsv(path, *, task=None, labels=True):
    """A UCR 2018 .tsv file: no header, label in the first column, then the steps.

    Labels are text (only an empty cell is missing); values are parsed exactly, an empty cell
    or ``NaN`` is a missing value; a non-numeric value is an error naming its row and column.
    """
    records = [record for _, record in iter_records(path, delimiter="\t")]
    if not records:
        raise ValueError(f"{path}: the file is empty (a UCR .tsv file has a row per series)")
    return tsv_records_to_series(path, records, task=task, labels=labels)


def read_parquet(path, *, label_column=None, id_column=None, task=None, labels=True):
    """A Parquet file, wide or long with the CSV layouts and column options (csv_io); its
    cells follow the CSV conventions as :func:`tsea.data.parquet.arrow_frame` says."""
    from .parquet import arrow_frame, parquet_file, refuse_index_columns

    pf = parquet_file(path)
    columns = list(pf.schema_arrow.names)
    if is_long_header(columns, id_column):
        layout = long_layout(path, columns, label_column=label_column, id_column=id_column)
        to_series, empty = long_frame_to_series, "the file has no rows"
    else:
        layout = wide_layout(path, columns, label_column=label_column, id_column=id_column)
        to_series, empty = wide_frame_to_series, "the file has no series"
    refuse_index_columns(path, pf.schema_arrow, layout)
    df = arrow_frame(path, pf.read(), layout)
    if len(df) == 0:
        raise ValueError(f"{path}: {empty}")
    return to_series(path, df, layout, task=task, labels=labels)


def read_file(path, *, format=None, label_column=None, id_column=None, task=None, labels=True):
    """Read ``path`` into ``(Collection, y or None)``; the collection's ``ids`` are series ids.

    format: one of FORMATS, or None to pick by suffix (``.csv``: long if the header has ``id``
    and ``time`` columns, wide otherwise). label_column / id_column: CSV and Parquet only (defaults:
    ``label`` or ``target``; ``id``). task: None, "classification" (labels keep their original
    values) or "regression" (targets cast to float). labels=False: the label column is still
    recognised (never read as a time step) but neither checked nor returned (``y`` is None), for
    callers that need no labels, such as embedding.
    """
    path = Path(path)
    if task is not None and task not in TASKS:
        raise ValueError(f"task must be None or one of {TASKS}, got {task!r}")
    fmt = format if format is not None else path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(
            f"{path}: unknown format {fmt!r}; supported: {FORMATS} (suffix .ts, .tsv, .arff, .csv, "
            ".parquet)"
        )
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    if fmt in ("ts", "tsv", "arff"):
        if label_column is not None or id_column is not None:
            raise ValueError(f"label_column/id_column apply to CSV files only, not .{fmt}")
        if fmt == "tsv":
            return read_tsv(path, task=task, labels=labels)
        coll, y = {"ts": read_ts, "arff": read_arff}[fmt](path, task=task)
        return coll, (y if labels else None)
    if fmt == "parquet":
        return read_parquet(
            path, label_column=label_column, id_column=id_column, task=task, labels=labels
        )
    if fmt == "csv":
        fmt = "csv_long" if is_long_header(csv_header(path), id_column) else "csv_wide"
    reader = read_csv_long if fmt == "csv_long" else read_csv_wide
    return reader(path, label_column=label_column, id_column=id_column, task=task, labels=labels)
