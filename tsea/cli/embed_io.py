"""Embedding files written piece by piece, and ``tsea embed`` of a file or of shards.

Writers (one per output format) take the embeddings chunk by chunk, in row order, and commit
all their files at once at the end (:func:`tsea.utils.atomic_files`): until then the old
outputs stay as they were, and a failure leaves them untouched.

- ``.csv``: header ``id,emb_0,...``, then the rows of each chunk as they come.
- ``.parquet``: one row group per chunk (pyarrow), column ``id`` first. Ids keep their type
  when every id is an integer (or every one text); otherwise they are written as text.
- ``.npy``: a float32 (n, d) array: a fixed 128-byte header (the one :func:`numpy.save` writes
  for shapes up to ~15 digits) is rewritten with the final shape at the end, the rows are
  appended as they come; the ids go one per line to the sibling ``NAME.ids.txt``. The pair is
  committed together. Read it back with ``np.load(path, mmap_mode="r")`` to avoid loading it.

:func:`stream_file` streams a file (:class:`tsea.data.stream.SeriesStream`) through a model
into a writer: :func:`embed_file` an encoder's embeddings, :func:`predict_file` a classifier's or
regressor's predictions (``tsea predict``: ``.csv`` or ``.parquet``, columns ``id``,
``prediction`` and optionally ``proba_<class>``); :func:`shard_outputs` pairs the shards of a
folder or glob with their outputs.
"""

from __future__ import annotations

import glob
import os
import struct
import sys
import time
from pathlib import Path

import numpy as np

from tsea.utils import atomic_files

EMBED_SUFFIXES = (".csv", ".npy", ".parquet")
#: Inputs ``tsea embed`` reads from a folder of shards.
SHARD_SUFFIXES = (".csv", ".parquet", ".tsv", ".ts", ".arff")
_NPY_HEADER = 128


def ids_path_for(npy_path: str) -> str:
    """Where ``embed -o X.npy`` writes the series ids: the sibling ``X.ids.txt``."""
    npy_path = str(npy_path)
    root = npy_path[: -len(".npy")] if npy_path.lower().endswith(".npy") else npy_path
    return root + ".ids.txt"


def _npy_header(n: int, d: int) -> bytes:
    text = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + f"{n}, {d}), }}"
    size = _NPY_HEADER - 10  # magic (6) + version (2) + header length (2)
    if len(text) + 1 > size:
        raise ValueError(f"an embedding array of shape ({n}, {d}) is too large for .npy")
    text = text.ljust(size - 1) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", size) + text.encode("latin1")


def _check_ids_and_rows(Z, ids):
    Z = np.asarray(Z)
    ids = np.asarray(ids, dtype=object) if not isinstance(ids, np.ndarray) else ids
    if Z.ndim != 2 or Z.shape[0] != ids.shape[0]:
        raise ValueError(f"embeddings of shape {Z.shape} do not match {ids.shape[0]} series ids")
    return Z, ids


def _id_column(ids: np.ndarray) -> np.ndarray:
    """Integers stay integers (int64), anything else becomes text (one type per column)."""
    if ids.dtype.kind in "iu":
        return ids.astype(np.int64)
    if ids.dtype == object and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in ids
    ):
        return ids.astype(np.int64)
    return np.array([str(v) for v in ids], dtype=object)


