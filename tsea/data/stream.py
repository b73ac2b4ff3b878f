"""Series of a file in chunks of bounded size: ``SeriesStream(path)`` yields Collections.

What streams, and how far (``tsea embed`` reads every input through this module):

- wide CSV / wide Parquet: rows in chunks; memory holds one chunk.
- long CSV / long Parquet: series by series, when the rows of each id are contiguous (sorted
  or grouped by id); memory holds one chunk of rows plus one series. When an id shows up
  again after other ids, a ValueError says so and gives the fix (sort the file by id).
- ``.tsv`` (UCR 2018): rows in chunks.
- ``.ts`` / ``.arff``: aeon reads the whole file, then it is handed on in chunks (these
  formats are small archive files; their readers have no incremental mode).

Parsing is that of the whole-file readers: CSV records are split
by :func:`~tsea.data.csv_text.iter_text_tables` (Python's csv module with
:data:`~tsea.data.csv_text.CSV_FORMAT`; ``.tsv`` by :func:`~tsea.data.csv_text.iter_records`), then
the per-chunk "text table -> series" steps (:func:`~tsea.data.csv_io.wide_frame_to_series`,
:func:`~tsea.data.csv_io.long_frame_to_series`, :func:`~tsea.data.readers.tsv_records_to_series`)
turn them into series; never ``pandas.read_csv``. A file read in chunks therefore gives the
series, ids and errors it gives whole (message numbers count over the whole file). Every chunk
but the last holds exactly ``chunk_series`` series, with its ids (from the file, else the
series' row numbers 0, 1, ...). Labels are recognised (never read as time steps) but neither
checked nor returned: a stream feeds embedding, which needs none.

Parquet cells follow the CSV conventions (:mod:`tsea.data.parquet`).

The id check across chunks (duplicate ids, ids that reappear) keeps a 128-bit hash of every
id seen so far (:class:`SeenIds`, 16 bytes per series: 320 MB for 20 million series), the
only state that grows with the file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from .collection import Collection
from .csv_io import (
    _text_column,
    is_long_header,
    long_frame_to_series,
    long_layout,
    wide_frame_to_series,
    wide_layout,
)
from .csv_text import csv_header, iter_records, iter_text_tables
from .parquet import arrow_frame, parquet_file, refuse_index_columns

__all__ = ["SeriesStream", "STREAM_FORMATS", "concat_collections"]

STREAM_FORMATS = ("csv", "parquet", "tsv", "ts", "arff")
#: Rows of a long file read per step.
LONG_ROWS = 2**16


class SeenIds:
    """The ids seen so far, as 128-bit hashes (of their text) in sorted runs that merge as they
    grow (amortised n log n); two different ids collide with probability ~n^2 / 2^129."""

    _DTYPE = np.dtype([("a", "<u8"), ("b", "<u8")])

    def __init__(self):
        self.runs: list[np.ndarray] = []

    def __len__(self) -> int:
        return sum(len(r) for r in self.runs)

    def _hash(self, keys) -> np.ndarray:
        text = np.array([str(k) for k in keys], dtype=object)
        h = np.empty(len(text), self._DTYPE)
        h["a"] = pd.util.hash_array(text, hash_key="tsea.ids.key.001")
        h["b"] = pd.util.hash_array(text, hash_key="tsea.ids.key.002")
        return h

    def first_seen(self, keys) -> int | None:
        """Index of the first of ``keys`` already seen, else None (keys unique among themselves)."""
        if not len(keys):
            return None
        h = self._hash(keys)
        hit = np.zeros(len(h), dtype=bool)
        for run in self.runs:
            idx = np.minimum(np.searchsorted(run, h), len(run) - 1)
            hit |= run[idx] == h
        return int(np.argmax(hit)) if hit.any() else None

    def add(self, keys) -> None:
        if not len(keys):
            return
        self.runs.append(np.sort(self._hash(keys)))
        while len(self.runs) > 1 and len(self.runs[-2]) <= 2 * len(self.runs[-1]):
            last = self.runs.pop()
            self.runs[-1] = np.sort(np.concatenate([self.runs[-1], last]))


def concat_collections(parts: list[Collection]) -> Collection:
    """One Collection from several (NaN-padded to the widest), in order, ids kept."""
    if len(parts) == 1:
        return parts[0]
    width = max(p.max_length for p in parts)
    n = sum(p.n_series for p in parts)
    X = np.full((n, parts[0].n_channels, width), np.nan, dtype=np.float32)
    row = 0
    for p in parts:
        X[row : row + p.n_series, :, : p.max_length] = p.X
        row += p.n_series
    ids = None
    if all(p.ids is not None for p in parts):
        ids = np.concatenate([np.asarray(p.ids, dtype=object) for p in parts])
    return Collection(X, np.concatenate([p.lengths for p in parts]), ids)


def _rechunk(parts: Iterator[Collection], size: int) -> Iterator[Collection]:
    """Exactly ``size`` series per chunk (the last may hold fewer)."""
    buffer: list[Collection] = []
    held = 0
    for part in parts:
        buffer.append(part)
        held += part.n_series
        while held >= size:
            whole = concat_collections(buffer)
            yield whole.subset(slice(0, size))
            held -= size
            buffer = [whole.subset(slice(size, None))] if held else []
    if held:
        yield concat_collections(buffer)


class _FileProgress:
    """How much of a file the csv reader has consumed (for progress): ``watch`` is the
    ``on_open`` hook of :func:`~tsea.data.csv_text.iter_records`."""

    def __init__(self, path):
        self.size = os.path.getsize(path)
        self.fh = None

    def watch(self, fh) -> None:
        self.fh = fh

    def fraction(self) -> float | None:
        if self.fh is None or self.fh.closed or self.size == 0:
            return None
        try:
            return min(1.0, self.fh.buffer.tell() / self.size)
        except (OSError, ValueError, AttributeError):
            return None


class SeriesStream:
    """Iterate over the series of ``path`` in Collections of ``chunk_series`` series.

    ``format``: one of STREAM_FORMATS (default: by suffix). ``label_column`` / ``id_column``:
    CSV and Parquet (the defaults of :mod:`tsea.data.csv_io`); the label column is recognised,
    not read. ``total`` is
    the number of series when known before reading (wide Parquet, .ts, .arff); :meth:`fraction_read` tells
    how much of the input has been read (None when unknown).
    """

    def __init__(
        self, path, *, format=None, label_column=None, id_column=None,
        chunk_series: int = 4096,
    ):
        self.path = Path(path)
        fmt = (format or self.path.suffix.lower().lstrip(".")).lower()
        if fmt not in STREAM_FORMATS:
            raise ValueError(
                f"{path}: unknown format {fmt!r}; supported: {', '.join(STREAM_FORMATS)}"
            )
        if not self.path.is_file():
            raise FileNotFoundError(2, "file not found", str(path))
        if fmt in ("tsv", "ts", "arff") and (label_column is not None or id_column is not None):
            raise ValueError(f"label_column/id_column apply to CSV and Parquet files, not .{fmt}")
        if int(chunk_series) < 1:
            raise ValueError(f"chunk_series must be positive, got {chunk_series}")
        self.format, self.chunk_series = fmt, int(chunk_series)
        self.label_column, self.id_column = label_column, id_column
        self.total: int | None = None
        self._progress = None  # () -> fraction read, or None
        self._whole = None
        self.long = False
        if fmt == "csv":
            columns = csv_header(self.path)
            self.long = is_long_header(columns, id_column)
            self.columns = columns
        elif fmt == "parquet":
            pf = parquet_file(self.path)
            self.columns = list(pf.schema_arrow.names)
            self.long = is_long_header(self.columns, id_column)
            if not self.long:
                self.total = pf.metadata.num_rows
            self._parquet = pf
        elif fmt in ("ts", "arff"):
            from .readers import read_file

            self._whole, _ = read_file(self.path, format=fmt, labels=False)
            self.total = self._whole.n_series

    @property
    def layout(self) -> str:
        """``wide`` or ``long`` for CSV/Parquet; the format otherwise."""
        if self.format in ("csv", "parquet"):
            return "long" if self.long else "wide"
        return self.format

    def fraction_read(self) -> float | None:
        return None if self._progress is None else self._progress()

    def __iter__(self) -> Iterator[Collection]:
        return _rechunk(self._parts(), self.chunk_series)

    # -- sources ------------------------------------------------------------------------------
    def _parts(self) -> Iterator[Collection]:
        if self._whole is not None:
            self._progress = lambda: 1.0
            yield self._whole
        elif self.format == "tsv":
            yield from self._tsv()
        elif self.format == "csv":
            frames = self._csv_frames()
            yield from (self._long(frames) if self.long else self._wide(frames))
        else:
            frames = self._parquet_frames()
            yield from (self._long(frames) if self.long else self._wide(frames))

    def _csv_frames(self) -> Iterator[pd.DataFrame]:
        """Text frames of csv_text's one reader; their indexes number the data rows."""
        rows = LONG_ROWS if self.long else self.chunk_series
        progress = _FileProgress(self.path)
        self._progress = progress.fraction
        yield from iter_text_tables(self.path, rows, on_open=progress.watch)

    def _parquet_frames(self) -> Iterator[pd.DataFrame]:
        pf = self._parquet
        layout = self._layout()
        refuse_index_columns(self.path, pf.schema_arrow, layout)
        total_rows = max(1, pf.metadata.num_rows)
        done = [0]
        self._progress = lambda: min(1.0, done[0] / total_rows)
        rows = LONG_ROWS if self.long else self.chunk_series
        for batch in pf.iter_batches(batch_size=rows):
            frame = arrow_frame(self.path, batch, layout, first_row=done[0])
            done[0] += len(frame)
            yield frame

    def _layout(self):
        make = long_layout if self.long else wide_layout
        return make(
            self.path, self.columns, label_column=self.label_column, id_column=self.id_column
        )

    def _wide(self, frames) -> Iterator[Collection]:
        layout = self._layout()
        seen = SeenIds() if layout[0] is not None else None
        first = 0
        for df in frames:
            if len(df) == 0:
                continue
            coll, _ = wide_frame_to_series(self.path, df, layout, labels=False)
            if seen is not None:  # unique within the chunk: checked by wide_frame_to_series
                dup = seen.first_seen(coll.ids)
                if dup is not None:
                    raise ValueError(f"{self.path}: duplicate id {coll.ids[dup]!r}")
                seen.add(coll.ids)
            first += len(df)
            yield coll
        if first == 0:
            raise ValueError(f"{self.path}: the file has a header but no series")

    def _long(self, frames) -> Iterator[Collection]:
        """Series by series from row chunks whose ids are contiguous; see the module doc.
        The frames' indexes number the data rows over the file (kept through the carry)."""
        layout = self._layout()
        id_col = layout[0]
        finished = SeenIds()
        carry = None  # rows of the last id of the previous chunk (it may continue)
        n_series = 0
        time_kind = {}  # numbers or dates, as the first chunk has them
        for df in frames:
            if len(df) == 0:
                continue
            frame = df if carry is None else pd.concat([carry, df])
            ids = _text_ids(self.path, frame, id_col)
            codes, uniques = pd.factorize(ids, sort=False)
            starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
            run_codes = codes[starts]
            again = finished.first_seen(uniques)
            if len(starts) != len(uniques) or again is not None:
                self._not_grouped(uniques, run_codes, again, starts, frame.index)
            last = int(starts[-1])
            complete = frame.iloc[:last]
            carry = frame.iloc[last:]
            if len(complete):
                finished.add(uniques[run_codes[:-1]])
                coll, _ = long_frame_to_series(
                    self.path, complete, layout, labels=False, first_series=n_series,
                    time_kind=time_kind,
                )
                n_series += coll.n_series
                yield coll
        if carry is None:
            raise ValueError(f"{self.path}: the file has a header but no rows")
        coll, _ = long_frame_to_series(
            self.path, carry, layout, labels=False, first_series=n_series, time_kind=time_kind
        )
        yield coll

    def _not_grouped(self, uniques, run_codes, again, starts, rows):
        """Raise for the first run whose id came before (in this frame, or finished earlier:
        ``again`` indexes ``uniques``)."""
        seen = set()
        for code, start in zip(run_codes, starts, strict=True):
            if code in seen or (again is not None and code == again):
                raise ValueError(
                    f"{self.path}: the rows of id {uniques[code]!r} are not contiguous (they "
                    f"appear again in data row {int(rows[start]) + 1}, after other ids). "
                    "Streaming a long file needs the rows of each series together: sort it by "
                    "id first (keeping the row order within an id), e.g. pandas "
                    "df.sort_values('id', kind='stable'), or convert it to a wide file"
                )
            seen.add(code)

    def _tsv(self) -> Iterator[Collection]:
        """Records of csv_text's one reader (tab-separated), converted chunk by chunk."""
        from .readers import tsv_records_to_series

        progress = _FileProgress(self.path)
        self._progress = progress.fraction
        first, records = 0, []
        for _, record in iter_records(self.path, delimiter="\t", on_open=progress.watch):
            records.append(record)
            if len(records) == self.chunk_series:
                coll, _ = tsv_records_to_series(self.path, records, labels=False, first=first)
                first += coll.n_series
                records = []
                yield coll
        if records:
            coll, _ = tsv_records_to_series(self.path, records, labels=False, first=first)
            yield coll
        elif first == 0:
            raise ValueError(
                f"{self.path}: the file is empty (a UCR .tsv file has a row per series)"
            )


def _text_ids(path, frame, id_col) -> np.ndarray:
    """The id column of a frame (empty cell: ValueError naming the data row)."""
    return _text_column(path, frame, id_col, "id")
