"""Parquet files read in the CSV readers' conventions: the whole-file reader
(:func:`tsea.data.readers.read_parquet`) and the streaming one (:mod:`tsea.data.stream`) turn
each table or record batch into a frame with :func:`arrow_frame`, then into series with
csv_io's "text table -> series" steps, so a Parquet file gives the series and errors its CSV
twin gives.

Text id/label columns are text (null or empty = missing), value columns are numbers (null =
missing) or text parsed like CSV cells. Parquet is typed where CSV is not: an integer id column
gives integer ids (CSV ids are always text), an integer or float label column gives labels as
text like CSV's.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd

from .csv_io import ID_NAME, TIME_NAME

__all__ = ["arrow_frame", "parquet_file", "refuse_index_columns"]

_INDEX_LEVEL = re.compile(r"__index_level_\d+__")


def parquet_file(path):
    """The file opened by pyarrow (ValueError when pyarrow is missing or the file is not Parquet)."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ValueError("reading .parquet needs the pyarrow package (pip install pyarrow)") from None
    try:
        return pq.ParquetFile(str(path))
    except Exception as e:  # pyarrow raises its own ArrowInvalid for a non-Parquet file
        raise ValueError(f"{path}: not a readable Parquet file ({e})") from None


def _index_columns(schema) -> set[str]:
    """The columns of a Parquet schema that hold a pandas index: those its ``b"pandas"``
    metadata names in ``index_columns`` (a RangeIndex is only metadata, no column), and the
    ``__index_level_N__`` columns pandas writes for unnamed index levels."""
    names = {n for n in schema.names if _INDEX_LEVEL.fullmatch(n)}
    meta = (schema.metadata or {}).get(b"pandas")
    if meta:
        try:
            names.update(c for c in json.loads(meta)["index_columns"] if isinstance(c, str))
        except (ValueError, KeyError, TypeError):
            pass  # metadata of another writer: the name pattern is all there is to go by
    return names


def refuse_index_columns(path, schema, layout) -> None:
    """ValueError for a pandas index column (``DataFrame.to_parquet`` writes any index but a
    RangeIndex, e.g. that of a filtered frame) that ``layout`` would read as values: it would
    end every series (a wide file) or be a channel (a long one), as CSV readers refuse the
    unnamed index column ``DataFrame.to_csv`` writes. An index read by name (the id column, the
    label, ``time``: ``df.set_index("id")``) is that column."""
    index = _index_columns(schema)
    for name in layout[2]:
        if name in index:
            raise ValueError(
                f"{path}: column {name!r} is a pandas index written by DataFrame.to_parquet, "
                "not data; write the file with index=False, or reset_index() and name the "
                f"column {ID_NAME!r} (or pass id_column= / --id-column) when it holds the ids"
            )


def _is_text(t) -> bool:
    import pyarrow.types as pt

    return pt.is_string(t) or pt.is_large_string(t) or getattr(pt, "is_string_view", bool)(t)


def arrow_frame(path, table, layout, *, first_row: int = 0) -> pd.DataFrame:
    """A pyarrow Table or RecordBatch of a Parquet file -> a frame in csv_io's cell conventions,
    for :func:`~tsea.data.csv_io.wide_frame_to_series` / ``long_frame_to_series``; its index
    numbers the data rows from ``first_row``.

    - id and label columns: text columns stay text exactly (``NA`` is text), a null is an empty
      cell (missing); an integer column without nulls keeps integers (Parquet is typed: ids
      ``7`` and ``"007"`` cannot be confused there); any other type is taken as its text.
    - value columns: integer/float/decimal columns are numbers (null = missing value); text
      columns are parsed like CSV cells (empty or ``NaN`` missing, other text an error naming
      series and column). Other types (booleans, dates, ...) are refused naming the column.
    - the ``time`` column of a long file: numbers, text (as in CSV) or dates/timestamps.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.types as pt

    id_col, label_col = layout[0], layout[1]
    text_columns = {c for c in (id_col, label_col) if c is not None}
    data = {}
    for name in table.schema.names:
        arr = table.column(name)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        if pt.is_dictionary(arr.type):
            arr = arr.dictionary_decode()
        t = arr.type
        if name in text_columns:
            if pt.is_integer(t) and arr.null_count == 0:
                col = arr.to_numpy(zero_copy_only=False).astype(np.int64).astype(object)
            elif _is_text(t):
                col = pc.fill_null(arr, "").to_numpy(zero_copy_only=False).astype(object)
            else:
                col = np.array(["" if v is None else str(v) for v in arr.to_pylist()],
                               dtype=object)
        elif _is_text(t):
            col = pc.fill_null(arr, "").to_numpy(zero_copy_only=False).astype(object)
        elif pt.is_integer(t) or pt.is_floating(t) or pt.is_decimal(t):
            col = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
            col = np.asarray(col, dtype=np.float64)
        elif name == TIME_NAME and name not in layout[2] and pt.is_temporal(t):
            col = pd.Series(arr.to_pandas()).to_numpy()
        else:
            raise ValueError(
                f"{path}: column {name!r} holds values of type {t}; tsea reads numbers (or "
                "text parsed as numbers)"
            )
        data[name] = col
    frame = pd.DataFrame(data, columns=list(table.schema.names))
    frame.index = pd.RangeIndex(first_row, first_row + table.num_rows)
    return frame