class EmbeddingWriter:
    """Write embeddings (or, with :meth:`write_frame`, tables of named columns) chunk by chunk
    to ``path`` (.csv, .parquet or .npy); use as a context manager: the files are committed
    when the block ends without error."""

    def __init__(self, path):
        self.path = str(path)
        self.suffix = Path(self.path).suffix.lower()
        if self.suffix not in EMBED_SUFFIXES:
            raise ValueError(
                f"unsupported output {self.path!r}: use one of {', '.join(EMBED_SUFFIXES)}"
            )
        if self.suffix == ".parquet":
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                raise ValueError(
                    "writing .parquet needs the pyarrow package (pip install pyarrow)"
                ) from None
        self.targets = [self.path] + ([ids_path_for(self.path)] if self.suffix == ".npy" else [])
        self.n_rows = 0
        self.dim = None
        self._files = None
        self._parquet = None
        self._ctx = None

    @property
    def written(self) -> list[str]:
        return list(self.targets)

    def __enter__(self):
        self._ctx = atomic_files(*self.targets)
        temps = self._ctx.__enter__()
        try:
            if self.suffix == ".npy":
                self._files = [open(temps[0], "wb"), open(temps[1], "w", encoding="utf-8")]  # noqa: SIM115
                self._files[0].write(b"\0" * _NPY_HEADER)
            elif self.suffix == ".csv":
                self._files = [open(temps[0], "w", encoding="utf-8", newline="")]  # noqa: SIM115
            self._temps = temps
        except BaseException:
            self._ctx.__exit__(*sys.exc_info())
            raise
        return self

    def write(self, Z, ids) -> None:
        """Append the rows ``Z`` (k, d) of the series ``ids`` (k,)."""
        Z, ids = _check_ids_and_rows(Z, ids)
        if self.dim is None:
            self.dim = Z.shape[1]
        elif Z.shape[1] != self.dim:
            raise ValueError(f"embeddings of width {Z.shape[1]} after width {self.dim}")
        if self.suffix == ".npy":
            text = [str(i) for i in ids]
            if any("\n" in t or "\r" in t for t in text):
                raise ValueError("series ids contain line breaks; write .csv or .parquet instead")
            self._files[0].write(np.ascontiguousarray(Z, dtype="<f4").tobytes())
            self._files[1].write("".join(t + "\n" for t in text))
            self.n_rows += Z.shape[0]
        else:
            import pandas as pd

            self.write_frame(pd.DataFrame(Z, columns=[f"emb_{j}" for j in range(Z.shape[1])]), ids)

    def write_frame(self, frame, ids) -> None:
        """Append the rows of a DataFrame (any columns, the same in every chunk) after the
        column ``id``: .csv and .parquet only (``tsea predict``'s tables)."""
        if self.suffix == ".npy":
            raise ValueError(f"{self.path}: a table of named columns needs .csv or .parquet")
        frame = frame.copy()
        if self.suffix == ".csv":
            import csv

            import pandas as pd

            frame.insert(0, "id", ids)
            # a bare carriage return is no line end to pandas' writer ("\n"), which leaves such
            # a text unquoted; a reader then splits the row there: quote every text of the chunk
            text = [c for c in frame.columns
                    if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]
            quote = any(frame[c].astype(str).str.contains("\r", regex=False).any() for c in text)
            frame.to_csv(self._files[0], index=False, header=self.n_rows == 0,
                         quoting=csv.QUOTE_NONNUMERIC if quote else csv.QUOTE_MINIMAL)
        else:
            self._write_parquet(frame, ids)
        self.n_rows += len(frame)

    def _write_parquet(self, frame, ids) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        frame.insert(0, "id", _id_column(ids))
        if self._parquet is None:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            self._parquet = pq.ParquetWriter(self._temps[0], table.schema)
        else:
            try:
                table = pa.Table.from_pandas(
                    frame, schema=self._parquet.schema, preserve_index=False
                )
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
                raise ValueError(
                    f"{self.path}: the series ids change type between chunks (integers, then "
                    "text); write .csv or .npy instead"
                ) from None
        self._parquet.write_table(table)

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None and self.n_rows == 0:
                raise ValueError("no embeddings to write")
            if exc_type is None and self.suffix == ".npy":
                self._files[0].seek(0)
                self._files[0].write(_npy_header(self.n_rows, self.dim))
        except BaseException:
            self._close()
            self._ctx.__exit__(*sys.exc_info())
            raise
        self._close()
        return self._ctx.__exit__(exc_type, exc, tb)

    def _close(self) -> None:
        for f in self._files or ():
            f.close()
        if self._parquet is not None:
            self._parquet.close()
        self._files, self._parquet = None, None


def write_embeddings(path, Z, ids) -> list[str]:
    """Write embeddings (n, d) with ids at once; returns the files written (formats above)."""
    Z, ids = _check_ids_and_rows(Z, ids)
    with EmbeddingWriter(path) as writer:
        writer.write(Z, ids)
    return writer.written


class Progress:
    """A progress bar on stderr (series, series/s, ETA) fed by a stream; silent when off."""

    def __init__(self, stream, enabled: bool, desc: str = "embedding"):
        self.stream, self.bar, self.done = stream, None, 0
        self.start = time.perf_counter()
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=stream.total, unit=" series", desc=desc, file=sys.stderr,
                dynamic_ncols=True, smoothing=0.1,
            )

    def update(self, k: int) -> None:
        self.done += k
        if self.bar is None:
            return
        if self.stream.total is None:  # estimate the total from the share of input read
            fraction = self.stream.fraction_read()
            if fraction and fraction < 1.0:
                self.bar.total = max(self.done, int(round(self.done / fraction)))
            elif fraction == 1.0:
                self.bar.total = None
        self.bar.update(k)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.total = self.done
            self.bar.refresh()
            self.bar.close()

    @property
    def rate(self) -> float:
        return self.done / max(time.perf_counter() - self.start, 1e-9)


