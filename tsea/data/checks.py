"""Small validation helpers the estimators need on top of `to_collection`."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

TASKS = ("classification", "regression")


def check_y(y, n: int, task: str, *, what: str = "y") -> np.ndarray:
    """Validate targets for ``n`` series and return them as a 1-D ndarray.

    classification: labels keep their original values (no encoding); none may be missing.
    regression: cast to float64; every value must be a finite number.
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    if y is None:
        raise ValueError(f"{what} is required for {task}")
    if isinstance(y, (pd.Series, pd.Index)):
        y = y.to_numpy()
    elif isinstance(y, pd.DataFrame):
        raise ValueError(f"{what} must be 1-D, got a DataFrame with {y.shape[1]} column(s)")
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{what} must be 1-D, got shape {y.shape}")
    if len(y) != n:
        raise ValueError(f"{what} has {len(y)} value(s), but X has {n} series")
    if task == "classification":
        missing = pd.isna(y)
        if missing.any():
            raise ValueError(f"{what}[{int(np.argmax(missing))}] is missing")
        return y
    if y.dtype.kind not in "biuf":
        for i, v in enumerate(y):
            if not isinstance(v, (numbers.Real, np.bool_)):
                raise ValueError(
                    f"{what}[{i}] = {v!r} is not a number (regression targets must be numeric)"
                )
    out = y.astype(np.float64)
    bad = ~np.isfinite(out)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{what}[{i}] = {out[i]} is not a finite number")
    return out
