"""CSV files of time series, wide and long layouts (rules in examples/data/README.md).

Wide: a header row; a row per series; optional ``id`` and label (``label`` or ``target``)
columns; every other column is a time step, in file order. Univariate only. Ragged rows
are padded by empty cells (read as NaN, trailing ones are padding).

Long: a header row with ``id``, ``time``, optional label column, then one column per channel;
a row per (series, time step); rows may come in any order (sorted by time within each id);
series keep the order of first appearance; duplicate (id, time) is an error.

Every field is read as text (:mod:`tsea.data.csv_text`: Python's csv module with its
:data:`~tsea.data.csv_text.CSV_FORMAT`, whole files and chunks alike), then:

- ids and labels stay text exactly as written; only an empty cell is missing (``NA``, ``None``,
  ``null``, ``n/a`` are ordinary text);
- values are parsed exactly (the shortest repr of a float reads back bit for bit); an empty
  cell or ``NaN`` is a missing value; any other text (``1_000`` and non-ASCII digits too) is an
  error naming the series and column;
- a column with a reserved name (``id``, ``label``, ``target``) that is not the id or label
  column in use is refused, never read as values;
- a separator at the end of lines (spreadsheet exports) is harmless: fields past the
  header's last named column must be empty, otherwise the row is refused (never shifted: pandas
  would take the first column as an index and shift every column by one place);
- a column without a name (``,t0,t1`` as written by ``DataFrame.to_csv`` with its index, or by
  R's ``write.csv``) is refused, unless it is an empty trailing column; duplicate column
  names are refused.

Regression targets (``task="regression"``) are cast to float.

The whole-file readers are "header -> layout (:func:`wide_layout`, :func:`long_layout`) -> text
table -> series (:func:`wide_frame_to_series`, :func:`long_frame_to_series`)"; the streaming
reader (:mod:`tsea.data.stream`, ``tsea embed``) runs the same steps on the chunks of
:func:`~tsea.data.csv_text.iter_text_tables`, so a file read in chunks gives what it gives whole.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .checks import check_y
from .convert import from_padded, to_collection
from .csv_text import csv_header, read_text_table

LABEL_NAMES = ("label", "target")
ID_NAME = "id"
TIME_NAME = "time"

def is_long_header(columns, id_column=None) -> bool:
    """Long layout iff the header has an id (``id`` or ``id_column``) and a ``time`` column."""
    return (id_column or ID_NAME) in columns and TIME_NAME in columns


def _pick(path, columns, given, defaults, role) -> str | None:
    if given is not None:
        if given not in columns:
            raise ValueError(f"{path}: {role} column {given!r} not in the header {columns}")
        return given
    return next((c for c in defaults if c in columns), None)


def _not_plain(cell) -> bool:
    """Text that Python's float() reads but a number in a data file is not: digits grouped by
    ``_`` (``1_000``) or non-ASCII characters (full-width ``１``, Arabic-Indic digits, a
    no-break space)."""
    return isinstance(cell, str) and ("_" in cell or not cell.isascii())


def parse_values(cells) -> tuple[np.ndarray, int | None]:
    """Text cells -> float64 (exact: Python's float parsing of plain ASCII numbers, see
    :func:`_not_plain`); ``""`` and NaN are missing.

    Returns ``(values, first_bad)``: ``first_bad`` is the position of the first cell that is not
    a number (None when every cell is one).
    """
    cells = np.asarray(cells, dtype=object)
    empty = cells == ""
    text = np.where(empty, "nan", cells)
    try:
        joined = "".join(text)
        plain = "_" not in joined and joined.isascii()
    except TypeError:  # not all text: checked cell by cell below
        plain = False
    if plain:
        try:
            return text.astype(np.float64), None
        except (ValueError, TypeError, OverflowError):
            pass
    out = np.empty(len(text), dtype=np.float64)
    for k, v in enumerate(text):
        if _not_plain(v):
            return out, k
        try:
            out[k] = float(v)
        except (ValueError, TypeError, OverflowError):
            return out, k
    return out, None


def _first_row(df) -> int:
    """The data-row number (0-based, over the whole file) of the frame's first row."""
    return int(df.index[0]) if len(df) else 0


