"""How the archive benchmark scores a prediction, and its dataset x method score tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The method the report and plots compare the others with.
REFERENCE_METHOD = "ea-dc"


def score(task: str, y_true, y_pred) -> tuple[str, float]:
    """``("accuracy", a)`` for classification (labels compared as text), ``("rmse", r)`` for
    regression."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"predictions have shape {y_pred.shape}, expected {y_true.shape}")
    if task == "classification":
        return "accuracy", float(np.mean(y_true.astype(str) == y_pred.astype(str)))
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
