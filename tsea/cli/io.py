"""Input and output for the command line: ``--data`` resolution, task inference, writers.

Kept apart from :mod:`tsea.cli.parser` (argument parsing) so each part stays one concept.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# The embedding writers live in tsea.cli.embed_io (streaming); re-exported here.
from tsea.cli.embed_io import EMBED_SUFFIXES, ids_path_for, write_embeddings  # noqa: F401

DATA_SUFFIXES = (".ts", ".tsv", ".arff", ".csv", ".parquet")


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
    spec: str, *, split: str | None = "train", label_column=None, id_column=None, task=None,
    labels: bool = True,
) -> LoadedData:
    """Load ``spec``: a file (.ts/.tsv/.arff/.csv/.parquet via ``tsea.data.readers.read_file``) or a
    dataset name (``tsea.datasets.load``). A missing file raises FileNotFoundError naming it.
    ``labels=False``: a file's label column is recognised but neither checked nor read (``y``
    is None), for commands that need no labels (embed). ``split`` None is ``"train"``."""
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
        coll, y = read_file(spec, labels=labels, **kwargs)
        n = coll.X.shape[0]
        ids = np.asarray(coll.ids) if coll.ids is not None else np.arange(n)
        y = None if y is None else np.asarray(y)
        return LoadedData(_collection_to_estimator_input(coll), y, ids, spec)
    if label_column is not None or id_column is not None:
        raise ValueError("--label-column/--id-column apply to CSV files, not to dataset names")
    from tsea import datasets

    X, y = datasets.load(spec, split=split or "train")
    return LoadedData(X, None if y is None else np.asarray(y), np.arange(len(X)), spec, spec)


def regression_targets(y: np.ndarray, what: str) -> np.ndarray:
    try:
        return np.asarray(y).astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} targets must be numbers for regression") from None