def _numeric_columns(path, df: pd.DataFrame, columns, series_of_row, ids, first_series=0):
    """(rows, len(columns)) float array; ValueError naming series and column for text cells.

    ``series_of_row`` indexes ``ids`` (the frame's series); ``first_series`` is the number of
    the frame's first series in the file (messages). A float column (Parquet numbers, see
    :mod:`tsea.data.stream`) is taken as it is; text cells are parsed by :func:`parse_values`.
    """
    out = np.empty((len(df), len(columns)), dtype=np.float64)
    for j, col in enumerate(columns):
        column = df[col]
        if column.dtype.kind == "f":
            out[:, j] = column.to_numpy(dtype=np.float64)
            continue
        values, bad = parse_values(column.to_numpy(dtype=object))
        if bad is not None:
            i = int(series_of_row[bad])
            raise ValueError(
                f"{path}: series {i + first_series} (id {ids[i]!r}), column {col!r} has "
                f"non-numeric value {column.iloc[bad]!r} in data row {int(df.index[bad]) + 1} "
                f"(missing values are empty cells or NaN){_near_reserved(col)}"
            )
        out[:, j] = values
    return out


def _near_reserved(col) -> str:
    """A hint when a value column's name is a reserved name but for case or spaces (``ID``,
    `` label``): such a column is read as values, which is what failed."""
    key = str(col).strip().lower()
    if key == col or key not in (ID_NAME, TIME_NAME, *LABEL_NAMES):
        return ""
    option = {ID_NAME: "id_column", TIME_NAME: None}.get(key, "label_column")
    alternative = f", or pass {option}={col!r} (--{option.replace('_', '-')})" if option else ""
    return (f"; column names are exact, so {col!r} is read as values, not as {key!r}: rename "
            f"it {key!r}{alternative}")


def _text_column(path, df, col, role) -> np.ndarray:
    """A text column (ids, labels) as an object array; an empty cell is an error."""
    values = df[col].to_numpy(dtype=object)
    missing = values == ""
    if missing.any():
        r = int(np.argmax(missing))
        raise ValueError(
            f"{path}: the {role} is missing (empty cell) in data row {int(df.index[r]) + 1}"
        )
    return values


def _labels(path, labels, task, first_series=0):
    labels = np.asarray(labels, dtype=object)
    missing = pd.isna(labels) | (labels == "")
    if missing.any():
        raise ValueError(
            f"{path}: the label of series {int(np.argmax(missing)) + first_series} is missing"
        )
    if task == "regression":
        num = np.empty(len(labels), dtype=np.float64)
        for i, v in enumerate(labels):
            try:
                if _not_plain(v):
                    raise ValueError(v)
                num[i] = float(v)  # exact for the shortest-repr text the writers produce
            except (TypeError, ValueError):
                raise ValueError(
                    f"{path}: regression target of series {i + first_series} is {v!r}, not a "
                    "number"
                ) from None
        return check_y(num, len(num), "regression", what=f"{path} targets")
    return labels.astype(str)  # text read from the file, kept as it was written


_SERIES_AT = re.compile(r"(the embedding of )?series (\d+)")


def renumber_series(exc: ValueError, path, first_series: int, *, said_as=None) -> ValueError:
    """A message about ``series i`` of a chunk, which starts with ``"{said_as}: "`` (default:
    ``path``), as one about series ``i + first_series`` of ``path``: tsea.data's messages about
    a frame, and the estimators' (``said_as="X"``) about the collection they were given. Other
    messages are returned unchanged, except that a message of the estimators about the whole
    input (``"X has 1 channel, but ..."``) is said of ``path``."""
    head = f"{path if said_as is None else said_as}: "
    text = str(exc)
    if said_as is not None and text.startswith(f"{said_as} has "):
        return ValueError(f"{path}{text[len(said_as):]}")
    match = _SERIES_AT.match(text, len(head)) if text.startswith(head) else None
    if match is None or (said_as is None and not first_series):
        return exc
    i = int(match.group(2)) + first_series
    return ValueError(f"{path}: {match.group(1) or ''}series {i}{text[match.end():]}")


def _refuse_reserved(path, columns, id_col, label_col) -> None:
    """ValueError for a column named as ids or labels are (``id``, :data:`LABEL_NAMES`) that is
    not the id or label column in use: it would be read as values (``target`` beside ``label``
    as step 0 of every series, a target leak)."""
    for col in columns:
        if col in (id_col, label_col):
            continue
        if col == ID_NAME:
            role, used, option = "ids", id_col, "id_column"
        elif col in LABEL_NAMES:
            role, used, option = "labels", label_col, "label_column"
        else:
            continue
        also = f" and drop {used!r}" if used in (ID_NAME, *LABEL_NAMES) else ""
        raise ValueError(
            f"{path}: column {col!r} has a name reserved for {role}, but {used!r} is the "
            f"{role[:-1]} column: it would be read as values; drop it, or choose it with "
            f"{option}={col!r} (--{option.replace('_', '-')} {col}){also}"
        )


