"""Make the small example CSV files in this folder from datasets bundled with aeon.

    python examples/data/make_examples.py [OUT_DIR]      # default: this folder

Files (ids are ``<split>-<row in the archive split>`` so every series can be traced back):

- ItalyPowerDemand_{TRAIN,TEST}_wide.csv: univariate, equal length (24), 2 classes;
  the whole train split (67 series) and the first 100 test series.
- Covid3Month_{TRAIN,TEST}_wide.csv: univariate regression (target column), length 84;
  both splits whole (140 / 61 series).
- JapaneseVowels_{TRAIN,TEST}_long.csv: 12 channels, unequal lengths (7-29 in the archive), 9 classes;
  the first 5 train and first 3 test series of every class.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # run from a checkout without installing tsea

from tsea.data import to_collection, write_csv_long, write_csv_wide  # noqa: E402
from tsea.datasets import load  # noqa: E402


def _first_per_class(y, k):
    """Indices of the first ``k`` series of every class, in archive order."""
    keep, seen = [], {}
    for i, label in enumerate(y):
        seen[label] = seen.get(label, 0) + 1
        if seen[label] <= k:
            keep.append(i)
    return np.array(keep)


def _split(name, split, index=None):
    X, y = load(name, split=split, download=False)
    coll = to_collection(X)
    index = np.arange(coll.n_series) if index is None else index(y)
    ids = np.array([f"{split}-{i}" for i in index], dtype=object)
    return coll.subset(index), y[index], ids


def make_examples(out_dir=HERE) -> list[Path]:
    """Write every example file into ``out_dir``; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    jobs = [
        ("ItalyPowerDemand", "train", None, "wide", "label"),
        ("ItalyPowerDemand", "test", lambda y: np.arange(100), "wide", "label"),
        ("Covid3Month", "train", None, "wide", "target"),
        ("Covid3Month", "test", None, "wide", "target"),
        ("JapaneseVowels", "train", lambda y: _first_per_class(y, 5), "long", "label"),
        ("JapaneseVowels", "test", lambda y: _first_per_class(y, 3), "long", "label"),
    ]
    for name, split, index, layout, label in jobs:
        coll, y, ids = _split(name, split, index)
        path = out_dir / f"{name}_{split.upper()}_{layout}.csv"
        writer = write_csv_wide if layout == "wide" else write_csv_long
        written.append(writer(path, coll, y, ids=ids, label_column=label))
    return written


if __name__ == "__main__":
    for p in make_examples(sys.argv[1] if len(sys.argv) > 1 else HERE):
        print(p)
