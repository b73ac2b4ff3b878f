"""Series of a file in chunks of bounded size: ``SeriesStream(path)`` yields Collections.

What streams, and how far (``tsea embed`` reads every input through this module):

- wide CSV / wide Parquet: rows in chunks; memory holds one chunk.
- long CSV / long Parquet: series by series, when the rows of each id are contiguous (sorted
  or grouped by id); memory holds one chunk of rows plus one series. When an id shows up
  again after other ids, a ValueError says so and gives the fix (sort the file by id).
- ``.tsv`` (UCR 2018): rows in chunks.
- ``.ts`` / ``.arff``: aeon reads the whole file, then it is handed on in chunks (these
  formats are small archive files; their readers have no incremental mode).

Parsing is csv_io's: the per-chunk "DataFrame -> series" steps
(:func:`~tsea.data.csv_io.wide_frame_to_series`, :func:`~tsea.data.csv_io.long_frame_to_series`)
and the ``pd.read_csv`` options are shared with the whole-file readers, so both give the same
series, ids and errors. Every chunk but the last holds exactly ``chunk_series`` series, with
its ids (from the file, else the series' row numbers 0, 1, ...).

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
    csv_header,
    is_long_header,
    long_frame_to_series,
    long_layout,
    read_options,
    wide_frame_to_series,
    wide_layout,
)

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


class _ByteCounter:
    """A binary file whose position tells how much has been read (for progress)."""

    def __init__(self, path):
        self.fh = open(path, "rb")  # noqa: SIM115 (closed by the stream)
        self.size = os.fstat(self.fh.fileno()).st_size

    def fraction(self) -> float | None:
        if self.fh.closed or self.size == 0:
            return None
        return min(1.0, self.fh.tell() / self.size)


class SeriesStream:
    """Iterate over the series of ``path`` in Collections of ``chunk_series`` series.

    ``format``: one of STREAM_FORMATS (default: by suffix). ``label_column`` / ``id_column``:
    CSV and Parquet (the defaults of :mod:`tsea.data.csv_io`). ``total`` is the number of
    series when known before reading (wide Parquet, .ts, .arff); :meth:`fraction_read` tells
    how much of the input has been read (None when unknown).
    """

    def __init__(
        self, path, *, format=None, label_column=None, id_column=None, task=None,
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
        self.format, self.task, self.chunk_series = fmt, task, int(chunk_series)
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
            pf = _parquet_file(self.path)
            self.columns = list(pf.schema_arrow.names)
            self.long = is_long_header(self.columns, id_column)
            if not self.long:
                self.total = pf.metadata.num_rows
            self._parquet = pf
        elif fmt in ("ts", "arff"):
            from .readers import read_file

            self._whole, _ = read_file(self.path, format=fmt, task=task)
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
        layout = self._layout()
        text = [c for c in layout[:2] if c is not None]
        rows = LONG_ROWS if self.long else self.chunk_series
        counter = _ByteCounter(self.path)
        self._progress = counter.fraction
        try:
            try:
                reader = pd.read_csv(counter.fh, chunksize=rows, **read_options(text))
                with reader:
                    yield from reader
            except (pd.errors.ParserError, UnicodeDecodeError) as e:
                raise ValueError(f"{self.path}: could not be parsed as CSV ({e})") from None
        finally:
            counter.fh.close()

    def _parquet_frames(self) -> Iterator[pd.DataFrame]:
        pf = self._parquet
        total_rows = max(1, pf.metadata.num_rows)
        done = [0]
        self._progress = lambda: min(1.0, done[0] / total_rows)
        rows = LONG_ROWS if self.long else self.chunk_series
        for batch in pf.iter_batches(batch_size=rows):
            frame = batch.to_pandas()
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
            coll, _ = wide_frame_to_series(self.path, df, layout, task=self.task, first=first)
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
        """Series by series from row chunks whose ids are contiguous; see the module doc."""
        layout = self._layout()
        id_col = layout[0]
        finished = SeenIds()
        carry = None  # rows of the last id of the previous chunk (it may continue)
        carry_row = 0  # index among the data rows of the first row of ``carry``
        next_row = 0  # index of the first row of the next chunk
        n_series = 0
        for df in frames:
            if len(df) == 0:
                continue
            start_row = carry_row if carry is not None else next_row
            frame = df if carry is None else pd.concat([carry, df], ignore_index=True)
            next_row += len(df)
            frame = frame.reset_index(drop=True)
            codes, uniques = pd.factorize(frame[id_col], sort=False)
            if (codes < 0).any():
                row = int(np.argmax(codes < 0)) + 2 + start_row
                raise ValueError(f"{self.path}: the id is missing in row {row}")
            starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
            run_codes = codes[starts]
            again = finished.first_seen(uniques)
            if len(starts) != len(uniques) or again is not None:
                self._not_grouped(uniques, run_codes, again, starts, start_row)
            last = int(starts[-1])
            complete = frame.iloc[:last]
            carry, carry_row = frame.iloc[last:], start_row + last
            if len(complete):
                finished.add(uniques[run_codes[:-1]])
                coll, _ = long_frame_to_series(
                    self.path, complete, layout, task=self.task, first_row=start_row,
                    first_series=n_series,
                )
                n_series += coll.n_series
                yield coll
        if carry is None:
            raise ValueError(f"{self.path}: the file has a header but no rows")
        coll, _ = long_frame_to_series(
            self.path, carry, layout, task=self.task, first_row=carry_row,
            first_series=n_series,
        )
        yield coll

    def _not_grouped(self, uniques, run_codes, again, starts, start_row):
        """Raise for the first run whose id came before (in this frame, or finished earlier:
        ``again`` indexes ``uniques``)."""
        seen = set()
        for code, row in zip(run_codes, starts, strict=True):
            if code in seen or (again is not None and code == again):
                raise ValueError(
                    f"{self.path}: the rows of id {uniques[code]!r} are not contiguous (they "
                    f"appear again at row {int(row) + 2 + start_row}, after other ids). "
                    "Streaming a long file needs the rows of each series together: sort it by "
                    "id first (keeping the row order within an id), e.g. pandas "
                    "df.sort_values('id', kind='stable'), or convert it to a wide file"
                )
            seen.add(code)

    def _tsv(self) -> Iterator[Collection]:
        from .readers import tsv_frame_to_series

        counter = _ByteCounter(self.path)
        self._progress = counter.fraction
        first = 0
        try:
            try:
                reader = pd.read_csv(
                    counter.fh, sep="\t", header=None, dtype={0: str},
                    chunksize=self.chunk_series,
                )
                with reader:
                    for df in reader:
                        coll, _ = tsv_frame_to_series(self.path, df, task=self.task, first=first)
                        first += coll.n_series
                        yield coll
            except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
                raise ValueError(f"{self.path}: could not be read as a UCR .tsv file ({e})") from None
        finally:
            counter.fh.close()


def _parquet_file(path):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ValueError("reading .parquet needs the pyarrow package (pip install pyarrow)") from None
    try:
        return pq.ParquetFile(str(path))
    except Exception as e:  # pyarrow raises its own ArrowInvalid for a non-Parquet file
        raise ValueError(f"{path}: not a readable Parquet file ({e})") from None
