"""Named dataset suites of the archive benchmark and task detection."""

from __future__ import annotations

import numpy as np

QUICK_CLASSIFICATION = [
    "BasicMotions",
    "JapaneseVowels",
    "ArrowHead",
    "GunPoint",
    "ItalyPowerDemand",
    "OSULeaf",
]
QUICK_REGRESSION = ["Covid3Month", "CardanoSentiment"]
QUICK = QUICK_CLASSIFICATION + QUICK_REGRESSION

SUITES = ("quick", "ucr", "uea", "tser")


def _tser_names() -> set[str]:
    from aeon.datasets import tser_datasets

    names = set(QUICK_REGRESSION)
    for attr in ("tser_soton", "tser_monash"):
        names.update(getattr(tser_datasets, attr, ()))
    return names


def suite_datasets(suite: str) -> list[str]:
    """The dataset names of a suite (``quick``, ``ucr``, ``uea`` or ``tser``), in a fixed order."""
    if suite == "quick":
        return list(QUICK)
    if suite in ("ucr", "uea"):
        from aeon.datasets import tsc_datasets

        names = tsc_datasets.univariate if suite == "ucr" else tsc_datasets.multivariate
        return sorted(names)
    if suite == "tser":
        from aeon.datasets import tser_datasets

        return sorted(tser_datasets.tser_soton)
    raise ValueError(f"unknown suite {suite!r}; choose one of {', '.join(SUITES)}")


def parse_datasets(text: str) -> list[str]:
    """``"a,b,c"`` -> ``["a", "b", "c"]``; empty items and duplicates are errors."""
    names = [part.strip() for part in text.split(",")]
    if not text.strip() or any(not n for n in names):
        raise ValueError(f"--datasets {text!r} has an empty name; give names separated by commas")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"--datasets lists {', '.join(dupes)} more than once")
    return names


def infer_task(name: str, y) -> str:
    """``"regression"`` for TSER datasets or float targets that are not all integers."""
    if name in _tser_names():
        return "regression"
    y = np.asarray(y)
    if y.dtype.kind == "f" and not np.all(np.mod(y[np.isfinite(y)], 1) == 0):
        return "regression"
    return "classification"
