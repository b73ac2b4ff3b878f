"""Named dataset suites of the archive benchmark."""

from __future__ import annotations

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
