"""CSV files of time series, wide and long layouts (rules in datasets/README.md).

Wide: a header row; a row per series; optional ``id`` and label (``label`` or ``target``)
columns; every other column is a time step, in file order. Univariate only. Ragged rows
are padded by empty cells (read as NaN, trailing ones are padding).

Long: a header row with ``id``, ``time``, optional label column, then one column per channel;
a row per (series, time step); rows may come in any order (sorted by time within each id);
series keep the order of first appearance; duplicate (id, time) is an error.

Ids and labels are read as text, so they keep their original values; regression targets
(``task="regression"``) are cast to float.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .checks import check_y
from .convert import from_padded, to_collection

LABEL_NAMES = ("label", "target")
ID_NAME = "id"
TIME_NAME = "time"


def is_long_header(columns, id_column=None) -> bool:
    """Long layout iff the header has an id (``id`` or ``id_column``) and a ``time`` column."""
    return (id_column or ID_NAME) in columns and TIME_NAME in columns


def csv_header(path) -> list[str]:
    try:
        return list(pd.read_csv(path, nrows=0).columns)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: not a readable CSV file ({e})") from None


def _pick(path, columns, given, defaults, role) -> str | None:
    if given is not None:
        if given not in columns:
            raise ValueError(f"{path}: {role} column {given!r} not in the header {columns}")
        return given
    return next((c for c in defaults if c in columns), None)


def read_options(text_columns) -> dict:
    """``pd.read_csv`` options of every CSV read (whole file here, chunks in tsea.data.stream)."""
    return dict(dtype={c: str for c in text_columns}, float_precision="round_trip")


def _read(path, text_columns) -> pd.DataFrame:
    try:
        return pd.read_csv(path, **read_options(text_columns))
    except (pd.errors.ParserError, ValueError) as e:
        raise ValueError(f"{path}: could not be parsed as CSV ({e})") from None


def _numeric_columns(
    path, df: pd.DataFrame, columns, series_of_row, ids, first_row: int = 0,
    first_series: int = 0,
) -> np.ndarray:
    """(rows, len(columns)) float array; ValueError naming series and column for text cells."""
    out = np.empty((len(df), len(columns)), dtype=np.float64)
    for j, col in enumerate(columns):
        s = df[col]
        num = pd.to_numeric(s, errors="coerce")
        bad = (num.isna() & s.notna()).to_numpy()
        if bad.any():
            r = int(np.argmax(bad))
            i = int(series_of_row[r])
            raise ValueError(
                f"{path}: series {i + first_series} (id {ids[i]!r}), column {col!r} has non-numeric value "
                f"{s.iloc[r]!r} (row {r + 2 + first_row} of the file)"
            )
        out[:, j] = num.to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def _labels(path, labels, task):
    missing = pd.isna(labels)
    if missing.any():
        raise ValueError(f"{path}: the label of series {int(np.argmax(missing))} is missing")
    labels = np.asarray(labels, dtype=object)
    if task == "regression":
        num = np.empty(len(labels), dtype=np.float64)
        for i, v in enumerate(labels):
            try:
                num[i] = float(v)  # exact for the shortest-repr text the writers produce
            except (TypeError, ValueError):
                raise ValueError(
                    f"{path}: regression target of series {i} is {v!r}, not a number"
                ) from None
        return check_y(num, len(num), "regression", what=f"{path} targets")
    return labels.astype(str)  # text read from the file, kept as it was written


def wide_layout(path, columns, *, label_column=None, id_column=None):
    """(id column or None, label column or None, time-step columns) of a wide header."""
    id_col = _pick(path, columns, id_column, (ID_NAME,), "id")
    label_col = _pick(path, columns, label_column, LABEL_NAMES, "label")
    text = [c for c in (id_col, label_col) if c is not None]
    steps = [c for c in columns if c not in text]
    if not steps:
        raise ValueError(f"{path}: no time-step columns besides {text}")
    return id_col, label_col, steps


def wide_frame_to_series(path, df, layout, *, task=None, first=0):
    """Rows of a wide table -> (Collection with ids, y or None); the per-chunk step shared by
    :func:`read_csv_wide` and the streaming readers (``first``: index of the first row's series
    in the file, for default ids and messages)."""
    id_col, label_col, steps = layout
    n = len(df)
    ids = (
        df[id_col].to_numpy(dtype=object) if id_col
        else np.arange(first, first + n).astype(object)
    )
    if id_col:
        dup = pd.Series(ids).duplicated().to_numpy()
        if dup.any():
            raise ValueError(f"{path}: duplicate id {ids[np.argmax(dup)]!r}")
    vals = _numeric_columns(
        path, df, steps, np.arange(n), ids, first_row=first, first_series=first
    )
    coll = from_padded(vals[:, None, :], what=str(path), ids=ids)
    y = None if label_col is None else _labels(path, df[label_col].to_numpy(), task)
    return coll, y


def read_csv_wide(path, *, label_column=None, id_column=None, task=None):
    """Read a wide CSV file: (Collection, y or None)."""
    columns = csv_header(path)
    layout = wide_layout(path, columns, label_column=label_column, id_column=id_column)
    df = _read(path, [c for c in layout[:2] if c is not None])
    if len(df) == 0:
        raise ValueError(f"{path}: the file has a header but no series")
    return wide_frame_to_series(path, df, layout, task=task)


def long_layout(path, columns, *, label_column=None, id_column=None):
    """(id column, label column or None, channel columns) of a long header."""
    id_col = _pick(path, columns, id_column, (ID_NAME,), "id")
    if id_col is None or TIME_NAME not in columns:
        raise ValueError(f"{path}: a long CSV needs 'id' and 'time' columns, got {columns}")
    label_col = _pick(path, columns, label_column, LABEL_NAMES, "label")
    text = [c for c in (id_col, label_col) if c is not None]
    channels = [c for c in columns if c not in text and c != TIME_NAME]
    return id_col, label_col, channels


def long_frame_to_series(path, df, layout, *, task=None, first_row=0, first_series=0):
    """Rows of a long table (complete series only) -> (Collection with ids, y or None); the
    per-chunk step shared by :func:`read_csv_long` and the streaming readers (``first_row``:
    index of the frame's first row among the file's data rows, ``first_series``: of its first
    series, both for messages)."""
    id_col, label_col, channels = layout
    codes, uniques = pd.factorize(df[id_col], sort=False)
    if (codes < 0).any():
        raise ValueError(
            f"{path}: the id is missing in row {int(np.argmax(codes < 0)) + 2 + first_row}"
        )
    ids = np.asarray(uniques, dtype=object)
    time = df[TIME_NAME]
    if not pd.api.types.is_numeric_dtype(time.dtype):
        try:
            time = pd.to_datetime(time, format="ISO8601")
        except (ValueError, TypeError):
            raise ValueError(
                f"{path}: the time column must hold numbers or ISO 8601 dates"
            ) from None
    vals = _numeric_columns(
        path, df, channels, codes, ids, first_row=first_row, first_series=first_series
    )
    frame = pd.DataFrame(vals, columns=channels)
    frame.insert(0, "time", time.to_numpy())
    frame.insert(0, "id", df[id_col].to_numpy(dtype=object))
    coll = to_collection(frame, what=str(path))
    y = None
    if label_col is not None:
        per_series = df.groupby(codes, sort=True)[label_col]
        varying = (per_series.nunique(dropna=False) > 1).to_numpy()
        if varying.any():
            raise ValueError(
                f"{path}: the label of series {ids[np.argmax(varying)]!r} changes between rows"
            )
        y = _labels(path, per_series.first().reindex(range(len(ids))).to_numpy(), task)
    return coll, y


def read_csv_long(path, *, label_column=None, id_column=None, task=None):
    """Read a long CSV file: (Collection, y or None)."""
    columns = csv_header(path)
    layout = long_layout(path, columns, label_column=label_column, id_column=id_column)
    df = _read(path, [c for c in layout[:2] if c is not None])
    if len(df) == 0:
        raise ValueError(f"{path}: the file has a header but no rows")
    return long_frame_to_series(path, df, layout, task=task)


def _prepare(X, y, ids):
    coll = to_collection(X)
    if ids is None:
        ids = coll.ids
    if ids is not None and len(ids) != coll.n_series:
        raise ValueError(f"ids has {len(ids)} entries, but X has {coll.n_series} series")
    if y is not None:
        y = np.asarray(y)
        if y.shape != (coll.n_series,):
            raise ValueError(f"y has shape {y.shape}, expected ({coll.n_series},)")
        if y.dtype.kind == "f":  # float targets: shortest text that reads back exactly
            y = np.array([repr(float(v)) for v in y], dtype=object)
    return coll, y, ids


def write_csv_wide(path, X, y=None, *, ids=None, label_column="label") -> Path:
    """Write univariate series as a wide CSV (ragged rows end in empty cells)."""
    coll, y, ids = _prepare(X, y, ids)
    if coll.n_channels != 1:
        raise ValueError(
            f"a wide CSV holds univariate series; X has {coll.n_channels} channels "
            "(use write_csv_long)"
        )
    df = pd.DataFrame(coll.X[:, 0, :], columns=[f"t{t}" for t in range(coll.max_length)])
    if y is not None:
        df.insert(0, label_column, y)
    if ids is not None:
        df.insert(0, ID_NAME, ids)
    df.to_csv(path, index=False, float_format="%.9g", na_rep="")
    return Path(path)


def write_csv_long(path, X, y=None, *, ids=None, label_column="label", channel_names=None) -> Path:
    """Write series as a long CSV: a row per (id, time) for t < length; NaN as empty cells."""
    coll, y, ids = _prepare(X, y, ids)
    if ids is None:
        ids = np.arange(coll.n_series)
    names = channel_names or [f"dim_{c}" for c in range(coll.n_channels)]
    if len(names) != coll.n_channels:
        raise ValueError(f"channel_names has {len(names)} names for {coll.n_channels} channels")
    reserved = {ID_NAME, TIME_NAME, label_column}.intersection(names)
    if reserved:
        raise ValueError(f"channel names {sorted(reserved)} clash with reserved column names")
    rows = np.repeat(np.arange(coll.n_series), coll.lengths)
    time = np.concatenate([np.arange(n) for n in coll.lengths])
    df = pd.DataFrame(coll.X[rows, :, time], columns=names)
    if y is not None:
        df.insert(0, label_column, np.asarray(y)[rows])
    df.insert(0, TIME_NAME, time)
    df.insert(0, ID_NAME, np.asarray(ids, dtype=object)[rows])
    df.to_csv(path, index=False, float_format="%.9g", na_rep="")
    return Path(path)

