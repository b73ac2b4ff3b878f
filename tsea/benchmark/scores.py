"""How the archive benchmark scores a prediction, and its dataset x method score tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The method the report and plots compare the others with.
REFERENCE_METHOD = "ea-dc"


def comparable_labels(*labels) -> list[np.ndarray]:
    """The label arrays as text when their dtypes differ and one holds text (integers in one
    file, text in another), so that equal labels compare equal; unchanged otherwise (so the
    numbers 1 and 1.0 are one label, the texts "1" and "1.0" two)."""
    arrays = [np.asarray(y) for y in labels]
    if len({a.dtype for a in arrays}) > 1 and any(a.dtype.kind in "OUS" for a in arrays):
        return [a.astype(str) for a in arrays]
    return arrays


def unseen_labels_note(y_train, y_test) -> str | None:
    """A line for test labels that no training series has (they can only count as errors)."""
    train, test = comparable_labels(y_train, y_test)
    unseen = ~np.isin(test, train)
    if not unseen.any():
        return None
    names = ", ".join(repr(str(v)) for v in sorted(set(test[unseen].tolist()), key=str)[:5])
    return (f"{int(unseen.sum())} of {len(test)} test series have a label that no training "
            f"series has ({names}); they count as errors")


def score(task: str, y_true, y_pred) -> tuple[str, float]:
    """``("accuracy", a)`` for classification (labels compared as ``tsea evaluate`` compares
    them, :func:`comparable_labels`), ``("rmse", r)`` for regression."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"predictions have shape {y_pred.shape}, expected {y_true.shape}")
    if task == "classification":
        y_true, y_pred = comparable_labels(y_true, y_pred)
        return "accuracy", float(np.mean(y_true == y_pred))
    err = y_true.astype(np.float64) - y_pred.astype(np.float64)
    return "rmse", float(np.sqrt(np.mean(err**2)))


def score_table(df: pd.DataFrame, task: str) -> pd.DataFrame:
    """Dataset x method table of mean scores over seeds (ok rows of ``task`` only)."""
    ok = df[(df["status"] == "ok") & (df["task"] == task)]
    if ok.empty:
        return pd.DataFrame()
    table = ok.pivot_table(index="dataset", columns="method", values="score", aggfunc="mean")
    order = list(dict.fromkeys(df["method"]))
    return table[[m for m in order if m in table.columns]]


def ranks(table: pd.DataFrame, higher_is_better: bool) -> pd.DataFrame:
    """Per-dataset ranks (1 = best, ties share the average rank) on complete rows."""
    complete = table.dropna()
    return complete.rank(axis=1, ascending=not higher_is_better, method="average")
