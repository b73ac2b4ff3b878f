"""Input and output for the command line: ``--data`` resolution, task inference, writers.

Kept apart from :mod:`tsea.cli.parser` (argument parsing) so each part stays one concept.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tsea.utils import atomic_write

DATA_SUFFIXES = (".ts", ".tsv", ".arff", ".csv")
EMBED_SUFFIXES = (".csv", ".npy", ".parquet")


@dataclass
class LoadedData:
    """Series ready for an estimator, with their labels and ids."""

    X: object  # ndarray (n, C, L) or list of (C, L_i) arrays (both accepted by the estimators)
    y: np.ndarray | None
    ids: np.ndarray  # (n,) series ids: from the file, else 0..n-1
    source: str  # what the user typed
    dataset: str | None = None  # the dataset name when loaded by name

    @property
    def n_series(self) -> int:
        return len(self.X)

    def series(self, i: int) -> np.ndarray:
        """Series ``i`` as a (C, L_i) float array."""
        return np.asarray(self.X[i], dtype=np.float32)


def is_file_spec(spec: str) -> bool:
    """True when ``--data`` names a file rather than a dataset (exists, has a data suffix or a
    path separator)."""
    return (
        os.path.exists(spec)
        or Path(spec).suffix.lower() in DATA_SUFFIXES
        or "/" in spec
        or os.sep in spec
    )


def _collection_to_estimator_input(coll):
    """Equal lengths -> the (n, C, L) array; unequal -> list of (C, L_i) arrays (no padding)."""
    lengths = np.asarray(coll.lengths)
    if lengths.size and np.all(lengths == coll.X.shape[2]):
        return coll.X
    return [coll.X[i, :, : int(n)] for i, n in enumerate(lengths)]


def load_data(
    spec: str, *, split: str = "train", label_column=None, id_column=None, task=None
) -> LoadedData:
    """Load ``spec``: a file (.ts/.tsv/.arff/.csv via ``tsea.data.readers.read_file``) or a
    dataset name (``tsea.datasets.load``). A missing file raises FileNotFoundError naming it."""
    if is_file_spec(spec):
        if not os.path.exists(spec):
            raise FileNotFoundError(2, "file not found", spec)
        if os.path.isdir(spec):
            raise ValueError(f"{spec} is a directory; --data expects a data file or a dataset name")
        from tsea.data.readers import read_file

        kwargs = {}
        if label_column is not None:
            kwargs["label_column"] = label_column
        if id_column is not None:
            kwargs["id_column"] = id_column
        if task is not None:
            kwargs["task"] = task
        coll, y = read_file(spec, **kwargs)
        n = coll.X.shape[0]
        ids = np.asarray(coll.ids) if coll.ids is not None else np.arange(n)
        y = None if y is None else np.asarray(y)
        return LoadedData(_collection_to_estimator_input(coll), y, ids, spec)
    if label_column is not None or id_column is not None:
        raise ValueError("--label-column/--id-column apply to CSV files, not to dataset names")
    from tsea import datasets

    X, y = datasets.load(spec, split=split)
    return LoadedData(X, None if y is None else np.asarray(y), np.arange(len(X)), spec, spec)


def regression_targets(y: np.ndarray, what: str) -> np.ndarray:
    try:
        return np.asarray(y).astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} targets must be numbers for regression") from None


def ids_path_for(npy_path: str) -> str:
    """Where ``embed -o X.npy`` writes the series ids: the sibling ``X.ids.txt``."""
    root = npy_path[: -len(".npy")] if npy_path.lower().endswith(".npy") else npy_path
    return root + ".ids.txt"


def write_embeddings(path: str, Z: np.ndarray, ids: np.ndarray) -> list[str]:
    """Write embeddings (n, d) with ids; returns the files written.

    .csv / .parquet: one row per series, column ``id`` first, then ``emb_0..emb_{d-1}``.
    .npy: the float32 (n, d) array; the ids go one per line to the sibling ``.ids.txt``.
    """
    Z = np.asarray(Z)
    ids = np.asarray(ids)
    if Z.ndim != 2 or Z.shape[0] != ids.shape[0]:
        raise ValueError(f"embeddings of shape {Z.shape} do not match {ids.shape[0]} series ids")
    suffix = Path(path).suffix.lower()
    if suffix == ".npy":
        text_ids = [str(i) for i in ids]
        if any("\n" in t or "\r" in t for t in text_ids):
            raise ValueError("series ids contain line breaks; write .csv or .parquet instead")
        id_file = ids_path_for(path)

        def write_ids(tmp):
            with open(tmp, "w", encoding="utf-8") as f:
                f.write("".join(t + "\n" for t in text_ids))

        def write_npy(tmp):
            with open(tmp, "wb") as f:
                np.save(f, Z.astype(np.float32, copy=False), allow_pickle=False)

        atomic_write(id_file, write_ids)
        atomic_write(path, write_npy)
        return [path, id_file]
    import pandas as pd

    frame = pd.DataFrame(Z, columns=[f"emb_{j}" for j in range(Z.shape[1])])
    frame.insert(0, "id", ids)
    if suffix == ".csv":
        atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))
    elif suffix == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ValueError("writing .parquet needs the pyarrow package (pip install pyarrow)") from None
        if frame["id"].dtype == object:  # mixed id types: parquet needs one type per column
            frame["id"] = frame["id"].map(str)
        atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))
    else:
        raise ValueError(f"unsupported output {path!r}: use one of {', '.join(EMBED_SUFFIXES)}")
    return [path]