def wide_layout(path, columns, *, label_column=None, id_column=None):
    """``(id column or None, label column or None, time-step columns)`` of a wide header."""
    id_col = _pick(path, columns, id_column, (ID_NAME,), "id")
    label_col = _pick(path, columns, label_column, LABEL_NAMES, "label")
    _refuse_reserved(path, columns, id_col, label_col)
    text = [c for c in (id_col, label_col) if c is not None]
    steps = [c for c in columns if c not in text]
    if not steps:
        raise ValueError(f"{path}: no time-step columns besides {text}")
    return id_col, label_col, steps


def wide_frame_to_series(path, df, layout, *, task=None, labels=True):
    """Rows of a wide table -> (Collection with ids, y or None): the step shared by
    :func:`read_csv_wide` (the whole file) and :mod:`tsea.data.stream` (chunks).

    ``df``: a frame of :func:`~tsea.data.csv_text.iter_text_tables` (text cells; its index numbers the data rows
    over the whole file, which gives default ids and the numbers in messages), or a Parquet
    frame in the same conventions. Ids are checked unique within ``df`` only.
    """
    id_col, label_col, steps = layout
    first = _first_row(df)
    if id_col:
        ids = _text_column(path, df, id_col, "id")
        dup = pd.Series(ids).duplicated().to_numpy()
        if dup.any():
            near_time = [c for c in df.columns if str(c).strip().lower() == TIME_NAME]
            hint = (f" (a long file needs a column named exactly {TIME_NAME!r}; "
                    f"{near_time[0]!r} is read as a time step)" if near_time else "")
            raise ValueError(f"{path}: duplicate id {ids[np.argmax(dup)]!r}{hint}")
    else:
        ids = np.arange(first, first + len(df)).astype(object)
    vals = _numeric_columns(path, df, steps, np.arange(len(df)), ids, first_series=first)
    try:
        coll = from_padded(vals[:, None, :], what=str(path), ids=ids)
    except ValueError as exc:
        raise renumber_series(exc, path, first) from None
    y = None
    if label_col is not None and labels:
        y = _labels(path, df[label_col].to_numpy(dtype=object), task, first_series=first)
    return coll, y


def read_csv_wide(path, *, label_column=None, id_column=None, task=None, labels=True):
    """Read a wide CSV file: (Collection, y or None)."""
    return _read_whole(path, wide_layout, wide_frame_to_series, "series", label_column,
                       id_column, task, labels)


def _read_whole(path, layout_of, to_series, unit, label_column, id_column, task, labels):
    """A whole CSV file through the same layout and conversion steps as the chunked reader."""
    layout = layout_of(path, csv_header(path), label_column=label_column, id_column=id_column)
    df = read_text_table(path)
    if len(df) == 0:
        raise ValueError(f"{path}: the file has a header but no {unit}")
    return to_series(path, df, layout, task=task, labels=labels)


def _time_values(path, cells: np.ndarray, rows):
    """The time column: numbers (exact) or ISO 8601 dates; ValueError otherwise (``rows``: the
    cells' data-row numbers, for messages). Parquet numbers and timestamps are taken as they
    are."""
    if cells.dtype.kind in "fM":
        missing = np.isnan(cells) if cells.dtype.kind == "f" else np.isnat(cells)
        if missing.any():
            r = int(np.argmax(missing))
            raise ValueError(f"{path}: the time is missing in data row {int(rows[r]) + 1}")
        return cells
    missing = cells == ""
    if missing.any():
        r = int(np.argmax(missing))
        raise ValueError(f"{path}: the time is missing in data row {int(rows[r]) + 1}")
    values, bad = parse_values(cells)
    if bad is None:
        nan = np.isnan(values)
        if nan.any():
            r = int(np.argmax(nan))
            raise ValueError(f"{path}: the time is NaN in data row {int(rows[r]) + 1}")
        return values
    try:
        # in UTC: a local time's offset changes at a daylight-saving switch, and pandas holds
        # times of several offsets in one column only as UTC
        return pd.to_datetime(pd.Series(cells), format="ISO8601", utc=True).to_numpy()
    except (ValueError, TypeError):
        n = next((k for k, cell in enumerate(cells) if parse_values([cell])[1] is None), None)
        if n is not None and _is_date(cells[bad]):
            raise ValueError(
                f"{path}: the time column mixes numbers (data row {int(rows[n]) + 1}: "
                f"{cells[n]!r}) and text (data row {int(rows[bad]) + 1}: {cells[bad]!r}); "
                "give every time as a number or every time as an ISO 8601 date") from None
        raise ValueError(
            f"{path}: the time column must hold numbers or ISO 8601 dates (data row "
            f"{int(rows[bad]) + 1}: {cells[bad]!r})"
        ) from None