def stream_file(
    source, output, rows, *, label_column=None, id_column=None, progress: bool = False,
    chunk_blocks: int = 1,
) -> EmbeddingWriter:
    """Read the file ``source`` chunk by chunk and write ``rows(writer, chunk)`` of each chunk
    (a :class:`tsea.data.Collection` with ids) to ``output``; returns the closed writer.

    Chunks hold ``chunk_blocks`` x ``tsea.nn.inference.EMBED_BLOCK`` series, so what an
    estimator computes per chunk equals what it computes on the whole file, row for row. The
    estimators' messages about "series i" of a chunk are renumbered to the file's series.
    """
    from tsea.data.csv_io import renumber_series
    from tsea.data.stream import SeriesStream
    from tsea.nn.inference import EMBED_BLOCK

    stream = SeriesStream(
        source, label_column=label_column, id_column=id_column,
        chunk_series=EMBED_BLOCK * max(1, int(chunk_blocks)),
    )
    bar = Progress(stream, progress, desc=os.path.basename(str(source)))
    first = 0
    try:
        with EmbeddingWriter(output) as writer:
            for coll in stream:
                try:
                    rows(writer, coll)
                except ValueError as exc:
                    raise renumber_series(exc, source, first, said_as="X") from None
                first += coll.n_series
                bar.update(coll.n_series)
    finally:
        bar.close()
    return writer


def embed_file(
    encoder, source, output, *, pooling="max", label_column=None, id_column=None,
    progress: bool = False, chunk_blocks: int = 1,
) -> tuple[int, int]:
    """Embed every series of the file ``source`` with a fitted ``EAEncoder`` into ``output``
    (.csv/.parquet/.npy), reading and writing chunk by chunk (:func:`stream_file`); returns
    (series, width). The values equal those of ``encoder.transform`` on the whole file."""

    def rows(writer, coll):
        writer.write(encoder.transform(coll, pooling=pooling), coll.ids)

    writer = stream_file(source, output, rows, label_column=label_column, id_column=id_column,
                         progress=progress, chunk_blocks=chunk_blocks)
    return writer.n_rows, writer.dim


#: Outputs of ``tsea predict``: tables of named columns.
PREDICT_SUFFIXES = (".csv", ".parquet")


def prediction_frame(model, X, *, proba: bool = False):
    """The DataFrame of ``tsea predict`` for the series ``X``: column ``prediction`` (a
    regressor's floats, a classifier's labels), and with ``proba`` (classifiers) one column
    ``proba_<class>`` per class, in the order of ``classes_``."""
    import pandas as pd

    if not proba:
        return pd.DataFrame({"prediction": as_table_column(np.asarray(model.predict(X)))})
    labels, P = model._predict_with_proba(X)
    frame = pd.DataFrame({"prediction": as_table_column(np.asarray(labels))})
    for j, c in enumerate(model.classes_):
        frame[f"proba_{c}"] = P[:, j]
    return frame


def as_table_column(values: np.ndarray) -> np.ndarray:
    """One type per column (a Parquet column holds one): numbers and booleans as they are,
    labels of mixed types (text and integers) as text."""
    if values.dtype.kind in "biuf":
        return values
    return _id_column(values)


def predict_file(
    model, source, output, *, proba: bool = False, label_column=None, id_column=None,
    progress: bool = False,
) -> int:
    """Predict every series of the file ``source`` with a fitted ``EAClassifier`` or
    ``EARegressor`` into the table ``output`` (.csv/.parquet: ``id``, ``prediction`` and with
    ``proba`` the class probabilities), chunk by chunk; returns the number of series."""

    if Path(str(output)).suffix.lower() not in PREDICT_SUFFIXES:  # before the input is read
        raise ValueError(f"unsupported output {str(output)!r}: use one of "
                         f"{', '.join(PREDICT_SUFFIXES)}")

    def rows(writer, coll):
        writer.write_frame(prediction_frame(model, coll, proba=proba), coll.ids)

    writer = stream_file(source, output, rows, label_column=label_column, id_column=id_column,
                         progress=progress)
    return writer.n_rows


def is_shard_spec(spec: str) -> bool:
    """A folder, or a glob pattern (``*``, ``?``, ``[``) that is not an existing file."""
    return os.path.isdir(spec) or (not os.path.exists(spec) and glob.has_magic(spec))


def shard_outputs(spec: str, out_dir: str, suffix: str) -> list[tuple[str, str]]:
    """(shard, output) pairs, sorted by shard path: the data files of folder ``spec`` (suffixes
    SHARD_SUFFIXES, hidden files skipped) or the files matching the glob ``spec``; each output
    is ``out_dir/<shard name without suffix><suffix>``. ValueError when there are none or two
    shards would write the same output."""
    if suffix not in EMBED_SUFFIXES:
        raise ValueError(f"output format {suffix!r}: use one of {', '.join(EMBED_SUFFIXES)}")
    if os.path.isdir(spec):
        files = [
            os.path.join(spec, name) for name in os.listdir(spec)
            if not name.startswith(".") and Path(name).suffix.lower() in SHARD_SUFFIXES
        ]
    else:
        files = [f for f in glob.glob(spec) if os.path.isfile(f)]
    if not files:
        raise ValueError(f"{spec}: no data files ({', '.join(SHARD_SUFFIXES)}) to embed")
    pairs, targets = [], {}
    for f in sorted(files):
        out = os.path.join(out_dir, Path(f).stem + suffix)
        if out in targets:
            raise ValueError(f"shards {targets[out]} and {f} would both write {out}")
        targets[out] = f
        pairs.append((f, out))
    return pairs
