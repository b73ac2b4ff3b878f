"""CSV files as text: records, header and frames of text cells, for whole files and chunks.

The one place that says how data files are split into fields (:data:`CSV_FORMAT`). Every
field stays text; :mod:`tsea.data.csv_io` decides what the cells mean (layouts, values, ids,
labels), for the whole-file readers and for the streaming reader (:mod:`tsea.data.stream`)
alike, so a file read in chunks gives what it gives whole.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from types import MappingProxyType

import numpy as np
import pandas as pd

__all__ = ["CSV_FORMAT", "csv_header", "iter_records", "iter_text_tables", "raw_header",
           "read_text_table"]

#: How data files (CSV and UCR .tsv) are split into records and fields, in one place for the
#: readers of whole files and of chunks: Python's csv module with this dialect (RFC 4180
#: quoting, ``""`` inside quotes, no space skipping; a record may span lines inside quotes),
#: UTF-8 with or without a byte-order mark, blank lines skipped. Every field stays text; the
#: readers decide what is missing. (Not pandas.read_csv: its C engine silently drops the extra
#: fields of a row that starts a chunk, and both engines take the leading fields of a longer
#: first row as an index, parsed as numbers by the python engine: "007" became 7.)
CSV_FORMAT = MappingProxyType(
    {"delimiter": ",", "quotechar": '"', "doublequote": True, "skipinitialspace": False,
     "strict": False, "encoding": "utf-8-sig"}
)


def iter_records(
    path, *, delimiter: str = ",", on_open=None
) -> Iterator[tuple[int, list[str]]]:
    """``(line number, fields)`` of every non-blank record of a data file (the line number of
    the record's last line, 1-based); ValueError naming the file for undecodable text.
    ``on_open(fh)`` (optional) is called with the open text file (progress: ``fh.buffer``)."""
    opts = dict(CSV_FORMAT)
    encoding = opts.pop("encoding")
    opts["delimiter"] = delimiter
    try:
        with open(path, encoding=encoding, newline="") as fh:
            if on_open is not None:
                on_open(fh)
            reader = csv.reader(fh, **opts)
            for record in reader:
                if record:
                    yield reader.line_num, record
    except (UnicodeDecodeError, csv.Error) as e:
        raise ValueError(f"{path}: not a readable {'CSV' if delimiter == ',' else 'text'} file ({e})") from None


def raw_header(path) -> list[str]:
    """The fields of the header row exactly as written (empty names included)."""
    for _, record in iter_records(path):
        return record
    raise ValueError(f"{path}: the file is empty (a header row is required)")


def _named(path, raw: list[str]) -> list[str]:
    """The header without its trailing empty names; ValueError for other empty or duplicate
    names."""
    n = len(raw)
    while n and raw[n - 1] == "":
        n -= 1
    names = raw[:n]
    if not names:
        raise ValueError(f"{path}: the header row has no column names")
    if len(names) == 1:
        sep = next((c for c in ";\t|" if c in names[0]), None)
        if sep is not None:
            raise ValueError(
                f"{path}: the header is one column, {names[0]!r}: the file looks separated by "
                f"{sep!r}, but CSV files are read with ',' between fields (convert it, e.g. "
                f"pandas.read_csv(path, sep={sep!r}).to_csv(new_path, index=False))"
            )
    for j, name in enumerate(names):
        if name == "":
            raise ValueError(
                f"{path}: column {j + 1} of the header has no name (a row index written by "
                "DataFrame.to_csv or R's write.csv?); name it or remove it"
            )
    _refuse_data_row(path, names)
    seen = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{path}: the header names column {name!r} twice")
        seen.add(name)
    return names


def _refuse_data_row(path, names: list[str]) -> None:
    """ValueError when the header looks like a row of values: a file written without a header
    (``np.savetxt``) would otherwise lose its first series to the column names, silently.

    Names that are all numbers are accepted only in increasing order, as step indices
    (``DataFrame.to_csv`` of an array: ``0,1,2,...``) or time stamps are written."""
    try:
        numbers = [float(name) for name in names]
    except ValueError:
        return
    if not all(a < b for a, b in zip(numbers, numbers[1:])):
        shown = ",".join(names[:4]) + (",..." if len(names) > 4 else "")
        raise ValueError(
            f"{path}: the first row ({shown}) looks like values, not a header: its names are "
            "all numbers, not in increasing order. A CSV file needs a header row (e.g. "
            "t0,t1,...; np.savetxt writes one with header=..., comments='')"
        )


def csv_header(path) -> list[str]:
    """The column names of a CSV file (trailing empty names, from a separator at the end of the
    header line, left out); ValueError for unnamed or duplicate columns."""
    return _named(path, raw_header(path))


def _frame(rows: list[list[str]], names: list[str], first_row: int) -> pd.DataFrame:
    columns = list(zip(*rows)) if rows else [()] * len(names)
    frame = pd.DataFrame(
        {name: np.array(col, dtype=object) for name, col in zip(names, columns)},
        columns=names,
    )
    frame.index = pd.RangeIndex(first_row, first_row + len(rows))
    return frame


def iter_text_tables(path, chunksize: int, *, on_open=None) -> Iterator[pd.DataFrame]:
    """The data rows of a CSV file as text frames of at most ``chunksize`` rows, one column per
    named header column (the frames' indexes count data rows from 0 over the whole file).

    A short row is padded with empty fields. Fields past the header's named columns (a
    separator at the end of lines) must be empty, else ValueError naming the line: a row is
    never shifted or cut. ``on_open``: see :func:`iter_records`.
    """
    if chunksize < 1:
        raise ValueError(f"chunksize must be a positive integer, got {chunksize!r}")
    records = iter_records(path, on_open=on_open)
    header = next(records, None)
    if header is None:
        raise ValueError(f"{path}: the file is empty (a header row is required)")
    names = _named(path, header[1])
    n, n_raw = len(names), len(header[1])
    rows, done = [], 0
    for line, record in records:
        if len(record) > n:
            for k, value in enumerate(record[n:], start=n):
                if value != "":
                    what = "an unnamed column" if k < n_raw else (
                        f"more fields than the {n_raw} of the header")
                    raise ValueError(
                        f"{path}: line {line} (data row {done + len(rows) + 1}) has value "
                        f"{value!r} in field {k + 1}, {what} (a shifted row?)"
                    )
            record = record[:n]
        elif len(record) < n:
            record = record + [""] * (n - len(record))
        rows.append(record)
        if len(rows) == chunksize:
            yield _frame(rows, names, done)
            done += len(rows)
            rows = []
    if rows or done == 0:
        yield _frame(rows, names, done)


def read_text_table(path) -> pd.DataFrame:
    """The whole CSV file as one text frame (see :func:`iter_text_tables`)."""
    frames = list(iter_text_tables(path, chunksize=2**62))
    return frames[0] if len(frames) == 1 else pd.concat(frames)