def _is_date(cell) -> bool:
    try:
        pd.to_datetime(pd.Series([cell]), format="ISO8601", utc=True)
    except (ValueError, TypeError):
        return False
    return True


def long_layout(path, columns, *, label_column=None, id_column=None):
    """``(id column, label column or None, channel columns)`` of a long header."""
    id_col = _pick(path, columns, id_column, (ID_NAME,), "id")
    if id_col is None or TIME_NAME not in columns:
        raise ValueError(f"{path}: a long CSV needs 'id' and 'time' columns, got {columns}")
    label_col = _pick(path, columns, label_column, LABEL_NAMES, "label")
    _refuse_reserved(path, columns, id_col, label_col)
    text = [c for c in (id_col, label_col) if c is not None]
    channels = [c for c in columns if c not in text and c != TIME_NAME]
    return id_col, label_col, channels


def long_frame_to_series(path, df, layout, *, task=None, labels=True, first_series=0,
                         time_kind=None):
    """Rows of a long table -> (Collection with ids, y or None): the step shared by
    :func:`read_csv_long` (the whole file, rows in any order) and :mod:`tsea.data.stream`
    (chunks of complete series). ``df`` as in :func:`wide_frame_to_series`;
    ``first_series``: the number of the frame's first series in the file (messages);
    ``time_kind``: a dict a stream shares between its chunks, so that a file whose chunks hold
    numbers in one and dates in another is refused, as when it is read whole."""
    id_col, label_col, channels = layout
    id_text = _text_column(path, df, id_col, "id")
    codes, uniques = pd.factorize(id_text, sort=False)
    ids = np.asarray(uniques, dtype=object)
    rows = df.index.to_numpy()
    cells = df[TIME_NAME].to_numpy()
    time = _time_values(path, cells, rows)
    if time_kind is not None and len(time):
        kind = "numbers" if time.dtype.kind == "f" else "text"
        first = time_kind.setdefault("first", (kind, int(rows[0]), cells[0]))
        if first[0] != kind:
            here = (kind, int(rows[0]), cells[0])
            (_, n_row, n_cell), (_, t_row, t_cell) = sorted([first, here], key=lambda f: f[0])
            raise ValueError(
                f"{path}: the time column mixes numbers (data row {n_row + 1}: {n_cell!r}) and "
                f"text (data row {t_row + 1}: {t_cell!r}); give every time as a number or "
                "every time as an ISO 8601 date")
    vals = _numeric_columns(path, df, channels, codes, ids, first_series=first_series)
    frame = pd.DataFrame(vals, columns=channels)
    frame.insert(0, "time", time)
    frame.insert(0, "id", id_text)
    try:
        coll = to_collection(frame, what=str(path))
    except ValueError as exc:
        raise renumber_series(exc, path, first_series) from None
    y = None
    if label_col is not None and labels:
        text = _text_column(path, df, label_col, "label")
        per_series = pd.Series(text).groupby(codes, sort=True)
        varying = (per_series.nunique() > 1).to_numpy()
        if varying.any():
            raise ValueError(
                f"{path}: the label of series {ids[np.argmax(varying)]!r} changes between rows"
            )
        y = _labels(path, per_series.first().reindex(range(len(ids))).to_numpy(), task,
                    first_series=first_series)
    return coll, y


def read_csv_long(path, *, label_column=None, id_column=None, task=None, labels=True):
    """Read a long CSV file: (Collection, y or None)."""
    return _read_whole(path, long_layout, long_frame_to_series, "rows", label_column,
                       id_column, task, labels)


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
    reserved = {ID_NAME, TIME_NAME, label_column, *LABEL_NAMES}.intersection(names)
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

